// test-stream-destroy-event-order: destroy(err) emits 'error' before 'close', for a
// Readable, a Writable and a Duplex alike, each on a later tick than the destroy.
'use strict';
const { Readable, Writable, Duplex } = require('stream');
const { log, errName } = require('./trace');
const rs = new Readable({ read() {} });
const ws = new Writable({ write(c, e, cb) { cb(); } });
const ds = new Duplex({ read() {}, write(c, e, cb) { cb(); } });
for (const [name, s] of [['rs', rs], ['ws', ws], ['ds', ds]]) {
  s.on('close', () => log(name, 'close errored', errName(s.errored)));
  s.on('error', (e) => log(name, 'error', errName(e)));
  s.on('end', () => log(name, 'end'));
  s.on('finish', () => log(name, 'finish'));
}
rs.destroy(new Error('kaboom r'));
ws.destroy(new Error('kaboom w'));
ds.destroy(new Error('kaboom d'));
log('sync destroyed', rs.destroyed, ws.destroyed, ds.destroyed);
