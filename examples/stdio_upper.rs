//! Node's `pipeline(process.stdin, upper, process.stdout)`: standard input through a
//! Transform that upper-cases ASCII, into standard output, with the backpressure of a
//! pipe at each end.
//!
//! ```text
//! printf 'hello, pipes\n' | cargo run --release --example stdio_upper
//! head -c 64M /dev/zero | cargo run --release --example stdio_upper | (sleep 1; wc -c)
//! cargo run --release --example stdio_upper < Cargo.toml > /tmp/UPPER.TOML
//! ```
//!
//! Each end is what Node's `process.stdin` or `process.stdout` is (`streams::stdio`):
//! on a pipe or a socket, a `net::Socket` (stdin with `writable: false`, stdout with
//! `readable: false`); on a terminal, a `tty::ReadStream` or `tty::WriteStream` (type a
//! line, end with ^D); on a file or `/dev/null`, an `fs::ReadStream` from the descriptor
//! or a `SyncWriteStream`. What the journey looked like goes to stderr.

use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::process::ExitCode;
use std::rc::Rc;

use bytes::Bytes;
use millrace::reactor::{Loop, RunMode};
use millrace::streams::stdio::{self, Stdin, Stdout};
use millrace::streams::{Error, Transform};

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

/// Starts `input → upper → output` on the current loop, each descriptor made into the
/// stream Node would make of it; `done` gets the pipeline's result once both ends are
/// finished (or the first error).
pub fn upper_pipeline(
    input: OwnedFd,
    output: OwnedFd,
    journey: Rc<Journey>,
    done: impl FnOnce(Option<Error>) + 'static,
) -> Result<(), Error> {
    upper_pipeline_between(Stdin::from_fd(input)?, Stdout::from_fd(output)?, journey, done);
    Ok(())
}

/// `pipeline(stdin, upper, stdout, done)`, counting the journey.
pub fn upper_pipeline_between(
    stdin: Stdin,
    stdout: Stdout,
    journey: Rc<Journey>,
    done: impl FnOnce(Option<Error>) + 'static,
) {
    let j = journey.clone();
    let upper = Transform::<Bytes, Bytes>::builder()
        .transform(move |_, chunk, cb| {
            j.bytes.set(j.bytes.get() + chunk.len() as u64);
            j.chunks.set(j.chunks.get() + 1);
            cb.call(Ok(Some(Bytes::from(chunk.to_ascii_uppercase()))));
        })
        .build();
    let j = journey.clone();
    stdin.on_pause(move || j.pauses.set(j.pauses.get() + 1));
    let j = journey;
    stdout.on_drain(move || j.drains.set(j.drains.get() + 1));
    let out = stdout.clone();
    stdout.pipeline_from(stdin.pipeline_to(&upper), move |err| {
        out.close(); // as Node's exit does: the reader sees the end of the output
        done(err);
    });
}

fn main() -> ExitCode {
    let lp = Loop::current();
    let journey = Rc::new(Journey::default());
    let result: Rc<Cell<Option<Option<Error>>>> = Rc::default();
    let r = result.clone();
    let (stdin, stdout) = match (stdio::stdin(), stdio::stdout()) {
        (Ok(i), Ok(o)) => (i, o),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("stdio_upper: {e}");
            return ExitCode::from(2);
        }
    };
    upper_pipeline_between(stdin, stdout, journey.clone(), move |err| r.set(Some(err)));
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
