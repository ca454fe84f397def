//! IPC pipes: handles sent over a pipe (`uv_pipe_init(…, 1)`, `uv_write2`,
//! `uv_pipe_pending_count`/`_type`, `uv_accept` of a pending handle). Ported from libuv
//! 1.46's test/test-pipe-sendmsg.c, test-ipc.c, test-ipc-send-recv.c and
//! test-ipc-heavy-traffic-deadlock-bug.c, with the helpers of test/run-tests.c that
//! they spawn (`ipc_helper_listen_before_write`, `ipc_helper_listen_after_write`,
//! `ipc_helper_tcp_connection`, `ipc_helper_send_zero`, `ipc_send_recv_helper`,
//! `ipc_helper_heavy_traffic_deadlock_bug`). Each test keeps libuv's name and its
//! assertions (callback counts, bytes, pending counts and types, exit status).
//!
//! Like process.rs, this target has no libtest harness (`harness = false`): the binary
//! runs itself again as the helper, with the channel as its descriptor 0, and `main`
//! dispatches on `argv[1]`; otherwise tests/util/runner.rs runs the table of tests one
//! after another, each on a fresh `Loop`, with libtest's substring filter, and kills
//! any helper a failed test left running. Every loop run, the helpers' too, is bounded
//! by a 10 s watchdog (`util::net::run`), so a test fails instead of hanging.
//!
//! Differences from libuv's tests, none in what they check:
//! - Ports: libuv's helpers and tests bind `TEST_PORT`; here (other test binaries run at
//!   the same time) every bind takes port 0 and the port travels as libuv's handles do:
//!   `ipc_listen_before_write`/`_after_write` connect to the port of the server handle
//!   the helper sent (its `getsockname`), `ipc_helper_tcp_connection` connects to the
//!   port its own server got, and `ipc_send_recv_tcp*` bind `send` to `127.0.0.1:0` and
//!   `send2` to the very address `send` got (libuv binds both to `TEST_PORT`: with
//!   `SO_REUSEADDR`, two sockets that do not listen may share it). No port needs to be
//!   passed to a helper.
//! - Pipe names: `TEST_PIPENAME`, `_2` and `_3` are fresh temporary paths per test.
//! - The `_inprocess` variants run the helper on a second thread with a `Loop` of its
//!   own (libuv's `uv_thread_create` with a `uv_loop_init` loop; ours is per thread).
//!   libuv sleeps 1 s for that thread to bind and listen; here the thread says when it
//!   listens.
//! - The in-process helper's `listen_cb` accepts into `ctx2.channel`, a pipe made with
//!   `uv_pipe_init(…, 1)`: here [`Pipe::accept_ipc`] makes the accepted connection an
//!   IPC pipe, which becomes `ctx2.channel`.
//! - `uv_write2` with a NULL send handle is [`Pipe::write`]; a NULL write callback is
//!   one that does nothing. `ASSERT_PTR_EQ` on handles compares handles (`==` is
//!   identity). The read callbacks' `nread == 0` branches ("nothing read") have no
//!   counterpart: a read callback here always brings bytes, EOF or an error.
//! - A helper's `ASSERT` aborts in libuv; here a helper panics and exits with 101.
//!   Either way the parent's `exit_cb` (`exit_status == 0`, `term_signal == 0`) fails.
//!   `notify_parent_process()` (a handshake with libuv's runner) has no counterpart.
//! - `MAKE_VALGRIND_HAPPY` closes what is left open with `uv_walk`; ours requires every
//!   handle closed, so the tests that left handles to it close them just before:
//!   `ipc_send_zero` the channel (both sides), `ipc_send_recv_*` the handles sent and
//!   received in the parent.
//! - `pipe_sendmsg` closes the socket pairs whose ends it sends (libuv leaks them), and
//!   does not make the pipe's descriptor non-blocking itself: `open_fd` has (as
//!   `uv_pipe_open` does).
//!
//! Not ported (Windows-only: under `#ifdef _WIN32` in test-ipc.c and test-list.h):
//! - `ipc_listen_after_bind_twice` (with its helper `ipc_helper_bind_twice`): two
//!   servers bound to the same port with Windows' socket semantics, where the second
//!   `uv_listen` fails with `EADDRINUSE`; on Unix libuv does not build it.
//! - `listen_with_simultaneous_accepts`, `listen_no_simultaneous_accepts`:
//!   `uv_tcp_simultaneous_accepts` and the count of pending `AcceptEx` requests
//!   (`reqs_pending`) exist only in libuv's Windows backend.
//!
//! Additions: `write2_sends_each_handle_with_its_own_bytes` (ours, after libuv's):
//! bytes written before a handle leave with it, and each of two `write2`s of one
//! handle arrives with its own bytes and one pending descriptor.

mod util;

use std::cell::RefCell;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use millrace_reactor::{
    Error, Handle, HandleType, IpcHandle, Loop, Pipe, Process, ProcessOptions, ReadEvent, StdioContainer, Tcp,
};
use util::net::run;
use util::runner::{self, Outcome};
use util::{make_valgrind_happy, Counter, TempPath};

struct Test {
    name: &'static str,
    f: fn(&Loop) -> Outcome,
}

const fn test(name: &'static str, f: fn(&Loop) -> Outcome) -> Test {
    Test { name, f }
}

const TESTS: &[Test] = &[
    test("pipe_sendmsg", pipe_sendmsg),
    test("ipc_listen_before_write", ipc_listen_before_write),
    test("ipc_listen_after_write", ipc_listen_after_write),
    test("ipc_tcp_connection", ipc_tcp_connection),
    test("ipc_send_zero", ipc_send_zero),
    test("ipc_send_recv_pipe", ipc_send_recv_pipe),
    test("ipc_send_recv_pipe_inprocess", ipc_send_recv_pipe_inprocess),
    test("ipc_send_recv_tcp", ipc_send_recv_tcp),
    test("ipc_send_recv_tcp_inprocess", ipc_send_recv_tcp_inprocess),
    test("ipc_heavy_traffic_deadlock_bug", ipc_heavy_traffic_deadlock_bug),
    test("write2_sends_each_handle_with_its_own_bytes", write2_sends_each_handle_with_its_own_bytes),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = args.get(1).and_then(|name| helper(name)) {
        std::process::exit(code);
    }
    runner::run_tests(
        TESTS,
        &args,
        |t| t.name,
        |t| {
            let r = runner::catch(|| {
                let lp = Loop::new().expect("Loop::new");
                (t.f)(&lp)
            });
            runner::reap_children();
            r
        },
    )
}

