//! Headers: validation (Node's `checkIsHttpToken`, `checkInvalidHeaderChar`), the
//! incoming headers map with Node's duplicate rules (`_addHeaderLine`), reason phrases
//! (`STATUS_CODES`) and the cached `Date` value (`utcDate`).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// Byte classes, one bit each, looked up per byte.
const TCHAR: u8 = 1;
const FIELD_CHAR: u8 = 2;

const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if matches!(c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
        {
            t[b] |= TCHAR;
        }
        if c == b'\t' || (c >= 0x20 && c <= 0x7e) || c >= 0x80 {
            t[b] |= FIELD_CHAR;
        }
        b += 1;
    }
    t
};

/// An RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    CLASSES[b as usize] & TCHAR != 0
}

/// Node's `checkIsHttpToken`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Node's `checkInvalidHeaderChar`: true if `s` holds a byte outside
/// `\t`, `0x20..=0x7e` and `0x80..=0xff`.
pub fn has_invalid_char(s: &[u8]) -> bool {
    s.iter().any(|&b| CLASSES[b as usize] & FIELD_CHAR == 0)
}

/// Node's header-word regexes, `/(?:^|\W)word(?:$|\W)/i` (`RE_CONN_CLOSE`,
/// `chunkExpression`, `continueExpression`): `word`, ASCII case-insensitive, with no
/// word character (`[A-Za-z0-9_]`) on either side. Not a list-item match: Node finds
/// `close` in `x-close` and in `keep-alive;close`, and not in `closed`.
pub(crate) fn has_word(value: &[u8], word: &str) -> bool {
    let w = word.as_bytes();
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    value.len() >= w.len()
        && (0..=value.len() - w.len()).any(|i| {
            value[i..i + w.len()].eq_ignore_ascii_case(w)
                && (i == 0 || !is_word(&value[i - 1]))
                && value.get(i + w.len()).is_none_or(|b| !is_word(b))
        })
}

/// `req.rawHeaders` (and `rawTrailers`): every header line's name and value as
/// received, in order, case kept. The lines are slices of the message's own bytes, cut
/// on demand: parsing a head copies nothing and shares the read buffer once.
#[derive(Clone, Default)]
pub struct RawHeaders {
    block: Bytes,
    spans: Vec<Span>,
}

/// Where one line's name and value are in the block: `[name_start, name_end,
/// value_start, value_end]`.
pub(crate) type Span = [u32; 4];

impl RawHeaders {
    /// `block` holds the lines; `lines` are (name, value) slices of it.
    pub(crate) fn new<'a>(block: Bytes, lines: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>) -> Self {
        RawHeaders::with_spans(Vec::new(), block, lines)
    }

    /// [`new`](RawHeaders::new), the offsets stored in `spans` (emptied first): a vector
    /// a finished request gave back.
    pub(crate) fn with_spans<'a>(
        mut spans: Vec<Span>,
        block: Bytes,
        lines: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Self {
        let base = block.as_ptr() as usize;
        let at = |s: &[u8]| {
            let start = s.as_ptr() as usize - base;
            debug_assert!(start + s.len() <= block.len(), "a header line outside its block");
            [start as u32, (start + s.len()) as u32]
        };
        spans.clear();
        spans.reserve(lines.len());
        for (name, value) in lines {
            let ([n0, n1], [v0, v1]) = (at(name), at(value));
            spans.push([n0, n1, v0, v1]);
        }
        RawHeaders { block, spans }
    }

    /// The number of header lines.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Line `i`: (name, value).
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.spans.get(i).map(|s| self.line(s))
    }

    /// Line `i` as owned `Bytes` that share the message's buffer (no copy).
    pub fn get_bytes(&self, i: usize) -> Option<(Bytes, Bytes)> {
        let &[n0, n1, v0, v1] = self.spans.get(i)?;
        Some((self.block.slice(n0 as usize..n1 as usize), self.block.slice(v0 as usize..v1 as usize)))
    }

    /// Every line: (name, value).
    pub fn iter(&self) -> RawHeadersIter<'_> {
        RawHeadersIter { raw: self, spans: self.spans.iter() }
    }

    /// Gives up the offsets' vector (for the next request to fill); none are left.
    pub(crate) fn take_spans(&mut self) -> Vec<Span> {
        std::mem::take(&mut self.spans)
    }

    /// The bytes the lines are slices of (for a request, its whole head).
    pub(crate) fn block(&self) -> &[u8] {
        &self.block
    }

    /// True if a line is named `name` (ASCII case-insensitive).
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
    }

    fn line(&self, &[n0, n1, v0, v1]: &Span) -> (&[u8], &[u8]) {
        (&self.block[n0 as usize..n1 as usize], &self.block[v0 as usize..v1 as usize])
    }
}

