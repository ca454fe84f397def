// test-stream-pipe-await-drain-manual-resume: a manual resume() while the destination
// still buffers pauses again on the next false write; once the queued callbacks run,
// the destination drains and every chunk arrives.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const writable = new Writable({ highWaterMark: 5 });
let buffering = true;
const queue = [];
writable._write = (chunk, enc, cb) => {
  log('w _write', chunk.length, 'buffering', buffering);
  if (buffering) queue.push(cb);
  else cb();
};
const readable = new Readable({ read() {} });
readable.pipe(writable);
readable.once('pause', () => {
  log('first pause', 'length', readable.readableLength);
  process.nextTick(() => {
    log('manual resume');
    readable.resume();
  });
  readable.once('pause', () => {
    log('second pause', 'length', readable.readableLength, 'queued', queue.length);
    buffering = false;
    for (const cb of queue) cb();
  });
});
readable.on('resume', () => log('r resume'));
writable.on('drain', () => log('w drain'));
readable.on('end', () => log('r end'));
writable.on('finish', () => log('w finish', 'r length', readable.readableLength));
readable.push(Buffer.alloc(100));
readable.push(Buffer.alloc(100));
readable.push(Buffer.alloc(100));
readable.push(null);
