//! The split property of the request parser, shared by its tests (`parser_tests.rs`)
//! and the fuzz target (`fuzz/`, through the `fuzzing` feature): the events and the
//! error of a request stream must not depend on where the reads cut it, as in llhttp,
//! which reads a byte at a time.

use bytes::Bytes;

use super::{join, Event, Parser};
use crate::errors::Code;
use crate::headers::RawHeaders;

pub(crate) type Lines = Vec<(Wire, Wire)>;

/// Bytes that print as an escaped string.
#[derive(Clone, PartialEq, Eq)]
pub struct Wire(pub Vec<u8>);

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// What the server sees of the parse, in order (body pieces merged).
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Head {
        method: &'static str,
        url: Wire,
        version: (u8, u8),
        headers: Lines,
        keep_alive: bool,
        has_body: bool,
    },
    Body(Wire),
    Done(Lines),
    Error(Code),
    /// The input ran out: what is buffered, and what EOF would make of it.
    End {
        buffered: Wire,
        at_eof: Option<Code>,
    },
}

fn lines(raw: &RawHeaders) -> Lines {
    raw.iter().map(|(n, v)| (Wire(n.to_vec()), Wire(v.to_vec()))).collect()
}

/// Feeds `pieces` one read at a time, as the server does (a leftover joined with the
/// next read; events taken until the parser needs more).
pub fn parse<'a>(pieces: impl IntoIterator<Item = &'a [u8]>, max_header_size: usize) -> Vec<Step> {
    let mut parser = Parser::new(max_header_size, super::MAX_HEADER_ENTRIES);
    let mut left = Bytes::new();
    let mut steps = Vec::new();
    for piece in pieces {
        left = join(left, Bytes::copy_from_slice(piece));
        loop {
            match parser.execute(&mut left) {
                Ok(None) => break,
                Ok(Some(Event::Head(h))) => steps.push(Step::Head {
                    method: h.method,
                    url: Wire(h.raw_headers.block()[h.url.0 as usize..h.url.1 as usize].to_vec()),
                    version: h.version,
                    headers: lines(&h.raw_headers),
                    keep_alive: h.keep_alive,
                    has_body: h.has_body,
                }),
                Ok(Some(Event::Body(b))) => match steps.last_mut() {
                    Some(Step::Body(prev)) => prev.0.extend_from_slice(&b),
                    _ => steps.push(Step::Body(Wire(b.to_vec()))),
                },
                Ok(Some(Event::Done(trailers))) => steps.push(Step::Done(lines(&trailers))),
                Err(e) => {
                    steps.push(Step::Error(e.code()));
                    return steps;
                }
            }
        }
    }
    let at_eof = parser.finish(&left).err().map(|e| e.code());
    steps.push(Step::End { buffered: Wire(left.to_vec()), at_eof });
    steps
}

/// `data` cut at `cuts` (positions, any order, repeats allowed).
pub fn split<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for c in cuts {
        pieces.push(&data[from..c]);
        from = c;
    }
    pieces.push(&data[from..]);
    pieces
}

/// Parses `data` whole and cut at `cuts`, and panics if the two differ.
pub fn check(data: &[u8], cuts: &[usize], max_header_size: usize) {
    let whole = parse([data], max_header_size);
    let pieces = parse(split(data, cuts), max_header_size);
    assert_eq!(pieces, whole, "{:?} cut at {cuts:?}, max_header_size {max_header_size}", Wire(data.to_vec()));
}
