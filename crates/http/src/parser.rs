//! The request parser: the request line and chunk-size lines read as llhttp (Node 20's
//! parser, strict mode) reads them, `httparse` for header fields, plus the checks that
//! make it as strict as llhttp (and RFC 9112 where llhttp is laxer).
//!
//! The parser is incremental and zero-copy: it consumes a `Bytes` of input from the
//! front and returns one event at a time; header names and values, and body chunks, are
//! slices of the input. A head split across reads is joined (the one copy). Its size is
//! limited as Node limits it (431): the bytes of the target and of header names and
//! values (from their first non-blank byte) must stay under `max_header_size`; as
//! Node's parser does not buffer a head and we do, a head is also at most
//! [`RAW_HEAD_FACTOR`] times that many bytes in all.
//!
//! Rejected, each with its llhttp code (400 unless noted): a method llhttp does not
//! know, a request target that is not origin-, asterisk- or `scheme://` absolute-form
//! (or has a byte outside `!`..`~`), a version other than 0.9, 1.0, 1.1 or 2.0, a
//! request line without a version (HTTP/0.9's; RFC 9112, llhttp accepts it), a line
//! ending that is not CRLF (a bare CR or LF), obs-fold, whitespace before a colon,
//! control characters in a name or value, Content-Length together with
//! Transfer-Encoding, a repeated Content-Length, a Content-Length that is not plain
//! digits (optionally followed by spaces) or overflows, a request Transfer-Encoding
//! whose final coding is not `chunked`, more than one Host (RFC 9112), an invalid chunk
//! size or extension, chunk data not followed by CRLF, chunk extensions over 16 KiB
//! (413), a head over the size limit (431), and anything but CR/LF after a request
//! that closes the connection.
//!
//! Where the reads split the input does not change the events or the error: the first
//! bad byte decides, as in llhttp (`parser_tests.rs` checks it).

use bytes::{Buf, Bytes, BytesMut};

use crate::errors::{Code, Error};
use crate::headers::{RawHeaders, Span};

/// Node's `MAX_HEADER_PAIRS` (`_http_common.js`): the names and values a parser keeps
/// for `req.headers` unless the server sets `maxHeadersCount`: 2,000 entries, 1,000
/// headers.
pub(crate) const MAX_HEADER_ENTRIES: usize = 2000;

/// How many of a head's `lines` Node keeps in `rawHeaders` (or `rawTrailers`): a head
/// of fewer than 32 lines is handed to JavaScript whole; from 32 lines on, Node's
/// parser hands them over in batches of 31 (`Flush` at `kMaxHeaderFieldsCount` in
/// `node_http_parser.cc`), and `parserOnHeaders` keeps a batch only while fewer than
/// `max_entries` names and values are kept (0: no limit).
fn node_raw_lines(lines: usize, max_entries: usize) -> usize {
    if lines < 32 || max_entries == 0 {
        return lines;
    }
    let (mut kept, mut left) = (0, lines);
    while left > 0 {
        let batch = left.min(31);
        if kept * 2 < max_entries {
            kept += batch;
        }
        left -= batch;
    }
    kept
}

/// A head (or trailer block) may be this many times `max_header_size` bytes in all.
/// Node counts only the target, names and values (`TrackHeader` in
/// `node_http_parser.cc`) and never holds a whole head; we hold it, so blanks before
/// values, which Node does not count, cannot make it grow without bound.
pub const RAW_HEAD_FACTOR: usize = 4;

/// Where a head is in Node's count of its bytes ([`Counter`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum CountState {
    #[default]
    Method,
    UrlStart,
    Url,
    Version,
    LineStart,
    EndCr,
    Name,
    Blank,
    Value,
}

/// Node's count of a head's bytes, resumable across reads: the request target (for a
/// request head), header names, and values from their first non-blank byte to the end
/// of the line (trailing blanks included), as llhttp hands them to Node (`TrackHeader`
/// in `node_http_parser.cc`). On a malformed head the count may be anything: the parser
/// reports the malformation, which comes first.
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    /// How far the head has been counted.
    pos: usize,
    state: CountState,
    count: usize,
    /// The index of the byte that brought the count to the limit.
    hit: Option<usize>,
    /// The head ended before the limit.
    ended: bool,
}

impl Counter {
    fn new(request: bool) -> Counter {
        let state = if request { CountState::Method } else { CountState::LineStart };
        Counter { state, ..Counter::default() }
    }

