// test-stream-writev: with _writev (and no usable _write), corked writes reach one
// _writev holding every buffered chunk; a nested cork/uncork pair flushes nothing; the
// per-chunk callbacks run in order, then the end callback, then 'finish'. Run twice:
// uncorked explicitly, and uncorked by end().
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
function test(uncork, next) {
  log('# uncork', uncork);
  const w = new Writable({
    writev(chunks, cb) {
      log('w _writev', chunks.length, chunks.map((c) => c.chunk.length).join(','),
          'length', w.writableLength);
      cb();
    },
  });
  const cnt = (msg) => (er) => log('cb', msg, er === undefined || er === null ? 'ok' : er.message);
  w.on('finish', () => { log('w finish'); next(); });
  w.cork();
  log('write hello', w.write(Buffer.from('hello, '), cnt('hello')));
  log('write world', w.write(Buffer.from('world'), cnt('world')));
  w.cork();
  log('write !', w.write(Buffer.from('!'), cnt('!')));
  log('write and then', w.write(Buffer.from('and then...'), cnt('and then')));
  w.uncork();
  log('inner uncork corked', w.writableCorked, 'buffered', w._writableState.bufferedRequestCount);
  log('write hex', w.write(Buffer.from('facebea7deadbeefdecafbad', 'hex'), cnt('hex')));
  if (uncork) {
    w.uncork();
    log('uncork corked', w.writableCorked, 'buffered', w._writableState.bufferedRequestCount);
  }
  w.end(cnt('end'));
  log('end corked', w.writableCorked, 'length', w.writableLength);
}
test(true, () => test(false, () => log('done')));
