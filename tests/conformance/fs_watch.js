// fs.watch and fs.watchFile. A watched directory: a file created (rename, then change
// for its first write), appended to (change), chmod'ed (change), renamed (rename for
// both names), a subdirectory made (rename), the file deleted (rename), then close
// ('close' on the next tick; later changes are not reported). A watched file: appended
// to (change, with its own name), then deleted (change for the link count, rename for
// the deletion, rename again as the kernel drops the watch). A path that does not exist
// (what throws). fs.watchFile: a change of size (current, previous), unwatchFile and
// 'stop'; a missing file (reported once, zeroed) that then appears. One step every
// 40 ms, so that no two operations' events merge.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log } = require('./trace');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'millrace-fs-watch-'));
const rel = (s) => String(s).split(dir).join('DIR');
const steps = [];
const step = (f) => steps.push(f);
const next = () => {
  const f = steps.shift();
  if (f) setTimeout(() => { f(); next(); }, 40);
};

let w;
step(() => {
  w = fs.watch(dir, (type, name) => log('dir', type, name));
  w.on('close', () => log('dir close'));
  w.on('error', (e) => log('dir error', e.code));
  log('watching dir');
});
step(() => fs.writeFileSync(path.join(dir, 'a'), 'x'));
step(() => fs.appendFileSync(path.join(dir, 'a'), 'y'));
step(() => fs.chmodSync(path.join(dir, 'a'), 0o600));
step(() => fs.renameSync(path.join(dir, 'a'), path.join(dir, 'b')));
step(() => fs.mkdirSync(path.join(dir, 'sub')));
step(() => fs.unlinkSync(path.join(dir, 'b')));
step(() => {
  w.close();
  w.close();
  log('closed dir watcher');
  fs.writeFileSync(path.join(dir, 'after-close'), 'z');
});
let f;
step(() => {
  fs.writeFileSync(path.join(dir, 'file'), 'abc');
});
step(() => {
  f = fs.watch(path.join(dir, 'file'));
  f.on('change', (type, name) => log('file', type, name));
  f.on('close', () => log('file close'));
  log('watching file');
});
step(() => fs.appendFileSync(path.join(dir, 'file'), 'd'));
step(() => fs.unlinkSync(path.join(dir, 'file')));
step(() => {
  f.close();
  try {
    fs.watch(path.join(dir, 'missing'));
    log('watch missing no throw');
  } catch (e) {
    log('watch missing throws', e.code, e.errno, e.syscall, rel(e.path), rel(e.filename), rel(e.message));
  }
});
const sizes = (curr, prev) => `${curr.size} ${prev.size} ${curr.isFile()} ${prev.isFile()} ${prev.mtimeMs === 0}`;
let sw;
step(() => {
  fs.writeFileSync(path.join(dir, 'polled'), 'one');
  sw = fs.watchFile(path.join(dir, 'polled'), { interval: 10 }, (curr, prev) => log('polled change', sizes(curr, prev)));
  sw.on('stop', () => log('polled stop'));
});
step(() => fs.writeFileSync(path.join(dir, 'polled'), 'three'));
step(() => {
  fs.unwatchFile(path.join(dir, 'polled'));
  log('unwatched');
});
step(() => {
  fs.watchFile(path.join(dir, 'later'), { interval: 10 }, (curr, prev) => log('later change', sizes(curr, prev)));
});
step(() => fs.writeFileSync(path.join(dir, 'later'), 'now'));
step(() => {
  fs.unwatchFile(path.join(dir, 'later'));
  fs.rmSync(dir, { recursive: true });
  log('done');
});
next();
