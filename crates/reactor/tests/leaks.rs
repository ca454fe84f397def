//! Nothing outlives its use: the loop's counts return to zero once everything is closed
//! (libuv's MAKE_VALGRIND_HAPPY, asserted), and callbacks that capture their own handle
//! (a reference cycle) are dropped once the handle is closed.

mod util;

use std::cell::Cell;
use std::net::TcpListener;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{fs, queue_work, Async, Check, Error, Handle, Idle, Loop, Prepare, RunMode, Signal, Tcp, Timer};
use util::{make_valgrind_happy, Counter, TempPath};

/// Counts its own drops: captured by a callback, it shows when the callback is freed.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn drop_counter() -> (DropCounter, Rc<Cell<usize>>) {
    let drops = Rc::new(Cell::new(0));
    (DropCounter(drops.clone()), drops)
}

// One started handle of every type; after closing them all and running the loop,
// the loop has no handles, no active handles and no requests, and closes.
#[test]
fn leaks_every_handle_closed() {
    let lp = Loop::new().unwrap();
    let timer = Timer::new(&lp);
    timer.start(60_000, 0, |_| {}).unwrap();
    let idle = Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    let prepare = Prepare::new(&lp);
    prepare.start(|_| {}).unwrap();
    let check = Check::new(&lp);
    check.start(|_| {}).unwrap();
    let async_ = Async::new(&lp, |_| {});
    let tcp = Tcp::new(&lp);
    tcp.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    tcp.listen(16, |_, _| {}).unwrap();
    let signal = Signal::new(&lp);
    signal.start(libc::SIGWINCH, |_, _| {}).unwrap();

    assert_eq!(lp.handle_count(), 7);
    assert_eq!(lp.active_handles(), 7);
    assert_eq!(lp.active_reqs(), 0);
    assert_eq!(lp.close(), Err(Error::EBUSY));

    let closed = Counter::new();
    macro_rules! close_all {
        ($($h:expr),*) => {$(
            let c = closed.clone();
            $h.close(move |_| { c.inc(); });
        )*};
    }
    close_all!(timer, idle, prepare, check, async_, tcp, signal);
    assert_eq!(lp.active_handles(), 0, "closing handles are not active");
    assert_eq!(lp.handle_count(), 7, "closing handles count until their close callback");
    assert_eq!(lp.close(), Err(Error::EBUSY));

    assert!(!lp.run(RunMode::Default));
    assert_eq!(closed.get(), 7);
    assert_eq!(lp.handle_count(), 0);
    assert_eq!(lp.active_handles(), 0);
    assert_eq!(lp.active_reqs(), 0);
    assert_eq!(lp.close(), Ok(()));
}

// Requests of every kind (work, fs, connect, write, shutdown) count while in flight and
// not after; the loop closes once they completed and the handles are closed.
#[test]
fn leaks_every_request_completed() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let tmp = TempPath::new("leaks");
    let lp = Loop::new().unwrap();
    let done = Counter::new();

    let d = done.clone();
    queue_work(
        &lp,
        || 1,
        move |r| {
            assert_eq!(r, Ok(1));
            d.inc();
        },
    );
    let d = done.clone();
    fs::stat(&lp, tmp.path(), move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOENT);
        d.inc();
    });
    let client = Tcp::new(&lp);
    let d = done.clone();
    client
        .connect(server.local_addr().unwrap(), move |c, r| {
            assert_eq!(r, Ok(()));
            d.inc();
            let d = d.clone();
            c.write(vec![Bytes::from_static(b"hello")], move |c, r| {
                assert_eq!(r, Ok(()));
                d.inc();
                let d = d.clone();
                c.shutdown(move |c, r| {
                    assert_eq!(r, Ok(()));
                    d.inc();
                    c.close(|_| {});
                })
                .unwrap();
            })
            .unwrap();
        })
        .unwrap();
    assert!(lp.active_reqs() >= 3, "{lp:?}");
    assert_eq!(lp.close(), Err(Error::EBUSY));

    assert!(!lp.run(RunMode::Default));
    assert_eq!(done.get(), 5);
    assert_eq!(lp.handle_count(), 0);
    assert_eq!(lp.active_handles(), 0);
    assert_eq!(lp.active_reqs(), 0);
    assert_eq!(lp.close(), Ok(()));
}