    /// Counts `buf[self.pos..]`; the index of the byte that makes the count `max`, if
    /// it is there (or was, in an earlier part) before the head ends.
    fn advance(&mut self, buf: &[u8], max: usize) -> Option<usize> {
        use CountState as S;
        if self.hit.is_some() || self.ended {
            return self.hit;
        }
        for (i, &b) in buf.iter().enumerate().skip(self.pos) {
            let counted;
            (self.state, counted) = match (self.state, b) {
                (S::Method, b' ') => (S::UrlStart, false),
                (S::Method, _) => (S::Method, false),
                (S::UrlStart, b' ') => (S::UrlStart, false),
                (S::UrlStart | S::Url, b'\r' | b'\n') | (S::Url, b' ') => (S::Version, false),
                (S::UrlStart | S::Url, _) => (S::Url, true),
                (S::Version, b'\n') => (S::LineStart, false),
                (S::Version, _) => (S::Version, false),
                (S::LineStart, b'\r') => (S::EndCr, false),
                (S::LineStart | S::EndCr, b'\n') => {
                    self.ended = true; // the end of the head
                    return None;
                }
                (S::LineStart | S::Name, b':') => (S::Blank, false),
                (S::Name | S::Blank | S::Value, b'\n') => (S::LineStart, false),
                (S::LineStart | S::Name | S::EndCr, _) => (S::Name, true),
                (S::Blank | S::Value, b'\r') => (S::Value, false),
                (S::Blank, b' ' | b'\t') => (S::Blank, false),
                (S::Blank | S::Value, _) => (S::Value, true),
            };
            if counted {
                self.count += 1;
                if self.count >= max {
                    self.hit = Some(i);
                    return self.hit;
                }
            }
        }
        self.pos = buf.len();
        None
    }
}

/// What earlier reads learned of a head (or trailer block) still incomplete, so that
/// one arriving in small pieces is not parsed again from its start at each read: that
/// cost the square of its size (2.3 s of CPU for a 40 KB head sent a byte at a time).
/// Lines known complete and valid are not looked at again, nor more of a value whose
/// bytes are plainly valid; anything else sends the current line through `httparse`
/// again, so the errors are the ones a whole parse gives.
#[derive(Clone, Copy, Debug, Default)]
struct Partial {
    /// The request line's length, once it is complete and valid.
    line_len: Option<usize>,
    /// Where the first line not known to be complete and valid starts.
    from: usize,
    /// How far the bytes have been checked.
    checked: usize,
    /// The line at `from` has had its colon: what follows is its value.
    in_value: bool,
    counter: Counter,
}

impl Partial {
    fn new(request: bool) -> Partial {
        Partial { counter: Counter::new(request), ..Partial::default() }
    }

    /// No earlier read left this head or block incomplete: it is parsed whole (the
    /// usual case), and [`Partial::learn`] notes what is known if it is not complete.
    fn first_look(&self) -> bool {
        self.checked == 0
    }

    /// How much of `input` may be looked at, and whether it holds more (the head is too
    /// large: 431, unless something in the view is invalid).
    fn view(&mut self, input: &[u8], max: usize) -> (usize, bool) {
        let raw = max.saturating_mul(RAW_HEAD_FACTOR);
        let upto = input.len().min(raw);
        // Fewer bytes than `max` cannot count to it.
        let hit = if upto >= max { self.counter.advance(&input[..upto], max) } else { None };
        match hit {
            // The byte that reaches the count is looked at: if it is invalid, that is the
            // error (llhttp checks it before handing it over).
            Some(at) => (at + 1, true),
            None if input.len() > raw => (raw, true),
            None => (input.len(), false),
        }
    }

