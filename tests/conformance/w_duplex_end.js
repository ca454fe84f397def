// test-stream-duplex-end: with allowHalfOpen (the default) the end of the readable side
// leaves the writable side open; with allowHalfOpen false it calls end() on it, so
// 'finish' follows 'end' (unless the writable side had already ended).
'use strict';
const { Duplex } = require('stream');
const { log } = require('./trace');
function mk(name, opts) {
  const d = new Duplex({ read() {}, write(c, e, cb) { cb(); }, ...opts });
  log(name, 'allowHalfOpen', d.allowHalfOpen, 'end listeners', d.listenerCount('end'));
  d.on('end', () => log(name, 'end writable', d.writable, 'writableEnded', d.writableEnded));
  d.on('finish', () => log(name, 'finish'));
  d.on('prefinish', () => log(name, 'prefinish'));
  d.on('close', () => log(name, 'close'));
  return d;
}
const a = mk('a', {});
a.resume();
a.push(null);
const b = mk('b', { allowHalfOpen: false });
b.resume();
b.push(null);
const c = mk('c', { allowHalfOpen: false });
c.end();
c.resume();
c.push(null);
setImmediate(() => {
  log('a writable', a.writable, 'destroyed', a.destroyed);
  log('b writable', b.writable, 'destroyed', b.destroyed);
  log('c writable', c.writable, 'destroyed', c.destroyed);
});
