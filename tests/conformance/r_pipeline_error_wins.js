// test-stream-pipeline: a premature close (the middle stream destroyed without an
// error) is replaced by the real error of the source that comes right after it.
'use strict';
const { Readable, PassThrough, Writable, pipeline } = require('stream');
const { log, errName } = require('./trace');
const src = new Readable({ read() {} });
const pt = new PassThrough();
const dst = new Writable({
  write(chunk, enc, cb) { log('dst _write', chunk.toString()); cb(); },
});
for (const [name, s] of [['src', src], ['pt', pt], ['dst', dst]]) {
  s.on('close', () => log(name, 'close', 'errored', errName(s.errored)));
  s.on('error', (e) => log(name, 'error', errName(e)));
}
pipeline(src, pt, dst, (err) => log('pipeline cb', errName(err)));
src.push(Buffer.from('hello'));
setImmediate(() => {
  pt.destroy();
  src.destroy(new Error('real'));
  log('destroyed pt and src');
});
