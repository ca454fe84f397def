//! The file system calls std does not offer as libuv makes them: `open` with raw flags,
//! `readv`/`preadv`/`writev`/`pwritev` on one descriptor, `mkdtemp`, `mkostemp`,
//! `statfs`, `utimensat`/`futimens`, `access`, `copy_file_range`, `sendfile`, the
//! `FICLONE` ioctl, and a waiting `poll(2)`. Like the crate's `sys.rs`, this is where
//! `unsafe` is allowed, each block with its reason.
#![allow(unsafe_code)]

use std::ffi::{CString, OsString};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::stream::IOV_MAX;
use crate::sys::{c_path, cvt, retry};

/// `open(path, flags | O_CLOEXEC, mode)`, as `uv__fs_open` (retried on `EINTR`).
pub(crate) fn open(path: &Path, flags: libc::c_int, mode: u32) -> io::Result<OwnedFd> {
    let path = c_path(path)?;
    // SAFETY: `path` is a NUL-terminated string that outlives the call; open reads it
    // and nothing else.
    let fd = retry(|| cvt(unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint) }))?;
    // SAFETY: open succeeded, so `fd` is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `uv__fs_read`: `read`/`readv` at the descriptor's position, or `pread`/`preadv` at
/// `offset`; no more than `IOV_MAX` buffers (the rest are left unfilled). Not retried
/// on `EINTR`, as libuv does not for reads.
pub(crate) fn readv(fd: RawFd, bufs: &mut [IoSliceMut<'_>], offset: Option<u64>) -> io::Result<usize> {
    let count = bufs.len().min(IOV_MAX);
    let bufs = &mut bufs[..count];
    let iov = bufs.as_mut_ptr() as *const libc::iovec;
    let n = bufs.len() as libc::c_int;
    // SAFETY: IoSliceMut is ABI-compatible with iovec (std guarantees it on Unix); the
    // kernel writes at most each slice's length into the slices, which `bufs` borrows
    // mutably for the call; `fd` is only looked up (a bad one is EBADF).
    let r = unsafe {
        match offset {
            None => libc::readv(fd, iov, n),
            Some(off) => libc::preadv(fd, iov, n, off as libc::off_t),
        }
    };
    cvt(r).map(|n| n as usize)
}

/// `uv__fs_write`: one `writev` at the descriptor's position (or its end in append
/// mode), or one `pwritev` at `offset`; no more than `IOV_MAX` buffers.
pub(crate) fn writev(fd: RawFd, bufs: &[IoSlice<'_>], offset: Option<u64>) -> io::Result<usize> {
    let bufs = &bufs[..bufs.len().min(IOV_MAX)];
    let iov = bufs.as_ptr() as *const libc::iovec;
    let n = bufs.len() as libc::c_int;
    // SAFETY: IoSlice is ABI-compatible with iovec; the kernel only reads the slices,
    // which `bufs` borrows for the call; `fd` is only looked up.
    let r = unsafe {
        match offset {
            None => libc::writev(fd, iov, n),
            Some(off) => libc::pwritev(fd, iov, n, off as libc::off_t),
        }
    };
    cvt(r).map(|n| n as usize)
}

/// The template's last six bytes must be `XXXXXX` (`EINVAL` otherwise, checked before
/// the call, as `uv__fs_mkstemp` does).
fn template(path: &Path) -> io::Result<CString> {
    if !path.as_os_str().as_bytes().ends_with(b"XXXXXX") {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    c_path(path)
}

fn filled(t: CString) -> PathBuf {
    PathBuf::from(OsString::from_vec(t.into_bytes()))
}

/// `mkdtemp(3)`: the directory it made.
pub(crate) fn mkdtemp(path: &Path) -> io::Result<PathBuf> {
    let t = template(path)?.into_raw();
    // SAFETY: `t` is a NUL-terminated buffer we own; mkdtemp rewrites its XXXXXX in
    // place (same length) and keeps no pointer to it.
    let r = unsafe { libc::mkdtemp(t) };
    let err = io::Error::last_os_error();
    // SAFETY: `t` came from CString::into_raw and its length did not change.
    let t = unsafe { CString::from_raw(t) };
    if r.is_null() {
        Err(err)
    } else {
        Ok(filled(t))
    }
}

/// `mkostemp(3)` with `O_CLOEXEC`: the open file and its name.
pub(crate) fn mkostemp(path: &Path) -> io::Result<(OwnedFd, PathBuf)> {
    let t = template(path)?.into_raw();
    // SAFETY: as in mkdtemp: mkostemp rewrites the buffer's XXXXXX in place.
    let r = unsafe { libc::mkostemp(t, libc::O_CLOEXEC) };
    let err = io::Error::last_os_error();
    // SAFETY: `t` came from CString::into_raw and its length did not change.
    let t = unsafe { CString::from_raw(t) };
    if r < 0 {
        return Err(err);
    }
    // SAFETY: mkostemp succeeded, so `r` is a new descriptor that nothing else owns.
    Ok((unsafe { OwnedFd::from_raw_fd(r) }, filled(t)))
}

/// `statfs(2)`.
pub(crate) fn statfs(path: &Path) -> io::Result<libc::statfs> {
    let path = c_path(path)?;
    // SAFETY: statfs is plain old data; all zeroes is a valid value.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated; statfs writes one struct into `buf`.
    retry(|| cvt(unsafe { libc::statfs(path.as_ptr(), &mut buf) }))?;
    Ok(buf)
}

/// A time for `utimensat`: seconds and nanoseconds since the epoch (nanoseconds in
/// `0..1e9`, seconds negative before 1970).
pub(crate) type Timespec = (i64, i64);

fn timespecs(t: [Timespec; 2]) -> [libc::timespec; 2] {
    t.map(|(s, ns)| libc::timespec { tv_sec: s as libc::time_t, tv_nsec: ns as _ })
}

/// `utimensat(AT_FDCWD, path, times, flags)` (`flags` 0 or `AT_SYMLINK_NOFOLLOW`).
pub(crate) fn utimensat(path: &Path, times: [Timespec; 2], flags: libc::c_int) -> io::Result<()> {
    let path = c_path(path)?;
    let ts = timespecs(times);
    // SAFETY: `path` is NUL-terminated and `ts` is two timespecs, both read only.
    retry(|| cvt(unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), ts.as_ptr(), flags) })).map(drop)
}

