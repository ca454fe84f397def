// test-stream3-cork-end: end() uncorks: the buffered chunks are written in the same tick
// and 'finish' follows on a later tick.
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
let seenEnd = false;
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write', chunk.toString(), 'seenEnd', seenEnd);
    cb();
  },
});
w.on('finish', () => { seenEnd = true; log('w finish'); });
w.on('prefinish', () => log('w prefinish'));
w.on('close', () => log('w close'));
w.write(Buffer.from('stuff'));
w.cork();
const chunks = ['please', 'buffer', 'me', 'kindly'];
function next() {
  const c = chunks.shift();
  if (c) {
    setImmediate(() => {
      log('write', c, w.write(Buffer.from(c)));
      next();
    });
  } else {
    log('end');
    w.end();
    log('after end seenEnd', seenEnd, 'corked', w.writableCorked, 'length', w.writableLength);
    process.nextTick(() => log('tick seenEnd', seenEnd));
    setImmediate(() => log('immediate seenEnd', seenEnd));
  }
}
next();
