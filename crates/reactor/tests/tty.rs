//! Terminal handles (`uv_tty_t`). Ported from libuv's test-tty.c, one test per libuv
//! test, same names; the tests after them are ours.
//!
//! libuv's `tty` and `tty_file` open `/dev/tty`, which a test run without a controlling
//! terminal (CI, this sandbox) does not have: libuv skips then. Here they use the slave
//! side of a new pseudo-terminal instead when `/dev/tty` cannot be opened, so they always
//! run. `tty_raw`, `tty_empty_write` and `tty_large_write` are Windows-only in libuv
//! (they drive the console); here they drive a pty. `tty_file`'s "EBADF handling" (a
//! closed descriptor number) cannot be expressed: the handle takes an `OwnedFd`.
//!
//! Terminal settings are per process in part ([`reset_mode`] restores the first terminal
//! that left normal mode), so the tests that change modes take `MODES` first.

mod util;

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use millrace_reactor::{
    guess_handle, openpty, reset_mode, Error, Handle, HandleType, Loop, ReadEvent, RunMode, Tty, TtyMode,
};
use util::{make_valgrind_happy, Counter};

static MODES: Mutex<()> = Mutex::new(());

fn modes() -> MutexGuard<'static, ()> {
    MODES.lock().unwrap_or_else(|p| p.into_inner())
}

/// The path of the terminal `fd` is (what libuv's reopen uses, `ttyname_r`).
fn tty_path(fd: BorrowedFd<'_>) -> PathBuf {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()
}

/// Opens the terminal at `path` as `open(path, flags)` would (`O_RDONLY`, `O_WRONLY`,
/// `O_RDWR`), without making it the controlling terminal.
fn open_tty(path: &std::path::Path, flags: libc::c_int) -> std::io::Result<OwnedFd> {
    let mode = flags & libc::O_ACCMODE;
    let f = OpenOptions::new()
        .read(mode != libc::O_WRONLY)
        .write(mode != libc::O_RDONLY)
        .custom_flags(libc::O_NOCTTY)
        .open(path)?;
    Ok(f.into())
}

/// `/dev/tty` as libuv's tests open it, or else the slave of a new 80x24 pty (and its
/// master, to keep it alive).
fn a_terminal(flags: libc::c_int) -> (OwnedFd, Option<OwnedFd>) {
    match open_tty("/dev/tty".as_ref(), flags) {
        Ok(fd) => (fd, None),
        Err(_) => {
            let (master, slave) = openpty(Some((80, 24))).unwrap();
            let fd = open_tty(&tty_path(slave.as_fd()), flags).unwrap();
            (fd, Some(master))
        }
    }
}

fn o_nonblock(fd: libc::c_int) -> bool {
    // SAFETY: F_GETFL takes no argument; a closed fd only gives EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(flags >= 0, "fcntl({fd}): {}", std::io::Error::last_os_error());
    flags & libc::O_NONBLOCK != 0
}

fn lflag(fd: libc::c_int) -> libc::tcflag_t {
    let mut t = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: tcgetattr fills the struct behind the pointer, which has its type.
    assert_eq!(unsafe { libc::tcgetattr(fd, t.as_mut_ptr()) }, 0);
    // SAFETY: tcgetattr succeeded.
    unsafe { t.assume_init() }.c_lflag
}

/// What the terminal's other side reads within the time given, until it has `want`
/// bytes (a pty master read blocks; a thread keeps the test from hanging).
fn read_master(master: &OwnedFd, want: usize) -> Vec<u8> {
    let mut m = std::fs::File::from(master.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.len() < want {
            match m.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send(got);
    });
    rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the master read nothing in 10 s")
}

