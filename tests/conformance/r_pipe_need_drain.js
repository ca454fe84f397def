// test-stream-pipe-needDrain: piping into a destination that already needs a drain
// pauses the source at once; it flows after the drain.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const w = new Writable({
  highWaterMark: 1,
  write(buf, enc, cb) {
    log('w _write', buf.toString());
    process.nextTick(cb);
  },
});
let n = 0;
while (w.write(Buffer.from('asd'))) n++;
log('needDrain', w.writableNeedDrain, 'true writes', n, 'length', w.writableLength);
const r = new Readable({
  read() {
    log('r _read');
    this.push(Buffer.from('xyz'));
    this.push(null);
  },
});
r.on('pause', () => log('r pause'));
r.on('resume', () => log('r resume'));
r.on('end', () => log('r end'));
w.on('drain', () => log('w drain'));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
r.on('close', () => log('r close'));
r.pipe(w);
log('piped flowing', r.readableFlowing, 'paused', r.isPaused());
