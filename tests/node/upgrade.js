// The reference for the upgrade suite of tests/http_conformance.rs: requests are
// answered as tests/node/echo.js answers them, after x-upgrade (req.upgrade); an
// `upgrade` request gets `101 Switching Protocols`, a CONNECT `200 Connection
// Established`, each with what the server saw (x-method, x-url, x-upgrade, x-complete,
// x-head: the length of the bytes that followed the head), and from then on the socket
// echoes every byte it receives. A url ending in /end has the server end the socket
// after the head's bytes. Usage: node tests/node/upgrade.js PORT
'use strict';
const http = require('http');
const { echo } = require('./echo');
const port = Number(process.argv[2] || 3000);
const server = http.createServer((req, res) => {
  res.setHeader('x-upgrade', String(req.upgrade));
  echo(req, res);
});
function tunnel(status, req, socket, head) {
  socket.write(
    `HTTP/1.1 ${status}\r\nx-method: ${req.method}\r\nx-url: ${req.url}\r\n` +
      `x-upgrade: ${req.upgrade}\r\nx-complete: ${req.complete}\r\nx-head: ${head.length}\r\n\r\n`,
  );
  if (req.url.endsWith('/end')) {
    socket.end(head);
    return;
  }
  if (head.length) socket.write(head);
  socket.on('data', (d) => socket.write(d));
  socket.on('end', () => socket.end());
}
server.on('upgrade', (req, socket, head) =>
  tunnel(`101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}`, req, socket, head),
);
server.on('connect', (req, socket, head) => tunnel('200 Connection Established', req, socket, head));
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
