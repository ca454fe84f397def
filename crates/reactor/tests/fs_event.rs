//! File system event handles (`uv_fs_event_t`, inotify). Ported from libuv 1.46's
//! test/test-fs-event.c, with `fs_event_ref` from test-ref.c. Each test keeps libuv's
//! name and its assertions (callback counts, event kinds, file names).
//!
//! libuv's tests work in the current directory (`watch_dir/…`); here each test has a
//! directory of its own, unique to the test and the process, removed when it ends, and
//! watches and touches absolute paths under it (libtest runs the tests in parallel
//! threads of one process).
//!
//! Differences from libuv's tests, from the API or the harness, none from the behaviour
//! tested:
//! - The intervals are shorter where libuv's only make the test slow: `fs_event_watch_dir`
//!   and `fs_event_close_in_callback` create their 16 files 10 ms apart, not 100 ms
//!   (libuv spaces them so that events do not coalesce; inotify merges only identical
//!   consecutive events, and every file has its own name);
//!   `fs_event_watch_file_current_dir` touches its file after 100 ms, not 1100 ms (a
//!   macOS delay); `fs_event_close_with_pending_delete_event` sleeps 10 ms, not 1100 ms,
//!   after the remove (libuv's comment: "perhaps just for __sun"; inotify queues the
//!   events during the `unlink` itself).
//! - `fs_event_watch_file_current_dir` needs a path with no directory part: it changes
//!   the process's current directory to its own directory just for the `start`, and
//!   back (the only test here that depends on the current directory).
//! - `fs_event_watch_file_twice` watches an empty file of its own instead of
//!   test/fixtures/empty_file.
//! - `fs_event_getpath`: `path()` returns the path, so there is no `ENOBUFS` size probe;
//!   the path must come back exactly as given (`watch_dir///` and all), as in libuv.
//! - `handle == &fs_event` is checked as the handle's path being the one watched.
//! - `MAKE_VALGRIND_HAPPY` closes what is left with `uv_walk`; ours requires every handle
//!   closed, so the tests close what libuv left open (the never-started handle of
//!   `fs_event_watch_invalid_path`) just before.
//! - Every `uv_run` is bounded by an unreferenced watchdog timer, so a missing event
//!   fails the test instead of hanging it.
//!
//! Adapted:
//! - `fs_event_watch_file_root_dir` is Windows-only in libuv (a file in the root of the
//!   system drive, skipped if absent); here its Linux analogue: `/` itself can be
//!   watched, its path is `/`, and the handle closes.
//! - `fs_event_error_reporting` checks, on macOS only, that the FSEvents backend reports
//!   `EMFILE` once too many loops have a stream; on Linux libuv's test is a no-op, and
//!   so is this port. A Linux counterpart would open inotify instances until
//!   `inotify_init1` fails, but that limit (`fs.inotify.max_user_instances`, 128 by
//!   default) is per user, shared with every other process of the user: exhausting it
//!   would make watchers started meanwhile by the other tests of this binary, and by any
//!   other program, fail. `fs_event_watch_invalid_path` covers a failing `start`.
//!
//! Not ported:
//! - `fs_event_watch_dir_recursive`: `UV_FS_EVENT_RECURSIVE` works on macOS and Windows
//!   only; libuv skips the test on Linux, and `start` takes no flags.
//! - `fs_event_watch_dir_short_path`: Windows 8.3 short names (Windows-only in libuv's
//!   list).
//! - `fork_fs_events_child`, `fork_fs_events_child_dir`,
//!   `fork_fs_events_file_parent_child` (test-fork.c): they fork the test process and
//!   re-initialise the loop in the child (`uv_loop_fork`), which we do not have.
//! - `fs_event_watch_delete_dir` is not in libuv 1.46 (it came in 1.49).

mod util;

use std::cell::Cell;
use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use millrace_reactor::{Error, FsEvent, FsEvents, Handle, Loop, Result, RunMode, Timer};
use util::{do_close, make_valgrind_happy, run_watched, Counter, TempDir};

/// How long any one `run` may take before the test fails instead of hanging.
const WATCHDOG_MS: u64 = 5_000;

/// libuv's `fs_event_file_count`.
const FILE_COUNT: usize = 16;

/// How far apart `fs_event_create_files` creates the files (libuv: 100 ms).
const CREATE_INTERVAL_MS: u64 = 10;

/// `uv_run` with a watchdog of [`WATCHDOG_MS`].
fn run(lp: &Loop, mode: RunMode) -> bool {
    run_watched(lp, mode, WATCHDOG_MS)
}

