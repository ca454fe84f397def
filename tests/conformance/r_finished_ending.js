// test-stream-finished: finished() on a Writable that is ending (end() called) while a
// write is still in flight waits for 'finish' (Node 20 checks pendingcb), with and
// without autoDestroy; on a Readable whose buffer is drained after push(null) it waits
// for 'end'.
'use strict';
const { Writable, Readable, finished } = require('stream');
const { log, errName } = require('./trace');
const w = new Writable({ autoDestroy: false, write(c, e, cb) { log('w _write'); setImmediate(cb); } });
w.write(Buffer.from('a'));
w.end();
finished(w, (err) => log('w finished cb', errName(err), 'finished', w.writableFinished));
w.on('finish', () => log('w finish'));
const w2 = new Writable({ write(c, e, cb) { log('w2 _write'); setImmediate(cb); } });
w2.write(Buffer.from('a'));
w2.end();
finished(w2, (err) => log('w2 finished cb', errName(err), 'finished', w2.writableFinished));
w2.on('finish', () => log('w2 finish'));
w2.on('close', () => log('w2 close'));
const r = new Readable({ autoDestroy: false, read() {} });
r.push(Buffer.from('x'));
r.push(null);
finished(r, (err) => log('r finished cb', errName(err), 'ended', r.readableEnded));
r.on('end', () => log('r end'));
setImmediate(() => {
  log('r read', String(r.read()));
});
