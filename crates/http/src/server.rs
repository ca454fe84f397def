//! The HTTP server (Node 20, `lib/_http_server.js`): sockets in, `request` events out.
//!
//! Per connection: the socket's data goes through the parser; each request head
//! becomes an [`IncomingMessage`] and a [`ServerResponse`], and `request` is emitted.
//! While the server handles everything parsed from one read, the socket is corked, so
//! the responses to pipelined requests leave in one `writev`. Responses go out in
//! request order: a response writes to the socket once the ones before it have handed
//! all their bytes over. Parsing pauses while the socket's write side is backed up past
//! its highWaterMark (Node's rule), so a client that pipelines without reading cannot
//! grow the server's memory without bound.
//!
//! Limits and timeouts, with Node's defaults: `max_header_size` 16 KiB (431),
//! `headers_timeout` 60 s and `request_timeout` 300 s (408, checked every
//! `connections_checking_interval`), `keep_alive_timeout` 5 s, `max_requests_per_socket`
//! (503 past it), `require_host_header` (400). A request the parser rejects gets Node's
//! canned response (400, or 431/413/408) with `Connection: close`, then the socket is
//! destroyed, unless a `client_error` listener takes over.
//!
//! A request asking to switch protocols (`Upgrade`, or a CONNECT) goes to the `upgrade`
//! (`connect`) listeners with the socket and the bytes after its head, and the server
//! lets go of that socket ([`Server::on_upgrade`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};

use bytes::Bytes;
use millrace_reactor::{Handle, Loop, Timer};
use millrace_streams::{self as streams, net, net::Socket};

use crate::errors::{Code, Error};
use crate::headers::{has_word, DateCache};
use crate::incoming::{self, IncomingMessage, IncomingMessageExt};
use crate::parser::{join, Event, Parser, Seen};
use crate::response::{self, close_with_socket, ResponseConfig, ServerResponse, ServerResponseExt};

/// Server options, with Node 20's defaults.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `maxHeaderSize` (16 KiB): a head whose target, header names and values (as Node
    /// counts them) reach it is answered 431; so is one over 4 times this many bytes in
    /// all ([`crate::RAW_HEAD_FACTOR`]).
    pub max_header_size: usize,
    /// `maxHeadersCount` (None, Node's default: 1,000; `Some(0)`: no limit): how many
    /// headers go into `req.headers` (and are looked at for Host and Expect). Node's
    /// parser keeps a few more in `req.rawHeaders` (it hands long heads over 31 lines at
    /// a time); the default is not the 2,000 Node documents but the 1,000 it does.
    pub max_headers_count: Option<usize>,
    /// `headersTimeout` in ms (60 s; 0 = none): a head not complete in time gets 408.
    pub headers_timeout: u64,
    /// `requestTimeout` in ms (300 s; 0 = none): a request not complete in time gets 408.
    pub request_timeout: u64,
    /// `keepAliveTimeout` in ms (5 s; 0 = none): an idle keep-alive connection closes.
    pub keep_alive_timeout: u64,
    /// `connectionsCheckingInterval` in ms (30 s): how often the two timeouts above are
    /// checked.
    pub connections_checking_interval: u64,
    /// `maxRequestsPerSocket` (0 = unlimited): later requests get 503.
    pub max_requests_per_socket: u32,
    /// `requireHostHeader` (true): an HTTP/1.1 request without Host gets 400.
    pub require_host_header: bool,
    /// `highWaterMark` of the sockets and responses (`getDefaultHighWaterMark()` when the
    /// options are made: 16 KiB unless `set_default_high_water_mark` changed it).
    pub high_water_mark: usize,
    /// `server.timeout` in ms (0 = none): the socket idle timeout while a request is
    /// in progress.
    pub timeout: u64,
    /// `noDelay` (true, as Node's HTTP server): `TCP_NODELAY` on every connection, so
    /// the last write of a batch does not wait for the client's delayed ACK.
    pub no_delay: bool,
    /// `keepAlive` (false): TCP keep-alive probes on every connection (not HTTP
    /// keep-alive, which is always on), set after `no_delay` as Node's `net.Server` does.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay` in ms (0): the idle time before the first probe, in whole
    /// seconds. Under a second leaves the system's (2 hours by default), as in Node,
    /// where libuv's `TCP_KEEPIDLE` of 0 fails and the error is ignored.
    pub keep_alive_initial_delay: u64,
    /// `joinDuplicateHeaders` (false): a request's repeated fields that Node keeps once
    /// in `req.headers` (`host`, `content-type`, `authorization`, …) are joined with
    /// ", " instead (RFC 9110 §5.3), in the trailers too.
    pub join_duplicate_headers: bool,
    /// `uniqueHeaders` (none): response headers sent on one line even when set to
    /// several values, which are joined with "; " (as Node always does for `cookie`).
    /// Names are matched case-insensitively.
    pub unique_headers: Vec<String>,
    /// `rejectNonStandardBodyWrites` (false): a body written to a response that has
    /// none (HEAD, 204, 304) is `ERR_HTTP_BODY_NOT_ALLOWED` instead of being dropped
    /// (see [`ServerResponseExt::try_write`]).
    pub reject_non_standard_body_writes: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_header_size: 16 * 1024,
            max_headers_count: None,
            headers_timeout: 60_000,
            request_timeout: 300_000,
            keep_alive_timeout: 5_000,
            connections_checking_interval: 30_000,
            max_requests_per_socket: 0,
            require_host_header: true,
            high_water_mark: streams::default_high_water_mark(false),
            timeout: 0,
            no_delay: true,
            keep_alive: false,
            keep_alive_initial_delay: 0,
            join_duplicate_headers: false,
            unique_headers: Vec::new(),
            reject_non_standard_body_writes: false,
        }
    }
}

type RequestFn = dyn Fn(&IncomingMessage, &ServerResponse);
type ClientErrorFn = dyn Fn(&streams::Error, &Socket);
type ServerFn = dyn Fn(&Server);
type ServerErrorFn = dyn Fn(&Server, &streams::Error);
type NetDropFn = dyn Fn(&Server, &net::DropInfo);
type SocketFn = dyn Fn(&Socket);
type UpgradeFn = dyn Fn(&IncomingMessage, &Socket, &Bytes);
type DropFn = dyn Fn(&IncomingMessage, &Socket);

