//! Helpers for the HTTP tests: a millrace HTTP server on its own thread and loop, a
//! blocking raw-socket client with bounded reads, a response reader, and runners for
//! the external clients (curl, node).
//!
//! The server thread owns everything `Rc`; the test thread talks to it through
//! [`TestServer::run`]/[`TestServer::call`] (closures sent over a channel and run on
//! the loop, woken by an async handle) and observes it through a shared [`Log`].

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace::http::{Server, ServerOptions, ServerResponse};
use millrace::reactor::{Async, AsyncSender, Handle, Loop, RunMode};

/// The bound on every blocking wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// Lines logged by the server thread, waited on by the test thread.
#[derive(Clone, Default)]
pub struct Log(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Log {
    pub fn push(&self, line: impl Into<String>) {
        let (m, c) = &*self.0;
        m.lock().unwrap_or_else(|p| p.into_inner()).push(line.into());
        c.notify_all();
    }

    /// Forgets every line logged so far.
    #[allow(dead_code)] // not every test binary that includes this module uses it
    pub fn clear(&self) {
        self.0 .0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn lines(&self) -> Vec<String> {
        self.0 .0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn has(&self, line: &str) -> bool {
        self.lines().iter().any(|l| l == line)
    }

    pub fn count(&self, line: &str) -> usize {
        self.lines().iter().filter(|l| *l == line).count()
    }

    /// Waits (at most `timeout`) until `pred` holds for the lines.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(&[String]) -> bool) -> bool {
        let (m, c) = &*self.0;
        let deadline = Instant::now() + timeout;
        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if pred(&g) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = c.wait_timeout(g, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Waits for `line` to be logged; panics after [`WAIT`].
    pub fn wait_for(&self, line: &str) {
        if !self.wait_until(WAIT, |l| l.iter().any(|x| x == line)) {
            panic!("server never logged {line:?}; log: {:#?}", self.lines());
        }
    }

    /// Waits for a line starting with `prefix`; returns it.
    pub fn wait_prefix(&self, prefix: &str) -> String {
        if !self.wait_until(WAIT, |l| l.iter().any(|x| x.starts_with(prefix))) {
            panic!("server never logged a line starting with {prefix:?}; log: {:#?}", self.lines());
        }
        self.lines().into_iter().find(|x| x.starts_with(prefix)).unwrap_or_default()
    }
}

thread_local! {
    static STASH: RefCell<HashMap<String, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

/// Keeps a value (a request, a response) on the server thread under `key`, for a later
/// [`TestServer::run`] closure to [`take`] it.
pub fn stash<T: 'static>(key: &str, value: T) {
    STASH.with(|s| s.borrow_mut().insert(key.to_owned(), Box::new(value)));
}

/// Takes what [`stash`] kept under `key` (panics if absent).
pub fn take<T: 'static>(key: &str) -> T {
    let v = STASH.with(|s| s.borrow_mut().remove(key)).unwrap_or_else(|| panic!("nothing stashed under {key:?}"));
    *v.downcast::<T>().unwrap_or_else(|_| panic!("stash {key:?} holds another type"))
}

type Cmd = Box<dyn FnOnce(&Server) + Send>;

/// A millrace HTTP server on its own thread and loop, listening on 127.0.0.1.
pub struct TestServer {
    /// Where a TCP server listens (`0.0.0.0:0` for one on a Unix domain socket).
    pub addr: SocketAddr,
    /// Where a server made by [`start_on_path`](TestServer::start_on_path) listens.
    pub path: Option<PathBuf>,
    pub log: Log,
    tx: mpsc::Sender<Option<Cmd>>,
    wake: AsyncSender,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with `opts`; `setup` adds its listeners (on the server thread).
    pub fn start(opts: ServerOptions, setup: impl FnOnce(&Server, &Log) + Send + 'static) -> TestServer {
        TestServer::start_at(None, opts, setup)
    }

    /// As [`start`](TestServer::start), listening on a Unix domain socket at `path`.
    pub fn start_on_path(
        path: &Path,
        opts: ServerOptions,
        setup: impl FnOnce(&Server, &Log) + Send + 'static,
    ) -> TestServer {
        TestServer::start_at(Some(path.to_path_buf()), opts, setup)
    }

    fn start_at(
        path: Option<PathBuf>,
        opts: ServerOptions,
        setup: impl FnOnce(&Server, &Log) + Send + 'static,
    ) -> TestServer {
        let log = Log::default();
        let listen_path = path.clone();
        let (ready_tx, ready_rx) = mpsc::channel::<(SocketAddr, AsyncSender)>();
        let (tx, rx) = mpsc::channel::<Option<Cmd>>();
        let l = log.clone();
        let thread = std::thread::Builder::new()
            .name("http-test-server".into())
            .spawn(move || {
                let lp = Loop::new().expect("loop");
                lp.enter(|| {
                    let server = Server::with_options(opts, |_, _| {});
                    setup(&server, &l);
                    let srv = server.clone();
                    let wake = Async::new(&lp, move |a| {
                        while let Ok(cmd) = rx.try_recv() {
                            match cmd {
                                Some(f) => f(&srv),
                                None => {
                                    srv.close_all_connections();
                                    if srv.listening() {
                                        srv.close(|_| {});
                                    }
                                    a.close(|_| {});
                                    return;
                                }
                            }
                        }
                    });
                    match listen_path {
                        Some(p) => server.listen_path(p, |_| {}).expect("listen"),
                        None => server.listen(0, "127.0.0.1", |_| {}).expect("listen"),
                    }
                    let addr = server.address().unwrap_or_else(|| ([0, 0, 0, 0], 0).into());
                    ready_tx.send((addr, wake.sender())).expect("ready");
                    drop(server);
                    lp.run_next_ticks();
                    lp.run(RunMode::Default);
                });
                drop(lp);
            })
            .expect("spawn server thread");
        let (addr, wake) = ready_rx.recv_timeout(WAIT).expect("server did not start");
        TestServer { addr, path, log, tx, wake, thread: Some(thread) }
    }

    /// Runs `f` on the server thread, soon.
    pub fn run(&self, f: impl FnOnce(&Server) + Send + 'static) {
        self.tx.send(Some(Box::new(f))).expect("server thread gone");
        self.wake.send();
    }

    /// Runs `f` on the server thread and returns its result.
    pub fn call<T: Send + 'static>(&self, f: impl FnOnce(&Server) -> T + Send + 'static) -> T {
        let (rtx, rrx) = mpsc::channel();
        self.run(move |s| {
            let _ = rtx.send(f(s));
        });
        rrx.recv_timeout(WAIT).expect("server thread did not answer")
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Closes every connection and the server, waits for the thread; a panic on the
    /// server thread (a failed assertion in a listener) is resumed here.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        let _ = self.tx.send(None);
        self.wake.send();
        let deadline = Instant::now() + WAIT;
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !thread.is_finished() {
            if !std::thread::panicking() {
                panic!("server thread did not exit; log: {:#?}", self.log.lines());
            }
            return;
        }
        if let Err(p) = thread.join() {
            if !std::thread::panicking() {
                std::panic::resume_unwind(p);
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A parsed response.
#[derive(Debug, Default, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// The head as received (status line and header lines, CRLFs kept).
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// The first value of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A blocking client socket whose every read and write is bounded by a timeout.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// How a wait for the end of a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// A FIN (read returned 0).
    Eof,
    /// A RST.
    Reset,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("client write");
    }

    /// `GET {path}` with a Host header, keep-alive.
    pub fn get(&mut self, path: &str) -> Response {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        self.read_response()
    }

    /// Reads more bytes into the buffer; 0 at EOF. Panics on timeout or reset.
    fn fill(&mut self) -> usize {
        let mut tmp = [0u8; 64 * 1024];
        match self.stream.read(&mut tmp) {
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                n
            }
            Err(e) => panic!("client read failed: {e} (have {:?})", String::from_utf8_lossy(&self.buf)),
        }
    }

    fn take_line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return line;
            }
            if self.fill() == 0 {
                panic!("EOF in the middle of a line: {:?}", String::from_utf8_lossy(&self.buf));
            }
        }
    }

    fn take_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            if self.fill() == 0 {
                panic!("EOF after {} of {n} body bytes", self.buf.len());
            }
        }
        self.buf.drain(..n).collect()
    }

    /// Reads a status line and headers.
    pub fn read_head(&mut self) -> Response {
        let status_line = self.take_line();
        let mut r = Response { head: format!("{status_line}\r\n"), ..Default::default() };
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        assert!(version.starts_with("HTTP/1."), "not a status line: {status_line:?}");
        r.status = parts.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status: {status_line:?}"));
        r.reason = parts.next().unwrap_or_default().to_owned();
        loop {
            let line = self.take_line();
            r.head.push_str(&line);
            r.head.push_str("\r\n");
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':').unwrap_or_else(|| panic!("bad header line {line:?}"));
            r.headers.push((n.to_owned(), v.trim().to_owned()));
        }
        r
    }

    /// Reads one response to a request that may have a body (not HEAD).
    pub fn read_response(&mut self) -> Response {
        self.read_response_for("GET")
    }

    /// Reads one response to a `method` request, body framed as HTTP/1.1 says.
    pub fn read_response_for(&mut self, method: &str) -> Response {
        let mut r = self.read_head();
        if method == "HEAD" || (100..200).contains(&r.status) || r.status == 204 || r.status == 304 {
            return r;
        }
        let chunked = r.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            loop {
                let size_line = self.take_line();
                let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
                    .unwrap_or_else(|_| panic!("bad chunk size {size_line:?}"));
                if size == 0 {
                    loop {
                        let line = self.take_line();
                        if line.is_empty() {
                            break;
                        }
                        let (n, v) = line.split_once(':').expect("trailer line");
                        r.trailers.push((n.to_owned(), v.trim().to_owned()));
                    }
                    break;
                }
                let data = self.take_exact(size);
                r.body.extend_from_slice(&data);
                assert_eq!(self.take_exact(2), b"\r\n", "chunk not followed by CRLF");
            }
        } else if let Some(len) = r.header("content-length") {
            let len: usize = len.parse().expect("content-length");
            r.body = self.take_exact(len);
        } else {
            while self.fill() > 0 {}
            r.body = std::mem::take(&mut self.buf);
        }
        r
    }

    /// Waits (at most `timeout`) for the server to end the connection; returns how it
    /// ended and any bytes that came first, or `None` on timeout.
    pub fn wait_closed(&mut self, timeout: Duration) -> Option<(Closed, Vec<u8>)> {
        let deadline = Instant::now() + timeout;
        let mut extra = std::mem::take(&mut self.buf);
        let mut tmp = [0u8; 64 * 1024];
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break None;
            }
            self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            match self.stream.read(&mut tmp) {
                Ok(0) => break Some(Closed::Eof),
                Ok(n) => extra.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break Some(Closed::Reset),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("client read failed: {e}"),
            }
        };
        self.stream.set_read_timeout(Some(WAIT)).unwrap();
        match result {
            Some(how) => Some((how, extra)),
            None => {
                self.buf = extra;
                None
            }
        }
    }

    /// Waits for the end of the connection; panics after [`WAIT`].
    pub fn expect_closed(&mut self) -> (Closed, Vec<u8>) {
        self.wait_closed(WAIT).expect("the server did not close the connection")
    }

    /// True if nothing arrives (and the connection stays open) for `d`.
    pub fn quiet_for(&mut self, d: Duration) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        self.stream.set_read_timeout(Some(d)).unwrap();
        let mut tmp = [0u8; 1024];
        let r = self.stream.read(&mut tmp);
        self.stream.set_read_timeout(Some(WAIT)).unwrap();
        match r {
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                false
            }
            Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }

    /// Closes with a RST (SO_LINGER 0).
    pub fn reset(self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: a valid fd and a correctly sized, initialised `linger`.
        let rc = unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "setsockopt(SO_LINGER)");
        drop(self);
    }
}

