// Readable.from(iterable) over a synchronous iterator without return() or throw() (an
// array's, or a Rust Iterator): object mode, highWaterMark 1, next() called from _read
// until push returns false; destroy() waits for a microtask, then a tick; a next() that
// throws destroys the stream with that error.
'use strict';
const { Readable, Writable } = require('stream');
const { log, errName } = require('./trace');

// An iterable that logs each next(), failing at `failAt` (1-based) if given.
const items = (name, values, failAt) => ({
  [Symbol.iterator]() {
    let i = 0;
    return {
      next() {
        i++;
        if (i === failAt) {
          log(name, 'next throws');
          throw new Error('boom');
        }
        const done = i > values.length;
        log(name, 'next', done ? 'done' : values[i - 1]);
        return done ? { done: true, value: undefined } : { done: false, value: values[i - 1] };
      },
    };
  },
});
const watch = (name, r, then) => {
  r.on('end', () => log(name, 'end'));
  r.on('error', (e) => log(name, 'error', errName(e)));
  r.on('close', () => {
    log(name, 'close destroyed', r.destroyed);
    if (then) setImmediate(then);
  });
};

const parts = [
  () => {
    const r = Readable.from(items('a', [1, 2, 3]));
    log('a hwm', r.readableHighWaterMark, 'objectMode', r.readableObjectMode, 'length', r.readableLength);
    r.on('data', (v) => log('a data', v, 'length', r.readableLength));
    watch('a', r, next);
  },
  () => {
    const r = Readable.from(items('b', ['x', 'y', 'z', 'w']), { highWaterMark: 3 });
    r.on('readable', () => {
      log('b readable length', r.readableLength);
      let v;
      while ((v = r.read()) !== null) log('b read', v, 'length', r.readableLength);
    });
    watch('b', r, next);
  },
  () => {
    const r = Readable.from(items('c', [1, 2, 3, 4, 5]));
    const w = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(v, enc, cb) {
        log('c write', v);
        setImmediate(cb);
      },
    });
    w.on('drain', () => log('c drain'));
    w.on('finish', () => log('c finish'));
    watch('c', r, next);
    r.pipe(w);
  },
  () => {
    const r = Readable.from(items('d', [1, 2, 3, 4, 5, 6]));
    r.on('data', (v) => {
      log('d data', v);
      if (v === 2) {
        process.nextTick(() => log('d tick before destroy'));
        r.destroy(new Error('stop'));
        log('d destroyed', r.destroyed);
        process.nextTick(() => log('d tick after destroy'));
        queueMicrotask(() => log('d microtask after destroy'));
      }
    });
    watch('d', r, next);
  },
  () => {
    const r = Readable.from(items('e', [1, 2, 3], 3));
    r.on('data', (v) => log('e data', v));
    watch('e', r, next);
  },
  () => {
    const r = Readable.from([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')], { objectMode: false });
    log('f hwm', r.readableHighWaterMark, 'objectMode', r.readableObjectMode);
    r.once('readable', () => {
      log('f readable length', r.readableLength);
      log('f read', String(r.read()), 'length', r.readableLength);
      r.on('readable', () => {
        const v = r.read();
        log('f read', v === null ? 'null' : String(v), 'length', r.readableLength);
      });
    });
    watch('f', r, next);
  },
  () => {
    const r = Readable.from(items('g', [1, 2]));
    r.destroy();
    log('g destroyed', r.destroyed);
    watch('g', r, next);
  },
];
let k = 0;
function next() {
  if (k < parts.length) parts[k++]();
}
next();