#[test]
fn tty() {
    let _modes = modes();
    let lp = Loop::new().unwrap();
    let (ttyin_fd, _m1) = a_terminal(libc::O_RDONLY);
    let (ttyout_fd, _m2) = a_terminal(libc::O_WRONLY);
    assert_eq!(guess_handle(ttyin_fd.as_fd()), HandleType::Tty);
    assert_eq!(guess_handle(ttyout_fd.as_fd()), HandleType::Tty);
    let in_raw = ttyin_fd.as_raw_fd();

    let tty_in = Tty::new(&lp, ttyin_fd).unwrap(); // readable
    assert!(tty_in.is_readable());
    assert!(!tty_in.is_writable());
    let tty_out = Tty::new(&lp, ttyout_fd).unwrap(); // writable
    assert!(!tty_out.is_readable());
    assert!(tty_out.is_writable());

    let (width, height) = tty_out.get_winsize().unwrap();
    println!("width={width} height={height}");
    assert!(width > 0 && height > 0, "libuv skips here; our pty has a size");

    let fd = tty_in.fileno().unwrap();
    assert_ne!(fd, in_raw, "a pty slave is reopened");
    assert_ne!(lflag(fd) & libc::ICANON, 0);
    tty_in.set_mode(TtyMode::Raw).unwrap(); // turn on raw mode
    assert_eq!(lflag(fd) & (libc::ICANON | libc::ECHO), 0, "libuv: TODO check the actual mode!");
    tty_in.set_mode(TtyMode::Normal).unwrap(); // turn off raw mode
    assert_eq!(lflag(fd) & (libc::ICANON | libc::ECHO), libc::ICANON | libc::ECHO);

    // Calling reset_mode repeatedly is fine.
    reset_mode().unwrap();
    reset_mode().unwrap();
    reset_mode().unwrap();

    tty_in.close(|_| {});
    tty_out.close(|_| {});
    lp.run(RunMode::Default);
    make_valgrind_happy(&lp);
}

// libuv: Windows only (a key event into the console). Here: a space typed into the pty
// is read at once in raw mode, without a newline.
#[test]
fn tty_raw() {
    let _modes = modes();
    let lp = Loop::new().unwrap();
    let (master, slave) = openpty(Some((80, 24))).unwrap();
    let ttyin_fd = open_tty(&tty_path(slave.as_fd()), libc::O_RDONLY).unwrap();
    assert_eq!(guess_handle(ttyin_fd.as_fd()), HandleType::Tty);
    let tty_in = Tty::new(&lp, ttyin_fd).unwrap(); // readable
    assert!(tty_in.is_readable());
    assert!(!tty_in.is_writable());
    let reads = Counter::new();
    let r = reads.clone();
    tty_in
        .read_start(move |h, ev| {
            r.inc();
            assert_eq!(ev, ReadEvent::Data(Bytes::from_static(b" ")));
            h.close(|_| {});
        })
        .unwrap();
    tty_in.set_mode(TtyMode::Raw).unwrap(); // turn on raw mode
    std::fs::File::from(master.try_clone().unwrap()).write_all(b" ").unwrap(); // write ' '
    lp.run(RunMode::Default);
    assert_eq!(reads.get(), 1);
    drop(slave);
    make_valgrind_happy(&lp);
}

// libuv: Windows only. An empty try_write on a terminal writes nothing and succeeds.
#[test]
fn tty_empty_write() {
    let lp = Loop::new().unwrap();
    let (_master, slave) = openpty(None).unwrap();
    let ttyout_fd = open_tty(&tty_path(slave.as_fd()), libc::O_WRONLY).unwrap();
    assert_eq!(guess_handle(ttyout_fd.as_fd()), HandleType::Tty);
    let tty_out = Tty::new(&lp, ttyout_fd).unwrap(); // writable
    assert!(!tty_out.is_readable());
    assert!(tty_out.is_writable());
    assert_eq!(tty_out.try_write(&[Bytes::new()]).unwrap(), 0);
    tty_out.close(|_| {});
    make_valgrind_happy(&lp);
}

// libuv: Windows only. 10,000 bytes go into the terminal in one try_write (the other
// side reads them meanwhile, as a terminal emulator does).
#[test]
fn tty_large_write() {
    let lp = Loop::new().unwrap();
    let (master, slave) = openpty(None).unwrap();
    let ttyout_fd = open_tty(&tty_path(slave.as_fd()), libc::O_WRONLY).unwrap();
    let tty_out = Tty::new(&lp, ttyout_fd).unwrap(); // writable
    let mut dummy = vec![b'.'; 10000];
    dummy[9999] = b'\n';
    tty_out.set_blocking(true).unwrap(); // a console write is blocking; a pty's is not
    let reader = std::thread::spawn({
        let master = master.try_clone().unwrap();
        move || read_master(&master, 10001) // "\n" becomes "\r\n"
    });
    assert_eq!(tty_out.try_write(&[Bytes::from(dummy)]).unwrap(), 10000);
    let got = reader.join().unwrap();
    assert_eq!(got.len(), 10001);
    assert!(got.ends_with(b".\r\n"));
    tty_out.close(|_| {});
    drop(slave);
    make_valgrind_happy(&lp);
}

