//! TCP sockets at their edges: binding, opening, early sockets, connect failures, names,
//! resets and half-open peers. Ported from libuv's test-tcp-bind-error.c,
//! test-tcp-bind6-error.c, test-tcp-connect-error-after-write.c,
//! test-tcp-write-after-connect.c, test-tcp-write-fail.c, test-tcp-connect-timeout.c,
//! test-tcp-open.c, test-tcp-create-socket-early.c, test-getsockname.c (TCP),
//! test-shutdown-close.c (TCP), test-tcp-close-reset.c,
//! test-tcp-write-to-half-open-connection.c, test-tcp-close-accept.c and
//! test-tcp-close-after-read-timeout.c and test-connect-unspecified.c, one test per libuv
//! test, same names.
//!
//! Not ported, because our types rule the case out: `tcp_bind_error_fault`,
//! `tcp_bind6_error_fault` and `tcp_connect_error_fault` (a garbage `sockaddr`: a
//! `SocketAddr` is always valid), `tcp_create_early_bad_domain` (`Family` has only the
//! two domains), `tcp_create_early_accept` (`accept` makes its own handle, so it cannot
//! be given one that has a socket), and `tcp_open`'s `EEXIST` half (the handle owns the
//! descriptor it opens, so no second handle can open it too).

mod util;

use std::cell::Cell;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{BindOptions, Error, Family, Handle, Loop, ReadEvent, Tcp, Timer};
use socket2::{Domain, Protocol, Socket, Type};
use util::net::{can_ipv6, closed_port, localhost, run, EchoServer};
use util::{make_valgrind_happy, Counter};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A port free right now, for the tests that bind one port twice.
fn free_port() -> u16 {
    closed_port().port()
}

fn close_counted(h: &Tcp, c: &Counter) {
    let c = c.clone();
    h.close(move |_| {
        c.inc();
    });
}