/// The exit code of helper `name` (run-tests.c's `maybe_run_test`), which has run;
/// `None` if `name` is no helper.
fn helper(name: &str) -> Option<i32> {
    Some(match name {
        "ipc_helper_listen_before_write" => ipc_helper(false),
        "ipc_helper_listen_after_write" => ipc_helper(true),
        "ipc_helper_heavy_traffic_deadlock_bug" => ipc_helper_heavy_traffic_deadlock_bug(),
        "ipc_send_recv_helper" => ipc_send_recv_helper(),
        "ipc_helper_tcp_connection" => ipc_helper_tcp_connection(),
        "ipc_helper_send_zero" => ipc_helper_send_zero(),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------
// Shared pieces.

/// test-ipc.c's `BACKLOG`.
const BACKLOG: i32 = 128;

fn buf(s: &'static [u8]) -> [Bytes; 1] {
    [Bytes::from_static(s)]
}

/// `uv_pipe_open(&channel, 0)` in a helper: descriptor 0 is the parent's channel.
fn stdin_fd() -> OwnedFd {
    // SAFETY: descriptor 0 is the socket the parent made for this helper; nothing else
    // in the helper owns it.
    unsafe { OwnedFd::from_raw_fd(0) }
}

/// `uv_accept` of the pending handle into a handle of the kind `pending` says
/// (`uv_tcp_init`, or `uv_pipe_init(…, 0)`): checks that it is that kind.
fn accept_as(pipe: &Pipe, pending: HandleType) -> IpcHandle {
    let h = pipe.accept_pending().expect("uv_accept");
    match (pending, &h) {
        (HandleType::Tcp, IpcHandle::Tcp(_)) => {}
        (HandleType::NamedPipe, IpcHandle::Pipe(p)) => assert!(!p.is_ipc(), "a received pipe is not IPC"),
        (pending, h) => panic!("uv_accept: pending {pending:?}, got {h:?}"),
    }
    h
}

/// The message a thread's panic left, for the one that joins it.
fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    match e.downcast::<String>() {
        Ok(s) => *s,
        Err(e) => e.downcast_ref::<&str>().map_or("(no message)".to_string(), |s| s.to_string()),
    }
}

/// test-ipc.c's `exit_cb`: the helper exited with 0.
fn exit_cb(exit_cb_called: &Counter) -> impl FnOnce(&Process, i64, i32) + 'static {
    let exit_cb_called = exit_cb_called.clone();
    move |process, exit_status, term_signal| {
        exit_cb_called.inc();
        assert_eq!(exit_status, 0, "exit_cb: exit_status");
        assert_eq!(term_signal, 0, "exit_cb: term_signal");
        process.close(|_| {});
    }
}

/// test-ipc.c's `spawn_helper`: an IPC pipe for the channel, and this binary run as
/// `helper` with the channel's other end as its descriptor 0 (readable and writable)
/// and our 1 and 2 as its 1 and 2.
fn spawn_helper(lp: &Loop, helper: &str, exit_cb_called: &Counter) -> (Pipe, Process) {
    let channel = Pipe::new_ipc(lp);
    assert!(channel.is_ipc());
    let exepath = std::env::current_exe().expect("uv_exepath");
    let options =
        ProcessOptions::new(&exepath).args([exepath.clone().into_os_string(), OsString::from(helper)]).stdio([
            StdioContainer::CreatePipe { pipe: channel.clone(), readable: true, writable: true },
            StdioContainer::InheritFd(1),
            StdioContainer::InheritFd(2),
        ]);
    let process = runner::spawn(lp, &options, exit_cb(exit_cb_called)).expect("uv_spawn");
    (channel, process)
}

/// test-ipc.c's `run_ipc_test`: spawn `helper`, read the channel with `read_cb`, run
/// the loop to its end.
fn run_ipc_test(lp: &Loop, helper: &str, exit_cb_called: &Counter, read_cb: impl FnMut(&Pipe, ReadEvent) + 'static) {
    let (channel, _process) = spawn_helper(lp, helper, exit_cb_called);
    channel.read_start(read_cb).expect("uv_read_start");
    assert!(!run(lp), "uv_run returns 0");
    // MAKE_VALGRIND_HAPPY's uv_walk: the channel of a test that leaves it open.
    if !channel.is_closing() {
        channel.close(|_| {});
    }
    make_valgrind_happy(lp);
}

// ---------------------------------------------------------------------------------
// test-pipe-sendmsg.c

/// test-pipe-sendmsg.c's `incoming`: how many descriptors one `sendmsg` carries.
const INCOMING: usize = 4;

/// One `sendmsg(2)` of the byte "X" with `fds` attached as one `SCM_RIGHTS` message.
fn sendmsg_fds(sock: RawFd, fds: &[RawFd]) -> isize {
    let data = b"X";
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: 1 };
    // u64 elements keep the buffer aligned for cmsghdr.
    let mut scratch = [0u64; 8];
    let fds_len = std::mem::size_of_val(fds) as u32;
    // SAFETY: an all-zero msghdr is valid (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = scratch.as_mut_ptr().cast();
    // SAFETY: CMSG_LEN only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_LEN(fds_len) } as _;
    assert!(std::mem::size_of_val(&scratch) >= msg.msg_controllen as usize);
    // SAFETY: msg_control points at `scratch`, aligned and at least msg_controllen
    // long, so CMSG_FIRSTHDR is not null and CMSG_DATA has room for `fds`.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = msg.msg_controllen as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast::<RawFd>(), fds.len());
    }
    loop {
        // SAFETY: `msg` points at `iov` (which points at `data`) and at `scratch`, all
        // alive across the call.
        let r = unsafe { libc::sendmsg(sock, &msg, 0) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return r;
    }
}

