// child_process.fork and the IPC channel ('json' serialization): messages of every JSON
// type both ways, send's return value and callback, messages that arrive before there
// is a 'message' listener, a burst of small messages, large messages in both
// directions, disconnect by either side (a parent that disconnects itself never sees
// 'close'), send and disconnect after disconnecting (ERR_IPC_CHANNEL_CLOSED,
// ERR_IPC_DISCONNECTED), a child that exits while connected, a child that listens for
// nothing (its channel does not keep it alive), the errors thrown for 'ipc' twice,
// 'ipc' in spawnSync and fork without 'ipc', and handles sent with messages: a
// connection the parent accepted, which the child answers and ends, a listening
// server, which the parent then closes and the child serves, and a bound UDP socket,
// which the parent then closes and the child receives on.
//
// The child is tests/node/ipc_child.js, run by `node` (or by IPC_CHILD_EXEC: the Rust
// test runs this script against its own child too). Each scenario's channel events
// ('ipc') and process events ('proc') are collected apart and printed when the child
// has exited and disconnected: a child's exit and its channel's end of file race.
'use strict';
const { fork, spawn, spawnSync } = require('child_process');
const net = require('net');
const dgram = require('dgram');
const path = require('path');
const { log } = require('./trace');

const CHILD = path.join(__dirname, '..', 'node', 'ipc_child.js');
const execPath = process.env.IPC_CHILD_EXEC || process.execPath;

const scenarios = [];
const scenario = (name, f) => scenarios.push([name, f]);
const next = () => {
  const s = scenarios.shift();
  if (s) run(s[0], s[1]);
};

function run(name, f) {
  const lines = { ipc: [], net: [], cli: [], proc: [] };
  const rec = (who, ...parts) => lines[who].push(parts.join(' '));
  let exited = false;
  let disconnected = false;
  const start = (args, opts = {}, listen = true) => {
    const child = fork(CHILD, args, {
      execPath,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      ...opts,
    });
    rec('proc', 'connected', child.connected, 'stdio', child.stdio.map((s) => (s ? 'socket' : 'null')).join(','));
    child.on('spawn', () => rec('proc', 'spawn'));
    child.on('exit', (code, signal) => {
      rec('proc', 'exit', code, signal);
      exited = true;
    });
    child.on('close', (code, signal) => rec('proc', 'close', code, signal));
    child.on('error', (e) => rec('ipc', 'error', e.code, e.message));
    child.on('disconnect', () => {
      rec('ipc', 'disconnect', 'connected', child.connected);
      disconnected = true;
    });
    if (listen) child.on('message', (m) => rec('ipc', 'message', JSON.stringify(m)));
    return child;
  };
  const done = () => {
    const wait = () => setImmediate(() => {
      if (!exited || !disconnected) return wait();
      log(`-- ${name}`);
      for (const who of Object.keys(lines)) for (const l of lines[who]) log(who, l);
      next();
    });
    wait();
  };
  f(start, rec, done);
}

const VALUES = [
  1, -7, 1.5, 0.1, 2 ** 53, 'text', 'ünïcødé ✓ 𝄞', 'line\nbreak "quoted" \\ \u0001\t', '',
  null, true, false, [], {}, [1, [2, [3]]], { b: 1, a: { d: [null], c: 'x' }, z: [] },
];

scenario('echo every JSON type', (start, rec, done) => {
  const child = start(['serve'], { env: { ...process.env, FOO: 'bar' } });
  child.once('message', () => {
    for (const v of VALUES) rec('ipc', 'send', JSON.stringify(v), child.send({ cmd: 'echo', v }));
    child.send({ cmd: 'disconnect' });
  });
  done();
});

scenario('send callback', (start, rec, done) => {
  const child = start(['serve']);
  child.once('message', () => {
    rec('ipc', 'send returned', child.send({ cmd: 'cb' }, (err) => rec('ipc', 'send cb', err)));
    child.on('message', (m) => {
      if (m.callback !== undefined) child.send({ cmd: 'disconnect' });
    });
  });
  done();
});

scenario('parent disconnects', (start, rec, done) => {
  const child = start(['serve']);
  child.once('message', () => {
    rec('ipc', 'connected', child.connected);
    child.disconnect();
    rec('ipc', 'connected', child.connected);
    rec('ipc', 'send returned', child.send({ x: 1 }));
    rec('ipc', 'send returned', child.send({ x: 2 }, (err) => rec('ipc', 'send cb', err.code, err.message)));
    child.disconnect();
    rec('ipc', 'after second disconnect');
  });
  done();
});

scenario('child exits while connected', (start, rec, done) => {
  const child = start(['serve']);
  child.once('message', () => child.send({ cmd: 'exit', code: 3 }));
  done();
});

