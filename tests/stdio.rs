//! The `stdio_upper` example over real pipes: in this process through `reactor::pipe`
//! (its pipeline code, included), and as a child process whose stdin and stdout are
//! pipes (the binary `cargo test --workspace` builds). Both check every byte; the first
//! also that backpressure happened at the slow end. And between two pseudo-terminals, as
//! when it is run by hand.

mod util;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::Duration;

#[path = "../examples/stdio_upper.rs"]
#[allow(dead_code)]
mod stdio_upper;

/// 4 MiB of mixed-case text, so upper-casing changes it.
fn input() -> Vec<u8> {
    b"millrace Pipes: stdin -> upper -> stdout\n".iter().copied().cycle().take(4 << 20).collect()
}

#[test]
fn upper_pipeline_over_anonymous_pipes() {
    let data = input();
    let (in_r, in_w) = millrace::reactor::pipe(false, false).unwrap();
    let (out_r, out_w) = millrace::reactor::pipe(false, false).unwrap();
    let feed = data.clone();
    let writer = std::thread::spawn(move || std::fs::File::from(in_w).write_all(&feed).unwrap());
    let reader = std::thread::spawn(move || {
        // A slow start: the output pipe fills, stdout's write returns false, and the
        // pipeline waits for its drain.
        std::thread::sleep(Duration::from_millis(200));
        let mut out = Vec::new();
        std::fs::File::from(out_r).read_to_end(&mut out).unwrap();
        out
    });
    let journey = Rc::new(stdio_upper::Journey::default());
    let result: Rc<RefCell<Option<Option<String>>>> = Rc::default();
    let (j, r) = (journey.clone(), result.clone());
    util::run_bounded(move |_| {
        stdio_upper::upper_pipeline(in_r, out_w, j, move |err| {
            *r.borrow_mut() = Some(err.map(|e| e.to_string()));
        })
        .unwrap();
    });
    writer.join().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(*result.borrow(), Some(None), "the pipeline's callback, without an error");
    assert_eq!(out.len(), data.len());
    assert!(out == data.to_ascii_uppercase(), "every byte, upper-cased, in order");
    assert_eq!(journey.bytes.get(), data.len() as u64);
    assert!(journey.drains.get() > 0, "stdout never filled: {journey:?}");
    assert!(journey.pauses.get() > 0, "stdin was never paused: {journey:?}");
}

// A terminal at each end, as `stdio_upper` run by hand: a line typed and ^D into one
// (it reads in its normal line mode, so the line and then the EOF arrive), the
// upper-cased line shown on the other, with the terminal's "\r\n".
#[test]
fn upper_pipeline_between_terminals() {
    let (in_master, in_slave) = millrace::reactor::openpty(Some((80, 24))).unwrap();
    let (out_master, out_slave) = millrace::reactor::openpty(Some((80, 24))).unwrap();
    let shown = util::read_terminal(&out_master, 17);
    let echoed = util::read_terminal(&in_master, 14);
    std::fs::File::from(in_master.try_clone().unwrap()).write_all(b"hello, terminal\n\x04").unwrap();
    let journey = Rc::new(stdio_upper::Journey::default());
    let result: Rc<RefCell<Option<Option<String>>>> = Rc::default();
    let (j, r) = (journey.clone(), result.clone());
    util::run_bounded(move |_| {
        stdio_upper::upper_pipeline(in_slave, out_slave, j, move |err| {
            *r.borrow_mut() = Some(err.map(|e| e.to_string()));
        })
        .unwrap();
    });
    assert_eq!(*result.borrow(), Some(None), "the pipeline's callback, without an error");
    let ten = Duration::from_secs(10);
    assert_eq!(shown.recv_timeout(ten).unwrap(), b"HELLO, TERMINAL\r\n");
    assert_eq!(&echoed.recv_timeout(ten).unwrap()[..14], b"hello, termina", "the typing terminal echoes");
    assert_eq!(journey.bytes.get(), 16);
}

#[test]
fn stdio_upper_as_a_child_process() {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("examples").join("stdio_upper");
    if !bin.exists() {
        // `cargo test --workspace` builds the examples before it runs any test; a run of
        // this test target alone does not.
        eprintln!("SKIPPED: {} is not built (run `cargo test --workspace`)", bin.display());
        return;
    }
    let data = input();
    let mut child = std::process::Command::new(&bin)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feed = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&feed).unwrap());
    let mut stdout = child.stdout.take().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    let res = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{report}");
    assert!(out == data.to_ascii_uppercase(), "every byte, upper-cased, in order");
    assert!(report.starts_with(&format!("stdio_upper: {} bytes in ", data.len())), "{report}");

    // A file at each end, as `stdio_upper < in > out`: an fs read stream from the
    // descriptor and a SyncWriteStream, as Node's process.stdin and stdout over files.
    let dir = std::env::temp_dir();
    let (src, dst) = (
        dir.join(format!("millrace-upper-in-{}", std::process::id())),
        dir.join(format!("millrace-upper-out-{}", std::process::id())),
    );
    std::fs::write(&src, &data).unwrap();
    let res = std::process::Command::new(&bin)
        .stdin(std::fs::File::open(&src).unwrap())
        .stdout(std::fs::File::create(&dst).unwrap())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{report}");
    let out = std::fs::read(&dst).unwrap();
    assert!(out == data.to_ascii_uppercase(), "every byte of the file, upper-cased, in order");
    assert!(report.starts_with(&format!("stdio_upper: {} bytes in ", data.len())), "{report}");
    // The file is read in 64 KiB chunks (fs.ReadStream's highWaterMark).
    assert!(report.contains(&format!(" in {} chunks;", data.len().div_ceil(64 * 1024))), "{report}");
    let _ = (std::fs::remove_file(&src), std::fs::remove_file(&dst));

    // /dev/null in (a character device: a file to Node), a pipe out: nothing, at once.
    let res = std::process::Command::new(&bin).stdin(std::process::Stdio::null()).output().unwrap();
    let report = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{report}");
    assert!(res.stdout.is_empty());
    assert!(report.starts_with("stdio_upper: 0 bytes in 0 chunks"), "{report}");
}

