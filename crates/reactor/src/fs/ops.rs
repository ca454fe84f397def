//! The rest of `uv_fs_*`: names (`unlink`, `rename`, `link`, `symlink`, `readlink`,
//! `realpath`, `mkstemp`), permissions and owners (`access`, `chmod`, `chown` and their
//! `f`/`l` forms), times (`utime`, `futime`, `lutime`), syncing and sizes (`fsync`,
//! `fdatasync`, `ftruncate`, `statfs`), and copying (`sendfile`, `copyfile`), each as
//! libuv's `src/unix/fs.c` does it on Linux.

use std::os::fd::RawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{pool_op, sys, File, FsReq};
use crate::error::{Error, Result};
use crate::loop_::Loop;

/// [`access`]: the file exists.
pub const F_OK: i32 = libc::F_OK;
/// [`access`]: the caller may read it.
pub const R_OK: i32 = libc::R_OK;
/// [`access`]: the caller may write it.
pub const W_OK: i32 = libc::W_OK;
/// [`access`]: the caller may execute it.
pub const X_OK: i32 = libc::X_OK;

/// [`copyfile`]: fail with `EEXIST` if the destination exists (`UV_FS_COPYFILE_EXCL`).
pub const COPYFILE_EXCL: u32 = 1;
/// [`copyfile`]: try a copy-on-write clone first, and copy if the file system cannot.
pub const COPYFILE_FICLONE: u32 = 2;
/// [`copyfile`]: clone or fail (`UV_FS_COPYFILE_FICLONE_FORCE`).
pub const COPYFILE_FICLONE_FORCE: u32 = 4;

/// What [`statfs`] reports (`uv_statfs_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    /// The file system's type (`f_type`, a magic number such as `0x01021994` for tmpfs).
    pub fs_type: u64,
    /// The block size.
    pub bsize: u64,
    /// Blocks in all.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks an unprivileged user may use.
    pub bavail: u64,
    /// File nodes in all.
    pub files: u64,
    /// Free file nodes.
    pub ffree: u64,
}

/// `uv_fs_unlink`, synchronously.
pub fn unlink_sync(path: impl AsRef<Path>) -> Result<()> {
    Ok(std::fs::remove_file(path)?)
}

/// `uv_fs_rename`, synchronously.
pub fn rename_sync(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
    Ok(std::fs::rename(from, to)?)
}

/// `uv_fs_link`, synchronously: a new name `path` for the file `existing`.
pub fn link_sync(existing: impl AsRef<Path>, path: impl AsRef<Path>) -> Result<()> {
    Ok(std::fs::hard_link(existing, path)?)
}

/// `uv_fs_symlink`, synchronously: a symbolic link at `path` pointing to `target`
/// (libuv's `UV_FS_SYMLINK_DIR`/`JUNCTION` flags matter on Windows only).
pub fn symlink_sync(target: impl AsRef<Path>, path: impl AsRef<Path>) -> Result<()> {
    Ok(std::os::unix::fs::symlink(target, path)?)
}

/// `uv_fs_readlink`, synchronously: what a symbolic link points to (`EINVAL` for a
/// path that is not one).
pub fn readlink_sync(path: impl AsRef<Path>) -> Result<PathBuf> {
    Ok(std::fs::read_link(path)?)
}

/// `uv_fs_realpath`, synchronously: `realpath(3)`, the absolute path with every
/// symbolic link, `.` and `..` resolved.
pub fn realpath_sync(path: impl AsRef<Path>) -> Result<PathBuf> {
    Ok(std::fs::canonicalize(path)?)
}

/// `uv_fs_mkstemp`, synchronously: creates and opens (read and write, mode 0600) a new
/// file named by `template`, whose last six characters must be `XXXXXX` (`EINVAL`
/// otherwise); returns the file and its path.
pub fn mkstemp_sync(template: impl AsRef<Path>) -> Result<(File, PathBuf)> {
    let (fd, path) = sys::mkostemp(template.as_ref())?;
    Ok((File::from(fd), path))
}

/// `uv_fs_access`, synchronously: `mode` is [`F_OK`] or a mix of [`R_OK`], [`W_OK`],
/// [`X_OK`].
pub fn access_sync(path: impl AsRef<Path>, mode: i32) -> Result<()> {
    Ok(sys::access(path.as_ref(), mode)?)
}

/// `uv_fs_chmod`, synchronously.
pub fn chmod_sync(path: impl AsRef<Path>, mode: u32) -> Result<()> {
    Ok(std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?)
}

