// test-stream-writev: without cork, writes made while a _write is in flight are
// buffered and all go to one _writev when it completes; callbacks per chunk, then drain.
'use strict';
const { Writable } = require('stream');
const { log } = require('./trace');
const w = new Writable({
  highWaterMark: 8,
  write(chunk, enc, cb) {
    log('w _write', chunk.toString(), 'length', w.writableLength);
    setImmediate(cb);
  },
  writev(chunks, cb) {
    log('w _writev', chunks.map((c) => c.chunk.toString()).join('|'), 'length', w.writableLength,
        'buffered', w._writableState.bufferedRequestCount);
    setImmediate(cb);
  },
});
w.on('drain', () => log('w drain length', w.writableLength));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
for (const c of ['a', 'bb', 'ccc', 'dddd']) {
  log('write', c, w.write(Buffer.from(c), () => log('cb', c)), 'length', w.writableLength,
      'buffered', w._writableState.bufferedRequestCount);
}
w.once('drain', () => {
  log('write e', w.write(Buffer.from('e')));
  log('write f', w.write(Buffer.from('f')));
  w.end(Buffer.from('g'), () => log('end cb'));
});
