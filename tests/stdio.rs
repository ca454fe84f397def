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

    // A file is neither a socket's nor a terminal's descriptor: a clear error and exit
    // status 2.
    let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let res = std::process::Command::new(&bin).stdin(file).output().unwrap();
    assert_eq!(res.status.code(), Some(2));
    let report = String::from_utf8_lossy(&res.stderr);
    assert!(report.contains("Unsupported fd type: FILE"), "{report}");
}
