//! `ServerResponse` (Node 20, `lib/_http_outgoing.js` and `lib/_http_server.js`): the
//! response as a Writable.
//!
//! The head is rendered when it is decided (`write_head`, or implicitly on the first
//! write or on `end`), and goes out with the first body bytes in one socket write
//! (Node's `_send` "shameful hack"; here one `writev`). `end(body)` before any write
//! gives `Content-Length`; a write first gives `Transfer-Encoding: chunked` (HTTP/1.1),
//! or a body delimited by the connection's end (HTTP/1.0). HEAD, 204, 304 and 1xx
//! responses have no body: writes are accepted and dropped.
//!
//! Backpressure: a `write` completes when the socket has taken its bytes under its
//! highWaterMark; when the socket is backed up, the write waits for the socket's
//! `drain`, so `res.write` returns false past the highWaterMark and `res` emits `drain`
//! after, as in Node. Responses to pipelined requests queue their bytes until the
//! responses before them have handed all of theirs to the socket, so the bytes on the
//! wire are in request order.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use bytes::{BufMut, Bytes, BytesMut};
use millrace_streams::{
    net::Socket, Absent, BeforeWrite, Builder, Code as StreamCode, Error as StreamError, Event, ListenerId, Stream,
    WriteCallback,
};

use crate::errors::{Code, Error, Result};
use crate::headers::{has_invalid_char, has_word, is_token, reason_phrase, to_latin1, utc_date, DateCache};
use crate::incoming::{IncomingMessage, IncomingMessageExt};
use crate::outgoing::{HeaderInput, OutHeaders};
use crate::parser::Seen;
use crate::server::ConnInner;

type Cb = WriteCallback<Absent, Bytes, ResponseState>;
type FinalCb = millrace_streams::FinalCallback<Absent, Bytes, ResponseState>;
type DestroyCb = millrace_streams::DestroyCallback<Absent, Bytes, ResponseState>;

/// What completes when a piece of output reaches the socket.
enum Done {
    /// A body write: its callback.
    Write(Cb),
    /// The last bytes (`_final`): 'finish' may come, and the next response may write.
    Final(FinalCb, ServerResponse),
}

impl Done {
    fn complete(self) {
        match self {
            Done::Write(cb) => cb.ok(),
            Done::Final(cb, res) => {
                // This response's 'finish' is queued before the next response can
                // complete (in the hand-off), so responses finish in request order.
                cb.call(Ok(()));
                if let Some(conn) = res.ext().conn.upgrade() {
                    conn.response_done(&res);
                }
            }
        }
    }
}

/// The response half of `ServerResponse`: status, headers, framing, its place on the
/// connection.
pub struct ResponseState {
    req: IncomingMessage,
    conn: Weak<ConnInner>,
    status_code: Cell<u16>,
    status_message: RefCell<Option<String>>,
    /// The headers set, in order (Node's `kOutHeaders`).
    headers: RefCell<OutHeaders>,
    /// The rendered head (Node's `_header`) until it goes out (`_headerSent`).
    header: RefCell<Option<Bytes>>,
    /// The head was rendered (`headersSent`).
    headers_sent: Cell<bool>,
    has_body: Cell<bool>,
    chunked: Cell<bool>,
    content_length: Cell<Option<u64>>,
    pub(crate) last: Cell<bool>,
    pub(crate) should_keep_alive: Cell<bool>,
    use_chunked_by_default: Cell<bool>,
    send_date: Cell<bool>,
    /// Automatic headers `remove_header` turned off (Node's `_removedConnection`,
    /// `_removedContLen`, `_removedTE`).
    removed: Cell<Removed>,
    trailer: RefCell<Option<Vec<u8>>>,
    /// `Connection: keep-alive` and the server's `Keep-Alive` line ([`keep_alive_lines`]).
    keep_alive: Rc<[u8]>,
    /// The server's `unique_headers` (Node's `kUniqueHeaders`).
    unique_headers: Option<Rc<[String]>>,
    pub(crate) max_requests_reached: Cell<bool>,
    pub(crate) expect_continue: Cell<bool>,
    sent_100: Cell<bool>,
    socket: RefCell<Option<Socket>>,
    /// Output waiting for the socket (Node's `outputData`).
    pending: RefCell<Vec<(Vec<Bytes>, Option<Done>)>>,
    /// A `set_timeout` made before the response had the socket.
    pending_timeout: Cell<Option<u64>>,
    /// `destroy` waiting for the socket: to be handed it (then it is destroyed with
    /// the error), or to close (then the response closes).
    destroying: RefCell<Option<(DestroyCb, Option<StreamError>)>>,
    /// `strictContentLength`.
    strict_content_length: Cell<bool>,
    /// Body bytes given to `write`/`end` while `strict_content_length` was on (Node's
    /// `kBytesWritten`).
    bytes_written: Cell<u64>,
    /// The server's `rejectNonStandardBodyWrites`.
    reject_body_writes: bool,
    /// `try_write`/`try_end` ran the checks: the `before_write` hook lets the call
    /// through.
    checked: Cell<bool>,
}

/// The automatic headers a response was told not to send.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Removed {
    connection: bool,
    content_length: bool,
    transfer_encoding: bool,
}

/// Node's `http.ServerResponse`: a Writable of the response body.
pub type ServerResponse = Stream<Absent, Bytes, ResponseState>;

