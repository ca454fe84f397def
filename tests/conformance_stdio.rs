//! `tests/conformance/stdio.js` replayed: `stdio::stdin()` and `stdio::stdout()` over a
//! regular file, a pipe (a Unix socket pair, as Node's child_process makes) and
//! `/dev/null`, against the golden Node printed.
//!
//! As on Node, each case is a child process whose descriptor 0 or 1 really is that
//! file, pipe or device: this binary runs itself again (it has no libtest harness,
//! whose own output would land in the child's stdout). The child logs to a trace file;
//! the parent prints the trace and what reached the other end, and compares the whole
//! with `tests/conformance/golden/stdio.txt`.

use std::cell::Cell;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace::reactor::{Loop, RunMode};
use millrace::streams::stdio::{self, Input, Output, Stdin, Stdout};
use millrace::streams::Error;

const CASES: [(&str, &str); 9] = [
    ("out", "file"),
    ("out", "pipe"),
    ("out", "null"),
    ("destroy", "file"),
    ("destroy", "pipe"),
    ("in", "file"),
    ("in", "pipe"),
    ("in", "null"),
    ("pause", "pipe"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Ok(trace) = std::env::var("MILLRACE_STDIO_TRACE") {
        child(&args[1], &args[2], PathBuf::from(trace));
        return ExitCode::SUCCESS;
    }
    // `cargo test NAME`: run only if NAME could mean this file.
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "conformance_stdio".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    let golden_path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "conformance", "golden", "stdio.txt"].iter().collect();
    let golden = std::fs::read_to_string(&golden_path).expect("the stdio golden");
    let mut lines = Vec::new();
    for (mode, kind) in CASES {
        run_case(mode, kind, &mut lines);
    }
    let expected: Vec<&str> = golden.lines().collect();
    if expected == lines {
        println!("conformance_stdio: {} cases, {} lines match Node's golden", CASES.len(), lines.len());
        return ExitCode::SUCCESS;
    }
    println!("trace of 'stdio' differs from Node's golden\n  node | millrace");
    for i in 0..expected.len().max(lines.len()) {
        let e = expected.get(i).copied().unwrap_or("<none>");
        let a = lines.get(i).map(String::as_str).unwrap_or("<none>");
        let mark = if e == a { "   " } else { ">>>" };
        println!("{mark} {e:<50} | {a}");
    }
    ExitCode::FAILURE
}

/// The parent's side of one case (`run` in stdio.js).
fn run_case(mode: &str, kind: &str, lines: &mut Vec<String>) {
    let base = std::env::temp_dir().join(format!("millrace-stdio-{}-{mode}-{kind}", std::process::id()));
    let trace = base.with_extension("trace");
    let file = base.with_extension("file");
    std::fs::write(&trace, "").unwrap();
    let out = mode == "out" || mode == "destroy";
    let mut ours: Option<UnixStream> = None;
    let fd: Stdio = match kind {
        "file" => {
            if !out {
                std::fs::write(&file, "hello\nworld\n").unwrap();
            }
            let f = if out { std::fs::File::create(&file) } else { std::fs::File::open(&file) };
            f.unwrap().into()
        }
        "pipe" => {
            let (a, b) = UnixStream::pair().unwrap();
            ours = Some(a);
            OwnedFd::from(b).into()
        }
        _ => Stdio::null(),
    };
    // What stdio.js's parent writes to the child's stdin, here before the child starts
    // (in one read either way).
    if let (false, Some(s)) = (out, ours.as_mut()) {
        s.write_all(b"hello\n").unwrap();
        if mode == "in" {
            s.write_all(b"world\n").unwrap();
            s.shutdown(std::net::Shutdown::Write).unwrap();
        }
    }
    let (stdin, stdout) = if out { (Stdio::null(), fd) } else { (fd, Stdio::null()) };
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args([mode, kind])
        .env("MILLRACE_STDIO_TRACE", &trace)
        .stdin(stdin)
        .stdout(stdout)
        .spawn()
        .expect("run this test again as the child");
    let mut got = Vec::new();
    if let (true, Some(s)) = (out, ours.as_mut()) {
        s.read_to_end(&mut got).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut hung = false;
    let code = loop {
        if let Some(status) = c.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            hung = true;
            c.kill().unwrap();
            break c.wait().unwrap().code();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(ours);
    if hung {
        lines.push("hung".into());
    }
    lines.push(format!("== {mode} {kind}, exit code {}", code.map_or("null".into(), |c| c.to_string())));
    lines.extend(std::fs::read_to_string(&trace).unwrap().lines().map(str::to_owned));
    if out && kind == "file" {
        got = std::fs::read(&file).unwrap();
    }
    if out {
        let text = String::from_utf8_lossy(&got).into_owned();
        lines.push(format!("received {} {}", got.len(), json(&squeeze_xs(&text))));
    }
    let _ = std::fs::remove_file(&trace);
    let _ = std::fs::remove_file(&file);
}

/// stdio.js's `replace(/x{10,}/, x => 'x*' + x.length)`.
fn squeeze_xs(s: &str) -> String {
    let Some(start) = s.find("xxxxxxxxxx") else { return s.to_owned() };
    let run = s[start..].bytes().take_while(|&b| b == b'x').count();
    format!("{}x*{run}{}", &s[..start], &s[start + run..])
}

/// `JSON.stringify` of a string.
fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Clone)]
struct Log(Rc<PathBuf>);

