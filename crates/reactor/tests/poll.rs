//! Poll handles (`uv_poll_t`). Ported from libuv's test-poll.c (poll_bad_fdtype,
//! poll_nested_epoll), test-poll-close.c, test-poll-multiple-handles.c and
//! test-poll-oob.c; then what libuv's level-triggered epoll promises and our
//! edge-triggered one has to keep: a condition that holds calls back on every iteration.

mod util;

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use millrace_reactor::{Error, Handle, Idle, Loop, Poll, PollEvents, RunMode, Timer};
use util::{make_valgrind_happy, Counter};

fn tcp_socket() -> OwnedFd {
    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap().into()
}

// test-poll-close.c: 64 started handles on unconnected sockets, all closed before the
// loop runs: every close callback, and nothing else, runs.
#[test]
fn poll_close() {
    let lp = Loop::new().unwrap();
    let closed = Counter::new();
    let sockets: Vec<OwnedFd> = (0..64).map(|_| tcp_socket()).collect();
    let handles: Vec<Poll> = sockets
        .iter()
        .map(|s| {
            let p = Poll::new_socket(&lp, s.as_raw_fd()).unwrap();
            p.start(PollEvents::READABLE | PollEvents::WRITABLE, |_, _| {}).unwrap();
            p
        })
        .collect();
    for p in &handles {
        let c = closed.clone();
        p.close(move |_| {
            c.inc();
        });
    }
    lp.run(RunMode::Default);
    assert_eq!(closed.get(), 64);
    make_valgrind_happy(&lp);
}

// test-poll.c: poll_bad_fdtype: a directory cannot be polled (epoll says EPERM).
#[test]
fn poll_bad_fdtype() {
    let lp = Loop::new().unwrap();
    let dir = std::fs::File::open(".").unwrap();
    assert_eq!(Poll::new(&lp, dir.as_raw_fd()).unwrap_err(), Error::EPERM);
    let file = std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_owned() + "/Cargo.toml").unwrap();
    assert_eq!(Poll::new(&lp, file.as_raw_fd()).unwrap_err(), Error::EPERM);
    make_valgrind_happy(&lp);
}

// test-poll.c: poll_nested_epoll: an epoll descriptor can be polled; with nothing in it
// its handle never calls back, and keeps the loop alive until closed.
#[test]
fn poll_nested_epoll() {
    let lp = Loop::new().unwrap();
    // SAFETY: epoll_create1 returns a new descriptor that nothing else owns, or -1.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: `fd` is a new, open descriptor owned by nothing else.
    let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
    let p = Poll::new(&lp, epoll.as_raw_fd()).unwrap();
    p.start(PollEvents::READABLE, |_, _| panic!("an empty epoll is never readable")).unwrap();
    assert!(lp.run(RunMode::NoWait));
    p.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    drop(epoll);
    make_valgrind_happy(&lp);
}

// test-poll-multiple-handles.c: two handles for one socket can be made, but only one
// can watch it at a time (EEXIST); a stopped one can be closed; an unreferenced active
// one does not keep the loop alive.
#[test]
fn poll_multiple_handles() {
    let lp = Loop::new().unwrap();
    let sock = tcp_socket();
    let first = Poll::new_socket(&lp, sock.as_raw_fd()).unwrap();
    let second = Poll::new_socket(&lp, sock.as_raw_fd()).unwrap();
    // An unconnected socket is hung up: Linux reports it readable at once.
    let cb = |_: &Poll, events: Result<PollEvents, Error>| assert_eq!(events, Ok(PollEvents::READABLE));
    first.start(PollEvents::READABLE, cb).unwrap();
    assert_eq!(second.start(PollEvents::READABLE, cb).unwrap_err(), Error::EEXIST);
    first.stop();
    second.start(PollEvents::READABLE, cb).unwrap();
    let closed = Counter::new();
    let c = closed.clone();
    first.close(move |_| {
        c.inc();
    });
    second.unref();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(closed.get(), 1);
    second.ref_();
    assert!(second.is_active());
    let c = closed.clone();
    second.close(move |_| {
        c.inc();
    });
    assert!(!lp.run(RunMode::Default));
    assert_eq!(closed.get(), 2);
    make_valgrind_happy(&lp);
}

