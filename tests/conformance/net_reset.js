// The server resets the connection: the client sees ECONNRESET, then close(hadError=true).
'use strict';
const net = require('net');
const { log, errName } = require('./trace');
const server = net.createServer((sock) => {
  sock.once('data', (d) => {
    log('server data', d.toString());
    sock.resetAndDestroy();
    server.close(() => log('server close'));
  });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    log('client connect');
    c.write('hello');
  });
  c.on('data', (d) => log('client data', d.length));
  c.on('end', () => log('client end'));
  c.on('error', (e) => log('client error', errName(e), 'destroyed', c.destroyed));
  c.on('close', (hadError) => log('client close', hadError));
});