    /// Checks the header lines of `view` from `start` (where they begin) as far as they
    /// go: `Ok(true)` if they end in `view` (the head is complete: parse it whole),
    /// `Ok(false)` if they are valid so far.
    fn fields(&mut self, view: &[u8], start: usize) -> Result<bool, Error> {
        if self.from < start {
            (self.from, self.checked, self.in_value) = (start, start, false);
        }
        let new = &view[self.checked.max(self.from)..];
        let cr_waiting = self.checked > self.from && view[self.checked - 1] == b'\r';
        // More of a value: any byte httparse takes in one but CR and LF.
        if self.in_value && !cr_waiting && new.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)) {
            self.checked = view.len();
            return Ok(false);
        }
        let fragment = &view[self.from..];
        #[cfg(test)]
        tests::FRAGMENT_BYTES.with(|n| n.set(n.get() + fragment.len()));
        let mut stack = [httparse::EMPTY_HEADER; 64];
        let mut heap = Vec::new();
        match parse_fields(fragment, &mut stack, &mut heap) {
            Ok(httparse::Status::Complete(_)) => Ok(true),
            Ok(httparse::Status::Partial) => {
                let from = self.from;
                self.learn(view, from)?;
                Ok(false)
            }
            Err(e) => Err(header_error(fragment, e)),
        }
    }

    /// `httparse` found the header lines of `view` from `from` valid but incomplete:
    /// notes what is known for the next read (after checking for a bare CR or LF,
    /// which can already be seen in a partial head).
    fn learn(&mut self, view: &[u8], from: usize) -> Result<(), Error> {
        let fragment = &view[from..];
        check_partial_line_endings(fragment)?;
        // The lines that end in the fragment are complete and valid.
        self.from = from + memchr::memrchr(b'\n', fragment).map_or(0, |nl| nl + 1);
        self.in_value = view[self.from..].contains(&b':');
        self.checked = view.len();
        Ok(())
    }
}

/// The largest chunk-size line (extensions included) accepted (Node 20: 16 KiB).
pub const MAX_CHUNK_EXTENSIONS: usize = 16 * 1024;

/// A parsed request head.
#[derive(Clone, Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: &'static str,
    /// Where the target is in the head (`raw_headers`' block): printable ASCII only,
    /// as the request line is parsed.
    pub(crate) url: (u32, u32),
    pub(crate) version: (u8, u8),
    pub(crate) raw_headers: RawHeaders,
    /// How many of the raw headers go into `req.headers` (Node's `maxHeaderPairs`).
    pub(crate) header_pairs: u32,
    pub(crate) keep_alive: bool,
    pub(crate) has_body: bool,
    /// llhttp's `upgrade`: CONNECT, or an `Upgrade` header with `upgrade` among the
    /// `Connection` tokens. The bytes after the head may be another protocol's.
    pub(crate) upgrade: bool,
    /// The headers the server asks about that `req.headers` has.
    pub(crate) seen: Seen,
}

/// Headers a head has, noted while parsing so that nobody scans for them again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen(u8);

impl Seen {
    pub(crate) const HOST: Seen = Seen(1);
    pub(crate) const EXPECT: Seen = Seen(2);
    pub(crate) const TE: Seen = Seen(4);

    pub(crate) fn has(self, h: Seen) -> bool {
        self.0 & h.0 != 0
    }

    fn add(&mut self, h: Seen) {
        self.0 |= h.0;
    }
}

/// One step of parsing.
#[derive(Debug)]
pub(crate) enum Event {
    /// A complete head.
    Head(RequestHead),
    /// A piece of the body.
    Body(Bytes),
    /// The message is complete (with trailers, for chunked bodies).
    Done(RawHeaders),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkCrlf,
    Trailers,
    /// After a request that closes the connection: only CR/LF may follow.
    Closed,
}

/// The incremental request parser of one connection.
pub(crate) struct Parser {
    state: State,
    max_header_size: usize,
    /// Node's `maxHeaderPairs`: names and values kept for `req.headers` (0: no limit).
    max_header_entries: usize,
    /// llhttp's `should_keep_alive` for the message in progress.
    keep_alive: bool,
    /// A vector for the next head's header offsets, given back by a finished request.
    spare: Vec<Span>,
    /// What is known of the head or trailer block in progress.
    partial: Partial,
}

fn err(code: Code, msg: &str) -> Error {
    Error::new(code, format!("Parse Error: {msg}"))
}

/// A head (or trailer block) too large: 431.
fn header_overflow() -> Error {
    err(Code::HPE_HEADER_OVERFLOW, "Header overflow")
}

/// What an incomplete head comes to: more input is needed, unless the input already
/// holds more than may be looked at (`over`).
fn wait_or_overflow(over: bool) -> Result<Option<Event>, Error> {
    match over {
        true => Err(header_overflow()),
        false => Ok(None),
    }
}

