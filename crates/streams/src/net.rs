//! TCP and Unix domain sockets as Duplex streams, and servers (Node 20, `lib/net.js` and
//! `lib/internal/stream_base_commons.js`): the bridge from reactor handles to streams.
//!
//! A [`Socket`] is a `Stream<Bytes, Bytes, SocketExt>` over a reactor [`Tcp`] (for a
//! Unix domain socket, the stream side of a [`Pipe`]: [`Socket::connect_path`],
//! [`Socket::from_pipe`], [`Server::listen_path`]):
//!
//! - **Reading.** The socket starts reading as soon as it has a connected handle (Node's
//!   `read(0)` in the constructor). Each chunk is `push`ed; when `push` returns false the
//!   handle stops reading (`read_stop`) until the stream calls `_read` again: that is
//!   how a slow consumer slows the peer down. EOF pushes the end; a read error destroys
//!   the socket with it (`ECONNRESET`).
//! - **Writing.** `_write` and `_writev` first try the kernel directly (one `write`/
//!   `writev`, as libuv's `uv_try_write` inside Node's StreamBase); if everything went,
//!   the write completes synchronously, else the rest becomes a reactor write request
//!   and completes when the kernel takes it. `_writev` of N buffered chunks is one
//!   system call.
//! - **Ending.** `_final` shuts the write side down after the queue drains. Sockets do
//!   not allow half-open connections by default: when the peer ends, the socket ends
//!   too.
//! - **Closing.** `destroy` closes the handle; `close` is emitted from the handle's close
//!   callback, after everything queued was cancelled, with `had_error()` telling whether
//!   an error caused it (Node's `close(hadError)`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{self as reactor, Handle, Pipe, ReadEvent, Tcp, Timer};

use crate::errors::{Code, Error};
use crate::events::{Event, Handler, ListenerId, Listeners};
use crate::stream::{Builder, Options, Stream};

/// Starts `t` (already given its callback) to fire once, `ms` from now.
fn arm(t: &Timer, ms: u64) {
    t.set_repeat(ms);
    let _ = t.again(); // re-arms with `ms` as both timeout and repeat
    t.set_repeat(0); // the next expiry is the last
}

/// A TCP or Unix domain socket connection as a Duplex of bytes (Node's `net.Socket`).
pub type Socket = Stream<Bytes, Bytes, SocketExt>;

/// The socket half of a [`Socket`]: the handle and the socket-only events.
pub struct SocketExt {
    tcp: RefCell<Option<Tcp>>,
    connecting: Cell<bool>,
    /// The handle is reading (Node's `handle.reading`).
    reading: Cell<bool>,
    had_error: Cell<bool>,
    bytes_read: Cell<u64>,
    bytes_written: Cell<u64>,
    /// The idle timer, made by the first `set_timeout` and reused after.
    timer: RefCell<Option<Timer>>,
    /// `set_timeout`'s ms (0 = off).
    timeout_ms: Cell<u64>,
    /// The loop time of the last read or write.
    last_active: Cell<u64>,
    server: RefCell<Option<Server>>,
    /// `process.stdout`'s `_destroy`: never close the handle (see `crate::stdio`).
    pub(crate) keep_open: Cell<bool>,
    /// `'lookup'` listeners (one lookup per socket; dropped once it is emitted).
    lookup: RefCell<Vec<LookupListener>>,
}

/// Options for a new socket.
#[derive(Clone, Copy, Debug)]
pub struct SocketOptions {
    /// `readable` (true): false leaves the readable side ended from the start and never
    /// reads (Node's `process.stdout`: a socket only written to).
    pub readable: bool,
    /// `writable` (true): false leaves the writable side finished from the start (Node's
    /// `process.stdin`).
    pub writable: bool,
    /// `allowHalfOpen` (default false for sockets).
    pub allow_half_open: bool,
    /// `pauseOnCreate`: do not start reading, and be paused (`readable_flowing()` is
    /// `Some(false)`).
    pub pause_on_create: bool,
    /// `manualStart`: do not start reading until the stream is read from (`on_data`,
    /// `resume`, `read`); not paused. Node's terminal streams and `process.stdin`.
    pub manual_start: bool,
    /// The highWaterMark of both sides.
    pub high_water_mark: Option<usize>,
    /// `readableHighWaterMark`: the readable side's, unless `high_water_mark` is given
    /// (Node's terminal streams use 0).
    pub readable_high_water_mark: Option<usize>,
    /// `noDelay` (false): `TCP_NODELAY`, set once connected (a server's: on accept).
    pub no_delay: bool,
    /// `keepAlive` (false): TCP keep-alive probes, set once connected (a server's: on
    /// accept), after `no_delay`, as [`Socket::set_keep_alive`] sets them.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay` in ms (0): the idle time before the first probe, in whole
    /// seconds (under a second keeps the system's).
    pub keep_alive_initial_delay: u64,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            readable: true,
            writable: true,
            allow_half_open: false,
            pause_on_create: false,
            manual_start: false,
            high_water_mark: None,
            readable_high_water_mark: None,
            no_delay: false,
            keep_alive: false,
            keep_alive_initial_delay: 0,
        }
    }
}

impl SocketOptions {
    /// `noDelay` and `keepAlive` on a connected socket (Node's `afterConnect`, or its
    /// server's `onconnection` for an accepted one).
    fn apply_tcp(&self, s: &Socket) {
        if self.no_delay {
            s.set_no_delay(true);
        }
        if self.keep_alive {
            s.set_keep_alive(true, std::time::Duration::from_millis(self.keep_alive_initial_delay));
        }
    }
}

fn socket_builder(opts: &SocketOptions) -> Builder<Bytes, Bytes, SocketExt> {
    let ext = SocketExt {
        tcp: RefCell::new(None),
        connecting: Cell::new(false),
        reading: Cell::new(false),
        had_error: Cell::new(false),
        bytes_read: Cell::new(0),
        bytes_written: Cell::new(0),
        timer: RefCell::new(None),
        timeout_ms: Cell::new(0),
        last_active: Cell::new(0),
        server: RefCell::new(None),
        keep_open: Cell::new(false),
        lookup: RefCell::new(Vec::new()),
    };
    let mut b = Builder::with_ext(true, true, ext).options(Options {
        allow_half_open: opts.allow_half_open,
        readable: opts.readable,
        writable: opts.writable,
        emit_close: false, // net.js: close comes from the handle's close callback
        high_water_mark: opts.high_water_mark,
        readable_high_water_mark: opts.readable_high_water_mark,
        ..Options::default()
    });
    b.hooks.read = Some(Box::new(|s: &Socket, _| socket_read(s)));
    b.hooks.write = Some(Box::new(|s: &Socket, chunk, cb| socket_write(s, vec![chunk], cb)));
    b.hooks.writev = Some(Box::new(|s: &Socket, chunks, cb| socket_write(s, chunks, cb)));
    b.hooks.final_ = Some(Box::new(|s: &Socket, cb| socket_final(s, cb)));
    b.hooks.destroy = Some(Box::new(|s: &Socket, err, cb| socket_destroy(s, err, cb)));
    b
}

