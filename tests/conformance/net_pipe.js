// net over a Unix domain socket: listen(path) and address(), a path in use, a connection
// with its (absent) addresses, an echo and both ends closing, the socket file removed by
// close(), a missing path and a path that is not a socket. Paths vary, so they print as
// PATH.
'use strict';
const fs = require('fs');
const os = require('os');
const net = require('net');
const { log, errName } = require('./trace');

const base = `${os.tmpdir()}/millrace-golden-net-pipe-${process.pid}`;
const mask = (s) => String(s).split(base).join('PATH');

// listen(path): 'listening', address() is the path, the socket file exists.
function listen(next) {
  const path = `${base}.sock`;
  const s = net.createServer();
  s.on('listening', () => log('s listening event', s.listening));
  s.listen(path, () => {
    log('s listen cb', mask(s.address()), 'exists', fs.existsSync(path));
    next(s, path);
  });
}

// The same path again: 'error' from listen, named by the path.
function inUse(s, path, next) {
  const s2 = net.createServer();
  s2.on('listening', () => log('s2 listening?!'));
  s2.on('error', (e) => {
    log('s2 error', e.code, e.syscall, mask(e.address), mask(e.message), 'listening', s2.listening);
    next(s, path);
  });
  s2.listen(path);
}

// A connection: no addresses on either side; the server echoes in upper case and ends,
// the client ends in turn; then the server closes and its socket file is gone.
function echo(s, path, next) {
  let server = null;
  s.once('connection', (sock) => {
    server = sock;
    sock.on('data', (d) => sock.end(d.toString().toUpperCase()));
    sock.on('end', () => log('s sock end'));
  });
  const c = net.connect(path);
  log('c connecting', c.connecting, 'pending', c.pending);
  c.on('connect', () => {
    log('c connect', c.remoteAddress, c.remotePort, c.localAddress, 'connecting', c.connecting);
    log('s sock', typeof server, server && server.remoteAddress);
    c.write('ping');
  });
  c.on('data', (d) => log('c data', d.toString()));
  c.on('end', () => log('c end'));
  c.on('close', (hadError) => {
    log('c close', hadError, 'bytes', c.bytesRead, c.bytesWritten);
    s.close((err) => {
      log('s close cb', errName(err), 'exists', fs.existsSync(path), 'address', mask(s.address()));
      next();
    });
  });
}

// Nothing at the path: ENOENT, named by the path.
function missing(next) {
  const path = `${base}.missing`;
  const c = net.connect(path);
  c.on('connect', () => log('c2 connect?!'));
  c.on('error', (e) => log('c2 error', e.code, e.syscall, mask(e.address), mask(e.message)));
  c.on('close', (hadError) => {
    log('c2 close', hadError);
    next();
  });
}

// A regular file at the path: ECONNREFUSED.
function notASocket() {
  const path = `${base}.file`;
  fs.writeFileSync(path, '');
  const c = net.connect(path);
  c.on('error', (e) => log('c3 error', e.code, e.syscall, mask(e.address), mask(e.message)));
  c.on('close', (hadError) => {
    log('c3 close', hadError);
    fs.unlinkSync(path);
  });
}

listen((s, path) => inUse(s, path, (s1, p1) => echo(s1, p1, () => missing(notASocket))));
