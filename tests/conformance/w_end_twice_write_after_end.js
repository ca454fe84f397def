// test-stream-writable-end-cb-error (third case): end(chunk, cb) then end(cb) while the
// write is in flight; a third end(chunk, cb) fails with ERR_STREAM_WRITE_AFTER_END and
// destroys the stream, so the first two callbacks get ERR_STREAM_DESTROYED; no 'finish'.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write', chunk.toString());
    setImmediate(cb);
  },
});
w.on('error', (e) => log('w error', errName(e)));
w.on('finish', () => log('w finish'));
w.on('close', () => log('w close'));
w.end(Buffer.from('testing ended state'), (e) => log('end cb 1', errName(e)));
log('destroyed', w.destroyed, 'writableEnded', w.writableEnded);
w.end((e) => log('end cb 2', errName(e)));
log('destroyed', w.destroyed, 'writableEnded', w.writableEnded);
w.end(Buffer.from('end'), (e) => log('end cb 3', errName(e)));
log('destroyed', w.destroyed, 'errored', errName(w.errored));