pub(crate) struct ServerInner {
    net: RefCell<Option<net::Server>>,
    max_connections: Cell<usize>,
    unref: Cell<bool>,
    on_net_drop: RefCell<Vec<Rc<NetDropFn>>>,
    opts: ServerOptions,
    on_request: RefCell<Vec<Rc<RequestFn>>>,
    on_check_continue: RefCell<Vec<Rc<RequestFn>>>,
    on_check_expectation: RefCell<Vec<Rc<RequestFn>>>,
    on_drop_request: RefCell<Vec<Rc<DropFn>>>,
    on_client_error: RefCell<Vec<Rc<ClientErrorFn>>>,
    on_connection: RefCell<Vec<Rc<SocketFn>>>,
    on_upgrade: RefCell<Vec<Rc<UpgradeFn>>>,
    on_connect: RefCell<Vec<Rc<UpgradeFn>>>,
    on_timeout: RefCell<Vec<Rc<SocketFn>>>,
    on_listening: RefCell<Vec<Rc<ServerFn>>>,
    on_close: RefCell<Vec<Rc<ServerFn>>>,
    on_error: RefCell<Vec<Rc<ServerErrorFn>>>,
    conns: RefCell<Vec<Rc<ConnInner>>>,
    check_timer: RefCell<Option<Timer>>,
    closing: Cell<bool>,
    lp: Loop,
    /// The `Date` value all its responses share.
    date: Rc<DateCache>,
    /// `unique_headers`, lower-cased (Node's `parseUniqueHeadersOption`).
    unique_headers: Option<Rc<[String]>>,
    recycled: RefCell<Recycled>,
}

/// How many messages back a finished request and response lend their memory to new ones.
const RECYCLE_AFTER: usize = 32;

/// The latest requests and responses, renewed as new ones once nothing else holds them
/// (`Stream::renew`: no allocation, no builder). A pipelined batch frees more streams at
/// once than the allocator's per-size caches hold (glibc's tcache keeps 7), so without
/// this most of the next batch's streams would take malloc's slow path. A response holds
/// its request, which it lets go only when it is renewed: requests are taken one message
/// later than responses. Emptied when the server has no connections.
#[derive(Default)]
struct Recycled {
    reqs: VecDeque<IncomingMessage>,
    ress: VecDeque<ServerResponse>,
}

impl Recycled {
    /// The request and response old enough to be reused, if there are.
    fn take(&mut self) -> (Option<IncomingMessage>, Option<ServerResponse>) {
        let req = if self.reqs.len() > RECYCLE_AFTER { self.reqs.pop_front() } else { None };
        let res = if self.ress.len() >= RECYCLE_AFTER { self.ress.pop_front() } else { None };
        (req, res)
    }

    fn keep(&mut self, req: &IncomingMessage, res: &ServerResponse) {
        self.reqs.push_back(req.clone());
        self.ress.push_back(res.clone());
    }
}

/// Node's `http.Server`.
#[derive(Clone)]
pub struct Server(Rc<ServerInner>);

/// `http.createServer(requestListener)`.
pub fn create_server(on_request: impl Fn(&IncomingMessage, &ServerResponse) + 'static) -> Server {
    Server::with_options(ServerOptions::default(), on_request)
}

/// Calls the listeners registered when the emit began (one, the usual case, without
/// copying the list).
fn emit<F: ?Sized>(list: &RefCell<Vec<Rc<F>>>, mut call: impl FnMut(&F)) -> bool {
    let one = match list.borrow().as_slice() {
        [] => return false,
        [f] => Some(f.clone()),
        _ => None,
    };
    match one {
        Some(f) => call(&f),
        None => {
            let snapshot: Vec<Rc<F>> = list.borrow().clone();
            for f in &snapshot {
                call(f);
            }
        }
    }
    true
}

impl Server {
    /// `http.createServer(options, requestListener)`.
    pub fn with_options(
        opts: ServerOptions,
        on_request: impl Fn(&IncomingMessage, &ServerResponse) + 'static,
    ) -> Server {
        let unique: Vec<String> = opts.unique_headers.iter().map(|n| n.to_ascii_lowercase()).collect();
        let s = Server(Rc::new(ServerInner {
            net: RefCell::new(None),
            max_connections: Cell::new(0),
            unref: Cell::new(false),
            on_net_drop: RefCell::new(Vec::new()),
            unique_headers: (!unique.is_empty()).then(|| unique.into()),
            opts,
            on_request: RefCell::new(Vec::new()),
            on_check_continue: RefCell::new(Vec::new()),
            on_check_expectation: RefCell::new(Vec::new()),
            on_drop_request: RefCell::new(Vec::new()),
            on_client_error: RefCell::new(Vec::new()),
            on_connection: RefCell::new(Vec::new()),
            on_upgrade: RefCell::new(Vec::new()),
            on_connect: RefCell::new(Vec::new()),
            on_timeout: RefCell::new(Vec::new()),
            on_listening: RefCell::new(Vec::new()),
            on_close: RefCell::new(Vec::new()),
            on_error: RefCell::new(Vec::new()),
            conns: RefCell::new(Vec::new()),
            check_timer: RefCell::new(None),
            closing: Cell::new(false),
            lp: Loop::current(),
            date: Rc::new(DateCache::new()),
            recycled: RefCell::new(Recycled::default()),
        }));
        s.on_request(on_request);
        s
    }

