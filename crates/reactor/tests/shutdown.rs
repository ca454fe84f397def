//! `shutdown`: half-close after the queued writes, EOF from the peer, no second
//! shutdown, no writing after it. Ported from libuv's test-shutdown-eof.c,
//! test-shutdown-twice.c, test-not-writable-after-shutdown.c,
//! test-tcp-shutdown-after-write.c and test-shutdown-simultaneous.c, one test per libuv
//! test, same names.

mod util;

use std::cell::Cell;
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{Error, Handle, Loop, ReadEvent, Tcp, Timer};
use util::net::{run, EchoServer};
use util::{make_valgrind_happy, Counter};

// test-shutdown-eof.c: the client writes "Q" and shuts down; the echo server echoes the
// Q and, at EOF, shuts down too. The client reads the Q, then EOF, and the handle stays
// open after the EOF until the client closes it: a timer, started at the EOF, is what
// closes it. (libuv starts its 100 ms timer at the beginning and relies on the echo
// arriving in time; starting it at the EOF keeps the point without the race.)
#[test]
fn shutdown_eof() {
    #[derive(Default)]
    struct State {
        got_q: Cell<bool>,
        got_eof: Cell<bool>,
        called_connect_cb: Counter,
        called_shutdown_cb: Counter,
        called_tcp_close_cb: Counter,
        called_timer_close_cb: Counter,
        called_timer_cb: Counter,
    }

    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let s = Rc::new(State::default());
    let tcp = Tcp::new(&lp);
    let timer = Timer::new(&lp);

    let timer_cb = {
        let (s, tcp) = (s.clone(), tcp.clone());
        move |timer: &Timer| {
            let s2 = s.clone();
            timer.close(move |_| {
                s2.called_timer_close_cb.inc();
            });
            // The most important assert of the test: the EOF did not close the handle.
            assert_eq!(s.called_tcp_close_cb.get(), 0);
            assert!(!tcp.is_closing());
            let s2 = s.clone();
            tcp.close(move |_| {
                assert_eq!(s2.called_connect_cb.get(), 1);
                assert!(s2.got_q.get());
                assert!(s2.got_eof.get());
                assert_eq!(s2.called_timer_cb.get(), 1);
                s2.called_tcp_close_cb.inc();
            });
            s.called_timer_cb.inc();
        }
    };

    let read_cb = {
        let (s, me) = (s.clone(), tcp.clone());
        move |t: &Tcp, ev: ReadEvent| {
            assert_eq!(*t, me);
            if !s.got_q.get() {
                assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"Q")));
                assert!(!s.got_eof.get());
                s.got_q.set(true);
            } else {
                assert_eq!(ev, ReadEvent::Eof);
                s.got_eof.set(true);
                timer.start(20, 0, timer_cb.clone()).unwrap();
            }
        }
    };

    let s2 = s.clone();
    tcp.connect(echo.addr(), move |tcp, status| {
        status.unwrap();
        // Read from the connection, to receive the EOF.
        tcp.read_start(read_cb).unwrap();
        // Error handling.
        assert_eq!(tcp.read_start(|_, _| {}), Err(Error::EALREADY));
        // 'Q' makes the echo server close its listener; this connection goes on.
        tcp.write([Bytes::from_static(b"Q")], |_, _| {}).unwrap();
        // Shut down our end of the connection.
        let s3 = s2.clone();
        tcp.shutdown(move |_, _| {
            assert_eq!(s3.called_connect_cb.get(), 1);
            assert!(!s3.got_eof.get());
            assert_eq!(s3.called_tcp_close_cb.get(), 0);
            assert_eq!(s3.called_timer_close_cb.get(), 0);
            assert_eq!(s3.called_timer_cb.get(), 0);
            s3.called_shutdown_cb.inc();
        })
        .unwrap();
        s2.called_connect_cb.inc();
        assert_eq!(s2.called_shutdown_cb.get(), 0);
    })
    .unwrap();

    run(&lp);

    assert_eq!(s.called_connect_cb.get(), 1);
    assert_eq!(s.called_shutdown_cb.get(), 1);
    assert!(s.got_eof.get());
    assert!(s.got_q.get());
    assert_eq!(s.called_tcp_close_cb.get(), 1);
    assert_eq!(s.called_timer_close_cb.get(), 1);
    assert_eq!(s.called_timer_cb.get(), 1);
    make_valgrind_happy(&lp);
}

// test-shutdown-twice.c: a second shutdown is refused and leaves no ghost request
// behind (libuv issue #1113): the loop ends.
#[test]
fn shutdown_twice() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let shutdown_cb_called = Counter::new();

    let h = Tcp::new(&lp);
    let sc = shutdown_cb_called.clone();
    h.connect(echo.addr(), move |h, status| {
        status.unwrap();
        h.shutdown(move |h, status| {
            status.unwrap();
            sc.inc();
            h.close(|_| {});
        })
        .unwrap();
        assert_eq!(h.shutdown(|_, _| panic!("the refused shutdown called back")), Err(Error::ENOTCONN));
    })
    .unwrap();

    assert!(!run(&lp));

    assert_eq!(shutdown_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-not-writable-after-shutdown.c
#[test]
fn not_writable_after_shutdown() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();

    let socket = Tcp::new(&lp);
    socket
        .connect(echo.addr(), |h, status| {
            status.unwrap();
            h.shutdown(|h, _| h.close(|_| {})).unwrap();
            assert!(!h.is_writable());
            // And so a write is refused, as libuv's uv_write refuses it.
            assert_eq!(
                h.write([Bytes::from_static(b"late")], |_, _| panic!("refused write")).unwrap_err(),
                Error::EPIPE
            );
        })
        .unwrap();

    assert!(!run(&lp));
    make_valgrind_happy(&lp);
}

