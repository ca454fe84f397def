// The child of tests/conformance/child_process_ipc.js: it talks to its parent over the
// IPC channel only (its stdout is ignored). tests/conformance_ipc.rs has the same child
// in Rust, and runs the parent script against both.
//   serve:   sends {ready, fd, foo}, then answers commands until it is disconnected;
//            'socket', 'server' and 'dgram' come with a handle
//   oneshot: sends {bye: true} and listens for nothing, so its channel lets it exit
'use strict';
const mode = process.argv[2] || 'serve';
if (mode === 'oneshot') {
  process.send({ bye: true });
} else {
  process.send({ ready: true, fd: typeof process.env.NODE_CHANNEL_FD, foo: process.env.FOO ?? null });
  let server = null;
  process.on('message', (m, handle) => {
    switch (m.cmd) {
      case 'socket':
        handle.end('hello from child\n');
        process.send({ socketDone: true });
        break;
      case 'server':
        server = handle;
        server.on('connection', (c) => c.end('served by child\n'));
        process.send({ serverListening: server.listening });
        break;
      case 'dgram':
        handle.on('message', (d, rinfo) => {
          process.send({ dgramMessage: d.toString(), family: rinfo.family });
          handle.close(() => process.send({ dgramClosed: true }));
        });
        process.send({ dgramReady: handle.type });
        break;
      case 'closeServer':
        server.close(() => process.send({ serverClosed: true }));
        break;
      case 'echo':
        process.send({ echo: m.v });
        break;
      case 'cb':
        process.send({ first: true }, (err) => process.send({ callback: err === null }));
        break;
      case 'burst':
        for (let i = 0; i < m.n; i++) process.send({ i });
        process.send({ burstDone: m.n });
        break;
      case 'big':
        process.send({ len: m.s.length });
        process.send({ s: 'y'.repeat(m.reply) });
        break;
      case 'disconnect':
        process.disconnect();
        break;
      case 'exit':
        process.exit(m.code);
        break;
      default:
        process.send({ unknown: m });
    }
  });
}
