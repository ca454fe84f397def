// test-stream-writable-destroy: destroy() without an error: 'close' only (no 'finish',
// no 'error'); destroy(err): 'error' then 'close'; a second destroy(err) is ignored and
// 'error' comes once; destroyed/closed/errored as seen synchronously and afterwards.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
function mk(name) {
  const w = new Writable({ write(chunk, enc, cb) { cb(); } });
  w.on('finish', () => log(name, 'finish'));
  w.on('error', (e) => log(name, 'error', errName(e), 'closed', w.closed));
  w.on('close', () => log(name, 'close errored', errName(w.errored), 'closed', w.closed));
  return w;
}
const a = mk('a');
a.destroy();
log('a destroyed', a.destroyed, 'closed', a.closed, 'errored', errName(a.errored));
const b = mk('b');
b.destroy(new Error('kaboom'));
log('b destroyed', b.destroyed, 'closed', b.closed, 'errored', errName(b.errored),
    'errorEmitted', b._writableState.errorEmitted);
const c = mk('c');
c.destroy(new Error('kaboom 1'));
c.destroy(new Error('kaboom 2'));
log('c errored', errName(c.errored), 'writable', c.writable, 'aborted', c.writableAborted);
process.nextTick(() => log('tick b errorEmitted', b._writableState.errorEmitted));
