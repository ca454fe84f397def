//! The write path: queue order, large writes, writes queued behind a stuck one,
//! `try_write`. Ported from libuv's test-tcp-write-queue-order.c, test-tcp-writealot.c,
//! test-tcp-write-in-a-row.c, test-tcp-try-write.c and test-tcp-try-write-error.c, one
//! test per libuv test, same names.

mod util;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{Error, Handle, Loop, ReadEvent, Tcp, Timer};
use util::net::{localhost, pattern, run, set_send_buffer_size, EchoServer};
use util::{make_valgrind_happy, Counter};

/// A listening handle on loopback, port 0 (the tests' `start_server`).
fn start_server(lp: &Loop, on_connection: impl FnMut(&Tcp, Result<(), Error>) + 'static) -> Tcp {
    let server = Tcp::new(lp);
    server.bind(localhost()).unwrap();
    server.listen(128, on_connection).unwrap();
    server
}

// test-tcp-write-queue-order.c: many writes to a peer that never reads; closing the
// handle cancels the rest. Callbacks come in queue order: every success before every
// ECANCELED, and each request gets exactly one.
#[test]
fn tcp_write_queue_order() {
    const REQ_COUNT: usize = 10_000;

    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let connection_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let statuses: Rc<RefCell<Vec<Result<(), Error>>>> = Rc::default();

    let client = Tcp::new(&lp);
    let incoming: Rc<RefCell<Option<Tcp>>> = Rc::default();
    let (conn, inc, cl, c) = (connection_cb_called.clone(), incoming.clone(), close_cb_called.clone(), client.clone());
    let server = start_server(&lp, move |server, status| {
        status.unwrap();
        *inc.borrow_mut() = Some(server.accept().unwrap());
        let (server, inc, cl, c) = (server.clone(), inc.clone(), cl.clone(), c.clone());
        Timer::new(&server.get_loop())
            .start(100, 0, move |timer| {
                for h in [&c, &server, inc.borrow().as_ref().unwrap()] {
                    let cl = cl.clone();
                    h.close(move |_| {
                        cl.inc();
                    });
                }
                timer.close(|_| {});
            })
            .unwrap();
        conn.inc();
    });

    let (cc, st) = (connect_cb_called.clone(), statuses.clone());
    client
        .connect(server.local_addr().unwrap(), move |tcp, status| {
            status.unwrap();
            cc.inc();
            let buf = Bytes::from_static(&[0; 1024]);
            for _ in 0..REQ_COUNT {
                let st = st.clone();
                tcp.write([buf.clone()], move |_, status| st.borrow_mut().push(status)).unwrap();
            }
        })
        .unwrap();
    set_send_buffer_size(client.fileno().unwrap(), 16 * 1024);

    assert!(!run(&lp));

    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(connection_cb_called.get(), 1);
    let statuses = statuses.borrow();
    let write_callbacks = statuses.iter().filter(|s| s.is_ok()).count();
    let write_cancelled_callbacks = statuses.iter().filter(|s| **s == Err(Error::ECANCELED)).count();
    assert!(write_callbacks > 0);
    assert!(write_cancelled_callbacks > 0);
    assert_eq!(write_callbacks + write_cancelled_callbacks, REQ_COUNT, "no other errors");
    assert!(statuses[..write_callbacks].iter().all(|s| s.is_ok()), "callbacks out of order");
    assert_eq!(close_cb_called.get(), 3);
    make_valgrind_happy(&lp);
}

