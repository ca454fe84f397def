// test-stream-writable-destroy: destroy(err) from inside _write, before its callback:
// the stream is destroyed synchronously, 'error' then 'close', no 'finish'; the end
// callback gets the error.
'use strict';
const { Writable } = require('stream');
const { log, errName } = require('./trace');
const w = new Writable({
  write(chunk, enc, cb) {
    log('w _write', chunk.toString());
    this.destroy(new Error('asd'));
    log('w after destroy destroyed', this.destroyed, 'writing', this._writableState.writing);
    cb();
    log('w after cb length', this.writableLength);
  },
});
w.on('error', (e) => log('w error', errName(e)));
w.on('finish', () => log('w finish'));
w.on('prefinish', () => log('w prefinish'));
w.on('close', () => log('w close'));
w.end(Buffer.from('asd'), (e) => log('end cb', errName(e)));
log('destroyed', w.destroyed, 'ended', w.writableEnded, 'finished', w.writableFinished);
