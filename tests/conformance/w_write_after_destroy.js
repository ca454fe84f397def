// test-stream-writable-write-error: write() after destroy() fails with
// ERR_STREAM_DESTROYED ("Cannot call write after a stream was destroyed"): callback on a
// next tick, then 'error' unless the stream already destroyed itself. Both settings of
// autoDestroy.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
function test(autoDestroy, next) {
  log('# autoDestroy', autoDestroy);
  const w = new Writable({ autoDestroy, write(chunk, enc, cb) { log('w _write'); } });
  w.on('error', (e) => log('w error', errName(e), e.message));
  w.on('close', () => log('w close'));
  w.destroy();
  let ticked = false;
  const r = w.write(Buffer.from('asd'), (e) => log('write cb', errName(e), e.message, 'ticked', ticked));
  ticked = true;
  log('write returned', r, 'destroyed', w.destroyed, 'errored', errName(w.errored));
  setImmediate(() => {
    log('later errored', errName(w.errored), 'closed', w.closed);
    next();
  });
}
test(false, () => test(true, () => log('done')));