/// A bare CR or LF anywhere in `head` (every line must end in CRLF).
fn check_line_endings(head: &[u8]) -> Result<(), Error> {
    // Every LF follows a CR and every CR comes before an LF: one pass over byte pairs
    // with no early exit (it vectorizes); the errors are told apart only when it fails.
    let bad = head.first() == Some(&b'\n')
        || head.last() == Some(&b'\r')
        || head
            .iter()
            .zip(head.get(1..).unwrap_or_default())
            .fold(false, |bad, (&prev, &b)| bad | ((b == b'\n') != (prev == b'\r')));
    match bad.then(|| first_bare_line_ending(head)).flatten() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// [`check_line_endings`] on a head not complete yet: a CR at the very end is waiting
/// for its LF.
fn check_partial_line_endings(partial: &[u8]) -> Result<(), Error> {
    check_line_endings(partial.strip_suffix(b"\r").unwrap_or(partial))
}

/// Where the first bare CR or LF of `head` is, and its error (a CR at the very end is
/// bare: `head` is complete).
fn first_bare_line_ending(head: &[u8]) -> Option<(usize, Error)> {
    memchr::memchr2_iter(b'\r', b'\n', head).find_map(|i| match head[i] {
        b'\n' if i == 0 || head[i - 1] != b'\r' => {
            Some((i, err(Code::HPE_LF_EXPECTED, "Missing expected CR after header value")))
        }
        b'\r' if head.get(i + 1) != Some(&b'\n') => {
            Some((i, err(Code::HPE_LF_EXPECTED, "Missing expected LF after header value")))
        }
        _ => None,
    })
}

/// `httparse::parse_headers` of `fields` into `stack`, or into `heap` (made as long as
/// `fields` can have lines) when there are more lines than `stack` holds.
fn parse_fields<'b, 'h>(
    fields: &'b [u8],
    stack: &'h mut [httparse::Header<'b>],
    heap: &'h mut Vec<httparse::Header<'b>>,
) -> httparse::Result<(usize, &'h [httparse::Header<'b>])> {
    match httparse::parse_headers(fields, stack) {
        Err(httparse::Error::TooManyHeaders) => {
            // The shortest line is `a:` and CRLF.
            *heap = vec![httparse::EMPTY_HEADER; fields.len() / 4 + 1];
            httparse::parse_headers(fields, heap)
        }
        status => status,
    }
}

/// `httparse` rejected `fields` with `e`; llhttp reports the first bad byte, so a bare
/// CR or LF that httparse read past is the error (it takes a bare LF for a line ending
/// and stops later, on what follows).
fn header_error(fields: &[u8], e: httparse::Error) -> Error {
    let partial = fields.strip_suffix(b"\r").unwrap_or(fields);
    if let Some((at, bare)) = first_bare_line_ending(partial) {
        // httparse is still waiting at the bare byte (a CR or LF where a line may end).
        let mut probe = vec![httparse::EMPTY_HEADER; at / 4 + 2];
        if let Ok(httparse::Status::Partial) = httparse::parse_headers(&fields[..=at], &mut probe) {
            return bare;
        }
    }
    map_httparse(e)
}

/// The request methods llhttp accepts (Node's `http.METHODS`).
const METHODS: &[&str] = &[
    "ACL",
    "BIND",
    "CHECKOUT",
    "CONNECT",
    "COPY",
    "DELETE",
    "GET",
    "HEAD",
    "LINK",
    "LOCK",
    "M-SEARCH",
    "MERGE",
    "MKACTIVITY",
    "MKCALENDAR",
    "MKCOL",
    "MOVE",
    "NOTIFY",
    "OPTIONS",
    "PATCH",
    "POST",
    "PROPFIND",
    "PROPPATCH",
    "PURGE",
    "PUT",
    "QUERY",
    "REBIND",
    "REPORT",
    "SEARCH",
    "SOURCE",
    "SUBSCRIBE",
    "TRACE",
    "UNBIND",
    "UNLINK",
    "UNLOCK",
    "UNSUBSCRIBE",
];