// test-poll-oob.c: out-of-band data is PRIORITIZED. The client's handle watches
// PRIORITIZED | READABLE | WRITABLE: it reads the urgent byte when told (and goes back
// to READABLE | WRITABLE), the rest of "hello" and "world" when readable, and writes
// "foo" whenever writable, which the server's handle sees as readable. An idle watcher
// ends it after ten 100 ms ticks. (libuv's server side is a uv_tcp_t that never reads;
// here a plain socket, as our Tcp would hold the descriptor in epoll.)
#[test]
fn poll_oob() {
    let lp = Loop::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client.set_nodelay(true).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let (client_fd, server_fd) = (client.as_raw_fd(), server.as_raw_fd());
    let polls = [Poll::new_socket(&lp, client_fd).unwrap(), Poll::new_socket(&lp, server_fd).unwrap()];
    let state = Rc::new(Checks::default());
    fn poll_cb(st: &Rc<Checks>, p: &Poll, events: PollEvents, client_fd: i32, server_fd: i32) {
        let mut buf = [0u8; 5];
        if events.contains(PollEvents::PRIORITIZED) {
            // SAFETY: recv into a 5-byte buffer on an open socket.
            let n = unsafe { libc::recv(client_fd, buf.as_mut_ptr().cast(), 5, libc::MSG_OOB) };
            assert!(n >= 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL));
            st.cli_pr.set(true);
            p.stop();
            let s2 = st.clone();
            p.start(PollEvents::READABLE | PollEvents::WRITABLE, move |p, e| {
                poll_cb(&s2, p, e.unwrap(), client_fd, server_fd)
            })
            .unwrap();
        }
        if events.contains(PollEvents::READABLE) {
            if p.fileno() == client_fd {
                // SAFETY: as above.
                let n = unsafe { libc::recv(client_fd, buf.as_mut_ptr().cast(), 5, 0) };
                if st.cli_rd.get() == 1 {
                    assert_eq!(&buf[..n as usize], b"world");
                    st.cli_rd.set(2);
                }
                if st.cli_rd.get() == 0 {
                    // The urgent byte is out of the stream: "hell" first.
                    assert_eq!(&buf[..n as usize], b"hell");
                    st.cli_rd.set(1);
                }
            }
            if p.fileno() == server_fd {
                let mut b3 = [0u8; 3];
                // SAFETY: recv into a 3-byte buffer on an open socket.
                let n = unsafe { libc::recv(server_fd, b3.as_mut_ptr().cast(), 3, 0) };
                assert_eq!(&b3[..n as usize], b"foo");
                st.srv_rd.set(true);
                p.stop();
            }
        }
        if events.contains(PollEvents::WRITABLE) {
            // SAFETY: send 3 bytes from a static buffer on an open socket.
            let n = unsafe { libc::send(client_fd, b"foo".as_ptr().cast(), 3, 0) };
            assert_eq!(n, 3);
        }
    }
    let s = state.clone();
    polls[0]
        .start(PollEvents::PRIORITIZED | PollEvents::READABLE | PollEvents::WRITABLE, move |p, e| {
            poll_cb(&s, p, e.unwrap(), client_fd, server_fd)
        })
        .unwrap();
    let s = state.clone();
    polls[1].start(PollEvents::READABLE, move |p, e| poll_cb(&s, p, e.unwrap(), client_fd, server_fd)).unwrap();
    // SAFETY: send 5 bytes from a static buffer on an open socket.
    assert_eq!(unsafe { libc::send(server_fd, b"hello".as_ptr().cast(), 5, libc::MSG_OOB) }, 5);
    server.write_all(b"world").unwrap();
    let idle = Idle::new(&lp);
    let ticks = Counter::new();
    let (t, polls2) = (ticks.clone(), polls.clone());
    idle.start(move |idle| {
        std::thread::sleep(Duration::from_millis(100));
        if t.inc() < 10 {
            return;
        }
        for p in &polls2 {
            p.close(|_| {});
        }
        idle.close(|_| {});
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(ticks.get(), 10);
    assert!(state.cli_pr.get(), "the client saw the urgent byte");
    assert_eq!(state.cli_rd.get(), 2, "the client read the rest of hello and world");
    assert!(state.srv_rd.get(), "the server read what the client wrote when writable");
    let mut rest = Vec::new();
    server.set_nonblocking(true).unwrap();
    let _ = server.read_to_end(&mut rest); // the client's later "foo"s
    client.shutdown(Shutdown::Both).unwrap();
    make_valgrind_happy(&lp);
}

#[derive(Default)]
struct Checks {
    cli_pr: Cell<bool>,
    cli_rd: Cell<u8>,
    srv_rd: Cell<bool>,
}

// Level-triggered, as libuv's epoll: unread data calls back on every iteration (here
// three `run(Once)`s, none of which blocks), and once it is read, no more.
#[test]
fn poll_is_level_triggered() {
    let lp = Loop::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, b.as_raw_fd()).unwrap();
    let calls = Counter::new();
    let c = calls.clone();
    p.start(PollEvents::READABLE, move |_, e| {
        assert_eq!(e, Ok(PollEvents::READABLE));
        c.inc();
    })
    .unwrap();
    // Without the level-triggered emulation the first `run(Once)` would block forever.
    let dog = Timer::new(&lp);
    dog.unref();
    dog.start(5_000, 0, |_| panic!("watchdog: a run(Once) blocked with data waiting")).unwrap();
    a.write_all(b"left unread").unwrap();
    for n in 1..=3 {
        assert!(lp.run(RunMode::Once));
        assert_eq!(calls.get(), n, "one callback per iteration while data waits");
        assert_eq!(lp.backend_timeout(), 0, "a handle left ready: the next poll must not block");
    }
    let mut buf = [0u8; 11];
    b.read_exact(&mut buf).unwrap();
    assert!(lp.run(RunMode::NoWait)); // the last check sees nothing left
    let before = calls.get();
    assert!(lp.run(RunMode::NoWait));
    assert_eq!(calls.get(), before, "nothing to read: no callback");
    // New data: epoll's edge wakes it again.
    a.write_all(b"x").unwrap();
    assert!(lp.run(RunMode::Once));
    assert_eq!(calls.get(), before + 1);
    p.close(|_| {});
    dog.close(|_| {});
    lp.run(RunMode::Default);
    make_valgrind_happy(&lp);
}

