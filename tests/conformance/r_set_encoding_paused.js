// test-stream2-set-encoding: setEncoding on a paused stream decodes what is buffered
// (lengths become characters); read(n) counts characters; split characters are held.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const r = new Readable({ read() {} });
const e = Buffer.from('é€'); // c3 a9 e2 82 ac
r.push(Buffer.from('ab'));
r.push(e.subarray(0, 3));
log('raw length', r.readableLength);
r.setEncoding('utf8');
log('decoded length', r.readableLength);
r.push(e.subarray(3));
r.push(Buffer.from('xyz'));
log('length', r.readableLength);
for (const n of [1, 2, 2, 5, 1]) {
  const c = r.read(n);
  log('read', n, c === null ? 'null' : JSON.stringify(c), 'length', r.readableLength);
}
r.push(null);
const c = r.read(5);
log('read 5 after end', c === null ? 'null' : JSON.stringify(c), 'length', r.readableLength);
r.on('end', () => log('end'));
r.resume();
