//! The streams benchmark: the same work as `benches/node/streams.js`, on millrace.
//!
//! - `objects`: 1,000,000 object-mode chunks through Readable → 3 Transforms → Writable
//!   via `pipeline`;
//! - `bytes`: 1 GiB as 16 KiB `Bytes` chunks through the same shape (no copies).
//!
//! Prints `<case> <units> <seconds>` per case, the best of `ROUNDS` runs (default 3).
//! `scripts/bench-streams` runs this and Node side by side and prints the ratios.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use millrace::reactor::{Loop, RunMode};
use millrace::streams::{pipeline, Readable, Transform, Writable};

fn objects() -> (u64, f64) {
    const N: u64 = 1_000_000;
    let lp = Loop::new().expect("loop");
    let sum = Rc::new(Cell::new(0u64));
    let start = Instant::now();
    lp.enter(|| {
        let i = Cell::new(0u64);
        let src = Readable::<u64>::builder()
            .read(move |r, _| {
                let v = i.get();
                i.set(v + 1);
                r.push(if v < N { Some(v) } else { None });
            })
            .build();
        let t = || Transform::<u64, u64>::builder().transform(|_, c, cb| cb.call(Ok(Some(c + 1)))).build();
        let s = sum.clone();
        let dst = Writable::<u64>::builder()
            .write(move |_, c, cb| {
                s.set(s.get() + c);
                cb.ok();
            })
            .build();
        pipeline(&src).pipe(&t()).pipe(&t()).pipe(&t()).pipe(&dst).done(|err| assert!(err.is_none()));
    });
    lp.enter(|| {
        lp.run_next_ticks();
        lp.run(RunMode::Default);
    });
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(sum.get(), N * (N - 1) / 2 + 3 * N);
    (N, secs)
}

fn bytes() -> (u64, f64) {
    const CHUNK: usize = 16 * 1024;
    const TOTAL: u64 = 1024 * 1024 * 1024;
    const N: u64 = TOTAL / CHUNK as u64;
    let lp = Loop::new().expect("loop");
    let got = Rc::new(Cell::new(0u64));
    let start = Instant::now();
    lp.enter(|| {
        let buf = Bytes::from(vec![7u8; CHUNK]);
        let i = Cell::new(0u64);
        let src = Readable::<Bytes>::builder()
            .read(move |r, _| {
                let v = i.get();
                i.set(v + 1);
                r.push(if v < N { Some(buf.clone()) } else { None });
            })
            .build();
        let t = || Transform::<Bytes, Bytes>::builder().transform(|_, c, cb| cb.call(Ok(Some(c)))).build();
        let g = got.clone();
        let dst = Writable::<Bytes>::builder()
            .write(move |_, c, cb| {
                g.set(g.get() + c.len() as u64);
                cb.ok();
            })
            .build();
        pipeline(&src).pipe(&t()).pipe(&t()).pipe(&t()).pipe(&dst).done(|err| assert!(err.is_none()));
    });
    lp.enter(|| {
        lp.run_next_ticks();
        lp.run(RunMode::Default);
    });
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(got.get(), TOTAL);
    (TOTAL, secs)
}

fn best(name: &str, f: fn() -> (u64, f64), rounds: usize) {
    let mut best = f64::INFINITY;
    let mut units = 0;
    for _ in 0..rounds {
        let (u, secs) = f();
        units = u;
        best = best.min(secs);
    }
    println!("{name} {units} {best:.6}");
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks one case.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let rounds = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    for (name, f) in [("objects", objects as fn() -> (u64, f64)), ("bytes", bytes)] {
        if filter.as_deref().is_none_or(|flt| name.contains(flt)) {
            best(name, f, rounds);
        }
    }
}
