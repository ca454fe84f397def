//! Terminals as streams (Node 20, `lib/tty.js`; colours from `lib/internal/tty.js`; the
//! cursor writes from `lib/readline.js`).
//!
//! [`ReadStream`] and [`WriteStream`] are [`Socket`]s over a reactor [`Tty`], as Node's
//! are `net.Socket`s over a `TTY` handle: both are Duplexes whose readable side has a
//! highWaterMark of 0 and does not read until asked (`manualStart`). They deref to the
//! socket for everything a stream does; what is terminal-only is theirs:
//!
//! - a `ReadStream` has [`is_raw`](ReadStream::is_raw) and
//!   [`set_raw_mode`](ReadStream::set_raw_mode) (the reactor's [`TtyMode::Raw`]);
//! - a `WriteStream` writes blocking (Node: "prevents interleaved or dropped
//!   stdout/stderr output"), knows its [`columns`](WriteStream::columns) and
//!   [`rows`](WriteStream::rows), emits `resize` from
//!   [`refresh_size`](WriteStream::refresh_size) (which `process.stdout` runs on
//!   `SIGWINCH`), writes the cursor and erase sequences, and
//!   guesses its [`color_depth`] from the environment.

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Deref;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::rc::Rc;

use bytes::Bytes;
use millrace_reactor::{self as reactor, Tty, TtyMode};

use crate::errors::{Code, Error};
use crate::events::{Event, ListenerId};
use crate::net::{Socket, SocketOptions};

/// `tty.isatty(fd)`: true if `fd` is a terminal.
pub fn isatty(fd: BorrowedFd<'_>) -> bool {
    reactor::guess_handle(fd) == reactor::HandleType::Tty
}

/// A `Tty` handle over `fd`, or Node's `ERR_TTY_INIT_FAILED`.
fn tty_handle(fd: OwnedFd) -> Result<Tty, Error> {
    Tty::new(&reactor::Loop::current(), fd)
        .map_err(|e| Error::node(Code::ERR_TTY_INIT_FAILED, &format!("{} ({})", e.code(), e.message())))
}

/// The socket Node's `tty.ReadStream` and `tty.WriteStream` make: `readableHighWaterMark`
/// 0, `manualStart`, over `opts`.
fn tty_socket(tty: &Tty, opts: SocketOptions) -> Socket {
    let opts = SocketOptions { readable_high_water_mark: Some(0), manual_start: true, ..opts };
    Socket::from_handle(tty.stream().clone(), opts, false)
}

/// Node's `tty.ReadStream`: a terminal to read keys or lines from.
#[derive(Clone)]
pub struct ReadStream {
    socket: Socket,
    tty: Tty,
    raw: Rc<Cell<bool>>,
}

impl ReadStream {
    /// `new tty.ReadStream(fd)`: `ERR_TTY_INIT_FAILED` ("TTY initialization failed:
    /// uv_tty_init returned EINVAL (invalid argument)") for a regular file or a device
    /// that is not a terminal. A pipe or a socket is accepted (libuv's rule).
    pub fn new(fd: OwnedFd) -> Result<ReadStream, Error> {
        ReadStream::with_options(fd, SocketOptions::default())
    }

    /// `new tty.ReadStream(fd, options)`: the socket options Node passes on (its own
    /// `readableHighWaterMark` 0 and `manualStart` first; `high_water_mark` still wins).
    pub fn with_options(fd: OwnedFd, opts: SocketOptions) -> Result<ReadStream, Error> {
        let tty = tty_handle(fd)?;
        Ok(ReadStream { socket: tty_socket(&tty, opts), tty, raw: Rc::new(Cell::new(false)) })
    }

    /// `isTTY`: always true.
    pub fn is_tty(&self) -> bool {
        true
    }

    /// `isRaw`: what the last successful [`set_raw_mode`](ReadStream::set_raw_mode) set.
    pub fn is_raw(&self) -> bool {
        self.raw.get()
    }

    /// `setRawMode(flag)`: raw mode (every key a read, no echo, no ^C signal) or back to
    /// the terminal's own settings. A failure is emitted as `error` ("setRawMode
    /// EBADF" once destroyed) and leaves `is_raw` as it was.
    pub fn set_raw_mode(&self, on: bool) -> &Self {
        let r = match self.socket.tcp() {
            Some(_) => self.tty.set_mode(if on { TtyMode::Raw } else { TtyMode::Normal }),
            None => Ok(()), // Node: `this._handle?.setRawMode(flag)` on no handle is no error
        };
        match r {
            Ok(()) => self.raw.set(on),
            Err(e) => self.socket.emit_error(&Error::sys(e, "setRawMode")),
        }
        self
    }

    /// The stream side.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The reactor handle.
    pub fn handle(&self) -> &Tty {
        &self.tty
    }
}

impl Deref for ReadStream {
    type Target = Socket;

    fn deref(&self) -> &Socket {
        &self.socket
    }
}

