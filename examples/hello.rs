//! Every request gets `hello world`.
//!
//! ```text
//! cargo run --release --example hello -- 3000
//! curl http://127.0.0.1:3000/
//! kill -USR1 <pid>   # prints the loop's counters to stderr (scripts/bench-http reads them)
//! ```

use millrace::http::{create_server, ServerResponseExt};
use millrace::reactor::{Handle, Loop, Metrics, RunMode, Signal};

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let server = create_server(|_req, res| {
        let _ = res.set_header("Content-Type", "text/plain");
        res.end_with("hello world");
    });
    // SIGUSR1: one line of `key=value` counters on stderr. Unref'd: it never keeps the
    // loop alive, and it costs the request path nothing.
    let usr1 = Signal::new(&Loop::current());
    if let Err(e) = usr1.start(libc::SIGUSR1, |_, _| eprintln!("{}", metrics_line(&Loop::current().metrics()))) {
        eprintln!("hello: SIGUSR1: {e}");
    }
    usr1.unref();
    // A port in use is an 'error' event (next tick), as in Node.
    server.on_error(|_, e| {
        eprintln!("hello: {e}");
        std::process::exit(1);
    });
    if let Err(e) = server.listen(port, "127.0.0.1", move |_| println!("listening on http://127.0.0.1:{port}")) {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
    Loop::current().run(RunMode::Default);
}

fn metrics_line(m: &Metrics) -> String {
    format!(
        "metrics loop_count={} events={} idle_time_us={} epoll_wait={} read={} write={} writev={} accept={} \
         read_eagain={} write_eagain={} bytes_read={} bytes_written={} next_ticks={}",
        m.loop_count,
        m.events,
        m.idle_time.as_micros(),
        m.epoll_wait,
        m.read,
        m.write,
        m.writev,
        m.accept,
        m.read_eagain,
        m.write_eagain,
        m.bytes_read,
        m.bytes_written,
        m.next_ticks
    )
}
