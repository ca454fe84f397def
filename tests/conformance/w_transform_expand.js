// test-stream2-transform (asymmetric transform, expand): each chunk is pushed twice from
// timers before the callback; after 'finish' the output is read back five bytes at a time.
'use strict';
const { Transform } = require('stream');
const { log } = require('./trace');
const pt = new Transform();
pt._transform = function(chunk, encoding, cb) {
  log('pt _transform', chunk.toString());
  setTimeout(function() {
    pt.push(chunk);
    setTimeout(function() {
      pt.push(chunk);
      cb();
    }, 10);
  }, 10);
};
for (const s of ['foog', 'bark', 'bazy', 'kuel']) {
  log('write', s, pt.write(Buffer.from(s)));
}
pt.end();
pt.on('finish', function() {
  log('pt finish readableLength', pt.readableLength);
  let c;
  while ((c = pt.read(5)) !== null) log('read', c.toString());
  log('read null, ended', pt.readableEnded);
});
pt.on('end', () => log('pt end'));
pt.on('close', () => log('pt close'));
