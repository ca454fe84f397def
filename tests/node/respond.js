// The reference for tests/http_conformance.rs's respond suite: the request's query
// directs the answer (the same handler is in the Rust test, `respond`).
//   s: status; w: comma-separated writes; e: the chunk given to end; wh: writeHead first;
//   h: comma-separated cl (a correct Content-Length), te (Transfer-Encoding: chunked),
//      close / ka (a Connection header), nodate (sendDate off), trailer (a trailer),
//      trh (a Trailer header), sc (two Set-Cookie values), rconn / rcl / rte / rdate
//      (removeHeader of Connection, Content-Length, Transfer-Encoding, Date);
//      proc (writeProcessing), hints (writeEarlyHints: two links and x-hint), flush
//      (flushHeaders), these three after writeHead and before the writes;
//      cw / tw (Connection: keep-alive;close, Transfer-Encoding: gzip;chunked: Node's
//      word regexes), sh (setHeaders with a Map holding set-cookie), uq / uc (X-U and
//      Connection set to two values: both are uniqueHeaders of this server), rcc
//      (removeHeader of Connection, then Connection: close);
//   m: the status message.
// The request body is never read. Usage: node tests/node/respond.js PORT
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 3000);
const server = http.createServer({ uniqueHeaders: ['x-u', 'Connection'] }, (req, res) => {
  const q = new URLSearchParams(req.url.split('?')[1] || '');
  const list = (k) => (q.get(k) || '').split(',').filter(Boolean);
  const status = Number(q.get('s') || 200);
  const writes = list('w');
  const end = q.get('e') || '';
  const h = list('h');
  res.statusCode = status;
  const total = writes.join('').length + end.length;
  if (h.includes('cl')) res.setHeader('Content-Length', total);
  if (h.includes('te')) res.setHeader('Transfer-Encoding', 'chunked');
  if (h.includes('close')) res.setHeader('Connection', 'close');
  if (h.includes('ka')) res.setHeader('Connection', 'keep-alive');
  if (h.includes('nodate')) res.sendDate = false;
  if (h.includes('trailer')) res.addTrailers({ 'X-T': 'v' });
  if (h.includes('trh')) res.setHeader('Trailer', 'X-T');
  if (h.includes('sc')) res.setHeader('Set-Cookie', ['a=1', 'b=2']);
  if (h.includes('rconn')) res.removeHeader('Connection');
  if (h.includes('rcl')) res.removeHeader('Content-Length');
  if (h.includes('rte')) res.removeHeader('Transfer-Encoding');
  if (h.includes('rdate')) res.removeHeader('Date');
  if (h.includes('cw')) res.setHeader('Connection', 'keep-alive;close');
  if (h.includes('tw')) res.setHeader('Transfer-Encoding', 'gzip;chunked');
  if (h.includes('sh')) res.setHeaders(new Map([['X-A', '1'], ['set-cookie', ['s=1', 's=2']], ['x-b', ['2', '3']]]));
  if (h.includes('uq')) res.setHeader('X-U', ['1', '2']);
  if (h.includes('uc')) res.setHeader('Connection', ['keep-alive', 'close']);
  if (h.includes('rcc')) {
    res.removeHeader('Connection');
    res.setHeader('Connection', 'close');
  }
  if (q.get('m')) res.statusMessage = q.get('m');
  if (q.get('wh')) res.writeHead(status);
  if (h.includes('proc')) res.writeProcessing();
  if (h.includes('hints')) {
    res.writeEarlyHints({ link: ['</s.css>; rel=preload; as=style', '</a.js>; rel=preload; as="script"'], 'x-hint': 'h' });
  }
  if (h.includes('flush')) res.flushHeaders();
  for (const w of writes) res.write(w);
  if (end) res.end(end);
  else res.end();
});
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
