// read(n) with n above the highWaterMark raises it to the next power of two; read(n)
// returns null until n bytes are buffered (or the stream ended).
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
let n = 0;
const r = new Readable({
  highWaterMark: 4,
  read(size) {
    n++;
    log('_read', n, 'size', size, 'length', this.readableLength);
    if (n <= 6) setImmediate(() => this.push(Buffer.alloc(5, 96 + n)));
    else setImmediate(() => this.push(null));
  },
});
log('hwm', r.readableHighWaterMark);
log('read(10)', String(r.read(10)), 'hwm', r.readableHighWaterMark);
log('read(16)', String(r.read(16)), 'hwm', r.readableHighWaterMark);
log('read(17)', String(r.read(17)), 'hwm', r.readableHighWaterMark);
r.on('readable', () => {
  const c = r.read(12);
  log('readable length', r.readableLength, 'read(12)', c === null ? 'null' : c.toString(),
    'ended', r._readableState.ended);
});
r.on('end', () => log('end', 'hwm', r.readableHighWaterMark));