/// One `sendmsg` brings several descriptors (each end of two socket pairs) with one
/// byte: the read callback sees all four pending, each a pipe, and accepts them.
fn pipe_sendmsg(lp: &Loop) -> Outcome {
    let (fds0, fds1) = UnixStream::pair().expect("socketpair");
    let mut send_fds = Vec::new();
    for _ in (0..INCOMING).step_by(2) {
        let (a, b) = UnixStream::pair().expect("socketpair");
        send_fds.push(a);
        send_fds.push(b);
    }
    assert_eq!(send_fds.len(), INCOMING);
    let p = Pipe::new_ipc(lp);
    p.open_fd(fds1.into()).expect("uv_pipe_open");

    let incoming: Rc<RefCell<Vec<Pipe>>> = Rc::default();
    let close_called = Counter::new();
    let (inc, closed) = (incoming.clone(), close_called.clone());
    p.read_start(move |p, ev| {
        // ASSERT(nread >= 0)
        let ReadEvent::Data(_) = ev else { panic!("read_cb: {ev:?} (nread >= 0)") };
        while p.pending_count() != 0 {
            let pending = p.pending_type();
            assert_eq!(pending, HandleType::NamedPipe);
            assert!(inc.borrow().len() < INCOMING);
            let IpcHandle::Pipe(pipe) = accept_as(p, pending) else { unreachable!("checked by accept_as") };
            inc.borrow_mut().push(pipe);
        }
        if inc.borrow().len() != INCOMING {
            return;
        }
        p.read_stop();
        let c = closed.clone();
        p.close(move |_| {
            c.inc();
        });
        for i in inc.borrow().iter() {
            let c = closed.clone();
            i.close(move |_| {
                c.inc();
            });
        }
    })
    .expect("uv_read_start");

    let raw: Vec<RawFd> = send_fds.iter().map(|s| s.as_raw_fd()).collect();
    assert_eq!(sendmsg_fds(fds0.as_raw_fd(), &raw), 1, "sendmsg: {}", std::io::Error::last_os_error());

    run(lp);
    assert_eq!(incoming.borrow().len(), INCOMING);
    assert_eq!(close_called.get(), INCOMING + 1);
    drop(fds0);
    drop(send_fds);
    incoming.borrow_mut().clear();
    make_valgrind_happy(lp);
    Ok(())
}

// ---------------------------------------------------------------------------------
// test-ipc.c: the parent's side

/// test-ipc.c's statics that the parent's callbacks count with.
#[derive(Clone, Default)]
struct G {
    exit_cb_called: Counter,
    read_cb_called: Counter,
    tcp_write_cb_called: Counter,
    tcp_read_cb_called: Counter,
    local_conn_accepted: Counter,
    remote_conn_accepted: Counter,
    tcp_server_listening: Counter,
}

/// test-ipc.c's `CONN_COUNT`.
const CONN_COUNT: usize = 100;

/// test-ipc.c's `on_connection`: the server the helper sent accepts one connection,
/// then closes it and itself.
fn on_connection(g: &G, tcp_server: &Tcp) -> impl FnMut(&Tcp, Result<(), Error>) + 'static {
    let (g, tcp_server) = (g.clone(), tcp_server.clone());
    move |server, status| {
        if g.local_conn_accepted.get() == 0 {
            // Accept the connection and close it. Also close the server.
            assert_eq!(status, Ok(()));
            assert!(*server == tcp_server, "on_connection: server == &tcp_server");
            let conn = server.accept().expect("uv_accept");
            conn.close(|_| {});
            server.close(|_| {});
            g.local_conn_accepted.set(1);
        }
    }
}

/// test-ipc.c's `make_many_connections` (to the port of the server the helper sent).
fn make_many_connections(lp: &Loop, port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..CONN_COUNT {
        let conn = Tcp::new(lp);
        conn.connect(addr, |conn, _| conn.close(|_| {})).expect("uv_tcp_connect");
    }
}

/// test-ipc.c's `on_read`: the first read brings "hello\n" and the helper's server,
/// which starts listening here too; a later "accepted_connection\n" (no handle) says
/// the helper accepted a connection on it, and the channel closes.
fn on_read(lp: &Loop, g: &G) -> impl FnMut(&Pipe, ReadEvent) + 'static {
    let (lp, g) = (lp.clone(), g.clone());
    move |pipe, ev| {
        let data = match ev {
            ReadEvent::Data(data) => data,
            ReadEvent::Eof => return,
            ReadEvent::Error(e) => panic!("error recving on channel: {e}"),
        };
        let pending = pipe.pending_type();
        if g.tcp_server_listening.get() == 0 {
            assert_eq!(pipe.pending_count(), 1);
            assert!(!data.is_empty());
            assert_ne!(pending, HandleType::Unknown);
            g.read_cb_called.inc();

            // Accept the pending TCP server, and start listening on it.
            assert_eq!(pending, HandleType::Tcp);
            let IpcHandle::Tcp(tcp_server) = accept_as(pipe, pending) else { unreachable!("checked by accept_as") };
            tcp_server.listen(BACKLOG, on_connection(&g, &tcp_server)).expect("uv_listen");
            g.tcp_server_listening.set(1);

            // Make sure that the expected data is correctly multiplexed.
            assert_eq!(&data[..], b"hello\n");

            pipe.write(buf(b"foobar\n"), |_, _| {}).expect("uv_write");

            // Create a bunch of connections to get both servers to accept.
            let port = tcp_server.local_addr().expect("the received server's address").port();
            make_many_connections(&lp, port);
        } else if b"accepted_connection\n".starts_with(&data) {
            // memcmp("accepted_connection\n", buf->base, nread) == 0
            // Remote server has accepted a connection. Close the channel.
            assert_eq!(pipe.pending_count(), 0);
            assert_eq!(pending, HandleType::Unknown);
            g.remote_conn_accepted.set(1);
            pipe.close(|_| {});
        }
    }
}