impl Log {
    fn log(&self, line: impl AsRef<str>) {
        let mut f = std::fs::OpenOptions::new().append(true).open(&*self.0).unwrap();
        writeln!(f, "{}", line.as_ref()).unwrap();
    }
}

/// JavaScript's `String(bool)`.
struct Bool(bool);

impl std::fmt::Display for Bool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0 { "true" } else { "false" })
    }
}

fn js(v: bool) -> Bool {
    Bool(v)
}

/// `String(x)` inside `parts.join(' ')`: null and undefined print as nothing.
fn js_join_opt(v: Option<bool>) -> String {
    v.map_or(String::new(), |v| js(v).to_string())
}

fn err_name(e: Option<&Error>) -> String {
    match e {
        None => "null".into(),
        Some(e) => e.code().map_or_else(|| e.message(), str::to_owned),
    }
}

/// The child: the scenario of stdio.js's `child(mode, kind)`.
fn child(mode: &str, _kind: &str, trace: PathBuf) {
    let lp = Loop::current();
    let t = Log(Rc::new(trace));
    if mode == "out" || mode == "destroy" {
        child_out(mode, &t);
    } else {
        child_in(mode, &t, &lp);
    }
    lp.run_next_ticks();
    lp.run(RunMode::Default);
    t.log("exit");
}

fn constructor_name(out: &Stdout) -> &'static str {
    match out.stream() {
        Output::Tty(_) => "WriteStream",
        Output::File(_) => "SyncWriteStream",
        Output::Pipe(_) => "Socket",
        Output::Null(_) => "Writable",
    }
}

