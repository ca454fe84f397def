//! Signal handles. Ported from libuv's test-signal.c, test-signal-multiple-loops.c and
//! test-signal-pending-on-close.c.
//!
//! Signals belong to the whole process, so the tests in this file take a lock and run
//! one at a time. Only SIGUSR1, SIGUSR2 and SIGWINCH are used. Where libuv raises
//! SIGCHLD at a handle that may be stopped, SIGWINCH stands in: both are ignored by
//! default, whereas SIGUSR1/2 would terminate the process while no handle watches them.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex, MutexGuard};

use bytes::Bytes;
use libc::{SIGKILL, SIGPIPE, SIGSTOP, SIGUSR1, SIGUSR2, SIGWINCH};
use millrace_reactor::{Error, Handle, Loop, Pipe, RunMode, Signal, Timer};
use signal_hook::low_level::raise;
use util::{make_valgrind_happy, Counter};

const NSIGNALS: usize = 10;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a watcher does after its last expected signal (libuv's `stop_or_close`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Then {
    Close,
    Stop,
    Noop,
}

/// libuv's `struct signal_ctx`.
struct SignalCtx {
    handle: Signal,
    signum: i32,
    ncalls: Counter,
    then: Rc<Cell<Then>>,
}

impl SignalCtx {
    /// libuv's `start_watcher`.
    fn new(lp: &Loop, signum: i32, one_shot: bool) -> SignalCtx {
        let ctx = SignalCtx {
            handle: Signal::new(lp),
            signum,
            ncalls: Counter::new(),
            then: Rc::new(Cell::new(Then::Close)),
        };
        ctx.start(one_shot);
        ctx
    }

    fn start(&self, one_shot: bool) {
        let (expected, ncalls, then) = (self.signum, self.ncalls.clone(), self.then.clone());
        if one_shot {
            // libuv's `signal_cb_one_shot`.
            self.handle
                .start_oneshot(self.signum, move |h, signum| {
                    assert_eq!(signum, expected);
                    assert_eq!(ncalls.inc(), 1);
                    if then.get() == Then::Close {
                        h.close(|_| {});
                    }
                })
                .unwrap();
        } else {
            // libuv's `signal_cb`.
            self.handle
                .start(self.signum, move |h, signum| {
                    assert_eq!(signum, expected);
                    if ncalls.inc() == NSIGNALS {
                        match then.get() {
                            Then::Stop => h.stop(),
                            Then::Close => h.close(|_| {}),
                            Then::Noop => panic!("signal_cb: nothing to do after the last signal"),
                        }
                    }
                })
                .unwrap();
        }
    }
}

/// libuv's `start_timer`: raises `signum` every 5 ms, NSIGNALS times, then closes.
fn start_timer(lp: &Loop, signum: i32) -> Counter {
    let ncalls = Counter::new();
    let timer = Timer::new(lp);
    let n = ncalls.clone();
    timer
        .start(5, 5, move |h| {
            raise(signum).unwrap();
            if n.inc() == NSIGNALS {
                h.close(|_| {});
            }
        })
        .unwrap();
    ncalls
}

// test-signal.c: a watcher sees every signal raised; stopped, it sees none; restarted,
// it sees them again.
#[test]
fn we_get_signal() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let tc = start_timer(&lp, SIGWINCH);
    let sc = SignalCtx::new(&lp, SIGWINCH, false);
    sc.then.set(Then::Stop); // stop, don't close the signal handle
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc.ncalls.get(), NSIGNALS);

    let tc = start_timer(&lp, SIGWINCH);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc.ncalls.get(), NSIGNALS);

    sc.ncalls.set(0);
    sc.then.set(Then::Close); // now close it when it's done
    sc.start(false);

    let tc = start_timer(&lp, SIGWINCH);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc.ncalls.get(), NSIGNALS);
    make_valgrind_happy(&lp);
}

// test-signal.c: two watchers on each of two signals each see every signal.
#[test]
fn we_get_signals() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let sc = [
        SignalCtx::new(&lp, SIGUSR1, false),
        SignalCtx::new(&lp, SIGUSR1, false),
        SignalCtx::new(&lp, SIGUSR2, false),
        SignalCtx::new(&lp, SIGUSR2, false),
    ];
    let tc = [start_timer(&lp, SIGUSR1), start_timer(&lp, SIGUSR2)];
    assert!(!lp.run(RunMode::Default));
    for s in &sc {
        assert_eq!(s.ncalls.get(), NSIGNALS);
    }
    for t in &tc {
        assert_eq!(t.get(), NSIGNALS);
    }
    make_valgrind_happy(&lp);
}

