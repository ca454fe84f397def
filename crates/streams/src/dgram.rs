//! UDP sockets (Node 20, `lib/dgram.js`) on the reactor's [`Udp`].
//!
//! A [`Socket`] is Node's `dgram.Socket`, an event emitter rather than a stream, with
//! Node's order of events:
//! - **Addresses are looked up first**, as Node's `dns.lookup` does even for an IP
//!   literal: `bind` binds on the next tick, so `listening` (and the bind callback, a
//!   `listening` listener of its own) comes a tick later; so does a send, and a
//!   connect.
//! - **Before the socket is bound**, `send` and `connect` bind it to the wildcard address
//!   (port 0) and wait in a queue that `listening` flushes; `close` waits there too.
//! - **Sends** are tried at once (`uv_udp_try_send`); the callback of one that went out
//!   comes on the next tick with the bytes sent, an error (`"send EMSGSIZE
//!   127.0.0.1:41234"`) likewise. Without a callback an error is dropped, as Node does.
//! - **`message`** gives each datagram with its sender (`RemoteInfo`); a receive error
//!   is an `error` event ("recvmsg ECONNREFUSED").
//! - **Errors that Node throws** are returned: `ERR_SOCKET_ALREADY_BOUND`,
//!   `ERR_SOCKET_DGRAM_IS_CONNECTED`, `ERR_SOCKET_DGRAM_NOT_CONNECTED`,
//!   `ERR_SOCKET_DGRAM_NOT_RUNNING` (any call after `close`), `ERR_SOCKET_BAD_PORT`.
//! - A port in use is an `error` event ("bind EADDRINUSE 127.0.0.1:41234"), and the
//!   socket is unbound again.
//! - `close` emits `close` on the next tick; the socket then drops its listeners (the
//!   house rule: they may hold the socket).
//!
//! Host names are not looked up: addresses are [`IpAddr`]s.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{self as reactor, Handle, Loop, Membership, Udp, UdpBindFlags};

use crate::errors::{Code, Error};
use crate::events::{Emitter, Event, Handler, ListenerId};

/// `'udp4'` or `'udp6'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketType {
    /// IPv4.
    Udp4,
    /// IPv6.
    Udp6,
}

/// `dgram.createSocket({ type, reuseAddr, ipv6Only, recvBufferSize, sendBufferSize })`.
#[derive(Clone, Copy, Debug)]
pub struct SocketOptions {
    /// `type`.
    pub kind: SocketType,
    /// `reuseAddr`: bind with `UV_UDP_REUSEADDR`.
    pub reuse_addr: bool,
    /// `ipv6Only`: bind with `UV_UDP_IPV6ONLY`.
    pub ipv6_only: bool,
    /// `recvBufferSize`, set once bound.
    pub recv_buffer_size: Option<usize>,
    /// `sendBufferSize`, set once bound.
    pub send_buffer_size: Option<usize>,
}

impl SocketOptions {
    /// The defaults for `kind`.
    pub fn new(kind: SocketType) -> SocketOptions {
        SocketOptions { kind, reuse_addr: false, ipv6_only: false, recv_buffer_size: None, send_buffer_size: None }
    }
}

/// `rinfo`: where a datagram came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteInfo {
    /// `address`.
    pub address: IpAddr,
    /// `family`: `"IPv4"` or `"IPv6"`.
    pub family: &'static str,
    /// `port`.
    pub port: u16,
    /// `size`: the datagram's length.
    pub size: usize,
}

