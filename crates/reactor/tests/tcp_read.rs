//! Reading: EOF leaves the handle readable, read_stop means no more callbacks,
//! read_stop/read_start inside a read callback, unread data does not spin the loop.
//! Ported from libuv's test-readable-on-eof.c, test-tcp-read-stop.c,
//! test-tcp-read-stop-start.c, test-tcp-unexpected-read.c and
//! test-not-readable-nor-writable-on-read-error.c, one test per libuv test, same names. libuv's alloc callback has no counterpart: `read_start` takes only the
//! read callback, and there is no `nread == 0` (EAGAIN) call.

mod util;

use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{Check, Handle, Loop, ReadEvent, Tcp, Timer};
use util::net::{localhost, run, EchoServer};
use util::{make_valgrind_happy, Counter};

// test-readable-on-eof.c: after EOF the handle is still readable and writable, and
// read_start again reports EOF again; close makes it neither.
#[test]
fn readable_on_eof() {
    #[derive(Default)]
    struct Counts {
        connect_cb_called: Counter,
        read_cb_called: Counter,
        write_cb_called: Counter,
        close_cb_called: Counter,
    }

    fn read_cb(handle: &Tcp, ev: ReadEvent, n: &Rc<Counts>) {
        assert_eq!(ev, ReadEvent::Eof);
        assert!(handle.is_readable());
        assert!(handle.is_writable());
        if n.read_cb_called.inc() == 3 {
            let n = n.clone();
            handle.close(move |_| {
                n.close_cb_called.inc();
            });
            assert!(!handle.is_readable());
            assert!(!handle.is_writable());
        } else {
            let n = n.clone();
            handle.read_start(move |h, ev| read_cb(h, ev, &n)).unwrap();
        }
    }

    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let n = Rc::new(Counts::default());
    let tcp_client = Tcp::new(&lp);
    let n2 = n.clone();
    tcp_client
        .connect(echo.addr(), move |tcp, status| {
            n2.connect_cb_called.inc();
            status.unwrap();
            // As libuv's test does: call the read callback by hand, which starts reading.
            read_cb(tcp, ReadEvent::Eof, &n2);
            // "QS" makes the echo server close the connection.
            let n3 = n2.clone();
            tcp.write([Bytes::from_static(b"QS")], move |_, status| {
                n3.write_cb_called.inc();
                status.unwrap();
            })
            .unwrap();
        })
        .unwrap();

    assert!(!run(&lp));

    assert_eq!(n.connect_cb_called.get(), 1);
    assert_eq!(n.read_cb_called.get(), 3);
    assert_eq!(n.write_cb_called.get(), 1);
    assert_eq!(n.close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-tcp-read-stop.c: data that arrives after read_stop is never delivered (the echo
// of the PING comes back after the stop).
#[test]
fn tcp_read_stop() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let timer_handle = Timer::new(&lp);
    let tcp_handle = Tcp::new(&lp);

    let (timer, tcp) = (timer_handle.clone(), tcp_handle.clone());
    let timer_cb = move |_: &Timer| {
        let timer = timer.clone();
        tcp.write([Bytes::from_static(b"PING")], move |tcp, _| {
            timer.close(|_| {});
            tcp.close(|_| {});
        })
        .unwrap();
        tcp.read_stop();
    };
    tcp_handle
        .connect(echo.addr(), move |tcp, status| {
            status.unwrap();
            timer_handle.start(50, 0, timer_cb).unwrap();
            tcp.read_start(|_, _| panic!("fail_cb called")).unwrap();
        })
        .unwrap();

    assert!(!run(&lp));
    make_valgrind_happy(&lp);
}

// test-tcp-read-stop-start.c: a read callback that stops reading and starts again with
// another callback; the next event (EOF or a reset: the peer closed right after
// writing, and the server wrote to the half-open connection) goes to the new callback.
#[test]
fn tcp_read_stop_start() {
    fn do_write(stream: &Tcp, cb: impl FnOnce(&Tcp) + 'static) {
        stream
            .write([Bytes::from_static(b"1234578\0")], move |s, status| {
                status.unwrap();
                cb(s);
            })
            .unwrap();
    }

    let lp = Loop::new().unwrap();
    let read_cb_called = Counter::new();

    let server = Tcp::new(&lp);
    server.bind(localhost()).unwrap();
    let rc = read_cb_called.clone();
    server
        .listen(10, move |server, status| {
            status.unwrap();
            let connection = server.accept().unwrap();
            let (rc, server) = (rc.clone(), server.clone());
            connection
                .read_start(move |stream, ev| {
                    assert!(matches!(ev, ReadEvent::Data(_)), "on_read1: {ev:?}");
                    // Write on a half-open connection.
                    do_write(stream, |_| {});
                    stream.read_stop();
                    let (rc2, server) = (rc.clone(), server.clone());
                    stream
                        .read_start(move |stream, ev| {
                            assert!(!matches!(ev, ReadEvent::Data(_)), "on_read2: {ev:?}");
                            stream.close(|_| {});
                            server.close(|_| {});
                            rc2.inc();
                        })
                        .unwrap();
                    rc.inc();
                })
                .unwrap();
        })
        .unwrap();

    let client = Tcp::new(&lp);
    client
        .connect(server.local_addr().unwrap(), |client, status| {
            status.unwrap();
            do_write(client, |c| c.close(|_| {}));
        })
        .unwrap();

    assert!(!run(&lp));

    assert!(read_cb_called.get() >= 2);
    make_valgrind_happy(&lp);
}

// test-tcp-unexpected-read.c: data arriving on a handle that is not reading does not
// make the loop busy-loop (counted in loop iterations, with a check watcher).
#[test]
fn tcp_unexpected_read() {
    let lp = Loop::new().unwrap();
    let ticks = Counter::new();

    let check_handle = Check::new(&lp);
    let timer_handle = Timer::new(&lp);
    let server_handle = Tcp::new(&lp);
    let client_handle = Tcp::new(&lp);
    let peer_handle: Rc<std::cell::RefCell<Option<Tcp>>> = Rc::default();

    let t = ticks.clone();
    check_handle
        .start(move |_| {
            t.inc();
        })
        .unwrap();
    let (ch, sh, clh, ph) = (check_handle.clone(), server_handle.clone(), client_handle.clone(), peer_handle.clone());
    timer_handle
        .start(500, 0, move |timer| {
            ch.close(|_| {});
            timer.close(|_| {});
            sh.close(|_| {});
            clh.close(|_| {});
            ph.borrow().as_ref().expect("a connection was accepted").close(|_| {});
        })
        .unwrap();
    server_handle.bind(localhost()).unwrap();
    let ph = peer_handle.clone();
    server_handle
        .listen(1, move |handle, status| {
            status.unwrap();
            let peer = handle.accept().unwrap();
            peer.read_start(|_, _| panic!("read_cb should not have been called")).unwrap();
            let me = peer.clone();
            peer.write([Bytes::from_static(b"PING")], move |h, status| {
                assert_eq!(*h, me);
                status.unwrap();
            })
            .unwrap();
            *ph.borrow_mut() = Some(peer);
        })
        .unwrap();
    let me = client_handle.clone();
    client_handle
        .connect(server_handle.local_addr().unwrap(), move |h, status| {
            assert_eq!(*h, me);
            status.unwrap();
        })
        .unwrap();

    assert!(!run(&lp));

    // Somewhat inexact, but the loop must not spin while the client has unread data.
    assert!(ticks.get() <= 20, "{} loop iterations", ticks.get());
    make_valgrind_happy(&lp);
}

// test-not-readable-nor-writable-on-read-error.c: the echo server resets the connection
// (`QSH`); the read error leaves the handle neither readable nor writable.
#[test]
fn not_readable_nor_writable_on_read_error() {
    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let (connect_cb_called, read_cb_called, write_cb_called, close_cb_called) =
        (Counter::new(), Counter::new(), Counter::new(), Counter::new());
    let tcp_client = Tcp::new(&lp);
    let (cc, rc, wc, cl) =
        (connect_cb_called.clone(), read_cb_called.clone(), write_cb_called.clone(), close_cb_called.clone());
    tcp_client
        .connect(echo.addr(), move |tcp, status| {
            cc.inc();
            status.unwrap();
            let (rc, cl) = (rc.clone(), cl.clone());
            tcp.read_start(move |tcp, ev| {
                rc.inc();
                assert!(matches!(ev, ReadEvent::Error(_)), "{ev:?}");
                assert!(!tcp.is_writable());
                assert!(!tcp.is_readable());
                let cl = cl.clone();
                tcp.close(move |_| {
                    cl.inc();
                });
            })
            .unwrap();
            let wc = wc.clone();
            tcp.write([Bytes::from_static(b"QSH")], move |_, status| {
                wc.inc();
                status.unwrap();
            })
            .unwrap();
        })
        .unwrap();
    assert!(!run(&lp));
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(read_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}
