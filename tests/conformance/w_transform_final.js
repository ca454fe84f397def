// test-stream-transform-final: an object-mode Transform with transform, final and flush:
// the order is transform/data per chunk, then _final (its callback from a timer), then
// flush (called from 'prefinish'), 'finish', the end callback, the flush callback, 'end'.
'use strict';
const { Transform } = require('stream');
const { log } = require('./trace');
let state = 0;
const t = new Transform({
  objectMode: true,
  transform(chunk, _, next) {
    log('transform part 1', ++state, 'chunk', chunk);
    this.push(state);
    log('transform part 2', ++state);
    process.nextTick(next);
  },
  final(done) {
    log('final part 1', ++state);
    setTimeout(() => {
      log('final part 2', ++state);
      done();
    }, 10);
  },
  flush(done) {
    log('flush part 1', ++state);
    process.nextTick(() => {
      log('flush part 2', ++state);
      done();
    });
  },
});
t.on('finish', () => log('finish', ++state));
t.on('end', () => log('end', ++state));
t.on('prefinish', () => log('prefinish', state));
t.on('close', () => log('close', state));
t.on('data', (d) => log('data', ++state, 'value', d));
t.write(1);
t.write(4);
t.end(7, () => log('end cb', ++state));
