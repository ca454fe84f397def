//! `child_process`: the golden `tests/conformance/child_process.js` replayed (each
//! emitter's events collected apart, as the script does, and printed per scenario),
//! and what the golden cannot show: pipes that carry a lot both ways, `unref`, a
//! `kill` refused, an empty program name, the error that is returned rather than
//! emitted, nothing left behind once the children are gone, and an IPC channel fed raw
//! lines by a child that is not Node (`tests/conformance_ipc.rs` has the IPC golden).

mod util;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::rc::Rc;

use bytes::Bytes;
use millrace::reactor::{Handle, Loop};
use millrace::streams::child_process::{spawn, ChildProcess, SpawnOptions, Stdio};
use millrace::streams::net::Socket;
use millrace::streams::Code;
use util::{check_golden, js_bool, run_bounded, text, watchdog, Trace};

const WHO: [&str; 5] = ["child", "stdin", "stdout", "stderr", "fd3"];

/// Each emitter's lines, apart, and how many of the child's sockets are still open.
#[derive(Default)]
struct Rec([RefCell<Vec<String>>; 5], std::cell::Cell<usize>);

impl Rec {
    fn rec(&self, who: usize, line: impl Into<String>) {
        self.0[who].borrow_mut().push(line.into());
    }
}

/// JavaScript's `parts.join(' ')` of a value that may be `null` (printed empty).
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

type Extra = Box<dyn FnOnce(&Trace)>;
type Done = Rc<dyn Fn(Option<Extra>)>;
type Scenario = Box<dyn FnOnce(&Rc<Rec>, Done)>;

struct Runner {
    lp: Loop,
    trace: Trace,
    queue: RefCell<VecDeque<(String, Scenario)>>,
}

fn next(r: &Rc<Runner>) {
    let s = r.queue.borrow_mut().pop_front();
    let Some((name, f)) = s else { return };
    let rec = Rc::new(Rec::default());
    let (r2, rec2) = (r.clone(), rec.clone());
    let done: Done = Rc::new(move |extra: Option<Extra>| {
        wait_then_print(r2.clone(), rec2.clone(), name.clone(), extra);
    });
    f(&rec, done);
}

/// The script's `done`: on an immediate once every socket closed, print the scenario.
fn wait_then_print(r: Rc<Runner>, rec: Rc<Rec>, name: String, extra: Option<Extra>) {
    let lp = r.lp.clone();
    lp.set_immediate(move || {
        if rec.1.get() > 0 {
            return wait_then_print(r, rec, name, extra);
        }
        r.trace.log(format!("-- {name}"));
        for (who, lines) in WHO.iter().zip(&rec.0) {
            for l in lines.borrow().iter() {
                r.trace.log(format!("{who} {l}"));
            }
        }
        if let Some(extra) = extra {
            extra(&r.trace);
        }
        next(&r);
    });
}

/// `watch` in the script: logs every event of the child and of its sockets.
fn watch(rec: &Rc<Rec>, child: &ChildProcess, read: bool) {
    let stdio: Vec<Option<Socket>> = (0..child_stdio_len(child)).map(|i| child.stdio(i)).collect();
    let kinds: Vec<&str> = stdio.iter().map(|s| if s.is_some() { "socket" } else { "null" }).collect();
    rec.rec(0, format!("pid {} stdio {}", if child.pid().is_some() { "number" } else { "undefined" }, kinds.join(",")));
    for (i, s) in stdio.iter().enumerate() {
        let Some(s) = s else { continue };
        let who = i + 1;
        rec.rec(who, format!("readable {} writable {}", js_bool(s.readable()), js_bool(s.writable())));
        rec.1.set(rec.1.get() + 1);
        if read && i > 0 {
            let r = rec.clone();
            s.on_data(move |_, d| r.rec(who, format!("data {:?}", text(&d))));
        }
        let r = rec.clone();
        s.on_end(move |_| r.rec(who, "end"));
        let r = rec.clone();
        s.on_finish(move |_| r.rec(who, "finish"));
        let r = rec.clone();
        s.on_close(move |s| {
            r.rec(who, format!("close {}", js_bool(s.had_error())));
            r.1.set(r.1.get() - 1);
        });
        let r = rec.clone();
        s.on_error(move |_, e| r.rec(who, format!("error {}", e.code().unwrap_or(""))));
    }
    let r = rec.clone();
    child.on_spawn(move |_| r.rec(0, "spawn"));
    let r = rec.clone();
    child.on_exit(move |c, code, signal| {
        r.rec(0, format!("exit {} {} killed {}", opt(code), opt(signal), js_bool(c.killed())))
    });
    let r = rec.clone();
    child.on_error(move |c, e| {
        let args: Vec<String> = e.spawnargs().unwrap_or(&[]).iter().map(|a| format!("{a:?}")).collect();
        r.rec(
            0,
            format!(
                "error {} -{} {} {} [{}]",
                e.code().unwrap_or(""),
                e.sys_error().map_or(0, |e| e.errno()),
                e.syscall().unwrap_or(""),
                e.path().map_or_else(String::new, |p| p.display().to_string()),
                args.join(",")
            ),
        );
        r.rec(0, format!("message {} exitCode {}", e.message(), opt(c.exit_code())));
    });
}

