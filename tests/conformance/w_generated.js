// Writable state machine on generated operation sequences: write (each _write
// completing synchronously, on the next tick or on an immediate, by the write's
// number), cork, uncork, end (with a callback, with and without a last chunk), destroy
// (with and without an error) and "wait an immediate", on streams with and without
// _writev and _final (completing as the writes do) and with highWaterMarks 1, 4 and 16. One line per
// observable: write return values with length and writableNeedDrain, callbacks,
// _write/_writev calls, drain, prefinish, finish, error and close. The Rust test draws
// the same cases from the same generator (xorshift32, seed 0x6a09e667). Each case
// starts on an immediate after the previous one's close.
'use strict';
const { Writable } = require('stream');
const { log, errName, xorshift, complete, runOps } = require('./trace');

const next = xorshift(0x6a09e667);
const CASES = 300;
const HWMS = [1, 4, 16];

function runCase(i) {
  if (i === CASES) return;
  const hwm = HWMS[next() % HWMS.length];
  const withWritev = next() % 2 === 1;
  const withFinal = next() % 2 === 1;
  const ops = [];
  for (let k = 1 + (next() % 12); k > 0; k--) {
    const r = next() % 100;
    if (r < 45) ops.push(`w${1 + (next() % 8)}`);
    else if (r < 55) ops.push('c');
    else if (r < 65) ops.push('u');
    else if (r < 80) ops.push('t');
    else if (r < 88) ops.push('e');
    else if (r < 94) ops.push(`E${1 + (next() % 8)}`);
    else if (r < 97) ops.push('d');
    else ops.push('X');
  }
  ops.push('e');
  log(`case ${i}: hwm ${hwm} writev ${withWritev} final ${withFinal} ops ${ops.join(' ')}`);
  // The n-th chunk handed to _write/_writev (or _final) completes by n (trace.js).
  let handed = 0;
  const opts = {
    highWaterMark: hwm,
    write(chunk, enc, cb) {
      log(`_write ${chunk.length}`);
      complete(handed++, cb);
    },
  };
  if (withWritev) {
    opts.writev = function (chunks, cb) {
      log(`_writev ${chunks.map((c) => c.chunk.length).join(',')}`);
      complete(handed++, cb);
    };
  }
  if (withFinal) {
    opts.final = function (cb) {
      log('_final');
      complete(handed++, cb);
    };
  }
  const w = new Writable(opts);
  const state = () => `length ${w.writableLength} needDrain ${w.writableNeedDrain}`;
  w.on('drain', () => log(`drain ${state()}`));
  w.on('prefinish', () => log('prefinish'));
  w.on('finish', () => log('finish'));
  w.on('error', (e) => log(`error ${errName(e)}`));
  w.on('close', () => {
    log('close');
    setImmediate(() => runCase(i + 1));
  });
  let written = 0;
  runOps(ops, (op) => {
    if (op[0] === 'w') {
      const id = written++;
      const ret = w.write(Buffer.alloc(Number(op.slice(1)), 'x'), (e) => log(`cb ${id} ${errName(e)}`));
      log(`write ${id} ${ret} ${state()}`);
    } else if (op === 'c') {
      w.cork();
    } else if (op === 'u') {
      w.uncork();
    } else if (op === 'e') {
      w.end((e) => log(`end cb ${errName(e)}`));
      log(`end ${state()}`);
    } else if (op[0] === 'E') {
      w.end(Buffer.alloc(Number(op.slice(1)), 'x'), (e) => log(`end cb ${errName(e)}`));
      log(`end(${op.slice(1)}) ${state()}`);
    } else if (op === 'd') {
      w.destroy();
      log('destroy');
    } else if (op === 'X') {
      w.destroy(new Error('boom'));
      log('destroy(boom)');
    }
  });
}
runCase(0);
