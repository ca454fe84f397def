//! File system requests, on the thread pool and synchronously. Ported in spirit from
//! libuv's test-fs.c (the operations millrace has: open, read, write, close, stat,
//! fstat, unlink) and test-threadpool-cancel.c (threadpool_cancel_fs). Every test uses
//! its own file under the system temp directory.
//!
//! Ported from test-fs.c by name, with libuv's operations in libuv's order:
//! fs_file_loop, fs_file_open_append, fs_file_pos_after_op_with_offset,
//! fs_file_pos_write, fs_file_pos_append, fs_read_bufs, fs_partial_read,
//! fs_partial_write, fs_write_alotof_bufs, fs_write_alotof_bufs_with_offset,
//! fs_file_write_null_buffer, fs_read_write_null_arguments, fs_get_system_error.
//! Adaptations:
//! - libuv's `test_buf` is a C string whose `sizeof` counts the NUL: those tests write
//!   `TEST_BUF_NUL` (13 bytes, 26 for two), as libuv does.
//! - libuv runs most of them twice, the second time with `UV_FS_O_FILEMAP`, which is 0
//!   on Unix: each runs once here. `lseek(fd, 0, SEEK_CUR)` is `file_pos`, and
//!   `uv_test_getiovmax` asks `sysconf(_SC_IOV_MAX)`, not the crate's constant.
//! - fs_read_bufs writes its own 446 bytes where libuv reads
//!   test/fixtures/lorem_ipsum.txt (446 bytes), and also checks the bytes themselves.
//! - fs_file_pos_write and fs_file_pos_append are compiled for Windows only in libuv
//!   1.46; Linux behaves the same (`pwrite` on an `O_APPEND` file appends), so they run.
//! - fs_partial_read/fs_partial_write: the other end of the pipe is a `std::thread`
//!   (in a `thread::scope`, so it is joined even when the test fails) that sends
//!   SIGUSR1 to the test thread with `pthread_kill`. libuv zero-fills both sides; here
//!   the sending side holds a pattern, so the final comparison can fail. For the write,
//!   the pipe is shrunk to one page (`F_SETPIPE_SZ`): with the default 64 KiB the
//!   reader keeps up and the signals seldom cut a write short, so the resumption of a
//!   write in mid-buffer would go untested. So that a failure fails rather than
//!   blocks, the thread then takes (and counts) any bytes past the expected ones, and
//!   closes its end if the test thread still waits after 30 s. SIGUSR1 is the whole
//!   process's, so the two tests take turns.
//! - fs_read_write_null_arguments: NULL buffer arrays cannot be written in Rust; what
//!   is left is that no buffers at all is EINVAL for `readv` and `write`, synchronously
//!   and on the pool. libuv refuses the asynchronous form before queueing it, without
//!   a callback; here the callback gets EINVAL, and then nothing keeps the loop alive.

mod util;

use std::cell::RefCell;
use std::io::IoSliceMut;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace_reactor::fs::{self, File, FsReq};
use millrace_reactor::{Error, Handle, Loop, RunMode, Signal};
use util::pool::{cancel_from_timer, saturate_threadpool};
use util::{make_valgrind_happy, Counter, TempDir, TempPath};

const TEST_BUF: &[u8] = b"test-buffer\n";
const TEST_BUF2: &[u8] = b"second-buffer\n";

fn bytes(b: &'static [u8]) -> Bytes {
    Bytes::from_static(b)
}

