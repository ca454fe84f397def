//! HTTP/1.1 conformance: raw request bytes against the echo server, compared byte for
//! byte with Node 20's answers.
//!
//! The cases are data in `tests/http/cases.txt` (request bytes; sent whole, in pieces
//! or byte by byte; how long to wait). `scripts/golden-http` sends each one to
//! `node tests/node/echo.js` and records the response in `tests/http/golden/<name>.txt`
//! (Date values normalized, `# end: closed|open` for whether the server closed the
//! connection). A golden whose first line is `# rfc9112: ...` holds the RFC 9112 answer
//! where Node is laxer, written by hand; the recorder never overwrites it.
//!
//! This test needs no Node: it runs `examples/echo.rs`'s own handler (the file is
//! included) on its own thread and loop, replays every case over `std::net::TcpStream`
//! (all cases in parallel, every wait bounded), normalizes the same way and compares
//! with the committed goldens.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace::http::{
    create_server, IncomingMessage, IncomingMessageExt, Server, ServerOptions, ServerResponse, ServerResponseExt,
};
use millrace::reactor::{Loop, RunMode};
use millrace::streams::net::Socket;

/// The echo example itself: the server the echo suite replays against.
#[path = "../examples/echo.rs"]
mod echo_example;
#[path = "util/escapes.rs"]
mod escapes;
use escapes::unescape;

/// The first line of a golden that holds the RFC 9112 answer instead of Node's.
const OVERRIDE: &str = "# rfc9112:";
const DATE_PLACEHOLDER: &[u8] = b"<DATE>";
/// No case may take longer than this, whatever the server does.
const CASE_LIMIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Whole,
    Pieces,
    Bytes,
}

#[derive(Clone, Debug)]
struct Case {
    name: String,
    mode: Mode,
    pause: Option<u64>,
    wait: u64,
    data: Vec<Vec<u8>>,
}

impl Case {
    /// The writes to make and the pause between them.
    fn writes(&self) -> (Vec<Vec<u8>>, Duration) {
        match self.mode {
            Mode::Whole => (vec![self.data.concat()], Duration::ZERO),
            Mode::Pieces => (self.data.clone(), Duration::from_millis(self.pause.unwrap_or(50))),
            Mode::Bytes => (
                self.data.concat().into_iter().map(|b| vec![b]).collect(),
                Duration::from_millis(self.pause.unwrap_or(2)),
            ),
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/http")
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let here = || format!("cases.txt:{}", n + 1);
        if let Some(data) = line.strip_prefix("> ") {
            cases.last_mut().unwrap_or_else(|| panic!("{}: data before any case", here())).data.push(unescape(data));
            continue;
        }
        let (key, val) = line.split_once(' ').unwrap_or((line, ""));
        if key == "case" {
            cases.push(Case { name: val.to_owned(), mode: Mode::Whole, pause: None, wait: 300, data: Vec::new() });
            continue;
        }
        let case = cases.last_mut().unwrap_or_else(|| panic!("{}: directive before any case", here()));
        match key {
            "send" => {
                case.mode = match val {
                    "whole" => Mode::Whole,
                    "pieces" => Mode::Pieces,
                    "bytes" => Mode::Bytes,
                    _ => panic!("{}: bad send mode {val:?}", here()),
                }
            }
            "pause" => case.pause = Some(val.parse().unwrap_or_else(|_| panic!("{}: bad pause", here()))),
            "wait" => case.wait = val.parse().unwrap_or_else(|_| panic!("{}: bad wait", here())),
            _ => panic!("{}: unknown directive {key:?}", here()),
        }
    }
    cases
}

/// Every `\r\nDate: <value>` becomes `\r\nDate: <DATE>`.
fn normalize(resp: &[u8]) -> Vec<u8> {
    const KEY: &[u8] = b"\r\nDate: ";
    let mut out = Vec::with_capacity(resp.len());
    let mut i = 0;
    while i < resp.len() {
        if resp[i..].starts_with(KEY) {
            out.extend_from_slice(KEY);
            out.extend_from_slice(DATE_PLACEHOLDER);
            i += KEY.len();
            while i < resp.len() && resp[i] != b'\r' && resp[i] != b'\n' {
                i += 1;
            }
        } else {
            out.push(resp[i]);
            i += 1;
        }
    }
    out
}

/// The goldens' text form: printable ASCII as is, `\\ \r \t \xHH`, and `\n` followed by
/// a real line break.
fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 16);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

struct Golden {
    /// The RFC 9112 note, for an override.
    rfc: Option<String>,
    end: String,
    /// The escaped response, line breaks included.
    text: String,
}

