//! The thread pool: `queue_work`, cancellation, panics, size. Ported from libuv's
//! test-threadpool.c, test-threadpool-cancel.c, test-thread.c
//! (threadpool_multiple_event_loops) and test-thread-name.c (thread_name_threadpool).
//!
//! The pool is shared by every test in this binary; `saturate_threadpool` says why
//! saturating it is still deterministic.

mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use millrace_reactor::{fs, queue_work, threadpool_size, Error, Loop, RunMode, WorkReq, DEFAULT_THREADPOOL_SIZE};
use util::pool::{cancel_from_timer, saturate_threadpool, Gate};
use util::{make_valgrind_happy, Counter};

// test-threadpool.c: work runs once on the pool, its `after` callback once on the loop.
#[test]
fn threadpool_queue_work_simple() {
    let lp = Loop::new().unwrap();
    let work_cb_count = Arc::new(Mutex::new(0));
    let after_work_cb_count = Counter::new();
    let w = work_cb_count.clone();
    let a = after_work_cb_count.clone();
    queue_work(
        &lp,
        move || {
            *w.lock().unwrap() += 1;
            "data"
        },
        move |r| {
            assert_eq!(r, Ok("data"));
            a.inc();
        },
    );
    assert!(!lp.run(RunMode::Default));
    assert_eq!(*work_cb_count.lock().unwrap(), 1);
    assert_eq!(after_work_cb_count.get(), 1);
    make_valgrind_happy(&lp);
}

// test-threadpool-cancel.c: with the pool saturated, 16 queued pieces of work are all
// cancelled from a timer callback; each `after` callback gets ECANCELED and the work
// never runs.
#[test]
fn threadpool_cancel_work() {
    const REQS: usize = 16;
    let lp = Loop::new().unwrap();
    let done2_cb_called = Counter::new();
    let gate = saturate_threadpool(&lp);

    let reqs: Vec<WorkReq> = (0..REQS)
        .map(|_| {
            let c = done2_cb_called.clone();
            queue_work(
                &lp,
                || panic!("work2_cb called"),
                move |r: Result<(), Error>| {
                    assert_eq!(r, Err(Error::ECANCELED));
                    c.inc();
                },
            )
        })
        .collect();

    let timer_cb_called = cancel_from_timer(&lp, reqs, gate);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_cb_called.get(), 1);
    assert_eq!(done2_cb_called.get(), REQS);
    make_valgrind_happy(&lp);
}

// test-threadpool-cancel.c: cancelling queued work before the loop runs; its `after`
// callback runs later, in the loop, with ECANCELED.
#[test]
fn threadpool_cancel_single() {
    let lp = Loop::new().unwrap();
    let done_cb_called = Counter::new();
    let gate = saturate_threadpool(&lp);
    let c = done_cb_called.clone();
    let req = queue_work(
        &lp,
        || panic!("cancelled work ran"),
        move |r: Result<(), Error>| {
            assert_eq!(r, Err(Error::ECANCELED));
            c.inc();
        },
    );
    assert_eq!(req.cancel(), Ok(()));
    assert_eq!(done_cb_called.get(), 0);
    gate.open();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(done_cb_called.get(), 1);
    // Cancelling again, after the fact, is refused.
    assert_eq!(req.cancel(), Err(Error::EBUSY));
    make_valgrind_happy(&lp);
}