/// The response API of a [`ServerResponse`] (Node's methods and properties).
pub trait ServerResponseExt {
    /// `res.statusCode`.
    fn status_code(&self) -> u16;
    /// `res.statusCode = code`.
    fn set_status_code(&self, code: u16);
    /// `res.statusMessage` (the reason phrase for the status if not set).
    fn status_message(&self) -> String;
    /// `res.statusMessage = msg`.
    fn set_status_message(&self, msg: &str);
    /// `res.setHeader(name, value)`: `ERR_INVALID_HTTP_TOKEN` for a bad name,
    /// `ERR_INVALID_CHAR` for a bad value, `ERR_HTTP_HEADERS_SENT` once the head is out.
    /// As in Node, the value is written as latin1 (`é` is the byte 0xE9), so a character
    /// above U+00FF is `ERR_INVALID_CHAR`; the same holds for the status message and
    /// trailers.
    fn set_header<'a>(&self, name: &str, value: impl Into<HeaderInput<'a>>) -> Result<()>;
    /// `res.setHeaders(headers)` for a `Map` (or `Headers`) of `headers`: each is set
    /// as by `set_header`, stopping at the first invalid one (those before it stay
    /// set), except that the values of entries named exactly `set-cookie` (as a
    /// `Headers` object names them) are gathered and set last, as one header.
    fn set_headers<'a, V: Into<HeaderInput<'a>>>(&self, headers: impl IntoIterator<Item = (&'a str, V)>) -> Result<()>;
    /// `res.appendHeader(name, value)`.
    fn append_header<'a>(&self, name: &str, value: impl Into<HeaderInput<'a>>) -> Result<()>;
    /// `res.getHeader(name)`.
    fn get_header(&self, name: &str) -> Option<Vec<String>>;
    /// `res.getHeaders()`: lower-cased names.
    fn get_headers(&self) -> Vec<(String, Vec<String>)>;
    /// `res.getHeaderNames()`.
    fn get_header_names(&self) -> Vec<String>;
    /// `res.hasHeader(name)`.
    fn has_header(&self, name: &str) -> bool;
    /// `res.removeHeader(name)`.
    fn remove_header(&self, name: &str) -> Result<()>;
    /// `res.writeHead(status)`.
    fn write_head(&self, status: u16) -> Result<&Self>;
    /// `res.writeHead(status, reason, headers)`.
    fn write_head_with(&self, status: u16, reason: Option<&str>, headers: &[(&str, &str)]) -> Result<&Self>;
    /// `res.headersSent`.
    fn headers_sent(&self) -> bool;
    /// `res.addTrailers(headers)`: sent after a chunked body.
    fn add_trailers(&self, trailers: &[(&str, &str)]) -> Result<()>;
    /// `res.writeContinue()`: `100 Continue`.
    fn write_continue(&self);
    /// `res.writeProcessing()`: `102 Processing`.
    fn write_processing(&self);
    /// `res.writeEarlyHints({ link, ...other })`: `103 Early Hints` with `links` joined
    /// into one `Link` header, then `other`'s headers. Nothing is sent without links.
    /// Each link must have the form Node checks, `</styles.css>; rel=preload;
    /// as=style` (else `ERR_INVALID_ARG_VALUE`). Stricter than Node, which writes
    /// these strings raw: a control character in a link or value is `ERR_INVALID_CHAR`
    /// and a bad name `ERR_INVALID_HTTP_TOKEN` (a CRLF would inject a header).
    ///
    /// Like `100 Continue`, these interim responses go out at once if the response
    /// holds the socket, ahead of a head stored by `write_head` but not sent yet; a
    /// response waiting behind earlier ones sends them before its head.
    fn write_early_hints(&self, links: &[&str], other: &[(&str, &str)]) -> Result<()>;
    /// `res.flushHeaders()`: sends the head now (stored first, as by the first write, if
    /// `write_head` was not called); the body follows chunked unless a Content-Length
    /// was set.
    fn flush_headers(&self);
    /// `res.sendDate = on`.
    fn set_send_date(&self, on: bool);
    /// `res.strictContentLength = on` (off by default): the body must be as long as the
    /// Content-Length set, else `ERR_HTTP_CONTENT_LENGTH_MISMATCH` — from a write that
    /// would pass it, or from `end` when the body falls short. Only while the response
    /// is neither chunked nor without a body, and Content-Length was neither removed
    /// nor left to `end(body)` to compute.
    fn set_strict_content_length(&self, on: bool);
    /// `res.strictContentLength`.
    fn strict_content_length(&self) -> bool;
    /// `res.write(chunk)` with Node's throws as errors: with
    /// [`set_strict_content_length`](ServerResponseExt::set_strict_content_length), a
    /// chunk that takes the body past its Content-Length is
    /// `ERR_HTTP_CONTENT_LENGTH_MISMATCH`; with the server's
    /// `reject_non_standard_body_writes`, a body for a response that has none (HEAD,
    /// 204, 304) is `ERR_HTTP_BODY_NOT_ALLOWED`. Then nothing is written and the
    /// response goes on. Otherwise it is `write`, and returns what `write` returns.
    ///
    /// The plain `write` (and `end_with`), which cannot return these errors, treat them
    /// as Node's uncaught throw would end the exchange: the response is destroyed with
    /// the error (so is its socket, and the server's `client_error` listeners get it).
    fn try_write(&self, chunk: impl Into<Bytes>) -> Result<bool>;
    /// `res.end(chunk?)` with Node's throws as errors (see
    /// [`try_write`](ServerResponseExt::try_write)); with strict Content-Length, a
    /// body that ends short of it is `ERR_HTTP_CONTENT_LENGTH_MISMATCH`, and the
    /// response is not ended.
    fn try_end(&self, chunk: Option<Bytes>) -> Result<()>;
    /// `res.req`.
    fn req(&self) -> &IncomingMessage;
    /// `res.socket` (while assigned).
    fn socket(&self) -> Option<Socket>;
    /// `'socket'`: a response that waited behind earlier pipelined ones is handed the
    /// socket (the first response of a connection has it before `request` is emitted).
    fn on_socket(&self, f: impl Fn(&ServerResponse, &Socket) + 'static) -> ListenerId;
    /// `res.setTimeout(ms)`: the socket's idle timeout, set now if the response holds
    /// the socket, else once it gets it. With a `timeout` listener on the response
    /// ([`ServerResponseExt::on_timeout`]) the server leaves a timed-out socket alone.
    fn set_timeout(&self, ms: u64) -> &Self;
    /// `'timeout'` (the listener of Node's `res.setTimeout(ms, cb)`): the socket
    /// holding this response timed out.
    fn on_timeout(&self, f: impl Fn(&ServerResponse) + 'static) -> ListenerId;
}

/// `name: value` and CRLF, the value as it goes on the wire (see [`to_latin1`]): a
/// head's header line, a trailer or an early hint.
fn put_line(out: &mut impl BufMut, name: &[u8], value: &[u8]) {
    out.put_slice(name);
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_slice(b"\r\n");
}

fn validate(name: &str, values: &HeaderInput<'_>) -> Result<()> {
    if !is_token(name) {
        return Err(Error::invalid_token(name));
    }
    let mut invalid = false;
    values.each(|v| invalid |= has_invalid_char(v));
    if invalid {
        return Err(Error::invalid_char("header content", name));
    }
    Ok(())
}

impl ServerResponseExt for ServerResponse {
    fn status_code(&self) -> u16 {
        self.ext().status_code.get()
    }

    fn set_status_code(&self, code: u16) {
        self.ext().status_code.set(code);
    }

    fn status_message(&self) -> String {
        let e = self.ext();
        e.status_message
            .borrow()
            .clone()
            .unwrap_or_else(|| reason_phrase(e.status_code.get()).unwrap_or("unknown").to_owned())
    }

    fn set_status_message(&self, msg: &str) {
        *self.ext().status_message.borrow_mut() = Some(msg.to_owned());
    }

    fn set_header<'a>(&self, name: &str, value: impl Into<HeaderInput<'a>>) -> Result<()> {
        if self.headers_sent() {
            return Err(Error::headers_sent("set"));
        }
        let value = value.into();
        validate(name, &value)?;
        self.ext().headers.borrow_mut().set(name, &value);
        Ok(())
    }

    fn set_headers<'a, V: Into<HeaderInput<'a>>>(&self, headers: impl IntoIterator<Item = (&'a str, V)>) -> Result<()> {
        if self.headers_sent() {
            return Err(Error::headers_sent("set"));
        }
        let mut cookies = Vec::new();
        for (name, value) in headers {
            if name == "set-cookie" {
                cookies.extend(value.into().into_strings());
            } else {
                self.set_header(name, value)?;
            }
        }
        if !cookies.is_empty() {
            self.set_header("set-cookie", cookies)?;
        }
        Ok(())
    }

    fn append_header<'a>(&self, name: &str, value: impl Into<HeaderInput<'a>>) -> Result<()> {
        if self.headers_sent() {
            return Err(Error::headers_sent("append"));
        }
        let value = value.into();
        validate(name, &value)?;
        self.ext().headers.borrow_mut().append(name, &value);
        Ok(())
    }

    fn get_header(&self, name: &str) -> Option<Vec<String>> {
        self.ext().headers.borrow().get(name)
    }

    fn get_headers(&self) -> Vec<(String, Vec<String>)> {
        self.ext().headers.borrow().all()
    }

    fn get_header_names(&self) -> Vec<String> {
        self.ext().headers.borrow().names()
    }

    fn has_header(&self, name: &str) -> bool {
        self.ext().headers.borrow().has(name)
    }

    fn remove_header(&self, name: &str) -> Result<()> {
        if self.headers_sent() {
            return Err(Error::headers_sent("remove"));
        }
        // Removing one of the headers Node adds by itself stops it being added.
        let e = self.ext();
        let mut removed = e.removed.get();
        match name.to_ascii_lowercase().as_str() {
            "connection" => removed.connection = true,
            "content-length" => removed.content_length = true,
            "transfer-encoding" => removed.transfer_encoding = true,
            "date" => e.send_date.set(false),
            _ => {}
        }
        e.removed.set(removed);
        e.headers.borrow_mut().remove(name);
        Ok(())
    }

    fn write_head(&self, status: u16) -> Result<&Self> {
        self.write_head_with(status, None, &[])
    }

    fn write_head_with(&self, status: u16, reason: Option<&str>, headers: &[(&str, &str)]) -> Result<&Self> {
        if self.headers_sent() {
            return Err(Error::headers_sent("write"));
        }
        if !(100..=999).contains(&status) {
            return Err(Error::new(Code::ERR_HTTP_INVALID_STATUS_CODE, format!("Invalid status code: {status}")));
        }
        for (n, v) in headers {
            self.set_header(n, *v)?;
        }
        let e = self.ext();
        if let Some(r) = reason {
            *e.status_message.borrow_mut() = Some(r.to_owned());
        }
        e.status_code.set(status);
        let custom = e.status_message.borrow();
        let msg = custom.as_deref().unwrap_or_else(|| reason_phrase(status).unwrap_or("unknown"));
        if has_invalid_char(&to_latin1(msg)) {
            return Err(Error::new(Code::ERR_INVALID_CHAR, "Invalid character in statusMessage"));
        }
        if status == 204 || status == 304 || (100..=199).contains(&status) {
            e.has_body.set(false);
        }
        if e.expect_continue.get() && !e.sent_100.get() {
            e.should_keep_alive.set(false);
        }
        // The status message stays borrowed: nothing in `store_header` sets it.
        let stored = store_header(self, status, msg);
        drop(custom);
        stored.map(|()| self)
    }

    fn headers_sent(&self) -> bool {
        self.ext().headers_sent.get()
    }

    fn add_trailers(&self, trailers: &[(&str, &str)]) -> Result<()> {
        // As Node: the trailers of an earlier call are dropped first, and those before
        // an invalid one stay.
        let mut trailer = self.ext().trailer.borrow_mut();
        let out = trailer.insert(Vec::new());
        for (n, v) in trailers {
            if !is_token(n) {
                return Err(Error::new(
                    Code::ERR_INVALID_HTTP_TOKEN,
                    format!("Trailer name must be a valid HTTP token [\"{n}\"]"),
                ));
            }
            let v = to_latin1(v);
            if has_invalid_char(&v) {
                return Err(Error::invalid_char("trailer content", n));
            }
            put_line(out, n.as_bytes(), &v);
        }
        Ok(())
    }

    fn write_continue(&self) {
        let e = self.ext();
        e.sent_100.set(true);
        write_raw(self, Bytes::from_static(b"HTTP/1.1 100 Continue\r\n\r\n"));
    }

    fn write_processing(&self) {
        write_raw(self, Bytes::from_static(b"HTTP/1.1 102 Processing\r\n\r\n"));
    }

    fn write_early_hints(&self, links: &[&str], other: &[(&str, &str)]) -> Result<()> {
        for link in links {
            if !valid_link(link) {
                return Err(Error::new(
                    Code::ERR_INVALID_ARG_VALUE,
                    format!(
                        "The argument 'hints' must be an array or string of format \"</styles.css>; rel=preload; \
                         as=style\". Received '{link}'"
                    ),
                ));
            }
            validate("Link", &HeaderInput::from(*link))?;
        }
        for (name, value) in other {
            validate(name, &HeaderInput::from(*value))?;
        }
        if links.is_empty() {
            return Ok(());
        }
        let mut head = b"HTTP/1.1 103 Early Hints\r\n".to_vec();
        put_line(&mut head, b"Link", &to_latin1(&links.join(", ")));
        for (name, value) in other {
            put_line(&mut head, name.as_bytes(), &to_latin1(value));
        }
        head.extend_from_slice(b"\r\n");
        write_raw(self, Bytes::from(head));
        Ok(())
    }

    fn flush_headers(&self) {
        implicit_header(self);
        send_raw(self, [], None);
    }

    fn set_send_date(&self, on: bool) {
        self.ext().send_date.set(on);
    }

    fn set_strict_content_length(&self, on: bool) {
        self.ext().strict_content_length.set(on);
    }

    fn strict_content_length(&self) -> bool {
        self.ext().strict_content_length.get()
    }

    fn try_write(&self, chunk: impl Into<Bytes>) -> Result<bool> {
        let chunk = chunk.into();
        // A write after end or destroy is no throw in Node: `write` reports it.
        if !self.writable_ended() && !self.destroyed() {
            write_checks(self, chunk.len(), false)?;
            self.ext().checked.set(true);
        }
        Ok(self.write(chunk))
    }

    fn try_end(&self, chunk: Option<Bytes>) -> Result<()> {
        if !self.writable_ended() && !self.destroyed() {
            let body = end_head(self, chunk.as_ref())?;
            if let Err(e) = body_length_check(self) {
                // Node's `end` throws this after `write_` sent the chunk.
                if let Some(body) = body {
                    self.ext().checked.set(true);
                    self.write(body.clone());
                }
                return Err(e);
            }
            self.ext().checked.set(true);
        }
        match chunk {
            Some(chunk) => self.end_with(chunk),
            None => self.end(),
        };
        Ok(())
    }

    fn req(&self) -> &IncomingMessage {
        &self.ext().req
    }

    fn socket(&self) -> Option<Socket> {
        self.ext().socket.borrow().clone()
    }

    fn on_socket(&self, f: impl Fn(&ServerResponse, &Socket) + 'static) -> ListenerId {
        self.on_event(Event::Socket, move |res| {
            let socket = res.socket();
            if let Some(socket) = socket {
                f(res, &socket);
            }
        })
    }

    fn set_timeout(&self, ms: u64) -> &Self {
        let e = self.ext();
        let socket = e.socket.borrow().clone();
        match socket {
            Some(socket) => socket.set_timeout(ms),
            None => e.pending_timeout.set(Some(ms)),
        }
        self
    }

    fn on_timeout(&self, f: impl Fn(&ServerResponse) + 'static) -> ListenerId {
        self.on_event(Event::Timeout, f)
    }
}

/// Heads are rendered into slices of one shared buffer: no allocation per response.
const ARENA_SIZE: usize = 8192;

thread_local! {
    static HEAD_ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// Bytes written by `write` into the shared arena (which has at least `min` bytes of
/// room first), cut off as their own `Bytes`. The arena is taken out meanwhile, so
/// `write` may itself use it.
fn from_arena(min: usize, write: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut a = HEAD_ARENA.with(|a| std::mem::take(&mut *a.borrow_mut()));
    if a.capacity() < min {
        a.reserve(ARENA_SIZE.max(min));
    }
    write(&mut a);
    let bytes = a.split().freeze();
    HEAD_ARENA.with(|cell| *cell.borrow_mut() = a);
    bytes
}

const KEEP_ALIVE: &[u8] = b"Connection: keep-alive\r\n";

/// `Connection: keep-alive` and, when the server has a keep-alive timeout, the
/// `Keep-Alive: timeout=T[, max=M]` line Node sends with it: rendered once for a
/// connection, copied into each keep-alive head.
pub(crate) fn keep_alive_lines(keep_alive_timeout: u64, max_requests: u32) -> Rc<[u8]> {
    let mut lines = KEEP_ALIVE.to_vec();
    if keep_alive_timeout > 0 {
        lines.extend_from_slice(format!("Keep-Alive: timeout={}", keep_alive_timeout / 1000).as_bytes());
        if max_requests > 0 {
            lines.extend_from_slice(format!(", max={max_requests}").as_bytes());
        }
        lines.extend_from_slice(b"\r\n");
    }
    lines.into()
}

/// The header names `_storeHeader` looks at (Node's `matchHeader`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Connection,
    TransferEncoding,
    ContentLength,
    Date,
    Trailer,
    KeepAlive,
    Cookie,
    Other,
}

impl Known {
    fn of(name: &[u8]) -> Known {
        let is = |k: &str| name.eq_ignore_ascii_case(k.as_bytes());
        match name.len() {
            10 if is("connection") => Known::Connection,
            17 if is("transfer-encoding") => Known::TransferEncoding,
            14 if is("content-length") => Known::ContentLength,
            4 if is("date") => Known::Date,
            7 if is("trailer") => Known::Trailer,
            10 if is("keep-alive") => Known::KeepAlive,
            6 if is("cookie") => Known::Cookie,
            _ => Known::Other,
        }
    }
}

/// What `matchHeader` noted of the headers set (Node's `state` in `_storeHeader`).
#[derive(Default)]
struct Matched {
    connection: bool,
    cont_len: bool,
    te: bool,
    date: bool,
    trailer: bool,
    default_keep_alive: bool,
}

impl Matched {
    /// `matchHeader(self, state, field, value)` for one stored line. A Connection,
    /// Content-Length or Transfer-Encoding set again after `remove_header` is sent as
    /// set (Node clears `_removedConnection` and the others here).
    fn header(&mut self, e: &ResponseState, known: Known, v: &[u8]) {
        let removed = e.removed.get();
        match known {
            Known::Connection => {
                self.connection = true;
                e.removed.set(Removed { connection: false, ..removed });
                if has_word(v, "close") {
                    e.last.set(true);
                } else {
                    e.should_keep_alive.set(true);
                }
            }
            Known::TransferEncoding => {
                self.te = true;
                e.removed.set(Removed { transfer_encoding: false, ..removed });
                if has_word(v, "chunked") {
                    e.chunked.set(true);
                }
            }
            Known::ContentLength => {
                self.cont_len = true;
                e.removed.set(Removed { content_length: false, ..removed });
                e.content_length.set(std::str::from_utf8(v).ok().and_then(|t| t.trim().parse().ok()));
            }
            Known::Date => self.date = true,
            Known::Trailer => self.trailer = true,
            Known::KeepAlive => self.default_keep_alive = false,
            Known::Cookie | Known::Other => {}
        }
    }
}

/// `name` (ASCII case-insensitive) is one of `unique` (lower-cased).
fn is_unique(unique: &[String], name: &[u8]) -> bool {
    unique.iter().any(|u| u.as_bytes().eq_ignore_ascii_case(name))
}

/// `_storeHeader`: renders the head and decides the framing.
fn store_header(res: &ServerResponse, status: u16, msg: &str) -> Result<()> {
    let e = res.ext();
    let conn = e.conn.upgrade();
    let mut trailer_header = false;
    let head = from_arena(1024, |h| {
        if status == 200 && msg == "OK" {
            h.extend_from_slice(b"HTTP/1.1 200 OK\r\n"); // most responses: one copy
        } else {
            h.extend_from_slice(b"HTTP/1.1 ");
            h.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
            h.extend_from_slice(b" ");
            h.extend_from_slice(&to_latin1(msg));
            h.extend_from_slice(b"\r\n");
        }
        let mut m = Matched { default_keep_alive: true, ..Matched::default() };
        let mut joined = Vec::new();
        for header in e.headers.borrow().iter() {
            let name = header.name;
            let known = Known::of(name);
            // processHeader: several cookie values, or the values of one of the server's
            // unique headers, go as one line, joined with "; " (and are matched as one).
            let unique = header.count >= 2
                && (known == Known::Cookie || e.unique_headers.as_ref().is_some_and(|u| is_unique(u, name)));
            if unique {
                joined.clear();
                for (i, v) in header.values().enumerate() {
                    if i > 0 {
                        joined.extend_from_slice(b"; ");
                    }
                    joined.extend_from_slice(v);
                }
                put_line(h, name, &joined);
                m.header(e, known, &joined);
            } else {
                for v in header.values() {
                    put_line(h, name, v);
                    m.header(e, known, v);
                }
            }
        }
        let Matched { connection, cont_len, te, date, trailer: trailer_hdr, default_keep_alive } = m;
        if e.send_date.get() && !date {
            match &conn {
                Some(c) => c.date().line(res.get_loop().now(), |line| h.extend_from_slice(line)),
                None => put_line(h, b"Date", &utc_date()),
            }
        }
        if e.chunked.get() && (status == 204 || status == 304) {
            e.chunked.set(false);
            e.should_keep_alive.set(false);
        }
        // A response whose head is decided after `server.close()` is the connection's
        // last (`res_on_finish` ends it): say so rather than advertise keep-alive.
        if conn.as_ref().is_some_and(|c| c.server_closing()) {
            e.should_keep_alive.set(false);
        }
        let removed = e.removed.get();
        if removed.connection {
            // No Connection header; the connection persists as it would have.
            e.last.set(!e.should_keep_alive.get());
        } else if !connection {
            // Node: keep-alive needs an explicit Content-Length header or chunked coding
            // (HTTP/1.0 without either closes).
            let send_keep_alive = e.should_keep_alive.get() && (cont_len || e.use_chunked_by_default.get());
            if send_keep_alive && e.max_requests_reached.get() {
                h.extend_from_slice(b"Connection: close\r\n");
            } else if send_keep_alive {
                // "Connection: keep-alive", then the server's Keep-Alive line unless the
                // response set its own: both rendered once per connection.
                let lines = &e.keep_alive[..];
                h.extend_from_slice(if default_keep_alive { lines } else { &lines[..KEEP_ALIVE.len()] });
            } else {
                e.last.set(true);
                h.extend_from_slice(b"Connection: close\r\n");
            }
        }
        if !cont_len && !te {
            if !e.has_body.get() {
                e.chunked.set(false);
            } else if !e.use_chunked_by_default.get() {
                e.last.set(true);
            } else if !trailer_hdr && !removed.content_length && e.content_length.get().is_some() {
                h.extend_from_slice(b"Content-Length: ");
                h.extend_from_slice(itoa::Buffer::new().format(e.content_length.get().unwrap_or(0)).as_bytes());
                h.extend_from_slice(b"\r\n");
            } else if !removed.transfer_encoding {
                h.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                e.chunked.set(true);
            } else {
                // Neither length nor chunked: the body ends when the connection does.
                e.last.set(true);
            }
        }
        h.extend_from_slice(b"\r\n");
        trailer_header = trailer_hdr;
    });
    if trailer_header && !e.chunked.get() {
        // A message not chunked ends at its length (or the connection's end): there
        // is no place for the trailers a Trailer header announces. The head stays unsent.
        return Err(Error::new(Code::ERR_HTTP_TRAILER_INVALID, "Trailers are invalid with this transfer encoding"));
    }
    *e.header.borrow_mut() = Some(head);
    e.headers_sent.set(true);
    if e.expect_continue.get() && !e.sent_100.get() {
        // Node sends the head at once when answering an Expect without a 100.
        send_raw(res, [], None);
    }
    Ok(())
}

/// The `before_write` hook: Node's `write_` and `end` checks, unless `try_write` or
/// `try_end` ran them already.
fn before_write(res: &ServerResponse, call: BeforeWrite<'_, Bytes>) -> std::result::Result<(), StreamError> {
    let e = res.ext();
    if e.checked.take() {
        return Ok(());
    }
    if !e.strict_content_length.get() && !e.reject_body_writes {
        // Nothing to check (the usual case): only the head is decided, with `end`'s
        // chunk as the Content-Length.
        if !res.headers_sent() {
            if let BeforeWrite::End(chunk) = call {
                e.content_length.set(Some(chunk.map_or(0, |c| c.len() as u64)));
            }
            implicit_header(res);
        }
        return Ok(());
    }
    match call {
        BeforeWrite::Write(chunk) => write_checks(res, chunk.len(), false),
        BeforeWrite::End(chunk) => end_checks(res, chunk),
    }
    .map_err(StreamError::from)
}

/// The part of Node's `write_(msg, chunk, ..., fromEnd)` after its end and destroy
/// checks: the strict Content-Length check and count, the head decided (with `end`'s
/// chunk, its length as Content-Length), and the body check for a response without one.
fn write_checks(res: &ServerResponse, len: usize, from_end: bool) -> Result<()> {
    let e = res.ext();
    if e.strict_content_length.get() {
        let total = e.bytes_written.get() + len as u64;
        match strict_length(res) {
            Some(cl) if (from_end && total != cl) || (!from_end && total > cl) => {
                return Err(length_mismatch(total, cl))
            }
            _ => e.bytes_written.set(total),
        }
    }
    if !res.headers_sent() {
        if from_end {
            e.content_length.set(Some(len as u64));
        }
        implicit_header(res);
    }
    if !e.has_body.get() && e.reject_body_writes {
        return Err(Error::new(
            Code::ERR_HTTP_BODY_NOT_ALLOWED,
            "Adding content for this request method or response status is not allowed.",
        ));
    }
    Ok(())
}

/// `OutgoingMessage.prototype.end`'s checks: an ended or destroyed response is left to
/// the Writable (which reports the write after end); else [`end_head`], then
/// [`body_length_check`].
fn end_checks(res: &ServerResponse, chunk: Option<&Bytes>) -> Result<()> {
    if res.writable_ended() || res.destroyed() {
        return Ok(());
    }
    end_head(res, chunk)?;
    body_length_check(res)
}

/// The start of `end`: its chunk checked as by `write_` (an empty one is JavaScript's
/// `''`, no chunk), or the head decided with Content-Length 0. Returns the chunk.
fn end_head<'a>(res: &ServerResponse, chunk: Option<&'a Bytes>) -> Result<Option<&'a Bytes>> {
    let body = chunk.filter(|c| !c.is_empty());
    match body {
        Some(chunk) => write_checks(res, chunk.len(), true)?,
        None if !res.headers_sent() => {
            res.ext().content_length.set(Some(0));
            implicit_header(res);
        }
        None => {}
    }
    Ok(body)
}

