// Node 20's writeOrBuffer measures the buffer after _write: a write whose callback ran
// synchronously returns true even past the highWaterMark and sets no needDrain; its
// bookkeeping (pendingcb) settles at once, except in object mode, where Node always
// schedules the after-write tick (its `state & kDestroyed !== 0` reads the objectMode bit).
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
function mk(name, objectMode) {
  const w = new Writable({
    objectMode,
    highWaterMark: 2,
    write(chunk, enc, cb) { log(name, '_write', chunk.toString()); cb(); },
  });
  w.on('drain', () => log(name, 'drain'));
  w.on('prefinish', () => log(name, 'prefinish'));
  w.on('finish', () => log(name, 'finish'));
  w.on('close', () => log(name, 'close'));
  return w;
}
const st = (w) => `length ${w.writableLength} needDrain ${w.writableNeedDrain} pendingcb ${w._writableState.pendingcb}`;
const a = mk('a', false);
log('a write abc', a.write(Buffer.from('abc')), st(a));
log('a write de', a.write(Buffer.from('de')), st(a));
a.end();
log('a end', st(a));
const b = mk('b', true);
log('b write x', b.write('x'), st(b));
log('b write y', b.write('y'), st(b));
log('b write z', b.write('z', () => log('b cb z')), st(b));
b.end();
log('b end', st(b));
process.nextTick(() => log('tick a', st(a), 'b', st(b)));
