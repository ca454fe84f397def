// test-stream-pipe-error-handling: a destination that errors is unpiped (before its own
// error listeners run); the source is paused, not destroyed.
'use strict';
const { Readable, Writable } = require('stream');
const { log, errName } = require('./trace');
const r = new Readable({ read() {} });
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write', chunk.toString());
    cb(chunk.toString() === 'b' ? new Error('fail') : null);
  },
});
w.on('error', (e) => log('w error', errName(e), 'pipes', r._readableState.pipes.length,
  'flowing', r.readableFlowing));
w.on('unpipe', () => log('w unpipe'));
w.on('close', () => log('w close'));
r.on('pause', () => log('r pause'));
r.on('resume', () => log('r resume'));
r.on('close', () => log('r close'));
r.pipe(w);
r.push(Buffer.from('a'));
r.push(Buffer.from('b'));
r.push(Buffer.from('c'));
setImmediate(() => {
  log('after', 'r destroyed', r.destroyed, 'paused', r.isPaused(), 'flowing', r.readableFlowing,
    'length', r.readableLength, 'w destroyed', w.destroyed);
  // A destination destroyed with an error: same unpipe, same paused source.
  const w2 = new Writable({ write(chunk, enc, cb) { log('w2 _write', chunk.toString()); cb(); } });
  w2.on('error', (e) => log('w2 error', errName(e), 'pipes', r._readableState.pipes.length));
  w2.on('unpipe', () => log('w2 unpipe'));
  w2.on('close', () => log('w2 close'));
  r.pipe(w2);
  log('piped w2 flowing', r.readableFlowing);
  setImmediate(() => {
    w2.destroy(new Error('bacon'));
    log('destroyed w2');
    setImmediate(() => log('end', 'r destroyed', r.destroyed, 'flowing', r.readableFlowing,
      'length', r.readableLength));
  });
});
