//! `child_process.fork` and the IPC channel against `tests/conformance/child_process_ipc.js`
//! and its golden, three ways:
//!
//! 1. a millrace parent (the script's scenarios, replayed here) forking the Node child
//!    `tests/node/ipc_child.js`;
//! 2. the Node parent script forking a millrace child (this binary again, which then
//!    does what `ipc_child.js` does, through `ipc::process_channel`);
//! 3. a millrace parent forking a millrace child.
//!
//! Each must print Node's golden line for line: the wire format, the order of events,
//! the references that let a child exit, the errors, and the handle protocol (a socket
//! and a server sent with messages, acknowledged, and a server's close waiting for the
//! socket it gave away), from both ends.
//!
//! There is no libtest harness here (`harness = false`): the binary is its own child,
//! and the child's standard output must stay its own. The runs that need `node` say
//! loudly that they were skipped when it is not installed.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio as Std};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace::reactor::{Handle, Loop, RunMode, Timer};
use millrace::streams::child_process::SpawnSyncOptions;
use millrace::streams::child_process::{fork, spawn, spawn_sync, ChildProcess, ForkOptions, SpawnOptions, Stdio};
use millrace::streams::dgram::{create_socket, SocketType};
use millrace::streams::ipc::{process_channel, Message, SentHandle};
use millrace::streams::net::{create_server, Server, Socket};
use serde_json::json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if std::env::var_os("MILLRACE_IPC_CHILD").is_some() {
        return child(args.get(2).map(String::as_str).unwrap_or("serve"));
    }
    // `cargo test NAME`: run only if NAME could mean this file.
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "conformance_ipc".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    let golden_path = root().join("tests/conformance/golden/child_process_ipc.txt");
    let golden = std::fs::read_to_string(&golden_path).expect("the child_process_ipc golden");
    let expected: Vec<String> = golden.lines().map(str::to_owned).collect();
    let me = std::env::current_exe().expect("this test's executable");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let mut failed = false;
    let mut check = |what: &str, lines: Vec<String>| {
        if lines == expected {
            println!("conformance_ipc: {what}: {} lines match Node's golden", lines.len());
        } else {
            failed = true;
            println!("conformance_ipc: {what}: the trace differs from Node's golden\n  node | millrace");
            for i in 0..expected.len().max(lines.len()) {
                let e = expected.get(i).map_or("<none>", String::as_str);
                let a = lines.get(i).map_or("<none>", String::as_str);
                let mark = if e == a { "   " } else { ">>>" };
                println!("{mark} {e:<50} | {a}");
            }
        }
    };
    if node {
        check("millrace parent, Node child", parent(PathBuf::from("node")));
        check("Node parent, millrace child", node_parent(&me));
    } else {
        println!("conformance_ipc: SKIPPED the runs with a Node parent or child: `node` is not installed");
    }
    // The millrace child knows itself by this variable; the parent's forks inherit it.
    std::env::set_var("MILLRACE_IPC_CHILD", "1");
    check("millrace parent, millrace child", parent(me));
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The Node parent script, forking this binary as its child.
fn node_parent(me: &PathBuf) -> Vec<String> {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("tests/conformance/child_process_ipc.js"))
        .env("IPC_CHILD_EXEC", me)
        .env("MILLRACE_IPC_CHILD", "1")
        .stdin(Std::null())
        .stdout(Std::piped());
    let mut child = cmd.spawn().expect("node");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait for node").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the Node parent still runs after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("node's output");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

// ---- the child: tests/node/ipc_child.js ----

