//! `process.stdin`, `process.stdout` and `process.stderr` (Node 20,
//! `lib/internal/bootstrap/switches/is_main_thread.js`: `getStdin`, `getStdout`,
//! `createWritableStdioStream`).
//!
//! Node makes each standard stream from what its descriptor is
//! ([`guess_handle`](millrace_reactor::guess_handle)), and so does this module:
//!
//! | descriptor | stdout / stderr | stdin |
//! |---|---|---|
//! | a terminal | [`tty::WriteStream`] (blocking writes; `SIGWINCH` refreshes its size) | [`tty::ReadStream`] |
//! | a regular file, `/dev/null` | [`fs::SyncWriteStream`] (each write done before `write` returns) | [`fs::ReadStream`] from the descriptor, `auto_close: false` |
//! | a pipe, a FIFO, a Unix or TCP socket | [`Socket`] with `readable: false` | [`Socket`] with `writable: false`, `manual_start` |
//! | anything else (a UDP socket, …) | a Writable that drops what it is given | a Readable that has ended |
//!
//! Then Node's adjustments, here too:
//! - **stdout and stderr are never closed.** Their `_destroy` is Node's `dummyDestroy`:
//!   `destroy()` (also the automatic one after `end()` and `finish`) emits `error` if
//!   given one and `close`, but leaves the descriptor open and the stream usable:
//!   `destroyed` is false again before `destroy` returns, and a later `write` goes out.
//!   They keep their listeners after `close` (every other stream drops them then).
//!   [`Stdout::close`] is the real destroy, which Node runs only at exit.
//! - **stdin does not read until asked** (`on_data`, `resume`, `read`, `pipe`), and
//!   `pause()` stops its handle one tick later (Node's `onpause`), so a program can end
//!   while the other side of its stdin stays open. (A `pause()` from a `data` listener
//!   is undone by the read that `push` schedules, on Node as here: pause from outside
//!   one, as from an immediate.)
//! - **stdin's writable side is finished** (`end` calls back `ERR_STREAM_ALREADY_FINISHED`).
//! - **stdin over a file is not closed after `end`** (`autoClose: false`: no `close`).
//!
//! [`stdin`], [`stdout`] and [`stderr`] give descriptors 0, 1 and 2, made once per
//! thread and loop, as Node's are once per process. They work on duplicates of the
//! standard descriptors, so dropping or destroying them never closes 0, 1 or 2. As
//! libuv does, a pipe or socket is made non-blocking, and its flags are shared with the
//! original descriptor: Rust's own `println!` on the same pipe can then see `EAGAIN`
//! when the pipe is full. [`Stdout::from_fd`] and [`Stdin::from_fd`] make the same
//! streams over any descriptor.
//!
//! Each holds its typed stream ([`Output`], [`Input`]) and offers the common calls;
//! match on [`Stdout::stream`] or [`Stdin::stream`] for the rest.
//!
//! ```no_run
//! use millrace_streams::stdio;
//!
//! let lp = millrace_reactor::Loop::current();
//! let (input, output) = (stdio::stdin()?, stdio::stdout()?);
//! input.pipe_to(&output); // cat
//! lp.run(millrace_reactor::RunMode::Default);
//! # Ok::<(), millrace_streams::Error>(())
//! ```

use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use bytes::Bytes;
use millrace_reactor::{self as reactor, Handle, HandleType, Loop, Signal};

use crate::chunk::Side;
use crate::errors::Error;
use crate::events::ListenerId;
use crate::net::{Socket, SocketOptions};
use crate::pipe::PipeOptions;
use crate::pipeline::{pipeline, Pipeline};
use crate::stream::{AnyStream, Readable, Stream, Writable};
use crate::{fs, tty, Encoding};

/// What `process.stdout` or `process.stderr` is, by descriptor.
#[derive(Clone)]
pub enum Output {
    /// A terminal.
    Tty(tty::WriteStream),
    /// A regular file or a character device (`/dev/null`).
    File(fs::SyncWriteStream),
    /// A pipe, a FIFO or a socket.
    Pipe(Socket),
    /// Anything else: a Writable that drops every chunk.
    Null(Writable<Bytes>),
}

