//! UDP handles: libuv's UDP tests, one test per libuv test, same names. Ported from
//! test-udp-send-and-recv.c, test-udp-connect.c, test-udp-connect6.c, test-udp-try-send.c,
//! test-udp-bind.c, test-udp-options.c, test-udp-dgram-too-big.c,
//! test-udp-send-immediate.c, test-udp-open.c (`udp_open`, `udp_open_twice`,
//! `udp_open_bound`, `udp_open_connect`, `udp_send_unix`),
//! test-udp-create-socket-early.c, test-udp-ipv6.c (`udp_dual_stack`, `udp_ipv6_only`),
//! test-udp-recv-in-a-row.c, test-udp-send-unreachable.c, test-udp-send-hang-loop.c,
//! test-udp-sendmmsg-error.c, test-udp-multicast-join.c, test-udp-multicast-join6.c,
//! test-udp-multicast-interface.c, test-udp-multicast-interface6.c,
//! test-udp-multicast-ttl.c, test-getsockname.c (`getsockname_udp`), test-ref.c
//! (`udp_ref*`), test-socket-buffer-size.c and test-watcher-cross-stop.c. The tests whose
//! names are not libuv's (`udp_close_cancels_queued_sends`,
//! `udp_recv_reports_nothing_more`, `udp_recv_more_than_a_wakeup_reads`,
//! `udp_connected_to_a_closed_port`, `udp_membership`, `udp_membership_binds_first`)
//! check what libuv's source promises but no libuv test asserts.
//!
//! Differences from libuv's tests:
//!
//! - Ports are ephemeral: a server binds port 0 and the test sends to the port it got,
//!   and a destination nobody listens on (libuv's `TEST_PORT` as a sink) is a loopback
//!   port the kernel just gave out and took back. Where libuv binds `TEST_PORT` after
//!   connecting a socket to it (`udp_open_connect`), the server binds first.
//! - Every loop run has a watchdog (`util::net::run`): a test fails instead of hanging.
//! - No `alloc_cb`: the handle reads into its own 64 KiB buffer, so assertions on
//!   allocation counts (`udp_send_unreachable`'s `recv_cb_called == alloc_cb_called`)
//!   have nothing to count and are left out.
//! - libuv's `NULL` send callback (`udp_send_unix`) is a callback that ignores the
//!   result; a libuv interface string is a typed value: `"0.0.0.0"` is
//!   `Ipv4Addr::UNSPECIFIED`, an IPv6 interface the index libuv would take from its scope
//!   (`None` for `NULL`).
//! - `udp_send_unreachable`'s second socket asks for `UV_UDP_LINUX_RECVERR` through
//!   `Udp::bind_recverr` (`UdpBindFlags` has no field for it).
//! - A test that cannot run here says so, past libtest's capture, as `SKIPPED name: why`
//!   and passes, where libuv's `RETURN_SKIP` would: no IPv6 (`can_ipv6()`), no
//!   multicast route (`ENODEV` from joining a group), no external IPv6 interface.
//!
//! Not ported:
//!
//! - `udp_alloc_cb_fail`: it gives the handle an `alloc_cb` that returns no buffer and
//!   expects `UV_ENOBUFS`; this handle has no allocation callback to fail.
//! - `udp_mmsg`: it counts `alloc_cb` calls against `recvmmsg` batches
//!   (`UV_UDP_MMSG_CHUNK`, `UV_UDP_MMSG_FREE`, `uv_udp_using_recvmmsg`); this handle
//!   reads each datagram with its own `recvfrom` into its own buffer, so there are no
//!   batches or allocations to count. (`Udp::new_ex` accepts `UV_UDP_RECVMMSG`, as
//!   `udp_no_autobind` checks, and ignores it.)
//! - `udp_open`'s `EEXIST` half (a second handle opening the descriptor of the first):
//!   the handle owns the `OwnedFd` it opens, so no second handle can be given the same
//!   descriptor.

mod util;

use std::cell::{Cell, RefCell};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{Check, Error, Handle, Idle, Loop, Membership, RunMode, Timer, Udp, UdpBindFlags, UdpRecv};
use socket2::{Domain, SockAddr, Socket, Type};
use util::net::{can_ipv6, can_ipv6_external, run, WATCHDOG_MS};
use util::{do_close, make_valgrind_happy, run_watched, Counter, TempPath};

/// libuv's `RETURN_SKIP`: says, past libtest's output capture, that `test` could not run
/// here and why.
fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// `can_ipv6()`, or a loud skip of `test`.
fn ipv6_or_skip(test: &str) -> bool {
    let ok = can_ipv6();
    if !ok {
        skip(test, "IPv6 not supported");
    }
    ok
}

