// test-stream-finished: on a Duplex, finished() waits for both sides (end and finish);
// { readable: false } waits for the writable side only.
'use strict';
const { Duplex, finished } = require('stream');
const { log, errName } = require('./trace');
const d = new Duplex({
  read() {},
  write(chunk, enc, cb) { log('d _write', chunk.toString()); cb(); },
});
finished(d, (err) => log('both finished cb', errName(err), 'ended', d.readableEnded,
  'finished', d.writableFinished));
finished(d, { readable: false }, (err) => log('writable-only cb', errName(err),
  'ended', d.readableEnded));
finished(d, { writable: false }, (err) => log('readable-only cb', errName(err),
  'finished', d.writableFinished));
d.on('finish', () => log('d finish'));
d.on('end', () => log('d end'));
d.on('close', () => log('d close'));
d.end(Buffer.from('w'));
setImmediate(() => {
  log('push + end readable');
  d.push(Buffer.from('r'));
  d.push(null);
  d.resume();
});
