//! TCP handles (libuv's `uv_tcp_t`, `src/unix/tcp.c`): sockets, listen, accept, connect.
//!
//! A [`Tcp`] starts empty, like `uv_tcp_init`; `bind`, `listen`, `connect` or
//! [`Tcp::open`] give it a socket. Sockets are created with `socket2` (non-blocking,
//! close-on-exec, `SO_REUSEADDR` on bind, optionally `SO_REUSEPORT`) and handed to mio.
//! The byte-stream half (reading, the write queue, shutdown) is in `stream.rs`.
//!
//! A listening handle accepts until `EAGAIN` and calls the connection callback once per
//! connection; if the callback does not [`accept`](Tcp::accept), accepting pauses until
//! it does (libuv's `delayed_accept`). When the process runs out of descriptors
//! (`EMFILE`), libuv's trick sheds the load: a spare descriptor is closed, the waiting
//! connections are accepted and closed at once, and the spare is reopened.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use mio::Interest;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, Handle, HandleCore};
use crate::loop_::{IoEntry, Loop};
use crate::metrics::StreamStats;
use crate::sock::{Conn, Listener};

/// The address family of a socket made before it is bound ([`Tcp::new_ex`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `AF_INET`.
    Inet,
    /// `AF_INET6`.
    Inet6,
}

/// What a read callback receives (libuv's `nread`/`buf` pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEvent {
    /// Bytes read from the socket.
    Data(Bytes),
    /// The peer shut down its side (`UV_EOF`). Reading stops; the handle stays readable,
    /// so `read_start` again reports `Eof` again, as in libuv.
    Eof,
    /// A read failed (`ECONNRESET`, …). Reading stops; the stream is neither readable nor
    /// writable any more: close it.
    Error(Error),
}

pub(crate) type ReadCb = dyn FnMut(&Tcp, ReadEvent);
pub(crate) type ConnectionCb = dyn FnMut(&Tcp, Result<()>);
pub(crate) type ReqCb = dyn FnOnce(&Tcp, Result<()>);

/// Options for [`Tcp::bind_with`] (libuv's `UV_TCP_*` bind flags).
#[derive(Clone, Copy, Debug, Default)]
pub struct BindOptions {
    /// `SO_REUSEPORT`: several sockets may bind the same address and port, and the
    /// kernel spreads connections over them.
    pub reuse_port: bool,
    /// `IPV6_V6ONLY` for an IPv6 address.
    pub ipv6_only: bool,
}

pub(crate) enum Sock {
    Empty,
    Bound(Socket),
    Listener(Listener),
    Stream(Conn),
}

/// One queued write request.
pub(crate) struct WriteEntry {
    /// Bytes of this request not yet written.
    pub(crate) remaining: usize,
    pub(crate) cb: Box<ReqCb>,
    /// `uv_write2`'s send handle, until its descriptor has gone out with the first of
    /// the request's bytes.
    pub(crate) send: Option<Box<crate::pipe::IpcHandle>>,
}

pub(crate) struct TcpState {
    pub(crate) sock: Sock,
    pub(crate) io_key: Option<usize>,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    pub(crate) reading: bool,
    pub(crate) listening: bool,
    /// Cached readiness: mio is edge-triggered, so it is cleared only on `EAGAIN` (or a
    /// short read/write, which means the kernel buffer was drained/filled).
    pub(crate) ready_r: bool,
    pub(crate) ready_w: bool,
    /// The peer closed its side (or the socket errored): sticky, since EOF and errors
    /// stay readable forever and no further edge will announce them.
    pub(crate) hup_r: bool,
    pub(crate) hup_w: bool,
    pub(crate) in_ready: bool,
    pub(crate) in_pending: bool,
    pub(crate) connect_cb: Option<Box<ReqCb>>,
    pub(crate) delayed_error: Option<Error>,
    pub(crate) shutdown_cb: Option<Box<ReqCb>>,
    pub(crate) shut: bool,
    pub(crate) write_bufs: VecDeque<Bytes>,
    pub(crate) write_reqs: VecDeque<WriteEntry>,
    pub(crate) completed: VecDeque<(Box<ReqCb>, Result<()>)>,
    pub(crate) write_queue_size: usize,
    pub(crate) corked: bool,
    pub(crate) accepted: Option<Conn>,
    pub(crate) stats: StreamStats,
    nodelay: Option<bool>,
    /// `UV_HANDLE_TCP_KEEPALIVE`: applied (with libuv's 60 s) to a socket made later.
    keepalive: bool,
    /// A [`Pipe`](crate::Pipe): its sockets are `AF_UNIX`, and `listen` needs a bound one.
    pub(crate) pipe: bool,
    /// The path a pipe bound, unlinked when the handle closes (libuv's `pipe_fname`).
    pub(crate) pipe_fname: Option<std::path::PathBuf>,
    /// A terminal: a read returns at most one line in canonical mode, so a short read
    /// does not mean the input is drained (see `stream.rs`'s `read`).
    pub(crate) tty: bool,
    /// An IPC pipe (`uv_pipe_init(…, 1)`): reads use `recvmsg` and keep the descriptors
    /// that arrive (`accepted_fd` and `queued_fds` in libuv).
    pub(crate) ipc: Option<Box<crate::pipe::IpcState>>,
}

