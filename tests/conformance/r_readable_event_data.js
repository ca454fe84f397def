// test-stream-readable-event: with both a 'readable' and a 'data' listener, readable
// wins; read() in the readable handler emits 'data'; 'end' follows.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const r = new Readable({ read() {} });
r.on('data', (c) => log('data', c.toString()));
r.on('readable', () => {
  log('readable', 'length', r.readableLength, 'flowing', r.readableFlowing);
  let c;
  while ((c = r.read()) !== null) log('read', c.toString());
});
r.on('end', () => log('end'));
log('flowing', r.readableFlowing);
setImmediate(() => {
  r.push(Buffer.from('a'));
  r.push(Buffer.from('b'));
  log('pushed a b');
  setImmediate(() => {
    r.push(Buffer.from('c'));
    r.push(null);
    log('pushed c null');
  });
});