// test-signal.c: a one-shot watcher sees one signal, then stays stopped until started
// again.
#[test]
fn we_get_signal_one_shot() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let tc = start_timer(&lp, SIGWINCH);
    let sc = SignalCtx::new(&lp, SIGWINCH, true);
    sc.then.set(Then::Noop);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc.ncalls.get(), 1);
    assert!(!sc.handle.is_active());

    let tc = start_timer(&lp, SIGWINCH);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc.ncalls.get(), 1);

    sc.ncalls.set(0);
    sc.then.set(Then::Close); // now close it when it's done
    sc.start(true);
    let tc = start_timer(&lp, SIGWINCH);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc.ncalls.get(), 1);
    make_valgrind_happy(&lp);
}

// test-signal.c: one-shot and repeating watchers of one signal side by side, some closed
// before any signal arrives; closing one never disturbs the others.
#[test]
fn we_get_signals_mixed() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let sig = SIGWINCH;

    // 2 one-shot.
    let tc = start_timer(&lp, sig);
    let sc = [SignalCtx::new(&lp, sig, true), SignalCtx::new(&lp, sig, true)];
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc[0].ncalls.get(), 1);
    assert_eq!(sc[1].ncalls.get(), 1);

    // 2 one-shot, 1 normal, then remove the normal one.
    let tc = start_timer(&lp, sig);
    let sc = [SignalCtx::new(&lp, sig, true), SignalCtx::new(&lp, sig, true), SignalCtx::new(&lp, sig, false)];
    sc[2].handle.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc[0].ncalls.get(), 1);
    assert_eq!(sc[1].ncalls.get(), 1);
    assert_eq!(sc[2].ncalls.get(), 0);

    // 2 normal, 1 one-shot, then remove the one-shot.
    let tc = start_timer(&lp, sig);
    let sc = [SignalCtx::new(&lp, sig, false), SignalCtx::new(&lp, sig, false), SignalCtx::new(&lp, sig, true)];
    sc[2].handle.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc[0].ncalls.get(), NSIGNALS);
    assert_eq!(sc[1].ncalls.get(), NSIGNALS);
    assert_eq!(sc[2].ncalls.get(), 0);

    // 2 normal, 2 one-shot, then remove the 2 normal.
    let tc = start_timer(&lp, sig);
    let sc = [
        SignalCtx::new(&lp, sig, false),
        SignalCtx::new(&lp, sig, false),
        SignalCtx::new(&lp, sig, true),
        SignalCtx::new(&lp, sig, true),
    ];
    sc[0].handle.close(|_| {});
    sc[1].handle.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc[0].ncalls.get(), 0);
    assert_eq!(sc[1].ncalls.get(), 0);
    assert_eq!(sc[2].ncalls.get(), 1);
    assert_eq!(sc[3].ncalls.get(), 1);

    // 1 normal, 1 one-shot, 2 normal, then remove the 1st and 2nd normal.
    let tc = start_timer(&lp, sig);
    let sc = [
        SignalCtx::new(&lp, sig, false),
        SignalCtx::new(&lp, sig, true),
        SignalCtx::new(&lp, sig, false),
        SignalCtx::new(&lp, sig, false),
    ];
    sc[0].handle.close(|_| {});
    sc[2].handle.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    assert_eq!(tc.get(), NSIGNALS);
    assert_eq!(sc[0].ncalls.get(), 0);
    assert_eq!(sc[1].ncalls.get(), 1);
    assert_eq!(sc[2].ncalls.get(), 0);
    assert_eq!(sc[3].ncalls.get(), NSIGNALS);

    // The one-shot handles that were not closed are stopped; close them.
    sc[1].handle.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-signal-pending-on-close.c: a SIGPIPE raised by a write into a pipe whose reader
// has gone, while a handle watches it; the write callback (EPIPE) closes the handle
// before the loop reads the signal, and the signal callback never runs. This leaves
// SIGPIPE unwatched, so with its default action (terminate) for the rest of this
// binary, as libuv leaves it: nothing else here writes into a broken pipe.
#[test]
fn signal_pending_on_close() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let signal_hdl = Signal::new(&lp);
    signal_hdl.start(SIGPIPE, |_, _| panic!("the signal callback of a closed handle")).unwrap();
    let (r, w) = millrace_reactor::pipe(false, false).unwrap();
    let pipe_hdl = Pipe::new(&lp);
    pipe_hdl.open_fd(w).unwrap();
    // Data large enough to need a loop iteration.
    let buf = Bytes::from(vec![b'.'; 1 << 24]);
    let (c, sig) = (close_cb_called.clone(), signal_hdl.clone());
    pipe_hdl
        .write([buf], move |pipe, status| {
            assert_eq!(status, Err(Error::EPIPE));
            let c2 = c.clone();
            pipe.close(move |_| {
                c2.inc();
            });
            let c3 = c.clone();
            sig.close(move |_| {
                c3.inc();
            });
        })
        .unwrap();
    // Causes a SIGPIPE on the write in the next iteration.
    drop(r);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-signal-pending-on-close.c: a closing signal handle keeps the loop alive until its