// The peer's shutdown is DISCONNECT (POLLRDHUP) together with READABLE (the end of the
// data is readable); a socket with an error stops the handle with EBADF, once.
#[test]
fn poll_disconnect_and_error() {
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    let p = Poll::new(&lp, b.as_raw_fd()).unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    p.start(PollEvents::READABLE | PollEvents::DISCONNECT, move |p, e| {
        s.borrow_mut().push(e);
        p.stop();
    })
    .unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    lp.run(RunMode::Default);
    assert_eq!(*seen.borrow(), [Ok(PollEvents::READABLE | PollEvents::DISCONNECT)]);

    // A refused connect leaves an error on the socket (POLLERR).
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // closed again
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_nonblocking(true).unwrap();
    let _ = sock.connect(&port.into());
    let q = Poll::new_socket(&lp, sock.as_raw_fd()).unwrap();
    let s = seen.clone();
    q.start(PollEvents::WRITABLE, move |q, e| {
        s.borrow_mut().push(e);
        if s.borrow().len() > 10 {
            q.stop(); // a handle that failed to stop itself: end the test, do not hang it
        }
    })
    .unwrap();
    lp.run(RunMode::Default);
    assert_eq!(seen.borrow()[1..], [Err(Error::EBADF)], "one callback: the handle stopped");
    assert!(!q.is_active());
    p.close(|_| {});
    q.close(|_| {});
    lp.run(RunMode::Default);
    drop((a, b));
    make_valgrind_happy(&lp);
}

// test-poll.c: poll_duplex and poll_unidirectional. A server and five clients, every
// socket driven only by its poll handle, move 64 KiB each way (one way: clients to
// server) with random behaviour on each callback: read a little, read until EAGAIN,
// ignore the event (the level-triggered promise: it comes again), stop reading or writing
// for a while (a timer restarts it), or restart the handle with another mask. Each side
// ends with a FIN; a connection closes once it sent one, got one, and saw DISCONNECT. At
// most 5% of the writable wake-ups may find the socket full.
mod duplex {
    use super::*;
    use std::net::SocketAddr;

