// test-stream-writable-final-async: a Duplex whose _final calls back from a timer:
// 'prefinish' and 'finish' wait for it; the end callback runs, no 'error'.
'use strict';
const { Duplex } = require('stream');
const { log, errName } = require('./trace');
const d = new Duplex({
  read() {},
  write(chunk, enc, cb) {
    log('d _write', chunk.toString());
    cb();
  },
  final(cb) {
    log('d _final pendingcb', d._writableState.pendingcb);
    setTimeout(() => {
      log('d final timer');
      cb();
    }, 1);
  },
});
d.on('prefinish', () => log('d prefinish'));
d.on('finish', () => log('d finish finished', d.writableFinished));
d.on('error', (e) => log('d error', errName(e)));
d.on('close', () => log('d close'));
d.end(Buffer.from('test'), (e) => log('end cb', errName(e)));
log('after end finished', d.writableFinished, 'prefinished', d._writableState.prefinished);
setTimeout(() => {
  log('later destroyed', d.destroyed, 'readableEnded', d.readableEnded);
  d.push(null);
  d.resume();
}, 20);
d.on('end', () => log('d end'));