/// The request line, read as llhttp reads it: a known method, one or more spaces, the
/// target, one or more spaces, `HTTP/x.y`, CRLF. `Ok(None)`: not complete, and nothing
/// invalid so far. Else the method, the target, the version and the line's length.
#[allow(clippy::type_complexity)]
fn request_line(buf: &[u8]) -> Result<Option<(&'static str, &[u8], (u8, u8), usize)>, Error> {
    let bad_method = || err(Code::HPE_INVALID_METHOD, "Invalid method encountered");
    let bad_version = || err(Code::HPE_INVALID_VERSION, "Invalid HTTP version");
    let Some(end) = buf.iter().position(|&b| !(b.is_ascii_uppercase() || b == b'-')) else {
        return match METHODS.iter().any(|m| m.as_bytes().starts_with(buf)) {
            true => Ok(None),
            false => Err(bad_method()),
        };
    };
    let method = METHODS.iter().copied().find(|m| m.as_bytes() == &buf[..end]).ok_or_else(bad_method)?;
    if buf[end] != b' ' {
        return Err(bad_method());
    }
    let spaces = |from: usize| from + buf[from..].iter().take_while(|&&b| b == b' ').count();
    let url_start = spaces(end);
    let url_end = url_start + buf[url_start..].iter().take_while(|b| (0x21..=0x7e).contains(*b)).count();
    let Some(&after) = buf.get(url_end) else { return Ok(None) };
    if after == b'\r' && url_end > url_start {
        // `GET /` + CRLF: HTTP/0.9's request line. llhttp accepts it; RFC 9112 §3 has
        // no request line without a version (400).
        return Err(err(Code::HPE_INVALID_VERSION, "Missing HTTP version"));
    }
    let url = &buf[url_start..url_end];
    if after != b' ' || !valid_url(url, method == "CONNECT") {
        return Err(err(Code::HPE_INVALID_URL, "Invalid URL"));
    }
    let v = &buf[spaces(url_end)..];
    let seen = &v[..v.len().min(10)];
    const VERSIONS: [(&[u8], (u8, u8)); 4] =
        [(b"HTTP/1.1\r\n", (1, 1)), (b"HTTP/1.0\r\n", (1, 0)), (b"HTTP/2.0\r\n", (2, 0)), (b"HTTP/0.9\r\n", (0, 9))];
    match VERSIONS.iter().find(|(text, _)| text.starts_with(seen)) {
        None => Err(bad_version()),
        Some(_) if seen.len() < 10 => Ok(None),
        Some(&(_, version)) => Ok(Some((method, url, version, buf.len() - v.len() + 10))),
    }
}

/// llhttp's check of a request target (strict mode, printable ASCII already checked):
/// origin-form (`/...`), asterisk-form (`*...`), or absolute-form `scheme://authority`
/// with only host characters up to the path or query. CONNECT's authority-form is not
/// checked: without a `connect` listener the connection is dropped anyway.
fn valid_url(url: &[u8], connect: bool) -> bool {
    match url.first() {
        None => false,
        Some(_) if connect => true,
        Some(b'/' | b'*') => true,
        Some(b) if b.is_ascii_alphabetic() => {
            let scheme = url.iter().take_while(|b| b.is_ascii_alphabetic()).count();
            let Some(rest) = url[scheme..].strip_prefix(b"://") else { return false };
            rest.iter()
                .take_while(|&&b| b != b'/' && b != b'?')
                .all(|&b| b.is_ascii_alphanumeric() || b"!$%&'()*+,-.:;=@[]_~".contains(&b))
        }
        Some(_) => false,
    }
}

/// A chunk-size line, read as llhttp reads it in strict mode: hex digits (any number,
/// as long as the size fits in 64 bits), then CRLF, or `;` and extensions: `name` or
/// `name=value` separated by `;`, a name a token (empty only before `;` or `=`), a
/// value token characters and quoted strings (a `"` opens one anywhere in the value;
/// nothing may follow its closing quote), no whitespace outside quotes. `Ok(None)`: not
/// complete, and nothing invalid so far. Else the line's length and the size.
fn chunk_line(buf: &[u8]) -> Result<Option<(usize, u64)>, Error> {
    #[derive(Clone, Copy)]
    enum S {
        ExtStart,
        Name,
        ValueStart,
        Value,
        Quoted,
        QuotedPair,
        QuoteDone,
    }
    let bad_size = || err(Code::HPE_INVALID_CHUNK_SIZE, "Invalid character in chunk size");
    let bad_ext = || err(Code::HPE_STRICT, "Invalid character in chunk extensions");
    let digits = buf.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let mut size: u64 = 0;
    for &d in &buf[..digits] {
        let d = (d as char).to_digit(16).unwrap_or(0) as u64;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(d))
            .ok_or_else(|| err(Code::HPE_INVALID_CHUNK_SIZE, "Chunk size overflow"))?;
    }
    let mut i = digits;
    let mut state = match buf.get(i) {
        None => return Ok(None),
        Some(_) if digits == 0 => return Err(bad_size()),
        Some(b'\r') => None,
        Some(b';') => Some(S::ExtStart),
        Some(_) => return Err(bad_size()),
    };
    i += 1;
    while let Some(s) = state {
        let Some(&b) = buf.get(i) else { return Ok(None) };
        let qdtext = b == b'\t' || b == b' ' || b == 0x21 || ((0x23..=0x7e).contains(&b) && b != b'\\') || b >= 0x80;
        state = match (s, b) {
            (S::ExtStart, b' ' | b'\r') => return Err(bad_ext()),
            (S::Name | S::ExtStart | S::ValueStart | S::Value | S::QuoteDone, b';') => Some(S::ExtStart),
            (S::Name | S::ValueStart | S::Value | S::QuoteDone, b'\r') => None,
            (S::Name | S::ExtStart, b'=') => Some(S::ValueStart),
            (S::Name | S::ExtStart, _) if crate::headers::is_tchar(b) => Some(S::Name),
            (S::ValueStart | S::Value, b'"') => Some(S::Quoted),
            (S::ValueStart | S::Value, _) if crate::headers::is_tchar(b) => Some(S::Value),
            (S::Quoted, b'"') => Some(S::QuoteDone),
            (S::Quoted, b'\\') => Some(S::QuotedPair),
            (S::Quoted, _) if qdtext => Some(S::Quoted),
            (S::QuotedPair, _) if b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80 => Some(S::Quoted),
            _ => return Err(bad_ext()),
        };
        i += 1;
    }
    // `i` is past the CR.
    match buf.get(i) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((i + 1, size))),
        Some(_) => Err(err(Code::HPE_LF_EXPECTED, "Expected LF after chunk size")),
    }
}