/// What `process.stdin` is, by descriptor.
#[derive(Clone)]
pub enum Input {
    /// A terminal.
    Tty(tty::ReadStream),
    /// A regular file or a character device (`/dev/null`).
    File(fs::ReadStream),
    /// A pipe, a FIFO or a socket.
    Pipe(Socket),
    /// Anything else: a Readable that has ended.
    Null(Readable<Bytes>),
}

/// Runs `$body` with `$s` bound to the stream inside an [`Output`] (a terminal's as its
/// `Socket`), whatever its type.
macro_rules! each_output {
    ($out:expr, $s:ident => $body:expr) => {
        match $out {
            Output::Tty(t) => {
                let $s: &Socket = t.socket();
                $body
            }
            Output::File($s) => $body,
            Output::Pipe($s) => $body,
            Output::Null($s) => $body,
        }
    };
}

/// The same for an [`Input`].
macro_rules! each_input {
    ($in:expr, $s:ident => $body:expr) => {
        match $in {
            Input::Tty(t) => {
                let $s: &Socket = t.socket();
                $body
            }
            Input::File($s) => $body,
            Input::Pipe($s) => $body,
            Input::Null($s) => $body,
        }
    };
}

/// `process.stdout` or `process.stderr`: see the [module docs](self).
#[derive(Clone)]
pub struct Stdout {
    fd: RawFd,
    stream: Output,
    /// The `SIGWINCH` watcher of a terminal (unreferenced, as Node's).
    winch: Option<Signal>,
}

/// `process.stdin`: see the [module docs](self).
#[derive(Clone)]
pub struct Stdin {
    fd: RawFd,
    stream: Input,
}

#[derive(Default)]
struct Cache {
    lp: Option<Loop>,
    streams: [Option<Stdio>; 3],
}

#[derive(Clone)]
enum Stdio {
    In(Stdin),
    Out(Stdout),
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::default();
}

/// The stream for standard descriptor `n`, made by `make` from a duplicate of it on
/// first use (on this thread's current loop).
fn cached(n: RawFd, make: impl FnOnce(OwnedFd, RawFd) -> Result<Stdio, Error>) -> Result<Stdio, Error> {
    let lp = Loop::current();
    let hit = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if !c.lp.as_ref().is_some_and(|l| Loop::ptr_eq(l, &lp)) {
            *c = Cache { lp: Some(lp.clone()), streams: Default::default() };
        }
        c.streams[n as usize].clone()
    });
    if let Some(s) = hit {
        return Ok(s);
    }
    let fd = match n {
        0 => std::io::stdin().as_fd().try_clone_to_owned(),
        1 => std::io::stdout().as_fd().try_clone_to_owned(),
        _ => std::io::stderr().as_fd().try_clone_to_owned(),
    };
    let made = match fd {
        Ok(fd) => make(fd, n)?,
        // A closed standard descriptor (Node would have put /dev/null there at startup).
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => match n {
            0 => Stdio::In(Stdin { fd: n, stream: Input::Null(ended_readable()) }),
            _ => Stdio::Out(Stdout::adopt(n, Output::Null(null_writable()))),
        },
        Err(e) => return Err(Error::sys(e.into(), "dup")),
    };
    CACHE.with(|c| c.borrow_mut().streams[n as usize] = Some(made.clone()));
    Ok(made)
}

/// `process.stdin`: descriptor 0, made on first use (see the [module docs](self)).
pub fn stdin() -> Result<Stdin, Error> {
    match cached(0, |fd, n| Stdin::make(fd, n).map(Stdio::In))? {
        Stdio::In(s) => Ok(s),
        Stdio::Out(_) => unreachable!("descriptor 0 is cached as stdin"),
    }
}

/// `process.stdout`: descriptor 1, made on first use (see the [module docs](self)).
pub fn stdout() -> Result<Stdout, Error> {
    output(1)
}

/// `process.stderr`: descriptor 2, made on first use (see the [module docs](self)).
pub fn stderr() -> Result<Stdout, Error> {
    output(2)
}

