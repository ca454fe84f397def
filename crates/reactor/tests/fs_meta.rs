//! File names, permissions, owners, times and copies: the rest of libuv 1.46's
//! test/test-fs.c that millrace's `fs` module covers, and test/test-fs-copyfile.c.
//! Each test keeps libuv's name, its operations in libuv's order (synchronous ones
//! through the `_sync` functions, asynchronous ones through the loop, with the callback
//! count checked before and after `run`) and its assertions on results and error codes.
//! The few checks added to libuv's are marked "Not in libuv's test".
//!
//! Ported: `fs_access`, `fs_chmod`, `fs_chown`, `fs_link`, `fs_readlink`,
//! `fs_realpath`, `fs_symlink`, `fs_symlink_dir`, `fs_utime`, `fs_utime_round`,
//! `fs_futime`, `fs_lutime`, `fs_unlink_readonly`, `fs_fstat_stdio`,
//! `fs_async_sendfile`, `fs_async_sendfile_nodata` (test-fs.c) and `fs_copyfile`
//! (test-fs-copyfile.c).
//!
//! Differences from libuv's tests, from the API or the harness:
//! - libuv's tests work in the current directory (`test_file`, `test_dir`, …); libtest
//!   runs these tests in parallel threads of one process, so each has a directory of
//!   its own and uses the same names inside it. Symbolic links keep libuv's relative
//!   targets (`test_file`), which resolve against the link's directory; where libuv
//!   compares with `uv_cwd()` + `/test_file`, we compare with the canonical path of the
//!   test's directory + `/test_file` (`getcwd` is canonical too).
//! - What C has and Rust does not: `req->fs_type` (each operation has its own function
//!   and callback), `req == &some_req`, `uv_fs_req_cleanup`, and `req->ptr` being
//!   NULL after a failure (an `Err` carries no value). `req->result`, `req->ptr` and
//!   `req->statbuf` are the `Result` an operation returns or its callback gets.
//! - `test_buf` is written with `sizeof`, its NUL included, and read back with
//!   `strcmp`: `TEST_BUF` has the NUL, and the bytes read back must equal it.
//! - libuv's `double` times are given as `SystemTime` (`UNIX_EPOCH - d` before 1970);
//!   `check_utime` reads `stat`'s times back as `(tv_sec, tv_nsec)` and checks them as
//!   libuv's does.
//! - `fs_fstat_stdio`: a `File` owns its descriptor, so the test `fstat`s a `dup` of
//!   each of 0, 1 and 2, and checks that the file type agrees with what
//!   `guess_handle` says of the original (libuv checks that only on Windows).
//! - `fs_copyfile`: libuv's fixture (test/fixtures/load_error.node, `foobar\n`, mode
//!   0644) is made in the test's directory. `uv_fs_copyfile` rejects bad flags before
//!   queueing the request, so with a callback it returns `UV_EINVAL` and never calls
//!   it; here every asynchronous error comes through the callback, so the callback gets
//!   `EINVAL` (nothing is copied, and the loop then has nothing left to do).
//!   `UV_FS_COPYFILE_FICLONE_FORCE` may succeed or fail in libuv's test (`r <= 0`); on
//!   ext2/3/4 and tmpfs, which cannot clone, it must fail with the `FICLONE` ioctl's
//!   error (`EOPNOTSUPP`), and the destination must be gone.
//!
//! Adapted to running as root (as CI does):
//! - `fs_chown`: libuv expects the chown to `0:0` to fail with `EPERM` unless root, and
//!   to succeed as root, where it changes nothing visible. As root the file is first
//!   given to another owner, so the `-1, -1` calls must visibly leave that owner and the
//!   chown to `0:0` must visibly take the file back; not root, the `EPERM` case is
//!   libuv's.
//! - `fs_copyfile`'s last part copies onto a read-only (0444) destination and expects
//!   `EACCES`; root may open it for writing anyway, so as root the copy must succeed
//!   and give the destination the source's size and mode.
//! - `fs_access` and `fs_unlink_readonly` check nothing that root bypasses (`W_OK` on a
//!   directory of one's own; `unlink` needs the directory's permission, not the
//!   file's), so they run as libuv's. `fs_access` also checks `X_OK` on its 0600 file:
//!   `EACCES`, for root too, since no execute bit is set.
//!
//! Not ported: the branches for other systems (Windows: the `ENOTSUP`/`EPERM` early
//! returns of `fs_symlink`, `fs_symlink_dir` and `fs_lutime`, the `\\?\` paths of
//! `fs_symlink_dir`, the mode, `st_nlink` and `st_rdev` checks of `fs_fstat_stdio`;
//! macOS and Solaris: `check_utime`'s leniency about negative `tv_nsec`; AIX, z/OS,
//! IBM i and Cygwin: the `ENOSYS`/`EINVAL` skips of `fs_utime_round`, `fs_futime` and
//! `fs_lutime`, and `chown_root_cb`'s cases for them); the Windows-only tests next to
//! these, `fs_unlink_archive_readonly` and `fs_non_symlink_reparse_point`; and
//! `fs_symlink_junction`, which on Unix is `fs_symlink_dir` again (libuv ignores
//! `UV_FS_SYMLINK_DIR` and `UV_FS_SYMLINK_JUNCTION` there, and `symlink` takes no
//! flags).

mod util;

use std::cell::RefCell;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use millrace_reactor::fs::{self, DirentType};
use millrace_reactor::{guess_handle, Error, HandleType, Loop, Result, RunMode};
use util::{make_valgrind_happy, Counter, TempDir};

/// libuv's `test_buf`, written with `sizeof`: the NUL is part of it.
const TEST_BUF: &[u8] = b"test-buffer\n\0";