fn child_out(mode: &str, t: &Log) {
    let out = stdio::stdout().expect("stdout");
    let again = stdio::stdout().expect("stdout again");
    let readable = match out.stream() {
        Output::Pipe(s) => s.readable(),
        Output::Tty(s) => s.readable(),
        Output::File(_) | Output::Null(_) => false, // no readable side at all
    };
    t.log(format!(
        "stdout {} {} {} {} {} {} {} {}",
        constructor_name(&out),
        out.type_name().unwrap_or(""),
        out.fd(),
        js(out.is_tty()),
        js(Stdout::ptr_eq(&out, &again)),
        out.writable_high_water_mark(),
        js(readable),
        js(out.writable())
    ));
    let (o, tt) = (out.clone(), t.clone());
    out.on_drain(move || tt.log(format!("drain {}", o.writable_length())));
    let tt = t.clone();
    out.on_finish(move || tt.log("finish"));
    let tt = t.clone();
    out.on_error(move |e| tt.log(format!("error {}", err_name(Some(e)))));
    let closes = Rc::new(Cell::new(0));
    if mode == "out" {
        let (o, tt) = (out.clone(), t.clone());
        out.on_close(move || {
            tt.log(format!(
                "close {} {} {} {}",
                js(o.destroyed()),
                js(o.writable()),
                js(o.writable_ended()),
                js(o.writable_finished())
            ));
            closes.set(closes.get() + 1);
            if closes.get() == 1 {
                let t2 = tt.clone();
                let r = o.write_cb(Bytes::from_static(b"again\n"), move |e| {
                    t2.log(format!("again cb {}", err_name(e.as_ref())))
                });
                tt.log(format!("write again {}", js(r)));
            }
        });
        let tt = t.clone();
        let r = out.write_cb(Bytes::from_static(b"a\n"), move |e| tt.log(format!("cb a {}", err_name(e.as_ref()))));
        t.log(format!("write a {}", js(r)));
        let tt = t.clone();
        let big = Bytes::from(format!("{}\n", "x".repeat(20000)));
        let r = out.write_cb(big, move |e| tt.log(format!("cb big {}", err_name(e.as_ref()))));
        t.log(format!("write big {}", js(r)));
        t.log(format!("state {} {}", out.writable_length(), js(out.writable_need_drain())));
        let tt = t.clone();
        Loop::current().next_tick(move || tt.log("tick"));
        let tt = t.clone();
        out.end_cb(Some(Bytes::from_static(b"z\n")), move |e| tt.log(format!("end cb {}", err_name(e.as_ref()))));
        t.log(format!("ended {} {} {}", js(out.writable_ended()), js(out.writable_finished()), js(out.destroyed())));
    } else {
        let (o, tt) = (out.clone(), t.clone());
        out.on_close(move || {
            tt.log(format!(
                "close {} {} {}",
                js(o.destroyed()),
                js(o.writable()),
                if o.errored().is_some() { "errored" } else { "ok" }
            ));
            closes.set(closes.get() + 1);
            if closes.get() == 1 {
                let t2 = tt.clone();
                let r = o.write_cb(Bytes::from_static(b"after destroy\n"), move |e| {
                    t2.log(format!("cb {}", err_name(e.as_ref())))
                });
                tt.log(format!("write {}", js(r)));
                o.destroy(Some(Error::msg("boom")));
                tt.log(format!("destroyed {} {}", js(o.destroyed()), err_name(o.errored().as_ref())));
            }
        });
        out.destroy(None);
        t.log(format!("destroyed {} {} {}", js(out.destroyed()), js(out.writable()), js(out.closed())));
    }
}

fn child_in(mode: &str, t: &Log, lp: &Loop) {
    let i = stdio::stdin().expect("stdin");
    let again = stdio::stdin().expect("stdin again");
    let (name, writable) = match i.stream() {
        Input::Tty(s) => ("ReadStream", js(s.writable()).to_string()),
        Input::File(_) => ("ReadStream", String::new()), // fs.ReadStream has no `writable`
        Input::Pipe(s) => ("Socket", js(s.writable()).to_string()),
        Input::Null(_) => ("Readable", String::new()),
    };
    t.log(format!(
        "stdin {name} {} {} {} {} {} {} {writable} {}",
        i.fd(),
        js(i.is_tty()),
        js(Stdin::ptr_eq(&i, &again)),
        i.readable_high_water_mark(),
        js_join_opt(i.readable_flowing()),
        js(i.readable()),
        js(i.readable_ended())
    ));
    if let Input::File(f) = i.stream() {
        let tt = t.clone();
        f.on_open(move |_| tt.log("open"));
        let tt = t.clone();
        f.on_ready(move |_| tt.log("ready"));
    }
    let tt = t.clone();
    i.on_end(move || tt.log("end"));
    let tt = t.clone();
    i.on_pause(move || tt.log("pause"));
    let tt = t.clone();
    i.on_resume(move || tt.log("resume"));
    if let Input::Pipe(s) = i.stream() {
        let tt = t.clone();
        s.on_finish(move |_| tt.log("finish"));
    }
    let (me, tt) = (i.clone(), t.clone());
    i.on_close(move || tt.log(format!("close {}", js(me.destroyed()))));
    let tt = t.clone();
    i.on_error(move |e| tt.log(format!("error {}", err_name(Some(e)))));
    let (me, tt, lp2, pause) = (i.clone(), t.clone(), lp.clone(), mode == "pause");
    i.on_data(move |d| {
        tt.log(format!("data {}", json(&String::from_utf8_lossy(&d))));
        if pause {
            let (me, tt) = (me.clone(), tt.clone());
            lp2.set_immediate(move || {
                me.pause();
                tt.log(format!("paused {} {}", js(me.is_paused()), js_join_opt(me.readable_flowing())));
            });
        }
    });
    if let Input::Pipe(s) = i.stream() {
        let tt = t.clone();
        s.end_cb(None, move |e| tt.log(format!("end cb {}", err_name(e.as_ref()))));
    }
    t.log(format!("flowing {}", js_join_opt(i.readable_flowing())));
}
