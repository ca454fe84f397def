// test-stream-pipe-await-drain: two destinations; the source waits for both to drain.
// writer2 never completes its write, so the second push must not reach writer1.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const reader = new Readable({ read() {} });
let got1 = false;
const writer1 = new Writable({
  write(chunk, enc, cb) {
    log('w1 _write', chunk.length);
    if (!got1) {
      got1 = true;
      setImmediate(() => {
        log('push again');
        reader.push(Buffer.alloc(560000));
        log('length', reader.readableLength, 'flowing', reader.readableFlowing, 'paused', reader.isPaused());
        setImmediate(() => log('later length', reader.readableLength, 'w1 len', writer1.writableLength,
          'w2 len', writer2.writableLength));
      });
    }
    cb();
  },
});
const writer2 = new Writable({
  write(chunk, enc, cb) {
    log('w2 _write', chunk.length); // never calls back: a slow consumer
  },
});
writer1.on('drain', () => log('w1 drain'));
writer2.on('drain', () => log('w2 drain'));
reader.on('pause', () => log('r pause'));
reader.on('resume', () => log('r resume'));
reader.pipe(writer1);
reader.pipe(writer2);
reader.push(Buffer.alloc(560000));
log('pushed', 'length', reader.readableLength);
