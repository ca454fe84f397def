//! Descriptors that are not sockets, opened into a `Pipe` (`uv_pipe_open` on anonymous
//! pipes, FIFOs), `uv_pipe`, `uv_guess_handle` and `uv_stream_set_blocking`. Ported from
//! libuv's test-close-fd.c, test-pipe-set-non-blocking.c and test-handle-fileno.c, one
//! test per libuv test, same names; the tests after them are ours.
//!
//! `handle_fileno` keeps its TCP, pipe and TTY parts (the TTY on a pty, where libuv
//! needs `/dev/tty`): an idle handle has no `fileno` to call (libuv's `EINVAL`), and
//! there are no UDP handles here.

mod util;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{guess_handle, Error, Handle, HandleType, Loop, Pipe, ReadEvent, Tcp};
use util::net::{localhost, run};
use util::{make_valgrind_happy, Counter, TempPath};

/// Reads `reader` until EOF (anything else fails the test), then closes it: what it
/// read, and how many EOFs (1 once the loop is done).
fn read_to_eof(reader: &Pipe) -> (Rc<RefCell<Vec<u8>>>, Counter) {
    let (got, eof) = (Rc::new(RefCell::new(Vec::new())), Counter::new());
    let (g, e) = (got.clone(), eof.clone());
    reader
        .read_start(move |h, ev| match ev {
            ReadEvent::Data(b) => g.borrow_mut().extend_from_slice(&b),
            ev => {
                assert_eq!(ev, ReadEvent::Eof);
                e.inc();
                h.close(|_| {});
            }
        })
        .unwrap();
    (got, eof)
}

// test-close-fd.c: a pipe's read end opened into a handle; one byte written and the
// write end closed. The first read stops reading; a second read_start reports the EOF,
// even though the loop saw the hang-up while no one was reading.
#[test]
fn close_fd() {
    let lp = Loop::new().unwrap();
    let (r, w) = millrace_reactor::pipe(false, false).unwrap();
    let pipe_handle = Pipe::new(&lp);
    pipe_handle.open_fd(r).unwrap();
    let mut w = std::fs::File::from(w);
    assert_eq!(w.write(b"\0").unwrap(), 1);
    drop(w);
    let read_cb_called = Counter::new();
    let read_cb = {
        let c = read_cb_called.clone();
        move |h: &Pipe, ev: ReadEvent| match c.inc() {
            1 => {
                assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b"\0")));
                h.read_stop();
            }
            2 => {
                assert_eq!(ev, ReadEvent::Eof);
                h.close(|_| {});
            }
            n => panic!("read_cb_called {n} > 2"),
        }
    };
    pipe_handle.read_start(read_cb.clone()).unwrap();
    assert!(!run(&lp));
    assert_eq!(read_cb_called.get(), 1);
    assert!(!pipe_handle.is_active());
    pipe_handle.read_start(read_cb).unwrap();
    assert!(!run(&lp));
    assert_eq!(read_cb_called.get(), 2);
    assert!(pipe_handle.is_closing());
    make_valgrind_happy(&lp);
}

// test-pipe-set-non-blocking.c: a pipe's write end in blocking mode takes every
// try_write whole (10 MiB in 4 KiB writes) while a thread reads the other end slowly.
#[test]
fn pipe_set_non_blocking() {
    const NWRITES: usize = 10 << 20;
    let lp = Loop::new().unwrap();
    let pipe_handle = Pipe::new(&lp);
    let (r, w) = millrace_reactor::pipe(false, false).unwrap();
    pipe_handle.open_fd(w).unwrap();
    pipe_handle.set_blocking(true).unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let b = barrier.clone();
    let reader = std::thread::spawn(move || {
        let mut r = std::fs::File::from(r);
        b.wait();
        std::thread::sleep(std::time::Duration::from_millis(100)); // make the writer block a bit
        let mut buf = [0u8; 4096];
        let mut total = 0;
        loop {
            match r.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("{e}"),
            }
        }
    });
    barrier.wait();
    let data = Bytes::from(vec![b'.'; 4096]);
    let mut nwritten = 0;
    while nwritten < NWRITES {
        // Blocking mode: every try_write takes exactly what it was given.
        let n = pipe_handle.try_write(std::slice::from_ref(&data)).unwrap();
        assert_eq!(n, data.len());
        nwritten += n;
    }
    pipe_handle.close(|_| {});
    assert!(!run(&lp));
    assert_eq!(reader.join().unwrap(), NWRITES);
    make_valgrind_happy(&lp);
}

