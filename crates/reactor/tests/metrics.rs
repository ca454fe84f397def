//! The metrics, as a user sees them: what a write costs in system calls (cork, writes
//! gathered behind a full socket, `IOV_MAX` splitting), byte counts against what was
//! sent, and nothing left behind (handles, descriptors) once everything is closed.

mod util;

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use millrace_reactor::{Handle, Loop, ReadEvent, RunMode, Tcp, IOV_MAX};
use util::make_valgrind_happy;
use util::net::{fd_target, localhost, pattern, run, std_pair, tcp_pair};

/// Reads exactly `len` bytes from a blocking socket (failing the test after 5 s).
fn read_exact(peer: &mut std::net::TcpStream, len: usize) -> Vec<u8> {
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = vec![0; len];
    peer.read_exact(&mut buf).unwrap();
    buf
}

/// Requests that record the order of their callbacks.
#[derive(Clone, Default)]
struct Order(Rc<RefCell<Vec<usize>>>);

impl Order {
    fn write(&self, tcp: &Tcp, i: usize, buf: Bytes) {
        let order = self.0.clone();
        tcp.write([buf], move |_, status| {
            status.unwrap();
            order.borrow_mut().push(i);
        })
        .unwrap();
    }

    fn get(&self) -> Vec<usize> {
        self.0.borrow().clone()
    }
}

// N small writes while corked make no system call; uncork sends them in one writev,
// and their callbacks still come later, in order.
#[test]
fn cork_gathers_writes_into_one_writev() {
    const N: usize = 16;
    let lp = Loop::new().unwrap();
    let (a, mut peer) = std_pair();
    let tcp = Tcp::open(&lp, a).unwrap();
    let order = Order::default();

    let m0 = lp.metrics();
    tcp.cork();
    for i in 0..N {
        order.write(&tcp, i, pattern(i * 10, 10));
    }
    assert_eq!(lp.metrics().since(&m0).write_syscalls(), 0, "a corked write made a system call");
    assert_eq!(tcp.write_queue_size(), N * 10);
    tcp.uncork();
    let m = lp.metrics().since(&m0);
    assert_eq!(m.writev, 1);
    assert_eq!(m.write, 0);
    assert_eq!(m.bytes_written, (N * 10) as u64);
    assert_eq!(tcp.write_queue_size(), 0);
    assert!(order.get().is_empty(), "a write callback ran on the caller's stack");

    lp.run(RunMode::NoWait);
    assert_eq!(order.get(), (0..N).collect::<Vec<_>>());
    assert_eq!(read_exact(&mut peer, N * 10), pattern(0, N * 10));

    tcp.close(|_| {});
    make_valgrind_happy(&lp);
}

// A write that finds the queue empty goes to the kernel inside `write` (libuv does
// too), but its callback waits for the loop.
#[test]
fn write_on_empty_queue_is_attempted_at_once() {
    let lp = Loop::new().unwrap();
    let (a, mut peer) = std_pair();
    let tcp = Tcp::open(&lp, a).unwrap();
    let called = Rc::new(Cell::new(false));

    let m0 = lp.metrics();
    let c = called.clone();
    tcp.write([Bytes::from_static(b"hello")], move |_, status| {
        status.unwrap();
        c.set(true);
    })
    .unwrap();
    let m = lp.metrics().since(&m0);
    assert_eq!(m.write_syscalls(), 1);
    assert_eq!(m.bytes_written, 5);
    assert_eq!(m.loop_count, 0);
    assert!(!called.get(), "the write callback ran on the caller's stack");
    assert_eq!(read_exact(&mut peer, 5), b"hello");

    lp.run(RunMode::NoWait);
    assert!(called.get());

    tcp.close(|_| {});
    make_valgrind_happy(&lp);
}