fn child(mode: &str) -> ExitCode {
    let lp = Loop::new().expect("loop");
    lp.enter(|| {
        let ch = process_channel().expect("the channel").expect("NODE_CHANNEL_FD is set");
        if mode == "oneshot" {
            ch.send(&json!({ "bye": true }));
            return;
        }
        let fd = if std::env::var_os("NODE_CHANNEL_FD").is_some() { "string" } else { "undefined" };
        ch.send(&json!({ "ready": true, "fd": fd, "foo": std::env::var("FOO").ok() }));
        let server: Rc<RefCell<Option<Server>>> = Rc::default();
        ch.on_message_handle(move |ch, m, handle| match m["cmd"].as_str() {
            Some("socket") => {
                let Some(SentHandle::Socket(s)) = handle else { panic!("'socket' came without a socket") };
                s.end_with(Bytes::from_static(b"hello from child\n"));
                ch.send(&json!({ "socketDone": true }));
            }
            Some("server") => {
                let Some(SentHandle::Server(srv)) = handle else { panic!("'server' came without a server") };
                srv.on_connection(|_, c| {
                    c.end_with(Bytes::from_static(b"served by child\n"));
                });
                ch.send(&json!({ "serverListening": srv.listening() }));
                *server.borrow_mut() = Some(srv);
            }
            Some("dgram") => {
                let Some(SentHandle::Dgram(sock)) = handle else { panic!("'dgram' came without a socket") };
                let c = ch.clone();
                sock.on_message(move |sock, m| {
                    let text = String::from_utf8_lossy(&m.data).into_owned();
                    c.send(&json!({ "dgramMessage": text, "family": m.rinfo.family }));
                    let c = c.clone();
                    sock.close_cb(move |_| {
                        c.send(&json!({ "dgramClosed": true }));
                    })
                    .expect("close");
                });
                let kind = if sock.kind() == SocketType::Udp4 { "udp4" } else { "udp6" };
                ch.send(&json!({ "dgramReady": kind }));
            }
            Some("closeServer") => {
                let srv = server.borrow_mut().take().expect("a server to close");
                let ch = ch.clone();
                srv.close(move |_, _| {
                    ch.send(&json!({ "serverClosed": true }));
                });
            }
            Some("echo") => {
                ch.send(&json!({ "echo": m["v"] }));
            }
            Some("cb") => {
                let c = ch.clone();
                ch.send_cb(&json!({ "first": true }), move |err| {
                    c.send(&json!({ "callback": err.is_none() }));
                });
            }
            Some("burst") => {
                let n = m["n"].as_u64().unwrap_or(0);
                for i in 0..n {
                    ch.send(&json!({ "i": i }));
                }
                ch.send(&json!({ "burstDone": n }));
            }
            Some("big") => {
                ch.send(&json!({ "len": m["s"].as_str().map_or(0, str::len) }));
                let reply = m["reply"].as_u64().unwrap_or(0) as usize;
                ch.send(&json!({ "s": "y".repeat(reply) }));
            }
            Some("disconnect") => ch.disconnect(),
            Some("exit") => std::process::exit(m["code"].as_i64().unwrap_or(0) as i32),
            _ => {
                ch.send(&json!({ "unknown": m }));
            }
        });
    });
    lp.enter(|| {
        lp.run_next_ticks();
        lp.run(RunMode::Default);
    });
    ExitCode::SUCCESS
}

// ---- the parent: tests/conformance/child_process_ipc.js ----

type Lines = Rc<RefCell<Vec<String>>>;

/// One scenario's state: the lines of each group, and whether the child exited and
/// disconnected.
#[derive(Default)]
struct Rec {
    ipc: RefCell<Vec<String>>,
    net: RefCell<Vec<String>>,
    cli: RefCell<Vec<String>>,
    proc_: RefCell<Vec<String>>,
    exited: Cell<bool>,
    disconnected: Cell<bool>,
}

impl Rec {
    fn ipc(&self, line: impl Into<String>) {
        let line = line.into();
        if std::env::var_os("MILLRACE_TRACE_LIVE").is_some() {
            eprintln!("ipc {line}");
        }
        self.ipc.borrow_mut().push(line);
    }
    fn net(&self, line: impl Into<String>) {
        self.net.borrow_mut().push(line.into());
    }
    fn proc_(&self, line: impl Into<String>) {
        self.proc_.borrow_mut().push(line.into());
    }
}

struct Ctx {
    lp: Loop,
    exec: PathBuf,
    out: Lines,
    queue: RefCell<VecDeque<(String, Scenario)>>,
}