    const NUM_CLIENTS: usize = 5;
    const TRANSFER_BYTES: usize = 1 << 16;

    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum Mode {
        Unidirectional,
        Duplex,
    }

    #[derive(Default)]
    pub struct Totals {
        closed_connections: Cell<usize>,
        valid_writable_wakeups: Cell<usize>,
        spurious_writable_wakeups: Cell<usize>,
        disconnects: Cell<usize>,
        rand: Cell<u32>,
    }

    impl Totals {
        /// `rand() % 7`, from xorshift32 (the test only needs variety, not C's rand).
        fn rand7(&self) -> u32 {
            let mut x = self.rand.get();
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.rand.set(x);
            x % 7
        }
    }

    struct Conn {
        poll: Poll,
        timer: Timer,
        sock: RefCell<Option<TcpStream>>,
        is_server: bool,
        open_handles: Cell<u32>,
        read: Cell<usize>,
        sent: Cell<usize>,
        got_fin: Cell<bool>,
        sent_fin: Cell<bool>,
        got_disconnect: Cell<bool>,
        events: Cell<PollEvents>,
        delayed: Cell<PollEvents>,
    }

    struct Ctx {
        mode: Mode,
        totals: Rc<Totals>,
    }

    fn bound_socket(addr: SocketAddr) -> socket2::Socket {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_reuse_address(true).unwrap();
        s.bind(&addr.into()).unwrap();
        s
    }

    fn new_conn(lp: &Loop, sock: TcpStream, is_server: bool) -> Rc<Conn> {
        let poll = Poll::new_socket(lp, sock.as_raw_fd()).unwrap();
        Rc::new(Conn {
            poll,
            timer: Timer::new(lp),
            sock: RefCell::new(Some(sock)),
            is_server,
            open_handles: Cell::new(2),
            read: Cell::new(0),
            sent: Cell::new(0),
            got_fin: Cell::new(false),
            sent_fin: Cell::new(false),
            got_disconnect: Cell::new(false),
            events: Cell::new(PollEvents::NONE),
            delayed: Cell::new(PollEvents::NONE),
        })
    }

    fn start(ctx: &Rc<Ctx>, c: &Rc<Conn>, events: PollEvents) {
        let (ctx2, c2) = (ctx.clone(), c.clone());
        c.poll.start(events, move |p, ev| connection_poll_cb(&ctx2, &c2, p, ev)).unwrap();
    }

    fn close_cb(ctx: &Rc<Ctx>, c: &Rc<Conn>) {
        c.open_handles.set(c.open_handles.get() - 1);
        if c.open_handles.get() > 0 {
            return;
        }
        let duplex = ctx.mode == Mode::Duplex;
        let expect_read = if duplex || c.is_server { TRANSFER_BYTES } else { 0 };
        let expect_sent = if duplex || !c.is_server { TRANSFER_BYTES } else { 0 };
        assert_eq!(c.read.get(), expect_read);
        assert_eq!(c.sent.get(), expect_sent);
        ctx.totals.closed_connections.set(ctx.totals.closed_connections.get() + 1);
    }

    fn would_block(e: &std::io::Error) -> bool {
        e.kind() == std::io::ErrorKind::WouldBlock
    }