/// The lines of [`RawHeaders`], in order: (name, value).
pub struct RawHeadersIter<'a> {
    raw: &'a RawHeaders,
    spans: std::slice::Iter<'a, Span>,
}

impl<'a> Iterator for RawHeadersIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.spans.next().map(|s| self.raw.line(s))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for RawHeadersIter<'_> {}

impl<'a> IntoIterator for &'a RawHeaders {
    type Item = (&'a [u8], &'a [u8]);
    type IntoIter = RawHeadersIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for RawHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))))
            .finish()
    }
}

/// A value of the incoming `headers` map: one string, or a list for `set-cookie`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// A single (possibly joined) value.
    One(String),
    /// `set-cookie`: every value, in order.
    Many(Vec<String>),
}

impl HeaderValue {
    /// The value as one string (list values joined with ", ").
    pub fn joined(&self) -> String {
        match self {
            HeaderValue::One(s) => s.clone(),
            HeaderValue::Many(v) => v.join(", "),
        }
    }

    /// The first (or only) value.
    pub fn first(&self) -> &str {
        match self {
            HeaderValue::One(s) => s,
            HeaderValue::Many(v) => v.first().map_or("", String::as_str),
        }
    }
}

impl fmt::Display for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.joined())
    }
}

/// Node's `message.headers`: lower-cased names in first-seen order, with Node's rules for
/// duplicates: `set-cookie` keeps a list, `cookie` joins with "; ", the fields that may
/// appear once keep the first value, every other field joins with ", ".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, HeaderValue)>);

/// Fields where Node keeps only the first value (`matchKnownFields`).
const SINGLETONS: &[&str] = &[
    "age",
    "authorization",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "from",
    "host",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "proxy-authorization",
    "referer",
    "retry-after",
    "server",
    "user-agent",
];

impl Headers {
    /// Builds the map from raw (name, value) pairs.
    pub fn from_raw(raw: &RawHeaders) -> Headers {
        Headers::from_raw_lines(raw, raw.len(), false)
    }

    /// [`Headers::from_raw`] with Node's `joinDuplicateHeaders`: the fields otherwise
    /// kept once (`host`, `content-type`, `authorization`, …) join their values with
    /// ", " as every other field does.
    pub fn from_raw_joined(raw: &RawHeaders) -> Headers {
        Headers::from_raw_lines(raw, raw.len(), true)
    }

    /// [`Headers::from_raw`] of the first `lines` pairs (Node's `_addHeaderLines(headers,
    /// n)`), joining duplicates of the singleton fields if `join`.
    pub(crate) fn from_raw_lines(raw: &RawHeaders, lines: usize, join: bool) -> Headers {
        let mut h = Headers(Vec::with_capacity(raw.len().min(lines)));
        for (name, value) in raw.iter().take(lines) {
            h.add(&String::from_utf8_lossy(name).to_ascii_lowercase(), latin1(value).into_owned(), join);
        }
        h
    }

    /// `_addHeaderLine(field, value)`.
    fn add(&mut self, name: &str, value: String, join: bool) {
        let existing = self.0.iter_mut().find(|(n, _)| n == name);
        match existing {
            None => {
                let v = if name == "set-cookie" { HeaderValue::Many(vec![value]) } else { HeaderValue::One(value) };
                self.0.push((name.to_owned(), v));
            }
            Some((_, HeaderValue::Many(list))) => list.push(value),
            Some((_, HeaderValue::One(cur))) => {
                if !join && SINGLETONS.contains(&name) {
                    // keep the first
                } else if name == "cookie" {
                    cur.push_str("; ");
                    cur.push_str(&value);
                } else {
                    cur.push_str(", ");
                    cur.push_str(&value);
                }
            }
        }
    }

    /// The value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// The value of `name` as text (the first, for `set-cookie`).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).map(HeaderValue::first)
    }

    /// Every (name, value) pair, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &HeaderValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The number of distinct names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No headers at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Node's `message.headersDistinct` (and `trailersDistinct`): every value of every
