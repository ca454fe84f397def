//! File system requests (libuv's `uv_fs_*`): run on the thread pool, or synchronously.
//!
//! As in libuv, an operation given a callback runs on the thread pool and calls back on
//! the loop thread (poll phase); the `_sync` variant runs on the caller's thread. A
//! [`File`] is a shared, cloneable descriptor; [`close`] closes it for every clone, as
//! `close(2)` on an fd would, and later operations on it fail with `EBADF`.
//!
//! Open flags are Node's strings (`"r"`, `"r+"`, `"w"`, `"wx"`, `"a"`, …), since the
//! file streams above speak Node.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};
use crate::loop_::Loop;
use crate::threadpool::{queue_work, WorkReq};

/// A file system request in flight (`uv_fs_t`); it can be cancelled until it starts.
pub type FsReq = WorkReq;

/// An open file, shared by its clones (Node's numeric fd, reference-counted).
#[derive(Clone, Debug)]
pub struct File(Arc<RwLock<Option<std::fs::File>>>);

/// What `stat`/`fstat` report (`uv_stat_t`).
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
    /// Last access.
    pub atime: SystemTime,
    /// Last modification.
    pub mtime: SystemTime,
    /// Last status change.
    pub ctime: SystemTime,
    /// Creation, where the file system records it (`statx`'s `btime`); the epoch
    /// where it does not, as Node shows it.
    pub birthtime: SystemTime,
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

    pub(crate) fn from_metadata(m: &std::fs::Metadata) -> Stat {
        let time = |s: i64, ns: i64| UNIX_EPOCH + Duration::new(s.max(0) as u64, ns.clamp(0, 999_999_999) as u32);
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
            atime: time(m.atime(), m.atime_nsec()),
            mtime: time(m.mtime(), m.mtime_nsec()),
            ctime: time(m.ctime(), m.ctime_nsec()),
            birthtime: m.created().unwrap_or(UNIX_EPOCH),
        }
    }
}

/// Parses Node's open flags into `OpenOptions` (`EINVAL` for an unknown string).
fn options(flags: &str, mode: u32) -> Result<OpenOptions> {
    let mut o = OpenOptions::new();
    let (read, write, append, create, truncate, excl) = match flags {
        "r" | "rs" | "sr" => (true, false, false, false, false, false),
        "r+" | "rs+" | "sr+" => (true, true, false, false, false, false),
        "w" => (false, true, false, true, true, false),
        "wx" | "xw" => (false, true, false, true, true, true),
        "w+" => (true, true, false, true, true, false),
        "wx+" | "xw+" => (true, true, false, true, true, true),
        "a" | "as" | "sa" => (false, true, true, true, false, false),
        "ax" | "xa" => (false, true, true, true, false, true),
        "a+" | "as+" | "sa+" => (true, true, true, true, false, false),
        "ax+" | "xa+" => (true, true, true, true, false, true),
        _ => return Err(Error::EINVAL),
    };
    o.read(read).write(write || append).append(append).truncate(truncate).mode(mode);
    if excl {
        o.create_new(true);
    } else {
        o.create(create);
    }
    Ok(o)
}

impl File {
    fn with<R>(&self, f: impl FnOnce(&std::fs::File) -> std::io::Result<R>) -> Result<R> {
        let guard = self.0.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(file) => f(file).map_err(Error::from),
            None => Err(Error::EBADF),
        }
    }

    /// True until [`close`] (or [`close_sync`]) has run.
    pub fn is_open(&self) -> bool {
        self.0.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// The descriptor, while the file is open.
    pub fn fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
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

/// `uv_fs_open`, synchronously.
pub fn open_sync(path: impl AsRef<Path>, flags: &str, mode: u32) -> Result<File> {
    let file = options(flags, mode)?.open(path)?;
    Ok(File(Arc::new(RwLock::new(Some(file)))))
}

/// `uv_fs_read`, synchronously: up to `len` bytes at `position` (the file's current
/// position if `None`). An empty result is end of file.
pub fn read_sync(file: &File, len: usize, position: Option<u64>) -> Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    let n = file.with(|f| loop {
        let r = match position {
            Some(pos) => f.read_at(&mut buf, pos),
            None => (&*f).read(&mut buf),
        };
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => break r,
        }
    })?;
    buf.truncate(n);
    Ok(buf.freeze())
}

/// `uv_fs_write`, synchronously: writes all of `bufs` at `position` (the current
/// position, or the end in append mode, if `None`). Returns the bytes written.
pub fn write_sync(file: &File, bufs: &[Bytes], position: Option<u64>) -> Result<usize> {
    file.with(|f| {
        let mut total = 0usize;
        for b in bufs {
            match position {
                Some(pos) => f.write_all_at(b, pos + total as u64)?,
                None => (&*f).write_all(b)?,
            }
            total += b.len();
        }
        Ok(total)
    })
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

/// `uv_fs_fstat`, synchronously.
pub fn fstat_sync(file: &File) -> Result<Stat> {
    file.with(|f| f.metadata()).map(|m| Stat::from_metadata(&m))
}

/// `uv_fs_unlink`, synchronously.
pub fn unlink_sync(path: impl AsRef<Path>) -> Result<()> {
    Ok(std::fs::remove_file(path)?)
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

/// `uv_fs_open` on the thread pool.
pub fn open(
    lp: &Loop,
    path: impl Into<PathBuf>,
    flags: &str,
    mode: u32,
    cb: impl FnOnce(Result<File>) + 'static,
) -> FsReq {
    let path = path.into();
    let flags = flags.to_owned();
    on_pool(lp, move || open_sync(&path, &flags, mode), cb)
}

/// `uv_fs_read` on the thread pool.
pub fn read(
    lp: &Loop,
    file: &File,
    len: usize,
    position: Option<u64>,
    cb: impl FnOnce(Result<Bytes>) + 'static,
) -> FsReq {
    let file = file.clone();
    on_pool(lp, move || read_sync(&file, len, position), cb)
}

/// `uv_fs_write` on the thread pool.
pub fn write(
    lp: &Loop,
    file: &File,
    bufs: Vec<Bytes>,
    position: Option<u64>,
    cb: impl FnOnce(Result<usize>) + 'static,
) -> FsReq {
    let file = file.clone();
    on_pool(lp, move || write_sync(&file, &bufs, position), cb)
}

/// `uv_fs_close` on the thread pool.
pub fn close(lp: &Loop, file: &File, cb: impl FnOnce(Result<()>) + 'static) -> FsReq {
    let file = file.clone();
    on_pool(lp, move || close_sync(&file), cb)
}

/// `uv_fs_stat` on the thread pool.
pub fn stat(lp: &Loop, path: impl Into<PathBuf>, cb: impl FnOnce(Result<Stat>) + 'static) -> FsReq {
    let path = path.into();
    on_pool(lp, move || stat_sync(&path), cb)
}

/// `uv_fs_fstat` on the thread pool.
pub fn fstat(lp: &Loop, file: &File, cb: impl FnOnce(Result<Stat>) + 'static) -> FsReq {
    let file = file.clone();
    on_pool(lp, move || fstat_sync(&file), cb)
}

/// `uv_fs_unlink` on the thread pool.
pub fn unlink(lp: &Loop, path: impl Into<PathBuf>, cb: impl FnOnce(Result<()>) + 'static) -> FsReq {
    let path = path.into();
    on_pool(lp, move || unlink_sync(&path), cb)
}
