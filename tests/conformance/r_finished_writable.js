// test-stream-finished: finished() on a Writable calls back after finish (at close);
// with { readable: false } style streams, after 'finish' without autoDestroy.
'use strict';
const { Writable, finished } = require('stream');
const { log, errName } = require('./trace');
const ws = new Writable({
  write(chunk, enc, cb) { log('ws _write', chunk.toString()); setImmediate(cb); },
});
finished(ws, (err) => log('ws finished cb', errName(err), 'finished', ws.writableFinished));
ws.on('finish', () => log('ws finish'));
ws.on('close', () => log('ws close'));
ws.write(Buffer.from('a'));
ws.end(Buffer.from('b'));
const w2 = new Writable({
  autoDestroy: false,
  write(chunk, enc, cb) { cb(); },
});
finished(w2, (err) => log('w2 finished cb', errName(err), 'destroyed', w2.destroyed));
w2.on('finish', () => log('w2 finish'));
w2.end(Buffer.from('z'));
