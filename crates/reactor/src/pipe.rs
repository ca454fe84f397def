//! Unix domain socket handles (libuv's `uv_pipe_t` without IPC, `src/unix/pipe.c`).
//!
//! A [`Pipe`] is the same stream machine as a [`Tcp`] (reading, the write queue,
//! shutdown: `stream.rs`) over an `AF_UNIX` socket, and its own way in: a path to
//! [`bind`](Pipe::bind) and [`connect`](Pipe::connect) to, names read back as paths. Where
//! libuv treats pipes differently from TCP, so does this:
//!
//! - `bind` fails at once (`EADDRINUSE` for a path that exists, `EACCES` for a directory
//!   that does not: libuv turns `ENOENT` into `EACCES`), and a closed handle unlinks the
//!   path it bound.
//! - `listen` needs a bound pipe (`EINVAL` otherwise): there is no ephemeral name.
//! - Every `connect` failure (`ENOENT`, `ECONNREFUSED`, `ENOTSOCK`, `EAGAIN` for a full
//!   backlog) goes to the callback, in the next pending phase.
//! - A name longer than `sun_path` is cut to fit, unless [`PipeFlags::no_truncate`] asks
//!   for `EINVAL`. A path keeps at most 107 bytes, so that its terminating NUL fits
//!   (libuv 1.46 fills all 108 without one; Node documents `sizeof(sun_path) - 1`). A
//!   name that starts with a NUL byte is in Linux's abstract namespace: up to 108 bytes,
//!   given to the kernel at its own length (libuv 1.46 pads it with NULs to 108), and
//!   nothing to unlink.
//!
//! [`open_fd`](Pipe::open_fd) also takes descriptors that are not sockets (anonymous
//! pipes from [`pipe`], FIFOs, terminals), as `uv_pipe_open` does: the same stream over
//! `read(2)` and `writev(2)`.
//!
//! An IPC pipe ([`Pipe::new_ipc`], `uv_pipe_init(…, 1)`) also carries handles: a
//! [`write2`](Pipe::write2) attaches a TCP, pipe or UDP handle's descriptor to its bytes
//! (`sendmsg` with `SCM_RIGHTS`); reads use `recvmsg` and keep what arrives until
//! [`accept_pending`](Pipe::accept_pending) makes a handle of it. Node's `child_process`
//! channel and `cluster` are built on this.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fmt;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, SockRef, Socket, Type};

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, Handle, HandleCore, HandleType};
use crate::loop_::Loop;
use crate::sock::Conn;
use crate::tcp::{Sock, Tcp};
use crate::udp::Udp;

/// `sizeof(sockaddr_un.sun_path)` on Linux.
const SUN_PATH: usize = 108;

/// Flags for [`Pipe::bind_with`] and [`Pipe::connect_with`] (libuv's `uv_pipe_bind2`
/// and `uv_pipe_connect2`).
#[derive(Clone, Copy, Debug, Default)]
pub struct PipeFlags {
    /// `UV_PIPE_NO_TRUNCATE`: a name too long for `sun_path` is `EINVAL` instead of cut.
    pub no_truncate: bool,
}

/// A Unix domain socket handle (`uv_pipe_t`): a listener or a byte stream, and with
/// [`new_ipc`](Pipe::new_ipc) a channel for handles.
///
/// ```
/// use millrace_reactor::{Handle, Loop, Pipe, ReadEvent, RunMode};
/// use bytes::Bytes;
///
/// let lp = Loop::new()?;
/// let path = std::env::temp_dir().join(format!("millrace-doc-{}.sock", std::process::id()));
/// let server = Pipe::new(&lp);
/// server.bind(&path)?;
/// server.listen(128, |server, _| {
///     let conn = server.accept().unwrap();
///     conn.read_start(|conn, ev| match ev {
///         ReadEvent::Data(b) => { conn.write(vec![b], |_, _| {}).unwrap(); }
///         _ => conn.close(|_| {}),
///     }).unwrap();
/// })?;
/// let client = Pipe::new(&lp);
/// let srv = server.clone();
/// client.connect(&path, move |c, r| {
///     r.unwrap();
///     c.write(vec![Bytes::from_static(b"ping")], |_, r| r.unwrap()).unwrap();
///     let srv = srv.clone();
///     c.read_start(move |c, ev| {
///         assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"ping")));
///         c.close(|_| {});
///         srv.close(|_| {}); // unlinks the path
///     }).unwrap();
/// })?;
/// lp.run(RunMode::Default);
/// assert!(!path.exists());
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Pipe(Tcp);