// test-handle-fileno.c (TCP and pipe): no descriptor before bind, one after, none after
// close.
#[test]
fn handle_fileno() {
    let lp = Loop::new().unwrap();
    let tcp = Tcp::new(&lp);
    assert_eq!(tcp.fileno(), None);
    tcp.bind(localhost()).unwrap();
    assert!(tcp.fileno().is_some());
    tcp.close(|_| {});
    assert_eq!(tcp.fileno(), None);

    let name = TempPath::new("fileno");
    let pipe = Pipe::new(&lp);
    assert_eq!(pipe.fileno(), None);
    pipe.bind(name.path()).unwrap();
    assert!(pipe.fileno().is_some());
    pipe.close(|_| {});
    assert_eq!(pipe.fileno(), None);

    // libuv opens /dev/tty and skips this part without one; a pty's slave always works.
    let (_master, slave) = millrace_reactor::openpty(None).unwrap();
    let tty = millrace_reactor::Tty::new(&lp, slave).unwrap();
    assert!(tty.fileno().is_some());
    tty.close(|_| {});
    assert_eq!(tty.fileno(), None);
    run(&lp);
    make_valgrind_happy(&lp);
}

// The read end of a pipe is readable and not writable, the write end the reverse; each
// refuses the other direction as libuv does (EPIPE for a write, ENOTCONN for a read).
#[test]
fn pipe_open_access_modes() {
    let lp = Loop::new().unwrap();
    let (r, w) = millrace_reactor::pipe(false, false).unwrap();
    let (reader, writer) = (Pipe::new(&lp), Pipe::new(&lp));
    reader.open_fd(r).unwrap();
    writer.open_fd(w).unwrap();
    assert!(reader.is_readable() && !reader.is_writable());
    assert!(!writer.is_readable() && writer.is_writable());
    assert_eq!(reader.write([Bytes::from_static(b"x")], |_, _| panic!("no write")), Err(Error::EPIPE));
    assert_eq!(reader.try_write(&[Bytes::from_static(b"x")]), Err(Error::EPIPE));
    assert_eq!(writer.read_start(|_, _| panic!("no read")), Err(Error::ENOTCONN));
    assert_eq!(reader.shutdown(|_, _| panic!("no shutdown")), Err(Error::ENOTCONN));
    // A second descriptor for a handle that has one.
    let (r2, _w2) = millrace_reactor::pipe(false, false).unwrap();
    assert_eq!(reader.open_fd(r2), Err(Error::EBUSY));
    // Not sockets: no names.
    assert_eq!(reader.local_name(), Err(Error::ENOTSOCK));
    assert_eq!(reader.peer_name(), Err(Error::ENOTSOCK));
    reader.close(|_| {});
    writer.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// Writes through a pipe, larger than its buffer, arrive whole and in order; shutdown
// has no socket to shut (ENOTSOCK, as libuv's shutdown(2) says), and closing the write
// end is what gives the reader its EOF.
#[test]
fn pipe_open_write_shutdown_close() {
    let lp = Loop::new().unwrap();
    let (r, w) = millrace_reactor::pipe(true, true).unwrap();
    let (reader, writer) = (Pipe::new(&lp), Pipe::new(&lp));
    reader.open_fd(r).unwrap();
    writer.open_fd(w).unwrap();
    let chunks: Vec<Bytes> = (0..64u8).map(|i| Bytes::from(vec![i; 16 * 1024])).collect();
    let expected: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    let writes = Counter::new();
    for c in &chunks {
        let n = writes.clone();
        writer
            .write([c.clone()], move |_, r| {
                r.unwrap();
                n.inc();
            })
            .unwrap();
    }
    // The pipe holds 64 KiB; the rest waits in the queue.
    assert!(writer.write_queue_size() > 0);
    let shut = Counter::new();
    let s = shut.clone();
    let w = writes.clone();
    writer
        .shutdown(move |h, r| {
            assert_eq!(w.get(), 64, "shutdown after the queued writes");
            assert_eq!(r, Err(Error::ENOTSOCK));
            s.inc();
            h.close(|_| {});
        })
        .unwrap();
    assert!(!writer.is_writable());
    let (got, eof) = read_to_eof(&reader);
    assert!(!run(&lp));
    assert_eq!((writes.get(), shut.get(), eof.get()), (64, 1, 1));
    assert!(*got.borrow() == expected);
    make_valgrind_happy(&lp);
}

// A reader that goes away: the write under way fails with EPIPE (the Rust runtime
// ignores SIGPIPE); as in libuv, the one queued behind it waits until the handle is
// closed, and is cancelled then.
#[test]
fn pipe_open_epipe() {
    let lp = Loop::new().unwrap();
    let (r, w) = millrace_reactor::pipe(true, true).unwrap();
    let writer = Pipe::new(&lp);
    writer.open_fd(w).unwrap();
    let big = Bytes::from(vec![b'.'; 1 << 20]);
    let results = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..2 {
        let res = results.clone();
        writer.write([big.clone()], move |_, r| res.borrow_mut().push(r)).unwrap();
    }
    drop(r);
    let res = results.clone();
    let w2 = writer.clone();
    let check = millrace_reactor::Timer::new(&lp);
    check
        .start(10, 10, move |t| {
            if !res.borrow().is_empty() {
                assert_eq!(*res.borrow(), vec![Err(Error::EPIPE)]);
                t.close(|_| {});
                w2.close(|_| {});
            }
        })
        .unwrap();
    run(&lp);
    assert_eq!(*results.borrow(), vec![Err(Error::EPIPE), Err(Error::ECANCELED)]);
    make_valgrind_happy(&lp);
}

// A FIFO opened twice by path (read end non-blocking first, as a FIFO's open waits for
// the other side otherwise) is the same stream as an anonymous pipe.
#[test]
fn pipe_open_fifo() {
    let path = TempPath::new("fifo");
    let ok = std::process::Command::new("mkfifo").arg(path.path()).status().unwrap();
    assert!(ok.success());
    use std::os::unix::fs::OpenOptionsExt;
    let r = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path.path()).unwrap();
    let w = std::fs::OpenOptions::new().write(true).open(path.path()).unwrap();
    assert_eq!(guess_handle(r.as_fd()), HandleType::NamedPipe);
    let lp = Loop::new().unwrap();
    let (reader, writer) = (Pipe::new(&lp), Pipe::new(&lp));
    reader.open_fd(OwnedFd::from(r)).unwrap();
    writer.open_fd(OwnedFd::from(w)).unwrap();
    writer
        .write([Bytes::from_static(b"fifo")], |w, r| {
            r.unwrap();
            w.close(|_| {});
        })
        .unwrap();
    let (got, eof) = read_to_eof(&reader);
    assert!(!run(&lp));
    assert_eq!(&got.borrow()[..], b"fifo");
    assert_eq!(eof.get(), 1);
    make_valgrind_happy(&lp);
}

