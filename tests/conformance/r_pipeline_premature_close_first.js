// test-stream-pipeline: with two streams the destination's close settles the pipeline
// before the source's error arrives: the callback gets ERR_STREAM_PREMATURE_CLOSE.
'use strict';
const { Readable, Writable, pipeline } = require('stream');
const { log, errName } = require('./trace');
const src = new Readable({ read() {} });
const dst = new Writable({
  write(chunk, enc, cb) { log('dst _write', chunk.toString()); cb(); },
});
for (const [name, s] of [['src', src], ['dst', dst]]) {
  s.on('close', () => log(name, 'close', 'errored', errName(s.errored)));
  s.on('error', (e) => log(name, 'error', errName(e)));
}
pipeline(src, dst, (err) => log('pipeline cb', errName(err)));
src.push(Buffer.from('hello'));
setImmediate(() => {
  dst.destroy();
  src.destroy(new Error('real'));
  log('destroyed both');
});