/// The helper binds a TCP server (port 0), listens on it, and sends it with "hello\n";
/// the parent listens on it too and connects to it 100 times: each process accepts a
/// connection, and the helper reports its own over the channel.
fn ipc_listen_before_write(lp: &Loop) -> Outcome {
    let g = G::default();
    run_ipc_test(lp, "ipc_helper_listen_before_write", &g.exit_cb_called, on_read(lp, &g));
    assert_eq!(g.local_conn_accepted.get(), 1);
    assert_eq!(g.remote_conn_accepted.get(), 1);
    assert_eq!(g.read_cb_called.get(), 1);
    assert_eq!(g.exit_cb_called.get(), 1);
    Ok(())
}

/// As `ipc_listen_before_write`, but the helper sends the server before it listens.
fn ipc_listen_after_write(lp: &Loop) -> Outcome {
    let g = G::default();
    run_ipc_test(lp, "ipc_helper_listen_after_write", &g.exit_cb_called, on_read(lp, &g));
    assert_eq!(g.local_conn_accepted.get(), 1);
    assert_eq!(g.remote_conn_accepted.get(), 1);
    assert_eq!(g.read_cb_called.get(), 1);
    assert_eq!(g.exit_cb_called.get(), 1);
    Ok(())
}

/// test-ipc.c's `on_read_connection`: the helper sends the server side of a connection
/// with "hello\n"; the parent writes "world\n" on it and reads "hello again\n" back.
fn on_read_connection(g: &G) -> impl FnMut(&Pipe, ReadEvent) + 'static {
    let g = g.clone();
    move |pipe, ev| {
        let data = match ev {
            ReadEvent::Data(data) => data,
            ReadEvent::Eof => return,
            ReadEvent::Error(e) => panic!("error recving on channel: {e}"),
        };
        assert_eq!(pipe.pending_count(), 1);
        let pending = pipe.pending_type();
        assert!(!data.is_empty());
        assert_ne!(pending, HandleType::Unknown);
        g.read_cb_called.inc();

        // Accept the pending TCP connection.
        assert_eq!(pending, HandleType::Tcp);
        let IpcHandle::Tcp(tcp_connection) = accept_as(pipe, pending) else { unreachable!("checked by accept_as") };

        // Make sure that the expected data is correctly multiplexed.
        assert_eq!(&data[..], b"hello\n");

        // Write/read to/from the connection.
        let (written, conn) = (g.tcp_write_cb_called.clone(), tcp_connection.clone());
        tcp_connection
            .write(buf(b"world\n"), move |tcp, status| {
                // on_tcp_write
                assert_eq!(status, Ok(()));
                assert!(*tcp == conn, "on_tcp_write: req->handle == &tcp_connection");
                written.inc();
            })
            .expect("uv_write");

        let (read, conn, channel) = (g.tcp_read_cb_called.clone(), tcp_connection.clone(), pipe.clone());
        tcp_connection
            .read_start(move |tcp, ev| {
                // on_tcp_read
                let ReadEvent::Data(data) = ev else { panic!("on_tcp_read: {ev:?} (nread > 0)") };
                assert_eq!(&data[..], b"hello again\n");
                assert!(*tcp == conn, "on_tcp_read: tcp == &tcp_connection");
                read.inc();
                tcp.close(|_| {});
                channel.close(|_| {});
            })
            .expect("uv_read_start");
    }
}

/// The helper connects to its own server and sends the accepted side over the channel;
/// the parent and the helper's client talk over it.
fn ipc_tcp_connection(lp: &Loop) -> Outcome {
    let g = G::default();
    run_ipc_test(lp, "ipc_helper_tcp_connection", &g.exit_cb_called, on_read_connection(&g));
    assert_eq!(g.read_cb_called.get(), 1);
    assert_eq!(g.tcp_write_cb_called.get(), 1);
    assert_eq!(g.tcp_read_cb_called.get(), 1);
    assert_eq!(g.exit_cb_called.get(), 1);
    Ok(())
}

/// The helper writes a request of no bytes on a plain (not IPC) pipe over the channel:
/// its callback runs, and the parent reads nothing but EOF.
fn ipc_send_zero(lp: &Loop) -> Outcome {
    let g = G::default();
    run_ipc_test(lp, "ipc_helper_send_zero", &g.exit_cb_called, |_, ev| {
        // on_read_send_zero: ASSERT(nread == 0 || nread == UV_EOF)
        assert!(matches!(ev, ReadEvent::Eof), "on_read_send_zero: {ev:?} (nread == 0 || nread == UV_EOF)");
    });
    Ok(())
}

// ---------------------------------------------------------------------------------
// test-ipc.c: the helpers' side

/// test-ipc.c's helper statics.
#[derive(Clone, Default)]
struct Child {
    close_cb_called: Counter,
    connection_accepted: Counter,
    tcp_conn_read_cb_called: Counter,
    tcp_conn_write_cb_called: Counter,
    send_zero_write: Counter,
}

impl Child {
    /// `close_cb`.
    fn close_cb<H>(&self) -> impl FnOnce(&H) + 'static {
        let c = self.close_cb_called.clone();
        move |_| {
            c.inc();
        }
    }
}

/// The helper's channel: an IPC pipe (unless `ipc` is false) on descriptor 0, readable,
/// writable and not closing.
fn open_channel(lp: &Loop, ipc: bool) -> Pipe {
    let channel = if ipc { Pipe::new_ipc(lp) } else { Pipe::new(lp) };
    channel.open_fd(stdin_fd()).expect("uv_pipe_open(&channel, 0)");
    assert!(channel.is_readable());
    assert!(channel.is_writable());
    assert!(!channel.is_closing());
    channel
}

