//! net and HTTP over Unix domain sockets, beyond what the `net_pipe` golden shows: HTTP
//! served on a path to raw, curl and Node clients, the socket file's mode
//! (`readableAll`/`writableAll`), a stale socket file, and a `net::Socket` over a
//! socketpair opened with `Pipe::open_fd`.

mod util;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use millrace::http::{self, IncomingMessageExt, ServerOptions};
use millrace::reactor::Pipe;
use millrace::streams::net::{self, PipeListenOptions, Socket};
use millrace::streams::Error;
use util::http::{have, run_with_timeout, TempFile, TestServer, WAIT};
use util::run_bounded;

/// A server answering `hello {url} remote={remote address}` on `path`.
fn hello_on(path: &Path) -> TestServer {
    TestServer::start_on_path(path, ServerOptions::default(), |s, log| {
        let l = log.clone();
        s.on_connection(move |_| l.push("connection"));
        s.on_request(|req, res| {
            let remote = req.remote_addr().map_or("none".to_owned(), |a| a.to_string());
            res.end_with(format!("hello {} remote={remote}", req.url()));
        });
    })
}

// HTTP on a path: two pipelined requests on one connection are answered in order, the
// requests have no remote address (Node's `remoteAddress` is undefined on a pipe), and
// the socket file is gone once the server closes.
#[test]
fn http_over_a_unix_socket() {
    let file = TempFile::new("http.sock");
    let srv = hello_on(&file.0);
    assert!(file.0.exists());
    let mut c = UnixStream::connect(&file.0).unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    c.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut got = String::new();
    c.read_to_string(&mut got).unwrap();
    let bodies: Vec<&str> = got.split("\r\n\r\n").skip(1).map(|b| b.split("HTTP/1.1").next().unwrap()).collect();
    assert_eq!(bodies, ["hello /a remote=none", "hello /b remote=none"], "{got}");
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
    assert_eq!(got.matches("HTTP/1.1 200 OK").count(), 2);
    assert_eq!(srv.call(|s| s.path()), Some(file.0.clone()));
    assert_eq!(srv.call(|s| s.address()), None);
    assert_eq!(srv.log.count("connection"), 1);
    srv.stop();
    assert!(!file.0.exists(), "the server's close unlinks its socket file");
}

// curl's `--unix-socket`, three URLs on one kept-alive connection.
#[test]
fn curl_over_a_unix_socket() {
    if !have("curl", "curl_over_a_unix_socket") {
        return;
    }
    let file = TempFile::new("curl.sock");
    let srv = hello_on(&file.0);
    let out = run_with_timeout(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "30", "--unix-socket", file.path()])
            .args(["http://localhost/c0", "http://localhost/c1", "http://localhost/c2"])
            .args(["--write-out", " %{http_code}\n"]),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(),
        ["hello /c0 remote=none 200", "hello /c1 remote=none 200", "hello /c2 remote=none 200"]
    );
    assert_eq!(srv.log.count("connection"), 1);
    srv.stop();
}

