// test-stream-finished: finished() on a Readable calls back after end (at close, as the
// stream emits close); on a stream that already closed it calls back on the next tick.
'use strict';
const { Readable, finished } = require('stream');
const { log, errName } = require('./trace');
let n = 0;
const rs = new Readable({
  read() {
    n++;
    this.push(n <= 2 ? Buffer.from('x' + n) : null);
  },
});
finished(rs, (err) => {
  log('finished cb', errName(err), 'ended', rs.readableEnded, 'closed', rs.closed);
  finished(rs, (err2) => log('finished again cb', errName(err2)));
  log('registered again');
});
rs.on('data', (c) => log('data', c.toString()));
rs.on('end', () => log('end'));
rs.on('close', () => log('close'));
// A Readable without autoDestroy: finished at end, no close.
const r2 = new Readable({ autoDestroy: false, read() { this.push(null); } });
finished(r2, (err) => log('r2 finished cb', errName(err), 'destroyed', r2.destroyed));
r2.on('end', () => log('r2 end'));
r2.resume();