    fn connection_poll_cb(ctx: &Rc<Ctx>, c: &Rc<Conn>, handle: &Poll, status: Result<PollEvents, Error>) {
        let events = status.expect("status 0");
        let t = &ctx.totals;
        assert!(events.bits() & c.events.get().bits() != 0, "{events:?} not in {:?}", c.events.get());
        assert_eq!(events.bits() & !c.events.get().bits(), 0, "{events:?} not in {:?}", c.events.get());
        let mut new_events = c.events.get();
        let sock = c.sock.borrow().as_ref().unwrap().try_clone().unwrap();
        let remove = |set: &mut PollEvents, e: PollEvents| *set = PollEvents::from_bits(set.bits() & !e.bits());
        if events.contains(PollEvents::READABLE) {
            match t.rand7() {
                0 | 1 => {
                    let mut buf = [0u8; 74];
                    let n = (&sock).read(&mut buf).expect("data or FIN when readable");
                    if n > 0 {
                        c.read.set(c.read.get() + n);
                    } else {
                        c.got_fin.set(true);
                        remove(&mut new_events, PollEvents::READABLE);
                    }
                }
                2 | 3 => {
                    let mut buf = [0u8; 931];
                    loop {
                        match (&sock).read(&mut buf) {
                            Ok(0) => {
                                c.got_fin.set(true);
                                remove(&mut new_events, PollEvents::READABLE);
                                break;
                            }
                            Ok(n) => c.read.set(c.read.get() + n),
                            Err(e) => {
                                assert!(would_block(&e), "{e}");
                                break;
                            }
                        }
                    }
                }
                4 => {} // ignore: it comes again
                5 => {
                    // Stop reading for a while; the timer restarts it.
                    remove(&mut new_events, PollEvents::READABLE);
                    delay(ctx, c, PollEvents::READABLE, 10);
                }
                _ => {
                    start(ctx, c, PollEvents::WRITABLE);
                    start(ctx, c, PollEvents::READABLE);
                    c.events.set(PollEvents::READABLE);
                }
            }
        }
        if events.contains(PollEvents::WRITABLE) {
            if c.sent.get() < TRANSFER_BYTES && !(ctx.mode == Mode::Unidirectional && c.is_server) {
                match t.rand7() {
                    0 | 1 => {
                        let n = (TRANSFER_BYTES - c.sent.get()).min(103);
                        match (&sock).write(&vec![0u8; n]) {
                            Err(e) => {
                                assert!(would_block(&e), "{e}");
                                t.spurious_writable_wakeups.set(t.spurious_writable_wakeups.get() + 1);
                            }
                            Ok(r) => {
                                assert!(r > 0);
                                c.sent.set(c.sent.get() + r);
                                t.valid_writable_wakeups.set(t.valid_writable_wakeups.get() + 1);
                            }
                        }
                    }
                    2 | 3 => {
                        let n = (TRANSFER_BYTES - c.sent.get()).min(1234);
                        match (&sock).write(&vec![0u8; n]) {
                            Err(e) => {
                                assert!(would_block(&e), "{e}");
                                t.spurious_writable_wakeups.set(t.spurious_writable_wakeups.get() + 1);
                            }
                            Ok(r) => {
                                assert!(r > 0);
                                t.valid_writable_wakeups.set(t.valid_writable_wakeups.get() + 1);
                                c.sent.set(c.sent.get() + r);
                                while c.sent.get() < TRANSFER_BYTES {
                                    let n = (TRANSFER_BYTES - c.sent.get()).min(1234);
                                    match (&sock).write(&vec![0u8; n]) {
                                        Ok(r) => {
                                            assert!(r != 0);
                                            c.sent.set(c.sent.get() + r);
                                        }
                                        Err(e) => {
                                            assert!(would_block(&e), "{e}");
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    4 => {} // ignore
                    5 => {
                        // Stop sending for a while; the timer restarts it.
                        remove(&mut new_events, PollEvents::WRITABLE);
                        delay(ctx, c, PollEvents::WRITABLE, 100);
                    }
                    _ => {
                        start(ctx, c, PollEvents::READABLE);
                        start(ctx, c, PollEvents::WRITABLE);
                        c.events.set(PollEvents::WRITABLE);
                    }
                }
            } else {
                // Nothing more to write: send the FIN.
                sock.shutdown(Shutdown::Write).unwrap();
                c.sent_fin.set(true);
                remove(&mut new_events, PollEvents::WRITABLE);
            }
        }
        if events.contains(PollEvents::DISCONNECT) {
            c.got_disconnect.set(true);
            t.disconnects.set(t.disconnects.get() + 1);
            remove(&mut new_events, PollEvents::DISCONNECT);
        }
        drop(sock);
        if c.got_fin.get() && c.sent_fin.get() && c.got_disconnect.get() {
            // Sent and got a FIN: close the socket, then both handles.
            drop(c.sock.borrow_mut().take());
            let (ctx2, c2) = (ctx.clone(), c.clone());
            c.poll.close(move |_| close_cb(&ctx2, &c2));
            let (ctx2, c2) = (ctx.clone(), c.clone());
            c.timer.close(move |_| close_cb(&ctx2, &c2));
            c.events.set(PollEvents::NONE);
        } else if new_events != c.events.get() {
            c.events.set(new_events);
            if new_events.is_empty() {
                handle.stop();
            } else {
                start(ctx, c, new_events);
            }
        }
        // is_active follows the mask.
        assert_eq!(handle.is_active(), !c.events.get().is_empty());
    }

    /// Adds `events` to what the timer gives back, starting it (`ms`) unless it runs.
    fn delay(ctx: &Rc<Ctx>, c: &Rc<Conn>, events: PollEvents, ms: u64) {
        if c.timer.is_active() {
            c.delayed.set(c.delayed.get() | events);
        } else {
            c.delayed.set(events);
            let (ctx2, c2) = (ctx.clone(), c.clone());
            c.timer.start(ms, 0, move |_| delay_timer_cb(&ctx2, &c2)).unwrap();
        }
    }

    fn delay_timer_cb(ctx: &Rc<Ctx>, c: &Rc<Conn>) {
        assert!(!c.timer.is_active(), "a one-shot timer stops itself");
        assert!(!c.delayed.get().is_empty());
        c.events.set(c.events.get() | c.delayed.get());
        c.delayed.set(PollEvents::NONE);
        start(ctx, c, c.events.get());
    }

    pub fn start_poll_test(mode: Mode) {
        let lp = Loop::new().unwrap();
        let totals = Rc::new(Totals { rand: Cell::new(0x2545_f491), ..Totals::default() });
        let ctx = Rc::new(Ctx { mode, totals: totals.clone() });
        // The server: a listening socket driven by its poll handle.
        let listener = bound_socket("127.0.0.1:0".parse().unwrap());
        listener.listen(100).unwrap();
        let server_addr = listener.local_addr().unwrap().as_socket().unwrap();
        let listener: TcpListener = listener.into();
        let server_poll = Poll::new_socket(&lp, listener.as_raw_fd()).unwrap();
        let listener = RefCell::new(Some(listener));
        let accepted = Cell::new(0);
        let (ctx2, lp2) = (ctx.clone(), lp.clone());
        server_poll
            .start(PollEvents::READABLE, move |p, _| {
                let (sock, _) = listener.borrow().as_ref().unwrap().accept().expect("a connection when readable");
                let c = new_conn(&lp2, sock, true);
                let all = PollEvents::READABLE | PollEvents::WRITABLE | PollEvents::DISCONNECT;
                c.events.set(all);
                start(&ctx2, &c, all);
                accepted.set(accepted.get() + 1);
                if accepted.get() == NUM_CLIENTS {
                    drop(listener.borrow_mut().take());
                    p.close(|_| {});
                }
            })
            .unwrap();
        for _ in 0..NUM_CLIENTS {
            let sock = bound_socket("0.0.0.0:0".parse().unwrap());
            let fd: OwnedFd = sock.into();
            let stream = TcpStream::from(fd);
            let c = new_conn(&lp, stream, false);
            let all = PollEvents::READABLE | PollEvents::WRITABLE | PollEvents::DISCONNECT;
            c.events.set(all);
            start(&ctx, &c, all);
            let guard = c.sock.borrow();
            let s = socket2::SockRef::from(guard.as_ref().unwrap());
            match s.connect(&server_addr.into()) {
                Ok(()) => {}
                Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINPROGRESS), "{e}"),
            }
        }
        // A watchdog, unreferenced: fail rather than hang.
        let dog = Timer::new(&lp);
        dog.unref();
        dog.start(30_000, 0, |_| panic!("watchdog: the transfer did not finish in 30 s")).unwrap();
        lp.run(RunMode::Default);
        dog.close(|_| {});
        assert!(!lp.run(RunMode::Default));
        let (valid, spurious) = (totals.valid_writable_wakeups.get(), totals.spurious_writable_wakeups.get());
        assert!(
            spurious == 0 || (valid + spurious) / spurious > 20,
            "{spurious} of {} writable wake-ups spurious",
            valid + spurious
        );
        assert_eq!(totals.closed_connections.get(), NUM_CLIENTS * 2);
        assert_eq!(totals.disconnects.get(), NUM_CLIENTS * 2);
        make_valgrind_happy(&lp);
    }
}

#[test]
fn poll_duplex() {
    duplex::start_poll_test(duplex::Mode::Duplex);
}

#[test]
fn poll_unidirectional() {
    duplex::start_poll_test(duplex::Mode::Unidirectional);
}
