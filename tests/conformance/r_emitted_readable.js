// test-stream-readable-emittedReadable: emittedReadable is true while 'readable' is
// emitted, reset by read() (not by read(0)), and always false in flowing mode.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const readable = new Readable({ read: () => {} });
log('initial', readable._readableState.emittedReadable);
readable.on('readable', () => {
  const before = readable._readableState.emittedReadable;
  const c = readable.read();
  log('readable emitted', before, 'read', c === null ? 'null' : c.toString(),
    'after', readable._readableState.emittedReadable);
});
log('listener added', readable._readableState.emittedReadable);
process.nextTick(() => readable.push(Buffer.from('foo')));
process.nextTick(() => readable.push(Buffer.from('bar')));
setImmediate(() => {
  readable.push(Buffer.from('quo'));
  process.nextTick(() => readable.push(null));
});

const noRead = new Readable({ read: () => {} });
noRead.once('readable', () => {
  log('noRead readable', noRead._readableState.emittedReadable);
  noRead.read(0);
  log('noRead after read(0)', noRead._readableState.emittedReadable);
  noRead.on('readable', () => {
    log('noRead readable 2', noRead._readableState.emittedReadable);
    noRead.read(0);
    log('noRead after read(0) 2', noRead._readableState.emittedReadable);
  });
});
noRead.push(Buffer.from('foo'));
noRead.push(null);

const flowing = new Readable({ read: () => {} });
flowing.on('data', (c) => {
  const before = flowing._readableState.emittedReadable;
  flowing.read();
  log('flowing data', c.toString(), before, flowing._readableState.emittedReadable);
});
flowing.push(Buffer.from('foooo'));
flowing.push(Buffer.from('bar'));
flowing.push(Buffer.from('quo'));
process.nextTick(() => flowing.push(null));
