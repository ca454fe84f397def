// createWriteStream on generated cases: writes of 1 to 40 bytes (each with a callback),
// cork and uncork, then end with or without a last chunk; highWaterMarks 1, 8 and 64.
// One line per observable: write return values with writableLength, callbacks, drain,
// finish with bytesWritten, close with the file's length and a checksum of its bytes.
// Every operation runs at once (no waits: the thread pool's timing stays out of it).
// The Rust test draws the same cases from the same generator (xorshift32, seed
// 0x5be0cd19).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log, errName, xorshift } = require('./trace');

const next = xorshift(0x5be0cd19);
const CASES = 100;
const HWMS = [1, 8, 64];
const file = path.join(os.tmpdir(), `millrace-fs-wgen-${process.pid}.bin`);

function runCase(i) {
  if (i === CASES) return;
  const hwm = HWMS[next() % HWMS.length];
  const ops = [];
  for (let k = 1 + (next() % 10); k > 0; k--) {
    const r = next() % 100;
    if (r < 70) ops.push(`w${1 + (next() % 40)}`);
    else if (r < 85) ops.push('c');
    else ops.push('u');
  }
  ops.push(next() % 2 === 0 ? 'e' : `E${1 + (next() % 40)}`);
  log(`case ${i}: hwm ${hwm} ops ${ops.join(' ')}`);
  const w = fs.createWriteStream(file, { highWaterMark: hwm });
  const state = () => `length ${w.writableLength}`;
  w.on('drain', () => log(`drain ${state()}`));
  w.on('finish', () => log(`finish bytesWritten ${w.bytesWritten}`));
  w.on('close', () => {
    const data = fs.readFileSync(file);
    let sum = 0;
    for (const b of data) sum = (sum * 31 + b) % 65521;
    log(`close file ${data.length} sum ${sum}`);
    fs.unlinkSync(file);
    setImmediate(() => runCase(i + 1));
  });
  let written = 0;
  for (const op of ops) {
    if (op[0] === 'w' || op[0] === 'E') {
      const id = written++;
      const chunk = Buffer.alloc(Number(op.slice(1)), String.fromCharCode(97 + (id % 26)));
      if (op[0] === 'w') {
        const ret = w.write(chunk, (e) => log(`cb ${id} ${errName(e)}`));
        log(`write ${id} ${ret} ${state()}`);
      } else {
        w.end(chunk, () => log('end cb'));
        log(`end(${chunk.length}) ${state()}`);
      }
    } else if (op === 'e') {
      w.end(() => log('end cb'));
      log(`end ${state()}`);
    } else if (op === 'c') {
      w.cork();
    } else {
      w.uncork();
    }
  }
}
runCase(0);