impl Pipe {
    /// `uv_pipe_init(loop, pipe, 0)`: a handle without a socket yet.
    pub fn new(lp: &Loop) -> Pipe {
        let t = Tcp::new(lp);
        t.0.st.borrow_mut().pipe = true;
        Pipe(t)
    }

    /// `uv_pipe_open`: gives this handle an existing descriptor, made non-blocking here.
    ///
    /// - A connected Unix domain socket (say, one end of a `socketpair`) is a stream at
    ///   once; a bound or listening one is kept for `listen`. A socket of another family
    ///   is `EINVAL`.
    /// - A pipe, a FIFO or a terminal is a stream at once, readable and writable as it
    ///   was opened: the read end of a pipe is not writable (a write is `EPIPE`), the
    ///   write end not readable (`read_start` is `ENOTCONN`). Reading and writing use
    ///   `read(2)` and `writev(2)`; `shutdown` reports `ENOTSOCK` to its callback, as
    ///   libuv's does (close the handle to give the reader its EOF).
    /// - A regular file or a directory cannot be polled: `EPERM` (libuv aborts).
    ///
    /// `EBUSY` if the handle has a descriptor already.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use millrace_reactor::{Handle, Loop, Pipe, ReadEvent, RunMode};
    ///
    /// let lp = Loop::new()?;
    /// let (r, w) = millrace_reactor::pipe(false, false)?;
    /// let (reader, writer) = (Pipe::new(&lp), Pipe::new(&lp));
    /// reader.open_fd(r)?;
    /// writer.open_fd(w)?;
    /// assert!(reader.is_readable() && !reader.is_writable());
    /// writer.write([Bytes::from_static(b"through a pipe")], |w, r| {
    ///     r.unwrap();
    ///     w.close(|_| {}); // the reader's EOF
    /// })?;
    /// let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let g = got.clone();
    /// reader.read_start(move |p, ev| match ev {
    ///     ReadEvent::Data(b) => g.borrow_mut().extend_from_slice(&b),
    ///     _ => p.close(|_| {}),
    /// })?;
    /// lp.run(RunMode::Default);
    /// assert_eq!(&got.borrow()[..], b"through a pipe");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_fd(&self, fd: OwnedFd) -> Result<()> {
        self.0.adopt(fd)
    }

    /// `uv_pipe_init(loop, pipe, 1)`: an IPC pipe, which can carry handles along with
    /// its bytes ([`write2`](Pipe::write2), [`accept_pending`](Pipe::accept_pending)).
    /// Give it a connected Unix socket: [`open_fd`](Pipe::open_fd) on one end of a
    /// socket pair, a child's [`StdioContainer::CreatePipe`](crate::StdioContainer), or
    /// [`connect`](Pipe::connect).
    pub fn new_ipc(lp: &Loop) -> Pipe {
        let p = Pipe::new(lp);
        p.0 .0.st.borrow_mut().ipc = Some(Box::default());
        p
    }

    /// `pipe->ipc`.
    pub fn is_ipc(&self) -> bool {
        self.st().ipc.is_some()
    }

    /// `uv_write2`: [`write`](Pipe::write) with `send`'s descriptor attached to the
    /// first of these bytes (`SCM_RIGHTS`); the peer's IPC pipe reads the bytes with a
    /// pending handle ([`pending_count`](Pipe::pending_count)). Each request that
    /// carries a handle leaves in a `sendmsg` of its own bytes, so every descriptor
    /// arrives with its own request's data. The sender keeps its handle (close it when
    /// the callback has run, as Node does).
    ///
    /// `EBADF` if this pipe or `send` has no descriptor, `EPIPE` if this pipe is not
    /// writable, `EINVAL` if it is not an IPC pipe, or for a request of no bytes (the
    /// descriptor would travel with nothing; libuv asserts). If `send` is closing when
    /// its turn to be written comes, the request fails with `EBADF`, as in libuv.
    pub fn write2<I>(
        &self,
        bufs: I,
        send: impl Into<IpcHandle>,
        cb: impl FnOnce(&Pipe, Result<()>) + 'static,
    ) -> Result<crate::WriteReq>
    where
        I: IntoIterator<Item = bytes::Bytes>,
    {
        let send = send.into();
        {
            let st = self.st();
            if matches!(st.sock, Sock::Empty) {
                return Err(Error::EBADF);
            }
            if !st.writable {
                return Err(Error::EPIPE);
            }
            if st.ipc.is_none() {
                return Err(Error::EINVAL);
            }
        }
        if send.fileno().is_none() {
            return Err(Error::EBADF);
        }
        let bufs: Vec<bytes::Bytes> = bufs.into_iter().filter(|b| !b.is_empty()).collect();
        if bufs.is_empty() {
            return Err(Error::EINVAL);
        }
        let wrap = self.rewrap();
        self.0.write_with(bufs, Some(Box::new(send)), Box::new(move |t: &Tcp, r| cb(&wrap(t), r)))
    }

    /// `uv_pipe_pending_count`: descriptors received and not yet accepted (0 on a
    /// pipe that is not IPC).
    pub fn pending_count(&self) -> usize {
        self.st().ipc.as_ref().map_or(0, |i| i.pending.len())
    }

    /// `uv_pipe_pending_type`: what the next [`accept_pending`](Pipe::accept_pending)
    /// makes: [`HandleType::Tcp`], [`HandleType::NamedPipe`] (a Unix stream socket),
    /// [`HandleType::Udp`], or [`HandleType::Unknown`] when nothing is pending (or the
    /// descriptor is none of those).
    pub fn pending_type(&self) -> HandleType {
        let st = self.st();
        let Some(fd) = st.ipc.as_ref().and_then(|i| i.pending.front()) else { return HandleType::Unknown };
        match crate::handle::guess_handle(fd.as_fd()) {
            t @ (HandleType::Tcp | HandleType::NamedPipe | HandleType::Udp) => t,
            _ => HandleType::Unknown,
        }
    }

    /// `uv_accept` on an IPC pipe: the next received descriptor as a new handle of its
    /// kind on this loop (see [`pending_type`](Pipe::pending_type)), opened as
    /// `uv_tcp_open`, `uv_pipe_open` or `uv_udp_open` would: a connected socket is a
    /// stream at once, a bound or listening one is ready for `listen`. `EAGAIN` if none
    /// is pending; `EINVAL` (the descriptor closed) for one of another kind.
    pub fn accept_pending(&self) -> Result<IpcHandle> {
        let kind = self.pending_type();
        let fd = {
            let mut st = self.0 .0.st.borrow_mut();
            st.ipc.as_mut().and_then(|i| i.pending.pop_front()).ok_or(Error::EAGAIN)?
        };
        let lp = self.0.lp();
        match kind {
            HandleType::Tcp => {
                let t = Tcp::new(lp);
                t.open_fd(fd)?;
                Ok(IpcHandle::Tcp(t))
            }
            HandleType::NamedPipe => {
                let p = Pipe::new(lp);
                p.open_fd(fd)?;
                Ok(IpcHandle::Pipe(p))
            }
            HandleType::Udp => {
                let u = Udp::new(lp);
                u.open_fd(fd)?;
                Ok(IpcHandle::Udp(u))
            }
            _ => Err(Error::EINVAL),
        }
    }

    /// The handle's `uv_stream_t` side. The reactor's stream calls live on [`Tcp`],
    /// which serves both kinds of socket; its TCP-only calls (`bind`, `connect`,
    /// `open_fd`, `set_nodelay`, `set_keepalive`, the addresses) are `ENOTSUP` on a
    /// pipe. This is how a layer over byte streams (the streams crate's `net::Socket`)
    /// takes a pipe.
    pub fn stream(&self) -> &Tcp {
        &self.0
    }

    /// `uv_pipe_bind`: binds the socket to `name` (a path, or an abstract name that
    /// starts with a NUL byte), cut to fit `sun_path`. Fails at once: `EADDRINUSE` if
    /// the path exists (a stale socket file too: remove it first), `EACCES` if a
    /// directory on the way does not exist or is not writable, `EINVAL` for an empty
    /// name, a handle that has a socket already, or one that is closing.
    pub fn bind(&self, name: impl AsRef<Path>) -> Result<()> {
        self.bind_with(name, PipeFlags::default())
    }

    /// `uv_pipe_bind2`.
    pub fn bind_with(&self, name: impl AsRef<Path>, flags: PipeFlags) -> Result<()> {
        let (addr, fname) = sockaddr(name.as_ref().as_os_str(), flags)?;
        if !matches!(self.st().sock, Sock::Empty) {
            return Err(Error::EINVAL);
        }
        self.0.check_open()?;
        let sock = new_socket()?;
        match sock.bind(&addr) {
            Ok(()) => {}
            // "Convert ENOENT to EACCES for compatibility with Windows."
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Err(Error::EACCES),
            Err(e) => return Err(e.into()),
        }
        let mut st = self.0 .0.st.borrow_mut();
        st.sock = Sock::Bound(sock);
        st.pipe_fname = fname;
        Ok(())
    }

    /// `uv_listen`: starts accepting; `cb(server, status)` runs once per connection,
    /// and should call [`accept`](Pipe::accept). `EINVAL` unless bound.
    pub fn listen(&self, backlog: i32, mut cb: impl FnMut(&Pipe, Result<()>) + 'static) -> Result<()> {
        self.0.listen(backlog, move |t, status| cb(&Pipe(t.clone()), status))
    }

    /// `uv_accept`: the connection announced by the connection callback, as a new
    /// handle on the same loop. `EAGAIN` if there is none.
    pub fn accept(&self) -> Result<Pipe> {
        self.0.accept().map(Pipe)
    }

    /// `uv_accept` into a pipe made with `uv_pipe_init(…, 1)`: the connection as a new
    /// IPC pipe, which can carry handles ([`write2`](Pipe::write2),
    /// [`accept_pending`](Pipe::accept_pending)).
    pub fn accept_ipc(&self) -> Result<Pipe> {
        let p = self.accept()?;
        p.0 .0.st.borrow_mut().ipc = Some(Box::default());
        Ok(p)
    }

    /// `uv_pipe_connect`: `cb(handle, status)` runs when the connection is made or
    /// fails, always later. Every failure of `connect(2)` reaches `cb` (`ENOENT` for no
    /// such path, `ECONNREFUSED` for a socket nobody listens on, `ENOTSOCK` for a file
    /// that is not one). Returned at once only: `EINVAL` for an empty (or, with
    /// `no_truncate`, too long) name or a listening handle, `EALREADY` while connecting,
    /// `EISCONN` when connected.
    pub fn connect(&self, name: impl AsRef<Path>, cb: impl FnOnce(&Pipe, Result<()>) + 'static) -> Result<()> {
        self.connect_with(name, PipeFlags::default(), cb)
    }

    /// `uv_pipe_connect2`.
    pub fn connect_with(
        &self,
        name: impl AsRef<Path>,
        flags: PipeFlags,
        cb: impl FnOnce(&Pipe, Result<()>) + 'static,
    ) -> Result<()> {
        let (addr, _) = sockaddr(name.as_ref().as_os_str(), flags)?;
        self.0.check_open()?;
        self.0.check_connectable()?;
        let prior = std::mem::replace(&mut self.0 .0.st.borrow_mut().sock, Sock::Empty);
        let sock = match prior {
            Sock::Bound(s) => s,
            _ => new_socket()?,
        };
        let delayed = match sock.connect(&addr) {
            Ok(()) => None,
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => None,
            Err(e) => Some(Error::from(e)),
        };
        match delayed {
            None => self.0.attach_stream(Conn::Unix(mio::net::UnixStream::from_std(sock.into())))?,
            // libuv keeps the descriptor and feeds the watcher, so the callback comes
            // from the loop with the error.
            Some(_) => self.0 .0.st.borrow_mut().sock = Sock::Bound(sock),
        }
        self.0.connect_pending(Box::new(move |t: &Tcp, r| cb(&Pipe(t.clone()), r)), delayed);
        Ok(())
    }

    /// `uv_pipe_getsockname`: the name this end is bound to; empty for an unnamed socket
    /// (a connecting client's). An abstract name keeps its leading NUL byte. `EBADF`
    /// without a socket.
    pub fn local_name(&self) -> Result<PathBuf> {
        self.name_of(|s| s.local_addr())
    }

    /// `uv_pipe_getpeername`: the name the peer is bound to (a client sees the server's
    /// path; the server side of a connection sees an empty name). `EBADF` without a
    /// socket, the kernel's `ENOTCONN` for one that is not connected.
    pub fn peer_name(&self) -> Result<PathBuf> {
        self.name_of(|s| s.peer_addr())
    }

    fn name_of(&self, f: impl FnOnce(&SockRef<'_>) -> std::io::Result<SockAddr>) -> Result<PathBuf> {
        let addr = self.0.with_sock(f).ok_or(Error::EBADF)??;
        if let Some(p) = addr.as_pathname() {
            return Ok(p.to_path_buf());
        }
        if let Some(name) = addr.as_abstract_namespace() {
            let mut bytes = Vec::with_capacity(name.len() + 1);
            bytes.push(0);
            bytes.extend_from_slice(name);
            return Ok(PathBuf::from(OsStr::from_bytes(&bytes)));
        }
        Ok(PathBuf::new())
    }

    /// `uv_pipe_chmod`: makes the bound path readable and/or writable by everyone (adds
    /// `r` or `w` for user, group and others). `EINVAL` for neither, `EBADF` without a
    /// socket, and the file system's errors (`EPERM`, …).
    pub fn chmod(&self, readable: bool, writable: bool) -> Result<()> {
        if matches!(self.st().sock, Sock::Empty) {
            return Err(Error::EBADF);
        }
        if !readable && !writable {
            return Err(Error::EINVAL);
        }
        let path = self.local_name()?;
        let meta = std::fs::metadata(&path)?;
        let mut desired = 0;
        if readable {
            desired |= 0o444;
        }
        if writable {
            desired |= 0o222;
        }
        let mode = meta.permissions().mode();
        if mode & desired == desired {
            return Ok(());
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode | desired))?;
        Ok(())
    }

    crate::stream::stream_handle_methods!(Pipe);

    /// Holds writes in the queue until [`uncork`](Pipe::uncork), as [`Tcp::cork`].
    pub fn cork(&self) {
        self.0.cork()
    }

    /// Writes what [`cork`](Pipe::cork) held, in one `writev`.
    pub fn uncork(&self) {
        self.0.uncork()
    }

    /// How a callback of the stream side gets this handle back.
    fn rewrap(&self) -> impl Fn(&Tcp) -> Pipe + 'static {
        |t| Pipe(t.clone())
    }

    fn st(&self) -> std::cell::Ref<'_, crate::tcp::TcpState> {
        self.0 .0.st.borrow()
    }
}

