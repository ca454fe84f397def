//! File system requests (libuv's `uv_fs_*`): run on the thread pool, or synchronously.
//!
//! As in libuv, an operation given a callback runs on the thread pool and calls back on
//! the loop thread (poll phase); the `_sync` variant runs on the caller's thread. Each
//! operation makes the system call libuv's `src/unix/fs.c` makes, so it fails with the
//! same error code (`ENOENT`, `EEXIST`, `ENOTDIR`, …):
//!
//! | libuv | here | |
//! |---|---|---|
//! | `uv_fs_open`, `close`, `read`, `write` | [`open`], [`close`], [`read`] / [`readv`], [`write()`] | `O_CLOEXEC` always; `read`/`readv` and `pread`/`preadv` (a position or none); a write loops until every buffer is written, `IOV_MAX` at a time |
//! | `stat`, `fstat`, `lstat`, `statfs` | [`stat`], [`fstat`], [`lstat`], [`statfs`] | |
//! | `mkdir`, `mkdtemp`, `mkstemp`, `rmdir` | [`mkdir`], [`mkdtemp`], [`mkstemp`], [`rmdir`] | a template must end in `XXXXXX` |
//! | `scandir`, `opendir`, `readdir`, `closedir` | [`scandir`], [`opendir`], [`readdir`], [`closedir`] | `.` and `..` left out; scandir sorts by bytes |
//! | `unlink`, `rename`, `link`, `symlink`, `readlink`, `realpath` | [`unlink`], [`rename`], [`link`], [`symlink`], [`readlink`], [`realpath`] | |
//! | `access`, `chmod`, `fchmod`, `chown`, `fchown`, `lchown` | [`access`], [`chmod`], [`fchmod`], [`chown`], [`fchown`], [`lchown`] | |
//! | `utime`, `futime`, `lutime` | [`utime`], [`futime`], [`lutime`] | microseconds, as libuv rounds |
//! | `fsync`, `fdatasync`, `ftruncate` | [`fsync`], [`fdatasync`], [`ftruncate`] | |
//! | `copyfile`, `sendfile` | [`copyfile`], [`sendfile`] | `copy_file_range`, then `sendfile`, then read and write |
//!
//! A [`File`] is a shared, cloneable descriptor; [`close`] closes it for every clone, as
//! `close(2)` on an fd would, and later operations on it fail with `EBADF`.
//!
//! Open flags are either the `O_*` bits libuv takes (`libc::O_RDWR | libc::O_CREAT`) or
//! Node's strings (`"r"`, `"r+"`, `"w"`, `"wx"`, `"a"`, …, Node's `stringToFlags`),
//! since the file streams above speak Node.
//!
//! ```
//! use millrace_reactor::{fs, Loop, RunMode};
//!
//! let dir = fs::mkdtemp_sync(std::env::temp_dir().join("millrace-doc-XXXXXX")).unwrap();
//! let lp = Loop::new().unwrap();
//! let file = fs::open_sync(dir.join("a"), "w", 0o644).unwrap();
//! fs::write_sync(&file, &[bytes::Bytes::from_static(b"hello")], None).unwrap();
//! fs::close_sync(&file).unwrap();
//! let d = dir.clone();
//! fs::scandir(&lp, &dir, move |r| {
//!     let names: Vec<_> = r.unwrap().into_iter().map(|e| e.name).collect();
//!     assert_eq!(names, ["a"]);
//!     fs::unlink_sync(d.join("a")).unwrap();
//!     fs::rmdir_sync(&d).unwrap();
//! });
//! lp.run(RunMode::Default);
//! ```

mod dir;
mod ops;
mod sys;

use std::io::{IoSlice, IoSliceMut, Seek, SeekFrom};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};
use crate::loop_::Loop;
use crate::threadpool::{queue_work, WorkReq};

pub use dir::{closedir, closedir_sync, mkdir, mkdir_sync, mkdtemp, mkdtemp_sync, opendir, opendir_sync};
pub use dir::{readdir, readdir_sync, rmdir, rmdir_sync, scandir, scandir_sync, Dir, Dirent, DirentType};
pub use ops::*;

/// A file system request in flight (`uv_fs_t`); it can be cancelled until it starts.
pub type FsReq = WorkReq;

/// An open file, shared by its clones (Node's numeric fd, reference-counted).
#[derive(Clone, Debug)]
pub struct File(Arc<RwLock<Option<std::fs::File>>>);

