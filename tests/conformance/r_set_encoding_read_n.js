// test-stream2-set-encoding: a reader that pushes 100 'a's from a timer, read in fixed
// sizes with setEncoding('utf8'), setEncoding('hex') with read(10) and read(13), and
// the encoding option.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
function testReader(len, opts) {
  let pos = 0;
  return new Readable({
    ...opts,
    read(n) {
      setTimeout(() => {
        if (pos >= len) {
          this.push(null);
          return this.push(null);
        }
        n = Math.min(n, len - pos);
        pos += n;
        log('push', n);
        return this.push(Buffer.alloc(n, 'a'));
      }, 1);
    },
  });
}
const tests = [
  ['setEncoding utf8', 'utf8', null, 10],
  ['setEncoding hex', 'hex', null, 10],
  ['setEncoding hex with read(13)', 'hex', null, 13],
  ['encoding: hex', null, 'hex', 10],
  ['encoding: latin1 with read(7)', null, 'latin1', 7],
];
function run() {
  const next = tests.shift();
  if (!next) return log('ok');
  const [name, setEnc, optEnc, size] = next;
  log('#', name);
  const tr = testReader(100, optEnc ? { encoding: optEnc } : {});
  if (setEnc) tr.setEncoding(setEnc);
  const out = [];
  tr.on('readable', () => {
    log('readable', 'length', tr.readableLength);
    let chunk;
    while (null !== (chunk = tr.read(size))) out.push(chunk);
  });
  tr.on('end', () => {
    log('end', out.length, 'chunks', out.join('|'));
    run();
  });
}
process.nextTick(run);
