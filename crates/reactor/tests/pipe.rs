//! Unix domain socket handles. Ported from libuv's test-pipe-bind-error.c,
//! test-pipe-connect-error.c, test-pipe-connect-multiple.c, test-pipe-connect-prepare.c,
//! test-pipe-getsockname.c, test-pipe-server-close.c, test-pipe-set-fchmod.c,
//! test-ping-pong.c (pipe), test-shutdown-close.c (pipe) and test-ref.c (pipe), one
//! test per libuv test, same names. `TEST_PIPENAME` is a fresh path per test.
//!
//! Anonymous pipes and other descriptors opened into a `Pipe` are in pipe_open.rs.
//!
//! `pipe_sendmsg` and the `ipc_*` tests (handles sent over a pipe) are in ipc.rs.
//!
//! Not ported: `pipe_getsockname_blocking` (Windows only), `pipe_pending_instances` (a
//! no-op on Unix), `pipe_close_stdout_read_stdin` (it forks).

mod util;

use std::cell::{Cell, RefCell};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{guess_handle, Error, Handle, HandleType, Loop, Pipe, PipeFlags, Prepare, ReadEvent, RunMode};
use util::net::{run, EchoServer};
use util::{do_close, make_valgrind_happy, Counter, TempPath};

const BAD_PIPENAME: &str = "/path/to/unix/socket/that/really/should/not/be/there";

fn close_counted(h: &Pipe, c: &Counter) {
    let c = c.clone();
    h.close(move |_| {
        c.inc();
    });
}

// test-pipe-bind-error.c: a second bind of a path in use fails at once (unlike TCP's,
// which libuv delays), and the handle that failed has nothing to listen on.
#[test]
fn pipe_bind_error_addrinuse() {
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server1 = Pipe::new(&lp);
    server1.bind(name.path()).unwrap();
    let server2 = Pipe::new(&lp);
    assert_eq!(server2.bind(name.path()), Err(Error::EADDRINUSE));
    server1.listen(128, |_, _| panic!("no connection expected")).unwrap();
    assert_eq!(server2.listen(128, |_, _| panic!("no connection expected")), Err(Error::EINVAL));
    close_counted(&server1, &close_cb_called);
    close_counted(&server2, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 2);
    // The handle that bound the path unlinked it when it closed.
    assert!(!name.path().exists());
    make_valgrind_happy(&lp);
}

// test-pipe-bind-error.c: a missing directory is EACCES (libuv's ENOENT → EACCES).
#[test]
fn pipe_bind_error_addrnotavail() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Pipe::new(&lp);
    assert_eq!(server.bind(BAD_PIPENAME), Err(Error::EACCES));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-pipe-bind-error.c: a bound handle cannot bind again.