/// `ipc_on_connection`: accept the first connection and close it, and tell the parent;
/// when that is written, close the server and the channel.
fn ipc_on_connection(c: &Child, channel: &Pipe, tcp_server: &Tcp) -> impl FnMut(&Tcp, Result<(), Error>) + 'static {
    let (c, channel, tcp_server) = (c.clone(), channel.clone(), tcp_server.clone());
    move |server, status| {
        if c.connection_accepted.get() == 0 {
            // Accept the connection and close it. Also let the other side know.
            assert_eq!(status, Ok(()));
            assert!(*server == tcp_server, "ipc_on_connection: server == &tcp_server");
            let conn = server.accept().expect("uv_accept");
            conn.close(c.close_cb());
            let (c2, server) = (c.clone(), tcp_server.clone());
            channel
                .write(buf(b"accepted_connection\n"), move |channel, _| {
                    // conn_notify_write_cb
                    server.close(c2.close_cb());
                    channel.close(c2.close_cb());
                })
                .expect("uv_write2");
            c.connection_accepted.set(1);
        }
    }
}

/// run-tests.c's `ipc_helper`: sends its TCP server (bound to `0.0.0.0`, port 0) to the
/// parent with "hello\n", listening before or after the write.
fn ipc_helper(listen_after_write: bool) -> i32 {
    let lp = Loop::new().expect("Loop::new");
    let c = Child::default();
    let channel = open_channel(&lp, true);
    let tcp_server = Tcp::new(&lp);
    tcp_server.bind(SocketAddr::from(([0, 0, 0, 0], 0))).expect("uv_tcp_bind");
    if !listen_after_write {
        tcp_server.listen(BACKLOG, ipc_on_connection(&c, &channel, &tcp_server)).expect("uv_listen");
    }
    channel.write2(buf(b"hello\n"), &tcp_server, |_, _| {}).expect("uv_write2");
    if listen_after_write {
        tcp_server.listen(BACKLOG, ipc_on_connection(&c, &channel, &tcp_server)).expect("uv_listen");
    }
    assert!(!run(&lp), "uv_run returns 0");
    assert_eq!(c.connection_accepted.get(), 1);
    assert_eq!(c.close_cb_called.get(), 3);
    make_valgrind_happy(&lp);
    0
}

/// `on_tcp_child_process_read`: the helper's client reads "world\n" from the parent and
/// answers "hello again\n"; when that is written it closes everything
/// (`tcp_connection_write_cb`).
fn on_tcp_child_process_read(c: &Child, channel: &Pipe, tcp_server: &Tcp) -> impl FnMut(&Tcp, ReadEvent) + 'static {
    let (c, channel, tcp_server) = (c.clone(), channel.clone(), tcp_server.clone());
    move |tcp, ev| {
        let data = match ev {
            ReadEvent::Data(data) => data,
            ReadEvent::Eof => return,
            ReadEvent::Error(e) => panic!("error recving on tcp connection: {e}"),
        };
        assert!(!data.is_empty());
        assert_eq!(&data[..], b"world\n");

        // Write to the socket.
        let (c2, channel, tcp_server, conn) = (c.clone(), channel.clone(), tcp_server.clone(), tcp.clone());
        tcp.write(buf(b"hello again\n"), move |handle, _| {
            // tcp_connection_write_cb
            assert!(*handle == conn, "tcp_connection_write_cb: req->handle == &conn.conn");
            handle.close(c2.close_cb());
            channel.close(c2.close_cb());
            tcp_server.close(c2.close_cb());
            c2.tcp_conn_write_cb_called.inc();
        })
        .expect("uv_write");
        c.tcp_conn_read_cb_called.inc();
    }
}

/// run-tests.c's `ipc_helper_tcp_connection`: a server (port 0) that sends the
/// connection it accepts to the parent with "hello\n", and a client connected to it.
fn ipc_helper_tcp_connection() -> i32 {
    let lp = Loop::new().expect("Loop::new");
    let c = Child::default();
    let channel = open_channel(&lp, true);
    let tcp_server = Tcp::new(&lp);
    tcp_server.bind(SocketAddr::from(([0, 0, 0, 0], 0))).expect("uv_tcp_bind");
    let port = tcp_server.local_addr().expect("uv_tcp_getsockname").port();

    // ipc_on_connection_tcp_conn
    let (c2, ch, server) = (c.clone(), channel.clone(), tcp_server.clone());
    tcp_server
        .listen(BACKLOG, move |srv, status| {
            assert_eq!(status, Ok(()));
            assert!(*srv == server, "ipc_on_connection_tcp_conn: server == &tcp_server");
            let conn = srv.accept().expect("uv_accept");
            // Send the accepted connection to the other process.
            ch.write2(buf(b"hello\n"), &conn, |_, _| {}).expect("uv_write2");
            conn.read_start(on_tcp_child_process_read(&c2, &ch, &server)).expect("uv_read_start");
            conn.close(c2.close_cb()); // close_and_free_cb
        })
        .expect("uv_listen");

    // Make a connection to the server.
    let conn = Tcp::new(&lp);
    let (c2, ch, server) = (c.clone(), channel.clone(), tcp_server.clone());
    conn.connect(SocketAddr::from(([127, 0, 0, 1], port)), move |conn, status| {
        // connect_child_process_cb
        assert_eq!(status, Ok(()));
        conn.read_start(on_tcp_child_process_read(&c2, &ch, &server)).expect("uv_read_start");
    })
    .expect("uv_tcp_connect");

    assert!(!run(&lp), "uv_run returns 0");
    assert_eq!(c.tcp_conn_read_cb_called.get(), 1);
    assert_eq!(c.tcp_conn_write_cb_called.get(), 1);
    assert_eq!(c.close_cb_called.get(), 4);
    make_valgrind_happy(&lp);
    0
}

/// run-tests.c's `ipc_helper_send_zero`: a write of no bytes on a plain pipe.
fn ipc_helper_send_zero() -> i32 {
    let lp = Loop::new().expect("Loop::new");
    let c = Child::default();
    let channel = open_channel(&lp, false);
    let written = c.send_zero_write.clone();
    channel
        .write([Bytes::new()], move |_, status| {
            // send_zero_write_cb
            assert_eq!(status, Ok(()));
            written.inc();
        })
        .expect("uv_write");
    assert!(!run(&lp), "uv_run returns 0");
    assert_eq!(c.send_zero_write.get(), 1);
    // MAKE_VALGRIND_HAPPY's uv_walk.
    channel.close(|_| {});
    make_valgrind_happy(&lp);
    0
}