/// A handle that travels over an IPC pipe: what [`Pipe::write2`] sends (any of the
/// three converts into it) and what [`Pipe::accept_pending`] makes of a received one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpcHandle {
    /// A TCP socket: a connection, or a bound or listening server.
    Tcp(Tcp),
    /// A Unix domain socket (an IPC pipe itself arrives as a plain pipe).
    Pipe(Pipe),
    /// A UDP socket.
    Udp(Udp),
}

impl IpcHandle {
    /// `uv_fileno` of the handle.
    pub fn fileno(&self) -> Option<RawFd> {
        match self {
            IpcHandle::Tcp(t) => t.fileno(),
            IpcHandle::Pipe(p) => p.fileno(),
            IpcHandle::Udp(u) => u.fileno().ok(),
        }
    }

    pub(crate) fn is_closing(&self) -> bool {
        match self {
            IpcHandle::Tcp(t) => t.is_closing(),
            IpcHandle::Pipe(p) => p.is_closing(),
            IpcHandle::Udp(u) => u.is_closing(),
        }
    }

    /// `uv_close` of the handle, whichever it is.
    pub fn close(&self, cb: impl FnOnce() + 'static) {
        match self {
            IpcHandle::Tcp(t) => t.close(move |_| cb()),
            IpcHandle::Pipe(p) => p.close(move |_| cb()),
            IpcHandle::Udp(u) => u.close(move |_| cb()),
        }
    }
}

