//! A TCP echo server on the reactor API alone.
//!
//! ```text
//! cargo run --release --example tcp_echo -- 7000
//! printf 'hello\n' | nc -q1 127.0.0.1 7000      # prints hello
//! ```
//!
//! Backpressure: while a connection's write queue holds more than `HIGH_WATER` bytes the
//! server stops reading from it, and resumes when a write callback finds the queue back
//! under the mark. A client that vanishes mid-write costs its own connection only. Ctrl-C
//! (or SIGTERM) closes the listener and every connection, and the loop ends.

use std::cell::RefCell;
use std::rc::Rc;

use millrace::reactor::{Handle, Loop, ReadEvent, RunMode, Signal, Tcp};

/// Stop reading a connection while this much is waiting to be written to it.
const HIGH_WATER: usize = 256 * 1024;

fn main() {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        None => 7000,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("usage: tcp_echo [PORT]");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(port) {
        eprintln!("tcp_echo: {e}");
        std::process::exit(1);
    }
}

fn run(port: u16) -> Result<(), millrace::reactor::Error> {
    let lp = Loop::current();
    let conns: Rc<RefCell<Vec<Tcp>>> = Rc::default();

    let server = Tcp::new(&lp);
    server.bind(([127, 0, 0, 1], port).into())?;
    let registry = conns.clone();
    server.listen(1024, move |server, status| {
        if let Err(e) = status {
            eprintln!("accept: {e}");
            return;
        }
        let Ok(conn) = server.accept() else { return };
        let _ = conn.set_nodelay(true);
        registry.borrow_mut().push(conn.clone());
        let registry = registry.clone();
        if conn.read_start(move |conn, ev| on_read(conn, ev, &registry)).is_err() {
            conn.close(|_| {});
        }
    })?;
    println!("listening on {}", server.local_addr()?);

    for signum in [libc::SIGINT, libc::SIGTERM] {
        let sig = Signal::new(&lp);
        let (server, conns) = (server.clone(), conns.clone());
        sig.start(signum, move |sig, _| {
            server.close(|_| {});
            for c in conns.borrow_mut().drain(..) {
                c.close(|_| {});
            }
            sig.close(|_| {});
        })?;
        sig.unref(); // a signal watcher alone does not keep the server running
    }

    lp.run(RunMode::Default);
    let m = lp.metrics();
    eprintln!(
        "tcp_echo: {} bytes in, {} bytes out, {} reads, {} write syscalls, {} EAGAIN on write",
        m.bytes_read,
        m.bytes_written,
        m.read,
        m.write_syscalls(),
        m.write_eagain
    );
    Ok(())
}

fn on_read(conn: &Tcp, ev: ReadEvent, registry: &Rc<RefCell<Vec<Tcp>>>) {
    match ev {
        ReadEvent::Data(chunk) => {
            let reg = registry.clone();
            let written = conn.write([chunk], move |conn, status| {
                if status.is_err() {
                    forget(conn, &reg);
                    return;
                }
                // Drained below the mark: resume reading.
                if !conn.is_reading() && conn.write_queue_size() < HIGH_WATER && conn.is_readable() {
                    let reg = reg.clone();
                    let _ = conn.read_start(move |c, ev| on_read(c, ev, &reg));
                }
            });
            if written.is_err() {
                forget(conn, registry);
            } else if conn.write_queue_size() > HIGH_WATER {
                conn.read_stop();
            }
        }
        ReadEvent::Eof => {
            // Echo what is queued, then close our side.
            let reg = registry.clone();
            if conn.shutdown(move |conn, _| forget(conn, &reg)).is_err() {
                forget(conn, registry);
            }
        }
        ReadEvent::Error(_) => forget(conn, registry),
    }
}

fn forget(conn: &Tcp, registry: &Rc<RefCell<Vec<Tcp>>>) {
    registry.borrow_mut().retain(|c| c != conn);
    conn.close(|_| {});
}
