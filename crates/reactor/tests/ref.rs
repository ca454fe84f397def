//! References: an unref'd handle does not keep the loop alive. Ported from libuv's
//! test-ref.c; the tests of the other handle types live with them: tcp_ref3 and
//! tcp_ref4 (which need a peer) in tcp.rs, pipe_ref* in pipe.rs, udp_ref* in udp.rs,
//! process_ref in process.rs, fs_event_ref in fs_event.rs, fs_poll_ref in fs_poll.rs.

mod util;

use millrace_reactor::{Async, Check, Handle, Idle, Loop, Prepare, RunMode, Tcp, Timer};
use util::{do_close, make_valgrind_happy, Counter};

fn fail_cb<T: ?Sized>(_: &T) {
    panic!("fail_cb should not have been called");
}

// test-ref.c: running an empty loop returns at once.
#[test]
fn r#ref() {
    let lp = Loop::new().unwrap();
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-ref.c: idle_ref, prepare_ref, check_ref: an active but unref'd watcher does not
// keep the loop alive, so its callback never runs.
#[test]
fn idle_ref() {
    let lp = Loop::new().unwrap();
    let h = Idle::new(&lp);
    h.start(fail_cb).unwrap();
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

#[test]
fn async_ref() {
    let lp = Loop::new().unwrap();
    let h = Async::new(&lp, fail_cb);
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

#[test]
fn prepare_ref() {
    let lp = Loop::new().unwrap();
    let h = Prepare::new(&lp);
    h.start(fail_cb).unwrap();
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

#[test]
fn check_ref() {
    let lp = Loop::new().unwrap();
    let h = Check::new(&lp);
    h.start(fail_cb).unwrap();
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: a prepare watcher that unrefs itself ends the loop.
#[test]
fn unref_in_prepare_cb() {
    let lp = Loop::new().unwrap();
    let calls = Counter::new();
    let h = Prepare::new(&lp);
    let c = calls.clone();
    h.start(move |h| {
        c.inc();
        h.unref();
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(calls.get(), 1);
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: an unref'd timer, stopped or started (timer_ref2), does not keep the loop
// alive.
#[test]
fn timer_ref() {
    let lp = Loop::new().unwrap();
    let h = Timer::new(&lp);
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

#[test]
fn timer_ref2() {
    let lp = Loop::new().unwrap();
    let h = Timer::new(&lp);
    h.start(42, 42, fail_cb).unwrap();
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: an unref'd TCP handle, empty (tcp_ref) or listening (tcp_ref2), does not
// keep the loop alive.
#[test]
fn tcp_ref() {
    let lp = Loop::new().unwrap();
    let h = Tcp::new(&lp);
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

#[test]
fn tcp_ref2() {
    let lp = Loop::new().unwrap();
    let h = Tcp::new(&lp);
    h.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    h.listen(128, |_, _| panic!("connection_cb should not have been called")).unwrap();
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: closing an unref'd listener still runs its close callback.
#[test]
fn tcp_ref2b() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let h = Tcp::new(&lp);
    h.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    h.listen(128, |_, _| panic!("connection_cb should not have been called")).unwrap();
    h.unref();
    let c = close_cb_called.clone();
    h.close(move |_| {
        c.inc();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-ref.c: `has_ref` follows `ref_` and `unref`.
#[test]
fn has_ref() {
    let lp = Loop::new().unwrap();
    let h = Idle::new(&lp);
    h.ref_();
    assert!(h.has_ref());
    h.unref();
    assert!(!h.has_ref());
    h.close(|_| {});
    make_valgrind_happy(&lp);
}