impl Socket {
    /// How many writes wait in the socket's buffer (Node's `writableBuffer.length`):
    /// while it is corked, every write since.
    pub fn writable_buffered(&self) -> usize {
        self.w().buffered.len()
    }

    /// Drops the writes buffered after the first `keep` (their callbacks never run).
    /// Not a Node API: the HTTP server takes back what pipelined responses wrote into
    /// the corked socket ahead of Node's order when the connection fails mid-batch.
    pub fn discard_buffered_writes(&self, keep: usize) {
        let mut w = self.w();
        while w.buffered.len() > keep {
            let Some(b) = w.buffered.pop_back() else { break };
            w.length -= b.chunk.len();
            w.pending_cb -= 1;
        }
    }

    /// A socket over a connected handle (what a server's `connection` gives), reading
    /// at once unless `pause_on_create`.
    pub fn from_tcp(tcp: Tcp, opts: SocketOptions) -> Socket {
        Socket::from_handle(tcp, opts, true)
    }

    /// A socket over a connected Unix domain socket handle (Node's `net.Socket` on a
    /// `Pipe`). `no_delay` and `keep_alive` do not apply (Node sets them only on a handle
    /// that has them).
    pub fn from_pipe(pipe: Pipe, opts: SocketOptions) -> Socket {
        Socket::from_handle(pipe.stream().clone(), opts, false)
    }

