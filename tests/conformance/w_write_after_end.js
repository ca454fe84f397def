// test-stream-writable-write-error: write() after end() fails with
// ERR_STREAM_WRITE_AFTER_END: the callback runs on a next tick, before 'error'; with
// autoDestroy the stream is destroyed, without it only errored. Both settings.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
function test(autoDestroy, next) {
  log('# autoDestroy', autoDestroy);
  const w = new Writable({ autoDestroy, write(chunk, enc, cb) { log('w _write'); } });
  w.on('error', (e) => log('w error', errName(e), 'destroyed', w.destroyed));
  w.on('finish', () => log('w finish'));
  w.on('close', () => log('w close'));
  w.end();
  let ticked = false;
  const r = w.write(Buffer.from('asd'), (e) => log('write cb', errName(e), 'ticked', ticked));
  ticked = true;
  log('write returned', r, 'destroyed', w.destroyed, 'errored', errName(w.errored), 'writable', w.writable);
  setImmediate(() => {
    log('later destroyed', w.destroyed, 'finished', w.writableFinished, 'errored', errName(w.errored));
    next();
  });
}
test(false, () => test(true, () => log('done')));
