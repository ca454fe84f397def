//! The headers a response will send: Node's `kOutHeaders` (`lib/_http_outgoing.js`).
//!
//! Node keeps `{ [lowercased name]: [name as set, value] }`: a name set again keeps its
//! place and takes the new case and value; `appendHeader` adds values to it. Here the
//! same list lives in one byte buffer of records, so the headers of a response cost one
//! allocation however many there are:
//!
//! ```text
//! [name len: u32][name] [value count: u32] ([value len: u32][value])*
//! ```
//!
//! A response has a handful of headers, so a lookup is a scan, as it was with a vector.
//! Values are kept as they go on the wire: latin1, as Node writes header strings
//! (`getHeader` decodes them back).

use std::borrow::Cow;
use std::ops::Range;

use crate::headers::{latin1, to_latin1};

/// A header value as given to `set_header`/`append_header`: a string, several, or a
/// number. Strings are borrowed until they are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderInput<'a>(Input<'a>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Input<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
    Number(i128),
}

impl<'a> HeaderInput<'a> {
    /// The values, in order (a number as its decimal digits).
    pub(crate) fn into_strings(self) -> Vec<Cow<'a, str>> {
        match self.0 {
            Input::One(v) => vec![v],
            Input::Many(vs) => vs,
            Input::Number(n) => vec![Cow::Owned(n.to_string())],
        }
    }

    /// The number of values.
    pub(crate) fn count(&self) -> usize {
        match &self.0 {
            Input::Many(v) => v.len(),
            Input::One(_) | Input::Number(_) => 1,
        }
    }

    /// Calls `f` with each value, in order, as it goes on the wire (latin1, see
    /// [`to_latin1`]).
    pub(crate) fn each(&self, mut f: impl FnMut(&[u8])) {
        match &self.0 {
            Input::One(v) => f(&to_latin1(v)),
            Input::Many(vs) => vs.iter().for_each(|v| f(&to_latin1(v))),
            Input::Number(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }
}

impl<'a> From<&'a str> for HeaderInput<'a> {
    fn from(s: &'a str) -> Self {
        HeaderInput(Input::One(Cow::Borrowed(s)))
    }
}

impl From<String> for HeaderInput<'_> {
    fn from(s: String) -> Self {
        HeaderInput(Input::One(Cow::Owned(s)))
    }
}

impl<'a> From<Vec<Cow<'a, str>>> for HeaderInput<'a> {
    fn from(v: Vec<Cow<'a, str>>) -> Self {
        HeaderInput(Input::Many(v))
    }
}

impl From<Vec<String>> for HeaderInput<'_> {
    fn from(v: Vec<String>) -> Self {
        HeaderInput(Input::Many(v.into_iter().map(Cow::Owned).collect()))
    }
}

impl<'a> From<Vec<&'a str>> for HeaderInput<'a> {
    fn from(v: Vec<&'a str>) -> Self {
        HeaderInput(Input::Many(v.into_iter().map(Cow::Borrowed).collect()))
    }
}

macro_rules! number_header {
    ($($t:ty),*) => { $(impl From<$t> for HeaderInput<'_> {
        fn from(n: $t) -> Self { HeaderInput(Input::Number(n as i128)) }
    })* };
}
number_header!(u16, u32, u64, usize, i32, i64);

/// The response's headers, in the order first set (see the module docs).
#[derive(Default)]
pub(crate) struct OutHeaders {
    buf: Vec<u8>,
}

/// One header of [`OutHeaders`]: its name as set and its values.
pub(crate) struct Header<'a> {
    pub(crate) name: &'a [u8],
    /// The number of values.
    pub(crate) count: usize,
    values: &'a [u8],
}

impl<'a> Header<'a> {
    /// The values, in order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut rest = self.values;
        (0..self.count).map(move |_| {
            let (v, after) = field(rest, 0);
            rest = &rest[after..];
            v
        })
    }

    fn strings(&self) -> Vec<String> {
        self.values().map(|v| latin1(v).into_owned()).collect()
    }
}

/// The length-prefixed field at `at`: its bytes and the offset after it.
fn field(buf: &[u8], at: usize) -> (&[u8], usize) {
    let len = u32_at(buf, at) as usize;
    let start = at + 4;
    (&buf[start..start + len], start + len)
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_ne_bytes(b)
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_ne_bytes());
    out.extend_from_slice(bytes);
}

/// Appends `input`'s values, each length-prefixed.
fn put_values(out: &mut Vec<u8>, input: &HeaderInput<'_>) {
    input.each(|v| put_field(out, v));
}

/// One record: `name: values`, in one reservation (a response's first header reserves
/// room for a few more).
fn put_record(out: &mut Vec<u8>, name: &str, input: &HeaderInput<'_>) {
    let mut size = 8 + name.len();
    input.each(|v| size += 4 + v.len());
    out.reserve(size.max(if out.capacity() == 0 { 256 } else { 0 }));
    put_field(out, name.as_bytes());
    out.extend_from_slice(&(input.count() as u32).to_ne_bytes());
    put_values(out, input);
}