/// What `stat`/`fstat`/`lstat` report (`uv_stat_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// `st_mode`: type and permission bits.
    pub mode: u32,
    /// `st_nlink`.
    pub nlink: u64,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// `st_blksize`.
    pub blksize: u64,
    /// `st_blocks`.
    pub blocks: u64,
    /// `st_rdev`: the device a device file stands for.
    pub rdev: u64,
    /// Last access (before the epoch where the file says so).
    pub atime: SystemTime,
    /// Last modification.
    pub mtime: SystemTime,
    /// Last status change.
    pub ctime: SystemTime,
    /// Creation, where the file system records it (`statx`'s `btime`); the epoch
    /// where it does not, as Node shows it.
    pub birthtime: SystemTime,
}

/// A `(seconds, nanoseconds)` pair from `stat` as a time, before the epoch too.
fn system_time(s: i64, ns: i64) -> SystemTime {
    let ns = ns.clamp(0, 999_999_999) as u32;
    if s >= 0 {
        UNIX_EPOCH + Duration::new(s as u64, ns)
    } else {
        UNIX_EPOCH - Duration::from_secs(s.unsigned_abs()) + Duration::from_nanos(ns.into())
    }
}

impl Stat {
    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    /// A symbolic link (only [`lstat`] sees one).
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }

    pub(crate) fn from_metadata(m: &std::fs::Metadata) -> Stat {
        Stat {
            dev: m.dev(),
            ino: m.ino(),
            mode: m.mode(),
            nlink: m.nlink(),
            uid: m.uid(),
            gid: m.gid(),
            size: m.size(),
            blksize: m.blksize(),
            blocks: m.blocks(),
            rdev: m.rdev(),
            atime: system_time(m.atime(), m.atime_nsec()),
            mtime: system_time(m.mtime(), m.mtime_nsec()),
            ctime: system_time(m.ctime(), m.ctime_nsec()),
            birthtime: m.created().unwrap_or(UNIX_EPOCH),
        }
    }
}

/// Flags for [`open`]: the `O_*` bits `open(2)` takes (`O_CLOEXEC` is always added).
/// Made from an `i32` of `libc::O_*` bits, or from one of Node's strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags(pub i32);

impl TryFrom<i32> for OpenFlags {
    type Error = Error;

    fn try_from(bits: i32) -> Result<OpenFlags> {
        Ok(OpenFlags(bits))
    }
}

/// Node's `stringToFlags` (lib/internal/fs/utils.js); `EINVAL` for any other string.
impl TryFrom<&str> for OpenFlags {
    type Error = Error;

    fn try_from(flags: &str) -> Result<OpenFlags> {
        use libc::{O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY};
        Ok(OpenFlags(match flags {
            "r" => O_RDONLY,
            "rs" | "sr" => O_RDONLY | O_SYNC,
            "r+" => O_RDWR,
            "rs+" | "sr+" => O_RDWR | O_SYNC,
            "w" => O_TRUNC | O_CREAT | O_WRONLY,
            "wx" | "xw" => O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
            "w+" => O_TRUNC | O_CREAT | O_RDWR,
            "wx+" | "xw+" => O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
            "a" => O_APPEND | O_CREAT | O_WRONLY,
            "ax" | "xa" => O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
            "as" | "sa" => O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
            "a+" => O_APPEND | O_CREAT | O_RDWR,
            "ax+" | "xa+" => O_APPEND | O_CREAT | O_RDWR | O_EXCL,
            "as+" | "sa+" => O_APPEND | O_CREAT | O_RDWR | O_SYNC,
            _ => return Err(Error::EINVAL),
        }))
    }
}

impl File {
    fn with<R>(&self, f: impl FnOnce(&std::fs::File) -> std::io::Result<R>) -> Result<R> {
        let guard = self.0.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(file) => f(file).map_err(Error::from),
            None => Err(Error::EBADF),
        }
    }

    /// Runs `f` on the open descriptor (`EBADF` once closed).
    fn with_fd<R>(&self, f: impl FnOnce(RawFd) -> std::io::Result<R>) -> Result<R> {
        self.with(|file| f(file.as_raw_fd()))
    }

    /// Runs `f` on this descriptor and `other`'s (`EBADF` once either is closed).
    fn with_fds<R>(&self, other: &File, f: impl FnOnce(RawFd, RawFd) -> std::io::Result<R>) -> Result<R> {
        self.with_fd(|a| other.with_fd(|b| f(a, b)).map_err(std::io::Error::from))
    }

    /// True until [`close`] (or [`close_sync`]) has run.
    pub fn is_open(&self) -> bool {
        self.0.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// The descriptor, while the file is open.
    pub fn fd(&self) -> Option<RawFd> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|f| f.as_raw_fd())
    }
}