#[test]
fn pipe_bind_error_inval() {
    let (name, name2) = (TempPath::new("pipe"), TempPath::new("pipe"));
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Pipe::new(&lp);
    server.bind(name.path()).unwrap();
    assert_eq!(server.bind(name2.path()), Err(Error::EINVAL));
    assert!(!name2.path().exists());
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-pipe-bind-error.c: a pipe has no ephemeral name to listen on.
#[test]
fn pipe_listen_without_bind() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Pipe::new(&lp);
    assert_eq!(server.listen(128, |_, _| panic!("no connection expected")), Err(Error::EINVAL));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-pipe-bind-error.c: bind and listen on a closing handle are EINVAL.
#[test]
fn pipe_bind_or_listen_error_after_close() {
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let server = Pipe::new(&lp);
    server.close(|_| {});
    assert_eq!(server.bind(name.path()), Err(Error::EINVAL));
    assert_eq!(server.listen(128, |_, _| panic!("no connection expected")), Err(Error::EINVAL));
    assert!(!run(&lp));
    make_valgrind_happy(&lp);
}

// test-pipe-bind-error.c: with `no_truncate`, a name longer than `sun_path` is EINVAL for
// both bind and connect (and the connect callback never runs). Without it the name is
// cut to fit, as libuv documents.
#[test]
fn pipe_overlong_path() {
    let lp = Loop::new().unwrap();
    let path = "@".repeat(512);
    let pipe = Pipe::new(&lp);
    let strict = PipeFlags { no_truncate: true };
    assert_eq!(pipe.bind_with(&path, strict), Err(Error::EINVAL));
    assert_eq!(pipe.connect_with(&path, strict, |_, _| panic!("connect_cb")), Err(Error::EINVAL));
    pipe.close(|_| {});
    assert!(!run(&lp));
    make_valgrind_happy(&lp);

    // Truncated: a path of 200 bytes binds as its first 107.
    let dir = TempPath::new("pipe-long");
    std::fs::create_dir(dir.path()).unwrap();
    let mut long = dir.path().as_os_str().to_owned();
    long.push("/");
    long.push("x".repeat(200));
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp);
    pipe.bind(&long).unwrap();
    let name = pipe.local_name().unwrap();
    assert_eq!(name.as_os_str().len(), 107);
    assert!(name.exists());
    pipe.close(|_| {});
    run(&lp);
    assert!(!name.exists());
    make_valgrind_happy(&lp);
    std::fs::remove_dir(dir.path()).unwrap();
}

