// The HTTP benchmark's Node server (scripts/bench-http): the same response as
// examples/hello.rs and benches/hyper-hello: status 200, `hello world`, text/plain.
//   node benches/node/hello.js 3000
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 3000);
http
  .createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('hello world');
  })
  .listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