/// A descriptor this process already has (Node's numeric `fd` option), owned from now
/// on: [`close`] closes it.
impl From<std::os::fd::OwnedFd> for File {
    fn from(fd: std::os::fd::OwnedFd) -> File {
        File(Arc::new(RwLock::new(Some(std::fs::File::from(fd)))))
    }
}

/// `uv_fs_open`, synchronously: `flags` are `O_*` bits or one of Node's strings.
pub fn open_sync(path: impl AsRef<Path>, flags: impl TryInto<OpenFlags, Error = Error>, mode: u32) -> Result<File> {
    let flags = flags.try_into()?;
    Ok(File::from(sys::open(path.as_ref(), flags.0, mode)?))
}

/// `uv_fs_read`, synchronously: up to `len` bytes at `position` (the file's current
/// position if `None`). An empty result is end of file.
pub fn read_sync(file: &File, len: usize, position: Option<u64>) -> Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    let n = file.with_fd(|fd| crate::sys::retry(|| sys::read_at(fd, &mut buf, position)))?;
    buf.truncate(n);
    Ok(buf.freeze())
}

/// `uv_fs_read` with several buffers, synchronously: one `read`/`readv` (at the
/// file's position) or `pread`/`preadv` (at `position`), filling the buffers in
/// order; returns the bytes read, 0 at end of file. At most `IOV_MAX` buffers are
/// filled, as libuv clamps `nbufs`; no buffers at all is `EINVAL`.
pub fn readv_sync(file: &File, bufs: &mut [IoSliceMut<'_>], position: Option<u64>) -> Result<usize> {
    if bufs.is_empty() {
        return Err(Error::EINVAL);
    }
    file.with_fd(|fd| sys::readv(fd, bufs, position))
}

/// `uv_fs_write`, synchronously: writes all of `bufs` at `position` (the current
/// position, or the end in append mode, if `None`), `IOV_MAX` buffers per `writev`
/// and again after a short write, as `uv__fs_write_all`. Returns the bytes written;
/// an error after some bytes were written ends the loop and returns that count, as
/// libuv does, so a caller sees the error on its next write. No buffers at all is
/// `EINVAL`.
pub fn write_sync(file: &File, bufs: &[Bytes], position: Option<u64>) -> Result<usize> {
    if bufs.is_empty() {
        return Err(Error::EINVAL);
    }
    file.with_fd(|fd| write_all(fd, bufs, position))
}

fn write_all(fd: RawFd, bufs: &[Bytes], mut position: Option<u64>) -> std::io::Result<usize> {
    let mut total = 0usize;
    let (mut i, mut skip) = (0usize, 0usize); // the first unwritten buffer, and how much of it went
    while i < bufs.len() {
        let batch: Vec<IoSlice<'_>> = std::iter::once(&bufs[i][skip..])
            .chain(bufs[i + 1..].iter().map(|b| &b[..]))
            .take(crate::stream::IOV_MAX)
            .map(IoSlice::new)
            .collect();
        let n = match crate::sys::retry(|| sys::writev(fd, &batch, position)) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if let Some(p) = position.as_mut() {
            *p += n as u64;
        }
        let mut left = n + skip;
        while i < bufs.len() && left >= bufs[i].len() {
            left -= bufs[i].len();
            i += 1;
        }
        skip = left;
    }
    Ok(total)
}

/// `uv_fs_close`, synchronously. Closing a closed file is `EBADF`.
pub fn close_sync(file: &File) -> Result<()> {
    let taken = file.0.write().unwrap_or_else(|p| p.into_inner()).take();
    match taken {
        Some(f) => {
            drop(f);
            Ok(())
        }
        None => Err(Error::EBADF),
    }
}

/// `uv_fs_stat`, synchronously.
pub fn stat_sync(path: impl AsRef<Path>) -> Result<Stat> {
    Ok(Stat::from_metadata(&std::fs::metadata(path)?))
}

/// `uv_fs_lstat`, synchronously: a symbolic link itself, not what it points to.
pub fn lstat_sync(path: impl AsRef<Path>) -> Result<Stat> {
    Ok(Stat::from_metadata(&std::fs::symlink_metadata(path)?))
}

/// `uv_fs_fstat`, synchronously.
pub fn fstat_sync(file: &File) -> Result<Stat> {
    file.with(|f| f.metadata()).map(|m| Stat::from_metadata(&m))
}

/// Moves the file's position (`lseek`); returns the new position.
pub fn seek_sync(file: &File, pos: u64) -> Result<u64> {
    file.with(|f| (&*f).seek(SeekFrom::Start(pos)))
}

fn on_pool<T: Send + 'static>(
    lp: &Loop,
    op: impl FnOnce() -> Result<T> + Send + 'static,
    cb: impl FnOnce(Result<T>) + 'static,
) -> FsReq {
    queue_work(lp, op, move |r| cb(r.and_then(|inner| inner)))
}

