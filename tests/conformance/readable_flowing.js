// A pull source in flowing mode: data events in order, then end, then close.
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
let n = 0;
const r = new Readable({
  read(size) {
    n++;
    log('r _read', n, size);
    if (n <= 3) this.push(Buffer.from('chunk' + n));
    else this.push(null);
  },
});
r.on('data', (c) => log('r data', c.toString(), 'flowing', r.readableFlowing));
r.on('end', () => log('r end', 'readableEnded', r.readableEnded));
r.on('close', () => log('r close', 'destroyed', r.destroyed));
r.on('pause', () => log('r pause'));
r.on('resume', () => log('r resume'));
log('sync done', 'flowing', r.readableFlowing);