// ---------------------------------------------------------------------------------
// test-ipc-send-recv.c

/// test-ipc-send-recv.c's `struct test_ctx`: the parent's side.
struct TestCtx {
    channel: Pipe,
    expected_type: HandleType,
    send: IpcHandle,
    send2: IpcHandle,
    /// `recv` and `recv2`.
    recv: RefCell<Vec<IpcHandle>>,
    recv_cb_count: Counter,
}

/// `recv_cb`: each read brings one of the two handles back, of the type sent; the
/// channel closes after the second.
fn recv_cb(ctx: &TestCtx, pipe: &Pipe, ev: ReadEvent) {
    assert!(*pipe == ctx.channel, "recv_cb: pipe == &ctx.channel");
    loop {
        let count = ctx.recv_cb_count.inc();
        match &ev {
            // Depending on the OS, the final recv_cb can be called after the child
            // process has terminated, which can result in UV_EOF instead of the number
            // of bytes read. Since the other end of the pipe has closed, UV_EOF is an
            // acceptable value, only for the final recv_cb call.
            ReadEvent::Eof => assert_eq!(count, 2, "UV_EOF before the final recv_cb"),
            ReadEvent::Error(e) => panic!("recv_cb: {e} (nread >= 0)"),
            ReadEvent::Data(_) => {
                assert!(pipe.pending_count() > 0);
                let pending = pipe.pending_type();
                assert_eq!(pending, ctx.expected_type);
                ctx.recv.borrow_mut().push(accept_as(pipe, pending));
            }
        }
        if pipe.pending_count() == 0 {
            break;
        }
    }
    // Close after two writes received.
    if ctx.recv_cb_count.get() == 2 {
        ctx.channel.close(|_| {});
    }
}

/// `connect_cb`: two `write2`s of "." on the channel, one per handle (libuv's issue 505
/// was about two on one pipe, on Windows), then read what comes back.
fn connect_cb(ctx: &Rc<TestCtx>, status: Result<(), Error>) {
    assert_eq!(status, Ok(()));
    ctx.channel.write2(buf(b"."), ctx.send.clone(), |_, _| {}).expect("uv_write2");
    ctx.channel.write2(buf(b"."), ctx.send2.clone(), |_, _| {}).expect("uv_write2");
    let c = ctx.clone();
    ctx.channel.read_start(move |pipe, ev| recv_cb(&c, pipe, ev)).expect("uv_read_start");
}

/// `run_test`: the helper (a process, or a thread with its own loop) sends back each
/// handle it receives; both must come back.
fn run_test(lp: &Loop, expected_type: HandleType, send: IpcHandle, send2: IpcHandle, inprocess: bool) -> Rc<TestCtx> {
    let exit_cb_called = Counter::new();
    let mut thread = None;
    let ctx = if inprocess {
        let name = TempPath::new("ipc-send-recv"); // TEST_PIPENAME_3
        let path = name.path().to_path_buf();
        let (ready, listening) = mpsc::channel();
        let t = std::thread::Builder::new()
            .name("ipc_send_recv_helper".into())
            .spawn(move || ipc_send_recv_helper_threadproc(&path, ready))
            .expect("uv_thread_create");
        // libuv's uv_sleep(1000): wait until the thread listens.
        if listening.recv_timeout(Duration::from_secs(10)).is_err() {
            match t.join() {
                Err(e) => panic!("the helper thread failed: {}", panic_message(e)),
                Ok(()) => panic!("the helper thread ended without listening"),
            }
        }
        let ctx = Rc::new(TestCtx {
            channel: Pipe::new_ipc(lp),
            expected_type,
            send,
            send2,
            recv: RefCell::default(),
            recv_cb_count: Counter::new(),
        });
        let c = ctx.clone();
        ctx.channel
            .connect(name.path(), move |pipe, status| {
                assert!(*pipe == c.channel, "connect_cb: req == &ctx.connect_req");
                connect_cb(&c, status);
            })
            .expect("uv_pipe_connect");
        thread = Some((t, name));
        ctx
    } else {
        let (channel, _process) = spawn_helper(lp, "ipc_send_recv_helper", &exit_cb_called);
        let ctx = Rc::new(TestCtx {
            channel,
            expected_type,
            send,
            send2,
            recv: RefCell::default(),
            recv_cb_count: Counter::new(),
        });
        connect_cb(&ctx, Ok(()));
        ctx
    };

    assert!(!run(lp), "uv_run returns 0");
    assert_eq!(ctx.recv_cb_count.get(), 2);
    if let Some((t, _name)) = thread {
        if let Err(e) = t.join() {
            panic!("the helper thread failed: {}", panic_message(e));
        }
    }
    ctx
}

/// MAKE_VALGRIND_HAPPY's uv_walk over what `run_test` leaves open: the handles sent
/// and received.
fn close_sent_and_received(lp: &Loop, ctx: Rc<TestCtx>) {
    ctx.send.close(|| {});
    ctx.send2.close(|| {});
    for h in ctx.recv.borrow().iter() {
        h.close(|| {});
    }
    drop(ctx);
    make_valgrind_happy(lp);
}

/// `run_ipc_send_recv_pipe`: two IPC pipes bound to `TEST_PIPENAME` and
/// `TEST_PIPENAME_2`, sent and received back as pipes.
fn run_ipc_send_recv_pipe(lp: &Loop, inprocess: bool) -> Outcome {
    let (name, name2) = (TempPath::new("ipc-send"), TempPath::new("ipc-send2"));
    let send = Pipe::new_ipc(lp);
    send.bind(name.path()).expect("uv_pipe_bind");
    let send2 = Pipe::new_ipc(lp);
    send2.bind(name2.path()).expect("uv_pipe_bind");
    let ctx = run_test(lp, HandleType::NamedPipe, (&send).into(), (&send2).into(), inprocess);
    close_sent_and_received(lp, ctx);
    Ok(())
}

