//! What every handle shares: active/ref/closing flags, the loop's counts, deferred close.
//!
//! libuv keeps two counts on the loop that decide whether `uv_run` goes on: the number of
//! handles that are *active and referenced*, and the number of requests in flight. The
//! flag arithmetic below is libuv's `uv__handle_start`/`stop`/`ref`/`unref` macros
//! (`src/uv-common.h`), so a handle that is unref'd, or stopped, or closing stops
//! counting at exactly the moment it does in libuv.
//!
//! Closing is always deferred: [`Handle::close`] stops the handle and releases its OS
//! resources at once, but the close callback runs in the loop's closing phase. After the
//! close callback, every callback the handle holds is dropped, which breaks reference
//! cycles between a handle and the closures that captured it.

use std::cell::{Cell, RefCell};

use crate::loop_::Loop;

const ACTIVE: u8 = 1;
const REF: u8 = 2;
const CLOSING: u8 = 4;
const CLOSED: u8 = 8;
/// The loop's own handle (libuv's `UV_HANDLE_INTERNAL`): not counted by `Loop::close`.
const INTERNAL: u8 = 16;

/// The state every handle carries (public only to seal [`Handle`]; not nameable outside).
pub struct HandleCore {
    pub(crate) lp: Loop,
    flags: Cell<u8>,
}

impl HandleCore {
    pub(crate) fn new(lp: &Loop) -> HandleCore {
        let inner = lp.inner();
        inner.handle_count.set(inner.handle_count.get() + 1);
        HandleCore { lp: lp.clone(), flags: Cell::new(REF) }
    }

    fn has(&self, flag: u8) -> bool {
        self.flags.get() & flag != 0
    }

    fn set(&self, flag: u8, on: bool) {
        let f = self.flags.get();
        self.flags.set(if on { f | flag } else { f & !flag });
    }

    fn add_active(&self, delta: isize) {
        let c = &self.lp.inner().active_handles;
        c.set(c.get().wrapping_add_signed(delta));
    }

    pub(crate) fn is_active(&self) -> bool {
        self.has(ACTIVE)
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.has(CLOSING | CLOSED)
    }

    pub(crate) fn has_ref(&self) -> bool {
        self.has(REF)
    }

    /// `uv__handle_start`.
    pub(crate) fn start(&self) {
        if self.has(ACTIVE) {
            return;
        }
        self.set(ACTIVE, true);
        if self.has(REF) {
            self.add_active(1);
        }
    }

    /// `uv__handle_stop`.
    pub(crate) fn stop(&self) {
        if !self.has(ACTIVE) {
            return;
        }
        self.set(ACTIVE, false);
        if self.has(REF) {
            self.add_active(-1);
        }
    }

    /// `uv__handle_ref`.
    pub(crate) fn ref_(&self) {
        if self.has(REF) {
            return;
        }
        self.set(REF, true);
        if !self.has(CLOSING) && self.has(ACTIVE) {
            self.add_active(1);
        }
    }

    /// `uv__handle_unref`.
    pub(crate) fn unref(&self) {
        if !self.has(REF) {
            return;
        }
        self.set(REF, false);
        if !self.has(CLOSING) && self.has(ACTIVE) {
            self.add_active(-1);
        }
    }

    /// Marks the handle closing; false if it already was.
    pub(crate) fn begin_close(&self) -> bool {
        if self.is_closing() {
            return false;
        }
        self.set(CLOSING, true);
        true
    }

    /// Called in the closing phase, just before the close callback.
    pub(crate) fn finish_close(&self) {
        self.set(CLOSED, true);
        if !self.has(INTERNAL) {
            let inner = self.lp.inner();
            inner.handle_count.set(inner.handle_count.get() - 1);
        }
    }

    /// Marks a handle the loop uses for itself; it does not keep `Loop::close` busy.
    pub(crate) fn mark_internal(&self) {
        if !self.has(INTERNAL) {
            self.set(INTERNAL, true);
            let inner = self.lp.inner();
            inner.handle_count.set(inner.handle_count.get() - 1);
        }
    }
}

impl Drop for HandleCore {
    fn drop(&mut self) {
        // A handle dropped without being closed (only possible while it holds no OS
        // resource and is not active: the loop keeps those alive) no longer blocks
        // `Loop::close`.
        if !self.has(CLOSED) {
            self.stop();
            if !self.has(INTERNAL) {
                let inner = self.lp.inner();
                inner.handle_count.set(inner.handle_count.get() - 1);
            }
        }
    }
}

pub(crate) mod sealed {
    use super::HandleCore;

    /// The per-type half of a handle: where its core is, how it stops for close, what
    /// it releases once closed.
    pub trait HandleImpl: Clone + 'static {
        fn core(&self) -> &HandleCore;
        /// Stop the handle and release OS resources (`uv_close`'s type switch).
        fn close_now(&self);
        /// Closing phase, before the close callback: cancel what is still queued
        /// (`uv__finish_close`'s type switch).
        fn finish_close(&self) {}
        /// After the close callback: drop every user callback the handle holds.
        fn drop_callbacks(&self);
    }
}

/// What all handles share (libuv's `uv_handle_t`): activity, references, close.
///
/// A handle is *active* when it will produce callbacks (a started timer, a reading
/// socket); the loop runs while some handle is active and referenced or a request is in
/// flight. `unref` lets a handle be active without keeping the loop alive.
pub trait Handle: sealed::HandleImpl {
    /// The loop the handle belongs to.
    fn get_loop(&self) -> Loop {
        self.core().lp.clone()
    }

