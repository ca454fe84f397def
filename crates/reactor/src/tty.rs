//! Terminals (libuv's `uv_tty_t`, `src/unix/tty.c`).
//!
//! A [`Tty`] is the same stream machine as a [`Pipe`](crate::Pipe) over a descriptor that
//! is not a socket (`read(2)` and `writev(2)`: `stream.rs`), plus what only terminals
//! have: a mode ([`TtyMode`]: line-buffered with echo, raw, or binary-safe I/O) and a
//! window size. Where libuv's `uv_tty_init` is careful, so is [`Tty::new`]:
//!
//! - **The terminal is reopened.** A pseudo-terminal's slave side (what a shell's
//!   stdin and stdout are) is opened again by its name (`ttyname_r`, `O_NOCTTY`), and the
//!   handle uses the new descriptor. Making it non-blocking then changes only this
//!   process's own open file, not the one it shares with others: in `node | cat`, Node
//!   must not make `cat`'s stdout non-blocking. (libuv also `dup2`s the new file over
//!   the caller's descriptor; here the handle owns the descriptor it was given and
//!   closes it instead, so the caller's other copies, a Rust `std::io::stdin()` say, keep
//!   the shared file as it was.)
//! - **What cannot be reopened writes blocking.** A pty's master side (reopening
//!   `/dev/ptmx` would make a new terminal) keeps its flags, and a writable one gets
//!   blocking writes (libuv's `UV_HANDLE_BLOCKING_WRITES`).
//! - **Files are refused.** A regular file or a character device that is not a
//!   terminal (`/dev/zero`, `/dev/random`) is `EINVAL`: epoll cannot watch it.
//!
//! [`set_mode`](Tty::set_mode) keeps the settings the terminal had before it left
//! [`TtyMode::Normal`]; the first handle of the process to leave normal mode also records
//! them for [`reset_mode`], which a program calls on its way out (Node does, at exit and
//! on fatal signals) so that a crash does not leave the user's terminal raw. One
//! departure: closing that handle drops the record (libuv keeps the descriptor number,
//! and would later reset whatever reused it), and the next terminal to leave normal mode
//! records its own.
//!
//! Not in libuv, for tests and terminal emulators: [`openpty`] makes a pseudo-terminal
//! pair and [`set_winsize`] sets a terminal's size (the kernel sends `SIGWINCH` to its
//! foreground process group).

use std::cell::RefCell;
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::rc::Rc;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::handle::{guess_handle, sealed::HandleImpl, Handle, HandleCore, HandleType};
use crate::loop_::Loop;
use crate::sys::{self, Termios};
use crate::tcp::Tcp;

/// A terminal's mode (`uv_tty_mode_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtyMode {
    /// `UV_TTY_MODE_NORMAL`: the settings the terminal had (line editing, echo,
    /// signals from ^C and ^Z).
    Normal,
    /// `UV_TTY_MODE_RAW`: every key as it is pressed, no echo, no signals, no line
    /// editing; output still turns `\n` into `\r\n` (Node's `setRawMode(true)`).
    Raw,
    /// `UV_TTY_MODE_IO`: `cfmakeraw`, binary-safe both ways (no output processing).
    Io,
}

/// What [`reset_mode`] restores: the first terminal to leave normal mode and its
/// settings from before (libuv's `orig_termios_fd` and `orig_termios`).
static ORIG_TERMIOS: Mutex<Option<(RawFd, Termios)>> = Mutex::new(None);

struct TtyState {
    mode: TtyMode,
    /// The settings from before this handle left normal mode.
    orig: Option<Termios>,
    /// The terminal was not reopened: writes block (`UV_HANDLE_BLOCKING_WRITES`).
    blocking_writes: bool,
}

/// A terminal handle (`uv_tty_t`): a byte stream with a mode and a window size. Its
/// `fileno` is the reopened descriptor for a reopened terminal; `shutdown` gives its
/// callback `ENOTSOCK` (a terminal is not a socket), as libuv's does. Node makes its
/// terminal output blocking (`set_blocking(true)`), so that nothing written before exit
/// is lost.
///
/// ```
/// use bytes::Bytes;
/// use millrace_reactor::{openpty, Handle, Loop, ReadEvent, RunMode, Tty, TtyMode};
///
/// let lp = Loop::new()?;
/// let (master, slave) = openpty(Some((100, 40)))?;
/// let tty = Tty::new(&lp, slave)?;
/// assert_eq!(tty.get_winsize()?, (100, 40));
/// tty.set_mode(TtyMode::Raw)?; // no line buffering: a key is a read
/// let term = Tty::new(&lp, master)?; // the terminal emulator's side
/// term.write([Bytes::from_static(b"q")], |_, r| r.unwrap())?;
/// let t2 = term.clone();
/// tty.read_start(move |tty, ev| {
///     assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"q")));
///     tty.close(|_| {});
///     t2.close(|_| {});
/// })?;
/// lp.run(RunMode::Default);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Tty {
    stream: Tcp,
    st: Rc<RefCell<TtyState>>,
}