#[test]
fn tty_file() {
    let lp = Loop::new().unwrap();
    let empty = util::TempPath::new("tty-file");
    std::fs::write(empty.path(), b"").unwrap();
    let fd: OwnedFd = std::fs::File::open(empty.path()).unwrap().into();
    assert_eq!(Tty::new(&lp, fd).unwrap_err(), Error::EINVAL);
    for dev in ["/dev/random", "/dev/zero"] {
        if let Ok(f) = std::fs::File::open(dev) {
            assert_eq!(Tty::new(&lp, f.into()).unwrap_err(), Error::EINVAL, "{dev}");
        }
    }
    let mut closed = Vec::new();
    for (flags, readable, writable) in
        [(libc::O_RDWR, true, true), (libc::O_RDONLY, true, false), (libc::O_WRONLY, false, true)]
    {
        let (fd, master) = a_terminal(flags);
        let tty = Tty::new(&lp, fd).unwrap();
        assert_eq!(tty.is_readable(), readable);
        assert_eq!(tty.is_writable(), writable);
        tty.close(|_| {});
        assert!(!tty.is_readable());
        assert!(!tty.is_writable());
        closed.push(master);
    }
    lp.run(RunMode::Default);
    make_valgrind_happy(&lp);
}

#[test]
fn tty_pty() {
    let lp = Loop::new().unwrap();
    let (master_fd, slave_fd) = openpty(None).unwrap();
    let (master_raw, slave_raw) = (master_fd.as_raw_fd(), slave_fd.as_raw_fd());
    let slave_tty = Tty::new(&lp, slave_fd).unwrap();
    let master_tty = Tty::new(&lp, master_fd).unwrap();
    assert!(slave_tty.is_readable());
    assert!(slave_tty.is_writable());
    assert!(master_tty.is_readable());
    assert!(master_tty.is_writable());
    // The slave was reopened, so its writes do not block; the master of a pty is never
    // reopened, so they do (and it keeps its descriptor).
    assert!(!slave_tty.has_blocking_writes());
    assert!(master_tty.has_blocking_writes());
    assert_ne!(slave_tty.fileno(), Some(slave_raw));
    assert_eq!(master_tty.fileno(), Some(master_raw));
    slave_tty.close(|_| {});
    master_tty.close(|_| {});
    lp.run(RunMode::Default);
    make_valgrind_happy(&lp);
}

// Ours: the reopen is what keeps O_NONBLOCK off the file the terminal shares with other
// processes (`node | cat`): a copy of the descriptor the handle was given stays blocking,
// while the handle's own is non-blocking.
#[test]
fn reopened_terminal_keeps_the_shared_file_blocking() {
    let lp = Loop::new().unwrap();
    let (_master, slave) = openpty(None).unwrap();
    let shared = slave.try_clone().unwrap(); // another process's stdout, say
    let tty = Tty::new(&lp, slave).unwrap();
    assert!(o_nonblock(tty.fileno().unwrap()));
    assert!(!o_nonblock(shared.as_raw_fd()));
    tty.close(|_| {});
    make_valgrind_happy(&lp);
}