/// `futimens(fd, times)`.
pub(crate) fn futimens(fd: RawFd, times: [Timespec; 2]) -> io::Result<()> {
    let ts = timespecs(times);
    // SAFETY: `ts` is two timespecs, read only; `fd` is only looked up.
    retry(|| cvt(unsafe { libc::futimens(fd, ts.as_ptr()) })).map(drop)
}

/// `access(path, mode)`.
pub(crate) fn access(path: &Path, mode: libc::c_int) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: `path` is NUL-terminated and only read.
    retry(|| cvt(unsafe { libc::access(path.as_ptr(), mode) })).map(drop)
}

/// `copy_file_range(in, &off, out, NULL, len, 0)`: bytes copied; `off` advances.
pub(crate) fn copy_file_range(in_fd: RawFd, off: &mut i64, out_fd: RawFd, len: usize) -> io::Result<usize> {
    let mut o = *off as libc::loff_t;
    // SAFETY: the kernel reads and updates the one offset behind the pointer (ours);
    // a null output offset means the output descriptor's own position.
    let r = cvt(unsafe { libc::copy_file_range(in_fd, &mut o, out_fd, std::ptr::null_mut(), len, 0) })?;
    *off = o;
    Ok(r as usize)
}

/// `sendfile(out, in, &off, len)`: bytes sent; `off` advances.
pub(crate) fn sendfile(out_fd: RawFd, in_fd: RawFd, off: &mut i64, len: usize) -> io::Result<usize> {
    let mut o = *off as libc::off_t;
    // SAFETY: the kernel reads and updates the one offset behind the pointer (ours).
    let r = cvt(unsafe { libc::sendfile(out_fd, in_fd, &mut o, len) })?;
    *off = o;
    Ok(r as usize)
}

/// `ioctl(dst, FICLONE, src)`: share `src`'s blocks with `dst` (copy on write).
pub(crate) fn ficlone(dst: RawFd, src: RawFd) -> io::Result<()> {
    // SAFETY: FICLONE takes the source descriptor by value; both are only looked up.
    cvt(unsafe { libc::ioctl(dst, libc::FICLONE, src) }).map(drop)
}

/// `pread(2)` into `buf`, or `read(2)` where `offset` is `None`; not retried.
pub(crate) fn read_at(fd: RawFd, buf: &mut [u8], offset: Option<u64>) -> io::Result<usize> {
    readv(fd, &mut [IoSliceMut::new(buf)], offset)
}

/// `write(2)` of `buf`.
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    writev(fd, &[IoSlice::new(buf)], None)
}

/// `poll(2)` until `fd` is writable; `EIO` if it reports anything else (as
/// `uv__fs_sendfile_emul` treats a hang-up or an error).
pub(crate) fn wait_writable(fd: RawFd) -> io::Result<()> {
    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: poll reads and writes the one pollfd behind the pointer, ours.
    retry(|| cvt(unsafe { libc::poll(&mut p, 1, -1) }))?;
    if p.revents & !libc::POLLOUT != 0 {
        return Err(io::Error::from_raw_os_error(libc::EIO));
    }
    Ok(())
}
