//! Headers: validation (Node's `checkIsHttpToken`, `checkInvalidHeaderChar`), the
//! incoming headers map with Node's duplicate rules (`_addHeaderLine`), reason phrases
//! (`STATUS_CODES`) and the cached `Date` value (`utcDate`).

use std::cell::RefCell;
use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;

/// An RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Node's `checkIsHttpToken`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Node's `checkInvalidHeaderChar`: true if `s` holds a byte outside
/// `\t`, `0x20..=0x7e` and `0x80..=0xff`.
pub fn has_invalid_char(s: &[u8]) -> bool {
    s.iter().any(|&b| !(b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80))
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
    pub fn from_raw(raw: &[(Bytes, Bytes)]) -> Headers {
        let mut h = Headers(Vec::with_capacity(raw.len()));
        for (name, value) in raw {
            h.add(&String::from_utf8_lossy(name).to_ascii_lowercase(), latin1(value));
        }
        h
    }

    /// `_addHeaderLine(field, value)`.
    fn add(&mut self, name: &str, value: String) {
        let existing = self.0.iter_mut().find(|(n, _)| n == name);
        match existing {
            None => {
                let v = if name == "set-cookie" { HeaderValue::Many(vec![value]) } else { HeaderValue::One(value) };
                self.0.push((name.to_owned(), v));
            }
            Some((_, HeaderValue::Many(list))) => list.push(value),
            Some((_, HeaderValue::One(cur))) => {
                if SINGLETONS.contains(&name) {
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

/// Text of a request as received (the target): ASCII, the common case, stays in the
/// read buffer; anything else is decoded as latin1, as Node decodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Latin1 {
    Ascii(Bytes),
    Decoded(String),
}

impl Latin1 {
    pub(crate) fn new(b: Bytes) -> Latin1 {
        if b.is_ascii() {
            Latin1::Ascii(b)
        } else {
            Latin1::Decoded(latin1(&b))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // ASCII is UTF-8: this never falls back.
            Latin1::Ascii(b) => std::str::from_utf8(b).unwrap_or_default(),
            Latin1::Decoded(s) => s,
        }
    }
}

/// Bytes as Node decodes header values (latin1: one character per byte).
pub(crate) fn latin1(b: &[u8]) -> String {
    if b.is_ascii() {
        // ASCII is the common case: one copy, no per-byte work.
        return String::from_utf8_lossy(b).into_owned();
    }
    b.iter().map(|&c| c as char).collect()
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

thread_local! {
    static DATE: RefCell<(u64, Bytes)> = const { RefCell::new((u64::MAX, Bytes::new())) };
}

/// Node's `utcDate()`: the IMF-fixdate of the current second, formatted once per second.
pub fn utc_date() -> Bytes {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs {
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            *d = (secs, Bytes::from(httpdate::fmt_http_date(t)));
        }
        d.1.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_rules_follow_node() {
        let raw: Vec<(Bytes, Bytes)> = [
            ("Host", "a"),
            ("host", "b"),
            ("Set-Cookie", "x=1"),
            ("set-cookie", "y=2"),
            ("Cookie", "c=1"),
            ("cookie", "d=2"),
            ("Accept", "text/html"),
            ("accept", "*/*"),
        ]
        .iter()
        .map(|(n, v)| (Bytes::from(*n), Bytes::from(*v)))
        .collect();
        let h = Headers::from_raw(&raw);
        assert_eq!(h.get_str("host"), Some("a"));
        assert_eq!(h.get("set-cookie"), Some(&HeaderValue::Many(vec!["x=1".into(), "y=2".into()])));
        assert_eq!(h.get_str("cookie"), Some("c=1; d=2"));
        assert_eq!(h.get_str("accept"), Some("text/html, */*"));
        assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["host", "set-cookie", "cookie", "accept"]);
    }

    #[test]
    fn tokens_and_chars() {
        assert!(is_token("X-Custom_1"));
        assert!(!is_token("bad name"));
        assert!(!is_token(""));
        assert!(has_invalid_char(b"a\r\nb"));
        assert!(!has_invalid_char(b"a\tb \xe9"));
    }

    #[test]
    fn date_is_an_imf_fixdate() {
        let d = utc_date();
        assert_eq!(d.len(), 29);
        assert!(d.ends_with(b" GMT"));
    }
}