// test-tcp-writealot.c: three writes of many chunks each (more chunks than IOV_MAX) to
// the echo server, a shutdown queued behind them, and every byte read back, in order.
// libuv sends 3 x 4096 x 10024 bytes; the chunks are smaller here to stay fast in a
// debug build on a loaded machine, but the data is still many socket buffers' worth.
#[test]
fn tcp_writealot() {
    const WRITES: usize = 3;
    const CHUNKS_PER_WRITE: usize = 4096;
    const CHUNK_SIZE: usize = 1024;
    const TOTAL_BYTES: usize = WRITES * CHUNKS_PER_WRITE * CHUNK_SIZE;

    let echo = EchoServer::start();
    let lp = Loop::new().unwrap();
    let shutdown_cb_called = Counter::new();
    let connect_cb_called = Counter::new();
    let write_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let bytes_sent = Rc::new(Cell::new(0));
    let bytes_sent_done = Rc::new(Cell::new(0));
    let bytes_received_done = Rc::new(Cell::new(0));
    let send_buffer = pattern(0, TOTAL_BYTES);

    let client = Tcp::new(&lp);
    let (sc, cc, wc, cl) =
        (shutdown_cb_called.clone(), connect_cb_called.clone(), write_cb_called.clone(), close_cb_called.clone());
    let (sent, sent_done, received) = (bytes_sent.clone(), bytes_sent_done.clone(), bytes_received_done.clone());
    client
        .connect(echo.addr(), move |stream, status| {
            status.unwrap();
            cc.inc();
            // Write a lot of data.
            for _ in 0..WRITES {
                let mut send_bufs = Vec::with_capacity(CHUNKS_PER_WRITE);
                for _ in 0..CHUNKS_PER_WRITE {
                    send_bufs.push(send_buffer.slice(sent.get()..sent.get() + CHUNK_SIZE));
                    sent.set(sent.get() + CHUNK_SIZE);
                }
                let (wc, sent_done) = (wc.clone(), sent_done.clone());
                stream
                    .write(send_bufs, move |_, status| {
                        status.unwrap();
                        sent_done.set(sent_done.get() + CHUNKS_PER_WRITE * CHUNK_SIZE);
                        wc.inc();
                    })
                    .unwrap();
            }
            // Shut down on drain.
            let (sc, wc) = (sc.clone(), wc.clone());
            stream
                .shutdown(move |tcp, status| {
                    status.unwrap();
                    // The write queue is empty by now, and every write called back.
                    assert_eq!(tcp.write_queue_size(), 0);
                    assert_eq!(wc.get(), WRITES);
                    sc.inc();
                })
                .unwrap();
            // Start reading.
            let (cl, received) = (cl.clone(), received.clone());
            stream
                .read_start(move |tcp, ev| match ev {
                    ReadEvent::Data(data) => {
                        assert!(data == pattern(received.get(), data.len()), "echo out of order");
                        received.set(received.get() + data.len());
                    }
                    ev => {
                        assert_eq!(ev, ReadEvent::Eof);
                        let cl = cl.clone();
                        tcp.close(move |_| {
                            cl.inc();
                        });
                    }
                })
                .unwrap();
        })
        .unwrap();

    run(&lp);

    assert_eq!(shutdown_cb_called.get(), 1);
    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), WRITES);
    assert_eq!(close_cb_called.get(), 1);
    assert_eq!(bytes_sent.get(), TOTAL_BYTES);
    assert_eq!(bytes_sent_done.get(), TOTAL_BYTES);
    assert_eq!(bytes_received_done.get(), TOTAL_BYTES);
    make_valgrind_happy(&lp);
}

// test-tcp-write-in-a-row.c: a write bigger than the socket buffers gets stuck; a small
// write queued behind it leaves with its tail, so that when either callback runs the
// queue is already empty.
#[test]
fn tcp_write_in_a_row() {
    // 10 MB, more than the send buffer and the receive buffer together.
    const DATA_LEN: usize = 10 * 1024 * 1024;

    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let connection_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let write_cb_called = Counter::new();

    let incoming: Rc<RefCell<Option<Tcp>>> = Rc::default();
    let (conn, inc) = (connection_cb_called.clone(), incoming.clone());
    let server = start_server(&lp, move |server, status| {
        status.unwrap();
        conn.inc();
        let stream = server.accept().unwrap();
        stream.read_start(|_, _| {}).unwrap();
        *inc.borrow_mut() = Some(stream);
    });

    let client = Tcp::new(&lp);
    let (cc, wc, cl, srv, inc) =
        (connect_cb_called.clone(), write_cb_called.clone(), close_cb_called.clone(), server.clone(), incoming);
    let write_cb = Rc::new(move |client: &Tcp, status: Result<(), Error>| {
        status.unwrap();
        // The small write finishes right after the big one.
        assert_eq!(client.write_queue_size(), 0);
        // We are done.
        if wc.inc() == 2 {
            for h in [client, &srv, inc.borrow().as_ref().unwrap()] {
                let cl = cl.clone();
                h.close(move |_| {
                    cl.inc();
                });
            }
        }
    });
    client
        .connect(server.local_addr().unwrap(), move |client, status| {
            status.unwrap();
            cc.inc();
            // Fire a big write.
            let wcb = write_cb.clone();
            client.write([Bytes::from(vec![0; DATA_LEN])], move |c, s| wcb(c, s)).unwrap();
            // The write gets stuck.
            let write_queue_size0 = client.write_queue_size();
            assert!(write_queue_size0 > 0);
            // Fire a small write, which is queued.
            let wcb = write_cb.clone();
            client.write([Bytes::from_static(b"A")], move |c, s| wcb(c, s)).unwrap();
            assert_eq!(client.write_queue_size(), write_queue_size0 + 1);
        })
        .unwrap();

    assert!(!run(&lp));

    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 3);
    assert_eq!(connection_cb_called.get(), 1);
    assert_eq!(write_cb_called.get(), 2);
    make_valgrind_happy(&lp);
}

