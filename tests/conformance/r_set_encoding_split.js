// string_decoder through a Readable, where the pushes split the bytes: pseudo-random
// byte strings (characters, lone lead, continuation and never-valid bytes) pushed in
// pseudo-random pieces (empty ones too) into a flowing Readable with
// setEncoding('utf8'), then push(null); one line per case: the bytes, the cuts, and
// every 'data' chunk in hex. The Rust test draws the same cases from the same generator
// (xorshift32, seed 0x9e3779b9). Cases run one after another, each from the last 'end'.
'use strict';
const { Readable } = require('stream');
const { log, xorshift } = require('./trace');

const next = xorshift(0x9e3779b9);
// Single bytes, whole characters (2, 3 and 4 bytes, a BOM) and sequences that start
// well and go wrong (a surrogate, an overlong and an out-of-range second byte).
const POOL = [[0x61], [0x00], [0x7f], [0x80], [0x9f], [0xbf], [0xc0], [0xc2], [0xdf], [0xe0], [0xe2], [0xed],
  [0xf0], [0xf4], [0xf5], [0xff], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xef, 0xbb, 0xbf],
  [0xed, 0xa0, 0x80], [0xe0, 0x9f], [0xf4, 0x90]];
const CASES = 500;
const hex = (b) => Buffer.from(b).toString('hex');

function runCase(i) {
  if (i === CASES) return;
  const bytes = [];
  for (let k = 1 + (next() % 10); k > 0; k--) bytes.push(...POOL[next() % POOL.length]);
  const len = bytes.length;
  const cuts = [];
  for (let k = next() % 4; k > 0; k--) cuts.push(next() % (len + 1));
  cuts.sort((a, b) => a - b);
  const chunks = [];
  const r = new Readable({ read() {} });
  r.setEncoding('utf8');
  r.on('data', (c) => chunks.push(hex(Buffer.from(c, 'utf8'))));
  r.on('end', () => {
    log(`case ${i}: ${hex(bytes)} cuts [${cuts.join(',')}] data ${chunks.join(' ') || '-'}`);
    runCase(i + 1);
  });
  let from = 0;
  for (const c of [...cuts, len]) {
    r.push(Buffer.from(bytes.slice(from, c)));
    from = c;
  }
  r.push(null);
}
runCase(0);
