//! Helpers shared by the integration tests (each test file includes this with `mod util;`
//! and uses only part of it).
#![allow(dead_code)]

pub mod net;
pub mod pool;
pub mod runner;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use millrace_reactor::{Handle, Loop, RunMode};

/// A call counter that callbacks can capture (libuv's `static int foo_cb_called`).
#[derive(Clone, Default)]
pub struct Counter(Rc<Cell<usize>>);

impl Counter {
    pub fn new() -> Counter {
        Counter::default()
    }

    /// Adds one and returns the new count.
    pub fn inc(&self) -> usize {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }

    pub fn get(&self) -> usize {
        self.0.get()
    }

    pub fn set(&self, n: usize) {
        self.0.set(n)
    }
}

/// libuv's `do_close` (test-ref.c): close `h`, check the close callback is deferred,
/// run the loop, check it ran once.
pub fn do_close<H: Handle>(lp: &Loop, h: &H) {
    let closed = Counter::new();
    let c = closed.clone();
    h.close(move |_| {
        c.inc();
    });
    assert_eq!(closed.get(), 0, "close callback ran on the caller's stack");
    lp.run(RunMode::Default);
    assert_eq!(closed.get(), 1);
}

/// libuv's `MAKE_VALGRIND_HAPPY`, for a test that has closed its handles: run the loop
/// so the close callbacks run, then require that nothing is left and the loop closes.
pub fn make_valgrind_happy(lp: &Loop) {
    lp.run(RunMode::Default);
    assert_eq!(lp.handle_count(), 0, "handles left open: {lp:?}");
    assert_eq!(lp.active_handles(), 0);
    assert_eq!(lp.active_reqs(), 0);
    lp.close().expect("the loop closes once every handle is closed");
}

/// A path under the system temp directory, unique to this process and call, removed
/// (if it exists) when dropped.
pub struct TempPath(PathBuf);

impl TempPath {
    pub fn new(tag: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("millrace-{tag}-{}-{n}", std::process::id());
        TempPath(std::env::temp_dir().join(name))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A directory of a test's own, unique to the test and the process, removed with all it
/// holds when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("millrace-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `uv_run`, failing the test if the loop still runs after `ms`. The watchdog is an
/// unreferenced timer: it does not keep the loop alive, and it is stopped again when
/// this returns.
pub fn run_watched(lp: &Loop, mode: RunMode, ms: u64) -> bool {
    let dog = millrace_reactor::Timer::new(lp);
    dog.unref();
    dog.start(ms, 0, move |_| panic!("watchdog: the loop still runs after {ms} ms")).unwrap();
    let alive = lp.run(mode);
    // A stopped handle that was never given an OS resource may simply be dropped.
    dog.stop();
    alive
}