/// A datagram as `message` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `msg`.
    pub data: Bytes,
    /// `rinfo`.
    pub rinfo: RemoteInfo,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BindState {
    Unbound,
    Binding,
    Bound,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ConnectState {
    Disconnected,
    Connecting,
    Connected,
}

type Queued = Box<dyn FnOnce(&Socket)>;
type BindCb = Rc<dyn Fn(&Socket)>;
type ConnectCb = Rc<dyn Fn(&Socket, Option<&Error>)>;

struct Inner {
    lp: Loop,
    opts: SocketOptions,
    /// `None` once closed (Node's `state.handle = null`).
    handle: RefCell<Option<Udp>>,
    bind_state: Cell<BindState>,
    connect_state: Cell<ConnectState>,
    receiving: Cell<bool>,
    /// Node's `state.queue`: what waits for `listening`.
    queue: RefCell<Option<Vec<Queued>>>,
    ev: Emitter<Socket, Message>,
}

/// Node's `dgram.Socket` (see the [module docs](self)).
///
/// ```
/// use bytes::Bytes;
/// use millrace_streams::dgram::{create_socket, SocketType};
///
/// let lp = millrace_reactor::Loop::new()?;
/// let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     let server = create_socket(SocketType::Udp4);
///     let g = got.clone();
///     server.on_message(move |s, m| {
///         g.borrow_mut().push(m.data);
///         s.close().unwrap();
///     });
///     server.bind_cb(0, Some([127, 0, 0, 1].into()), |s| {
///         let port = s.address().unwrap().port();
///         let client = create_socket(SocketType::Udp4);
///         client
///             .send(vec![Bytes::from_static(b"hello")], Some((port, None)), move |c, err, n| {
///                 assert!(err.is_none() && n == 5);
///                 c.close().unwrap();
///             })
///             .unwrap();
///     })?;
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// assert_eq!(*got.borrow(), [Bytes::from_static(b"hello")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Socket(Rc<Inner>);

/// `dgram.createSocket(type)`, on the current loop.
pub fn create_socket(kind: SocketType) -> Socket {
    create_socket_with(SocketOptions::new(kind))
}

/// `dgram.createSocket(options)`, on the current loop.
pub fn create_socket_with(opts: SocketOptions) -> Socket {
    let lp = Loop::current();
    let handle = Udp::new(&lp);
    Socket(Rc::new(Inner {
        lp,
        opts,
        handle: RefCell::new(Some(handle)),
        bind_state: Cell::new(BindState::Unbound),
        connect_state: Cell::new(ConnectState::Disconnected),
        receiving: Cell::new(false),
        queue: RefCell::new(None),
        ev: Emitter::default(),
    }))
}

impl Socket {
    /// `socket.bind(handle, cb)` of a new socket on a bound UDP handle this process
    /// was given: what a dgram socket sent over an IPC channel becomes in the receiver
    /// (`handleConversion['dgram.Socket'].got`). Node's `bind` with a handle starts
    /// receiving and emits `listening` at once, before it returns.
    pub(crate) fn from_bound_handle(kind: SocketType, handle: Udp, cb: impl Fn(&Socket) + 'static) -> Socket {
        let s = create_socket(kind);
        if let Some(old) = s.0.handle.borrow_mut().replace(handle.clone()) {
            old.close(|_| {});
        }
        s.0.ev.on(Event::Listening, true, Handler::Plain(Rc::new(cb)));
        s.start_listening(&handle);
        s
    }

    /// The handle (Node's `state.handle`), to send over an IPC channel.
    pub(crate) fn udp(&self) -> Option<Udp> {
        self.0.handle.borrow().clone()
    }

    /// `socket.type`.
    pub fn kind(&self) -> SocketType {
        self.0.opts.kind
    }

    /// `healthCheck`: the handle, or `ERR_SOCKET_DGRAM_NOT_RUNNING` once closed.
    fn handle(&self) -> Result<Udp, Error> {
        self.0.handle.borrow().clone().ok_or_else(|| Error::node(Code::ERR_SOCKET_DGRAM_NOT_RUNNING, ""))
    }

    fn wildcard(&self) -> IpAddr {
        match self.0.opts.kind {
            SocketType::Udp4 => Ipv4Addr::UNSPECIFIED.into(),
            SocketType::Udp6 => Ipv6Addr::UNSPECIFIED.into(),
        }
    }

    /// `lookup4`/`lookup6`'s default destination.
    fn loopback(&self) -> IpAddr {
        match self.0.opts.kind {
            SocketType::Udp4 => Ipv4Addr::LOCALHOST.into(),
            SocketType::Udp6 => Ipv6Addr::LOCALHOST.into(),
        }
    }

    /// `handle.lookup(address, cb)`: an IP literal comes back on the next tick.
    fn lookup(&self, ip: IpAddr, then: impl FnOnce(&Socket, IpAddr) + 'static) {
        let me = self.clone();
        self.0.lp.next_tick(move || then(&me, ip));
    }

    /// `bind(port, address)`: binds on the next tick; `listening` then, or `error`.
    pub fn bind(&self, port: u16, address: Option<IpAddr>) -> Result<&Self, Error> {
        self.bind_impl(port, address, None)
    }

    /// `bind(port, address, cb)`: `cb` is a `listening` listener, removed if `error`
    /// comes first.
    pub fn bind_cb(&self, port: u16, address: Option<IpAddr>, cb: impl Fn(&Socket) + 'static) -> Result<&Self, Error> {
        self.bind_impl(port, address, Some(Rc::new(cb)))
    }

    fn bind_impl(&self, port: u16, address: Option<IpAddr>, cb: Option<BindCb>) -> Result<&Self, Error> {
        self.handle()?;
        if self.0.bind_state.get() != BindState::Unbound {
            return Err(Error::node(Code::ERR_SOCKET_ALREADY_BOUND, ""));
        }
        self.0.bind_state.set(BindState::Binding);
        if let Some(cb) = cb {
            let (on_listening, on_error) = (self.0.ev.next_id(), self.0.ev.next_id());
            let err_id = ListenerId { event: Event::Error, id: on_error };
            let listen_id = ListenerId { event: Event::Listening, id: on_listening };
            self.0.ev.add(
                Event::Listening,
                on_listening,
                true,
                false,
                Handler::Plain(Rc::new(move |s: &Socket| {
                    s.0.ev.remove(err_id);
                    cb(s);
                })),
            );
            self.0.ev.add(
                Event::Error,
                on_error,
                true,
                false,
                Handler::Error(Rc::new(move |s: &Socket, _: &Error| {
                    s.0.ev.remove(listen_id);
                })),
            );
        }
        let ip = address.unwrap_or_else(|| self.wildcard());
        self.lookup(ip, move |s, ip| {
            let Some(handle) = s.0.handle.borrow().clone() else { return }; // closed meanwhile
            let flags = UdpBindFlags { ipv6_only: s.0.opts.ipv6_only, reuse_addr: s.0.opts.reuse_addr };
            if let Err(e) = handle.bind(SocketAddr::new(ip, port), flags) {
                s.0.bind_state.set(BindState::Unbound);
                s.emit_error(&Error::sys_at(e, "bind", ip, port));
                return;
            }
            s.start_listening(&handle);
        });
        Ok(self)
    }

    /// `startListening`.
    fn start_listening(&self, handle: &Udp) {
        // The handle keeps the socket while it is open, as Node's handle keeps its
        // owner; `close` drops the callback, and with it this reference.
        let me = self.clone();
        let started = handle.recv_start(move |_, r| me.on_recv(r));
        if let Err(e) = started {
            self.0.bind_state.set(BindState::Unbound);
            self.emit_error(&Error::sys(e, "recvStart"));
            return;
        }
        self.0.receiving.set(true);
        self.0.bind_state.set(BindState::Bound);
        if let Some(n) = self.0.opts.recv_buffer_size {
            let _ = handle.recv_buffer_size(Some(n));
        }
        if let Some(n) = self.0.opts.send_buffer_size {
            let _ = handle.send_buffer_size(Some(n));
        }
        self.0.ev.emit_plain(Event::Listening, self);
        // onListenSuccess: what waited for the bind.
        let queued = self.0.queue.borrow_mut().take();
        for f in queued.into_iter().flatten() {
            f(self);
        }
    }

    /// `onMessage`.
    fn on_recv(&self, r: reactor::Result<reactor::UdpRecv>) {
        match r {
            Err(e) => {
                self.emit_error(&Error::sys(e, "recvmsg"));
            }
            Ok(reactor::UdpRecv { addr: None, .. }) => {} // nothing more for now
            Ok(reactor::UdpRecv { data, addr: Some(from) }) => {
                let rinfo = RemoteInfo {
                    address: from.ip(),
                    family: if from.is_ipv4() { "IPv4" } else { "IPv6" },
                    port: from.port(),
                    size: data.len(),
                };
                self.0.ev.emit_value(Event::Message, self, Message { data, rinfo });
            }
        }
    }

    fn emit_error(&self, err: &Error) {
        // The queue waits for listening; an error drops it (onListenError).
        if self.0.bind_state.get() != BindState::Bound {
            self.0.queue.borrow_mut().take();
        }
        self.0.ev.emit_error(self, err);
    }

    /// Whether a send or connect must wait for `listening`; an unbound socket starts
    /// binding first (`bind({ port: 0 })`).
    fn must_wait(&self) -> bool {
        if self.0.bind_state.get() == BindState::Unbound {
            let _ = self.bind_impl(0, None, None);
        }
        self.0.bind_state.get() != BindState::Bound
    }

    /// `enqueue`: runs `f` once `listening` is emitted.
    fn enqueue(&self, f: impl FnOnce(&Socket) + 'static) {
        self.0.queue.borrow_mut().get_or_insert_with(Vec::new).push(Box::new(f));
    }

    /// `send(msg, port, address, cb)`: one datagram of the chunks in `msg`, to
    /// `Some((port, address))` (`address` defaults to the loopback address), or to the
    /// connected peer with `None`. `cb(socket, error, bytes)` on the next tick once sent.
    pub fn send(
        &self,
        msg: Vec<Bytes>,
        to: Option<(u16, Option<IpAddr>)>,
        cb: impl FnOnce(&Socket, Option<Error>, usize) + 'static,
    ) -> Result<(), Error> {
        let connected = self.0.connect_state.get() == ConnectState::Connected;
        match (connected, to) {
            (true, Some(_)) => return Err(Error::node(Code::ERR_SOCKET_DGRAM_IS_CONNECTED, "")),
            (false, None) => return Err(Error::node(Code::ERR_SOCKET_BAD_PORT, "undefined")),
            (false, Some((0, _))) => return Err(Error::node(Code::ERR_SOCKET_BAD_PORT, "type number (0)")),
            _ => {}
        }
        self.handle()?;
        let msg = if msg.is_empty() { vec![Bytes::new()] } else { msg };
        if self.must_wait() {
            // Node queues `this.send` itself, which checks again when it runs.
            self.enqueue(move |s| {
                let _ = s.send(msg, to, cb);
            });
            return Ok(());
        }
        match to {
            None => self.do_send(msg, None, cb),
            Some((port, address)) => {
                let ip = address.unwrap_or_else(|| self.loopback());
                self.lookup(ip, move |s, ip| s.do_send(msg, Some(SocketAddr::new(ip, port)), cb));
            }
        }
        Ok(())
    }

    /// `doSend`.
    fn do_send(
        &self,
        msg: Vec<Bytes>,
        to: Option<SocketAddr>,
        cb: impl FnOnce(&Socket, Option<Error>, usize) + 'static,
    ) {
        let Some(handle) = self.0.handle.borrow().clone() else { return };
        let at = move |e| match to {
            Some(a) => Error::sys_at(e, "send", a.ip(), a.port()),
            None => Error::sys(e, "send"),
        };
        type SendDone = Box<dyn FnOnce(&Socket, Option<Error>, usize)>;
        let cb: Rc<RefCell<Option<SendDone>>> = Rc::new(RefCell::new(Some(Box::new(cb))));
        let call_later = |me: &Socket, err: Option<Error>, n: usize| {
            let (me2, cb) = (me.clone(), cb.clone());
            me.0.lp.next_tick(move || {
                if let Some(cb) = cb.borrow_mut().take() {
                    cb(&me2, err, n);
                }
            });
        };
        match handle.try_send(&msg, to) {
            // Node's synchronous finish: the callback on the next tick.
            Ok(n) => call_later(self, None, n),
            Err(reactor::Error::EAGAIN) => {
                let size = msg.iter().map(Bytes::len).sum();
                let (me, cb2) = (self.clone(), cb.clone());
                let queued = handle.send(msg, to, move |_, r| {
                    if let Some(cb) = cb2.borrow_mut().take() {
                        match r {
                            Ok(()) => cb(&me, None, size),
                            Err(e) => cb(&me, Some(at(e)), 0),
                        }
                    }
                });
                if let Err(e) = queued {
                    call_later(self, Some(at(e)), 0);
                }
            }
            Err(e) => call_later(self, Some(at(e)), 0),
        }
    }

    /// `connect(port, address, cb)`: `connect` on the next tick (`cb` is a `connect`
    /// listener), or the error to `cb` (an `error` event without one).
    pub fn connect(&self, port: u16, address: Option<IpAddr>) -> Result<&Self, Error> {
        self.connect_impl(port, address, None)
    }

    /// `connect(port, address, cb)` with a callback: `cb(socket, None)` on `connect`,
    /// `cb(socket, Some(err))` instead of an `error` event.
    pub fn connect_cb(
        &self,
        port: u16,
        address: Option<IpAddr>,
        cb: impl Fn(&Socket, Option<&Error>) + 'static,
    ) -> Result<&Self, Error> {
        self.connect_impl(port, address, Some(Rc::new(cb)))
    }

    fn connect_impl(&self, port: u16, address: Option<IpAddr>, cb: Option<ConnectCb>) -> Result<&Self, Error> {
        if self.0.connect_state.get() != ConnectState::Disconnected {
            return Err(Error::node(Code::ERR_SOCKET_DGRAM_IS_CONNECTED, ""));
        }
        self.0.connect_state.set(ConnectState::Connecting);
        if self.must_wait() {
            self.enqueue(move |s| s.connect_now(port, address, cb));
        } else {
            self.connect_now(port, address, cb);
        }
        Ok(self)
    }

    /// `_connect` and `doConnect`.
    fn connect_now(&self, port: u16, address: Option<IpAddr>, cb: Option<ConnectCb>) {
        let listener = cb.as_ref().map(|cb| {
            let cb = cb.clone();
            let id = self.0.ev.next_id();
            self.0.ev.add(Event::Connect, id, true, false, Handler::Plain(Rc::new(move |s: &Socket| cb(s, None))));
            ListenerId { event: Event::Connect, id }
        });
        let ip = address.unwrap_or_else(|| self.loopback());
        self.lookup(ip, move |s, ip| {
            let Some(handle) = s.0.handle.borrow().clone() else { return };
            match handle.connect(Some(SocketAddr::new(ip, port))) {
                Ok(()) => {
                    s.0.connect_state.set(ConnectState::Connected);
                    let me = s.clone();
                    s.0.lp.next_tick(move || {
                        me.0.ev.emit_plain(Event::Connect, &me);
                    });
                }
                Err(e) => {
                    s.0.connect_state.set(ConnectState::Disconnected);
                    let err = Error::sys_at(e, "connect", ip, port);
                    let me = s.clone();
                    s.0.lp.next_tick(move || match (cb, listener) {
                        (Some(cb), Some(id)) => {
                            me.0.ev.remove(id);
                            cb(&me, Some(&err));
                        }
                        _ => me.emit_error(&err),
                    });
                }
            }
        });
    }

    /// `disconnect()`: `ERR_SOCKET_DGRAM_NOT_CONNECTED` unless connected.
    pub fn disconnect(&self) -> Result<&Self, Error> {
        if self.0.connect_state.get() != ConnectState::Connected {
            return Err(Error::node(Code::ERR_SOCKET_DGRAM_NOT_CONNECTED, ""));
        }
        self.handle()?.connect(None).map_err(|e| Error::sys(e, "connect"))?;
        self.0.connect_state.set(ConnectState::Disconnected);
        Ok(self)
    }

    /// `close()`: stops receiving, closes the handle, `close` on the next tick. Waits
    /// for a bind in progress first, as Node's queue does.
    pub fn close(&self) -> Result<&Self, Error> {
        if self.0.queue.borrow().is_some() {
            self.0.queue.borrow_mut().get_or_insert_with(Vec::new).push(Box::new(|s: &Socket| {
                let _ = s.close();
            }));
            return Ok(self);
        }
        let handle = self.handle()?;
        if self.0.receiving.replace(false) {
            handle.recv_stop();
        }
        handle.close(|_| {});
        *self.0.handle.borrow_mut() = None;
        let me = self.clone();
        self.0.lp.next_tick(move || {
            me.0.ev.emit_plain(Event::Close, &me);
            me.0.ev.clear(); // the house rule: a closed socket drops its listeners
        });
        Ok(self)
    }

    /// `close(cb)`: `cb` is a `close` listener.
    pub fn close_cb(&self, cb: impl Fn(&Socket) + 'static) -> Result<&Self, Error> {
        self.on_close(cb);
        self.close()
    }

    /// `address()`: "getsockname EBADF" before the socket is bound.
    pub fn address(&self) -> Result<SocketAddr, Error> {
        self.handle()?.getsockname().map_err(|e| Error::sys(e, "getsockname"))
    }

    /// `remoteAddress()`: `ERR_SOCKET_DGRAM_NOT_CONNECTED` unless connected.
    pub fn remote_address(&self) -> Result<SocketAddr, Error> {
        let handle = self.handle()?;
        if self.0.connect_state.get() != ConnectState::Connected {
            return Err(Error::node(Code::ERR_SOCKET_DGRAM_NOT_CONNECTED, ""));
        }
        handle.getpeername().map_err(|e| Error::sys(e, "getpeername"))
    }

    /// `setBroadcast(on)`.
    pub fn set_broadcast(&self, on: bool) -> Result<(), Error> {
        self.handle()?.set_broadcast(on).map_err(|e| Error::sys(e, "setBroadcast"))
    }

    /// `setTTL(ttl)`: 1 to 255 ("setTTL EINVAL" otherwise).
    pub fn set_ttl(&self, ttl: i32) -> Result<i32, Error> {
        self.handle()?.set_ttl(ttl).map_err(|e| Error::sys(e, "setTTL"))?;
        Ok(ttl)
    }

    /// `setMulticastTTL(ttl)`: 0 to 255.
    pub fn set_multicast_ttl(&self, ttl: i32) -> Result<i32, Error> {
        self.handle()?.set_multicast_ttl(ttl).map_err(|e| Error::sys(e, "setMulticastTTL"))?;
        Ok(ttl)
    }

    /// `setMulticastLoopback(on)`.
    pub fn set_multicast_loopback(&self, on: bool) -> Result<bool, Error> {
        self.handle()?.set_multicast_loop(on).map_err(|e| Error::sys(e, "setMulticastLoopback"))?;
        Ok(on)
    }

    /// `addMembership(group, interface)` (IPv4).
    pub fn add_membership(&self, group: Ipv4Addr, interface: Option<Ipv4Addr>) -> Result<(), Error> {
        self.handle()?.set_membership(group, interface, Membership::Join).map_err(|e| Error::sys(e, "addMembership"))
    }

    /// `dropMembership(group, interface)` (IPv4).
    pub fn drop_membership(&self, group: Ipv4Addr, interface: Option<Ipv4Addr>) -> Result<(), Error> {
        self.handle()?.set_membership(group, interface, Membership::Leave).map_err(|e| Error::sys(e, "dropMembership"))
    }

    /// `ref()`.
    pub fn ref_(&self) -> &Self {
        if let Some(h) = self.0.handle.borrow().as_ref() {
            h.ref_();
        }
        self
    }

    /// `unref()`: the socket no longer keeps the loop alive.
    pub fn unref(&self) -> &Self {
        if let Some(h) = self.0.handle.borrow().as_ref() {
            h.unref();
        }
        self
    }

    /// `getSendQueueSize()`.
    pub fn send_queue_size(&self) -> usize {
        self.0.handle.borrow().as_ref().map_or(0, Udp::send_queue_size)
    }

    /// `getSendQueueCount()`.
    pub fn send_queue_count(&self) -> usize {
        self.0.handle.borrow().as_ref().map_or(0, Udp::send_queue_count)
    }

    /// `'message'`.
    pub fn on_message(&self, f: impl Fn(&Socket, Message) + 'static) -> ListenerId {
        self.0.ev.on(Event::Message, false, Handler::Data(Rc::new(f)))
    }

    /// `'listening'`.
    pub fn on_listening(&self, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.plain(Event::Listening, f)
    }

    /// `'connect'`.
    pub fn on_connect(&self, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.plain(Event::Connect, f)
    }

    /// `'close'`.
    pub fn on_close(&self, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.plain(Event::Close, f)
    }

    /// `'error'`.
    pub fn on_error(&self, f: impl Fn(&Socket, &Error) + 'static) -> ListenerId {
        self.0.ev.on(Event::Error, false, Handler::Error(Rc::new(f)))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) -> bool {
        self.0.ev.remove(id)
    }

    fn plain(&self, event: Event, f: impl Fn(&Socket) + 'static) -> ListenerId {
        self.0.ev.on(event, false, Handler::Plain(Rc::new(f)))
    }
}
