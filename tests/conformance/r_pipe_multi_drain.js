// test-stream-pipe-multiple-pipes / await-drain: both destinations return false; the
// source resumes only after the slower one drains too.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
let n = 0;
const src = new Readable({
  highWaterMark: 4,
  read() {
    n++;
    log('src _read', n);
    this.push(n <= 3 ? Buffer.alloc(4, 96 + n) : null);
  },
});
const fast = new Writable({
  highWaterMark: 4,
  write(chunk, enc, cb) {
    log('fast _write', chunk.toString());
    setImmediate(cb);
  },
});
const slow = new Writable({
  highWaterMark: 4,
  write(chunk, enc, cb) {
    log('slow _write', chunk.toString());
    setImmediate(() => setImmediate(() => setImmediate(cb)));
  },
});
src.on('pause', () => log('src pause'));
src.on('resume', () => log('src resume'));
src.on('end', () => log('src end'));
fast.on('drain', () => log('fast drain', 'src paused', src.isPaused()));
slow.on('drain', () => log('slow drain', 'src paused', src.isPaused()));
fast.on('finish', () => log('fast finish'));
slow.on('finish', () => log('slow finish'));
src.pipe(fast);
src.pipe(slow);
