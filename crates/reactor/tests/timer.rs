//! Timers. Ported from libuv's test-timer.c, test-timer-again.c and
//! test-timer-from-check.c, one test per libuv test, same names.

mod util;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use millrace_reactor::{Check, Error, Handle, Loop, Prepare, RunMode, Timer};
use util::{make_valgrind_happy, Counter};

fn never_cb(_: &Timer) {
    panic!("never_cb should never be called");
}

// test-timer.c: ten one-shot timers, a repeating timer closed after five calls, and a
// stopped, unref'd timer that never runs. (libuv also asserts `uv_now() > 0` at the
// start: its clock counts from boot, ours from the loop's creation.)
#[test]
fn timer() {
    let lp = Loop::new().unwrap();
    let once_cb_called = Counter::new();
    let once_close_cb_called = Counter::new();
    let repeat_cb_called = Counter::new();
    let repeat_close_cb_called = Counter::new();
    let start_time = lp.now();

    // Let 10 timers time out in 500 ms total.
    let once_timers: Vec<Timer> = (0..10).map(|_| Timer::new(&lp)).collect();
    for (i, once) in once_timers.iter().enumerate() {
        let (called, closed) = (once_cb_called.clone(), once_close_cb_called.clone());
        once.start(i as u64 * 50, 0, move |h| {
            assert!(!h.is_active());
            called.inc();
            let closed = closed.clone();
            h.close(move |h| {
                assert!(!h.is_active());
                closed.inc();
            });
            // Just call this randomly for the code coverage.
            h.get_loop().update_time();
        })
        .unwrap();
    }

    // The 11th timer is a repeating timer that runs 5 times.
    let repeat = Timer::new(&lp);
    let (called, closed) = (repeat_cb_called.clone(), repeat_close_cb_called.clone());
    repeat
        .start(100, 100, move |h| {
            assert!(h.is_active());
            if called.inc() == 5 {
                let closed = closed.clone();
                h.close(move |_| {
                    closed.inc();
                });
            }
        })
        .unwrap();

    // The 12th timer should not do anything.
    let never = Timer::new(&lp);
    never.start(100, 100, never_cb).unwrap();
    never.stop();
    never.unref();

    assert!(!lp.run(RunMode::Default));

    assert_eq!(once_cb_called.get(), 10);
    assert_eq!(once_close_cb_called.get(), 10);
    assert_eq!(repeat_cb_called.get(), 5);
    assert_eq!(repeat_close_cb_called.get(), 1);
    assert!(lp.now() - start_time >= 500);

    never.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-timer.c: starting a started timer replaces its timeout and callback.
#[test]
fn timer_start_twice() {
    let lp = Loop::new().unwrap();
    let twice_cb_called = Counter::new();
    let once = Timer::new(&lp);
    once.start(86_400 * 1000, 0, never_cb).unwrap();
    let c = twice_cb_called.clone();
    once.start(10, 0, move |h| {
        assert!(!h.is_active());
        c.inc();
        h.close(|h| assert!(!h.is_active()));
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(twice_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-timer.c: a new timer has no repeat, is due in 0 and is not active.
#[test]
fn timer_init() {
    let lp = Loop::new().unwrap();
    let handle = Timer::new(&lp);
    assert_eq!(handle.repeat(), 0);
    assert_eq!(handle.due_in(), 0);
    assert!(!handle.is_active());
    handle.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-timer.c: timers with equal deadlines run in the order they were started, both
// ways round.
#[test]
fn timer_order() {
    let lp = Loop::new().unwrap();
    let order_cb_called = Counter::new();
    let handle_a = Timer::new(&lp);
    let handle_b = Timer::new(&lp);
    let order_cb = |expected: usize| {
        let called = order_cb_called.clone();
        move |_: &Timer| {
            assert_eq!(called.get(), expected);
            called.inc();
        }
    };

    // Start handle_a, then handle_b.
    handle_a.start(0, 0, order_cb(0)).unwrap();
    handle_b.start(0, 0, order_cb(1)).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(order_cb_called.get(), 2);

    handle_a.stop();
    handle_b.stop();

    // Start handle_b, then handle_a.
    order_cb_called.set(0);
    handle_b.start(0, 0, order_cb(0)).unwrap();
    handle_a.start(0, 0, order_cb(1)).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(order_cb_called.get(), 2);

    handle_a.close(|_| {});
    handle_b.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-timer.c: a zero-timeout timer restarted from its own callback does not run
// again in the same timers phase.
#[test]
fn timer_zero_timeout() {
    let lp = Loop::new().unwrap();
    let zero_timeout_cb_calls = Counter::new();
    let timer = Timer::new(&lp);
    fn zero_timeout_cb(calls: Counter) -> impl FnMut(&Timer) {
        move |h| {
            h.start(0, 0, zero_timeout_cb(calls.clone())).unwrap();
            h.get_loop().stop();
            calls.inc();
        }
    }
    timer.start(0, 0, zero_timeout_cb(zero_timeout_cb_calls.clone())).unwrap();
    assert!(lp.run(RunMode::Default)); // because of stop()
    assert_eq!(zero_timeout_cb_calls.get(), 1);
    timer.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    assert_eq!(zero_timeout_cb_calls.get(), 1);
    make_valgrind_happy(&lp);
}

// test-timer.c: a huge timeout saturates instead of wrapping round to "due now".
#[test]
fn timer_huge_timeout() {
    let lp = Loop::new().unwrap();
    let tiny_timer = Timer::new(&lp);
    let huge_timer1 = Timer::new(&lp);
    let huge_timer2 = Timer::new(&lp);
    let tiny_timer_cb = {
        let timers = [tiny_timer.clone(), huge_timer1.clone(), huge_timer2.clone()];
        move |h: &Timer| {
            assert!(h.get_loop().now() < 1_000_000, "a huge timer fired");
            for t in &timers {
                t.close(|_| {});
            }
        }
    };
    tiny_timer.start(1, 0, tiny_timer_cb.clone()).unwrap();
    huge_timer1.start(0xffff_ffff_ffff, 0, tiny_timer_cb.clone()).unwrap();
    huge_timer2.start(u64::MAX, 0, tiny_timer_cb).unwrap();
    assert_eq!(tiny_timer.due_in(), 1);
    assert_eq!(huge_timer1.due_in(), 281_474_976_710_655);
    assert!(huge_timer2.due_in() >= huge_timer1.due_in());
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-timer.c: a timer repeating every u64::MAX ms fires once; the tiny timer beside
// it keeps firing.
#[test]
fn timer_huge_repeat() {
    let lp = Loop::new().unwrap();
    let tiny_timer = Timer::new(&lp);
    let huge_timer1 = Timer::new(&lp);
    let ncalls = Counter::new();
    let huge_repeat_cb = |is_huge: bool| {
        let (tiny, huge) = (tiny_timer.clone(), huge_timer1.clone());
        let ncalls = ncalls.clone();
        move |_: &Timer| {
            // The first call is the huge timer's; every later one is the tiny timer's.
            assert_eq!(is_huge, ncalls.get() == 0);
            if ncalls.inc() == 10 {
                tiny.close(|_| {});
                huge.close(|_| {});
            }
        }
    };
    tiny_timer.start(2, 2, huge_repeat_cb(false)).unwrap();
    huge_timer1.start(1, u64::MAX, huge_repeat_cb(true)).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(ncalls.get(), 10);
    make_valgrind_happy(&lp);
}

// test-timer.c: `run(Once)` waits for a timer that is not yet due, runs it, and
// returns false once nothing is left.
#[test]
fn timer_run_once() {
    let lp = Loop::new().unwrap();
    let called = Counter::new();
    let timer_handle = Timer::new(&lp);
    let cb = {
        let called = called.clone();
        move |_: &Timer| {
            called.inc();
        }
    };
    timer_handle.start(0, 0, cb.clone()).unwrap();
    assert!(!lp.run(RunMode::Once));
    assert_eq!(called.get(), 1);

    timer_handle.start(1, 0, cb).unwrap();
    assert!(!lp.run(RunMode::Once));
    assert_eq!(called.get(), 2);

    timer_handle.close(|_| {});
    assert!(!lp.run(RunMode::Once));
    make_valgrind_happy(&lp);
}

// test-timer.c: starting a closing timer is EINVAL.
#[test]
fn timer_is_closing() {
    let lp = Loop::new().unwrap();
    let handle = Timer::new(&lp);
    handle.close(|_| {});
    assert_eq!(handle.start(100, 100, never_cb), Err(Error::EINVAL));
    assert!(!handle.is_active());
    make_valgrind_happy(&lp);
}

// test-timer.c: libuv refuses a NULL callback with EINVAL. A Rust closure cannot be
// null; the nearest misuse, `again` on a timer never started (so without a callback),
// is refused the same way and leaves the timer inactive.
#[test]
fn timer_null_callback() {
    let lp = Loop::new().unwrap();
    let handle = Timer::new(&lp);
    assert_eq!(handle.again(), Err(Error::EINVAL));
    assert!(!handle.is_active());
    assert!(!lp.run(RunMode::Default));
    handle.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-timer.c: a timer never fires before its deadline by the uncached clock.
#[test]
fn timer_early_check() {
    const TIMEOUT_MS: u64 = 10;
    let lp = Loop::new().unwrap();
    let called = Counter::new();
    let expected_time = lp.now() + TIMEOUT_MS;
    let timer_handle = Timer::new(&lp);
    let c = called.clone();
    timer_handle
        .start(TIMEOUT_MS, 0, move |h| {
            let hrtime_ms = h.get_loop().hrtime() / 1_000_000;
            assert!(hrtime_ms >= expected_time, "fired at {hrtime_ms} ms, due at {expected_time} ms");
            c.inc();
        })
        .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(called.get(), 1);
    timer_handle.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-timer.c: timer_no_double_call_once / _nowait: a repeating timer overdue by two
// periods runs once per iteration, not once per missed period.
fn no_double_call(mode: RunMode) {
    const TIMEOUT_MS: u64 = 10;
    let lp = Loop::new().unwrap();
    let called = Counter::new();
    let timer_handle = Timer::new(&lp);
    let c = called.clone();
    timer_handle
        .start(TIMEOUT_MS, TIMEOUT_MS, move |_| {
            c.inc();
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(TIMEOUT_MS * 2));
    assert!(lp.run(mode));
    assert_eq!(called.get(), 1);
    timer_handle.close(|_| {});
    make_valgrind_happy(&lp);
}

#[test]
fn timer_no_double_call_once() {
    no_double_call(RunMode::Once);
}

#[test]
fn timer_no_double_call_nowait() {
    no_double_call(RunMode::NoWait);
}

// test-timer.c: an unref'd timer, even one due now, does not run: the loop is not alive.
#[test]
fn timer_no_run_on_unref() {
    let lp = Loop::new().unwrap();
    let timer_handle = Timer::new(&lp);
    timer_handle.start(0, 0, never_cb).unwrap();
    timer_handle.unref();
    assert!(!lp.run(RunMode::Default));
    timer_handle.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-timer-again.c: `again` restarts a repeating timer from now; `set_repeat` takes
// effect at the next expiry; `again` on a timer never started is EINVAL.
#[test]
fn timer_again() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let repeat_1_cb_called = Counter::new();
    let repeat_2_cb_called = Counter::new();
    let repeat_2_cb_allowed = Rc::new(std::cell::Cell::new(false));

    // It is not possible to `again` a never-started timer.
    let dummy = Timer::new(&lp);
    assert_eq!(dummy.again(), Err(Error::EINVAL));
    dummy.unref();

    let repeat_1 = Timer::new(&lp);
    let repeat_2 = Timer::new(&lp);

    // Start repeat_1 without a repeat...
    let (r2, called, allowed, closed) =
        (repeat_2.clone(), repeat_1_cb_called.clone(), repeat_2_cb_allowed.clone(), close_cb_called.clone());
    repeat_1
        .start(50, 0, move |h| {
            assert_eq!(h.repeat(), 50);
            let n = called.inc();
            assert_eq!(r2.again(), Ok(()));
            if n == 10 {
                let closed = closed.clone();
                h.close(move |_| {
                    closed.inc();
                });
                // Nothing restarts repeat_2 any more, so now it may fire.
                allowed.set(true);
            }
        })
        .unwrap();
    assert_eq!(repeat_1.repeat(), 0);

    // ...then make it repeat.
    repeat_1.set_repeat(50);
    assert_eq!(repeat_1.repeat(), 50);

    // repeat_2 is restarted by repeat_1 every time, so it does not fire until
    // repeat_1 is closed.
    let (called, allowed, closed) = (repeat_2_cb_called.clone(), repeat_2_cb_allowed.clone(), close_cb_called.clone());
    repeat_2
        .start(100, 100, move |h| {
            assert!(allowed.get());
            called.inc();
            if h.repeat() == 0 {
                assert!(!h.is_active());
                let closed = closed.clone();
                h.close(move |_| {
                    closed.inc();
                });
                return;
            }
            assert_eq!(h.repeat(), 100);
            // This does not take effect at once.
            h.set_repeat(0);
        })
        .unwrap();
    assert_eq!(repeat_2.repeat(), 100);

    assert!(!lp.run(RunMode::Default));

    assert_eq!(repeat_1_cb_called.get(), 10);
    assert_eq!(repeat_2_cb_called.get(), 2);
    assert_eq!(close_cb_called.get(), 2);

    dummy.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-timer-from-check.c: a timer restarted from a check callback runs after a
// prepare watcher started there too, in a later iteration.
#[test]
fn timer_from_check() {
    let lp = Loop::new().unwrap();
    let prepare_cb_called = Counter::new();
    let check_cb_called = Counter::new();
    let timer_cb_called = Counter::new();
    let prepare_handle = Prepare::new(&lp);
    let check_handle = Check::new(&lp);
    let timer_handle = Timer::new(&lp);

    let timer_cb = {
        let (p, c, t) = (prepare_cb_called.clone(), check_cb_called.clone(), timer_cb_called.clone());
        move |h: &Timer| {
            h.stop();
            assert_eq!(p.get(), 1);
            assert_eq!(c.get(), 1);
            assert_eq!(t.get(), 0);
            t.inc();
        }
    };
    let prepare_cb = {
        let (p, c, t) = (prepare_cb_called.clone(), check_cb_called.clone(), timer_cb_called.clone());
        move |h: &Prepare| {
            h.stop();
            assert_eq!(p.get(), 0);
            assert_eq!(c.get(), 1);
            assert_eq!(t.get(), 0);
            p.inc();
        }
    };
    let check_cb = {
        let (p, c, t) = (prepare_cb_called.clone(), check_cb_called.clone(), timer_cb_called.clone());
        let (timer, prepare) = (timer_handle.clone(), prepare_handle.clone());
        let timer_cb = timer_cb.clone();
        let prepare_cb = RefCell::new(Some(prepare_cb));
        move |h: &Check| {
            h.stop();
            timer.stop(); // Runs before timer_cb.
            timer.start(50, 0, timer_cb.clone()).unwrap();
            prepare.start(prepare_cb.borrow_mut().take().unwrap()).unwrap();
            assert_eq!(p.get(), 0);
            assert_eq!(c.get(), 0);
            assert_eq!(t.get(), 0);
            c.inc();
        }
    };
    check_handle.start(check_cb).unwrap();
    timer_handle.start(50, 0, timer_cb).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(prepare_cb_called.get(), 1);
    assert_eq!(check_cb_called.get(), 1);
    assert_eq!(timer_cb_called.get(), 1);
    prepare_handle.close(|_| {});
    check_handle.close(|_| {});
    timer_handle.close(|_| {});
    assert!(!lp.run(RunMode::Once));
    make_valgrind_happy(&lp);
}

// Not in libuv's suite; libuv's `uv__run_timers` semantics: a repeating timer is
// re-armed before its callback, so a `stop` in the callback keeps it stopped.
#[test]
fn timer_dont_rearm() {
    let lp = Loop::new().unwrap();
    let called = Counter::new();
    let timer = Timer::new(&lp);
    let c = called.clone();
    timer
        .start(1, 1, move |h| {
            assert!(h.is_active(), "re-armed before the callback");
            c.inc();
            h.stop();
        })
        .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(called.get(), 1);
    assert!(!timer.is_active());
    timer.close(|_| {});
    make_valgrind_happy(&lp);
}

// Not in libuv's suite; libuv's `uv__run_timers` semantics: of two timers due in the
// same timers phase, one stopped (or closed) by the other's callback does not run.
#[test]
fn timer_stop_in_callback() {
    for close in [false, true] {
        let lp = Loop::new().unwrap();
        let first = Timer::new(&lp);
        let second = Timer::new(&lp);
        let s = second.clone();
        first
            .start(0, 0, move |_| {
                if close {
                    s.close(|_| {});
                } else {
                    s.stop();
                }
            })
            .unwrap();
        second.start(0, 0, never_cb).unwrap();
        assert!(!lp.run(RunMode::Default));
        assert!(!second.is_active());
        first.close(|_| {});
        if !close {
            second.close(|_| {});
        }
        make_valgrind_happy(&lp);
    }
}
