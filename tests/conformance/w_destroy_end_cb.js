// test-stream-writable-destroy: end(cb) on a stream that errored and was destroyed gets
// ERR_STREAM_DESTROYED on a next tick; after 'finish' and destroy it gets
// ERR_STREAM_ALREADY_FINISHED; end(chunk, cb) followed by destroy(err) hands the error to
// the end callback and to 'error'.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
function step1(next) {
  const w = new Writable({ write(chunk, enc, cb) { cb(new Error('asd')); } });
  w.on('error', (e) => {
    log('a error', errName(e));
    w.destroy();
    let ticked = false;
    w.end((err) => log('a end cb', errName(err), 'ticked', ticked));
    ticked = true;
  });
  w.on('close', () => { log('a close'); next(); });
  w.write(Buffer.from('asd'));
}
function step2(next) {
  const w = new Writable({ write(chunk, enc, cb) { cb(); } });
  w.on('finish', () => {
    log('b finish');
    w.destroy();
    let ticked = false;
    w.end((err) => log('b end cb', errName(err), 'ticked', ticked));
    ticked = true;
  });
  w.on('close', () => { log('b close'); next(); });
  w.end();
}
function step3(next) {
  const w = new Writable({ write(chunk, enc, cb) { log('c _write'); process.nextTick(cb); } });
  w.once('error', (e) => log('c error', errName(e)));
  w.on('close', () => { log('c close'); next(); });
  w.end(Buffer.from('asd'), (err) => log('c end cb', errName(err)));
  w.destroy(new Error('asd'));
}
step1(() => step2(() => step3(() => log('done'))));
