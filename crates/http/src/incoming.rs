//! `IncomingMessage` (Node 20, `lib/_http_incoming.js`): the request as a Readable.
//!
//! The head is parsed before the message is created; the body is pushed into it as the
//! parser produces it. When `push` returns false the connection's socket is paused, so
//! a request body read slowly slows the client down; `_read` resumes it (unless the
//! server paused the socket itself for pipelining backpressure). A body nobody reads is
//! dumped (drained and discarded) when the response finishes, so keep-alive goes on.

use std::cell::{Cell, OnceCell, RefCell};
use std::net::SocketAddr;
use std::rc::Weak;

use bytes::Bytes;
use millrace_streams::{finished, net::Socket, Absent, Builder, Code, Error, Event, ListenerId, Stream};

use crate::headers::{DistinctHeaders, Headers, RawHeaders, Span};
use crate::parser::Seen;
use crate::server::ConnInner;

/// The request half of `IncomingMessage`: what was parsed, and where it came from.
pub struct IncomingState {
    method: &'static str,
    /// The target's place in the head (the raw headers' block).
    url: (u32, u32),
    version: (u8, u8),
    raw_headers: RawHeaders,
    /// How many of the raw headers make `headers` (Node's `maxHeaderPairs`).
    header_pairs: u32,
    seen: Seen,
    /// The server's `joinDuplicateHeaders`.
    join_duplicates: bool,
    headers: OnceCell<Headers>,
    raw_trailers: RefCell<RawHeaders>,
    pub(crate) complete: Cell<bool>,
    pub(crate) consuming: Cell<bool>,
    pub(crate) upgrade: Cell<bool>,
    aborted: Cell<bool>,
    dumped: Cell<bool>,
    socket: Socket,
    conn: Weak<ConnInner>,
}

/// Node's `http.IncomingMessage`: a Readable of the request body.
pub type IncomingMessage = Stream<Bytes, Absent, IncomingState>;