fn ipc_send_recv_pipe(lp: &Loop) -> Outcome {
    run_ipc_send_recv_pipe(lp, false)
}

fn ipc_send_recv_pipe_inprocess(lp: &Loop) -> Outcome {
    run_ipc_send_recv_pipe(lp, true)
}

/// `run_ipc_send_recv_tcp`: two TCP sockets bound to the same address (libuv's
/// `TEST_PORT`; here the port the first got), sent and received back as TCP handles.
fn run_ipc_send_recv_tcp(lp: &Loop, inprocess: bool) -> Outcome {
    let send = Tcp::new(lp);
    let send2 = Tcp::new(lp);
    send.bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("uv_tcp_bind");
    let addr = send.local_addr().expect("uv_tcp_getsockname");
    send2.bind(addr).expect("uv_tcp_bind");
    assert_eq!(send2.local_addr(), Ok(addr), "both bound to the same address");
    let ctx = run_test(lp, HandleType::Tcp, (&send).into(), (&send2).into(), inprocess);
    close_sent_and_received(lp, ctx);
    Ok(())
}

fn ipc_send_recv_tcp(lp: &Loop) -> Outcome {
    run_ipc_send_recv_tcp(lp, false)
}

fn ipc_send_recv_tcp_inprocess(lp: &Loop) -> Outcome {
    run_ipc_send_recv_tcp(lp, true)
}

/// test-ipc-send-recv.c's `struct echo_ctx`: the helper's side.
struct EchoCtx {
    listen: Pipe,
    /// Replaced, in process, by the connection accepted into an IPC pipe.
    channel: RefCell<Pipe>,
    /// `recv` and `recv2`.
    recv: RefCell<Vec<IpcHandle>>,
    write2_cb_called: Counter,
}

/// `write2_cb`: after two successful writes, close everything so the helper ends.
fn write2_cb(ctx2: &EchoCtx, status: Result<(), Error>) {
    assert_eq!(status, Ok(()));
    if ctx2.write2_cb_called.inc() == 2 {
        for h in ctx2.recv.borrow().iter() {
            h.close(|| {});
        }
        ctx2.channel.borrow().close(|_| {});
        ctx2.listen.close(|_| {});
    }
}

/// `read_cb`: accept every pending handle and send it back with ".".
fn read_cb(ctx2: &Rc<EchoCtx>, pipe: &Pipe, ev: ReadEvent) {
    match ev {
        ReadEvent::Eof | ReadEvent::Error(Error::ECONNABORTED) => return,
        ReadEvent::Error(e) => panic!("read_cb: {e} (nread >= 0)"),
        ReadEvent::Data(_) => {}
    }
    assert!(*pipe == *ctx2.channel.borrow(), "read_cb: pipe == &ctx2.channel");
    while pipe.pending_count() > 0 {
        let pending = pipe.pending_type();
        assert!(pending == HandleType::NamedPipe || pending == HandleType::Tcp, "read_cb: pending {pending:?}");
        let recv = accept_as(pipe, pending);
        let c = ctx2.clone();
        pipe.write2(buf(b"."), recv.clone(), move |_, status| write2_cb(&c, status)).expect("uv_write2");
        ctx2.recv.borrow_mut().push(recv);
    }
}

/// `send_recv_start`.
fn send_recv_start(ctx2: &Rc<EchoCtx>) {
    let channel = ctx2.channel.borrow().clone();
    assert!(channel.is_readable());
    assert!(channel.is_writable());
    assert!(!channel.is_closing());
    let c = ctx2.clone();
    channel.read_start(move |pipe, ev| read_cb(&c, pipe, ev)).expect("uv_read_start");
}

/// `run_ipc_send_recv_helper`: on the channel (descriptor 0), or, in process, on the
/// connection accepted on `TEST_PIPENAME_3` (`ready` is told when it listens).
fn run_ipc_send_recv_helper(lp: &Loop, inprocess: Option<(&Path, mpsc::Sender<()>)>) {
    let ctx2 = Rc::new(EchoCtx {
        listen: Pipe::new(lp),
        channel: RefCell::new(Pipe::new_ipc(lp)),
        recv: RefCell::default(),
        write2_cb_called: Counter::new(),
    });
    match inprocess {
        Some((path, ready)) => {
            ctx2.listen.bind(path).expect("uv_pipe_bind");
            let c = ctx2.clone();
            ctx2.listen
                .listen(libc::SOMAXCONN, move |listen, status| {
                    // listen_cb
                    assert!(*listen == c.listen, "listen_cb: handle == &ctx2.listen");
                    assert_eq!(status, Ok(()));
                    // uv_accept(&ctx2.listen, &ctx2.channel), ctx2.channel an IPC pipe.
                    let conn = listen.accept_ipc().expect("uv_accept");
                    *c.channel.borrow_mut() = conn;
                    send_recv_start(&c);
                })
                .expect("uv_listen");
            // libuv's parent sleeps 1 s instead.
            ready.send(()).expect("the test waits for the helper thread");
        }
        None => {
            ctx2.channel.borrow().open_fd(stdin_fd()).expect("uv_pipe_open(&ctx2.channel, 0)");
            send_recv_start(&ctx2);
        }
    }
    assert!(!run(lp), "uv_run returns 0");
}

/// run-tests.c's `ipc_send_recv_helper`: descriptor 0 is a duplex channel over which a
/// handle is sent; receive it and send it back where it came from.
fn ipc_send_recv_helper() -> i32 {
    let lp = Loop::new().expect("Loop::new");
    run_ipc_send_recv_helper(&lp, None);
    make_valgrind_happy(&lp);
    0
}

/// `ipc_send_recv_helper_threadproc`: the same on a thread with a loop of its own.
fn ipc_send_recv_helper_threadproc(path: &Path, ready: mpsc::Sender<()>) {
    let lp = Loop::new().expect("uv_loop_init");
    run_ipc_send_recv_helper(&lp, Some((path, ready)));
    make_valgrind_happy(&lp); // uv_loop_close(&loop) == 0
}