/// Writes `data` to `res` in `chunk`-sized writes, waiting for `drain` whenever `write`
/// returns false, then ends it.
pub fn write_all(res: &ServerResponse, data: Bytes, chunk: usize) {
    let mut off = 0;
    while off < data.len() {
        let end = (off + chunk).min(data.len());
        let ok = res.write(data.slice(off..end));
        off = end;
        if !ok {
            let rest = data.slice(off..);
            res.once_drain(move |res| write_all(res, rest.clone(), chunk));
            return;
        }
    }
    res.end();
}

/// `n` bytes of a deterministic, non-repeating pattern.
pub fn pattern(n: usize) -> Bytes {
    let mut v = Vec::with_capacity(n + 8);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while v.len() < n {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    v.truncate(n);
    Bytes::from(v)
}

/// FNV-1a (64-bit), incremental.
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }

    pub fn of(data: &[u8]) -> u64 {
        let mut h = Fnv::default();
        h.update(data);
        h.0
    }
}

/// True if `prog --version` runs; otherwise prints a loud SKIPPED line for `test`.
pub fn have(prog: &str, test: &str) -> bool {
    let ok = Command::new(prog)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: {test}: `{prog}` is not installed");
    }
    ok
}

/// Runs `cmd` to completion (killed and failed after `timeout`), collecting its output.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// A file under the temp dir, removed on drop.
pub struct TempFile(pub std::path::PathBuf);

impl TempFile {
    pub fn new(name: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("millrace-http-{}-{name}", std::process::id())))
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The number of open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}
