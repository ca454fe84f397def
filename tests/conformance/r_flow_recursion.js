// test-stream-readable-flow-recursion: read(5000) on a highWaterMark-2 stream raises
// the highWaterMark to 8192 and reads everything in two _read calls.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const stream = new Readable({ highWaterMark: 2 });
let reads = 0;
let total = 5000;
stream._read = function(size) {
  reads++;
  size = Math.min(size, total);
  total -= size;
  log('_read', reads, 'size', size, 'hwm', stream.readableHighWaterMark);
  if (size === 0) stream.push(null);
  else stream.push(Buffer.alloc(size));
};
let depth = 0;
function flow(size, callback) {
  depth += 1;
  const chunk = stream.read(size);
  log('flow read', chunk ? chunk.length : 'null', 'depth', depth);
  if (!chunk) stream.once('readable', () => flow(size, callback));
  else callback(chunk);
  depth -= 1;
  log(`flow(${depth}): exit`);
}
flow(5000, (chunk) => {
  log(`complete (${depth})`, chunk.length, 'reads', reads);
  setImmediate(() => log('later', 'reads', reads, 'hwm', stream.readableHighWaterMark,
    'length', stream._readableState.length, 'depth', depth));
});