/// `end`'s strict check of the whole body against Content-Length.
fn body_length_check(res: &ServerResponse) -> Result<()> {
    let e = res.ext();
    match strict_length(res) {
        Some(cl) if e.bytes_written.get() != cl => Err(length_mismatch(e.bytes_written.get(), cl)),
        _ => Ok(()),
    }
}

/// Node's `strictContentLength(msg)`: the Content-Length the body must match, if the
/// check applies (a length is known, the response has a body, is not chunked, has no
/// Transfer-Encoding header, and its Content-Length was not removed).
fn strict_length(res: &ServerResponse) -> Option<u64> {
    let e = res.ext();
    let cl = e.content_length.get()?;
    let applies = e.strict_content_length.get()
        && e.has_body.get()
        && !e.removed.get().content_length
        && !e.chunked.get()
        && !e.headers.borrow().has("transfer-encoding");
    applies.then_some(cl)
}

fn length_mismatch(body: u64, header: u64) -> Error {
    Error::new(
        Code::ERR_HTTP_CONTENT_LENGTH_MISMATCH,
        format!(
            "Response body's content-length of {body} byte(s) does not match the content-length of {header} \
             byte(s) set in header"
        ),
    )
}

/// `_implicitHeader`: `writeHead(statusCode)`.
fn implicit_header(res: &ServerResponse) {
    if !res.headers_sent() {
        let status = res.status_code();
        // A status (or status message) set by hand is validated only here, as in Node,
        // where `write` then throws, as it does for a Trailer header on a response that
        // is not chunked: here the response falls back to a plain 500 rather than panic
        // or send a body without a head.
        if res.write_head(status).is_err() {
            let e = res.ext();
            e.status_message.borrow_mut().take();
            e.headers.borrow_mut().remove("trailer");
            res.set_status_code(500);
            let _ = res.write_head(500);
        }
    }
}

