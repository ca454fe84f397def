// createReadStream on generated cases: file sizes 0 to 70,000 bytes, start and end
// (inclusive) inside, at or past the file's end or left out, highWaterMarks 1 to 64 KiB
// (raised to 64 KiB where a case would make more than 200 chunks), read by a 'data'
// listener or by read() in 'readable'. One line per chunk (length, first bytes), then
// end with bytesRead, and close. The Rust test draws the same cases from the same
// generator (xorshift32, seed 0x1f83d9ab) and reads the same files.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log, xorshift } = require('./trace');

const next = xorshift(0x1f83d9ab);
const CASES = 200;
const SIZES = [0, 1, 10, 100, 1000, 70000];
const HWMS = [1, 3, 16, 100, 1024, 65536];
const files = SIZES.map((size) => {
  const file = path.join(os.tmpdir(), `millrace-fs-gen-${process.pid}-${size}.bin`);
  fs.writeFileSync(file, Buffer.alloc(size, 'abcdefghij'));
  return file;
});

function runCase(i) {
  if (i === CASES) {
    files.forEach((f) => fs.unlinkSync(f));
    return;
  }
  const s = next() % SIZES.length;
  const size = SIZES[s];
  const start = next() % 3 === 0 ? undefined : next() % (size + 2);
  const from = start ?? 0;
  const end = next() % 3 === 0 ? undefined : from + (next() % (size + 2));
  let hwm = HWMS[next() % HWMS.length];
  const last = Math.min(end ?? Infinity, size - 1);
  if ((last - from + 1) / hwm > 200) hwm = 65536;
  const readable = next() % 2 === 1;
  log(`case ${i}: size ${size} start ${start} end ${end} hwm ${hwm} ${readable ? 'readable' : 'data'}`);
  const r = fs.createReadStream(files[s], { start, end, highWaterMark: hwm });
  const shown = (c) => `${c.length} ${c.toString('latin1', 0, 3)}`;
  if (readable) {
    r.on('readable', () => {
      let c;
      while ((c = r.read()) !== null) log(`read ${shown(c)}`);
    });
  } else {
    r.on('data', (c) => log(`data ${shown(c)}`));
  }
  r.on('end', () => log(`end bytesRead ${r.bytesRead}`));
  r.on('close', () => {
    log('close');
    setImmediate(() => runCase(i + 1));
  });
}
runCase(0);
