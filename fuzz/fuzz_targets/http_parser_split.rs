//! The HTTP request parser on arbitrary bytes: it must not panic, and the events and
//! error it gives must not depend on where the reads cut the input (llhttp reads a
//! byte at a time, so Node's answer never does).
//!
//! Input: byte 0 picks `max_header_size` (40, 64, 100 or Node's 16 KiB), bytes 1..=4
//! are up to four cut points, the rest is the request stream.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&pick, rest)) = input.split_first() else { return };
    let (cuts, data) = rest.split_at(rest.len().min(4));
    let max = [40, 64, 100, 16 * 1024][pick as usize % 4];
    let cuts: Vec<usize> = cuts.iter().map(|&c| c as usize % (data.len() + 1)).collect();
    millrace_http::fuzzing::parser_split(data, &cuts, max);
});