// close callback has run, even unref'd. (libuv uses SIGPIPE.)
#[test]
fn signal_close_loop_alive() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let signal_hdl = Signal::new(&lp);
    signal_hdl
        .start(SIGWINCH, |h, signum| {
            assert_eq!(signum, SIGWINCH);
            h.get_loop().stop();
        })
        .unwrap();
    signal_hdl.unref();

    raise(SIGWINCH).unwrap();
    assert!(!lp.run(RunMode::Default));
    let c = close_cb_called.clone();
    signal_hdl.close(move |_| {
        c.inc();
    });
    assert!(lp.alive());

    assert!(!lp.run(RunMode::Default));
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-signal-multiple-loops.c: loops on many threads watch SIGUSR1 and/or SIGUSR2 while
// other threads create and destroy loops with signal handles; one process-directed
// signal reaches every loop watching it, twice over, the second time while the sending
// thread blocks all signals. (libuv's loop-creating threads watch SIGTERM; SIGWINCH
// here.)
#[test]
fn signal_multiple_loops() {
    const NUM_SIGNAL_HANDLING_THREADS: usize = 24;
    const NUM_LOOP_CREATING_THREADS: usize = 10;
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Action {
        OnlySigusr1,
        OnlySigusr2,
        Sigusr1AndSigusr2,
    }

    let _serial = serial();
    let signal1_cb_counter = Arc::new(Mutex::new(0usize));
    let signal2_cb_counter = Arc::new(Mutex::new(0usize));
    let loop_creation_counter = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(Mutex::new(false));
    // Each handling thread waits here twice: watchers set up, then restarted.
    let ready = Arc::new(Barrier::new(NUM_SIGNAL_HANDLING_THREADS + 1));

    let loop_creating: Vec<_> = (0..NUM_LOOP_CREATING_THREADS)
        .map(|_| {
            let (counter, stop) = (loop_creation_counter.clone(), stop.clone());
            std::thread::spawn(move || loop {
                let lp = Loop::new().unwrap();
                let signal = Signal::new(&lp);
                signal.start(SIGWINCH, |_, _| panic!("signal_unexpected_cb should never be called")).unwrap();
                signal.close(|_| {});
                assert!(!lp.run(RunMode::Default));
                lp.close().unwrap();
                *counter.lock().unwrap() += 1;
                if *stop.lock().unwrap() {
                    break;
                }
            })
        })
        .collect();

    let handling: Vec<_> = (0..NUM_SIGNAL_HANDLING_THREADS)
        .map(|i| {
            let action = [Action::OnlySigusr1, Action::OnlySigusr2, Action::Sigusr1AndSigusr2][i % 3];
            let (c1, c2, ready) = (signal1_cb_counter.clone(), signal2_cb_counter.clone(), ready.clone());
            std::thread::spawn(move || {
                let lp = Loop::new().unwrap();
                let mut handles = Vec::new();
                let start = |h: &Signal, signum: i32| {
                    let counter = if signum == SIGUSR1 { c1.clone() } else { c2.clone() };
                    h.start(signum, move |h, got| {
                        assert_eq!(got, signum);
                        *counter.lock().unwrap() += 1;
                        h.stop();
                    })
                    .unwrap();
                };
                if action != Action::OnlySigusr2 {
                    handles.push((Signal::new(&lp), SIGUSR1));
                    handles.push((Signal::new(&lp), SIGUSR1));
                }
                if action != Action::OnlySigusr1 {
                    handles.push((Signal::new(&lp), SIGUSR2));
                }
                for (h, signum) in &handles {
                    start(h, *signum);
                }
                ready.wait();
                // The callbacks stop their handles, so run returns once every watcher
                // caught its signal.
                assert!(!lp.run(RunMode::Default));

                // Restart the watchers and wait for the signals once more.
                for (h, signum) in &handles {
                    start(h, *signum);
                }
                ready.wait();
                assert!(!lp.run(RunMode::Default));

                for (h, _) in &handles {
                    h.close(|_| {});
                }
                assert!(!lp.run(RunMode::Default));
                lp.close().unwrap();
            })
        })
        .collect();

    let kill = |signum: i32| {
        // SAFETY: plain system calls on this process's own id.
        assert_eq!(unsafe { libc::kill(libc::getpid(), signum) }, 0);
    };

    ready.wait();
    kill(SIGUSR1);
    kill(SIGUSR2);
    ready.wait();

    // Block all signals in this thread, so that the handler runs on another thread.
    // SAFETY: the set is initialised by sigfillset before use; the mask applies to
    // this test thread only, which ends with the test.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        assert_eq!(libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()), 0);
    }
    kill(SIGUSR1);
    kill(SIGUSR2);

    for t in handling {
        t.join().unwrap();
    }
    *stop.lock().unwrap() = true;
    for t in loop_creating {
        t.join().unwrap();
    }

    // Two of the three thread groups watch SIGUSR1 with two handles each, two signals
    // each; two groups watch SIGUSR2 with one handle.
    assert_eq!(*signal1_cb_counter.lock().unwrap(), 8 * (NUM_SIGNAL_HANDLING_THREADS / 3));
    assert_eq!(*signal2_cb_counter.lock().unwrap(), 4 * (NUM_SIGNAL_HANDLING_THREADS / 3));
    assert!(*loop_creation_counter.lock().unwrap() >= NUM_LOOP_CREATING_THREADS);
}