// Writes queued behind a full socket (the peer does not read) leave together once the
// peer drains it: fewer write system calls than requests.
#[test]
fn queued_writes_leave_in_fewer_writevs_than_requests() {
    const CHUNK: usize = 64 * 1024;
    const SMALL: usize = 200;
    const SMALL_LEN: usize = 100;

    let lp = Loop::new().unwrap();
    let (a, mut peer) = std_pair();
    let tcp = Tcp::open(&lp, a).unwrap();
    let order = Order::default();

    // Fill the socket until a write stays queued.
    let mut sent = 0;
    let mut fill = 0;
    while tcp.write_queue_size() == 0 {
        assert!(fill < 2048, "the socket never filled up");
        order.write(&tcp, fill, pattern(sent, CHUNK));
        sent += CHUNK;
        fill += 1;
    }

    let m0 = lp.metrics();
    for i in 0..SMALL - 1 {
        order.write(&tcp, fill + i, pattern(sent, SMALL_LEN));
        sent += SMALL_LEN;
    }
    // The last request's callback closes the handle, which ends the loop.
    let (o, requests) = (order.clone(), fill + SMALL);
    tcp.write([pattern(sent, SMALL_LEN)], move |tcp, status| {
        status.unwrap();
        o.0.borrow_mut().push(requests - 1);
        tcp.close(|_| {});
    })
    .unwrap();
    sent += SMALL_LEN;
    assert_eq!(lp.metrics().since(&m0).write_syscalls(), 0, "writes behind a queued one are queued");

    let total = sent;
    let reader = std::thread::spawn(move || read_exact(&mut peer, total));
    assert!(!run(&lp));

    let m = lp.metrics().since(&m0);
    assert!(
        m.write_syscalls() < (SMALL + 1) as u64,
        "{} write system calls for {} queued requests",
        m.write_syscalls(),
        SMALL + 1
    );
    assert!(m.writev >= 1);
    assert_eq!(order.get(), (0..requests).collect::<Vec<_>>());
    assert!(reader.join().unwrap() == pattern(0, total), "the peer read something else");
    make_valgrind_happy(&lp);
}

// The loop's byte counters and each stream's stats() agree with what was sent.
#[test]
fn byte_counts_match_what_was_sent() {
    let lp = Loop::new().unwrap();
    let (client, server) = tcp_pair(&lp);
    let sizes = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
    let total: usize = sizes.iter().sum();
    let m0 = lp.metrics();

    let mut offset = 0;
    for len in sizes {
        client.write([pattern(offset, len)], |_, status| status.unwrap()).unwrap();
        offset += len;
    }
    client.shutdown(|_, status| status.unwrap()).unwrap();
    let received = Rc::new(RefCell::new(BytesMut::new()));
    let r = received.clone();
    let c = client.clone();
    server
        .read_start(move |server, ev| match ev {
            ReadEvent::Data(data) => r.borrow_mut().extend_from_slice(&data),
            ev => {
                assert_eq!(ev, ReadEvent::Eof);
                server.close(|_| {});
                c.close(|_| {});
            }
        })
        .unwrap();
    assert!(!run(&lp));

    assert!(received.borrow().as_ref() == pattern(0, total), "the peer read something else");
    let m = lp.metrics().since(&m0);
    let (cs, ss) = (client.stats(), server.stats());
    assert_eq!(m.bytes_written, total as u64);
    assert_eq!(m.bytes_read, total as u64);
    assert_eq!(cs.bytes_written, total as u64);
    assert_eq!(cs.bytes_read, 0);
    assert_eq!(cs.write_reqs, sizes.len() as u64);
    assert_eq!(cs.write_calls, m.write_syscalls());
    assert_eq!(ss.bytes_read, total as u64);
    assert_eq!(ss.bytes_written, 0);
    assert_eq!(ss.read_calls, m.read);
    assert!(ss.read_calls >= 2, "data, then EOF");
    make_valgrind_happy(&lp);
}