fn read_golden(path: &Path) -> Result<Golden, String> {
    let raw = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rfc = None;
    let mut end = None;
    let mut body = String::new();
    let mut in_head = true;
    for (i, line) in raw.lines().enumerate() {
        if in_head && line.starts_with("# ") {
            if i == 0 && line.starts_with(OVERRIDE) {
                rfc = Some(line[OVERRIDE.len()..].trim().to_owned());
            }
            if let Some(e) = line.strip_prefix("# end: ") {
                end = Some(e.trim().to_owned());
            }
            continue;
        }
        in_head = false;
        body.push_str(line);
        body.push('\n');
    }
    let end = end.ok_or_else(|| format!("{}: no `# end:` line", path.display()))?;
    if end != "closed" && end != "open" {
        return Err(format!("{}: bad `# end: {end}`", path.display()));
    }
    Ok(Golden { rfc, end, text: body })
}

/// A server running `handler` on its own thread and loop (until the test process
/// exits); returns its address.
/// Runs the server `make` builds on its own thread and loop; its address.
fn start_server(name: &str, make: fn() -> Server) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let server = make();
            server
                .listen(0, "127.0.0.1", move |s| {
                    let _ = tx.send(s.address().expect("bound address"));
                })
                .expect("listen");
            Loop::current().run(RunMode::Default);
        })
        .expect("spawn the server thread");
    rx.recv_timeout(Duration::from_secs(5)).expect("the server did not start")
}

/// `tests/node/respond.js`'s handler: the request's query directs the answer. `s`: the
/// status; `w`: comma-separated `write`s; `e`: the chunk given to `end`; `wh`: call
/// `write_head` first; `h`: comma-separated `cl` (a correct Content-Length), `te`
/// (Transfer-Encoding: chunked), `close` / `ka` (a Connection header), `nodate`
/// (sendDate off), `trailer` (a trailer), `trh` (a Trailer header), `sc` (two
/// Set-Cookie values), `rconn` / `rcl` / `rte` / `rdate` (`remove_header` of Connection,
/// Content-Length, Transfer-Encoding, Date), `proc` (`write_processing`), `hints`
/// (`write_early_hints`: two links and `x-hint`), `flush` (`flush_headers`), these three
/// after `write_head` and before the writes; `cw` / `tw` (a Connection and a
/// Transfer-Encoding that Node's word regexes read as `close` and `chunked`), `sh`
/// (`set_headers` with `set-cookie`), `uq` / `uc` (X-U and Connection set to two values:
/// the server's `unique_headers`), `rcc` (Connection removed, then set to close); `m`:
/// the status message. The request body is never read.
fn respond(req: &IncomingMessage, res: &ServerResponse) {
    let query = req.url().split_once('?').map_or("", |(_, q)| q).to_owned();
    let param = |k: &str| query.split('&').find_map(|kv| kv.split_once('=').filter(|(n, _)| *n == k).map(|(_, v)| v));
    let list = |k: &str| param(k).map_or_else(Vec::new, |v| v.split(',').filter(|s| !s.is_empty()).collect());
    let status: u16 = param("s").and_then(|s| s.parse().ok()).unwrap_or(200);
    let (writes, end, h) = (list("w"), param("e").unwrap_or(""), list("h"));
    res.set_status_code(status);
    let total = writes.iter().map(|w| w.len()).sum::<usize>() + end.len();
    if h.contains(&"cl") {
        res.set_header("Content-Length", total).expect("Content-Length");
    }
    if h.contains(&"te") {
        res.set_header("Transfer-Encoding", "chunked").expect("Transfer-Encoding");
    }
    if h.contains(&"close") {
        res.set_header("Connection", "close").expect("Connection");
    }
    if h.contains(&"ka") {
        res.set_header("Connection", "keep-alive").expect("Connection");
    }
    if h.contains(&"nodate") {
        res.set_send_date(false);
    }
    if h.contains(&"trailer") {
        res.add_trailers(&[("X-T", "v")]).expect("trailers");
    }
    if h.contains(&"trh") {
        res.set_header("Trailer", "X-T").expect("Trailer");
    }
    if h.contains(&"sc") {
        res.set_header("Set-Cookie", vec!["a=1", "b=2"]).expect("Set-Cookie");
    }
    for (flag, name) in
        [("rconn", "Connection"), ("rcl", "Content-Length"), ("rte", "Transfer-Encoding"), ("rdate", "Date")]
    {
        if h.contains(&flag) {
            res.remove_header(name).expect("remove_header");
        }
    }
    if h.contains(&"cw") {
        res.set_header("Connection", "keep-alive;close").expect("Connection");
    }
    if h.contains(&"tw") {
        res.set_header("Transfer-Encoding", "gzip;chunked").expect("Transfer-Encoding");
    }
    if h.contains(&"sh") {
        let map: [(&str, Vec<&str>); 3] =
            [("X-A", vec!["1"]), ("set-cookie", vec!["s=1", "s=2"]), ("x-b", vec!["2", "3"])];
        res.set_headers(map).expect("set_headers");
    }
    if h.contains(&"uq") {
        res.set_header("X-U", vec!["1", "2"]).expect("X-U");
    }
    if h.contains(&"uc") {
        res.set_header("Connection", vec!["keep-alive", "close"]).expect("Connection");
    }
    if h.contains(&"rcc") {
        res.remove_header("Connection").expect("remove_header");
        res.set_header("Connection", "close").expect("Connection");
    }
    if let Some(m) = param("m") {
        res.set_status_message(m);
    }
    if param("wh").is_some() {
        res.write_head(status).expect("write_head");
    }
    if h.contains(&"proc") {
        res.write_processing();
    }
    if h.contains(&"hints") {
        res.write_early_hints(
            &["</s.css>; rel=preload; as=style", "</a.js>; rel=preload; as=\"script\""],
            &[("x-hint", "h")],
        )
        .expect("early hints");
    }
    if h.contains(&"flush") {
        res.flush_headers();
    }
    for w in writes {
        res.write(Bytes::copy_from_slice(w.as_bytes()));
    }
    if end.is_empty() {
        res.end();
    } else {
        res.end_with(Bytes::copy_from_slice(end.as_bytes()));
    }
}

