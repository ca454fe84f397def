//! Directories, temporary names and whole-file-system queries: ported from libuv 1.46's
//! test-fs.c and test-fs-readdir.c, one `#[test]` per libuv test, under libuv's names.
//!
//! Ported as they are (the same operations in the same order, pool requests run
//! through the loop with their callback counts checked before and after `run`, the
//! same results and error codes): from test-fs.c `fs_async_dir`, `fs_mkdtemp`,
//! `fs_mkstemp`, `fs_scandir_empty_dir`, `fs_scandir_non_existent_dir`,
//! `fs_scandir_file`, `fs_scandir_early_exit`, `fs_open_dir`, `fs_read_dir`,
//! `fs_rename_to_existing_file`, `fs_statfs` and `fs_stat_batch_multiple`; from
//! test-fs-readdir.c `fs_readdir_empty_dir`, `fs_readdir_non_existing_dir`,
//! `fs_readdir_file` and `fs_readdir_non_empty_dir`.
//!
//! Adapted:
//! - Paths. libuv's tests use names relative to the current directory (`test_dir`,
//!   `./empty_dir/`, `.`) and its checked-in `test/fixtures`. These tests run in
//!   parallel threads of one process, so each works in a [`TempDir`] of its own and
//!   the same names are made inside it; [`fixtures`] builds the part of
//!   `test/fixtures` the tests read. libuv's "setup" and "cleanup" steps that remove
//!   what an earlier run left behind have nothing to remove in a new directory.
//! - Request fields. Where libuv checks `req->result` or `req->ptr`, these check what
//!   our operations return: the `Vec<Dirent>` of a scan (its length is libuv's
//!   count, an empty one is `uv_fs_scandir_next`'s `UV_EOF`), the batch of a
//!   `readdir`, the `Stat`, the path `mkdtemp`/`mkstemp` made. `mkdir`, `rmdir` and
//!   `open` return no path, so where libuv checks `req->path` these check the file
//!   system instead. What exists only in C (`uv_fs_req_cleanup`, filling a request
//!   with `0xdb` first, `req->fs_type`, `dir->dirents`, a NULL `req->ptr`) has no
//!   counterpart and is said so where it occurs.
//! - Leaks. libuv runs `fs_scandir_early_exit` under Valgrind; here the descriptors
//!   the process has open on a directory are counted (`/proc/self/fd`), after a scan
//!   and around `opendir`/`closedir`.
//! - `fs_stat_root` and `fs_invalid_mkdir_name` are Windows-only in libuv (drive
//!   letters, `\\?\` paths; `<` and `:` are invalid in Windows names). They are kept
//!   under their names with what the same questions mean on Linux: the root and `..`
//!   above it stat as directories; `<` and `:` are ordinary name bytes, and the one
//!   byte a name cannot hold besides `/`, NUL, is `EINVAL`.
//! - Added checks, each marked in its test: scandir's order (libuv sorts with
//!   `strcmp` but its tests only check names), `EINVAL` for a `mkdtemp` template
//!   without `XXXXXX` (libuv checks that for `mkstemp` only), and that a readdir
//!   stream hands out each entry once.
//!
//! Not ported: nothing of these tests' Linux behaviour is left out. What has no
//! counterpart in this API is named in the test concerned (above all libuv's
//! `req->path` on success and its clearing to `""` on a failed `mkstemp`).
//!
//! None of these tests is skipped for root in libuv, and none depends on who runs it:
//! they pass as root (as CI runs them) and as any user who owns the temp directory.

mod util;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::fs::{self, Dir, Dirent, DirentType, File, StatFs};
use millrace_reactor::{Error, Loop, RunMode};
use util::{make_valgrind_happy, Counter, TempDir};

const TEST_BUF: &[u8] = b"test-buffer\n";

/// libuv's `test/fixtures` as far as these tests read it (`empty_file` and
/// `one_file/one_file`, and the two other files so that `test/fixtures` lists as
/// many entries as libuv's), made inside `tmp`; returns its path. The entries are
/// made in an order that is neither their byte order nor its reverse, so that a
/// listing in creation order, newest first (older tmpfs) or hash order (ext4) is not
/// sorted by chance.
fn fixtures(tmp: &TempDir) -> PathBuf {
    let dir = tmp.join("test/fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("lorem_ipsum.txt"), b"").unwrap();
    std::fs::write(dir.join("empty_file"), b"").unwrap();
    std::fs::create_dir(dir.join("one_file")).unwrap();
    std::fs::write(dir.join("one_file/one_file"), b"").unwrap();
    std::fs::write(dir.join("load_error.node"), b"").unwrap();
    dir
}

/// `path` with a `/` after it, as libuv's `"test_dir/"` and `"./empty_dir/"`.
fn with_slash(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("/");
    PathBuf::from(s)
}

/// `uv_fs_open(…, O_WRONLY | O_CREAT, S_IWUSR | S_IRUSR)` then `uv_fs_close`, both
/// synchronous: how libuv's tests make an empty file.
fn create_file(path: &Path) {
    let file = fs::open_sync(path, libc::O_WRONLY | libc::O_CREAT, 0o600).unwrap();
    assert!(file.fd().is_some_and(|fd| fd >= 0));
    assert_eq!(fs::close_sync(&file), Ok(()));
}

/// How many descriptors this process has open on `path` (a directory), from the
/// links in `/proc/self/fd`. Other tests' descriptors never point into this test's
/// own directory; one closed while this looks is simply not counted.
fn fds_open_on(path: &Path) -> usize {
    let target = std::fs::canonicalize(path).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == target))
        .count()
}

