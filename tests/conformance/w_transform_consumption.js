// test-stream2-transform (writable side consumption): with highWaterMark 10 on both
// sides, a transform that pushes every chunk stops taking input once the readable side
// is full: its write callback is held, the rest stays buffered on the writable side.
'use strict';
const { Transform } = require('stream');
const { log } = require('./trace');
const tx = new Transform({ highWaterMark: 10 });
let transformed = 0;
tx._transform = function(chunk, encoding, cb) {
  transformed += chunk.length;
  log('tx _transform', chunk.length, 'readableLength', tx.readableLength);
  tx.push(chunk);
  cb();
};
for (let i = 1; i <= 10; i++) {
  log('write', i, tx.write(Buffer.alloc(i)));
}
tx.end();
log('readableLength', tx._readableState.length, 'transformed', transformed,
    'writableLength', tx.writableLength, 'buffered', tx._writableState.bufferedRequestCount);
tx.on('finish', () => log('tx finish'));
tx.on('end', () => log('tx end'));
let total = 0;
tx.on('data', (c) => { total += c.length; });
tx.on('end', () => log('total', total, 'transformed', transformed));