// process.stdout on a terminal: a tty.WriteStream whose size follows SIGWINCH (Node's
// `process.on('SIGWINCH', refreshStdoutOnSigWinch)`), with no hold on the loop.
#[test]
fn stdout_on_a_terminal_follows_sigwinch() {
    use millrace::streams::stdio::{Output, Stdout};
    let (master, slave) = millrace::reactor::openpty(Some((80, 24))).unwrap();
    let resized = Rc::new(RefCell::new(Vec::new()));
    let seen = resized.clone();
    // The master stays open outside the loop's closure: a terminal whose master has
    // closed is hung up, and keeps its old size.
    let master = &master;
    util::run_bounded(move |lp| {
        let out = Stdout::from_fd(slave).unwrap();
        assert!(out.is_tty() && out.watches_resize());
        assert_eq!((out.type_name(), out.columns(), out.rows()), (Some("tty"), Some(80), Some(24)));
        let Output::Tty(ws) = out.stream() else { panic!("a terminal's stdout is a tty.WriteStream") };
        let (s, o) = (seen.clone(), out.clone());
        ws.on_resize(move |ws| {
            s.borrow_mut().push((ws.columns(), ws.rows()));
            o.close();
        });
        // The watcher is unreferenced: only this timer keeps the loop running until the
        // signal has come.
        use millrace::reactor::Handle;
        let poll = millrace::reactor::Timer::new(lp);
        let s = seen.clone();
        poll.start(1, 1, move |t| {
            if !s.borrow().is_empty() {
                t.close(|_| {});
            }
        })
        .unwrap();
        millrace::reactor::set_winsize(std::os::fd::AsFd::as_fd(master), 100, 30).unwrap();
        // SIGWINCH is ignored by default: harmless to the other tests in this process.
        assert_eq!(unsafe { libc::raise(libc::SIGWINCH) }, 0);
    });
    assert_eq!(*resized.borrow(), vec![(100, 30)]);
}

// Anything that is neither a terminal, a file nor a stream socket (here UDP) gets Node's
// black hole: writes succeed and go nowhere; destroy never ends it.
#[test]
fn stdout_over_udp_is_a_black_hole() {
    use millrace::streams::stdio::{Output, Stdout};
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    util::run_bounded(move |_| {
        let out = Stdout::from_fd(udp.into()).unwrap();
        assert!(matches!(out.stream(), Output::Null(_)));
        assert_eq!(out.type_name(), None);
        let l2 = l.clone();
        assert!(out.write_cb(bytes::Bytes::from_static(b"gone"), move |e| l2.borrow_mut().push(format!("cb {e:?}"))));
        let (l2, o) = (l.clone(), out.clone());
        out.on_close(move || {
            l2.borrow_mut().push(format!("close destroyed {}", o.destroyed()));
            let l3 = l2.clone();
            o.write_cb(bytes::Bytes::from_static(b"again"), move |e| l3.borrow_mut().push(format!("again {e:?}")));
        });
        out.end();
    });
    assert_eq!(*log.borrow(), ["cb None", "close destroyed false", "again None"]);
}

// fs streams over a descriptor (Node's `fd` option): no 'open' or 'ready'; autoClose
// false keeps the stream (and the file) after 'end'/'finish'; destroy still closes it.
#[test]
fn fs_streams_over_descriptors() {
    use millrace::streams::fs;
    let path = std::env::temp_dir().join(format!("millrace-fd-streams-{}", std::process::id()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l, p) = (log.clone(), path.clone());
    util::run_bounded(move |_| {
        let w = fs::create_write_stream_from_fd(
            std::fs::File::create(&p).unwrap().into(),
            fs::WriteStreamOptions { auto_close: false, ..Default::default() },
        );
        assert!(!w.pending() && w.fd().is_some());
        let l2 = l.clone();
        w.on_open(move |_| l2.borrow_mut().push("w open?!".to_string()));
        let (l2, p2) = (l.clone(), p.clone());
        w.on_finish(move |w| {
            l2.borrow_mut().push(format!("w finish, fd kept {}", w.fd().is_some()));
            w.destroy(None);
            let r = fs::create_read_stream_from_fd(
                std::fs::File::open(&p2).unwrap().into(),
                fs::ReadStreamOptions { start: Some(6), ..Default::default() },
            );
            let l3 = l2.clone();
            r.on_data(move |_, d| l3.borrow_mut().push(format!("r data {}", String::from_utf8_lossy(&d))));
            let l3 = l2.clone();
            r.on_close(move |r| l3.borrow_mut().push(format!("r close, pending {}", r.pending())));
        });
        let l2 = l.clone();
        w.on_close(move |w| l2.borrow_mut().push(format!("w close, fd {:?}", w.fd())));
        w.write(bytes::Bytes::from_static(b"hello "));
        w.end_with(bytes::Bytes::from_static(b"descriptor"));
    });
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        *log.borrow(),
        ["w finish, fd kept true", "w close, fd None", "r data descriptor", "r close, pending true"]
    );
}
