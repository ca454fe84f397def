//! The escapes of `tests/http/cases.txt`, shared by `tests/http_conformance.rs` and the
//! HTTP parser's split tests (`crates/http/src/parser_tests.rs`), which both read it.

/// The escapes of `cases.txt`: `\r \n \t \\ \xHH`, and `\{N:text}` for `text` (itself
/// unescaped, without `}`) repeated N times.
pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(chars[i].encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars[i + 2..i + 4].iter().collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap_or_else(|_| panic!("bad \\x escape in {s:?}")));
                i += 2;
            }
            Some('{') => {
                let end = chars[i..].iter().position(|&c| c == '}').map(|p| p + i).expect("unclosed \\{");
                let inner: String = chars[i + 2..end].iter().collect();
                let (count, c) = inner.split_once(':').expect("\\{N:c}");
                let count: usize = count.parse().expect("\\{N:c} count");
                out.extend(std::iter::repeat_n(unescape(c), count).flatten());
                i = end + 1;
                continue;
            }
            other => panic!("bad escape \\{other:?} in {s:?}"),
        }
        i += 2;
    }
    out
}
