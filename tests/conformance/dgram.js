// dgram sockets on loopback: bind and 'listening' (a tick later: the address is looked
// up first), the bind callback, a send before bind (queued until the implicit bind),
// send callbacks (sent at once: a tick later), 'message' with its rinfo, an empty
// datagram, connect/disconnect and their errors, the errors that throw
// (ERR_SOCKET_ALREADY_BOUND, ERR_SOCKET_DGRAM_IS_CONNECTED, _NOT_CONNECTED,
// _NOT_RUNNING), a port in use, close and 'close'.
'use strict';
const dgram = require('dgram');
const { log, errName } = require('./trace');

const thrown = (what, f) => {
  try {
    f();
    log(what, 'no throw');
  } catch (e) {
    log(what, 'throws', e.code, e.message);
  }
};

const server = dgram.createSocket('udp4');
const client = dgram.createSocket('udp4');
for (const [name, s] of [['server', server], ['client', client]]) {
  s.on('listening', () => log(name, 'listening', s.address().address));
  s.on('close', () => log(name, 'close'));
  s.on('error', (e) => log(name, 'error', errName(e), e.message));
  s.on('connect', () => log(name, 'connect'));
}
thrown('address before bind', () => server.address());
thrown('remoteAddress before connect', () => client.remoteAddress());
thrown('disconnect before connect', () => client.disconnect());
let messages = 0;
server.on('message', (msg, rinfo) => {
  log('server message', JSON.stringify(msg.toString()), msg.length, rinfo.address, rinfo.family,
    rinfo.port === client.address().port, rinfo.size);
  if (++messages === 3) step2();
});
server.bind(0, '127.0.0.1', () => {
  log('bind cb');
  thrown('bind again', () => server.bind(0));
  const port = server.address().port;
  client.send('one', port, '127.0.0.1', (err, n) => log('send cb one', errName(err), n));
  log('client sent before bind');
  client.send(['tw', 'o'], port, '127.0.0.1', (err, n) => log('send cb two', errName(err), n));
  client.send('', port, '127.0.0.1', (err, n) => log('send cb empty', errName(err), n));
  process.nextTick(() => log('tick after sends'));
});
log('bound?', (() => { try { return server.address().port > 0; } catch (e) { return e.code; } })());

function step2() {
  const port = server.address().port;
  client.connect(port, '127.0.0.1', () => {
    log('connect cb', client.remoteAddress().port === port);
    thrown('connect again', () => client.connect(port));
    thrown('send with a port when connected', () => client.send('x', 0, 1, port, '127.0.0.1'));
    client.send('connected', (err, n) => {
      log('send cb connected', errName(err), n);
      client.disconnect();
      thrown('remoteAddress after disconnect', () => client.remoteAddress());
      step3();
    });
  });
  log('connecting');
}

function step3() {
  const port = server.address().port;
  const third = dgram.createSocket('udp4');
  third.on('error', (e) => {
    log('third error', errName(e), e.message.replace(String(port), 'PORT'), e.syscall, e.port === port);
    third.close(() => log('third close cb'));
  });
  third.on('listening', () => log('third listening?!'));
  third.bind(port, '127.0.0.1');
  third.on('close', () => {
    server.close(() => log('server close cb'));
    client.close();
    thrown('close twice', () => client.close());
    thrown('send after close', () => client.send('x', port, '127.0.0.1'));
  });
}