/// Defines the thread-pool form of a `_sync` operation: each argument is taken as
/// `$ty` and made owned by `$own` (a path becomes a `PathBuf`, a `&File` a clone),
/// then `$sync` runs on the pool with the owned values.
macro_rules! pool_op {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty => $own:expr),*) -> $ret:ty = $sync:ident($($call:expr),*)) => {
        $(#[$doc])*
        #[allow(clippy::redundant_locals)] // a `Copy` argument is its own owned form
        pub fn $name(lp: &Loop, $($arg: $ty,)* cb: impl FnOnce(Result<$ret>) + 'static) -> FsReq {
            $(let $arg = $own;)*
            crate::fs::on_pool(lp, move || $sync($($call),*), cb)
        }
    };
}
pub(crate) use pool_op;

/// `uv_fs_open` on the thread pool.
pub fn open(
    lp: &Loop,
    path: impl Into<PathBuf>,
    flags: impl TryInto<OpenFlags, Error = Error>,
    mode: u32,
    cb: impl FnOnce(Result<File>) + 'static,
) -> FsReq {
    let path = path.into();
    let flags = flags.try_into();
    on_pool(lp, move || Ok(File::from(sys::open(&path, flags?.0, mode)?)), cb)
}

pool_op!(
    /// `uv_fs_read` on the thread pool.
    read(file: &File => file.clone(), len: usize => len, position: Option<u64> => position) -> Bytes
        = read_sync(&file, len, position)
);

/// `uv_fs_read` with several buffers on the thread pool: `bufs` are filled in order
/// (each up to its length) and handed back with the count read (see [`readv_sync`]).
/// A request cancelled before it ran gets `ECANCELED` and no buffers: they went with
/// the work that never ran.
pub fn readv(
    lp: &Loop,
    file: &File,
    mut bufs: Vec<BytesMut>,
    position: Option<u64>,
    cb: impl FnOnce(Result<usize>, Vec<BytesMut>) + 'static,
) -> FsReq {
    let file = file.clone();
    let op = move || {
        let mut slices: Vec<IoSliceMut<'_>> = bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
        let r = readv_sync(&file, &mut slices, position);
        (r, bufs)
    };
    queue_work(lp, op, move |r| match r {
        Ok((r, bufs)) => cb(r, bufs),
        Err(e) => cb(Err(e), Vec::new()),
    })
}

pool_op!(
    /// `uv_fs_write` on the thread pool.
    write(file: &File => file.clone(), bufs: Vec<Bytes> => bufs, position: Option<u64> => position) -> usize
        = write_sync(&file, &bufs, position)
);

pool_op!(
    /// `uv_fs_close` on the thread pool.
    close(file: &File => file.clone()) -> () = close_sync(&file)
);

pool_op!(
    /// `uv_fs_stat` on the thread pool.
    stat(path: impl Into<PathBuf> => path.into()) -> Stat = stat_sync(&path)
);

pool_op!(
    /// `uv_fs_lstat` on the thread pool.
    lstat(path: impl Into<PathBuf> => path.into()) -> Stat = lstat_sync(&path)
);

pool_op!(
    /// `uv_fs_fstat` on the thread pool.
    fstat(file: &File => file.clone()) -> Stat = fstat_sync(&file)
);
