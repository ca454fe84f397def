//! `dgram` beyond the golden: a send error reaches its callback (and nothing else), a
//! receive error is an `error` event, and a socket closed while it binds closes once
//! bound, dropping the send queued before it, as Node does. Each loop ends once its
//! sockets are closed (`run_bounded` fails a loop that runs on).

mod util;

use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

use bytes::Bytes;
use millrace::streams::dgram::{create_socket, SocketType};
use util::{err_name, run_bounded};

const LO: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

// A datagram over the limit: the callback gets "send EMSGSIZE 127.0.0.1:PORT", and no
// `error` is emitted (Node: "don't emit as error").
#[test]
fn a_send_error_goes_to_its_callback() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    run_bounded(move |_| {
        let s = create_socket(SocketType::Udp4);
        let l2 = l.clone();
        s.on_error(move |_, e| l2.borrow_mut().push(format!("error event {}", e.message())));
        let l2 = l.clone();
        s.send(vec![Bytes::from(vec![0u8; 70_000])], Some((9, Some(LO))), move |s, e, n| {
            let e = e.expect("too big");
            l2.borrow_mut().push(format!("cb {} {} {n}", err_name(Some(&e)), e.message()));
            s.close().unwrap();
        })
        .unwrap();
    });
    assert_eq!(*log.borrow(), ["cb EMSGSIZE send EMSGSIZE 127.0.0.1:9 0"]);
}

// A connected socket whose peer's port is closed: the ICMP error is a receive error,
// emitted as "recvmsg ECONNREFUSED".
#[test]
fn a_receive_error_is_an_error_event() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let closed_port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    run_bounded(move |_| {
        let s = create_socket(SocketType::Udp4);
        let l2 = l.clone();
        s.on_error(move |s, e| {
            l2.borrow_mut().push(format!("error {} {}", err_name(Some(e)), e.message()));
            s.close().unwrap();
        });
        let l2 = l.clone();
        s.connect_cb(closed_port, Some(LO), move |s, err| {
            assert!(err.is_none());
            l2.borrow_mut().push("connected".to_owned());
            s.send(vec![Bytes::from_static(b"anyone?")], None, |_, e, n| assert!(e.is_none() && n == 7)).unwrap();
        })
        .unwrap();
    });
    assert_eq!(*log.borrow(), ["connected", "error ECONNREFUSED recvmsg ECONNREFUSED"]);
}

// close() while the implicit bind of a send is under way waits in the queue behind the
// send. As on Node (checked with Node 20): once bound, the queued send starts its address
// lookup, the close runs at once, and the send, finding the socket closed a tick later,
// is dropped without its callback. Nothing is sent.
#[test]
fn close_while_binding_waits_for_the_bind() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = peer.local_addr().unwrap().port();
    run_bounded(move |_| {
        let s = create_socket(SocketType::Udp4);
        let l2 = l.clone();
        s.on_listening(move |_| l2.borrow_mut().push("listening"));
        let l2 = l.clone();
        s.send(vec![Bytes::from_static(b"first")], Some((port, Some(LO))), move |_, _, _| {
            l2.borrow_mut().push("sent?!");
        })
        .unwrap();
        let l2 = l.clone();
        s.close_cb(move |_| l2.borrow_mut().push("close")).unwrap();
        assert!(s.address().is_err(), "not bound yet");
    });
    assert_eq!(*log.borrow(), ["listening", "close"]);
    peer.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(peer.recv_from(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
}
