//! Socket helpers: libuv's echo server (test/echo-server.c, TCP or pipe) on its own
//! thread and loop, connected socket pairs, a listener that never completes a connect, a
//! loop run bounded by a watchdog, and the few socket options libuv's tests set.

use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use millrace_reactor::{Async, AsyncSender, Handle, Loop, Pipe, ReadEvent, RunMode, Tcp};

use super::TempPath;

/// How long any one `run` may take before the test fails instead of hanging.
pub const WATCHDOG_MS: u64 = 10_000;

/// `127.0.0.1`, port 0: loopback, a port the kernel picks.
pub fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// `uv_run(loop, UV_RUN_DEFAULT)`, failing the test (instead of hanging it) if the loop
/// is still running after [`WATCHDOG_MS`]. The watchdog is an unreferenced timer, so it
/// does not keep the loop alive, and it is gone again when this returns.
pub fn run(lp: &Loop) -> bool {
    super::run_watched(lp, RunMode::Default, WATCHDOG_MS)
}

/// A connected pair of blocking `std` sockets on loopback.
pub fn std_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(localhost()).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

/// A connected pair of handles on `lp` (client, server side), made without running it.
pub fn tcp_pair(lp: &Loop) -> (Tcp, Tcp) {
    let (a, b) = std_pair();
    (Tcp::open(lp, a).unwrap(), Tcp::open(lp, b).unwrap())
}

/// What `/proc/self/fd/N` names (`socket:[inode]` for a socket), if `fd` is open.
pub fn fd_target(fd: RawFd) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()
}

/// `uv_send_buffer_size(handle, &size)`: `SO_SNDBUF`.
pub fn set_send_buffer_size(fd: RawFd, size: i32) {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, size);
}

/// `uv_recv_buffer_size(handle, &size)`: `SO_RCVBUF`.
pub fn set_recv_buffer_size(fd: RawFd, size: i32) {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size);
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) {
    let len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `value` lives across the call and `len` is its size; a bad `fd` only makes
    // the call fail.
    let r = unsafe { libc::setsockopt(fd, level, name, (&value as *const i32).cast(), len) };
    assert_eq!(r, 0, "setsockopt({name}): {}", std::io::Error::last_os_error());
}

/// A listener whose accept queue is full, so that a connect to it stays in progress
/// (the kernel drops the SYN and would only retry after a second): the deterministic,
/// loopback-only stand-in for libuv's "connect to 1.2.3.4 and hope no route answers".
pub struct Blackhole {
    listener: TcpListener,
    _queued: TcpStream,
}

impl Blackhole {
    pub fn new() -> Blackhole {
        let listener = TcpListener::bind(localhost()).unwrap();
        // A second listen(2) changes the backlog: 0 lets exactly one connection wait.
        // SAFETY: a plain call on a descriptor this function owns.
        let r = unsafe { libc::listen(listener.as_raw_fd(), 0) };
        assert_eq!(r, 0, "listen: {}", std::io::Error::last_os_error());
        let queued = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        // The client's final ACK may still be in flight: wait until the kernel counts
        // the connection in the accept queue.
        let deadline = Instant::now() + Duration::from_secs(2);
        while accept_queue_len(listener.as_raw_fd()) < 1 {
            assert!(Instant::now() < deadline, "the accept queue never filled");
            std::thread::sleep(Duration::from_millis(1));
        }
        Blackhole { listener, _queued: queued }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }
}

/// For a listening socket, `TCP_INFO`'s `tcpi_unacked` is the accept queue's length.
fn accept_queue_len(fd: RawFd) -> u32 {
    // SAFETY: `tcp_info` is plain old data, for which all zeroes is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes and `len` is a valid pointer.
    let r = unsafe {
        libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, (&mut info as *mut libc::tcp_info).cast(), &mut len)
    };
    assert_eq!(r, 0, "getsockopt(TCP_INFO): {}", std::io::Error::last_os_error());
    info.tcpi_unacked
}

/// libuv's echo server (test/echo-server.c), on its own thread and loop: the TCP flavour
/// listening on `127.0.0.1` or `::1`, port 0 ([`start`](EchoServer::start),
/// [`start6`](EchoServer::start6)), or the pipe flavour
/// on a fresh path ([`start_pipe`](EchoServer::start_pipe), libuv's `pipe_echo_server`).
/// It echoes what it reads; at EOF it shuts its side down and then closes. Commands, as
/// in libuv:
///
/// - `Q`: close the listening socket (connections keep being served);
/// - `QS`: close this connection (nothing more is echoed);
/// - `QSS`: echo what was read, then shut this connection down;
/// - `QSH`: close this connection with a RST (`uv_tcp_close_reset`).
///
/// Dropping it stops the thread: every handle left is closed and the thread joined.
pub struct EchoServer {
    addr: Option<SocketAddr>,
    path: Option<TempPath>,
    stop: AsyncSender,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    pub fn start() -> EchoServer {
        EchoServer::spawn(None, localhost())
    }

    /// The TCP flavour on `::1` (libuv's `tcp6_echo_server`).
    pub fn start6() -> EchoServer {
        EchoServer::spawn(None, "[::1]:0".parse().unwrap())
    }

    pub fn start_pipe() -> EchoServer {
        EchoServer::spawn(Some(TempPath::new("pipe-echo")), localhost())
    }