    /// `'request'`.
    pub fn on_request(&self, f: impl Fn(&IncomingMessage, &ServerResponse) + 'static) -> &Self {
        self.0.on_request.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'checkContinue'`: a request with `Expect: 100-continue`; call
    /// `res.write_continue()` to have the body sent. Without a listener the server
    /// answers `100 Continue` itself and emits `request`.
    pub fn on_check_continue(&self, f: impl Fn(&IncomingMessage, &ServerResponse) + 'static) -> &Self {
        self.0.on_check_continue.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'checkExpectation'`: a request with an `Expect` header other than
    /// `100-continue`; the listener answers it (`request` is not emitted). Without a
    /// listener the server answers 417 Expectation Failed.
    pub fn on_check_expectation(&self, f: impl Fn(&IncomingMessage, &ServerResponse) + 'static) -> &Self {
        self.0.on_check_expectation.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'dropRequest'`: a request past `max_requests_per_socket` on its connection,
    /// before the server answers it 503 (the listener cannot prevent that).
    pub fn on_drop_request(&self, f: impl Fn(&IncomingMessage, &Socket) + 'static) -> &Self {
        self.0.on_drop_request.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'clientError'`: a request the parser rejected, a timeout, or a socket error. The
    /// listener owns the socket (write a response, destroy it); without one the server
    /// answers 400 (431, 413, 408) with `Connection: close` and destroys the socket.
    pub fn on_client_error(&self, f: impl Fn(&streams::Error, &Socket) + 'static) -> &Self {
        self.0.on_client_error.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'connection'`.
    pub fn on_connection(&self, f: impl Fn(&Socket) + 'static) -> &Self {
        self.0.on_connection.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'upgrade'`: a request asking to switch protocols (an `Upgrade` header and
    /// `upgrade` among its `Connection` tokens). The listener gets the request (complete,
    /// with no body: `req.upgrade()` is true), the socket, and `head`, the bytes that
    /// followed the request head in the same read (the new protocol's first bytes). From
    /// then on the socket is the listener's: the server no longer parses it, answers
    /// nothing on it, applies none of its timeouts to it, and `close_idle_connections`,
    /// `close_all_connections` and [`Server::connections`] leave it out (the server's
    /// `close` still waits for it to close, as Node's does). The socket is half open:
    /// the client's FIN emits `end` and the listener decides when to end its side. It
    /// neither flows nor is paused (Node's `readableFlowing = null`): a `data`
    /// listener starts the flow. Without an `upgrade` listener such a request is
    /// answered as any other.
    pub fn on_upgrade(&self, f: impl Fn(&IncomingMessage, &Socket, &Bytes) + 'static) -> &Self {
        self.0.on_upgrade.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'connect'`: a `CONNECT` request (a tunnel), handed over as for
    /// [`Server::on_upgrade`]. Without a `connect` listener the socket is destroyed, as
    /// in Node.
    pub fn on_connect(&self, f: impl Fn(&IncomingMessage, &Socket, &Bytes) + 'static) -> &Self {
        self.0.on_connect.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'timeout'` (the listener of Node's `server.setTimeout(ms, cb)`; the time is the
    /// `timeout` option): a connection's socket was idle past its timeout (the
    /// server's, the keep-alive timeout between requests, or one a request or response
    /// set). As in Node, a timed-out socket is destroyed only if no listener took the
    /// event: the incomplete request's `timeout`, then the response's, then this one;
    /// a listener here owns every timed-out socket, idle keep-alive ones included.
    pub fn on_timeout(&self, f: impl Fn(&Socket) + 'static) -> &Self {
        self.0.on_timeout.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'error'`: the server could not listen (`EADDRINUSE`, named as Node names it:
    /// "listen EADDRINUSE: address already in use 127.0.0.1:8080"), or an accept failed.
    pub fn on_error(&self, f: impl Fn(&Server, &streams::Error) + 'static) -> &Self {
        self.0.on_error.borrow_mut().push(Rc::new(f));
        self
    }

    /// `'close'`: the server stopped and its last connection closed.
    pub fn on_close(&self, f: impl Fn(&Server) + 'static) -> &Self {
        self.0.on_close.borrow_mut().push(Rc::new(f));
        self
    }

    /// The options in effect.
    pub fn options(&self) -> &ServerOptions {
        &self.0.opts
    }

    /// `server.listen(port, host, cb)`: `cb` runs once listening (next tick). A failure
    /// to listen (`EADDRINUSE`) is emitted as `'error'` on the next tick, as in Node
    /// ([`on_error`](Server::on_error)); an unresolvable host and
    /// `ERR_SERVER_ALREADY_LISTEN` are returned. After a failed listen the server may
    /// listen again, as in Node.
    pub fn listen(&self, port: u16, host: &str, cb: impl Fn(&Server) + 'static) -> Result<(), streams::Error> {
        self.check_not_listening()?;
        let addr: SocketAddr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| streams::Error::with_code("ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}")))?;
        let netserver = self.net_server(cb);
        let me = self.clone();
        netserver.listen(addr, move |_| me.emit_listening())?;
        self.listening_with(netserver);
        Ok(())
    }

    /// `server.listen(path, cb)`: serves HTTP on a Unix domain socket at `path` (which
    /// must not exist; it is removed again when the server closes). `cb` runs once
    /// listening; a failure (`EADDRINUSE`, `EACCES`) is `'error'` on the next tick, named
    /// by the path. Requests on it have no remote address.
    pub fn listen_path(&self, path: impl AsRef<Path>, cb: impl Fn(&Server) + 'static) -> Result<(), streams::Error> {
        self.check_not_listening()?;
        let netserver = self.net_server(cb);
        let me = self.clone();
        netserver.listen_path(path, move |_| me.emit_listening())?;
        self.listening_with(netserver);
        Ok(())
    }

    /// `ERR_SERVER_ALREADY_LISTEN` while the server has a listening handle, or once it
    /// was closed (a closed server has dropped its listeners). A server whose listen
    /// failed (`EADDRINUSE`, reported as `'error'`) has none, and may listen again, as in
    /// Node (whose `listen` checks `this._handle`, cleared by the failure).
    fn check_not_listening(&self) -> Result<(), streams::Error> {
        let refused = self.0.net.borrow().as_ref().is_some_and(|n| n.listening() || self.0.closing.get());
        if refused {
            return Err(Error::new(
                Code::ERR_SERVER_ALREADY_LISTEN,
                "Listen method has been called more than once without closing.",
            )
            .into());
        }
        Ok(())
    }

    /// The net server under this one, its events forwarded (made by the first `listen`,
    /// reused by a `listen` after a failed one); `cb` waits for `listening`.
    fn net_server(&self, cb: impl Fn(&Server) + 'static) -> net::Server {
        self.0.on_listening.borrow_mut().push(Rc::new(cb));
        if let Some(netserver) = self.0.net.borrow().as_ref() {
            return netserver.clone();
        }
        // A listening server stays alive (the listening handle owns it), as in Node;
        // closing the server breaks the cycle.
        let me = self.clone();
        // Node's `net.Server.call(this, { allowHalfOpen: true, noDelay, keepAlive,
        // keepAliveInitialDelay, highWaterMark })`: the client's FIN is the server's to
        // answer (`socket_on_end`), and a socket handed to an `upgrade` or `connect`
        // listener stays half open until its user ends it.
        let o = &self.0.opts;
        let opts = net::SocketOptions {
            high_water_mark: Some(o.high_water_mark),
            allow_half_open: true,
            no_delay: o.no_delay,
            keep_alive: o.keep_alive,
            keep_alive_initial_delay: o.keep_alive_initial_delay,
            ..Default::default()
        };
        let netserver = net::Server::new(opts, move |_, socket| me.on_socket(socket));
        let me = self.clone();
        netserver.on_error(move |_, e| {
            emit(&me.0.on_error, |f| f(&me, e));
        });
        let me = self.clone();
        netserver.on_drop(move |_, info| {
            emit(&me.0.on_net_drop, |f| f(&me, info));
        });
        netserver.set_max_connections(self.0.max_connections.get());
        if self.0.unref.get() {
            netserver.unref();
        }
        netserver
    }

    fn emit_listening(&self) {
        let cbs = std::mem::take(&mut *self.0.on_listening.borrow_mut());
        for cb in cbs {
            cb(self);
        }
    }

    fn listening_with(&self, netserver: net::Server) {
        let first = self.0.net.borrow_mut().replace(netserver).is_none();
        if first {
            self.start_checking();
        }
    }

    /// `server.address()` (of a TCP server).
    pub fn address(&self) -> Option<SocketAddr> {
        self.0.net.borrow().as_ref()?.address()
    }

    /// `server.address()` of a server given a Unix domain socket path: the path.
    pub fn path(&self) -> Option<PathBuf> {
        self.0.net.borrow().as_ref()?.path()
    }

    /// `server.maxConnections = n` (net.Server's): with `n` connections open, a new one
    /// is closed at once, before any byte is read, and reported as `'drop'`
    /// ([`on_drop`](Server::on_drop)). 0 (the default) is no limit.
    pub fn set_max_connections(&self, n: usize) -> &Self {
        self.0.max_connections.set(n);
        if let Some(netserver) = self.0.net.borrow().as_ref() {
            netserver.set_max_connections(n);
        }
        self
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> usize {
        self.0.max_connections.get()
    }

    /// `'drop'` (net.Server's): a connection over
    /// [`max_connections`](Server::set_max_connections) was closed at once.
    pub fn on_drop(&self, f: impl Fn(&Server, &net::DropInfo) + 'static) -> &Self {
        self.0.on_net_drop.borrow_mut().push(Rc::new(f));
        self
    }

    /// `server.ref()`: a listening server keeps the loop alive (the default).
    pub fn ref_(&self) -> &Self {
        self.0.unref.set(false);
        if let Some(netserver) = self.0.net.borrow().as_ref() {
            netserver.ref_();
        }
        self
    }

    /// `server.unref()`: the loop may end while the server listens.
    pub fn unref(&self) -> &Self {
        self.0.unref.set(true);
        if let Some(netserver) = self.0.net.borrow().as_ref() {
            netserver.unref();
        }
        self
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.0.net.borrow().as_ref().is_some_and(net::Server::listening)
    }

    /// Open connections the server serves HTTP on (a socket handed to an `upgrade` or
    /// `connect` listener is the listener's, and not counted).
    pub fn connections(&self) -> usize {
        self.0.conns.borrow().len()
    }

    /// `server.close(cb)`: stops accepting, ends idle keep-alive connections at once;
    /// busy connections finish their response (sent with `Connection: close`) and end.
    /// `cb` and `close` follow once every connection has closed.
    pub fn close(&self, cb: impl Fn(&Server) + 'static) {
        self.0.on_close.borrow_mut().push(Rc::new(cb));
        self.0.closing.set(true);
        if let Some(t) = self.0.check_timer.borrow_mut().take() {
            t.close(|_| {});
        }
        let netserver = self.0.net.borrow().clone();
        match netserver {
            Some(netserver) => {
                let me = self.clone();
                netserver.close(move |_, _| {
                    let cbs = std::mem::take(&mut *me.0.on_close.borrow_mut());
                    for cb in cbs {
                        cb(&me);
                    }
                    me.release();
                });
            }
            None => {
                let me = self.clone();
                self.0.lp.next_tick(move || {
                    let cbs = std::mem::take(&mut *me.0.on_close.borrow_mut());
                    for cb in cbs {
                        cb(&me);
                    }
                });
            }
        }
        self.close_idle_connections();
    }

    /// Drops the listeners of a closed server (they may hold the server).
    fn release(&self) {
        self.drop_recycled();
        self.0.on_request.borrow_mut().clear();
        self.0.on_check_continue.borrow_mut().clear();
        self.0.on_check_expectation.borrow_mut().clear();
        self.0.on_drop_request.borrow_mut().clear();
        self.0.on_client_error.borrow_mut().clear();
        self.0.on_connection.borrow_mut().clear();
        self.0.on_error.borrow_mut().clear();
        self.0.on_net_drop.borrow_mut().clear();
        self.0.on_upgrade.borrow_mut().clear();
        self.0.on_connect.borrow_mut().clear();
        self.0.on_timeout.borrow_mut().clear();
    }

    /// Lets go of the streams kept for reuse.
    fn drop_recycled(&self) {
        let old = std::mem::take(&mut *self.0.recycled.borrow_mut());
        drop(old); // outside the borrow
    }

    /// `server.closeIdleConnections()`: destroys connections not serving a request.
    pub fn close_idle_connections(&self) {
        let idle: Vec<Rc<ConnInner>> = self.0.conns.borrow().iter().filter(|c| c.idle()).cloned().collect();
        for c in idle {
            c.socket.destroy(None);
        }
    }

    /// `server.closeAllConnections()`.
    pub fn close_all_connections(&self) {
        let all: Vec<Rc<ConnInner>> = self.0.conns.borrow().clone();
        for c in all {
            c.socket.destroy(None);
        }
    }

    /// The periodic check of headers/request timeouts (`checkConnections`).
    fn start_checking(&self) {
        let o = &self.0.opts;
        if (o.headers_timeout == 0 && o.request_timeout == 0) || o.connections_checking_interval == 0 {
            return;
        }
        let t = Timer::new(&self.0.lp);
        let me = Rc::downgrade(&self.0);
        let every = o.connections_checking_interval;
        let _ = t.start(every, every, move |t| match me.upgrade() {
            Some(inner) => Server(inner).check_connections(),
            None => t.close(|_| {}),
        });
        t.unref();
        *self.0.check_timer.borrow_mut() = Some(t);
    }

    fn check_connections(&self) {
        let now = self.0.lp.now();
        let o = &self.0.opts;
        let expired: Vec<Rc<ConnInner>> = self
            .0
            .conns
            .borrow()
            .iter()
            .filter(|c| match c.message_start.get() {
                None => false,
                Some(start) => {
                    let age = now.saturating_sub(start);
                    (o.headers_timeout > 0 && !c.head_done.get() && age > o.headers_timeout)
                        || (o.request_timeout > 0 && age > o.request_timeout)
                }
            })
            .cloned()
            .collect();
        for c in expired {
            c.message_start.set(None);
            c.socket_on_error(Error::new(Code::ERR_HTTP_REQUEST_TIMEOUT, "Request timeout").into());
        }
    }

    /// `connectionListenerInternal`.
    fn on_socket(&self, socket: &Socket) {
        let o = &self.0.opts;
        let conn = Rc::new(ConnInner {
            server: Rc::downgrade(&self.0),
            socket: socket.clone(),
            parser: RefCell::new(Parser::new(
                o.max_header_size,
                o.max_headers_count.map_or(crate::parser::MAX_HEADER_ENTRIES, |n| n.saturating_mul(2)),
            )),
            leftover: RefCell::new(Bytes::new()),
            incoming: RefCell::new(VecDeque::new()),
            outgoing: RefCell::new(VecDeque::new()),
            current: RefCell::new(None),
            body_req: RefCell::new(None),
            paused: Cell::new(false),
            requests: Cell::new(0),
            keep_alive_timeout_set: Cell::new(false),
            message_start: Cell::new(None),
            head_done: Cell::new(false),
            in_execute: Cell::new(false),
            handing_off: Cell::new(false),
            errored: Cell::new(false),
            have_flushed: Cell::new(false),
            upgraded: Cell::new(false),
            socket_listeners: Cell::new(None),
            ahead: RefCell::new(VecDeque::new()),
            cfg: ResponseConfig {
                date: self.0.date.clone(),
                keep_alive: response::keep_alive_lines(o.keep_alive_timeout, o.max_requests_per_socket),
                high_water_mark: o.high_water_mark,
                unique_headers: self.0.unique_headers.clone(),
                reject_body_writes: o.reject_non_standard_body_writes,
            },
        });
        self.0.conns.borrow_mut().push(conn.clone());
        if o.timeout > 0 {
            socket.set_timeout(o.timeout);
        }
        // The socket's listeners own the connection until the socket closes. All but
        // `close` are taken off when the socket is handed to an `upgrade` listener.
        let c = conn.clone();
        let timeout = socket.on_timeout(move |_| c.socket_on_timeout());
        let c = conn.clone();
        let data = socket.on_data(move |_, chunk| c.on_data(chunk));
        let c = conn.clone();
        let error = socket.on_error(move |_, e| c.socket_on_error(e.clone()));
        let c = conn.clone();
        let end = socket.on_end(move |_| c.socket_on_end());
        let c = conn.clone();
        let drain = socket.on_drain(move |_| c.socket_on_drain());
        conn.socket_listeners.set(Some([timeout, data, error, end, drain]));
        let c = conn;
        socket.on_close(move |_| c.socket_on_close());
        emit(&self.0.on_connection, |f| f(socket));
    }
}

/// One connection's state (Node's `state` object in `connectionListenerInternal`, plus
/// the parser).
pub(crate) struct ConnInner {
    server: Weak<ServerInner>,
    socket: Socket,
    parser: RefCell<Parser>,
    leftover: RefCell<Bytes>,
    /// Requests whose response has not finished.
    incoming: RefCell<VecDeque<IncomingMessage>>,
    /// Responses waiting for the socket.
    outgoing: RefCell<VecDeque<ServerResponse>>,
    /// The response that may write (Node's `socket._httpMessage`).
    current: RefCell<Option<ServerResponse>>,
    /// The request whose body is being parsed.
    body_req: RefCell<Option<IncomingMessage>>,
    /// Node's `socket._paused`: parsing stopped for backpressure.
    paused: Cell<bool>,
    requests: Cell<u32>,
    keep_alive_timeout_set: Cell<bool>,
    /// When the request in progress began (loop ms), for the timeouts.
    message_start: Cell<Option<u64>>,
    head_done: Cell<bool>,
    in_execute: Cell<bool>,
    /// Inside `response_done`'s hand-off loop.
    handing_off: Cell<bool>,
    errored: Cell<bool>,
    /// Node's parser `have_flushed_`: once it handed header lines to JavaScript early
    /// (trailers, or a head of [`FLUSHED_HEAD_LINES`] lines or more), every later head
    /// on the connection is handed over the same way, and each such hand-over runs the
    /// next-tick queue (a `MakeCallback`).
    have_flushed: Cell<bool>,
    /// The socket was handed to an `upgrade` or `connect` listener: no more parsing.
    upgraded: Cell<bool>,
    /// The server's listeners on the socket that an upgrade takes off.
    socket_listeners: Cell<Option<[streams::ListenerId; 5]>>,
    /// Node hands the socket to the next response at `finish`; we hand it on as soon as
    /// a response wrote everything, so a batch's responses leave in one `writev`. While
    /// the batch's socket is corked, each such early hand-off is noted here: the
    /// socket's buffered writes at that moment, and the response whose `finish` Node
    /// would wait for. If the connection fails before that `finish`, what was written
    /// after the mark is taken back: Node would not have sent it.
    ahead: RefCell<VecDeque<(usize, ServerResponse)>>,
    cfg: ResponseConfig,
}

/// How many header lines make Node's parser hand a head to JavaScript early
/// (`kMaxHeaderFieldsCount`, 32, in `node_http_parser.cc`).
const FLUSHED_HEAD_LINES: usize = 32;

impl ConnInner {
    fn server(&self) -> Option<Server> {
        self.server.upgrade().map(Server)
    }

    /// The server's `Date` value.
    pub(crate) fn date(&self) -> &DateCache {
        &self.cfg.date
    }

    /// `close()` was called on the server.
    pub(crate) fn server_closing(&self) -> bool {
        self.server().is_some_and(|s| s.0.closing.get())
    }

    /// Between requests, with nothing in flight.
    fn idle(&self) -> bool {
        self.incoming.borrow().is_empty() && self.parser.borrow().idle() && self.leftover.borrow().is_empty()
    }

    fn on_data(self: &Rc<Self>, chunk: Bytes) {
        {
            let mut left = self.leftover.borrow_mut();
            let prev = std::mem::take(&mut *left);
            *left = join(prev, chunk);
        }
        self.execute();
    }

    /// Parses what is buffered and dispatches, the socket corked around the batch.
    fn execute(self: &Rc<Self>) {
        if self.in_execute.get() || self.errored.get() || self.upgraded.get() {
            return;
        }
        self.in_execute.set(true);
        self.socket.cork();
        loop {
            if self.paused.get() || self.errored.get() || self.upgraded.get() {
                break;
            }
            if self.message_start.get().is_none() && !self.leftover.borrow().is_empty() {
                self.message_start.set(Some(self.socket.get_loop().now()));
                self.head_done.set(false);
            }
            let mut input = std::mem::take(&mut *self.leftover.borrow_mut());
            let step = self.parser.borrow_mut().execute(&mut input);
            *self.leftover.borrow_mut() = input;
            match step {
                Ok(None) => break,
                Ok(Some(Event::Head(head))) => {
                    self.head_done.set(true);
                    if self.have_flushed.get() || head.raw_headers.len() >= FLUSHED_HEAD_LINES {
                        // Node's slow path (`Flush()`): the head goes to JavaScript
                        // through `MakeCallback`, which runs the next-tick queue first,
                        // so earlier requests' `end` handlers run before this request.
                        self.have_flushed.set(true);
                        self.socket.get_loop().run_next_ticks();
                    }
                    self.on_head(head);
                }
                Ok(Some(Event::Body(b))) => {
                    let req = self.body_req.borrow().clone();
                    if let Some(req) = req {
                        if !req.push(b) {
                            self.socket.pause(); // readStop: the body is read slowly
                        }
                    }
                    // Node calls `parserOnBody` through MakeCallback, which runs the
                    // next-tick queue after it (unlike the head and message-complete
                    // callbacks): earlier requests' `end` handlers run here, so their
                    // responses precede an error later in the same read.
                    self.socket.get_loop().run_next_ticks();
                }
                Ok(Some(Event::Done(trailers))) => {
                    if !trailers.is_empty() {
                        // Trailers are flushed to JavaScript the same way, before the
                        // message completes.
                        self.have_flushed.set(true);
                        self.socket.get_loop().run_next_ticks();
                    }
                    self.message_start.set(None);
                    let req = self.body_req.borrow_mut().take();
                    if let Some(req) = req {
                        incoming::set_trailers(&req, trailers);
                        req.ext().complete.set(true);
                        req.push(None);
                    }
                }
                Err(e) => {
                    self.socket_on_error(e.into());
                    break;
                }
            }
        }
        self.socket.uncork();
        self.in_execute.set(false);
        // Node runs the finishes (and hands the socket on) right after this read's
        // callbacks: past here, nothing written ahead is taken back.
        self.ahead.borrow_mut().clear();
    }

    /// `parserOnIncoming`.
    fn on_head(self: &Rc<Self>, head: crate::parser::RequestHead) {
        let Some(server) = self.server() else { return };
        self.reset_socket_timeout(&server);
        let has_body = head.has_body;
        let keep_alive = head.keep_alive && !server.0.closing.get();
        if head.upgrade {
            let connect = head.method == "CONNECT";
            let listeners = if connect { &server.0.on_connect } else { &server.0.on_upgrade };
            if !listeners.borrow().is_empty() {
                self.hand_over(head, listeners);
                return;
            }
            if connect {
                self.socket.destroy(None); // no 'connect' listener: Node destroys the socket
                self.errored.set(true);
                return;
            }
            // No 'upgrade' listener: an ordinary request (`req.upgrade` false).
        }
        let (old_req, old_res) = server.0.recycled.borrow_mut().take();
        let join = server.0.opts.join_duplicate_headers;
        let req = incoming::new_incoming(head, &self.socket, Rc::downgrade(self), join, old_req, |spans| {
            self.parser.borrow_mut().give_spare(spans)
        });
        self.incoming.borrow_mut().push_back(req.clone());

        // Stop reading while the socket's write side is backed up.
        if !self.paused.get() && self.socket.writable_need_drain() {
            self.paused.set(true);
            self.socket.pause();
        }

        let res = response::new_response(&req, keep_alive, Rc::downgrade(self), &self.cfg, old_res);
        server.0.recycled.borrow_mut().keep(&req, &res);
        let assigned = self.current.borrow().is_none();
        if assigned {
            self.assign(&res);
        } else {
            self.outgoing.borrow_mut().push_back(res.clone());
        }
        // `resOnFinish` and the close check come through the response's observe
        // hook (`response::observe`), ahead of the user's listeners as in Node.

        let mut handled = false;
        let o = &server.0.opts;
        if req.http_version_major() == 1 && req.http_version_minor() == 1 {
            if o.require_host_header && !req.ext().has(Seen::HOST) {
                let _ = res.write_head_with(400, None, &[("Connection", "close")]);
                res.end();
                self.finish_head(&req, has_body);
                return;
            }
            if o.max_requests_per_socket > 0 {
                self.requests.set(self.requests.get() + 1);
                res.ext().max_requests_reached.set(o.max_requests_per_socket <= self.requests.get());
            }
            if o.max_requests_per_socket > 0 && o.max_requests_per_socket < self.requests.get() {
                handled = true;
                emit(&server.0.on_drop_request, |f| f(&req, &self.socket));
                let _ = res.write_head(503);
                res.end();
            } else if let Some(expect) =
                req.ext().has(Seen::EXPECT).then(|| req.headers().get_str("expect").map(str::to_owned)).flatten()
            {
                handled = true;
                if has_word(expect.as_bytes(), "100-continue") {
                    res.ext().expect_continue.set(true);
                    if !server.0.on_check_continue.borrow().is_empty() {
                        emit(&server.0.on_check_continue, |f| f(&req, &res));
                    } else {
                        res.write_continue();
                        emit(&server.0.on_request, |f| f(&req, &res));
                    }
                } else if !emit(&server.0.on_check_expectation, |f| f(&req, &res)) {
                    let _ = res.write_head(417);
                    res.end();
                }
            }
        }
        if !handled {
            emit(&server.0.on_request, |f| f(&req, &res));
        }
        self.finish_head(&req, has_body);
    }

    /// The upgrade branch of `onParserExecuteCommon`: the server lets go of the socket
    /// (its listeners off, no more parsing, out of the connection list), and the
    /// `upgrade` or `connect` listeners get the request, the socket and what followed
    /// the head. Node's parser stops at such a head (`HPE_PAUSED_UPGRADE`), whatever it
    /// says about a body: any body is part of `head`. Responses to earlier requests on
    /// the socket still go out in order (the connection lives on in the socket's `close`
    /// listener, which cleans them up).
    fn hand_over(&self, head: crate::parser::RequestHead, listeners: &RefCell<Vec<Rc<UpgradeFn>>>) {
        self.upgraded.set(true);
        self.message_start.set(None);
        let rest = std::mem::take(&mut *self.leftover.borrow_mut());
        for id in self.socket_listeners.take().into_iter().flatten() {
            self.socket.off(id);
        }
        self.leave_server();
        // Nothing of the request is read from the socket any more: no connection to
        // read for it.
        let join = self.server().is_some_and(|s| s.0.opts.join_duplicate_headers);
        let req = incoming::new_incoming(head, &self.socket, Weak::new(), join, None, |_| {});
        let e = req.ext();
        e.upgrade.set(true);
        e.complete.set(true);
        req.push(None);
        self.socket.set_readable_flowing(None);
        emit(listeners, |f| f(&req, &self.socket, &rest));
    }

    /// After the head: a request without a body is complete at once.
    fn finish_head(&self, req: &IncomingMessage, has_body: bool) {
        if has_body {
            *self.body_req.borrow_mut() = Some(req.clone());
        } else {
            self.message_start.set(None);
            req.ext().complete.set(true);
            req.push(None);
        }
    }

    fn assign(&self, res: &ServerResponse) {
        *self.current.borrow_mut() = Some(res.clone());
        response::assign_socket(res, &self.socket);
    }

    /// A response handed all its bytes to the socket: the next one may write. Handing
    /// the socket on can complete the next response at once (its queued output goes
    /// out), which hands it on again: a loop, not a recursion, however deep the
    /// pipeline.
    pub(crate) fn response_done(&self, res: &ServerResponse) {
        let is_current = self.current.borrow().as_ref().is_some_and(|c| c == res);
        if !is_current || res.ext().last.get() {
            return;
        }
        *self.current.borrow_mut() = None;
        response::detach_socket(res);
        if self.in_execute.get() {
            self.ahead.borrow_mut().push_back((self.socket.writable_buffered(), res.clone()));
        }
        if self.handing_off.get() {
            return; // the loop below goes on
        }
        self.handing_off.set(true);
        // Corked: the queued responses handed the socket here leave in one `writev`
        // (outside `execute`, after a drain, the socket is not corked otherwise).
        self.socket.cork();
        while self.current.borrow().is_none() {
            let next = self.outgoing.borrow_mut().pop_front();
            match next {
                Some(next) => self.assign(&next),
                None => break,
            }
        }
        self.socket.uncork();
        self.handing_off.set(false);
    }

    /// `resOnFinish`.
    pub(crate) fn res_on_finish(&self, req: &IncomingMessage, res: &ServerResponse) {
        {
            // Node hands the socket on now: what the next response wrote is its own.
            let mut ahead = self.ahead.borrow_mut();
            if ahead.front().is_some_and(|(_, r)| r == res) {
                ahead.pop_front();
            }
        }
        {
            let mut inc = self.incoming.borrow_mut();
            if inc.front().is_some_and(|r| r == req) {
                inc.pop_front();
            } else if let Some(i) = inc.iter().position(|r| r == req) {
                // Responses finish in request order; if one ever did not, its request
                // must still leave the queue rather than pin it for the connection.
                debug_assert!(false, "response finished out of order");
                inc.remove(i);
            }
        }
        // Node: `if (!req._consuming && !req._readableState.resumeScheduled) req._dump()`.
        if !req.ext().consuming.get() && !req.readable_state().resume_scheduled {
            incoming::dump(req);
        }
        let is_current = self.current.borrow().as_ref().is_some_and(|c| c == res);
        if is_current {
            *self.current.borrow_mut() = None;
            response::detach_socket(res);
        }
        let closing = self.server().is_some_and(|s| s.0.closing.get());
        // Once the socket is an `upgrade` listener's, a response to a request before the
        // upgrade neither ends it nor sets its timeout (Node's `resOnFinish` would, on a
        // socket it no longer reads).
        let owned = !self.upgraded.get();
        if owned && (res.ext().last.get() || (closing && self.incoming.borrow().is_empty())) {
            // destroySoon: end, then destroy once finished.
            if self.socket.writable() {
                self.socket.end();
            }
            if self.socket.writable_finished() {
                self.socket.destroy(None);
            } else {
                self.socket.once_finish(|s| {
                    s.destroy(None);
                });
            }
        } else if self.current.borrow().is_none() {
            let next = self.outgoing.borrow_mut().pop_front();
            match next {
                Some(next) => self.assign(&next),
                None if owned => {
                    if let Some(server) = self.server() {
                        let ka = server.0.opts.keep_alive_timeout;
                        if ka > 0 {
                            // Node adds a second so the client times out first.
                            self.socket.set_timeout(ka + 1000);
                            self.keep_alive_timeout_set.set(true);
                        }
                    }
                }
                None => {}
            }
        }
    }

    /// The response closed; if it never finished, the connection is gone.
    pub(crate) fn res_on_close(&self, res: &ServerResponse) {
        let is_current = self.current.borrow().as_ref().is_some_and(|c| c == res);
        if is_current && !res.writable_finished() {
            *self.current.borrow_mut() = None;
        }
    }

    /// `resetSocketTimeout`.
    fn reset_socket_timeout(&self, server: &Server) {
        if self.keep_alive_timeout_set.get() {
            self.socket.set_timeout(server.0.opts.timeout);
            self.keep_alive_timeout_set.set(false);
        }
    }

    /// `readStart(socket)` from `IncomingMessage._read`.
    pub(crate) fn read_start(&self) {
        if !self.paused.get() && self.socket.readable() {
            self.socket.resume();
        }
    }

    /// `socketOnDrain`: the write side caught up; parsing may go on.
    fn socket_on_drain(self: &Rc<Self>) {
        if self.paused.get() {
            self.paused.set(false);
            self.socket.resume();
            self.execute();
        }
    }

    /// `socketOnTimeout`: the request whose body is coming, the response holding the
    /// socket and the server are told; the socket is destroyed if none of them listens.
    fn socket_on_timeout(&self) {
        let req = self.body_req.borrow().clone();
        let req_took = req.is_some_and(|r| !r.complete() && r.emit_event(streams::Event::Timeout));
        let res = self.current.borrow().clone();
        let res_took = res.is_some_and(|r| r.emit_event(streams::Event::Timeout));
        let server_took = self.server().is_some_and(|s| emit(&s.0.on_timeout, |f| f(&self.socket)));
        if !req_took && !res_took && !server_took {
            self.socket.destroy(None);
        }
    }

    /// `socketOnEnd` (with `httpAllowHalfOpen` false, Node's only setting): the client
    /// will send nothing more, so the socket is ended; once it closes, requests still
    /// waiting for their response are aborted (`socket_on_close`).
    fn socket_on_end(&self) {
        let pending = self.leftover.borrow().clone();
        if let Err(e) = self.parser.borrow().finish(&pending) {
            self.socket_on_error(e.into());
            return;
        }
        self.socket.end();
    }

    /// The socket has closed (its `close` is being emitted, or was).
    pub(crate) fn socket_closed(&self) -> bool {
        self.socket.closed()
    }

    /// `abortIncoming`: every request whose response has not finished is destroyed with
    /// `ECONNRESET` ("aborted").
    fn abort_incoming(&self) {
        loop {
            let Some(req) = self.incoming.borrow_mut().pop_front() else { break };
            if !req.destroyed() {
                req.destroy(Some(streams::Error::with_code("ECONNRESET", "aborted")));
            }
        }
    }

    /// `socketOnError`.
    fn socket_on_error(&self, e: streams::Error) {
        if self.errored.get() {
            return;
        }
        self.errored.set(true);
        let server = self.server();
        let handled = server.as_ref().is_some_and(|s| emit(&s.0.on_client_error, |f| f(&e, &self.socket)));
        if handled {
            return;
        }
        // Responses handed the socket ahead of Node's order take back what they wrote;
        // in Node the response before them still holds the socket, its head sent.
        let first_ahead = self.ahead.borrow_mut().drain(..).next();
        if let Some((keep, _)) = &first_ahead {
            self.socket.discard_buffered_writes(*keep);
        }
        // The socket is corked while a batch is handled: what the batch's responses wrote
        // leaves now, as Node (which does not cork) wrote it at once, and before the
        // canned response and the destroy.
        while self.socket.writable_corked() > 0 {
            self.socket.uncork();
        }
        let head_sent = first_ahead.is_some() || self.current.borrow().as_ref().is_some_and(|r| r.headers_sent());
        if self.socket.writable() && !head_sent {
            let canned: &'static [u8] = match e.code() {
                Some("HPE_HEADER_OVERFLOW") => {
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
                }
                Some("HPE_CHUNK_EXTENSIONS_OVERFLOW") => b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n",
                Some("ERR_HTTP_REQUEST_TIMEOUT") => b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n",
                _ => b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
            };
            self.socket.write(Bytes::from_static(canned));
        }
        if !self.socket.destroyed() {
            self.socket.destroy(Some(e));
        }
    }

    /// `socketOnClose`: pending requests are aborted, responses closed.
    fn socket_on_close(&self) {
        self.abort_incoming();
        // `onServerResponseClose`: the response holding the socket closes now, inside
        // the socket's `close`; the queued ones (which Node leaves open) a tick later.
        let current = self.current.borrow_mut().take();
        if let Some(res) = current {
            close_with_socket(&res, true);
        }
        let responses: Vec<ServerResponse> = self.outgoing.borrow_mut().drain(..).collect();
        for res in responses {
            close_with_socket(&res, false);
        }
        self.body_req.borrow_mut().take();
        self.leave_server();
    }

    /// Takes the connection out of the server's list (its socket closed, or went to an
    /// `upgrade` listener); the streams kept for reuse go with the last one.
    fn leave_server(&self) {
        if let Some(server) = self.server() {
            server.0.conns.borrow_mut().retain(|c| !std::ptr::eq(Rc::as_ptr(c), self));
            if server.0.conns.borrow().is_empty() {
                server.drop_recycled();
            }
        }
    }
}