// After a client/server exchange and closing everything, no handle is left and every
// socket descriptor the handles had is closed. (Tests run in parallel in one process,
// so a number may be reused at once: what must not survive is the same socket.)
#[test]
fn nothing_leaks_after_close() {
    let lp = Loop::new().unwrap();
    let fds: Rc<RefCell<Vec<(i32, std::path::PathBuf)>>> = Rc::default();
    let remember = {
        let fds = fds.clone();
        move |tcp: &Tcp| {
            let fd = tcp.fileno().unwrap();
            fds.borrow_mut().push((fd, fd_target(fd).expect("an open descriptor")));
        }
    };

    let server = Tcp::new(&lp);
    server.bind(localhost()).unwrap();
    let rem = remember.clone();
    server
        .listen(128, move |server, status| {
            status.unwrap();
            let conn = server.accept().unwrap();
            rem(&conn);
            // Echo, then close at EOF; the first connection also closes the server.
            server.close(|_| {});
            conn.read_start(|conn, ev| match ev {
                ReadEvent::Data(data) => {
                    conn.write([data], |_, status| status.unwrap()).unwrap();
                }
                _ => conn.close(|_| {}),
            })
            .unwrap();
        })
        .unwrap();
    remember(&server);

    let client = Tcp::new(&lp);
    let echoed = Rc::new(Cell::new(false));
    let e = echoed.clone();
    client
        .connect(server.local_addr().unwrap(), move |client, status| {
            status.unwrap();
            remember(client);
            client.write([Bytes::from_static(b"hello")], |_, status| status.unwrap()).unwrap();
            let e = e.clone();
            client
                .read_start(move |client, ev| {
                    assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"hello")));
                    e.set(true);
                    client.close(|_| {});
                })
                .unwrap();
        })
        .unwrap();
    assert!(!run(&lp));

    assert!(echoed.get());
    assert_eq!(lp.handle_count(), 0);
    assert_eq!(fds.borrow().len(), 3);
    for (fd, target) in fds.borrow().iter() {
        assert!(target.to_string_lossy().starts_with("socket:"), "{target:?}");
        assert_ne!(fd_target(*fd).as_ref(), Some(target), "descriptor {fd} still open");
    }
    make_valgrind_happy(&lp);
}

// One write of more buffers than one writev takes (IOV_MAX) arrives whole and in
// order, in several writev calls.
#[test]
fn write_of_more_than_iov_max_buffers() {
    const BUFS: usize = 3000;

    let lp = Loop::new().unwrap();
    let (client, server) = tcp_pair(&lp);
    let mut bufs = Vec::with_capacity(BUFS);
    let mut expected = Vec::new();
    for i in 0..BUFS {
        let buf = Bytes::from(vec![(i % 256) as u8; i % 3 + 1]);
        expected.extend_from_slice(&buf);
        bufs.push(buf);
    }
    let total = expected.len();

    let m0 = lp.metrics();
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    client
        .write(bufs, move |_, status| {
            status.unwrap();
            d.set(true);
        })
        .unwrap();
    let received = Rc::new(RefCell::new(Vec::new()));
    let r = received.clone();
    let c = client.clone();
    server
        .read_start(move |server, ev| {
            let ReadEvent::Data(data) = ev else { panic!("{ev:?} before all the data") };
            r.borrow_mut().extend_from_slice(&data);
            if r.borrow().len() >= total {
                server.close(|_| {});
                c.close(|_| {});
            }
        })
        .unwrap();
    assert!(!run(&lp));

    assert!(done.get());
    assert!(*received.borrow() == expected, "the bytes arrived changed or out of order");
    assert!(lp.metrics().since(&m0).writev >= BUFS.div_ceil(IOV_MAX) as u64);
    make_valgrind_happy(&lp);
}

// `next_ticks` counts the next-tick callbacks that ran, including those queued by a tick
// and those run from outside the loop with `run_next_ticks`; a queued one not yet run
// does not count.
#[test]
fn next_ticks_counts_the_ticks_that_ran() {
    let lp = Loop::new().unwrap();
    let m0 = lp.metrics();
    let ran = Rc::new(Cell::new(0));
    let (r, lp2) = (ran.clone(), lp.clone());
    lp.next_tick(move || {
        r.set(r.get() + 1);
        let r = r.clone();
        lp2.next_tick(move || r.set(r.get() + 1));
    });
    assert_eq!(lp.metrics().since(&m0).next_ticks, 0, "counted before it ran");
    lp.run_next_ticks();
    assert_eq!(ran.get(), 2);
    assert_eq!(lp.metrics().since(&m0).next_ticks, 2);
    let r = ran.clone();
    lp.next_tick(move || r.set(r.get() + 1));
    lp.run(RunMode::Default);
    assert_eq!(ran.get(), 3);
    assert_eq!(lp.metrics().since(&m0).next_ticks, 3);
}