fn names(entries: &[Dirent]) -> Vec<&str> {
    entries.iter().map(|e| e.name.to_str().unwrap()).collect()
}

/// test-fs.c `check_permission`: the permission bits of `path` are exactly `mode`.
fn check_permission(path: &Path, mode: u32) {
    let st = fs::stat_sync(path).unwrap();
    assert_eq!(st.mode & 0o777, mode, "{}", path.display());
}

/// test-fs.c `assert_is_file_type` on Linux: a regular file, or unknown where the
/// file system does not say (getdents' `d_type`).
fn assert_is_file_type(dent: &Dirent) {
    assert!(matches!(dent.kind, DirentType::File | DirentType::Unknown), "{dent:?}");
}

/// test-fs.c `scandir_cb`'s checks on a listing of `test_dir`: two entries, `file1`
/// and `file2`, both files. (Added: libuv's scandir sorts by `strcmp`, so they come
/// in that order.)
fn check_test_dir_listing(entries: &[Dirent]) {
    assert_eq!(entries.len(), 2);
    for dent in entries {
        assert!(dent.name == "file1" || dent.name == "file2", "{dent:?}");
        assert_is_file_type(dent);
    }
    assert_eq!(names(entries), ["file1", "file2"]);
}

/// test-fs.c `check_mkdtemp_result`: `path` is `test_dir_` and six characters that
/// replaced the `XXXXXX`, in `tmp`; a directory with permissions 0700.
fn check_mkdtemp_result(tmp: &Path, path: &Path) {
    assert_eq!(path.parent(), Some(tmp));
    let name = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(name.len(), 15);
    assert!(name.starts_with("test_dir_"), "{name}");
    assert_ne!(&name[9..], "XXXXXX");
    check_permission(path, 0o700);
    // Check that the path is a directory.
    assert!(fs::stat_sync(path).unwrap().is_dir());
}

/// test-fs.c `check_mkstemp_result`: an open file named `test_file_` and six
/// characters that replaced the `XXXXXX`, in `tmp`; a regular file with permissions
/// 0600.
fn check_mkstemp_result(tmp: &Path, file: &File, path: &Path) {
    assert!(file.fd().is_some_and(|fd| fd >= 0));
    assert_eq!(path.parent(), Some(tmp));
    let name = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(name.len(), 16);
    assert!(name.starts_with("test_file_"), "{name}");
    assert_ne!(&name[10..], "XXXXXX");
    check_permission(path, 0o600);
    // Check that the path is a regular file.
    assert!(fs::stat_sync(path).unwrap().is_file());
}

/// test-fs.c `statfs_cb`'s checks, for Linux (where `f_type` is a magic number).
fn check_statfs(stats: &StatFs) {
    assert!(stats.fs_type > 0, "{stats:?}");
    assert!(stats.bsize > 0, "{stats:?}");
    assert!(stats.blocks > 0, "{stats:?}");
    assert!(stats.bfree <= stats.blocks, "{stats:?}");
    assert!(stats.bavail <= stats.bfree, "{stats:?}");
    // There is no assertion for `files` that makes sense, so it is left out.
    assert!(stats.ffree <= stats.files, "{stats:?}");
}