    /// `new net.Socket({ fd })`: a socket over a descriptor this process already has (a
    /// connected TCP or Unix domain socket, one end of a pipe, a FIFO), opened into a
    /// handle by what [`guess_handle`](reactor::guess_handle) finds: TCP into a `Tcp`,
    /// the rest into a `Pipe`. Reading starts at once unless `readable` is false or
    /// `pause_on_create`; the end of a pipe opened for writing only needs `readable:
    /// false` (else its first read fails, "read ENOTCONN", and destroys it, as on Node).
    /// `no_delay` and `keep_alive` are not applied: Node applies them only on connect.
    ///
    /// `ERR_INVALID_FD_TYPE` ("Unsupported fd type: FILE") for a regular file, a
    /// terminal, a UDP socket or anything else; the handle's own error ("open EBUSY")
    /// if it refuses the descriptor.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use millrace_streams::net::{Socket, SocketOptions};
    ///
    /// let lp = millrace_reactor::Loop::new()?;
    /// let (r, w) = millrace_reactor::pipe(false, false)?;
    /// let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// lp.enter(|| -> Result<(), millrace_streams::Error> {
    ///     let reader = Socket::from_fd(r, SocketOptions { writable: false, ..Default::default() })?;
    ///     let writer = Socket::from_fd(w, SocketOptions { readable: false, ..Default::default() })?;
    ///     let g = got.clone();
    ///     reader.on_data(move |_, chunk| g.borrow_mut().extend_from_slice(&chunk));
    ///     writer.end_with(Bytes::from_static(b"through a pipe"));
    ///     Ok(())
    /// })?;
    /// lp.run(millrace_reactor::RunMode::Default);
    /// assert_eq!(&got.borrow()[..], b"through a pipe");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_fd(fd: OwnedFd, opts: SocketOptions) -> Result<Socket, Error> {
        use reactor::HandleType;
        let lp = reactor::Loop::current();
        let kind = reactor::guess_handle(fd.as_fd());
        let (handle, opened) = match kind {
            HandleType::Tcp => {
                let t = Tcp::new(&lp);
                let r = t.open_fd(fd);
                (t, r)
            }
            HandleType::NamedPipe => {
                let p = Pipe::new(&lp);
                let r = p.open_fd(fd);
                (p.stream().clone(), r)
            }
            _ => return Err(Error::node(Code::ERR_INVALID_FD_TYPE, fd_type_name(kind))),
        };
        if let Err(e) = opened {
            handle.close(|_| {});
            return Err(Error::sys(e, "open"));
        }
        Ok(Socket::from_handle(handle, opts, false))
    }

    pub(crate) fn from_handle(tcp: Tcp, opts: SocketOptions, is_tcp: bool) -> Socket {
        let s = socket_builder(&opts).build();
        *s.ext().tcp.borrow_mut() = Some(tcp);
        if is_tcp {
            opts.apply_tcp(&s);
        }
        // net.js reads only `if (this._handle && options.readable !== false)`.
        if opts.readable {
            if opts.pause_on_create {
                s.r().flowing = Some(false);
            } else if !opts.manual_start {
                s.read(Some(0));
            }
        }
        s
    }

    /// `net.connect(port, host)`: a socket connecting to `addr`. Writes made meanwhile
    /// wait for the connection; `connect` is emitted when it is made, `error`
    /// (`ECONNREFUSED`, …) if it fails.
    pub fn connect(addr: SocketAddr) -> Socket {
        Socket::connect_with(addr, SocketOptions::default())
    }

    /// `net.connect({ port, host, … })`.
    pub fn connect_with(addr: SocketAddr, opts: SocketOptions) -> Socket {
        let s = socket_builder(&opts).build();
        s.ext().connecting.set(true);
        internal_connect(&s, addr, opts);
        s
    }

    /// `net.connect(port, host)` with a host name: the socket looks `host` up first
    /// (`dns.lookup` with `ADDRCONFIG`, as Node asks on Unix), emits `lookup`, then
    /// connects to the first address; an IP address connects at once, and an empty host
    /// is "localhost". A failed lookup emits `lookup` with the error, then `error`
    /// ("getaddrinfo ENOTFOUND no.such.host") and `close`.
    ///
    /// Node 20 tries every address of a name in turn (`autoSelectFamily`); this tries the
    /// first, as Node with `autoSelectFamily: false`. For a name with one address
    /// ("localhost" here) the two are the same.
    pub fn connect_host(host: &str, port: u16) -> Socket {
        Socket::connect_host_with(host, port, SocketOptions::default())
    }

    /// `net.connect({ port, host, … })` with a host name (see
    /// [`connect_host`](Socket::connect_host)).
    pub fn connect_host_with(host: &str, port: u16, opts: SocketOptions) -> Socket {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Socket::connect_with(SocketAddr::new(ip, port), opts);
        }
        let host = if host.is_empty() { "localhost" } else { host }.to_owned();
        let s = socket_builder(&opts).build();
        s.ext().connecting.set(true);
        let me = s.clone();
        let dnsopts = crate::dns::LookupOptions { hints: crate::dns::ADDRCONFIG, ..Default::default() };
        let h = host.clone();
        let started = crate::dns::lookup(&host, dnsopts, move |r| {
            let listeners = std::mem::take(&mut *me.ext().lookup.borrow_mut());
            // It's possible we were destroyed while looking this up (Node 20's
            // lookupAndConnectMultiple asks before it emits 'lookup', and again after).
            if !me.connecting() {
                return;
            }
            let (error, address) = match &r {
                Ok((address, _)) => (None, *address),
                Err(e) => (Some(e.clone()), None),
            };
            let ev = LookupEvent { error, address, host: h };
            for f in listeners {
                f(&me, &ev);
            }
            if !me.connecting() {
                return;
            }
            match r {
                Ok((Some(ip), _)) => internal_connect(&me, SocketAddr::new(ip, port), opts),
                Ok((None, _)) => {
                    destroy_next_tick(&me, Error::with_code("ERR_INVALID_IP_ADDRESS", "Invalid IP address: undefined"))
                }
                Err(e) => destroy_next_tick(&me, e),
            }
        });
        if let Err(e) = started {
            destroy_next_tick(&s, e);
        }
        s
    }

    /// `'lookup'`: the host name of [`connect_host`](Socket::connect_host) was looked up
    /// (Node's `(err, address, family, host)`). Emitted once, and not at all for a socket
    /// destroyed while it looked up; the listeners are dropped after it.
    pub fn on_lookup(&self, f: impl Fn(&Socket, &LookupEvent) + 'static) {
        self.ext().lookup.borrow_mut().push(Rc::new(f));
    }

    /// `net.connect(path)`: a socket connecting to the Unix domain socket at `path`. As
    /// [`connect`](Socket::connect); a failure is named by the path ("connect ENOENT
    /// /tmp/app.sock", with [`Error::path`]).
    pub fn connect_path(path: impl AsRef<Path>) -> Socket {
        Socket::connect_path_with(path, SocketOptions::default())
    }

    /// `net.connect({ path, … })`.
    pub fn connect_path_with(path: impl AsRef<Path>, opts: SocketOptions) -> Socket {
        let path = path.as_ref().to_path_buf();
        let s = socket_builder(&opts).build();
        let pipe = Pipe::new(s.get_loop());
        s.ext().connecting.set(true);
        *s.ext().tcp.borrow_mut() = Some(pipe.stream().clone());
        let (me, peer) = (s.clone(), Peer::Path(path.clone()));
        let started = pipe.connect(&path, move |_, status| after_connect(&me, status, &opts, peer));
        if let Err(e) = started {
            destroy_next_tick(&s, Peer::Path(path).error(e));
        }
        s
    }

    /// `'connect'`.
    pub fn on_connect(&self, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.add_plain(Event::Connect, false, false, f)
    }

    /// `'connect'`, once.
    pub fn once_connect(&self, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.add_plain(Event::Connect, true, false, f)
    }

    /// `'timeout'`: the socket was idle for the time given to [`set_timeout`](Socket::set_timeout).
    pub fn on_timeout(&self, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.add_plain(Event::Timeout, false, false, f)
    }

    /// `socket.setTimeout(ms)`: emit `timeout` once the socket has been idle (no reads
    /// or writes) for `ms`; activity re-arms it. 0 turns it off. The timer does not keep
    /// the loop alive.
    pub fn set_timeout(&self, ms: u64) {
        let e = self.ext();
        e.timeout_ms.set(ms);
        if self.destroyed() {
            if let Some(t) = e.timer.borrow().as_ref() {
                t.stop();
            }
            return;
        }
        if ms == 0 {
            // Disarmed lazily: a timer still due finds the timeout off and does nothing.
            // The HTTP server turns the timeout off at every request and on again after
            // it; this way that costs no timer-queue work per request.
            return;
        }
        let now = self.get_loop().now();
        e.last_active.set(now);
        if e.timer.borrow().is_none() {
            let timer = Timer::new(self.get_loop());
            let weak = Rc::downgrade(&self.0);
            let started = timer.start(ms, 0, move |t| {
                if let Some(core) = weak.upgrade() {
                    Stream(core).on_idle_timer(t);
                }
            });
            if started.is_err() {
                return;
            }
            timer.unref();
            *e.timer.borrow_mut() = Some(timer);
            return;
        }
        // Activity only moves `last_active`; the timer, when it fires, re-arms for what
        // is left. Here it must not fire later than `now + ms`.
        if let Some(t) = e.timer.borrow().as_ref() {
            if !t.is_active() || t.due_in() > ms {
                arm(t, ms);
            }
        }
    }

    /// The idle timer fired: `timeout` if the socket was idle for the whole timeout,
    /// else wait for the rest of it.
    fn on_idle_timer(&self, t: &Timer) {
        let e = self.ext();
        let ms = e.timeout_ms.get();
        if ms == 0 {
            return;
        }
        let idle = self.get_loop().now().saturating_sub(e.last_active.get());
        if idle >= ms {
            self.emit_plain(Event::Timeout);
        } else {
            arm(t, ms - idle);
        }
    }

    /// Re-arms the idle timer (Node's `kUpdateTimer`, on every read and write): only a
    /// time stamp, unless the timer fired and stopped.
    fn touch(&self) {
        let e = self.ext();
        let ms = e.timeout_ms.get();
        if ms == 0 {
            return;
        }
        e.last_active.set(self.get_loop().now());
        if let Some(t) = e.timer.borrow().as_ref() {
            if !t.is_active() {
                arm(t, ms);
            }
        }
    }

    /// `socket.setNoDelay(on)`.
    pub fn set_no_delay(&self, on: bool) -> &Self {
        if let Some(t) = self.ext().tcp.borrow().as_ref() {
            let _ = t.set_nodelay(on);
        }
        self
    }

    /// `socket.setKeepAlive(on, delay)`: TCP keep-alive probes after `delay` idle (whole
    /// seconds, as libuv takes it; under a second keeps the system's idle time), then
    /// every second, ten of them. Errors are ignored, as Node ignores them.
    pub fn set_keep_alive(&self, on: bool, delay: std::time::Duration) -> &Self {
        if let Some(t) = self.ext().tcp.borrow().as_ref() {
            let _ = t.set_keepalive(on, delay);
        }
        self
    }

    /// `socket.connecting`.
    pub fn connecting(&self) -> bool {
        self.ext().connecting.get()
    }

    /// `socket.pending`: not connected yet (or no handle any more).
    pub fn pending(&self) -> bool {
        self.ext().tcp.borrow().is_none() || self.connecting()
    }

    /// The `hadError` argument of `close`: an error caused the destroy.
    pub fn had_error(&self) -> bool {
        self.ext().had_error.get()
    }

    /// `socket.bytesRead`.
    pub fn bytes_read(&self) -> u64 {
        self.ext().tcp.borrow().as_ref().map_or(self.ext().bytes_read.get(), |t| t.stats().bytes_read)
    }

    /// `socket.bytesWritten`: bytes handed to the kernel, plus what is buffered.
    pub fn bytes_written(&self) -> u64 {
        let sent = self
            .ext()
            .tcp
            .borrow()
            .as_ref()
            .map_or(self.ext().bytes_written.get(), |t| t.stats().bytes_written + t.write_queue_size() as u64);
        sent + self.w().length as u64
    }

    /// The handle's write queue (libuv's `write_queue_size`): bytes given to the
    /// reactor and not yet in the kernel.
    pub fn write_queue_size(&self) -> usize {
        self.ext().tcp.borrow().as_ref().map_or(0, Tcp::write_queue_size)
    }

    /// `socket.remoteAddress`/`remotePort`.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.ext().tcp.borrow().as_ref()?.peer_addr().ok()
    }

    /// `socket.localAddress`/`localPort`.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.ext().tcp.borrow().as_ref()?.local_addr().ok()
    }

    /// The reactor handle, while the socket has one (for metrics and experiments).
    pub fn tcp(&self) -> Option<Tcp> {
        self.ext().tcp.borrow().clone()
    }

    /// What `handleConversion['net.Socket'].send` does to a socket sent over an IPC
    /// channel without `keepOpen`: its handle stops reading and leaves the socket
    /// (`socket._handle = null`, no more timeout), and a server's count of connections
    /// no longer includes it. The socket object stays, handle-less, as in Node; the
    /// handle is closed once the receiver acknowledges it.
    /// The server that accepted this socket (Node's `socket.server`).
    pub(crate) fn server(&self) -> Option<Server> {
        self.ext().server.borrow().clone()
    }

    pub(crate) fn detach_handle(&self) -> Option<Tcp> {
        let tcp = self.ext().tcp.borrow_mut().take()?;
        tcp.read_stop();
        self.ext().reading.set(false);
        self.set_timeout(0);
        let server = self.ext().server.borrow_mut().take();
        if let Some(server) = server {
            server.0.connections.set(server.0.connections.get() - 1);
        }
        Some(tcp)
    }

    /// `socket.resetAndDestroy()`: closes with a RST instead of a FIN.
    pub fn reset_and_destroy(&self) {
        let tcp = self.ext().tcp.borrow_mut().take();
        if let Some(tcp) = tcp {
            let me = self.clone();
            if tcp.close_reset(move |_| emit_socket_close(&me)).is_err() {
                let me = self.clone();
                tcp.close(move |_| emit_socket_close(&me));
            }
        }
        self.ext().connecting.set(false);
        self.destroy(None);
    }

    fn run_deferred_on_connect(&self, f: impl Fn(&Socket) + 'static) {
        self.once_connect(f);
    }
}