/// The request API of an [`IncomingMessage`] (Node's properties as methods).
pub trait IncomingMessageExt {
    /// `req.method`.
    fn method(&self) -> &str;
    /// `req.url`: the request target as sent.
    fn url(&self) -> &str;
    /// `req.httpVersion`: `"1.1"` or `"1.0"`.
    fn http_version(&self) -> String;
    /// `req.httpVersionMajor`.
    fn http_version_major(&self) -> u8;
    /// `req.httpVersionMinor`.
    fn http_version_minor(&self) -> u8;
    /// `req.headers`: lower-cased, duplicates merged as Node merges them (with the
    /// server's `join_duplicate_headers`, the fields Node keeps once are joined too).
    fn headers(&self) -> &Headers;
    /// `req.headersDistinct`: every value of every header, as lists.
    fn headers_distinct(&self) -> DistinctHeaders;
    /// `req.rawHeaders`: every (name, value) as received, case and order kept.
    fn raw_headers(&self) -> &RawHeaders;
    /// `req.trailers` (after `end`).
    fn trailers(&self) -> Headers;
    /// `req.trailersDistinct` (after `end`).
    fn trailers_distinct(&self) -> DistinctHeaders;
    /// `req.rawTrailers`.
    fn raw_trailers(&self) -> RawHeaders;
    /// `req.complete`: the whole message was received.
    fn complete(&self) -> bool;
    /// `req.upgrade`: the request was handed to an `upgrade` or `connect` listener
    /// (false for a request with `Upgrade` headers that no listener took: it is
    /// answered as any other).
    fn upgrade(&self) -> bool;
    /// `req.aborted`: the request was destroyed before its body was read to the end or
    /// before it was complete (the client went away, or `destroy` was called).
    fn aborted(&self) -> bool;
    /// `'aborted'`: emitted when [`IncomingMessageExt::aborted`] becomes true, before
    /// `error` and `close` (Node documents it as deprecated in favour of `close`, and
    /// still emits it).
    fn on_aborted(&self, f: impl Fn(&IncomingMessage) + 'static) -> ListenerId;
    /// `req.setTimeout(ms)`: the socket's idle timeout (`socket.setTimeout`).
    fn set_timeout(&self, ms: u64) -> &Self;
    /// `'timeout'` (the listener of Node's `req.setTimeout(ms, cb)`): the socket timed
    /// out while this request's body was still coming; with a listener the server
    /// leaves the socket alone.
    fn on_timeout(&self, f: impl Fn(&IncomingMessage) + 'static) -> ListenerId;
    /// `req.socket`.
    fn socket(&self) -> &Socket;
    /// `req.socket.remoteAddress`/`remotePort`.
    fn remote_addr(&self) -> Option<SocketAddr>;
}

impl IncomingMessageExt for IncomingMessage {
    fn method(&self) -> &str {
        self.ext().method
    }

    fn url(&self) -> &str {
        let e = self.ext();
        let (start, end) = e.url;
        // The request line takes printable ASCII only: always UTF-8.
        std::str::from_utf8(&e.raw_headers.block()[start as usize..end as usize]).unwrap_or_default()
    }

    fn http_version(&self) -> String {
        let (a, b) = self.ext().version;
        format!("{a}.{b}")
    }

    fn http_version_major(&self) -> u8 {
        self.ext().version.0
    }

    fn http_version_minor(&self) -> u8 {
        self.ext().version.1
    }

    fn headers(&self) -> &Headers {
        let e = self.ext();
        e.headers.get_or_init(|| Headers::from_raw_lines(&e.raw_headers, e.header_pairs as usize, e.join_duplicates))
    }

    fn headers_distinct(&self) -> DistinctHeaders {
        let e = self.ext();
        DistinctHeaders::from_raw_lines(&e.raw_headers, e.header_pairs as usize)
    }

    fn raw_headers(&self) -> &RawHeaders {
        &self.ext().raw_headers
    }

    fn trailers(&self) -> Headers {
        let e = self.ext();
        let raw = e.raw_trailers.borrow();
        Headers::from_raw_lines(&raw, raw.len(), e.join_duplicates)
    }

    fn trailers_distinct(&self) -> DistinctHeaders {
        let raw = self.ext().raw_trailers.borrow();
        DistinctHeaders::from_raw_lines(&raw, raw.len())
    }

    fn raw_trailers(&self) -> RawHeaders {
        self.ext().raw_trailers.borrow().clone()
    }

    fn complete(&self) -> bool {
        self.ext().complete.get()
    }

    fn upgrade(&self) -> bool {
        self.ext().upgrade.get()
    }

    fn aborted(&self) -> bool {
        self.ext().aborted.get()
    }

    fn on_aborted(&self, f: impl Fn(&IncomingMessage) + 'static) -> ListenerId {
        self.on_event(Event::Aborted, f)
    }

    fn set_timeout(&self, ms: u64) -> &Self {
        self.ext().socket.set_timeout(ms);
        self
    }

    fn on_timeout(&self, f: impl Fn(&IncomingMessage) + 'static) -> ListenerId {
        self.on_event(Event::Timeout, f)
    }

    fn socket(&self) -> &Socket {
        &self.ext().socket
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.ext().socket.remote_addr()
    }
}

impl IncomingState {
    /// True if the request has the header, as noted by the parser (no scan, and
    /// `req.headers` is not built).
    pub(crate) fn has(&self, h: Seen) -> bool {
        self.seen.has(h)
    }

    fn new(head: crate::parser::RequestHead, socket: &Socket, conn: Weak<ConnInner>, join_duplicates: bool) -> Self {
        IncomingState {
            method: head.method,
            url: head.url,
            version: head.version,
            raw_headers: head.raw_headers,
            header_pairs: head.header_pairs,
            seen: head.seen,
            join_duplicates,
            headers: OnceCell::new(),
            raw_trailers: RefCell::new(RawHeaders::default()),
            complete: Cell::new(false),
            consuming: Cell::new(false),
            upgrade: Cell::new(false),
            aborted: Cell::new(false),
            dumped: Cell::new(false),
            socket: socket.clone(),
            conn,
        }
    }
}

/// `new IncomingMessage(socket)` for a parsed head: `reuse`, a finished request nothing
/// holds, is renewed in place (its header offsets go back to the parser through
/// `give_back`); otherwise a new one is built. A renewed request keeps the
/// highWaterMark it was built with: the server's, as every one of its sockets has.
/// `join_duplicates` is the server's `joinDuplicateHeaders`.
pub(crate) fn new_incoming(
    head: crate::parser::RequestHead,
    socket: &Socket,
    conn: Weak<ConnInner>,
    join_duplicates: bool,
    reuse: Option<IncomingMessage>,
    give_back: impl FnOnce(Vec<Span>),
) -> IncomingMessage {
    let mut head = Some(head);
    if let Some(old) = reuse {
        let renewed = old.renew(|e| {
            give_back(e.raw_headers.take_spans());
            if let Some(head) = head.take() {
                *e = IncomingState::new(head, socket, conn.clone(), join_duplicates);
            }
        });
        if let Ok(req) = renewed {
            debug_assert_eq!(req.readable_high_water_mark(), socket.readable_high_water_mark());
            return req;
        }
    }
    let head = head.expect("the head is taken only when the request is renewed");
    // Node: `new IncomingMessage(socket)` takes the socket's readableHighWaterMark.
    Builder::readable_ext(IncomingState::new(head, socket, conn, join_duplicates))
        .high_water_mark(socket.readable_high_water_mark())
        .read(|req: &IncomingMessage, _| {
            // IncomingMessage.prototype._read: consuming; readStart(socket).
            let e = req.ext();
            e.consuming.set(true);
            if let Some(conn) = e.conn.upgrade() {
                conn.read_start();
            }
        })
        .destroy(|req, err, cb| {
            // IncomingMessage.prototype._destroy: a request destroyed before its end
            // was read, or before it was complete, is aborted (`aborted`) and takes its
            // socket down with it, calling back once the socket has closed; otherwise
            // the callback comes a tick later. Either way it is `process.nextTick(
            // onError, ...)`, so a request's `close` follows the `close` of a response
            // ended in its `end` listener.
            let e = req.ext();
            if !req.readable_ended() || !e.complete.get() {
                e.aborted.set(true);
                req.emit_event(Event::Aborted);
            }
            if e.aborted.get() && !e.socket.destroyed() {
                e.socket.destroy(err.clone());
                let req = req.clone();
                // The cleanup is not needed: the socket drops its listeners at close.
                let _ = finished(&e.socket, move |socket_err| {
                    let socket_err = socket_err.filter(|x| !x.is(Code::ERR_STREAM_PREMATURE_CLOSE));
                    on_error(&req, socket_err.or(err), cb);
                });
            } else {
                on_error(req, err, cb);
            }
        })
        .build()
}

/// Node's `process.nextTick(onError, req, err, cb)`: the error reaches `error` listeners
/// only if there are any when the tick runs (Node's backward-compatible rule); without
/// an error, the tick allocates nothing.
fn on_error(
    req: &IncomingMessage,
    err: Option<Error>,
    cb: millrace_streams::DestroyCallback<Bytes, Absent, IncomingState>,
) {
    match err {
        None => cb.call_on_next_tick(None),
        Some(err) => {
            let r = req.clone();
            req.get_loop().next_tick(move || {
                let listened = r.listener_count(Event::Error) > 0;
                cb.call(listened.then_some(err));
            });
        }
    }
}

pub(crate) fn set_trailers(req: &IncomingMessage, trailers: RawHeaders) {
    *req.ext().raw_trailers.borrow_mut() = trailers;
}

/// `IncomingMessage.prototype._dump`: discard an unread body.
pub(crate) fn dump(req: &IncomingMessage) {
    let e = req.ext();
    if !e.dumped.get() {
        e.dumped.set(true);
        req.remove_all_listeners(Event::Data);
        req.resume();
    }
}
