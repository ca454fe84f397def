//! TCP handles: connect, close, references, accept, resets, a ping-pong conversation.
//! Ported from libuv's test-ref.c (tcp_ref3, tcp_ref4), test-callback-stack.c,
//! test-tcp-close-while-connecting.c, test-tcp-close.c, test-tcp-rst.c,
//! test-ping-pong.c, test-delayed-accept.c, test-multiple-listen.c,
//! test-connection-fail.c and test-tcp-oob.c, one test per libuv test, same names.
//! libuv's fixed TEST_PORT becomes port 0 and the address the kernel picked.

mod util;

use std::cell::Cell;
use std::net::TcpStream;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{guess_handle, Error, Handle, HandleType, Idle, Loop, ReadEvent, Tcp, Timer};
use util::net::{can_ipv6, closed_port, localhost, run, Blackhole, EchoServer};
use util::{do_close, make_valgrind_happy, Counter};

// test-ref.c: a connect request keeps the loop alive although its handle is unref'd,
// and so does the shutdown request issued from the connect callback.
#[test]
fn tcp_ref3() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let shutdown_cb_called = Counter::new();
    let h = Tcp::new(&lp);
    let (cc, sc) = (connect_cb_called.clone(), shutdown_cb_called.clone());
    h.connect(echo.addr(), move |h, status| {
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
fn tcp_ref4() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let shutdown_cb_called = Counter::new();
    let h = Tcp::new(&lp);
    let (cc, wc, sc) = (connect_cb_called.clone(), write_cb_called.clone(), shutdown_cb_called.clone());
    h.connect(echo.addr(), move |h, status| {
        status.unwrap();
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

// test-callback-stack.c: no callback ever runs on the stack of the call that caused it
// (connect, write, timer start, read_start on data already there, shutdown, close).
#[test]
fn callback_stack() {
    const MESSAGE: &[u8] = b"Failure is for the weak. Everyone dies alone.\0";

    struct State {
        nested: Cell<i32>,
        connect_cb_called: Counter,
        write_cb_called: Counter,
        timer_cb_called: Counter,
        shutdown_cb_called: Counter,
        close_cb_called: Counter,
        bytes_received: Cell<usize>,
    }

    impl State {
        fn fresh_stack(&self, what: &str) {
            assert_eq!(self.nested.get(), 0, "{what} must be called from a fresh stack");
        }

        fn nested<R>(&self, f: impl FnOnce() -> R) -> R {
            self.nested.set(self.nested.get() + 1);
            let r = f();
            self.nested.set(self.nested.get() - 1);
            r
        }

        fn close_cb(self: &Rc<Self>) -> impl FnOnce(&Tcp) + 'static {
            let s = self.clone();
            move |_| {
                s.fresh_stack("close_cb");
                s.close_cb_called.inc();
            }
        }
    }

    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let s = Rc::new(State {
        nested: Cell::new(0),
        connect_cb_called: Counter::new(),
        write_cb_called: Counter::new(),
        timer_cb_called: Counter::new(),
        shutdown_cb_called: Counter::new(),
        close_cb_called: Counter::new(),
        bytes_received: Cell::new(0),
    });

    let read_cb = {
        let s = s.clone();
        move |tcp: &Tcp, ev: ReadEvent| {
            s.fresh_stack("read_cb");
            match ev {
                ReadEvent::Data(data) => {
                    s.bytes_received.set(s.bytes_received.get() + data.len());
                    // Nothing more will be sent or received: a backend could be tempted
                    // to call the shutdown callback at once.
                    if s.bytes_received.get() == MESSAGE.len() {
                        let s2 = s.clone();
                        s.nested(|| {
                            tcp.shutdown(move |_, status| {
                                status.unwrap();
                                s2.fresh_stack("shutdown_cb");
                                s2.shutdown_cb_called.inc();
                            })
                        })
                        .unwrap();
                    }
                }
                ReadEvent::Eof => {
                    let close_cb = s.close_cb();
                    s.nested(|| tcp.close(close_cb));
                }
                ReadEvent::Error(e) => panic!("read error: {e:?}"),
            }
        }
    };

    let client = Tcp::new(&lp);
    let timer = Timer::new(&lp);
    let s2 = s.clone();
    let connect_cb = move |tcp: &Tcp, status: Result<(), Error>| {
        status.unwrap();
        s2.fresh_stack("connect_cb");
        let s3 = s2.clone();
        s2.nested(|| {
            tcp.write([Bytes::from_static(MESSAGE)], move |tcp, status| {
                status.unwrap();
                s3.fresh_stack("write_cb");
                // Wait before reading, so that the echo is already in the receive
                // buffer when reading starts: the temptation to call read_cb at once.
                let (s4, tcp) = (s3.clone(), tcp.clone());
                s3.nested(|| {
                    timer.start(100, 0, move |timer| {
                        s4.fresh_stack("timer_cb");
                        s4.nested(|| tcp.read_start(read_cb.clone())).unwrap();
                        s4.timer_cb_called.inc();
                        let s5 = s4.clone();
                        timer.close(move |_| {
                            s5.fresh_stack("close_cb");
                            s5.close_cb_called.inc();
                        });
                    })
                })
                .unwrap();
                s3.write_cb_called.inc();
            })
        })
        .unwrap();
        s2.connect_cb_called.inc();
    };
    s.nested(|| client.connect(echo.addr(), connect_cb)).unwrap();

    run(&lp);

    assert_eq!(s.nested.get(), 0);
    assert_eq!(s.connect_cb_called.get(), 1, "connect_cb must be called exactly once");
    assert_eq!(s.write_cb_called.get(), 1, "write_cb must be called exactly once");
    assert_eq!(s.timer_cb_called.get(), 1, "timer_cb must be called exactly once");
    assert_eq!(s.bytes_received.get(), MESSAGE.len());
    assert_eq!(s.shutdown_cb_called.get(), 1, "shutdown_cb must be called exactly once");
    assert_eq!(s.close_cb_called.get(), 2, "close_cb must be called exactly twice");
    make_valgrind_happy(&lp);
}

// test-tcp-close-while-connecting.c: closing a handle whose connect is in progress
// cancels the connect (ECANCELED), and the loop does not wait for it. libuv connects to
// 1.2.3.4 and hopes no route answers; a full accept queue on loopback is certain.
#[test]
fn tcp_close_while_connecting() {
    let blackhole = Blackhole::new();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let timer1_cb_called = Counter::new();
    let close_cb_called = Counter::new();

    let tcp = Tcp::new(&lp);
    let timer1 = Timer::new(&lp);
    let timer2 = Timer::new(&lp);

    let (cc, t2) = (connect_cb_called.clone(), timer2.clone());
    tcp.connect(blackhole.addr(), move |_, status| {
        assert_eq!(status, Err(Error::ECANCELED));
        t2.stop();
        cc.inc();
    })
    .unwrap();
    let (t1c, cl, tcp2) = (timer1_cb_called.clone(), close_cb_called.clone(), tcp.clone());
    timer1
        .start(1, 0, move |timer| {
            let c = cl.clone();
            timer.close(move |_| {
                c.inc();
            });
            let c = cl.clone();
            tcp2.close(move |_| {
                c.inc();
            });
            t1c.inc();
        })
        .unwrap();
    timer2.start(86_400 * 1000, 0, |_| panic!("timer2 should not be called")).unwrap();

    assert!(!run(&lp));

    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(timer1_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 2);
    timer2.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-tcp-close.c: write requests still queued when the handle is closed get their
// callbacks, all of them, before the close callback.
#[test]
fn tcp_close() {
    const NUM_WRITE_REQS: usize = 32;

    let lp = Loop::new().unwrap();
    let write_cb_called = Counter::new();
    let close_cb_called = Counter::new();

    // libuv: "We can't use the echo server, it doesn't handle ECONNRESET."
    let server = Tcp::new(&lp);
    server.bind(localhost()).unwrap();
    server.listen(128, |_, status| status.unwrap()).unwrap();
    server.unref();

    let tcp_handle = Tcp::new(&lp);
    let (wc, cl) = (write_cb_called.clone(), close_cb_called.clone());
    tcp_handle
        .connect(server.local_addr().unwrap(), move |tcp, _| {
            for _ in 0..NUM_WRITE_REQS {
                let (wc, cl, me) = (wc.clone(), cl.clone(), tcp.clone());
                tcp.write([Bytes::from_static(b"PING")], move |tcp, _| {
                    // Write callbacks run before the close callback.
                    assert_eq!(cl.get(), 0);
                    assert_eq!(*tcp, me);
                    wc.inc();
                })
                .unwrap();
            }
            let (cl, me) = (cl.clone(), tcp.clone());
            tcp.close(move |tcp| {
                assert_eq!(*tcp, me);
                cl.inc();
            });
        })
        .unwrap();

    assert_eq!(write_cb_called.get(), 0);
    assert_eq!(close_cb_called.get(), 0);

    assert!(!run(&lp));

    assert_eq!(write_cb_called.get(), NUM_WRITE_REQS);
    assert_eq!(close_cb_called.get(), 1);
    server.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-tcp-rst.c: the echo server answers "QSH" with a RST; the reader gets ECONNRESET,
// once.
#[test]
fn tcp_rst() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let read_cb_called = Counter::new();
    let connect_cb_called = Counter::new();
    let close_cb_called = Counter::new();

    let tcp = Tcp::new(&lp);
    let (rc, cc, cl, me) = (read_cb_called.clone(), connect_cb_called.clone(), close_cb_called.clone(), tcp.clone());
    tcp.connect(echo.addr(), move |tcp, status| {
        status.unwrap();
        // Start reading, so that the RST arrives in a read.
        tcp.read_start(move |t, ev| {
            assert_eq!(*t, me);
            assert_eq!(ev, ReadEvent::Error(Error::ECONNRESET));
            rc.inc();
            let (cl, me) = (cl.clone(), me.clone());
            t.close(move |t| {
                assert_eq!(*t, me);
                cl.inc();
            });
        })
        .unwrap();
        assert_eq!(tcp.try_write(&[Bytes::from_static(b"QSH")]), Ok(3));
        cc.inc();
    })
    .unwrap();

    run(&lp);

    assert_eq!(read_cb_called.get(), 1);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

const NUM_PINGS: usize = 1000;
const PING: &[u8] = b"PING\n";
const PONG: &[u8] = b"PONG\n";

/// test-ping-pong.c's `pinger_t`.
struct Pinger {
    pongs: Cell<usize>,
    state: Cell<usize>,
    pong: &'static [u8],
    vectored: bool,
    completed_pingers: Counter,
}

impl Pinger {
    fn new(pong: &'static [u8], vectored: bool, completed_pingers: &Counter) -> Rc<Pinger> {
        Rc::new(Pinger {
            pongs: Cell::new(0),
            state: Cell::new(0),
            pong,
            vectored,
            completed_pingers: completed_pingers.clone(),
        })
    }

    /// `pinger_write_ping`: one buffer, or one buffer a byte.
    fn write_ping(&self, tcp: &Tcp) {
        let bufs: Vec<Bytes> = match self.vectored {
            false => vec![Bytes::from_static(PING)],
            true => (0..PING.len()).map(|i| Bytes::from_static(&PING[i..i + 1])).collect(),
        };
        tcp.write(bufs, |_, status| status.unwrap()).unwrap();
    }

    fn close(self: &Rc<Self>, tcp: &Tcp) {
        let p = self.clone();
        tcp.close(move |_| {
            assert_eq!(p.pongs.get(), NUM_PINGS);
            p.completed_pingers.inc();
        });
    }

    /// `pinger_read_cb`: counts the pongs, answering each with a ping.
    fn read_cb(self: &Rc<Self>, tcp: &Tcp, ev: ReadEvent) {
        let data = match ev {
            ReadEvent::Data(data) => data,
            ev => {
                assert_eq!(ev, ReadEvent::Eof);
                self.close(tcp);
                return;
            }
        };
        for &byte in data.iter() {
            assert_eq!(byte, self.pong[self.state.get()]);
            self.state.set((self.state.get() + 1) % self.pong.len());
            if self.state.get() != 0 {
                continue;
            }
            self.pongs.set(self.pongs.get() + 1);
            if self.pongs.get() < NUM_PINGS {
                self.write_ping(tcp);
            } else {
                self.close(tcp);
                break;
            }
        }
    }
}

/// `ponger_read_cb`: echoes with every `I` turned into an `O`.
fn ponger_read_cb(tcp: &Tcp, ev: ReadEvent) {
    let data = match ev {
        ReadEvent::Data(data) => data,
        ev => {
            assert_eq!(ev, ReadEvent::Eof);
            tcp.close(|_| {});
            return;
        }
    };
    let pong: Vec<u8> = data.iter().map(|&b| if b == b'I' { b'O' } else { b }).collect();
    tcp.write([Bytes::from(pong)], |_, status| status.unwrap()).unwrap();
}

/// `tcp_pinger_new` (or `tcp_pinger_v6_new`) and, for IPv4, `socketpair_pinger_new`: each
/// run to completion on a loop of its own.
fn ping_pong(vectored: bool, v6: bool) {
    let echo = if v6 { EchoServer::start6() } else { EchoServer::start() };
    let completed_pingers = Counter::new();

    let lp = Loop::new().unwrap();
    let pinger = Pinger::new(PING, vectored, &completed_pingers);
    let connect_count = Counter::new();
    let tcp = Tcp::new(&lp);
    let (p, cc) = (pinger.clone(), connect_count.clone());
    tcp.connect(echo.addr(), move |tcp, status| {
        cc.inc();
        status.unwrap();
        assert!(tcp.is_readable());
        assert!(tcp.is_writable());
        assert!(!tcp.is_closing());
        p.write_ping(tcp);
        let p = p.clone();
        tcp.read_start(move |tcp, ev| p.read_cb(tcp, ev)).unwrap();
    })
    .unwrap();
    // Synchronous connect callbacks are not allowed.
    assert_eq!(connect_count.get(), 0);
    run(&lp);
    assert_eq!(completed_pingers.get(), 1);
    make_valgrind_happy(&lp);
    if v6 {
        return;
    }

    // socketpair_pinger_new
    completed_pingers.set(0);
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    assert_eq!(guess_handle(a.as_fd()), HandleType::NamedPipe);
    let pinger = Pinger::new(PONG, vectored, &completed_pingers);
    let tcp = Tcp::open(&lp, TcpStream::from(OwnedFd::from(b))).unwrap();
    let ponger = Tcp::open(&lp, TcpStream::from(OwnedFd::from(a))).unwrap();
    pinger.write_ping(&tcp);
    let p = pinger.clone();
    tcp.read_start(move |tcp, ev| p.read_cb(tcp, ev)).unwrap();
    ponger.read_start(ponger_read_cb).unwrap();
    run(&lp);
    assert_eq!(completed_pingers.get(), 1);
    make_valgrind_happy(&lp);
}

// test-ping-pong.c: NUM_PINGS round trips with the echo server, then the same over a
// socketpair adopted with `Tcp::open` (uv_tcp_open) and a ponger on the same loop.
#[test]
fn tcp_ping_pong() {
    ping_pong(false, false);
}

// test-ping-pong.c: the same with each ping written as five one-byte buffers.
#[test]
fn tcp_ping_pong_vec() {
    ping_pong(true, false);
}

// test-ping-pong.c: with the echo server on ::1.
#[test]
fn tcp6_ping_pong() {
    if can_ipv6() {
        ping_pong(false, true);
    }
}

// test-ping-pong.c: on ::1, one-byte buffers.
#[test]
fn tcp6_ping_pong_vec() {
    if can_ipv6() {
        ping_pong(true, true);
    }
}

// test-delayed-accept.c: a connection callback that does not accept at once pauses
// accepting; the second connection is announced only after the first is accepted.
#[test]
fn delayed_accept() {
    let lp = Loop::new().unwrap();
    let connection_cb_called = Counter::new();
    let do_accept_called = Counter::new();
    let close_cb_called = Counter::new();
    let connect_cb_called = Counter::new();

    let server = Tcp::new(&lp);
    server.bind(localhost()).unwrap();
    let (conn, acc, cl) = (connection_cb_called.clone(), do_accept_called.clone(), close_cb_called.clone());
    server
        .listen(128, move |server, status| {
            status.unwrap();
            // Accept the client later.
            let timer = Timer::new(&server.get_loop());
            let (server, acc, cl) = (server.clone(), acc.clone(), cl.clone());
            timer
                .start(200, 0, move |timer| {
                    let accepted_handle = server.accept().unwrap();
                    acc.inc();
                    // Close the accepted handle at once.
                    let c = cl.clone();
                    accepted_handle.close(move |_| {
                        c.inc();
                    });
                    // After accepting the two clients, close the server.
                    if acc.get() == 2 {
                        let c = cl.clone();
                        server.close(move |_| {
                            c.inc();
                        });
                    }
                    let c = cl.clone();
                    timer.close(move |_| {
                        c.inc();
                    });
                })
                .unwrap();
            conn.inc();
        })
        .unwrap();

    let addr = server.local_addr().unwrap();
    for _ in 0..2 {
        let client = Tcp::new(&lp);
        let (cc, cl) = (connect_cb_called.clone(), close_cb_called.clone());
        client
            .connect(addr, move |tcp, status| {
                status.unwrap();
                // The server sends nothing; reading tells when it closes.
                tcp.read_start(move |tcp, ev| {
                    assert_eq!(ev, ReadEvent::Eof, "the server sends nothing");
                    let c = cl.clone();
                    tcp.close(move |_| {
                        c.inc();
                    });
                })
                .unwrap();
                cc.inc();
            })
            .unwrap();
    }

    run(&lp);

    assert_eq!(connection_cb_called.get(), 2);
    assert_eq!(do_accept_called.get(), 2);
    assert_eq!(connect_cb_called.get(), 2);
    assert_eq!(close_cb_called.get(), 7);
    make_valgrind_happy(&lp);
}

// test-tcp-flags.c: nodelay and keepalive on a handle without a socket yet succeed.
#[test]
fn tcp_flags() {
    let lp = Loop::new().unwrap();
    let handle = Tcp::new(&lp);
    handle.set_nodelay(true).unwrap();
    handle.set_keepalive(true, std::time::Duration::from_secs(60)).unwrap();
    handle.close(|_| {});
    assert!(!run(&lp));
    make_valgrind_happy(&lp);
}

/// `SO_KEEPALIVE`, then `TCP_KEEPIDLE`, `TCP_KEEPINTVL` (seconds) and `TCP_KEEPCNT` of
/// the handle's socket.
fn keepalive_of(tcp: &Tcp) -> (bool, u64, u64, u32) {
    let fd = tcp.fileno().unwrap();
    // SAFETY: the handle keeps `fd` open for the duration of this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let s = socket2::SockRef::from(&fd);
    (
        s.keepalive().unwrap(),
        s.tcp_keepalive_time().unwrap().as_secs(),
        s.tcp_keepalive_interval().unwrap().as_secs(),
        s.tcp_keepalive_retries().unwrap(),
    )
}

/// The socket options libuv 1.46 (Node 20) sets for `uv_tcp_keepalive`, as `strace`
/// shows them for Node's `setKeepAlive(true, 3500)`: `SO_KEEPALIVE`, `TCP_KEEPIDLE` 3,
/// `TCP_KEEPINTVL` 1, `TCP_KEEPCNT` 10. A delay of 0 is the kernel's EINVAL with
/// `SO_KEEPALIVE` left on and the idle time untouched; a socket made after the call gets
/// libuv's 60 s.
#[test]
fn tcp_keepalive_options() {
    use std::time::Duration;
    let lp = Loop::new().unwrap();
    let server = Tcp::new(&lp);
    server.bind(localhost()).unwrap();
    server.set_keepalive(true, Duration::from_millis(3500)).unwrap();
    assert_eq!(keepalive_of(&server), (true, 3, 1, 10));

    server.set_keepalive(false, Duration::ZERO).unwrap();
    assert!(!keepalive_of(&server).0);
    assert_eq!(server.set_keepalive(true, Duration::from_millis(999)), Err(Error::EINVAL));
    assert_eq!(keepalive_of(&server), (true, 3, 1, 10));

    let later = Tcp::new(&lp);
    later.set_keepalive(true, Duration::from_secs(5)).unwrap();
    later.bind(localhost()).unwrap();
    assert_eq!(keepalive_of(&later).1, 60);
    server.close(|_| {});
    later.close(|_| {});
    assert!(!run(&lp));
}

// test-multiple-listen.c: a second listen on a listening handle succeeds (it only
// replaces the callback); one connection arrives, and both handles close.
#[test]
fn multiple_listen() {
    let lp = Loop::new().unwrap();
    let (connection_cb_called, connect_cb_called, close_cb_called) = (Counter::new(), Counter::new(), Counter::new());
    let server = Tcp::new(&lp);
    server.bind(std::net::SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    let on_connection = {
        let (conn, cl) = (connection_cb_called.clone(), close_cb_called.clone());
        move |server: &Tcp, status: millrace_reactor::Result<()>| {
            status.unwrap();
            let cl = cl.clone();
            server.close(move |_| {
                cl.inc();
            });
            conn.inc();
        }
    };
    server.listen(128, on_connection.clone()).unwrap();
    server.listen(128, on_connection).unwrap();
    let port = server.local_addr().unwrap().port();
    let client = Tcp::new(&lp);
    let (cc, cl) = (connect_cb_called.clone(), close_cb_called.clone());
    client
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)), move |client, status| {
            status.unwrap();
            client.close(move |_| {
                cl.inc();
            });
            cc.inc();
        })
        .unwrap();
    run(&lp);
    assert_eq!(connection_cb_called.get(), 1);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

/// test-connection-fail.c's `connection_fail`: a handle bound to 0.0.0.0, port 0,
/// connects where nobody listens; `on_connect` gets the ECONNREFUSED.
fn start_failing_connect(lp: &Loop, on_connect: impl FnOnce(&Tcp, millrace_reactor::Result<()>) + 'static) -> Tcp {
    let tcp = Tcp::new(lp);
    tcp.bind(std::net::SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    tcp.connect(closed_port(), on_connect).unwrap();
    tcp
}

// test-connection-fail.c: the connect callback gets ECONNREFUSED and closes the handle.
#[test]
fn connection_fail() {
    let lp = Loop::new().unwrap();
    let (connect_cb_calls, close_cb_calls) = (Counter::new(), Counter::new());
    let (cc, cl) = (connect_cb_calls.clone(), close_cb_calls.clone());
    start_failing_connect(&lp, move |tcp, status| {
        assert_eq!(status, Err(Error::ECONNREFUSED));
        cc.inc();
        assert_eq!(cl.get(), 0);
        let cl = cl.clone();
        tcp.close(move |_| {
            cl.inc();
        });
    });
    run(&lp);
    assert_eq!(connect_cb_calls.get(), 1);
    assert_eq!(close_cb_calls.get(), 1);
    make_valgrind_happy(&lp);
}

// test-connection-fail.c: a failed connect does not close the handle by itself; 100 ms
// later it is still open, and the user closes it.
#[test]
fn connection_fail_doesnt_auto_close() {
    let lp = Loop::new().unwrap();
    let (connect_cb_calls, close_cb_calls) = (Counter::new(), Counter::new());
    let (timer_cb_calls, timer_close_cb_calls) = (Counter::new(), Counter::new());
    let timer = Timer::new(&lp);
    let (cc, cl, tc, tcl) =
        (connect_cb_calls.clone(), close_cb_calls.clone(), timer_cb_calls.clone(), timer_close_cb_calls.clone());
    start_failing_connect(&lp, move |tcp, status| {
        assert_eq!(status, Err(Error::ECONNREFUSED));
        cc.inc();
        let (tcp, cc, cl2) = (tcp.clone(), cc.clone(), cl.clone());
        timer
            .start(100, 0, move |timer| {
                let cl = &cl2;
                tc.inc();
                // The important asserts: the connect callback has run, the handle is not
                // closed.
                assert_eq!(cl.get(), 0);
                assert_eq!(cc.get(), 1);
                assert!(!tcp.is_closing());
                let cl = cl.clone();
                tcp.close(move |_| {
                    cl.inc();
                });
                let tcl = tcl.clone();
                timer.close(move |_| {
                    tcl.inc();
                });
            })
            .unwrap();
        assert_eq!(cl.get(), 0);
    });
    run(&lp);
    assert_eq!(connect_cb_calls.get(), 1);
    assert_eq!(close_cb_calls.get(), 1);
    assert_eq!(timer_cb_calls.get(), 1);
    assert_eq!(timer_close_cb_calls.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-oob.c: urgent data (two `send(MSG_OOB)`s, written in blocking mode) does not
// make the reading side spin or stall: reads go on, and the loop ends when the handles
// are closed ten idle ticks after the first read.
#[test]
fn tcp_oob() {
    const MAX_TICKS: usize = 10;
    let lp = Loop::new().unwrap();
    let ticks = Counter::new();
    let (server_handle, client_handle) = (Tcp::new(&lp), Tcp::new(&lp));
    let idle = Idle::new(&lp);
    server_handle.bind(localhost()).unwrap();
    let peer_handle: Rc<std::cell::RefCell<Option<Tcp>>> = Rc::default();
    let (srv, cli, peer, t) = (server_handle.clone(), client_handle.clone(), peer_handle.clone(), ticks.clone());
    let idle_cb = Rc::new(move |idle: &Idle| {
        if t.inc() < MAX_TICKS {
            return;
        }
        srv.close(|_| {});
        cli.close(|_| {});
        if let Some(p) = peer.borrow().as_ref() {
            p.close(|_| {});
        }
        idle.close(|_| {});
    });
    let (cli, peer, idl) = (client_handle.clone(), peer_handle.clone(), idle.clone());
    server_handle
        .listen(1, move |server, status| {
            status.unwrap();
            let p = server.accept().unwrap();
            let (idl, idle_cb) = (idl.clone(), idle_cb.clone());
            p.read_start(move |h, ev| {
                assert!(matches!(ev, ReadEvent::Data(_)), "{ev:?}");
                assert!(h.fileno().is_some());
                let cb = idle_cb.clone();
                let _ = idl.start(move |i| cb(i));
            })
            .unwrap();
            *peer.borrow_mut() = Some(p);
            // Some OOB data, twice (xnu missed the first).
            cli.set_blocking(true).unwrap();
            let fd = cli.fileno().unwrap();
            // SAFETY: `fd` is the client's socket, open for the whole borrow.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let sock = socket2::SockRef::from(&fd);
            assert_eq!(sock.send_out_of_band(b"hello").unwrap(), 5);
            assert_eq!(sock.send_out_of_band(b"hello").unwrap(), 5);
            cli.set_blocking(false).unwrap();
        })
        .unwrap();
    // Two separate packets.
    client_handle.set_nodelay(true).unwrap();
    client_handle.connect(server_handle.local_addr().unwrap(), |_, status| status.unwrap()).unwrap();
    assert!(!run(&lp));
    assert_eq!(ticks.get(), MAX_TICKS);
    make_valgrind_happy(&lp);
}
