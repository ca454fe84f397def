//! The floor `scripts/bench-http` measures the servers against: every request gets
//! `hello world` (status 200, `Content-Type: text/plain`, the same bytes millrace's
//! `hello` sends) from a bare mio loop with no abstraction at all.
//!
//! Per readable event it makes one `read` (a short read means the socket is drained, as
//! libuv assumes), counts the request heads in it (the `\r\n\r\n` ends; GET requests
//! without bodies are all `wrk` sends), and answers all of them with one `write`. What
//! is left of a head split across reads waits for the next read. A partial write keeps
//! the rest and waits for the socket to become writable. No parser, no streams, no
//! events, no timers: what any server has to spend beyond this is its abstraction.
//!
//! ```text
//! cargo run --release -- 3000
//! ```

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::SystemTime;

use memchr::memmem;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

const LISTENER: Token = Token(usize::MAX);
const HEAD_END: &[u8] = b"\r\n\r\n";

struct Conn {
    sock: TcpStream,
    /// The start of a head whose end has not arrived yet.
    partial: Vec<u8>,
    /// Responses not yet written (only after a partial write).
    out: Vec<u8>,
    /// WRITABLE interest is registered.
    waiting: bool,
}

/// One response, with a Date header refreshed when the second changes.
struct Response {
    bytes: Vec<u8>,
    date_at: usize,
    second: u64,
}

impl Response {
    fn new() -> Self {
        let mut r = Response { bytes: Vec::new(), date_at: 0, second: u64::MAX };
        r.refresh();
        r
    }

    fn refresh(&mut self) {
        let now = SystemTime::now();
        let second = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second == self.second {
            return;
        }
        self.second = second;
        let date = httpdate::fmt_http_date(now);
        if self.bytes.is_empty() {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: ";
            self.date_at = head.len();
            self.bytes.extend_from_slice(head.as_bytes());
            self.bytes.extend_from_slice(date.as_bytes());
            self.bytes.extend_from_slice(
                b"\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 11\r\n\r\nhello world",
            );
        } else {
            self.bytes[self.date_at..self.date_at + date.len()].copy_from_slice(date.as_bytes());
        }
    }
}

fn main() -> io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("listening on http://127.0.0.1:{port}");
    let mut conns: Slab<Conn> = Slab::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut response = Response::new();
    let mut batch = Vec::new();
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        response.refresh();
        for ev in events.iter() {
            if ev.token() == LISTENER {
                accept_all(&listener, &poll, &mut conns);
                continue;
            }
            let key = ev.token().0;
            let Some(c) = conns.get_mut(key) else { continue };
            let mut gone = false;
            if ev.is_readable() {
                gone = on_readable(c, &mut buf, &response.bytes, &mut batch);
            }
            if !gone && ev.is_writable() && c.waiting {
                let pending = std::mem::take(&mut c.out);
                gone = send(c, &pending);
            }
            if !gone && c.waiting == c.out.is_empty() {
                c.waiting = !c.out.is_empty();
                let interest = if c.waiting { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
                gone = poll.registry().reregister(&mut c.sock, ev.token(), interest).is_err();
            }
            if gone {
                let mut c = conns.remove(key);
                let _ = poll.registry().deregister(&mut c.sock);
            }
        }
    }
}

fn accept_all(listener: &TcpListener, poll: &Poll, conns: &mut Slab<Conn>) {
    loop {
        match listener.accept() {
            Ok((sock, _)) => {
                let _ = sock.set_nodelay(true); // as Node's http server does by default
                let entry = conns.vacant_entry();
                let mut c = Conn { sock, partial: Vec::new(), out: Vec::new(), waiting: false };
                if poll.registry().register(&mut c.sock, Token(entry.key()), Interest::READABLE).is_ok() {
                    entry.insert(c);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("mio-floor: accept: {e}");
                return;
            }
        }
    }
}

/// Reads until a short read, answers every complete head; true if the connection ended.
fn on_readable(c: &mut Conn, buf: &mut [u8], response: &[u8], batch: &mut Vec<u8>) -> bool {
    loop {
        let n = match c.sock.read(buf) {
            Ok(0) => return true,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return true,
        };
        let heads = if c.partial.is_empty() {
            count_heads(&buf[..n], &mut c.partial)
        } else {
            let mut joined = std::mem::take(&mut c.partial);
            joined.extend_from_slice(&buf[..n]);
            count_heads(&joined, &mut c.partial)
        };
        if heads > 0 {
            batch.clear();
            for _ in 0..heads {
                batch.extend_from_slice(response);
            }
            if send(c, batch) {
                return true;
            }
        }
        if n < buf.len() {
            return false;
        }
    }
}

/// The number of heads that end in `data`; what follows the last one goes to `rest`.
fn count_heads(data: &[u8], rest: &mut Vec<u8>) -> usize {
    let mut heads = 0;
    let mut end = 0;
    for at in memmem::find_iter(data, HEAD_END) {
        heads += 1;
        end = at + HEAD_END.len();
    }
    rest.extend_from_slice(&data[end..]);
    heads
}

/// Writes what is queued and then `bytes` with one `write`; the rest waits for WRITABLE.
/// True if the connection ended.
fn send(c: &mut Conn, bytes: &[u8]) -> bool {
    if !c.out.is_empty() {
        c.out.extend_from_slice(bytes);
        return false; // WRITABLE will come
    }
    let mut at = 0;
    while at < bytes.len() {
        match c.sock.write(&bytes[at..]) {
            Ok(0) => return true,
            Ok(n) => at += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
    c.out.extend_from_slice(&bytes[at..]);
    false
}