// Ours: what each mode does to the bytes, seen from the terminal's other side.
// Normal: input waits for a newline and is echoed; Raw: a key is a read, no echo, but
// "\n" still goes out as "\r\n"; Io: nothing is processed either way.
#[test]
fn tty_modes_seen_from_the_master() {
    let _modes = modes();
    let lp = Loop::new().unwrap();
    let (master, slave) = openpty(Some((80, 24))).unwrap();
    let tty = Tty::new(&lp, slave).unwrap();
    let mut m = std::fs::File::from(master.try_clone().unwrap());
    let read_once = |lp: &Loop, tty: &Tty| {
        let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let g = got.clone();
        tty.read_start(move |h, ev| {
            let ReadEvent::Data(b) = ev else { panic!("{ev:?}") };
            g.borrow_mut().extend_from_slice(&b);
            h.read_stop();
        })
        .unwrap();
        lp.run(RunMode::Default);
        let v = got.borrow().clone();
        v
    };

    assert_eq!(tty.mode(), TtyMode::Normal);
    m.write_all(b"ab\n").unwrap();
    assert_eq!(read_once(&lp, &tty), b"ab\n");
    assert_eq!(read_master(&master, 4), b"ab\r\n", "echo");
    tty.try_write(&[Bytes::from_static(b"x\n")]).unwrap();
    assert_eq!(read_master(&master, 3), b"x\r\n");

    tty.set_mode(TtyMode::Raw).unwrap();
    assert_eq!(tty.mode(), TtyMode::Raw);
    m.write_all(b"c").unwrap();
    assert_eq!(read_once(&lp, &tty), b"c", "no newline needed");
    tty.try_write(&[Bytes::from_static(b"y\n")]).unwrap();
    assert_eq!(read_master(&master, 3), b"y\r\n", "no echo of 'c'; ONLCR kept");

    tty.set_mode(TtyMode::Io).unwrap();
    m.write_all(b"\r").unwrap();
    assert_eq!(read_once(&lp, &tty), b"\r", "ICRNL off");
    tty.try_write(&[Bytes::from_static(b"z\n")]).unwrap();
    assert_eq!(read_master(&master, 2), b"z\n", "OPOST off");

    // reset_mode gives the terminal back the settings it had before it left normal mode.
    reset_mode().unwrap();
    assert_eq!(lflag(tty.fileno().unwrap()) & libc::ICANON, libc::ICANON);
    tty.set_mode(TtyMode::Normal).unwrap();
    tty.close(|_| {});
    make_valgrind_happy(&lp);
}

// Ours: a terminal the process is not allowed to read as a stream: a handle over a pipe
// is a plain stream with no terminal settings (ENOTTY), and a closed one has none at all.
#[test]
fn tty_over_a_pipe_has_no_modes() {
    let lp = Loop::new().unwrap();
    let (r, _w) = millrace_reactor::pipe(false, false).unwrap();
    let tty = Tty::new(&lp, r).unwrap();
    assert!(tty.is_readable() && !tty.is_writable());
    assert!(!tty.has_blocking_writes());
    assert_eq!(tty.set_mode(TtyMode::Raw).unwrap_err(), Error::ENOTTY);
    assert_eq!(tty.get_winsize().unwrap_err(), Error::ENOTTY);
    assert_eq!(tty.mode(), TtyMode::Normal);
    tty.close(|_| {});
    assert_eq!(tty.get_winsize().unwrap_err(), Error::EBADF);
    make_valgrind_happy(&lp);
}

// Ours: in its normal (canonical) mode a terminal gives one line per read, so a short read
// does not mean the input is drained. Two lines and an EOF (^D) typed before anyone
// reads arrive as two reads and an EOF, although no new input comes to announce the
// rest (epoll here is edge-triggered; libuv's is level-triggered).
#[test]
fn tty_lines_typed_ahead_arrive_with_their_eof() {
    let lp = Loop::new().unwrap();
    let (master, slave) = openpty(Some((80, 24))).unwrap();
    std::fs::File::from(master.try_clone().unwrap()).write_all(b"a\nb\n\x04").unwrap();
    let tty = Tty::new(&lp, slave).unwrap();
    let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let ev2 = events.clone();
    tty.read_start(move |h, ev| {
        let eof = ev == ReadEvent::Eof;
        ev2.borrow_mut().push(ev);
        if eof {
            h.close(|_| {});
        }
    })
    .unwrap();
    let guard = millrace_reactor::Timer::new(&lp);
    let t2 = tty.clone();
    guard
        .start(5000, 0, move |g| {
            t2.close(|_| {});
            g.close(|_| {});
        })
        .unwrap();
    guard.unref();
    lp.run(RunMode::Default);
    let expected =
        [ReadEvent::Data(Bytes::from_static(b"a\n")), ReadEvent::Data(Bytes::from_static(b"b\n")), ReadEvent::Eof];
    assert_eq!(*events.borrow(), expected);
    if !guard.is_closing() {
        guard.close(|_| {});
    }
    drop(master);
    make_valgrind_happy(&lp);
}