/// `_writeRaw` of an interim response: to the socket if the response holds it, ahead of
/// a stored head not sent yet; else to the pending queue, so it leaves before the head
/// (which `send_raw` puts in front of its own bytes only). Node's `_send` would put the
/// head in front of everything queued, an interim response too (RFC 9110 §15.2 forbids
/// a 1xx after the final response; see the `gen_109` conformance override).
fn write_raw(res: &ServerResponse, bytes: Bytes) {
    to_socket_or_pending(res, [bytes], None);
}

/// Node's `linkValueRegExp`, `^(?:<[^>]*>)(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$`:
/// a `<uri>`, then parameters, each a run of characters other than `;`, `"` and
/// whitespace, possibly ending in `=` and a quoted value of such characters.
fn valid_link(link: &str) -> bool {
    // JavaScript's `\s`.
    let space = |c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}';
    let plain = |c: char| c != ';' && c != '"' && !space(c);
    let Some(rest) = link.strip_prefix('<') else { return false };
    let Some(close) = rest.find('>') else { return false };
    let mut rest = &rest[close + 1..];
    loop {
        if rest.is_empty() {
            return true;
        }
        // Whitespace only before a `;` (none may end the value).
        let Some(after) = rest.trim_start_matches(space).strip_prefix(';') else { return false };
        rest = after.trim_start_matches(space);
        let run = rest.find(|c: char| !plain(c)).unwrap_or(rest.len());
        if run == 0 {
            return false;
        }
        let (param, after) = rest.split_at(run);
        rest = after;
        if let Some(quoted) = rest.strip_prefix('"') {
            // `name="value"`: the run ends in `=` with at least one character before it.
            if !(param.ends_with('=') && param.len() >= 2) {
                return false;
            }
            let value = quoted.find(|c: char| !plain(c)).unwrap_or(quoted.len());
            let Some(after) = quoted[value..].strip_prefix('"') else { return false };
            rest = after;
        }
    }
}

