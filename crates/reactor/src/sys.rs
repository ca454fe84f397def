//! The few system calls std, mio and socket2 do not offer safely: a descriptor's access
//! mode and file type, `O_NONBLOCK` on any descriptor, `pipe2`, a `poll(2)` that does
//! not wait, the terminal calls (settings, window size, pseudo-terminals), and the UDP
//! options socket2 lacks (`IP_RECVERR`, source-specific IPv6 multicast). The only
//! `unsafe` code in the crate lives here, each block with its reason.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

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
    set_nonblocking_raw(fd.as_raw_fd(), on)
}

/// [`set_nonblocking`] on a descriptor given by number (a poll handle's, which the
/// caller keeps): one that is not open is `EBADF`.
pub(crate) fn set_nonblocking_raw(fd: RawFd, on: bool) -> io::Result<()> {
    let mut arg: libc::c_int = on.into();
    // SAFETY: FIONBIO reads one `int` through the pointer, which points at `arg` for the
    // whole call; ioctl only looks the number up (one that is not open is EBADF).
    cvt(unsafe { libc::ioctl(fd, libc::FIONBIO, &mut arg) })?;
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

/// A system call's result: -1 is the thread's `errno` (for `int` and `ssize_t` calls).
pub(crate) fn cvt<T: From<i8> + PartialEq>(r: T) -> io::Result<T> {
    if r == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `poll(2)` with no wait: is there something to read (or an EOF, or an error) now?
pub(crate) fn readable_now(fd: RawFd) -> bool {
    poll_now(fd, libc::POLLIN).is_ok_and(|r| r != 0)
}

/// `poll(2)` with no wait on a descriptor given by number: the `revents` of `events`
/// (plus `POLLERR`, `POLLHUP`, `POLLNVAL`). A number that is not open is `POLLNVAL`, not
/// an error.
pub(crate) fn poll_now(fd: RawFd, events: libc::c_short) -> io::Result<libc::c_short> {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: poll reads and writes the one `pollfd` behind the pointer, which points at
    // `p`; a zero timeout never blocks; poll only looks the number up (any value is
    // safe: one that is not open comes back as POLLNVAL).
    retry(|| cvt(unsafe { libc::poll(&mut p, 1, 0) }))?;
    Ok(p.revents)
}

/// `connect(fd, { AF_UNSPEC })`: dissolves a datagram socket's association (libuv's
/// `uv__udp_disconnect`; `EAFNOSUPPORT` is what some systems answer, and means done).
pub(crate) fn dissolve_association(fd: RawFd) -> io::Result<()> {
    let addr = libc::sockaddr { sa_family: libc::AF_UNSPEC as libc::sa_family_t, sa_data: [0; 14] };
    let len = std::mem::size_of::<libc::sockaddr>() as libc::socklen_t;
    // SAFETY: connect reads `len` bytes behind the pointer, which points at `addr`, a
    // whole `sockaddr`; a number that is not a socket is an error, not UB.
    match retry(|| cvt(unsafe { libc::connect(fd, &addr, len) })) {
        Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => Ok(()),
        r => r.map(|_| ()),
    }
}

/// A terminal's settings (`struct termios`).
pub(crate) type Termios = libc::termios;

/// `tcgetattr(3)`.
pub(crate) fn tcgetattr(fd: BorrowedFd<'_>) -> io::Result<Termios> {
    let mut t = std::mem::MaybeUninit::<Termios>::uninit();
    // SAFETY: tcgetattr fills the whole struct behind the pointer, which points at storage
    // of that type; `fd` is open for the borrow's lifetime.
    retry(|| cvt(unsafe { libc::tcgetattr(fd.as_raw_fd(), t.as_mut_ptr()) }))?;
    // SAFETY: tcgetattr succeeded, so it filled the struct.
    Ok(unsafe { t.assume_init() })
}

/// `tcsetattr(3)` with `how` (`TCSANOW`, `TCSADRAIN`), retried on `EINTR` as libuv's
/// `uv__tcsetattr`.
pub(crate) fn tcsetattr(fd: BorrowedFd<'_>, how: libc::c_int, t: &Termios) -> io::Result<()> {
    tcsetattr_raw(fd.as_raw_fd(), how, t)
}

/// [`tcsetattr`] on a descriptor number that may have been closed since it was recorded
/// (`uv_tty_reset_mode`'s): then `EBADF`, or `ENOTTY` if the number was reused.
pub(crate) fn tcsetattr_raw(fd: libc::c_int, how: libc::c_int, t: &Termios) -> io::Result<()> {
    // SAFETY: tcsetattr only reads the struct behind the pointer, a live reference, and
    // touches nothing else of the descriptor than its terminal settings.
    retry(|| cvt(unsafe { libc::tcsetattr(fd, how, t) }))?;
    Ok(())
}

/// `cfmakeraw(3)`.
pub(crate) fn cfmakeraw(t: &mut Termios) {
    // SAFETY: cfmakeraw only changes fields of the struct behind the pointer, a live
    // exclusive reference.
    unsafe { libc::cfmakeraw(t) }
}

/// `ioctl(TIOCGWINSZ)`: (columns, rows).
pub(crate) fn winsize(fd: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one `struct winsize` through the pointer, which points at
    // `ws`; `fd` is open for the borrow's lifetime.
    retry(|| cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) }))?;
    Ok((ws.ws_col, ws.ws_row))
}

