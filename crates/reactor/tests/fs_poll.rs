//! File system poll handles (`uv_fs_poll_t`). Ported from libuv 1.46's
//! test/test-fs-poll.c, with `fs_poll_ref` from test-ref.c. Each test keeps libuv's
//! name and its assertions (callback order, status, previous and current `stat`).
//!
//! libuv's FIXTURE is "testfile" in the current directory; here each test has a
//! directory of its own, unique to the test and the process, removed when it ends
//! (libtest runs the tests in parallel threads of one process), and polls a "testfile"
//! there.
//!
//! Differences from libuv's tests, from the API or the harness, none from the behaviour
//! tested:
//! - `fs_poll` runs at half libuv's pace: a 50 ms poll interval, touches 10 ms and
//!   100 ms after the second and third callbacks (libuv: 100, 20 and 200 ms). The order
//!   of events is the same; each touch changes the size, as libuv's does, so that it is
//!   seen whatever the time stamps' resolution.
//! - A callback is required: where libuv passes `NULL` (`fs_poll_ref`) one that does
//!   nothing stands in (libuv never calls it there either: the first `stat` only
//!   records).
//! - `uv_fs_poll_stop` returns 0; ours returns nothing. `fs_poll_getpath`: `path()`
//!   returns the path, so the buffer and size checks become one comparison.
//! - `handle == &poll_handle` is checked as the handle's path being the one polled.
//! - `MAKE_VALGRIND_HAPPY` closes what is left with `uv_walk`; ours requires every handle
//!   closed, so `fs_poll` closes its timer, which libuv leaves to it, just before.
//! - Every `uv_run` is bounded by an unreferenced watchdog timer, so a missing callback
//!   fails the test instead of hanging it.
//!
//! Every fs-poll test of libuv 1.46 is ported.

mod util;

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;

use millrace_reactor::fs::Stat;
use millrace_reactor::{Error, FsPoll, Handle, Loop, Result, RunMode, Timer};
use util::{do_close, make_valgrind_happy, run_watched, Counter, TempDir};

/// How long any one `run` may take before the test fails instead of hanging.
const WATCHDOG_MS: u64 = 5_000;

/// libuv's FIXTURE: "testfile", which does not exist yet.
fn fixture(dir: &TempDir) -> PathBuf {
    dir.join("testfile")
}

/// `uv_run` with a watchdog of [`WATCHDOG_MS`].
fn run(lp: &Loop, mode: RunMode) -> bool {
    run_watched(lp, mode, WATCHDOG_MS)
}

/// A close callback that counts (libuv's `close_cb`).
fn close_cb<H>(closed: &Counter) -> impl FnOnce(&H) + 'static {
    let c = closed.clone();
    move |_| {
        c.inc();
    }
}

/// libuv's `poll_cb_fail`.
fn poll_cb_fail(_: &FsPoll, _: Result<()>, _: &Stat, _: &Stat) {
    panic!("fail_cb called");
}

/// libuv's `poll_cb_noop`.
fn poll_cb_noop(_: &FsPoll, _: Result<()>, _: &Stat, _: &Stat) {}

/// libuv's `touch_file`: rewrites the file with one more '*' than last time (the size
/// changes, because the poller may not pick up sub-second mtime changes).
struct Toucher {
    path: PathBuf,
    count: Cell<usize>,
}

impl Toucher {
    fn touch(&self) {
        self.count.set(self.count.get() + 1);
        std::fs::write(&self.path, "*".repeat(self.count.get())).unwrap();
    }
}