/// libuv's `create_dir`: mkdir 0755, `EEXIST` is fine.
fn create_dir(path: &Path) {
    match std::fs::create_dir(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("mkdir {}: {e}", path.display()),
    }
}

/// libuv's `create_file`: open `O_WRONLY | O_CREAT`, 0600, and close.
fn create_file(path: &Path) {
    OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path).unwrap();
}

/// libuv's `touch_file`: open `O_RDWR`, write "foo\0", close.
fn touch_file(path: &Path) {
    let mut f = OpenOptions::new().read(true).write(true).open(path).unwrap();
    f.write_all(b"foo\0").unwrap();
}

/// A close callback that counts (libuv's `close_cb`).
fn close_cb<H>(closed: &Counter) -> impl FnOnce(&H) + 'static {
    let c = closed.clone();
    move |_| {
        c.inc();
    }
}

/// libuv's `fs_event_fail` and `fail_cb`.
fn fail_cb(_: &FsEvent, _: Option<&OsStr>, _: FsEvents, _: Result<()>) {
    panic!("fail_cb called");
}

/// libuv's `fs_event_get_filename`: `watch_dir/fsevent-<i>`.
fn fs_event_get_filename(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("fsevent-{i}"))
}

/// The counters libuv's file-creating and file-removing timers share.
#[derive(Default)]
struct Files {
    dir: PathBuf,
    created: Cell<usize>,
    removed: Cell<usize>,
}

/// libuv's `fs_event_create_files`: one file per timer tick, so that the events do not
/// coalesce, until all 16 are there.
fn fs_event_create_files(timer: &Timer, files: &Rc<Files>) {
    assert!(files.created.get() < FILE_COUNT, "creating a file too many");
    create_file(&fs_event_get_filename(&files.dir, files.created.get()));
    files.created.set(files.created.get() + 1);
    if files.created.get() < FILE_COUNT {
        let f = files.clone();
        timer.start(CREATE_INTERVAL_MS, 0, move |t| fs_event_create_files(t, &f)).unwrap();
    }
}

/// libuv's `fs_event_unlink_files` as a timer callback: one file per tick, until all 16
/// are gone.
fn fs_event_unlink_files(timer: &Timer, files: &Rc<Files>) {
    assert!(files.removed.get() < FILE_COUNT, "removing a file too many");
    std::fs::remove_file(fs_event_get_filename(&files.dir, files.removed.get())).unwrap();
    files.removed.set(files.removed.get() + 1);
    if files.removed.get() < FILE_COUNT {
        let f = files.clone();
        timer.start(1, 0, move |t| fs_event_unlink_files(t, &f)).unwrap();
    }
}

// test-fs-event.c: a watched directory reports each of 16 files created (one per timer
// tick) and then each removed: 32 callbacks, each a single RENAME or CHANGE with a
// "fsevent-" name; once every file is created the removals start, and after the 32nd
// callback the watcher and the timer close.
#[test]
fn fs_event_watch_dir() {
    let tmp = TempDir::new("fs_event_watch_dir");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    let lp = Loop::new().unwrap();
    let files = Rc::new(Files { dir: dir.clone(), ..Files::default() });
    let cb_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    let timer = Timer::new(&lp);
    let (f, n, c, t, d) = (files.clone(), cb_called.clone(), closed.clone(), timer.clone(), dir.clone());
    fs_event
        .start(&dir, move |h, filename, events, status| {
            n.inc();
            assert_eq!(h.path().unwrap(), d);
            assert_eq!(status, Ok(()));
            assert!(events == FsEvents::CHANGE || events == FsEvents::RENAME, "{events:?}");
            let name = filename.expect("a file name");
            assert!(name.as_bytes().starts_with(b"fsevent-"), "{name:?}");
            if f.created.get() + f.removed.get() == FILE_COUNT {
                // Once we've processed all create events, delete all files.
                let f2 = f.clone();
                t.start(1, 0, move |t| fs_event_unlink_files(t, &f2)).unwrap();
            } else if n.get() == 2 * FILE_COUNT {
                // Once we've processed all create and delete events, stop watching.
                t.close(close_cb(&c));
                h.close(close_cb(&c));
            }
        })
        .unwrap();
    let f = files.clone();
    timer.start(100, 0, move |t| fs_event_create_files(t, &f)).unwrap();
    run(&lp, RunMode::Default);
    assert_eq!(cb_called.get(), files.created.get() + files.removed.get());
    assert_eq!(cb_called.get(), 2 * FILE_COUNT);
    assert_eq!(closed.get(), 2);
    make_valgrind_happy(&lp);
}

