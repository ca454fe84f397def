// test-stream-finished: an error is reported (once); the cleanup function returned by
// finished() removes the listeners, so its callback never runs.
'use strict';
const { Readable, Writable, finished } = require('stream');
const { log, errName } = require('./trace');
const rs = new Readable({ read() {} });
finished(rs, (err) => log('rs cb', errName(err), 'destroyed', rs.destroyed));
rs.on('error', (e) => log('rs error', errName(e)));
rs.on('close', () => log('rs close'));
rs.destroy(new Error('rs boom'));
const ws = new Writable({
  write(chunk, enc, cb) { cb(new Error('write boom')); },
});
finished(ws, (err) => log('ws cb', errName(err)));
ws.on('error', (e) => log('ws error', errName(e)));
ws.write(Buffer.from('x'));
// Cleanup before anything happens: the callback is never called.
const r2 = new Readable({ read() {} });
const cleanup = finished(r2, (err) => log('r2 cb (must not run)', errName(err)));
r2.on('end', () => log('r2 end'));
r2.on('close', () => log('r2 close'));
cleanup();
r2.push(null);
r2.resume();
// Cleanup after an error was scheduled: still no callback.
const r3 = new Readable({ read() {} });
const cleanup3 = finished(r3, (err) => log('r3 cb (must not run)', errName(err)));
r3.on('error', (e) => log('r3 error', errName(e)));
r3.destroy(new Error('r3 boom'));
cleanup3();
log('sync done');