/// field, in order, under its lower-cased name (names in first-seen order), whatever
/// Node's duplicate rules would keep in `headers`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DistinctHeaders(Vec<(String, Vec<String>)>);

impl DistinctHeaders {
    /// Builds the lists from the first `lines` raw pairs (`_addHeaderLineDistinct`).
    pub(crate) fn from_raw_lines(raw: &RawHeaders, lines: usize) -> DistinctHeaders {
        let mut d: Vec<(String, Vec<String>)> = Vec::with_capacity(raw.len().min(lines));
        for (name, value) in raw.iter().take(lines) {
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            let value = latin1(value).into_owned();
            match d.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => d.push((name, vec![value])),
            }
        }
        DistinctHeaders(d)
    }

    /// The values of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| &v[..])
    }

    /// Every (name, values) pair, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(n, v)| (n.as_str(), &v[..]))
    }

    /// The number of distinct names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No headers at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A string as Node writes header names, values, the status message and trailers
/// (latin1: one byte per character). A character above U+00FF has no latin1 byte and
/// Node's `checkInvalidHeaderChar` rejects it: it becomes 0x7F, a byte
/// [`has_invalid_char`] rejects, so validating the bytes is validating the string.
#[inline]
pub(crate) fn to_latin1(s: &str) -> Cow<'_, [u8]> {
    if s.is_ascii() {
        return Cow::Borrowed(s.as_bytes());
    }
    Cow::Owned(latin1_bytes(s))
}

#[cold]
fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c).unwrap_or(0x7f)).collect()
}

/// Bytes as Node decodes header values (latin1: one character per byte).
pub(crate) fn latin1(b: &[u8]) -> Cow<'_, str> {
    if b.is_ascii() {
        // ASCII is the common case: no copy, no per-byte work.
        return String::from_utf8_lossy(b);
    }
    Cow::Owned(b.iter().map(|&c| c as char).collect())
}

/// Node's `http.STATUS_CODES`.
pub fn reason_phrase(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

/// The IMF-fixdate of the current second.
pub fn utc_date() -> Bytes {
    Bytes::from(http_date(SystemTime::now()).0)
}

/// The IMF-fixdate of `t`'s second, and the milliseconds left in that second.
fn http_date(t: SystemTime) -> (String, u64) {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let second = SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs());
    (httpdate::fmt_http_date(second), 1000 - u64::from(since.subsec_millis()))
}

/// One server's `Date` header line, as Node's `utcDate()` keeps the value: formatted
/// once, then reused until the loop's clock reaches the next second (Node clears its
/// cache with a timer at that moment). No clock is read per response.
pub(crate) struct DateCache {
    /// Loop time (ms) from which `line` is stale (0 at first: stale from the start).
    until: Cell<u64>,
    /// `Date: <IMF-fixdate>\r\n`.
    line: RefCell<String>,
}

impl DateCache {
    pub(crate) fn new() -> Self {
        DateCache { until: Cell::new(0), line: RefCell::new(String::new()) }
    }

    /// Hands `f` the `Date: …\r\n` line at loop time `now` (ms).
    pub(crate) fn line<T>(&self, now: u64, f: impl FnOnce(&[u8]) -> T) -> T {
        if now >= self.until.get() {
            // The loop's clock lags the real one by at most an iteration: measured from
            // it, the value goes stale early, never late.
            let (date, left) = http_date(SystemTime::now());
            *self.line.borrow_mut() = format!("Date: {date}\r\n");
            self.until.set(now + left);
        }
        f(self.line.borrow().as_bytes())
    }
}

