// child_process.spawnSync, execFileSync and execSync: the result object (pid, output,
// stdout, stderr, status, signal, error) for a command that exits with a code, input fed
// to stdin (and none: stdin ends at once), ignored stdio, a program that does not exist,
// the timeout (ETIMEDOUT), maxBuffer (ENOBUFS, counted over stdout and stderr
// together; the child sleeps after writing, so that the kill finds it), a child killed
// by its own signal; and what the Sync exec calls return or throw. Output as Buffers
// (encoding 'buffer'), as millrace gives it.
'use strict';
const { spawnSync, execFileSync, execSync } = require('child_process');
const { log } = require('./trace');

const str = (b) => (b == null ? String(b) : JSON.stringify(b.toString()));
const result = (name, r) => {
  log(`-- ${name}`);
  log('pid', r.pid > 0 ? 'positive' : r.pid, 'status', r.status, 'signal', r.signal);
  log('output', r.output == null ? String(r.output) : r.output.map(str).join(','));
  log('stdout', str(r.stdout), 'stderr', str(r.stderr));
  if (r.error) {
    const e = r.error;
    log('error', e.code, e.errno, e.syscall, e.path, JSON.stringify(e.spawnargs), JSON.stringify(e.message));
  } else {
    log('error', r.error);
  }
};
const thrown = (name, f) => {
  log(`-- ${name}`);
  try {
    log('returns', str(f()));
  } catch (e) {
    log('throws', JSON.stringify(e.message));
    log('code', e.code, 'status', e.status, 'signal', e.signal, 'stdout', str(e.stdout), 'stderr', str(e.stderr));
  }
};
const buffer = { encoding: 'buffer' };

result('exit code', spawnSync('sh', ['-c', 'printf out; printf err >&2; exit 3'], buffer));
result('input', spawnSync('cat', { ...buffer, input: Buffer.from('fed to stdin') }));
result('no input', spawnSync('cat', buffer));
result('ignored stdio', spawnSync('sh', ['-c', 'printf x'], { ...buffer, stdio: 'ignore' }));
result('no such program', spawnSync('millrace-no-such-program', ['a'], buffer));
result('timeout', spawnSync('sleep', ['5'], { ...buffer, timeout: 50 }));
result('timeout SIGKILL', spawnSync('sleep', ['5'], { ...buffer, timeout: 50, killSignal: 'SIGKILL' }));
result('maxBuffer', spawnSync('sh', ['-c', 'printf 0123456789; exec sleep 5'], { ...buffer, maxBuffer: 4 }));
result('own signal', spawnSync('sh', ['-c', 'kill -KILL $$'], buffer));
result('cwd and env', spawnSync('sh', ['-c', 'printf "%s %s" "$PWD" "$FOO"'], {
  ...buffer, cwd: '/', env: { FOO: 'bar', PATH: process.env.PATH },
}));
thrown('execFileSync', () => execFileSync('sh', ['-c', 'printf ok'], { ...buffer, stdio: 'pipe' }));
thrown('execFileSync fails', () => execFileSync('sh', ['-c', 'printf partial; printf why >&2; exit 4'],
  { ...buffer, stdio: 'pipe' }));
thrown('execFileSync no such program', () => execFileSync('millrace-no-such-program', [], { ...buffer, stdio: 'pipe' }));
thrown('execSync', () => execSync('printf "%s" "$((6*7))"', { ...buffer, stdio: 'pipe' }));
thrown('execSync fails', () => execSync('exit 5', { ...buffer, stdio: 'pipe' }));
thrown('execSync input', () => execSync('cat', { ...buffer, stdio: 'pipe', input: Buffer.from('in and out') }));
thrown('execSync timeout', () => execSync('sleep 5', { ...buffer, stdio: 'pipe', timeout: 50 }));
