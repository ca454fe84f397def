//! File system requests, on the thread pool and synchronously. Ported in spirit from
//! libuv's test-fs.c (the operations millrace has: open, read, write, close, stat,
//! fstat, unlink) and test-threadpool-cancel.c (threadpool_cancel_fs). Every test uses
//! its own file under the system temp directory.

mod util;

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::fs::{self, File, FsReq};
use millrace_reactor::{Error, Handle, Loop, RunMode, Timer};
use util::pool::saturate_threadpool;
use util::{make_valgrind_happy, Counter, TempPath};

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

    let timer_cb_called = Counter::new();
    let timer = Timer::new(&lp);
    let t = timer_cb_called.clone();
    timer
        .start(10, 0, move |h| {
            for req in &reqs {
                assert_eq!(req.cancel(), Ok(()));
            }
            h.close(|_| {});
            gate.open();
            t.inc();
        })
        .unwrap();
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