/// Node's `tty.WriteStream`: a terminal to write to.
///
/// ```
/// use bytes::Bytes;
/// use millrace_streams::tty::WriteStream;
/// use std::io::Read;
///
/// let lp = millrace_reactor::Loop::new()?;
/// let (master, slave) = millrace_reactor::openpty(Some((80, 24)))?;
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     let out = WriteStream::new(slave)?;
///     assert_eq!((out.columns(), out.rows()), (80, 24));
///     out.cursor_to(0, Some(0), |_| {}); // top left
///     out.end_with(Bytes::from_static(b"hi\n"));
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// let mut shown = [0u8; 10];
/// std::fs::File::from(master).read_exact(&mut shown)?;
/// assert_eq!(&shown, b"\x1b[1;1Hhi\r\n"); // the terminal turned "\n" into "\r\n"
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WriteStream {
    socket: Socket,
    tty: Tty,
    size: Rc<Cell<(u16, u16)>>,
}

impl WriteStream {
    /// `new tty.WriteStream(fd)`: writes become blocking, and the window size is read
    /// once (and again by [`refresh_size`](WriteStream::refresh_size)).
    /// `ERR_TTY_INIT_FAILED` as [`ReadStream::new`].
    pub fn new(fd: OwnedFd) -> Result<WriteStream, Error> {
        let tty = tty_handle(fd)?;
        let socket = tty_socket(&tty, SocketOptions::default());
        let _ = tty.set_blocking(true); // Node ignores its result too
        let size = tty.get_winsize().unwrap_or((0, 0)); // Node leaves them unset on error
        Ok(WriteStream { socket, tty, size: Rc::new(Cell::new(size)) })
    }

    /// `isTTY`: always true.
    pub fn is_tty(&self) -> bool {
        true
    }

    /// `columns`: the width when last read.
    pub fn columns(&self) -> u16 {
        self.size.get().0
    }

    /// `rows`: the height when last read.
    pub fn rows(&self) -> u16 {
        self.size.get().1
    }

    /// `getWindowSize()`: `(columns, rows)` as last read (not a new query: see
    /// [`refresh_size`](WriteStream::refresh_size)).
    pub fn get_window_size(&self) -> (u16, u16) {
        self.size.get()
    }

    /// `_refreshSize()`: reads the window size again and emits `resize` if it changed;
    /// a failure is emitted as `error` ("getWindowSize EBADF"). `process.stdout` and
    /// `stderr` run this on every `SIGWINCH`.
    pub fn refresh_size(&self) {
        match self.tty.get_winsize() {
            Err(e) => self.socket.emit_error(&Error::sys(e, "getWindowSize")),
            Ok(size) if size != self.size.get() => {
                self.size.set(size);
                self.socket.emit_event(Event::Resize);
            }
            Ok(_) => {}
        }
    }

    /// `'resize'`: the window size changed (seen by
    /// [`refresh_size`](WriteStream::refresh_size)). Like every listener, dropped when
    /// the stream closes.
    pub fn on_resize(&self, f: impl Fn(&WriteStream) + 'static) -> ListenerId {
        let me = self.clone();
        self.socket.on_event(Event::Resize, move |_| f(&me))
    }

    /// `cursorTo(x, y, cb)`: to column `x` (0-based) of row `y`, or of the current row
    /// (`CSI x+1 G`; with a row, `CSI y+1 ; x+1 H`). Returns what `write` returned.
    pub fn cursor_to(&self, x: u32, y: Option<u32>, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        let seq = match y {
            None => format!("\x1b[{}G", u64::from(x) + 1),
            Some(y) => format!("\x1b[{};{}H", u64::from(y) + 1, u64::from(x) + 1),
        };
        self.write_seq(seq, cb)
    }

    /// `moveCursor(dx, dy, cb)`: relative moves (`CSI n D`/`C`, then `CSI n A`/`B`);
    /// with neither, nothing is written and `cb` runs on the next tick.
    pub fn move_cursor(&self, dx: i32, dy: i32, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        if dx == 0 && dy == 0 {
            reactor::next_tick(move || cb(None));
            return true;
        }
        let mut seq = String::new();
        match dx {
            d if d < 0 => seq += &format!("\x1b[{}D", d.unsigned_abs()),
            d if d > 0 => seq += &format!("\x1b[{d}C"),
            _ => {}
        }
        match dy {
            d if d < 0 => seq += &format!("\x1b[{}A", d.unsigned_abs()),
            d if d > 0 => seq += &format!("\x1b[{d}B"),
            _ => {}
        }
        self.write_seq(seq, cb)
    }

    /// `clearLine(dir, cb)`: left of the cursor (`dir` < 0, `CSI 1 K`), right of it
    /// (> 0, `CSI 0 K`) or the whole line (0, `CSI 2 K`).
    pub fn clear_line(&self, dir: i32, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        let seq = match dir {
            d if d < 0 => "\x1b[1K",
            d if d > 0 => "\x1b[0K",
            _ => "\x1b[2K",
        };
        self.write_seq(seq.to_owned(), cb)
    }

    /// `clearScreenDown(cb)`: from the cursor to the end of the screen (`CSI 0 J`).
    pub fn clear_screen_down(&self, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        self.write_seq("\x1b[0J".to_owned(), cb)
    }

