// test-stream-unpipe-event / test-stream-pipe-cleanup: 'unpipe' listeners run in
// registration order around pipe's own cleanup (registered by pipe()), so a listener
// added before pipe() still sees the pipe's 'data' listener; the source waiting for
// that destination's drain is released.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
const r = new Readable({ read() {} });
const w = new Writable({ highWaterMark: 1, write(chunk, enc, cb) { log('w _write', chunk.toString()); } });
const st = () => `flowing ${r.readableFlowing} data ${r.listenerCount('data')} pipes ${r._readableState.pipes.length}`;
w.on('unpipe', (src) => log('w unpipe (before pipe)', src === r, st()));
r.pipe(w);
w.on('unpipe', (src) => log('w unpipe (after pipe)', src === r, st()));
r.push(Buffer.from('abc'));
r.on('pause', () => log('r pause', st()));
r.on('resume', () => log('r resume', st()));
setImmediate(() => {
  log('unpipe', st());
  r.unpipe(w);
  log('unpiped', st(), 'w drain listeners', w.listenerCount('drain'));
  const w2 = new Writable({ write(chunk, enc, cb) { log('w2 _write', chunk.toString()); cb(); } });
  w2.on('unpipe', () => log('w2 unpipe', st()));
  r.pipe(w2);
  r.push(Buffer.from('def'));
  setImmediate(() => {
    r.unpipe();
    log('unpiped all', st());
  });
});
