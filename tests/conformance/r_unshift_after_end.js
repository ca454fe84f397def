// unshift() after 'end': ERR_STREAM_UNSHIFT_AFTER_END_EVENT. Before 'end' (ended but
// not yet emitted) unshift is still allowed and the chunk is read.
'use strict';
const { Readable } = require('stream');
const { log, errName } = require('./trace');
const r = new Readable({ read() {} });
r.on('data', (c) => log('r data', c.toString()));
r.on('error', (e) => log('r error', errName(e), 'destroyed', r.destroyed));
r.on('close', () => log('r close'));
r.on('end', () => {
  log('r end');
  log('unshift after end', r.unshift(Buffer.from('x')), 'destroyed', r.destroyed);
});
r.push(Buffer.from('a'));
r.push(null);

const r2 = new Readable({ read() {} });
r2.push(Buffer.from('a'));
r2.push(null);
log('r2 unshift after eof', r2.unshift(Buffer.from('z')), 'length', r2.readableLength);
r2.on('data', (c) => log('r2 data', c.toString()));
r2.on('end', () => log('r2 end'));
r2.on('error', (e) => log('r2 error', errName(e)));
