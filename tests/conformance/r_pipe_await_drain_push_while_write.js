// test-stream-pipe-await-drain-push-while-write: pushing into the source from inside
// the destination's _write (above both highWaterMarks) still pauses the source once
// and every chunk is written.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const writable = new Writable({
  highWaterMark: 16,
  write(chunk, enc, cb) {
    log('w _write', chunk.length, 'r length', readable.readableLength);
    if (chunk.length === 32 * 1024) {
      readable.push(Buffer.alloc(34 * 1024));
      log('pushed in _write', 'r length', readable.readableLength, 'flowing', readable.readableFlowing);
      process.nextTick(() => log('tick', 'paused', readable.isPaused(), 'flowing', readable.readableFlowing));
    }
    process.nextTick(cb);
  },
});
const bufs = [Buffer.alloc(32 * 1024), Buffer.alloc(33 * 1024)];
const readable = new Readable({
  highWaterMark: 16,
  read() {
    const b = bufs.shift() || null;
    log('r _read', b ? b.length : 'null');
    readable.push(b);
  },
});
readable.on('pause', () => log('r pause'));
readable.on('resume', () => log('r resume'));
writable.on('drain', () => log('w drain'));
readable.on('end', () => log('r end'));
writable.on('finish', () => log('w finish'));
readable.pipe(writable);
