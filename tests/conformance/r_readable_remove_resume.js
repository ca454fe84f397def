// test-stream-readable-readable-then-resume / test-stream-readable-resumeScheduled:
// removing the 'readable' listener and calling resume() in the same tick flows (the
// listener bookkeeping catches up on the next tick); a 'data' listener that replaces a
// removed 'readable' listener gets everything.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const st = (r) => `flowing ${r.readableFlowing} readableListening ${r._readableState.readableListening}` +
  ` resumeScheduled ${r._readableState.resumeScheduled}`;
let first = false;
const s = new Readable({
  objectMode: true,
  highWaterMark: 1,
  read() {
    if (!first) {
      first = true;
      this.push('hello');
      return;
    }
    this.push(null);
  },
});
const onReadable = () => log('s readable (must not happen)');
s.on('readable', onReadable);
s.on('end', () => log('s end'));
s.on('data', (d) => log('s data', d, st(s)));
log('s listeners', st(s));
s.removeListener('readable', onReadable);
s.resume();
log('s resumed', st(s));
process.nextTick(() => log('s tick', st(s)));

const r = new Readable({ read() {} });
r.push(Buffer.from('a'));
const onR = () => {
  log('r readable', st(r));
  r.removeListener('readable', onR);
  r.on('data', (c) => log('r data', c.toString(), st(r)));
  log('r switched', st(r));
  process.nextTick(() => {
    log('r tick', st(r));
    r.push(Buffer.from('b'));
    r.push(null);
  });
};
r.on('readable', onR);
r.on('end', () => log('r end', st(r)));
