// The reference for tests/http_conformance.rs: the same server as examples/echo.rs, on
// Node's http. Every request gets status 200, its own body back, and the headers
// x-method and x-url. Usage: node tests/node/echo.js PORT
// (tests/node/upgrade.js takes its request handler, `echo`, from here.)
'use strict';
const http = require('http');

function echo(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('x-method', req.method);
    res.setHeader('x-url', req.url);
    res.end(Buffer.concat(chunks));
  });
}
module.exports = { echo };

if (require.main === module) {
  const port = Number(process.argv[2] || 3000);
  const server = http.createServer(echo);
  server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
}
