// test-stream-readable-pause-and-resume: on('data') -> pause -> setImmediate ->
// remove the listener, add a new one, resume: no data while paused, every object once.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
let ticks = 18;
let expectedData = 19;
let n = 0;
const rs = new Readable({
  objectMode: true,
  read: () => {
    if (ticks-- > 0) return process.nextTick(() => rs.push(n++));
    rs.push(n++);
    rs.push(null);
  },
});
rs.on('end', () => log('end'));
rs.on('pause', () => log('pause'));
readAndPause();
function readAndPause() {
  let calls = 0;
  const ondata = (data) => {
    calls++;
    log('data', data, 'calls', calls, 'length', rs.readableLength);
    rs.pause();
    expectedData--;
    if (expectedData <= 0) return;
    setImmediate(function() {
      rs.removeListener('data', ondata);
      readAndPause();
      rs.resume();
    });
  };
  rs.on('data', ondata);
}
