//! The parser reads a stream: where the reads split it must not matter. llhttp is a
//! byte-at-a-time state machine, so Node answers the same bytes the same way however
//! they arrive; ours re-reads a partial head, so the property is checked here: every
//! conformance case (`tests/http/cases.txt`) split at every point and byte by byte, and
//! generated request streams, mutated, split at random points (proptest).

use proptest::prelude::*;

use super::split_check::{check, parse, split, Step};

#[path = "../../../tests/util/escapes.rs"]
mod escapes;

/// Node's default `maxHeaderSize`, as the conformance cases are run.
const NODE_MAX_HEADER_SIZE: usize = 16 * 1024;

fn conformance_cases() -> Vec<(String, Vec<u8>)> {
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for line in include_str!("../../../tests/http/cases.txt").lines() {
        if let Some(name) = line.strip_prefix("case ") {
            cases.push((name.to_owned(), Vec::new()));
        } else if let Some(data) = line.strip_prefix("> ") {
            cases.last_mut().expect("data before any case").1.extend(escapes::unescape(data));
        }
    }
    cases
}

#[test]
fn conformance_cases_parse_the_same_however_split() {
    let cases = conformance_cases();
    assert!(cases.len() >= 100, "cases.txt read: {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, data) in &cases {
        let whole = parse([&data[..]], NODE_MAX_HEADER_SIZE);
        let n = data.len();
        // Every cut in two for the short cases; the long ones (oversized heads) at
        // their ends and every 97 bytes between.
        let cuts: Vec<usize> = if n <= 2048 {
            (0..=n).collect()
        } else {
            (0..=n).filter(|&c| c < 64 || c + 64 > n || c % 97 == 0).collect()
        };
        for c in cuts {
            let got = parse(split(data, &[c]), NODE_MAX_HEADER_SIZE);
            if got != whole {
                failures.push(format!("{name}: cut at {c}:\n  whole: {whole:?}\n  split: {got:?}"));
                break;
            }
        }
        if n <= 4096 {
            let got = parse(data.chunks(1), NODE_MAX_HEADER_SIZE);
            if got != whole {
                failures.push(format!("{name}: byte by byte:\n  whole: {whole:?}\n  split: {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Pieces of requests: lines valid and not, and bodies, to build streams from.
fn request() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::sample::select(vec![
        &b"GET / HTTP/1.1\r\n"[..],
        b"POST /p?q=1 HTTP/1.1\r\n",
        b"HEAD * HTTP/1.0\r\n",
        b"PUT http://h:1/x HTTP/1.1\r\n",
        b"M-SEARCH  /a  HTTP/1.1\r\n",
    ]);
    let field = prop::sample::select(vec![
        &b"Host: h\r\n"[..],
        b"Content-Length: 5\r\n",
        b"Content-Length: 0 \r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Connection: close\r\n",
        b"Connection: keep-alive\r\n",
        b"Expect: 100-continue\r\n",
        b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        b"x-tab:\tv\t\r\n",
        b"Cookie: a=1; b=2\r\n",
        b"Content-Length: 18446744073709551616\r\n",
        b"Content-Length: 1\r\n",
        b"Host: other\r\n",
        b" folded\r\n",
        b"Bad Name: v\r\n",
        b"Trailer: t\r\n",
    ]);
    let body = prop::sample::select(vec![
        &b""[..],
        b"hello",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"3;ext=\"q v\"\r\nabc\r\n0\r\nTrailer: t\r\n\r\n",
        b"a\r\n0123456789\r\n2\r\nxy\r\n0\r\n\r\n",
        b"\r\n",
        b"ffffffffffffffffff\r\n",
        b"0;a=b;c\r\n\r\n",
        b"1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n",
    ]);
    (line, prop::collection::vec(field, 0..5), body).prop_map(|(line, fields, body)| {
        let mut r = line.to_vec();
        fields.iter().for_each(|f| r.extend_from_slice(f));
        r.extend_from_slice(b"\r\n");
        r.extend_from_slice(body);
        r
    })
}

/// An edit to a request stream: the bytes a parser is most likely to get wrong.
#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, u8),
    Replace(usize, u8),
    Delete(usize),
    /// Copies `len` bytes from `from` to `to`.
    Copy {
        from: usize,
        len: usize,
        to: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop::sample::select(b"\r\n\t :;,=\"\\0aAzZ9fF-/*\x00\x01\x7f\x80\xff".to_vec());
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), 1..40usize, any::<usize>()).prop_map(|(from, len, to)| Edit::Copy { from, len, to }),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *e {
            Edit::Insert(i, b) => {
                let i = at(i, data.len() + 1);
                data.insert(i, b)
            }
            Edit::Replace(i, b) if !data.is_empty() => {
                let i = at(i, data.len());
                data[i] = b
            }
            Edit::Delete(i) if !data.is_empty() => {
                let i = at(i, data.len());
                data.remove(i);
            }
            Edit::Copy { from, len, to } if !data.is_empty() => {
                let from = at(from, data.len());
                let piece = data[from..(from + len).min(data.len())].to_vec();
                let to = at(to, data.len() + 1);
                data.splice(to..to, piece);
            }
            _ => {}
        }
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_request_streams_parse_the_same_however_split(
        requests in prop::collection::vec(request(), 1..4),
        edits in prop::collection::vec(edit(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 1..6),
        max in prop::sample::select(vec![40, 64, 100, NODE_MAX_HEADER_SIZE]),
    ) {
        let data = apply(requests.concat(), &edits);
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        check(&data, &cuts, max);
    }
}

thread_local! {
    /// The bytes `Partial::fields` has handed to `httparse` on this thread.
    pub(super) static FRAGMENT_BYTES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A head arriving a byte at a time is not parsed again from its start at each read
/// (that cost the square of its size: 2.3 s of CPU for 40 KB): `httparse` sees each
/// line again only while it is the line in progress, and not even then while a value
/// grows by plainly valid bytes. Counted in bytes handed to `httparse`, not timed.
#[test]
fn a_head_in_small_pieces_is_not_parsed_again_from_its_start() {
    let heads: Vec<(&str, Vec<u8>)> = vec![
        (
            "8,188 short headers",
            [b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec(), b"a:1\r\n".repeat(8188), b"\r\n".to_vec()].concat(),
        ),
        (
            "60 KB of blanks before a value",
            [b"GET / HTTP/1.1\r\nHost: x\r\nA:".to_vec(), vec![b' '; 60000], b"v\r\n\r\n".to_vec()].concat(),
        ),
        (
            "a 16,000-byte value",
            [b"GET / HTTP/1.1\r\nHost: x\r\nA: ".to_vec(), vec![b'v'; 16000], b"\r\n\r\n".to_vec()].concat(),
        ),
    ];
    for (name, head) in heads {
        FRAGMENT_BYTES.with(|n| n.set(0));
        let steps = parse(head.chunks(1), NODE_MAX_HEADER_SIZE);
        assert!(matches!(steps.first(), Some(Step::Head { .. })), "{name}: {steps:?}");
        let handed = FRAGMENT_BYTES.with(|n| n.get());
        // Each line's bytes about (length / 2) times while it is in progress would be
        // quadratic; a few times the head's length is linear.
        assert!(handed < 8 * head.len(), "{name}: {handed} bytes parsed for a head of {}", head.len());
    }
}
