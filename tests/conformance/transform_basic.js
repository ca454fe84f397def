// test-stream2-transform: upper-case transform with a flush that adds a trailer.
'use strict';
const { Transform } = require('stream');
const { log } = require('./trace');
const t = new Transform({
  transform(chunk, enc, cb) {
    log('t _transform', chunk.toString());
    cb(null, Buffer.from(chunk.toString().toUpperCase()));
  },
  flush(cb) {
    log('t _flush');
    cb(null, Buffer.from('!'));
  },
});
t.on('data', (c) => log('t data', c.toString()));
t.on('end', () => log('t end'));
t.on('finish', () => log('t finish'));
t.on('prefinish', () => log('t prefinish'));
t.on('close', () => log('t close'));
log('write a', t.write(Buffer.from('a')));
log('write bc', t.write(Buffer.from('bc')));
t.end(Buffer.from('d'), () => log('t end cb'));