// test-tcp-bind-error.c: binding a port another socket listens on succeeds, and the
// failure (`EADDRINUSE`) comes later: from getsockname at once, and in the connect
// callback.
#[test]
fn tcp_bind_error_addrinuse_connect() {
    let taken = std::net::TcpListener::bind(localhost()).unwrap();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let conn = Tcp::new(&lp);
    conn.bind(taken.local_addr().unwrap()).unwrap();
    let (cc, cl) = (connect_cb_called.clone(), close_cb_called.clone());
    conn.connect(closed_port(), move |h, status| {
        assert_eq!(status, Err(Error::EADDRINUSE));
        close_counted(h, &cl);
        cc.inc();
    })
    .unwrap();
    assert_eq!(conn.local_addr(), Err(Error::EADDRINUSE));
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: two handles bind one port (SO_REUSEADDR allows it while neither
// listens); the second `listen` fails with EADDRINUSE.
#[test]
fn tcp_bind_error_addrinuse_listen() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let a = SocketAddr::from(([0, 0, 0, 0], free_port()));
    let server1 = Tcp::new(&lp);
    server1.bind(a).unwrap();
    let server2 = Tcp::new(&lp);
    server2.bind(a).unwrap();
    server1.listen(128, |_, _| {}).unwrap();
    assert_eq!(server2.listen(128, |_, _| {}).unwrap_err(), Error::EADDRINUSE);
    close_counted(&server1, &close_cb_called);
    close_counted(&server2, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: a broadcast address. "It seems that Linux is broken here -
// bind succeeds."
#[test]
fn tcp_bind_error_addrnotavail_1() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Tcp::new(&lp);
    let r = server.bind(SocketAddr::from(([127, 255, 255, 255], free_port())));
    assert!(matches!(r, Ok(()) | Err(Error::EADDRNOTAVAIL)), "{r:?}");
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: an address no interface has.
#[test]
fn tcp_bind_error_addrnotavail_2() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Tcp::new(&lp);
    assert_eq!(server.bind(addr("4.4.4.4:9123")), Err(Error::EADDRNOTAVAIL));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: a second bind is the kernel's EINVAL.
#[test]
fn tcp_bind_error_inval() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Tcp::new(&lp);
    server.bind(SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    assert_eq!(server.bind(SocketAddr::from(([0, 0, 0, 0], 0))), Err(Error::EINVAL));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c
#[test]
fn tcp_bind_localhost_ok() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(localhost()).unwrap();
    assert_eq!(server.local_addr().unwrap().ip(), localhost().ip());
    server.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: IPv6-only makes no sense for an IPv4 address.
#[test]
fn tcp_bind_invalid_flags() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    let opts = BindOptions { ipv6_only: true, ..BindOptions::default() };
    assert_eq!(server.bind_with(localhost(), opts), Err(Error::EINVAL));
    server.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: `listen(2)` binds an unbound socket itself.
#[test]
fn tcp_listen_without_bind() {
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.listen(128, |_, _| {}).unwrap();
    assert_ne!(server.local_addr().unwrap().port(), 0);
    server.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: a listening handle is neither readable nor writable: a write is
// EPIPE, a shutdown or a read is ENOTCONN.
#[test]
fn tcp_bind_writable_flags() {
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Tcp::new(&lp);
    server.bind(SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    server.listen(128, |_, _| {}).unwrap();
    assert!(!server.is_writable());
    assert!(!server.is_readable());
    let r = server.write([Bytes::from_static(b"PING")], |_, _| panic!("no write callback"));
    assert_eq!(r.unwrap_err(), Error::EPIPE);
    assert_eq!(server.shutdown(|_, _| panic!("no shutdown callback")), Err(Error::ENOTCONN));
    assert_eq!(server.read_start(|_, _| panic!("no read callback")), Err(Error::ENOTCONN));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind-error.c: a closing handle refuses bind and listen.
#[test]
fn tcp_bind_or_listen_error_after_close() {
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    tcp.close(|_| {});
    assert_eq!(tcp.bind(SocketAddr::from(([0, 0, 0, 0], 9999))), Err(Error::EINVAL));
    assert_eq!(tcp.listen(5, |_, _| {}), Err(Error::EINVAL));
    assert!(!run(&lp));
    make_valgrind_happy(&lp);
}

// test-tcp-bind6-error.c
#[test]
fn tcp_bind6_error_addrinuse() {
    if !can_ipv6() {
        return;
    }
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let a: SocketAddr = (std::net::Ipv6Addr::UNSPECIFIED, free_port()).into();
    let server1 = Tcp::new(&lp);
    server1.bind(a).unwrap();
    let server2 = Tcp::new(&lp);
    server2.bind(a).unwrap();
    server1.listen(128, |_, _| {}).unwrap();
    assert_eq!(server2.listen(128, |_, _| {}), Err(Error::EADDRINUSE));
    close_counted(&server1, &close_cb_called);
    close_counted(&server2, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-tcp-bind6-error.c
#[test]
fn tcp_bind6_error_addrnotavail() {
    if !can_ipv6() {
        return;
    }
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Tcp::new(&lp);
    assert_eq!(server.bind(addr("[4:4:4:4:4:4:4:4]:9123")), Err(Error::EADDRNOTAVAIL));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind6-error.c
#[test]
fn tcp_bind6_error_inval() {
    if !can_ipv6() {
        return;
    }
    let lp = Loop::new().unwrap();
    let close_cb_called = Counter::new();
    let server = Tcp::new(&lp);
    server.bind(addr("[::]:0")).unwrap();
    assert_eq!(server.bind(addr("[::]:0")), Err(Error::EINVAL));
    close_counted(&server, &close_cb_called);
    run(&lp);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-bind6-error.c
#[test]
fn tcp_bind6_localhost_ok() {
    if !can_ipv6() {
        return;
    }
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(addr("[::1]:0")).unwrap();
    assert_eq!(server.local_addr().unwrap().ip(), addr("[::1]:0").ip());
    server.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-tcp-connect-error-after-write.c: a write before connect is EBADF; one made while
// a refused connect is under way fails too, and the connect callback comes first.
#[test]
fn tcp_connect_error_after_write() {
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let conn = Tcp::new(&lp);
    let r = conn.write([Bytes::from_static(b"TEST")], |_, _| panic!("no callback for a refused write"));
    assert_eq!(r.unwrap_err(), Error::EBADF);
    let (cc, cl) = (connect_cb_called.clone(), close_cb_called.clone());
    conn.connect(closed_port(), move |h, status| {
        assert!(status.is_err());
        cc.inc();
        close_counted(h, &cl);
    })
    .unwrap();
    let (wc, cc) = (write_cb_called.clone(), connect_cb_called.clone());
    conn.write([Bytes::from_static(b"TEST")], move |_, status| {
        assert!(status.is_err());
        assert_eq!(cc.get(), 1);
        wc.inc();
    })
    .unwrap();
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-write-after-connect.c: the connect is refused (ECONNREFUSED) and the write
// queued behind it is cancelled (ECANCELED).
#[test]
fn tcp_write_after_connect() {
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let tcp_client = Tcp::new(&lp);
    let cc = connect_cb_called.clone();
    tcp_client
        .connect(closed_port(), move |_, status| {
            assert_eq!(status, Err(Error::ECONNREFUSED));
            cc.inc();
        })
        .unwrap();
    let wc = write_cb_called.clone();
    tcp_client
        .write([Bytes::from_static(b"HELL")], move |h, status| {
            assert_eq!(status, Err(Error::ECANCELED));
            h.close(|_| {});
            wc.inc();
        })
        .unwrap();
    run(&lp);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-write-fail.c: the socket is broken under the handle after the connect, and
// the write reports the failure. libuv closes the descriptor "the hard way"; a test
// process with other threads cannot (the number may be reused before the handle closes
// it again), so here the socket is shut down under the handle, which makes the write
// fail (EPIPE) the same way.
#[test]
fn tcp_write_fail() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let client = Tcp::new(&lp);
    let (cc, wc, cl) = (connect_cb_called.clone(), write_cb_called.clone(), close_cb_called.clone());
    client
        .connect(echo.addr(), move |stream, status| {
            status.unwrap();
            cc.inc();
            let fd = stream.fileno().unwrap();
            // SAFETY: a plain call on the handle's open descriptor.
            assert_eq!(unsafe { libc::shutdown(fd, libc::SHUT_RDWR) }, 0);
            stream
                .write([Bytes::from_static(b"hello\n")], move |stream, status| {
                    assert!(status.is_err());
                    wc.inc();
                    close_counted(stream, &cl);
                })
                .unwrap();
        })
        .unwrap();
    run(&lp);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-connect-timeout.c: a connect to a local port nobody listens on fails on its
// own (refused), well before a timer would cancel it.
#[test]
fn tcp_local_connect_timeout() {
    local_connect_timeout(closed_port());
}

// test-tcp-connect-timeout.c, over IPv6.
#[test]
fn tcp6_local_connect_timeout() {
    if !can_ipv6() {
        return;
    }
    let port = std::net::TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap();
    local_connect_timeout(port);
}

fn local_connect_timeout(to: SocketAddr) {
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let timer = Timer::new(&lp);
    let conn = Tcp::new(&lp);
    let (c, cl) = (conn.clone(), close_cb_called.clone());
    timer
        .start(1000, 0, move |t| {
            close_counted(&c, &cl);
            let cl = cl.clone();
            t.close(move |_| {
                cl.inc();
            });
        })
        .unwrap();
    let cc = connect_cb_called.clone();
    conn.connect(to, move |_, status| {
        assert_ne!(status, Err(Error::ECANCELED));
        assert!(status.is_err());
        cc.inc();
    })
    .unwrap();
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

/// test-tcp-open.c's `create_tcp_socket`: a new socket with SO_REUSEADDR.
fn create_tcp_socket(domain: Domain) -> Socket {
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP)).unwrap();
    sock.set_reuse_address(true).unwrap();
    sock
}

/// test-tcp-open.c's `connect_cb`: write PING, shut down on drain, read the echo until
/// EOF, then close.
fn ping_then_shutdown(stream: &Tcp, counts: &OpenCounts) {
    let wc = counts.write.clone();
    stream
        .write([Bytes::from_static(b"PING")], move |_, status| {
            status.unwrap();
            wc.inc();
        })
        .unwrap();
    let sc = counts.shutdown.clone();
    stream
        .shutdown(move |_, status| {
            status.unwrap();
            sc.inc();
        })
        .unwrap();
    let cl = counts.close.clone();
    stream
        .read_start(move |stream, ev| match ev {
            ReadEvent::Data(d) => assert_eq!(&d[..], b"PING"),
            ReadEvent::Eof => close_counted(stream, &cl),
            ReadEvent::Error(e) => panic!("read error: {e}"),
        })
        .unwrap();
}

#[derive(Default)]
struct OpenCounts {
    connect: Counter,
    write: Counter,
    shutdown: Counter,
    close: Counter,
}

// test-tcp-open.c: a handle opened on a new socket connects with it.
#[test]
fn tcp_open() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let counts = Rc::new(OpenCounts::default());
    let sock = create_tcp_socket(Domain::IPV4);
    let fd = sock.as_raw_fd();
    let client = Tcp::new(&lp);
    client.open_fd(sock.into()).unwrap();
    assert_eq!(client.fileno(), Some(fd));
    let c = counts.clone();
    client
        .connect(echo.addr(), move |stream, status| {
            status.unwrap();
            c.connect.inc();
            ping_then_shutdown(stream, &c);
        })
        .unwrap();
    assert_eq!(client.fileno(), Some(fd), "connect used the opened socket");
    run(&lp);
    assert_eq!(counts.shutdown.get(), 1);
    assert_eq!(counts.connect.get(), 1);
    assert_eq!(counts.write.get(), 1);
    assert_eq!(counts.close.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-open.c: a handle takes one socket only.
#[test]
fn tcp_open_twice() {
    let lp = Loop::new().unwrap();
    let client = Tcp::new(&lp);
    client.open_fd(create_tcp_socket(Domain::IPV4).into()).unwrap();
    assert_eq!(client.open_fd(create_tcp_socket(Domain::IPV4).into()), Err(Error::EBUSY));
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-tcp-open.c: a socket bound elsewhere listens through the handle.
#[test]
fn tcp_open_bound() {
    let lp = Loop::new().unwrap();
    let sock = create_tcp_socket(Domain::IPV4);
    sock.bind(&localhost().into()).unwrap();
    let bound = sock.local_addr().unwrap().as_socket().unwrap();
    let server = Tcp::new(&lp);
    server.open_fd(sock.into()).unwrap();
    let accepted = Counter::new();
    let a = accepted.clone();
    server
        .listen(128, move |server, status| {
            status.unwrap();
            server.accept().unwrap().close(|_| {});
            a.inc();
            server.close(|_| {});
        })
        .unwrap();
    assert_eq!(server.local_addr().unwrap(), bound);
    let client = std::net::TcpStream::connect(bound).unwrap();
    run(&lp);
    assert_eq!(accepted.get(), 1);
    drop(client);
    make_valgrind_happy(&lp);
}

// test-tcp-open.c: a socket connected elsewhere is a stream at once.
#[test]
fn tcp_open_connected() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let counts = OpenCounts::default();
    let sock = create_tcp_socket(Domain::IPV4);
    sock.connect(&echo.addr().into()).unwrap();
    let client = Tcp::new(&lp);
    client.open_fd(sock.into()).unwrap();
    assert!(client.is_readable() && client.is_writable());
    ping_then_shutdown(&client, &counts);
    run(&lp);
    assert_eq!(counts.shutdown.get(), 1);
    assert_eq!(counts.write.get(), 1);
    assert_eq!(counts.close.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-open.c: writes made one from another's callback keep going until a timer
// shuts the stream down; the shutdown waits for the write in flight, the next write
// fails, and the echo's EOF closes the handle.
#[test]
fn tcp_write_ready() {
    fn write1(stream: &Tcp, shutdown_requested: Rc<Cell<bool>>, shutdown_cb_called: Counter, wc: Counter) {
        let again = stream.clone();
        stream
            .write([Bytes::from_static(b"P")], move |_, status| {
                if status.is_err() {
                    assert_eq!(shutdown_cb_called.get(), 1);
                    return;
                }
                if shutdown_requested.get() {
                    return;
                }
                wc.inc();
                write1(&again, shutdown_requested, shutdown_cb_called, wc);
            })
            .unwrap();
    }
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let counts = OpenCounts::default();
    let shutdown_requested = Rc::new(Cell::new(false));
    let client = Tcp::new(&lp);
    client.open_fd(create_tcp_socket(Domain::IPV4).into()).unwrap();
    let tm = Timer::new(&lp);
    let (cc, wc, sc, cl, sr, tm2) = (
        counts.connect.clone(),
        counts.write.clone(),
        counts.shutdown.clone(),
        counts.close.clone(),
        shutdown_requested.clone(),
        tm.clone(),
    );
    client
        .connect(echo.addr(), move |stream, status| {
            status.unwrap();
            cc.inc();
            let (s, sr2, sc2) = (stream.clone(), sr.clone(), sc.clone());
            tm2.start(100, 0, move |t| {
                let sc = sc2.clone();
                s.shutdown(move |_, status| {
                    status.unwrap();
                    sc.inc();
                })
                .unwrap();
                sr2.set(true);
                t.close(|_| {});
            })
            .unwrap();
            write1(stream, sr.clone(), sc.clone(), wc.clone());
            let cl = cl.clone();
            stream
                .read_start(move |stream, ev| match ev {
                    ReadEvent::Data(d) => assert!(d.iter().all(|&b| b == b'P')),
                    ReadEvent::Eof => close_counted(stream, &cl),
                    ReadEvent::Error(e) => panic!("read error: {e}"),
                })
                .unwrap();
        })
        .unwrap();
    run(&lp);
    assert_eq!(counts.shutdown.get(), 1);
    assert!(shutdown_requested.get());
    assert_eq!(counts.connect.get(), 1);
    assert!(counts.write.get() > 0);
    assert_eq!(counts.close.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-create-socket-early.c: `new_ex` makes the socket at once; it has a name of its
// family before bind, and bind then uses it.
#[test]
fn tcp_create_early() {
    let lp = Loop::new().unwrap();
    let client = Tcp::new_ex(&lp, Family::Inet).unwrap();
    let fd = client.fileno().expect("a socket from the start");
    assert!(client.local_addr().unwrap().is_ipv4());
    client.bind(localhost()).unwrap();
    assert_eq!(client.fileno(), Some(fd));
    assert_eq!(client.local_addr().unwrap().ip(), localhost().ip());
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-tcp-create-socket-early.c: an IPv6 socket cannot bind an IPv4 address (EINVAL).
#[test]
fn tcp_create_early_bad_bind() {
    if !can_ipv6() {
        return;
    }
    let lp = Loop::new().unwrap();
    let client = Tcp::new_ex(&lp, Family::Inet6).unwrap();
    assert!(client.fileno().is_some());
    assert!(client.local_addr().unwrap().is_ipv6());
    assert_eq!(client.bind(localhost()), Err(Error::EINVAL));
    client.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// test-getsockname.c (TCP): the names of a listening, an accepted and a connected socket;
// a listening socket has no peer (ENOTCONN).
#[test]
fn getsockname_tcp() {
    let lp = Loop::new().unwrap();
    let getsocknamecount = Counter::new();
    let getpeernamecount = Counter::new();
    let server = Tcp::new(&lp);
    server.bind(SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    let (gs, gp) = (getsocknamecount.clone(), getpeernamecount.clone());
    let connect_port: Rc<Cell<u16>> = Rc::default();
    let cp = connect_port.clone();
    server
        .listen(128, move |server, status| {
            status.unwrap();
            let handle = server.accept().unwrap();
            let sockname = handle.local_addr().unwrap();
            assert_eq!(sockname, SocketAddr::from(([127, 0, 0, 1], server.local_addr().unwrap().port())));
            gs.inc();
            let peername = handle.peer_addr().unwrap();
            assert_eq!(peername, SocketAddr::from(([127, 0, 0, 1], cp.get())));
            gp.inc();
            let server = server.clone();
            handle
                .read_start(move |handle, _| {
                    let server = server.clone();
                    handle
                        .shutdown(move |handle, _| {
                            handle.close(move |_| server.close(|_| {}));
                        })
                        .unwrap();
                    handle.read_stop();
                })
                .unwrap();
        })
        .unwrap();
    let listening = server.local_addr().unwrap();
    assert_eq!(listening.ip(), addr("0.0.0.0:0").ip());
    getsocknamecount.inc();
    assert_eq!(server.peer_addr(), Err(Error::ENOTCONN));
    getpeernamecount.inc();

    let tcp = Tcp::new(&lp);
    let (gs, gp) = (getsocknamecount.clone(), getpeernamecount.clone());
    let port = listening.port();
    tcp.connect(SocketAddr::from(([127, 0, 0, 1], port)), move |tcp, status| {
        status.unwrap();
        assert_eq!(tcp.local_addr().unwrap().ip(), localhost().ip());
        gs.inc();
        assert_eq!(tcp.peer_addr().unwrap(), SocketAddr::from(([127, 0, 0, 1], port)));
        gp.inc();
        tcp.close(|_| {});
    })
    .unwrap();
    // The connecting socket's port, fetched at once (libuv: "Fetch the actual port used
    // by the connecting socket").
    connect_port.set(tcp.local_addr().unwrap().port());
    run(&lp);
    assert_eq!(getsocknamecount.get(), 3);
    assert_eq!(getpeernamecount.get(), 3);
    make_valgrind_happy(&lp);
}

// test-shutdown-close.c (TCP): a shutdown followed at once by close gets its callback
// (0 or ECANCELED), and the handle is closing from the close call on.
#[test]
fn shutdown_close_tcp() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let shutdown_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let h = Tcp::new(&lp);
    let (cc, sc, cl) = (connect_cb_called.clone(), shutdown_cb_called.clone(), close_cb_called.clone());
    h.connect(echo.addr(), move |h, status| {
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

/// How test-tcp-close-reset.c's `do_close` ends a connection.
#[derive(Clone, Copy, PartialEq)]
enum Before {
    /// `uv_tcp_close_reset` (then a shutdown is ENOTCONN).
    Nothing,
    /// `uv_shutdown` (then `uv_tcp_close_reset` is EINVAL).
    Shutdown,
    /// `shutdown(fd, SHUT_RDWR)` behind the handle's back, then `uv_tcp_close_reset`.
    SocketShutdown,
}

#[derive(Default)]
struct ResetCounts {
    write: Counter,
    close: Counter,
    shutdown: Counter,
}

/// test-tcp-close-reset.c: the client writes four PINGs; then one side (the client at
/// once, or the server once it has read all 16 bytes) ends the connection as `before`
/// says.
fn close_reset(client_close: bool, before: Before) -> ResetCounts {
    let lp = Loop::new().unwrap();
    let counts = Rc::new(ResetCounts::default());
    let tcp_server = Tcp::new(&lp);
    tcp_server.bind(localhost()).unwrap();

    let do_close = {
        let (counts, server) = (counts.clone(), tcp_server.clone());
        move |handle: &Tcp| {
            let cl = counts.close.clone();
            let on_close = move |_: &Tcp| {
                cl.inc();
            };
            match before {
                Before::Shutdown => {
                    let sc = counts.shutdown.clone();
                    handle
                        .shutdown(move |_, _| {
                            sc.inc();
                        })
                        .unwrap();
                    assert_eq!(handle.close_reset(on_close), Err(Error::EINVAL));
                }
                Before::SocketShutdown => {
                    let fd = handle.fileno().unwrap();
                    // SAFETY: a plain call on the handle's open descriptor.
                    assert_eq!(unsafe { libc::shutdown(fd, libc::SHUT_RDWR) }, 0);
                    handle.close_reset(on_close).unwrap();
                }
                Before::Nothing => {
                    handle.close_reset(on_close).unwrap();
                    assert_eq!(handle.shutdown(|_, _| panic!("no shutdown callback")), Err(Error::ENOTCONN));
                }
            }
            server.close(|_| {});
        }
    };

    let read_size = Rc::new(Cell::new(0));
    let server_close = do_close.clone();
    tcp_server
        .listen(128, move |server, status| {
            status.unwrap();
            let accepted = server.accept().unwrap();
            let (read_size, do_close) = (read_size.clone(), server_close.clone());
            accepted
                .read_start(move |stream, ev| match ev {
                    ReadEvent::Data(d) => {
                        read_size.set(read_size.get() + d.len());
                        if read_size.get() == 16 && !client_close {
                            do_close(stream);
                        }
                    }
                    _ => stream.close(|_| {}),
                })
                .unwrap();
        })
        .unwrap();

    let tcp_client = Tcp::new(&lp);
    let c = counts.clone();
    tcp_client
        .connect(tcp_server.local_addr().unwrap(), move |client, _| {
            client
                .read_start(|stream, ev| {
                    if !matches!(ev, ReadEvent::Data(_)) {
                        stream.close(|_| {});
                    }
                })
                .unwrap();
            for _ in 0..4 {
                let (wc, cl) = (c.write.clone(), c.close.clone());
                client
                    .write([Bytes::from_static(b"PING")], move |_, _| {
                        // Write callbacks run before the close callback.
                        assert_eq!(cl.get(), 0);
                        wc.inc();
                    })
                    .unwrap();
            }
            if client_close {
                do_close(client);
            }
        })
        .unwrap();
    assert_eq!(counts.write.get(), 0);
    assert_eq!(counts.close.get(), 0);
    assert_eq!(counts.shutdown.get(), 0);
    assert!(!run(&lp));
    make_valgrind_happy(&lp);
    Rc::try_unwrap(counts).ok().expect("the callbacks are gone")
}

// test-tcp-close-reset.c
#[test]
fn tcp_close_reset_client() {
    let c = close_reset(true, Before::Nothing);
    assert_eq!((c.write.get(), c.close.get(), c.shutdown.get()), (4, 1, 0));
}

// test-tcp-close-reset.c
#[test]
fn tcp_close_reset_client_after_shutdown() {
    let c = close_reset(true, Before::Shutdown);
    assert_eq!((c.write.get(), c.close.get(), c.shutdown.get()), (4, 0, 1));
}

// test-tcp-close-reset.c
#[test]
fn tcp_close_reset_accepted() {
    let c = close_reset(false, Before::Nothing);
    assert_eq!((c.write.get(), c.close.get(), c.shutdown.get()), (4, 1, 0));
}

// test-tcp-close-reset.c
#[test]
fn tcp_close_reset_accepted_after_shutdown() {
    let c = close_reset(false, Before::Shutdown);
    assert_eq!((c.write.get(), c.close.get(), c.shutdown.get()), (4, 0, 1));
}

// test-tcp-close-reset.c
#[test]
fn tcp_close_reset_accepted_after_socket_shutdown() {
    let c = close_reset(false, Before::SocketShutdown);
    assert_eq!((c.write.get(), c.close.get(), c.shutdown.get()), (4, 1, 0));
}

// test-tcp-write-to-half-open-connection.c: the server writes to a client that has
// already closed; the write succeeds (the kernel took it) and the read that follows
// sees ECONNRESET or EOF.
#[test]
fn tcp_write_to_half_open_connection() {
    let lp = Loop::new().unwrap();
    let write_cb_called = Counter::new();
    let read_cb_called = Counter::new();
    let tcp_server = Tcp::new(&lp);
    tcp_server.bind(localhost()).unwrap();
    let (wc, rc) = (write_cb_called.clone(), read_cb_called.clone());
    tcp_server
        .listen(1, move |server, status| {
            status.unwrap();
            let tcp_peer = server.accept().unwrap();
            let (server, rc) = (server.clone(), rc.clone());
            tcp_peer
                .read_start(move |peer, ev| {
                    match ev {
                        ReadEvent::Data(_) => {}
                        ReadEvent::Eof | ReadEvent::Error(Error::ECONNRESET) => {
                            server.close(|_| {});
                            peer.close(|_| {});
                        }
                        ReadEvent::Error(e) => panic!("read error: {e}"),
                    }
                    rc.inc();
                })
                .unwrap();
            let wc = wc.clone();
            tcp_peer
                .write([Bytes::from_static(b"hello\n")], move |_, status| {
                    status.unwrap();
                    wc.inc();
                })
                .unwrap();
        })
        .unwrap();
    let tcp_client = Tcp::new(&lp);
    tcp_client
        .connect(tcp_server.local_addr().unwrap(), |client, status| {
            status.unwrap();
            client.close(|_| {});
        })
        .unwrap();
    assert!(!run(&lp));
    assert!(write_cb_called.get() > 0);
    assert!(read_cb_called.get() > 0);
    make_valgrind_happy(&lp);
}

// test-tcp-close-accept.c: two accepted connections are readable in the same poll; the
// first read closes the other and the server and connects anew at once, so the new
// socket may get the closed one's descriptor (and here its registration key) while the
// closed one's event is still in the batch. That stale event must not reach the new
// handle: its connect fails (refused), not succeeds.
#[test]
fn tcp_close_accept() {
    const N: usize = 2;
    let lp = Loop::new().unwrap();
    let got_connections = Counter::new();
    let close_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let read_cb_called = Counter::new();
    let incoming: Rc<std::cell::RefCell<Vec<Tcp>>> = Rc::default();
    let tcp_server = Tcp::new(&lp);
    tcp_server.bind(localhost()).unwrap();
    let addr = tcp_server.local_addr().unwrap();

    fn read_cb(
        stream: &Tcp,
        ev: ReadEvent,
        incoming: &Rc<std::cell::RefCell<Vec<Tcp>>>,
        server: &Tcp,
        addr: SocketAddr,
        counts: &(Counter, Counter),
    ) {
        let (read_cb_called, close_cb_called) = counts;
        let pending = incoming.borrow().iter().position(|t| t == stream).expect("an incoming connection");
        stream.read_stop();
        assert!(matches!(ev, ReadEvent::Data(ref d) if d.len() == 1), "{ev:?}");
        read_cb_called.inc();
        for (i, t) in incoming.borrow().iter().enumerate() {
            if i != pending {
                close_counted(t, close_cb_called);
            }
        }
        close_counted(server, close_cb_called);
        let tcp_check = Tcp::new(&stream.get_loop());
        let (inc, cl) = (incoming.clone(), close_cb_called.clone());
        tcp_check
            .connect(addr, move |check, status| {
                assert!(status.is_err(), "the check connection got a stale event: {status:?}");
                close_counted(&inc.borrow()[pending], &cl);
                close_counted(check, &cl);
            })
            .unwrap();
        tcp_check.read_start(|_, ev| panic!("the check connection read {ev:?}")).unwrap();
    }

    let (gc, inc, rc, cl) =
        (got_connections.clone(), incoming.clone(), read_cb_called.clone(), close_cb_called.clone());
    tcp_server
        .listen(N as i32, move |server, status| {
            status.unwrap();
            if gc.get() == N {
                return; // the check connection: ignored
            }
            inc.borrow_mut().push(server.accept().unwrap());
            if gc.inc() != N {
                return;
            }
            for t in inc.borrow().iter() {
                let (inc, server, counts) = (inc.clone(), server.clone(), (rc.clone(), cl.clone()));
                t.read_start(move |stream, ev| read_cb(stream, ev, &inc, &server, addr, &counts)).unwrap();
            }
        })
        .unwrap();
    let mut outgoing = Vec::new();
    for _ in 0..N {
        let client = Tcp::new(&lp);
        let wc = write_cb_called.clone();
        client
            .connect(addr, move |out, status| {
                status.unwrap();
                out.write([Bytes::from_static(b"x")], move |_, status| {
                    status.unwrap();
                    wc.inc();
                })
                .unwrap();
            })
            .unwrap();
        outgoing.push(client);
    }
    run(&lp);
    assert_eq!(got_connections.get(), N);
    assert_eq!(close_cb_called.get(), N + 2);
    assert_eq!(write_cb_called.get(), N);
    assert_eq!(read_cb_called.get(), 1);
    for c in outgoing {
        c.close(|_| {});
    }
    incoming.borrow_mut().clear();
    make_valgrind_happy(&lp);
}

// test-tcp-close-after-read-timeout.c: a client that reads nothing for a while stops
// reading and closes; the server's side reads EOF and closes too. (libuv waits 1 s;
// 100 ms shows the same.)
#[test]
fn tcp_close_after_read_timeout() {
    let lp = Loop::new().unwrap();
    let read_cb_called = Counter::new();
    let on_close_called = Counter::new();
    let tcp_server = Tcp::new(&lp);
    tcp_server.bind(localhost()).unwrap();
    let (rc, oc) = (read_cb_called.clone(), on_close_called.clone());
    tcp_server
        .listen(128, move |server, status| {
            status.unwrap();
            let connection = server.accept().unwrap();
            let (rc, oc) = (rc.clone(), oc.clone());
            connection
                .read_start(move |stream, ev| {
                    assert_eq!(ev, ReadEvent::Eof);
                    rc.inc();
                    close_counted(stream, &oc);
                })
                .unwrap();
        })
        .unwrap();
    tcp_server.unref();
    let client = Tcp::new(&lp);
    let timer = Timer::new(&lp);
    let (rc, oc, t) = (read_cb_called.clone(), on_close_called.clone(), timer.clone());
    client
        .connect(tcp_server.local_addr().unwrap(), move |client, _| {
            let rc2 = rc.clone();
            client
                .read_start(move |_, ev| {
                    assert!(!matches!(ev, ReadEvent::Data(_)));
                    rc2.inc();
                })
                .unwrap();
            let (c, rc, oc) = (client.clone(), rc.clone(), oc.clone());
            t.start(100, 0, move |timer| {
                assert_eq!(rc.get(), 0);
                c.read_stop();
                close_counted(&c, &oc);
                let oc = oc.clone();
                timer.close(move |_| {
                    oc.inc();
                });
            })
            .unwrap();
        })
        .unwrap();
    assert_eq!(read_cb_called.get(), 0);
    assert_eq!(on_close_called.get(), 0);
    assert!(!run(&lp));
    assert_eq!(read_cb_called.get(), 1);
    assert_eq!(on_close_called.get(), 3);
    tcp_server.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-connect-unspecified.c: connecting to 0.0.0.0 (and ::) is not EADDRNOTAVAIL; Linux
// takes the unspecified address as this host, so nobody listening is ECONNREFUSED.
#[test]
fn connect_unspecified() {
    let lp = Loop::new().unwrap();
    let port = closed_port().port();
    let results = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut targets = vec![SocketAddr::from(([0, 0, 0, 0], port))];
    if can_ipv6() {
        targets.push(SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)));
    }
    for addr in &targets {
        let socket = Tcp::new(&lp);
        let res = results.clone();
        socket
            .connect(*addr, move |socket, status| {
                assert_ne!(status, Err(Error::EADDRNOTAVAIL));
                res.borrow_mut().push(status);
                socket.close(|_| {});
            })
            .unwrap();
    }
    assert!(!run(&lp));
    assert_eq!(results.borrow().len(), targets.len());
    make_valgrind_happy(&lp);
}