/// `ioctl(TIOCSWINSZ)`.
pub(crate) fn set_winsize(fd: BorrowedFd<'_>, columns: u16, rows: u16) -> io::Result<()> {
    let ws = libc::winsize { ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one `struct winsize` through the pointer, which points at
    // `ws`; `fd` is open for the borrow's lifetime.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) })?;
    Ok(())
}

/// libuv's `uv__tty_is_slave` on Linux: `TIOCGPTN` (the pty number) works only on a
/// pseudo-terminal's master side.
pub(crate) fn tty_is_slave(fd: BorrowedFd<'_>) -> bool {
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one `unsigned int` through the pointer, which points at
    // `n`; `fd` is open for the borrow's lifetime.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGPTN, &mut n) != 0 }
}

/// `ttyname_r(3)`: the path of the terminal `fd` refers to.
pub(crate) fn ttyname(fd: BorrowedFd<'_>) -> io::Result<std::path::PathBuf> {
    name_into(|buf, len| {
        // SAFETY: ttyname_r writes at most `len` bytes, a NUL-terminated name, into the
        // buffer, which has that room; `fd` is open for the borrow's lifetime.
        unsafe { libc::ttyname_r(fd.as_raw_fd(), buf, len) }
    })
}

/// A new pseudo-terminal's master side (`posix_openpt`, `grantpt`, `unlockpt`) and the
/// path of its slave (`ptsname_r`).
pub(crate) fn openpt() -> io::Result<(OwnedFd, std::path::PathBuf)> {
    // SAFETY: posix_openpt takes flags only and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
    // SAFETY: the descriptor is new and nothing else owns it.
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: both take the master descriptor only, open for the calls.
    cvt(unsafe { libc::grantpt(master.as_raw_fd()) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::unlockpt(master.as_raw_fd()) })?;
    let path = name_into(|buf, len| {
        // SAFETY: ptsname_r writes at most `len` bytes, a NUL-terminated path, into the
        // buffer, which has that room; the master is open for the call.
        unsafe { libc::ptsname_r(master.as_raw_fd(), buf, len) }
    })?;
    Ok((master, path))
}

/// Calls a `*name_r` function that fills a buffer with a NUL-terminated path and returns
/// 0 or an error number.
fn name_into(f: impl FnOnce(*mut libc::c_char, libc::size_t) -> libc::c_int) -> io::Result<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = [0 as libc::c_char; 256];
    match f(buf.as_mut_ptr(), buf.len()) {
        0 => {
            let bytes: Vec<u8> = buf.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
            Ok(std::ffi::OsStr::from_bytes(&bytes).into())
        }
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

/// Runs a system call again while it is interrupted (`EINTR`).
pub(crate) fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)`: a close-on-exec duplicate of `fd` numbered `min` or
/// above. A number that is not an open descriptor is `EBADF`.
pub(crate) fn dup_at_least(fd: RawFd, min: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only reads the descriptor table; a number that is not open
    // fails with EBADF and touches nothing.
    let new = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })?;
    // SAFETY: fcntl succeeded, so `new` is a new open descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// `waitpid(pid, WNOHANG)`: `Some(status)` once the child has ended (and is reaped),
/// `None` while it runs.
pub(crate) fn waitpid_nohang(pid: libc::pid_t) -> io::Result<Option<libc::c_int>> {
    let mut status = 0;
    // SAFETY: waitpid writes one `int` through the pointer, which points at `status`.
    let r = retry(|| cvt(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) }))?;
    Ok((r != 0).then_some(status))
}

/// `kill(2)`.
pub(crate) fn kill(pid: libc::pid_t, signum: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    cvt(unsafe { libc::kill(pid, signum) })?;
    Ok(())
}

/// The child's half of `uv_spawn` (libuv's `uv__process_child_init`) that std's
/// `Command` does not do, run between `fork` and `exec`: every signal from 1 to 31 back
/// to its default action, `setsid` for a detached child, the descriptors above 2 put in
/// place (`moves`: source, target), `O_NONBLOCK` cleared on 0, 1 and 2, and, last, an
/// empty signal mask (std leaves the parent's: a child of a thread that blocks SIGTERM
/// would never die of it; libuv's `kill` test). std has already put 0, 1 and 2 in
/// place, changed directory and user, and reports any failure here as the spawn's
/// error.
pub(crate) fn child_init(cmd: &mut std::process::Command, mut moves: Vec<(RawFd, RawFd)>, detached: bool) {
    use std::os::unix::process::CommandExt;
    let count = moves.iter().map(|m| m.1 + 1).max().unwrap_or(3).max(3);
    let setup = move || -> io::Result<()> {
        for n in 1..32 {
            if n == libc::SIGKILL || n == libc::SIGSTOP {
                continue;
            }
            // SAFETY: signal(2) is async-signal-safe; SIG_DFL installs no handler of ours.
            if unsafe { libc::signal(n, libc::SIG_DFL) } == libc::SIG_ERR {
                return Err(io::Error::last_os_error());
            }
        }
        if detached {
            // SAFETY: setsid is async-signal-safe and takes nothing; libuv ignores its
            // failure (the child is a group leader already) and so do we.
            unsafe { libc::setsid() };
        }
        // First move every source numbered below its target above all targets: putting
        // target n in place must not clobber a source still to be used (libuv's swap of
        // stdout and stderr, generalised).
        for m in moves.iter_mut() {
            if m.0 < m.1 {
                // SAFETY: F_DUPFD_CLOEXEC only changes the descriptor table (async-signal-safe).
                m.0 = cvt(unsafe { libc::fcntl(m.0, libc::F_DUPFD_CLOEXEC, count) })?;
            }
        }
        for &(src, target) in moves.iter() {
            if src == target {
                // SAFETY: F_SETFD with 0 only clears close-on-exec on `target`.
                cvt(unsafe { libc::fcntl(target, libc::F_SETFD, 0) })?;
            } else {
                // SAFETY: dup2 only changes the descriptor table; `target` is a placeholder
                // or a descriptor the child does not keep.
                cvt(unsafe { libc::dup2(src, target) })?;
            }
        }
        for fd in 0..3 {
            // SAFETY: F_GETFL/F_SETFL read and set the open file's status flags; a closed
            // descriptor is EBADF, which we skip.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            if flags != -1 && flags & libc::O_NONBLOCK != 0 {
                // SAFETY: as above.
                unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) };
            }
        }
        let mut empty = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set the pointer points at; sigprocmask reads
        // it and changes only this (single-threaded, forked) process's mask. Both are
        // async-signal-safe.
        unsafe {
            libc::sigemptyset(empty.as_mut_ptr());
            cvt(libc::sigprocmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut()))?;
        }
        Ok(())
    };
    // SAFETY: `setup` runs in the forked child before exec, where only async-signal-safe
    // calls are allowed: it calls signal, setsid, fcntl, dup2, sigemptyset and
    // sigprocmask and allocates nothing
    // (`moves` was allocated before the fork and is changed in place).
    unsafe { cmd.pre_exec(setup) };
}

/// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
pub(crate) fn inotify_init() -> io::Result<OwnedFd> {
    // SAFETY: inotify_init1 takes flags only and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) })?;
    // SAFETY: it succeeded: `fd` is a new open descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A path as the C string a system call takes; an interior NUL is `EINVAL`.
pub(crate) fn c_path(path: &std::path::Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `inotify_add_watch(fd, path, mask)`: the watch descriptor.
pub(crate) fn inotify_add_watch(fd: BorrowedFd<'_>, path: &std::path::Path, mask: u32) -> io::Result<i32> {
    let path = c_path(path)?;
    // SAFETY: `path` is a NUL-terminated string that lives across the call; `fd` is open
    // for the borrow's lifetime.
    cvt(unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) })
}

/// `inotify_rm_watch(fd, wd)`; a watch the kernel already dropped (its file was
/// deleted) is `EINVAL`, which callers ignore as libuv does.
pub(crate) fn inotify_rm_watch(fd: BorrowedFd<'_>, wd: i32) -> io::Result<()> {
    // SAFETY: two integers; `fd` is open for the borrow's lifetime.
    cvt(unsafe { libc::inotify_rm_watch(fd.as_raw_fd(), wd) })?;
    Ok(())
}

/// The most descriptors one `recvmsg` takes (libuv's `UV__CMSG_FD_COUNT`).
const CMSG_FD_COUNT: usize = 64;

/// Room for one `cmsghdr` carrying `CMSG_FD_COUNT` descriptors, aligned as `cmsghdr`
/// needs (its first field is a `size_t`).
#[repr(C, align(8))]
struct CmsgSpace([u8; 16 + 4 * CMSG_FD_COUNT]);

/// `sendmsg(2)` of `iov` with `fd` attached as `SCM_RIGHTS` (libuv's `uv__try_write`
/// with a send handle): the bytes written. The peer receives a new descriptor for the
/// same open file along with the first of these bytes.
pub(crate) fn sendmsg_fd(sock: RawFd, iov: &[std::io::IoSlice<'_>], fd: RawFd) -> io::Result<usize> {
    let mut space = CmsgSpace([0; 16 + 4 * CMSG_FD_COUNT]);
    // SAFETY: an all-zero msghdr is valid (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec; // IoSlice is ABI-compatible with iovec
    msg.msg_iovlen = iov.len() as _;
    msg.msg_control = space.0.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as _;
    // SAFETY: msg_control points at `space`, aligned for cmsghdr and larger than
    // msg_controllen, so CMSG_FIRSTHDR is non-null and CMSG_DATA has room for one int.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
    }
    let n = retry(|| {
        // SAFETY: `msg` points at `iov` (read-only for sendmsg) and at `space`, both
        // alive across the call.
        let r = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r as usize)
        }
    })?;
    Ok(n)
}

/// `recvmsg(2)` into `buf` with room for descriptors (libuv's `uv__read` on an IPC
/// pipe): the bytes read; every descriptor that came with them, made close-on-exec by
/// the kernel (`MSG_CMSG_CLOEXEC`), is pushed onto `fds`.
pub(crate) fn recvmsg_fds(sock: RawFd, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    let mut space = CmsgSpace([0; 16 + 4 * CMSG_FD_COUNT]);
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: an all-zero msghdr is valid (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.0.as_mut_ptr().cast();
    msg.msg_controllen = space.0.len() as _;
    let n = loop {
        // SAFETY: `msg` points at `iov` (which points at `buf`) and at `space`, all alive
        // and writable across the call; the kernel writes at most their lengths.
        let r = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if r >= 0 {
            break r as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    // SAFETY: the kernel filled msg_control up to msg_controllen with well-formed
    // headers; CMSG_FIRSTHDR/CMSG_NXTHDR walk only within it, and each SCM_RIGHTS
    // header's data holds (cmsg_len - CMSG_LEN(0)) / 4 new descriptors that are ours.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(n)
}

/// Owns inherited descriptor `fd` (see `take_inherited_fd`): checks that it is open
/// (`F_GETFD`), then sets `FD_CLOEXEC` on it.
pub(crate) fn own_inherited(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD only reads the descriptor's flags; a number that is not open is
    // EBADF and touches nothing.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    // SAFETY: as above, F_SETFD only writes the flags of an open descriptor.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) })?;
    // SAFETY: `fd` is open (F_GETFD succeeded), and the caller's contract (see
    // `take_inherited_fd`, which also refuses a number twice) is that nothing else in
    // the process owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(2)` of an `int` option that socket2 does not name (`IP_RECVERR`,
/// `IPV6_RECVERR`).
pub(crate) fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: setsockopt reads `len` bytes behind the pointer, which points at `value`
    // for the whole call; `fd` is open for the borrow's lifetime.
    cvt(unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (&value as *const libc::c_int).cast(), len) })?;
    Ok(())
}

