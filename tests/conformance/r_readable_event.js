// test-stream-readable-event: a 'readable' listener added later still gets the event:
// (1) above the highWaterMark, not reading; (2) below it, while reading; (3) at EOF.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
function make(name, hwm, chunks) {
  const r = new Readable({
    highWaterMark: hwm,
    read(n) { log(name, '_read', n); },
  });
  for (const c of chunks) r.push(c === null ? null : Buffer.from(c));
  log(name, 'pushed', 'length', r.readableLength, 'needReadable', r._readableState.needReadable,
    'emittedReadable', r._readableState.emittedReadable);
  return r;
}
const r1 = make('r1', 3, ['blerg']);
const r2 = make('r2', 3, ['bl']);
const r3 = make('r3', 30, ['blerg', null]);
setImmediate(() => {
  for (const [name, r] of [['r1', r1], ['r2', r2], ['r3', r3]]) {
    log(name, 'reading', r._readableState.reading, 'length', r.readableLength);
    r.on('readable', () => log(name, 'readable', 'length', r.readableLength,
      'ended', r._readableState.ended));
  }
});