/// The generator the conformance scenarios share with their JavaScript side.
#[cfg(test)]
#[path = "../../../tests/util/xorshift.rs"]
mod xorshift;

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw headers over one block holding the names and values back to back.
    fn raw<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> RawHeaders {
        let block = Bytes::from(pairs.iter().flat_map(|(n, v)| [n.as_ref(), v.as_ref()].concat()).collect::<Vec<u8>>());
        let mut at = 0;
        let mut cut = |len: usize| {
            at += len;
            &block[at - len..at]
        };
        let lines: Vec<(&[u8], &[u8])> =
            pairs.iter().map(|(n, v)| (cut(n.as_ref().len()), cut(v.as_ref().len()))).collect();
        RawHeaders::new(block.clone(), lines.into_iter())
    }

    /// `tests/conformance/http_header_rules.js`, replayed: the same generated raw header
    /// lists must build the maps Node built (`headers`, the same with
    /// `joinDuplicateHeaders`, and `headersDistinct`, printed as `JSON.stringify` does).
    #[test]
    fn duplicate_rules_match_node_on_generated_lists() {
        const NAMES: &[&str] = &[
            "Host",
            "host",
            "HOST",
            "Content-Type",
            "content-length",
            "User-Agent",
            "Referer",
            "Authorization",
            "Proxy-Authorization",
            "If-Modified-Since",
            "If-Unmodified-Since",
            "From",
            "Location",
            "Max-Forwards",
            "Retry-After",
            "ETag",
            "Last-Modified",
            "Server",
            "Age",
            "Expires",
            "Set-Cookie",
            "set-cookie",
            "Cookie",
            "COOKIE",
            "Date",
            "Vary",
            "Connection",
            "Content-Encoding",
            "Cache-Control",
            "Transfer-Encoding",
            "Accept",
            "Accept-Encoding",
            "Accept-Language",
            "Content-Disposition",
            "Content-Location",
            "Origin",
            "Upgrade",
            "Expect",
            "If-Match",
            "If-None-Match",
            "Range",
            "X-Forwarded-For",
            "x-custom",
            "X-CUSTOM",
            "Link",
            "Via",
            "TE",
            "Trailer",
            "Keep-Alive",
            "Pragma",
            "Warning",
            "WWW-Authenticate",
            "Proxy-Authenticate",
            "Content-Range",
            "Content-Language",
            "Content-MD5",
            "Allow",
            "DNT",
            "Forwarded",
            "Sec-WebSocket-Key",
        ];
        // The bytes on the wire: 0xE9 is what Node's parser hands over as '\u00e9'.
        const VALUES: &[&[u8]] = &[b"a", b"b c", b"", b"1", b"\xe9t\xe9", b"x, y", b"k=v"];
        let mut rng = xorshift::Xorshift(0x2545_f491);
        let mut next = || rng.next();
        // JSON.stringify of the strings these pools make: nothing to escape.
        let json = |s: &str| format!("\"{s}\"");
        let json_map = |h: &Headers| {
            let map: Vec<String> = h
                .iter()
                .map(|(n, v)| match v {
                    HeaderValue::One(s) => format!("{}:{}", json(n), json(s)),
                    HeaderValue::Many(l) => {
                        format!("{}:[{}]", json(n), l.iter().map(|s| json(s)).collect::<Vec<_>>().join(","))
                    }
                })
                .collect();
            map.join(",")
        };
        let golden = include_str!("../../../tests/conformance/golden/http_header_rules.txt");
        let mut lines = golden.lines();
        for i in 0..400 {
            let pairs: Vec<(&str, &[u8])> =
                (0..1 + next() % 8).map(|_| (NAMES[next() % NAMES.len()], VALUES[next() % VALUES.len()])).collect();
            let shown: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}: {}", latin1(v))).collect();
            let line = format!("case {i}: {} -> {{{}}}", shown.join(" | "), json_map(&Headers::from_raw(&raw(&pairs))));
            assert_eq!(Some(line.as_str()), lines.next(), "case {i} differs from Node's");
            let line = format!("  joined -> {{{}}}", json_map(&Headers::from_raw_joined(&raw(&pairs))));
            assert_eq!(Some(line.as_str()), lines.next(), "case {i} with joinDuplicateHeaders differs from Node's");
            let distinct: Vec<String> = DistinctHeaders::from_raw_lines(&raw(&pairs), pairs.len())
                .iter()
                .map(|(n, l)| format!("{}:[{}]", json(n), l.iter().map(|s| json(s)).collect::<Vec<_>>().join(",")))
                .collect();
            let line = format!("  distinct -> {{{}}}", distinct.join(","));
            assert_eq!(Some(line.as_str()), lines.next(), "case {i}'s headersDistinct differs from Node's");
        }
        assert_eq!(lines.next(), None, "the golden has more cases");
    }

    #[test]
    fn raw_headers_are_slices_of_their_block() {
        let r = raw(&[("Host", "a"), ("X-Empty", ""), ("x-two", "b c")]);
        assert_eq!(r.len(), 3);
        assert_eq!(r.get(0), Some((&b"Host"[..], &b"a"[..])));
        assert_eq!(r.get(1), Some((&b"X-Empty"[..], &b""[..])));
        assert_eq!(r.get(3), None);
        let (n, v) = r.get_bytes(2).unwrap();
        assert_eq!((&n[..], &v[..]), (&b"x-two"[..], &b"b c"[..]));
        assert!(r.contains("X-TWO") && r.contains("host") && !r.contains("x-three"));
        let names: Vec<&[u8]> = r.iter().map(|(n, _)| n).collect();
        assert_eq!(names, [&b"Host"[..], b"X-Empty", b"x-two"]);
        assert_eq!(format!("{r:?}"), r#"[("Host", "a"), ("X-Empty", ""), ("x-two", "b c")]"#);
        assert!(RawHeaders::default().is_empty());
    }

    #[test]
    fn duplicate_rules_follow_node() {
        let raw = raw(&[
            ("Host", "a"),
            ("host", "b"),
            ("Set-Cookie", "x=1"),
            ("set-cookie", "y=2"),
            ("Cookie", "c=1"),
            ("cookie", "d=2"),
            ("Accept", "text/html"),
            ("accept", "*/*"),
        ]);
        let h = Headers::from_raw(&raw);
        assert_eq!(h.get_str("host"), Some("a"));
        assert_eq!(h.get("set-cookie"), Some(&HeaderValue::Many(vec!["x=1".into(), "y=2".into()])));
        assert_eq!(h.get_str("cookie"), Some("c=1; d=2"));
        assert_eq!(h.get_str("accept"), Some("text/html, */*"));
        assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["host", "set-cookie", "cookie", "accept"]);
    }

    /// Node's `/(?:^|\W)close(?:$|\W)/i` on each string (printed by `node`).
    #[test]
    fn header_words_as_node_finds_them() {
        let cases: [(&[u8], bool); 18] = [
            (b"close", true),
            (b"Close", true),
            (b"CLOSE", true),
            (b"keep-alive, close", true),
            (b"x-close", true),
            (b"close-ish", true),
            (b"closed", false),
            (b"enclose", false),
            (b"_close", false),
            (b"close_", false),
            (b"keep-alive;close", true),
            (b"\xe9close", true),
            (b"close\xe9", true),
            (b"1close", false),
            (b"clos e", false),
            (b" close ", true),
            (b"", false),
            (b"keep-alive", false),
        ];
        for (value, node) in cases {
            assert_eq!(has_word(value, "close"), node, "{:?}", latin1(value));
        }
        assert!(has_word(b"gzip, Chunked", "chunked") && !has_word(b"chunkedx", "chunked"));
        assert!(has_word(b"100-Continue", "100-continue") && !has_word(b"100-continues", "100-continue"));
    }

    #[test]
    fn tokens_and_chars() {
        assert!(is_token("X-Custom_1"));
        assert!(!is_token("bad name"));
        assert!(!is_token(""));
        assert!(has_invalid_char(b"a\r\nb"));
        assert!(!has_invalid_char(b"a\tb \xe9"));
        // The table against the rules, byte by byte.
        for b in 0..=255u8 {
            let field = b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80;
            assert_eq!(has_invalid_char(&[b]), !field, "byte {b:#x}");
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), tchar, "byte {b:#x}");
        }
    }

    #[test]
    fn date_is_an_imf_fixdate() {
        let d = utc_date();
        assert_eq!(d.len(), 29);
        assert!(d.ends_with(b" GMT"));
    }

    #[test]
    fn date_cache_keeps_its_value_until_the_next_second() {
        let c = DateCache::new();
        let first = c.line(5_000, <[u8]>::to_vec);
        assert_eq!((first.len(), &first[..6], &first[35..]), (37, &b"Date: "[..], &b"\r\n"[..]));
        let until = c.until.get();
        assert!(until > 5_000 && until <= 6_000, "stale at {until}");
        // Within the second the value is reused, even if the wall clock moved on.
        *c.line.borrow_mut() = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n".to_owned();
        let again = c.line(until - 1, <[u8]>::to_vec);
        assert_eq!(again, b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
        // From `until` on it is formatted again.
        let fresh = c.line(until, <[u8]>::to_vec);
        assert_ne!(fresh, again);
        assert!(c.until.get() > until);
    }
}