type Scenario = Box<dyn FnOnce(&Rc<Ctx>, &Rc<Rec>)>;

fn js(v: &Message) -> String {
    serde_json::to_string(v).expect("a JSON value serializes")
}

/// JavaScript's `String(x)` of an exit code or signal that may be null.
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

fn child_script() -> PathBuf {
    root().join("tests/node/ipc_child.js")
}

/// The script's `start`: forks the child with the script's options and logs its events.
fn start(ctx: &Rc<Ctx>, rec: &Rc<Rec>, args: &[&str], with_foo: bool, listen: bool) -> ChildProcess {
    let mut spawn_opts =
        SpawnOptions { stdio: vec![Stdio::Ignore, Stdio::Ignore, Stdio::Inherit, Stdio::Ipc], ..Default::default() };
    if with_foo {
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        env.push(("FOO".into(), "bar".into()));
        spawn_opts.env = Some(env);
    }
    let opts = ForkOptions { exec_path: Some(ctx.exec.clone()), spawn: spawn_opts, ..Default::default() };
    let child = fork(child_script(), args.iter().copied(), opts).expect("fork");
    let stdio: Vec<&str> = (0..4).map(|i| if child.stdio(i).is_some() { "socket" } else { "null" }).collect();
    rec.proc_(format!("connected {} stdio {}", child.connected(), stdio.join(",")));
    let r = rec.clone();
    child.on_spawn(move |_| r.proc_("spawn"));
    let r = rec.clone();
    child.on_exit(move |_, code, signal| {
        r.proc_(format!("exit {} {}", opt(code), opt(signal)));
        r.exited.set(true);
    });
    let r = rec.clone();
    child.on_close(move |_, code, signal| r.proc_(format!("close {} {}", opt(code), opt(signal))));
    let r = rec.clone();
    child.on_error(move |_, e| r.ipc(format!("error {} {}", e.code().unwrap_or(""), e.message())));
    let r = rec.clone();
    child.on_disconnect(move |c| {
        r.ipc(format!("disconnect connected {}", c.connected()));
        r.disconnected.set(true);
    });
    if listen {
        let r = rec.clone();
        child.on_message(move |_, m| r.ipc(format!("message {}", js(&m))));
    }
    child
}

/// The script's `done`: on immediates until the child exited and disconnected, then
/// the scenario's lines.
fn done(ctx: Rc<Ctx>, rec: Rc<Rec>, name: String) {
    let lp = ctx.lp.clone();
    lp.set_immediate(move || {
        if !rec.exited.get() || !rec.disconnected.get() {
            return done(ctx, rec, name);
        }
        let mut out = ctx.out.borrow_mut();
        out.push(format!("-- {name}"));
        out.extend(rec.ipc.borrow().iter().map(|l| format!("ipc {l}")));
        out.extend(rec.net.borrow().iter().map(|l| format!("net {l}")));
        out.extend(rec.cli.borrow().iter().map(|l| format!("cli {l}")));
        out.extend(rec.proc_.borrow().iter().map(|l| format!("proc {l}")));
        drop(out);
        next(&ctx);
    });
}

fn next(ctx: &Rc<Ctx>) {
    let s = ctx.queue.borrow_mut().pop_front();
    let Some((name, f)) = s else { return };
    let rec = Rc::new(Rec::default());
    f(ctx, &rec);
    if name != "thrown errors" {
        done(ctx.clone(), rec, name);
    }
}

/// `once('message', f)` for a child process.
fn once_message(child: &ChildProcess, f: impl Fn(&ChildProcess) + 'static) {
    let id = Rc::new(Cell::new(None));
    let i = id.clone();
    let listener = child.on_message(move |c, _| {
        if let Some(id) = i.take() {
            c.off(id);
            f(c);
        }
    });
    id.set(Some(listener));
}