/// `uv_fs_fchmod`, synchronously.
pub fn fchmod_sync(file: &File, mode: u32) -> Result<()> {
    file.with(|f| f.set_permissions(std::fs::Permissions::from_mode(mode)))
}

/// `uv_fs_chown`, synchronously; `None` leaves the owner (or group) as it is.
pub fn chown_sync(path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    Ok(std::os::unix::fs::chown(path, uid, gid)?)
}

/// `uv_fs_fchown`, synchronously.
pub fn fchown_sync(file: &File, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    file.with(|f| std::os::unix::fs::fchown(f, uid, gid))
}

/// `uv_fs_lchown`, synchronously: a symbolic link's own owner.
pub fn lchown_sync(path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    Ok(std::os::unix::fs::lchown(path, uid, gid)?)
}

/// A time as `utimensat` takes it, cut to whole microseconds towards zero, as
/// `uv__fs_to_timespec` does ("for the sake of consistency with other platforms").
fn timespec(t: SystemTime) -> sys::Timespec {
    let ns: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    };
    let ns = ns - ns % 1000;
    (ns.div_euclid(1_000_000_000) as i64, ns.rem_euclid(1_000_000_000) as i64)
}

/// `uv_fs_utime`, synchronously: sets the access and modification times (to the
/// microsecond; times before 1970 work too).
pub fn utime_sync(path: impl AsRef<Path>, atime: SystemTime, mtime: SystemTime) -> Result<()> {
    Ok(sys::utimensat(path.as_ref(), [timespec(atime), timespec(mtime)], 0)?)
}

/// `uv_fs_futime`, synchronously.
pub fn futime_sync(file: &File, atime: SystemTime, mtime: SystemTime) -> Result<()> {
    file.with_fd(|fd| sys::futimens(fd, [timespec(atime), timespec(mtime)]))
}

/// `uv_fs_lutime`, synchronously: a symbolic link's own times.
pub fn lutime_sync(path: impl AsRef<Path>, atime: SystemTime, mtime: SystemTime) -> Result<()> {
    let times = [timespec(atime), timespec(mtime)];
    Ok(sys::utimensat(path.as_ref(), times, libc::AT_SYMLINK_NOFOLLOW)?)
}

/// `uv_fs_fsync`, synchronously.
pub fn fsync_sync(file: &File) -> Result<()> {
    file.with(|f| f.sync_all())
}

/// `uv_fs_fdatasync`, synchronously.
pub fn fdatasync_sync(file: &File) -> Result<()> {
    file.with(|f| f.sync_data())
}

/// `uv_fs_ftruncate`, synchronously: cuts or extends (with zeroes) the file to `len`.
pub fn ftruncate_sync(file: &File, len: u64) -> Result<()> {
    file.with(|f| f.set_len(len))
}

/// `uv_fs_statfs`, synchronously.
pub fn statfs_sync(path: impl AsRef<Path>) -> Result<StatFs> {
    let s = sys::statfs(path.as_ref())?;
    Ok(StatFs {
        fs_type: s.f_type as u64,
        bsize: s.f_bsize as u64,
        blocks: s.f_blocks,
        bfree: s.f_bfree,
        bavail: s.f_bavail,
        files: s.f_files,
        ffree: s.f_ffree,
    })
}

/// `uv_fs_sendfile`, synchronously: copies up to `len` bytes of `input`, from
/// `in_offset` on, to `output` at its position; returns the bytes copied (0 at the end
/// of `input`). As libuv on Linux: `copy_file_range`, then `sendfile` where the kernel
/// has no such call or the files are on different file systems, then a read and write
/// loop where neither applies (the loop waits while `output` is full, and reports a
/// read error only if nothing was sent yet).
pub fn sendfile_sync(output: &File, input: &File, in_offset: u64, len: usize) -> Result<usize> {
    output.with_fds(input, |out, inp| sendfile_fds(out, inp, in_offset, len))
}

fn sendfile_fds(out: RawFd, inp: RawFd, in_offset: u64, len: usize) -> std::io::Result<usize> {
    let start = in_offset as i64;
    let mut off = start;
    let r = match sys::copy_file_range(inp, &mut off, out, len) {
        // uv__fs_try_copy_file_range: these mean "use the fallback".
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::ENOTSUP | libc::EXDEV)) => {
            sys::sendfile(out, inp, &mut off, len)
        }
        r => r,
    };
    match r {
        Ok(_) => Ok((off - start) as usize),
        Err(_) if off > start => Ok((off - start) as usize),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EIO | libc::ENOTSOCK | libc::EXDEV)) => {
            sendfile_emul(out, inp, in_offset, len)
        }
        Err(e) => Err(e),
    }
}

