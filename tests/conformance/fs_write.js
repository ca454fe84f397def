// createWriteStream: writes past its highWaterMark return false, 'drain', writev while
// busy, finish, close; the file holds everything in order.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log } = require('./trace');
const file = path.join(os.tmpdir(), `millrace-fs-write-${process.pid}.txt`);
const w = fs.createWriteStream(file, { highWaterMark: 8 });
w.on('open', () => log('w open'));
w.on('ready', () => log('w ready'));
w.on('drain', () => log('w drain'));
w.on('finish', () => log('w finish', 'bytesWritten', w.bytesWritten));
w.on('close', () => { log('w close', fs.readFileSync(file, 'latin1')); fs.unlinkSync(file); });
log('write abc', w.write(Buffer.from('abc')));
log('write defgh', w.write(Buffer.from('defgh')));
log('write ij', w.write(Buffer.from('ij')));
w.end(Buffer.from('k'), () => log('w end cb'));
