// process.nextTick and queueMicrotask (processTicksAndRejections): every queued tick runs,
// then every microtask (those queued by microtasks too), then the ticks the microtasks
// queued; the same after an immediate's and a timer's callback.
'use strict';
const { log } = require('./trace');
const round = (name) => {
  process.nextTick(() => {
    log(name, 't1');
    queueMicrotask(() => log(name, 'm from t1'));
    process.nextTick(() => log(name, 't from t1'));
  });
  queueMicrotask(() => {
    log(name, 'm1');
    process.nextTick(() => {
      log(name, 't from m1');
      queueMicrotask(() => log(name, 'm from t from m1'));
    });
    queueMicrotask(() => log(name, 'm from m1'));
  });
  process.nextTick(() => log(name, 't2'));
  log(name, 'sync end');
};
round('main');
setImmediate(() => {
  round('immediate');
  setTimeout(() => {
    round('timer');
    setImmediate(() => log('last immediate'));
  }, 1);
});
