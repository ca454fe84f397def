// test-stream-writable-destroy: writes still buffered (corked, or behind a write in
// flight) when the stream is destroyed fail with ERR_STREAM_DESTROYED, in order, after
// the writes that completed; a write after destroy fails the same way; no 'error' event.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
{
  const w = new Writable({ write(chunk, enc, cb) { log('a _write', chunk.toString()); cb(); } });
  w.on('error', (e) => log('a error', errName(e)));
  w.on('close', () => log('a close'));
  w.cork();
  w.write(Buffer.from('1'), (e) => log('a cb 1', errName(e)));
  w.uncork();
  w.cork();
  w.write(Buffer.from('2'), (e) => log('a cb 2', errName(e)));
  w.destroy();
  w.write(Buffer.from('3'), (e) => log('a cb 3', errName(e)));
  w.uncork();
  log('a length', w.writableLength, 'buffered', w._writableState.bufferedRequestCount);
}
{
  const w = new Writable({
    write(chunk, enc, cb) { log('b _write', chunk.toString()); setImmediate(cb); },
  });
  w.on('error', (e) => log('b error', errName(e)));
  w.on('close', () => log('b close'));
  w.write(Buffer.from('x'), (e) => log('b cb x', errName(e)));
  w.write(Buffer.from('y'), (e) => log('b cb y', errName(e)));
  w.destroy();
  log('b length', w.writableLength, 'buffered', w._writableState.bufferedRequestCount);
}