fn output(n: RawFd) -> Result<Stdout, Error> {
    match cached(n, |fd, n| Stdout::make(fd, n).map(Stdio::Out))? {
        Stdio::Out(s) => Ok(s),
        Stdio::In(_) => unreachable!("descriptors 1 and 2 are cached as outputs"),
    }
}

/// Node's black hole: `new Writable({ write(buf, enc, cb) { cb(); } })`, with
/// `dummyDestroy` (a Writable's hooks are given when it is built).
fn null_writable() -> Writable<Bytes> {
    let w = Writable::<Bytes>::builder().write(|_, _, cb| cb.ok()).destroy(crate::destroy::dummy_destroy).build();
    crate::destroy::keep_open(&w);
    w
}

fn ended_readable() -> Readable<Bytes> {
    let r = Readable::<Bytes>::builder().read(|_, _| {}).build();
    r.push(None);
    r
}

impl Stdout {
    /// `createWritableStdioStream(fd)` and `getStdout`'s changes, over any descriptor
    /// (now owned by the stream). Errors as the stream's own constructor gives them
    /// (`ERR_TTY_INIT_FAILED`, "open EBUSY").
    pub fn from_fd(fd: OwnedFd) -> Result<Stdout, Error> {
        let n = fd.as_raw_fd();
        Stdout::make(fd, n)
    }

    fn make(fd: OwnedFd, n: RawFd) -> Result<Stdout, Error> {
        let stream = match reactor::guess_handle(fd.as_fd()) {
            HandleType::Tty => Output::Tty(tty::WriteStream::new(fd)?),
            HandleType::File => Output::File(fs::sync_write_stream(fd, false)),
            HandleType::NamedPipe | HandleType::Tcp => {
                Output::Pipe(Socket::from_fd(fd, SocketOptions { readable: false, ..SocketOptions::default() })?)
            }
            HandleType::Udp | HandleType::Unknown => Output::Null(null_writable()),
        };
        Ok(Stdout::adopt(n, stream))
    }

    /// `getStdout`: `_destroy` becomes `dummyDestroy`; a terminal's size follows
    /// `SIGWINCH`.
    fn adopt(n: RawFd, stream: Output) -> Stdout {
        let mut winch = None;
        match &stream {
            Output::Tty(t) => {
                t.socket().ext().keep_open.set(true);
                crate::destroy::keep_open(t.socket());
                let sig = Signal::new(t.get_loop());
                let ws = t.clone();
                if sig.start(libc::SIGWINCH, move |_, _| ws.refresh_size()).is_ok() {
                    sig.unref();
                    winch = Some(sig);
                }
            }
            Output::File(f) => {
                f.ext().keep_open.set(true);
                crate::destroy::keep_open(f);
            }
            Output::Pipe(s) => {
                s.ext().keep_open.set(true);
                crate::destroy::keep_open(s);
            }
            Output::Null(_) => {} // built with it
        }
        Stdout { fd: n, stream, winch }
    }

    /// `fd`: the descriptor number it stands for (1 for [`stdout`], 2 for [`stderr`]).
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The typed stream.
    pub fn stream(&self) -> &Output {
        &self.stream
    }

    /// True if both are the same stream (`process.stdout === process.stdout`).
    pub fn ptr_eq(a: &Stdout, b: &Stdout) -> bool {
        each_output!(&a.stream, s => s.stream_id()) == each_output!(&b.stream, s => s.stream_id())
    }

