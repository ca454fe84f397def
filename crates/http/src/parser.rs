//! The request parser: `httparse` for the head and chunk sizes, plus the checks that
//! make it as strict as Node's llhttp (and RFC 9112 where llhttp is laxer).
//!
//! The parser is incremental and zero-copy: it consumes a `Bytes` of input from the
//! front and returns one event at a time; header names and values, and body chunks, are
//! slices of the input. A head split across reads is joined (the one copy), and is
//! limited to `max_header_size` bytes (431).
//!
//! Rejected, each with its llhttp code (400 unless noted): a line ending that is not
//! CRLF (a bare CR or LF), obs-fold, whitespace before a colon, control characters in a
//! name or value, Content-Length together with Transfer-Encoding, a repeated
//! Content-Length, a Content-Length that is not plain digits or overflows, a request
//! Transfer-Encoding whose final coding is not `chunked`, more than one Host (RFC 9112),
//! an invalid chunk size, chunk data not followed by CRLF, chunk extensions over 16 KiB
//! (413), a head over `max_header_size` (431).

use bytes::{Buf, Bytes, BytesMut};

use crate::errors::{Code, Error};

/// The largest chunk-size line (extensions included) accepted (Node 20: 16 KiB).
pub const MAX_CHUNK_EXTENSIONS: usize = 16 * 1024;

/// A parsed request head.
#[derive(Clone, Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) version: (u8, u8),
    pub(crate) raw_headers: Vec<(Bytes, Bytes)>,
    pub(crate) keep_alive: bool,
    pub(crate) has_body: bool,
}

/// One step of parsing.
#[derive(Debug)]
pub(crate) enum Event {
    /// A complete head.
    Head(RequestHead),
    /// A piece of the body.
    Body(Bytes),
    /// The message is complete (with trailers, for chunked bodies).
    Done(Vec<(Bytes, Bytes)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkCrlf,
    Trailers,
}

/// The incremental request parser of one connection.
pub(crate) struct Parser {
    state: State,
    max_header_size: usize,
}

fn err(code: Code, msg: &str) -> Error {
    Error::new(code, format!("Parse Error: {msg}"))
}

/// A bare CR or LF anywhere in `head` (every line must end in CRLF).
fn check_line_endings(head: &[u8]) -> Result<(), Error> {
    for i in memchr::memchr2_iter(b'\r', b'\n', head) {
        match head[i] {
            b'\n' if i == 0 || head[i - 1] != b'\r' => {
                return Err(err(Code::HPE_LF_EXPECTED, "Missing expected CR after header value"))
            }
            b'\r' if head.get(i + 1) != Some(&b'\n') => {
                return Err(err(Code::HPE_LF_EXPECTED, "Missing expected LF after header value"))
            }
            _ => {}
        }
    }
    Ok(())
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

fn has_token(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|t| trim(t).eq_ignore_ascii_case(token.as_bytes()))
}

fn map_httparse(e: httparse::Error) -> Error {
    use httparse::Error as H;
    match e {
        H::HeaderName => err(Code::HPE_INVALID_HEADER_TOKEN, "Invalid header token"),
        H::HeaderValue => err(Code::HPE_INVALID_HEADER_TOKEN, "Invalid header value char"),
        H::NewLine => err(Code::HPE_LF_EXPECTED, "Missing expected LF after header value"),
        H::Status | H::Token => err(Code::HPE_INVALID_METHOD, "Invalid method encountered"),
        H::Version => err(Code::HPE_INVALID_VERSION, "Invalid HTTP version"),
        H::TooManyHeaders => err(Code::HPE_HEADER_OVERFLOW, "Header overflow"),
    }
}

impl Parser {
    pub(crate) fn new(max_header_size: usize) -> Parser {
        Parser { state: State::Head, max_header_size }
    }

    /// True between messages (nothing of the next request parsed yet).
    pub(crate) fn idle(&self) -> bool {
        self.state == State::Head
    }