// test-fs.c: mkdir on the pool; two files made synchronously; scandir on the pool and
// synchronously lists both (and only them); stat and lstat of the directory, with and
// without a trailing slash; unlink of both files and rmdir, each on the pool.
#[test]
fn fs_async_dir() {
    let tmp = TempDir::new("fs_async_dir");
    let test_dir = tmp.join("test_dir");
    let lp = Loop::new().unwrap();

    let mkdir_cb_count = Counter::new();
    let c = mkdir_cb_count.clone();
    fs::mkdir(&lp, &test_dir, 0o755, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(mkdir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(mkdir_cb_count.get(), 1);
    // mkdir_cb checks req->path is "test_dir": our mkdir returns no path, so check
    // that the directory it names is there.
    assert!(fs::stat_sync(&test_dir).unwrap().is_dir());

    // Create 2 files synchronously.
    create_file(&test_dir.join("file1"));
    create_file(&test_dir.join("file2"));

    let scandir_cb_count = Counter::new();
    let c = scandir_cb_count.clone();
    fs::scandir(&lp, &test_dir, move |r| {
        check_test_dir_listing(&r.unwrap());
        c.inc();
    });
    assert_eq!(scandir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(scandir_cb_count.get(), 1);

    // Synchronous scandir.
    check_test_dir_listing(&fs::scandir_sync(&test_dir).unwrap());

    let stat_cb_count = Counter::new();
    let stat_cb = |what: &'static str| {
        let c = stat_cb_count.clone();
        move |r: Result<fs::Stat, Error>| {
            // req->ptr: the stat buffer, here of the directory.
            assert!(r.unwrap().is_dir(), "{what}");
            c.inc();
        }
    };
    fs::stat(&lp, &test_dir, stat_cb("stat test_dir"));
    assert_eq!(stat_cb_count.get(), 0);
    lp.run(RunMode::Default);
    fs::stat(&lp, with_slash(&test_dir), stat_cb("stat test_dir/"));
    assert_eq!(stat_cb_count.get(), 1);
    lp.run(RunMode::Default);
    fs::lstat(&lp, &test_dir, stat_cb("lstat test_dir"));
    assert_eq!(stat_cb_count.get(), 2);
    lp.run(RunMode::Default);
    fs::lstat(&lp, with_slash(&test_dir), stat_cb("lstat test_dir/"));
    assert_eq!(stat_cb_count.get(), 3);
    lp.run(RunMode::Default);
    assert_eq!(stat_cb_count.get(), 4);

    let unlink_cb_count = Counter::new();
    let c = unlink_cb_count.clone();
    fs::unlink(&lp, test_dir.join("file1"), move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(unlink_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(unlink_cb_count.get(), 1);

    let c = unlink_cb_count.clone();
    fs::unlink(&lp, test_dir.join("file2"), move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(unlink_cb_count.get(), 1);
    lp.run(RunMode::Default);
    assert_eq!(unlink_cb_count.get(), 2);

    let rmdir_cb_count = Counter::new();
    let c = rmdir_cb_count.clone();
    fs::rmdir(&lp, &test_dir, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(rmdir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(rmdir_cb_count.get(), 1);
    // rmdir_cb checks req->path is "test_dir": it is the directory that went.
    assert_eq!(fs::stat_sync(&test_dir).unwrap_err(), Error::ENOENT);

    make_valgrind_happy(&lp);
}

// test-fs.c: mkdtemp on the pool, then synchronously, from the same template: each
// makes a new 0700 directory whose name replaces the XXXXXX, and the two differ.
#[test]
fn fs_mkdtemp() {
    let tmp = TempDir::new("fs_mkdtemp");
    let path_template = tmp.join("test_dir_XXXXXX");
    let lp = Loop::new().unwrap();

    let mkdtemp_cb_count = Counter::new();
    let path1 = Rc::new(RefCell::new(None::<PathBuf>));
    let (c, slot, dir) = (mkdtemp_cb_count.clone(), path1.clone(), tmp.path().to_owned());
    fs::mkdtemp(&lp, &path_template, move |r| {
        let path = r.unwrap();
        check_mkdtemp_result(&dir, &path);
        *slot.borrow_mut() = Some(path);
        c.inc();
    });
    assert_eq!(mkdtemp_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(mkdtemp_cb_count.get(), 1);
    let path1 = path1.borrow_mut().take().unwrap();

    // Synchronous mkdtemp.
    let path2 = fs::mkdtemp_sync(&path_template).unwrap();
    check_mkdtemp_result(tmp.path(), &path2);

    // mkdtemp returns different values on subsequent calls.
    assert_ne!(path1, path2);

    // Added (libuv checks this for mkstemp only): a template that does not end in
    // XXXXXX is EINVAL, and nothing is made.
    let bad = tmp.join("test_dir");
    assert_eq!(fs::mkdtemp_sync(&bad).unwrap_err(), Error::EINVAL);
    assert_eq!(fs::stat_sync(&bad).unwrap_err(), Error::ENOENT);

    // Cleanup.
    assert_eq!(fs::rmdir_sync(&path1), Ok(()));
    assert_eq!(fs::rmdir_sync(&path2), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c: mkstemp on the pool, then synchronously, from the same template: each
// makes and opens a new 0600 file whose name replaces the XXXXXX, and the two differ;
// a template without XXXXXX is EINVAL; what is written to the first file reads back.
#[test]
fn fs_mkstemp() {
    let tmp = TempDir::new("fs_mkstemp");
    let path_template = tmp.join("test_file_XXXXXX");
    let lp = Loop::new().unwrap();

    let mkstemp_cb_count = Counter::new();
    let made1 = Rc::new(RefCell::new(None::<(File, PathBuf)>));
    let (c, slot, dir) = (mkstemp_cb_count.clone(), made1.clone(), tmp.path().to_owned());
    fs::mkstemp(&lp, &path_template, move |r| {
        let (file, path) = r.unwrap();
        check_mkstemp_result(&dir, &file, &path);
        *slot.borrow_mut() = Some((file, path));
        c.inc();
    });
    assert_eq!(mkstemp_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(mkstemp_cb_count.get(), 1);
    let (file1, path1) = made1.borrow_mut().take().unwrap();

    // Synchronous mkstemp.
    let (file2, path2) = fs::mkstemp_sync(&path_template).unwrap();
    check_mkstemp_result(tmp.path(), &file2, &path2);

    // mkstemp returns different values on subsequent calls.
    assert_ne!(path1, path2);

    // An invalid template is EINVAL. (libuv then checks that req->path was cleared to
    // ""; an error here carries no path. Nothing was made under the template's name.)
    let bad = tmp.join("test_file");
    assert_eq!(fs::mkstemp_sync(&bad).unwrap_err(), Error::EINVAL);
    assert_eq!(fs::stat_sync(&bad).unwrap_err(), Error::ENOENT);

    // We can write to the opened file.
    assert_eq!(fs::write_sync(&file1, &[Bytes::from_static(TEST_BUF)], None), Ok(TEST_BUF.len()));

    // Cleanup.
    assert_eq!(fs::close_sync(&file1), Ok(()));
    assert_eq!(fs::close_sync(&file2), Ok(()));

    let file = fs::open_sync(&path1, libc::O_RDONLY, 0).unwrap();
    assert_eq!(fs::read_sync(&file, 32, None).unwrap(), TEST_BUF);
    assert_eq!(fs::close_sync(&file), Ok(()));

    assert_eq!(fs::unlink_sync(&path1), Ok(()));
    assert_eq!(fs::unlink_sync(&path2), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c: scandir of an empty directory (named with a trailing slash) lists
// nothing, synchronously and on the pool. (libuv fills the request with 0xdb first
// and checks req->ptr is NULL: C only; an empty Vec is its UV_EOF.)
#[test]
fn fs_scandir_empty_dir() {
    let tmp = TempDir::new("fs_scandir_empty_dir");
    let path = with_slash(&tmp.join("empty_dir"));
    let lp = Loop::new().unwrap();

    assert_eq!(fs::mkdir_sync(&path, 0o777), Ok(()));

    let entries = fs::scandir_sync(&path).unwrap();
    assert_eq!(entries.len(), 0);
    assert_eq!(entries.first(), None);

    let scandir_cb_count = Counter::new();
    let c = scandir_cb_count.clone();
    fs::scandir(&lp, &path, move |r| {
        let entries = r.unwrap();
        assert_eq!(entries.len(), 0);
        assert_eq!(entries.first(), None);
        c.inc();
    });
    assert_eq!(scandir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(scandir_cb_count.get(), 1);

    assert_eq!(fs::rmdir_sync(&path), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c: scandir of a directory that does not exist is ENOENT, synchronously and
// on the pool. (libuv's uv_fs_scandir_next then repeats ENOENT; here the error is all
// there is, no listing to step through.)
#[test]
fn fs_scandir_non_existent_dir() {
    let tmp = TempDir::new("fs_scandir_non_existent_dir");
    let path = with_slash(&tmp.join("non_existent_dir"));
    let lp = Loop::new().unwrap();

    // libuv removes it first, in case; in a new directory there is nothing to remove.
    assert_eq!(fs::rmdir_sync(&path).unwrap_err(), Error::ENOENT);

    assert_eq!(fs::scandir_sync(&path).unwrap_err(), Error::ENOENT);

    let scandir_cb_count = Counter::new();
    let c = scandir_cb_count.clone();
    fs::scandir(&lp, &path, move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOENT);
        c.inc();
    });
    assert_eq!(scandir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(scandir_cb_count.get(), 1);

    make_valgrind_happy(&lp);
}

// test-fs.c: scandir of a regular file (test/fixtures/empty_file) is ENOTDIR,
// synchronously and on the pool.
#[test]
fn fs_scandir_file() {
    let tmp = TempDir::new("fs_scandir_file");
    let path = fixtures(&tmp).join("empty_file");
    let lp = Loop::new().unwrap();

    assert_eq!(fs::scandir_sync(&path).unwrap_err(), Error::ENOTDIR);

    let scandir_cb_count = Counter::new();
    let c = scandir_cb_count.clone();
    fs::scandir(&lp, &path, move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOTDIR);
        c.inc();
    });
    assert_eq!(scandir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(scandir_cb_count.get(), 1);

    make_valgrind_happy(&lp);
}

// test-fs.c: a listing that is not stepped through to its end does not leak (libuv
// runs it under Valgrind). Each scan lists something and only its first entry is
// taken; here the rest is dropped, and afterwards no descriptor is left open on
// either directory. (Added: libuv sorts with strcmp, so the first entry of
// test/fixtures is empty_file and the listing is in byte order.)
#[test]
fn fs_scandir_early_exit() {
    let tmp = TempDir::new("fs_scandir_early_exit");
    let fixtures = fixtures(&tmp);
    let one_file = fixtures.join("one_file");

    let entries = fs::scandir_sync(&one_file).unwrap();
    assert!(!entries.is_empty());
    let mut it = entries.into_iter();
    let first = it.next().unwrap();
    assert_eq!(first.name, "one_file");
    drop(it);

    let entries = fs::scandir_sync(&fixtures).unwrap();
    assert!(!entries.is_empty());
    assert_eq!(names(&entries), ["empty_file", "load_error.node", "lorem_ipsum.txt", "one_file"]);
    let mut it = entries.into_iter();
    let first = it.next().unwrap();
    assert_eq!(first.name, "empty_file");
    drop(it);

    assert_eq!(fds_open_on(&one_file), 0);
    assert_eq!(fds_open_on(&fixtures), 0);
    make_valgrind_happy(&Loop::new().unwrap());
}

// test-fs.c: a directory (libuv's ".", here the test's directory through its ".")
// opens read-only, synchronously and on the pool. (libuv's open_cb_simple checks
// req->path is set: our open returns the file only. libuv leaves the second
// descriptor open; here it closes when its last File is dropped.)
#[test]
fn fs_open_dir() {
    let tmp = TempDir::new("fs_open_dir");
    let path = tmp.join(".");
    let lp = Loop::new().unwrap();

    let file = fs::open_sync(&path, libc::O_RDONLY, 0).unwrap();
    assert!(file.fd().is_some_and(|fd| fd >= 0));
    assert!(fs::fstat_sync(&file).unwrap().is_dir());
    assert_eq!(fs::close_sync(&file), Ok(()));

    let open_cb_count = Counter::new();
    let c = open_cb_count.clone();
    fs::open(&lp, &path, libc::O_RDONLY, 0, move |r| {
        let file = r.unwrap();
        assert!(file.fd().is_some_and(|fd| fd >= 0));
        c.inc();
    });
    assert_eq!(open_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(open_cb_count.get(), 1);
    assert_eq!(fds_open_on(tmp.path()), 0);

    make_valgrind_happy(&lp);
}

// test-fs.c: a directory opened with O_RDONLY | O_DIRECTORY cannot be read: a read at
// offset 0 is EISDIR on Linux (some BSDs allow it; not relevant here).
#[test]
fn fs_read_dir() {
    let tmp = TempDir::new("fs_read_dir");
    let test_dir = tmp.join("test_dir");
    let lp = Loop::new().unwrap();

    // Setup.
    let mkdir_cb_count = Counter::new();
    let c = mkdir_cb_count.clone();
    fs::mkdir(&lp, &test_dir, 0o755, move |r| {
        assert_eq!(r, Ok(()));
        c.inc();
    });
    assert_eq!(mkdir_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(mkdir_cb_count.get(), 1);
    // Setup done here.

    // Get a file descriptor for the directory.
    let file = fs::open_sync(&test_dir, libc::O_RDONLY | libc::O_DIRECTORY, 0o600).unwrap();
    assert!(file.fd().is_some_and(|fd| fd >= 0));

    // Try to read data from the directory.
    assert_eq!(fs::read_sync(&file, 2, Some(0)).unwrap_err(), Error::EISDIR);

    assert_eq!(fs::close_sync(&file), Ok(()));

    // Cleanup.
    assert_eq!(fs::rmdir_sync(&test_dir), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c (Windows only there): mkdir of "invalid>" and "test:lol" is EINVAL,
// since Windows forbids `<`, `>` and `:` in names. On Linux a name may hold any byte
// but `/` and NUL, so those two are made (mode 0, as libuv passes, and stat shows
// it), and a name with a NUL in it is the EINVAL, with nothing made.
#[test]
fn fs_invalid_mkdir_name() {
    let tmp = TempDir::new("fs_invalid_mkdir_name");

    for name in ["invalid>", "test:lol"] {
        let path = tmp.join(name);
        assert_eq!(fs::mkdir_sync(&path, 0), Ok(()), "{name}");
        let st = fs::stat_sync(&path).unwrap();
        assert!(st.is_dir(), "{name}");
        assert_eq!(st.mode & 0o777, 0, "{name}");
    }

    assert_eq!(fs::mkdir_sync(tmp.join("invalid\0name"), 0).unwrap_err(), Error::EINVAL);
    assert_eq!(fs::mkdir_sync(tmp.join("invalid\0name"), 0o755).unwrap_err(), Error::EINVAL);
    assert_eq!(names(&fs::scandir_sync(tmp.path()).unwrap()), ["invalid>", "test:lol"]);
}

// test-fs.c: a file is renamed over another: the target now has the first file's
// contents, and the first name is gone.
#[test]
fn fs_rename_to_existing_file() {
    let tmp = TempDir::new("fs_rename_to_existing_file");
    let test_file = tmp.join("test_file");
    let test_file2 = tmp.join("test_file2");
    let lp = Loop::new().unwrap();

    let file = fs::open_sync(&test_file, libc::O_WRONLY | libc::O_CREAT, 0o600).unwrap();
    assert_eq!(fs::write_sync(&file, &[Bytes::from_static(TEST_BUF)], None), Ok(TEST_BUF.len()));
    assert_eq!(fs::close_sync(&file), Ok(()));

    let file = fs::open_sync(&test_file2, libc::O_WRONLY | libc::O_CREAT, 0o600).unwrap();
    assert_eq!(fs::close_sync(&file), Ok(()));

    assert_eq!(fs::rename_sync(&test_file, &test_file2), Ok(()));

    let file = fs::open_sync(&test_file2, libc::O_RDONLY, 0).unwrap();
    assert_eq!(fs::read_sync(&file, 32, None).unwrap(), TEST_BUF);
    assert_eq!(fs::close_sync(&file), Ok(()));

    // libuv's cleanup unlinks "test_file" too, ignoring the result: it is gone.
    assert_eq!(fs::stat_sync(&test_file).unwrap_err(), Error::ENOENT);
    assert_eq!(fs::unlink_sync(&test_file2), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs.c (Windows only there): stat of the root and of `..` chains, of the drive
// ("c:", "c:\", "\\?\C:\"). The Linux meaning: "/" is a directory; ".." above the
// root is the root; "..", with and without a slash after it, is the parent
// directory. Drive letters and `\\?\` have no Linux meaning, and "\" is an
// ordinary name there, so a "\" that was never made is ENOENT.
#[test]
fn fs_stat_root() {
    let tmp = TempDir::new("fs_stat_root");

    let root = fs::stat_sync("/").unwrap();
    assert!(root.is_dir());

    let above = fs::stat_sync("/../../../../../../..").unwrap();
    assert_eq!((above.dev, above.ino), (root.dev, root.ino));

    let parent = fs::stat_sync(tmp.path().parent().unwrap()).unwrap();
    for dots in [tmp.join(".."), with_slash(&tmp.join(".."))] {
        let st = fs::stat_sync(&dots).unwrap();
        assert!(st.is_dir());
        assert_eq!((st.dev, st.ino), (parent.dev, parent.ino), "{}", dots.display());
    }

    assert_eq!(fs::stat_sync(tmp.join("\\")).unwrap_err(), Error::ENOENT);
}

// test-fs.c: statfs of a directory (libuv's ".", here the test's own) synchronously
// and on the pool; both pass statfs_cb's checks.
#[test]
fn fs_statfs() {
    let tmp = TempDir::new("fs_statfs");
    let lp = Loop::new().unwrap();
    let statfs_cb_count = Counter::new();

    // Test the synchronous version. (libuv then calls statfs_cb itself.)
    let stats = fs::statfs_sync(tmp.join(".")).unwrap();
    check_statfs(&stats);
    statfs_cb_count.inc();
    assert_eq!(statfs_cb_count.get(), 1);

    // Test the asynchronous version.
    let c = statfs_cb_count.clone();
    fs::statfs(&lp, tmp.join("."), move |r| {
        check_statfs(&r.unwrap());
        c.inc();
    });
    assert_eq!(statfs_cb_count.get(), 1);
    lp.run(RunMode::Default);
    assert_eq!(statfs_cb_count.get(), 2);

    make_valgrind_happy(&lp);
}

// test-fs.c: 300 stats of one directory queued at once on the pool all succeed and
// all call back.
#[test]
fn fs_stat_batch_multiple() {
    const N: usize = 300;
    let tmp = TempDir::new("fs_stat_batch_multiple");
    let test_dir = tmp.join("test_dir");

    assert_eq!(fs::mkdir_sync(&test_dir, 0o755), Ok(()));

    let lp = Loop::new().unwrap();
    let stat_cb_count = Counter::new();
    for _ in 0..N {
        let c = stat_cb_count.clone();
        fs::stat(&lp, &test_dir, move |r| {
            assert!(r.unwrap().is_dir());
            c.inc();
        });
    }
    assert_eq!(stat_cb_count.get(), 0);
    lp.run(RunMode::Default);
    assert_eq!(stat_cb_count.get(), N);

    make_valgrind_happy(&lp);
}

// test-fs-readdir.c: opendir, readdir and closedir of an empty directory, first
// synchronously, then on the pool, each step from the previous one's callback: the
// one readdir returns no entries. (Added: the stream holds one descriptor on the
// directory while open and none after closedir.)
#[test]
fn fs_readdir_empty_dir() {
    let tmp = TempDir::new("fs_readdir_empty_dir");
    let path = with_slash(&tmp.join("empty_dir"));
    let lp = Loop::new().unwrap();

    assert_eq!(fs::mkdir_sync(&path, 0o777), Ok(()));

    // Testing the synchronous flavor. (libuv fills each request with 0xdb first and
    // sets dir->dirents to a one-entry array: C only; here a batch of at most 1.)
    let dir = fs::opendir_sync(&path).unwrap();
    assert_eq!(fds_open_on(&path), 1);
    let entries = fs::readdir_sync(&dir, 1).unwrap();
    assert_eq!(entries.len(), 0);
    assert_eq!(fs::closedir_sync(&dir), Ok(()));
    assert_eq!(fds_open_on(&path), 0);

    // Testing the asynchronous flavor.
    let empty_opendir_cb_count = Counter::new();
    let empty_closedir_cb_count = Counter::new();
    let (l, opened, closed) = (lp.clone(), empty_opendir_cb_count.clone(), empty_closedir_cb_count.clone());
    fs::opendir(&lp, &path, move |r| {
        let dir: Dir = r.unwrap();
        let (l2, d) = (l.clone(), dir.clone());
        fs::readdir(&l, &dir, 1, move |r| {
            assert_eq!(r.unwrap().len(), 0);
            fs::closedir(&l2, &d, move |r| {
                assert_eq!(r, Ok(()));
                closed.inc();
            });
        });
        opened.inc();
    });
    assert_eq!(empty_opendir_cb_count.get(), 0);
    assert_eq!(empty_closedir_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(empty_opendir_cb_count.get(), 1);
    assert_eq!(empty_closedir_cb_count.get(), 1);
    assert_eq!(fds_open_on(&path), 0);

    assert_eq!(fs::rmdir_sync(&path), Ok(()));
    make_valgrind_happy(&lp);
}

// test-fs-readdir.c: opendir of a directory that does not exist is ENOENT,
// synchronously and on the pool. (req->ptr NULL: an error carries no Dir.)
#[test]
fn fs_readdir_non_existing_dir() {
    let tmp = TempDir::new("fs_readdir_non_existing_dir");
    let path = with_slash(&tmp.join("non-existing-dir"));
    let lp = Loop::new().unwrap();

    // Testing the synchronous flavor.
    assert_eq!(fs::opendir_sync(&path).unwrap_err(), Error::ENOENT);

    // Testing the async flavor.
    let non_existing_opendir_cb_count = Counter::new();
    let c = non_existing_opendir_cb_count.clone();
    fs::opendir(&lp, &path, move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOENT);
        c.inc();
    });
    assert_eq!(non_existing_opendir_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(non_existing_opendir_cb_count.get(), 1);

    make_valgrind_happy(&lp);
}

// test-fs-readdir.c: opendir of a regular file (test/fixtures/empty_file) is ENOTDIR,
// synchronously and on the pool.
#[test]
fn fs_readdir_file() {
    let tmp = TempDir::new("fs_readdir_file");
    let path = fixtures(&tmp).join("empty_file");
    let lp = Loop::new().unwrap();

    // Testing the synchronous flavor.
    assert_eq!(fs::opendir_sync(&path).unwrap_err(), Error::ENOTDIR);

    // Testing the async flavor.
    let file_opendir_cb_count = Counter::new();
    let c = file_opendir_cb_count.clone();
    fs::opendir(&lp, &path, move |r| {
        assert_eq!(r.unwrap_err(), Error::ENOTDIR);
        c.inc();
    });
    assert_eq!(file_opendir_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(file_opendir_cb_count.get(), 1);

    make_valgrind_happy(&lp);
}

/// test-fs-readdir.c's checks on one entry of `test_dir`: one of its three names,
/// with its type (getdents gives types on Linux: HAVE_DIRENT_TYPES).
fn check_non_empty_dirent(dent: &Dirent) {
    assert!(dent.name == "file1" || dent.name == "file2" || dent.name == "test_subdir", "{dent:?}");
    if dent.name == "test_subdir" {
        assert_eq!(dent.kind, DirentType::Dir, "{dent:?}");
    } else {
        assert_eq!(dent.kind, DirentType::File, "{dent:?}");
    }
}

/// test-fs-readdir.c `non_empty_readdir_cb`: reads the next batch of one entry; at the
/// end (an empty batch) checks three were read and closes the stream, otherwise checks
/// the entry and reads again.
fn non_empty_readdir(
    lp: &Loop,
    dir: &Dir,
    readdir_count: Counter,
    closedir_count: Counter,
    seen: Rc<RefCell<BTreeSet<String>>>,
) {
    let (l, d) = (lp.clone(), dir.clone());
    fs::readdir(lp, dir, 1, move |r| {
        let entries = r.unwrap();
        if entries.is_empty() {
            assert_eq!(readdir_count.get(), 3);
            fs::closedir(&l, &d, move |r| {
                assert_eq!(r, Ok(()));
                closedir_count.inc();
            });
        } else {
            assert_eq!(entries.len(), 1);
            check_non_empty_dirent(&entries[0]);
            assert!(seen.borrow_mut().insert(entries[0].name.to_str().unwrap().to_owned()), "{entries:?} twice");
            readdir_count.inc();
            non_empty_readdir(&l, &d, readdir_count, closedir_count, seen);
        }
    });
}

// test-fs-readdir.c: a directory of two files and a subdirectory read one entry at a
// time, synchronously and then on the pool (each readdir from the previous one's
// callback): three entries with their names and types, then an empty batch, then
// closedir. `.` and `..` are never among them. (Added: each entry comes once, and
// closedir leaves no descriptor open on the directory.)
#[test]
fn fs_readdir_non_empty_dir() {
    let tmp = TempDir::new("fs_readdir_non_empty_dir");
    let test_dir = tmp.join("test_dir");
    let lp = Loop::new().unwrap();

    // (libuv's cleanup_test_files first: nothing to clean in a new directory.)
    assert_eq!(fs::mkdir_sync(&test_dir, 0o755), Ok(()));

    // Create two files synchronously.
    create_file(&test_dir.join("file1"));
    create_file(&test_dir.join("file2"));

    assert_eq!(fs::mkdir_sync(test_dir.join("test_subdir"), 0o755), Ok(()));

    // Testing the synchronous flavor.
    let dir = fs::opendir_sync(&test_dir).unwrap();
    assert_eq!(fds_open_on(&test_dir), 1);
    let mut entries_count = 0;
    let mut seen = BTreeSet::new();
    loop {
        let entries = fs::readdir_sync(&dir, 1).unwrap();
        if entries.is_empty() {
            break;
        }
        assert_eq!(entries.len(), 1);
        check_non_empty_dirent(&entries[0]);
        assert!(seen.insert(entries[0].name.to_str().unwrap().to_owned()), "{entries:?} twice");
        entries_count += 1;
    }
    assert_eq!(entries_count, 3);
    assert_eq!(seen.len(), 3);
    assert_eq!(fs::closedir_sync(&dir), Ok(()));
    assert_eq!(fds_open_on(&test_dir), 0);

    // Testing the asynchronous flavor.
    let non_empty_opendir_cb_count = Counter::new();
    let non_empty_readdir_cb_count = Counter::new();
    let non_empty_closedir_cb_count = Counter::new();
    let seen = Rc::new(RefCell::new(BTreeSet::new()));
    let (l, opened, read, closed, s) = (
        lp.clone(),
        non_empty_opendir_cb_count.clone(),
        non_empty_readdir_cb_count.clone(),
        non_empty_closedir_cb_count.clone(),
        seen.clone(),
    );
    fs::opendir(&lp, &test_dir, move |r| {
        let dir = r.unwrap();
        non_empty_readdir(&l, &dir, read, closed, s);
        opened.inc();
    });
    assert_eq!(non_empty_opendir_cb_count.get(), 0);
    assert_eq!(non_empty_closedir_cb_count.get(), 0);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(non_empty_opendir_cb_count.get(), 1);
    assert_eq!(non_empty_readdir_cb_count.get(), 3);
    assert_eq!(non_empty_closedir_cb_count.get(), 1);
    assert_eq!(seen.borrow().len(), 3);
    assert_eq!(fds_open_on(&test_dir), 0);

    // libuv removes "test_subdir" relative to the current directory here (a no-op
    // there), then cleanup_test_files removes everything the test made.
    assert_eq!(fs::unlink_sync(test_dir.join("file1")), Ok(()));
    assert_eq!(fs::unlink_sync(test_dir.join("file2")), Ok(()));
    assert_eq!(fs::rmdir_sync(test_dir.join("test_subdir")), Ok(()));
    assert_eq!(fs::rmdir_sync(&test_dir), Ok(()));
    make_valgrind_happy(&lp);
}