/// `guessHandleType`'s names (Node's `internal/util`).
fn fd_type_name(kind: reactor::HandleType) -> &'static str {
    use reactor::HandleType::*;
    match kind {
        Tcp => "TCP",
        Tty => "TTY",
        Udp => "UDP",
        File => "FILE",
        NamedPipe => "PIPE",
        Unknown => "UNKNOWN",
    }
}

/// `_read`: start reading, or wait for the connection.
fn socket_read(s: &Socket) {
    if s.ext().connecting.get() || s.ext().tcp.borrow().is_none() {
        if s.ext().connecting.get() {
            s.run_deferred_on_connect(socket_read);
        }
        return;
    }
    if !s.ext().reading.get() {
        try_read_start(s);
    }
}

/// `tryReadStart`.
fn try_read_start(s: &Socket) {
    let Some(tcp) = s.ext().tcp.borrow().clone() else { return };
    s.ext().reading.set(true);
    let me = s.clone();
    let started = tcp.read_start(move |tcp, ev| on_stream_read(&me, tcp, ev));
    if let Err(e) = started {
        if e != reactor::Error::EALREADY {
            s.destroy(Some(Error::sys(e, "read")));
        }
    }
}

/// `process.stdin`'s `onpause`: a paused socket whose handle still reads stops it
/// (`net.Socket`'s own `pause` leaves the handle reading until the buffer fills).
pub(crate) fn read_stop_if_paused(s: &Socket) {
    let Some(tcp) = s.ext().tcp.borrow().clone() else { return };
    if s.ext().reading.get() && s.readable_flowing() != Some(true) {
        s.r().reading = false;
        s.ext().reading.set(false);
        tcp.read_stop();
    }
}

/// `onStreamRead`.
fn on_stream_read(s: &Socket, tcp: &Tcp, ev: ReadEvent) {
    s.touch();
    match ev {
        ReadEvent::Data(buf) => {
            if s.destroyed() {
                return;
            }
            if !s.push(buf) {
                s.ext().reading.set(false);
                tcp.read_stop();
            }
        }
        ReadEvent::Error(e) => {
            s.destroy(Some(Error::sys(e, "read")));
        }
        ReadEvent::Eof => {
            s.ext().reading.set(false);
            if !s.r().end_emitted {
                s.push(None);
                s.read(Some(0));
            }
        }
    }
}

