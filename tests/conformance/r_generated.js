// Readable state machine on generated operation sequences: push (from outside _read),
// read(n) with n none, 0, 1, 3 or 8, unshift, pause, resume, setEncoding, destroy (the
// last operation run), "wait an immediate", then
// push(null) and resume; consumed by a 'readable' listener that reads until null, a
// 'data' listener, or only by the operations; highWaterMarks 0, 1, 4 and 16. One line per
// observable: push and unshift return values with length and flowing, what read
// returned, _read calls, readable, data, pause, resume, end and close. The Rust test
// draws the same cases from the same generator (xorshift32, seed 0xbb67ae85). Each
// case starts on an immediate after the previous one's close.
'use strict';
const { Readable } = require('stream');
const { log, xorshift, runOps } = require('./trace');

const next = xorshift(0xbb67ae85);
const CASES = 300;
const HWMS = [0, 1, 4, 16];
const MODES = ['readable', 'data', 'manual'];
const READS = [undefined, 0, 1, 3, 8];

function runCase(i) {
  if (i === CASES) return;
  const hwm = HWMS[next() % HWMS.length];
  const mode = MODES[next() % MODES.length];
  const ops = [];
  for (let k = 1 + (next() % 12); k > 0; k--) {
    const r = next() % 100;
    if (r < 40) ops.push(`p${1 + (next() % 6)}`);
    else if (r < 60) {
      // Node 20.20 can leave an empty string at the head of a decoded stream's buffer
      // when read(n) ends exactly at a chunk's end, and a flowing stream then stalls
      // with data left: read(n > 0) after setEncoding is not generated.
      const n = READS[next() % READS.length];
      ops.push(`r${n === undefined || (n > 0 && ops.includes('E')) ? '' : n}`);
    }
    else if (r < 66) {
      // Node 20 puts a Buffer unshifted after setEncoding into the buffer of strings
      // undecoded, and a flowing stream can then stall with data left: not generated.
      const u = `u${1 + (next() % 3)}`;
      ops.push(ops.includes('E') ? 't' : u);
    }
    else if (r < 74) ops.push('P');
    else if (r < 82) ops.push('R');
    else if (r < 86) ops.push('E');
    else if (r < 88) ops.push('D');
    else ops.push('t');
  }
  ops.push('n', 'R');
  log(`case ${i}: hwm ${hwm} mode ${mode} ops ${ops.join(' ')}`);
  const r = new Readable({
    highWaterMark: hwm,
    read(n) {
      log(`_read ${n}`);
    },
  });
  const state = () => `length ${r.readableLength} flowing ${r.readableFlowing}`;
  const shown = (c) => (c === null ? 'null' : c.length);
  if (mode === 'readable') {
    r.on('readable', () => {
      log(`readable ${state()}`);
      let c;
      do {
        c = r.read();
        log(`  read() ${shown(c)}`);
      } while (c !== null);
    });
  } else if (mode === 'data') {
    r.on('data', (c) => log(`data ${c.length}`));
  }
  r.on('pause', () => log('pause'));
  r.on('resume', () => log('resume'));
  r.on('end', () => log('end'));
  r.on('close', () => {
    log('close');
    setImmediate(() => runCase(i + 1));
  });
  runOps(ops, (op) => {
    const arg = op.length > 1 ? Number(op.slice(1)) : undefined;
    if (op[0] === 'p') {
      const ret = r.push(Buffer.alloc(arg, 'x'));
      log(`push ${arg} ${ret} ${state()}`);
    } else if (op === 'n') {
      const ret = r.push(null);
      log(`push null ${ret} ${state()}`);
    } else if (op[0] === 'r') {
      const c = r.read(arg);
      log(`read(${arg ?? ''}) ${shown(c)} ${state()}`);
    } else if (op[0] === 'u') {
      r.unshift(Buffer.alloc(arg, 'u'));
      log(`unshift ${arg} ${state()}`);
    } else if (op === 'P') {
      r.pause();
    } else if (op === 'R') {
      r.resume();
    } else if (op === 'E') {
      r.setEncoding('utf8');
      log(`setEncoding ${state()}`);
    } else if (op === 'D') {
      r.destroy();
      log(`destroy ${state()}`);
      return false;
    }
  });
}
runCase(0);