impl From<&Tcp> for IpcHandle {
    fn from(t: &Tcp) -> IpcHandle {
        IpcHandle::Tcp(t.clone())
    }
}

impl From<&Pipe> for IpcHandle {
    fn from(p: &Pipe) -> IpcHandle {
        IpcHandle::Pipe(p.clone())
    }
}

impl From<&Udp> for IpcHandle {
    fn from(u: &Udp) -> IpcHandle {
        IpcHandle::Udp(u.clone())
    }
}

/// What an IPC pipe keeps beyond a plain one: the descriptors received and not yet
/// accepted, oldest first (libuv's `accepted_fd` and `queued_fds`).
#[derive(Default)]
pub(crate) struct IpcState {
    pub(crate) pending: VecDeque<OwnedFd>,
}

/// `uv_pipe(fds, read_flags, write_flags)`: an anonymous pipe, (read end, write end),
/// both close-on-exec; each end non-blocking if asked (libuv's `UV_NONBLOCK_PIPE`).
/// Give an end to [`Pipe::open_fd`] to read or write it as a stream (which makes it
/// non-blocking either way); keep an end blocking to hand to a thread or a child
/// process.
pub fn pipe(read_nonblock: bool, write_nonblock: bool) -> Result<(OwnedFd, OwnedFd)> {
    let both = read_nonblock && write_nonblock;
    let (r, w) = crate::sys::pipe2(if both { libc::O_NONBLOCK } else { 0 })?;
    if read_nonblock && !both {
        crate::sys::set_nonblocking(r.as_fd(), true)?;
    }
    if write_nonblock && !both {
        crate::sys::set_nonblocking(w.as_fd(), true)?;
    }
    Ok((r, w))
}

