// test-stream2-transform (object transforms): object-mode transforms that map each value
// (stringify), read back one value per write with read(); one more read() after end()
// brings 'end' on the next tick.
'use strict';
const { Transform, PassThrough } = require('stream');
const { log } = require('./trace');
const js = new Transform({ objectMode: true });
js._transform = function(data, encoding, cb) {
  js.push(JSON.stringify(data));
  cb();
};
let ended = false;
js.on('end', () => { ended = true; log('js end'); });
for (const obj of [1, true, false, 0, 'foo', '', 100]) {
  js.write(obj);
  log('js read', js.read(), 'length', js.readableLength);
}
js.end();
js.read();
log('sync ended', ended);
process.nextTick(() => log('tick ended', ended));

const pt = new PassThrough({ objectMode: true });
pt.write(1);
pt.write(2);
pt.write(3);
pt.end();
log('pt hwm', pt.readableHighWaterMark, pt.writableHighWaterMark, 'objectMode', pt.readableObjectMode);
log('pt read', pt.read(), pt.read(), pt.read(), String(pt.read()));
pt.on('end', () => log('pt end'));
