// net.Socket({ fd }) over the two ends of a FIFO: a reader (writable: false) and a writer
// (readable: false), their flags, a write and an end and the events on both sides (the
// writer finishes and closes, which gives the reader its EOF). Then the errors: a regular
// file is not a socket's fd (ERR_INVALID_FD_TYPE), a write-only end that is asked to read
// is destroyed by "read ENOTCONN", and a write after the reader has gone fails with EPIPE.
'use strict';
const fs = require('fs');
const os = require('os');
const net = require('net');
const { execFileSync } = require('child_process');
const { log, errName } = require('./trace');

const base = `${os.tmpdir()}/millrace-golden-net-fd-${process.pid}`;

// Both ends of a new FIFO: the read end opened first, non-blocking (a FIFO's open waits
// for the other side otherwise).
function fifo(name) {
  const path = `${base}.${name}`;
  execFileSync('mkfifo', [path]);
  const r = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(path, fs.constants.O_WRONLY);
  fs.unlinkSync(path);
  return [r, w];
}

const flags = (s) => [s.readable, s.writable, s.pending, s.connecting, s.remoteAddress].join(' ');

function transfer(next) {
  const [rfd, wfd] = fifo('a');
  const reader = new net.Socket({ fd: rfd, writable: false });
  const writer = new net.Socket({ fd: wfd, readable: false });
  log('reader', flags(reader));
  log('writer', flags(writer));
  reader.on('data', (d) => log('reader data', d.toString()));
  reader.on('end', () => log('reader end', reader.readable, reader.writable));
  reader.on('error', (e) => log('reader error', errName(e)));
  reader.on('close', (hadError) => {
    log('reader close', hadError, 'bytes', reader.bytesRead, reader.bytesWritten);
    next();
  });
  writer.on('end', () => log('writer end?!'));
  writer.on('finish', () => log('writer finish', writer.writable, writer.writableFinished));
  writer.on('error', (e) => log('writer error', errName(e)));
  writer.on('close', (hadError) => log('writer close', hadError, 'bytes', writer.bytesRead, writer.bytesWritten));
  log('write', writer.write('hello '));
  writer.end('world', () => log('end cb'));
  log('after end', writer.writable, writer.writableEnded, writer.writableFinished);
}

function notASocket(next) {
  const path = `${base}.file`;
  fs.writeFileSync(path, 'x');
  const fd = fs.openSync(path, 'r');
  try {
    new net.Socket({ fd });
    log('file socket?!');
  } catch (e) {
    log('file', e.code, e.message);
  }
  fs.closeSync(fd);
  fs.unlinkSync(path);
  next();
}

function writeEndReads(next) {
  const [rfd, wfd] = fifo('b');
  fs.closeSync(rfd);
  const s = new net.Socket({ fd: wfd });
  s.on('error', (e) => log('write end error', e.code, e.syscall, e.message));
  s.on('close', (hadError) => {
    log('write end close', hadError, 'destroyed', s.destroyed);
    next();
  });
}

function readerGone() {
  const [rfd, wfd] = fifo('c');
  const reader = new net.Socket({ fd: rfd, writable: false });
  const writer = new net.Socket({ fd: wfd, readable: false });
  writer.on('error', (e) => log('writer2 error', e.code, e.syscall, e.message));
  writer.on('close', (hadError) => log('writer2 close', hadError, 'bytes', writer.bytesWritten));
  reader.on('close', (hadError) => {
    log('reader2 close', hadError);
    log('writer2 write', writer.write('x'));
  });
  reader.destroy();
}

transfer(() => notASocket(() => writeEndReads(readerGone)));
