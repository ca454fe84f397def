//! `noDelay`, `keepAlive` and `keepAliveInitialDelay` of `net.Socket` and `net.Server`:
//! the socket options Node 20 sets (recorded with `strace`): a server's on each
//! accepted socket before `connection`, a client's once connected, before `connect`.
//! `TCP_NODELAY`, then `SO_KEEPALIVE` with `TCP_KEEPIDLE` the delay in whole seconds,
//! `TCP_KEEPINTVL` 1 and `TCP_KEEPCNT` 10 (libuv 1.46).

mod util;

use std::cell::RefCell;
use std::rc::Rc;

use millrace::reactor::{Loop, RunMode};
use millrace::streams::net::{Server, Socket, SocketOptions};
use util::tcp_options;

/// Connects a client with `client` options to a server with `server` options and
/// returns what each side's socket had when its event came.
fn connect_pair(server: SocketOptions, client: SocketOptions) -> Vec<String> {
    let lp = Loop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    lp.enter(|| {
        let l = log.clone();
        let srv = Server::new(server, move |srv, socket| {
            l.borrow_mut().push(format!("server {}", tcp_options(socket)));
            socket.destroy(None);
            srv.close(|_, _| {});
        });
        let (l, s2) = (log.clone(), srv.clone());
        srv.listen("127.0.0.1:0".parse().unwrap(), move |_| {
            let c = Socket::connect_with(s2.address().unwrap(), client);
            let l = l.clone();
            c.once_connect(move |c| {
                l.borrow_mut().push(format!("client {}", tcp_options(c)));
                c.destroy(None);
            });
        })
        .unwrap();
    });
    lp.run(RunMode::Default);
    let mut lines = log.borrow().clone();
    lines.sort();
    lines
}

#[test]
fn no_delay_and_keep_alive_are_set_as_node_sets_them() {
    let server =
        SocketOptions { no_delay: true, keep_alive: true, keep_alive_initial_delay: 2000, ..Default::default() };
    let client =
        SocketOptions { no_delay: true, keep_alive: true, keep_alive_initial_delay: 5999, ..Default::default() };
    assert_eq!(
        connect_pair(server, client),
        ["client nodelay 1 keepalive 1 idle 5 intvl 1 cnt 10", "server nodelay 1 keepalive 1 idle 2 intvl 1 cnt 10"]
    );
}

#[test]
fn without_the_options_neither_is_set() {
    assert_eq!(
        connect_pair(SocketOptions::default(), SocketOptions::default()),
        ["client nodelay 0 keepalive 0", "server nodelay 0 keepalive 0"]
    );
}
