// A transform that ends its own readable side (push(null) inside _transform): Node 20
// calls that write's callback on the next tick, so the write stays in flight (length,
// writing) until then; 'end' and 'finish' follow in order.
'use strict';
const { Transform } = require('stream');
const { log, errName } = require('./trace');
const t = new Transform({
  transform(chunk, enc, cb) {
    const s = chunk.toString();
    log('t _transform', s);
    if (s === 'stop') {
      this.push(null);
    } else {
      this.push(chunk);
    }
    log('t calling back', s);
    cb();
  },
});
t.on('data', (d) => log('t data', d.toString()));
t.on('end', () => log('t end'));
t.on('finish', () => log('t finish'));
t.on('close', () => log('t close'));
t.on('error', (e) => log('t error', errName(e)));
t.write(Buffer.from('a'), () => log('cb a'));
t.write(Buffer.from('stop'), () => log('cb stop'));
log('after stop writableLength', t.writableLength, 'writing', t._writableState.writing,
    'readableEnded', t._readableState.ended);
process.nextTick(() => log('tick'));
t.end(() => log('end cb'));
