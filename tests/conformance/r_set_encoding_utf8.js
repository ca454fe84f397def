// test-stream2-set-encoding / string_decoder: with setEncoding('utf8') a multi-byte
// character split across pushes is never split in a chunk; an incomplete tail at the
// end becomes U+FFFD. Lengths count UTF-16 units.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const r = new Readable({ read() {} });
log('encoding', r.readableEncoding);
r.setEncoding('utf8');
log('encoding', r.readableEncoding);
r.on('data', (c) => log('data', JSON.stringify(c), 'len', c.length, 'typeof', typeof c));
r.on('end', () => log('end'));
const euro = Buffer.from('€'); // e2 82 ac
const grin = Buffer.from('😀'); // f0 9f 98 80
const steps = [
  Buffer.from([0x61, euro[0]]),
  Buffer.from([euro[1]]),
  Buffer.from([euro[2], 0x62]),
  grin.subarray(0, 1),
  grin.subarray(1, 3),
  Buffer.concat([grin.subarray(3), Buffer.from('ü')]),
  Buffer.from([0xe2, 0x82]),
];
let i = 0;
function next() {
  if (i < steps.length) {
    const ret = r.push(steps[i++]);
    log('push', i, 'ret', ret, 'length', r.readableLength);
    setImmediate(next);
  } else {
    r.push(null);
    log('push null', 'length', r.readableLength);
  }
}
next();
