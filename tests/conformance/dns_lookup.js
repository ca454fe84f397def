// dns.lookup / dns.lookupService and net.connect by host name: answers, the tick they
// come on, argument errors, and a socket's 'lookup' event. The name that fails is
// printed without its code (ENOTFOUND from a DNS server, EAI_AGAIN without one).
'use strict';
const dns = require('dns');
const net = require('net');
const { log } = require('./trace');

const failed = (what, e) =>
  log(what, 'error', e.syscall, e.hostname, e.message === `${e.syscall} ${e.code} ${e.hostname}`);

const steps = [
  (next) => {
    dns.lookup('localhost', (e, address, family) => { log('lookup localhost', e, address, family); next(); });
    log('lookup localhost called');
  },
  (next) => {
    dns.lookup('localhost', { all: true, family: 4 }, (e, all) => {
      log('lookup all', e, all.map((a) => `${a.address}/${a.family}`).join(','));
      next();
    });
  },
  (next) => {
    dns.lookup('::1', (e, address, family) => log('lookup ::1', e, address, family));
    dns.lookup('127.0.0.1', { all: true }, (e, all) => {
      log('lookup ip all', e, all.map((a) => `${a.address}/${a.family}`).join(','));
      next();
    });
    process.nextTick(() => log('tick after ip lookups'));
    log('ip lookups called');
  },
  (next) => {
    dns.lookup('', { family: 6 }, (e, address, family) => { log('lookup empty', e, address, family); next(); });
  },
  (next) => {
    try { dns.lookup('localhost', { family: 5 }, () => {}); } catch (e) { log('throws', e.code, e.message); }
    try { dns.lookup('localhost', { hints: 99999 }, () => {}); } catch (e) { log('throws', e.code, e.message); }
    next();
  },
  (next) => {
    dns.lookup('example.invalid.', (e, address) => { failed('lookup invalid', e); log('address', address); next(); });
  },
  (next) => {
    dns.lookupService('127.0.0.1', 80, (e, host, service) => { log('lookupService', e, host, service); next(); });
  },
  (next) => {
    const server = net.createServer((sock) => sock.end('hi'));
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, 'localhost');
      c.on('lookup', (e, address, family, host) => log('client lookup', e, address, family, host));
      c.on('connect', () => log('client connect', c.remoteAddress, c.remotePort === server.address().port));
      c.on('data', (d) => log('client data', d.toString()));
      c.on('close', (hadError) => { log('client close', hadError); server.close(next); });
      log('connecting', c.connecting);
    });
  },
  (next) => {
    const c = net.connect(9, 'localhost');
    c.on('lookup', () => log('destroyed lookup'));
    c.on('connect', () => log('destroyed connect'));
    c.on('close', (hadError) => { log('destroyed close', hadError); setTimeout(next, 50); });
    c.destroy();
    log('destroyed while looking up', c.destroyed);
  },
  (next) => {
    const c = net.connect(80, 'example.invalid.');
    c.on('lookup', (e, address, family, host) => log('bad lookup', e && e.syscall, address, family, host));
    c.on('error', (e) => failed('bad client', e));
    c.on('close', (hadError) => { log('bad close', hadError); next(); });
  },
];

const run = (i) => { if (i < steps.length) steps[i](() => run(i + 1)); else log('done'); };
run(0);
