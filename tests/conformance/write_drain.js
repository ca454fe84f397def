// test-stream-write-drain: write() returns false past the highWaterMark; 'drain' comes once
// the buffer empties, before the write callbacks of that batch.
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
const w = new Writable({
  highWaterMark: 4,
  write(chunk, enc, cb) { log('w _write', chunk.length); setImmediate(cb); },
});
w.on('drain', () => log('w drain'));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
log('write1', w.write(Buffer.from('ab'), () => log('w write cb 1')));
log('write2', w.write(Buffer.from('cd'), () => log('w write cb 2')));
log('write3', w.write(Buffer.from('ef'), () => log('w write cb 3')));
log('needDrain', w.writableNeedDrain, 'length', w.writableLength);
w.once('drain', () => {
  log('write4', w.write(Buffer.from('g'), () => log('w write cb 4')));
  w.end(() => log('w end cb'));
});