fn values() -> Vec<Message> {
    vec![
        json!(1),
        json!(-7),
        json!(1.5),
        json!(0.1),
        json!(9007199254740992u64),
        json!("text"),
        json!("ünïcødé ✓ 𝄞"),
        json!("line\nbreak \"quoted\" \\ \u{1}\t"),
        json!(""),
        json!(null),
        json!(true),
        json!(false),
        json!([]),
        json!({}),
        json!([1, [2, [3]]]),
        json!({ "b": 1, "a": { "d": [null], "c": "x" }, "z": [] }),
    ]
}

fn scenarios() -> Vec<(&'static str, Scenario)> {
    let mut list: Vec<(&'static str, Scenario)> = Vec::new();
    list.push((
        "echo every JSON type",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], true, true);
            let r = rec.clone();
            once_message(&child, move |c| {
                for v in values() {
                    let sent = c.send(&json!({ "cmd": "echo", "v": v }));
                    r.ipc(format!("send {} {sent}", js(&v)));
                }
                c.send(&json!({ "cmd": "disconnect" }));
            });
        }),
    ));
    list.push((
        "send callback",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, true);
            let r = rec.clone();
            once_message(&child, move |c| {
                let r2 = r.clone();
                let sent = c.send_cb(&json!({ "cmd": "cb" }), move |err| {
                    r2.ipc(format!("send cb {}", err.map_or(String::new(), |e| e.to_string())))
                });
                r.ipc(format!("send returned {sent}"));
                c.on_message(|c, m| {
                    if m.get("callback").is_some() {
                        c.send(&json!({ "cmd": "disconnect" }));
                    }
                });
            });
        }),
    ));
    list.push((
        "parent disconnects",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, true);
            let r = rec.clone();
            once_message(&child, move |c| {
                r.ipc(format!("connected {}", c.connected()));
                c.disconnect();
                r.ipc(format!("connected {}", c.connected()));
                r.ipc(format!("send returned {}", c.send(&json!({ "x": 1 }))));
                let r2 = r.clone();
                let sent = c.send_cb(&json!({ "x": 2 }), move |err| {
                    let e = err.expect("an error");
                    r2.ipc(format!("send cb {} {}", e.code().unwrap_or(""), e.message()));
                });
                r.ipc(format!("send returned {sent}"));
                c.disconnect();
                r.ipc("after second disconnect");
            });
        }),
    ));
    list.push((
        "child exits while connected",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, true);
            once_message(&child, |c| {
                c.send(&json!({ "cmd": "exit", "code": 3 }));
            });
        }),
    ));
    list.push((
        "burst of small messages",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, false);
            let (count, in_order) = (Cell::new(0u64), Cell::new(true));
            let r = rec.clone();
            child.on_message(move |c, m| {
                if m.get("ready").is_some() {
                    c.send(&json!({ "cmd": "burst", "n": 500 }));
                } else if let Some(n) = m.get("burstDone") {
                    r.ipc(format!("burst {} of {n} in order {}", count.get(), in_order.get()));
                    c.send(&json!({ "cmd": "disconnect" }));
                } else {
                    if m["i"].as_u64() != Some(count.get()) {
                        in_order.set(false);
                    }
                    count.set(count.get() + 1);
                }
            });
        }),
    ));
    list.push((
        "large messages both ways",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, false);
            let r = rec.clone();
            child.on_message(move |c, m| {
                if m.get("ready").is_some() {
                    let r2 = r.clone();
                    let big = json!({ "cmd": "big", "s": "x".repeat(1 << 20), "reply": 2 << 20 });
                    let sent = c.send_cb(&big, move |err| {
                        r2.ipc(format!("big sent {}", err.map_or(String::new(), |e| e.to_string())))
                    });
                    r.ipc(format!("send returned {sent}"));
                } else if let Some(len) = m.get("len") {
                    r.ipc(format!("child got length {len}"));
                } else {
                    let s = m["s"].as_str().unwrap_or("");
                    r.ipc(format!("reply length {} all y {}", s.len(), s.bytes().all(|b| b == b'y')));
                    c.send(&json!({ "cmd": "disconnect" }));
                }
            });
        }),
    ));
    list.push((
        "messages before a listener",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, false);
            let (r, lp) = (rec.clone(), ctx.lp.clone());
            child.on_spawn(move |c| {
                let (r, c) = (r.clone(), c.clone());
                lp.set_timeout(300, move || {
                    r.ipc("listening now");
                    let r = r.clone();
                    c.on_message(move |c, m| {
                        r.ipc(format!("message {}", js(&m)));
                        c.send(&json!({ "cmd": "disconnect" }));
                    });
                });
            });
        }),
    ));
    list.push((
        "child listens for nothing",
        Box::new(|ctx, rec| {
            start(ctx, rec, &["oneshot"], false, true);
        }),
    ));
    list.push((
        "send a socket",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, true);
            let r = rec.clone();
            once_message(&child, move |c| {
                let (r2, c2) = (r.clone(), c.clone());
                let server = create_server(move |server, s| {
                    let r3 = r2.clone();
                    let cb = Box::new(move |err: Option<millrace::streams::Error>| {
                        r3.ipc(format!("send cb {}", err.map_or(String::new(), |e| e.to_string())))
                    });
                    let sent =
                        c2.send_handle(&json!({ "cmd": "socket" }), SentHandle::Socket(s.clone()), false, Some(cb));
                    r2.ipc(format!("send returned {sent}"));
                    let r3 = r2.clone();
                    server.close(move |_, _| r3.net("server close"));
                });
                let (r2, c2) = (r.clone(), c.clone());
                server
                    .listen("127.0.0.1:0".parse().unwrap(), move |server| {
                        let port = server.address().expect("an address").port();
                        client(&r2, port, true, {
                            let c2 = c2.clone();
                            move || {
                                c2.send(&json!({ "cmd": "disconnect" }));
                            }
                        });
                    })
                    .expect("listen");
            });
        }),
    ));
    list.push((
        "send a server",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, false);
            let server = create_server(|_, _| {});
            let port = Rc::new(Cell::new(0));
            let r = rec.clone();
            child.on_message(move |c, m| {
                r.ipc(format!("message {}", js(&m)));
                if m.get("ready").is_some() {
                    let (r, c, port, srv) = (r.clone(), c.clone(), port.clone(), server.clone());
                    server
                        .listen("127.0.0.1:0".parse().unwrap(), move |server| {
                            port.set(server.address().expect("an address").port());
                            let (r, srv) = (r.clone(), srv.clone());
                            let cb = Box::new(move |err: Option<millrace::streams::Error>| {
                                r.ipc(format!("send cb {}", err.map_or(String::new(), |e| e.to_string())));
                                let r = r.clone();
                                srv.close(move |_, _| r.net("parent server close"));
                            });
                            c.send_handle(
                                &json!({ "cmd": "server" }),
                                SentHandle::Server(server.clone()),
                                false,
                                Some(cb),
                            );
                        })
                        .expect("listen");
                } else if m.get("serverListening").is_some() {
                    let c = c.clone();
                    client(&r, port.get(), false, move || {
                        c.send(&json!({ "cmd": "closeServer" }));
                    });
                } else if m.get("serverClosed").is_some() {
                    c.send(&json!({ "cmd": "disconnect" }));
                }
            });
        }),
    ));
    list.push((
        "send a dgram socket",
        Box::new(|ctx, rec| {
            let child = start(ctx, rec, &["serve"], false, false);
            let sock = create_socket(SocketType::Udp4);
            let port = Rc::new(Cell::new(0));
            let r = rec.clone();
            child.on_message(move |c, m| {
                r.ipc(format!("message {}", js(&m)));
                if m.get("ready").is_some() {
                    let (r, c, port) = (r.clone(), c.clone(), port.clone());
                    sock.bind_cb(0, Some([127, 0, 0, 1].into()), move |sock| {
                        port.set(sock.address().expect("an address").port());
                        let (r, s) = (r.clone(), sock.clone());
                        let cb = Box::new(move |err: Option<millrace::streams::Error>| {
                            r.ipc(format!("send cb {}", err.map_or(String::new(), |e| e.to_string())));
                            let r = r.clone();
                            s.close_cb(move |_| r.net("parent dgram close")).expect("close");
                        });
                        c.send_handle(&json!({ "cmd": "dgram" }), SentHandle::Dgram(sock.clone()), false, Some(cb));
                    })
                    .expect("bind");
                } else if m.get("dgramReady").is_some() {
                    let client = create_socket(SocketType::Udp4);
                    let r = r.clone();
                    client
                        .send(vec![Bytes::from_static(b"ping")], Some((port.get(), None)), move |client, err, _| {
                            r.net(format!("client sent {}", err.map_or(String::new(), |e| e.to_string())));
                            client.close().expect("close");
                        })
                        .expect("send");
                } else if m.get("dgramClosed").is_some() {
                    c.send(&json!({ "cmd": "disconnect" }));
                }
            });
        }),
    ));
    list.push((
        "thrown errors",
        Box::new(|ctx, _| {
            let mut out = ctx.out.borrow_mut();
            out.push("-- thrown errors".to_owned());
            let mut thrown = |what: &str, r: Result<(), millrace::streams::Error>| {
                out.push(match r {
                    Ok(()) => format!("thrown {what} nothing"),
                    Err(e) => format!("thrown {what} {} {}", e.code().unwrap_or(""), e.message()),
                })
            };
            let script = child_script();
            let two = SpawnOptions { stdio: vec![Stdio::Ipc, Stdio::Ipc], ..Default::default() };
            thrown("two ipc", spawn(&ctx.exec, [&script], two).map(drop));
            let sync = SpawnSyncOptions {
                spawn: SpawnOptions {
                    stdio: vec![Stdio::Pipe, Stdio::Pipe, Stdio::Pipe, Stdio::Ipc],
                    ..Default::default()
                },
                ..Default::default()
            };
            thrown("spawnSync ipc", spawn_sync(&ctx.exec, [&script], sync).map(drop));
            let no_ipc = ForkOptions {
                exec_path: Some(ctx.exec.clone()),
                spawn: SpawnOptions { stdio: vec![Stdio::Pipe, Stdio::Pipe, Stdio::Pipe], ..Default::default() },
                ..Default::default()
            };
            thrown("fork without ipc", fork(&script, Vec::<String>::new(), no_ipc).map(drop));
            drop(out);
            let c = ctx.clone();
            ctx.lp.next_tick(move || next(&c));
        }),
    ));
    list
}