// A callback that captures its own handle (a cycle: handle -> callback -> handle) and a
// drop counter is freed after the handle is closed, for every handle type, whether the
// handle is closed from its own callback or from outside.
#[test]
fn leaks_callback_capturing_its_handle_dropped_after_close() {
    type Case = (&'static str, fn(&Loop, DropCounter) -> Box<dyn Fn()>);
    let cases: [Case; 7] = [
        ("timer", |lp, dc| {
            let t = Timer::new(lp);
            let me = t.clone();
            t.start(60_000, 0, move |_| {
                let _keep = (&me, &dc);
            })
            .unwrap();
            Box::new(move || t.close(|_| {}))
        }),
        ("idle", |lp, dc| {
            let h = Idle::new(lp);
            let me = h.clone();
            h.start(move |_| {
                let _keep = (&me, &dc);
            })
            .unwrap();
            Box::new(move || h.close(|_| {}))
        }),
        ("prepare", |lp, dc| {
            let h = Prepare::new(lp);
            let me = h.clone();
            h.start(move |_| {
                let _keep = (&me, &dc);
            })
            .unwrap();
            Box::new(move || h.close(|_| {}))
        }),
        ("check", |lp, dc| {
            let h = Check::new(lp);
            let me = h.clone();
            h.start(move |_| {
                let _keep = (&me, &dc);
            })
            .unwrap();
            Box::new(move || h.close(|_| {}))
        }),
        ("async", |lp, dc| {
            let me: Rc<Cell<Option<Async>>> = Rc::default();
            let m = me.clone();
            let h = Async::new(lp, move |_| {
                let _keep = (&m, &dc);
            });
            me.set(Some(h.clone())); // the cycle: handle -> callback -> cell -> handle
            Box::new(move || h.close(|_| {}))
        }),
        ("signal", |lp, dc| {
            let h = Signal::new(lp);
            let me = h.clone();
            h.start(libc::SIGWINCH, move |_, _| {
                let _keep = (&me, &dc);
            })
            .unwrap();
            Box::new(move || h.close(|_| {}))
        }),
        ("tcp listener", |lp, dc| {
            let h = Tcp::new(lp);
            h.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let me = h.clone();
            h.listen(16, move |_, _| {
                let _keep = (&me, &dc);
            })
            .unwrap();
            Box::new(move || h.close(|_| {}))
        }),
    ];

    for (name, make) in cases {
        let lp = Loop::new().unwrap();
        let (dc, drops) = drop_counter();
        let close = make(&lp, dc);
        assert_eq!(drops.get(), 0, "{name}: dropped while in use");
        close();
        drop(close);
        assert_eq!(drops.get(), 0, "{name}: dropped before its close callback");
        assert!(!lp.run(RunMode::Default));
        assert_eq!(drops.get(), 1, "{name}: callback not freed after close");
        make_valgrind_happy(&lp);
    }
}

// The same, with the handle closed from its own callback (the usual shape: a timer or
// idle watcher that closes itself when done).
#[test]
fn leaks_self_closing_callbacks_dropped() {
    let lp = Loop::new().unwrap();
    let (dc_timer, timer_drops) = drop_counter();
    let (dc_idle, idle_drops) = drop_counter();
    let (dc_close, close_drops) = drop_counter();

    let timer = Timer::new(&lp);
    let me = timer.clone();
    timer
        .start(1, 1, move |_| {
            let _keep = &dc_timer;
            me.close(|_| {});
        })
        .unwrap();
    let idle = Idle::new(&lp);
    let me = idle.clone();
    let mut dc_close = Some(dc_close);
    idle.start(move |h| {
        let _keep = &dc_idle;
        // The close callback captures the handle and a drop counter too.
        let (me, dc_close) = (me.clone(), dc_close.take());
        h.close(move |_| {
            let _keep = (&me, &dc_close);
        });
    })
    .unwrap();
    drop((timer, idle));

    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_drops.get(), 1);
    assert_eq!(idle_drops.get(), 1);
    assert_eq!(close_drops.get(), 1);
    make_valgrind_happy(&lp);
}

// Restarting a handle with a new callback frees the old one at once.
#[test]
fn leaks_replaced_callback_dropped() {
    let lp = Loop::new().unwrap();
    let (first, first_drops) = drop_counter();
    let (second, second_drops) = drop_counter();
    let timer = Timer::new(&lp);
    timer
        .start(60_000, 0, move |_| {
            let _keep = &first;
        })
        .unwrap();
    timer
        .start(60_000, 0, move |_| {
            let _keep = &second;
        })
        .unwrap();
    assert_eq!(first_drops.get(), 1);
    assert_eq!(second_drops.get(), 0);
    timer.close(|_| {});
    make_valgrind_happy(&lp);
    assert_eq!(second_drops.get(), 1);
}

// A handle that was never started (so the loop holds nothing of it) and is dropped
// without close no longer counts, and the loop closes.
#[test]
fn leaks_inactive_handle_dropped_without_close() {
    let lp = Loop::new().unwrap();
    {
        let _timer = Timer::new(&lp);
        let _idle = Idle::new(&lp);
        let _tcp = Tcp::new(&lp);
        assert_eq!(lp.handle_count(), 3);
    }
    assert_eq!(lp.handle_count(), 0);
    assert_eq!(lp.close(), Ok(()));
}

// The `after` callback of work, completed or cancelled, is freed once it ran.
#[test]
fn leaks_work_after_callback_dropped() {
    let lp = Loop::new().unwrap();
    let (dc, drops) = drop_counter();
    queue_work(
        &lp,
        || (),
        move |_| {
            let _keep = &dc;
        },
    );
    assert!(!lp.run(RunMode::Default));
    assert_eq!(drops.get(), 1);
    assert_eq!(lp.active_reqs(), 0);
    make_valgrind_happy(&lp);
}

// A loop that ran immediates (Node's setImmediate: an internal check and idle handle,
// which hold the loop) is freed once it is closed and its last clone dropped. What the
// loop still holds shows it: a next tick queued after close is never run, and is
// dropped only with the loop.
#[test]
fn leaks_closed_loop_with_immediates_freed() {
    let lp = Loop::new().unwrap();
    let ran = Counter::new();
    for _ in 0..3 {
        let r = ran.clone();
        lp.set_immediate(move || {
            r.inc();
        });
    }
    assert!(!lp.run(RunMode::Default));
    assert_eq!(ran.get(), 3);
    assert_eq!(lp.close(), Ok(()));

    let (dc, drops) = drop_counter();
    lp.next_tick(move || {
        let _keep = &dc;
    });
    drop(lp);
    assert_eq!(drops.get(), 1, "the loop and what it holds are freed");
}