// test-fs-poll.c: the poll of a path that does not exist yet reports, in order: ENOENT
// with both stats zero (the callback creates the file); the file there, previous stat
// zero (a timer touches it 10 ms later); the change, both stats non-zero (a timer
// touches it again 100 ms later); that change (the callback removes the file); ENOENT,
// previous stat non-zero and current zero (the callback closes the handle). The handle
// is active in every callback; 5 callbacks, 2 timer callbacks, 1 close.
#[test]
fn fs_poll() {
    let tmp = TempDir::new("fs_poll");
    let fixture = fixture(&tmp);
    let lp = Loop::new().unwrap();
    let toucher = Rc::new(Toucher { path: fixture.clone(), count: Cell::new(0) });
    let poll_called = Counter::new();
    let timer_called = Counter::new();
    let closed = Counter::new();
    let timer_handle = Timer::new(&lp);
    let poll_handle = FsPoll::new(&lp);
    let (tc, touch) = (timer_called.clone(), toucher.clone());
    // libuv's timer_cb.
    let timer_cb = move |_: &Timer| {
        touch.touch();
        tc.inc();
    };
    let (n, c, t, touch, path) =
        (poll_called.clone(), closed.clone(), timer_handle.clone(), toucher.clone(), fixture.clone());
    // libuv's poll_cb.
    let poll_cb = move |h: &FsPoll, status: Result<()>, prev: &Stat, curr: &Stat| {
        let zero_statbuf = Stat::zeroed();
        assert_eq!(h.path().unwrap(), path);
        assert!(h.is_active());
        let call = n.get();
        n.inc();
        match call {
            0 => {
                assert_eq!(status, Err(Error::ENOENT));
                assert_eq!(*prev, zero_statbuf);
                assert_eq!(*curr, zero_statbuf);
                touch.touch();
            }
            1 => {
                assert_eq!(status, Ok(()));
                assert_eq!(*prev, zero_statbuf);
                assert_ne!(*curr, zero_statbuf);
                t.start(10, 0, timer_cb.clone()).unwrap();
            }
            2 => {
                assert_eq!(status, Ok(()));
                assert_ne!(*prev, zero_statbuf);
                assert_ne!(*curr, zero_statbuf);
                t.start(100, 0, timer_cb.clone()).unwrap();
            }
            3 => {
                assert_eq!(status, Ok(()));
                assert_ne!(*prev, zero_statbuf);
                assert_ne!(*curr, zero_statbuf);
                std::fs::remove_file(&path).unwrap();
            }
            4 => {
                assert_eq!(status, Err(Error::ENOENT));
                assert_ne!(*prev, zero_statbuf);
                assert_eq!(*curr, zero_statbuf);
                h.close(close_cb(&c));
            }
            _ => panic!("poll_cb called {} times", call + 1),
        }
    };
    poll_handle.start(&fixture, 50, poll_cb).unwrap();
    assert!(!run(&lp, RunMode::Default));
    assert_eq!(poll_called.get(), 5);
    assert_eq!(timer_called.get(), 2);
    assert_eq!(closed.get(), 1);
    // libuv leaves the timer to MAKE_VALGRIND_HAPPY's uv_walk.
    timer_handle.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-fs-poll.c: `path()` is EINVAL until started, then the path polled; the handle,
// closed before its first `stat` comes back, never calls back.
#[test]
fn fs_poll_getpath() {
    let tmp = TempDir::new("fs_poll_getpath");
    let fixture = fixture(&tmp);
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let poll_handle = FsPoll::new(&lp);
    assert_eq!(poll_handle.path().unwrap_err(), Error::EINVAL);
    poll_handle.start(&fixture, 100, poll_cb_fail).unwrap();
    assert_eq!(poll_handle.path().unwrap(), fixture);
    poll_handle.close(close_cb(&closed));
    assert!(!run(&lp, RunMode::Default));
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-poll.c: a handle closed while its first `stat` is in flight: running the loop
// once at a time, the close callback comes, and the callback never does.
#[test]
fn fs_poll_close_request() {
    let tmp = TempDir::new("fs_poll_close_request");
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let poll_handle = FsPoll::new(&lp);
    poll_handle.start(fixture(&tmp), 100, poll_cb_fail).unwrap();
    poll_handle.close(close_cb(&closed));
    while closed.get() == 0 {
        run(&lp, RunMode::Once);
    }
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-poll.c: ten start/stop pairs, each leaving a `stat` in flight, then close:
// the close callback comes and no poll callback does.
#[test]
fn fs_poll_close_request_multi_start_stop() {
    let tmp = TempDir::new("fs_poll_close_request_multi_start_stop");
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let poll_handle = FsPoll::new(&lp);
    for _ in 0..10 {
        poll_handle.start(fixture(&tmp), 100, poll_cb_fail).unwrap();
        poll_handle.stop();
    }
    poll_handle.close(close_cb(&closed));
    while closed.get() == 0 {
        run(&lp, RunMode::Once);
    }
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-poll.c: ten stop/start pairs (the first stop on a handle never started),
// then close of the started handle: the close callback comes and no poll callback does.
#[test]
fn fs_poll_close_request_multi_stop_start() {
    let tmp = TempDir::new("fs_poll_close_request_multi_stop_start");
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let poll_handle = FsPoll::new(&lp);
    for _ in 0..10 {
        poll_handle.stop();
        poll_handle.start(fixture(&tmp), 100, poll_cb_fail).unwrap();
    }
    poll_handle.close(close_cb(&closed));
    while closed.get() == 0 {
        run(&lp, RunMode::Once);
    }
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-poll.c: regression test for libuv#2287: stopping the handle once its first
// `stat` is back (its timer is then active and gets closed) does not crash, and the
// handle then closes with one close callback.
#[test]
fn fs_poll_close_request_stop_when_active() {
    let tmp = TempDir::new("fs_poll_close_request_stop_when_active");
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    // Set up all handles.
    let poll_handle = FsPoll::new(&lp);
    poll_handle.start(fixture(&tmp), 100, poll_cb_noop).unwrap();
    run(&lp, RunMode::Once);
    // Close the timer handle, and do not crash.
    poll_handle.stop();
    run(&lp, RunMode::Once);
    // Clean up after the test.
    poll_handle.close(close_cb(&closed));
    run(&lp, RunMode::Once);
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-ref.c: an active but unreferenced poll handle does not keep the loop alive (only
// its first `stat`, a request, does until it is back), and then closes.
#[test]
fn fs_poll_ref() {
    let tmp = TempDir::new("fs_poll_ref");
    let lp = Loop::new().unwrap();
    let h = FsPoll::new(&lp);
    h.start(tmp.path(), 999, poll_cb_noop).unwrap();
    h.unref();
    assert!(!run(&lp, RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}
