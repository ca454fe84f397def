// test-stream-pipe-multiple-pipes: one source, five destinations; each gets the chunk,
// then all are unpiped and what follows reaches none of them.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const readable = new Readable({ read() {} });
const writables = [];
for (let i = 0; i < 5; i++) {
  const target = new Writable({
    write(chunk, enc, cb) {
      log('w' + i, '_write', chunk.toString('hex'));
      target.output.push(chunk);
      cb();
    },
  });
  target.output = [];
  target.on('pipe', () => log('w' + i, 'pipe'));
  target.on('finish', () => log('w' + i, 'finish'));
  readable.pipe(target);
  writables.push(target);
}
readable.on('resume', () => log('r resume'));
readable.on('pause', () => log('r pause'));
readable.push(Buffer.from([1, 2, 3, 4, 5]));
log('pushed flowing', readable.readableFlowing, 'pipes', readable._readableState.pipes.length);
process.nextTick(() => {
  writables.forEach((target, i) => {
    log('w' + i, 'output', target.output.length);
    target.on('unpipe', () => log('w' + i, 'unpipe'));
    readable.unpipe(target);
  });
  log('pipes', readable._readableState.pipes.length, 'flowing', readable.readableFlowing);
  readable.push(Buffer.from('something else'));
  readable.push(null);
  readable.resume();
});
readable.on('end', () => {
  log('r end', writables.map((t) => t.output.length).join(','));
});
readable.on('close', () => log('r close'));
