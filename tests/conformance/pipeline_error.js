// test-stream-pipeline: an error in the middle destroys every stream; the callback gets it once.
'use strict';
const { Readable, Transform, Writable, pipeline } = require('stream');
const { log, errName } = require('./trace');
let n = 0;
const src = new Readable({
  read() { n++; this.push(n <= 5 ? Buffer.from(String(n)) : null); },
});
const t = new Transform({
  transform(chunk, enc, cb) {
    log('t _transform', chunk.toString());
    if (chunk.toString() === '3') cb(new Error('boom'));
    else cb(null, chunk);
  },
});
const dst = new Writable({
  write(chunk, enc, cb) { log('dst _write', chunk.toString()); cb(); },
});
for (const [name, s] of [['src', src], ['t', t], ['dst', dst]]) {
  s.on('close', () => log(name, 'close', 'destroyed', s.destroyed));
  s.on('error', (e) => log(name, 'error', errName(e)));
}
pipeline(src, t, dst, (err) => log('pipeline cb', errName(err)));