// What epoll cannot watch is refused when it is opened, not later.
#[test]
fn pipe_open_regular_file_is_eperm() {
    let lp = Loop::new().unwrap();
    let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert_eq!(guess_handle(file.as_fd()), HandleType::File);
    let p = Pipe::new(&lp);
    assert_eq!(p.open_fd(OwnedFd::from(file)), Err(Error::EPERM));
    assert_eq!(p.fileno(), None);
    p.close(|_| {});
    run(&lp);
    make_valgrind_happy(&lp);
}

// uv_guess_handle over each kind this machine can make.
#[test]
fn guess_handle_kinds() {
    let (r, w) = millrace_reactor::pipe(false, false).unwrap();
    assert_eq!(guess_handle(r.as_fd()), HandleType::NamedPipe);
    assert_eq!(guess_handle(w.as_fd()), HandleType::NamedPipe);
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    assert_eq!(guess_handle(a.as_fd()), HandleType::NamedPipe);
    let tcp = std::net::TcpListener::bind(localhost()).unwrap();
    assert_eq!(guess_handle(tcp.as_fd()), HandleType::Tcp);
    let udp = std::net::UdpSocket::bind(localhost()).unwrap();
    assert_eq!(guess_handle(udp.as_fd()), HandleType::Udp);
    let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
    assert_eq!(guess_handle(d.as_fd()), HandleType::Unknown);
    let null = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(guess_handle(null.as_fd()), HandleType::File);
    let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
    assert_eq!(guess_handle(dir.as_fd()), HandleType::Unknown);
}

// uv_pipe's flags: each end non-blocking only if asked.
#[test]
fn pipe_flags() {
    for (rn, wn) in [(false, false), (true, false), (false, true), (true, true)] {
        let (r, w) = millrace_reactor::pipe(rn, wn).unwrap();
        assert_eq!(nonblocking(&r), rn);
        assert_eq!(nonblocking(&w), wn);
        for fd in [&r, &w] {
            let flags = fcntl(fd, libc::F_GETFD);
            assert_ne!(flags & libc::FD_CLOEXEC, 0, "close-on-exec");
        }
    }
}

fn fcntl(fd: &OwnedFd, cmd: libc::c_int) -> libc::c_int {
    use std::os::fd::AsRawFd;
    // SAFETY: F_GETFL and F_GETFD take no argument; `fd` is open.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), cmd) };
    assert!(r >= 0);
    r
}

fn nonblocking(fd: &OwnedFd) -> bool {
    fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK != 0
}