fn child_stdio_len(child: &ChildProcess) -> usize {
    (0..8).rev().find(|&i| child.stdio(i).is_some()).map_or(3, |i| (i + 1).max(3))
}

/// The script's plain `close` listener: `close CODE SIGNAL`, then the scenario ends.
fn close_then_done(rec: &Rc<Rec>, child: &ChildProcess, done: Done) {
    let r = rec.clone();
    child.on_close(move |_, code, signal| {
        r.rec(0, format!("close {} {}", opt(code), opt(signal)));
        done(None);
    });
}

/// The same, with the child's `exitCode` and `signalCode` at that moment.
fn close_with_codes_then_done(rec: &Rc<Rec>, child: &ChildProcess, done: Done) {
    let r = rec.clone();
    child.on_close(move |c, code, signal| {
        let (exit, sig) = (opt(c.exit_code()), opt(c.signal_code()));
        r.rec(0, format!("close {} {} exitCode {exit} signalCode {sig}", opt(code), opt(signal)));
        done(None);
    });
}

fn sh(script: &str) -> Vec<String> {
    vec!["-c".to_owned(), script.to_owned()]
}

fn ignore() -> SpawnOptions {
    SpawnOptions { stdio: vec![Stdio::Ignore; 3], ..SpawnOptions::default() }
}