/// `_send`: the head first (once), then `bufs`, to the socket or the pending queue.
fn send_raw(res: &ServerResponse, bufs: impl IntoIterator<Item = Bytes>, cb: Option<Done>) {
    let e = res.ext();
    let head = e.header.borrow_mut().take();
    to_socket_or_pending(res, head.into_iter().chain(bufs), cb);
}

/// Node's `_writeRaw`: to the socket if the response holds it, else kept for when it
/// does.
fn to_socket_or_pending(res: &ServerResponse, bufs: impl IntoIterator<Item = Bytes>, cb: Option<Done>) {
    let e = res.ext();
    let socket = e.socket.borrow().clone();
    match socket {
        Some(socket) => {
            // Written from a `'socket'` listener, before what waited went out: that
            // goes first (`_writeRaw` flushes `outputData` before writing).
            flush_pending(res, &socket);
            write_to_socket(&socket, bufs, cb)
        }
        None => e.pending.borrow_mut().push((bufs.into_iter().collect(), cb)),
    }
}

/// Writes what the response wrote while it waited for the socket.
fn flush_pending(res: &ServerResponse, socket: &Socket) {
    let e = res.ext();
    if e.pending.borrow().is_empty() {
        return; // the usual case: a response handed the socket before it wrote
    }
    let pending = std::mem::take(&mut *e.pending.borrow_mut());
    for (bufs, cb) in pending {
        write_to_socket(socket, bufs, cb);
    }
}