    /// Node's `_type`: `"tty"`, `"fs"`, `"pipe"`, or none for the dropping Writable.
    pub fn type_name(&self) -> Option<&'static str> {
        match self.stream {
            Output::Tty(_) => Some("tty"),
            Output::File(_) => Some("fs"),
            Output::Pipe(_) => Some("pipe"),
            Output::Null(_) => None,
        }
    }

    /// `isTTY`.
    pub fn is_tty(&self) -> bool {
        matches!(self.stream, Output::Tty(_))
    }

    /// `columns` of a terminal (refreshed on `SIGWINCH`).
    pub fn columns(&self) -> Option<u16> {
        match &self.stream {
            Output::Tty(t) => Some(t.columns()),
            _ => None,
        }
    }

    /// `rows` of a terminal (refreshed on `SIGWINCH`).
    pub fn rows(&self) -> Option<u16> {
        match &self.stream {
            Output::Tty(t) => Some(t.rows()),
            _ => None,
        }
    }

    /// Whether a `SIGWINCH` watcher refreshes the terminal's size.
    pub fn watches_resize(&self) -> bool {
        self.winch.is_some()
    }

    /// `write(chunk)`.
    pub fn write(&self, chunk: impl Into<Bytes>) -> bool {
        let chunk = chunk.into();
        each_output!(&self.stream, s => s.write(chunk))
    }

    /// `write(chunk, cb)`.
    pub fn write_cb(&self, chunk: impl Into<Bytes>, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        let chunk = chunk.into();
        each_output!(&self.stream, s => s.write_cb(chunk, cb))
    }

    /// `end()`: `finish`, then `close` (the descriptor stays open).
    pub fn end(&self) -> &Self {
        each_output!(&self.stream, s => { s.end(); });
        self
    }

    /// `end(chunk, cb)`.
    pub fn end_cb(&self, chunk: Option<Bytes>, cb: impl FnOnce(Option<Error>) + 'static) -> &Self {
        each_output!(&self.stream, s => { s.end_cb(chunk, cb); });
        self
    }

    /// `cork()`.
    pub fn cork(&self) -> &Self {
        each_output!(&self.stream, s => { s.cork(); });
        self
    }

    /// `uncork()`.
    pub fn uncork(&self) -> &Self {
        each_output!(&self.stream, s => { s.uncork(); });
        self
    }

    /// Destroys it for real, closing its descriptor (a duplicate, for [`stdout`] and
    /// [`stderr`]), and stops its `SIGWINCH` watcher: what Node does at exit
    /// (`cleanupStdout`). For a stream made by [`Stdout::from_fd`] whose reader waits for
    /// end of file. A later [`stdout`] call on this loop gives this closed stream.
    pub fn close(&self) {
        if let Some(sig) = &self.winch {
            sig.close(|_| {});
        }
        match &self.stream {
            Output::Tty(t) => t.socket().ext().keep_open.set(false),
            Output::Pipe(s) => s.ext().keep_open.set(false),
            Output::File(f) => {
                f.ext().keep_open.set(false);
                if let Some(mut w) = f.ws() {
                    w.emit_close = true; // a SyncWriteStream's own
                }
            }
            Output::Null(_) => return, // nothing to close
        }
        self.destroy(None);
    }

    /// `destroy(err)`: `dummyDestroy` (see the [module docs](self)).
    pub fn destroy(&self, err: Option<Error>) -> &Self {
        each_output!(&self.stream, s => { s.destroy(err); });
        self
    }

    /// `destroyed`.
    pub fn destroyed(&self) -> bool {
        each_output!(&self.stream, s => s.destroyed())
    }

    /// `closed`.
    pub fn closed(&self) -> bool {
        each_output!(&self.stream, s => s.closed())
    }

    /// `errored`.
    pub fn errored(&self) -> Option<Error> {
        each_output!(&self.stream, s => s.errored())
    }

    /// `writable`.
    pub fn writable(&self) -> bool {
        each_output!(&self.stream, s => s.writable())
    }

    /// `writableEnded`.
    pub fn writable_ended(&self) -> bool {
        each_output!(&self.stream, s => s.writable_ended())
    }

    /// `writableFinished`.
    pub fn writable_finished(&self) -> bool {
        each_output!(&self.stream, s => s.writable_finished())
    }

    /// `writableLength`.
    pub fn writable_length(&self) -> usize {
        each_output!(&self.stream, s => s.writable_length())
    }

    /// `writableNeedDrain`.
    pub fn writable_need_drain(&self) -> bool {
        each_output!(&self.stream, s => s.writable_need_drain())
    }

    /// `writableHighWaterMark`.
    pub fn writable_high_water_mark(&self) -> usize {
        each_output!(&self.stream, s => s.writable_high_water_mark())
    }

    /// `'drain'`.
    pub fn on_drain(&self, f: impl Fn() + 'static) -> ListenerId {
        each_output!(&self.stream, s => s.on_drain(move |_| f()))
    }

    /// `'finish'`.
    pub fn on_finish(&self, f: impl Fn() + 'static) -> ListenerId {
        each_output!(&self.stream, s => s.on_finish(move |_| f()))
    }

    /// `'close'`.
    pub fn on_close(&self, f: impl Fn() + 'static) -> ListenerId {
        each_output!(&self.stream, s => s.on_close(move |_| f()))
    }

    /// `'error'`.
    pub fn on_error(&self, f: impl Fn(&Error) + 'static) -> ListenerId {
        each_output!(&self.stream, s => s.on_error(move |_, e| f(e)))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) {
        each_output!(&self.stream, s => { s.off(id); })
    }

    /// `src.pipe(stdout)`.
    pub fn pipe_from<W: Side, E: 'static>(&self, src: &Stream<Bytes, W, E>) -> &Self {
        self.pipe_from_with(src, PipeOptions::default())
    }

    /// `src.pipe(stdout, { end })`.
    pub fn pipe_from_with<W: Side, E: 'static>(&self, src: &Stream<Bytes, W, E>, opts: PipeOptions) -> &Self {
        each_output!(&self.stream, s => { src.pipe_with(s, opts); });
        self
    }

    /// `pipeline(…, stdout, cb)`: ends the pipeline `p` here.
    pub fn pipeline_from<W: Side, E: 'static>(
        &self,
        p: Pipeline<Bytes, W, E>,
        cb: impl FnOnce(Option<Error>) + 'static,
    ) {
        each_output!(&self.stream, s => { p.pipe(s).done(cb); })
    }
}

