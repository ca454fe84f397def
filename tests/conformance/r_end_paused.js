// test-stream-end-paused: a paused, empty stream that reached EOF still emits 'end'
// once resumed; no data.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
const stream = new Readable();
let calledRead = 0;
stream._read = function() {
  calledRead++;
  log('_read', calledRead);
  this.push(null);
};
stream.on('data', () => log('data (must not happen)'));
stream.pause();
log('paused', stream.isPaused(), 'flowing', stream.readableFlowing);
setImmediate(() => {
  log('resume', 'ended', stream._readableState.ended, 'length', stream.readableLength);
  stream.on('end', () => log('end', 'calledRead', calledRead));
  stream.on('close', () => log('close'));
  stream.resume();
  log('resumed', stream.isPaused(), 'flowing', stream.readableFlowing);
});
