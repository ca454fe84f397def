//! Helpers shared by the top-level tests.
#![allow(dead_code)]

pub mod http;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use millrace::reactor::{Handle, Loop, RunMode, Timer};

/// One line per observable event, as the Node scenario prints them.
#[derive(Clone, Default)]
pub struct Trace(Rc<RefCell<Vec<String>>>);

impl Trace {
    /// Records a line; with `MILLRACE_TRACE_LIVE` set, also prints it at once (to see
    /// how far a scenario that hangs got).
    pub fn log(&self, line: impl Into<String>) {
        let line = line.into();
        if std::env::var_os("MILLRACE_TRACE_LIVE").is_some() {
            eprintln!("{line}");
        }
        self.0.borrow_mut().push(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Node's `String(x)` for the values the scenarios print.
pub fn js_bool(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// A timer that fails the test if `lp` still runs after `ms`: unreferenced, so it keeps
/// nothing alive; close it (or let the loop be dropped) when done.
pub fn watchdog(lp: &Loop, ms: u64) -> Timer {
    let dog = Timer::new(lp);
    dog.unref();
    dog.start(ms, 0, move |_| panic!("watchdog: the loop still runs after {ms} ms")).unwrap();
    dog
}

/// Runs `f` on a fresh loop and then the loop, failing instead of hanging if the loop
/// still runs after 10 s.
pub fn run_bounded(f: impl FnOnce(&Loop)) {
    let lp = Loop::new().unwrap();
    lp.enter(|| {
        let dog = watchdog(&lp, 10_000);
        f(&lp);
        lp.run_next_ticks();
        lp.run(RunMode::Default);
        dog.close(|_| {});
        lp.run(RunMode::Default);
    });
}

/// Runs `scenario` on a fresh loop the way Node runs a script (the script, its next
/// ticks, then the loop until nothing is alive) and compares the trace with the golden
/// recorded from Node.
pub fn check_golden(name: &str, scenario: impl FnOnce(&Trace, &Loop)) {
    let lp = Loop::new().expect("loop");
    let trace = Trace::default();
    lp.enter(|| {
        scenario(&trace, &lp);
        lp.run_next_ticks();
        lp.run(RunMode::Default);
    });
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "conformance", "golden", &format!("{name}.txt")].iter().collect();
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected: Vec<&str> = golden.lines().collect();
    let actual = trace.lines();
    if expected != actual {
        let mut report = format!("trace of '{name}' differs from Node's golden\n  node | millrace\n");
        for i in 0..expected.len().max(actual.len()) {
            let e = expected.get(i).copied().unwrap_or("<none>");
            let a = actual.get(i).map(String::as_str).unwrap_or("<none>");
            let mark = if e == a { "   " } else { ">>>" };
            report.push_str(&format!("{mark} {e:<40} | {a}\n"));
        }
        panic!("{report}");
    }
}

impl Trace {
    /// A listener that logs `msg` (for events without arguments).
    pub fn on<S>(&self, msg: impl Into<String>) -> impl Fn(&S) + 'static {
        let t = self.clone();
        let msg = msg.into();
        move |_| t.log(msg.clone())
    }

    /// An error listener that logs `"{who} error {code or message}"`.
    pub fn on_err<S>(&self, who: &str) -> impl Fn(&S, &millrace::streams::Error) + 'static {
        let t = self.clone();
        let who = who.to_owned();
        move |_, e| t.log(format!("{who} error {}", err_name(Some(e))))
    }
}

/// The scenarios' `errName`: the code, else the message, else `null`.
pub fn err_name(e: Option<&millrace::streams::Error>) -> String {
    match e {
        None => "null".to_owned(),
        Some(e) => e.code().map_or_else(|| e.message(), str::to_owned),
    }
}

/// JavaScript's `String(x)` of an optional boolean (`null` for `None`).
pub fn js_opt(b: Option<bool>) -> &'static str {
    match b {
        None => "null",
        Some(b) => js_bool(b),
    }
}

/// A chunk's text.
pub fn text(b: &bytes::Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

mod xorshift;
#[allow(unused_imports)] // not every test file draws generated cases
pub use xorshift::Xorshift;

/// Completes a generated scenario's n-th operation as `trace.js`'s `complete` does:
/// synchronously, on the next tick or on an immediate (n % 3). Clones share the count.
#[derive(Clone)]
pub struct Completer {
    lp: Loop,
    n: Rc<std::cell::Cell<usize>>,
}

impl Completer {
    pub fn new(lp: &Loop) -> Completer {
        Completer { lp: lp.clone(), n: Rc::default() }
    }

    pub fn complete(&self, f: impl FnOnce() + 'static) {
        let n = self.n.get();
        self.n.set(n + 1);
        match n % 3 {
            0 => f(),
            1 => self.lp.next_tick(f),
            _ => self.lp.set_immediate(f),
        }
    }
}

/// Runs a generated case's operations from the `k`-th on, as the JavaScript scenarios'
/// `runOps` does: `t` waits for an immediate; every other one goes to `op`, which
/// returns false to end the case there.
pub fn run_ops(lp: &Loop, ops: Rc<[String]>, k: usize, op: Rc<dyn Fn(&str) -> bool>) {
    for (j, o) in ops.iter().enumerate().skip(k) {
        if o == "t" {
            let (lp2, ops, op) = (lp.clone(), ops.clone(), op.clone());
            lp.set_immediate(move || run_ops(&lp2, ops, j + 1, op));
            return;
        }
        if !op(o) {
            return;
        }
    }
}

/// `getsockopt` of an int option (the socket options a test checks).
pub fn sockopt(fd: std::os::fd::RawFd, level: libc::c_int, name: libc::c_int) -> libc::c_int {
    let mut v: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is an open socket and `v`/`len` are valid for the call.
    let r = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut libc::c_int).cast(), &mut len) };
    assert_eq!(r, 0, "getsockopt: {}", std::io::Error::last_os_error());
    v
}

/// `nodelay N keepalive N` and, with keep-alive on, `idle N intvl N cnt N`.
pub fn tcp_options(socket: &millrace::streams::net::Socket) -> String {
    use libc::{IPPROTO_TCP, SOL_SOCKET, SO_KEEPALIVE, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY};
    let fd = socket.tcp().and_then(|t| t.fileno()).expect("fd");
    let keepalive = sockopt(fd, SOL_SOCKET, SO_KEEPALIVE);
    let mut line = format!("nodelay {} keepalive {keepalive}", sockopt(fd, IPPROTO_TCP, TCP_NODELAY));
    if keepalive == 1 {
        line += &format!(
            " idle {} intvl {} cnt {}",
            sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
            sockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL),
            sockopt(fd, IPPROTO_TCP, TCP_KEEPCNT)
        );
    }
    line
}

/// What a terminal shows, read from its master side on a thread until `want` bytes or
/// until no slave is left open (the read then fails with EIO); take it with
/// `recv_timeout`, so that a terminal left open cannot hang the test.
pub fn read_terminal(master: &std::os::fd::OwnedFd, want: usize) -> std::sync::mpsc::Receiver<Vec<u8>> {
    use std::io::Read;
    let mut m = std::fs::File::from(master.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut got, mut buf) = (Vec::new(), [0u8; 4096]);
        while got.len() < want {
            match m.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send(got);
    });
    rx
}
