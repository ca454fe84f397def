// push() after push(null): ERR_STREAM_PUSH_AFTER_EOF; with autoDestroy the stream is
// destroyed (error on the next tick), without it the error is emitted at once.
'use strict';
const { Readable } = require('stream');
const { log, errName } = require('./trace');
const r = new Readable({ read() {} });
r.on('error', (e) => log('r error', errName(e), 'destroyed', r.destroyed));
r.on('close', () => log('r close'));
r.on('end', () => log('r end (must not happen)'));
r.push(Buffer.from('a'));
r.push(null);
log('push after eof', r.push(Buffer.from('b')), 'destroyed', r.destroyed,
  'errored', errName(r.errored), 'length', r.readableLength);
log('push again', r.push(Buffer.from('c')));

const r2 = new Readable({ autoDestroy: false, read() {} });
r2.on('error', (e) => log('r2 error', errName(e), 'destroyed', r2.destroyed));
r2.on('close', () => log('r2 close'));
r2.on('end', () => log('r2 end'));
r2.push(null);
log('r2 push after eof', r2.push(Buffer.from('b')), 'errored', errName(r2.errored));
r2.resume();
