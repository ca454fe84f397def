// test-streams-highwatermark (and the option rules of state.js): the effective
// highWaterMark of each side for Readable, Writable, Duplex and Transform options, the
// object-mode default of 16, and the hwm-0 edge cases of push() and read(0).
'use strict';
const { Readable, Writable, Duplex, Transform, PassThrough } = require('stream');
const { log } = require('./trace');
const rw = (s) => `${s.readableHighWaterMark} ${s.writableHighWaterMark}`;
log('readable default', new Readable({ read() {} }).readableHighWaterMark);
log('readable object', new Readable({ read() {}, objectMode: true }).readableHighWaterMark);
log('readable 5', new Readable({ read() {}, highWaterMark: 5 }).readableHighWaterMark);
log('readable huge', new Readable({ read() {}, highWaterMark: Number.MAX_SAFE_INTEGER }).readableHighWaterMark);
log('readable side options ignored', new Readable({ read() {}, readableHighWaterMark: 3, readableObjectMode: true }).readableHighWaterMark);
log('writable default', new Writable().writableHighWaterMark);
log('writable side options ignored', new Writable({ writableHighWaterMark: 3, writableObjectMode: true }).writableHighWaterMark);
log('writable object', new Writable({ objectMode: true }).writableHighWaterMark);
log('writable 7', new Writable({ highWaterMark: 7 }).writableHighWaterMark);
log('duplex default', rw(new Duplex()));
log('duplex object', rw(new Duplex({ objectMode: true })));
log('duplex readableObjectMode', rw(new Duplex({ readableObjectMode: true })));
log('duplex writableObjectMode', rw(new Duplex({ writableObjectMode: true })));
log('duplex sides', rw(new Duplex({ readableHighWaterMark: 3, writableHighWaterMark: 9 })));
log('duplex hwm wins', rw(new Duplex({ highWaterMark: 4, readableHighWaterMark: 3, writableHighWaterMark: 9 })));
log('duplex one side', rw(new Duplex({ readableHighWaterMark: 3 })));
log('duplex object side', rw(new Duplex({ writableObjectMode: true, readableHighWaterMark: 2 })));
log('transform default', rw(new Transform()));
log('transform object', rw(new Transform({ objectMode: true })));
log('transform 2', rw(new Transform({ highWaterMark: 2 })));
log('passthrough default', rw(new PassThrough()));
log('transform readable 0', rw(new Transform({ readableHighWaterMark: 0 })));
log('transform readable 0 writable 5', rw(new Transform({ readableHighWaterMark: 0, writableHighWaterMark: 5 })));
const r0 = new Readable({ highWaterMark: 0, read() { log('r0 _read'); } });
for (let i = 0; i < 3; i++) log('r0 push', r0.push(Buffer.alloc(0)));
const r1 = new Readable({ highWaterMark: 0, read() { log('r1 _read'); } });
log('r1 read(0)', String(r1.read(0)));
const w0 = new Writable({ highWaterMark: 0, write(c, e, cb) { log('w0 _write'); cb(); } });
log('w0 write sync', w0.write(Buffer.from('x')), 'needDrain', w0.writableNeedDrain);
const w1 = new Writable({ highWaterMark: 0, write(c, e, cb) { log('w1 _write'); setImmediate(cb); } });
w1.on('drain', () => log('w1 drain'));
log('w1 write async', w1.write(Buffer.from('x')), 'needDrain', w1.writableNeedDrain);
