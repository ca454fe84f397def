//! Node's `pipeline(process.stdin, upper, process.stdout)`: standard input through a
//! Transform that upper-cases ASCII, into standard output, with the backpressure of a
//! pipe at each end.
//!
//! ```text
//! printf 'hello, pipes\n' | cargo run --release --example stdio_upper
//! head -c 64M /dev/zero | cargo run --release --example stdio_upper | (sleep 1; wc -c)
//! ```
//!
//! Both ends are `net::Socket::from_fd` over a copy of the descriptor (Node's
//! `net.Socket({ fd })`, which is what `process.stdin` and `process.stdout` are when they
//! are pipes): stdin with `writable: false`, stdout with `readable: false`. A terminal or
//! a file is not a socket's descriptor (`ERR_INVALID_FD_TYPE`): pipe something in and
//! out. What the journey looked like goes to stderr.

use std::cell::Cell;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;
use std::rc::Rc;

use bytes::Bytes;
use millrace::reactor::{Loop, RunMode};
use millrace::streams::net::{Socket, SocketOptions};
use millrace::streams::{pipeline, Error, Transform};

/// What one run saw.
#[derive(Debug, Default)]
pub struct Journey {
    /// Bytes read from stdin (and written to stdout).
    pub bytes: Cell<u64>,
    /// Chunks through the transform.
    pub chunks: Cell<u64>,
    /// Times stdin was paused because the transform's buffer was full.
    pub pauses: Cell<u64>,
    /// `drain` events on stdout.
    pub drains: Cell<u64>,
}

/// Starts `input → upper → output` on the current loop; `done` gets the pipeline's
/// result once both ends are finished (or the first error).
pub fn upper_pipeline(
    input: OwnedFd,
    output: OwnedFd,
    journey: Rc<Journey>,
    done: impl FnOnce(Option<Error>) + 'static,
) -> Result<(), Error> {
    let stdin = Socket::from_fd(input, SocketOptions { writable: false, ..Default::default() })?;
    let stdout = Socket::from_fd(output, SocketOptions { readable: false, ..Default::default() })?;
    let j = journey.clone();
    let upper = Transform::<Bytes, Bytes>::builder()
        .transform(move |_, chunk, cb| {
            j.bytes.set(j.bytes.get() + chunk.len() as u64);
            j.chunks.set(j.chunks.get() + 1);
            cb.call(Ok(Some(Bytes::from(chunk.to_ascii_uppercase()))));
        })
        .build();
    let j = journey.clone();
    stdin.on_pause(move |_| j.pauses.set(j.pauses.get() + 1));
    let j = journey;
    stdout.on_drain(move |_| j.drains.set(j.drains.get() + 1));
    pipeline(&stdin).pipe(&upper).pipe(&stdout).done(done);
    Ok(())
}

fn main() -> ExitCode {
    let copy = |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().expect("dup a standard descriptor");
    let (input, output) = (copy(std::io::stdin().as_fd()), copy(std::io::stdout().as_fd()));
    let lp = Loop::current();
    let journey = Rc::new(Journey::default());
    let result: Rc<Cell<Option<Option<Error>>>> = Rc::default();
    let r = result.clone();
    if let Err(e) = upper_pipeline(input, output, journey.clone(), move |err| r.set(Some(err))) {
        eprintln!("stdio_upper: {e} (stdin and stdout must be pipes or sockets: `printf hi | stdio_upper | cat`)");
        return ExitCode::from(2);
    }
    lp.run_next_ticks();
    lp.run(RunMode::Default);
    let m = lp.metrics();
    eprintln!(
        "stdio_upper: {} bytes in {} chunks; stdin paused {} times, {} drain events on stdout; {} read and {} write syscalls, {} EAGAIN",
        journey.bytes.get(),
        journey.chunks.get(),
        journey.pauses.get(),
        journey.drains.get(),
        m.read,
        m.write_syscalls(),
        m.write_eagain
    );
    match result.take() {
        Some(None) => ExitCode::SUCCESS,
        Some(Some(e)) => {
            eprintln!("stdio_upper: {e}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("stdio_upper: the loop ended before the pipeline did");
            ExitCode::FAILURE
        }
    }
}