/// `_writeGeneric`: try the kernel now; queue the rest.
fn socket_write(s: &Socket, mut chunks: Vec<Bytes>, cb: crate::WriteCallback<Bytes, Bytes, SocketExt>) {
    if s.ext().connecting.get() {
        let pending = RefCell::new(Some((chunks, cb)));
        s.run_deferred_on_connect(move |s| {
            if let Some((chunks, cb)) = pending.borrow_mut().take() {
                socket_write(s, chunks, cb);
            }
        });
        return;
    }
    let Some(tcp) = s.ext().tcp.borrow().clone() else {
        cb.call(Err(Error::node(Code::ERR_SOCKET_CLOSED, "")));
        return;
    };
    s.touch();
    chunks.retain(|c| !c.is_empty());
    let total: usize = chunks.iter().map(Bytes::len).sum();
    if total == 0 {
        cb.ok();
        return;
    }
    let queued = tcp.write_queue_size() > 0;
    let mut written = 0;
    if !queued {
        match tcp.try_write(&chunks) {
            Ok(n) => written = n,
            Err(e) if e == reactor::Error::EAGAIN => {}
            Err(e) => {
                // afterWriteDispatched: `cb(new ErrnoException(err, 'write'))`; the
                // Writable's onwriteError then destroys the socket.
                cb.call(Err(Error::sys(e, "write")));
                return;
            }
        }
    }
    if written == total {
        s.give_back_batch(chunks); // written: the next batch is gathered in it
        cb.ok(); // synchronous completion: req.async is false
        return;
    }
    // Drop what went out; queue the rest as one request.
    let mut skip = written;
    let rest: Vec<Bytes> = chunks
        .into_iter()
        .filter_map(|mut c| {
            if skip >= c.len() {
                skip -= c.len();
                None
            } else {
                let c2 = c.split_off(skip);
                skip = 0;
                Some(c2)
            }
        })
        .collect();
    let me = s.clone();
    let mut cb = Some(cb);
    let queued = tcp.write(rest, move |_, status| {
        let Some(cb) = cb.take() else { return };
        let s = me.clone();
        // onWriteComplete
        if s.destroyed() {
            cb.ok();
            return;
        }
        match status {
            Ok(()) => {
                s.touch();
                cb.ok();
            }
            Err(e) => {
                let err = Error::sys(e, "write");
                s.destroy(Some(err.clone()));
                cb.call(Err(err));
            }
        }
    });
    if let Err(e) = queued {
        // The request was refused (EPIPE after shutdown, or no socket); the callback
        // above was dropped with the request.
        let err = Error::sys(e, "write");
        s.destroy(Some(err));
    }
}

/// `_final`: shut the write side down once the queue drains.
fn socket_final(s: &Socket, cb: crate::FinalCallback<Bytes, Bytes, SocketExt>) {
    if s.ext().connecting.get() {
        let pending = RefCell::new(Some(cb));
        s.run_deferred_on_connect(move |s| {
            if let Some(cb) = pending.borrow_mut().take() {
                socket_final(s, cb);
            }
        });
        return;
    }
    let Some(tcp) = s.ext().tcp.borrow().clone() else {
        cb.call(Ok(()));
        return;
    };
    let cb = Rc::new(RefCell::new(Some(cb)));
    let cb2 = cb.clone();
    let started = tcp.shutdown(move |_, _| {
        if let Some(cb) = cb2.borrow_mut().take() {
            cb.call(Ok(()));
        }
    });
    if let Err(e) = started {
        let cb = cb.borrow_mut().take();
        if let Some(cb) = cb {
            if e == reactor::Error::ENOTCONN {
                cb.call(Ok(()));
            } else {
                cb.call(Err(Error::sys(e, "shutdown")));
            }
        }
    }
}

/// `_destroy`: close the handle; `close` comes from its close callback.
fn socket_destroy(s: &Socket, err: Option<Error>, cb: crate::DestroyCallback<Bytes, Bytes, SocketExt>) {
    if s.ext().keep_open.get() {
        return crate::destroy::dummy_destroy(s, err, cb);
    }
    s.ext().connecting.set(false);
    if let Some(t) = s.ext().timer.borrow_mut().take() {
        t.close(|_| {});
    }
    let tcp = s.ext().tcp.borrow_mut().take();
    s.ext().had_error.set(err.is_some());
    match tcp {
        Some(tcp) => {
            let stats = tcp.stats();
            s.ext().bytes_read.set(stats.bytes_read);
            s.ext().bytes_written.set(stats.bytes_written);
            let me = s.clone();
            tcp.close(move |_| emit_socket_close(&me));
            cb.call(err);
        }
        None => {
            cb.call(err);
            s.tick(emit_socket_close);
        }
    }
    let server = s.ext().server.borrow_mut().take();
    if let Some(server) = server {
        server.0.connections.set(server.0.connections.get() - 1);
        server.emit_close_if_drained();
    }
}

/// `close(hadError)`, then nothing: every listener is released.
fn emit_socket_close(s: &Socket) {
    if let Some(mut w) = s.ws() {
        w.close_emitted = true;
    }
    if let Some(mut r) = s.rs() {
        r.close_emitted = true;
    }
    crate::destroy::emit_close_and_release(s);
}

/// What a socket connects to, as its errors name it.
enum Peer {
    Inet(SocketAddr),
    Path(PathBuf),
}

impl Peer {
    /// `exceptionWithHostPort`: "connect ECONNREFUSED 127.0.0.1:8080", "connect ENOENT
    /// /tmp/app.sock".
    fn error(self, e: reactor::Error) -> Error {
        match self {
            Peer::Inet(addr) => Error::sys_at(e, "connect", addr.ip(), addr.port()),
            Peer::Path(path) => Error::sys_at_path(e, "connect", path),
        }
    }
}

/// What a `lookup` listener gets.
#[derive(Clone, Debug)]
pub struct LookupEvent {
    /// The lookup's error, if it failed.
    pub error: Option<Error>,
    /// The address it found.
    pub address: Option<std::net::IpAddr>,
    /// The name looked up.
    pub host: String,
}

impl LookupEvent {
    /// Node's `family` argument: 4 or 6 (`None` with an error).
    pub fn family(&self) -> Option<u8> {
        self.address.map(crate::dns::family_of)
    }
}

type LookupListener = Rc<dyn Fn(&Socket, &LookupEvent)>;

