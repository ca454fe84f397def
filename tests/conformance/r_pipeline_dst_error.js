// test-stream-pipeline: the destination's write fails; the source and the middle are
// destroyed with that error.
'use strict';
const { Readable, PassThrough, Writable, pipeline } = require('stream');
const { log, errName } = require('./trace');
let n = 0;
const src = new Readable({
  read() {
    n++;
    this.push(n <= 4 ? Buffer.from('c' + n) : null);
  },
});
const pt = new PassThrough();
const dst = new Writable({
  write(chunk, enc, cb) {
    log('dst _write', chunk.toString());
    if (chunk.toString() === 'c2') setImmediate(() => cb(new Error('dst boom')));
    else cb();
  },
});
for (const [name, s] of [['src', src], ['pt', pt], ['dst', dst]]) {
  s.on('close', () => log(name, 'close', 'destroyed', s.destroyed));
  s.on('error', (e) => log(name, 'error', errName(e)));
}
pipeline(src, pt, dst, (err) => log('pipeline cb', errName(err)));