/// `S_IWUSR | S_IRUSR`, the mode libuv creates its test files with.
const USER_RW: u32 = libc::S_IWUSR | libc::S_IRUSR;

fn geteuid() -> u32 {
    // SAFETY: geteuid takes no argument, touches no memory and cannot fail.
    unsafe { libc::geteuid() }
}

/// libuv's `check_permission`: the permission bits of `path` are `mode`.
fn check_permission(path: &Path, mode: u32) {
    let s = fs::stat_sync(path).unwrap();
    assert_eq!(s.mode & 0o777, mode, "permissions of {}", path.display());
}

/// libuv's `double` seconds since the epoch as a time (before 1970 if negative).
fn time_of(secs: f64) -> SystemTime {
    if secs >= 0.0 {
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    } else {
        UNIX_EPOCH - Duration::from_secs_f64(-secs)
    }
}

/// A time as `stat` gives it in C: `(tv_sec, tv_nsec)`, `tv_nsec` in `0..1e9`.
fn timespec_of(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, i64::from(d.subsec_nanos())),
        Err(before) => {
            let d = before.duration();
            let (s, ns) = (d.as_secs() as i64, i64::from(d.subsec_nanos()));
            if ns == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - ns)
            }
        }
    }
}

/// libuv's `check_utime`: `stat` (or `lstat`) of `path` reports `atime` and `mtime`,
/// to the second where the file system keeps whole seconds only, exactly otherwise
/// (the atime of a symbolic link is left out: Linux may update it as it reads the
/// link).
fn check_utime(path: &Path, atime: f64, mtime: f64, test_lutime: bool) {
    let s = if test_lutime { fs::lstat_sync(path) } else { fs::stat_sync(path) }.unwrap();
    let (a_sec, a_nsec) = timespec_of(s.atime);
    let (m_sec, m_nsec) = timespec_of(s.mtime);
    if a_nsec == 0 && m_nsec == 0 {
        // Whole seconds only; the kernel may round either way.
        if atime > 0.0 || (atime as i64) as f64 == atime {
            assert_eq!(a_sec, atime as i64);
        }
        if mtime > 0.0 || (mtime as i64) as f64 == mtime {
            assert_eq!(m_sec, mtime as i64);
        }
        assert!(a_sec >= atime as i64 - 1);
        assert!(m_sec >= mtime as i64 - 1);
        assert!(a_sec <= atime as i64);
        assert!(m_sec <= mtime as i64);
    } else {
        assert!(a_nsec >= 0);
        assert!(m_nsec >= 0);
        let st_atim = a_sec as f64 + a_nsec as f64 / 1e9;
        let st_mtim = m_sec as f64 + m_nsec as f64 / 1e9;
        if !test_lutime {
            assert_eq!(st_atim, atime, "atime of {}", path.display());
        }
        assert_eq!(st_mtim, mtime, "mtime of {}", path.display());
    }
}

/// Creates `path` (read and write, 0600) and writes `TEST_BUF` to it, as libuv's
/// tests do before linking to it.
fn create_test_file(path: &Path) {
    let file = fs::open_sync(path, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::write_sync(&file, &[Bytes::from_static(TEST_BUF)], None), Ok(TEST_BUF.len()));
    assert_eq!(fs::close_sync(&file), Ok(()));
}

/// Opens `path` read-write and reads its first 32 bytes (libuv's `buf`); they must be
/// `TEST_BUF`, as libuv's `strcmp(buf, test_buf)` checks.
fn check_reads_test_buf(path: &Path) {
    let link = fs::open_sync(path, libc::O_RDWR, 0).unwrap();
    assert_eq!(fs::read_sync(&link, 32, Some(0)).unwrap(), TEST_BUF, "contents of {}", path.display());
    assert_eq!(fs::close_sync(&link), Ok(()));
}

