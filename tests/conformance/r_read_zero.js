// read(0): below the highWaterMark it calls _read and returns null; with the buffer
// at the highWaterMark it only schedules 'readable'; at EOF with an empty buffer it ends.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const r = new Readable({
  highWaterMark: 4,
  read(size) { log('_read', size, 'length', this.readableLength); },
});
r.on('readable', () => log('readable', 'length', r.readableLength));
r.on('end', () => log('end'));
log('read(0)', String(r.read(0)), 'reading', r._readableState.reading,
  'needReadable', r._readableState.needReadable);
setImmediate(() => {
  r.push(Buffer.from('abcd'));
  log('pushed', 'length', r.readableLength, 'needReadable', r._readableState.needReadable);
  setImmediate(() => {
    log('read(0) full', String(r.read(0)), 'needReadable', r._readableState.needReadable,
      'emittedReadable', r._readableState.emittedReadable);
    setImmediate(() => {
      const c = r.read();
      log('read()', c.toString(), 'length', r.readableLength);
      r.push(null);
      log('pushed null');
      setImmediate(() => {
        log('read(0) at eof', String(r.read(0)), 'endEmitted', r._readableState.endEmitted);
      });
    });
  });
});
