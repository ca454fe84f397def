// test-stream-pipe-flow (second case): a source piped through two object-mode
// PassThroughs of highWaterMark 2, pulled by a wrapper with read() and once('readable').
'use strict';
const { Readable, PassThrough } = require('stream');
const { log } = require('./trace');
let missing = 8;
const rs = new Readable({
  objectMode: true,
  read: () => {
    if (missing--) rs.push(8 - missing);
    else rs.push(null);
  },
});
const pt = rs
  .pipe(new PassThrough({ objectMode: true, highWaterMark: 2 }))
  .pipe(new PassThrough({ objectMode: true, highWaterMark: 2 }));
pt.on('end', () => {
  log('pt end');
  wrapper.push(null);
});
const wrapper = new Readable({
  objectMode: true,
  read: () => {
    process.nextTick(() => {
      let data = pt.read();
      log('wrapper read', data);
      if (data === null) {
        pt.once('readable', () => {
          data = pt.read();
          log('pt readable read', data);
          if (data !== null) wrapper.push(data);
        });
      } else {
        wrapper.push(data);
      }
    });
  },
});
wrapper.resume();
wrapper.on('end', () => log('wrapper end'));
rs.on('end', () => log('rs end'));
