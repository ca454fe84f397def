//! Poll handles (libuv's `uv_poll_t`, `src/unix/poll.c`): readiness of a descriptor the
//! loop does not own, for code that does its own I/O on it (a C library's socket, an
//! inotify or epoll descriptor, a device).
//!
//! libuv's epoll is level-triggered: while a watched condition holds, the callback runs
//! on every iteration. mio's is edge-triggered, so a `Poll` asks `poll(2)` (no wait)
//! what holds whenever epoll wakes it, and again after each callback: if a watched
//! condition still holds, the handle runs again on the next iteration, and the loop does
//! not block until then. The events given to the callback are `poll(2)`'s own, as
//! libuv maps them: a hang-up or error reports every watched event, and an error without
//! `POLLPRI` stops the handle and calls back `EBADF`.

use std::cell::Cell;
use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::os::fd::RawFd;
use std::rc::Rc;

use mio::unix::SourceFd;
use mio::Interest;

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::{IoEntry, Loop, Ready};

/// A set of poll events (`uv_poll_event`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PollEvents(u32);

impl PollEvents {
    /// No event.
    pub const NONE: PollEvents = PollEvents(0);
    /// `UV_READABLE`: data to read, or the end of it (`POLLIN`).
    pub const READABLE: PollEvents = PollEvents(1);
    /// `UV_WRITABLE`: room to write (`POLLOUT`).
    pub const WRITABLE: PollEvents = PollEvents(2);
    /// `UV_DISCONNECT`: the peer shut its side down (`POLLRDHUP`).
    pub const DISCONNECT: PollEvents = PollEvents(4);
    /// `UV_PRIORITIZED`: urgent data, such as TCP out-of-band bytes (`POLLPRI`).
    pub const PRIORITIZED: PollEvents = PollEvents(8);

    /// The libuv bit values.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The events of libuv bit values `bits` (other bits are dropped).
    pub fn from_bits(bits: u32) -> PollEvents {
        PollEvents(bits & 0xf)
    }

    /// True if every event of `other` is in `self`.
    pub fn contains(self, other: PollEvents) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if no event is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn poll_bits(self) -> libc::c_short {
        let mut p = 0;
        if self.contains(Self::READABLE) {
            p |= libc::POLLIN;
        }
        if self.contains(Self::WRITABLE) {
            p |= libc::POLLOUT;
        }
        if self.contains(Self::DISCONNECT) {
            p |= libc::POLLRDHUP;
        }
        if self.contains(Self::PRIORITIZED) {
            p |= libc::POLLPRI;
        }
        p
    }

    fn from_poll_bits(p: libc::c_short) -> PollEvents {
        let mut e = 0;
        if p & libc::POLLIN != 0 {
            e |= 1;
        }
        if p & libc::POLLOUT != 0 {
            e |= 2;
        }
        if p & libc::POLLRDHUP != 0 {
            e |= 4;
        }
        if p & libc::POLLPRI != 0 {
            e |= 8;
        }
        PollEvents(e)
    }

    fn interest(self) -> Interest {
        let mut i: Option<Interest> = None;
        let mut add = |x: Interest| i = Some(i.map_or(x, |i| i | x));
        if self.contains(Self::READABLE) || self.contains(Self::DISCONNECT) {
            add(Interest::READABLE); // mio adds EPOLLRDHUP to it
        }
        if self.contains(Self::WRITABLE) {
            add(Interest::WRITABLE);
        }
        if self.contains(Self::PRIORITIZED) {
            add(Interest::PRIORITY);
        }
        i.unwrap_or(Interest::READABLE)
    }
}

impl BitOr for PollEvents {
    type Output = PollEvents;
    fn bitor(self, o: PollEvents) -> PollEvents {
        PollEvents(self.0 | o.0)
    }
}

impl BitOrAssign for PollEvents {
    fn bitor_assign(&mut self, o: PollEvents) {
        self.0 |= o.0;
    }
}

impl fmt::Debug for PollEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [(1, "READABLE"), (2, "WRITABLE"), (4, "DISCONNECT"), (8, "PRIORITIZED")];
        let set: Vec<&str> = names.iter().filter(|(b, _)| self.0 & b != 0).map(|(_, n)| *n).collect();
        if set.is_empty() {
            f.write_str("NONE")
        } else {
            f.write_str(&set.join(" | "))
        }
    }
}

type PollCb = dyn FnMut(&Poll, Result<PollEvents>);

pub(crate) struct PollInner {
    core: HandleCore,
    fd: RawFd,
    events: Cell<PollEvents>,
    /// The slab key of the epoll registration, while started.
    key: Cell<Option<usize>>,
    /// In the loop's queue of polls to serve.
    queued: Cell<bool>,
    cb: CallbackSlot<PollCb>,
}

/// A poll handle (`uv_poll_t`): calls back while a descriptor is readable, writable, …
///
/// The descriptor stays the caller's: the handle never reads, writes or closes it, and
/// it must stay open until the handle is closed (libuv's rule). Only one handle, and no
/// other handle of the loop, may watch a descriptor at a time (`EEXIST`).
///
/// ```
/// use millrace_reactor::{Handle, Loop, Poll, PollEvents, RunMode};
/// use std::io::{Read, Write};
/// use std::os::fd::AsRawFd;
///
/// let lp = Loop::new()?;
/// let (mut a, mut b) = std::os::unix::net::UnixStream::pair()?;
/// let p = Poll::new(&lp, b.as_raw_fd())?;
/// p.start(PollEvents::READABLE, move |p, events| {
///     assert_eq!(events, Ok(PollEvents::READABLE));
///     let mut buf = [0u8; 5];
///     b.read_exact(&mut buf).unwrap(); // our own read: the handle never reads
///     assert_eq!(&buf, b"ready");
///     p.close(|_| {});
/// })?;
/// a.write_all(b"ready")?;
/// lp.run(RunMode::Default);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Poll(pub(crate) Rc<PollInner>);

