// test-stream-pipe-cleanup-pause: unpiping a destination the source waits on must not
// leave it paused; a new destination gets every later chunk.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const reader = new Readable({ read() {} });
const buffer = Buffer.alloc(560000);
let first = true;
const writer1 = new Writable({
  write(chunk, enc, cb) {
    log('w1 _write', chunk.length);
    if (first) {
      first = false;
      reader.unpipe(writer1);
      reader.pipe(writer2);
      reader.push(buffer);
      log('repiped flowing', reader.readableFlowing, 'length', reader.readableLength);
      setImmediate(() => {
        log('push 2');
        reader.push(buffer);
        setImmediate(() => {
          log('push 3');
          reader.push(buffer);
        });
      });
    }
    cb();
  },
});
let writes2 = 0;
const writer2 = new Writable({
  write(chunk, enc, cb) {
    writes2++;
    log('w2 _write', writes2, chunk.length);
    cb();
  },
});
writer1.on('unpipe', () => log('w1 unpipe'));
writer2.on('pipe', () => log('w2 pipe'));
writer1.on('drain', () => log('w1 drain'));
writer2.on('drain', () => log('w2 drain'));
reader.on('pause', () => log('r pause'));
reader.on('resume', () => log('r resume'));
reader.pipe(writer1);
reader.push(buffer);
