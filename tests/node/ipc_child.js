// The child of tests/conformance/child_process_ipc.js: it talks to its parent over the
// IPC channel only (its stdout is ignored). tests/conformance_ipc.rs has the same child
// in Rust, and runs the parent script against both.
//   serve:   sends {ready, fd, foo}, then answers commands until it is disconnected
//   oneshot: sends {bye: true} and listens for nothing, so its channel lets it exit
'use strict';
const mode = process.argv[2] || 'serve';
if (mode === 'oneshot') {
  process.send({ bye: true });
} else {
  process.send({ ready: true, fd: typeof process.env.NODE_CHANNEL_FD, foo: process.env.FOO ?? null });
  process.on('message', (m) => {
    switch (m.cmd) {
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