    /// `uv_is_active`: true while the handle is doing something that can call back.
    fn is_active(&self) -> bool {
        self.core().is_active()
    }

    /// `uv_is_closing`: true once `close` has been called.
    fn is_closing(&self) -> bool {
        self.core().is_closing()
    }

    /// `uv_ref`: the handle keeps the loop alive while active (the default).
    fn ref_(&self) {
        self.core().ref_()
    }

    /// `uv_unref`: the handle no longer keeps the loop alive.
    fn unref(&self) {
        self.core().unref()
    }

    /// `uv_has_ref`.
    fn has_ref(&self) -> bool {
        self.core().has_ref()
    }

    /// `uv_close`: stops the handle and releases its resources now; `cb` runs later, in
    /// the loop's closing phase, never on the caller's stack. Queued requests (writes,
    /// shutdown, connect) are cancelled with `ECANCELED` just before `cb`. Closing a
    /// handle that is already closing does nothing (the new `cb` is dropped).
    fn close<F: FnOnce(&Self) + 'static>(&self, cb: F) {
        if !self.core().begin_close() {
            return;
        }
        self.close_now();
        self.core().stop();
        let me = self.clone();
        self.core().lp.push_closing(Box::new(move || {
            me.finish_close();
            me.core().finish_close();
            cb(&me);
            me.drop_callbacks();
        }));
    }
}

impl<T: sealed::HandleImpl> Handle for T {}

/// A user callback slot that can be taken out while it runs, so the callback may
/// replace or clear its own slot (and call anything else) without a borrow held.
pub(crate) struct CallbackSlot<F: ?Sized>(RefCell<Option<Box<F>>>);

impl<F: ?Sized> CallbackSlot<F> {
    pub(crate) fn empty() -> Self {
        CallbackSlot(RefCell::new(None))
    }

    pub(crate) fn set(&self, f: Box<F>) {
        *self.0.borrow_mut() = Some(f);
    }

    pub(crate) fn take(&self) -> Option<Box<F>> {
        self.0.borrow_mut().take()
    }

    /// Puts a callback back after it ran, unless it was replaced meanwhile or `keep`
    /// says the handle no longer wants it.
    pub(crate) fn restore(&self, f: Box<F>, keep: bool) {
        let mut slot = self.0.borrow_mut();
        if keep && slot.is_none() {
            *slot = Some(f);
        }
    }

    pub(crate) fn clear(&self) {
        // Drop outside the borrow: the closure's destructor may touch this handle.
        let old = self.0.borrow_mut().take();
        drop(old);
    }
}

/// What [`guess_handle`] finds behind a descriptor (libuv's `uv_handle_type`, the
/// values `uv_guess_handle` returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleType {
    /// A terminal: `isatty` is true.
    Tty,
    /// A regular file, or a character device that is not a terminal (libuv counts
    /// `/dev/null` as a file).
    File,
    /// A FIFO, an anonymous pipe or a Unix domain stream socket: open it with
    /// [`Pipe::open_fd`](crate::Pipe::open_fd).
    NamedPipe,
    /// A TCP socket (IPv4 or IPv6): open it with [`Tcp::open_fd`](crate::Tcp::open_fd).
    Tcp,
    /// A UDP socket.
    Udp,
    /// Anything else: a directory, a socket of another kind, a closed descriptor.
    Unknown,
}

/// `uv_guess_handle`: which kind of handle `fd` is for, by `isatty`, `fstat` and, for a
/// socket, its type and family. Node picks `process.stdin`'s class and `net.Socket`'s
/// handle by it.
///
/// ```
/// use millrace_reactor::{guess_handle, HandleType};
/// use std::os::fd::AsFd;
///
/// let (r, w) = millrace_reactor::pipe(true, true)?;
/// assert_eq!(guess_handle(r.as_fd()), HandleType::NamedPipe);
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// assert_eq!(guess_handle(listener.as_fd()), HandleType::Tcp);
/// let file = std::fs::File::open("Cargo.toml")?;
/// assert_eq!(guess_handle(file.as_fd()), HandleType::File);
/// # drop(w);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn guess_handle(fd: std::os::fd::BorrowedFd<'_>) -> HandleType {
    use std::io::IsTerminal;
    if fd.is_terminal() {
        return HandleType::Tty;
    }
    let Ok(kind) = crate::sys::file_type(fd) else { return HandleType::Unknown };
    match kind {
        libc::S_IFREG | libc::S_IFCHR => return HandleType::File,
        libc::S_IFIFO => return HandleType::NamedPipe,
        libc::S_IFSOCK => {}
        _ => return HandleType::Unknown,
    }
    let sock = socket2::SockRef::from(&fd);
    let (Ok(addr), Ok(ty)) = (sock.local_addr(), sock.r#type()) else { return HandleType::Unknown };
    let inet = addr.is_ipv4() || addr.is_ipv6();
    match ty {
        socket2::Type::DGRAM if inet => HandleType::Udp,
        socket2::Type::STREAM if inet => HandleType::Tcp,
        socket2::Type::STREAM if addr.is_unix() => HandleType::NamedPipe,
        _ => HandleType::Unknown,
    }
}
