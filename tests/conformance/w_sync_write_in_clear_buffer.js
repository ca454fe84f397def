// A buffered write completing synchronously inside clearBuffer does not finish the
// stream: Node's kBuffered stays set until clearBuffer resets the buffer, so _final
// and prefinish come after the callback of the write that started clearBuffer
// (found by w_generated's case 401 at 5,000 cases). Writes 7 (sync), 3 (next tick),
// 4 (immediate), then end(8) whose write completes synchronously, and end() again.
'use strict';
const { Writable } = require('stream');
const { log, errName, complete } = require('./trace');

let n = 0;
const next = (cb) => complete(n++, cb);
const w = new Writable({
  highWaterMark: 16,
  write(chunk, enc, cb) {
    log(`_write ${chunk.length}`);
    next(cb);
  },
  final(cb) {
    log('_final');
    next(cb);
  },
});
w.on('prefinish', () => log('prefinish'));
w.on('finish', () => log('finish'));
w.on('close', () => log('close'));
[7, 3, 4].forEach((len, i) => w.write(Buffer.alloc(len), (e) => log(`cb ${i} ${errName(e)}`)));
w.end(Buffer.alloc(8), (e) => log(`end cb ${errName(e)}`));
w.end((e) => log(`end cb 2 ${errName(e)}`));