fn trim_spaces_end(v: &[u8]) -> &[u8] {
    &v[..v.iter().rposition(|&b| b != b' ').map_or(0, |e| e + 1)]
}

/// `token` in a comma-separated `value` (with its trailing whitespace, as received): as
/// llhttp reads it, whitespace may precede a token but only spaces follow it.
fn has_token(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|t| {
        let t = &t[t.iter().take_while(|&&b| b == b' ' || b == b'\t').count()..];
        trim_spaces_end(t).eq_ignore_ascii_case(token.as_bytes())
    })
}

fn map_httparse(e: httparse::Error) -> Error {
    use httparse::Error as H;
    match e {
        H::HeaderName => err(Code::HPE_INVALID_HEADER_TOKEN, "Invalid header token"),
        H::HeaderValue => err(Code::HPE_INVALID_HEADER_TOKEN, "Invalid header value char"),
        H::NewLine => err(Code::HPE_LF_EXPECTED, "Missing expected LF after header value"),
        H::Status | H::Token => err(Code::HPE_INVALID_METHOD, "Invalid method encountered"),
        H::Version => err(Code::HPE_INVALID_VERSION, "Invalid HTTP version"),
        H::TooManyHeaders => header_overflow(),
    }
}

impl Parser {
    /// A parser with Node's `maxHeaderSize` and `maxHeaderPairs` (names and values kept
    /// for `req.headers`; 0: no limit; Node's default is [`MAX_HEADER_ENTRIES`]).
    pub(crate) fn new(max_header_size: usize, max_header_entries: usize) -> Parser {
        Parser {
            state: State::Head,
            max_header_size,
            max_header_entries,
            keep_alive: true,
            spare: Vec::new(),
            partial: Partial::new(true),
        }
    }

    /// Keeps `spans` for the next head's header offsets (if none is kept yet).
    pub(crate) fn give_spare(&mut self, spans: Vec<Span>) {
        if self.spare.capacity() == 0 {
            self.spare = spans;
        }
    }

    /// True between messages (nothing of the next request parsed yet).
    pub(crate) fn idle(&self) -> bool {
        matches!(self.state, State::Head | State::Closed)
    }

    /// The message is complete: llhttp reads the next one, or, after a message that
    /// closes the connection, nothing more (its `closed` state).
    fn done(&mut self, trailers: RawHeaders) -> Event {
        self.state = if self.keep_alive { State::Head } else { State::Closed };
        self.partial = Partial::new(true); // the next head starts afresh
        Event::Done(trailers)
    }