impl Tty {
    /// `uv_tty_init`: a handle over `fd`, a terminal (reopened as the module says),
    /// readable and writable as `fd` was opened. A pipe or a socket is taken too, as a
    /// plain stream (libuv's rule); a regular file, a character device that is not a
    /// terminal, or anything unknown is `EINVAL`.
    pub fn new(lp: &Loop, fd: OwnedFd) -> Result<Tty> {
        let kind = guess_handle(fd.as_fd());
        if matches!(kind, HandleType::File | HandleType::Unknown) {
            return Err(Error::EINVAL);
        }
        let (readable, writable) = sys::access_mode(fd.as_fd())?;
        let mut fd = fd;
        let mut blocking_writes = false;
        if kind == HandleType::Tty {
            match reopen(fd.as_fd(), readable, writable) {
                Some(new) => fd = new, // the caller's descriptor closes here
                None => blocking_writes = writable,
            }
        }
        let stream = Tcp::new(lp);
        {
            let mut st = stream.0.st.borrow_mut();
            st.pipe = true; // not TCP: the TCP-only calls are ENOTSUP
            st.tty = kind == HandleType::Tty;
        }
        let tty =
            Tty { stream, st: Rc::new(RefCell::new(TtyState { mode: TtyMode::Normal, orig: None, blocking_writes })) };
        if let Err(e) = tty.stream.adopt_fd(fd, !blocking_writes) {
            tty.stream.close(|_| {});
            return Err(e);
        }
        Ok(tty)
    }

    /// `uv_tty_set_mode`. Leaving [`TtyMode::Normal`] saves the terminal's settings
    /// (and, the first time in the process, records them for [`reset_mode`]); every mode
    /// is made from them, and `Normal` puts them back. Applied once the output queued in
    /// the kernel has been sent (`TCSADRAIN`). `ENOTTY` for a handle over a pipe, `EBADF`
    /// once closed.
    pub fn set_mode(&self, mode: TtyMode) -> Result<()> {
        let mut st = self.st.borrow_mut();
        if st.mode == mode {
            return Ok(());
        }
        self.with_fd(|fd| {
            if st.mode == TtyMode::Normal {
                let orig = sys::tcgetattr(fd)?;
                st.orig = Some(orig);
                let mut first = ORIG_TERMIOS.lock().unwrap_or_else(|p| p.into_inner());
                if first.is_none() {
                    *first = Some((std::os::fd::AsRawFd::as_raw_fd(&fd), orig));
                }
            }
            let mut t = st.orig.ok_or(Error::EINVAL)?;
            match mode {
                TtyMode::Normal => {}
                TtyMode::Raw => {
                    t.c_iflag &= !(libc::BRKINT | libc::ICRNL | libc::INPCK | libc::ISTRIP | libc::IXON);
                    t.c_oflag |= libc::ONLCR;
                    t.c_cflag |= libc::CS8;
                    t.c_lflag &= !(libc::ECHO | libc::ICANON | libc::IEXTEN | libc::ISIG);
                    t.c_cc[libc::VMIN] = 1;
                    t.c_cc[libc::VTIME] = 0;
                }
                TtyMode::Io => sys::cfmakeraw(&mut t),
            }
            sys::tcsetattr(fd, libc::TCSADRAIN, &t)?;
            st.mode = mode;
            Ok(())
        })
    }

    /// The mode [`set_mode`](Tty::set_mode) last set.
    pub fn mode(&self) -> TtyMode {
        self.st.borrow().mode
    }

    /// `uv_tty_get_winsize`: (width, height) in character cells. A terminal nobody
    /// sized (a new pty) is (0, 0).
    pub fn get_winsize(&self) -> Result<(u16, u16)> {
        self.with_fd(|fd| Ok(sys::winsize(fd)?))
    }

