//! The `millrace` command.
//!
//! ```text
//! cargo run --release -- demo            # the journey of res.write(), fast vs slow client
//! cargo run --release -- demo --size 16  # with a 16 MiB file
//! ```

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace::http::{create_server, IncomingMessageExt};
use millrace::reactor::{Loop, Metrics};
use millrace::streams::{fs, net};

const USAGE: &str = "usage: millrace demo [--size MIB]

demo   serves a temporary file with the seed's server (fs read stream -> res.write,
       pause on false, resume on drain), fetches it once with a fast client and once
       with a slow one (both millrace sockets), and prints the journey of each.";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => {
            let mut size_mib = 64u64;
            let mut it = args.iter().skip(1);
            while let Some(a) = it.next() {
                match (a.as_str(), it.next().and_then(|v| v.parse().ok())) {
                    ("--size", Some(n)) if n > 0 => size_mib = n,
                    _ => {
                        eprintln!("{USAGE}");
                        std::process::exit(2);
                    }
                }
            }
            if let Err(e) = demo(size_mib) {
                eprintln!("millrace demo: {e}");
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// What one fetch looked like from the server's side.
#[derive(Default)]
struct Journey {
    body_bytes: Cell<u64>,
    writes: Cell<u64>,
    write_false: Cell<u64>,
    drains: Cell<u64>,
    peak_queue: Cell<usize>,
    peak_rss_kib: Cell<u64>,
    socket_write_calls: Cell<u64>,
    socket_eagain: Cell<u64>,
    socket_partial: Cell<u64>,
    elapsed: Cell<Duration>,
    metrics: Cell<Metrics>,
}

impl Journey {
    fn peak(&self, queue: usize) {
        self.peak_queue.set(self.peak_queue.get().max(queue));
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn demo(size_mib: u64) -> std::io::Result<()> {
    let path = std::env::temp_dir().join(format!("millrace-demo-{}.bin", std::process::id()));
    {
        let chunk = vec![b'm'; 1024 * 1024];
        let mut f = std::fs::File::create(&path)?;
        for _ in 0..size_mib {
            std::io::Write::write_all(&mut f, &chunk)?;
        }
    }
    println!("millrace demo: serving a {size_mib} MiB file with the seed's server, fetched by two clients\n");
    let journeys: Rc<[Journey; 2]> = Rc::new(Default::default());
    let current = Rc::new(Cell::new(0usize));
    let result = millrace::run({
        let (journeys, current, path) = (journeys.clone(), current.clone(), path.clone());
        move || {
            let server = {
                let (journeys, current) = (journeys.clone(), current.clone());
                create_server(move |req, res| {
                    let j = journeys.clone();
                    let idx = current.get();
                    let socket = req.socket().clone();
                    // The seed's server, with counters.
                    let file = fs::create_read_stream(&path);
                    let out = res.clone();
                    file.on_data(move |file, chunk| {
                        let jr = &j[idx];
                        jr.writes.set(jr.writes.get() + 1);
                        let ok = out.write(chunk);
                        jr.peak(socket.write_queue_size() + socket.writable_length() + out.writable_length());
                        if jr.writes.get() % 16 == 0 {
                            jr.peak_rss_kib.set(jr.peak_rss_kib.get().max(rss_kib()));
                        }
                        if !ok {
                            jr.write_false.set(jr.write_false.get() + 1);
                            file.pause();
                            let (file, j2) = (file.clone(), j.clone());
                            out.once_drain(move |_| {
                                j2[idx].drains.set(j2[idx].drains.get() + 1);
                                file.resume();
                            });
                        }
                    });
                    let done = res.clone();
                    file.on_end(move |_| {
                        done.end();
                    });
                    let (j, sock) = (journeys.clone(), req.socket().clone());
                    res.on_finish(move |_| {
                        if let Some(t) = sock.tcp() {
                            let st = t.stats();
                            j[idx].socket_write_calls.set(st.write_calls);
                            j[idx].socket_eagain.set(st.write_eagain);
                            j[idx].socket_partial.set(st.write_partial);
                        }
                    });
                })
            };
            let srv = server.clone();
            let listening = server.listen(0, "127.0.0.1", move |s| {
                let addr = s.address().expect("listening");
                fetch(addr, journeys.clone(), current.clone(), srv.clone());
            });
            if let Err(e) = listening {
                eprintln!("millrace demo: listen: {e}");
            }
        }
    });
    let _ = std::fs::remove_file(&path);
    result?;

    let j = &*journeys;
    let row = |name: &str, f: &dyn Fn(&Journey) -> String| println!("{name:<34}{:>16}{:>16}", f(&j[0]), f(&j[1]));
    println!("{:<34}{:>16}{:>16}", "", "fast client", "slow client");
    row("bytes received (chunked body)", &|j| j.body_bytes.get().to_string());
    row("time", &|j| format!("{:.0?}", j.elapsed.get()));
    row("res.write() calls", &|j| j.writes.get().to_string());
    row("  returned false", &|j| j.write_false.get().to_string());
    row("'drain' events", &|j| j.drains.get().to_string());
    row("write syscalls on the socket", &|j| j.socket_write_calls.get().to_string());
    row("  of which writev", &|j| j.metrics.get().writev.to_string());
    row("short writes (kernel buffer full)", &|j| j.socket_partial.get().to_string());
    row("EAGAIN on write", &|j| j.socket_eagain.get().to_string());
    row("peak bytes queued (socket+res)", &|j| j.peak_queue.get().to_string());
    row("peak process memory (RSS)", &|j| format!("{:.1} MiB", j.peak_rss_kib.get() as f64 / 1024.0));
    row("loop iterations", &|j| j.metrics.get().loop_count.to_string());
    println!(
        "\nThe fast client drains the socket as fast as the kernel fills it: every write completes at\n\
         once. The slow client reads 256 KiB every 5 ms: the kernel buffer fills (a short writev), the\n\
         rest waits in the socket's write queue for POLLOUT (no EAGAIN needed: a short write already\n\
         says the buffer is full), res.write() returns false, the file pauses, and memory stays flat\n\
         until 'drain'. Trace every stage with MILLRACE_TRACE=millrace=trace."
    );
    Ok(())
}

/// Fetches the file twice over HTTP with millrace sockets: fast, then slow.
fn fetch(
    addr: std::net::SocketAddr,
    journeys: Rc<[Journey; 2]>,
    current: Rc<Cell<usize>>,
    server: millrace::http::Server,
) {
    let idx = current.get();
    let slow = idx == 1;
    let before = Loop::current().metrics();
    let start = Instant::now();
    let sock = net::Socket::connect(addr);
    sock.once_connect(|s| {
        s.write(Bytes::from_static(b"GET /file HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n"));
    });
    let head_done = Rc::new(Cell::new(false));
    let head = Rc::new(RefCell::new(Vec::new()));
    let received = Rc::new(Cell::new(0u64));
    {
        let (journeys, received) = (journeys.clone(), received.clone());
        sock.on_data(move |s, chunk| {
            let mut body = chunk.len();
            if !head_done.get() {
                let mut h = head.borrow_mut();
                h.extend_from_slice(&chunk);
                match h.windows(4).position(|w| w == b"\r\n\r\n") {
                    Some(end) => {
                        head_done.set(true);
                        body = h.len() - end - 4;
                    }
                    None => return,
                }
            }
            let before = received.get();
            received.set(before + body as u64);
            journeys[idx].body_bytes.set(received.get());
            if slow && before / (256 * 1024) != received.get() / (256 * 1024) {
                s.pause();
                let s = s.clone();
                Loop::current().set_timeout(5, move || {
                    s.resume();
                });
            }
        });
    }
    sock.on_close(move |_| {
        let j = &journeys[idx];
        j.elapsed.set(start.elapsed());
        j.metrics.set(Loop::current().metrics().since(&before));
        if idx == 0 {
            current.set(1);
            fetch(addr, journeys.clone(), current.clone(), server.clone());
        } else {
            server.close(|_| {});
        }
    });
}
