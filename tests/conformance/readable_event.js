// test-stream-readable-event: a 'readable' listener switches to paused mode; read() pulls.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const r = new Readable({ highWaterMark: 3, read() {} });
r.push(Buffer.from('abc'));
r.push(Buffer.from('de'));
log('pushed', 'length', r.readableLength);
r.on('readable', () => {
  log('r readable', 'length', r.readableLength);
  let c;
  while ((c = r.read()) !== null) log('r read', c.toString());
  if (!r.readableEnded && r.readableLength === 0 && !r._readableState.ended) {
    setImmediate(() => { log('push fgh + end'); r.push(Buffer.from('fgh')); r.push(null); });
  }
});
r.on('end', () => log('r end'));
r.on('close', () => log('r close'));
log('flowing', r.readableFlowing);
