// test-stream-writableState-uncorked-bufferedRequestCount: nested cork counts, the
// buffered request count, uncork on a next tick flushing both chunks into one _writev,
// and end() uncorking a single buffered chunk into _write.
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
const w = new Writable({
  writev(chunks, cb) {
    log('w _writev', chunks.length, chunks.map((c) => c.chunk.toString()).join(','));
    cb();
  },
  write(chunk, enc, cb) {
    log('w _write', chunk.toString());
    cb();
  },
});
const state = () => `corked ${w._writableState.corked} buffered ${w._writableState.bufferedRequestCount}`;
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
w.cork();
log('cork', state());
w.cork();
log('cork', state());
w.write(Buffer.from('first chunk'), () => log('cb first'));
log('write first', state());
w.uncork();
log('uncork', state());
process.nextTick(() => {
  w.uncork();
  log('tick uncork', state());
  w.cork();
  w.write(Buffer.from('third chunk'), () => log('cb third'));
  log('write third', state());
  w.end(() => log('end cb'));
  log('end', state(), 'ended', w.writableEnded);
});
w.write(Buffer.from('second chunk'), () => log('cb second'));
log('write second', state());
