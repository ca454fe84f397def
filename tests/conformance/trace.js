// Shared by the scenarios: one line per observable event.
'use strict';
const log = (...parts) => console.log(parts.join(' '));
const errName = (e) => (e && (e.code || e.message)) || 'null';
// xorshift32: the generated scenarios draw their cases from it, and their Rust tests from
// the same generator (tests/util/mod.rs, `Xorshift`).
const xorshift = (seed) => () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed;
};
// How a generated scenario's n-th operation completes: synchronously, on the next tick
// or on an immediate (n % 3).
const complete = (n, cb) => {
  if (n % 3 === 0) cb();
  else if (n % 3 === 1) process.nextTick(cb);
  else setImmediate(cb);
};
// Runs a generated case's operations: 't' waits for an immediate; every other one goes
// to op, which returns false to end the case there (tests/util's run_ops is the same).
const runOps = (ops, op, k = 0) => {
  for (; k < ops.length; k++) {
    if (ops[k] === 't') {
      const j = k + 1;
      setImmediate(() => runOps(ops, op, j));
      return;
    }
    if (op(ops[k]) === false) return;
  }
};
module.exports = { log, errName, xorshift, complete, runOps };