impl Stdin {
    /// `getStdin`'s stream over any descriptor (now owned by the stream). Errors as
    /// the stream's own constructor gives them.
    pub fn from_fd(fd: OwnedFd) -> Result<Stdin, Error> {
        let n = fd.as_raw_fd();
        Stdin::make(fd, n)
    }

    fn make(fd: OwnedFd, n: RawFd) -> Result<Stdin, Error> {
        let stream = match reactor::guess_handle(fd.as_fd()) {
            HandleType::Tty => Input::Tty(tty::ReadStream::new(fd)?),
            HandleType::File => Input::File(fs::create_read_stream_from_fd(
                fd,
                fs::ReadStreamOptions { auto_close: false, ..Default::default() },
            )),
            HandleType::NamedPipe | HandleType::Tcp => Input::Pipe(Socket::from_fd(
                fd,
                SocketOptions { writable: false, manual_start: true, ..SocketOptions::default() },
            )?),
            HandleType::Udp | HandleType::Unknown => Input::Null(ended_readable()),
        };
        // `onpause`: a socket stops reading a tick after it is paused.
        let socket = match &stream {
            Input::Tty(t) => Some(t.socket().clone()),
            Input::Pipe(s) => Some(s.clone()),
            _ => None,
        };
        if let Some(socket) = socket {
            socket.on_pause(|s| {
                let s = s.clone();
                s.get_loop().clone().next_tick(move || crate::net::read_stop_if_paused(&s));
            });
        }
        Ok(Stdin { fd: n, stream })
    }

    /// `fd`: the descriptor number it stands for (0 for [`stdin`]).
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The typed stream.
    pub fn stream(&self) -> &Input {
        &self.stream
    }

    /// True if both are the same stream (`process.stdin === process.stdin`).
    pub fn ptr_eq(a: &Stdin, b: &Stdin) -> bool {
        each_input!(&a.stream, s => s.stream_id()) == each_input!(&b.stream, s => s.stream_id())
    }

    /// `isTTY`.
    pub fn is_tty(&self) -> bool {
        matches!(self.stream, Input::Tty(_))
    }

    /// `isRaw` of a terminal (false for anything else).
    pub fn is_raw(&self) -> bool {
        matches!(&self.stream, Input::Tty(t) if t.is_raw())
    }

    /// `setRawMode(on)` of a terminal; `None` for anything else (Node's stdin has no
    /// such method then).
    pub fn set_raw_mode(&self, on: bool) -> Option<&Self> {
        match &self.stream {
            Input::Tty(t) => {
                t.set_raw_mode(on);
                Some(self)
            }
            _ => None,
        }
    }

