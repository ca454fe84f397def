//! Byte streams (libuv's `uv_stream_t`, `src/unix/stream.c`): reading, the write queue,
//! shutdown, and what the loop does when a socket becomes ready.
//!
//! # The journey of one write
//!
//! ```text
//!  write(bufs, cb) ──► queue empty and not corked? ──yes──► writev(2) now
//!        │                      │ no                          │ all written: req done
//!        │                      ▼                             │ partial / EAGAIN: rest stays
//!        │            wait for the socket's writable edge ◄───┘
//!        │                      │ (poll phase: writev(2) of every queued buffer)
//!        ▼                      ▼
//!  WriteReq returned    completed reqs ──► callbacks, in order: in the pending phase if
//!                                          the write finished inside write(), else right
//!                                          after the writev in the poll phase
//! ```
//!
//! A write that finds the queue empty is tried at once (libuv does), but its callback
//! always comes later. Unlike libuv, which issues one `writev` per request, a flush
//! gathers the buffers of *all* queued requests (up to `IOV_MAX`) into one `writev`, so
//! N small requests queued behind a full socket, or while the caller holds
//! [`Tcp::cork`], leave in one system call.
//!
//! # Edge-triggered readiness
//!
//! mio reports edges, libuv polls levels. Each handle caches "readable" and "writable"
//! and clears them only when the kernel says `EAGAIN`, or after a short read or write
//! (the kernel buffer was emptied or filled: epoll(7) guarantees a new edge then). When
//! the loop stops early on a ready socket (at most 32 reads per event, libuv's fairness
//! rule) or `read_start` finds data that arrived earlier, the handle goes on the loop's
//! ready list, served in the next poll phase, since no new edge will announce it.

use std::io::IoSlice;
use std::rc::Rc;

use bytes::{Buf, Bytes};
use mio::event::Event;

use crate::error::{Error, Result};
use crate::loop_::{Pending, Ready};
use crate::sock::Conn;
use crate::tcp::{emfile_trick, ReadEvent, ReqCb, Sock, Tcp, TcpInner, TcpState, WriteEntry};

/// libuv reads at most this many times per readiness event.
const READS_PER_EVENT: usize = 32;
/// libuv writes at most this many times per readiness event.
const WRITES_PER_EVENT: usize = 32;
/// The size of one read (libuv's suggested size).
const READ_SIZE: usize = 64 * 1024;
/// A read buffer with less room than this is replaced before reading.
const READ_MIN: usize = 8 * 1024;
/// `IOV_MAX` on Linux: the most buffers one `writev(2)` takes.
pub const IOV_MAX: usize = 1024;
/// iovecs gathered on the stack; more than this uses a heap vector.
const IOV_STACK: usize = 64;
/// iovecs on the stack for a write known to have few buffers.
const IOV_FEW: usize = 4;

/// Identifies one write request (`uv_write_t`): its bytes, in queue order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteReq {
    len: usize,
}

impl WriteReq {
    /// Bytes in the request.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a request of no bytes (it completes at once, still with a callback).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Tcp {
    /// `uv_read_start`: `cb` gets data as it arrives, then `Eof` or an error. Data that
    /// arrived before the call is delivered too (in the next poll phase).
    /// `EALREADY` if reading, `ENOTCONN` if not a connected stream, `EINVAL` if closing.
    pub fn read_start(&self, cb: impl FnMut(&Tcp, ReadEvent) + 'static) -> Result<()> {
        if self.0.core.is_closing() {
            return Err(Error::EINVAL);
        }
        let mut st = self.0.st.borrow_mut();
        if st.reading {
            return Err(Error::EALREADY);
        }
        if !st.readable {
            return Err(Error::ENOTCONN);
        }
        st.reading = true;
        let ready = st.ready_r;
        drop(st);
        self.0.read_cb.set(Box::new(cb));
        self.0.core.start();
        if ready {
            queue_ready(&self.0);
        }
        Ok(())
    }

    /// `uv_read_stop`: no more read callbacks until `read_start`.
    pub fn read_stop(&self) {
        let mut st = self.0.st.borrow_mut();
        if !st.reading {
            return;
        }
        st.reading = false;
        drop(st);
        self.0.read_cb.clear();
        self.0.core.stop();
    }

    /// True while reading.
    pub fn is_reading(&self) -> bool {
        self.0.st.borrow().reading
    }