// A SIGUSR1 raised once reaches its watcher once.
#[test]
fn signal_raise_once() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let calls = Counter::new();
    let sig = Signal::new(&lp);
    let c = calls.clone();
    sig.start(SIGUSR1, move |h, signum| {
        assert_eq!(signum, SIGUSR1);
        c.inc();
        h.close(|_| {});
    })
    .unwrap();
    assert_eq!(sig.signum(), SIGUSR1);
    raise(SIGUSR1).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(calls.get(), 1);
    make_valgrind_happy(&lp);
}

// A one-shot watcher stops itself before its callback: inactive in the callback, and a
// second signal does not reach it.
#[test]
fn signal_oneshot() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let calls = Counter::new();
    let sig = Signal::new(&lp);
    let c = calls.clone();
    sig.start_oneshot(SIGWINCH, move |h, _| {
        assert!(!h.is_active());
        c.inc();
    })
    .unwrap();
    assert!(sig.is_active());
    raise(SIGWINCH).unwrap();
    raise(SIGWINCH).unwrap();
    assert!(!lp.run(RunMode::Default), "a fired one-shot watcher keeps nothing alive");
    assert_eq!(calls.get(), 1);
    sig.close(|_| {});
    make_valgrind_happy(&lp);
}

// A stopped watcher gets nothing, and does not keep the loop alive.
#[test]
fn signal_stop() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let sig = Signal::new(&lp);
    sig.start(SIGWINCH, |_, _| panic!("a stopped signal watcher ran")).unwrap();
    assert!(lp.alive());
    sig.stop();
    assert!(!sig.is_active());
    assert!(!lp.alive());
    raise(SIGWINCH).unwrap();
    // A ref'd timer keeps the loop polling long enough to see the signal's byte.
    let timer = Timer::new(&lp);
    timer.start(20, 0, |_| {}).unwrap();
    assert!(!lp.run(RunMode::Default));
    timer.close(|_| {});
    sig.close(|_| {});
    make_valgrind_happy(&lp);
}

// Two handles on one signal, on one loop or on two, both fire for one signal.
#[test]
fn signal_two_handles_same_signum() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let other_lp = Loop::new().unwrap();
    let calls = Counter::new();
    let handles = [Signal::new(&lp), Signal::new(&lp), Signal::new(&other_lp)];
    for h in &handles {
        let c = calls.clone();
        h.start(SIGUSR2, move |h, signum| {
            assert_eq!(signum, SIGUSR2);
            c.inc();
            h.close(|_| {});
        })
        .unwrap();
    }
    raise(SIGUSR2).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(calls.get(), 2);
    assert!(!other_lp.run(RunMode::Default));
    assert_eq!(calls.get(), 3);
    make_valgrind_happy(&lp);
    make_valgrind_happy(&other_lp);
}

// Signals that cannot be caught, and signal 0, are EINVAL.
#[test]
fn signal_start_invalid() {
    let lp = Loop::new().unwrap();
    let sig = Signal::new(&lp);
    for signum in [0, -1, SIGKILL, SIGSTOP] {
        assert_eq!(sig.start(signum, |_, _| {}), Err(Error::EINVAL), "signal {signum}");
        assert!(!sig.is_active());
    }
    sig.close(|_| {});
    make_valgrind_happy(&lp);
}
