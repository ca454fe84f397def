// stream.getDefaultHighWaterMark / setDefaultHighWaterMark (Node 20): a stream built
// without a highWaterMark takes the default of its mode at construction; explicit ones,
// streams built before, and Readable.from's 1 are left alone.
'use strict';
const { Readable, Writable, Duplex, PassThrough, getDefaultHighWaterMark, setDefaultHighWaterMark } = require('stream');
const { log } = require('./trace');
log('defaults', getDefaultHighWaterMark(false), getDefaultHighWaterMark(true));
const before = new Writable({ write(c, e, cb) { cb(); } });
setDefaultHighWaterMark(false, 4);
setDefaultHighWaterMark(true, 2);
log('set', getDefaultHighWaterMark(false), getDefaultHighWaterMark(true));
const w = new Writable({ write(c, e, cb) { setImmediate(cb); } });
log('w hwm', w.writableHighWaterMark, 'write abc', w.write('abc'), 'write de', w.write('de'));
const r = new Readable({ objectMode: true, read() {} });
log('r hwm', r.readableHighWaterMark, 'push 1', r.push(1), 'push 2', r.push(2));
const d = new Duplex({ readableObjectMode: true, read() {}, write(c, e, cb) { cb(); } });
log('d hwm', d.readableHighWaterMark, d.writableHighWaterMark);
const p = new PassThrough();
log('p hwm', p.readableHighWaterMark, p.writableHighWaterMark);
const x = new Writable({ highWaterMark: 10, write(c, e, cb) { cb(); } });
log('x hwm', x.writableHighWaterMark);
log('from hwm', Readable.from([1]).readableHighWaterMark);
log('before hwm', before.writableHighWaterMark);
setDefaultHighWaterMark(false, 16 * 1024);
setDefaultHighWaterMark(true, 16);
log('restored', getDefaultHighWaterMark(false), getDefaultHighWaterMark(true));
process.exit(0);