    /// Consumes from `input` and returns the next event, `Ok(None)` if more input is
    /// needed. After an error the connection must be closed.
    pub(crate) fn execute(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        loop {
            match self.state {
                State::Head => return self.head(input),
                State::Length(0) => {
                    self.state = State::Head;
                    return Ok(Some(Event::Done(Vec::new())));
                }
                State::Length(left) => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = (input.len() as u64).min(left) as usize;
                    self.state = State::Length(left - n as u64);
                    return Ok(Some(Event::Body(input.split_to(n))));
                }
                State::ChunkSize => {
                    let line_len = match memchr::memchr(b'\n', input) {
                        Some(i) => i + 1,
                        None if input.len() > MAX_CHUNK_EXTENSIONS => {
                            return Err(err(Code::HPE_CHUNK_EXTENSIONS_OVERFLOW, "Chunk extensions overflow"))
                        }
                        None => return Ok(None),
                    };
                    if line_len > MAX_CHUNK_EXTENSIONS {
                        return Err(err(Code::HPE_CHUNK_EXTENSIONS_OVERFLOW, "Chunk extensions overflow"));
                    }
                    let line = &input[..line_len];
                    if !line[0].is_ascii_hexdigit() || line_len < 2 || line[line_len - 2] != b'\r' {
                        return Err(err(Code::HPE_INVALID_CHUNK_SIZE, "Invalid character in chunk size"));
                    }
                    let size = match httparse::parse_chunk_size(line) {
                        Ok(httparse::Status::Complete((_, size))) => size,
                        _ => return Err(err(Code::HPE_INVALID_CHUNK_SIZE, "Invalid character in chunk size")),
                    };
                    input.advance(line_len);
                    self.state = if size == 0 { State::Trailers } else { State::ChunkData(size) };
                }
                State::ChunkData(left) => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = (input.len() as u64).min(left) as usize;
                    let rest = left - n as u64;
                    self.state = if rest == 0 { State::ChunkCrlf } else { State::ChunkData(rest) };
                    return Ok(Some(Event::Body(input.split_to(n))));
                }
                State::ChunkCrlf => {
                    if input.len() < 2 {
                        if input.first().is_some_and(|&b| b != b'\r') {
                            return Err(err(Code::HPE_CR_EXPECTED, "Expected CRLF after chunk"));
                        }
                        return Ok(None);
                    }
                    if &input[..2] != b"\r\n" {
                        return Err(err(Code::HPE_CR_EXPECTED, "Expected CRLF after chunk"));
                    }
                    input.advance(2);
                    self.state = State::ChunkSize;
                }
                State::Trailers => return self.trailers(input),
            }
        }
    }

    fn head(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        // Node (llhttp) skips empty lines between requests.
        while input.starts_with(b"\r\n") {
            input.advance(2);
        }
        if input.is_empty() {
            return Ok(None);
        }
        let mut stack = [httparse::EMPTY_HEADER; 64];
        let mut heap: Vec<httparse::Header<'_>>;
        let mut req = httparse::Request::new(&mut stack);
        let mut status = req.parse(input);
        if matches!(status, Err(httparse::Error::TooManyHeaders)) {
            heap = vec![httparse::EMPTY_HEADER; self.max_header_size / 4 + 1];
            req = httparse::Request::new(&mut heap);
            status = req.parse(input);
        }
        let n = match status {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if input.len() > self.max_header_size {
                    return Err(err(Code::HPE_HEADER_OVERFLOW, "Header overflow"));
                }
                // A bare LF can already be seen in a partial head.
                check_line_endings(input)?;
                return Ok(None);
            }
            Err(e) => return Err(map_httparse(e)),
        };
        if n > self.max_header_size {
            return Err(err(Code::HPE_HEADER_OVERFLOW, "Header overflow"));
        }
        check_line_endings(&input[..n])?;

        let base = input.as_ptr() as usize;
        let offset = |s: &[u8]| s.as_ptr() as usize - base;
        let method = req.method.unwrap_or_default().to_owned();
        let url = crate::headers::latin1(req.path.unwrap_or_default().as_bytes());
        let minor = req.version.unwrap_or(1);
        let mut spans = Vec::with_capacity(req.headers.len());
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        let mut te_seen = false;
        let mut hosts = 0;
        let mut close = false;
        let mut keep_alive_token = false;
        for h in req.headers.iter() {
            let (name, value) = (h.name.as_bytes(), h.value);
            spans.push(((offset(name), name.len()), (offset(value), value.len())));
            match name.len() {
                14 if name.eq_ignore_ascii_case(b"content-length") => {
                    let v = trim(value);
                    if content_length.is_some() {
                        return Err(err(Code::HPE_INVALID_CONTENT_LENGTH, "Duplicate Content-Length"));
                    }
                    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                        return Err(err(Code::HPE_INVALID_CONTENT_LENGTH, "Invalid character in Content-Length"));
                    }
                    let mut n: u64 = 0;
                    for d in v {
                        n = n
                            .checked_mul(10)
                            .and_then(|n| n.checked_add((d - b'0') as u64))
                            .ok_or_else(|| err(Code::HPE_INVALID_CONTENT_LENGTH, "Content-Length overflow"))?;
                    }
                    content_length = Some(n);
                }
                17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                    te_seen = true;
                    // Across every Transfer-Encoding header, the final coding must be
                    // chunked, and chunked may appear nowhere else.
                    for c in value.split(|&b| b == b',').map(trim).filter(|c| !c.is_empty()) {
                        if chunked {
                            return Err(err(
                                Code::HPE_INVALID_TRANSFER_ENCODING,
                                "Invalid `Transfer-Encoding` header value",
                            ));
                        }
                        chunked = c.eq_ignore_ascii_case(b"chunked");
                    }
                }
                4 if name.eq_ignore_ascii_case(b"host") => hosts += 1,
                10 if name.eq_ignore_ascii_case(b"connection") => {
                    close |= has_token(value, "close");
                    keep_alive_token |= has_token(value, "keep-alive");
                }
                _ => {}
            }
        }
        if te_seen && !chunked {
            return Err(err(Code::HPE_INVALID_TRANSFER_ENCODING, "Request has invalid `Transfer-Encoding`"));
        }
        if te_seen && content_length.is_some() {
            return Err(err(
                Code::HPE_UNEXPECTED_CONTENT_LENGTH,
                "Content-Length can't be present with Transfer-Encoding",
            ));
        }
        if hosts > 1 {
            return Err(err(Code::HPE_DUPLICATE_HOST, "Duplicate Host header"));
        }
        let head = input.split_to(n);
        let raw_headers =
            spans.into_iter().map(|((no, nl), (vo, vl))| (head.slice(no..no + nl), head.slice(vo..vo + vl))).collect();
        let keep_alive = if minor >= 1 { !close } else { keep_alive_token && !close };
        let has_body = chunked || content_length.is_some_and(|n| n > 0);
        self.state = if chunked {
            State::ChunkSize
        } else {
            match content_length {
                Some(n) if n > 0 => State::Length(n),
                _ => State::Length(0),
            }
        };
        Ok(Some(Event::Head(RequestHead { method, url, version: (1, minor), raw_headers, keep_alive, has_body })))
    }

    fn trailers(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        if input.starts_with(b"\r\n") {
            input.advance(2);
            self.state = State::Head;
            return Ok(Some(Event::Done(Vec::new())));
        }
        let mut stack = [httparse::EMPTY_HEADER; 64];
        match httparse::parse_headers(input, &mut stack) {
            Ok(httparse::Status::Complete((n, headers))) => {
                check_line_endings(&input[..n])?;
                let base = input.as_ptr() as usize;
                let spans: Vec<_> = headers
                    .iter()
                    .map(|h| {
                        (
                            (h.name.as_ptr() as usize - base, h.name.len()),
                            (h.value.as_ptr() as usize - base, h.value.len()),
                        )
                    })
                    .collect();
                let block = input.split_to(n);
                let trailers = spans
                    .into_iter()
                    .map(|((no, nl), (vo, vl))| (block.slice(no..no + nl), block.slice(vo..vo + vl)))
                    .collect();
                self.state = State::Head;
                Ok(Some(Event::Done(trailers)))
            }
            Ok(httparse::Status::Partial) => {
                if input.len() > self.max_header_size {
                    return Err(err(Code::HPE_HEADER_OVERFLOW, "Header overflow"));
                }
                check_line_endings(input)?;
                Ok(None)
            }
            Err(e) => Err(map_httparse(e)),
        }
    }

    /// `parser.finish()` at EOF: an error if a message was in progress.
    pub(crate) fn finish(&self, pending: &[u8]) -> Result<(), Error> {
        if self.state == State::Head && pending.iter().all(|&b| b == b'\r' || b == b'\n') {
            return Ok(());
        }
        Err(err(Code::HPE_INVALID_EOF_STATE, "Invalid EOF state"))
    }
}

/// Joins a leftover with new input (the one copy, for heads split across reads).
pub(crate) fn join(leftover: Bytes, more: Bytes) -> Bytes {
    if leftover.is_empty() {
        return more;
    }
    let mut b = BytesMut::with_capacity(leftover.len() + more.len());
    b.extend_from_slice(&leftover);
    b.extend_from_slice(&more);
    b.freeze()
}
