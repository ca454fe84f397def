// emitClose: false: destroy() (after finish, with autoDestroy, or with an error) never
// emits 'close'; 'error' still comes; closed becomes true all the same.
'use strict';
const { Writable, Readable } = require('stream');
const { log, errName } = require('./trace');
const a = new Writable({ emitClose: false, write(c, e, cb) { cb(); } });
a.on('finish', () => log('a finish'));
a.on('close', () => log('a close'));
a.end(Buffer.from('x'));
const b = new Writable({ emitClose: false, write(c, e, cb) { cb(); } });
b.on('error', (e) => log('b error', errName(e), 'closed', b.closed));
b.on('close', () => log('b close'));
b.destroy(new Error('kaboom'));
const r = new Readable({ emitClose: false, read() {} });
r.on('end', () => log('r end'));
r.on('close', () => log('r close'));
r.resume();
r.push(null);
setImmediate(() => {
  log('a destroyed', a.destroyed, 'closed', a.closed, 'finished', a.writableFinished);
  log('b destroyed', b.destroyed, 'closed', b.closed);
  log('r destroyed', r.destroyed, 'closed', r.closed);
});