/// `uv__fs_sendfile_emul`: `pread` (or `read`, for a source that cannot seek) and
/// `write` through an 8 KiB buffer.
fn sendfile_emul(out: RawFd, inp: RawFd, mut offset: u64, len: usize) -> std::io::Result<usize> {
    let mut buf = [0u8; 8192];
    let mut use_pread = true;
    let mut sent = 0usize;
    while sent < len {
        let want = (len - sent).min(buf.len());
        let nread = match sys::read_at(inp, &mut buf[..want], use_pread.then_some(offset)) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if use_pread && sent == 0 && matches!(e.raw_os_error(), Some(libc::EIO | libc::ESPIPE)) => {
                use_pread = false;
                continue;
            }
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        };
        let mut written = 0;
        while written < nread {
            match sys::write(out, &buf[written..nread]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => sys::wait_writable(out)?,
                Err(e) => return Err(e),
            }
        }
        offset += nread as u64;
        sent += nread;
    }
    Ok(sent)
}

/// `uv_fs_copyfile`, synchronously: copies `src` to `dst` with `src`'s permission
/// bits, as `uv__fs_copyfile`:
/// - [`COPYFILE_EXCL`]: `EEXIST` if `dst` exists; otherwise an existing `dst` is
///   truncated first, and copying a file onto itself leaves it as it is;
/// - [`COPYFILE_FICLONE`] tries a copy-on-write clone (`FICLONE`) and copies if that
///   fails; [`COPYFILE_FICLONE_FORCE`] fails instead (`EOPNOTSUPP`, `EXDEV`, …);
/// - any other bit is `EINVAL`; a failed copy removes `dst`.
pub fn copyfile_sync(src: impl AsRef<Path>, dst: impl AsRef<Path>, flags: u32) -> Result<()> {
    if flags & !(COPYFILE_EXCL | COPYFILE_FICLONE | COPYFILE_FICLONE_FORCE) != 0 {
        return Err(Error::EINVAL);
    }
    let src = File::from(sys::open(src.as_ref(), libc::O_RDONLY, 0)?);
    let src_stat = super::fstat_sync(&src)?;
    let mut dst_flags = libc::O_WRONLY | libc::O_CREAT;
    if flags & COPYFILE_EXCL != 0 {
        dst_flags |= libc::O_EXCL;
    }
    let out = File::from(sys::open(dst.as_ref(), dst_flags, src_stat.mode)?);
    let r = copy_into(&src, &src_stat, &out, flags);
    drop(out);
    if r.is_err() {
        let _ = std::fs::remove_file(dst.as_ref()); // an error happened already
    }
    r
}

fn copy_into(src: &File, src_stat: &super::Stat, out: &File, flags: u32) -> Result<()> {
    if flags & COPYFILE_EXCL == 0 {
        let dst_stat = super::fstat_sync(out)?;
        if (src_stat.dev, src_stat.ino) == (dst_stat.dev, dst_stat.ino) {
            return Ok(());
        }
        match ftruncate_sync(out, 0) {
            // ceph-fuse refuses to truncate a new read-only file; nothing to cut anyway.
            Err(Error::EACCES) if dst_stat.size == 0 => {}
            r => r?,
        }
    }
    fchmod_sync(out, src_stat.mode)?;
    if flags & (COPYFILE_FICLONE | COPYFILE_FICLONE_FORCE) != 0 {
        match out.with_fds(src, |o, s| Ok(sys::ficlone(o, s)))? {
            Ok(()) => return Ok(()),
            Err(e) if flags & COPYFILE_FICLONE_FORCE != 0 => return Err(Error::from(e)),
            Err(_) => {}
        }
    }
    let (mut left, mut offset) = (src_stat.size, 0u64);
    while left != 0 {
        let chunk = left.min(isize::MAX as u64) as usize;
        let n = sendfile_sync(out, src, offset, chunk)?;
        if n == 0 {
            break; // the source shrank while we copied
        }
        left -= n as u64;
        offset += n as u64;
    }
    Ok(())
}

pool_op!(
    /// `uv_fs_unlink` on the thread pool.
    unlink(path: impl Into<PathBuf> => path.into()) -> () = unlink_sync(&path)
);

pool_op!(
    /// `uv_fs_rename` on the thread pool.
    rename(from: impl Into<PathBuf> => from.into(), to: impl Into<PathBuf> => to.into()) -> () = rename_sync(&from, &to)
);