impl OutHeaders {
    /// No headers, the buffer's capacity kept (a renewed response's).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Every header, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Header<'_>> + '_ {
        self.records().map(|(_, h)| h)
    }

    /// Each record's byte range and its header.
    fn records(&self) -> impl Iterator<Item = (Range<usize>, Header<'_>)> + '_ {
        let buf = &self.buf[..];
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= buf.len() {
                return None;
            }
            let start = at;
            let (name, after_name) = field(buf, at);
            let count = u32_at(buf, after_name) as usize;
            let values_start = after_name + 4;
            let mut end = values_start;
            for _ in 0..count {
                end = field(buf, end).1;
            }
            at = end;
            Some((start..end, Header { name, count, values: &buf[values_start..end] }))
        })
    }

    /// The record of the header `name` (ASCII case-insensitive): its byte range and it.
    fn find(&self, name: &str) -> Option<(Range<usize>, Header<'_>)> {
        self.records().find(|(_, h)| h.name.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// `setHeader`: replaces the values (and the name's case) of a header already set,
    /// in its place; else adds it last.
    pub(crate) fn set(&mut self, name: &str, input: &HeaderInput<'_>) {
        match self.find(name) {
            Some((range, _)) => {
                let mut record = Vec::new();
                put_record(&mut record, name, input);
                self.buf.splice(range, record);
            }
            None => put_record(&mut self.buf, name, input),
        }
    }

    /// `appendHeader`: adds values to a header already set (keeping its name's case);
    /// else adds it last.
    pub(crate) fn append(&mut self, name: &str, input: &HeaderInput<'_>) {
        match self.find(name).map(|(range, h)| (range, h.count)) {
            Some((range, count)) => {
                let name_len = u32_at(&self.buf, range.start) as usize;
                let count_at = range.start + 4 + name_len;
                let total = (count + input.count()) as u32;
                self.buf[count_at..count_at + 4].copy_from_slice(&total.to_ne_bytes());
                let mut more = Vec::with_capacity(64);
                put_values(&mut more, input);
                self.buf.splice(range.end..range.end, more);
            }
            None => put_record(&mut self.buf, name, input),
        }
    }

    /// `removeHeader`.
    pub(crate) fn remove(&mut self, name: &str) {
        if let Some((range, _)) = self.find(name) {
            self.buf.drain(range);
        }
    }

    /// `hasHeader`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// `getHeader`.
    pub(crate) fn get(&self, name: &str) -> Option<Vec<String>> {
        self.find(name).map(|(_, h)| h.strings())
    }

    /// `getHeaders`: lower-cased names.
    pub(crate) fn all(&self) -> Vec<(String, Vec<String>)> {
        self.iter().map(|h| (String::from_utf8_lossy(h.name).to_ascii_lowercase(), h.strings())).collect()
    }

    /// `getHeaderNames`: lower-cased.
    pub(crate) fn names(&self) -> Vec<String> {
        self.iter().map(|h| String::from_utf8_lossy(h.name).to_ascii_lowercase()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(h: &OutHeaders) -> Vec<String> {
        h.iter()
            .map(|h| {
                let values: Vec<_> = h.values().map(String::from_utf8_lossy).collect();
                format!("{}={}", String::from_utf8_lossy(h.name), values.join("|"))
            })
            .collect()
    }

    #[test]
    fn set_replaces_in_place_append_adds_values_remove_drops() {
        let mut h = OutHeaders::default();
        h.set("Content-Type", &"text/plain".into());
        h.set("X-Empty", &"".into());
        h.set("Set-Cookie", &vec!["a=1", "b=2"].into());
        h.set("Content-Length", &11u64.into());
        assert_eq!(list(&h), ["Content-Type=text/plain", "X-Empty=", "Set-Cookie=a=1|b=2", "Content-Length=11"]);
        // Set again: same place, the new case and value (Node's kOutHeaders).
        h.set("content-type", &String::from("text/html; charset=utf-8").into());
        assert_eq!(list(&h)[0], "content-type=text/html; charset=utf-8");
        // Append keeps the first name's case.
        h.append("SET-COOKIE", &"c=3".into());
        h.append("X-New", &vec![String::from("1"), String::from("2")].into());
        assert_eq!(list(&h)[2], "Set-Cookie=a=1|b=2|c=3");
        assert_eq!(list(&h)[4], "X-New=1|2");
        h.remove("x-empty");
        h.remove("not-there");
        assert_eq!(
            list(&h),
            ["content-type=text/html; charset=utf-8", "Set-Cookie=a=1|b=2|c=3", "Content-Length=11", "X-New=1|2"]
        );
        assert!(h.has("CONTENT-LENGTH") && !h.has("x-empty"));
        assert_eq!(h.get("set-cookie"), Some(vec!["a=1".into(), "b=2".into(), "c=3".into()]));
        assert_eq!(h.get("x-empty"), None);
        assert_eq!(h.names(), ["content-type", "set-cookie", "content-length", "x-new"]);
        assert_eq!(h.all()[2], ("content-length".to_owned(), vec!["11".to_owned()]));
        assert_eq!(
            list(&{
                let mut n = OutHeaders::default();
                n.set("N", &(-5i64).into());
                n
            }),
            ["N=-5"]
        );
    }
}
