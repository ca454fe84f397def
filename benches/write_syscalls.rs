//! Write strategies compared by what they cost the kernel.
//!
//! Pushes 64 MiB as 16 KiB chunks over loopback to a reader thread, four ways through the
//! reactor, and with a blocking `std::net` loop as the floor:
//!
//! - `per_chunk`: one write request per chunk, the next issued from the previous one's
//!   callback: one `write(2)` per chunk, like a naive `socket.write` loop.
//! - `writev_16`: one request of 16 buffers at a time: one `writev(2)` per 16 chunks.
//! - `copy_16`: 16 chunks copied into one buffer, then one `write(2)`.
//! - `burst`: every chunk issued as its own request at once; the reactor gathers
//!   whatever is queued behind a full socket into one `writev(2)`.
//! - `std_blocking`: `write_all` per chunk on a blocking socket (no event loop at all).
//!
//! ```text
//! cargo bench --bench write_syscalls
//! ```
//!
//! Criterion prints the throughput of each; at the end a table gives write system calls
//! and `EAGAIN`s per MiB, measured from the loop's metrics over one extra run.

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use millrace::reactor::{Loop, RunMode, Tcp};

const CHUNK: usize = 16 * 1024;
const TOTAL: usize = 64 * 1024 * 1024;
const CHUNKS: usize = TOTAL / CHUNK;
const BATCH: usize = 16;

/// A loopback connection whose far end is drained by a thread that counts bytes.
struct Sink {
    writer: TcpStream,
    received: Arc<AtomicU64>,
}

impl Sink {
    fn new() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let writer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut reader, _) = listener.accept().expect("accept");
        let received = Arc::new(AtomicU64::new(0));
        let count = received.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        });
        Sink { writer, received }
    }

    /// Waits until the reader has everything sent so far.
    fn wait_for(&self, target: u64) {
        while self.received.load(Ordering::Relaxed) < target {
            std::thread::yield_now();
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Strategy {
    PerChunk,
    Writev16,
    Copy16,
    Burst,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::PerChunk => "per_chunk",
            Strategy::Writev16 => "writev_16",
            Strategy::Copy16 => "copy_16",
            Strategy::Burst => "burst",
        }
    }
}

/// The requests a strategy issues, each a list of buffers.
fn requests(strategy: Strategy, chunks: &[Bytes]) -> Vec<Vec<Bytes>> {
    match strategy {
        Strategy::PerChunk | Strategy::Burst => chunks.iter().map(|c| vec![c.clone()]).collect(),
        Strategy::Writev16 => chunks.chunks(BATCH).map(|g| g.to_vec()).collect(),
        Strategy::Copy16 => chunks
            .chunks(BATCH)
            .map(|g| {
                let mut b = BytesMut::with_capacity(CHUNK * BATCH);
                for c in g {
                    b.extend_from_slice(c);
                }
                vec![b.freeze()]
            })
            .collect(),
    }
}

/// Sends everything once with `strategy`; returns when the reader has it all.
fn push(lp: &Loop, tcp: &Tcp, sink: &Sink, strategy: Strategy, chunks: &[Bytes]) {
    let start = sink.received.load(Ordering::Relaxed);
    let done = Rc::new(Cell::new(false));
    match strategy {
        Strategy::Burst => {
            let n = CHUNKS;
            let left = Rc::new(Cell::new(n));
            for req in requests(strategy, chunks) {
                let (left, done) = (left.clone(), done.clone());
                tcp.write(req, move |_, r| {
                    r.expect("write");
                    left.set(left.get() - 1);
                    if left.get() == 0 {
                        done.set(true);
                    }
                })
                .expect("write");
            }
        }
        _ => {
            // One request in flight: the next goes out from the previous one's callback.
            let queue: Rc<std::cell::RefCell<std::vec::IntoIter<Vec<Bytes>>>> =
                Rc::new(std::cell::RefCell::new(requests(strategy, chunks).into_iter()));
            fn next(tcp: &Tcp, queue: Rc<std::cell::RefCell<std::vec::IntoIter<Vec<Bytes>>>>, done: Rc<Cell<bool>>) {
                let req = queue.borrow_mut().next();
                match req {
                    Some(bufs) => {
                        tcp.write(bufs, move |tcp, r| {
                            r.expect("write");
                            next(tcp, queue, done);
                        })
                        .expect("write");
                    }
                    None => done.set(true),
                }
            }
            next(tcp, queue, done.clone());
        }
    }
    while !done.get() {
        lp.run(RunMode::Once);
    }
    sink.wait_for(start + TOTAL as u64);
}

fn bench(c: &mut Criterion) {
    let chunks: Vec<Bytes> = (0..CHUNKS).map(|i| Bytes::from(vec![i as u8; CHUNK])).collect();
    let mut group = c.benchmark_group("write_64MiB_in_16KiB_chunks");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));

    let mut table = Vec::new();
    for strategy in [Strategy::PerChunk, Strategy::Writev16, Strategy::Copy16, Strategy::Burst] {
        let lp = Loop::new().expect("loop");
        let sink = Sink::new();
        let tcp = Tcp::open(&lp, sink.writer.try_clone().expect("clone")).expect("open");
        group.bench_function(strategy.name(), |b| b.iter(|| push(&lp, &tcp, &sink, strategy, &chunks)));
        let before = lp.metrics();
        push(&lp, &tcp, &sink, strategy, &chunks);
        let m = lp.metrics().since(&before);
        table.push((strategy.name(), m.write, m.writev, m.write_eagain));
    }

    let sink = Sink::new();
    let mut writer = sink.writer.try_clone().expect("clone");
    group.bench_function("std_blocking", |b| {
        b.iter(|| {
            let start = sink.received.load(Ordering::Relaxed);
            for c in &chunks {
                writer.write_all(c).expect("write");
            }
            sink.wait_for(start + TOTAL as u64);
        })
    });
    group.finish();

    let mib = (TOTAL / (1024 * 1024)) as f64;
    println!("\nwrite system calls per MiB (one extra run of each strategy, from Loop::metrics):");
    println!("{:<14} {:>10} {:>10} {:>12} {:>14}", "strategy", "write", "writev", "EAGAIN", "syscalls/MiB");
    for (name, write, writev, eagain) in table {
        let per = (write + writev) as f64 / mib;
        println!("{name:<14} {write:>10} {writev:>10} {eagain:>12} {per:>14.2}");
    }
    println!("{:<14} {:>10} {:>10} {:>12} {:>14.2}", "std_blocking", CHUNKS, 0, 0, CHUNKS as f64 / mib);
}

criterion_group!(benches, bench);
criterion_main!(benches);
