// test-stream2-transform (complex transform behavior): highWaterMark 3; the second chunk
// is held back by the transform and pushed with the next one; writes to the full stream
// wait for read(), which releases the held write callback; no stall.
'use strict';
const { Transform } = require('stream');
const { log } = require('./trace');
let count = 0;
let saved = null;
const pt = new Transform({ highWaterMark: 3 });
pt._transform = function(c, e, cb) {
  log('pt _transform', c.toString(), 'readableLength', pt.readableLength);
  if (count++ === 1) {
    saved = c;
  } else {
    if (saved) {
      pt.push(saved);
      saved = null;
    }
    pt.push(c);
  }
  cb();
};
pt.once('readable', function() {
  log('pt readable length', pt.readableLength);
  process.nextTick(function() {
    log('write d', pt.write(Buffer.from('d')), 'writableLength', pt.writableLength);
    log('write ef', pt.write(Buffer.from('ef'), () => {
      log('ef cb');
      pt.end();
    }), 'writableLength', pt.writableLength);
    log('read', String(pt.read()), 'writableLength', pt.writableLength);
    log('read', String(pt.read()));
  });
});
pt.on('finish', () => log('pt finish'));
pt.on('end', () => log('pt end'));
log('write abc', pt.write(Buffer.from('abc')), 'readableLength', pt.readableLength);