    fn spawn(path: Option<TempPath>, addr: SocketAddr) -> EchoServer {
        let (tx, rx) = mpsc::channel();
        let p = path.as_ref().map(|p| p.path().to_path_buf());
        let thread = std::thread::Builder::new()
            .name("echo-server".into())
            .spawn(move || echo_server_main(p, addr, tx))
            .unwrap();
        let (addr, stop) = rx.recv().expect("the echo server failed to start");
        EchoServer { addr, path, stop, thread: Some(thread) }
    }

    /// The TCP flavour's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("a TCP echo server")
    }

    /// The pipe flavour's path.
    pub fn path(&self) -> &Path {
        self.path.as_ref().expect("a pipe echo server").path()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.send();
        if let Some(t) = self.thread.take() {
            let res = t.join();
            if res.is_err() && !std::thread::panicking() {
                panic!("the echo server panicked");
            }
        }
    }
}

/// `path`: the pipe flavour, served through the pipe's stream side, on which every call
/// the TCP flavour makes (listen, accept, read, write, shutdown, close) works the same.
fn echo_server_main(path: Option<PathBuf>, addr: SocketAddr, ready: mpsc::Sender<(Option<SocketAddr>, AsyncSender)>) {
    let lp = Loop::new().unwrap();
    let server = match &path {
        Some(p) => {
            let pipe = Pipe::new(&lp);
            pipe.bind(p).unwrap();
            pipe.stream().clone()
        }
        None => {
            let tcp = Tcp::new(&lp);
            tcp.bind(addr).unwrap();
            tcp
        }
    };
    let conns: Rc<RefCell<Vec<Tcp>>> = Rc::default();
    let c = conns.clone();
    server
        .listen(128, move |server, status| {
            status.unwrap();
            let stream = server.accept().unwrap();
            let srv = server.clone();
            stream.read_start(move |stream, ev| after_read(&srv, stream, ev)).unwrap();
            c.borrow_mut().push(stream);
        })
        .unwrap();
    let (srv, c) = (server.clone(), conns.clone());
    let stop = Async::new(&lp, move |a| {
        srv.close(|_| {});
        for conn in c.borrow().iter() {
            conn.close(|_| {});
        }
        a.close(|_| {});
    });
    ready.send((server.local_addr().ok(), stop.sender())).unwrap();
    lp.run(RunMode::Default);
    conns.borrow_mut().clear();
    assert_eq!(lp.handle_count(), 0, "the echo server leaked handles: {lp:?}");
}

/// echo-server.c's `after_read`.
fn after_read(server: &Tcp, stream: &Tcp, ev: ReadEvent) {
    let data = match ev {
        ReadEvent::Data(data) => data,
        ReadEvent::Eof => {
            if stream.is_writable() {
                stream.shutdown(|s, _| s.close(|_| {})).unwrap();
            }
            return;
        }
        // libuv's server asserts EOF here; ours serves tests that provoke resets too.
        ReadEvent::Error(_) => {
            stream.close(|_| {});
            return;
        }
    };
    let mut shutdown = false;
    for i in 0..data.len() {
        if data[i] != b'Q' {
            continue;
        }
        if data.get(i + 1) == Some(&b'S') {
            match data.get(i + 2) {
                Some(b'S') => {
                    shutdown = true;
                    break;
                }
                Some(b'H') => stream.close_reset(|_| {}).unwrap(),
                _ => stream.close(|_| {}),
            }
            return;
        }
        server.close(|_| {});
    }
    let _ = stream.write([data], |_, _| {});
    if shutdown {
        stream.shutdown(|_, _| {}).unwrap();
    }
}

/// Bytes `0, 1, …, 250, 0, 1, …` (251 is prime, so no power-of-two buffer repeats it).
pub fn pattern(offset: usize, len: usize) -> Bytes {
    (offset..offset + len).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into()
}

/// A loopback address nothing listens on (a port the kernel just gave out and took
/// back): connecting to it is refused at once.
pub fn closed_port() -> SocketAddr {
    TcpListener::bind(localhost()).unwrap().local_addr().unwrap()
}

/// libuv's `can_ipv6()`: whether `::1` can be bound here. Tests that need IPv6 print that
/// they skipped when it cannot (as libuv's `RETURN_SKIP`).
pub fn can_ipv6() -> bool {
    let ok = TcpListener::bind("[::1]:0").is_ok();
    if !ok {
        eprintln!("SKIPPED: IPv6 not supported on this machine");
    }
    ok
}

/// libuv's `can_ipv6_external()` (test-udp-multicast-join6.c): whether an interface that
/// is not a loopback one (`uv_interface_addresses`' `is_internal`) has an IPv6 address.
pub fn can_ipv6_external() -> bool {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list it allocated into `head`, or fails and writes
    // nothing; libuv assumes no IPv6 on failure.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return false;
    }
    let mut found = false;
    let mut p = head;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs made, freed only below; its
        // `ifa_addr` is null or points at a sockaddr whose family field can be read.
        let ifa = unsafe { &*p };
        let internal = ifa.ifa_flags & libc::IFF_LOOPBACK as libc::c_uint != 0;
        // SAFETY: as above.
        let v6 = !ifa.ifa_addr.is_null() && i32::from(unsafe { (*ifa.ifa_addr).sa_family }) == libc::AF_INET6;
        found |= v6 && !internal;
        p = ifa.ifa_next;
    }
    // SAFETY: `head` is the list getifaddrs made, not used after this.
    unsafe { libc::freeifaddrs(head) };
    found
}
