// test-stream3-cork-uncork: cork() buffers the writes of later ticks; uncork() in the
// same tick writes them all (no _writev: one _write each); the stream does not end.
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write', chunk.toString(), 'corked', w.writableCorked, 'length', w.writableLength,
        'buffered', w._writableState.bufferedRequestCount);
    cb();
  },
});
w.on('finish', () => log('w finish'));
w.on('drain', () => log('w drain'));
log('write stuff', w.write(Buffer.from('stuff')));
w.cork();
log('corked', w.writableCorked);
const chunks = ['please', 'buffer', 'me', 'kindly'];
function next() {
  const c = chunks.shift();
  if (c) {
    setImmediate(() => {
      log('write', c, w.write(Buffer.from(c)), 'length', w.writableLength,
          'buffered', w._writableState.bufferedRequestCount);
      next();
    });
  } else {
    log('uncork');
    w.uncork();
    log('after uncork corked', w.writableCorked, 'length', w.writableLength,
        'buffered', w._writableState.bufferedRequestCount);
    setImmediate(() => log('immediate finished', w.writableFinished, 'ended', w.writableEnded));
  }
}
next();
