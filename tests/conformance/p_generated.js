// pipe on generated cases: a Readable piped into one or two Writables (highWaterMarks
// 1, 4 and 16 on each side; each _write completing synchronously, on the next tick or
// on an immediate, by the write's number), fed by generated operations: push, "wait an
// immediate", unpipe the second destination; then push(null). One line per observable: push
// return values with length and flowing, _read and _write calls, pause, resume, drain,
// pipe, unpipe, end, finish and close. A destination unpiped is ended by hand an
// immediate after the source's end. The Rust test draws the same cases from the same
// generator (xorshift32, seed 0x3c6ef372); each case starts on an immediate after every
// stream of the previous one closed.
'use strict';
const { Readable, Writable } = require('stream');
const { log, xorshift, complete, runOps } = require('./trace');

const next = xorshift(0x3c6ef372);
const CASES = 300;
const HWMS = [1, 4, 16];

function runCase(i) {
  if (i === CASES) return;
  const srcHwm = HWMS[next() % HWMS.length];
  const dests = 1 + (next() % 2);
  const destHwm = HWMS[next() % HWMS.length];
  const ops = [];
  for (let k = 1 + (next() % 12); k > 0; k--) {
    const r = next() % 100;
    if (r < 60) ops.push(`p${1 + (next() % 8)}`);
    else if (r < 94 || dests === 1) ops.push('t');
    else ops.push('U1');
  }
  ops.push('n');
  log(`case ${i}: src hwm ${srcHwm} dests ${dests} hwm ${destHwm} ops ${ops.join(' ')}`);
  let closed = 0;
  const onClose = (who) => () => {
    log(`${who} close`);
    if (++closed === dests + 1) setImmediate(() => runCase(i + 1));
  };
  const src = new Readable({
    highWaterMark: srcHwm,
    read(n) {
      log(`src _read ${n}`);
    },
  });
  const srcState = () => `length ${src.readableLength} flowing ${src.readableFlowing}`;
  src.on('pause', () => log('src pause'));
  src.on('resume', () => log('src resume'));
  src.on('close', onClose('src'));
  const ws = [];
  const unpiped = new Set();
  for (let j = 0; j < dests; j++) {
    let handed = 0;
    const w = new Writable({
      highWaterMark: destHwm,
      write(chunk, enc, cb) {
        log(`d${j} _write ${chunk.length}`);
        complete(handed++, cb);
      },
    });
    w.on('drain', () => log(`d${j} drain length ${w.writableLength}`));
    w.on('pipe', () => log(`d${j} pipe`));
    w.on('unpipe', () => log(`d${j} unpipe`));
    w.on('finish', () => log(`d${j} finish`));
    w.on('close', onClose(`d${j}`));
    ws.push(w);
    src.pipe(w);
  }
  src.on('end', () => {
    log('src end');
    setImmediate(() => {
      for (const j of unpiped) ws[j].end();
    });
  });
  runOps(ops, (op) => {
    if (op[0] === 'p') {
      const ret = src.push(Buffer.alloc(Number(op.slice(1)), 'x'));
      log(`push ${op.slice(1)} ${ret} ${srcState()}`);
    } else if (op === 'n') {
      const ret = src.push(null);
      log(`push null ${ret} ${srcState()}`);
    } else if (op[0] === 'U') {
      const j = Number(op.slice(1));
      unpiped.add(j);
      src.unpipe(ws[j]);
      log(`unpipe d${j} ${srcState()}`);
    }
  });
}
runCase(0);