// test-fs.c: access(F_OK) of a missing file fails, synchronously and on the pool; of an
// existing one succeeds; a new directory is writable (W_OK). Plus: X_OK of the 0600
// file is EACCES, for root too.
#[test]
fn fs_access() {
    let dir = TempDir::new("fs_meta-fs_access");
    let test_file = dir.join("test_file");
    let test_dir = dir.join("test_dir");
    let lp = Loop::new().unwrap();

    // File should not exist.
    assert_eq!(fs::access_sync(&test_file, fs::F_OK), Err(Error::ENOENT));

    // File should not exist. (libuv's access_cb checks no result; this one checks what
    // the synchronous call got.)
    let access_cb_count = Counter::new();
    let c = access_cb_count.clone();
    fs::access(&lp, &test_file, fs::F_OK, move |r| {
        assert_eq!(r, Err(Error::ENOENT));
        c.inc();
    });
    assert_eq!(access_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(access_cb_count.get(), 1);
    access_cb_count.set(0); // reset for the next test

    // Create file.
    let file = fs::open_sync(&test_file, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();

    // File should exist.
    assert_eq!(fs::access_sync(&test_file, fs::F_OK), Ok(()));

    // File should exist. (Checked in the callback, as above.)
    let c = access_cb_count.clone();
    fs::access(&lp, &test_file, fs::F_OK, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(access_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(access_cb_count.get(), 1);

    // Close file.
    assert_eq!(fs::close_sync(&file), Ok(()));

    // Directory access.
    assert_eq!(fs::mkdir_sync(&test_dir, 0o777), Ok(()));
    assert_eq!(fs::access_sync(&test_dir, fs::W_OK), Ok(()));

    // Not in libuv's test: the mode is checked, even for root, who may execute only
    // what has an execute bit (test_file is 0600).
    assert_eq!(fs::access_sync(&test_file, fs::R_OK | fs::W_OK), Ok(()));
    assert_eq!(fs::access_sync(&test_file, fs::X_OK), Err(Error::EACCES));

    // Run the loop just to check we don't have any extraneous refs: it drops out
    // immediately.
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-fs.c: chmod and fchmod, synchronously and on the pool, each followed by a stat
// that must show exactly the permission bits set.
#[test]
fn fs_chmod() {
    let dir = TempDir::new("fs_meta-fs_chmod");
    let test_file = dir.join("test_file");
    let lp = Loop::new().unwrap();

    let file = fs::open_sync(&test_file, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::write_sync(&file, &[Bytes::from_static(TEST_BUF)], None), Ok(TEST_BUF.len()));

    // Make the file write-only.
    assert_eq!(fs::chmod_sync(&test_file, 0o200), Ok(()));
    check_permission(&test_file, 0o200);

    // Make the file read-only.
    assert_eq!(fs::chmod_sync(&test_file, 0o400), Ok(()));
    check_permission(&test_file, 0o400);

    // Make the file read+write with sync fchmod.
    assert_eq!(fs::fchmod_sync(&file, 0o600), Ok(()));
    check_permission(&test_file, 0o600);

    // Async chmod (libuv passes the mode to check in req->data).
    let chmod_cb_count = Counter::new();
    let chmod_cb = |mode: u32| {
        let (c, path) = (chmod_cb_count.clone(), test_file.clone());
        move |r: Result<()>| {
            assert_eq!(r, Ok(()));
            c.inc();
            check_permission(&path, mode);
        }
    };
    fs::chmod(&lp, &test_file, 0o200, chmod_cb(0o200));
    assert_eq!(chmod_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(chmod_cb_count.get(), 1);
    chmod_cb_count.set(0); // reset for the next test

    // Async chmod.
    fs::chmod(&lp, &test_file, 0o400, chmod_cb(0o400));
    assert_eq!(chmod_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(chmod_cb_count.get(), 1);

    // Async fchmod.
    let fchmod_cb_count = Counter::new();
    let (c, path) = (fchmod_cb_count.clone(), test_file.clone());
    fs::fchmod(&lp, &file, 0o600, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
        check_permission(&path, 0o600);
    });
    assert_eq!(fchmod_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(fchmod_cb_count.get(), 1);

    assert_eq!(fs::close_sync(&file), Ok(()));

    // Run the loop just to check we don't have any extraneous refs.
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-fs.c: chown, fchown and lchown with -1, -1 (leave the owner) succeed,
// synchronously and on the pool; a chown to 0:0 succeeds only for root (EPERM
// otherwise). As root, the file first goes to another owner so that both are seen.
#[test]
fn fs_chown() {
    /// The owner and group root gives the file first: anyone but root.
    const SOMEONE_ELSE: u32 = 4242;

    let dir = TempDir::new("fs_meta-fs_chown");
    let test_file = dir.join("test_file");
    let test_file_link = dir.join("test_file_link");
    let lp = Loop::new().unwrap();
    let root = geteuid() == 0;

    let file = fs::open_sync(&test_file, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    let owner = |path: &Path| {
        let s = fs::stat_sync(path).unwrap();
        (s.uid, s.gid)
    };
    // Not in libuv's test: as root, the file gets another owner, which the calls with
    // -1, -1 must leave, and which the chown to 0:0 must change. Not root, the owner is
    // whatever the file was created with, and stays.
    if root {
        assert_eq!(fs::chown_sync(&test_file, Some(SOMEONE_ELSE), Some(SOMEONE_ELSE)), Ok(()));
    }
    let first_owner = owner(&test_file);
    if root {
        assert_eq!(first_owner, (SOMEONE_ELSE, SOMEONE_ELSE));
    }

    // Sync chown.
    assert_eq!(fs::chown_sync(&test_file, None, None), Ok(()));
    assert_eq!(owner(&test_file), first_owner);

    // Sync fchown.
    assert_eq!(fs::fchown_sync(&file, None, None), Ok(()));
    assert_eq!(owner(&test_file), first_owner);

    // Async chown.
    let chown_cb_count = Counter::new();
    let c = chown_cb_count.clone();
    fs::chown(&lp, &test_file, None, None, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(chown_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(chown_cb_count.get(), 1);
    assert_eq!(owner(&test_file), first_owner);

    // Chown to root: fails, unless we are root.
    chown_cb_count.set(0);
    let (c, path) = (chown_cb_count.clone(), test_file.clone());
    fs::chown(&lp, &test_file, Some(0), Some(0), move |r| {
        if root {
            assert_eq!(r, Ok(()));
            assert_eq!(owner(&path), (0, 0));
        } else {
            assert_eq!(r, Err(Error::EPERM));
            assert_eq!(owner(&path), first_owner);
        }
        c.inc();
    });
    assert_eq!(chown_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(chown_cb_count.get(), 1);
    let second_owner = owner(&test_file);

    // Async fchown.
    let fchown_cb_count = Counter::new();
    let c = fchown_cb_count.clone();
    fs::fchown(&lp, &file, None, None, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(fchown_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(fchown_cb_count.get(), 1);
    assert_eq!(owner(&test_file), second_owner);

    // Sync link (a hard link, as in libuv's test).
    assert_eq!(fs::link_sync(&test_file, &test_file_link), Ok(()));

    // Sync lchown.
    assert_eq!(fs::lchown_sync(&test_file_link, None, None), Ok(()));
    assert_eq!(owner(&test_file_link), second_owner);

    // Async lchown.
    let lchown_cb_count = Counter::new();
    let c = lchown_cb_count.clone();
    fs::lchown(&lp, &test_file_link, None, None, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(lchown_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(lchown_cb_count.get(), 1);
    assert_eq!(owner(&test_file_link), second_owner);

    // Close file.
    assert_eq!(fs::close_sync(&file), Ok(()));

    // Run the loop just to check we don't have any extraneous refs.
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-fs.c: a hard link, made synchronously and on the pool, opens and reads as the
// file it links to.
#[test]
fn fs_link() {
    let dir = TempDir::new("fs_meta-fs_link");
    let test_file = dir.join("test_file");
    let test_file_link = dir.join("test_file_link");
    let test_file_link2 = dir.join("test_file_link2");
    let lp = Loop::new().unwrap();

    create_test_file(&test_file);

    // Sync link.
    assert_eq!(fs::link_sync(&test_file, &test_file_link), Ok(()));
    check_reads_test_buf(&test_file_link);

    // Async link.
    let link_cb_count = Counter::new();
    let c = link_cb_count.clone();
    fs::link(&lp, &test_file, &test_file_link2, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(link_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(link_cb_count.get(), 1);
    check_reads_test_buf(&test_file_link2);

    // Run the loop just to check we don't have any extraneous refs.
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-fs.c: readlink of a missing file is ENOENT (on the pool and synchronously, with
// no path given back); of a file that is not a symbolic link, EINVAL.
#[test]
fn fs_readlink() {
    let dir = TempDir::new("fs_meta-fs_readlink");
    let lp = Loop::new().unwrap();

    // Must return ENOENT on an inexistent file.
    {
        let no_such_file = dir.join("no_such_file");
        let dummy_cb_count = Counter::new();
        let result = Rc::new(RefCell::new(None));
        let (c, res) = (dummy_cb_count.clone(), result.clone());
        fs::readlink(&lp, &no_such_file, move |r| {
            *res.borrow_mut() = Some(r);
            c.inc();
        });
        assert_eq!(dummy_cb_count.get(), 0);
        assert!(!lp.run(RunMode::Default));
        assert_eq!(dummy_cb_count.get(), 1);
        assert_eq!(result.take(), Some(Err(Error::ENOENT)));

        assert_eq!(fs::readlink_sync(&no_such_file), Err(Error::ENOENT));
    }

    // Must return EINVAL on a non-symlink file.
    {
        let test_file = dir.join("test_file");
        let file = fs::open_sync(&test_file, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
        assert_eq!(fs::close_sync(&file), Ok(()));

        assert_eq!(fs::readlink_sync(&test_file), Err(Error::EINVAL));
    }

    make_valgrind_happy(&lp);
}

// test-fs.c: realpath of a missing file is ENOENT, on the pool and synchronously, with
// no path given back.
#[test]
fn fs_realpath() {
    let dir = TempDir::new("fs_meta-fs_realpath");
    let no_such_file = dir.join("no_such_file");
    let lp = Loop::new().unwrap();

    let dummy_cb_count = Counter::new();
    let result = Rc::new(RefCell::new(None));
    let (c, res) = (dummy_cb_count.clone(), result.clone());
    fs::realpath(&lp, &no_such_file, move |r| {
        *res.borrow_mut() = Some(r);
        c.inc();
    });
    assert_eq!(dummy_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(dummy_cb_count.get(), 1);
    assert_eq!(result.take(), Some(Err(Error::ENOENT)));

    assert_eq!(fs::realpath_sync(&no_such_file), Err(Error::ENOENT));
    make_valgrind_happy(&lp);
}

// test-fs.c: symbolic links (relative targets), made synchronously and on the pool,
// open and read as their target; a link to a link reads back (readlink) as the name it
// was given and resolves (realpath) to the absolute path of the file.
#[test]
fn fs_symlink() {
    let dir = TempDir::new("fs_meta-fs_symlink");
    let test_file = dir.join("test_file");
    let test_file_symlink = dir.join("test_file_symlink");
    let test_file_symlink2 = dir.join("test_file_symlink2");
    let test_file_symlink_symlink = dir.join("test_file_symlink_symlink");
    let test_file_symlink2_symlink = dir.join("test_file_symlink2_symlink");
    // libuv's uv_cwd() + "/test_file".
    let test_file_abs = std::fs::canonicalize(dir.path()).unwrap().join("test_file");
    let lp = Loop::new().unwrap();

    create_test_file(&test_file);

    // Sync symlink.
    assert_eq!(fs::symlink_sync("test_file", &test_file_symlink), Ok(()));
    check_reads_test_buf(&test_file_symlink);

    assert_eq!(fs::symlink_sync("test_file_symlink", &test_file_symlink_symlink), Ok(()));

    assert_eq!(fs::readlink_sync(&test_file_symlink_symlink), Ok(PathBuf::from("test_file_symlink")));

    assert_eq!(fs::realpath_sync(&test_file_symlink_symlink), Ok(test_file_abs.clone()));

    // Async symlink.
    let symlink_cb_count = Counter::new();
    let c = symlink_cb_count.clone();
    fs::symlink(&lp, "test_file", &test_file_symlink2, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(symlink_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(symlink_cb_count.get(), 1);
    check_reads_test_buf(&test_file_symlink2);

    assert_eq!(fs::symlink_sync("test_file_symlink2", &test_file_symlink2_symlink), Ok(()));

    let readlink_cb_count = Counter::new();
    let c = readlink_cb_count.clone();
    fs::readlink(&lp, &test_file_symlink2_symlink, move |r| {
        assert_eq!(r, Ok(PathBuf::from("test_file_symlink2")));
        c.inc();
    });
    assert_eq!(readlink_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(readlink_cb_count.get(), 1);

    let realpath_cb_count = Counter::new();
    let c = realpath_cb_count.clone();
    fs::realpath(&lp, &test_file, move |r| {
        assert_eq!(r, Ok(test_file_abs));
        c.inc();
    });
    assert_eq!(realpath_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(realpath_cb_count.get(), 1);

    // Run the loop just to check we don't have any extraneous refs.
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(&lp);
}

// test-fs.c test_symlink_dir_impl(UV_FS_SYMLINK_DIR) (the flag matters on Windows only):
// a symbolic link to a directory stats as a directory and lstats as a link whose size
// is the target's length; readlink and realpath give the target; scandir through it
// lists the directory; unlink removes the link, not the directory.
#[test]
fn fs_symlink_dir() {
    let dir = TempDir::new("fs_meta-fs_symlink_dir");
    let test_dir_symlink = dir.join("test_dir_symlink");
    let test_dir = "test_dir"; // the link's target, relative as in libuv
                               // libuv's uv_cwd() + "/test_dir".
    let test_dir_abs = std::fs::canonicalize(dir.path()).unwrap().join("test_dir");
    let lp = Loop::new().unwrap();

    assert_eq!(fs::mkdir_sync(dir.join(test_dir), 0o777), Ok(()));

    assert_eq!(fs::symlink_sync(test_dir, &test_dir_symlink), Ok(()));

    let s = fs::stat_sync(&test_dir_symlink).unwrap();
    assert!(s.is_dir());

    let s = fs::lstat_sync(&test_dir_symlink).unwrap();
    assert!(s.is_symlink());
    assert_eq!(s.size, test_dir.len() as u64);

    assert_eq!(fs::readlink_sync(&test_dir_symlink), Ok(PathBuf::from(test_dir)));

    assert_eq!(fs::realpath_sync(&test_dir_symlink), Ok(test_dir_abs));

    for name in ["test_dir/file1", "test_dir/file2"] {
        let f = fs::open_sync(dir.join(name), libc::O_WRONLY | libc::O_CREAT, USER_RW).unwrap();
        assert_eq!(fs::close_sync(&f), Ok(()));
    }

    // libuv's assert_is_file_type: getdents may not know the type on every file system.
    let check_entries = |path: &Path| {
        let entries = fs::scandir_sync(path).unwrap();
        assert_eq!(entries.len(), 2, "entries of {}", path.display());
        for dent in &entries {
            assert!(dent.name == "file1" || dent.name == "file2", "{dent:?}");
            assert!(matches!(dent.kind, DirentType::File | DirentType::Unknown), "{dent:?}");
        }
    };
    check_entries(&test_dir_symlink);

    // Unlink will remove the directory symlink.
    assert_eq!(fs::unlink_sync(&test_dir_symlink), Ok(()));

    assert_eq!(fs::scandir_sync(&test_dir_symlink), Err(Error::ENOENT));

    check_entries(&dir.join(test_dir));

    make_valgrind_happy(&lp);
}

// test-fs.c: utime sets the times (synchronously, then on the pool) and stat reads
// them back.
#[test]
fn fs_utime() {
    let dir = TempDir::new("fs_meta-fs_utime");
    let path = dir.join("test_file");
    let lp = Loop::new().unwrap();

    // Setup.
    let file = fs::open_sync(&path, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::close_sync(&file), Ok(()));

    let (atime, mtime) = (400497753.25, 400497753.25); // 1982-09-10 11:22:33.25

    assert_eq!(fs::utime_sync(&path, time_of(atime), time_of(mtime)), Ok(()));

    check_utime(&path, atime, mtime, false);

    let (atime, mtime) = (1291404900.25, 1291404900.25); // 2010-12-03 20:35:00.25 - mees <3

    // Async utime (libuv's checkme).
    let utime_cb_count = Counter::new();
    let (c, p) = (utime_cb_count.clone(), path.clone());
    fs::utime(&lp, &path, time_of(atime), time_of(mtime), move |r| {
        assert_eq!(r, Ok(()));
        check_utime(&p, atime, mtime, false);
        c.inc();
    });
    assert_eq!(utime_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(utime_cb_count.get(), 1);

    make_valgrind_happy(&lp);
}

// test-fs.c: a time before 1970 with a fraction of a second (-14245440.25) is set and
// read back exactly. Plus: a fraction finer than a microsecond is cut towards zero, as
// libuv's uv__fs_to_timespec cuts it, before 1970 and after.
#[test]
fn fs_utime_round() {
    let dir = TempDir::new("fs_meta-fs_utime_round");
    let path = dir.join("test_file");
    let lp = Loop::new().unwrap();

    let file = fs::open_sync(&path, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::close_sync(&file), Ok(()));

    let (atime, mtime) = (-14245440.25, -14245440.25); // 1969-07-20T02:56:00.25Z

    assert_eq!(fs::utime_sync(&path, time_of(atime), time_of(mtime)), Ok(()));
    check_utime(&path, atime, mtime, false);

    // Not in libuv's test: microsecond resolution. libuv turns -14245440.2500005 into
    // tv_sec -14245440, tv_nsec -250000500, drops the nanoseconds to -250000000, then
    // borrows a second: -14245441 s + 750000000 ns, that is -14245440.25.
    let cases = [
        (UNIX_EPOCH - Duration::new(14245440, 250_000_500), UNIX_EPOCH - Duration::new(14245440, 250_000_000)),
        (UNIX_EPOCH - Duration::new(14245440, 999), UNIX_EPOCH - Duration::new(14245440, 0)),
        (UNIX_EPOCH + Duration::new(400497753, 250_000_500), UNIX_EPOCH + Duration::new(400497753, 250_000_000)),
    ];
    for (given, expected) in cases {
        assert_eq!(fs::utime_sync(&path, given, given), Ok(()));
        let s = fs::stat_sync(&path).unwrap();
        assert_eq!((s.atime, s.mtime), (expected, expected), "utime to {given:?}");
    }

    make_valgrind_happy(&lp);
}

// test-fs.c: futime on an open file sets its times (synchronously, then on the pool)
// and stat of its path reads them back.
#[test]
fn fs_futime() {
    let dir = TempDir::new("fs_meta-fs_futime");
    let path = dir.join("test_file");
    let lp = Loop::new().unwrap();

    // Setup.
    let file = fs::open_sync(&path, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::close_sync(&file), Ok(()));

    let (atime, mtime) = (400497753.25, 400497753.25); // 1982-09-10 11:22:33.25

    let file = fs::open_sync(&path, libc::O_RDWR, 0).unwrap();

    assert_eq!(fs::futime_sync(&file, time_of(atime), time_of(mtime)), Ok(()));

    check_utime(&path, atime, mtime, false);

    let (atime, mtime) = (1291404900.0, 1291404900.0); // 2010-12-03 20:35:00 - mees <3

    // Async futime.
    let futime_cb_count = Counter::new();
    let (c, p) = (futime_cb_count.clone(), path.clone());
    fs::futime(&lp, &file, time_of(atime), time_of(mtime), move |r| {
        assert_eq!(r, Ok(()));
        check_utime(&p, atime, mtime, false);
        c.inc();
    });
    assert_eq!(futime_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(futime_cb_count.get(), 1);

    // libuv leaves the file open; we close it.
    assert_eq!(fs::close_sync(&file), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c: lutime sets a symbolic link's own times (synchronously, then on the pool),
// as lstat reads them back (the mtime: Linux may update a link's atime as it reads it).
#[test]
fn fs_lutime() {
    let dir = TempDir::new("fs_meta-fs_lutime");
    let path = dir.join("test_file");
    let symlink_path = dir.join("test_file_symlink");
    let lp = Loop::new().unwrap();

    // Setup.
    let file = fs::open_sync(&path, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::close_sync(&file), Ok(()));

    assert_eq!(fs::symlink_sync("test_file", &symlink_path), Ok(()));

    // libuv's lutime_cb, called directly for the synchronous version.
    let lutime_cb_count = Counter::new();
    let lutime_cb = |atime: f64, mtime: f64| {
        let (c, p) = (lutime_cb_count.clone(), symlink_path.clone());
        move |r: Result<()>| {
            assert_eq!(r, Ok(()));
            check_utime(&p, atime, mtime, true);
            c.inc();
        }
    };

    // Test the synchronous version.
    let (atime, mtime) = (400497753.25, 400497753.25); // 1982-09-10 11:22:33.25
    let r = fs::lutime_sync(&symlink_path, time_of(atime), time_of(mtime));
    assert_eq!(r, Ok(()));
    lutime_cb(atime, mtime)(r);
    assert_eq!(lutime_cb_count.get(), 1);

    // Test the asynchronous version.
    let (atime, mtime) = (1291404900.0, 1291404900.0); // 2010-12-03 20:35:00
    fs::lutime(&lp, &symlink_path, time_of(atime), time_of(mtime), lutime_cb(atime, mtime));
    assert_eq!(lutime_cb_count.get(), 1);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(lutime_cb_count.get(), 2);

    // Not in libuv's test: the link's target kept its own times (the file was just
    // created, long after 2010).
    assert!(fs::stat_sync(&path).unwrap().mtime > time_of(1291404900.0));

    make_valgrind_happy(&lp);
}

// test-fs.c: a read-only (0400) file can be unlinked. (unlink needs write permission on
// the directory, not on the file, so being root changes nothing here.)
#[test]
fn fs_unlink_readonly() {
    let dir = TempDir::new("fs_meta-fs_unlink_readonly");
    let test_file = dir.join("test_file");
    let lp = Loop::new().unwrap();

    let file = fs::open_sync(&test_file, libc::O_RDWR | libc::O_CREAT, USER_RW).unwrap();
    assert_eq!(fs::write_sync(&file, &[Bytes::from_static(TEST_BUF)], None), Ok(TEST_BUF.len()));
    assert_eq!(fs::close_sync(&file), Ok(()));

    // Make the file read-only.
    assert_eq!(fs::chmod_sync(&test_file, 0o400), Ok(()));
    check_permission(&test_file, 0o400);

    // Try to unlink the file.
    assert_eq!(fs::unlink_sync(&test_file), Ok(()));
    // Not in libuv's test: it is gone.
    assert_eq!(fs::lstat_sync(&test_file).unwrap_err(), Error::ENOENT);

    // Run the loop just to check we don't have any extraneous refs.
    assert!(!lp.run(RunMode::Default));

    // Cleanup (libuv ignores the result: the file is gone).
    assert_eq!(fs::chmod_sync(&test_file, 0o600), Err(Error::ENOENT));
    make_valgrind_happy(&lp);
}

// test-fs.c: fstat works on the standard descriptors 0, 1 and 2. Our File owns its
// descriptor, so each is dup'ed first; the file type fstat reports must be one that
// guess_handle's answer for the original stands for (libuv checks the type on Windows
// only), and closing the dup leaves the original open.
#[test]
fn fs_fstat_stdio() {
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    for (n, fd) in [(0, stdin.as_fd()), (1, stdout.as_fd()), (2, stderr.as_fd())] {
        let kind = guess_handle(fd);
        let file = fs::File::from(fd.try_clone_to_owned().expect("dup of a standard descriptor"));
        let st = fs::fstat_sync(&file).unwrap();
        let fmt = st.mode & libc::S_IFMT;
        let ok = match kind {
            HandleType::Tty => fmt == libc::S_IFCHR,
            HandleType::File => fmt == libc::S_IFREG || fmt == libc::S_IFCHR,
            HandleType::NamedPipe => fmt == libc::S_IFIFO || fmt == libc::S_IFSOCK,
            HandleType::Tcp | HandleType::Udp => fmt == libc::S_IFSOCK,
            HandleType::Unknown => ![libc::S_IFREG, libc::S_IFCHR, libc::S_IFIFO].contains(&fmt),
        };
        assert!(ok, "fd {n}: guess_handle says {kind:?}, fstat's type is {fmt:o}");
        assert_eq!(fs::close_sync(&file), Ok(()));
        assert_eq!(guess_handle(fd), kind, "fd {n} after closing its dup");
    }

    make_valgrind_happy(&Loop::new().unwrap());
}

/// libuv's `test_sendfile`: makes `test_file` (with `setup`, or empty), sends it from
/// offset 1, up to 128 KiB, to a new `test_file2` on the pool; the callback must get
/// `expected_size`, which `test_file2` then has, one byte short of `test_file` (and
/// starting with `test_file`'s second byte) if anything was sent.
fn test_sendfile(test: &str, setup: Option<fn(&mut std::fs::File)>, expected_size: u64) {
    let dir = TempDir::new(test);
    let test_file = dir.join("test_file");
    let test_file2 = dir.join("test_file2");
    let lp = Loop::new().unwrap();

    // Setup.
    let mut f = std::fs::OpenOptions::new().write(true).create(true).mode(USER_RW).open(&test_file).unwrap();
    if let Some(setup) = setup {
        setup(&mut f);
    }
    drop(f);

    // Test starts here.
    let input = fs::open_sync(&test_file, libc::O_RDWR, 0).unwrap();
    let output = fs::open_sync(&test_file2, libc::O_WRONLY | libc::O_CREAT, USER_RW).unwrap();

    let sendfile_cb_count = Counter::new();
    let c = sendfile_cb_count.clone();
    fs::sendfile(&lp, &output, &input, 1, 131072, move |r| {
        assert_eq!(r, Ok(expected_size as usize));
        c.inc();
    });
    assert_eq!(sendfile_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(sendfile_cb_count.get(), 1);

    assert_eq!(fs::close_sync(&input), Ok(()));
    assert_eq!(fs::close_sync(&output), Ok(()));

    let s1 = std::fs::metadata(&test_file).unwrap();
    let s2 = std::fs::metadata(&test_file2).unwrap();
    assert_eq!(s2.size(), expected_size);

    if expected_size > 0 {
        assert_eq!(s1.size(), s2.size() + 1);
        let file = fs::open_sync(&test_file2, libc::O_RDWR, 0).unwrap();
        assert_eq!(fs::read_sync(&file, 1, None).unwrap(), &b"e"[..]); // 'e' from begin
        assert_eq!(fs::close_sync(&file), Ok(()));
    } else {
        assert_eq!(s1.size(), s2.size());
    }

    make_valgrind_happy(&lp);
}

/// libuv's `sendfile_setup`: "begin\n", a 64 KiB hole, "end\n".
fn sendfile_setup(f: &mut std::fs::File) {
    assert_eq!(f.write(b"begin\n").unwrap(), 6);
    assert_eq!(f.seek(SeekFrom::Current(65536)).unwrap(), 65542);
    assert_eq!(f.write(b"end\n").unwrap(), 4);
}

// test-fs.c: sendfile of a 65546-byte file (with a hole) from offset 1 sends 65545
// bytes.
#[test]
fn fs_async_sendfile() {
    test_sendfile("fs_meta-fs_async_sendfile", Some(sendfile_setup), 65545);
}

// test-fs.c: sendfile of an empty file sends nothing and succeeds (0 bytes).
#[test]
fn fs_async_sendfile_nodata() {
    test_sendfile("fs_meta-fs_async_sendfile_nodata", None, 0);
}

/// test-fs-copyfile.c's `handle_result`: the copy succeeded, and `dst` has `src`'s size
/// and mode.
fn handle_result(r: Result<()>, src: &Path, dst: &Path, result_check_count: &Counter) {
    assert_eq!(r, Ok(()));
    // Verify that the file size and mode are the same.
    let s = fs::stat_sync(src).unwrap();
    let d = fs::stat_sync(dst).unwrap();
    assert_eq!(d.size, s.size, "size of {} copied from {}", dst.display(), src.display());
    assert_eq!(d.mode, s.mode, "mode of {} copied from {}", dst.display(), src.display());
    result_check_count.inc();
}

/// test-fs-copyfile.c's `touch_file`: `name`, truncated, then `size` bytes of `a`
/// written one at a time.
fn touch_file(name: &Path, size: u64) {
    let file = fs::open_sync(name, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, USER_RW).unwrap();
    // Inefficient but simple.
    for i in 0..size {
        assert_eq!(fs::write_sync(&file, &[Bytes::from_static(b"a")], Some(i)), Ok(1));
    }
    assert_eq!(fs::close_sync(&file), Ok(()));
}

// test-fs-copyfile.c: copyfile's flags, errors and results: bad flags, a missing
// source, a file onto itself, new, empty, overwritten, excluded (EXCL), truncated and
// larger copies, on the pool, with FICLONE and FICLONE_FORCE, and onto a read-only
// destination.
#[test]
fn fs_copyfile() {
    let dir = TempDir::new("fs_meta-fs_copyfile");
    let fixture = dir.join("load_error.node");
    let src = dir.join("test_file_src");
    let dst = dir.join("test_file_dst");
    let lp = Loop::new().unwrap();
    let result_check_count = Counter::new();

    // libuv's test/fixtures/load_error.node.
    std::fs::write(&fixture, b"foobar\n").unwrap();
    std::fs::set_permissions(&fixture, std::fs::Permissions::from_mode(0o644)).unwrap();

    // Fails with EINVAL if bad flags are passed (libuv passes -1).
    assert_eq!(fs::copyfile_sync(&src, &dst, u32::MAX), Err(Error::EINVAL));
    assert_eq!(fs::copyfile_sync(&src, &dst, 8), Err(Error::EINVAL));

    // Fails with ENOENT if source does not exist.
    assert_eq!(fs::copyfile_sync(&src, &dst, 0), Err(Error::ENOENT));
    // The destination should not exist.
    assert!(fs::stat_sync(&dst).is_err());

    // Succeeds if src and dst files are identical.
    touch_file(&src, 12);
    assert_eq!(fs::copyfile_sync(&src, &src, 0), Ok(()));
    // Verify that the src file did not get truncated.
    assert_eq!(fs::stat_sync(&src).unwrap().size, 12);
    fs::unlink_sync(&src).unwrap();

    // Copies file synchronously. Creates new file.
    let _ = fs::unlink_sync(&dst);
    handle_result(fs::copyfile_sync(&fixture, &dst, 0), &fixture, &dst, &result_check_count);

    // Copies a file of size zero.
    fs::unlink_sync(&dst).unwrap();
    touch_file(&src, 0);
    handle_result(fs::copyfile_sync(&src, &dst, 0), &src, &dst, &result_check_count);

    // Copies file synchronously. Overwrites existing file.
    handle_result(fs::copyfile_sync(&fixture, &dst, 0), &fixture, &dst, &result_check_count);

    // Fails to overwrite existing file.
    assert_eq!(fs::chmod_sync(&dst, 0o644), Ok(()));
    assert_eq!(fs::copyfile_sync(&fixture, &dst, fs::COPYFILE_EXCL), Err(Error::EEXIST));
    // Not in libuv's test: the destination that was in the way is still there.
    assert_eq!(std::fs::read(&dst).unwrap(), b"foobar\n");

    // Truncates when an existing destination is larger than the source file.
    assert_eq!(fs::chmod_sync(&dst, 0o644), Ok(()));
    touch_file(&src, 1);
    handle_result(fs::copyfile_sync(&src, &dst, 0), &src, &dst, &result_check_count);
    assert_eq!(std::fs::read(&dst).unwrap(), b"a"); // not in libuv's test

    // Copies a larger file.
    fs::unlink_sync(&dst).unwrap();
    touch_file(&src, 4096 * 2);
    handle_result(fs::copyfile_sync(&src, &dst, 0), &src, &dst, &result_check_count);
    fs::unlink_sync(&src).unwrap();

    // Copies file asynchronously.
    fs::unlink_sync(&dst).unwrap();
    let (c, from, to) = (result_check_count.clone(), fixture.clone(), dst.clone());
    fs::copyfile(&lp, &fixture, &dst, 0, move |r| handle_result(r, &from, &to, &c));
    assert_eq!(result_check_count.get(), 5);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(result_check_count.get(), 6);
    // Ensure file is user-writable (not copied from src).
    assert_eq!(fs::chmod_sync(&dst, 0o644), Ok(()));

    // If the flags are invalid, the loop should not be kept open. (libuv refuses them
    // before queueing, and never calls back; here the callback gets EINVAL.)
    fs::unlink_sync(&dst).unwrap();
    let einval_cb_count = Counter::new();
    let c = einval_cb_count.clone();
    fs::copyfile(&lp, &fixture, &dst, u32::MAX, move |r| {
        assert_eq!(r, Err(Error::EINVAL));
        c.inc();
    });
    assert_eq!(einval_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(einval_cb_count.get(), 1);
    assert_eq!(fs::stat_sync(&dst).unwrap_err(), Error::ENOENT);

    // Copies file using COPYFILE_FICLONE (a plain copy where the file system cannot
    // clone).
    let _ = fs::unlink_sync(&dst);
    handle_result(fs::copyfile_sync(&fixture, &dst, fs::COPYFILE_FICLONE), &fixture, &dst, &result_check_count);
    assert_eq!(std::fs::read(&dst).unwrap(), b"foobar\n"); // not in libuv's test

    // Copies file using COPYFILE_FICLONE_FORCE: libuv accepts success or an error. Where
    // the file system cannot clone (ext2/3/4: 0xEF53, tmpfs: 0x01021994) it must be the
    // FICLONE ioctl's EOPNOTSUPP, and the destination it made is removed again.
    fs::unlink_sync(&dst).unwrap();
    let r = fs::copyfile_sync(&fixture, &dst, fs::COPYFILE_FICLONE_FORCE);
    let fs_type = fs::statfs_sync(dir.path()).unwrap().fs_type;
    if fs_type == 0xEF53 || fs_type == 0x0102_1994 {
        assert_eq!(r, Err(Error::ENOTSUP), "file system type {fs_type:#x}");
    }
    match r {
        Ok(()) => handle_result(r, &fixture, &dst, &result_check_count),
        Err(_) => assert_eq!(fs::stat_sync(&dst).unwrap_err(), Error::ENOENT),
    }

    // Copying respects permissions/mode.
    let _ = fs::unlink_sync(&dst);
    touch_file(&dst, 0);
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o444)).unwrap(); // read-only
    let r = fs::copyfile_sync(&fixture, &dst, 0);
    if geteuid() == 0 {
        // Root may open a read-only file for writing: the copy succeeds, and the
        // destination takes the source's mode.
        handle_result(r, &fixture, &dst, &result_check_count);
    } else {
        assert_eq!(r, Err(Error::EACCES));
    }

    make_valgrind_happy(&lp);
}
