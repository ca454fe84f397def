//! Node's `pipeline(process.stdin, upper, process.stdout)`: standard input through a
//! Transform that upper-cases ASCII, into standard output, with the backpressure of a
//! pipe at each end.
//!
//! ```text
//! printf 'hello, pipes\n' | cargo run --release --example stdio_upper
//! head -c 64M /dev/zero | cargo run --release --example stdio_upper | (sleep 1; wc -c)
//! ```
//!
//! Each end is what Node's `process.stdin` or `process.stdout` would be, over a copy of
//! the descriptor: on a pipe or a socket, `net::Socket::from_fd` (Node's `net.Socket({ fd
//! })`: stdin with `writable: false`, stdout with `readable: false`); on a terminal,
//! `tty::ReadStream` or `tty::WriteStream` (type a line, end with ^D). A regular file is
//! neither (`ERR_INVALID_FD_TYPE`; Node would use a file stream): pipe it in. What the
//! journey looked like goes to stderr.

use std::cell::Cell;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;
use std::rc::Rc;

use bytes::Bytes;
use millrace::reactor::{Loop, RunMode};
use millrace::streams::net::{Socket, SocketOptions};
use millrace::streams::{pipeline, tty, Error, Transform};

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
    let stdin = stdio_socket(input, true)?;
    let stdout = stdio_socket(output, false)?;
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

/// A standard descriptor as Node makes `process.stdin` (`reading`) or `process.stdout`:
/// a terminal stream on a terminal, else a socket over the pipe or socket.
fn stdio_socket(fd: OwnedFd, reading: bool) -> Result<Socket, Error> {
    if tty::isatty(fd.as_fd()) {
        return Ok(match reading {
            true => tty::ReadStream::new(fd)?.socket().clone(),
            false => tty::WriteStream::new(fd)?.socket().clone(),
        });
    }
    Socket::from_fd(fd, SocketOptions { readable: reading, writable: !reading, ..Default::default() })
}

fn main() -> ExitCode {
    let copy = |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().expect("dup a standard descriptor");
    let (input, output) = (copy(std::io::stdin().as_fd()), copy(std::io::stdout().as_fd()));
    let lp = Loop::current();
    let journey = Rc::new(Journey::default());
    let result: Rc<Cell<Option<Option<Error>>>> = Rc::default();
    let r = result.clone();
    if let Err(e) = upper_pipeline(input, output, journey.clone(), move |err| r.set(Some(err))) {
        eprintln!("stdio_upper: {e} (stdin and stdout must be pipes, sockets or terminals: `cat file | stdio_upper`)");
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
