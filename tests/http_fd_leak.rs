//! A client that resets the connection in the middle of a large response: the server
//! keeps serving everyone else, the response emits `close` without `finish`, and
//! nothing leaks (file descriptors, streams), nor does a connection handed to an
//! `upgrade` listener after a pipelined request. Alone in its test binary so the count of
//! open fds in `/proc/self/fd` is not disturbed by other tests.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace::http::{IncomingMessageExt, ServerOptions, ServerResponse, ServerResponseExt};
use millrace::streams::live_streams;
use util::http::{open_fds, pattern, write_all, Client, Log, TestServer, WAIT};

/// Writes `chunk` over and over (a body without end), waiting for `drain` on false.
fn endless(res: &ServerResponse, chunk: Bytes, sent: Rc<Cell<usize>>) {
    while !res.destroyed() {
        sent.set(sent.get() + chunk.len());
        if !res.write(chunk.clone()) {
            res.once_drain(move |res| endless(res, chunk.clone(), sent.clone()));
            return;
        }
    }
}

/// Polls `f` until it returns true or `WAIT` passes.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

#[test]
fn client_reset_mid_response_leaks_nothing() {
    let fds_before_server = open_fds();
    let small = pattern(1024 * 1024);
    let s2 = small.clone();
    let srv = TestServer::start(ServerOptions::default(), move |s, log: &Log| {
        let l = log.clone();
        s.on_client_error(move |e, socket| {
            l.push(format!("client_error {}", e.code().unwrap_or("?")));
            socket.destroy(None);
        });
        s.on_upgrade(|_, socket, _| {
            socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
            socket.on_data(|s, d| {
                s.write(d);
            });
            socket.on_end(|s| {
                s.end();
            });
        });
        let l = log.clone();
        s.on_request(move |req, res| {
            if req.url() == "/tiny" {
                res.end_with("tiny");
            } else if req.url() == "/big" {
                let sent = Rc::new(Cell::new(0));
                let (l2, s) = (l.clone(), sent.clone());
                res.on_finish(move |_| l2.push("big finish"));
                let l2 = l.clone();
                res.on_close(move |_| l2.push(format!("big close after {} bytes", s.get())));
                endless(res, pattern(256 * 1024), sent);
                l.push("big writing");
            } else {
                res.set_header("Content-Length", s2.len()).unwrap();
                write_all(res, s2.clone(), 64 * 1024);
            }
        });
    });
    let baseline = open_fds();
    assert!(baseline > fds_before_server, "the server's loop and listener hold fds");

    // A client starts a large response and reads a little of it.
    let mut a = Client::connect(srv.addr);
    a.send("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let head = a.read_head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0;
    while got < 1024 * 1024 {
        let n = std::io::Read::read(&mut a.stream, &mut buf).expect("read the big response");
        assert!(n > 0, "EOF in the big response");
        got += n;
    }
    srv.log.wait_for("big writing");

    // Meanwhile another client is served in full.
    let mut b = Client::connect(srv.addr);
    let r = b.get("/small");
    assert_eq!(r.body, small, "second client, during the big response");

    // The first client resets (SO_LINGER 0, close: a RST) with the response in flight.
    a.reset();
    let line = srv.log.wait_prefix("big close");
    assert!(!srv.log.has("big finish"), "a reset response must not emit finish: {:?}", srv.log.lines());
    let sent: usize = line.rsplit(' ').nth(1).unwrap().parse().unwrap();
    assert!(sent > 1024 * 1024, "{line}");

    // Still serving: the open connection and a new one.
    assert_eq!(b.get("/small").body, small, "second client, after the reset");
    let mut c = Client::connect(srv.addr);
    assert_eq!(c.get("/small").body, small, "a new client, after the reset");
    drop(b);
    drop(c);

    // A pipelined request and an upgrade in one write: the response, then the listener's
    // 101, then the socket echoes until the client ends it.
    let mut d = Client::connect(srv.addr);
    d.send("GET /tiny HTTP/1.1\r\nHost: a\r\n\r\nGET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    assert_eq!(d.read_response().text(), "tiny");
    assert_eq!(d.read_head().status, 101);
    d.send("ping");
    d.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(d.expect_closed().1, b"ping");
    drop(d);

    // Every connection closes; the server is back to its baseline of fds and streams.
    assert!(eventually(|| srv.call(|s| s.connections()) == 0), "connections left open");
    assert!(eventually(|| open_fds() == baseline), "fds: {} open, baseline {baseline}", open_fds());
    assert!(eventually(|| srv.call(|_| live_streams()) == 0), "streams alive on the server thread");
    assert!(!srv.log.has("big finish"));
    srv.stop();
    assert!(
        eventually(|| open_fds() <= fds_before_server),
        "fds after stop: {}, before the server: {fds_before_server}",
        open_fds()
    );
}