// test-tcp-try-write.c: try_write sends at once (or says EAGAIN), an empty try_write
// writes nothing, and the peer reads exactly what was written.
#[test]
fn tcp_try_write() {
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let connection_cb_called = Counter::new();
    let bytes_read = Rc::new(Cell::new(0));
    let bytes_written = Rc::new(Cell::new(0));

    let (conn, cl, read) = (connection_cb_called.clone(), close_cb_called.clone(), bytes_read.clone());
    let server = start_server(&lp, move |server, status| {
        status.unwrap();
        let incoming = server.accept().unwrap();
        conn.inc();
        let (server, cl, read) = (server.clone(), cl.clone(), read.clone());
        incoming
            .read_start(move |tcp, ev| match ev {
                ReadEvent::Data(data) => read.set(read.get() + data.len()),
                _ => {
                    for h in [tcp, &server] {
                        let cl = cl.clone();
                        h.close(move |_| {
                            cl.inc();
                        });
                    }
                }
            })
            .unwrap();
    });

    let client = Tcp::new(&lp);
    let (cc, cl, written) = (connect_cb_called.clone(), close_cb_called.clone(), bytes_written.clone());
    client
        .connect(server.local_addr().unwrap(), move |client, status| {
            status.unwrap();
            cc.inc();
            for attempt in 0.. {
                assert!(attempt < 1_000_000, "try_write never wrote");
                match client.try_write(&[Bytes::from_static(b"PING")]) {
                    Ok(n) => {
                        assert!(n > 0);
                        written.set(written.get() + n);
                        break;
                    }
                    Err(e) => assert_eq!(e, Error::EAGAIN),
                }
            }
            assert_eq!(client.try_write(&[Bytes::new()]), Ok(0));
            let cl = cl.clone();
            client.close(move |_| {
                cl.inc();
            });
        })
        .unwrap();

    assert!(!run(&lp));

    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 3);
    assert_eq!(connection_cb_called.get(), 1);
    assert_eq!(bytes_read.get(), bytes_written.get());
    assert!(bytes_written.get() > 0);
    make_valgrind_happy(&lp);
}

// test-tcp-try-write-error.c: once the peer has closed, try_write keeps writing until
// the reset comes back, then fails with EPIPE / ECONNRESET, and queues nothing.
#[test]
fn tcp_try_write_error() {
    let lp = Loop::new().unwrap();
    let connect_cb_called = Counter::new();
    let close_cb_called = Counter::new();
    let connection_cb_called = Counter::new();

    let client = Tcp::new(&lp);
    let (conn, cl, c) = (connection_cb_called.clone(), close_cb_called.clone(), client.clone());
    let server = start_server(&lp, move |server, status| {
        status.unwrap();
        let incoming = server.accept().unwrap();
        conn.inc();
        let (cl2, c) = (cl.clone(), c.clone());
        incoming.close(move |_| {
            cl2.inc();
            let mut result = Ok(1);
            let mut writes = 0;
            while let Ok(n) = result {
                assert!(n > 0);
                writes += 1;
                assert!(writes < 100_000, "try_write never failed");
                result = c.try_write(&[Bytes::from_static(b"meow")]);
            }
            let e = result.unwrap_err();
            assert!([Error::EPIPE, Error::ECONNABORTED, Error::ECONNRESET].contains(&e), "try_write: {e:?}");
            assert_eq!(c.write_queue_size(), 0);
        });
        let cl = cl.clone();
        server.close(move |_| {
            cl.inc();
        });
    });

    let cc = connect_cb_called.clone();
    client
        .connect(server.local_addr().unwrap(), move |_, status| {
            status.unwrap();
            cc.inc();
        })
        .unwrap();

    assert!(!run(&lp));
    let cl = close_cb_called.clone();
    client.close(move |_| {
        cl.inc();
    });
    assert!(!run(&lp));

    assert_eq!(connect_cb_called.get(), 1);
    assert_eq!(close_cb_called.get(), 3);
    assert_eq!(connection_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}
