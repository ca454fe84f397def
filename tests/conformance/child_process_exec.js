// child_process.execFile and exec: the callback's (err, stdout, stderr) for a command
// that succeeds, one that exits with a code, a shell command line, a program that does
// not exist (the spawn error, with cmd), output over maxBuffer (cut at the limit,
// ERR_CHILD_PROCESS_STDIO_MAXBUFFER), and the timeout with the default and another
// killSignal. The scenarios run one after another; output is taken as Buffers
// (encoding 'buffer'), as millrace gives it.
'use strict';
const { execFile, exec } = require('child_process');
const { log } = require('./trace');

const show = (name) => (err, stdout, stderr) => {
  log(`-- ${name}`);
  if (err) {
    log('err message', JSON.stringify(err.message));
    log('err code', err.code, 'killed', err.killed, 'signal', err.signal, 'cmd', JSON.stringify(err.cmd));
  } else {
    log('err', err);
  }
  log('stdout', JSON.stringify(stdout.toString()), 'stderr', JSON.stringify(stderr.toString()));
  next();
};
const buffer = { encoding: 'buffer' };
const scenarios = [
  () => execFile('sh', ['-c', 'printf out; printf err >&2'], buffer, show('both outputs')),
  () => execFile('sh', ['-c', 'printf partial; printf why >&2; exit 2'], buffer, show('exit code')),
  () => exec('printf "%s" "$((2+3))"', buffer, show('exec')),
  () => exec('exit 7', buffer, show('exec exit code')),
  () => execFile('millrace-no-such-program', ['x', 'y'], buffer, show('no such program')),
  () => execFile('sh', ['-c', 'printf 0123456789'], { ...buffer, maxBuffer: 4 }, show('maxBuffer')),
  () => execFile('sleep', ['5'], { ...buffer, timeout: 50 }, show('timeout')),
  () => execFile('sleep', ['5'], { ...buffer, timeout: 50, killSignal: 'SIGKILL' }, show('timeout SIGKILL')),
];
const next = () => {
  const s = scenarios.shift();
  if (s) s();
};
next();