/// `setsockopt(fd, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP or MCAST_LEAVE_SOURCE_GROUP)`
/// (libuv's `uv__udp_set_source_membership6`): `group` and `source` as `sockaddr_in6`s
/// of port and scope 0 in a `group_source_req`, on interface `interface` (0: the
/// kernel's choice).
pub(crate) fn mcast_source_group6(
    fd: BorrowedFd<'_>,
    join: bool,
    interface: u32,
    group: &std::net::Ipv6Addr,
    source: &std::net::Ipv6Addr,
) -> io::Result<()> {
    fn sockaddr6(ip: &std::net::Ipv6Addr) -> libc::sockaddr_in6 {
        // SAFETY: `sockaddr_in6` is plain old data, for which all zeroes is valid.
        let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sin6.sin6_addr.s6_addr = ip.octets();
        sin6
    }
    // SAFETY: `group_source_req` is plain old data, for which all zeroes is valid.
    let mut req: libc::group_source_req = unsafe { std::mem::zeroed() };
    req.gsr_interface = interface;
    // SAFETY: a `sockaddr_storage` is larger than a `sockaddr_in6` and aligned at least
    // as strictly (that is its purpose), so each write stays inside its field.
    unsafe {
        std::ptr::write((&mut req.gsr_group as *mut libc::sockaddr_storage).cast(), sockaddr6(group));
        std::ptr::write((&mut req.gsr_source as *mut libc::sockaddr_storage).cast(), sockaddr6(source));
    }
    let name = if join { libc::MCAST_JOIN_SOURCE_GROUP } else { libc::MCAST_LEAVE_SOURCE_GROUP };
    let len = std::mem::size_of::<libc::group_source_req>() as libc::socklen_t;
    // SAFETY: setsockopt reads `len` bytes behind the pointer, which points at `req` for
    // the whole call; `fd` is open for the borrow's lifetime.
    cvt(unsafe {
        libc::setsockopt(fd.as_raw_fd(), libc::IPPROTO_IPV6, name, (&req as *const libc::group_source_req).cast(), len)
    })?;
    Ok(())
}

