// test-stream-pipeline: a source, a transform and a sink; the callback gets no error
// after the sink finished, and every stream is closed.
'use strict';
const { Readable, Transform, Writable, pipeline } = require('stream');
const { log, errName } = require('./trace');
const chunks = ['a', 'b', 'c'];
const src = new Readable({
  read() { this.push(chunks.length ? Buffer.from(chunks.shift()) : null); },
});
const t = new Transform({
  transform(chunk, enc, cb) { cb(null, Buffer.from(chunk.toString().toUpperCase())); },
});
const dst = new Writable({
  write(chunk, enc, cb) { log('dst _write', chunk.toString()); cb(); },
});
src.on('end', () => log('src end'));
t.on('end', () => log('t end'));
t.on('finish', () => log('t finish'));
dst.on('finish', () => log('dst finish'));
for (const [name, s] of [['src', src], ['t', t], ['dst', dst]]) {
  s.on('close', () => log(name, 'close'));
  s.on('error', (e) => log(name, 'error', errName(e)));
}
const ret = pipeline(src, t, dst, (err) => {
  log('pipeline cb', errName(err), 'destroyed', src.destroyed, t.destroyed, dst.destroyed);
});
log('returns dst', ret === dst);