pub(crate) struct TcpInner {
    pub(crate) core: HandleCore,
    pub(crate) st: RefCell<TcpState>,
    pub(crate) read_cb: CallbackSlot<ReadCb>,
    pub(crate) connection_cb: CallbackSlot<ConnectionCb>,
}

/// A TCP handle (`uv_tcp_t`): a listener or a byte stream.
///
/// ```
/// use millrace_reactor::{Handle, Loop, ReadEvent, RunMode, Tcp};
/// use bytes::Bytes;
///
/// let lp = Loop::new()?;
/// let server = Tcp::new(&lp);
/// server.bind("127.0.0.1:0".parse().unwrap())?;
/// server.listen(128, |server, _| {
///     let conn = server.accept().unwrap();
///     conn.read_start(|conn, ev| match ev {
///         ReadEvent::Data(b) => { conn.write(vec![b], |_, _| {}).unwrap(); }
///         _ => conn.close(|_| {}),
///     }).unwrap();
/// })?;
/// let addr = server.local_addr()?;
/// let client = Tcp::new(&lp);
/// let srv = server.clone();
/// client.connect(addr, move |c, r| {
///     r.unwrap();
///     c.write(vec![Bytes::from_static(b"ping")], |_, r| r.unwrap()).unwrap();
///     let srv = srv.clone();
///     c.read_start(move |c, ev| {
///         assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"ping")));
///         c.close(|_| {});
///         srv.close(|_| {});
///     }).unwrap();
/// })?;
/// lp.run(RunMode::Default);
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone)]
pub struct Tcp(pub(crate) Rc<TcpInner>);

impl Tcp {
    /// `uv_tcp_init`: a handle without a socket yet.
    pub fn new(lp: &Loop) -> Tcp {
        Tcp(Rc::new(TcpInner {
            core: HandleCore::new(lp),
            st: RefCell::new(TcpState {
                sock: Sock::Empty,
                io_key: None,
                readable: false,
                writable: false,
                reading: false,
                listening: false,
                ready_r: false,
                ready_w: false,
                hup_r: false,
                hup_w: false,
                in_ready: false,
                in_pending: false,
                connect_cb: None,
                delayed_error: None,
                shutdown_cb: None,
                shut: false,
                write_bufs: VecDeque::new(),
                write_reqs: VecDeque::new(),
                completed: VecDeque::new(),
                write_queue_size: 0,
                corked: false,
                accepted: None,
                stats: StreamStats::default(),
                nodelay: None,
                keepalive: false,
                pipe: false,
                pipe_fname: None,
                tty: false,
                ipc: None,
            }),
            read_cb: CallbackSlot::empty(),
            connection_cb: CallbackSlot::empty(),
        }))
    }