/// One `struct addrinfo` of a `getaddrinfo(3)` answer, copied out of the list.
pub(crate) struct RawAddrInfo {
    pub(crate) flags: i32,
    pub(crate) family: i32,
    pub(crate) socktype: i32,
    pub(crate) protocol: i32,
    pub(crate) addr: Option<std::net::SocketAddr>,
    pub(crate) canonname: Option<String>,
}

/// A `getaddrinfo`/`getnameinfo` failure: the `EAI_*` code, and `errno` for
/// `EAI_SYSTEM`.
pub(crate) struct GaiError {
    pub(crate) code: i32,
    pub(crate) errno: i32,
}

fn gai_error(code: i32) -> GaiError {
    GaiError { code, errno: io::Error::last_os_error().raw_os_error().unwrap_or(0) }
}

/// `getaddrinfo(3)`: every answer, in the resolver's order; `hints` is (flags, family,
/// socktype, protocol).
pub(crate) fn getaddrinfo(
    node: Option<&std::ffi::CStr>,
    service: Option<&std::ffi::CStr>,
    hints: Option<(i32, i32, i32, i32)>,
) -> Result<Vec<RawAddrInfo>, GaiError> {
    // SAFETY: an all-zero addrinfo is a valid hints value (null pointers, zero fields).
    let mut h: libc::addrinfo = unsafe { std::mem::zeroed() };
    if let Some((flags, family, socktype, protocol)) = hints {
        (h.ai_flags, h.ai_family, h.ai_socktype, h.ai_protocol) = (flags, family, socktype, protocol);
    }
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    let ptr = |s: Option<&std::ffi::CStr>| s.map_or(std::ptr::null(), |s| s.as_ptr());
    let hints_ptr = if hints.is_some() { &h as *const libc::addrinfo } else { std::ptr::null() };
    // SAFETY: node and service are null or NUL-terminated strings, hints null or a valid
    // addrinfo, all alive across the call; getaddrinfo writes one pointer to `res`.
    let r = unsafe { libc::getaddrinfo(ptr(node), ptr(service), hints_ptr, &mut res) };
    if r != 0 {
        return Err(gai_error(r));
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` walks the list getaddrinfo allocated (not yet freed): each node is
        // a valid addrinfo whose ai_addr (ai_addrlen bytes) and ai_canonname are null or
        // valid.
        unsafe {
            let ai = &*p;
            let addr = (!ai.ai_addr.is_null()).then(|| {
                let mut storage = socket2::SockAddrStorage::zeroed();
                let len = (ai.ai_addrlen as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
                let dst = storage.view_as::<libc::sockaddr_storage>() as *mut libc::sockaddr_storage;
                std::ptr::copy_nonoverlapping(ai.ai_addr.cast::<u8>(), dst.cast::<u8>(), len);
                socket2::SockAddr::new(storage, len as libc::socklen_t).as_socket()
            });
            let canonname = (!ai.ai_canonname.is_null())
                .then(|| std::ffi::CStr::from_ptr(ai.ai_canonname).to_string_lossy().into_owned());
            out.push(RawAddrInfo {
                flags: ai.ai_flags,
                family: ai.ai_family,
                socktype: ai.ai_socktype,
                protocol: ai.ai_protocol,
                addr: addr.flatten(),
                canonname,
            });
            p = ai.ai_next;
        }
    }
    // SAFETY: `res` is the list getaddrinfo returned, freed once, after the last use.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// `getnameinfo(3)` of `addr` with `NI_*` `flags`: (host, service), each at most
/// `NI_MAXHOST` (1025) and `NI_MAXSERV` (32) bytes, as libuv's buffers.
pub(crate) fn getnameinfo(addr: std::net::SocketAddr, flags: i32) -> Result<(String, String), GaiError> {
    let sa = socket2::SockAddr::from(addr);
    let mut host = [0 as libc::c_char; 1025];
    let mut service = [0 as libc::c_char; 32];
    // SAFETY: `sa` is a valid sockaddr of `sa.len()` bytes; host and service are
    // writable buffers of the lengths passed, which getnameinfo NUL-terminates.
    let r = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            service.as_mut_ptr(),
            service.len() as libc::socklen_t,
            flags,
        )
    };
    if r != 0 {
        return Err(gai_error(r));
    }
    // SAFETY: getnameinfo succeeded, so both buffers hold NUL-terminated strings.
    let text = |b: &[libc::c_char]| unsafe { std::ffi::CStr::from_ptr(b.as_ptr()) }.to_string_lossy().into_owned();
    Ok((text(&host), text(&service)))
}

/// A `struct passwd` entry from `getpwuid_r(3)`: (name, uid, gid, shell, home).
pub(crate) type PasswdEntry = (String, u32, u32, String, String);

/// Calls a `get*_r` function with a buffer that grows while it says `ERANGE`.
fn with_growing_buffer<T>(mut f: impl FnMut(&mut [libc::c_char]) -> io::Result<T>) -> io::Result<T> {
    let mut buf = vec![0 as libc::c_char; 4096];
    loop {
        match f(&mut buf) {
            Err(e) if e.raw_os_error() == Some(libc::ERANGE) && buf.len() < (1 << 24) => {
                let n = buf.len() * 2;
                buf.resize(n, 0);
            }
            r => return r,
        }
    }
}

/// A C string field as a `String` (lossy; a null pointer is empty).
///
/// # Safety
/// `p` is null or points at a NUL-terminated string.
unsafe fn c_field(p: *const libc::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the caller's contract.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// `getpwuid_r(3)` for `uid`: `ENOENT` when there is no such user, as libuv reports it.
pub(crate) fn getpwuid(uid: u32) -> io::Result<PasswdEntry> {
    with_growing_buffer(|buf| {
        // SAFETY: an all-zero passwd is valid (null pointers) and is only written.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `pw` and `buf` (with its true length) are writable and outlive the
        // call; getpwuid_r points `pw`'s strings into `buf` and `result` at `pw`.
        let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        if result.is_null() {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        // SAFETY: getpwuid_r succeeded: the fields are null or strings in `buf`.
        Ok(unsafe { (c_field(pw.pw_name), pw.pw_uid, pw.pw_gid, c_field(pw.pw_shell), c_field(pw.pw_dir)) })
    })
}

/// `getgrgid_r(3)` for `gid`: (name, gid, members); `ENOENT` when there is none.
pub(crate) fn getgrgid(gid: u32) -> io::Result<(String, u32, Vec<String>)> {
    with_growing_buffer(|buf| {
        // SAFETY: an all-zero group is valid (null pointers) and is only written.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as for getpwuid_r: `gr` and `buf` are writable and outlive the call.
        let r = unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr(), buf.len(), &mut result) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        if result.is_null() {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        let mut members = Vec::new();
        let mut p = gr.gr_mem;
        // SAFETY: gr_mem is a null-terminated array of strings in `buf` (or null).
        unsafe {
            while !p.is_null() && !(*p).is_null() {
                members.push(c_field(*p));
                p = p.add(1);
            }
            Ok((c_field(gr.gr_name), gr.gr_gid, members))
        }
    })
}

/// `uname(2)`: (sysname, release, version, machine).
pub(crate) fn uname() -> io::Result<(String, String, String, String)> {
    // SAFETY: utsname is plain old data; all zeroes is valid.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the one struct behind the pointer.
    cvt(unsafe { libc::uname(&mut u) })?;
    // SAFETY: uname NUL-terminates each field within its array.
    Ok(unsafe {
        (
            c_field(u.sysname.as_ptr()),
            c_field(u.release.as_ptr()),
            c_field(u.version.as_ptr()),
            c_field(u.machine.as_ptr()),
        )
    })
}

/// `gethostname(2)` (at most 255 bytes, `UV_MAXHOSTNAMESIZE` less one).
pub(crate) fn gethostname() -> io::Result<String> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: gethostname writes at most `len` bytes into `buf`.
    cvt(unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len() - 1) })?;
    // SAFETY: the last byte was never written and is 0, so the string is terminated.
    Ok(unsafe { c_field(buf.as_ptr()) })
}

/// `geteuid(2)`.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}