// ---------------------------------------------------------------------------------
// test-ipc-heavy-traffic-deadlock-bug.c

const NUM_WRITES: usize = 256;
const BUFFERS_PER_WRITE: usize = 3;
const BUFFER_SIZE: usize = 0x2000; // 8 KiB
const BUFFER_CONTENT: u8 = 42;
const XFER_SIZE: usize = NUM_WRITES * BUFFERS_PER_WRITE * BUFFER_SIZE;

/// `do_writes_and_reads`: both sides write 6 MiB while reading the other's 6 MiB; when
/// a side has read it all it stops reading, shuts down and closes.
fn do_writes_and_reads(lp: &Loop, handle: &Pipe) {
    let bytes_written = Counter::new();
    let bytes_read = Counter::new();
    let buffer = Bytes::from(vec![BUFFER_CONTENT; BUFFER_SIZE]);
    for _ in 0..NUM_WRITES {
        // do_write
        let written = bytes_written.clone();
        let bufs = std::iter::repeat_n(buffer.clone(), BUFFERS_PER_WRITE);
        handle
            .write(bufs, move |_, status| {
                // write_cb
                assert_eq!(status, Ok(()));
                written.set(written.get() + BUFFERS_PER_WRITE * BUFFER_SIZE);
            })
            .expect("uv_write");
    }
    let read = bytes_read.clone();
    handle
        .read_start(move |handle, ev| {
            // read_cb
            let ReadEvent::Data(data) = ev else { panic!("read_cb: {ev:?} (nread >= 0)") };
            read.set(read.get() + data.len());
            assert!(data.iter().all(|&b| b == BUFFER_CONTENT), "read_cb: buf->base[i] == BUFFER_CONTENT");
            if read.get() >= XFER_SIZE {
                handle.read_stop();
                handle
                    .shutdown(|handle, status| {
                        // shutdown_cb
                        assert!(matches!(status, Ok(()) | Err(Error::ENOTCONN)), "shutdown_cb: {status:?}");
                        handle.close(|_| {});
                    })
                    .expect("uv_shutdown");
            }
        })
        .expect("uv_read_start");
    assert!(!run(lp), "uv_run returns 0");
    assert_eq!(bytes_written.get(), XFER_SIZE);
    assert_eq!(bytes_read.get(), XFER_SIZE);
}

/// Heavy traffic both ways on an IPC pipe at once must not deadlock.
fn ipc_heavy_traffic_deadlock_bug(lp: &Loop) -> Outcome {
    let exit_cb_called = Counter::new();
    let (pipe, _process) = spawn_helper(lp, "ipc_helper_heavy_traffic_deadlock_bug", &exit_cb_called);
    do_writes_and_reads(lp, &pipe);
    make_valgrind_happy(lp);
    Ok(())
}

/// run-tests.c's `ipc_helper_heavy_traffic_deadlock_bug`.
fn ipc_helper_heavy_traffic_deadlock_bug() -> i32 {
    let lp = Loop::new().expect("Loop::new");
    let pipe = Pipe::new_ipc(&lp);
    pipe.open_fd(stdin_fd()).expect("uv_pipe_open(&pipe, 0)");
    do_writes_and_reads(&lp, &pipe);
    std::thread::sleep(Duration::from_millis(100)); // uv_sleep(100)
    make_valgrind_happy(&lp);
    0
}

// ---------------------------------------------------------------------------------
// Ours.

/// Bytes written before a `write2` leave with its handle, and each of two `write2`s of
/// one TCP server arrives with its own bytes and exactly one pending descriptor, which
/// accepts as a TCP handle bound to the server's port.
fn write2_sends_each_handle_with_its_own_bytes(lp: &Loop) -> Outcome {
    let (a, b) = UnixStream::pair().expect("socketpair");
    let (pa, pb) = (Pipe::new_ipc(lp), Pipe::new_ipc(lp));
    pa.open_fd(a.into()).expect("uv_pipe_open");
    pb.open_fd(b.into()).expect("uv_pipe_open");
    let server = Tcp::new(lp);
    server.bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("uv_tcp_bind");
    let port = server.local_addr().expect("uv_tcp_getsockname").port();
    let written = Counter::new();
    let w = written.clone();
    pa.write(buf(b"plain "), move |_, r| {
        assert_eq!(r, Ok(()));
        w.inc();
    })
    .expect("uv_write");
    for bytes in [&b"hello\n"[..], &b"again\n"[..]] {
        let w = written.clone();
        pa.write2([Bytes::from_static(bytes)], &server, move |_, r| {
            assert_eq!(r, Ok(()));
            w.inc();
        })
        .expect("uv_write2");
    }
    let got: Rc<RefCell<Vec<(String, usize, HandleType)>>> = Rc::default();
    let (g, s, writer) = (got.clone(), server.clone(), pa.clone());
    pb.read_start(move |p, ev| {
        let ReadEvent::Data(d) = ev else { panic!("read: {ev:?}") };
        g.borrow_mut().push((String::from_utf8_lossy(&d).into_owned(), p.pending_count(), p.pending_type()));
        while p.pending_count() > 0 {
            let IpcHandle::Tcp(t) = p.accept_pending().expect("uv_accept") else { panic!("not a TCP handle") };
            assert_eq!(t.local_addr().expect("the received socket's address").port(), port);
            t.close(|_| {});
        }
        if g.borrow().len() == 2 {
            p.close(|_| {});
            s.close(|_| {});
            writer.close(|_| {});
        }
    })
    .expect("uv_read_start");
    assert!(!run(lp), "uv_run returns 0");
    assert_eq!(written.get(), 3);
    assert_eq!(
        *got.borrow(),
        [("plain hello\n".to_string(), 1, HandleType::Tcp), ("again\n".to_string(), 1, HandleType::Tcp)]
    );
    make_valgrind_happy(lp);
    Ok(())
}
