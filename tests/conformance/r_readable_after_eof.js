// test-stream-readable-event / needReadable: a 'readable' listener added after
// push(null) on an empty stream gets one 'readable' (read() gives null), then 'end';
// Node 20 leaves needReadable set.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const r = new Readable({ read() { log('_read'); } });
const nr = () => `needReadable ${r._readableState.needReadable} emittedReadable ${r._readableState.emittedReadable}`;
r.push(null);
log('pushed null', nr());
r.on('readable', () => log('readable', nr(), 'read', String(r.read()), nr()));
log('listener', nr(), 'flowing', r.readableFlowing);
process.nextTick(() => log('tick', nr()));
setImmediate(() => log('immediate', nr(), 'ended', r.readableEnded));
r.on('end', () => log('end', nr()));
