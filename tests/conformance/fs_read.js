// createReadStream with start/end and a small highWaterMark: chunk sizes, open/ready/end/close.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log } = require('./trace');
const file = path.join(os.tmpdir(), `millrace-fs-read-${process.pid}.bin`);
fs.writeFileSync(file, Buffer.alloc(100000, 'abcdefghij'));
const r = fs.createReadStream(file, { start: 10, end: 40009, highWaterMark: 16384 });
log('pending', r.pending);
r.on('open', () => log('r open'));
r.on('ready', () => log('r ready', 'pending', r.pending));
r.on('data', (c) => log('r data', c.length, c.toString('latin1', 0, 3)));
r.on('end', () => log('r end', 'bytesRead', r.bytesRead));
r.on('close', () => { log('r close'); fs.unlinkSync(file); });
