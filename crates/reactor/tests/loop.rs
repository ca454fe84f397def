//! The loop itself: run modes, alive-ness, stop, time, poll timeout, close, phase order.
//! Ported from libuv's test-loop-*.c, test-run-*.c, test-idle.c, test-close-order.c,
//! test-loop-handles.c and test-active.c, one test per libuv test, same names.

mod util;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use millrace_reactor::{queue_work, Check, Error, Handle, Idle, Loop, Prepare, RunMode, Timer};
use util::{make_valgrind_happy, Counter};

// test-close-order.c: the check callback runs before any close callback of the same
// iteration, whatever was closed first.
#[test]
fn close_order() {
    let lp = Loop::new().unwrap();
    let check_cb_called = Counter::new();
    let timer_cb_called = Counter::new();
    let close_cb_called = Counter::new();

    let check = Check::new(&lp);
    let timer1 = Timer::new(&lp);
    let timer2 = Timer::new(&lp);

    let (ck, tm, cl, t2) = (check_cb_called.clone(), timer_cb_called.clone(), close_cb_called.clone(), timer2.clone());
    check
        .start(move |h| {
            assert_eq!(ck.get(), 0);
            assert_eq!(tm.get(), 1);
            assert_eq!(cl.get(), 0);
            let c = cl.clone();
            h.close(move |_| {
                c.inc();
            });
            let c = cl.clone();
            t2.close(move |_| {
                c.inc();
            });
            ck.inc();
        })
        .unwrap();
    let timer_cb = |tm: Counter, cl: Counter| {
        move |h: &Timer| {
            let c = cl.clone();
            h.close(move |_| {
                c.inc();
            });
            tm.inc();
        }
    };
    timer1.start(0, 0, timer_cb(timer_cb_called.clone(), close_cb_called.clone())).unwrap();
    timer2.start(100_000, 0, timer_cb(timer_cb_called.clone(), close_cb_called.clone())).unwrap();

    assert_eq!(check_cb_called.get(), 0);
    assert_eq!(close_cb_called.get(), 0);
    assert_eq!(timer_cb_called.get(), 0);

    lp.run(RunMode::Default);

    assert_eq!(check_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 3);
    assert_eq!(timer_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-idle.c: an active idle watcher does not starve timers or check watchers.
#[test]
fn idle_starvation() {
    let lp = Loop::new().unwrap();
    let idle_cb_called = Counter::new();
    let check_cb_called = Counter::new();
    let timer_cb_called = Counter::new();
    let close_cb_called = Counter::new();

    let idle = Idle::new(&lp);
    let c = idle_cb_called.clone();
    idle.start(move |_| {
        c.inc();
    })
    .unwrap();
    let check = Check::new(&lp);
    let c = check_cb_called.clone();
    check
        .start(move |_| {
            c.inc();
        })
        .unwrap();
    let timer = Timer::new(&lp);
    let (i, ck, tm, cl) = (idle.clone(), check.clone(), timer_cb_called.clone(), close_cb_called.clone());
    timer
        .start(50, 0, move |t| {
            for h in [&i as &dyn CloseWith, &ck, t] {
                let c = cl.clone();
                h.close_with(Box::new(move || {
                    c.inc();
                }));
            }
            tm.inc();
        })
        .unwrap();

    assert!(!lp.run(RunMode::Default));

    assert!(idle_cb_called.get() > 0);
    assert!(check_cb_called.get() > 0);
    assert_eq!(timer_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 3);
    make_valgrind_happy(&lp);
}

/// Closes handles of different types from one list.
trait CloseWith {
    fn close_with(&self, cb: Box<dyn FnOnce()>);
}

impl<H: Handle> CloseWith for H {
    fn close_with(&self, cb: Box<dyn FnOnce()>) {
        self.close(move |_| cb());
    }
}

// test-idle.c: an idle watcher that stops itself; the check watcher still runs once per
// iteration and keeps the loop alive.
#[test]
fn idle_check() {
    let lp = Loop::new().unwrap();
    let check_cb_called = Counter::new();
    let close_cb_called = Counter::new();

    let idle = Idle::new(&lp);
    idle.start(|h| h.stop()).unwrap();
    let check = Check::new(&lp);
    let c = check_cb_called.clone();
    check
        .start(move |_| {
            c.inc();
        })
        .unwrap();

    assert!(lp.run(RunMode::Once));
    assert_eq!(check_cb_called.get(), 1);

    assert_eq!(close_cb_called.get(), 0);
    let c = close_cb_called.clone();
    idle.close(move |_| {
        c.inc();
    });
    let c = close_cb_called.clone();
    check.close(move |_| {
        c.inc();
    });
    assert!(!lp.run(RunMode::Once));
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-loop-alive.c: a loop is alive while an active handle or a request exists.
#[test]
fn loop_alive() {
    let lp = Loop::new().unwrap();
    assert!(!lp.alive());

    // Loops with handles are alive.
    let timer = Timer::new(&lp);
    timer.start(100, 0, |_| {}).unwrap();
    assert!(lp.alive());

    assert!(!lp.run(RunMode::Default));
    assert!(!lp.alive());

    // Loops with requests are alive.
    let after_work_cb_called = Counter::new();
    let c = after_work_cb_called.clone();
    queue_work(
        &lp,
        || {},
        move |status| {
            assert_eq!(status, Ok(()));
            c.inc();
        },
    );
    assert!(lp.alive());

    assert!(!lp.run(RunMode::Default));
    assert!(!lp.alive());
    assert_eq!(after_work_cb_called.get(), 1);

    timer.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-run-once.c: `run(Once)` returns true while the idle watcher is active, and
// each call runs one iteration.
#[test]
fn run_once() {
    const NUM_TICKS: usize = 64;
    let lp = Loop::new().unwrap();
    let idle_counter = Counter::new();
    let idle = Idle::new(&lp);
    let c = idle_counter.clone();
    idle.start(move |h| {
        if c.inc() == NUM_TICKS {
            h.stop();
        }
    })
    .unwrap();

    while lp.run(RunMode::Once) {}
    assert_eq!(idle_counter.get(), NUM_TICKS);

    idle.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-run-nowait.c: `run(NoWait)` does not wait for a timer that is not due.
#[test]
fn run_nowait() {
    let lp = Loop::new().unwrap();
    let timer_called = Counter::new();
    let timer = Timer::new(&lp);
    let c = timer_called.clone();
    timer
        .start(100, 100, move |_| {
            c.inc();
        })
        .unwrap();

    assert!(lp.run(RunMode::NoWait));
    assert_eq!(timer_called.get(), 0);

    timer.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-loop-stop.c: `stop` ends the current `run` after the iteration; the next `run`
// goes on where it left off.
#[test]
fn loop_stop() {
    const NUM_TICKS: usize = 10;
    let lp = Loop::new().unwrap();
    let prepare_called = Counter::new();
    let timer_called = Counter::new();

    let prepare = Prepare::new(&lp);
    let c = prepare_called.clone();
    prepare
        .start(move |h| {
            if c.inc() == NUM_TICKS {
                h.stop();
            }
        })
        .unwrap();
    let timer = Timer::new(&lp);
    let c = timer_called.clone();
    timer
        .start(100, 100, move |h| {
            let n = c.inc();
            if n == 1 {
                h.get_loop().stop();
            } else if n == NUM_TICKS {
                h.stop();
            }
        })
        .unwrap();

    assert!(lp.run(RunMode::Default));
    assert_eq!(timer_called.get(), 1);

    assert!(lp.run(RunMode::NoWait));
    assert!(prepare_called.get() > 1);

    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_called.get(), 10);
    assert_eq!(prepare_called.get(), 10);

    prepare.close(|_| {});
    timer.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-loop-stop.c: a `stop` before `run` makes it return at once (alive), without
// running even a timer that is due.
#[test]
fn loop_stop_before_run() {
    let lp = Loop::new().unwrap();
    let timer = Timer::new(&lp);
    timer.start(0, 0, |_| panic!("timer ran although the loop was stopped")).unwrap();
    lp.stop();
    assert!(lp.run(RunMode::Default));

    timer.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-loop-time.c: `run(NoWait)` on an empty loop updates the loop time.
#[test]
fn loop_update_time() {
    let lp = Loop::new().unwrap();
    let start = lp.now();
    while lp.now() - start < 1000 {
        assert!(!lp.run(RunMode::NoWait));
    }
    make_valgrind_happy(&lp);
}

// test-loop-time.c: the poll timeout is 0 without active handles, the time to the next
// timer with one, and 0 again once the loop has run out. libuv bumps
// `loop->active_handles` by hand for the first part; an active idle watcher does it
// here.
#[test]
fn loop_backend_timeout() {
    let lp = Loop::new().unwrap();

    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    assert!(lp.run(RunMode::NoWait));
    idle.close(|_| {});
    assert!(!lp.run(RunMode::NoWait));
    assert!(!lp.alive());

    let timer = Timer::new(&lp);
    assert!(!lp.alive());
    assert_eq!(lp.backend_timeout(), 0);

    timer.start(1000, 0, |t| t.close(|_| {})).unwrap(); // 1 s
    assert_eq!(lp.backend_timeout(), 1000);

    assert!(!lp.run(RunMode::Default));
    assert_eq!(lp.backend_timeout(), 0);
    make_valgrind_happy(&lp);
}

// test-loop-close.c: `close` is refused with EBUSY while a handle is open, and succeeds
// once it is closed.
#[test]
fn loop_close() {
    let lp = Loop::new().unwrap();
    let timer = Timer::new(&lp);
    timer.start(100, 100, |t| t.get_loop().stop()).unwrap();

    assert_eq!(lp.close(), Err(Error::EBUSY));

    lp.run(RunMode::Default);

    timer.close(|_| {});
    assert!(!lp.run(RunMode::Default));

    assert_eq!(lp.close(), Ok(()));
}

// test-loop-close.c: libuv cannot clean up a loop closed with work queued; here the
// close is refused with EBUSY until the work's `after` callback has run.
#[test]
fn loop_instant_close() {
    let lp = Loop::new().unwrap();
    let after = Counter::new();
    let a = after.clone();
    queue_work(
        &lp,
        || {},
        move |_| {
            a.inc();
        },
    );
    assert_eq!(lp.close(), Err(Error::EBUSY));
    assert!(!lp.run(RunMode::Default));
    assert_eq!(after.get(), 1);
    assert_eq!(lp.close(), Ok(()));
}

// test-default-loop-close.c: after the default loop is closed, asking for the default
// loop again gives a fresh one that runs. `Loop::current` is the thread's default loop.
#[test]
fn default_loop_close() {
    let timer_cb_called = Counter::new();
    let timer_cb = |c: Counter| {
        move |t: &Timer| {
            c.inc();
            t.close(|_| {});
        }
    };

    let lp = Loop::current();
    let timer_handle = Timer::new(&lp);
    timer_handle.start(1, 0, timer_cb(timer_cb_called.clone())).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_cb_called.get(), 1);
    assert_eq!(lp.close(), Ok(()));

    let lp = Loop::current();
    let timer_handle = Timer::new(&lp);
    timer_handle.start(1, 0, timer_cb(timer_cb_called.clone())).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-loop-handles.c: idle, prepare and check watchers started, stopped, closed and
// re-created from each other's callbacks; a watcher started during its own phase waits
// for the next iteration. An unref'd timer keeps the poll from blocking forever without
// keeping the loop alive.
#[test]
fn loop_handles() {
    const IDLE_COUNT: usize = 7;
    const ITERATIONS: usize = 21;
    const TIMEOUT: u64 = 100;

    #[derive(Default)]
    struct State {
        loop_iteration: Cell<usize>,
        prepare_1_cb_called: Cell<usize>,
        prepare_1_close_cb_called: Cell<usize>,
        prepare_2_cb_called: Cell<usize>,
        prepare_2_close_cb_called: Cell<usize>,
        check_cb_called: Cell<usize>,
        check_close_cb_called: Cell<usize>,
        idle_1_cb_called: Cell<usize>,
        idle_1_close_cb_called: Cell<usize>,
        idles_1_active: Cell<usize>,
        idle_2_cb_called: Cell<usize>,
        idle_2_close_cb_called: Cell<usize>,
        idle_2_cb_started: Cell<usize>,
        idle_2_is_active: Cell<bool>,
        idle_2: RefCell<Option<Idle>>,
    }
    fn bump(c: &Cell<usize>) -> usize {
        c.set(c.get() + 1);
        c.get()
    }

    let lp = Loop::new().unwrap();
    let s = Rc::new(State::default());

    let prepare_1 = Prepare::new(&lp);
    let prepare_2 = Prepare::new(&lp);
    let check = Check::new(&lp);
    let idle_1: Vec<Idle> = (0..IDLE_COUNT).map(|_| Idle::new(&lp)).collect();

    let idle_2_cb = {
        let s = s.clone();
        move |h: &Idle| {
            bump(&s.idle_2_cb_called);
            let s = s.clone();
            h.close(move |_| {
                assert!(s.idle_2_is_active.get());
                bump(&s.idle_2_close_cb_called);
                s.idle_2_is_active.set(false);
            });
        }
    };

    let idle_1_cb = {
        let (s, lp) = (s.clone(), lp.clone());
        move |h: &Idle| {
            assert!(s.idles_1_active.get() > 0);
            // Create idle_2 and make it active, unless it is already closing or closed.
            let closing = s.idle_2.borrow().as_ref().is_some_and(|i| i.is_closing());
            if !s.idle_2_is_active.get() && !closing {
                let idle_2 = Idle::new(&lp);
                idle_2.start(idle_2_cb.clone()).unwrap();
                *s.idle_2.borrow_mut() = Some(idle_2);
                s.idle_2_is_active.set(true);
                bump(&s.idle_2_cb_started);
            }
            if bump(&s.idle_1_cb_called) % 5 == 0 {
                h.stop();
                s.idles_1_active.set(s.idles_1_active.get() - 1);
            }
        }
    };

    let prepare_2_cb = {
        let s = s.clone();
        move |h: &Prepare| {
            // prepare_2 is started by prepare_1 when the iteration is even and stops
            // itself at once; started during the prepare phase, it runs only in the
            // next iteration, when the count is odd.
            assert_ne!(s.loop_iteration.get() % 2, 0);
            h.stop();
            bump(&s.prepare_2_cb_called);
        }
    };

    {
        let (s, p2) = (s.clone(), prepare_2.clone());
        prepare_1
            .start(move |_| {
                if s.loop_iteration.get() % 2 == 0 {
                    p2.start(prepare_2_cb.clone()).unwrap();
                }
                bump(&s.prepare_1_cb_called);
                bump(&s.loop_iteration);
            })
            .unwrap();
    }

    {
        let (s, p1, p2, idles) = (s.clone(), prepare_1.clone(), prepare_2.clone(), idle_1.clone());
        check
            .start(move |h| {
                let iteration = s.loop_iteration.get();
                if iteration < ITERATIONS {
                    // Make some idle watchers active.
                    for idle in &idles[..1 + iteration % IDLE_COUNT] {
                        idle.start(idle_1_cb.clone()).unwrap();
                        bump(&s.idles_1_active);
                    }
                } else {
                    // End of the test: close every handle.
                    let s1 = s.clone();
                    p1.close(move |_| {
                        bump(&s1.prepare_1_close_cb_called);
                    });
                    let s1 = s.clone();
                    h.close(move |_| {
                        bump(&s1.check_close_cb_called);
                    });
                    let s1 = s.clone();
                    p2.close(move |_| {
                        bump(&s1.prepare_2_close_cb_called);
                    });
                    for idle in &idles {
                        let s1 = s.clone();
                        idle.close(move |_| {
                            bump(&s1.idle_1_close_cb_called);
                        });
                    }
                    // idle_2 closes itself; close it here only if it is active.
                    if s.idle_2_is_active.get() {
                        let s1 = s.clone();
                        let idle_2 = s.idle_2.borrow().clone().unwrap();
                        idle_2.close(move |_| {
                            bump(&s1.idle_2_close_cb_called);
                            s1.idle_2_is_active.set(false);
                        });
                    }
                }
                bump(&s.check_cb_called);
            })
            .unwrap();
    }

    let timer = Timer::new(&lp);
    timer.start(TIMEOUT, TIMEOUT, |_| {}).unwrap();
    timer.unref();

    assert!(!lp.run(RunMode::Default));

    assert_eq!(s.loop_iteration.get(), ITERATIONS);
    assert_eq!(s.prepare_1_cb_called.get(), ITERATIONS);
    assert_eq!(s.prepare_1_close_cb_called.get(), 1);
    assert_eq!(s.prepare_2_cb_called.get(), ITERATIONS / 2);
    assert_eq!(s.prepare_2_close_cb_called.get(), 1);
    assert_eq!(s.check_cb_called.get(), ITERATIONS);
    assert_eq!(s.check_close_cb_called.get(), 1);
    // idle_1_cb is called a lot.
    assert!(s.idle_1_cb_called.get() > 0);
    assert_eq!(s.idle_1_close_cb_called.get(), IDLE_COUNT);
    assert_eq!(s.idle_2_close_cb_called.get(), s.idle_2_cb_started.get());
    assert!(!s.idle_2_is_active.get());

    timer.close(|_| {});
    s.idle_2.borrow_mut().take();
    make_valgrind_happy(&lp);
}

// test-active.c: `is_active` and `is_closing` through start, stop, restart and close.
#[test]
fn active() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let timer = Timer::new(&lp);

    assert!(!timer.is_active());
    assert!(!timer.is_closing());

    timer.start(1000, 0, |_| panic!("timer_cb should not have been called")).unwrap();
    assert!(timer.is_active());
    assert!(!timer.is_closing());

    timer.stop();
    assert!(!timer.is_active());
    assert!(!timer.is_closing());

    timer.start(1000, 0, |_| panic!("timer_cb should not have been called")).unwrap();
    assert!(timer.is_active());
    assert!(!timer.is_closing());

    let c = close_cb_called.clone();
    timer.close(move |_| {
        c.inc();
    });
    assert!(!timer.is_active());
    assert!(timer.is_closing());

    assert!(!lp.run(RunMode::Default));
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}
