// test-stream-backpressure: _read pushes far past the highWaterMark (one 65500-byte chunk
// and 40 of 1 KiB); the source is read only twice ahead and the slow sink drains it.
'use strict';
const { Readable, Writable } = require('stream');
const { log } = require('./trace');
let pushes = 0;
const rs = new Readable({
  read() {
    log('r _read', pushes, 'length', this._readableState.length);
    if (pushes++ === 10) {
      this.push(null);
      return;
    }
    let ret = this.push(Buffer.alloc(65500));
    for (let i = 0; i < 40; i++) ret = this.push(Buffer.alloc(1024));
    log('r pushed ret', ret, 'length', this.readableLength);
  },
});
let writes = 0;
const ws = new Writable({
  write(data, enc, cb) {
    writes++;
    setImmediate(cb);
  },
});
rs.on('pause', () => log('r pause writes', writes, 'wlen', ws.writableLength));
rs.on('resume', () => log('r resume writes', writes));
ws.on('drain', () => log('w drain writes', writes));
rs.on('end', () => log('r end writes', writes));
ws.on('finish', () => log('w finish writes', writes));
ws.on('close', () => log('w close'));
rs.pipe(ws);