    /// Consumes from `input` and returns the next event, `Ok(None)` if more input is
    /// needed. After an error the connection must be closed.
    pub(crate) fn execute(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        loop {
            match self.state {
                State::Head => return self.head(input),
                State::Length(0) => return Ok(Some(self.done(RawHeaders::default()))),
                State::Length(left) => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = (input.len() as u64).min(left) as usize;
                    self.state = State::Length(left - n as u64);
                    return Ok(Some(Event::Body(input.split_to(n))));
                }
                State::ChunkSize => {
                    let overflow = || err(Code::HPE_CHUNK_EXTENSIONS_OVERFLOW, "Chunk extensions overflow");
                    let (line_len, size) = match chunk_line(input)? {
                        Some((len, _)) if len > MAX_CHUNK_EXTENSIONS => return Err(overflow()),
                        Some(line) => line,
                        None if input.len() > MAX_CHUNK_EXTENSIONS => return Err(overflow()),
                        None => return Ok(None),
                    };
                    input.advance(line_len);
                    if size == 0 {
                        self.state = State::Trailers;
                        // Node counts a trailer block's names and values afresh.
                        self.partial = Partial::new(false);
                    } else {
                        self.state = State::ChunkData(size);
                    }
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
                State::Closed => {
                    let skip = input.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
                    input.advance(skip);
                    if input.is_empty() {
                        return Ok(None);
                    }
                    return Err(err(Code::HPE_CLOSED_CONNECTION, "Data after `Connection: close`"));
                }
            }
        }
    }

    fn head(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        // Node (llhttp) skips CR and LF before a request.
        let skip = input.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        if skip > 0 {
            input.advance(skip);
            self.partial = Partial::new(true); // the head starts later than thought
        }
        if input.is_empty() {
            return Ok(None);
        }
        let result = self.head_at(input);
        if !matches!(result, Ok(None)) {
            self.partial = Partial::new(true); // the next head starts afresh
        }
        result
    }