// test-threadpool-cancel.c: work that has started cannot be cancelled (EBUSY) and
// completes normally.
#[test]
fn threadpool_cancel_when_busy() {
    let lp = Loop::new().unwrap();
    let done_cb_called = Counter::new();
    let started = Gate::default();
    let s = started.clone();
    let c = done_cb_called.clone();
    let req = queue_work(
        &lp,
        move || {
            s.open();
            // Assume that calling cancel() takes less than 10 ms.
            std::thread::sleep(Duration::from_millis(10));
        },
        move |r| {
            assert_eq!(r, Ok(()));
            c.inc();
        },
    );
    started.wait();
    assert_eq!(req.cancel(), Err(Error::EBUSY));
    assert!(!lp.run(RunMode::Default));
    assert_eq!(done_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-thread.c: eight threads, each with its own loop, keep the pool busy with chains
// of requests; every `after` callback runs on the thread of the loop that queued it.
// (libuv chains getaddrinfo and fs_stat; plain work stands in for getaddrinfo.)
#[test]
fn threadpool_multiple_event_loops() {
    fn chain_work(lp: &Loop, counter: u32, done: Counter) {
        let me = std::thread::current().id();
        let l = lp.clone();
        queue_work(
            lp,
            move || std::thread::current().id(),
            move |r| {
                assert_ne!(r.unwrap(), me, "work ran on the loop thread");
                assert_eq!(std::thread::current().id(), me, "after ran off the loop thread");
                done.inc();
                if counter > 1 {
                    chain_work(&l, counter - 1, done);
                }
            },
        );
    }
    fn chain_stat(lp: &Loop, counter: u32, done: Counter) {
        let me = std::thread::current().id();
        let l = lp.clone();
        fs::stat(lp, ".", move |r| {
            assert!(r.unwrap().is_dir());
            assert_eq!(std::thread::current().id(), me, "after ran off the loop thread");
            done.inc();
            if counter > 1 {
                chain_stat(&l, counter - 1, done);
            }
        });
    }

    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let lp = Loop::new().unwrap();
                let done = Counter::new();
                for _ in 0..4 {
                    chain_work(&lp, 4, done.clone());
                    chain_stat(&lp, 4, done.clone());
                }
                assert!(!lp.run(RunMode::Default));
                assert_eq!(done.get(), 2 * 4 * 4);
                lp.close().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

// test-thread-name.c: pool threads are named for the library ("libuv-worker" there).
#[test]
fn thread_name_threadpool() {
    let lp = Loop::new().unwrap();
    let called = Counter::new();
    let c = called.clone();
    queue_work(
        &lp,
        || std::thread::current().name().map(str::to_owned),
        move |r| {
            let name = r.unwrap().expect("pool threads have names");
            assert!(name.starts_with("millrace-worker"), "{name}");
            c.inc();
        },
    );
    assert!(!lp.run(RunMode::Default));
    assert_eq!(called.get(), 1);
    make_valgrind_happy(&lp);
}

// threadpool.rs's contract: a panic in work is caught on the pool thread and resumed on
// the loop thread, where `after` would have run; `after` does not run, the pool
// survives, and the loop goes on delivering other work.
#[test]
fn threadpool_work_panic_resumes_on_loop_thread() {
    let lp = Loop::new().unwrap();
    let after_cb_called = Counter::new();
    let other_cb_called = Counter::new();
    let c = after_cb_called.clone();
    let panicking = queue_work(
        &lp,
        || -> u32 { panic!("boom in work") },
        move |_| {
            c.inc();
        },
    );
    // Let the panicking work finish before queueing the other, so that both results are
    // most likely delivered in the same poll phase, the panicking one first.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !format!("{panicking:?}").contains("done") {
        assert!(Instant::now() < deadline, "the panicking work never finished");
        std::thread::yield_now();
    }
    let o = other_cb_called.clone();
    let other = queue_work(
        &lp,
        || 42,
        move |r| {
            assert_eq!(r, Ok(42));
            o.inc();
        },
    );
    while !format!("{other:?}").contains("done") {
        assert!(Instant::now() < deadline, "the other work never finished");
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(20));

    let payload = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default))).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in work"));
    assert_eq!(after_cb_called.get(), 0);

    // The loop is still usable and still delivers the other work's result.
    while lp.run(RunMode::NoWait) {
        assert!(Instant::now() < deadline, "the other work's result was lost: {lp:?}");
    }
    assert_eq!(after_cb_called.get(), 0);
    assert_eq!(other_cb_called.get(), 1);

    // The pool still runs work.
    let again = Counter::new();
    let a = again.clone();
    queue_work(
        &lp,
        || 7,
        move |r| {
            assert_eq!(r, Ok(7));
            a.inc();
        },
    );
    assert!(!lp.run(RunMode::Default));
    assert_eq!(again.get(), 1);
    make_valgrind_happy(&lp);
}

// threadpool.rs: MILLRACE_THREADPOOL_SIZE (libuv's UV_THREADPOOL_SIZE) sets the size,
// clamped to 1..=1024; without it the pool has 4 threads, as libuv's.
#[test]
fn threadpool_size_default() {
    assert_eq!(DEFAULT_THREADPOOL_SIZE, 4);
    let expected = match std::env::var("MILLRACE_THREADPOOL_SIZE").ok().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) => n.clamp(1, 1024),
        None => DEFAULT_THREADPOOL_SIZE,
    };
    assert_eq!(threadpool_size(), expected);
}
