// test-stream-pipeline: the destination is closed before the source ended; the callback
// gets ERR_STREAM_PREMATURE_CLOSE and the source is destroyed.
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
  log('destroy dst');
  dst.destroy();
});