/// `socket(AF_UNIX, SOCK_STREAM)`, non-blocking and close-on-exec.
fn new_socket() -> Result<Socket> {
    Ok(Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?)
}

/// The `sockaddr_un` for `name`, and the path to unlink on close (none for an abstract
/// name). `EINVAL` for an empty name, or a long one under `no_truncate`.
fn sockaddr(name: &OsStr, flags: PipeFlags) -> Result<(SockAddr, Option<PathBuf>)> {
    let bytes = name.as_bytes();
    let Some(&first) = bytes.first() else { return Err(Error::EINVAL) };
    let abstract_ = first == 0;
    // A path needs its terminating NUL inside `sun_path`; an abstract name does not.
    let room = if abstract_ { SUN_PATH } else { SUN_PATH - 1 };
    if flags.no_truncate && bytes.len() > room {
        return Err(Error::EINVAL);
    }
    let path = Path::new(OsStr::from_bytes(&bytes[..bytes.len().min(room)]));
    let addr = SockAddr::unix(path)?;
    Ok((addr, (!abstract_).then(|| path.to_path_buf())))
}

impl HandleImpl for Pipe {
    fn core(&self) -> &HandleCore {
        self.0.core()
    }

    /// `uv__pipe_close`: unlink the bound path, then close as a stream.
    fn close_now(&self) {
        self.0.close_now()
    }

    fn finish_close(&self) {
        self.0.finish_close()
    }

    fn drop_callbacks(&self) {
        self.0.drop_callbacks()
    }
}

impl fmt::Debug for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipe").field("name", &self.local_name().ok()).field("stream", &self.0).finish()
    }
}