/// test-metrics.c's `timer_spin_cb` on a new loop: a 1 s timer whose callback spins for
/// 600 ms. Returns the loop's idle time, every handle closed.
fn idle_time_of_a_spinning_timer() -> Duration {
    let lp = Loop::new().unwrap();
    let count = Rc::new(Cell::new(0));
    let timer = millrace_reactor::Timer::new(&lp);
    let c = count.clone();
    timer
        .start(1000, 0, move |_| {
            c.set(c.get() + 1);
            let t = std::time::Instant::now();
            while t.elapsed() < Duration::from_millis(600) {}
        })
        .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert!(count.get() > 0);
    let idle = lp.metrics().idle_time;
    timer.close(|_| {});
    make_valgrind_happy(&lp);
    idle
}

// test-metrics.c: metrics_idle_time: the loop was idle (blocked in epoll_wait) for the
// second it waited, not for the spin. (libuv counts idle time only after
// UV_METRICS_IDLE_TIME; here it always does.)
#[test]
fn metrics_idle_time() {
    let idle = idle_time_of_a_spinning_timer();
    assert!(idle <= Duration::from_millis(1500) && idle >= Duration::from_millis(500), "{idle:?}");
}

// test-metrics.c: metrics_idle_time_thread: the same on five loops in five threads at
// once; each loop's idle time is its own (at least the lower bound: the threads compete
// for two cores).
#[test]
fn metrics_idle_time_thread() {
    let threads: Vec<_> = (0..5).map(|_| std::thread::spawn(idle_time_of_a_spinning_timer)).collect();
    for t in threads {
        let idle = t.join().unwrap();
        assert!(idle >= Duration::from_millis(500), "{idle:?}");
    }
}

// test-metrics.c: metrics_idle_time_zero: a timer due at once runs before the first
// iteration, which does not block: no idle time, and one iteration per callback.
#[test]
fn metrics_idle_time_zero() {
    let lp = Loop::new().unwrap();
    let count = Rc::new(Cell::new(0u64));
    let timer = millrace_reactor::Timer::new(&lp);
    let c = count.clone();
    timer.start(0, 0, move |_| c.set(c.get() + 1)).unwrap();
    assert!(!lp.run(RunMode::Default));
    assert!(count.get() > 0);
    assert_eq!(lp.metrics().idle_time, Duration::ZERO);
    assert_eq!(lp.metrics().loop_count, count.get());
    timer.close(|_| {});
    make_valgrind_happy(&lp);
}

// test-metrics.c: metrics_info_check: a file opened from a prepare callback, then
// written, then closed, each on the thread pool: every completion comes in the next
// iteration (loop_count 1, 2, 3), woken by an event each time.
#[test]
fn metrics_info_check() {
    use millrace_reactor::fs;
    let lp = Loop::new().unwrap();
    let path = util::TempPath::new("metrics-info-check");
    let prepare = millrace_reactor::Prepare::new(&lp);
    let last_events = Rc::new(Cell::new(0u64));
    let done = Rc::new(Cell::new(false));
    let (lp2, last, d, p) = (lp.clone(), last_events.clone(), done.clone(), path.path().to_owned());
    prepare
        .start(move |prep| {
            prep.stop();
            let m = lp2.metrics();
            assert_eq!((m.loop_count, m.events), (0, 0));
            let (lp3, last, d) = (lp2.clone(), last.clone(), d.clone());
            fs::open(&lp2, p.clone(), "w", 0o600, move |file| {
                let file = file.unwrap();
                let m = lp3.metrics();
                assert_eq!(m.loop_count, 1); // the event count is not checked here, as in libuv
                last.set(m.events);
                let (lp4, f2) = (lp3.clone(), file.clone());
                fs::write(&lp3, &file, vec![Bytes::from_static(b"test-buffer\n\0")], Some(0), move |n| {
                    let m = lp4.metrics();
                    assert_eq!(m.loop_count, 2);
                    assert!(m.events > last.get());
                    assert_eq!(n.unwrap(), 13);
                    last.set(m.events);
                    let lp5 = lp4.clone();
                    fs::close(&lp4, &f2, move |r| {
                        r.unwrap();
                        let m = lp5.metrics();
                        assert_eq!(m.loop_count, 3);
                        assert!(m.events > last.get());
                        d.set(true);
                    });
                });
            });
        })
        .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert!(done.get());
    prepare.close(|_| {});
    make_valgrind_happy(&lp);
}
