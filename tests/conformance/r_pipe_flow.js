// test-stream-pipe-flow: an object-mode source that pushes on next ticks, piped into a
// highWaterMark-0 sink that completes on setImmediate: every object arrives, then end
// and finish.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
let ticks = 17;
let n = 0;
const rs = new Readable({
  objectMode: true,
  read: () => {
    if (ticks-- > 0) return process.nextTick(() => rs.push(n++));
    rs.push(n++);
    rs.push(null);
  },
});
const ws = new Writable({
  highWaterMark: 0,
  objectMode: true,
  write: (data, enc, cb) => {
    log('ws _write', data, 'wlen', ws.writableLength, 'rlen', rs.readableLength);
    setImmediate(cb);
  },
});
rs.on('end', () => log('rs end'));
ws.on('finish', () => log('ws finish'));
ws.on('drain', () => log('ws drain'));
rs.pipe(ws);