    /// `uv_tcp_init_ex`: a handle whose socket of `family` is made now, so that options
    /// can be set on it (or [`local_addr`](Tcp::local_addr) read) before `bind`,
    /// `listen` or `connect`, which then use it.
    pub fn new_ex(lp: &Loop, family: Family) -> Result<Tcp> {
        let tcp = Tcp::new(lp);
        let addr: SocketAddr = match family {
            Family::Inet => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
            Family::Inet6 => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let sock = tcp.new_socket(&addr)?;
        tcp.0.st.borrow_mut().sock = Sock::Bound(sock);
        Ok(tcp)
    }

    /// `uv_tcp_open` as a constructor: adopts a connected `std` stream (made
    /// non-blocking here).
    pub fn open(lp: &Loop, stream: std::net::TcpStream) -> Result<Tcp> {
        let tcp = Tcp::new(lp);
        tcp.open_fd(stream.into())?;
        Ok(tcp)
    }

    /// `uv_tcp_open`: gives this handle an existing TCP socket (made non-blocking here):
    /// connected, bound, listening or new. A connected one is a stream at once; any other
    /// is kept for `bind`, `listen` (which calls `listen(2)` again, as libuv does) or
    /// `connect`. `EBUSY` if the handle has a socket already. (libuv's `EEXIST`, for a
    /// descriptor another handle of the loop watches, cannot happen: the handle owns `fd`.)
    pub fn open_fd(&self, fd: OwnedFd) -> Result<()> {
        self.check_tcp()?;
        self.adopt(fd)
    }

    /// `uv_tcp_open` and `uv_pipe_open`: the handle takes `fd`, a stream at once if it
    /// is connected, else kept as it is. A pipe takes `AF_UNIX` sockets (`EINVAL` for
    /// another family) and descriptors that are not sockets.
    pub(crate) fn adopt(&self, fd: OwnedFd) -> Result<()> {
        self.check_open()?;
        if !matches!(self.0.st.borrow().sock, Sock::Empty) {
            return Err(Error::EBUSY);
        }
        let pipe = self.0.st.borrow().pipe;
        if pipe && crate::sys::file_type(fd.as_fd())? != libc::S_IFSOCK {
            return self.adopt_fd(fd, true);
        }
        let sock = Socket::from(fd);
        if pipe && sock.domain()? != Domain::UNIX {
            return Err(Error::EINVAL);
        }
        sock.set_nonblocking(true)?;
        if sock.peer_addr().is_ok() {
            return self.attach_stream(match pipe {
                true => Conn::Unix(mio::net::UnixStream::from_std(sock.into())),
                false => Conn::Tcp(mio::net::TcpStream::from_std(sock.into())),
            });
        }
        self.apply_options(&SockRef::from(&sock))?;
        self.0.st.borrow_mut().sock = Sock::Bound(sock);
        Ok(())
    }

    /// `uv_pipe_open` on a pipe, FIFO or terminal, and `uv_tty_init`: a stream at once,
    /// readable and writable as the descriptor's access mode allows (`O_RDONLY`,
    /// `O_WRONLY`, `O_RDWR`), made non-blocking if `nonblock` (a terminal that could not
    /// be reopened keeps its flags). What epoll cannot watch (a regular file, a
    /// directory) fails here with its `EPERM`, where libuv would abort later.
    pub(crate) fn adopt_fd(&self, fd: OwnedFd, nonblock: bool) -> Result<()> {
        let (readable, writable) = crate::sys::access_mode(fd.as_fd())?;
        if nonblock {
            crate::sys::set_nonblocking(fd.as_fd(), true)?;
        }
        self.attach_stream(Conn::Fd(std::fs::File::from(fd)))?;
        let mut st = self.0.st.borrow_mut();
        st.readable = readable;
        st.writable = writable;
        Ok(())
    }

    /// Which directions the stream allows (libuv's `UV_HANDLE_READABLE`/`WRITABLE`),
    /// for a descriptor whose use is known better than its mode says: a spawned child's
    /// socket pair.
    pub(crate) fn set_access(&self, readable: bool, writable: bool) {
        let mut st = self.0.st.borrow_mut();
        st.readable = readable;
        st.writable = writable;
    }

    pub(crate) fn lp(&self) -> &Loop {
        &self.0.core.lp
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.0.core.is_closing() {
            return Err(Error::EINVAL);
        }
        Ok(())
    }

    /// `ENOTSUP` for the stream side of a [`Pipe`](crate::Pipe): the calls that make or
    /// name TCP sockets are not for it.
    fn check_tcp(&self) -> Result<()> {
        if self.0.st.borrow().pipe {
            return Err(Error::ENOTSUP);
        }
        Ok(())
    }

    fn new_socket(&self, addr: &SocketAddr) -> Result<Socket> {
        let sock = Socket::new(Domain::for_address(*addr), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
        self.apply_options(&SockRef::from(&sock))?;
        Ok(sock)
    }

    fn apply_options(&self, s: &SockRef<'_>) -> Result<()> {
        let st = self.0.st.borrow();
        if let Some(on) = st.nodelay {
            s.set_tcp_nodelay(on)?;
        }
        if st.keepalive {
            // libuv's `uv__stream_open`: "TODO Use delay the user passed in."
            tcp_keepalive(s, true, Duration::from_secs(60))?;
        }
        Ok(())
    }

    /// `uv_tcp_bind` with `SO_REUSEADDR`.
    pub fn bind(&self, addr: SocketAddr) -> Result<()> {
        self.bind_with(addr, BindOptions::default())
    }

    /// `uv_tcp_bind` with flags, as libuv does it: `EINVAL` for `ipv6_only` with an IPv4
    /// address, and for a second bind (the kernel's answer). An address in use is not an
    /// error here: `EADDRINUSE` is kept and returned by [`listen`](Tcp::listen),
    /// [`local_addr`](Tcp::local_addr) and [`peer_addr`](Tcp::peer_addr), or given to
    /// the [`connect`](Tcp::connect) callback (libuv's `delayed_error`).
    pub fn bind_with(&self, addr: SocketAddr, opts: BindOptions) -> Result<()> {
        self.check_open()?;
        self.check_tcp()?;
        if opts.ipv6_only && !addr.is_ipv6() {
            return Err(Error::EINVAL);
        }
        let mut st = self.0.st.borrow_mut();
        let created = match &st.sock {
            Sock::Empty => {
                drop(st);
                let sock = self.new_socket(&addr)?;
                st = self.0.st.borrow_mut();
                Some(sock)
            }
            Sock::Bound(_) => None,
            // Already listening or connected: the kernel would refuse a bind.
            Sock::Listener(_) | Sock::Stream(_) => return Err(Error::EINVAL),
        };
        let sock = match (&created, &st.sock) {
            (Some(s), _) | (None, Sock::Bound(s)) => s,
            _ => unreachable!("matched above"),
        };
        sock.set_reuse_address(true)?;
        if opts.reuse_port {
            sock.set_reuse_port(true)?;
        }
        if addr.is_ipv6() {
            sock.set_only_v6(opts.ipv6_only)?;
        }
        let delayed = match sock.bind(&addr.into()) {
            Ok(()) => None,
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Some(Error::EADDRINUSE),
            // An IPv4 address for an IPv6 socket (made by `new_ex`), or the reverse.
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => return Err(Error::EINVAL),
            Err(e) => return Err(e.into()),
        };
        if let Some(sock) = created {
            st.sock = Sock::Bound(sock);
        }
        st.delayed_error = delayed;
        Ok(())
    }

    /// `uv_listen`: starts accepting; `cb(server, status)` runs once per connection,
    /// and should call [`accept`](Tcp::accept). An unbound handle listens on an
    /// ephemeral port of every interface, as `listen(2)` does.
    pub fn listen(&self, backlog: i32, cb: impl FnMut(&Tcp, Result<()>) + 'static) -> Result<()> {
        self.check_open()?;
        let mut st = self.0.st.borrow_mut();
        if let Some(e) = st.delayed_error {
            return Err(e);
        }
        if st.listening {
            drop(st);
            self.0.connection_cb.set(Box::new(cb));
            return Ok(());
        }
        let sock = match std::mem::replace(&mut st.sock, Sock::Empty) {
            Sock::Bound(s) => s,
            // A pipe has nothing to listen on before `bind` (libuv's `uv__pipe_listen`).
            Sock::Empty if st.pipe => return Err(Error::EINVAL),
            Sock::Empty => {
                drop(st);
                let s = self.new_socket(&"0.0.0.0:0".parse().expect("literal address"))?;
                st = self.0.st.borrow_mut();
                s
            }
            other => {
                st.sock = other;
                return Err(Error::EINVAL);
            }
        };
        if let Err(e) = sock.listen(backlog) {
            st.sock = Sock::Bound(sock);
            return Err(e.into());
        }
        let mut listener = match st.pipe {
            true => Listener::Unix(mio::net::UnixListener::from_std(sock.into())),
            false => Listener::Tcp(mio::net::TcpListener::from_std(sock.into())),
        };
        drop(st);
        let (key, _) = self.lp().io_register(&mut listener, IoEntry::Tcp(self.0.clone()), Interest::READABLE)?;
        let mut st = self.0.st.borrow_mut();
        st.sock = Sock::Listener(listener);
        st.io_key = Some(key);
        st.listening = true;
        drop(st);
        ensure_emfile_spare();
        self.0.connection_cb.set(Box::new(cb));
        self.0.core.start();
        Ok(())
    }

    /// `uv_accept`: the connection announced by the connection callback, as a new
    /// handle on the same loop. `EAGAIN` if there is none.
    pub fn accept(&self) -> Result<Tcp> {
        let stream = {
            let mut st = self.0.st.borrow_mut();
            st.accepted.take().ok_or(Error::EAGAIN)?
        };
        let client = Tcp::new(self.lp());
        client.0.st.borrow_mut().pipe = matches!(stream, Conn::Unix(_));
        let attached = client.attach_stream(stream);
        // More connections may be waiting: resume accepting.
        crate::stream::queue_ready(&self.0);
        attached.map(|_| client)
    }

    /// Gives the handle a connected (or connecting) stream and registers it.
    pub(crate) fn attach_stream(&self, mut stream: Conn) -> Result<()> {
        self.apply_options(&SockRef::from(&stream))?;
        let (key, _) = self.lp().io_register(
            &mut stream,
            IoEntry::Tcp(self.0.clone()),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let mut st = self.0.st.borrow_mut();
        st.sock = Sock::Stream(stream);
        st.io_key = Some(key);
        st.readable = true;
        st.writable = true;
        // A new socket's send buffer is empty: writable until the kernel says EAGAIN.
        st.ready_w = true;
        Ok(())
    }

    /// `uv_tcp_connect`: `cb(handle, status)` runs when the connection is made or fails
    /// (always later, never on this stack). Writes issued meanwhile wait for it.
    pub fn connect(&self, addr: SocketAddr, cb: impl FnOnce(&Tcp, Result<()>) + 'static) -> Result<()> {
        self.check_open()?;
        self.check_tcp()?;
        self.check_connectable()?;
        let kept = self.0.st.borrow().delayed_error;
        if kept.is_some() {
            // The bind failed (`EADDRINUSE`): the callback gets it, in the pending phase.
            self.connect_pending(Box::new(cb), kept);
            return Ok(());
        }
        let prior = std::mem::replace(&mut self.0.st.borrow_mut().sock, Sock::Empty);
        let sock = match prior {
            Sock::Bound(s) => s,
            _ => self.new_socket(&addr)?,
        };
        // libuv reports a refused connection in the callback, any other failure at once.
        let delayed = match sock.connect(&addr.into()) {
            Ok(()) => None,
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => None,
            Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => Some(Error::ECONNREFUSED),
            Err(e) => {
                let e = match e.raw_os_error() {
                    Some(libc::EAFNOSUPPORT) => Error::EINVAL,
                    _ => Error::from(e),
                };
                self.0.st.borrow_mut().sock = Sock::Bound(sock);
                return Err(e);
            }
        };
        let stream = Conn::Tcp(mio::net::TcpStream::from_std(sock.into()));
        self.attach_stream(stream)?;
        self.connect_pending(Box::new(cb), delayed);
        Ok(())
    }

    /// What a connect may not start on: `EALREADY` while connecting, `EISCONN` when
    /// connected, `EINVAL` for a listener.
    pub(crate) fn check_connectable(&self) -> Result<()> {
        let st = self.0.st.borrow();
        if st.connect_cb.is_some() {
            return Err(Error::EALREADY);
        }
        match st.sock {
            Sock::Stream(_) => Err(Error::EISCONN),
            Sock::Listener(_) => Err(Error::EINVAL),
            Sock::Empty | Sock::Bound(_) => Ok(()),
        }
    }

    /// A connect under way: `cb` waits for the socket's writable edge or, with a
    /// `delayed` error, for the next pending phase, which hands it that error.
    pub(crate) fn connect_pending(&self, cb: Box<ReqCb>, delayed: Option<Error>) {
        let mut st = self.0.st.borrow_mut();
        st.connect_cb = Some(cb);
        st.delayed_error = delayed;
        drop(st);
        self.lp().req_register();
        if delayed.is_some() {
            crate::stream::queue_pending(&self.0);
        }
    }

    /// `uv_tcp_nodelay`: `TCP_NODELAY` (applied when the socket exists).
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        self.check_tcp()?;
        self.0.st.borrow_mut().nodelay = Some(on);
        self.with_sock(|s| s.set_tcp_nodelay(on).map_err(Error::from)).unwrap_or(Ok(()))
    }

    /// `uv_tcp_keepalive` (libuv 1.46, Node 20's): `SO_KEEPALIVE`; when on, the idle
    /// time before the first probe (`delay`, in whole seconds, as libuv's `unsigned int`),
    /// then probes every second, ten of them. A delay under a second is the kernel's
    /// `EINVAL`, returned after `SO_KEEPALIVE` is already on (the system's idle time, 2 h
    /// by default, stays): Node's `setKeepAlive(true)` ignores that error. On a handle
    /// without a socket yet, the flag is kept and the socket made later gets a 60 s
    /// delay, as libuv's.
    pub fn set_keepalive(&self, on: bool, delay: Duration) -> Result<()> {
        self.check_tcp()?;
        if let Some(r) = self.with_sock(|s| tcp_keepalive(s, on, delay)) {
            r?;
        }
        self.0.st.borrow_mut().keepalive = on;
        Ok(())
    }

    pub(crate) fn with_sock<R>(&self, f: impl FnOnce(&SockRef<'_>) -> R) -> Option<R> {
        let st = self.0.st.borrow();
        match &st.sock {
            Sock::Empty => None,
            Sock::Bound(s) => Some(f(&SockRef::from(s))),
            Sock::Listener(l) => Some(f(&SockRef::from(l))),
            Sock::Stream(s) => Some(f(&SockRef::from(s))),
        }
    }

    /// `uv_tcp_getsockname`; a failed bind's `EADDRINUSE`.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.check_tcp()?;
        if let Some(e) = self.0.st.borrow().delayed_error {
            return Err(e);
        }
        self.with_sock(|s| s.local_addr()).ok_or(Error::EBADF)??.as_socket().ok_or(Error::EINVAL)
    }

    /// `uv_tcp_getpeername`; a failed bind's `EADDRINUSE`.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        self.check_tcp()?;
        if let Some(e) = self.0.st.borrow().delayed_error {
            return Err(e);
        }
        if !matches!(self.0.st.borrow().sock, Sock::Stream(_)) {
            return Err(Error::ENOTCONN);
        }
        self.with_sock(|s| s.peer_addr()).ok_or(Error::EBADF)??.as_socket().ok_or(Error::EINVAL)
    }

    /// `uv_fileno`: the socket's descriptor, if it has one.
    pub fn fileno(&self) -> Option<RawFd> {
        self.with_sock(|s| s.as_raw_fd())
    }

    /// `uv_recv_buffer_size`: `None` reads `SO_RCVBUF`; `Some(n)` sets it (Linux then
    /// reports double). `EBADF` before the handle has a socket.
    pub fn recv_buffer_size(&self, size: Option<usize>) -> Result<usize> {
        let r = match size {
            None => self.with_sock(|s| s.recv_buffer_size()),
            Some(n) => self.with_sock(|s| s.set_recv_buffer_size(n).map(|()| n)),
        };
        Ok(r.ok_or(Error::EBADF)??)
    }

    /// `uv_send_buffer_size`: as [`recv_buffer_size`](Tcp::recv_buffer_size), for
    /// `SO_SNDBUF`.
    pub fn send_buffer_size(&self, size: Option<usize>) -> Result<usize> {
        let r = match size {
            None => self.with_sock(|s| s.send_buffer_size()),
            Some(n) => self.with_sock(|s| s.set_send_buffer_size(n).map(|()| n)),
        };
        Ok(r.ok_or(Error::EBADF)??)
    }

    /// `uv_tcp_close_reset`: closes with `SO_LINGER` 0, so the peer gets a RST instead
    /// of a FIN. `EINVAL` while a shutdown is pending (as libuv).
    pub fn close_reset(&self, cb: impl FnOnce(&Tcp) + 'static) -> Result<()> {
        if self.0.st.borrow().shutdown_cb.is_some() {
            return Err(Error::EINVAL);
        }
        if let Some(r) = self.with_sock(|s| s.set_linger(Some(Duration::ZERO))) {
            r?;
        }
        self.close(cb);
        Ok(())
    }

    /// Per-stream counters.
    pub fn stats(&self) -> StreamStats {
        self.0.st.borrow().stats
    }
}

/// `uv__tcp_keepalive`: the same system calls in the same order (socket2's
/// `set_tcp_keepalive` stops at the first that fails, as libuv does).
fn tcp_keepalive(s: &SockRef<'_>, on: bool, delay: Duration) -> Result<()> {
    if !on {
        s.set_keepalive(false)?;
        return Ok(());
    }
    let probes = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(delay.as_secs()))
        .with_interval(Duration::from_secs(1))
        .with_retries(10);
    s.set_tcp_keepalive(&probes)?;
    Ok(())
}