scenario('burst of small messages', (start, rec, done) => {
  const child = start(['serve'], {}, false);
  let count = 0;
  let inOrder = true;
  child.on('message', (m) => {
    if (m.ready) {
      child.send({ cmd: 'burst', n: 500 });
    } else if (m.burstDone !== undefined) {
      rec('ipc', 'burst', count, 'of', m.burstDone, 'in order', inOrder);
      child.send({ cmd: 'disconnect' });
    } else {
      if (m.i !== count) inOrder = false;
      count++;
    }
  });
  done();
});

scenario('large messages both ways', (start, rec, done) => {
  const child = start(['serve'], {}, false);
  child.on('message', (m) => {
    if (m.ready) {
      const r = child.send({ cmd: 'big', s: 'x'.repeat(1 << 20), reply: 2 << 20 }, (err) => rec('ipc', 'big sent', err));
      rec('ipc', 'send returned', r);
    } else if (m.len !== undefined) {
      rec('ipc', 'child got length', m.len);
    } else {
      rec('ipc', 'reply length', m.s.length, 'all y', /^y*$/.test(m.s));
      child.send({ cmd: 'disconnect' });
    }
  });
  done();
});

scenario('messages before a listener', (start, rec, done) => {
  const child = start(['serve'], {}, false);
  child.on('spawn', () => setTimeout(() => {
    rec('ipc', 'listening now');
    child.on('message', (m) => {
      rec('ipc', 'message', JSON.stringify(m));
      child.send({ cmd: 'disconnect' });
    });
  }, 300));
  done();
});

scenario('child listens for nothing', (start, rec, done) => {
  start(['oneshot']);
  done();
});

scenario('send a socket', (start, rec, done) => {
  const child = start(['serve']);
  child.once('message', () => {
    const server = net.createServer((s) => {
      const r = child.send({ cmd: 'socket' }, s, (err) => rec('ipc', 'send cb', err));
      rec('ipc', 'send returned', r);
      server.close(() => rec('net', 'server close'));
    });
    server.listen(0, '127.0.0.1', () => {
      const client = net.connect(server.address().port, '127.0.0.1');
      let got = '';
      client.on('data', (d) => { got += d; });
      client.on('end', () => rec('net', 'client end', JSON.stringify(got)));
      // Apart: the client's close and the child's report that its socket closed
      // (which the server's close waits for) race.
      client.on('close', () => {
        rec('cli', 'client close');
        child.send({ cmd: 'disconnect' });
      });
    });
  });
  done();
});

scenario('send a server', (start, rec, done) => {
  const child = start(['serve'], {}, false);
  const server = net.createServer();
  let port = 0;
  child.on('message', (m) => {
    rec('ipc', 'message', JSON.stringify(m));
    if (m.ready) {
      server.listen(0, '127.0.0.1', () => {
        port = server.address().port;
        child.send({ cmd: 'server' }, server, (err) => {
          rec('ipc', 'send cb', err);
          server.close(() => rec('net', 'parent server close'));
        });
      });
    } else if (m.serverListening) {
      const client = net.connect(port, '127.0.0.1');
      let got = '';
      client.on('data', (d) => { got += d; });
      client.on('end', () => rec('net', 'client end', JSON.stringify(got)));
      client.on('close', () => {
        rec('net', 'client close');
        child.send({ cmd: 'closeServer' });
      });
    } else if (m.serverClosed) {
      child.send({ cmd: 'disconnect' });
    }
  });
  done();
});

scenario('send a dgram socket', (start, rec, done) => {
  const child = start(['serve'], {}, false);
  const sock = dgram.createSocket('udp4');
  let port = 0;
  child.on('message', (m) => {
    rec('ipc', 'message', JSON.stringify(m));
    if (m.ready) {
      sock.bind(0, '127.0.0.1', () => {
        port = sock.address().port;
        child.send({ cmd: 'dgram' }, sock, (err) => {
          rec('ipc', 'send cb', err);
          sock.close(() => rec('net', 'parent dgram close'));
        });
      });
    } else if (m.dgramReady) {
      const client = dgram.createSocket('udp4');
      client.send('ping', port, '127.0.0.1', (err) => {
        rec('net', 'client sent', err);
        client.close();
      });
    } else if (m.dgramClosed) {
      child.send({ cmd: 'disconnect' });
    }
  });
  done();
});

scenario('thrown errors', (start, rec, done) => {
  const tryIt = (what, f) => {
    try {
      f();
      log('thrown', what, 'nothing');
    } catch (e) {
      log('thrown', what, e.code, e.message);
    }
  };
  log('-- thrown errors');
  tryIt('two ipc', () => spawn(execPath, [CHILD], { stdio: ['ipc', 'ipc'] }));
  tryIt('spawnSync ipc', () => spawnSync(execPath, [CHILD], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }));
  tryIt('fork without ipc', () => fork(CHILD, [], { execPath, stdio: ['pipe', 'pipe', 'pipe'] }));
  next();
});

next();