/// `internalConnect` for an address: a TCP handle that connects; a failure to start is
/// the socket's error on the next tick.
fn internal_connect(s: &Socket, addr: SocketAddr, opts: SocketOptions) {
    let tcp = Tcp::new(s.get_loop());
    *s.ext().tcp.borrow_mut() = Some(tcp.clone());
    // The handle owns its socket (Node's owner_symbol): its callbacks hold the socket
    // until the handle is closed and drops them.
    let me = s.clone();
    let started = tcp.connect(addr, move |_, status| after_connect(&me, status, &opts, Peer::Inet(addr)));
    if let Err(e) = started {
        destroy_next_tick(s, Peer::Inet(addr).error(e));
    }
}

/// A connect that failed to start: the socket is destroyed with `err` on the next tick,
/// when its listeners are on (Node's `connectErrorNT`).
fn destroy_next_tick(s: &Socket, err: Error) {
    s.tick(move |s| {
        s.destroy(Some(err));
    });
}

/// `afterConnect`.
fn after_connect(s: &Socket, status: reactor::Result<()>, opts: &SocketOptions, peer: Peer) {
    if s.destroyed() {
        return;
    }
    s.ext().connecting.set(false);
    match status {
        Ok(()) => {
            s.touch();
            if matches!(peer, Peer::Inet(_)) {
                opts.apply_tcp(s);
            }
            s.emit_plain(Event::Connect);
            let paused = s.is_paused();
            if !paused {
                s.read(Some(0));
            }
        }
        Err(e) => {
            s.destroy(Some(peer.error(e)));
        }
    }
}

pub(crate) struct ServerInner {
    tcp: RefCell<Option<Tcp>>,
    /// The path given to `listen_path` (Node's `_pipeName`): a Unix domain socket server.
    path: RefCell<Option<PathBuf>>,
    connections: Cell<usize>,
    max_connections: Cell<usize>,
    unref: Cell<bool>,
    opts: SocketOptions,
    ev: Listeners<Server, Socket>,
    on_drop: RefCell<Vec<Rc<DropFn>>>,
    next_id: Cell<u64>,
    lp: reactor::Loop,
    /// Processes this server's connections were sent to (Node's `_workers`, each a
    /// `SocketListSend`): `close` asks each to close them first.
    workers: RefCell<Vec<WorkerClose>>,
}

type DropFn = dyn Fn(&Server, &DropInfo);

/// A worker's `close(callback)`: asks the process that took this server's sockets to
/// close them, and calls back once it says they are (or it is gone).
pub(crate) type WorkerClose = Rc<dyn Fn(Box<dyn FnOnce()>)>;

/// What a `'drop'` listener learns of the connection it was not given (Node's `data`:
/// `localAddress`, `localPort`, `localFamily`, `remoteAddress`, … of the closed socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropInfo {
    /// The server's side of the connection.
    pub local: Option<SocketAddr>,
    /// The client's side.
    pub remote: Option<SocketAddr>,
}

/// Options for [`Server::listen_path_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PipeListenOptions {
    /// `readableAll`: the socket file is readable by everyone.
    pub readable_all: bool,
    /// `writableAll`: the socket file is writable by everyone.
    pub writable_all: bool,
}

/// A TCP or Unix domain socket server (Node's `net.Server`).
#[derive(Clone)]
pub struct Server(Rc<ServerInner>);

/// `net.createServer(connectionListener)`.
pub fn create_server(on_connection: impl Fn(&Server, &Socket) + 'static) -> Server {
    Server::new(SocketOptions::default(), on_connection)
}

impl Server {
    /// A server whose connections get `opts` (Node's server options: `allowHalfOpen`,
    /// `pauseOnConnect` is [`pause_on_create`](SocketOptions::pause_on_create), `noDelay`,
    /// `keepAlive`, `keepAliveInitialDelay`, `highWaterMark`).
    pub fn new(opts: SocketOptions, on_connection: impl Fn(&Server, &Socket) + 'static) -> Server {
        let s = Server(Rc::new(ServerInner {
            tcp: RefCell::new(None),
            path: RefCell::new(None),
            connections: Cell::new(0),
            max_connections: Cell::new(0),
            unref: Cell::new(false),
            opts,
            ev: Listeners::default(),
            on_drop: RefCell::new(Vec::new()),
            next_id: Cell::new(0),
            lp: reactor::Loop::current(),
            workers: RefCell::new(Vec::new()),
        }));
        s.on_connection(on_connection);
        s
    }

    fn next_id(&self) -> u64 {
        let id = self.0.next_id.get();
        self.0.next_id.set(id + 1);
        id
    }

    /// `'connection'`.
    pub fn on_connection(&self, f: impl Fn(&Server, &Socket) + 'static) {
        self.0.ev.add(
            Event::Connection,
            self.next_id(),
            false,
            false,
            Handler::Data(Rc::new(move |s, c: Socket| f(s, &c))),
        );
    }

    /// `'listening'`.
    pub fn on_listening(&self, f: impl Fn(&Server) + 'static) {
        self.0.ev.add(Event::Listening, self.next_id(), false, false, Handler::Plain(Rc::new(f)));
    }

    /// `'close'`: the server stopped listening and its last connection closed. The
    /// server then drops its listeners, so a later `close()` reaches only its own
    /// callback (Node emits `close` to every listener again).
    pub fn on_close(&self, f: impl Fn(&Server) + 'static) {
        self.0.ev.add(Event::Close, self.next_id(), false, false, Handler::Plain(Rc::new(f)));
    }

    /// `'error'` (`listen` and `accept` failures).
    pub fn on_error(&self, f: impl Fn(&Server, &Error) + 'static) {
        self.0.ev.add(Event::Error, self.next_id(), false, false, Handler::Error(Rc::new(f)));
    }

    /// `'drop'`: a connection over [`max_connections`](Server::set_max_connections) was
    /// closed at once instead of being emitted as `'connection'`.
    pub fn on_drop(&self, f: impl Fn(&Server, &DropInfo) + 'static) {
        self.0.on_drop.borrow_mut().push(Rc::new(f));
    }

