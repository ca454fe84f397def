// test-stream-writable-finished-state: writableFinished is false inside _write and
// becomes true before the end callback and the 'finish' listeners run.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write finished', w._writableState.finished, 'ended', w.writableEnded);
    cb();
  },
});
w.on('finish', () => log('w finish finished', w._writableState.finished, 'writableFinished', w.writableFinished));
w.on('close', () => log('w close finished', w.writableFinished, 'destroyed', w.destroyed));
w.end(Buffer.from('testing finished state'), (e) => log('end cb', errName(e), 'finished', w.writableFinished));
log('after end finished', w.writableFinished, 'ended', w.writableEnded, 'length', w.writableLength);
process.nextTick(() => log('tick finished', w.writableFinished));
