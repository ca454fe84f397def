//! Async handles: waking a loop from other threads. Ported from libuv's test-async.c
//! and test-async-null-cb.c, plus the coalescing rule libuv documents for
//! `uv_async_send`.

mod util;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use millrace_reactor::{Async, Check, Handle, Loop, Prepare, RunMode};
use util::{make_valgrind_happy, Counter};

// test-async.c: a thread started from the first prepare callback sends until the async
// callback has run three times; the third call closes both handles.
#[test]
fn r#async() {
    let lp = Loop::new().unwrap();
    let async_cb_called = Arc::new(Mutex::new(0usize));
    let prepare_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let thread: std::rc::Rc<std::cell::RefCell<Option<JoinHandle<()>>>> = Default::default();

    let prepare = Prepare::new(&lp);
    let (n, p, cl) = (async_cb_called.clone(), prepare.clone(), close_cb_called.clone());
    let handle = Async::new(&lp, move |a| {
        let n = {
            let mut n = n.lock().unwrap();
            *n += 1;
            *n
        };
        if n == 3 {
            let c = cl.clone();
            a.close(move |_| {
                c.inc();
            });
            let c = cl.clone();
            p.close(move |_| {
                c.inc();
            });
        }
    });

    let (sender, n, t, called) = (handle.sender(), async_cb_called.clone(), thread.clone(), prepare_cb_called.clone());
    prepare
        .start(move |_| {
            if called.inc() > 1 {
                return;
            }
            let (sender, n) = (sender.clone(), n.clone());
            *t.borrow_mut() = Some(std::thread::spawn(move || loop {
                if *n.lock().unwrap() == 3 {
                    break;
                }
                sender.send();
                std::thread::yield_now();
            }));
        })
        .unwrap();

    assert!(!lp.run(RunMode::Default));

    assert!(prepare_cb_called.get() > 0);
    assert_eq!(*async_cb_called.lock().unwrap(), 3);
    assert_eq!(close_cb_called.get(), 2);

    thread.borrow_mut().take().unwrap().join().unwrap();
    make_valgrind_happy(&lp);
}

// test-async-null-cb.c: libuv allows a NULL callback; a closure that does nothing is the
// Rust equivalent. A send from another thread wakes the poll, and the check watcher
// closes both handles.
#[test]
fn async_null_cb() {
    let lp = Loop::new().unwrap();
    let check_cb_called = Counter::new();
    let async_handle = Async::new(&lp, |_| {});
    let check_handle = Check::new(&lp);
    let (a, c) = (async_handle.clone(), check_cb_called.clone());
    check_handle
        .start(move |h| {
            assert_eq!(c.get(), 0);
            a.close(|_| {});
            h.close(|_| {});
            c.inc();
        })
        .unwrap();
    let sender = async_handle.sender();
    let thread = std::thread::spawn(move || sender.send());
    assert!(!lp.run(RunMode::Default));
    thread.join().unwrap();
    assert_eq!(check_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// uv_async_send's contract: sends that arrive before the loop gets to the handle
// coalesce into one callback.
#[test]
fn async_coalesces_sends() {
    const SENDS: usize = 1000;
    let lp = Loop::new().unwrap();
    let async_cb_called = Counter::new();
    let c = async_cb_called.clone();
    let handle = Async::new(&lp, move |_| {
        c.inc();
    });
    let sender = handle.sender();
    std::thread::spawn(move || {
        for _ in 0..SENDS {
            sender.send();
        }
    })
    .join()
    .unwrap();

    // Every send happened before this iteration: one callback.
    assert!(lp.run(RunMode::NoWait));
    assert_eq!(async_cb_called.get(), 1);
    // And nothing is left over for the next iteration.
    assert!(lp.run(RunMode::NoWait));
    assert_eq!(async_cb_called.get(), 1);

    handle.close(|_| {});
    make_valgrind_happy(&lp);
}

// uv_async_send's contract, with the loop running while another thread sends as fast
// as it can: at least one callback, never more callbacks than sends.
#[test]
fn async_coalesces_concurrent_sends() {
    const SENDS: usize = 10_000;
    let lp = Loop::new().unwrap();
    let async_cb_called = Counter::new();
    let done = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));

    let (c, d, cl) = (async_cb_called.clone(), done.clone(), closed.clone());
    let handle = Async::new(&lp, move |a| {
        c.inc();
        if d.load(Ordering::SeqCst) {
            a.close(|_| {});
            cl.store(true, Ordering::SeqCst);
        }
    });
    let (sender, d, cl, s) = (handle.sender(), done.clone(), closed.clone(), sent.clone());
    let thread = std::thread::spawn(move || {
        for _ in 0..SENDS {
            sender.send();
            s.fetch_add(1, Ordering::SeqCst);
        }
        d.store(true, Ordering::SeqCst);
        // Keep sending until the loop has seen `done`.
        while !cl.load(Ordering::SeqCst) {
            sender.send();
            s.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
        }
    });

    assert!(!lp.run(RunMode::Default));
    thread.join().unwrap();

    let calls = async_cb_called.get();
    assert!(calls >= 1);
    assert!(calls <= sent.load(Ordering::SeqCst), "{calls} callbacks for {} sends", sent.load(Ordering::SeqCst));
    make_valgrind_happy(&lp);
}

// async_.rs's contract (libuv's too): a send made while the callback runs schedules one
// more call; the loop does not lose it.
#[test]
fn async_send_from_callback() {
    let lp = Loop::new().unwrap();
    let async_cb_called = Counter::new();
    let c = async_cb_called.clone();
    let handle = Async::new(&lp, move |a| {
        if c.inc() < 3 {
            a.send();
        } else {
            a.close(|_| {});
        }
    });
    handle.send();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(async_cb_called.get(), 3);
    make_valgrind_happy(&lp);
}

// A send to a closed handle does nothing (libuv forbids it; millrace makes it harmless
// for senders on other threads that cannot know).
#[test]
fn async_send_after_close() {
    let lp = Loop::new().unwrap();
    let handle = Async::new(&lp, |_| panic!("callback of a closed async handle ran"));
    let sender = handle.sender();
    handle.close(|_| {});
    std::thread::spawn(move || sender.send()).join().unwrap();
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}
