// test-stream-writable-end-cb-error: a write that fails asynchronously destroys the
// stream; both pending end() callbacks then get ERR_STREAM_DESTROYED, after 'error'.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write');
    process.nextTick(cb, new Error('kaboom'));
  },
});
w.on('error', (e) => log('w error', errName(e)));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
w.on('prefinish', () => log('w prefinish'));
log('write', w.write(Buffer.from('asd')));
w.end((e) => log('end cb 1', errName(e)));
w.end((e) => log('end cb 2', errName(e)));
log('ended', w.writableEnded, 'destroyed', w.destroyed);
