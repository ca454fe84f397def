// pipeline on generated cases: a Readable, 0 to 2 PassThroughs and a Writable (each
// _write completing synchronously, on the next tick or on an immediate, by the write's
// number), highWaterMarks 1, 4 and 16, fed by generated operations: push, "wait an
// immediate", destroy one of the streams with an error or without one (the last
// operation run), then push(null). One line per observable: push return values, _read
// and _write calls, every stream's error and close, and the pipeline callback. The
// Rust test draws the same cases from the same generator (xorshift32, seed
// 0x510e527f); each case starts on an immediate after the callback and every close.
'use strict';
const { Readable, PassThrough, Writable, pipeline } = require('stream');
const { log, errName, xorshift, complete, runOps } = require('./trace');

const next = xorshift(0x510e527f);
const CASES = 300;
const HWMS = [1, 4, 16];

function runCase(i) {
  if (i === CASES) return;
  const mids = next() % 3;
  const hwm = HWMS[next() % HWMS.length];
  const ops = [];
  for (let k = 1 + (next() % 10); k > 0; k--) {
    const r = next() % 100;
    if (r < 55) ops.push(`p${1 + (next() % 8)}`);
    else if (r < 80) ops.push('t');
    else if (r < 86) ops.push('Xs');
    else if (r < 90) ops.push('Xm');
    else if (r < 94) ops.push('Xd');
    else if (r < 97) ops.push('Ds');
    else ops.push('Dd');
  }
  ops.push('n');
  log(`case ${i}: mids ${mids} hwm ${hwm} ops ${ops.join(' ')}`);
  let closes = 0;
  let called = false;
  const done = () => {
    if (called && closes === mids + 2) setImmediate(() => runCase(i + 1));
  };
  const watch = (name, s) => {
    s.on('error', (e) => log(`${name} error ${errName(e)}`));
    s.on('close', () => {
      log(`${name} close`);
      closes++;
      done();
    });
    return s;
  };
  const src = watch('src', new Readable({ highWaterMark: hwm, read(n) { log(`src _read ${n}`); } }));
  const ms = [];
  for (let k = 0; k < mids; k++) ms.push(watch(`m${k}`, new PassThrough({ highWaterMark: hwm })));
  let handed = 0;
  const dst = watch('dst', new Writable({
    highWaterMark: hwm,
    write(chunk, enc, cb) {
      log(`dst _write ${chunk.length}`);
      complete(handed++, cb);
    },
  }));
  pipeline(src, ...ms, dst, (err) => {
    log(`pipeline cb ${errName(err)}`);
    called = true;
    done();
  });
  runOps(ops, (op) => {
    if (op[0] === 'p') {
      const ret = src.push(Buffer.alloc(Number(op.slice(1)), 'x'));
      log(`push ${op.slice(1)} ${ret}`);
    } else if (op === 'n') {
      const ret = src.push(null);
      log(`push null ${ret}`);
    } else if (op[0] === 'X' || op[0] === 'D') {
      const target = op[1] === 's' ? src : op[1] === 'd' ? dst : ms[0] || src;
      target.destroy(op[0] === 'X' ? new Error('boom') : undefined);
      log(`destroy ${op}`);
      return false;
    }
  });
}
runCase(0);
