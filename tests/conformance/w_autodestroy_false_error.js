// autoDestroy: false: a failed write leaves the stream errored but not destroyed;
// 'error' is emitted once (a second failure does not emit again), buffered writes fail
// with that error, no 'close' and no 'finish'; destroy() later emits only 'close'.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
const w = new Writable({
  autoDestroy: false,
  write(chunk, enc, cb) {
    log('w _write', chunk.toString());
    process.nextTick(cb, new Error('asd ' + chunk.toString()));
  },
});
w.on('error', (e) => log('w error', errName(e), 'destroyed', w.destroyed));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
w.cork();
w.write(Buffer.from('1'), (e) => log('cb 1', errName(e)));
w.write(Buffer.from('2'), (e) => log('cb 2', errName(e)));
w.uncork();
log('uncorked length', w.writableLength, 'buffered', w._writableState.bufferedRequestCount);
setImmediate(() => {
  log('errored', errName(w.errored), 'destroyed', w.destroyed, 'writable', w.writable,
      'length', w.writableLength);
  log('write 3', w.write(Buffer.from('3'), (e) => log('cb 3', errName(e))));
  w.end((e) => log('end cb', errName(e)));
  setImmediate(() => {
    log('still destroyed', w.destroyed, 'closed', w.closed);
    w.destroy();
    log('destroyed', w.destroyed);
  });
});