/// A loopback UDP port nobody is bound to (the kernel just gave it out and took it
/// back): libuv's `TEST_PORT` as a destination that does not answer.
fn closed_udp_port() -> SocketAddr {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `uv_close(handle, close_cb)` with libuv's usual `close_cb`: checks the handle is
/// closing and counts.
fn close_counted<H: Handle>(h: &H, c: &Counter) {
    let c = c.clone();
    h.close(move |h| {
        assert!(h.is_closing());
        c.inc();
    });
}

fn b(s: &'static str) -> Vec<Bytes> {
    vec![Bytes::from_static(s.as_bytes())]
}

/// `uv_udp_init_ex`'s `UV_UDP_RECVMMSG`.
const UV_UDP_RECVMMSG: u32 = 0x100;

/// A server bound to 127.0.0.1 on a free port.
fn server(lp: &Loop) -> (Udp, SocketAddr) {
    let s = Udp::new(lp);
    s.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let addr = s.getsockname().unwrap();
    (s, addr)
}

// test-udp-send-and-recv.c: the client sends PING, the server answers PONG to where it
// came from; both close after the exchange. Every callback runs once; "nothing more"
// callbacks (nread 0, no address) are ignored, as libuv's test does.
#[test]
fn udp_send_and_recv() {
    let lp = Loop::new().unwrap();
    let (srv, addr) = server(&lp);
    let client = Udp::new(&lp);
    let counts = Rc::new(RefCell::new([0usize; 5])); // cl_send, cl_recv, sv_send, sv_recv, close
    let c = counts.clone();
    srv.recv_start(move |s, r| {
        let UdpRecv { data, addr } = r.unwrap();
        let Some(from) = addr else { return };
        assert_eq!(&data[..], b"PING");
        c.borrow_mut()[3] += 1;
        s.recv_stop();
        let c2 = c.clone();
        s.send(b("PONG"), Some(from), move |s, r| {
            r.unwrap();
            c2.borrow_mut()[2] += 1;
            let c3 = c2.clone();
            s.close(move |_| c3.borrow_mut()[4] += 1);
        })
        .unwrap();
    })
    .unwrap();
    let c = counts.clone();
    client
        .send(b("PING"), Some(addr), move |cl, r| {
            r.unwrap();
            c.borrow_mut()[0] += 1;
            let c2 = c.clone();
            cl.recv_start(move |cl, r| {
                let UdpRecv { data, addr } = r.unwrap();
                if addr.is_none() {
                    return;
                }
                assert_eq!(&data[..], b"PONG");
                c2.borrow_mut()[1] += 1;
                let c3 = c2.clone();
                cl.close(move |_| c3.borrow_mut()[4] += 1);
            })
            .unwrap();
        })
        .unwrap();
    assert_eq!(client.send_queue_count(), 1);
    assert_eq!(client.send_queue_size(), 4);
    assert_eq!(counts.borrow()[0], 0, "send callbacks never run on the caller's stack");
    run(&lp);
    assert_eq!(*counts.borrow(), [1, 1, 1, 1, 2]);
    assert_eq!(client.send_queue_count(), 0);
    make_valgrind_happy(&lp);
}

// test-udp-connect.c: connect and disconnect, and which sends each state allows: with a
// connection, an address is EISCONN; without, none is EDESTADDRREQ; connecting twice is
// EISCONN, disconnecting twice ENOTCONN. Four "EXIT"s reach the server.
#[test]
fn udp_connect() {
    let lp = Loop::new().unwrap();
    let (srv, lo_addr) = server(&lp);
    let client = Udp::new(&lp);
    let port = lo_addr.port();
    let received = Counter::new();
    let (r, cl) = (received.clone(), client.clone());
    srv.recv_start(move |s, res| {
        let UdpRecv { data, addr } = res.unwrap();
        if addr.is_some() && !data.is_empty() {
            assert_eq!(&data[..], b"EXIT");
            if r.inc() == 4 {
                s.close(|_| {});
                cl.close(|_| {});
            }
        }
    })
    .unwrap();
    client.connect(Some(SocketAddr::from(([0, 0, 0, 0], port)))).unwrap();
    client.connect(None).unwrap();
    let ext_addr = SocketAddr::from(([8, 8, 8, 8], port));
    client.connect(Some(lo_addr)).unwrap();
    assert_eq!(client.connect(Some(ext_addr)).unwrap_err(), Error::EISCONN);
    assert_eq!(client.getpeername().unwrap(), lo_addr);
    let exit = b("EXIT");
    assert_eq!(client.try_send(&exit, Some(lo_addr)).unwrap_err(), Error::EISCONN);
    assert_eq!(client.try_send(&exit, None).unwrap(), 4);
    assert_eq!(client.try_send(&exit, Some(ext_addr)).unwrap_err(), Error::EISCONN);
    client.connect(None).unwrap();
    assert_eq!(client.connect(None).unwrap_err(), Error::ENOTCONN);
    assert_eq!(client.getpeername().unwrap_err(), Error::ENOTCONN);
    assert_eq!(client.try_send(&exit, Some(lo_addr)).unwrap(), 4);
    assert_eq!(client.try_send(&exit, None).unwrap_err(), Error::EDESTADDRREQ);
    client.connect(Some(lo_addr)).unwrap();
    assert_eq!(client.send(b("EXIT"), Some(lo_addr), |_, _| panic!("refused")).unwrap_err(), Error::EISCONN);
    let sends = Counter::new();
    let s2 = sends.clone();
    client
        .send(b("EXIT"), None, move |cl, r| {
            r.unwrap();
            s2.inc();
            // The first send's callback: disconnect, and send with an address.
            cl.connect(None).unwrap();
            assert_eq!(cl.send(b("EXIT"), None, |_, _| panic!("refused")).unwrap_err(), Error::EDESTADDRREQ);
            let s3 = s2.clone();
            cl.send(b("EXIT"), Some(lo_addr), move |_, r| {
                r.unwrap();
                s3.inc();
            })
            .unwrap();
        })
        .unwrap();
    run(&lp);
    assert_eq!(sends.get(), 2);
    assert_eq!(received.get(), 4);
    make_valgrind_happy(&lp);
}

// test-udp-try-send.c: a 64 KiB datagram is too big (EMSGSIZE); a small one goes out at
// once and arrives.
#[test]
fn udp_try_send() {
    let lp = Loop::new().unwrap();
    let (srv, addr) = server(&lp);
    let client = Udp::new(&lp);
    let received = Counter::new();
    let (r, cl) = (received.clone(), client.clone());
    srv.recv_start(move |s, res| {
        let UdpRecv { data, addr } = res.unwrap();
        assert!(addr.is_some(), "closed at the first datagram: no 'nothing more' callback");
        assert_eq!(&data[..], b"EXIT");
        r.inc();
        s.close(|_| {});
        cl.close(|_| {});
    })
    .unwrap();
    let big = vec![Bytes::from(vec![0u8; 64 * 1024])];
    assert_eq!(client.try_send(&big, Some(addr)).unwrap_err(), Error::EMSGSIZE);
    assert_eq!(client.try_send(&b("EXIT"), Some(addr)).unwrap(), 4);
    run(&lp);
    assert_eq!(received.get(), 1);
    assert_eq!((client.send_queue_size(), srv.send_queue_size()), (0, 0));
    make_valgrind_happy(&lp);
}

// test-udp-dgram-too-big.c: a queued send of a datagram over the limit calls back
// EMSGSIZE.
#[test]
fn udp_dgram_too_big() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    let called = Counter::new();
    let c = called.clone();
    h.send(vec![Bytes::from(vec![b'x'; 65536])], Some("127.0.0.1:9".parse().unwrap()), move |h, r| {
        assert_eq!(r.unwrap_err(), Error::EMSGSIZE);
        c.inc();
        h.close(|_| {});
    })
    .unwrap();
    run(&lp);
    assert_eq!(called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-udp-send-immediate.c: two sends queued back to back both arrive; their callbacks
// run in order.
#[test]
fn udp_send_immediate() {
    let lp = Loop::new().unwrap();
    let (srv, addr) = server(&lp);
    let client = Udp::new(&lp);
    let got = Rc::new(RefCell::new(Vec::new()));
    let (g, cl) = (got.clone(), client.clone());
    srv.recv_start(move |s, res| {
        let UdpRecv { data, addr } = res.unwrap();
        if addr.is_none() {
            return;
        }
        g.borrow_mut().push(data);
        if g.borrow().len() == 2 {
            s.close(|_| {});
            cl.close(|_| {});
        }
    })
    .unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    for word in ["HELLO", "WORLD"] {
        let o = order.clone();
        client
            .send(b(word), Some(addr), move |_, r| {
                r.unwrap();
                o.borrow_mut().push(word);
            })
            .unwrap();
    }
    run(&lp);
    assert_eq!(*order.borrow(), ["HELLO", "WORLD"]);
    assert_eq!(*got.borrow(), [Bytes::from_static(b"HELLO"), Bytes::from_static(b"WORLD")]);
    make_valgrind_happy(&lp);
}

// test-udp-bind.c: udp_bind and udp_bind_reuseaddr: a port taken is EADDRINUSE, unless
// both sockets ask for reuse.
#[test]
fn udp_bind() {
    let lp = Loop::new().unwrap();
    let h1 = Udp::new(&lp);
    let h2 = Udp::new(&lp);
    h1.bind("0.0.0.0:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let addr = h1.getsockname().unwrap();
    assert_eq!(h2.bind(addr, UdpBindFlags::default()).unwrap_err(), Error::EADDRINUSE);
    h1.close(|_| {});
    h2.close(|_| {});
    make_valgrind_happy(&lp);
}

#[test]
fn udp_bind_reuseaddr() {
    let lp = Loop::new().unwrap();
    let reuse = UdpBindFlags { reuse_addr: true, ..Default::default() };
    let h1 = Udp::new(&lp);
    let h2 = Udp::new(&lp);
    h1.bind("0.0.0.0:0".parse().unwrap(), reuse).unwrap();
    h2.bind(h1.getsockname().unwrap(), reuse).unwrap();
    h1.close(|_| {});
    h2.close(|_| {});
    make_valgrind_happy(&lp);
}

fn udp_options_test(addr: SocketAddr) {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    h.unref();
    h.bind(addr, UdpBindFlags::default()).unwrap();
    for on in [true, true, false, false] {
        h.set_broadcast(on).unwrap();
    }
    for ttl in 1..=255 {
        h.set_ttl(ttl).unwrap();
    }
    for ttl in [-1, 0, 256] {
        assert_eq!(h.set_ttl(ttl).unwrap_err(), Error::EINVAL);
    }
    for on in [true, true, false, false] {
        h.set_multicast_loop(on).unwrap();
    }
    for ttl in 0..=255 {
        h.set_multicast_ttl(ttl).unwrap();
    }
    assert_eq!(h.set_multicast_ttl(256).unwrap_err(), Error::EINVAL);
    assert!(!run(&lp));
    h.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-udp-options.c: udp_options and udp_options6: broadcast, TTL 1..=255 (else EINVAL),
// multicast loop, multicast TTL 0..=255.
#[test]
fn udp_options() {
    udp_options_test("0.0.0.0:0".parse().unwrap());
}

#[test]
fn udp_options6() {
    if !ipv6_or_skip("udp_options6") {
        return;
    }
    udp_options_test("[::]:0".parse().unwrap());
}

// test-udp-options.c: udp_no_autobind: options on a handle with no socket are EBADF;
// a handle made for a family (AF_INET | UV_UDP_RECVMMSG) has its socket, unbound until
// used.
#[test]
fn udp_no_autobind() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    assert_eq!(h.set_multicast_ttl(32).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_broadcast(true).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_ttl(1).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_multicast_loop(true).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_multicast_interface(Some(Ipv4Addr::UNSPECIFIED)).unwrap_err(), Error::EBADF);
    assert_eq!(h.fileno().unwrap_err(), Error::EBADF);
    h.close(|_| {});
    let h2 = Udp::new_ex(&lp, libc::AF_INET as u32 | UV_UDP_RECVMMSG).unwrap();
    h2.set_multicast_ttl(32).unwrap();
    h2.set_broadcast(true).unwrap();
    h2.set_ttl(1).unwrap();
    h2.set_multicast_loop(true).unwrap();
    h2.set_multicast_interface(Some(Ipv4Addr::UNSPECIFIED)).unwrap();
    assert!(h2.fileno().is_ok());
    assert_eq!(h2.getsockname().unwrap().port(), 0, "not bound yet");
    h2.close(|_| {});
    assert!(!run(&lp));
    make_valgrind_happy(&lp);
}

/// test-udp-open.c's `create_udp_socket`: an IPv4 datagram socket with `SO_REUSEADDR`.
fn create_udp_socket() -> Socket {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
    sock.set_reuse_address(true).unwrap();
    sock
}

/// test-udp-open.c's `recv_cb`: one PING, then the handle stops and closes.
fn open_recv_cb(closed: &Counter) -> impl FnMut(&Udp, Result<UdpRecv, Error>) + 'static {
    let closed = closed.clone();
    move |h, r| {
        let UdpRecv { data, addr } = r.expect("unexpected error");
        if data.is_empty() && addr.is_none() {
            return; // nothing more for now: not counted
        }
        assert!(addr.is_some());
        assert_eq!(&data[..], b"PING");
        h.recv_stop();
        close_counted(h, &closed);
    }
}

// test-udp-open.c: udp_open: a socket made outside, opened, then bound through the
// handle; it sends PING to itself and the send callback closes it (before the PING is
// read, as in libuv).
#[test]
fn udp_open() {
    let lp = Loop::new().unwrap();
    let (sends, closes) = (Counter::new(), Counter::new());
    let client = Udp::new(&lp);
    client.open_fd(OwnedFd::from(create_udp_socket())).unwrap();
    client.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let addr = client.getsockname().unwrap();
    client.recv_start(open_recv_cb(&closes)).unwrap();
    let (s, c) = (sends.clone(), closes.clone());
    client
        .send(b("PING"), Some(addr), move |h, r| {
            r.unwrap();
            s.inc();
            close_counted(h, &c);
        })
        .unwrap();
    run(&lp);
    assert_eq!(sends.get(), 1);
    assert_eq!(closes.get(), 1);
    assert_eq!(client.send_queue_size(), 0);
    make_valgrind_happy(&lp);
}

// test-udp-open.c: udp_open_twice: a handle that has a socket refuses another (EBUSY);
// the refused one is closed (here: dropped with the OwnedFd).
#[test]
fn udp_open_twice() {
    let lp = Loop::new().unwrap();
    let sock1 = create_udp_socket();
    let sock2 = create_udp_socket();
    let client = Udp::new(&lp);
    client.open_fd(sock1.into()).unwrap();
    assert_eq!(client.open_fd(sock2.into()).unwrap_err(), Error::EBUSY);
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-udp-open.c: udp_open_bound: a socket bound outside is opened and receives.
#[test]
fn udp_open_bound() {
    let lp = Loop::new().unwrap();
    let sock = create_udp_socket();
    sock.bind(&SockAddr::from("127.0.0.1:0".parse::<SocketAddr>().unwrap())).unwrap();
    let client = Udp::new(&lp);
    client.open_fd(sock.into()).unwrap();
    client.recv_start(open_recv_cb(&Counter::new())).unwrap();
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-udp-open.c: udp_open_connect: a socket connected outside is opened as connected:
// it sends without an address, and the server gets the PING.
#[test]
fn udp_open_connect() {
    let lp = Loop::new().unwrap();
    let (sends, closes) = (Counter::new(), Counter::new());
    let server = Udp::new(&lp);
    server.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let addr = server.getsockname().unwrap();
    let sock = create_udp_socket();
    sock.connect(&addr.into()).unwrap();
    let client = Udp::new(&lp);
    client.open_fd(sock.into()).unwrap();
    server.recv_start(open_recv_cb(&closes)).unwrap();
    let (s, c) = (sends.clone(), closes.clone());
    client
        .send(b("PING"), None, move |h, r| {
            r.unwrap();
            s.inc();
            close_counted(h, &c);
        })
        .unwrap();
    run(&lp);
    assert_eq!(sends.get(), 1);
    assert_eq!(closes.get(), 2);
    assert_eq!(client.send_queue_size(), 0);
    make_valgrind_happy(&lp);
}

// test-udp-open.c: udp_send_unix: a send to a `sockaddr_un` (here to a listening Unix
// stream socket opened as the handle itself) is accepted; what the kernel makes of it
// is the callback's business (libuv passes none).
#[test]
fn udp_send_unix() {
    let lp = Loop::new().unwrap();
    let path = TempPath::new("udp-send-unix");
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
    sock.bind(&SockAddr::unix(path.path()).unwrap()).unwrap();
    sock.listen(1).unwrap();
    let handle = Udp::new(&lp);
    handle.open_fd(sock.into()).unwrap();
    run(&lp);
    handle.send_unix(b("PING"), path.path(), |_, _| {}).unwrap();
    handle.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-udp-create-socket-early.c: udp_create_early: uv_udp_init_ex(AF_INET) makes the
// socket at once (a descriptor, an IPv4 name before bind); bind then uses it.
#[test]
fn udp_create_early() {
    let lp = Loop::new().unwrap();
    let client = Udp::new_ex(&lp, libc::AF_INET as u32).unwrap();
    assert!(client.fileno().unwrap() >= 0);
    assert!(client.getsockname().unwrap().is_ipv4());
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    client.bind(addr, UdpBindFlags::default()).unwrap();
    assert_eq!(client.getsockname().unwrap().ip(), addr.ip());
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-udp-create-socket-early.c: udp_create_early_bad_bind: an IPv6 socket made early
// cannot be bound to an IPv4 address (EINVAL).
#[test]
fn udp_create_early_bad_bind() {
    if !ipv6_or_skip("udp_create_early_bad_bind") {
        return;
    }
    let lp = Loop::new().unwrap();
    let client = Udp::new_ex(&lp, libc::AF_INET6 as u32).unwrap();
    assert!(client.fileno().unwrap() >= 0);
    assert!(client.getsockname().unwrap().is_ipv6());
    assert_eq!(client.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap_err(), Error::EINVAL);
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-udp-create-socket-early.c: udp_create_early_bad_domain: a domain that is not
// AF_INET, AF_INET6 or AF_UNSPEC (47), or a flag libuv does not know (1024), is EINVAL.
#[test]
fn udp_create_early_bad_domain() {
    let lp = Loop::new().unwrap();
    assert_eq!(Udp::new_ex(&lp, 47).unwrap_err(), Error::EINVAL);
    assert_eq!(Udp::new_ex(&lp, 1024).unwrap_err(), Error::EINVAL);
    run(&lp);
    make_valgrind_happy(&lp);
}

/// test-udp-ipv6.c's `do_test`: a server on `[::]` (with `flags`), a client that sends
/// "PING" and five digits of the pid to 127.0.0.1 at the server's port; after 500 ms a
/// timer closes all three handles. Returns (send callbacks, receive callbacks that
/// counted); `recv_ok` false is `ipv6_recv_fail`, which must not see the datagram.
fn ipv6_do_test(recv_ok: bool, flags: UdpBindFlags) -> (usize, usize) {
    let lp = Loop::new().unwrap();
    let (sends, recvs, closes) = (Counter::new(), Counter::new(), Counter::new());
    let server = Udp::new(&lp);
    server.bind("[::]:0".parse().unwrap(), flags).unwrap();
    let port = server.getsockname().unwrap().port();
    let data = format!("PING{:5}", std::process::id() & 0xFFFF);
    assert_eq!(data.len(), 9);
    let client_port = Rc::new(Cell::new(0u16));
    let (d, cp, r) = (data.clone(), client_port.clone(), recvs.clone());
    server
        .recv_start(move |_, res| {
            let UdpRecv { data, addr } = res.unwrap();
            // is_from_client: filter out what is not the client's datagram.
            let Some(from) = addr else { return };
            let SocketAddr::V6(from) = from else { panic!("not AF_INET6: {from}") };
            if from.port() != cp.get() || *from.ip() != Ipv4Addr::LOCALHOST.to_ipv6_mapped() {
                return;
            }
            assert!(recv_ok, "this function should not have been called");
            assert_eq!(data.len(), 9);
            assert_eq!(&data[..], d.as_bytes());
            r.inc();
        })
        .unwrap();
    let client = Udp::new(&lp);
    let s = sends.clone();
    let to = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    client
        .send(vec![Bytes::from(data)], Some(to), move |_, r| {
            r.unwrap();
            s.inc();
        })
        .unwrap();
    client_port.set(client.getsockname().unwrap().port());
    let timeout = Timer::new(&lp);
    let (sv, cl, c) = (server.clone(), client.clone(), closes.clone());
    timeout
        .start(500, 0, move |t| {
            close_counted(&sv, &c);
            close_counted(&cl, &c);
            close_counted(t, &c);
        })
        .unwrap();
    assert_eq!((closes.get(), sends.get(), recvs.get()), (0, 0, 0));
    run(&lp);
    assert_eq!(closes.get(), 3);
    make_valgrind_happy(&lp);
    (sends.get(), recvs.get())
}

// test-udp-ipv6.c: udp_dual_stack: a server on [::] without IPV6_V6ONLY receives an
// IPv4 client's datagram, from ::ffff:127.0.0.1.
#[test]
fn udp_dual_stack() {
    if !ipv6_or_skip("udp_dual_stack") {
        return;
    }
    let (sends, recvs) = ipv6_do_test(true, UdpBindFlags::default());
    assert_eq!(recvs, 1);
    assert_eq!(sends, 1);
}

// test-udp-ipv6.c: udp_ipv6_only: with UV_UDP_IPV6ONLY it does not.
#[test]
fn udp_ipv6_only() {
    if !ipv6_or_skip("udp_ipv6_only") {
        return;
    }
    let (sends, recvs) = ipv6_do_test(false, UdpBindFlags { ipv6_only: true, ..Default::default() });
    assert_eq!(recvs, 0);
    assert_eq!(sends, 1);
}

/// test-udp-connect6.c's `cl_send_cb`: the first callback disconnects, checks that a send
/// without an address is then EDESTADDRREQ, and sends once more to `lo`.
fn connect6_send_cb(h: &Udp, r: Result<(), Error>, sends: Counter, lo: SocketAddr) {
    r.unwrap();
    if sends.inc() == 1 {
        let _ = h.connect(None);
        let s = sends.clone();
        let refused = h.send(b("EXIT"), None, move |h, r| connect6_send_cb(h, r, s, lo));
        assert_eq!(refused.unwrap_err(), Error::EDESTADDRREQ);
        let s = sends.clone();
        h.send(b("EXIT"), Some(lo), move |h, r| connect6_send_cb(h, r, s, lo)).unwrap();
    }
}

// test-udp-connect6.c: udp_connect6: udp_connect over IPv6: connect and disconnect, and
// which sends each state allows; four "EXIT"s reach the server.
#[test]
fn udp_connect6() {
    if !ipv6_or_skip("udp_connect6") {
        return;
    }
    let lp = Loop::new().unwrap();
    let (sends, recvs, closes) = (Counter::new(), Counter::new(), Counter::new());
    let server = Udp::new(&lp);
    server.bind("[::]:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let port = server.getsockname().unwrap().port();
    let client = Udp::new(&lp);
    let (r, c, cl) = (recvs.clone(), closes.clone(), client.clone());
    server
        .recv_start(move |sv, res| {
            let UdpRecv { data, addr } = res.unwrap();
            if !data.is_empty() {
                assert_eq!(data.len(), 4);
                assert!(addr.is_some());
                assert_eq!(&data[..], b"EXIT");
                if r.inc() == 4 {
                    close_counted(sv, &c);
                    close_counted(&cl, &c);
                }
            }
        })
        .unwrap();
    let any = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    client.connect(Some(any)).unwrap();
    client.connect(None).unwrap();
    let ext_addr: SocketAddr = format!("[2001:4860:4860::8888]:{port}").parse().unwrap();
    let lo_addr = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
    client.connect(Some(lo_addr)).unwrap();
    assert_eq!(client.connect(Some(ext_addr)).unwrap_err(), Error::EISCONN);
    client.getpeername().unwrap();
    let exit = b("EXIT");
    assert_eq!(client.try_send(&exit, Some(lo_addr)).unwrap_err(), Error::EISCONN);
    assert_eq!(client.try_send(&exit, None).unwrap(), 4);
    assert_eq!(client.try_send(&exit, Some(ext_addr)).unwrap_err(), Error::EISCONN);
    client.connect(None).unwrap();
    assert_eq!(client.connect(None).unwrap_err(), Error::ENOTCONN);
    assert_eq!(client.getpeername().unwrap_err(), Error::ENOTCONN);
    assert_eq!(client.try_send(&exit, Some(lo_addr)).unwrap(), 4);
    assert_eq!(client.try_send(&exit, None).unwrap_err(), Error::EDESTADDRREQ);
    client.connect(Some(lo_addr)).unwrap();
    let s = sends.clone();
    let refused = client.send(b("EXIT"), Some(lo_addr), move |h, r| connect6_send_cb(h, r, s, lo_addr));
    assert_eq!(refused.unwrap_err(), Error::EISCONN);
    let s = sends.clone();
    client.send(b("EXIT"), None, move |h, r| connect6_send_cb(h, r, s, lo_addr)).unwrap();
    run(&lp);
    assert_eq!(closes.get(), 2);
    assert_eq!(recvs.get(), 4);
    assert_eq!(sends.get(), 2);
    assert_eq!(client.send_queue_size(), 0);
    assert_eq!(server.send_queue_size(), 0);
    make_valgrind_happy(&lp);
}

// test-udp-recv-in-a-row.c: udp_recv_in_a_row: four 10-byte datagrams and an empty one,
// sent before the loop runs, are all read in one poll phase, before the check phase:
// five callbacks with their sizes, then the sixth, "nothing more" (nread 0).
#[test]
fn udp_recv_in_a_row() {
    const N: usize = 5;
    let lp = Loop::new().unwrap();
    let recv_cnt = Counter::new();
    let check_cb_called = Rc::new(Cell::new(false));
    let check_handle = Check::new(&lp);
    let server = Udp::new(&lp);
    let client = Udp::new(&lp);
    let (rc, called, sv, cl) = (recv_cnt.clone(), check_cb_called.clone(), server.clone(), client.clone());
    check_handle
        .start(move |h| {
            // The "nothing more" callback makes it one more than N.
            assert_eq!(rc.get(), N + 1);
            called.set(true);
            h.stop();
            cl.close(|_| {});
            h.close(|_| {});
            sv.close(|_| {});
        })
        .unwrap();
    server.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let addr = server.getsockname().unwrap();
    let rc = recv_cnt.clone();
    server
        .recv_start(move |_, r| {
            let UdpRecv { data, .. } = r.unwrap();
            if rc.inc() < N {
                assert_eq!(data.len(), 10);
            } else {
                assert_eq!(data.len(), 0);
            }
        })
        .unwrap();
    let buf = vec![Bytes::from(vec![0u8; 10])];
    for _ in 0..N - 1 {
        assert_eq!(client.try_send(&buf, Some(addr)).unwrap(), 10);
    }
    assert_eq!(client.try_send(&[Bytes::new()], Some(addr)).unwrap(), 0);
    assert!(!run(&lp));
    assert!(check_cb_called.get());
    make_valgrind_happy(&lp);
}

// test-udp-send-unreachable.c: udp_send_unreachable: datagrams to a port nobody has.
// Without IP_RECVERR the ICMP errors do not reach the unconnected socket: both sends
// succeed and no read fails. With UV_UDP_LINUX_RECVERR they do: a send may fail
// ECONNREFUSED (the error consumed there), and still no read fails. A timer ends it.
#[test]
fn udp_send_unreachable() {
    let lp = Loop::new().unwrap();
    let (sends, recvs, closes, timer_called) = (Counter::new(), Counter::new(), Counter::new(), Counter::new());
    let addr = closed_udp_port();
    let recv_cb = |recvs: &Counter| {
        let recvs = recvs.clone();
        move |_: &Udp, r: Result<UdpRecv, Error>| {
            recvs.inc();
            let UdpRecv { data, addr } = r.expect("unexpected error");
            if data.is_empty() {
                assert!(addr.is_none());
            } else {
                assert!(addr.is_some());
            }
        }
    };
    let client = Udp::new(&lp);
    let client2 = Udp::new(&lp);
    let timer = Timer::new(&lp);
    let (c, t, cl, cl2) = (closes.clone(), timer_called.clone(), client.clone(), client2.clone());
    timer
        .start(1000, 0, move |h| {
            t.inc();
            close_counted(&cl, &c);
            close_counted(&cl2, &c); // can_recverr: this is Linux
            close_counted(h, &c);
        })
        .unwrap();
    client.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    client.recv_start(recv_cb(&recvs)).unwrap();
    for word in ["PING", "PANG"] {
        let s = sends.clone();
        client
            .send(b(word), Some(addr), move |_, r| {
                assert_eq!(r, Ok(()));
                s.inc();
            })
            .unwrap();
    }
    client2.bind_recverr("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    client2.recv_start(recv_cb(&recvs)).unwrap();
    for word in ["PING", "PANG"] {
        let s = sends.clone();
        client2
            .send(b(word), Some(addr), move |_, r| {
                assert!(r == Ok(()) || r == Err(Error::ECONNREFUSED), "{r:?}");
                s.inc();
            })
            .unwrap();
    }
    run(&lp);
    assert_eq!(sends.get(), 4);
    assert_eq!(timer_called.get(), 1);
    assert_eq!(closes.get(), 3);
    make_valgrind_happy(&lp);
}

/// test-udp-send-hang-loop.c's state: the client, the idle handle, and whether a send
/// is in flight (libuv's `send_req.handle != NULL`).
struct HangLoop {
    client: Udp,
    idle: Idle,
    addr: SocketAddr,
    buf: Bytes,
    loop_hang_called: Counter,
    in_flight: Cell<bool>,
}

fn hang_idle_cb(st: &Rc<HangLoop>) {
    assert!(!st.in_flight.get());
    st.idle.stop();
    // It probably would have stalled by now if it's going to stall at all.
    if st.loop_hang_called.inc() > 1000 {
        st.client.close(|_| {});
        st.idle.close(|_| {});
        return;
    }
    st.in_flight.set(true);
    let st2 = st.clone();
    st.client.send(vec![st.buf.clone()], Some(st.addr), move |_, r| hang_send_cb(&st2, r)).unwrap();
}

fn hang_send_cb(st: &Rc<HangLoop>, r: Result<(), Error>) {
    assert!(r == Ok(()) || r == Err(Error::ENETUNREACH), "{r:?}");
    st.in_flight.set(false);
    let st2 = st.clone();
    st.idle.start(move |_| hang_idle_cb(&st2)).unwrap();
}

// test-udp-send-hang-loop.c: udp_send_hang_loop: a thousand 1 KiB datagrams to
// 192.0.2.3 (TEST-NET), each sent from an idle callback once the last one's callback
// has run: the loop must not stall (ENETUNREACH is an accepted outcome).
#[test]
fn udp_send_hang_loop() {
    let lp = Loop::new().unwrap();
    let st = Rc::new(HangLoop {
        client: Udp::new(&lp),
        idle: Idle::new(&lp),
        addr: "192.0.2.3:9123".parse().unwrap(),
        buf: Bytes::from(vec![0u8; 1024]),
        loop_hang_called: Counter::new(),
        in_flight: Cell::new(false),
    });
    let st2 = st.clone();
    st.idle.start(move |_| hang_idle_cb(&st2)).unwrap();
    run(&lp);
    assert!(st.loop_hang_called.get() > 1000);
    make_valgrind_happy(&lp);
}

// test-udp-sendmmsg-error.c: udp_sendmmsg_error: six sends queued on a socket connected
// to a port nobody has; each completes, with success or ECONNREFUSED (the ICMP error of
// an earlier datagram), and the sixth's callback closes the handle.
#[test]
fn udp_sendmmsg_error() {
    const DATAGRAMS: usize = 6;
    let lp = Loop::new().unwrap();
    let (sends, closes) = (Counter::new(), Counter::new());
    let client = Udp::new(&lp);
    client.connect(Some(closed_udp_port())).unwrap();
    for _ in 0..DATAGRAMS {
        let (s, c) = (sends.clone(), closes.clone());
        client
            .send(b("TEST"), None, move |h, r| {
                if let Err(e) = r {
                    assert_eq!(e, Error::ECONNREFUSED);
                }
                if s.inc() == DATAGRAMS {
                    close_counted(h, &c);
                }
            })
            .unwrap();
    }
    run(&lp);
    assert_eq!(closes.get(), 1);
    assert_eq!(sends.get(), DATAGRAMS);
    assert_eq!(client.send_queue_size(), 0);
    make_valgrind_happy(&lp);
}

/// What test-udp-multicast-join.c and -join6.c share: the server joined the group; the
/// client sends PING to it; the first PING received makes the server leave the group
/// and join it again for the PING's source only, and the client sends again; the
/// second closes the server, the second send callback the client. `rejoin` is the
/// leave and source-specific join, given the first PING's source.
fn multicast_join_run(
    lp: &Loop,
    server: &Udp,
    client: &Udp,
    group: SocketAddr,
    rejoin: impl Fn(&Udp, SocketAddr) + 'static,
) {
    let (recvs, sends, closes) = (Counter::new(), Counter::new(), Counter::new());
    let do_send = {
        let (client, sends, closes) = (client.clone(), sends.clone(), closes.clone());
        move || {
            let (s, c) = (sends.clone(), closes.clone());
            client.send(b("PING"), Some(group), move |h, r| {
                r.unwrap();
                if s.inc() == 2 {
                    close_counted(h, &c);
                }
            })
        }
    };
    let (r, c) = (recvs.clone(), closes.clone());
    let send = Rc::new(do_send);
    let send2 = send.clone();
    server
        .recv_start(move |sv, res| {
            let UdpRecv { data, addr } = res.expect("unexpected error");
            if data.is_empty() {
                assert!(addr.is_none()); // nothing more for now: not counted
                return;
            }
            let from = addr.unwrap();
            assert_eq!(&data[..], b"PING");
            if r.inc() == 2 {
                close_counted(sv, &c);
            } else {
                rejoin(sv, from);
                send2().unwrap();
            }
        })
        .unwrap();
    send().unwrap();
    assert_eq!((closes.get(), recvs.get(), sends.get()), (0, 0, 0));
    run(lp);
    assert_eq!(recvs.get(), 2);
    assert_eq!(sends.get(), 2);
    assert_eq!(closes.get(), 2);
    make_valgrind_happy(lp);
}

// test-udp-multicast-join.c: udp_multicast_join: 239.255.0.1, any interface; then the
// same group from the first PING's source only (IGMPv3). Skipped if joining is ENODEV
// (no multicast route).
#[test]
fn udp_multicast_join() {
    const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 0, 1);
    let lp = Loop::new().unwrap();
    let server = Udp::new(&lp);
    let client = Udp::new(&lp);
    server.bind("0.0.0.0:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let port = server.getsockname().unwrap().port();
    match server.set_membership(GROUP, None, Membership::Join) {
        Err(Error::ENODEV) => {
            server.close(|_| {});
            client.close(|_| {});
            make_valgrind_happy(&lp);
            return skip("udp_multicast_join", "No multicast support.");
        }
        r => r.unwrap(),
    }
    multicast_join_run(&lp, &server, &client, SocketAddr::from((GROUP, port)), |sv, from| {
        let SocketAddr::V4(from) = from else { panic!("not IPv4: {from}") };
        sv.set_membership(GROUP, None, Membership::Leave).unwrap();
        sv.set_source_membership(GROUP, None, *from.ip(), Membership::Join).unwrap();
    });
}

// test-udp-multicast-join6.c: udp_multicast_join6: ff02::1, the kernel's interface; then
// the same group from the first PING's source only (MLDv2). Skipped without an external
// IPv6 interface, or if joining is ENODEV (no IPv6 multicast route).
#[test]
fn udp_multicast_join6() {
    const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    if !can_ipv6_external() {
        return skip("udp_multicast_join6", "No external IPv6 interface available");
    }
    let lp = Loop::new().unwrap();
    let server = Udp::new(&lp);
    let client = Udp::new(&lp);
    server.bind("[::]:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let port = server.getsockname().unwrap().port();
    match server.set_membership6(GROUP, None, Membership::Join) {
        Err(Error::ENODEV) => {
            server.close(|_| {});
            client.close(|_| {});
            make_valgrind_happy(&lp);
            return skip("udp_multicast_join6", "No ipv6 multicast route");
        }
        r => r.unwrap(),
    }
    multicast_join_run(&lp, &server, &client, SocketAddr::from((GROUP, port)), |sv, from| {
        let SocketAddr::V6(from) = from else { panic!("not IPv6: {from}") };
        sv.set_membership6(GROUP, None, Membership::Leave).unwrap();
        sv.set_source_membership6(GROUP, None, *from.ip(), Membership::Join).unwrap();
    });
}

/// What test-udp-multicast-interface.c, -interface6.c and -ttl.c share: the server sends
/// one PING to `to`; its callback checks the status with `ok` and closes the server.
fn multicast_send_one(lp: &Loop, server: &Udp, to: SocketAddr, ok: fn(&Result<(), Error>) -> bool) {
    let (sends, closes) = (Counter::new(), Counter::new());
    let (s, c) = (sends.clone(), closes.clone());
    server
        .send(b("PING"), Some(to), move |h, r| {
            assert!(ok(&r), "{r:?}");
            s.inc();
            close_counted(h, &c);
        })
        .unwrap();
    assert_eq!((closes.get(), sends.get()), (0, 0));
    run(lp);
    assert_eq!(sends.get(), 1);
    assert_eq!(closes.get(), 1);
    assert_eq!(server.send_queue_size(), 0);
    make_valgrind_happy(lp);
}

/// The statuses libuv accepts for a multicast send that may have no route here.
fn sent_or_unroutable(r: &Result<(), Error>) -> bool {
    matches!(r, Ok(()) | Err(Error::ENETUNREACH) | Err(Error::EPERM))
}

/// A port nobody has, for the multicast sends (libuv's TEST_PORT).
fn sink_port() -> u16 {
    closed_udp_port().port()
}

// test-udp-multicast-interface.c: udp_multicast_interface: with the multicast interface
// set to 0.0.0.0, a send to 239.255.0.1 completes (or finds no route).
#[test]
fn udp_multicast_interface() {
    let lp = Loop::new().unwrap();
    let server = Udp::new(&lp);
    server.bind("0.0.0.0:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    server.set_multicast_interface(Some(Ipv4Addr::UNSPECIFIED)).unwrap();
    let to = SocketAddr::from((Ipv4Addr::new(239, 255, 0, 1), sink_port()));
    multicast_send_one(&lp, &server, to, sent_or_unroutable);
}

// test-udp-multicast-interface6.c: udp_multicast_interface6: on an IPv6 handle, the
// multicast interface set to libuv's NULL (index 0), a send to ::1 completes.
#[test]
fn udp_multicast_interface6() {
    if !ipv6_or_skip("udp_multicast_interface6") {
        return;
    }
    let lp = Loop::new().unwrap();
    let server = Udp::new(&lp);
    server.bind("[::]:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    server.set_multicast_interface(None).unwrap();
    let to = SocketAddr::from((Ipv6Addr::LOCALHOST, sink_port()));
    multicast_send_one(&lp, &server, to, |r| r.is_ok());
}

// test-udp-multicast-ttl.c: udp_multicast_ttl: with a multicast TTL of 32, a send to
// 239.255.0.1 completes (or finds no route).
#[test]
fn udp_multicast_ttl() {
    let lp = Loop::new().unwrap();
    let server = Udp::new(&lp);
    server.bind("0.0.0.0:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    server.set_multicast_ttl(32).unwrap();
    let to = SocketAddr::from((Ipv4Addr::new(239, 255, 0, 1), sink_port()));
    multicast_send_one(&lp, &server, to, sent_or_unroutable);
}

// test-getsockname.c: getsockname_udp: a bound handle names its address; a client's
// implicit bind on send gives it one too.
#[test]
fn getsockname_udp() {
    let lp = Loop::new().unwrap();
    let (srv, addr) = server(&lp);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    let client = Udp::new(&lp);
    assert_eq!(client.getsockname().unwrap_err(), Error::EBADF);
    client
        .send(b("PING"), Some(addr), |c, r| {
            r.unwrap();
            let mine = c.getsockname().unwrap();
            assert!(mine.ip().is_unspecified() && mine.port() != 0, "{mine}");
            c.close(|_| {});
        })
        .unwrap();
    srv.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-ref.c: udp_ref: an unreferenced handle does not keep the loop alive.
#[test]
fn udp_ref() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    h.unref();
    run(&lp);
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: udp_ref2: nor does an unreferenced one that receives.
#[test]
fn udp_ref2() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    h.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    h.recv_start(|_, _| panic!("nothing was sent")).unwrap();
    h.unref();
    run(&lp);
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// test-ref.c: udp_ref3: but a send in flight does, even on an unreferenced handle.
#[test]
fn udp_ref3() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    let called = Counter::new();
    let c = called.clone();
    h.send(b("PING"), Some("127.0.0.1:9".parse().unwrap()), move |_, _| {
        c.inc();
    })
    .unwrap();
    h.unref();
    run(&lp);
    assert_eq!(called.get(), 1);
    do_close(&lp, &h);
    make_valgrind_happy(&lp);
}

// Closing fails what is still queued with ECANCELED, before the close callback
// (uv__udp_finish_close). The first send went out at once; the other 63, queued behind
// it, were waiting for its callback to run.
#[test]
fn udp_close_cancels_queued_sends() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = sink.local_addr().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..64 {
        let l = log.clone();
        h.send(b("x"), Some(to), move |_, r| l.borrow_mut().push(r.map(|()| "sent"))).unwrap();
    }
    assert_eq!(h.send_queue_count(), 64);
    let l = log.clone();
    h.close(move |_| l.borrow_mut().push(Ok("closed")));
    run(&lp);
    let log = log.borrow();
    assert_eq!(log.len(), 65);
    assert_eq!(log[0], Ok("sent"));
    assert!(log[1..64].iter().all(|r| *r == Err(Error::ECANCELED)), "{log:?}");
    assert_eq!(log[64], Ok("closed"), "the close callback comes last");
    assert_eq!(h.send_queue_count(), 0);
    make_valgrind_happy(&lp);
}

// libuv's uv__udp_recvmsg: datagrams that arrived before recv_start are read when it
// starts; each has its sender, and once the socket is dry one more callback says so
// (nread 0, no address).
#[test]
fn udp_recv_reports_nothing_more() {
    let lp = Loop::new().unwrap();
    let (srv, addr) = server(&lp);
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for word in ["one", "two", "three"] {
        peer.send_to(word.as_bytes(), addr).unwrap();
    }
    // One iteration while nobody reads: epoll's edge for them comes and goes.
    let idle = millrace_reactor::Idle::new(&lp);
    idle.start(|_| {}).unwrap();
    lp.run(RunMode::NoWait);
    idle.close(|_| {});
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let from = peer.local_addr().unwrap();
    srv.recv_start(move |h, r| {
        let UdpRecv { data, addr } = r.unwrap();
        match addr {
            Some(a) => {
                assert_eq!(a, from);
                s.borrow_mut().push(String::from_utf8(data.to_vec()).unwrap());
            }
            None => {
                assert!(data.is_empty());
                s.borrow_mut().push("nothing more".into());
                h.close(|_| {});
            }
        }
    })
    .unwrap();
    let dog = millrace_reactor::Timer::new(&lp);
    dog.unref();
    dog.start(5_000, 0, |_| panic!("watchdog: the waiting datagrams were never read")).unwrap();
    run(&lp);
    dog.close(|_| {});
    assert_eq!(*seen.borrow(), ["one", "two", "three", "nothing more"]);
    make_valgrind_happy(&lp);
}

// More than 32 datagrams waiting: the handle reads 32 per poll phase (libuv's cap, so a
// flood cannot starve other handles), and comes back for the rest without a new event.
#[test]
fn udp_recv_more_than_a_wakeup_reads() {
    let lp = Loop::new().unwrap();
    let (srv, addr) = server(&lp);
    srv.recv_buffer_size(Some(1 << 20)).unwrap();
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..100u32 {
        peer.send_to(&i.to_be_bytes(), addr).unwrap();
    }
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    srv.recv_start(move |h, r| {
        let UdpRecv { data, addr } = r.unwrap();
        match addr {
            Some(_) => g.borrow_mut().push(u32::from_be_bytes(data[..4].try_into().unwrap())),
            None => h.close(|_| {}),
        }
    })
    .unwrap();
    let dog = millrace_reactor::Timer::new(&lp);
    dog.unref();
    dog.start(5_000, 0, |_| panic!("watchdog: datagrams left unread")).unwrap();
    run(&lp);
    dog.close(|_| {});
    assert_eq!(*got.borrow(), (0..100).collect::<Vec<u32>>());
    assert!(lp.metrics().loop_count >= 4, "32 a phase: {} iterations", lp.metrics().loop_count);
    make_valgrind_happy(&lp);
}

// A connected socket learns that its peer's port is closed (ICMP port unreachable): the
// next receive is ECONNREFUSED, as libuv's recv_cb gets it.
#[test]
fn udp_connected_to_a_closed_port() {
    let lp = Loop::new().unwrap();
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let h = Udp::new(&lp);
    h.connect(Some(closed)).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    h.recv_start(move |h, r| {
        g.borrow_mut().push(r.map(|x| x.addr));
        if g.borrow().len() == 1 {
            h.close(|_| {});
        }
    })
    .unwrap();
    h.send(b("anyone?"), None, |_, r| r.unwrap()).unwrap();
    run(&lp);
    assert_eq!(*got.borrow(), [Err(Error::ECONNREFUSED)]);
    make_valgrind_happy(&lp);
}

// uv_udp_set_membership (IPv4): join and leave a group on the loopback interface; a
// unicast address is EINVAL, leaving a group not joined EADDRNOTAVAIL (Linux).
#[test]
fn udp_membership() {
    use millrace_reactor::Membership;
    use std::net::Ipv4Addr;
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    h.bind("0.0.0.0:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    let group = Ipv4Addr::new(239, 255, 0, 1);
    let lo = Some(Ipv4Addr::LOCALHOST);
    h.set_membership(group, lo, Membership::Join).unwrap();
    assert_eq!(h.set_membership(Ipv4Addr::new(10, 0, 0, 1), lo, Membership::Join).unwrap_err(), Error::EINVAL);
    h.set_membership(group, lo, Membership::Leave).unwrap();
    assert_eq!(h.set_membership(group, lo, Membership::Leave).unwrap_err(), Error::EADDRNOTAVAIL);
    h.close(|_| {});
    make_valgrind_happy(&lp);
}

// uv_udp_set_membership and uv_udp_set_source_membership bind a handle that has no
// socket yet, to the family's wildcard address (libuv's uv__udp_maybe_deferred_bind);
// on Linux, leaving a source-specific membership never joined is EINVAL, leaving an
// IPv6 group never joined EADDRNOTAVAIL.
#[test]
fn udp_membership_binds_first() {
    let lp = Loop::new().unwrap();
    let group = Ipv4Addr::new(239, 255, 0, 2);
    let lo = Some(Ipv4Addr::LOCALHOST);
    let h = Udp::new(&lp);
    h.set_source_membership(group, lo, Ipv4Addr::LOCALHOST, Membership::Join).unwrap();
    let name = h.getsockname().unwrap();
    assert!(name.is_ipv4() && name.ip().is_unspecified() && name.port() != 0, "{name}");
    h.set_source_membership(group, lo, Ipv4Addr::LOCALHOST, Membership::Leave).unwrap();
    let again = h.set_source_membership(group, lo, Ipv4Addr::LOCALHOST, Membership::Leave);
    assert_eq!(again.unwrap_err(), Error::EINVAL);
    h.close(|_| {});
    if can_ipv6() {
        let group6: Ipv6Addr = "ff05::2".parse().unwrap();
        let h6 = Udp::new(&lp);
        assert_eq!(h6.set_membership6(group6, None, Membership::Leave).unwrap_err(), Error::EADDRNOTAVAIL);
        assert!(h6.getsockname().unwrap().is_ipv6());
        // On loopback's index: with index 0 and no IPv6 route, the lookup is ENODEV first.
        let lo6: u32 = std::fs::read_to_string("/sys/class/net/lo/ifindex").unwrap().trim().parse().unwrap();
        let left = h6.set_source_membership6(group6, Some(lo6), Ipv6Addr::LOCALHOST, Membership::Leave);
        assert_eq!(left.unwrap_err(), Error::EINVAL);
        h6.close(|_| {});
    }
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-socket-buffer-size.c: socket_buffer_size: a bound TCP handle's and a bound UDP
// handle's receive buffer can be read (> 0) and set; Linux then reports double.
#[test]
fn socket_buffer_size() {
    let lp = Loop::new().unwrap();
    fn check(get_set: &dyn Fn(Option<usize>) -> Result<usize, Error>) {
        assert!(get_set(None).unwrap() > 0);
        get_set(Some(10000)).unwrap();
        let v = get_set(None).unwrap();
        assert!(v == 10000 || v == 20000, "{v}");
    }
    let tcp = millrace_reactor::Tcp::new(&lp);
    tcp.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    check(&|n| tcp.recv_buffer_size(n));
    check(&|n| tcp.send_buffer_size(n));
    let udp = Udp::new(&lp);
    udp.bind("127.0.0.1:0".parse().unwrap(), UdpBindFlags::default()).unwrap();
    check(&|n| udp.recv_buffer_size(n));
    check(&|n| udp.send_buffer_size(n));
    let closed = Counter::new();
    let c = closed.clone();
    tcp.close(move |_| {
        c.inc();
    });
    let c = closed.clone();
    udp.close(move |_| {
        c.inc();
    });
    run(&lp);
    assert_eq!(closed.get(), 2);
    make_valgrind_happy(&lp);
}

/// libuv's `TEST_FILE_LIMIT`: raise the soft descriptor limit to `n` if the hard limit
/// allows; false if it does not (the test is then skipped, as libuv's is).
fn file_limit(n: u64) -> bool {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills the struct behind the pointer, which points at `lim`.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur >= n {
        return true;
    }
    if lim.rlim_max < n {
        return false;
    }
    lim.rlim_cur = n;
    // SAFETY: setrlimit reads the struct behind the pointer, which points at `lim`.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 }
}

// test-watcher-cross-stop.c: 2,500 handles on one address (reuse_addr), each receiving
// and sending a datagram to it; once one datagram arrived, all are closed together,
// events still pending for many of them. Every send callback and every close callback
// runs, and no stale event reaches a closed handle.
#[test]
fn watcher_cross_stop() {
    const N: usize = 2500;
    if !file_limit(N as u64 + 64) {
        skip("watcher_cross_stop", &format!("the descriptor limit is below {}", N + 64));
        return;
    }
    let lp = Loop::new().unwrap();
    let reuse = UdpBindFlags { reuse_addr: true, ..Default::default() };
    let first = Udp::new(&lp);
    first.bind("127.0.0.1:0".parse().unwrap(), reuse).unwrap();
    let addr = first.getsockname().unwrap();
    let (recvs, sends, closes) = (Counter::new(), Counter::new(), Counter::new());
    let big = Bytes::from(vec![b'A'; 1024]);
    let mut sockets = vec![first];
    for i in 0..N {
        if i > 0 {
            let h = Udp::new(&lp);
            h.bind(addr, reuse).unwrap();
            sockets.push(h);
        }
        let h = &sockets[i];
        let r = recvs.clone();
        h.recv_start(move |_, _| {
            r.inc();
        })
        .unwrap();
        let s = sends.clone();
        h.send(vec![big.clone()], Some(addr), move |_, _| {
            s.inc();
        })
        .unwrap();
    }
    while recvs.get() == 0 {
        run_watched(&lp, RunMode::Once, WATCHDOG_MS);
    }
    for h in &sockets {
        let c = closes.clone();
        h.close(move |_| {
            c.inc();
        });
    }
    run(&lp);
    assert_eq!(sends.get(), N);
    assert_eq!(closes.get(), N);
    make_valgrind_happy(&lp);
}