/// `tests/node/upgrade.js`'s server: requests answered as the echo server answers them,
/// after `x-upgrade`; an `upgrade` request gets 101, a CONNECT 200, each with what the
/// listener saw, then the socket echoes what it receives (a url ending in `/end`: the
/// server ends the socket after the head's bytes instead).
fn upgrade_server() -> Server {
    fn tunnel(status: &str, req: &IncomingMessage, socket: &Socket, head: &Bytes) {
        socket.write(Bytes::from(format!(
            "HTTP/1.1 {status}\r\nx-method: {}\r\nx-url: {}\r\nx-upgrade: {}\r\nx-complete: {}\r\nx-head: {}\r\n\r\n",
            req.method(),
            req.url(),
            req.upgrade(),
            req.complete(),
            head.len()
        )));
        if req.url().ends_with("/end") {
            socket.end_with(head.clone());
            return;
        }
        if !head.is_empty() {
            socket.write(head.clone());
        }
        socket.on_data(|s, d| {
            s.write(d);
        });
        socket.on_end(|s| {
            s.end();
        });
    }
    let server = create_server(|req, res| {
        let _ = res.set_header("x-upgrade", req.upgrade().to_string().as_str());
        echo_example::echo(req, res);
    });
    server.on_upgrade(|req, socket, head| {
        let upgrade = req.headers().get_str("upgrade").unwrap_or_default().to_owned();
        tunnel(&format!("101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: {upgrade}"), req, socket, head)
    });
    server.on_connect(|req, socket, head| tunnel("200 Connection Established", req, socket, head));
    server
}

/// `upgrade` and `connect` listeners: `tests/http/upgrade_cases.txt` against
/// `tests/node/upgrade.js` and its twin here ([`upgrade_server`]).
#[test]
fn http_upgrade_conformance() {
    run_suite(
        "http_upgrade_conformance",
        "upgrade_cases.txt",
        "upgrade_golden",
        20,
        start_server("upgrade-server", upgrade_server),
    );
}

/// Sends a case the way `scripts/golden-http` does; returns the bytes received and
/// whether the server closed the connection ("closed") or left it open ("open").
fn run_case(addr: SocketAddr, case: &Case) -> Result<(Vec<u8>, &'static str), String> {
    let (writes, pause) = case.writes();
    let wait = Duration::from_millis(case.wait);
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let (mut out, mut buf) = (Vec::new(), vec![0u8; 65536]);
    let (mut idx, mut failed) = (0, false);
    let mut last = start;
    let mut next_write = start;
    loop {
        let now = Instant::now();
        if now - start > CASE_LIMIT {
            return Err(format!("no end after {CASE_LIMIT:?}; got so far:\n{}", escape(&normalize(&out))));
        }
        let sending = idx < writes.len() && !failed;
        if sending && now >= next_write {
            // Read what already arrived first: the server may have answered and closed.
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            let ready = !matches!(s.peek(&mut [0u8; 1]), Err(ref e) if e.kind() == ErrorKind::WouldBlock);
            s.set_nonblocking(false).map_err(|e| e.to_string())?;
            if !ready {
                failed = s.write_all(&writes[idx]).is_err();
                idx += 1;
                last = Instant::now();
                next_write = last + pause;
                continue;
            }
        }
        let deadline = if sending { next_write } else { last + wait };
        let timeout = deadline.saturating_duration_since(now).max(Duration::from_millis(1));
        s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        match s.read(&mut buf) {
            Ok(0) => return Ok((out, "closed")),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                last = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                if !sending && Instant::now() >= last + wait {
                    return Ok((out, "open"));
                }
            }
            // A reset: the server closed with input unread.
            Err(_) => return Ok((out, "closed")),
        }
    }
}