pool_op!(
    /// `uv_fs_link` on the thread pool.
    link(existing: impl Into<PathBuf> => existing.into(), path: impl Into<PathBuf> => path.into()) -> ()
        = link_sync(&existing, &path)
);

pool_op!(
    /// `uv_fs_symlink` on the thread pool.
    symlink(target: impl Into<PathBuf> => target.into(), path: impl Into<PathBuf> => path.into()) -> ()
        = symlink_sync(&target, &path)
);

pool_op!(
    /// `uv_fs_readlink` on the thread pool.
    readlink(path: impl Into<PathBuf> => path.into()) -> PathBuf = readlink_sync(&path)
);

pool_op!(
    /// `uv_fs_realpath` on the thread pool.
    realpath(path: impl Into<PathBuf> => path.into()) -> PathBuf = realpath_sync(&path)
);

pool_op!(
    /// `uv_fs_mkstemp` on the thread pool.
    mkstemp(template: impl Into<PathBuf> => template.into()) -> (File, PathBuf) = mkstemp_sync(&template)
);

pool_op!(
    /// `uv_fs_access` on the thread pool.
    access(path: impl Into<PathBuf> => path.into(), mode: i32 => mode) -> () = access_sync(&path, mode)
);

pool_op!(
    /// `uv_fs_chmod` on the thread pool.
    chmod(path: impl Into<PathBuf> => path.into(), mode: u32 => mode) -> () = chmod_sync(&path, mode)
);

pool_op!(
    /// `uv_fs_fchmod` on the thread pool.
    fchmod(file: &File => file.clone(), mode: u32 => mode) -> () = fchmod_sync(&file, mode)
);

pool_op!(
    /// `uv_fs_chown` on the thread pool.
    chown(path: impl Into<PathBuf> => path.into(), uid: Option<u32> => uid, gid: Option<u32> => gid) -> ()
        = chown_sync(&path, uid, gid)
);

pool_op!(
    /// `uv_fs_fchown` on the thread pool.
    fchown(file: &File => file.clone(), uid: Option<u32> => uid, gid: Option<u32> => gid) -> ()
        = fchown_sync(&file, uid, gid)
);

pool_op!(
    /// `uv_fs_lchown` on the thread pool.
    lchown(path: impl Into<PathBuf> => path.into(), uid: Option<u32> => uid, gid: Option<u32> => gid) -> ()
        = lchown_sync(&path, uid, gid)
);

pool_op!(
    /// `uv_fs_utime` on the thread pool.
    utime(path: impl Into<PathBuf> => path.into(), atime: SystemTime => atime, mtime: SystemTime => mtime) -> ()
        = utime_sync(&path, atime, mtime)
);

pool_op!(
    /// `uv_fs_futime` on the thread pool.
    futime(file: &File => file.clone(), atime: SystemTime => atime, mtime: SystemTime => mtime) -> ()
        = futime_sync(&file, atime, mtime)
);

pool_op!(
    /// `uv_fs_lutime` on the thread pool.
    lutime(path: impl Into<PathBuf> => path.into(), atime: SystemTime => atime, mtime: SystemTime => mtime) -> ()
        = lutime_sync(&path, atime, mtime)
);

pool_op!(
    /// `uv_fs_fsync` on the thread pool.
    fsync(file: &File => file.clone()) -> () = fsync_sync(&file)
);

pool_op!(
    /// `uv_fs_fdatasync` on the thread pool.
    fdatasync(file: &File => file.clone()) -> () = fdatasync_sync(&file)
);

pool_op!(
    /// `uv_fs_ftruncate` on the thread pool.
    ftruncate(file: &File => file.clone(), len: u64 => len) -> () = ftruncate_sync(&file, len)
);

pool_op!(
    /// `uv_fs_statfs` on the thread pool.
    statfs(path: impl Into<PathBuf> => path.into()) -> StatFs = statfs_sync(&path)
);

pool_op!(
    /// `uv_fs_sendfile` on the thread pool.
    sendfile(output: &File => output.clone(), input: &File => input.clone(), in_offset: u64 => in_offset, len: usize => len)
        -> usize = sendfile_sync(&output, &input, in_offset, len)
);

pool_op!(
    /// `uv_fs_copyfile` on the thread pool.
    copyfile(src: impl Into<PathBuf> => src.into(), dst: impl Into<PathBuf> => dst.into(), flags: u32 => flags) -> ()
        = copyfile_sync(&src, &dst, flags)
);
