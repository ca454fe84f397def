// A client writes past its highWaterMark to a server that reads slowly: write() returns
// false, 'drain' follows; the server counts every byte; both sides close cleanly.
'use strict';
const net = require('net');
const { log } = require('./trace');
const CHUNK = 64 * 1024, CHUNKS = 64;
const server = net.createServer((sock) => {
  let got = 0;
  sock.pause();
  setTimeout(() => sock.resume(), 20);
  sock.on('data', (d) => { got += d.length; });
  sock.on('end', () => { log('server end', got); sock.end(); });
  sock.on('close', (hadError) => { log('server socket close', hadError); server.close(() => log('server close')); });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    log('client connect');
    let sent = 0, falses = 0;
    function more() {
      while (sent < CHUNKS) {
        sent++;
        if (!c.write(Buffer.alloc(CHUNK, 120))) { falses++; if (falses === 1) log('client write false'); c.once('drain', () => { if (falses === 1) log('client drain'); more(); }); return; }
      }
      c.end(() => log('client end cb'));
    }
    more();
  });
  c.on('end', () => log('client end'));
  c.on('close', (hadError) => log('client close', hadError));
});
