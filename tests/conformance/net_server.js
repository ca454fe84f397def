// net.Server's life: close before listen, listen twice, EADDRINUSE, maxConnections and
// 'drop', pauseOnConnect, getConnections, close while connections are open, closing
// twice, a close that keeps 'listening' from being emitted, and a refused connect. Ports
// vary, so they print as PORT.
'use strict';
const net = require('net');
const { log, errName } = require('./trace');
const port = (s, p) => s.replace(`:${p}`, ':PORT');

// close() on a server that never listened: the callback gets ERR_SERVER_NOT_RUNNING, and
// 'close' is emitted anyway.
function notRunning(next) {
  const s = net.createServer();
  s.on('close', () => log('s0 close event'));
  s.close((err) => {
    log('s0 close cb', errName(err), err.message);
    next();
  });
  log('s0 listening', s.listening, 'address', s.address());
}

// listen(port, host), then a second listen while listening.
function listenTiming(next) {
  const s = net.createServer();
  s.on('listening', () => log('s1 listening event', s.listening));
  s.listen(0, '127.0.0.1', () => {
    log('s1 listen cb', s.address().address, s.address().family);
    try {
      s.listen(0, '127.0.0.1');
    } catch (e) {
      log('s1 listen again throws', e.code, e.message);
    }
    next(s);
  });
}

// A port in use: 'error' from listen, with the address and port.
function inUse(s1, next) {
  const p = s1.address().port;
  const s = net.createServer();
  s.on('listening', () => log('s2 listening?!'));
  s.on('error', (e) => {
    log('s2 error', e.code, e.syscall, e.address, e.port === p, port(e.message, p), 'listening', s.listening);
    s.close((err) => {
      log('s2 close cb', errName(err));
      next(s1);
    });
  });
  s.listen(p, '127.0.0.1');
}

// maxConnections: a connection over the limit is closed at once and reported as 'drop'.
function maxConnections(s1, next) {
  const p = s1.address().port;
  s1.maxConnections = 1;
  s1.on('drop', (d) => {
    log('s1 drop', d.localAddress, d.localPort === p, d.localFamily, d.remoteAddress,
      typeof d.remotePort, d.remoteFamily);
  });
  s1.once('connection', (sock) => {
    log('s1 connection 1');
    s1.getConnections((err, n) => log('s1 getConnections', err, n));
    log('s1 after getConnections');
    const c2 = net.connect(p, '127.0.0.1');
    c2.on('end', () => log('c2 end'));
    c2.on('close', (hadError) => {
      log('c2 close', hadError);
      s1.close((err) => {
        log('s1 close cb', errName(err), 'connections', s1._connections);
        s1.close((err2) => {
          log('s1 second close cb', errName(err2));
          next();
        });
      });
      log('s1 closed: listening', s1.listening);
      sock.end();
    });
  });
  // once: a closed millrace server drops its listeners (docs/streams.md), so a second
  // close() reaches only its own callback.
  s1.once('close', () => log('s1 close event'));
  const c1 = net.connect(p, '127.0.0.1');
  c1.on('end', () => {
    log('c1 end');
    c1.end();
  });
  c1.on('close', () => log('c1 close'));
}

// pauseOnConnect: the socket does not read until it is resumed.
function pauseOnConnect(next) {
  const s = net.createServer({ pauseOnConnect: true }, (sock) => {
    log('s3 connection paused', sock.isPaused(), 'flowing', sock.readableFlowing);
    sock.on('data', (d) => log('s3 data', d.toString()));
    sock.on('end', () => {
      log('s3 end');
      sock.end();
      s.close(() => {
        log('s3 close');
        next();
      });
    });
    setTimeout(() => {
      log('s3 resume');
      sock.resume();
    }, 50);
  });
  s.listen(0, '127.0.0.1', () => {
    const c = net.connect(s.address().port, '127.0.0.1', () => c.end('hi'));
  });
}

// listen(port) without a host binds at once (on :: when the system has IPv6); a close
// before the tick keeps 'listening' from being emitted.
function closeAfterListen(next) {
  const s = net.createServer();
  s.listen(0, () => log('s5 listening?!'));
  log('s5 listening', s.listening);
  s.close((err) => {
    log('s5 close cb', errName(err));
    next();
  });
}

// A refused connect names the address and port.
function refused() {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => {
      const c = net.connect(p, '127.0.0.1');
      c.on('error', (e) => {
        log('c error', e.code, e.syscall, e.address, e.port === p, port(e.message, p));
      });
      c.on('close', (hadError) => log('c close', hadError));
    });
  });
}

notRunning(() => listenTiming((s1) => inUse(s1, (s1b) => maxConnections(s1b,
  () => pauseOnConnect(() => closeAfterListen(refused))))));