impl Poll {
    /// `uv_poll_init`: a handle for `fd`, made non-blocking (as libuv makes it). `EPERM`
    /// for what epoll cannot watch (a regular file, a directory); `EEXIST` if the loop
    /// already watches `fd`; `EBADF` if it is not open.
    pub fn new(lp: &Loop, fd: RawFd) -> Result<Poll> {
        lp.io_check(&mut SourceFd(&fd))?;
        crate::sys::set_nonblocking_raw(fd, true)?;
        Ok(Poll(Rc::new(PollInner {
            core: HandleCore::new(lp),
            fd,
            events: Cell::new(PollEvents::NONE),
            key: Cell::new(None),
            queued: Cell::new(false),
            cb: CallbackSlot::empty(),
        })))
    }

    /// `uv_poll_init_socket`: the same, for a socket.
    pub fn new_socket(lp: &Loop, socket: RawFd) -> Result<Poll> {
        Poll::new(lp, socket)
    }

    /// `uv_poll_start`: calls `cb` while any of `events` holds (level-triggered), with
    /// the events that do, or with `Err(EBADF)` once (the handle stopped) if the
    /// descriptor reports an error. Starting again replaces the events and the callback;
    /// no events is [`stop`](Poll::stop). `EEXIST` if another handle of the loop watches
    /// the descriptor.
    pub fn start(&self, events: PollEvents, cb: impl FnMut(&Poll, Result<PollEvents>) + 'static) -> Result<()> {
        let p = &self.0;
        if p.core.is_closing() {
            return Err(Error::EINVAL);
        }
        self.stop();
        if events.is_empty() {
            return Ok(());
        }
        let lp = p.core.lp.clone();
        let (key, _) = lp.io_register(&mut SourceFd(&p.fd), IoEntry::Poll(p.clone()), events.interest())?;
        p.key.set(Some(key));
        p.events.set(events);
        p.cb.set(Box::new(cb));
        p.core.start();
        // What already holds is reported by epoll's next wait: a new registration is
        // checked at once.
        Ok(())
    }

    /// `uv_poll_stop`.
    pub fn stop(&self) {
        let p = &self.0;
        if let Some(key) = p.key.take() {
            p.core.lp.io_deregister(key, &mut SourceFd(&p.fd));
        }
        p.events.set(PollEvents::NONE);
        p.core.stop();
    }

    /// The events being watched (none while stopped).
    pub fn events(&self) -> PollEvents {
        self.0.events.get()
    }

    /// `uv_fileno`: the descriptor watched.
    pub fn fileno(&self) -> RawFd {
        self.0.fd
    }
}

/// epoll woke the handle: serve it in this iteration's poll phase.
pub(crate) fn io_event(lp: &Loop, p: Rc<PollInner>) {
    queue(lp, p);
}

fn queue(lp: &Loop, p: Rc<PollInner>) {
    if !p.queued.replace(true) {
        lp.inner().ready.borrow_mut().push_back(Ready::Poll(p));
    }
}

/// A handle from the loop's ready list: woken in this iteration or left ready by the
/// last one (`uv__poll_io`).
pub(crate) fn serve_ready(lp: &Loop, p: Rc<PollInner>) {
    p.queued.set(false);
    serve(lp, Poll(p));
}

fn serve(lp: &Loop, poll: Poll) {
    let p = &poll.0;
    if !p.core.is_active() {
        return;
    }
    let watched = p.events.get().poll_bits();
    let mut revents = match crate::sys::poll_now(p.fd, watched) {
        Ok(r) => r,
        Err(_) => libc::POLLERR,
    };
    if revents == 0 {
        return; // nothing holds any more: wait for epoll's next edge
    }
    // uv__io_poll: a hang-up or an error reports every watched event.
    if revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
        revents |= watched;
    }
    let result = if revents & (libc::POLLERR | libc::POLLNVAL) != 0 && revents & libc::POLLPRI == 0 {
        poll.stop();
        Err(Error::EBADF)
    } else {
        Ok(PollEvents::from_poll_bits(revents & watched))
    };
    if let Some(mut cb) = p.cb.take() {
        cb(&poll, result);
        let keep = !p.core.is_closing();
        p.cb.restore(cb, keep);
    }
    lp.run_next_ticks();
    // Level-triggered: if a watched condition still holds, run again next iteration.
    if p.core.is_active() && !p.queued.get() {
        if let Ok(r) = crate::sys::poll_now(p.fd, p.events.get().poll_bits()) {
            if r != 0 {
                queue(lp, p.clone());
            }
        }
    }
}

impl HandleImpl for Poll {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    fn close_now(&self) {
        self.stop();
    }

    fn drop_callbacks(&self) {
        self.0.cb.clear();
    }
}

impl fmt::Debug for Poll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poll")
            .field("fd", &self.0.fd)
            .field("events", &self.0.events.get())
            .field("active", &self.0.core.is_active())
            .finish()
    }
}