    /// `server.maxConnections = n`: with `n` connections open, a new one is closed at once
    /// and reported as `'drop'`. 0 (the default) is no limit.
    pub fn set_max_connections(&self, n: usize) {
        self.0.max_connections.set(n);
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> usize {
        self.0.max_connections.get()
    }

    /// `server.listen(port, host, cb)` for an address already resolved: binds and
    /// listens at once; `listening` (and `cb`) follow on the next tick, unless the server
    /// is closed first. A bind or listen failure (`EADDRINUSE`) is emitted as `error` on
    /// the next tick, named as Node names it ("listen EADDRINUSE: address already in use
    /// 127.0.0.1:8080"). `ERR_SERVER_ALREADY_LISTEN` if the server is listening.
    ///
    /// Node looks a host up before it binds, a tick later even for an IP address; here
    /// the address needs no lookup, so `address()` is known when this returns.
    pub fn listen(&self, addr: SocketAddr, cb: impl Fn(&Server) + 'static) -> Result<(), Error> {
        self.listen_at(addr.ip(), addr.port(), false, cb)
    }

    /// `server.listen(port, cb)`: no host, so every address: `::`, which takes IPv4 too,
    /// or `0.0.0.0` where the system has no IPv6 (Node's fallback when the IPv6 bind
    /// fails). Otherwise as [`listen`](Server::listen).
    pub fn listen_port(&self, port: u16, cb: impl Fn(&Server) + 'static) -> Result<(), Error> {
        self.listen_at(std::net::Ipv6Addr::UNSPECIFIED.into(), port, true, cb)
    }

    /// `Server.prototype.listen`: refused while listening; else `cb` waits for
    /// `listening` and the handle is set up.
    fn listen_at(
        &self,
        ip: std::net::IpAddr,
        port: u16,
        any: bool,
        cb: impl Fn(&Server) + 'static,
    ) -> Result<(), Error> {
        self.begin_listen(cb)?;
        // A TCP server after a `listen_path` that failed: its connections are TCP's.
        self.0.path.borrow_mut().take();
        self.setup_listen_handle(ip, port, any);
        Ok(())
    }

    /// What every `listen` does first: `ERR_SERVER_ALREADY_LISTEN` while the server has a
    /// handle; else `cb` becomes a `listening` listener (once).
    fn begin_listen(&self, cb: impl Fn(&Server) + 'static) -> Result<(), Error> {
        if self.0.tcp.borrow().is_some() {
            return Err(Error::node(Code::ERR_SERVER_ALREADY_LISTEN, ""));
        }
        self.0.ev.add(Event::Listening, self.next_id(), true, false, Handler::Plain(Rc::new(cb)));
        Ok(())
    }

    /// `setupListenHandle` (with `createServerHandle`): bind, listen with a backlog of
    /// 511, then `listening` on the next tick; any failure is `error` on the next tick.
    /// `any`: `ip` is `::`, and a failed bind falls back to `0.0.0.0`.
    fn setup_listen_handle(&self, ip: std::net::IpAddr, port: u16, any: bool) {
        let tcp = Tcp::new(&self.0.lp);
        let mut bound = tcp.bind((ip, port).into());
        if bound.is_err() && any {
            tcp.close(|_| {});
            return self.setup_listen_handle(std::net::Ipv4Addr::UNSPECIFIED.into(), port, false);
        }
        if bound.is_ok() {
            let me = self.clone(); // the listening handle keeps the server alive
            bound = tcp.listen(511, move |tcp, status| me.on_incoming(tcp, status));
        }
        if let Err(e) = bound {
            tcp.close(|_| {});
            return self.emit_listen_error(Error::uv_at(e, "listen", ip, port));
        }
        self.listening_on(tcp);
    }

    /// `server.listen(path, cb)`: listens on a Unix domain socket at `path`, which must
    /// not exist (a stale socket file is `EADDRINUSE`: remove it first). The path is
    /// removed again when the server closes. Otherwise as [`listen`](Server::listen);
    /// errors name the path ("listen EADDRINUSE: address already in use /tmp/app.sock").
    pub fn listen_path(&self, path: impl AsRef<Path>, cb: impl Fn(&Server) + 'static) -> Result<(), Error> {
        self.listen_path_with(path, PipeListenOptions::default(), cb)
    }

    /// `server.listen({ path, readableAll, writableAll }, cb)`. A failure to change the
    /// socket file's mode closes the handle and is returned (Node throws it).
    pub fn listen_path_with(
        &self,
        path: impl AsRef<Path>,
        opts: PipeListenOptions,
        cb: impl Fn(&Server) + 'static,
    ) -> Result<(), Error> {
        self.begin_listen(cb)?;
        let path = path.as_ref().to_path_buf();
        *self.0.path.borrow_mut() = Some(path.clone()); // Node's `_pipeName`
        let pipe = Pipe::new(&self.0.lp);
        let me = self.clone(); // the listening handle keeps the server alive
        let bound =
            pipe.bind(&path).and_then(|()| pipe.listen(511, move |p, status| me.on_incoming(p.stream(), status)));
        if let Err(e) = bound {
            pipe.close(|_| {});
            self.emit_listen_error(Error::uv_at_path(e, "listen", path));
            return Ok(());
        }
        self.listening_on(pipe.stream().clone());
        if opts.readable_all || opts.writable_all {
            if let Err(e) = pipe.chmod(opts.readable_all, opts.writable_all) {
                self.0.tcp.borrow_mut().take();
                pipe.close(|_| {});
                return Err(Error::sys(e, "uv_pipe_chmod"));
            }
        }
        Ok(())
    }

    /// `server.listen(handle, cb)` on a listening (or bound) socket handle this process
    /// was given: what a server sent over an IPC channel becomes in the receiver
    /// (`handleConversion['net.Server'].got`). `listening` comes on the next tick, as
    /// for every `listen`; a failure of `listen(2)` is `error` then.
    pub(crate) fn listen_handle(&self, tcp: Tcp, cb: impl Fn(&Server) + 'static) -> Result<(), Error> {
        self.begin_listen(cb)?;
        let me = self.clone(); // the listening handle keeps the server alive
        if let Err(e) = tcp.listen(511, move |tcp, status| me.on_incoming(tcp, status)) {
            tcp.close(|_| {});
            self.emit_listen_error(Error::sys(e, "listen"));
            return Ok(());
        }
        self.listening_on(tcp);
        Ok(())
    }

    /// The listening handle (Node's `server._handle`), to send over an IPC channel.
    pub(crate) fn handle(&self) -> Option<Tcp> {
        self.0.tcp.borrow().clone()
    }

    /// A listen that failed: `error` on the next tick.
    fn emit_listen_error(&self, err: Error) {
        let me = self.clone();
        self.0.lp.next_tick(move || {
            me.0.ev.emit_error(&me, &err);
        });
    }

    /// The handle listens: keep it, and emit `listening` on the next tick.
    fn listening_on(&self, tcp: Tcp) {
        if self.0.unref.get() {
            tcp.unref();
        }
        *self.0.tcp.borrow_mut() = Some(tcp);
        let me = self.clone();
        self.0.lp.next_tick(move || {
            // `emitListeningNT`: not if the server was closed meanwhile.
            if me.0.tcp.borrow().is_some() {
                me.0.ev.emit_plain(Event::Listening, &me);
            }
        });
    }

    /// `onconnection`.
    fn on_incoming(&self, tcp: &Tcp, status: reactor::Result<()>) {
        if let Err(e) = status {
            let err = Error::sys(e, "accept");
            self.0.ev.emit_error(self, &err);
            return;
        }
        let Ok(client) = tcp.accept() else { return };
        let max = self.0.max_connections.get();
        if max > 0 && self.0.connections.get() >= max {
            let info = DropInfo { local: client.local_addr().ok(), remote: client.peer_addr().ok() };
            client.close(|_| {});
            let listeners = self.0.on_drop.borrow().clone();
            for f in listeners {
                f(self, &info);
            }
            return;
        }
        // Node sets `noDelay` and `keepAlive` only on a handle that has them (TCP's).
        let is_tcp = self.0.path.borrow().is_none();
        let socket = Socket::from_handle(client, self.0.opts, is_tcp);
        *socket.ext().server.borrow_mut() = Some(self.clone());
        self.0.connections.set(self.0.connections.get() + 1);
        self.0.ev.emit_value(Event::Connection, self, socket);
    }

    /// `server.address()` of a TCP server (`None` for one on a Unix domain socket: see
    /// [`path`](Server::path)).
    pub fn address(&self) -> Option<SocketAddr> {
        self.0.tcp.borrow().as_ref()?.local_addr().ok()
    }

    /// `server.address()` of a server given a Unix domain socket path to listen on:
    /// the path, from that `listen` on (whether it succeeded or not) and after `close`,
    /// as Node keeps `_pipeName` (until a TCP `listen`).
    pub fn path(&self) -> Option<PathBuf> {
        self.0.path.borrow().clone()
    }

    /// `server._connections`: open connections.
    pub fn connections(&self) -> usize {
        self.0.connections.get()
    }

    /// `server.getConnections(cb)`: the open connections, given to `cb` on the next tick.
    pub fn get_connections(&self, cb: impl FnOnce(&Server, Result<usize, Error>) + 'static) {
        let (me, n) = (self.clone(), self.0.connections.get());
        self.0.lp.next_tick(move || cb(&me, Ok(n)));
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.0.tcp.borrow().is_some()
    }

    /// `server.ref()`: a listening server keeps the loop alive (the default).
    pub fn ref_(&self) {
        self.0.unref.set(false);
        if let Some(t) = self.0.tcp.borrow().as_ref() {
            t.ref_();
        }
    }

    /// `server.unref()`: the loop may end while the server listens (kept for a `listen`
    /// made later).
    pub fn unref(&self) {
        self.0.unref.set(true);
        if let Some(t) = self.0.tcp.borrow().as_ref() {
            t.unref();
        }
    }

    /// `server.close(cb)`: stops accepting; `close` (and `cb`, with `None`) follow once
    /// every open connection has closed. Existing connections are not touched. On a
    /// server that is not listening, `close` is emitted all the same (next tick) and `cb`
    /// gets `ERR_SERVER_NOT_RUNNING`.
    pub fn close(&self, cb: impl Fn(&Server, Option<&Error>) + 'static) {
        let tcp = self.0.tcp.borrow_mut().take();
        let handler: Rc<dyn Fn(&Server)> = match tcp {
            Some(_) => Rc::new(move |s: &Server| cb(s, None)),
            None => Rc::new(move |s: &Server| cb(s, Some(&Error::node(Code::ERR_SERVER_NOT_RUNNING, "")))),
        };
        self.0.ev.add(Event::Close, self.next_id(), true, false, Handler::Plain(handler));
        if let Some(tcp) = tcp {
            tcp.close(|_| {});
        }
        let workers = self.0.workers.borrow().clone();
        if workers.is_empty() {
            self.emit_close_if_drained();
            return;
        }
        // `_usingWorkers`: `close` waits for every process that took connections.
        let left = Rc::new(Cell::new(workers.len()));
        self.0.connections.set(self.0.connections.get() + 1);
        for close in workers {
            let (me, left) = (self.clone(), left.clone());
            close(Box::new(move || {
                left.set(left.get() - 1);
                if left.get() == 0 {
                    me.0.connections.set(0);
                    me.emit_close_if_drained();
                }
            }));
        }
    }

    /// `server._setupWorker(socketList)`: connections of this server went to another
    /// process, whose sockets `close` must wait for.
    pub(crate) fn setup_worker(&self, close: WorkerClose) {
        self.0.workers.borrow_mut().push(close);
    }

    /// Node's `_connectionKey` ("4:127.0.0.1:8080", "-1:/tmp/app.sock:-1"), which
    /// names a server's connections sent to another process.
    pub(crate) fn connection_key(&self) -> String {
        if let Some(path) = self.0.path.borrow().as_ref() {
            return format!("-1:{}:-1", path.display());
        }
        match self.address() {
            Some(a) => format!("{}:{}:{}", if a.is_ipv4() { 4 } else { 6 }, a.ip(), a.port()),
            None => "-1:null:-1".to_owned(),
        }
    }

    /// `_emitCloseIfDrained`.
    fn emit_close_if_drained(&self) {
        if self.0.tcp.borrow().is_some() || self.0.connections.get() > 0 {
            return;
        }
        let me = self.clone();
        self.0.lp.next_tick(move || {
            let mark = me.0.next_id.get();
            me.0.ev.emit_plain(Event::Close, &me);
            me.release(mark);
        });
    }

    /// Drops the listeners registered before `mark` once closed (they may hold the
    /// server): a `close(cb)` made by a `close` listener keeps its callback. A closed
    /// server cannot be listened on again: make a new one.
    fn release(&self, mark: u64) {
        self.0.ev.clear_before(mark);
        self.0.on_drop.borrow_mut().clear();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("address", &self.address()).field("connections", &self.connections()).finish()
    }
}

impl fmt::Debug for SocketExt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketExt")
            .field("connecting", &self.connecting.get())
            .field("reading", &self.reading.get())
            .finish()
    }
}