/// Writes `bufs` to the socket, corked when there are several (one `writev`); `cb`
/// runs when the socket took them under its highWaterMark, else on its `drain`.
///
/// A socket that can take no more (ended, as after a response that closes the
/// connection, or destroyed) gets nothing and `cb` never runs, as in Node's `_writeRaw`
/// (which buffers or drops the bytes): the response never finishes, and it closes
/// with the socket.
fn write_to_socket(socket: &Socket, bufs: impl IntoIterator<Item = Bytes>, cb: Option<Done>) {
    if socket.destroyed() || !socket.writable() {
        drop(cb);
        return;
    }
    let bufs = bufs.into_iter();
    let single = bufs.size_hint().1.is_some_and(|n| n <= 1);
    let mut ok = true;
    if !single {
        socket.cork();
    }
    for b in bufs {
        ok = socket.write(b);
    }
    if !single {
        socket.uncork();
    }
    if let Some(cb) = cb {
        if ok || socket.writable_length() == 0 {
            cb.complete();
        } else {
            let cb = RefCell::new(Some(cb));
            socket.once_drain(move |_| {
                if let Some(cb) = cb.borrow_mut().take() {
                    cb.complete();
                }
            });
        }
    }
}

/// `OutgoingMessage.prototype.destroy` as the response's `_destroy`: the socket is
/// destroyed with the error (which reaches the socket's `error` and the server's
/// `client_error`, never the response's `error`), at once if the response holds the
/// socket, else when it is handed it; the response closes inside the socket's `close`
/// ([`close_with_socket`]).
///
/// Two destroys are not the user's and keep the stream's own course (`close` a tick
/// later, the socket left alone): the one after `finish` (autoDestroy; Node's
/// `resOnFinish` emits `close`), and a write after `end` (Node's `onError` emits
/// `error` and destroys nothing).
fn destroy_response(res: &ServerResponse, err: Option<StreamError>, cb: DestroyCb) {
    let e = res.ext();
    if res.writable_finished() || err.as_ref().is_some_and(|e| e.is(StreamCode::ERR_STREAM_WRITE_AFTER_END)) {
        cb.call(err);
        return;
    }
    let socket = e.socket.borrow().clone();
    match socket {
        // Inside the socket's `close` (`onServerResponseClose`).
        Some(socket) if socket.closed() => cb.call_closing_now(),
        Some(socket) => {
            *e.destroying.borrow_mut() = Some((cb, None));
            socket.destroy(err);
        }
        // Queued behind earlier responses on a connection that is gone.
        None if e.conn.upgrade().is_none_or(|c| c.socket_closed()) => cb.call(None),
        None => *e.destroying.borrow_mut() = Some((cb, err)),
    }
}

