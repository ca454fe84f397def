// The streams benchmark on Node: the same work as benches/streams.rs.
//  (a) 1,000,000 object-mode chunks: Readable -> 3 Transforms -> Writable, via pipeline
//  (b) 1 GiB as 16 KiB Buffers through the same shape (no copies)
// Prints one line per case: `<case> <units> <seconds>`; the best of ROUNDS runs.
'use strict';
const { Readable, Transform, Writable, pipeline } = require('stream');
const ROUNDS = Number(process.env.ROUNDS || 3);

function objects(done) {
  const N = 1_000_000;
  let i = 0, sum = 0;
  const src = new Readable({ objectMode: true, read() { this.push(i < N ? i++ : null); } });
  const t = () => new Transform({ objectMode: true, transform(c, e, cb) { cb(null, c + 1); } });
  const dst = new Writable({ objectMode: true, write(c, e, cb) { sum += c; cb(); } });
  const start = process.hrtime.bigint();
  pipeline(src, t(), t(), t(), dst, (err) => {
    if (err) throw err;
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    if (sum !== N * (N - 1) / 2 + 3 * N) throw new Error('bad sum ' + sum);
    done(N, secs);
  });
}

function bytes(done) {
  const CHUNK = 16 * 1024, TOTAL = 1024 * 1024 * 1024, N = TOTAL / CHUNK;
  const buf = Buffer.alloc(CHUNK, 7);
  let i = 0, got = 0;
  const src = new Readable({ read() { this.push(i++ < N ? buf : null); } });
  const t = () => new Transform({ transform(c, e, cb) { cb(null, c); } });
  const dst = new Writable({ write(c, e, cb) { got += c.length; cb(); } });
  const start = process.hrtime.bigint();
  pipeline(src, t(), t(), t(), dst, (err) => {
    if (err) throw err;
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    if (got !== TOTAL) throw new Error('bad total ' + got);
    done(TOTAL, secs);
  });
}

function best(name, fn, rounds, cb) {
  let bestSecs = Infinity, units = 0;
  (function next(k) {
    if (k === rounds) { console.log(name, units, bestSecs.toFixed(6)); return cb(); }
    fn((u, secs) => { units = u; bestSecs = Math.min(bestSecs, secs); setImmediate(() => next(k + 1)); });
  })(0);
}

best('objects', objects, ROUNDS, () => best('bytes', bytes, ROUNDS, () => {}));
