// test-stream-finished: destroyed before end / finish, finished() reports
// ERR_STREAM_PREMATURE_CLOSE; a stream that ended first reports no error.
'use strict';
const { Readable, Writable, Duplex, finished } = require('stream');
const { log, errName } = require('./trace');
const rs = new Readable({ read() {} });
finished(rs, (err) => log('rs cb', errName(err)));
rs.push(Buffer.from('a'));
rs.destroy();
const ws = new Writable({ write(chunk, enc, cb) { setImmediate(cb); } });
finished(ws, (err) => log('ws cb', errName(err)));
ws.write(Buffer.from('a'));
process.nextTick(() => ws.destroy());
// The readable side ended, the writable side did not: still premature.
const d = new Duplex({ read() {}, write(chunk, enc, cb) { cb(); } });
finished(d, (err) => log('d cb', errName(err), 'ended', d.readableEnded));
d.push(null);
d.resume();
d.on('end', () => {
  log('d end');
  d.destroy();
});
// Ended and then destroyed: no error.
const r2 = new Readable({ autoDestroy: false, read() { this.push(null); } });
finished(r2, (err) => log('r2 cb', errName(err)));
r2.on('end', () => { log('r2 end'); r2.destroy(); });
r2.resume();