// test-pipe-connect-error.c: a path that does not exist is ENOENT, in the callback.
#[test]
fn pipe_connect_bad_name() {
    let lp = Loop::new().unwrap();
    let (close_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let client = Pipe::new(&lp);
    let (cl, cc) = (close_cb_called.clone(), connect_cb_called.clone());
    client
        .connect(BAD_PIPENAME, move |h, status| {
            assert_eq!(status, Err(Error::ENOENT));
            close_counted(h, &cl);
            cc.inc();
        })
        .unwrap();
    assert_eq!(connect_cb_called.get(), 0);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    assert_eq!(connect_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-pipe-connect-error.c: a regular file is no socket (ECONNREFUSED on Linux).
#[test]
fn pipe_connect_to_file() {
    let file = TempPath::new("empty_file");
    std::fs::write(file.path(), b"").unwrap();
    let lp = Loop::new().unwrap();
    let (close_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let client = Pipe::new(&lp);
    let (cl, cc) = (close_cb_called.clone(), connect_cb_called.clone());
    client
        .connect(file.path(), move |h, status| {
            let e = status.unwrap_err();
            assert!([Error::ENOTSOCK, Error::EACCES, Error::ECONNREFUSED].contains(&e), "{e:?}");
            close_counted(h, &cl);
            cc.inc();
        })
        .unwrap();
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    assert_eq!(connect_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-pipe-connect-prepare.c: a connect issued from a prepare callback still reports
// its failure through the loop.
#[test]
fn pipe_connect_on_prepare() {
    let lp = Loop::new().unwrap();
    let (close_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let pipe = Pipe::new(&lp);
    let prepare = Prepare::new(&lp);
    let (p, cl, cc) = (pipe.clone(), close_cb_called.clone(), connect_cb_called.clone());
    prepare
        .start(move |prepare| {
            let (prepare, cl, cc) = (prepare.clone(), cl.clone(), cc.clone());
            p.connect(BAD_PIPENAME, move |pipe, status| {
                assert_eq!(status, Err(Error::ENOENT));
                cc.inc();
                let c = cl.clone();
                prepare.close(move |_| {
                    c.inc();
                });
                close_counted(pipe, &cl);
            })
            .unwrap();
        })
        .unwrap();
    assert!(!run(&lp));
    assert_eq!(close_cb_called.get(), 2);
    assert_eq!(connect_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-pipe-connect-multiple.c: ten clients connect to one server, all accepted.
#[test]
fn pipe_connect_multiple() {
    const NUM_CLIENTS: usize = 10;
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let (connection_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let connections: Rc<RefCell<Vec<Pipe>>> = Rc::default();
    let server = Pipe::new(&lp);
    server.bind(name.path()).unwrap();
    let (n, cc, conns) = (connection_cb_called.clone(), connect_cb_called.clone(), connections.clone());
    server
        .listen(128, move |server, status| {
            status.unwrap();
            conns.borrow_mut().push(server.accept().unwrap());
            if n.inc() == NUM_CLIENTS && cc.get() == NUM_CLIENTS {
                server.get_loop().stop();
            }
        })
        .unwrap();
    let mut clients = Vec::new();
    for _ in 0..NUM_CLIENTS {
        let client = Pipe::new(&lp);
        let (n, cc) = (connection_cb_called.clone(), connect_cb_called.clone());
        client
            .connect(name.path(), move |h, status| {
                status.unwrap();
                if cc.inc() == NUM_CLIENTS && n.get() == NUM_CLIENTS {
                    h.get_loop().stop();
                }
            })
            .unwrap();
        clients.push(client);
    }
    run(&lp);
    assert_eq!(connection_cb_called.get(), NUM_CLIENTS);
    assert_eq!(connect_cb_called.get(), NUM_CLIENTS);
    server.close(|_| {});
    for h in clients.iter().chain(connections.borrow().iter()) {
        h.close(|_| {});
    }
    connections.borrow_mut().clear();
    make_valgrind_happy(&lp);
}

// test-pipe-connect-multiple.c: clients closed before their connect callback get
// ECANCELED; the server still accepts each connection the kernel queued.
#[test]
fn pipe_connect_close_multiple() {
    const NUM_CLIENTS: usize = 10;
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let (connection_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let server = Pipe::new(&lp);
    server.bind(name.path()).unwrap();
    let (n, cc) = (connection_cb_called.clone(), connect_cb_called.clone());
    server
        .listen(128, move |server, status| {
            status.unwrap();
            server.accept().unwrap().close(|_| {});
            if n.inc() == NUM_CLIENTS && cc.get() == NUM_CLIENTS {
                server.close(|_| {});
            }
        })
        .unwrap();
    let mut clients = Vec::new();
    for _ in 0..NUM_CLIENTS {
        let client = Pipe::new(&lp);
        let (n, cc, srv) = (connection_cb_called.clone(), connect_cb_called.clone(), server.clone());
        client
            .connect(name.path(), move |_, status| {
                assert_eq!(status, Err(Error::ECANCELED));
                if cc.inc() == NUM_CLIENTS && n.get() == NUM_CLIENTS {
                    srv.close(|_| {});
                }
            })
            .unwrap();
        clients.push(client);
    }
    for client in &clients {
        client.close(|_| {});
    }
    run(&lp);
    assert_eq!(connection_cb_called.get(), NUM_CLIENTS);
    assert_eq!(connect_cb_called.get(), NUM_CLIENTS);
    make_valgrind_happy(&lp);
}

// test-pipe-getsockname.c: names before bind (EBADF), after bind (the path, no NUL),
// on a listener (no peer: ENOTCONN), and on a client (unnamed itself, the server's path
// as its peer) both right after connect and in the connect callback.
#[test]
fn pipe_getsockname() {
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let (close_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let server = Pipe::new(&lp);
    assert_eq!(server.local_name(), Err(Error::EBADF));
    assert_eq!(server.peer_name(), Err(Error::EBADF));
    server.bind(name.path()).unwrap();
    assert_eq!(server.local_name().unwrap(), name.path());
    assert_eq!(server.peer_name(), Err(Error::ENOTCONN));
    server.listen(0, |_, status| status.unwrap()).unwrap();

    let client = Pipe::new(&lp);
    assert_eq!(client.local_name(), Err(Error::EBADF));
    assert_eq!(client.peer_name(), Err(Error::EBADF));
    let (srv, cl, cc, expected) =
        (server.clone(), close_cb_called.clone(), connect_cb_called.clone(), name.path().to_path_buf());
    client
        .connect(name.path(), move |client, status| {
            status.unwrap();
            assert_eq!(client.peer_name().unwrap(), expected);
            assert_eq!(client.local_name().unwrap(), PathBuf::new());
            cc.inc();
            close_counted(client, &cl);
            close_counted(&srv, &cl);
        })
        .unwrap();
    assert_eq!(client.local_name().unwrap(), PathBuf::new());
    assert_eq!(client.peer_name().unwrap(), name.path());
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-pipe-getsockname.c: Linux's abstract namespace: the name (with its leading NUL
// and here a trailing one, as libuv's test passes `sizeof(name)`) comes back whole, and
// a client connects by it. Nothing is left in the file system.
#[test]
fn pipe_getsockname_abstract() {
    let tag = TempPath::new("abstract");
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(tag.path().as_os_str().as_encoded_bytes());
    bytes.push(0);
    let name = PathBuf::from(std::ffi::OsString::from(String::from_utf8(bytes.clone()).unwrap()));
    let lp = Loop::new().unwrap();
    let (close_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let server = Pipe::new(&lp);
    server.bind(&name).unwrap();
    assert_eq!(server.local_name().unwrap().as_os_str().as_encoded_bytes(), &bytes[..]);
    server.listen(0, |_, status| status.unwrap()).unwrap();
    let client = Pipe::new(&lp);
    let (srv, cl, cc) = (server.clone(), close_cb_called.clone(), connect_cb_called.clone());
    client
        .connect(&name, move |client, status| {
            status.unwrap();
            assert_eq!(client.peer_name().unwrap().as_os_str().as_encoded_bytes(), &bytes[..]);
            assert_eq!(client.local_name().unwrap(), PathBuf::new());
            cc.inc();
            close_counted(client, &cl);
            close_counted(&srv, &cl);
        })
        .unwrap();
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 2);
    assert!(!tag.path().exists());
    make_valgrind_happy(&lp);
}

// test-pipe-server-close.c: closing server and client from the connect callback.
#[test]
fn pipe_server_close() {
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let (pipe_close_cb_called, connect_cb_called) = (Counter::new(), Counter::new());
    let server = Pipe::new(&lp);
    server.bind(name.path()).unwrap();
    server.listen(0, |_, status| status.unwrap()).unwrap();
    let client = Pipe::new(&lp);
    let (srv, cl, cc) = (server.clone(), pipe_close_cb_called.clone(), connect_cb_called.clone());
    client
        .connect(name.path(), move |client, status| {
            status.unwrap();
            cc.inc();
            close_counted(client, &cl);
            close_counted(&srv, &cl);
        })
        .unwrap();
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(pipe_close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-pipe-set-fchmod.c: readable, writable and both add the bits for everyone; no
// mode is EINVAL, a handle without a socket (or a closed one) EBADF.
#[test]
fn pipe_set_chmod() {
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let pipe = Pipe::new(&lp);
    assert_eq!(pipe.chmod(true, true), Err(Error::EBADF));
    pipe.bind(name.path()).unwrap();
    let mode = || std::fs::metadata(name.path()).unwrap().permissions().mode();
    match pipe.chmod(true, false) {
        Err(Error::EPERM) => {
            eprintln!("SKIPPED pipe_set_chmod: insufficient privileges to alter the pipe's mode");
            return;
        }
        r => r.unwrap(),
    }
    assert_eq!(mode() & 0o444, 0o444);
    pipe.chmod(false, true).unwrap();
    assert_eq!(mode() & 0o222, 0o222);
    pipe.chmod(true, true).unwrap();
    assert_eq!(mode() & 0o666, 0o666);
    assert_eq!(pipe.chmod(false, false), Err(Error::EINVAL));
    pipe.close(|_| {});
    assert_eq!(pipe.chmod(true, true), Err(Error::EBADF));
    make_valgrind_happy(&lp);
}

const NUM_PINGS: usize = 1000;
const PING: &[u8] = b"PING\n";

/// test-ping-pong.c's `pinger_t`, on a pipe.
struct Pinger {
    pongs: Cell<usize>,
    state: Cell<usize>,
    vectored: bool,
    completed_pingers: Counter,
}

impl Pinger {
    fn new(vectored: bool, completed_pingers: &Counter) -> Rc<Pinger> {
        Rc::new(Pinger {
            pongs: Cell::new(0),
            state: Cell::new(0),
            vectored,
            completed_pingers: completed_pingers.clone(),
        })
    }

    /// `pinger_write_ping`: one buffer, or one buffer a byte.
    fn write_ping(&self, pipe: &Pipe) {
        let bufs: Vec<Bytes> = match self.vectored {
            false => vec![Bytes::from_static(PING)],
            true => (0..PING.len()).map(|i| Bytes::from_static(&PING[i..i + 1])).collect(),
        };
        pipe.write(bufs, |_, status| status.unwrap()).unwrap();
    }

    fn close(self: &Rc<Self>, pipe: &Pipe) {
        let p = self.clone();
        pipe.close(move |_| {
            assert_eq!(p.pongs.get(), NUM_PINGS);
            p.completed_pingers.inc();
        });
    }

    /// `pinger_read_cb`: `reader` gets the pongs, the next ping goes out on `writer`
    /// (the same handle over a socket; the other end of an anonymous pipe).
    fn read_cb(self: &Rc<Self>, reader: &Pipe, writer: &Pipe, ev: ReadEvent) {
        let data = match ev {
            ReadEvent::Data(data) => data,
            ev => {
                assert_eq!(ev, ReadEvent::Eof);
                self.close(reader);
                return;
            }
        };
        for &byte in data.iter() {
            assert_eq!(byte, PING[self.state.get()]);
            self.state.set((self.state.get() + 1) % PING.len());
            if self.state.get() != 0 {
                continue;
            }
            self.pongs.set(self.pongs.get() + 1);
            if self.pongs.get() < NUM_PINGS {
                self.write_ping(writer);
            } else {
                self.close(reader);
                if writer != reader {
                    writer.close(|_| {});
                }
                break;
            }
        }
    }
}

fn ping_pong(vectored: bool) {
    let echo = EchoServer::start_pipe();
    let completed_pingers = Counter::new();
    let lp = Loop::new().unwrap();
    let pinger = Pinger::new(vectored, &completed_pingers);
    let connect_count = Counter::new();
    let pipe = Pipe::new(&lp);
    let (p, cc) = (pinger.clone(), connect_count.clone());
    pipe.connect(echo.path(), move |pipe, status| {
        cc.inc();
        status.unwrap();
        assert!(pipe.is_readable() && pipe.is_writable() && !pipe.is_closing());
        p.write_ping(pipe);
        let p = p.clone();
        pipe.read_start(move |pipe, ev| p.read_cb(pipe, pipe, ev)).unwrap();
    })
    .unwrap();
    // Synchronous connect callbacks are not allowed.
    assert_eq!(connect_count.get(), 0);
    run(&lp);
    assert_eq!(completed_pingers.get(), 1);
    make_valgrind_happy(&lp);

    // `pipe2_pinger_new`: the same over an anonymous pipe, pings written into one end
    // and counted as they come out of the other.
    completed_pingers.set(0);
    let lp = Loop::new().unwrap();
    let (r, w) = millrace_reactor::pipe(true, true).unwrap();
    assert_eq!(guess_handle(r.as_fd()), HandleType::NamedPipe);
    assert_eq!(guess_handle(w.as_fd()), HandleType::NamedPipe);
    let (ponger, pinger_pipe) = (Pipe::new(&lp), Pipe::new(&lp));
    ponger.open_fd(r).unwrap();
    pinger_pipe.open_fd(w).unwrap();
    let pinger = Pinger::new(vectored, &completed_pingers);
    pinger.write_ping(&pinger_pipe);
    let p = pinger.clone();
    ponger.read_start(move |ponger, ev| p.read_cb(ponger, &pinger_pipe, ev)).unwrap();
    run(&lp);
    assert_eq!(completed_pingers.get(), 1);
    make_valgrind_happy(&lp);
}

// test-ping-pong.c: NUM_PINGS round trips with the pipe echo server, then through an
// anonymous pipe.
#[test]
fn pipe_ping_pong() {
    ping_pong(false);
}

// test-ping-pong.c: the same with each ping written as five one-byte buffers.
#[test]
fn pipe_ping_pong_vec() {
    ping_pong(true);
}

// test-shutdown-close.c: a shutdown issued, then the handle closed in the connect
// callback: the shutdown callback still runs (done or ECANCELED), once.
#[test]
fn shutdown_close_pipe() {
    let echo = EchoServer::start_pipe();
    let lp = Loop::new().unwrap();
    let (connect_cb_called, shutdown_cb_called, close_cb_called) = (Counter::new(), Counter::new(), Counter::new());
    let h = Pipe::new(&lp);
    let (cc, sc, cl) = (connect_cb_called.clone(), shutdown_cb_called.clone(), close_cb_called.clone());
    h.connect(echo.path(), move |h, status| {
        status.unwrap();
        h.shutdown(move |_, status| {
            assert!(matches!(status, Ok(()) | Err(Error::ECANCELED)), "{status:?}");
            sc.inc();
        })
        .unwrap();
        assert!(!h.is_closing());
        close_counted(h, &cl);
        assert!(h.is_closing());
        cc.inc();
    })
    .unwrap();
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(shutdown_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-ref.c: an unreferenced, unused pipe does not keep the loop alive.
#[test]
fn pipe_ref() {
    let lp = Loop::new().unwrap();
    let h = Pipe::new(&lp);
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: nor an unreferenced listening one. (libuv's test listens on an unbound
// pipe, which fails; bound here, so that the listener is really active.)
#[test]
fn pipe_ref2() {
    let name = TempPath::new("pipe");
    let lp = Loop::new().unwrap();
    let h = Pipe::new(&lp);
    h.bind(name.path()).unwrap();
    h.listen(128, |_, _| panic!("connection_cb should not have been called")).unwrap();
    assert!(h.is_active());
    h.unref();
    assert!(!lp.run(RunMode::Default));
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: an unreferenced pipe's connect and shutdown requests keep the loop alive
// until they are done.
#[test]
fn pipe_ref3() {
    let echo = EchoServer::start_pipe();
    let lp = Loop::new().unwrap();
    let (connect_cb_called, shutdown_cb_called) = (Counter::new(), Counter::new());
    let h = Pipe::new(&lp);
    let (cc, sc) = (connect_cb_called.clone(), shutdown_cb_called.clone());
    h.connect(echo.path(), move |h, status| {
        status.unwrap();
        h.shutdown(move |_, _| {
            sc.inc();
        })
        .unwrap();
        cc.inc();
    })
    .unwrap();
    h.unref();
    run(&lp);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(shutdown_cb_called.get(), 1);
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: likewise for a write request, whose callback issues the shutdown.
#[test]
fn pipe_ref4() {
    let echo = EchoServer::start_pipe();
    let lp = Loop::new().unwrap();
    let (connect_cb_called, write_cb_called, shutdown_cb_called) = (Counter::new(), Counter::new(), Counter::new());
    let h = Pipe::new(&lp);
    let (cc, wc, sc) = (connect_cb_called.clone(), write_cb_called.clone(), shutdown_cb_called.clone());
    h.connect(echo.path(), move |h, status| {
        status.unwrap();
        let (wc, sc) = (wc.clone(), sc.clone());
        h.write([Bytes::from_static(&[0; 1024])], move |h, _| {
            h.shutdown(move |_, _| {
                sc.inc();
            })
            .unwrap();
            wc.inc();
        })
        .unwrap();
        cc.inc();
    })
    .unwrap();
    h.unref();
    run(&lp);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 1);
    assert_eq!(shutdown_cb_called.get(), 1);
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// Not a libuv test: `open_fd` takes a listening socket made elsewhere, refuses a second
// descriptor (EBUSY) and a TCP socket (EINVAL); the stream side is the one `Tcp` serves.
#[test]
fn pipe_open_fd_listener_and_errors() {
    let name = TempPath::new("pipe");
    let std_listener = std::os::unix::net::UnixListener::bind(name.path()).unwrap();
    let lp = Loop::new().unwrap();
    let server = Pipe::new(&lp);
    server.open_fd(OwnedFd::from(std_listener)).unwrap();
    let other = std::os::unix::net::UnixListener::bind(TempPath::new("pipe").path()).unwrap();
    assert_eq!(server.open_fd(OwnedFd::from(other)), Err(Error::EBUSY));
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p2 = Pipe::new(&lp);
    assert_eq!(p2.open_fd(OwnedFd::from(tcp)), Err(Error::EINVAL));
    p2.close(|_| {});
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    server
        .listen(128, move |server, status| {
            status.unwrap();
            let conn = server.accept().unwrap();
            let (g, srv) = (g.clone(), server.clone());
            conn.read_start(move |conn, ev| match ev {
                ReadEvent::Data(b) => g.borrow_mut().extend_from_slice(&b),
                _ => {
                    conn.close(|_| {});
                    srv.close(|_| {});
                }
            })
            .unwrap();
        })
        .unwrap();
    let p = name.path().to_path_buf();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut s = std::os::unix::net::UnixStream::connect(p).unwrap();
        s.write_all(b"hello over a unix socket").unwrap();
    });
    run(&lp);
    writer.join().unwrap();
    assert_eq!(&got.borrow()[..], b"hello over a unix socket");
    // The handle did not bind the path, so closing it does not unlink it (libuv's
    // `pipe_fname` is set by `uv_pipe_bind` only).
    assert!(name.path().exists());
    make_valgrind_happy(&lp);
}

// Not a libuv test: the stream side (`stream()`) reads and writes the pipe, and refuses
// the calls that make or name TCP sockets (ENOTSUP), so a pipe never holds a TCP socket.
#[test]
fn pipe_stream_refuses_tcp_calls() {
    let lp = Loop::new().unwrap();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let (p, q) = (Pipe::new(&lp), Pipe::new(&lp));
    let t = p.stream();
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    assert_eq!(t.bind(any), Err(Error::ENOTSUP));
    assert_eq!(t.connect(any, |_, _| panic!("connect_cb")), Err(Error::ENOTSUP));
    p.open_fd(OwnedFd::from(a)).unwrap();
    q.open_fd(OwnedFd::from(b)).unwrap();
    assert_eq!(t.set_nodelay(true), Err(Error::ENOTSUP));
    assert_eq!(t.set_keepalive(true, std::time::Duration::from_secs(1)), Err(Error::ENOTSUP));
    assert_eq!(t.local_addr(), Err(Error::ENOTSUP));
    assert_eq!(t.peer_addr(), Err(Error::ENOTSUP));
    let std_tcp = std::net::TcpListener::bind(any).unwrap();
    assert_eq!(Pipe::new(&lp).stream().open_fd(OwnedFd::from(std_tcp)), Err(Error::ENOTSUP));
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    q.read_start(move |q, ev| match ev {
        ReadEvent::Data(d) => g.borrow_mut().extend_from_slice(&d),
        _ => q.close(|_| {}),
    })
    .unwrap();
    t.write([Bytes::from_static(b"via the stream side")], |t, r| {
        r.unwrap();
        t.shutdown(|t, r| {
            r.unwrap();
            t.close(|_| {});
        })
        .unwrap();
    })
    .unwrap();
    run(&lp);
    assert_eq!(&got.borrow()[..], b"via the stream side");
    make_valgrind_happy(&lp);
}