const NODE_SOCKET_PATH: &str = r#"
const http = require('http');
const socketPath = process.argv[1];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (path) => new Promise((resolve, reject) => {
  const req = http.get({ socketPath, path, agent }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => body += d);
    res.on('end', () => resolve(`${res.statusCode} ${body} reused=${req.reusedSocket}`));
  });
  req.on('error', reject);
});
(async () => {
  for (const p of ['/n0', '/n1']) console.log(await get(p));
  agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
"#;

// Node's http client with `socketPath` and a keep-alive agent: the second request
// reuses the connection.
#[test]
fn node_client_over_a_unix_socket() {
    if !have("node", "node_client_over_a_unix_socket") {
        return;
    }
    let file = TempFile::new("node.sock");
    let srv = hello_on(&file.0);
    let out = run_with_timeout(
        Command::new("node").arg("-e").arg(NODE_SOCKET_PATH).arg(file.path()),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(),
        ["200 hello /n0 remote=none reused=false", "200 hello /n1 remote=none reused=true"]
    );
    assert_eq!(srv.log.count("connection"), 1);
    srv.stop();
}

// `listen({ path, readableAll, writableAll })`: the socket file gets r and w for everyone.
#[test]
fn readable_all_and_writable_all_set_the_mode() {
    let file = TempFile::new("mode.sock");
    let modes = Rc::new(RefCell::new(Vec::new()));
    let m = modes.clone();
    let p = file.0.clone();
    run_bounded(|_| {
        let opts = PipeListenOptions { readable_all: true, writable_all: true };
        let server = net::create_server(|_, _| {});
        server
            .listen_path_with(&file.0, opts, move |s| {
                m.borrow_mut().push(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777);
                s.close(|_, _| {});
            })
            .unwrap();
    });
    assert_eq!(modes.borrow()[0] & 0o666, 0o666, "{:o}", modes.borrow()[0]);
    assert!(!file.0.exists());
}

// A socket file left behind by a process that did not unlink it: `EADDRINUSE`, named by
// the path, through the HTTP server's `'error'`; the file is not ours, so it stays.
#[test]
fn a_stale_socket_file_is_eaddrinuse() {
    let file = TempFile::new("stale.sock");
    drop(UnixListener::bind(&file.0).unwrap());
    assert!(file.0.exists());
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let s2 = seen.clone();
    run_bounded(|_| {
        let server = http::create_server(|_, _| {});
        server.on_error(move |srv, e: &Error| {
            s2.borrow_mut().push(format!(
                "{} {} {} {}",
                e.code().unwrap(),
                e.syscall().unwrap(),
                e.path().unwrap().display(),
                e.message()
            ));
            assert!(!srv.listening());
        });
        server.listen_path(&file.0, |_| panic!("listening on a path in use")).unwrap();
    });
    let p = file.0.display();
    assert_eq!(seen.borrow()[..], [format!("EADDRINUSE listen {p} listen EADDRINUSE: address already in use {p}")]);
    assert!(file.0.exists());
}

// A `net::Socket` over one end of a socketpair (`Pipe::open_fd`): it reads what the other
// end writes, ends when that end shuts down (no half-open by default), and writes back.
#[test]
fn socket_from_pipe_over_a_socketpair() {
    let (mine, theirs) = UnixStream::pair().unwrap();
    let peer = std::thread::spawn(move || {
        let mut theirs = theirs;
        theirs.set_read_timeout(Some(WAIT)).unwrap();
        theirs.write_all(b"over a socketpair").unwrap();
        theirs.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = String::new();
        theirs.read_to_string(&mut back).unwrap();
        back
    });
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    run_bounded(|lp| {
        let pipe = Pipe::new(lp);
        pipe.open_fd(OwnedFd::from(mine)).unwrap();
        let s = Socket::from_pipe(pipe, net::SocketOptions::default());
        assert_eq!(s.remote_addr(), None);
        let g2 = g.clone();
        s.on_data(move |s, d| {
            g2.borrow_mut().extend_from_slice(&d);
            s.write(Bytes::from(d.to_ascii_uppercase()));
        });
        s.on_close(move |s| {
            g.borrow_mut().extend_from_slice(format!(" | closed error={}", s.had_error()).as_bytes());
        });
    });
    assert_eq!(String::from_utf8_lossy(&got.borrow()), "over a socketpair | closed error=false");
    assert_eq!(peer.join().unwrap(), "OVER A SOCKETPAIR");
}

// A net server whose `listen_path` failed may listen on TCP after: its connections are
// TCP's again and get the server's `no_delay`, and `path()` is cleared. The first
// listen's callback is still a `listening` listener, so it runs too (as in Node).
#[test]
fn tcp_listen_after_a_failed_listen_path() {
    let file = TempFile::new("then-tcp.sock");
    drop(UnixListener::bind(&file.0).unwrap());
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let (s2, s3) = (seen.clone(), seen.clone());
    run_bounded(|_| {
        let opts = net::SocketOptions { no_delay: true, ..Default::default() };
        let server = net::Server::new(opts, move |srv, sock| {
            s2.borrow_mut().push(format!("{} path={:?}", util::tcp_options(sock), srv.path()));
            sock.destroy(None);
            srv.close(|_, _| {});
        });
        server.on_error(|srv, e| {
            assert_eq!(e.code(), Some("EADDRINUSE"));
            srv.listen("127.0.0.1:0".parse().unwrap(), |srv| {
                Socket::connect(srv.address().unwrap()).on_error(|_, _| {});
            })
            .unwrap();
        });
        server.listen_path(&file.0, move |_| s3.borrow_mut().push("first listen's cb".into())).unwrap();
    });
    assert_eq!(seen.borrow()[..], ["first listen's cb", "nodelay 1 keepalive 0 path=None"]);
}
