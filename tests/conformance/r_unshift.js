// test-stream-readable-unshift: unshift puts data at the front; in object mode each
// unshift goes before the previous one; unshift past the highWaterMark (#27192).
'use strict';
const { Readable } = require('stream');
const { log } = require('./trace');
{
  const readable = new Readable({ read() {} });
  readable.on('data', (chunk) => log('r1 data', chunk.toString()));
  readable.push(Buffer.from('back'));
  readable.unshift(Buffer.from('front'));
  log('r1 length', readable.readableLength);
}
{
  const readable = new Readable({ objectMode: true, read() {} });
  readable.on('data', (chunk) => log('r2 data', chunk));
  for (const chunk of ['a', 'b', 'c', 'd']) log('r2 unshift', chunk, readable.unshift(chunk));
  log('r2 length', readable.readableLength);
}
{
  const highWaterMark = 50;
  const items = new Array(highWaterMark * 2).fill(0).map((_, i) => String(i));
  let reads = 0;
  const stream = new Readable({
    highWaterMark,
    read() {
      reads++;
      while (items.length) {
        const chunk = items.shift();
        if (!items.length) {
          this.push(Buffer.from(chunk));
          this.push(null);
          return;
        }
        if (!this.push(Buffer.from(chunk))) return;
      }
    },
  });
  let total = 0;
  let datas = 0;
  function onRead() {
    let c;
    while (null !== (c = stream.read())) {
      log('r3 read', c.length, 'length', stream.readableLength);
      stream.removeListener('readable', onRead);
      log('r3 unshift', stream.unshift(Buffer.from('a')), 'length', stream.readableLength);
      stream.on('data', (chunk) => {
        datas++;
        total += chunk.length;
      });
      break;
    }
  }
  stream.once('readable', onRead);
  stream.on('end', () => log('r3 end', 'datas', datas, 'total', total, 'reads', reads));
}
