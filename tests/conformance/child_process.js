// child_process.spawn: 'spawn', 'exit' and 'close' with the exit code or the signal's
// name; stdin/stdout/stderr as sockets (which are readable, which writable); a child
// that cannot start ('error' with code, errno, syscall, path, spawnargs; exitCode -2;
// no 'spawn', no 'exit'; its pipes still end and close); kill() and its return values,
// an unknown signal, a child killed by a signal of its own, the timeout option; cwd
// and env; a fourth descriptor; a file descriptor as stdout; shell; detached (the child
// leads its session); output nobody reads (flushStdio still brings 'close').
//
// The scenarios run one after another. The order of events on one emitter is
// deterministic, the order between two of them is not always (a child's exit and the
// end of its output arrive together), so each emitter's events are collected apart and
// printed together once the child's 'close' has come and every one of its sockets has
// closed too (stdin's 'close' can come after the child's).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log } = require('./trace');

const scenarios = [];
const scenario = (name, f) => scenarios.push([name, f]);
const next = () => {
  const s = scenarios.shift();
  if (s) run(s[0], s[1]);
};

function run(name, f) {
  const lines = { child: [], stdin: [], stdout: [], stderr: [], fd3: [] };
  const rec = (who, ...parts) => lines[who].push(parts.join(' '));
  const open = new Set();
  const print = (extra) => {
    log(`-- ${name}`);
    for (const who of Object.keys(lines)) {
      for (const l of lines[who]) log(who, l);
    }
    if (extra) extra();
    next();
  };
  const done = (extra) => {
    const wait = () => setImmediate(() => (open.size > 0 ? wait() : print(extra)));
    wait();
  };
  const watch = (child, opts = {}) => {
    rec('child', 'pid', typeof child.pid, 'stdio',
      child.stdio.map((s) => (s ? 'socket' : 'null')).join(','));
    const names = ['stdin', 'stdout', 'stderr', 'fd3'];
    child.stdio.forEach((s, i) => {
      if (!s) return;
      const who = names[i];
      rec(who, 'readable', s.readable, 'writable', s.writable);
      open.add(s);
      if (opts.read !== false && i > 0) s.on('data', (d) => rec(who, 'data', JSON.stringify(d.toString())));
      s.on('end', () => rec(who, 'end'));
      s.on('finish', () => rec(who, 'finish'));
      s.on('close', (hadError) => {
        rec(who, 'close', hadError);
        open.delete(s);
      });
      s.on('error', (e) => rec(who, 'error', e.code));
    });
    child.on('spawn', () => rec('child', 'spawn'));
    child.on('exit', (code, signal) => rec('child', 'exit', code, signal, 'killed', child.killed));
    child.on('error', (e) => {
      rec('child', 'error', e.code, e.errno, e.syscall, e.path, JSON.stringify(e.spawnargs));
      rec('child', 'message', e.message, 'exitCode', child.exitCode);
    });
    return child;
  };
  f(watch, rec, done);
}

scenario('exit code', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal, 'exitCode', child.exitCode, 'signalCode', child.signalCode);
    done();
  });
});

scenario('stdout and stderr', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'printf hello; printf oops >&2']));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('stdin to cat', (watch, rec, done) => {
  const child = watch(spawn('cat'));
  child.stdin.write('abc', (err) => rec('stdin', 'write cb', err == null ? 'ok' : err.code));
  child.stdin.end();
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('kill', (watch, rec, done) => {
  const child = watch(spawn('sleep', ['5'], { stdio: 'ignore' }));
  try {
    child.kill(9999);
    rec('child', 'kill 9999 no throw');
  } catch (e) {
    rec('child', 'kill 9999 throws', e.code, e.message);
  }
  child.on('spawn', () => rec('child', 'kill', child.kill(), 'killed', child.killed));
  child.on('exit', () => rec('child', 'kill after exit', child.kill()));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal, 'exitCode', child.exitCode, 'signalCode', child.signalCode);
    done();
  });
});

scenario('no such program', (watch, rec, done) => {
  const child = watch(spawn('millrace-no-such-program', ['a', 'b']));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('cwd and env', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'printf "%s %s" "$PWD" "$FOO"'], {
    cwd: '/', env: { FOO: 'bar', PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'ignore'],
  }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('missing cwd', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'exit 0'], { cwd: '/millrace-no-such-dir', stdio: 'ignore' }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('killed by its own signal', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'kill -KILL $$'], { stdio: 'ignore' }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('timeout', (watch, rec, done) => {
  const child = watch(spawn('sleep', ['5'], { stdio: 'ignore', timeout: 50 }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('fourth descriptor', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'printf fd3 >&3'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

scenario('stdout to a file', (watch, rec, done) => {
  const file = path.join(os.tmpdir(), `millrace-child-process-${process.pid}.txt`);
  const fd = fs.openSync(file, 'w');
  const child = watch(spawn('sh', ['-c', 'printf "to a file"'], { stdio: ['ignore', fd, 'inherit'] }));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    fs.closeSync(fd);
    done(() => {
      log('file', JSON.stringify(fs.readFileSync(file, 'utf8')));
      fs.unlinkSync(file);
    });
  });
});

scenario('shell', (watch, rec, done) => {
  const child = watch(spawn('printf', ['%s', '$((6*7))'], { shell: true, stdio: ['ignore', 'pipe', 'ignore'] }));
  rec('child', 'spawnfile', child.spawnfile, 'spawnargs', JSON.stringify(child.spawnargs));
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

for (const detached of [false, true]) {
  scenario(`detached ${detached}`, (watch, rec, done) => {
    const child = watch(spawn('sh', ['-c', 'cut -d" " -f6 /proc/$$/stat'], {
      detached, stdio: ['ignore', 'pipe', 'ignore'],
    }), { read: false });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code, signal) => {
      rec('child', 'close', code, signal, 'session leader', Number(out) === child.pid);
      done();
    });
  });
}

scenario('output nobody reads', (watch, rec, done) => {
  const child = watch(spawn('sh', ['-c', 'printf unread; printf unread >&2']), { read: false });
  child.on('close', (code, signal) => {
    rec('child', 'close', code, signal);
    done();
  });
});

next();