    fn head_at(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        // Only the bytes up to the size limit are looked at: a head is an error as soon
        // as it reaches the limit (431), whatever follows, as when its bytes come one by
        // one.
        let (len, over) = self.partial.view(input, self.max_header_size);
        let view = &input[..len];
        let partial = || wait_or_overflow(over);
        // The request line is parsed once it is complete, and again (cheaply) when the
        // head is: only its length is kept between reads.
        let mut line = None;
        let first_look = self.partial.first_look();
        let line_len = match self.partial.line_len {
            Some(line_len) => line_len,
            None => match request_line(view)? {
                Some(parsed) => line.insert(parsed).3,
                None => {
                    // A bare CR or LF can already be seen in a partial head.
                    check_partial_line_endings(view)?;
                    return partial();
                }
            },
        };
        // A head seen before is checked from where the last read left it; one seen for
        // the first time (the usual case: a whole head in one read) is parsed whole.
        if !first_look && !self.partial.fields(view, line_len)? {
            return partial();
        }
        let line = match line {
            Some(line) => line,
            None => match request_line(view)? {
                Some(line) => line,
                None => return partial(), // not reached: the line was complete before
            },
        };
        let (method, url, version, line_len) = line;
        let fields = &view[line_len..];
        let mut stack = [httparse::EMPTY_HEADER; 64];
        let mut heap = Vec::new();
        let (n, headers) = match parse_fields(fields, &mut stack, &mut heap) {
            Ok(httparse::Status::Complete((n, headers))) => (line_len + n, headers),
            Ok(httparse::Status::Partial) => {
                self.partial.line_len = Some(line_len);
                self.partial.learn(view, line_len)?;
                return partial();
            }
            Err(e) => return Err(header_error(fields, e)),
        };
        check_line_endings(&input[..n])?;

        let base = input.as_ptr() as usize;
        let offset = |s: &[u8]| s.as_ptr() as usize - base;
        // The head's bytes, shared: the target and the header fields are slices of it.
        let head = input.slice(..n);
        let url = (offset(url) as u32, (offset(url) + url.len()) as u32);
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        let mut te_seen = false;
        let mut hosts = 0;
        let mut seen = Seen::default();
        let mut close = false;
        let mut keep_alive_token = false;
        let (mut upgrade_header, mut upgrade_token) = (false, false);
        // Node keeps only so many lines, and only so many of those go into
        // `req.headers`, which is where it looks for Host and Expect.
        let kept = node_raw_lines(headers.len(), self.max_header_entries);
        let pairs = if self.max_header_entries == 0 { kept } else { kept.min(self.max_header_entries / 2) };
        for (i, h) in headers.iter().enumerate() {
            let in_headers = i < pairs;
            let (name, value) = (h.name.as_bytes(), h.value);
            // httparse drops the value's trailing whitespace; llhttp looks at it for
            // Content-Length and Transfer-Encoding.
            let ws = input[offset(value) + value.len()..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            let raw_value = &input[offset(value)..offset(value) + value.len() + ws];
            match name.len() {
                14 if name.eq_ignore_ascii_case(b"content-length") => {
                    // Digits, then only spaces (llhttp rejects a tab there).
                    let v = trim_spaces_end(raw_value);
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
                    // chunked, and chunked may appear nowhere else: not even before an
                    // empty list element. As llhttp reads it, `chunked` followed by a
                    // tab is another coding; an empty header is ignored.
                    if value.is_empty() {
                        continue;
                    }
                    for c in raw_value.split(|&b| b == b',') {
                        if chunked {
                            return Err(err(
                                Code::HPE_INVALID_TRANSFER_ENCODING,
                                "Invalid `Transfer-Encoding` header value",
                            ));
                        }
                        chunked = has_token(c, "chunked");
                    }
                }
                4 if name.eq_ignore_ascii_case(b"host") => {
                    hosts += 1;
                    if in_headers {
                        seen.add(Seen::HOST);
                    }
                }
                6 if in_headers && name.eq_ignore_ascii_case(b"expect") => seen.add(Seen::EXPECT),
                2 if in_headers && name.eq_ignore_ascii_case(b"te") => seen.add(Seen::TE),
                10 if name.eq_ignore_ascii_case(b"connection") => {
                    close |= has_token(raw_value, "close");
                    keep_alive_token |= has_token(raw_value, "keep-alive");
                    upgrade_token |= has_token(raw_value, "upgrade");
                }
                7 if name.eq_ignore_ascii_case(b"upgrade") => upgrade_header = true,
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
        let spans = std::mem::take(&mut self.spare);
        let raw_headers =
            RawHeaders::with_spans(spans, head, headers[..kept].iter().map(|h| (h.name.as_bytes(), h.value)));
        input.advance(n);
        // llhttp's `should_keep_alive`: HTTP/1.1 unless `close`; 0.9, 1.0 and 2.0 only
        // with `keep-alive` (a `close` beside it is not looked at).
        let keep_alive = if version.0 > 0 && version.1 > 0 { !close } else { keep_alive_token };
        self.keep_alive = keep_alive;
        let has_body = chunked || content_length.is_some_and(|n| n > 0);
        self.state = if chunked {
            State::ChunkSize
        } else {
            match content_length {
                Some(n) if n > 0 => State::Length(n),
                _ => State::Length(0),
            }
        };
        // llhttp__before_headers_complete.
        let upgrade = method == "CONNECT" || (upgrade_header && upgrade_token);
        let header_pairs = pairs as u32;
        Ok(Some(Event::Head(RequestHead {
            method,
            url,
            version,
            raw_headers,
            header_pairs,
            keep_alive,
            has_body,
            upgrade,
            seen,
        })))
    }

    fn trailers(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        if input.starts_with(b"\r\n") {
            input.advance(2);
            return Ok(Some(self.done(RawHeaders::default())));
        }
        self.trailers_at(input)
    }

    fn trailers_at(&mut self, input: &mut Bytes) -> Result<Option<Event>, Error> {
        // As for a head, without a request line.
        let first_look = self.partial.first_look();
        let (len, over) = self.partial.view(input, self.max_header_size);
        let view = &input[..len];
        let partial = || wait_or_overflow(over);
        if !first_look && !self.partial.fields(view, 0)? {
            return partial();
        }
        let mut stack = [httparse::EMPTY_HEADER; 64];
        let mut heap = Vec::new();
        match parse_fields(view, &mut stack, &mut heap) {
            Ok(httparse::Status::Complete((n, headers))) => {
                check_line_endings(&input[..n])?;
                // Node's `req.trailers` takes every kept line (no `maxHeaderPairs` cut).
                let kept = node_raw_lines(headers.len(), self.max_header_entries);
                let trailers =
                    RawHeaders::new(input.slice(..n), headers[..kept].iter().map(|h| (h.name.as_bytes(), h.value)));
                input.advance(n);
                Ok(Some(self.done(trailers)))
            }
            Ok(httparse::Status::Partial) => {
                self.partial.learn(view, 0)?;
                partial()
            }
            Err(e) => Err(header_error(view, e)),
        }
    }

    /// `parser.finish()` at EOF: an error if a message was in progress.
    pub(crate) fn finish(&self, pending: &[u8]) -> Result<(), Error> {
        if self.idle() && pending.iter().all(|&b| b == b'\r' || b == b'\n') {
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

#[cfg(any(test, feature = "fuzzing"))]
#[path = "parser_split.rs"]
pub mod split_check;
#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