    /// `'data'`.
    pub fn on_data(&self, f: impl Fn(Bytes) + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_data(move |_, c| f(c)))
    }

    /// `'end'`.
    pub fn on_end(&self, f: impl Fn() + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_end(move |_| f()))
    }

    /// `'close'`.
    pub fn on_close(&self, f: impl Fn() + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_close(move |_| f()))
    }

    /// `'error'`.
    pub fn on_error(&self, f: impl Fn(&Error) + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_error(move |_, e| f(e)))
    }

    /// `'readable'`.
    pub fn on_readable(&self, f: impl Fn() + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_readable(move |_| f()))
    }

    /// `'pause'`.
    pub fn on_pause(&self, f: impl Fn() + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_pause(move |_| f()))
    }

    /// `'resume'`.
    pub fn on_resume(&self, f: impl Fn() + 'static) -> ListenerId {
        each_input!(&self.stream, s => s.on_resume(move |_| f()))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) {
        each_input!(&self.stream, s => { s.off(id); })
    }

    /// `read(n)`.
    pub fn read(&self, n: Option<usize>) -> Option<Bytes> {
        each_input!(&self.stream, s => s.read(n))
    }

    /// `pause()`: the handle stops reading on the next tick.
    pub fn pause(&self) -> &Self {
        each_input!(&self.stream, s => { s.pause(); });
        self
    }

    /// `resume()`.
    pub fn resume(&self) -> &Self {
        each_input!(&self.stream, s => { s.resume(); });
        self
    }

    /// `isPaused()`.
    pub fn is_paused(&self) -> bool {
        each_input!(&self.stream, s => s.is_paused())
    }

    /// `setEncoding(enc)`.
    pub fn set_encoding(&self, enc: Encoding) -> &Self {
        each_input!(&self.stream, s => { s.set_encoding(enc); });
        self
    }

    /// `destroy(err)`: a real destroy (Node's stdin has no dummy).
    pub fn destroy(&self, err: Option<Error>) -> &Self {
        each_input!(&self.stream, s => { s.destroy(err); });
        self
    }

    /// `destroyed`.
    pub fn destroyed(&self) -> bool {
        each_input!(&self.stream, s => s.destroyed())
    }

    /// `readable`.
    pub fn readable(&self) -> bool {
        each_input!(&self.stream, s => s.readable())
    }

    /// `readableFlowing`.
    pub fn readable_flowing(&self) -> Option<bool> {
        each_input!(&self.stream, s => s.readable_flowing())
    }

    /// `readableEnded`.
    pub fn readable_ended(&self) -> bool {
        each_input!(&self.stream, s => s.readable_ended())
    }

    /// `readableLength`.
    pub fn readable_length(&self) -> usize {
        each_input!(&self.stream, s => s.readable_length())
    }

    /// `readableHighWaterMark`.
    pub fn readable_high_water_mark(&self) -> usize {
        each_input!(&self.stream, s => s.readable_high_water_mark())
    }

    /// `stdin.pipe(dest)`.
    pub fn pipe<R2: Side, E2: 'static>(&self, dest: &Stream<R2, Bytes, E2>) -> &Self {
        self.pipe_with(dest, PipeOptions::default())
    }

    /// `stdin.pipe(dest, { end })`.
    pub fn pipe_with<R2: Side, E2: 'static>(&self, dest: &Stream<R2, Bytes, E2>, opts: PipeOptions) -> &Self {
        each_input!(&self.stream, s => { s.pipe_with(dest, opts); });
        self
    }

    /// `stdin.pipe(stdout)`.
    pub fn pipe_to(&self, out: &Stdout) -> &Self {
        each_input!(&self.stream, s => { out.pipe_from(s); });
        self
    }

    /// `pipeline(stdin, first, …)`: the pipeline from here into `first`; go on with
    /// [`Pipeline::pipe`], end it with [`Pipeline::done`] or [`Stdout::pipeline_from`].
    pub fn pipeline_to<R2: Side, E2: 'static>(&self, first: &Stream<R2, Bytes, E2>) -> Pipeline<R2, Bytes, E2> {
        each_input!(&self.stream, s => pipeline(s).pipe(first))
    }
}
