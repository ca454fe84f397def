//! UDP handles. Ported from libuv's test-udp-send-and-recv.c, test-udp-connect.c,
//! test-udp-try-send.c, test-udp-bind.c, test-udp-options.c, test-udp-dgram-too-big.c,
//! test-udp-send-immediate.c, test-udp-open.c, test-getsockname.c (getsockname_udp) and
//! test-ref.c (udp_ref*). Ports are ephemeral rather than libuv's TEST_PORT.

mod util;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{Error, Handle, Loop, RunMode, Udp, UdpBindFlags, UdpRecv};
use util::{do_close, make_valgrind_happy, Counter};

fn b(s: &'static str) -> Vec<Bytes> {
    vec![Bytes::from_static(s.as_bytes())]
}

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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    assert!(!lp.run(RunMode::Default));
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
    udp_options_test("[::]:0".parse().unwrap());
}

// test-udp-options.c: udp_no_autobind: options on a handle with no socket are EBADF;
// a handle made for a family has its socket, unbound until used.
#[test]
fn udp_no_autobind() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    assert_eq!(h.set_multicast_ttl(32).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_broadcast(true).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_ttl(1).unwrap_err(), Error::EBADF);
    assert_eq!(h.set_multicast_loop(true).unwrap_err(), Error::EBADF);
    assert_eq!(h.fileno().unwrap_err(), Error::EBADF);
    h.close(|_| {});
    let h2 = Udp::new_with_family(&lp, false).unwrap();
    h2.set_multicast_ttl(32).unwrap();
    h2.set_broadcast(true).unwrap();
    h2.set_ttl(1).unwrap();
    h2.set_multicast_loop(true).unwrap();
    assert!(h2.fileno().is_ok());
    assert_eq!(h2.getsockname().unwrap().port(), 0, "not bound yet");
    h2.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-udp-open.c: udp_open: a socket this process made, adopted; sends and receives
// through the handle. A handle with a socket refuses another (EEXIST).
#[test]
fn udp_open() {
    let lp = Loop::new().unwrap();
    let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = std.local_addr().unwrap();
    let h = Udp::new(&lp);
    h.open_fd(std.into()).unwrap();
    assert_eq!(h.getsockname().unwrap(), addr);
    let other = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(h.open_fd(other.into()).unwrap_err(), Error::EEXIST);
    let got = Counter::new();
    let g = got.clone();
    h.recv_start(move |h, r| {
        let UdpRecv { data, addr } = r.unwrap();
        if addr.is_some() {
            assert_eq!(&data[..], b"PING");
            g.inc();
            h.close(|_| {});
        }
    })
    .unwrap();
    h.send(b("PING"), Some(addr), |_, r| r.unwrap()).unwrap();
    lp.run(RunMode::Default);
    assert_eq!(got.get(), 1);
    make_valgrind_happy(&lp);
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
    lp.run(RunMode::Default);
    make_valgrind_happy(&lp);
}

// test-ref.c: udp_ref: an unreferenced handle does not keep the loop alive.
#[test]
fn udp_ref() {
    let lp = Loop::new().unwrap();
    let h = Udp::new(&lp);
    h.unref();
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
    lp.run(RunMode::Default);
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
        eprintln!("SKIPPED watcher_cross_stop: the descriptor limit is below {}", N + 64);
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
        lp.run(RunMode::Once);
    }
    for h in &sockets {
        let c = closes.clone();
        h.close(move |_| {
            c.inc();
        });
    }
    lp.run(RunMode::Default);
    assert_eq!(sends.get(), N);
    assert_eq!(closes.get(), N);
    make_valgrind_happy(&lp);
}
