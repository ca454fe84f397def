// Object mode: each chunk counts 1 toward the highWaterMark (default 16); read()
// returns one object and read(n) too; push returns false at 16 objects.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
let n = 0;
const r = new Readable({
  objectMode: true,
  read(size) {
    log('_read', 'size', size, 'length', this.readableLength);
    let ret;
    do {
      n++;
      ret = this.push(n <= 40 ? 'obj' + n : null);
    } while (ret && n <= 40);
    log('_read done', 'n', n, 'ret', ret, 'length', this.readableLength);
  },
});
log('hwm', r.readableHighWaterMark, 'objectMode', r.readableObjectMode);
const c = r.read(0);
log('read(0)', String(c), 'length', r.readableLength);
setImmediate(() => {
  log('read()', r.read(), 'length', r.readableLength);
  log('read(5)', r.read(5), 'length', r.readableLength);
  log('read(100)', r.read(100), 'length', r.readableLength, 'hwm', r.readableHighWaterMark);
  r.on('data', (d) => log('data', d, 'length', r.readableLength));
  r.on('end', () => log('end'));
});
