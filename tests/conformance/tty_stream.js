// tty.ReadStream and tty.WriteStream on a pseudo-terminal. scripts/golden runs this with
// `node`; it runs itself again under `script` (util-linux), whose pty becomes the inner
// run's stdin and stdout, and prints the inner run's trace and then every byte the
// terminal showed. The inner run: the streams' flags; raw mode on and off; a write and the
// order of its callback (terminal writes are blocking, so it completes at once); the
// cursor and erase sequences; a resize (stty, then _refreshSize, what SIGWINCH runs);
// end; destroy; setRawMode once the handle is gone; a file is not a terminal.
'use strict';
const fs = require('fs');
const os = require('os');
const tty = require('tty');
const { execFileSync } = require('child_process');

if (!process.env.MILLRACE_TTY_TRACE) {
  const trace = `${os.tmpdir()}/millrace-golden-tty-${process.pid}`;
  fs.writeFileSync(trace, '');
  const screen = execFileSync('script', ['-qec', `${process.execPath} ${__filename}`, '/dev/null'], {
    env: { ...process.env, MILLRACE_TTY_TRACE: trace },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(fs.readFileSync(trace));
  fs.unlinkSync(trace);
  console.log('terminal', JSON.stringify(screen.toString('latin1')));
  return;
}

const log = (...parts) => fs.appendFileSync(process.env.MILLRACE_TTY_TRACE, parts.join(' ') + '\n');
const errName = (e) => (e && (e.code || e.message)) || 'null';

log('isatty', tty.isatty(0), tty.isatty(1));
const ws = new tty.WriteStream(1);
const rs = new tty.ReadStream(0);
const flags = (s) => [s.isTTY, s.readable, s.writable, s.readableHighWaterMark, s.writableHighWaterMark,
  s.readableFlowing, s.pending, s.connecting].join(' ');
log('ws', flags(ws), ws.columns, ws.rows, ws.getWindowSize().join('x'));
log('rs', flags(rs), rs.isRaw);
ws.on('error', (e) => log('ws error', errName(e)));
rs.on('error', (e) => log('rs error', errName(e)));
ws.on('finish', () => log('ws finish'));
ws.on('close', (hadError) => log('ws close', hadError));
ws.on('resize', () => log('ws resize', ws.columns, ws.rows));

log('raw', rs.setRawMode(true) === rs, rs.isRaw);
log('normal', rs.setRawMode(false) === rs, rs.isRaw);

log('write', ws.write('hello\n', (e) => log('write cb', errName(e))));
log('after write', ws.writableLength, ws.bytesWritten);
process.nextTick(() => log('tick'));
log('cursorTo x', ws.cursorTo(2, (e) => log('cursorTo x cb', errName(e))));
log('cursorTo xy', ws.cursorTo(2, 3));
log('moveCursor', ws.moveCursor(-1, 2), ws.moveCursor(3, -4));
log('moveCursor 0', ws.moveCursor(0, 0, (e) => log('moveCursor 0 cb', errName(e))));
log('clearLine', ws.clearLine(-1), ws.clearLine(1), ws.clearLine(0));
log('clearScreenDown', ws.clearScreenDown(() => log('clearScreenDown cb')));

setImmediate(() => {
  execFileSync('stty', ['cols', '100', 'rows', '40'], { stdio: [1, 'ignore', 'ignore'] });
  log('stty', ws.columns, ws.rows);
  ws._refreshSize();
  ws._refreshSize();
  log('window', ws.getWindowSize().join('x'));
  ws.end('bye', () => log('end cb'));
  log('after end', ws.writable, ws.writableEnded, ws.readable);
  setImmediate(() => {
    rs.on('close', (hadError) => {
      log('rs close', hadError, rs.destroyed);
      log('raw after close', rs.setRawMode(true) === rs, rs.isRaw);
      const path = `${os.tmpdir()}/millrace-golden-tty-file-${process.pid}`;
      fs.writeFileSync(path, 'x');
      for (const S of [tty.ReadStream, tty.WriteStream]) {
        const fd = fs.openSync(path, 'r');
        try {
          new S(fd);
          log('file tty?!');
        } catch (e) {
          log('file', S.name, e.code, e.message);
        }
        fs.closeSync(fd);
      }
      fs.unlinkSync(path);
      ws.destroy();
    });
    rs.destroy();
  });
});
