// Transform on generated cases: _transform pushes 0, 1 or 2 pieces per chunk (by the
// chunk's length) and completes synchronously, on the next tick or on an immediate (by
// the chunk's number); _flush pushes one piece and completes the same way. Writes, end
// with a last chunk, read(), pause, resume, "wait an immediate" and a data listener
// attached late drive it, then end(); highWaterMarks 1, 4 and 16 on each side.
// One line per observable: write return values with both lengths, callbacks,
// _transform and _flush calls, data, drain, prefinish, finish, end and close. The Rust
// test draws the same cases from the same generator (xorshift32, seed 0xa54ff53a).
'use strict';
const { Transform } = require('stream');
const { log, errName, xorshift, complete, runOps } = require('./trace');

const next = xorshift(0xa54ff53a);
const CASES = 300;
const HWMS = [1, 4, 16];

function runCase(i) {
  if (i === CASES) return;
  const rHwm = HWMS[next() % HWMS.length];
  const wHwm = HWMS[next() % HWMS.length];
  const ops = [];
  for (let k = 1 + (next() % 10); k > 0; k--) {
    const r = next() % 100;
    if (r < 50) ops.push(`w${1 + (next() % 6)}`);
    else if (r < 75) ops.push('t');
    else if (r < 82) ops.push('D');
    else if (r < 88) ops.push('r');
    else if (r < 92) ops.push('P');
    else if (r < 96) ops.push('R');
    else ops.push(`E${1 + (next() % 6)}`);
  }
  ops.push('e', 'D', 'R');
  log(`case ${i}: readable hwm ${rHwm} writable hwm ${wHwm} ops ${ops.join(' ')}`);
  let handed = 0;
  const x = new Transform({
    readableHighWaterMark: rHwm,
    writableHighWaterMark: wHwm,
    transform(chunk, enc, cb) {
      log(`_transform ${chunk.length}`);
      for (let k = 0; k < chunk.length % 3; k++) {
        const ret = this.push(Buffer.alloc(chunk.length + k, 'y'));
        log(`  push ${chunk.length + k} ${ret}`);
      }
      complete(handed++, cb);
    },
    flush(cb) {
      log('_flush');
      this.push(Buffer.from('f'));
      complete(handed++, cb);
    },
  });
  const state = () => `writable ${x.writableLength} readable ${x.readableLength}`;
  x.on('drain', () => log(`drain ${state()}`));
  x.on('prefinish', () => log('prefinish'));
  x.on('finish', () => log('finish'));
  x.on('end', () => log('end'));
  x.on('error', (e) => log(`error ${errName(e)}`));
  x.on('close', () => {
    log('close');
    setImmediate(() => runCase(i + 1));
  });
  let consuming = false;
  let written = 0;
  runOps(ops, (op) => {
    if (op[0] === 'w') {
      const id = written++;
      const ret = x.write(Buffer.alloc(Number(op.slice(1)), 'x'), (e) => log(`cb ${id} ${errName(e)}`));
      log(`write ${id} ${ret} ${state()}`);
    } else if (op === 'e') {
      x.end();
      log(`end() ${state()}`);
    } else if (op[0] === 'E') {
      x.end(Buffer.alloc(Number(op.slice(1)), 'x'));
      log(`end(${op.slice(1)}) ${state()}`);
    } else if (op === 'r') {
      const c = x.read();
      log(`read() ${c === null ? 'null' : c.length} ${state()}`);
    } else if (op === 'P') {
      x.pause();
      log(`pause() ${state()}`);
    } else if (op === 'R') {
      x.resume();
      log(`resume() ${state()}`);
    } else if (op === 'D') {
      if (!consuming) {
        consuming = true;
        x.on('data', (c) => log(`data ${c.length}`));
        log('data listener');
      }
    }
  });
}
runCase(0);
