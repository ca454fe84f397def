// process.stdin and process.stdout over each kind of descriptor Node can be given: a
// regular file, a pipe (child_process's 'pipe', a Unix socket pair) and /dev/null
// ('ignore', a character device: a FILE to Node). Each case runs this file again as a
// child with its stdin or stdout set up so; the child logs to a trace file (synchronous
// appends, so the lines keep the order of the events), and the parent prints the trace,
// then what reached the other end.
//
// stdout: which stream Node made (SyncWriteStream, Socket) and its flags; a small write,
// one over the highWaterMark (false, then 'drain'), end; 'finish' and 'close' (stdout's
// destroy never closes the descriptor and leaves the stream usable: a write after 'close'
// still goes out, or fails with EPIPE where end() shut the socket down). destroy(): the
// same dummy destroy, with and without an error.
// stdin: which stream (fs.ReadStream, Socket), its flags, its data and events, end() on
// the socket (its writable side is finished from the start), and pause() (called from an
// immediate): stdin stops reading one tick later, so the process can exit while the
// writer keeps the pipe open.
'use strict';
const fs = require('fs');
const os = require('os');
const { spawn } = require('child_process');

if (process.env.MILLRACE_STDIO_TRACE) {
  child(process.argv[2], process.argv[3]);
  return;
}

const { log } = require('./trace');
const base = `${os.tmpdir()}/millrace-golden-stdio-${process.pid}`;
const cases = [
  ['out', 'file'], ['out', 'pipe'], ['out', 'null'],
  ['destroy', 'file'], ['destroy', 'pipe'],
  ['in', 'file'], ['in', 'pipe'], ['in', 'null'],
  ['pause', 'pipe'],
];

function run(k) {
  if (k === cases.length) return;
  const [mode, kind] = cases[k];
  const trace = `${base}.trace`;
  fs.writeFileSync(trace, '');
  const file = `${base}.file`;
  let fd = 'ignore';
  if (kind === 'file') {
    if (mode === 'in' || mode === 'pause') fs.writeFileSync(file, 'hello\nworld\n');
    fd = fs.openSync(file, mode === 'in' ? 'r' : 'w');
  } else if (kind === 'pipe') {
    fd = 'pipe';
  }
  const out = mode === 'out' || mode === 'destroy';
  const stdio = out ? ['ignore', fd, 'inherit'] : [fd, 'ignore', 'inherit'];
  const c = spawn(process.execPath, [__filename, mode, kind], {
    stdio,
    env: { ...process.env, MILLRACE_STDIO_TRACE: trace },
  });
  if (typeof fd === 'number') fs.closeSync(fd);
  let got = '';
  if (out && kind === 'pipe') c.stdout.on('data', (d) => { got += d; });
  if (!out && kind === 'pipe') {
    c.stdin.write('hello\n');
    if (mode === 'in') c.stdin.end('world\n');
  }
  const guard = setTimeout(() => { log('hung'); c.kill(); }, 5000);
  c.on('close', (code) => {
    clearTimeout(guard);
    if (!out && kind === 'pipe') c.stdin.destroy();
    log(`== ${mode} ${kind}, exit code ${code}`);
    process.stdout.write(fs.readFileSync(trace));
    if (out && kind === 'file') got = fs.readFileSync(file, 'latin1');
    if (out) log('received', got.length, JSON.stringify(got.replace(/x{10,}/, (x) => `x*${x.length}`)));
    fs.rmSync(trace);
    fs.rmSync(file, { force: true });
    run(k + 1);
  });
}
run(0);

function child(mode, kind) {
  const log = (...parts) => fs.appendFileSync(process.env.MILLRACE_STDIO_TRACE, parts.join(' ') + '\n');
  const errName = (e) => (e && (e.code || e.message)) || 'null';
  process.on('exit', () => log('exit'));
  if (mode === 'out' || mode === 'destroy') {
    const out = process.stdout;
    log('stdout', out.constructor.name, out._type, out.fd, !!out.isTTY, out === process.stdout,
      out.writableHighWaterMark, out.readable, out.writable);
    out.on('drain', () => log('drain', out.writableLength));
    out.on('finish', () => log('finish'));
    out.on('error', (e) => log('error', errName(e)));
    if (mode === 'out') {
      let closes = 0;
      out.on('close', () => {
        log('close', out.destroyed, out.writable, out.writableEnded, out.writableFinished);
        if (++closes === 1) log('write again', out.write('again\n', (e) => log('again cb', errName(e))));
      });
      log('write a', out.write('a\n', (e) => log('cb a', errName(e))));
      log('write big', out.write('x'.repeat(20000) + '\n', (e) => log('cb big', errName(e))));
      log('state', out.writableLength, out.writableNeedDrain);
      process.nextTick(() => log('tick'));
      out.end('z\n', (e) => log('end cb', errName(e)));
      log('ended', out.writableEnded, out.writableFinished, out.destroyed);
    } else {
      let closes = 0;
      out.on('close', () => {
        log('close', out.destroyed, out.writable, out.errored ? 'errored' : 'ok');
        if (++closes === 1) {
          log('write', out.write('after destroy\n', (e) => log('cb', errName(e))));
          out.destroy(new Error('boom'));
          log('destroyed', out.destroyed, out.errored ? errName(out.errored) : 'null');
        }
      });
      out.destroy();
      log('destroyed', out.destroyed, out.writable, out.closed);
    }
    return;
  }
  const i = process.stdin;
  log('stdin', i.constructor.name, i.fd, !!i.isTTY, i === process.stdin, i.readableHighWaterMark,
    i.readableFlowing, i.readable, i.writable, i.readableEnded);
  for (const ev of ['open', 'ready', 'end', 'pause', 'resume', 'finish']) i.on(ev, () => log(ev));
  i.on('close', () => log('close', i.destroyed));
  i.on('error', (e) => log('error', errName(e)));
  i.on('data', (d) => {
    log('data', JSON.stringify(d.toString()));
    if (mode === 'pause') {
      setImmediate(() => {
        i.pause();
        log('paused', i.isPaused(), i.readableFlowing);
      });
    }
  });
  if (typeof i.end === 'function' && i.constructor.name !== 'ReadStream') {
    i.end((e) => log('end cb', errName(e)));
  }
  log('flowing', i.readableFlowing);
}
