// test-stream-transform-flush-data: a transform that consumes its input and a flush that
// emits the only output chunk (`cb(null, data)`), before 'end'.
'use strict';
const { Transform } = require('stream');
const { log } = require('./trace');
const t = new Transform({
  transform(d, e, n) { log('t _transform', d.toString()); n(); },
  flush(n) { log('t _flush'); n(null, Buffer.from('asdf')); },
});
t.on('prefinish', () => log('t prefinish'));
t.on('finish', () => log('t finish'));
t.on('end', () => log('t end'));
t.on('close', () => log('t close'));
t.end(Buffer.from('blerg'));
t.on('data', (data) => log('t data', data.toString()));
log('sync readableLength', t.readableLength);
