// test-stream-readable-needReadable: needReadable is set by a 'readable' listener,
// cleared when 'readable' is emitted and at the end, set again after a read() that
// empties the buffer, and stays false in flowing mode with a full buffer.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const readable = new Readable({ read: () => {} });
log('initial', readable._readableState.needReadable);
readable.on('readable', () => {
  log('readable needReadable', readable._readableState.needReadable);
  readable.read();
});
log('listener', readable._readableState.needReadable);
readable.push(Buffer.from('foo'));
readable.push(null);
readable.on('end', () => log('end needReadable', readable._readableState.needReadable));

const asyncReadable = new Readable({ read: () => {} });
asyncReadable.on('readable', () => {
  const c = asyncReadable.read();
  log('async readable read', c === null ? 'null' : c.toString(),
    'needReadable', asyncReadable._readableState.needReadable);
});
process.nextTick(() => asyncReadable.push(Buffer.from('foooo')));
process.nextTick(() => asyncReadable.push(Buffer.from('bar')));
setImmediate(() => {
  asyncReadable.push(null);
  log('async pushed null needReadable', asyncReadable._readableState.needReadable);
});

const flowing = new Readable({ read: () => {} });
flowing.push(Buffer.from('foooo'));
flowing.push(Buffer.from('bar'));
flowing.push(Buffer.from('quo'));
process.nextTick(() => flowing.push(null));
flowing.on('data', (c) => log('flowing data', c.toString(),
  'needReadable', flowing._readableState.needReadable));

const slowProducer = new Readable({ read: () => {} });
slowProducer.on('readable', () => {
  const c = slowProducer.read(8);
  log('slow readable read(8)', c === null ? 'null' : c.toString(),
    'needReadable', slowProducer._readableState.needReadable);
});
process.nextTick(() => {
  slowProducer.push(Buffer.from('foo'));
  process.nextTick(() => {
    slowProducer.push(Buffer.from('foo'));
    process.nextTick(() => {
      slowProducer.push(Buffer.from('foo'));
      process.nextTick(() => slowProducer.push(null));
    });
  });
});
