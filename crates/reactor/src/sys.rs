//! The few system calls std, mio and socket2 do not offer safely: a descriptor's access
//! mode and file type, `O_NONBLOCK` on any descriptor, and `pipe2`. The only `unsafe`
//! code in the crate lives here, each block with its reason.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// What `fcntl(F_GETFL)` says of `fd`'s access mode: (readable, writable), as libuv's
/// `uv_pipe_open` derives `UV_HANDLE_READABLE` and `UV_HANDLE_WRITABLE`.
pub(crate) fn access_mode(fd: BorrowedFd<'_>) -> io::Result<(bool, bool)> {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags; `fd` is
    // open for the borrow's lifetime.
    let mode = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })? & libc::O_ACCMODE;
    Ok((mode != libc::O_WRONLY, mode != libc::O_RDONLY))
}

/// `uv__nonblock`: sets or clears `O_NONBLOCK` (`ioctl(FIONBIO)`, as libuv on Linux).
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let mut arg: libc::c_int = on.into();
    // SAFETY: FIONBIO reads one `int` through the pointer, which points at `arg` for the
    // whole call; `fd` is open for the borrow's lifetime.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONBIO, &mut arg) })?;
    Ok(())
}

/// `fstat(2)`'s `st_mode & S_IFMT`.
pub(crate) fn file_type(fd: BorrowedFd<'_>) -> io::Result<libc::mode_t> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a whole `struct stat` into the pointer, which points at
    // storage of that type; `fd` is open for the borrow's lifetime.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so it filled the struct.
    let st = unsafe { st.assume_init() };
    Ok(st.st_mode & libc::S_IFMT)
}

/// `pipe2(O_CLOEXEC | flags)`: (read end, write end).
pub(crate) fn pipe2(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which has room for two.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | flags) })?;
    // SAFETY: pipe2 succeeded, so both are new open descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}