/// The connection's socket closed: the response holding it (`now`) closes inside the
/// socket's `close`, as Node's `onServerResponseClose` makes it; one queued behind it
/// a tick later (Node leaves those open).
pub(crate) fn close_with_socket(res: &ServerResponse, now: bool) {
    let destroying = res.ext().destroying.borrow_mut().take();
    match destroying {
        Some((cb, _)) if now => cb.call_closing_now(),
        Some((cb, _)) => cb.call(None),
        None if now => {
            res.destroy_closing_now();
        }
        None => {
            res.destroy(None);
        }
    }
}

/// `assignSocket`: the response may write; its queued output goes first. A response
/// destroyed while it waited destroys the socket instead (Node's
/// `socketDestroyOnConnect`).
///
/// Node's order: `'socket'`, then what the response wrote while it waited goes out
/// (`_flush`). A `destroy()` or `set_timeout` made while queued acts after the
/// `'socket'` listeners, as Node's `once('socket')` listeners do when added after the
/// user's.
pub(crate) fn assign_socket(res: &ServerResponse, socket: &Socket) {
    let e = res.ext();
    *e.socket.borrow_mut() = Some(socket.clone());
    res.emit_event(Event::Socket);
    let destroying = e.destroying.borrow_mut().as_mut().map(|(_, err)| err.take());
    if let Some(err) = destroying {
        e.pending.borrow_mut().clear();
        socket.destroy(err); // `socketDestroyOnConnect`
        return;
    }
    if let Some(ms) = e.pending_timeout.take() {
        socket.set_timeout(ms); // `socketSetTimeoutOnConnect`
    }
    flush_pending(res, socket);
}

/// `detachSocket`.
pub(crate) fn detach_socket(res: &ServerResponse) {
    *res.ext().socket.borrow_mut() = None;
}

/// One body chunk as it goes on the wire: as is, or framed for chunked coding (the
/// size line is cut from the head arena). An empty chunk sends nothing.
fn framed(res: &ServerResponse, chunk: Bytes) -> impl Iterator<Item = Bytes> {
    let (size, crlf) = if !chunk.is_empty() && res.ext().chunked.get() {
        let mut line = [0u8; 18];
        let n = hex_line(chunk.len(), &mut line);
        (Some(from_arena(n, |a| a.extend_from_slice(&line[..n]))), Some(Bytes::from_static(b"\r\n")))
    } else {
        (None, None)
    };
    let chunk = (!chunk.is_empty()).then_some(chunk);
    size.into_iter().chain(chunk).chain(crlf)
}

/// `{len:x}\r\n` into `out`; returns its length.
fn hex_line(mut len: usize, out: &mut [u8; 18]) -> usize {
    let mut digits = [0u8; 16];
    let mut n = 0;
    loop {
        digits[n] = b"0123456789abcdef"[len & 15];
        n += 1;
        len >>= 4;
        if len == 0 {
            break;
        }
    }
    for (i, d) in digits[..n].iter().rev().enumerate() {
        out[i] = *d;
    }
    out[n] = b'\r';
    out[n + 1] = b'\n';
    n + 2
}

fn write_one(res: &ServerResponse, chunk: Bytes, cb: Cb) {
    write_body(res, cb, |res| framed(res, chunk));
}

fn write_chunks(res: &ServerResponse, chunks: Vec<Bytes>, cb: Cb) {
    write_body(res, cb, |res| chunks.into_iter().flat_map(move |c| framed(res, c)));
}