/// libuv's `fs_event_cb_file`: one CHANGE for "file2", then stop and close.
fn fs_event_cb_file(
    cb_called: &Counter,
    closed: &Counter,
    watched: PathBuf,
) -> impl FnMut(&FsEvent, Option<&OsStr>, FsEvents, Result<()>) + 'static {
    let (n, c) = (cb_called.clone(), closed.clone());
    move |h, filename, events, status| {
        n.inc();
        assert_eq!(h.path().unwrap(), watched);
        assert_eq!(status, Ok(()));
        assert_eq!(events, FsEvents::CHANGE);
        assert_eq!(filename, Some(OsStr::new("file2")));
        h.stop();
        h.close(close_cb(&c));
    }
}

// test-fs-event.c: a watched file reports its own change, with its own name, and not a
// change to its neighbour: the timer touches file1, then file2 (the one watched); the
// watcher calls back once, a CHANGE for "file2".
#[test]
fn fs_event_watch_file() {
    let tmp = TempDir::new("fs_event_watch_file");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    create_file(&dir.join("file1"));
    create_file(&dir.join("file2"));
    let lp = Loop::new().unwrap();
    let cb_called = Counter::new();
    let timer_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    fs_event.start(dir.join("file2"), fs_event_cb_file(&cb_called, &closed, dir.join("file2"))).unwrap();
    let timer = Timer::new(&lp);
    let (n, c) = (timer_called.clone(), closed.clone());
    // libuv's timer_cb_file.
    timer
        .start(100, 100, move |t| {
            if n.inc() == 1 {
                touch_file(&dir.join("file1"));
            } else {
                touch_file(&dir.join("file2"));
                t.close(close_cb(&c));
            }
        })
        .unwrap();
    run(&lp, RunMode::Default);
    assert_eq!(cb_called.get(), 1);
    assert_eq!(timer_called.get(), 2);
    assert_eq!(closed.get(), 2);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: watching "file.jsx" and touching "file.js" (a name it is a prefix
// of) reports nothing: the timer touches file.js, then, 100 ms later, stops and closes
// the watcher, whose callback must never run.
#[test]
fn fs_event_watch_file_exact_path() {
    let tmp = TempDir::new("fs_event_watch_file_exact_path");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    create_file(&dir.join("file.js"));
    create_file(&dir.join("file.jsx"));
    let lp = Loop::new().unwrap();
    let fs_event = FsEvent::new(&lp);
    fs_event.start(dir.join("file.jsx"), fail_cb).unwrap();
    let timer = Timer::new(&lp);
    let exact_called = Counter::new();
    let (n, w) = (exact_called.clone(), fs_event.clone());
    // libuv's timer_cb_exact.
    timer
        .start(100, 100, move |t| {
            if n.get() == 0 {
                touch_file(&dir.join("file.js"));
            } else {
                t.close(|_| {});
                w.stop();
                w.close(|_| {});
            }
            n.inc();
        })
        .unwrap();
    assert!(!run(&lp, RunMode::Default));
    assert_eq!(exact_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: two handles can watch the same file (they share one inotify watch),
// and both close, with the timer, 10 ms later; nothing calls back.
#[test]
fn fs_event_watch_file_twice() {
    let tmp = TempDir::new("fs_event_watch_file_twice");
    let path = tmp.join("empty_file");
    create_file(&path);
    let lp = Loop::new().unwrap();
    let watchers = [FsEvent::new(&lp), FsEvent::new(&lp)];
    watchers[0].start(&path, fail_cb).unwrap();
    watchers[1].start(&path, fail_cb).unwrap();
    let timer = Timer::new(&lp);
    let w = watchers.clone();
    // libuv's timer_cb_watch_twice.
    timer
        .start(10, 0, move |t| {
            w[0].close(|_| {});
            w[1].close(|_| {});
            t.close(|_| {});
        })
        .unwrap();
    assert!(!run(&lp, RunMode::Default));
    make_valgrind_happy(&lp);
}

/// Changes the process's current directory until dropped.
struct CurrentDir(PathBuf);

impl CurrentDir {
    fn enter(dir: &Path) -> CurrentDir {
        let old = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir).unwrap();
        CurrentDir(old)
    }
}

impl Drop for CurrentDir {
    fn drop(&mut self) {
        std::env::set_current_dir(&self.0).unwrap();
    }
}

// test-fs-event.c: a file watched by a bare name, relative to the current directory,
// reports its change with that name: the timer touches "watch_file" and closes itself;
// the watcher calls back (CHANGE, "watch_file") and closes.
#[test]
fn fs_event_watch_file_current_dir() {
    let tmp = TempDir::new("fs_event_watch_file_current_dir");
    let file = tmp.join("watch_file");
    create_file(&file);
    let lp = Loop::new().unwrap();
    let cb_called = Counter::new();
    let touch_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    let (n, c) = (cb_called.clone(), closed.clone());
    {
        let _cwd = CurrentDir::enter(tmp.path());
        // libuv's fs_event_cb_file_current_dir.
        fs_event
            .start("watch_file", move |h, filename, events, status| {
                n.inc();
                assert_eq!(h.path().unwrap(), Path::new("watch_file"));
                assert_eq!(status, Ok(()));
                assert_eq!(events, FsEvents::CHANGE);
                assert_eq!(filename, Some(OsStr::new("watch_file")));
                h.close(close_cb(&c));
            })
            .unwrap();
    }
    let timer = Timer::new(&lp);
    let t_called = touch_called.clone();
    // libuv's timer_cb_touch.
    timer
        .start(100, 0, move |t| {
            t.close(|_| {});
            touch_file(&file);
            t_called.inc();
        })
        .unwrap();
    assert_eq!(touch_called.get(), 0);
    assert_eq!(cb_called.get(), 0);
    assert_eq!(closed.get(), 0);
    run(&lp, RunMode::Default);
    assert_eq!(touch_called.get(), 1);
    assert_ne!(cb_called.get(), 0);
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-event.c (Windows-only there: a file in the root of the system drive): the
// Linux analogue, the root directory itself, can be watched; its path is "/", and the
// handle closes without calling back.
#[test]
fn fs_event_watch_file_root_dir() {
    let lp = Loop::new().unwrap();
    let fs_event = FsEvent::new(&lp);
    match fs_event.start("/", fail_cb) {
        Ok(()) => {}
        Err(e) if e == Error::EACCES || e == Error::ENOSPC || e == Error::EMFILE => {
            eprintln!("skipped: cannot watch /: {e:?}");
            fs_event.close(|_| {});
            make_valgrind_happy(&lp);
            return;
        }
        Err(e) => panic!("watching /: {e:?}"),
    }
    assert_eq!(fs_event.path().unwrap(), Path::new("/"));
    fs_event.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-fs-event.c: a handle closed right after its file changed never calls back: the
// change happens after `close`, before the loop runs; only the close callback runs.
#[test]
fn fs_event_no_callback_after_close() {
    let tmp = TempDir::new("fs_event_no_callback_after_close");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    create_file(&dir.join("file1"));
    let lp = Loop::new().unwrap();
    let cb_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    fs_event.start(dir.join("file1"), fs_event_cb_file(&cb_called, &closed, dir.join("file1"))).unwrap();
    fs_event.close(close_cb(&closed));
    touch_file(&dir.join("file1"));
    run(&lp, RunMode::Default);
    assert_eq!(cb_called.get(), 0);
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: closing a watcher before the loop runs calls only the close callback.
#[test]
fn fs_event_no_callback_on_close() {
    let tmp = TempDir::new("fs_event_no_callback_on_close");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    create_file(&dir.join("file1"));
    let lp = Loop::new().unwrap();
    let cb_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    fs_event.start(dir.join("file1"), fs_event_cb_file(&cb_called, &closed, dir.join("file1"))).unwrap();
    fs_event.close(close_cb(&closed));
    run(&lp, RunMode::Default);
    assert_eq!(cb_called.get(), 0);
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: a watcher made, started and closed inside a timer callback (the
// first on its loop: the inotify descriptor is opened there) closes cleanly, with the
// timer: two close callbacks, no event.
#[test]
fn fs_event_immediate_close() {
    let tmp = TempDir::new("fs_event_immediate_close");
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let timer = Timer::new(&lp);
    let (c, dir) = (closed.clone(), tmp.path().to_owned());
    // libuv's timer_cb.
    timer
        .start(1, 0, move |t| {
            let fs_event = FsEvent::new(&t.get_loop());
            fs_event.start(&dir, fail_cb).unwrap();
            fs_event.close(close_cb(&c));
            t.close(close_cb(&c));
        })
        .unwrap();
    run(&lp, RunMode::Default);
    assert_eq!(closed.get(), 2);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: an event already queued by the kernel (a file in the watched
// directory written) when the watcher closes is never delivered.
#[test]
fn fs_event_close_with_pending_event() {
    let tmp = TempDir::new("fs_event_close_with_pending_event");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    create_file(&dir.join("file"));
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    fs_event.start(&dir, fail_cb).unwrap();
    // Generate an fs event.
    touch_file(&dir.join("file"));
    fs_event.close(close_cb(&closed));
    run(&lp, RunMode::Default);
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: the same when the pending events are the watched file's deletion
// (the kernel has dropped the watch by then: IN_DELETE_SELF, IN_IGNORED): closing
// still works, and nothing calls back.
#[test]
fn fs_event_close_with_pending_delete_event() {
    let tmp = TempDir::new("fs_event_close_with_pending_delete_event");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    create_file(&dir.join("file"));
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    fs_event.start(dir.join("file"), fail_cb).unwrap();
    // Generate an fs event.
    std::fs::remove_file(dir.join("file")).unwrap();
    // Allow time for the remove event to propagate to the pending list (libuv: 1100 ms).
    std::thread::sleep(Duration::from_millis(10));
    lp.update_time();
    fs_event.close(close_cb(&closed));
    run(&lp, RunMode::Default);
    assert_eq!(closed.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: a watcher may close itself in its callback: it watches a directory
// where a timer creates 16 files, one per tick, and closes on its third event; no
// callback comes after that (exactly 3), though the timer goes on creating files. Then
// the timer closes too.
#[test]
fn fs_event_close_in_callback() {
    let tmp = TempDir::new("fs_event_close_in_callback");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    let lp = Loop::new().unwrap();
    let files = Rc::new(Files { dir: dir.clone(), ..Files::default() });
    let cb_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    let (n, c) = (cb_called.clone(), closed.clone());
    // libuv's fs_event_cb_close.
    fs_event
        .start(&dir, move |h, _, _, status| {
            assert_eq!(status, Ok(()));
            assert!(n.get() < 3);
            if n.inc() == 3 {
                h.close(close_cb(&c));
            }
        })
        .unwrap();
    let timer = Timer::new(&lp);
    let f = files.clone();
    timer.start(100, 0, move |t| fs_event_create_files(t, &f)).unwrap();
    run(&lp, RunMode::Default);
    assert_eq!(files.created.get(), FILE_COUNT);
    timer.close(close_cb(&closed));
    run(&lp, RunMode::Once);
    assert_eq!(closed.get(), 2);
    assert_eq!(cb_called.get(), 3);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: two watchers started on one directory and closed (the second first)
// before the loop runs: two close callbacks, nothing else.
#[test]
fn fs_event_start_and_close() {
    let tmp = TempDir::new("fs_event_start_and_close");
    let dir = tmp.join("watch_dir");
    create_dir(&dir);
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    // libuv starts both with fs_event_cb_dir, which no event can reach here.
    let fs_event1 = FsEvent::new(&lp);
    fs_event1.start(&dir, fail_cb).unwrap();
    let fs_event2 = FsEvent::new(&lp);
    fs_event2.start(&dir, fail_cb).unwrap();
    fs_event2.close(close_cb(&closed));
    fs_event1.close(close_cb(&closed));
    run(&lp, RunMode::Default);
    assert_eq!(closed.get(), 2);
    make_valgrind_happy(&lp);
}

// test-fs-event.c: fs_event_error_reporting is macOS-only (FSEvents streams running
// out: EMFILE); on Linux libuv's test only checks that the default loop closes. See the
// header for why there is no inotify counterpart.
#[test]
fn fs_event_error_reporting() {
    let lp = Loop::new().unwrap();
    make_valgrind_happy(&lp);
}

// test-fs-event.c: `path()` is EINVAL until started, then the path exactly as given
// (trailing slashes, "..", doubled slashes kept), for five spellings of one directory,
// each watched, stopped and closed in turn.
#[test]
fn fs_event_getpath() {
    let tmp = TempDir::new("fs_event_getpath");
    create_dir(&tmp.join("watch_dir"));
    create_dir(&tmp.join("watch_dir/subfolder"));
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let watch_dir = ["watch_dir", "watch_dir/", "watch_dir///", "watch_dir/subfolder/..", "watch_dir//subfolder//..//"];
    for dir in watch_dir {
        let path = format!("{}/{dir}", tmp.path().display());
        let fs_event = FsEvent::new(&lp);
        assert_eq!(fs_event.path().unwrap_err(), Error::EINVAL);
        fs_event.start(&path, fail_cb).unwrap();
        let got = fs_event.path().unwrap();
        assert_eq!(got.as_os_str().len(), path.len());
        assert_eq!(got.as_os_str(), OsStr::new(&path));
        fs_event.stop();
        fs_event.close(close_cb(&closed));
        run(&lp, RunMode::Default);
        assert_eq!(closed.get(), 1);
        closed.set(0);
    }
    make_valgrind_happy(&lp);
}

// test-fs-event.c: starting on a path that does not exist ("<:;", relative) or on ""
// fails, and leaves the handle inactive.
#[test]
fn fs_event_watch_invalid_path() {
    let lp = Loop::new().unwrap();
    let cb_called = Counter::new();
    let closed = Counter::new();
    let fs_event = FsEvent::new(&lp);
    let r = fs_event.start("<:;", fs_event_cb_file(&cb_called, &closed, PathBuf::new()));
    assert!(r.is_err());
    assert!(!fs_event.is_active());
    let r = fs_event.start("", fs_event_cb_file(&cb_called, &closed, PathBuf::new()));
    assert!(r.is_err());
    assert!(!fs_event.is_active());
    // libuv leaves the handle to MAKE_VALGRIND_HAPPY's uv_walk.
    fs_event.close(|_| {});
    make_valgrind_happy(&lp);
    assert_eq!(cb_called.get(), 0);
}

// test-fs-event.c: a watcher that stops itself in its callback is called once for the
// touch (the timer touches the file and closes), and no more after that: the loop
// ends with the stopped watcher still open; closing it calls nothing else.
#[test]
fn fs_event_stop_in_cb() {
    let tmp = TempDir::new("fs_event_stop_in_cb");
    let path = tmp.join("fs_event_stop_in_cb.txt");
    create_file(&path);
    let lp = Loop::new().unwrap();
    let stop_calls = Counter::new();
    let touch_called = Counter::new();
    let fs = FsEvent::new(&lp);
    let n = stop_calls.clone();
    // libuv's fs_event_cb_stop.
    fs.start(&path, move |h, _, _, _| {
        h.stop();
        n.inc();
    })
    .unwrap();
    // Note: timer_cb_touch() closes the handle.
    let timer = Timer::new(&lp);
    let (t_called, p) = (touch_called.clone(), path.clone());
    timer
        .start(100, 0, move |t| {
            t.close(|_| {});
            touch_file(&p);
            t_called.inc();
        })
        .unwrap();
    assert_eq!(stop_calls.get(), 0);
    assert_eq!(touch_called.get(), 0);
    assert!(!run(&lp, RunMode::Default));
    assert_eq!(stop_calls.get(), 1);
    assert_eq!(touch_called.get(), 1);
    fs.close(|_| {});
    assert!(!run(&lp, RunMode::Default));
    assert_eq!(stop_calls.get(), 1);
    make_valgrind_happy(&lp);
}

// test-ref.c: an active but unreferenced watcher does not keep the loop alive, so the
// loop returns at once and its callback never runs.
#[test]
fn fs_event_ref() {
    let tmp = TempDir::new("fs_event_ref");
    let lp = Loop::new().unwrap();
    let h = FsEvent::new(&lp);
    h.start(tmp.path(), fail_cb).unwrap();
    h.unref();
    assert!(!run(&lp, RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// Not in libuv's suite: an event without a name (here the watched directory's own mode
// changed) carries what follows the last `/` of the watched path, as libuv's
// `uv__basename_r` gives it: the directory's name, or nothing for "dir/".
#[test]
fn nameless_events_carry_the_watched_paths_base_name() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("fs_event_nameless");
    let watched = dir.join("watched");
    create_dir(&watched);
    for (given, expected) in [(watched.clone(), "watched"), (PathBuf::from(format!("{}/", watched.display())), "")] {
        let lp = Loop::new().unwrap();
        let names = Rc::new(std::cell::RefCell::new(Vec::new()));
        let n = names.clone();
        let h = FsEvent::new(&lp);
        h.start(&given, move |h, name, events, status| {
            status.unwrap();
            assert!(events.contains(FsEvents::CHANGE));
            n.borrow_mut().push(name.map(|n| n.to_os_string()));
            h.close(|_| {});
        })
        .unwrap();
        std::fs::set_permissions(&watched, std::fs::Permissions::from_mode(0o700)).unwrap();
        run(&lp, RunMode::Default);
        assert_eq!(*names.borrow(), [Some(expected.into())], "watching {}", given.display());
    }
}
