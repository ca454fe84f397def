// test-stream-writable-needdrain-state: needDrain as seen from inside a synchronous
// _transform, from the write callback and after write() returns; then a Writable whose
// callback is async, where needDrain holds until 'drain' (and hides after end()).
'use strict';
const { Transform, Writable } = require('stream');
const { log } = require('./trace');
const t = new Transform({
  highWaterMark: 1,
  transform(chunk, enc, cb) {
    log('t _transform needDrain', t._writableState.needDrain, 'length', t.writableLength);
    cb();
  },
});
t.on('drain', () => log('t drain'));
log('t before needDrain', t._writableState.needDrain);
const r = t.write(Buffer.from('asdasd'), () => log('t write cb needDrain', t._writableState.needDrain));
log('t write', r, 'needDrain', t._writableState.needDrain, 'writableNeedDrain', t.writableNeedDrain);

const w = new Writable({
  highWaterMark: 4,
  write(chunk, enc, cb) {
    log('w _write', chunk.toString(), 'needDrain', w._writableState.needDrain);
    setImmediate(cb);
  },
});
w.on('drain', () => log('w drain needDrain', w._writableState.needDrain, 'writableNeedDrain', w.writableNeedDrain));
log('w write ab', w.write(Buffer.from('ab')), 'needDrain', w.writableNeedDrain);
log('w write cde', w.write(Buffer.from('cde')), 'needDrain', w.writableNeedDrain, 'length', w.writableLength);
w.once('drain', () => {
  log('w write fghij', w.write(Buffer.from('fghij')), 'needDrain', w.writableNeedDrain);
  w.end();
  log('after end writableNeedDrain', w.writableNeedDrain, 'needDrain', w._writableState.needDrain);
});
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