// test-tcp-shutdown-after-write.c: a shutdown issued right after a write waits for it;
// both succeed, in order, on a handle that is reading.
#[test]
fn tcp_shutdown_after_write() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let shutdown_cb_called = Counter::new();
    let conn_close_cb_called = Counter::new();
    let timer_close_cb_called = Counter::new();

    let conn = Tcp::new(&lp);
    let timer = Timer::new(&lp);
    let (c, wc, sc, ccl, tcl) = (
        conn.clone(),
        write_cb_called.clone(),
        shutdown_cb_called.clone(),
        conn_close_cb_called.clone(),
        timer_close_cb_called.clone(),
    );
    timer
        .start(125, 0, move |timer| {
            let tcl = tcl.clone();
            timer.close(move |_| {
                tcl.inc();
            });
            let wc2 = wc.clone();
            c.write([Bytes::from_static(b"TEST")], move |_, status| {
                status.unwrap();
                wc2.inc();
            })
            .unwrap();
            let (sc, ccl, wc) = (sc.clone(), ccl.clone(), wc.clone());
            c.shutdown(move |conn, status| {
                status.unwrap();
                assert_eq!(wc.get(), 1, "the write calls back before the shutdown");
                sc.inc();
                let ccl = ccl.clone();
                conn.close(move |_| {
                    ccl.inc();
                });
            })
            .unwrap();
        })
        .unwrap();

    let cc = connect_cb_called.clone();
    conn.connect(echo.addr(), move |conn, status| {
        status.unwrap();
        cc.inc();
        conn.read_start(|_, _| {}).unwrap();
    })
    .unwrap();

    assert!(!run(&lp));

    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 1);
    assert_eq!(shutdown_cb_called.get(), 1);
    assert_eq!(conn_close_cb_called.get(), 1);
    assert_eq!(timer_close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-shutdown-simultaneous.c: `QQSS` (try_write) has the echo server close its
// listener, echo and shut its side down; on the echo the client shuts down its own side,
// and still reads the server's EOF. A second read_start is EALREADY.
#[test]
fn shutdown_simultaneous() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let (called_connect_cb, called_shutdown_cb) = (Counter::new(), Counter::new());
    let (got_q, got_eof, shutdown_cb_ran) = (Counter::new(), Counter::new(), Counter::new());
    let called_tcp_close_cb = Counter::new();
    let tcp = Tcp::new(&lp);
    let (cc, sc, q, eof, ran) = (
        called_connect_cb.clone(),
        called_shutdown_cb.clone(),
        got_q.clone(),
        got_eof.clone(),
        shutdown_cb_ran.clone(),
    );
    let closed = called_tcp_close_cb.clone();
    tcp.connect(echo.addr(), move |tcp, status| {
        status.unwrap();
        let (cc2, sc2, q, eof, ran) = (cc.clone(), sc.clone(), q.clone(), eof.clone(), ran.clone());
        let closed = closed.clone();
        let read_cb = move |tcp: &Tcp, ev: ReadEvent| {
            if q.get() == 0 {
                assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"QQSS")));
                assert_eq!(eof.get(), 0);
                q.inc();
                // Shut our end of the connection down, simultaneously.
                let (cc2, ran, closed) = (cc2.clone(), ran.clone(), closed.clone());
                tcp.shutdown(move |_, _| {
                    assert_eq!(cc2.get(), 1);
                    assert_eq!(closed.get(), 0);
                    ran.inc();
                })
                .unwrap();
                sc2.inc();
            } else {
                assert_eq!(ev, ReadEvent::Eof);
                eof.inc();
                let closed = closed.clone();
                tcp.close(move |_| {
                    closed.inc();
                });
            }
        };
        tcp.read_start(read_cb).unwrap();
        assert_eq!(tcp.read_start(|_, _| {}), Err(Error::EALREADY));
        assert_eq!(tcp.try_write(&[Bytes::from_static(b"QQSS")]), Ok(4));
        cc.inc();
        assert_eq!(sc.get(), 0);
    })
    .unwrap();
    assert!(!run(&lp));
    assert_eq!(called_connect_cb.get(), 1);
    assert_eq!(called_shutdown_cb.get(), 1);
    assert_eq!(shutdown_cb_ran.get(), 1);
    assert_eq!(got_eof.get(), 1);
    assert_eq!(got_q.get(), 1);
    assert_eq!(called_tcp_close_cb.get(), 1);
    make_valgrind_happy(&lp);
}
