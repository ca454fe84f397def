// test-stream-pipeline: the source fails; every stream is destroyed with that error and
// the callback gets it once.
'use strict';
const { Readable, PassThrough, Writable, pipeline } = require('stream');
const { log, errName } = require('./trace');
let n = 0;
const src = new Readable({
  read() {
    n++;
    if (n === 1) this.push(Buffer.from('one'));
    else if (n === 2) process.nextTick(() => this.destroy(new Error('src boom')));
  },
});
const pt = new PassThrough();
const dst = new Writable({
  write(chunk, enc, cb) { log('dst _write', chunk.toString()); cb(); },
});
for (const [name, s] of [['src', src], ['pt', pt], ['dst', dst]]) {
  s.on('close', () => log(name, 'close', 'errored', errName(s.errored)));
  s.on('error', (e) => log(name, 'error', errName(e)));
}
dst.on('finish', () => log('dst finish'));
pipeline(src, pt, dst, (err) => log('pipeline cb', errName(err)));