    /// `uv_is_readable`.
    pub fn is_readable(&self) -> bool {
        self.0.st.borrow().readable
    }

    /// `uv_is_writable`: false after `shutdown`, a read error, or close.
    pub fn is_writable(&self) -> bool {
        self.0.st.borrow().writable
    }

    /// `uv_stream_set_blocking`: clears (or sets again) `O_NONBLOCK` on the descriptor,
    /// so that [`try_write`](Tcp::try_write) writes everything, waiting for room as it
    /// must, and a queued write blocks the loop until it is done. Meant for writes that
    /// must not be lost at exit (libuv's own test writes 10 MiB into a pipe this way).
    /// `EBADF` without a descriptor.
    pub fn set_blocking(&self, blocking: bool) -> Result<()> {
        use std::os::fd::AsFd;
        self.with_sock(|s| crate::sys::set_nonblocking(s.as_fd(), !blocking)).ok_or(Error::EBADF)??;
        Ok(())
    }

    /// `uv_write`: queues `bufs` as one request; writes at once if nothing is queued
    /// (and the handle is not corked). `cb` runs when every byte is in the kernel, or
    /// with the error that stopped it (`ECANCELED` if the handle is closed first).
    /// Fails at once with `EPIPE` after shutdown or on a socket that is not connected
    /// (bound, listening), `EBADF` without a socket.
    pub fn write<I>(&self, bufs: I, cb: impl FnOnce(&Tcp, Result<()>) + 'static) -> Result<WriteReq>
    where
        I: IntoIterator<Item = Bytes>,
    {
        self.write_with(bufs, None, Box::new(cb))
    }

    /// [`write`](Tcp::write) with `uv_write2`'s send handle (an IPC pipe's; checked by
    /// the caller).
    pub(crate) fn write_with<I>(
        &self,
        bufs: I,
        send: Option<Box<crate::pipe::IpcHandle>>,
        cb: Box<ReqCb>,
    ) -> Result<WriteReq>
    where
        I: IntoIterator<Item = Bytes>,
    {
        let mut st = self.0.st.borrow_mut();
        if matches!(st.sock, Sock::Empty) || self.0.core.is_closing() {
            return Err(Error::EBADF);
        }
        // A bound or listening socket is not writable (`UV_HANDLE_WRITABLE`).
        if !st.writable || !matches!(st.sock, Sock::Stream(_)) {
            return Err(Error::EPIPE);
        }
        let was_empty = st.write_reqs.is_empty();
        let mut len = 0;
        for b in bufs {
            if !b.is_empty() {
                len += b.len();
                st.write_bufs.push_back(b);
            }
        }
        st.write_reqs.push_back(WriteEntry { remaining: len, cb, send });
        st.write_queue_size += len;
        let connecting = st.connect_cb.is_some();
        let corked = st.corked;
        // Known full (EAGAIN or a short write since the last writable edge): the edge
        // will flush it, a write now would only return EAGAIN.
        let blocked = !st.ready_w;
        drop(st);
        self.lp().req_register();
        tracing::trace!(target: "millrace::reactor", fd = ?self.fileno(), bytes = len, queued = !was_empty, "write req");
        if !connecting && was_empty && !corked && !blocked {
            flush(&self.0);
        }
        if !self.0.st.borrow().completed.is_empty() {
            queue_pending(&self.0);
        }
        Ok(WriteReq { len })
    }

    /// `uv_try_write`: writes what the kernel takes now, without queueing. `EAGAIN` if
    /// requests are queued or nothing could be written.
    pub fn try_write(&self, bufs: &[Bytes]) -> Result<usize> {
        let st = self.0.st.borrow();
        let Sock::Stream(stream) = &st.sock else { return Err(Error::EBADF) };
        if st.connect_cb.is_some() || !st.write_reqs.is_empty() {
            return Err(Error::EAGAIN);
        }
        if !st.writable {
            return Err(Error::EPIPE);
        }
        if !st.ready_w {
            return Err(Error::EAGAIN); // known full: the writable edge is pending
        }
        let lp = self.lp().clone();
        let Some((res, offered)) = gather(bufs.iter().filter(|b| !b.is_empty()), |iov| write_syscall(&lp, stream, iov))
        else {
            return Ok(0);
        };
        drop(st);
        let mut st = self.0.st.borrow_mut();
        st.stats.write_calls += 1;
        match res {
            Ok(n) => {
                st.stats.bytes_written += n as u64;
                if n < offered {
                    st.ready_w = st.hup_w; // the kernel buffer is full: an edge will come
                    st.stats.write_partial += 1;
                    lp.inner().metrics.bump(|m| m.write_partial += 1);
                }
                Ok(n)
            }
            Err(e) => {
                if e == Error::EAGAIN {
                    st.ready_w = false;
                    st.stats.write_eagain += 1;
                }
                Err(e)
            }
        }
    }

    /// `uv_shutdown`: after the queued writes, `shutdown(SHUT_WR)` (the peer reads EOF),
    /// then `cb`. The handle is no longer writable. `ENOTCONN` if not writable, already
    /// shut down or closing.
    pub fn shutdown(&self, cb: impl FnOnce(&Tcp, Result<()>) + 'static) -> Result<()> {
        let mut st = self.0.st.borrow_mut();
        if !st.writable || st.shut || st.shutdown_cb.is_some() || self.0.core.is_closing() {
            return Err(Error::ENOTCONN);
        }
        if !matches!(st.sock, Sock::Stream(_)) {
            return Err(Error::ENOTCONN);
        }
        st.shutdown_cb = Some(Box::new(cb));
        st.writable = false;
        let empty = st.write_reqs.is_empty();
        drop(st);
        self.lp().req_register();
        if empty {
            queue_pending(&self.0);
        }
        Ok(())
    }

    /// `uv_stream_get_write_queue_size`: bytes queued and not yet written.
    pub fn write_queue_size(&self) -> usize {
        self.0.st.borrow().write_queue_size
    }

    /// Holds writes in the queue (no system call) until [`uncork`](Tcp::uncork), which
    /// sends everything queued in one `writev`.
    pub fn cork(&self) {
        self.0.st.borrow_mut().corked = true;
    }

    /// Ends [`cork`](Tcp::cork) and flushes the queue at once.
    pub fn uncork(&self) {
        let mut st = self.0.st.borrow_mut();
        if !st.corked {
            return;
        }
        st.corked = false;
        let go = st.connect_cb.is_none() && !st.write_reqs.is_empty() && matches!(st.sock, Sock::Stream(_));
        drop(st);
        if go {
            flush(&self.0);
            if !self.0.st.borrow().completed.is_empty() {
                queue_pending(&self.0);
            }
        }
    }
}

/// Puts the handle on the pending queue (once).
pub(crate) fn queue_pending(t: &Rc<TcpInner>) {
    let mut st = t.st.borrow_mut();
    if st.in_pending {
        return;
    }
    st.in_pending = true;
    drop(st);
    t.core.lp.push_pending(Pending::Stream(t.clone()));
}

/// Puts the handle on the ready list (once), to be served in the next poll phase.
pub(crate) fn queue_ready(t: &Rc<TcpInner>) {
    let mut st = t.st.borrow_mut();
    if st.in_ready {
        return;
    }
    st.in_ready = true;
    drop(st);
    t.core.lp.inner().ready.borrow_mut().push_back(Ready::Stream(t.clone()));
}

/// Gathers up to `IOV_MAX` buffers into iovecs (on the stack when few) and calls `f`
/// with them; returns its result and the bytes offered, or `None` for no buffers.
fn gather<'a, R>(bufs: impl Iterator<Item = &'a Bytes>, f: impl FnOnce(&[IoSlice<'_>]) -> R) -> Option<(R, usize)> {
    let mut bufs = bufs.take(IOV_MAX).peekable();
    bufs.peek()?;
    // The array is filled with empty slices first: a short one when few buffers can come
    // (a response's head and body), so the common write does not clear a whole 1 KiB.
    match bufs.size_hint().1 {
        Some(n) if n <= IOV_FEW => gather_into::<IOV_FEW, R>(bufs, f),
        _ => gather_into::<IOV_STACK, R>(bufs, f),
    }
}

fn gather_into<'a, const N: usize, R>(
    bufs: impl Iterator<Item = &'a Bytes>,
    f: impl FnOnce(&[IoSlice<'_>]) -> R,
) -> Option<(R, usize)> {
    let mut stack = [IoSlice::new(&[]); N];
    let mut n = 0;
    let mut offered = 0;
    let mut heap: Vec<IoSlice<'_>> = Vec::new();
    for b in bufs {
        offered += b.len();
        if n < N {
            stack[n] = IoSlice::new(b);
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(IoSlice::new(b));
        }
        n += 1;
    }
    let iov = if heap.is_empty() { &stack[..n] } else { &heap[..] };
    Some((f(iov), offered))
}

fn write_syscall(lp: &crate::Loop, stream: &Conn, iov: &[IoSlice<'_>]) -> Result<usize> {
    let single = iov.len() == 1;
    loop {
        let r = if single { stream.write(&iov[0]) } else { stream.write_vectored(iov) };
        lp.inner().metrics.bump(|m| if single { m.write += 1 } else { m.writev += 1 });
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return counted_write(lp, r),
        }
    }
}

/// A write's outcome in the loop's metrics (bytes written, `EAGAIN`s), as the
/// reactor's error.
#[inline]
fn counted_write(lp: &crate::Loop, r: std::io::Result<usize>) -> Result<usize> {
    match r {
        Ok(n) => {
            lp.inner().metrics.bump(|m| m.bytes_written += n as u64);
            Ok(n)
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            lp.inner().metrics.bump(|m| m.write_eagain += 1);
            Err(Error::EAGAIN)
        }
        Err(e) => Err(e.into()),
    }
}

/// `uv__write`: writes queued buffers until the queue is empty, the socket is full, or
/// the fairness cap; finished requests move to `completed`.
fn flush(t: &Rc<TcpInner>) {
    let lp = t.core.lp.clone();
    for _ in 0..WRITES_PER_EVENT {
        let mut guard = t.st.borrow_mut();
        let st = &mut *guard;
        if st.write_reqs.is_empty() || st.corked {
            return;
        }
        if st.write_bufs.is_empty() {
            consume(st, 0); // only empty requests are queued
            return;
        }
        let Sock::Stream(stream) = &st.sock else { return };
        let count = st.write_bufs.len().min(IOV_MAX);
        let sends = st.ipc.is_some() && st.write_reqs.iter().any(|r| r.send.is_some());
        let res = if sends {
            match ipc_write(&lp, st, stream) {
                Some(r) => r,
                None => {
                    consume(st, 0); // an empty request before one that carries a handle
                    continue;
                }
            }
        } else {
            match gather(st.write_bufs.iter(), |iov| write_syscall(&lp, stream, iov)) {
                Some((r, offered)) => r.map(|n| (n, offered)),
                None => return,
            }
        };
        st.stats.write_calls += 1;
        match res {
            Ok((n, offered)) => {
                tracing::trace!(target: "millrace::reactor", bytes = n, offered, bufs = count, "writev");
                st.stats.bytes_written += n as u64;
                if sends {
                    // The handle went with these bytes: never send it again.
                    if let Some(head) = st.write_reqs.front_mut() {
                        head.send = None;
                    }
                }
                consume(st, n);
                if n < offered {
                    // The kernel buffer is full: an edge will come (unless the peer is
                    // gone, in which case the next write reports why).
                    st.stats.write_partial += 1;
                    lp.inner().metrics.bump(|m| m.write_partial += 1);
                    st.ready_w = st.hup_w;
                    if st.hup_w {
                        continue;
                    }
                    return;
                }
            }
            Err(e) if e == Error::EAGAIN => {
                tracing::trace!(target: "millrace::reactor", queued = st.write_queue_size, "writev EAGAIN, waiting for POLLOUT");
                st.stats.write_eagain += 1;
                st.ready_w = false;
                return;
            }
            Err(e) => {
                tracing::trace!(target: "millrace::reactor", error = %e, "writev failed");
                fail_head(st, e);
                st.ready_w = false;
                return;
            }
        }
    }
    // Still writable after the cap: no new edge will come, so come back next poll.
    let more = {
        let st = t.st.borrow();
        !st.write_reqs.is_empty() && st.ready_w
    };
    if more {
        queue_ready(t);
    }
}

/// An IPC pipe's write while a queued request carries a handle (libuv writes one
/// request per `sendmsg`): the head request's handle, if it has one, goes with its first
/// bytes, and the write stops where the next request with a handle starts, so every
/// descriptor arrives with its own request's bytes. `None` if there is nothing to write
/// before that request (an empty head request); a head request whose handle is closing
/// fails with `EBADF`, as in libuv.
fn ipc_write(lp: &crate::Loop, st: &TcpState, stream: &Conn) -> Option<Result<(usize, usize)>> {
    let head = st.write_reqs.front()?;
    let mut limit = head.remaining;
    for r in st.write_reqs.iter().skip(1) {
        if r.send.is_some() {
            break;
        }
        limit += r.remaining;
    }
    let fd = match head.send.as_deref() {
        Some(h) => match h.fileno() {
            Some(fd) if !h.is_closing() => Some(fd),
            _ => return Some(Err(Error::EBADF)),
        },
        None => None,
    };
    let mut before = 0;
    let bufs = st.write_bufs.iter().take_while(|b| {
        let go = before < limit;
        before += b.len();
        go
    });
    let (r, offered) = gather(bufs, |iov| match fd {
        Some(fd) => {
            let r = crate::sys::sendmsg_fd(std::os::fd::AsRawFd::as_raw_fd(stream), iov, fd);
            lp.inner().metrics.bump(|m| m.writev += 1);
            counted_write(lp, r)
        }
        None => write_syscall(lp, stream, iov),
    })?;
    Some(r.map(|n| (n, offered)))
}

/// Drops `n` bytes from the front of the buffer queue.
fn advance_bufs(st: &mut TcpState, mut n: usize) {
    while n > 0 {
        let Some(front) = st.write_bufs.front_mut() else { break };
        if front.len() <= n {
            n -= front.len();
            st.write_bufs.pop_front();
        } else {
            front.advance(n);
            break;
        }
    }
}

/// Accounts `n` written bytes: drops written buffers and moves every request whose
/// bytes are all written (empty ones included) to `completed`, in order.
fn consume(st: &mut TcpState, mut n: usize) {
    st.write_queue_size -= n;
    advance_bufs(st, n);
    while let Some(front) = st.write_reqs.front_mut() {
        let take = front.remaining.min(n);
        front.remaining -= take;
        n -= take;
        if front.remaining > 0 {
            break;
        }
        if let Some(req) = st.write_reqs.pop_front() {
            st.completed.push_back((req.cb, Ok(())));
        }
    }
}

/// A write error fails the request at the head of the queue (libuv); its unwritten
/// bytes are dropped. The rest stay queued until the handle is closed.
fn fail_head(st: &mut TcpState, e: Error) {
    let Some(req) = st.write_reqs.pop_front() else { return };
    st.write_queue_size -= req.remaining;
    advance_bufs(st, req.remaining);
    st.completed.push_back((req.cb, Err(e)));
}

/// `uv__write_callbacks`: runs the callbacks of the requests finished so far.
fn write_callbacks(t: &Rc<TcpInner>) {
    let batch = std::mem::take(&mut t.st.borrow_mut().completed);
    if batch.is_empty() {
        return;
    }
    let tcp = Tcp(t.clone());
    let lp = t.core.lp.clone();
    for (cb, res) in batch {
        lp.req_unregister();
        t.st.borrow_mut().stats.write_reqs += 1;
        cb(&tcp, res);
        lp.run_next_ticks();
    }
}

/// `uv__drain`: once the queue is empty, performs a requested shutdown.
fn drain(t: &Rc<TcpInner>) {
    let mut st = t.st.borrow_mut();
    if !st.write_reqs.is_empty() || st.shutdown_cb.is_none() {
        return;
    }
    let cb = st.shutdown_cb.take().expect("checked above");
    let res = if t.core.is_closing() {
        Err(Error::ECANCELED)
    } else {
        match &st.sock {
            Sock::Stream(s) => s.shutdown_write().map_err(Error::from),
            _ => Err(Error::ENOTCONN),
        }
    };
    if res.is_ok() {
        st.shut = true;
    }
    drop(st);
    let lp = t.core.lp.clone();
    lp.req_unregister();
    cb(&Tcp(t.clone()), res);
    lp.run_next_ticks();
}

/// `uv__read`: reads until `EAGAIN`, a short read, EOF, an error, or the fairness cap.
fn read(t: &Rc<TcpInner>) {
    let lp = t.core.lp.clone();
    let tcp = Tcp(t.clone());
    // Descriptors that came with a read of an IPC pipe (no allocation otherwise).
    let mut received = Vec::new();
    for _ in 0..READS_PER_EVENT {
        let res = {
            let st = t.st.borrow();
            if !st.reading || !st.ready_r {
                return;
            }
            let Sock::Stream(stream) = &st.sock else { return };
            let mut buf = lp.inner().read_buf.borrow_mut();
            if buf.len() < READ_MIN {
                buf.clear();
                buf.reserve(READ_SIZE);
                let cap = buf.capacity();
                buf.resize(cap, 0);
            }
            let want = buf.len().min(READ_SIZE);
            let r = if st.ipc.is_some() {
                let sock = std::os::fd::AsRawFd::as_raw_fd(stream);
                crate::sys::recvmsg_fds(sock, &mut buf[..want], &mut received)
            } else {
                loop {
                    match stream.read(&mut buf[..want]) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        r => break r,
                    }
                }
            };
            lp.inner().metrics.bump(|m| m.read += 1);
            // A terminal's short read may leave lines (or an EOF) behind that no new
            // edge will announce: ask the descriptor (libuv's level-triggered poll would).
            let drained =
                |n: usize| n < want && !(st.tty && crate::sys::readable_now(std::os::fd::AsRawFd::as_raw_fd(stream)));
            r.map(|n| (buf.split_to(n).freeze(), drained(n)))
        };
        // An IPC pipe's read stops after bytes that carried descriptors, whatever follows
        // them, so its short read does not say it is drained. As libuv does after any
        // short read, it stops reading for this poll phase, and comes back in the next
        // (the ready list stands in for the level-triggered poll that would report it).
        let mut again = false;
        let mut st = t.st.borrow_mut();
        st.stats.read_calls += 1;
        if !received.is_empty() {
            if let Some(ipc) = st.ipc.as_mut() {
                ipc.pending.extend(received.drain(..));
            }
        }
        let event = match res {
            Ok((data, _)) if data.is_empty() => {
                // EOF: stop reading; the handle stays readable (libuv), and the EOF
                // stays "ready", so a later read_start reports it again.
                st.reading = false;
                ReadEvent::Eof
            }
            Ok((data, short)) => {
                st.stats.bytes_read += data.len() as u64;
                lp.inner().metrics.bump(|m| m.bytes_read += data.len() as u64);
                if short && st.ipc.is_some() {
                    again = true;
                } else if short {
                    // Drained: only EOF (already announced) can still be there.
                    st.ready_r = st.hup_r;
                }
                ReadEvent::Data(data)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                st.ready_r = false;
                lp.inner().metrics.bump(|m| m.read_eagain += 1);
                return;
            }
            Err(e) => {
                st.reading = false;
                st.readable = false;
                st.writable = false;
                ReadEvent::Error(e.into())
            }
        };
        let stop = !matches!(event, ReadEvent::Data(_));
        drop(st);
        if stop {
            t.core.stop();
        }
        if let Some(mut cb) = t.read_cb.take() {
            cb(&tcp, event);
            let keep = t.st.borrow().reading && !t.core.is_closing();
            t.read_cb.restore(cb, keep);
        }
        lp.run_next_ticks();
        if stop {
            return;
        }
        if again {
            let more = {
                let st = t.st.borrow();
                st.reading && st.ready_r
            };
            if more {
                queue_ready(t);
            }
            return;
        }
    }
    let more = {
        let st = t.st.borrow();
        st.reading && st.ready_r
    };
    if more {
        queue_ready(t);
    }
}

/// `uv__server_io`: accepts until `EAGAIN`, one connection callback each.
fn accept_loop(t: &Rc<TcpInner>) {
    let lp = t.core.lp.clone();
    let tcp = Tcp(t.clone());
    for _ in 0..READS_PER_EVENT {
        let res = {
            let st = t.st.borrow();
            if !st.listening || !st.ready_r || st.accepted.is_some() {
                return;
            }
            let Sock::Listener(l) = &st.sock else { return };
            lp.inner().metrics.bump(|m| m.accept += 1);
            let r = l.accept().map_err(Error::from);
            if matches!(r, Err(e) if e == Error::EMFILE || e == Error::ENFILE) {
                emfile_trick(l); // shed the waiting connections
            }
            r
        };
        let status = match res {
            Ok(stream) => {
                t.st.borrow_mut().accepted = Some(stream);
                Ok(())
            }
            Err(e) if e == Error::EAGAIN => {
                t.st.borrow_mut().ready_r = false;
                return;
            }
            Err(e) if e == Error::ECONNABORTED || e == Error::EINTR => continue,
            Err(e) => {
                // EMFILE and friends: report, and wait for the next connection's edge
                // rather than spin on a listener we cannot drain.
                t.st.borrow_mut().ready_r = false;
                Err(e)
            }
        };
        let failed = status.is_err();
        if let Some(mut cb) = t.connection_cb.take() {
            cb(&tcp, status);
            let keep = t.st.borrow().listening;
            t.connection_cb.restore(cb, keep);
        }
        lp.run_next_ticks();
        if failed {
            return;
        }
    }
    let more = {
        let st = t.st.borrow();
        st.listening && st.ready_r && st.accepted.is_none()
    };
    if more {
        queue_ready(t);
    }
}

/// `uv__stream_connect`: the connect finished (or failed); returns true if it did.
fn connect_done(t: &Rc<TcpInner>) -> bool {
    let res = {
        let mut st = t.st.borrow_mut();
        if st.connect_cb.is_none() {
            return true;
        }
        match st.delayed_error.take() {
            Some(e) => Err(e),
            None => {
                let Sock::Stream(s) = &st.sock else { return false };
                match s.take_error() {
                    Ok(Some(e)) | Err(e) => Err(Error::from(e)),
                    Ok(None) => match s.check_connected() {
                        Ok(_) => Ok(()),
                        Err(e) if e.kind() == std::io::ErrorKind::NotConnected => return false,
                        Err(e) => Err(Error::from(e)),
                    },
                }
            }
        }
    };
    let cb = t.st.borrow_mut().connect_cb.take().expect("checked above");
    let lp = t.core.lp.clone();
    lp.req_unregister();
    if res.is_err() {
        let mut st = t.st.borrow_mut();
        st.readable = false;
        st.writable = false;
    }
    let tcp = Tcp(t.clone());
    cb(&tcp, res);
    lp.run_next_ticks();
    if t.core.is_closing() {
        return true;
    }
    if res.is_err() {
        cancel_writes(t, Error::ECANCELED);
        write_callbacks(t);
    }
    true
}

/// An event from mio for this handle (poll phase).
pub(crate) fn io_event(t: Rc<TcpInner>, ev: &Event) {
    {
        let mut st = t.st.borrow_mut();
        if ev.is_read_closed() || ev.is_error() {
            st.hup_r = true;
        }
        if ev.is_write_closed() || ev.is_error() {
            st.hup_w = true;
        }
        if ev.is_readable() || st.hup_r {
            st.ready_r = true;
        }
        if ev.is_writable() || st.hup_w {
            st.ready_w = true;
        }
    }
    serve(&t);
}

/// A handle from the ready list (poll phase).
pub(crate) fn serve_ready(t: Rc<TcpInner>) {
    t.st.borrow_mut().in_ready = false;
    serve(&t);
}

/// `uv__stream_io` / `uv__server_io`.
fn serve(t: &Rc<TcpInner>) {
    if t.core.is_closing() {
        return;
    }
    let (listening, connecting) = {
        let st = t.st.borrow();
        (st.listening, st.connect_cb.is_some())
    };
    if listening {
        accept_loop(t);
        return;
    }
    if connecting {
        if !t.st.borrow().ready_w || !connect_done(t) {
            return;
        }
        if t.core.is_closing() {
            return;
        }
    }
    read(t);
    if t.core.is_closing() {
        return;
    }
    let want_write = {
        let st = t.st.borrow();
        st.ready_w && !st.write_reqs.is_empty()
    };
    if want_write {
        flush(t);
    }
    write_callbacks(t);
    if !t.core.is_closing() {
        drain(t);
    }
}

/// The pending phase for a stream (libuv's `uv__io_feed` → `uv__stream_io(POLLOUT)`).
pub(crate) fn run_pending(t: Rc<TcpInner>) {
    t.st.borrow_mut().in_pending = false;
    if t.core.is_closing() {
        return;
    }
    if t.st.borrow().connect_cb.is_some() {
        if t.st.borrow().delayed_error.is_some() {
            connect_done(&t);
        }
        return;
    }
    let want_write = {
        let st = t.st.borrow();
        st.ready_w && !st.write_reqs.is_empty()
    };
    if want_write {
        flush(&t);
    }
    write_callbacks(&t);
    if !t.core.is_closing() {
        drain(&t);
    }
}

fn cancel_writes(t: &Rc<TcpInner>, e: Error) {
    let mut st = t.st.borrow_mut();
    st.write_bufs.clear();
    st.write_queue_size = 0;
    while let Some(req) = st.write_reqs.pop_front() {
        st.completed.push_back((req.cb, Err(e)));
    }
}

/// `uv__stream_destroy` (closing phase): `ECANCELED` for the connect, the queued
/// writes, then the shutdown.
pub(crate) fn cancel_requests(tcp: &Tcp) {
    let t = &tcp.0;
    let lp = t.core.lp.clone();
    let connect_cb: Option<Box<ReqCb>> = t.st.borrow_mut().connect_cb.take();
    if let Some(cb) = connect_cb {
        lp.req_unregister();
        cb(tcp, Err(Error::ECANCELED));
        lp.run_next_ticks();
    }
    cancel_writes(t, Error::ECANCELED);
    write_callbacks(t);
    drain(t);
    debug_assert_eq!(t.st.borrow().write_queue_size, 0);
}

/// The `uv_stream_t` calls of a handle type that wraps a stream [`Tcp`] (a
/// [`Pipe`](crate::Pipe), a [`Tty`](crate::Tty)), written once: each is the `Tcp`'s,
/// with the callbacks handed the wrapping handle. The type provides `stream(&self) ->
/// &Tcp` and `rewrap(&self) -> impl Fn(&Tcp) -> Self + 'static`.
macro_rules! stream_handle_methods {
    ($ty:ident) => {
        /// `uv_read_start`: as [`Tcp::read_start`]($crate::Tcp::read_start).
        pub fn read_start(&self, mut cb: impl FnMut(&$ty, $crate::ReadEvent) + 'static) -> $crate::Result<()> {
            let wrap = self.rewrap();
            self.stream().read_start(move |t, ev| cb(&wrap(t), ev))
        }

        /// `uv_read_stop`.
        pub fn read_stop(&self) {
            self.stream().read_stop()
        }

        /// True while reading.
        pub fn is_reading(&self) -> bool {
            self.stream().is_reading()
        }

        /// `uv_is_readable`.
        pub fn is_readable(&self) -> bool {
            self.stream().is_readable()
        }

        /// `uv_is_writable`.
        pub fn is_writable(&self) -> bool {
            self.stream().is_writable()
        }

        /// `uv_stream_set_blocking`: as [`Tcp::set_blocking`]($crate::Tcp::set_blocking).
        pub fn set_blocking(&self, blocking: bool) -> $crate::Result<()> {
            self.stream().set_blocking(blocking)
        }

        /// `uv_write`: as [`Tcp::write`]($crate::Tcp::write).
        pub fn write<I>(
            &self,
            bufs: I,
            cb: impl FnOnce(&$ty, $crate::Result<()>) + 'static,
        ) -> $crate::Result<$crate::WriteReq>
        where
            I: IntoIterator<Item = bytes::Bytes>,
        {
            let wrap = self.rewrap();
            self.stream().write(bufs, move |t, r| cb(&wrap(t), r))
        }

        /// `uv_try_write`: as [`Tcp::try_write`]($crate::Tcp::try_write).
        pub fn try_write(&self, bufs: &[bytes::Bytes]) -> $crate::Result<usize> {
            self.stream().try_write(bufs)
        }

        /// `uv_shutdown`: as [`Tcp::shutdown`]($crate::Tcp::shutdown) (on a descriptor
        /// that is not a socket, the callback gets `ENOTSOCK`, as libuv's does).
        pub fn shutdown(&self, cb: impl FnOnce(&$ty, $crate::Result<()>) + 'static) -> $crate::Result<()> {
            let wrap = self.rewrap();
            self.stream().shutdown(move |t, r| cb(&wrap(t), r))
        }

        /// `uv_stream_get_write_queue_size`.
        pub fn write_queue_size(&self) -> usize {
            self.stream().write_queue_size()
        }

        /// `uv_fileno`: the handle's descriptor, if it has one.
        pub fn fileno(&self) -> Option<std::os::fd::RawFd> {
            self.stream().fileno()
        }

        /// Per-stream counters.
        pub fn stats(&self) -> $crate::StreamStats {
            self.stream().stats()
        }
    };
}
pub(crate) use stream_handle_methods;