#[test]
fn golden() {
    check_golden("child_process", |trace, lp| {
        let _dog = watchdog(lp, 20_000);
        let mut q: VecDeque<(String, Scenario)> = VecDeque::new();
        let mut add = |name: &str, f: Scenario| q.push_back((name.to_owned(), f));
        add(
            "exit code",
            Box::new(|rec, done| {
                let child = spawn("sh", sh("exit 3"), ignore()).unwrap();
                watch(rec, &child, true);
                close_with_codes_then_done(rec, &child, done);
            }),
        );
        add(
            "stdout and stderr",
            Box::new(|rec, done| {
                let child = spawn("sh", sh("printf hello; printf oops >&2"), SpawnOptions::default()).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "stdin to cat",
            Box::new(|rec, done| {
                let child = spawn("cat", Vec::<String>::new(), SpawnOptions::default()).unwrap();
                watch(rec, &child, true);
                let stdin = child.stdin().unwrap();
                let r = rec.clone();
                stdin.write_cb(Bytes::from_static(b"abc"), move |err| {
                    r.rec(1, format!("write cb {}", err.map_or("ok".to_owned(), |e| e.code().unwrap_or("").to_owned())))
                });
                stdin.end();
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "kill",
            Box::new(|rec, done| {
                let child = spawn("sleep", ["5"], ignore()).unwrap();
                watch(rec, &child, true);
                match child.kill(9999) {
                    Ok(_) => rec.rec(0, "kill 9999 no throw"),
                    Err(e) => {
                        assert!(e.is(Code::ERR_UNKNOWN_SIGNAL));
                        rec.rec(0, format!("kill 9999 throws {} {}", e.code().unwrap(), e.message()))
                    }
                }
                let r = rec.clone();
                child.on_spawn(move |c| {
                    let sent = c.kill(libc::SIGTERM).unwrap();
                    r.rec(0, format!("kill {} killed {}", js_bool(sent), js_bool(c.killed())))
                });
                let r = rec.clone();
                child.on_exit(move |c, _, _| {
                    r.rec(0, format!("kill after exit {}", js_bool(c.kill(libc::SIGTERM).unwrap())))
                });
                close_with_codes_then_done(rec, &child, done);
            }),
        );
        add(
            "no such program",
            Box::new(|rec, done| {
                let child = spawn("millrace-no-such-program", ["a", "b"], SpawnOptions::default()).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "cwd and env",
            Box::new(|rec, done| {
                let env = vec![
                    (OsString::from("FOO"), OsString::from("bar")),
                    (OsString::from("PATH"), std::env::var_os("PATH").unwrap_or_default()),
                ];
                let opts = SpawnOptions {
                    cwd: Some("/".into()),
                    env: Some(env),
                    stdio: vec![Stdio::Ignore, Stdio::Pipe, Stdio::Ignore],
                    ..SpawnOptions::default()
                };
                let child = spawn("sh", sh("printf \"%s %s\" \"$PWD\" \"$FOO\""), opts).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "missing cwd",
            Box::new(|rec, done| {
                let opts = SpawnOptions { cwd: Some("/millrace-no-such-dir".into()), ..ignore() };
                let child = spawn("sh", sh("exit 0"), opts).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "killed by its own signal",
            Box::new(|rec, done| {
                let child = spawn("sh", sh("kill -KILL $$"), ignore()).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "timeout",
            Box::new(|rec, done| {
                let child = spawn("sleep", ["5"], SpawnOptions { timeout: 50, ..ignore() }).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "fourth descriptor",
            Box::new(|rec, done| {
                let opts =
                    SpawnOptions { stdio: vec![Stdio::Ignore, Stdio::Ignore, Stdio::Ignore, Stdio::Pipe], ..ignore() };
                let child = spawn("sh", sh("printf fd3 >&3"), opts).unwrap();
                watch(rec, &child, true);
                close_then_done(rec, &child, done);
            }),
        );
        add(
            "stdout to a file",
            Box::new(|rec, done| {
                let path = std::env::temp_dir().join(format!("millrace-child-process-{}.txt", std::process::id()));
                let file = std::fs::File::create(&path).unwrap();
                let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
                let opts = SpawnOptions { stdio: vec![Stdio::Ignore, Stdio::Fd(fd), Stdio::Inherit], ..ignore() };
                let child = spawn("sh", sh("printf \"to a file\""), opts).unwrap();
                watch(rec, &child, true);
                let r = rec.clone();
                let file = RefCell::new(Some(file));
                child.on_close(move |_, code, signal| {
                    r.rec(0, format!("close {} {}", opt(code), opt(signal)));
                    drop(file.borrow_mut().take());
                    let path = path.clone();
                    done(Some(Box::new(move |t: &Trace| {
                        t.log(format!("file {:?}", std::fs::read_to_string(&path).unwrap()));
                        std::fs::remove_file(&path).unwrap();
                    })));
                });
            }),
        );
        add(
            "shell",
            Box::new(|rec, done| {
                let opts = SpawnOptions {
                    shell: Some("/bin/sh".into()),
                    stdio: vec![Stdio::Ignore, Stdio::Pipe, Stdio::Ignore],
                    ..SpawnOptions::default()
                };
                let child = spawn("printf", ["%s", "$((6*7))"], opts).unwrap();
                watch(rec, &child, true);
                let args: Vec<String> = child.spawnargs().iter().map(|a| format!("{a:?}")).collect();
                rec.rec(0, format!("spawnfile {} spawnargs [{}]", child.spawnfile(), args.join(",")));
                close_then_done(rec, &child, done);
            }),
        );
        for detached in [false, true] {
            add(
                &format!("detached {detached}"),
                Box::new(move |rec, done| {
                    let opts = SpawnOptions {
                        detached,
                        stdio: vec![Stdio::Ignore, Stdio::Pipe, Stdio::Ignore],
                        ..SpawnOptions::default()
                    };
                    let child = spawn("sh", sh("cut -d\" \" -f6 /proc/$$/stat"), opts).unwrap();
                    watch(rec, &child, false);
                    let out = Rc::new(RefCell::new(String::new()));
                    let o = out.clone();
                    child.stdout().unwrap().on_data(move |_, d| o.borrow_mut().push_str(&text(&d)));
                    let r = rec.clone();
                    child.on_close(move |c, code, signal| {
                        let leader = out.borrow().trim().parse::<i32>().ok() == c.pid();
                        r.rec(0, format!("close {} {} session leader {}", opt(code), opt(signal), js_bool(leader)));
                        done(None);
                    });
                }),
            );
        }
        add(
            "output nobody reads",
            Box::new(|rec, done| {
                let child = spawn("sh", sh("printf unread; printf unread >&2"), SpawnOptions::default()).unwrap();
                watch(rec, &child, false);
                close_then_done(rec, &child, done);
            }),
        );
        let runner = Rc::new(Runner { lp: lp.clone(), trace: trace.clone(), queue: RefCell::new(q) });
        next(&runner);
    });
}

// 4 MiB through `cat` and back: the parent's writes wait for `drain`, the child's output
// is read as it comes, and every byte arrives in order.
#[test]
fn a_lot_through_cat_both_ways() {
    let got = Rc::new(RefCell::new(Vec::new()));
    let status = Rc::new(RefCell::new(None));
    let (g, st) = (got.clone(), status.clone());
    let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let sent = Bytes::from(data.clone());
    run_bounded(move |_| {
        let child = spawn("cat", Vec::<String>::new(), SpawnOptions::default()).unwrap();
        let g = g.clone();
        child.stdout().unwrap().on_data(move |_, d| g.borrow_mut().extend_from_slice(&d));
        child.on_close(move |_, code, signal| *st.borrow_mut() = Some((code, signal)));
        let stdin = child.stdin().unwrap();
        let mut false_seen = 0;
        for chunk in sent.chunks(64 * 1024) {
            if !stdin.write(sent.slice_ref(chunk)) {
                false_seen += 1;
            }
        }
        assert!(false_seen > 0, "4 MiB in one go must pass the high-water mark");
        stdin.end();
    });
    assert_eq!(*status.borrow(), Some((Some(0), None)));
    assert!(got.borrow().as_slice() == data.as_slice(), "cat returned {} bytes", got.borrow().len());
}

// The children are reaped (no zombie is left in /proc) and every handle is closed once
// the loop ends; a signal sent from outside is reported by name.
#[test]
fn children_are_reaped_and_nothing_is_left_open() {
    let pids = Rc::new(RefCell::new(Vec::new()));
    let signals = Rc::new(RefCell::new(Vec::new()));
    let (p, s) = (pids.clone(), signals.clone());
    let lp = Loop::new().unwrap();
    let dog = watchdog(&lp, 10_000);
    lp.enter(|| {
        // `sleep` itself, not `sh -c "sleep 5"`: a shell killed before it execs would leave
        // its `sleep` holding the pipes for 5 s.
        for (file, args) in [("sh", sh("exit 255")), ("sh", sh("printf x")), ("sleep", vec!["5".to_owned()])] {
            let child = spawn(file, args, SpawnOptions::default()).unwrap();
            let pid = child.pid().unwrap();
            p.borrow_mut().push(pid);
            assert!(child.kill(0).unwrap(), "kill(0) finds a running child");
            if file == "sleep" {
                millrace::reactor::kill(pid, libc::SIGKILL).unwrap();
            }
            let s = s.clone();
            child.on_close(move |_, code, signal| s.borrow_mut().push((code, signal)));
        }
    });
    lp.run(millrace::reactor::RunMode::Default);
    dog.close(|_| {});
    lp.run(millrace::reactor::RunMode::Default);
    assert_eq!(lp.handle_count(), 0, "every pipe and process handle is closed");
    let mut sigs = signals.borrow().clone();
    sigs.sort();
    assert_eq!(sigs, vec![(None, Some("SIGKILL")), (Some(0), None), (Some(255), None)]);
    for pid in pids.borrow().iter() {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "child {pid} was not reaped");
    }
}

// An unreferenced child does not keep the loop alive; `ref_` makes it count again.
#[test]
fn unref_lets_the_loop_end_before_the_child() {
    let lp = Loop::new().unwrap();
    let child = lp.enter(|| {
        let child = spawn("sleep", ["5"], ignore()).unwrap();
        child.unref();
        child
    });
    let started = std::time::Instant::now();
    lp.run(millrace::reactor::RunMode::Default);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the loop waited for an unref'd child");
    assert_eq!(child.exit_code(), None);
    let exited = Rc::new(RefCell::new(None));
    let e = exited.clone();
    child.on_exit(move |_, code, signal| *e.borrow_mut() = Some((code, signal)));
    child.ref_();
    let _dog = watchdog(&lp, 10_000);
    assert!(child.kill(libc::SIGTERM).unwrap());
    lp.run(millrace::reactor::RunMode::Default);
    assert_eq!(*exited.borrow(), Some((None, Some("SIGTERM"))));
}

// What Node throws is returned: an empty program name, and a descriptor that is not
// open (EBADF, not one of the errors Node emits instead).
#[test]
fn errors_that_node_throws_are_returned() {
    run_bounded(|lp| {
        let e = spawn("", Vec::<String>::new(), SpawnOptions::default()).unwrap_err();
        assert!(e.is(Code::ERR_INVALID_ARG_VALUE));
        assert_eq!(e.message(), "The argument 'file' cannot be empty. Received ''");
        let before = lp.handle_count();
        let opts = SpawnOptions { stdio: vec![Stdio::Pipe, Stdio::Fd(9999), Stdio::Pipe], ..SpawnOptions::default() };
        let e = spawn("true", Vec::<String>::new(), opts).unwrap_err();
        assert_eq!(e.code(), Some("EBADF"));
        assert_eq!(e.syscall(), Some("spawn"));
        assert_eq!(e.message(), "spawn EBADF");
        lp.run(millrace::reactor::RunMode::Default);
        assert_eq!(lp.handle_count(), before, "the pipes made for the child are closed");
    });
}

#[test]
fn golden_exec() {
    use millrace::streams::child_process::{exec, exec_file, ExecError, ExecOptions};
    type Start = Box<dyn FnOnce(Rc<dyn Fn()>)>;
    check_golden("child_process_exec", |trace, lp| {
        let _dog = watchdog(lp, 10_000);
        let show = |name: &'static str, t: &Trace, next: Rc<dyn Fn()>| {
            let t = t.clone();
            move |err: Option<ExecError>, stdout: Bytes, stderr: Bytes| {
                t.log(format!("-- {name}"));
                match &err {
                    None => t.log("err "),
                    Some(e) => {
                        t.log(format!("err message {:?}", e.message()));
                        let (code, killed, signal) = match e {
                            ExecError::Failed { code, killed, signal, .. } => {
                                (opt(*code), js_bool(*killed).to_owned(), opt(*signal))
                            }
                            ExecError::Other { error, .. } => (opt(error.code()), String::new(), String::new()),
                        };
                        t.log(format!("err code {code} killed {killed} signal {signal} cmd {:?}", e.cmd()));
                    }
                }
                t.log(format!("stdout {:?} stderr {:?}", text(&stdout), text(&stderr)));
                next();
            }
        };
        let t = trace.clone();
        let scenarios: Vec<Start> = vec![
            Box::new(move |n| {
                let f = show("both outputs", &t, n);
                exec_file("sh", sh("printf out; printf err >&2"), ExecOptions::default(), f).unwrap();
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    let f = show("exit code", &t, n);
                    let script = sh("printf partial; printf why >&2; exit 2");
                    exec_file("sh", script, ExecOptions::default(), f).unwrap();
                }
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    exec("printf \"%s\" \"$((2+3))\"", ExecOptions::default(), show("exec", &t, n)).unwrap();
                }
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    exec("exit 7", ExecOptions::default(), show("exec exit code", &t, n)).unwrap();
                }
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    let f = show("no such program", &t, n);
                    exec_file("millrace-no-such-program", ["x", "y"], ExecOptions::default(), f).unwrap();
                }
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    let opts = ExecOptions { max_buffer: 4, ..ExecOptions::default() };
                    exec_file("sh", sh("printf 0123456789"), opts, show("maxBuffer", &t, n)).unwrap();
                }
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    let opts = ExecOptions { timeout: 50, ..ExecOptions::default() };
                    exec_file("sleep", ["5"], opts, show("timeout", &t, n)).unwrap();
                }
            }),
            Box::new({
                let t = trace.clone();
                move |n| {
                    let opts = ExecOptions { timeout: 50, kill_signal: libc::SIGKILL, ..ExecOptions::default() };
                    exec_file("sleep", ["5"], opts, show("timeout SIGKILL", &t, n)).unwrap();
                }
            }),
        ];
        let queue = Rc::new(RefCell::new(VecDeque::from(scenarios)));
        fn next(queue: &Rc<RefCell<VecDeque<Start>>>) {
            let s = queue.borrow_mut().pop_front();
            if let Some(s) = s {
                let q = queue.clone();
                s(Rc::new(move || next(&q)));
            }
        }
        next(&queue);
    });
}

#[test]
fn golden_sync() {
    use millrace::streams::child_process::{
        exec_file_sync, exec_sync, spawn_sync, ExecSyncError, SpawnSyncOptions, SpawnSyncResult,
    };
    fn s(b: Option<&Bytes>) -> String {
        b.map_or("null".to_owned(), |b| format!("{:?}", text(b)))
    }
    fn result(t: &Trace, name: &str, r: SpawnSyncResult) {
        t.log(format!("-- {name}"));
        let pid = if r.pid > 0 { "positive".to_owned() } else { r.pid.to_string() };
        t.log(format!("pid {pid} status {} signal {}", opt(r.status), opt(r.signal)));
        let output = match &r.output {
            None => "null".to_owned(),
            Some(o) => o.iter().map(|b| s(b.as_ref())).collect::<Vec<_>>().join(","),
        };
        t.log(format!("output {output}"));
        t.log(format!("stdout {} stderr {}", s(r.stdout()), s(r.stderr())));
        match &r.error {
            None => t.log("error "),
            Some(e) => {
                let args: Vec<String> = e.spawnargs().unwrap_or(&[]).iter().map(|a| format!("{a:?}")).collect();
                t.log(format!(
                    "error {} -{} {} {} [{}] {:?}",
                    e.code().unwrap_or(""),
                    e.sys_error().map_or(0, |e| e.errno()),
                    e.syscall().unwrap_or(""),
                    e.path().map_or_else(String::new, |p| p.display().to_string()),
                    args.join(","),
                    e.message()
                ));
            }
        }
    }
    fn thrown(t: &Trace, name: &str, r: Result<Option<Bytes>, ExecSyncError>) {
        t.log(format!("-- {name}"));
        match r {
            Ok(out) => t.log(format!("returns {}", s(out.as_ref()))),
            Err(ExecSyncError { error, result: r }) => {
                t.log(format!("throws {:?}", error.message()));
                t.log(format!(
                    "code {} status {} signal {} stdout {} stderr {}",
                    error.code().unwrap_or(""),
                    opt(r.status),
                    opt(r.signal),
                    s(r.stdout()),
                    s(r.stderr())
                ));
            }
        }
    }
    let with = |spawn: SpawnOptions| SpawnSyncOptions { spawn, ..SpawnSyncOptions::default() };
    let pipes = || with(SpawnOptions { stdio: vec![Stdio::Pipe; 3], ..SpawnOptions::default() });
    let none = Vec::<String>::new;
    check_golden("child_process_sync", |t, _| {
        let d = SpawnSyncOptions::default;
        result(t, "exit code", spawn_sync("sh", sh("printf out; printf err >&2; exit 3"), d()).unwrap());
        let input = SpawnSyncOptions { input: Some(Bytes::from_static(b"fed to stdin")), ..d() };
        result(t, "input", spawn_sync("cat", none(), input).unwrap());
        result(t, "no input", spawn_sync("cat", none(), d()).unwrap());
        result(t, "ignored stdio", spawn_sync("sh", sh("printf x"), with(ignore())).unwrap());
        result(t, "no such program", spawn_sync("millrace-no-such-program", ["a"], d()).unwrap());
        let timeout = |kill_signal| with(SpawnOptions { timeout: 50, kill_signal, ..SpawnOptions::default() });
        result(t, "timeout", spawn_sync("sleep", ["5"], timeout(libc::SIGTERM)).unwrap());
        result(t, "timeout SIGKILL", spawn_sync("sleep", ["5"], timeout(libc::SIGKILL)).unwrap());
        let small = SpawnSyncOptions { max_buffer: 4, ..d() };
        result(t, "maxBuffer", spawn_sync("sh", sh("printf 0123456789; exec sleep 5"), small).unwrap());
        result(t, "own signal", spawn_sync("sh", sh("kill -KILL $$"), d()).unwrap());
        let env = vec![
            (OsString::from("FOO"), OsString::from("bar")),
            (OsString::from("PATH"), std::env::var_os("PATH").unwrap_or_default()),
        ];
        let cwd_env = with(SpawnOptions { cwd: Some("/".into()), env: Some(env), ..SpawnOptions::default() });
        result(t, "cwd and env", spawn_sync("sh", sh("printf \"%s %s\" \"$PWD\" \"$FOO\""), cwd_env).unwrap());
        thrown(t, "execFileSync", exec_file_sync("sh", sh("printf ok"), pipes()));
        let failing = sh("printf partial; printf why >&2; exit 4");
        thrown(t, "execFileSync fails", exec_file_sync("sh", failing, pipes()));
        thrown(t, "execFileSync no such program", exec_file_sync("millrace-no-such-program", none(), pipes()));
        thrown(t, "execSync", exec_sync("printf \"%s\" \"$((6*7))\"", pipes()));
        thrown(t, "execSync fails", exec_sync("exit 5", pipes()));
        let input = SpawnSyncOptions { input: Some(Bytes::from_static(b"in and out")), ..pipes() };
        thrown(t, "execSync input", exec_sync("cat", input));
        let slow = SpawnSyncOptions { spawn: SpawnOptions { timeout: 50, ..pipes().spawn }, ..pipes() };
        thrown(t, "execSync timeout", exec_sync("sleep 5", slow));
    });
}

// `spawn_sync` inside a callback of a running loop, while that loop has a child of its
// own: the inner loop runs to the end and returns, the outer loop still sees its own
// child exit, and `Loop::current()` is the outer loop again.
#[test]
fn spawn_sync_inside_a_running_loop() {
    use millrace::streams::child_process::{spawn_sync, SpawnSyncOptions};
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    run_bounded(move |lp| {
        let outer = spawn("sh", sh("sleep 0.2; exit 6"), ignore()).unwrap();
        let g2 = g.clone();
        outer.on_exit(move |_, code, _| g2.borrow_mut().push(format!("outer exit {}", opt(code))));
        let (g, lp2) = (g.clone(), lp.clone());
        lp.set_timeout(10, move || {
            let r = spawn_sync("sh", sh("printf inner; exit 2"), SpawnSyncOptions::default()).unwrap();
            g.borrow_mut().push(format!("inner {} {:?}", opt(r.status), text(r.stdout().unwrap())));
            assert!(Loop::ptr_eq(&Loop::current(), &lp2));
        });
    });
    assert_eq!(*got.borrow(), ["inner 2 \"inner\"", "outer exit 6"]);
}

// The IPC channel from a child that is not Node: `sh` writes raw lines to descriptor 3.
// A line that is not JSON is an `error` (Node would throw from its read callback), the
// next line still arrives, a line split across two writes is joined, and the end of
// file disconnects; the channel's handle is closed with the rest.
#[test]
fn ipc_lines_from_a_raw_writer() {
    let lp = Loop::new().unwrap();
    let dog = watchdog(&lp, 10_000);
    let log = Rc::new(RefCell::new(Vec::new()));
    lp.enter(|| {
        let script = r#"printf 'not json\n{"a":' >&3; sleep 0.1; printf '1}\n[2]\n' >&3"#;
        let opts = SpawnOptions {
            stdio: vec![Stdio::Ignore, Stdio::Ignore, Stdio::Inherit, Stdio::Ipc],
            ..SpawnOptions::default()
        };
        let child = spawn("sh", sh(script), opts).unwrap();
        assert!(child.connected());
        assert!(child.stdio(3).is_none(), "the channel is not a socket of stdio");
        let l = log.clone();
        child.on_message(move |_, m| l.borrow_mut().push(format!("message {m}")));
        let l = log.clone();
        child.on_error(move |_, e| {
            l.borrow_mut().push(format!("error {}", e.message().split(':').next().unwrap_or("")))
        });
        let l = log.clone();
        child.on_disconnect(move |c| l.borrow_mut().push(format!("disconnect {}", c.connected())));
        let l = log.clone();
        child.on_close(move |_, code, _| l.borrow_mut().push(format!("close {code:?}")));
    });
    lp.run(millrace::reactor::RunMode::Default);
    dog.close(|_| {});
    lp.run(millrace::reactor::RunMode::Default);
    let log = log.borrow();
    assert_eq!(log[0], "error IPC message is not valid JSON");
    assert_eq!(log[1..3], ["message {\"a\":1}", "message [2]"]);
    assert!(log.contains(&"disconnect false".to_owned()), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("close Some(0)"), "{log:?}");
    assert_eq!(lp.handle_count(), 0, "the channel, the pipes and the process are closed");
}

// `send` on a child without a channel does nothing and says so; `Stdio::Ipc` twice and
// in the synchronous calls are refused (the golden checks the messages).
#[test]
fn ipc_refusals() {
    run_bounded(|_| {
        let child = spawn("true", Vec::<String>::new(), SpawnOptions::default()).unwrap();
        assert!(!child.connected());
        assert!(!child.send(&serde_json::json!(1)));
        assert!(child.channel().is_none());
        let two = SpawnOptions { stdio: vec![Stdio::Ipc, Stdio::Ipc], ..SpawnOptions::default() };
        let err = spawn("true", Vec::<String>::new(), two).unwrap_err();
        assert!(err.is(Code::ERR_IPC_ONE_PIPE));
    });
}

// A `NODE_HANDLE` message whose descriptor did not come is answered with Node's
// `NODE_HANDLE_NACK` (so a Node sender retries instead of waiting forever) and is not
// a `message`; `sh` reads the answer back from descriptor 3 and reports it.
#[test]
fn ipc_handle_message_without_a_handle_is_nacked() {
    let lp = Loop::new().unwrap();
    let dog = watchdog(&lp, 10_000);
    let log = Rc::new(RefCell::new(Vec::new()));
    lp.enter(|| {
        let script = r#"printf '{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"x":1}}\n' >&3
            read line <&3; printf '{"got":%s}\n' "$line" >&3"#;
        let opts = SpawnOptions {
            stdio: vec![Stdio::Ignore, Stdio::Ignore, Stdio::Inherit, Stdio::Ipc],
            ..SpawnOptions::default()
        };
        let child = spawn("sh", sh(script), opts).unwrap();
        let l = log.clone();
        child.on_message_handle(move |_, m, h| l.borrow_mut().push(format!("message {m} handle {}", h.is_some())));
    });
    lp.run(millrace::reactor::RunMode::Default);
    dog.close(|_| {});
    lp.run(millrace::reactor::RunMode::Default);
    assert_eq!(*log.borrow(), ["message {\"got\":{\"cmd\":\"NODE_HANDLE_NACK\"}} handle false"]);
}
