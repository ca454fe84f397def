// test-stream-writable-destroy: a custom _destroy decides the error: passing it on
// ('error' then 'close'), swallowing it (only 'close'), raising one when destroy() had
// none, and calling back on a later tick (destroyed at once, closed only then; a
// second destroy meanwhile is ignored).
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
function mk(name, destroy) {
  const w = new Writable({ write(chunk, enc, cb) { cb(); }, destroy });
  w.on('finish', () => log(name, 'finish'));
  w.on('error', (e) => log(name, 'error', errName(e)));
  w.on('close', () => log(name, 'close'));
  return w;
}
const a = mk('a', function(err, cb) { log('a _destroy', errName(err)); cb(err); });
a.destroy(new Error('kaboom a'));
log('a destroyed', a.destroyed);
const b = mk('b', function(err, cb) { log('b _destroy', errName(err)); cb(); });
b.destroy(new Error('kaboom b'));
log('b destroyed', b.destroyed, 'errored', errName(b.errored));
const c = mk('c', function(err, cb) { log('c _destroy', errName(err)); cb(new Error('kaboom c')); });
c.destroy();
log('c destroyed', c.destroyed);
const d = mk('d', function(err, cb) {
  log('d _destroy', errName(err));
  process.nextTick(() => {
    log('d _destroy tick closed', this.closed);
    cb();
    log('d after cb closed', this.closed);
  });
});
d.destroy();
log('d destroyed', d.destroyed, 'closed', d.closed);
// A second destroy(err) while _destroy is pending is ignored: the error that _destroy
// calls back with is the one emitted.
const e = mk('e', function(err, cb) {
  log('e _destroy', errName(err));
  process.nextTick(cb, new Error('kaboom e1'));
});
e.destroy();
log('e destroyed', e.destroyed, 'errorEmitted', e._writableState.errorEmitted);
e.destroy(new Error('kaboom e2'));
log('e errorEmitted', e._writableState.errorEmitted, 'errored', errName(e.errored));