// test-fs.c: opening a missing file for reading is ENOENT, synchronously and on the pool.
#[test]
fn fs_file_noent() {
    let lp = Loop::new().unwrap();
    let path = TempPath::new("noent");
    assert_eq!(fs::open_sync(path.path(), "r", 0).unwrap_err(), Error::ENOENT);

    let open_cb_count = Counter::new();
    let c = open_cb_count.clone();
    fs::open(&lp, path.path(), "r", 0, move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOENT);
        c.inc();
    });
    assert_eq!(open_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(open_cb_count.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs.c: a file name longer than NAME_MAX is ENAMETOOLONG.
#[test]
fn fs_file_nametoolong() {
    let lp = Loop::new().unwrap();
    let name = std::env::temp_dir().join("a".repeat(300));
    assert_eq!(fs::open_sync(&name, "r", 0).unwrap_err(), Error::ENAMETOOLONG);

    let open_cb_count = Counter::new();
    let c = open_cb_count.clone();
    fs::open(&lp, name, "r", 0, move |r| {
        assert_eq!(r.unwrap_err(), Error::ENAMETOOLONG);
        c.inc();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(open_cb_count.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs.c fs_file_async, on millrace's operations: open (create), write, fstat, read,
// read at end of file, close, stat, unlink, each from the previous one's callback, each
// callback on the loop thread.
#[test]
fn fs_file_async() {
    let lp = Loop::new().unwrap();
    let tmp = TempPath::new("async");
    let path = tmp.path().to_owned();
    let steps = Rc::new(RefCell::new(Vec::<&'static str>::new()));

    let (l, s, p) = (lp.clone(), steps.clone(), path.clone());
    fs::open(&lp, &path, "w+", 0o600, move |r| {
        let file = r.unwrap();
        s.borrow_mut().push("open");
        let (l2, s, p, f) = (l.clone(), s.clone(), p.clone(), file.clone());
        fs::write(&l, &file, vec![bytes(TEST_BUF)], Some(0), move |r| {
            assert_eq!(r, Ok(TEST_BUF.len()));
            s.borrow_mut().push("write");
            let (l, s, p, f2) = (l2.clone(), s.clone(), p.clone(), f.clone());
            fs::fstat(&l2, &f, move |r| {
                let st = r.unwrap();
                assert!(st.is_file());
                assert_eq!(st.size, TEST_BUF.len() as u64);
                s.borrow_mut().push("fstat");
                let (l2, s, p, f) = (l.clone(), s.clone(), p.clone(), f2.clone());
                fs::read(&l, &f2, 100, Some(0), move |r| {
                    assert_eq!(r.unwrap(), TEST_BUF);
                    s.borrow_mut().push("read");
                    let (l, s, p, f2) = (l2.clone(), s.clone(), p.clone(), f.clone());
                    fs::read(&l2, &f, 100, Some(TEST_BUF.len() as u64), move |r| {
                        assert!(r.unwrap().is_empty(), "a read at end of file is empty");
                        s.borrow_mut().push("read eof");
                        let (l2, s, p) = (l.clone(), s.clone(), p.clone());
                        fs::close(&l, &f2, move |r| {
                            assert_eq!(r, Ok(()));
                            s.borrow_mut().push("close");
                            let (l, s, p2) = (l2.clone(), s.clone(), p.clone());
                            fs::stat(&l2, &p, move |r| {
                                assert_eq!(r.unwrap().size, TEST_BUF.len() as u64);
                                s.borrow_mut().push("stat");
                                let (l2, s, p) = (l.clone(), s.clone(), p2.clone());
                                fs::unlink(&l, &p2, move |r| {
                                    assert_eq!(r, Ok(()));
                                    s.borrow_mut().push("unlink");
                                    let s = s.clone();
                                    fs::stat(&l2, p, move |r| {
                                        assert_eq!(r.unwrap_err(), Error::ENOENT);
                                        s.borrow_mut().push("stat gone");
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(*steps.borrow(), ["open", "write", "fstat", "read", "read eof", "close", "stat", "unlink", "stat gone"]);
    assert!(!path.exists());
    make_valgrind_happy(&lp);
}

// test-fs.c fs_file_sync: the same sequence with the synchronous variants.
#[test]
fn fs_file_sync() {
    let tmp = TempPath::new("sync");
    let path = tmp.path();

    let file = fs::open_sync(path, "w+", 0o600).unwrap();
    assert!(file.is_open());
    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF)], Some(0)), Ok(TEST_BUF.len()));
    let st = fs::fstat_sync(&file).unwrap();
    assert!(st.is_file());
    assert_eq!(st.size, TEST_BUF.len() as u64);
    assert_eq!(fs::read_sync(&file, 100, Some(0)).unwrap(), TEST_BUF);
    assert!(fs::read_sync(&file, 100, Some(TEST_BUF.len() as u64)).unwrap().is_empty());
    assert_eq!(fs::close_sync(&file), Ok(()));
    assert!(!file.is_open());

    // Reopened read-only, the file reads back from its start.
    let file = fs::open_sync(path, "r", 0).unwrap();
    assert_eq!(fs::read_sync(&file, 100, None).unwrap(), TEST_BUF);
    assert_eq!(fs::close_sync(&file), Ok(()));

    let st = fs::stat_sync(path).unwrap();
    assert!(st.is_file());
    assert_eq!(st.size, TEST_BUF.len() as u64);
    assert_eq!(st.mode & 0o777, 0o600);
    assert_eq!(fs::unlink_sync(path), Ok(()));
    assert_eq!(fs::stat_sync(path).unwrap_err(), Error::ENOENT);
    assert_eq!(fs::unlink_sync(path).unwrap_err(), Error::ENOENT);
}

// test-fs.c: a read at the current position after the data, or at an offset at the
// end, returns nothing (end of file), synchronously and on the pool.
#[test]
fn fs_read_file_eof() {
    let tmp = TempPath::new("eof");
    let file = fs::open_sync(tmp.path(), "w+", 0o600).unwrap();
    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF)], None), Ok(TEST_BUF.len()));
    assert_eq!(fs::seek_sync(&file, 0), Ok(0));

    assert_eq!(fs::read_sync(&file, 100, None).unwrap(), TEST_BUF);
    assert!(fs::read_sync(&file, 100, None).unwrap().is_empty());
    assert!(fs::read_sync(&file, 100, Some(TEST_BUF.len() as u64)).unwrap().is_empty());

    let lp = Loop::new().unwrap();
    let read_cb_count = Counter::new();
    for position in [None, Some(TEST_BUF.len() as u64), Some(1 << 20)] {
        let c = read_cb_count.clone();
        fs::read(&lp, &file, 100, position, move |r| {
            assert_eq!(r.unwrap(), Bytes::new(), "position {position:?}");
            c.inc();
        });
    }
    assert!(!lp.run(RunMode::Default));
    assert_eq!(read_cb_count.get(), 3);
    assert_eq!(fs::close_sync(&file), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c: fstat of an open file agrees with stat of its path.
#[test]
fn fs_fstat() {
    let tmp = TempPath::new("fstat");
    let file = fs::open_sync(tmp.path(), "w", 0o644).unwrap();
    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF), bytes(TEST_BUF2)], None), Ok(TEST_BUF.len() + TEST_BUF2.len()));

    let lp = Loop::new().unwrap();
    let fstat_cb_count = Counter::new();
    let (c, path) = (fstat_cb_count.clone(), tmp.path().to_owned());
    fs::fstat(&lp, &file, move |r| {
        let st = r.unwrap();
        let by_path = fs::stat_sync(&path).unwrap();
        assert_eq!(st, by_path);
        assert_eq!(st.size, (TEST_BUF.len() + TEST_BUF2.len()) as u64);
        assert!(st.is_file() && !st.is_dir());
        assert_eq!(st.nlink, 1);
        c.inc();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(fstat_cb_count.get(), 1);
    assert_eq!(fs::close_sync(&file), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c: stat of a missing path is ENOENT.
#[test]
fn fs_stat_missing_path() {
    let tmp = TempPath::new("missing");
    assert_eq!(fs::stat_sync(tmp.path()).unwrap_err(), Error::ENOENT);

    let lp = Loop::new().unwrap();
    let stat_cb_count = Counter::new();
    let c = stat_cb_count.clone();
    fs::stat(&lp, tmp.path(), move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOENT);
        c.inc();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(stat_cb_count.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs.c: several buffers written at an offset land back to back; a read at the
// current position then starts at the file's start and ends at its end.
#[test]
fn fs_write_multiple_bufs() {
    let tmp = TempPath::new("bufs");
    let file = fs::open_sync(tmp.path(), "w", 0o600).unwrap();
    let total = TEST_BUF.len() + TEST_BUF2.len();
    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF), bytes(TEST_BUF2)], Some(0)), Ok(total));
    assert_eq!(fs::close_sync(&file), Ok(()));

    let file = fs::open_sync(tmp.path(), "r", 0).unwrap();
    let got = fs::read_sync(&file, total, None).unwrap();
    assert_eq!(&got[..TEST_BUF.len()], TEST_BUF);
    assert_eq!(&got[TEST_BUF.len()..], TEST_BUF2);
    assert!(fs::read_sync(&file, 100, None).unwrap().is_empty());
    assert_eq!(fs::read_sync(&file, total, Some(0)).unwrap().len(), total);
    assert!(fs::read_sync(&file, 100, Some(total as u64)).unwrap().is_empty());
    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs.c fs_open_flags, with Node's flag strings: what each flag allows and refuses.
#[test]
fn fs_open_flags() {
    struct Case {
        flags: &'static str,
        exists: bool,
        open: Result<(), Error>,
        read: Option<Result<&'static [u8], Error>>,
        write: Option<Result<(), Error>>,
        after: &'static [u8],
    }
    let cases = [
        Case { flags: "r", exists: false, open: Err(Error::ENOENT), read: None, write: None, after: b"" },
        Case {
            flags: "r",
            exists: true,
            open: Ok(()),
            read: Some(Ok(b"old")),
            write: Some(Err(Error::EBADF)),
            after: b"old",
        },
        Case { flags: "r+", exists: false, open: Err(Error::ENOENT), read: None, write: None, after: b"" },
        Case { flags: "r+", exists: true, open: Ok(()), read: Some(Ok(b"old")), write: Some(Ok(())), after: b"oldnew" },
        Case {
            flags: "w",
            exists: false,
            open: Ok(()),
            read: Some(Err(Error::EBADF)),
            write: Some(Ok(())),
            after: b"new",
        },
        Case { flags: "w", exists: true, open: Ok(()), read: None, write: Some(Ok(())), after: b"new" },
        Case { flags: "wx", exists: true, open: Err(Error::EEXIST), read: None, write: None, after: b"old" },
        Case { flags: "wx", exists: false, open: Ok(()), read: None, write: Some(Ok(())), after: b"new" },
        Case { flags: "w+", exists: true, open: Ok(()), read: Some(Ok(b"")), write: Some(Ok(())), after: b"new" },
        Case {
            flags: "a",
            exists: true,
            open: Ok(()),
            read: Some(Err(Error::EBADF)),
            write: Some(Ok(())),
            after: b"oldnew",
        },
        Case { flags: "a", exists: false, open: Ok(()), read: None, write: Some(Ok(())), after: b"new" },
        Case { flags: "ax", exists: true, open: Err(Error::EEXIST), read: None, write: None, after: b"old" },
        Case { flags: "a+", exists: true, open: Ok(()), read: Some(Ok(b"old")), write: Some(Ok(())), after: b"oldnew" },
        Case { flags: "bogus", exists: true, open: Err(Error::EINVAL), read: None, write: None, after: b"old" },
    ];
    for case in cases {
        let what = format!("flags {:?}, file exists: {}", case.flags, case.exists);
        let tmp = TempPath::new("flags");
        if case.exists {
            std::fs::write(tmp.path(), b"old").unwrap();
        }
        match fs::open_sync(tmp.path(), case.flags, 0o600) {
            Err(e) => assert_eq!(Err(e), case.open, "{what}"),
            Ok(file) => {
                assert_eq!(case.open, Ok(()), "{what}");
                if let Some(expected) = case.read {
                    let got = fs::read_sync(&file, 100, None);
                    assert_eq!(got.as_deref().map_err(|e| *e), expected, "{what}: read");
                }
                if let Some(expected) = case.write {
                    assert_eq!(fs::write_sync(&file, &[bytes(b"new")], None).map(|_| ()), expected, "{what}: write");
                }
                assert_eq!(fs::close_sync(&file), Ok(()), "{what}");
            }
        }
        let after = std::fs::read(tmp.path()).unwrap_or_default();
        assert_eq!(after, case.after, "{what}: contents after");
    }
}

// fs.rs's contract: `close` closes the file for every clone; later operations on it,
// on the pool or synchronous, fail with EBADF, as on a closed descriptor.
#[test]
fn fs_closed_file_ebadf() {
    let tmp = TempPath::new("ebadf");
    let file = fs::open_sync(tmp.path(), "w+", 0o600).unwrap();
    let clone = file.clone();

    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let c = closed.clone();
    fs::close(&lp, &file, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(closed.get(), 1);
    assert!(!clone.is_open());

    // Synchronous.
    assert_eq!(fs::read_sync(&clone, 10, None).unwrap_err(), Error::EBADF);
    assert_eq!(fs::write_sync(&clone, &[bytes(TEST_BUF)], None).unwrap_err(), Error::EBADF);
    assert_eq!(fs::fstat_sync(&clone).unwrap_err(), Error::EBADF);
    assert_eq!(fs::seek_sync(&clone, 0).unwrap_err(), Error::EBADF);
    assert_eq!(fs::close_sync(&clone).unwrap_err(), Error::EBADF);

    // On the pool.
    let ebadf = Counter::new();
    let expect_ebadf = |what: &'static str| {
        let c = ebadf.clone();
        move |e: Error| {
            assert_eq!(e, Error::EBADF, "{what}");
            c.inc();
        }
    };
    let (cb_read, cb_write, cb_fstat, cb_close) =
        (expect_ebadf("read"), expect_ebadf("write"), expect_ebadf("fstat"), expect_ebadf("close"));
    fs::read(&lp, &clone, 10, Some(0), move |r| cb_read(r.unwrap_err()));
    fs::write(&lp, &clone, vec![bytes(TEST_BUF)], None, move |r| cb_write(r.unwrap_err()));
    fs::fstat(&lp, &clone, move |r| cb_fstat(r.unwrap_err()));
    fs::close(&lp, &clone, move |r| cb_close(r.unwrap_err()));
    assert!(!lp.run(RunMode::Default));
    assert_eq!(ebadf.get(), 4);

    // Nothing was written through the closed file.
    assert_eq!(fs::stat_sync(tmp.path()).unwrap().size, 0);
    make_valgrind_happy(&lp);
}

// test-threadpool-cancel.c: with the pool saturated, every queued fs request is
// cancelled from a timer: each callback gets ECANCELED and none of the operations
// happens. (On Linux libuv cannot cancel most fs requests, since io_uring runs them;
// these all run on the pool.)
#[test]
fn threadpool_cancel_fs() {
    let lp = Loop::new().unwrap();
    let existing = TempPath::new("cancel-existing");
    std::fs::write(existing.path(), b"old").unwrap();
    let created = TempPath::new("cancel-created");
    let file = fs::open_sync(existing.path(), "r+", 0).unwrap();

    let gate = saturate_threadpool(&lp);

    let fs_cb_called = Counter::new();
    let cancelled = |what: &'static str| {
        let c = fs_cb_called.clone();
        move |e: Error| {
            assert_eq!(e, Error::ECANCELED, "{what}");
            c.inc();
        }
    };
    let (c_open, c_read, c_write, c_fstat, c_stat, c_unlink, c_close) = (
        cancelled("open"),
        cancelled("read"),
        cancelled("write"),
        cancelled("fstat"),
        cancelled("stat"),
        cancelled("unlink"),
        cancelled("close"),
    );
    let reqs: Vec<FsReq> = vec![
        fs::open(&lp, created.path(), "wx", 0o600, move |r: Result<File, Error>| c_open(r.unwrap_err())),
        fs::read(&lp, &file, 10, Some(0), move |r| c_read(r.unwrap_err())),
        fs::write(&lp, &file, vec![bytes(b"new")], Some(0), move |r| c_write(r.unwrap_err())),
        fs::fstat(&lp, &file, move |r| c_fstat(r.unwrap_err())),
        fs::stat(&lp, existing.path(), move |r| c_stat(r.unwrap_err())),
        fs::unlink(&lp, existing.path(), move |r| c_unlink(r.unwrap_err())),
        fs::close(&lp, &file, move |r| c_close(r.unwrap_err())),
    ];
    let n = reqs.len();

    let timer_cb_called = cancel_from_timer(&lp, reqs, gate);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(fs_cb_called.get(), n);
    assert_eq!(timer_cb_called.get(), 1);

    // None of the cancelled operations happened.
    assert!(file.is_open());
    assert!(!created.path().exists());
    assert_eq!(std::fs::read(existing.path()).unwrap(), b"old");
    assert_eq!(fs::close_sync(&file), Ok(()));
    make_valgrind_happy(&lp);
}

/// libuv's `test_buf` as `sizeof` counts it: the string and its terminating NUL.
const TEST_BUF_NUL: &[u8] = b"test-buffer\n\0";

/// libuv's `lseek(fd, 0, SEEK_CUR)`: the file's own position.
fn file_pos(file: &File) -> i64 {
    let fd = file.fd().expect("the file is open");
    // SAFETY: lseek only looks the descriptor up and moves nothing (offset 0 from the
    // current position); `file` is borrowed, so it stays open for the call.
    unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) }
}

/// libuv's `uv_test_getiovmax`: the system's `IOV_MAX` (not the crate's constant).
fn test_getiovmax() -> usize {
    // SAFETY: sysconf only reads its argument.
    let n = unsafe { libc::sysconf(libc::_SC_IOV_MAX) };
    assert!(n > 0, "sysconf(_SC_IOV_MAX) = {n}");
    n as usize
}

// test-fs.c: a symbolic link to itself cannot be opened: ELOOP, synchronously and on
// the pool.
#[test]
fn fs_file_loop() {
    let lp = Loop::new().unwrap();
    let dir = TempDir::new("fs_file_loop");
    let link = dir.join("test_symlink");
    // As libuv's symlink("test_symlink", "test_symlink"): a relative target, resolved
    // in the link's own directory.
    assert_eq!(fs::symlink_sync("test_symlink", &link), Ok(()));
    assert!(fs::lstat_sync(&link).unwrap().is_symlink());

    assert_eq!(fs::open_sync(&link, libc::O_RDONLY, 0).unwrap_err(), Error::ELOOP);

    let open_cb_count = Counter::new();
    let c = open_cb_count.clone();
    fs::open(&lp, &link, libc::O_RDONLY, 0, move |r| {
        assert_eq!(r.unwrap_err(), Error::ELOOP);
        c.inc();
    });
    assert_eq!(open_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(open_cb_count.get(), 1);
    make_valgrind_happy(&lp);
}

// test-fs.c: a file written, then opened again with O_APPEND and written again, reads
// back as both writes, one after the other.
#[test]
fn fs_file_open_append() {
    let tmp = TempPath::new("open-append");
    let path = tmp.path();

    let file = fs::open_sync(path, libc::O_WRONLY | libc::O_CREAT, 0o600).unwrap();
    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF_NUL)], None), Ok(TEST_BUF_NUL.len()));
    assert_eq!(fs::close_sync(&file), Ok(()));

    let file = fs::open_sync(path, libc::O_RDWR | libc::O_APPEND, 0).unwrap();
    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF_NUL)], None), Ok(TEST_BUF_NUL.len()));
    assert_eq!(fs::close_sync(&file), Ok(()));

    let file = fs::open_sync(path, libc::O_RDONLY, 0o400).unwrap();
    let got = fs::read_sync(&file, 32, None).unwrap();
    assert_eq!(got.len(), 26);
    assert_eq!(got, &b"test-buffer\n\0test-buffer\n\0"[..]);
    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs.c: a write and a read at an offset leave the file's own position alone.
#[test]
fn fs_file_pos_after_op_with_offset() {
    let tmp = TempPath::new("pos-after-op");
    let file = fs::open_sync(tmp.path(), libc::O_RDWR | libc::O_CREAT, 0o600).unwrap();
    assert!(file.fd().unwrap() > 0);

    assert_eq!(fs::write_sync(&file, &[bytes(TEST_BUF_NUL)], Some(0)), Ok(TEST_BUF_NUL.len()));
    assert_eq!(file_pos(&file), 0);

    let got = fs::read_sync(&file, 32, Some(0)).unwrap();
    assert_eq!(got, TEST_BUF_NUL);
    assert_eq!(file_pos(&file), 0);

    assert_eq!(fs::close_sync(&file), Ok(()));
}

/// test-fs.c `fs_file_pos_common`: "abc" written at the position; a read at an offset
/// does not move it (the next read at the position is at the end), a write at the
/// position does.
fn fs_file_pos_common(file: &File) {
    assert_eq!(fs::write_sync(file, &[bytes(b"abc")], None), Ok(3));

    // Read with offset should not change the position.
    assert_eq!(fs::read_sync(file, 1, Some(1)).unwrap(), &b"b"[..]);
    assert!(fs::read_sync(file, 32, None).unwrap().is_empty());

    // Write without offset should change the position.
    assert_eq!(fs::write_sync(file, &[bytes(b"d")], None), Ok(1));
    assert!(fs::read_sync(file, 32, None).unwrap().is_empty());
}

/// test-fs.c `fs_file_pos_close_check`: close, then the file holds `contents`.
fn fs_file_pos_close_check(path: &std::path::Path, file: &File, contents: &[u8]) {
    assert_eq!(fs::close_sync(file), Ok(()));
    let file = fs::open_sync(path, libc::O_RDONLY, 0).unwrap();
    assert_eq!(fs::read_sync(&file, 32, None).unwrap(), contents);
    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs.c (compiled for Windows only in libuv 1.46; Linux behaves the same): a write
// at an offset lands there and does not move the file's position.
#[test]
fn fs_file_pos_write() {
    let tmp = TempPath::new("pos-write");
    let file = fs::open_sync(tmp.path(), libc::O_TRUNC | libc::O_CREAT | libc::O_RDWR, 0o600).unwrap();
    assert!(file.fd().unwrap() > 0);
    fs_file_pos_common(&file);

    // Write with offset should not change the position.
    assert_eq!(fs::write_sync(&file, &[bytes(b"e")], Some(1)), Ok(1));
    assert!(fs::read_sync(&file, 32, None).unwrap().is_empty());

    fs_file_pos_close_check(tmp.path(), &file, b"aecd");
}

// test-fs.c (compiled for Windows only in libuv 1.46; Linux behaves the same, as
// pwrite(2) on an O_APPEND file appends): in append mode a write at an offset appends,
// ignoring the offset, and does not move the file's position.
#[test]
fn fs_file_pos_append() {
    let tmp = TempPath::new("pos-append");
    let file = fs::open_sync(tmp.path(), libc::O_APPEND | libc::O_CREAT | libc::O_RDWR, 0o600).unwrap();
    assert!(file.fd().unwrap() > 0);
    fs_file_pos_common(&file);

    // Write with offset appends (ignoring offset) but does not change the position.
    assert_eq!(fs::write_sync(&file, &[bytes(b"e")], Some(1)), Ok(1));
    assert_eq!(fs::read_sync(&file, 32, None).unwrap(), &b"e"[..]);

    fs_file_pos_close_check(tmp.path(), &file, b"abcde");
}

// test-fs.c: no buffers is EINVAL; two buffers are filled in order by one positional
// read, and a read at another offset lands in the next two.
#[test]
fn fs_read_bufs() {
    // libuv reads test/fixtures/lorem_ipsum.txt, 446 bytes; this test writes its own
    // 446 bytes, none the same as the 88 before or after it.
    let tmp = TempPath::new("read-bufs");
    let lorem: Vec<u8> = (0..446u32).map(|i| b'!' + (i % 89) as u8).collect();
    std::fs::write(tmp.path(), &lorem).unwrap();

    let file = fs::open_sync(tmp.path(), libc::O_RDONLY, 0).unwrap();
    // (libuv's NULL buffers with a count of 1 cannot be written in Rust.)
    assert_eq!(fs::readv_sync(&file, &mut [], Some(0)), Err(Error::EINVAL));

    let mut scratch = [0u8; 768];
    let (b0, rest) = scratch.split_at_mut(256);
    let (b1, rest) = rest.split_at_mut(256);
    let (b2, b3) = rest.split_at_mut(128);

    // 2x 256 bytes, positional read.
    assert_eq!(fs::readv_sync(&file, &mut [IoSliceMut::new(b0), IoSliceMut::new(b1)], Some(0)), Ok(446));
    // 2x 128 bytes, positional read: 446 - 256.
    assert_eq!(fs::readv_sync(&file, &mut [IoSliceMut::new(b2), IoSliceMut::new(b3)], Some(256)), Ok(190));

    assert_eq!(b1[..128], b2[..]);
    assert_eq!(b1[128..190], b3[..190 - 128]);
    // What libuv leaves to the fixture: the bytes are the file's, in order.
    assert_eq!(b0[..], lorem[..256]);
    assert_eq!(b1[..190], lorem[256..]);

    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs.c: 54321 buffers (far more than IOV_MAX) are all written, in order; a read
// into as many buffers fills IOV_MAX of them; after the data is end of file.
#[test]
fn fs_write_alotof_bufs() {
    let iovcount = 54321;
    let tmp = TempPath::new("alotof");
    let iovmax = test_getiovmax();

    let file = fs::open_sync(tmp.path(), libc::O_RDWR | libc::O_CREAT, 0o600).unwrap();
    let iovs = vec![bytes(TEST_BUF_NUL); iovcount];
    let written = fs::write_sync(&file, &iovs, None).unwrap();
    assert_eq!(written, TEST_BUF_NUL.len() * iovcount);

    // Read the strings back to separate buffers.
    let mut buffer = vec![0u8; TEST_BUF_NUL.len() * iovcount];
    assert_eq!(fs::close_sync(&file), Ok(()));

    let file = fs::open_sync(tmp.path(), libc::O_RDONLY, 0).unwrap();
    let mut read_iovs: Vec<IoSliceMut<'_>> = buffer.chunks_mut(TEST_BUF_NUL.len()).map(IoSliceMut::new).collect();
    let r = fs::readv_sync(&file, &mut read_iovs, None);
    drop(read_iovs);
    let iovcount = iovcount.min(iovmax);
    assert_eq!(r, Ok(TEST_BUF_NUL.len() * iovcount));
    for (index, chunk) in buffer.chunks(TEST_BUF_NUL.len()).take(iovcount).enumerate() {
        assert_eq!(chunk, TEST_BUF_NUL, "buffer {index}");
    }

    assert_eq!(fs::seek_sync(&file, written as u64), Ok(written as u64));
    assert!(fs::read_sync(&file, 32, None).unwrap().is_empty());
    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs.c: the same at an offset, after a 10-byte filler: the file ends at the offset
// plus everything written, and a positional read fills IOV_MAX buffers.
#[test]
fn fs_write_alotof_bufs_with_offset() {
    let filler = b"0123456789";
    let iovcount = 54321;
    let tmp = TempPath::new("alotof-offset");
    let iovmax = test_getiovmax();

    let file = fs::open_sync(tmp.path(), libc::O_RDWR | libc::O_CREAT, 0o600).unwrap();
    assert_eq!(fs::write_sync(&file, &[bytes(filler)], None), Ok(filler.len()));
    let offset = filler.len() as u64;

    let iovs = vec![bytes(TEST_BUF_NUL); iovcount];
    let written = fs::write_sync(&file, &iovs, Some(offset)).unwrap();
    assert_eq!(written, TEST_BUF_NUL.len() * iovcount);

    // Read the strings back to separate buffers.
    let mut buffer = vec![0u8; TEST_BUF_NUL.len() * iovcount];
    let mut read_iovs: Vec<IoSliceMut<'_>> = buffer.chunks_mut(TEST_BUF_NUL.len()).map(IoSliceMut::new).collect();
    let r = fs::readv_sync(&file, &mut read_iovs, Some(offset));
    drop(read_iovs);
    // (libuv also accepts one buffer's worth, where preadv is missing; Linux has it.)
    let iovcount = iovcount.min(iovmax);
    assert_eq!(r, Ok(TEST_BUF_NUL.len() * iovcount));
    for (index, chunk) in buffer.chunks(TEST_BUF_NUL.len()).take(iovcount).enumerate() {
        assert_eq!(chunk, TEST_BUF_NUL, "buffer {index}");
    }

    assert_eq!(fs::stat_sync(tmp.path()).unwrap().size, offset + written as u64);
    assert!(fs::read_sync(&file, 32, Some(offset + written as u64)).unwrap().is_empty());
    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs.c: writing one empty buffer writes nothing and is no error.
#[test]
fn fs_file_write_null_buffer() {
    let tmp = TempPath::new("null-buffer");
    let file = fs::open_sync(tmp.path(), libc::O_WRONLY | libc::O_CREAT, 0o600).unwrap();
    assert_eq!(fs::write_sync(&file, &[Bytes::new()], None), Ok(0));
    assert_eq!(fs::close_sync(&file), Ok(()));
    assert_eq!(fs::stat_sync(tmp.path()).unwrap().size, 0);
}

// test-fs.c: a read or write with no buffers is EINVAL, synchronously and on the pool,
// and leaves nothing to keep the loop alive. (libuv's NULL buffer arrays cannot be
// written in Rust; libuv refuses the asynchronous form before queueing it, without a
// callback, whereas here the callback gets EINVAL.)
#[test]
fn fs_read_write_null_arguments() {
    let tmp = TempPath::new("null-args");
    let file = fs::open_sync(tmp.path(), "w+", 0o600).unwrap();

    assert_eq!(fs::readv_sync(&file, &mut [], None), Err(Error::EINVAL));
    assert_eq!(fs::write_sync(&file, &[], None), Err(Error::EINVAL));

    // A buffer array given with a count of 0.
    let mut one = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut one)];
    assert_eq!(fs::readv_sync(&file, &mut iov[..0], None), Err(Error::EINVAL));
    let iov = [bytes(TEST_BUF)];
    assert_eq!(fs::write_sync(&file, &iov[..0], None), Err(Error::EINVAL));

    // If the arguments are invalid, the loop should not be kept open.
    let lp = Loop::new().unwrap();
    let read_cb_count = Counter::new();
    let c = read_cb_count.clone();
    fs::readv(&lp, &file, Vec::new(), None, move |r, bufs| {
        assert_eq!(r, Err(Error::EINVAL));
        assert!(bufs.is_empty());
        c.inc();
    });
    assert_eq!(read_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(read_cb_count.get(), 1);

    let write_cb_count = Counter::new();
    let c = write_cb_count.clone();
    fs::write(&lp, &file, Vec::new(), None, move |r| {
        assert_eq!(r, Err(Error::EINVAL));
        c.inc();
    });
    assert_eq!(write_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(write_cb_count.get(), 1);

    // Nothing was written, and the position did not move.
    assert_eq!(fs::fstat_sync(&file).unwrap().size, 0);
    assert_eq!(file_pos(&file), 0);
    assert_eq!(fs::close_sync(&file), Ok(()));
    make_valgrind_happy(&lp);
}

/// The partial read and write tests watch SIGUSR1, which belongs to the whole process:
/// they take turns.
fn signal_serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// test-fs.c `thread_main`: moves `data` through `file` (writing it if `doread`, since
/// the test thread then reads, otherwise reading into it), `interval` bytes at a time,
/// and after each step sends SIGUSR1 to the test thread `target` to interrupt it.
fn thread_main(target: libc::pthread_t, file: &File, data: &mut [u8], interval: usize, doread: bool) {
    let fd = file.fd().expect("the thread's end is open");
    let mut done = 0;
    while done < data.len() {
        let nbytes = (data.len() - done).min(interval);
        let chunk = &mut data[done..done + nbytes];
        let result = if doread {
            // SAFETY: write reads `nbytes` bytes from `chunk`, which is that long; `fd`
            // stays open while `file` is borrowed.
            let result = unsafe { libc::write(fd, chunk.as_ptr().cast(), nbytes) };
            // Should not see EINTR (or other errors).
            assert_eq!(result, nbytes as isize, "write: {}", std::io::Error::last_os_error());
            result
        } else {
            // SAFETY: read writes at most `nbytes` bytes into `chunk`, which is that long.
            let result = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), nbytes) };
            // Should not see EINTR (or other errors), but might get a partial read if
            // we are faster than the writer.
            assert!(result > 0 && result as usize <= nbytes, "read {result}: {}", std::io::Error::last_os_error());
            result
        };
        // SAFETY: `target` is the test thread, which waits for this thread to end
        // (thread::scope) before it can end itself.
        assert_eq!(unsafe { libc::pthread_kill(target, libc::SIGUSR1) }, 0);
        done += result as usize;
    }
}

/// After `thread_main`, until the test thread is done with its side (`done`): so that
/// a test that fails fails instead of blocking for ever, take and count whatever more
/// the test thread writes (a full pipe would block it), and after 30 s close this end
/// (the test thread waits for bytes that will not come; it sees end of file). Returns
/// the bytes taken, and the end unless it was closed.
fn linger(file: File, doread: bool, done: &AtomicBool) -> (usize, Option<File>) {
    let fd = file.fd().expect("the thread's end is open");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut extra = 0;
    let mut scratch = [0u8; 4096];
    while !done.load(Ordering::SeqCst) {
        if Instant::now() > deadline {
            return (extra, None);
        }
        if doread {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: poll reads and writes the one pollfd behind the pointer, ours.
        if unsafe { libc::poll(&mut p, 1, 1) } > 0 {
            // SAFETY: read writes at most `scratch.len()` bytes into `scratch`.
            let n = unsafe { libc::read(fd, scratch.as_mut_ptr().cast(), scratch.len()) };
            extra += n.max(0) as usize;
        }
    }
    (extra, Some(file))
}

/// Sets its flag when dropped: when the test thread is done with its side, or panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// test-fs.c `test_fs_partial`: 54321 buffers of `test_buf` through a pipe, one end
/// with the test thread (a synchronous read into all the buffers, again after every
/// partial read, or one synchronous write of them all), the other with a thread that
/// moves 1000 bytes at a time and interrupts the test thread with SIGUSR1 after each.
fn test_fs_partial(doread: bool) {
    let _serial = signal_serial();
    let iovcount = 54321;
    let interval = 1000;
    let size = TEST_BUF_NUL.len() * iovcount;
    // libuv zero-fills both sides; here the sending side holds a pattern, so that the
    // comparison at the end can fail.
    let pattern = || (0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    let (ctx_data, mut buffer) = if doread { (pattern(), vec![0u8; size]) } else { (vec![0u8; size], pattern()) };

    let lp = Loop::new().unwrap();
    let signal = Signal::new(&lp);
    let sig_cb_called = Counter::new();
    let c = sig_cb_called.clone();
    signal
        .start(libc::SIGUSR1, move |h, signum| {
            assert_eq!(signum, libc::SIGUSR1);
            h.stop();
            c.inc();
        })
        .unwrap();

    let done = AtomicBool::new(false);
    // The scope joins the thread even if the test thread panics, so the thread never
    // signals a thread that has gone.
    std::thread::scope(|s| {
        let (r, w) = millrace_reactor::pipe(false, false).unwrap();
        let [read_end, write_end] = [File::from(r), File::from(w)];
        if !doread {
            // One page: the writes fill it and block, so the signals cut them short
            // (mid-buffer). With the default 64 KiB the reader keeps up with the
            // writer, and a write is seldom cut short.
            // SAFETY: F_SETPIPE_SZ only resizes the pipe behind the descriptor.
            let r = unsafe { libc::fcntl(write_end.fd().unwrap(), libc::F_SETPIPE_SZ, 4096) };
            assert_eq!(r, 4096, "F_SETPIPE_SZ: {}", std::io::Error::last_os_error());
        }
        // ctx.fd = pipe_fds[doread]. The thread owns its end while it runs, so that a
        // failure on either side ends the other side too, and hands it back.
        let (mine, theirs) = if doread { (read_end, write_end) } else { (write_end, read_end) };
        // SAFETY: pthread_self has no preconditions.
        let pid = unsafe { libc::pthread_self() };
        let done = &done;
        let thread = s.spawn(move || {
            let mut data = ctx_data;
            thread_main(pid, &theirs, &mut data, interval, doread);
            let (extra, theirs) = linger(theirs, doread, done);
            (data, extra, theirs)
        });

        let my_side_done = SetOnDrop(done);
        if doread {
            let mut iovs: Vec<IoSliceMut<'_>> = buffer.chunks_mut(TEST_BUF_NUL.len()).map(IoSliceMut::new).collect();
            let mut read_iovs: &mut [IoSliceMut<'_>] = &mut iovs;
            let mut nread = 0;
            while nread < size {
                match fs::readv_sync(&mine, read_iovs, None) {
                    Ok(0) => panic!("end of file after {nread} of {size} bytes"),
                    Ok(result) => {
                        // uv_test_fs_buf_offset: skip the buffers done, trim a partial one.
                        IoSliceMut::advance_slices(&mut read_iovs, result);
                        nread += result;
                    }
                    Err(e) => assert_eq!(e, Error::EINTR),
                }
            }
        } else {
            let iovs: Vec<Bytes> = {
                let all = Bytes::copy_from_slice(&buffer);
                (0..iovcount).map(|i| all.slice(i * TEST_BUF_NUL.len()..(i + 1) * TEST_BUF_NUL.len())).collect()
            };
            assert_eq!(fs::write_sync(&mine, &iovs, None), Ok(size));
        }
        drop(my_side_done);

        let (data, extra, theirs) = thread.join().expect("thread_main failed");
        assert_eq!(extra, 0, "bytes written after the {size} expected");
        let theirs = theirs.expect("the other end was closed");
        let (read_end, write_end) = if doread { (mine, theirs) } else { (theirs, mine) };

        assert!(buffer == data, "the bytes received differ from the bytes sent");

        // The signal callback ran (the test thread was signalled) and stopped the
        // handle, so nothing is left to run.
        assert!(!lp.run(RunMode::Default));
        assert_eq!(sig_cb_called.get(), 1);

        assert_eq!(fs::close_sync(&write_end), Ok(()));
        signal.close(|_| {});

        // Make sure we read everything that we wrote.
        let mut one = [0u8; TEST_BUF_NUL.len()];
        assert_eq!(fs::readv_sync(&read_end, &mut [IoSliceMut::new(&mut one)], None), Ok(0));
        assert_eq!(fs::close_sync(&read_end), Ok(()));
    });

    make_valgrind_happy(&lp);
}

// test-fs.c: a synchronous read of many buffers from a pipe, interrupted by signals,
// returns what it got; read again from there, the buffers end up with every byte.
#[test]
fn fs_partial_read() {
    test_fs_partial(true);
}

// test-fs.c: a synchronous write of many buffers to a pipe, cut short when a signal
// interrupts it (a blocking write to a pipe then returns what it wrote), keeps writing
// until every byte is written.
#[test]
fn fs_partial_write() {
    test_fs_partial(false);
}

// test-fs.c: on Unix the system error of a failed request is its errno: statfs of a
// missing file is ENOENT.
#[test]
fn fs_get_system_error() {
    let tmp = TempPath::new("non_existing_file");
    let e = fs::statfs_sync(tmp.path()).unwrap_err();
    assert_eq!(e, Error::ENOENT);
    assert_eq!(e.errno(), libc::ENOENT);
}
