//! net.Server and http.Server behaviour the `net_server` golden cannot show: listening
//! on every address, `unref`, what a closed server keeps, and a port in use reaching an
//! HTTP server's `'error'`.

mod util;

use std::cell::RefCell;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::rc::Rc;

use millrace::http;
use millrace::reactor::{Loop, RunMode};
use millrace::streams::net::{self, Socket};
use util::run_bounded;

// Node's `listen(port)`: `::`, which takes IPv4 connections too (their addresses
// IPv4-mapped), or `0.0.0.0` on a system without IPv6.
#[test]
fn listen_port_binds_every_address() {
    let seen: Rc<RefCell<Option<(SocketAddr, SocketAddr)>>> = Rc::default();
    let s2 = seen.clone();
    run_bounded(|_| {
        let server = net::create_server(move |srv, sock| {
            *s2.borrow_mut() = Some((srv.address().unwrap(), sock.remote_addr().unwrap()));
            sock.destroy(None);
            srv.close(|_, _| {});
        });
        server
            .listen_port(0, |srv| {
                let port = srv.address().unwrap().port();
                Socket::connect(SocketAddr::from(([127, 0, 0, 1], port))).on_error(|_, _| {});
            })
            .unwrap();
    });
    let (local, remote) = seen.borrow().expect("a connection");
    let ipv6 = std::net::TcpListener::bind("[::]:0").is_ok();
    if ipv6 {
        assert_eq!(local.ip(), IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert_eq!(remote.ip(), "::ffff:127.0.0.1".parse::<IpAddr>().unwrap());
    } else {
        eprintln!("no IPv6 here: the server fell back to 0.0.0.0");
        assert_eq!(local.ip(), "0.0.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(remote.ip(), "127.0.0.1".parse::<IpAddr>().unwrap());
    }
}

// `server.unref()`: a listening server no longer keeps the loop alive; `ref()` again
// does.
#[test]
fn unref_lets_the_loop_end() {
    let lp = Loop::new().unwrap();
    lp.enter(|| {
        let server = net::create_server(|_, _| {});
        server.unref();
        server.listen("127.0.0.1:0".parse().unwrap(), |_| {}).unwrap();
        lp.run_next_ticks();
        assert!(server.listening());
        assert!(!lp.alive(), "an unref'd server keeps the loop alive");
        server.ref_();
        assert!(lp.alive());
        server.unref();
        assert!(!lp.run(RunMode::Default));
        server.close(|_, _| {});
        lp.run(RunMode::Default);
    });
}

// A closed server drops the listeners it had (they may hold it), where Node keeps them:
// a second `close()` still calls its own callback with ERR_SERVER_NOT_RUNNING, but an
// earlier 'close' listener is not called again (Node calls it once per close).
#[test]
fn a_closed_server_keeps_only_what_its_close_listeners_add() {
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    run_bounded(|_| {
        let server = net::create_server(|_, _| {});
        let l2 = l.clone();
        server.on_close(move |_| l2.borrow_mut().push("close listener".into()));
        let l2 = l.clone();
        server
            .listen("127.0.0.1:0".parse().unwrap(), move |srv| {
                let l3 = l2.clone();
                srv.close(move |srv, err| {
                    l3.borrow_mut().push(format!("close cb {:?}", err.and_then(|e| e.code())));
                    let l4 = l3.clone();
                    srv.close(move |_, err| {
                        l4.borrow_mut().push(format!("second close cb {:?}", err.and_then(|e| e.code())));
                    });
                });
            })
            .unwrap();
    });
    assert_eq!(*log.borrow(), ["close listener", "close cb None", "second close cb Some(\"ERR_SERVER_NOT_RUNNING\")"]);
}

// http.Server inherits net.Server's listen: a port in use is an 'error' event on the
// next tick, with Node's message, and the server is not listening.
#[test]
fn http_listen_on_a_port_in_use_is_an_error_event() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    run_bounded(|_| {
        let server = http::create_server(|_, res| {
            res.end();
        });
        let l2 = l.clone();
        server.on_error(move |srv, e| {
            l2.borrow_mut().push(format!(
                "error {} {} listening {}",
                e.code().unwrap(),
                e.message().replace(&format!(":{port}"), ":PORT"),
                srv.listening()
            ));
            srv.close(|_| {});
        });
        server.listen(port, "127.0.0.1", |_| panic!("listening on a port in use")).unwrap();
        let yet = !l.borrow().is_empty();
        l.borrow_mut().push(format!("after listen: error yet {yet}"));
    });
    assert_eq!(
        *log.borrow(),
        [
            "after listen: error yet false",
            "error EADDRINUSE listen EADDRINUSE: address already in use 127.0.0.1:PORT listening false"
        ]
    );
}

// http.Server inherits maxConnections: with one keep-alive connection open, a second is
// closed before anything is read from it (no response), and 'drop' names it.
#[test]
fn http_max_connections_drops_the_connection_over_the_limit() {
    use std::io::{Read, Write};
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    let client = Rc::new(RefCell::new(None));
    let c = client.clone();
    run_bounded(|_| {
        let server = http::create_server(|_, res| {
            res.end_with("ok");
        });
        server.set_max_connections(1);
        let l2 = l.clone();
        server.on_drop(move |srv, info| {
            l2.borrow_mut().push(format!(
                "drop local {} remote {} connections {}",
                info.local.unwrap().ip(),
                info.remote.unwrap().ip(),
                srv.connections()
            ));
            srv.close_all_connections();
            srv.close(|_| {});
        });
        server
            .listen(0, "127.0.0.1", move |srv| {
                let addr = srv.address().unwrap();
                *c.borrow_mut() = Some(std::thread::spawn(move || {
                    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
                    let timeout = Some(std::time::Duration::from_secs(5));
                    let mut c1 = std::net::TcpStream::connect(addr).unwrap();
                    c1.set_read_timeout(timeout).unwrap();
                    c1.write_all(req).unwrap();
                    let mut got = [0u8; 1024];
                    let n = c1.read(&mut got).unwrap();
                    let first = String::from_utf8_lossy(&got[..n]).lines().next().unwrap_or("").to_owned();
                    let mut c2 = std::net::TcpStream::connect(addr).unwrap();
                    c2.set_read_timeout(timeout).unwrap();
                    let _ = c2.write_all(req);
                    let mut rest = Vec::new();
                    let second = match c2.read_to_end(&mut rest) {
                        Ok(_) => format!("{} bytes", rest.len()),
                        Err(e) => format!("{:?}", e.kind()),
                    };
                    (first, second)
                }));
            })
            .unwrap();
    });
    let (first, second) = client.borrow_mut().take().unwrap().join().unwrap();
    assert_eq!(first, "HTTP/1.1 200 OK");
    assert!(second == "0 bytes" || second == "ConnectionReset", "second connection got {second}");
    assert_eq!(*log.borrow(), ["drop local 127.0.0.1 remote 127.0.0.1 connections 1"]);
}
