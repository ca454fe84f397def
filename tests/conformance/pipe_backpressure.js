// test-stream-backpressure: a fast source into a slow sink: pause on false, resume on drain.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
let i = 0;
const r = new Readable({
  highWaterMark: 8,
  read() {
    i++;
    if (i <= 6) this.push(Buffer.alloc(4, 97 + i));
    else this.push(null);
  },
});
const w = new Writable({
  highWaterMark: 8,
  write(chunk, enc, cb) {
    log('w _write', chunk.toString(), 'len', w.writableLength);
    setImmediate(cb);
  },
});
r.on('pause', () => log('r pause'));
r.on('resume', () => log('r resume'));
r.on('end', () => log('r end'));
w.on('drain', () => log('w drain'));
w.on('pipe', () => log('w pipe'));
w.on('unpipe', () => log('w unpipe'));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
r.on('close', () => log('r close'));
r.pipe(w);