/// `_write`/`_writev`: the head decided first (the framing depends on it), then the
/// body's parts, which `parts` gives once it is.
fn write_body<'a, I: Iterator<Item = Bytes>>(
    res: &'a ServerResponse,
    cb: Cb,
    parts: impl FnOnce(&'a ServerResponse) -> I,
) {
    implicit_header(res);
    if !res.ext().has_body.get() {
        cb.ok(); // HEAD, 204, 304: the body is dropped
        return;
    }
    send_raw(res, parts(res), Some(Done::Write(cb)));
}

/// `end()`'s last bytes; once they are in the socket, 'finish' and the next response.
fn finish_body(res: &ServerResponse, cb: FinalCb) {
    implicit_header(res);
    let e = res.ext();
    let last = (e.has_body.get() && e.chunked.get()).then(|| match e.trailer.borrow().as_ref() {
        None => Bytes::from_static(b"0\r\n\r\n"),
        Some(t) => {
            let mut last = BytesMut::from(&b"0\r\n"[..]);
            last.extend_from_slice(t);
            last.extend_from_slice(b"\r\n");
            last.freeze()
        }
    });
    send_raw(res, last, Some(Done::Final(cb, res.clone())));
}

/// The connection's own reaction to its response's events (Node's `resOnFinish`
/// listener and the close check), before the user's listeners.
fn observe(res: &ServerResponse, event: Event) {
    if !matches!(event, Event::Finish | Event::Close) {
        return;
    }
    let Some(conn) = res.ext().conn.upgrade() else { return };
    match event {
        Event::Finish => conn.res_on_finish(&res.ext().req, res),
        _ => conn.res_on_close(res),
    }
}

pub(crate) struct ResponseConfig {
    /// The server's `Date` value.
    pub(crate) date: Rc<DateCache>,
    /// [`keep_alive_lines`] for the server's options.
    pub(crate) keep_alive: Rc<[u8]>,
    pub(crate) high_water_mark: usize,
    /// The server's `unique_headers`, lower-cased.
    pub(crate) unique_headers: Option<Rc<[String]>>,
    /// The server's `reject_non_standard_body_writes`.
    pub(crate) reject_body_writes: bool,
}

impl ResponseState {
    fn new(req: &IncomingMessage, keep_alive: bool, conn: Weak<ConnInner>, cfg: &ResponseConfig) -> Self {
        // Node: `req.httpVersionMajor < 1 || req.httpVersionMinor < 1` (0.9, 1.0, 2.0).
        let http10 = req.http_version_major() < 1 || req.http_version_minor() < 1;
        let te_chunked =
            req.ext().has(Seen::TE) && req.headers().get_str("te").is_some_and(|v| has_word(v.as_bytes(), "chunked"));
        ResponseState {
            req: req.clone(),
            conn,
            status_code: Cell::new(200),
            status_message: RefCell::new(None),
            headers: RefCell::new(OutHeaders::default()),
            header: RefCell::new(None),
            headers_sent: Cell::new(false),
            has_body: Cell::new(req.method() != "HEAD"),
            chunked: Cell::new(false),
            content_length: Cell::new(None),
            last: Cell::new(false),
            should_keep_alive: Cell::new(keep_alive),
            use_chunked_by_default: Cell::new(!http10 || te_chunked),
            send_date: Cell::new(true),
            removed: Cell::new(Removed::default()),
            trailer: RefCell::new(None),
            keep_alive: cfg.keep_alive.clone(),
            unique_headers: cfg.unique_headers.clone(),
            max_requests_reached: Cell::new(false),
            expect_continue: Cell::new(false),
            sent_100: Cell::new(false),
            socket: RefCell::new(None),
            pending: RefCell::new(Vec::new()),
            pending_timeout: Cell::new(None),
            destroying: RefCell::new(None),
            strict_content_length: Cell::new(false),
            bytes_written: Cell::new(0),
            reject_body_writes: cfg.reject_body_writes,
            checked: Cell::new(false),
        }
    }
}

/// `new ServerResponse(req)`: `reuse`, a finished response nothing holds, is renewed in
/// place (the new one writes its headers into the old one's buffer); otherwise a new
/// one is built.
pub(crate) fn new_response(
    req: &IncomingMessage,
    keep_alive: bool,
    conn: Weak<ConnInner>,
    cfg: &ResponseConfig,
    reuse: Option<ServerResponse>,
) -> ServerResponse {
    if let Some(old) = reuse {
        let renewed = old.renew(|e| {
            let mut headers = std::mem::take(e.headers.get_mut());
            headers.clear();
            *e = ResponseState::new(req, keep_alive, conn.clone(), cfg);
            *e.headers.get_mut() = headers;
        });
        if let Ok(res) = renewed {
            return res;
        }
    }
    Builder::writable_ext(ResponseState::new(req, keep_alive, conn, cfg))
        .high_water_mark(cfg.high_water_mark)
        .before_write(before_write)
        .write(write_one)
        .writev(write_chunks)
        .final_(finish_body)
        .destroy(destroy_response)
        .observe(observe)
        .build()
}

#[cfg(test)]
mod tests {
    use super::valid_link;

    /// Node 20's `linkValueRegExp` on each string (printed by `node`).
    #[test]
    fn link_values_as_node_checks_them() {
        let cases = [
            ("</s.css>; rel=preload; as=style", true),
            ("</a.js>; rel=preload; as=\"script\"", true),
            ("<>", true),
            ("</x>", true),
            ("</x>;", false),
            ("</x> ; a", true),
            ("</x>;a=\"b", false),
            ("</x>;=\"b\"", false),
            ("</x>;a==\"b\"", true),
            ("</x>;a=\"b c\"", false),
            ("</x> x", false),
            ("/x; rel=a", false),
            ("</x>;a;b;c", true),
            ("</x>\t;\ta=b", true),
            ("</x>;a=\"b\";c", true),
            ("</x>;a\"b\"", false),
            ("<a>b>", false),
            ("</x>; rel=preload ", false),
            ("</x>;a=b=c", true),
            ("</x>;;a", false),
            ("</x>\u{a0};a", true),
            ("</x>;a=\"\";b", true),
        ];
        for (link, node) in cases {
            assert_eq!(valid_link(link), node, "{link:?}");
        }
    }
}