thread_local! {
    static EMFILE_SPARE: RefCell<Option<std::fs::File>> = const { RefCell::new(None) };
}

fn ensure_emfile_spare() {
    EMFILE_SPARE.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = std::fs::File::open("/").ok();
        }
    });
}

/// libuv's `uv__emfile_trick`: returns true if it could shed the waiting connections.
pub(crate) fn emfile_trick(listener: &Listener) -> bool {
    let spare = EMFILE_SPARE.with(|s| s.borrow_mut().take());
    let Some(spare) = spare else { return false };
    drop(spare);
    loop {
        match listener.accept() {
            Ok(stream) => drop(stream),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    ensure_emfile_spare();
    true
}

impl HandleImpl for Tcp {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    /// `uv__stream_close`: stop reading and accepting, deregister, close the socket.
    fn close_now(&self) {
        let mut st = self.0.st.borrow_mut();
        st.reading = false;
        st.listening = false;
        st.readable = false;
        st.writable = false;
        st.accepted = None;
        if let Some(ipc) = st.ipc.as_mut() {
            ipc.pending.clear(); // libuv closes `accepted_fd` and `queued_fds`
        }
        let key = st.io_key.take();
        let sock = std::mem::replace(&mut st.sock, Sock::Empty);
        let fname = st.pipe_fname.take();
        drop(st);
        if let Some(path) = fname {
            // Before the descriptor closes, as libuv does: unlinking after would race a
            // socket of the same name made meanwhile by someone else.
            let _ = std::fs::remove_file(path);
        }
        let lp = self.lp();
        match sock {
            Sock::Stream(mut s) => {
                if let Some(k) = key {
                    lp.io_deregister(k, &mut s);
                }
            }
            Sock::Listener(mut l) => {
                if let Some(k) = key {
                    lp.io_deregister(k, &mut l);
                }
            }
            Sock::Bound(_) | Sock::Empty => {}
        }
        self.0.read_cb.clear();
    }

    /// `uv__stream_destroy`: cancel the connect, the queued writes, the shutdown.
    fn finish_close(&self) {
        crate::stream::cancel_requests(self);
    }

    fn drop_callbacks(&self) {
        self.0.read_cb.clear();
        self.0.connection_cb.clear();
    }
}

/// Handles compare by identity, like JavaScript object references.
impl PartialEq for Tcp {
    fn eq(&self, other: &Tcp) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Tcp {}

impl fmt::Debug for Tcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.0.st.borrow();
        let kind = match st.sock {
            Sock::Empty => "empty",
            Sock::Bound(_) => "bound",
            Sock::Listener(_) => "listener",
            Sock::Stream(_) => "stream",
        };
        f.debug_struct("Tcp")
            .field("socket", &kind)
            .field("fd", &self.fileno())
            .field("reading", &st.reading)
            .field("readable", &st.readable)
            .field("writable", &st.writable)
            .field("connecting", &st.connect_cb.is_some())
            .field("write_queue_size", &st.write_queue_size)
            .field("closing", &self.0.core.is_closing())
            .finish()
    }
}
