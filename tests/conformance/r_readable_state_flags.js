// test-stream-readable-needReadable / emittedReadable / readable-event, Node 20's flag
// updates: a flowing stream whose _read pushes synchronously keeps needReadable set
// after 'readable' is (internally) emitted; a 'data' listener added inside a
// once('readable') handler waits for the listener bookkeeping of the next tick.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const st = (r) => `needReadable ${r._readableState.needReadable} emittedReadable ${r._readableState.emittedReadable}` +
  ` readableListening ${r._readableState.readableListening} flowing ${r.readableFlowing}`;
let n = 0;
const a = new Readable({
  read() {
    n++;
    log('a _read', n, st(a));
    if (n <= 3) this.push(Buffer.from('a' + n));
    else if (n === 4) setImmediate(() => { log('a push null', st(a)); this.push(null); log('a pushed null', st(a)); });
  },
});
a.on('data', (c) => log('a data', c.toString(), st(a)));
a.on('end', () => log('a end', st(a)));
log('a sync', st(a));

const b = new Readable({ read() {} });
b.push(Buffer.from('x'));
b.once('readable', () => {
  log('b readable', st(b));
  log('b read', String(b.read()));
  b.on('data', (c) => log('b data', c.toString(), st(b)));
  log('b after on data', st(b), 'paused', b.isPaused());
  process.nextTick(() => {
    log('b tick', st(b));
    b.push(Buffer.from('y'));
    log('b pushed y', st(b));
  });
});
b.on('end', () => log('b end'));
setImmediate(() => {
  setImmediate(() => {
    log('b push null', st(b));
    b.push(null);
  });
});