#[test]
fn http_conformance() {
    run_suite(
        "http_conformance",
        "cases.txt",
        "golden",
        40,
        start_server("echo-server", || create_server(echo_example::echo)),
    );
}

/// The response side on generated cases: `tests/http/respond_cases.txt` (written by
/// `scripts/gen-http-cases`) against `tests/node/respond.js`'s server and its twin here
/// ([`respond`]), which answer as each request's url directs.
#[test]
fn http_respond_conformance() {
    run_suite(
        "http_respond_conformance",
        "respond_cases.txt",
        "respond_golden",
        100,
        start_server("respond-server", || {
            let opts =
                ServerOptions { unique_headers: vec!["x-u".into(), "Connection".into()], ..ServerOptions::default() };
            Server::with_options(opts, respond)
        }),
    );
}

/// Replays every case of `cases_file` against the server at `addr` and compares with
/// the goldens in `golden_dir` (both under `tests/http/`).
fn run_suite(suite: &str, cases_file: &str, golden_dir: &str, at_least: usize, addr: SocketAddr) {
    let started = Instant::now();
    let text = std::fs::read_to_string(root().join(cases_file)).expect("tests/http/<cases file>");
    let cases = parse_cases(&text);
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "duplicate case names in {cases_file}");
    assert!(cases.len() >= at_least, "only {} cases", cases.len());

    let mut failures = Vec::new();
    // Every golden belongs to a case.
    let golden_dir = root().join(golden_dir);
    for entry in std::fs::read_dir(&golden_dir).expect("tests/http/<golden dir>") {
        let path = entry.expect("dir entry").path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if path.extension().is_some_and(|e| e == "txt") && !names.contains(stem.as_str()) {
            failures.push(format!("{}: a golden for no case in {cases_file} (remove it)", path.display()));
        }
    }

    // `CASES=a,b cargo test --test http_conformance` replays only those cases.
    let only: Option<Vec<String>> = std::env::var("CASES").ok().map(|v| v.split(',').map(str::to_owned).collect());
    let handles: Vec<_> = cases
        .iter()
        .filter(|c| only.as_ref().is_none_or(|o| o.contains(&c.name)))
        .cloned()
        .map(|case| {
            std::thread::Builder::new()
                .name(case.name.clone())
                .spawn(move || {
                    let r = run_case(addr, &case);
                    (case, r)
                })
                .expect("spawn a case thread")
        })
        .collect();

    let mut overrides = Vec::new();
    for h in handles {
        let (case, result) = h.join().expect("a case thread panicked");
        let path = golden_dir.join(format!("{}.txt", case.name));
        let golden = match read_golden(&path) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!(
                    "case {}: golden missing or unreadable ({e}); record it with scripts/golden-http {}",
                    case.name, case.name
                ));
                continue;
            }
        };
        if let Some(note) = &golden.rfc {
            overrides.push(format!("{} ({note})", case.name));
        }
        let (resp, end) = match result {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("case {}: {e}", case.name));
                continue;
            }
        };
        let ours = escape(&normalize(&resp));
        if ours != golden.text || end != golden.end {
            let source = match &golden.rfc {
                Some(note) => format!("RFC 9112 override, where Node is laxer: {note}"),
                None => "recorded from Node".to_owned(),
            };
            failures.push(format!(
                "case {} differs\n--- expected ({source}), end: {}\n{}--- millrace, end: {end}\n{}",
                case.name, golden.end, golden.text, ours
            ));
        }
    }
    eprintln!(
        "{suite}: {} cases in {:?}; {} RFC 9112 overrides where Node is laxer:\n  {}",
        cases.len(),
        started.elapsed(),
        overrides.len(),
        overrides.join("\n  ")
    );
    if !failures.is_empty() {
        panic!("{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
    }
}