    /// `getColorDepth()`: [`color_depth`] of this process's environment.
    pub fn get_color_depth(&self) -> u8 {
        color_depth(&std::env::vars().collect())
    }

    /// `hasColors(count)`: whether `count` colours fit in
    /// [`get_color_depth`](WriteStream::get_color_depth)'s bits.
    pub fn has_colors(&self, count: u32) -> bool {
        has_colors(count, &std::env::vars().collect())
    }

    /// The stream side.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The reactor handle.
    pub fn handle(&self) -> &Tty {
        &self.tty
    }

    fn write_seq(&self, seq: String, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        self.socket.write_cb(Bytes::from(seq), cb)
    }
}

impl Deref for WriteStream {
    type Target = Socket;

    fn deref(&self) -> &Socket {
        &self.socket
    }
}

/// `getColorDepth(env)`: the colour bits a terminal under `env` likely shows (1, 4, 8 or
/// 24), by Node 20's rules: `FORCE_COLOR` first (Node's warning that it overrides
/// `NO_COLOR` is not printed), then `NODE_DISABLE_COLORS`, `NO_COLOR` and
/// `TERM=dumb`, `TMUX`, known CI services, TeamCity, `TERM_PROGRAM`, `COLORTERM`, then
/// `TERM` against Node's list.
pub fn color_depth(env: &HashMap<String, String>) -> u8 {
    const COLORS_2: u8 = 1;
    const COLORS_16: u8 = 4;
    const COLORS_256: u8 = 8;
    const COLORS_16M: u8 = 24;
    let var = |k: &str| env.get(k).map(String::as_str);
    if let Some(force) = var("FORCE_COLOR") {
        return match force {
            "" | "1" | "true" => COLORS_16,
            "2" => COLORS_256,
            "3" => COLORS_16M,
            _ => COLORS_2,
        };
    }
    if var("NODE_DISABLE_COLORS").is_some() || var("NO_COLOR").is_some() || var("TERM") == Some("dumb") {
        return COLORS_2;
    }
    if var("TMUX").is_some_and(|v| !v.is_empty()) {
        return COLORS_256;
    }
    if var("CI").is_some_and(|v| !v.is_empty()) {
        let known = ["APPVEYOR", "BUILDKITE", "CIRCLECI", "DRONE", "GITHUB_ACTIONS", "GITLAB_CI", "TRAVIS"];
        return if known.iter().any(|k| env.contains_key(*k)) || var("CI_NAME") == Some("codeship") {
            COLORS_256
        } else {
            COLORS_2
        };
    }
    if let Some(v) = var("TEAMCITY_VERSION") {
        return if teamcity_colours(v) { COLORS_16 } else { COLORS_2 };
    }
    match var("TERM_PROGRAM") {
        Some("iTerm.app") => {
            let old = var("TERM_PROGRAM_VERSION")
                .is_none_or(|v| v.is_empty() || (v.len() >= 2 && matches!(v.as_bytes()[..2], [b'0'..=b'2', b'.'])));
            return if old { COLORS_256 } else { COLORS_16M };
        }
        Some("HyperTerm" | "MacTerm") => return COLORS_16M,
        Some("Apple_Terminal") => return COLORS_256,
        _ => {}
    }
    if matches!(var("COLORTERM"), Some("truecolor" | "24bit")) {
        return COLORS_16M;
    }
    if let Some(term) = var("TERM").filter(|t| !t.is_empty()) {
        if term.starts_with("xterm-256") {
            return COLORS_256;
        }
        let term = term.to_lowercase();
        match term.as_str() {
            "eterm" | "cons25" | "console" | "cygwin" | "dtterm" | "gnome" | "hurd" | "jfbterm" | "konsole"
            | "kterm" | "mlterm" | "putty" | "st" => return COLORS_16,
            "mosh" | "rxvt-unicode-24bit" | "terminator" => return COLORS_16M,
            _ => {}
        }
        let con = term.strip_prefix("con").is_some_and(|rest| {
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            rest.strip_prefix('x').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        });
        if ["ansi", "color", "linux"].iter().any(|w| term.contains(w))
            || con
            || ["rxvt", "screen", "xterm", "vt100"].iter().any(|p| term.starts_with(p))
        {
            return COLORS_16;
        }
    }
    if var("COLORTERM").is_some_and(|v| !v.is_empty()) {
        return COLORS_16;
    }
    COLORS_2
}

/// TeamCity 9.1 and later (`/^(9\.(0*[1-9]\d*)\.|\d{2,}\.)/`).
fn teamcity_colours(v: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let major = digits(v);
    if major >= 2 && v.as_bytes().get(major) == Some(&b'.') {
        return true;
    }
    let Some(rest) = v.strip_prefix("9.") else { return false };
    let minor = digits(rest);
    minor > 0 && rest.as_bytes().get(minor) == Some(&b'.') && rest[..minor].bytes().any(|b| b != b'0')
}

/// `hasColors(count, env)`: `count <= 2 ** color_depth(env)`.
pub fn has_colors(count: u32, env: &HashMap<String, String>) -> bool {
    u64::from(count) <= 1u64 << color_depth(env)
}