    /// True if the terminal could not be reopened (a pty's master side) and the handle
    /// writes blocking (libuv's `UV_HANDLE_BLOCKING_WRITES`): its descriptor keeps the
    /// flags it came with.
    pub fn has_blocking_writes(&self) -> bool {
        self.st.borrow().blocking_writes
    }

    /// The handle's `uv_stream_t` side (see [`Pipe::stream`](crate::Pipe::stream)): how
    /// the streams crate makes Node's `tty.ReadStream` and `tty.WriteStream`.
    pub fn stream(&self) -> &Tcp {
        &self.stream
    }

    crate::stream::stream_handle_methods!(Tty);

    /// How a callback of the stream side gets this handle back (without holding the
    /// stream, which holds the callback).
    fn rewrap(&self) -> impl Fn(&Tcp) -> Tty + 'static {
        let st = self.st.clone();
        move |t| Tty { stream: t.clone(), st: st.clone() }
    }

    fn with_fd<R>(&self, f: impl FnOnce(BorrowedFd<'_>) -> Result<R>) -> Result<R> {
        self.stream.with_sock(|s| f(s.as_fd())).unwrap_or(Err(Error::EBADF))
    }
}

/// libuv's reopen: a pty slave by its name, as `fd` was opened, without becoming the
/// controlling terminal. `None` if it is not a slave or cannot be opened.
fn reopen(fd: BorrowedFd<'_>, readable: bool, writable: bool) -> Option<OwnedFd> {
    if !sys::tty_is_slave(fd) {
        return None;
    }
    let path = sys::ttyname(fd).ok()?;
    let file =
        std::fs::OpenOptions::new().read(readable).write(writable).custom_flags(libc::O_NOCTTY).open(path).ok()?;
    Some(file.into())
}

/// `uv_tty_reset_mode`: gives the first terminal that left normal mode in this process
/// its settings from before, whatever handles still exist. Meant for a program's exit
/// paths (Node calls it at exit and on fatal signals). `EBUSY` while another thread is in
/// [`Tty::set_mode`]'s bookkeeping; Ok if no terminal ever left normal mode.
pub fn reset_mode() -> Result<()> {
    let first = match ORIG_TERMIOS.try_lock() {
        Ok(g) => *g,
        Err(std::sync::TryLockError::Poisoned(p)) => *p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return Err(Error::EBUSY),
    };
    if let Some((fd, t)) = first {
        sys::tcsetattr_raw(fd, libc::TCSANOW, &t)?;
    }
    Ok(())
}

/// A new pseudo-terminal: (master, slave), both close-on-exec and blocking, neither the
/// process's controlling terminal, the window `size` (columns, rows) set if given. Not
/// in libuv (it is `openpty(3)`): the master is what a terminal emulator holds, the slave
/// what a program's stdio would be.
pub fn openpty(size: Option<(u16, u16)>) -> Result<(OwnedFd, OwnedFd)> {
    let (master, path) = sys::openpt()?;
    let slave: OwnedFd =
        std::fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_NOCTTY).open(path)?.into();
    if let Some((columns, rows)) = size {
        set_winsize(master.as_fd(), columns, rows)?;
    }
    Ok((master, slave))
}

/// Sets a terminal's window size (`ioctl(TIOCSWINSZ)`, what a terminal emulator does
/// when its window is resized); if it changed, the kernel sends `SIGWINCH` to the
/// terminal's foreground process group. Not in libuv.
pub fn set_winsize(fd: BorrowedFd<'_>, columns: u16, rows: u16) -> Result<()> {
    Ok(sys::set_winsize(fd, columns, rows)?)
}

impl PartialEq for Tty {
    fn eq(&self, other: &Tty) -> bool {
        self.stream == other.stream
    }
}

impl Eq for Tty {}

impl HandleImpl for Tty {
    fn core(&self) -> &HandleCore {
        self.stream.core()
    }

    /// A terminal that recorded the settings for [`reset_mode`] takes the record with it:
    /// its descriptor number may be reused by anything once closed.
    fn close_now(&self) {
        if let Some(fd) = self.fileno() {
            let mut first = ORIG_TERMIOS.lock().unwrap_or_else(|p| p.into_inner());
            if first.is_some_and(|(f, _)| f == fd) {
                *first = None;
            }
        }
        self.stream.close_now()
    }

    fn finish_close(&self) {
        self.stream.finish_close()
    }

    fn drop_callbacks(&self) {
        self.stream.drop_callbacks()
    }
}

impl fmt::Debug for Tty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tty").field("mode", &self.mode()).field("stream", &self.stream).finish()
    }
}
