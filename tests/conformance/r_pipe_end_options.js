// test-stream-pipe-after-end / test-stream-pipe-without-listenerCount / pipe { end }:
// piping an ended source ends the destination on the next tick; { end: false } leaves
// the destination open and unpipes at 'end'; a destroyed source never ends it.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
function sink(name) {
  const w = new Writable({ write(chunk, enc, cb) { log(name, '_write', chunk.toString()); cb(); } });
  w.on('finish', () => log(name, 'finish'));
  w.on('close', () => log(name, 'close'));
  w.on('unpipe', () => log(name, 'unpipe'));
  w.on('pipe', () => log(name, 'pipe'));
  return w;
}
// (a) the source already emitted 'end'.
const a = new Readable({ autoDestroy: false, read() {} });
a.push(Buffer.from('a1'));
a.push(null);
a.on('data', (c) => log('a data', c.toString()));
a.on('end', () => {
  log('a end', 'readableEnded', a.readableEnded);
  const wa = sink('wa');
  a.pipe(wa);
  log('a piped', 'wa ended', wa.writableEnded);
  // (b) { end: false }.
  const b = new Readable({ read() {} });
  const wb = sink('wb');
  b.pipe(wb, { end: false });
  b.push(Buffer.from('b1'));
  b.push(null);
  b.on('end', () => log('b end', 'wb ended', wb.writableEnded, 'pipes', b._readableState.pipes.length));
  b.on('close', () => {
    log('b close', 'wb ended', wb.writableEnded);
    // (c) the source is destroyed while piping.
    const c = new Readable({ read() {} });
    const wc = sink('wc');
    c.pipe(wc);
    c.push(Buffer.from('c1'));
    c.on('close', () => log('c close', 'wc ended', wc.writableEnded, 'pipes', c._readableState.pipes.length));
    setImmediate(() => {
      c.destroy();
      setImmediate(() => log('after c', 'wc ended', wc.writableEnded, 'wc destroyed', wc.destroyed));
    });
  });
});
