// test-stream-readable-hwm-0: with highWaterMark 0, adding a 'readable' listener calls
// _read (read(0) cannot just emit 'readable'); 'readable' comes only after push(null).
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
let pushedNull = false;
const r = new Readable({
  highWaterMark: 0,
  read() { log('r _read', 'pushedNull', pushedNull); },
});
r.on('readable', () => {
  const c = r.read();
  log('r readable read', c === null ? 'null' : c.toString(), 'pushedNull', pushedNull);
});
r.on('end', () => log('r end'));
process.nextTick(() => {
  const c = r.read();
  log('tick read', c === null ? 'null' : c.toString());
  pushedNull = true;
  r.push(null);
});
// hwm 0 with data pushed asynchronously in _read, consumed with 'data'.
let n = 0;
const r2 = new Readable({
  highWaterMark: 0,
  read() {
    n++;
    log('r2 _read', n, 'length', this.readableLength);
    setImmediate(() => this.push(n <= 3 ? Buffer.from('d' + n) : null));
  },
});
r2.on('data', (c) => log('r2 data', c.toString(), 'length', r2.readableLength));
r2.on('end', () => log('r2 end'));