/// The scenarios' client: connects to `port`, logs what it reads at its end and its
/// close (apart, in `cli`, if `apart`), then calls `closed`.
fn client(rec: &Rc<Rec>, port: u16, apart: bool, closed: impl Fn() + 'static) {
    let client = Socket::connect(([127, 0, 0, 1], port).into());
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    client.on_data(move |_, d| g.borrow_mut().extend_from_slice(&d));
    let r = rec.clone();
    client.on_end(move |_| r.net(format!("client end {}", js(&json!(String::from_utf8_lossy(&got.borrow()))))));
    let r = rec.clone();
    client.on_close(move |_| {
        if apart {
            r.cli.borrow_mut().push("client close".to_owned());
        } else {
            r.net("client close");
        }
        closed();
    });
}

/// The parent script's scenarios on millrace, forking `exec` (`node`, or this binary).
fn parent(exec: PathBuf) -> Vec<String> {
    let lp = Loop::new().expect("loop");
    let ctx = Rc::new(Ctx {
        lp: lp.clone(),
        exec,
        out: Rc::default(),
        queue: RefCell::new(scenarios().into_iter().map(|(n, f)| (n.to_owned(), f)).collect()),
    });
    lp.enter(|| {
        let dog = Timer::new(&lp);
        dog.unref();
        dog.start(60_000, 0, |_| panic!("watchdog: the IPC scenarios still run after 60 s")).expect("watchdog");
        next(&ctx);
        lp.run_next_ticks();
        lp.run(RunMode::Default);
        dog.close(|_| {});
        lp.run(RunMode::Default);
    });
    let lines = ctx.out.borrow().clone();
    lines
}
