//! Text decoding for `set_encoding` (Node's `string_decoder`).
//!
//! A decoded stream still carries `Bytes`, but each chunk is complete text: a multi-byte
//! UTF-8 character split across two pushes is held back until its last byte arrives, so
//! no chunk ever ends inside a code point. Invalid input becomes U+FFFD, as in Node. The
//! length a decoded chunk counts toward the highWaterMark is its length in UTF-16 code
//! units, as a JavaScript string's `length`.

use bytes::Bytes;

/// A text encoding for [`set_encoding`](crate::Stream::set_encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `'utf8'`.
    Utf8,
    /// `'latin1'` (`'binary'`): one character per byte.
    Latin1,
    /// `'hex'`: two characters per byte.
    Hex,
}

impl Encoding {
    /// Parses Node's encoding names (`utf8`, `utf-8`, `latin1`, `binary`, `hex`),
    /// case-insensitively.
    pub fn parse(name: &str) -> Option<Encoding> {
        match name.to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Some(Encoding::Utf8),
            "latin1" | "binary" => Some(Encoding::Latin1),
            "hex" => Some(Encoding::Hex),
            _ => None,
        }
    }

    /// The name Node reports as `readableEncoding`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Latin1 => "latin1",
            Encoding::Hex => "hex",
        }
    }
}

/// Incremental decoder.
#[derive(Clone, Debug)]
pub(crate) struct Decoder {
    enc: Encoding,
    /// Bytes of an incomplete UTF-8 sequence.
    pending: Vec<u8>,
}

/// How many bytes the UTF-8 sequence starting with `b` has: 1..=4, 0 for a
/// continuation byte, -1 for a byte that cannot start one.
fn utf8_len(b: u8) -> i8 {
    match b {
        0x00..=0x7f => 1,
        0x80..=0xbf => 0,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => -1,
    }
}

/// Where the complete part of `buf` ends: a trailing, incomplete but possibly valid
/// sequence is left out (Node's `utf8CheckIncomplete`).
fn complete_prefix(buf: &[u8]) -> usize {
    let n = buf.len();
    for back in 1..=3.min(n) {
        let i = n - back;
        match utf8_len(buf[i]) {
            0 => continue,
            l if l > 0 && (l as usize) > back => return i,
            _ => return n,
        }
    }
    n
}

impl Decoder {
    pub(crate) fn new(enc: Encoding) -> Decoder {
        Decoder { enc, pending: Vec::new() }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.enc
    }

    /// `decoder.write(buf)`: the text that is complete so far.
    pub(crate) fn write(&mut self, buf: &[u8]) -> Bytes {
        match self.enc {
            Encoding::Latin1 => Bytes::from(buf.iter().map(|&b| b as char).collect::<String>()),
            Encoding::Hex => {
                let mut s = String::with_capacity(buf.len() * 2);
                for b in buf {
                    s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
                    s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
                }
                Bytes::from(s)
            }
            Encoding::Utf8 => {
                if self.pending.is_empty() {
                    let end = complete_prefix(buf);
                    self.pending.extend_from_slice(&buf[end..]);
                    return utf8_text(&buf[..end]);
                }
                let mut joined = std::mem::take(&mut self.pending);
                joined.extend_from_slice(buf);
                let end = complete_prefix(&joined);
                self.pending = joined[end..].to_vec();
                utf8_text(&joined[..end])
            }
        }
    }

    /// `decoder.end()`: whatever is held back, decoded as V8 decodes it (Node's
    /// `FlushData`): a replacement character for each maximal invalid subpart, so a held
    /// `f4 ac` (a lead byte whose second byte is out of its range) is two.
    pub(crate) fn end(&mut self) -> Bytes {
        let pending = std::mem::take(&mut self.pending);
        utf8_text(&pending)
    }
}

fn utf8_text(b: &[u8]) -> Bytes {
    match std::str::from_utf8(b) {
        Ok(_) => Bytes::copy_from_slice(b),
        Err(_) => Bytes::from(String::from_utf8_lossy(b).into_owned()),
    }
}

/// The length of decoded text in UTF-16 code units (JavaScript's `string.length`).
pub(crate) fn js_len(text: &[u8]) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    String::from_utf8_lossy(text).encode_utf16().count()
}

/// The byte offset of the first `units` UTF-16 code units of `text` (never inside a
/// character).
pub(crate) fn js_offset(text: &[u8], units: usize) -> usize {
    if text.is_ascii() {
        return units.min(text.len());
    }
    let s = String::from_utf8_lossy(text);
    let mut count = 0;
    for (i, c) in s.char_indices() {
        if count >= units {
            return i;
        }
        count += c.len_utf16();
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_code_points_are_held_back() {
        let euro = "€".as_bytes(); // e2 82 ac
        let mut d = Decoder::new(Encoding::Utf8);
        assert_eq!(d.write(&[b'a', euro[0]]), Bytes::from_static(b"a"));
        assert_eq!(d.write(&euro[1..2]), Bytes::new());
        assert_eq!(d.write(&[euro[2], b'b']), Bytes::from("€b"));
        assert_eq!(d.end(), Bytes::new());
    }

    #[test]
    fn incomplete_tail_at_end_is_a_replacement_character() {
        let mut d = Decoder::new(Encoding::Utf8);
        assert_eq!(d.write(&[0xe2, 0x82]), Bytes::new());
        assert_eq!(d.end(), Bytes::from("\u{fffd}"));
    }

    #[test]
    fn a_held_back_tail_that_cannot_complete_is_one_replacement_per_bad_part() {
        let mut d = Decoder::new(Encoding::Utf8);
        assert_eq!(d.write(&[b'a', 0xf4, 0xac]), Bytes::from("a"));
        assert_eq!(d.end(), Bytes::from("\u{fffd}\u{fffd}"));
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut d = Decoder::new(Encoding::Utf8);
        assert_eq!(d.write(&[b'x', 0xff, b'y']), Bytes::from("x\u{fffd}y"));
    }

    #[test]
    fn js_lengths_count_utf16_units() {
        assert_eq!(js_len("a€😀".as_bytes()), 1 + 1 + 2);
        assert_eq!(js_offset("a€😀".as_bytes(), 2), 4);
    }

    #[test]
    fn hex_and_latin1() {
        assert_eq!(Decoder::new(Encoding::Hex).write(&[0xab, 0x01]), Bytes::from("ab01"));
        assert_eq!(Decoder::new(Encoding::Latin1).write(&[0xe9]), Bytes::from("é"));
    }
}
