//! File streams (Node 20, `lib/internal/fs/streams.js`): `createReadStream` and
//! `createWriteStream` on the reactor's thread pool; and `SyncWriteStream`
//! (`lib/internal/fs/sync_write_stream.js`), what `process.stdout` is over a file.
//!
//! Both open the file in `_construct` (on the pool), so reads and writes wait for it,
//! then emit `open` and `ready`; given a descriptor instead of a path (Node's `fd`
//! option), they start open and emit neither. `auto_close: false` (Node's `autoClose`)
//! turns off `autoDestroy`: the stream is not destroyed (and the file not closed) after
//! `end` or `finish`; an explicit `destroy` still closes it. A read stream reads up to
//! its highWaterMark (64 KiB, as Node) per `_read`, at an explicit position when `start`
//! is given, and ends after `end` (inclusive) or at end of file. A write stream writes each chunk (a batch of
//! buffered chunks as one `_writev`) at its position. `_destroy` waits for an I/O
//! operation in flight, then closes the file; `close` follows.
//!
//! Watching files (`lib/internal/fs/watchers.js`):
//! - [`watch`] is `fs.watch` on the reactor's inotify handle: an [`FsWatcher`] whose
//!   `change` listeners get `("rename" | "change", filename)` (`rename` wins when libuv
//!   sets both, as Node picks it). A path that cannot be watched is returned as Node
//!   throws it: "ENOENT: no such file or directory, watch 'nope'". `close` emits `close`
//!   on the next tick. Not recursive (Node's recursive watching on Linux is a
//!   JavaScript walk of the tree, not written here).
//! - [`watch_file`] is `fs.watchFile` on the reactor's `stat` poll: one [`StatWatcher`]
//!   per resolved path (per thread), polling every `interval` ms (5007 by default),
//!   whose `change` listeners get `(current, previous)` when they differ; a missing file
//!   reports once with both zeroed. [`unwatch_file`] removes one listener or all, and
//!   stops the watcher (`stop` on the next tick) when none is left.

use std::cell::{Cell, RefCell};
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use millrace_reactor::fs::{self as rfs, File};

use crate::chunk::Absent;
use crate::errors::Error;
use crate::events::{Event, ListenerId};
use crate::stream::{Builder, DestroyCallback, Options, Stream};

pub use crate::fs_watch::{unwatch_file, watch, watch_file, FsWatcher, StatWatcher, WatchFileOptions, WatchOptions};
/// The file status `watch_file` listeners get (the reactor's `uv_stat_t`).
pub use millrace_reactor::fs::Stat;

/// Node's `fs.ReadStream`.
pub type ReadStream = Stream<Bytes, Absent, FileExt>;
/// Node's `fs.WriteStream`.
pub type WriteStream = Stream<Absent, Bytes, FileExt>;

/// The file half of a file stream.
pub struct FileExt {
    path: PathBuf,
    flags: String,
    mode: u32,
    file: RefCell<Option<File>>,
    pos: Cell<Option<u64>>,
    end: u64,
    bytes: Cell<u64>,
    io_pending: Cell<bool>,
    /// A destroy waiting for the I/O in flight (Node's `kIoDone`).
    pending_close: RefCell<Option<Box<dyn FnOnce()>>>,
}

/// Options of `createReadStream`.
#[derive(Clone, Copy, Debug)]
pub struct ReadStreamOptions {
    /// First byte to read (default: from the current position).
    pub start: Option<u64>,
    /// Last byte to read, inclusive (default: to the end of the file).
    pub end: Option<u64>,
    /// Bytes per read and buffer limit (default 64 KiB).
    pub high_water_mark: usize,
    /// `autoClose` (default true): destroyed, and the file closed, after `end`.
    pub auto_close: bool,
}

impl Default for ReadStreamOptions {
    fn default() -> Self {
        ReadStreamOptions { start: None, end: None, high_water_mark: 64 * 1024, auto_close: true }
    }
}

/// Options of `createWriteStream`.
#[derive(Clone, Debug)]
pub struct WriteStreamOptions {
    /// Node's open flags (default `"w"`).
    pub flags: String,
    /// Permission bits for a new file (default 0o666).
    pub mode: u32,
    /// Position of the first write (default: the file's position, or its end with `"a"`).
    pub start: Option<u64>,
    /// The buffer limit (default 16 KiB).
    pub high_water_mark: usize,
    /// `autoClose` (default true): destroyed, and the file closed, after `finish`.
    pub auto_close: bool,
}

impl Default for WriteStreamOptions {
    fn default() -> Self {
        WriteStreamOptions { flags: "w".into(), mode: 0o666, start: None, high_water_mark: 16 * 1024, auto_close: true }
    }
}

fn ext(path: &Path, flags: &str, mode: u32, pos: Option<u64>, end: u64) -> FileExt {
    FileExt {
        path: path.to_path_buf(),
        flags: flags.to_owned(),
        mode,
        file: RefCell::new(None),
        pos: Cell::new(pos),
        end,
        bytes: Cell::new(0),
        io_pending: Cell::new(false),
        pending_close: RefCell::new(None),
    }
}

/// `fs.createReadStream(path)`.
pub fn create_read_stream(path: impl AsRef<Path>) -> ReadStream {
    create_read_stream_with(path, ReadStreamOptions::default())
}

/// `fs.createReadStream(path, { start, end, highWaterMark, autoClose })`.
pub fn create_read_stream_with(path: impl AsRef<Path>, opts: ReadStreamOptions) -> ReadStream {
    read_stream(path.as_ref(), None, opts)
}

/// `fs.createReadStream(null, { fd, … })`: a read stream over a descriptor this process
/// already has, which it now owns. Without `start` it reads from the descriptor's own
/// position, so it also reads what is not seekable (`/dev/null`, a character device).
///
/// ```
/// use millrace_streams::fs::{create_read_stream_from_fd, ReadStreamOptions};
///
/// let lp = millrace_reactor::Loop::new()?;
/// let path = std::env::temp_dir().join(format!("millrace-doc-fd-{}", std::process::id()));
/// std::fs::write(&path, "from a descriptor")?;
/// let fd = std::fs::File::open(&path)?.into();
/// let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// lp.enter(|| {
///     let s = create_read_stream_from_fd(fd, ReadStreamOptions::default());
///     let g = got.clone();
///     s.on_data(move |_, chunk| g.borrow_mut().extend_from_slice(&chunk));
/// });
/// lp.run(millrace_reactor::RunMode::Default);
/// std::fs::remove_file(&path)?;
/// assert_eq!(&got.borrow()[..], b"from a descriptor");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_read_stream_from_fd(fd: OwnedFd, opts: ReadStreamOptions) -> ReadStream {
    read_stream(Path::new(""), Some(File::from(fd)), opts)
}

fn read_stream(path: &Path, file: Option<File>, opts: ReadStreamOptions) -> ReadStream {
    let opened = file.is_some();
    let e = ext(path, "r", 0o666, opts.start, opts.end.unwrap_or(u64::MAX));
    *e.file.borrow_mut() = file;
    let mut b: Builder<Bytes, Absent, FileExt> = Builder::with_ext(true, false, e).options(Options {
        high_water_mark: Some(opts.high_water_mark),
        auto_destroy: opts.auto_close,
        ..Options::default()
    });
    if !opened {
        b.hooks.construct = Some(Box::new(|s: &ReadStream, cb| open_file(s, cb)));
    }
    b.hooks.read = Some(Box::new(|s: &ReadStream, n| read_file(s, n)));
    b.hooks.destroy = Some(Box::new(|s: &ReadStream, err, cb| destroy_file(s, err, cb)));
    b.build()
}

/// `fs.createWriteStream(path)`.
pub fn create_write_stream(path: impl AsRef<Path>) -> WriteStream {
    create_write_stream_with(path, WriteStreamOptions::default())
}

/// `fs.createWriteStream(path, { flags, mode, start, highWaterMark, autoClose })`.
pub fn create_write_stream_with(path: impl AsRef<Path>, opts: WriteStreamOptions) -> WriteStream {
    write_stream(path.as_ref(), None, opts)
}

/// `fs.createWriteStream(null, { fd, … })`: a write stream over a descriptor this
/// process already has, which it now owns (`flags` and `mode` do not apply).
pub fn create_write_stream_from_fd(fd: OwnedFd, opts: WriteStreamOptions) -> WriteStream {
    write_stream(Path::new(""), Some(File::from(fd)), opts)
}

fn write_stream(path: &Path, file: Option<File>, opts: WriteStreamOptions) -> WriteStream {
    let opened = file.is_some();
    let e = ext(path, &opts.flags, opts.mode, opts.start, u64::MAX);
    *e.file.borrow_mut() = file;
    let mut b: Builder<Absent, Bytes, FileExt> = Builder::with_ext(false, true, e).options(Options {
        high_water_mark: Some(opts.high_water_mark),
        auto_destroy: opts.auto_close,
        ..Options::default()
    });
    if !opened {
        b.hooks.construct = Some(Box::new(|s: &WriteStream, cb| open_file(s, cb)));
    }
    b.hooks.write = Some(Box::new(|s: &WriteStream, chunk, cb| write_file(s, vec![chunk], cb)));
    b.hooks.writev = Some(Box::new(|s: &WriteStream, chunks, cb| write_file(s, chunks, cb)));
    b.hooks.destroy = Some(Box::new(|s: &WriteStream, err, cb| destroy_file(s, err, cb)));
    b.build()
}

impl<R: crate::Side, W: crate::Side> Stream<R, W, FileExt> {
    /// `'open'`: the file is open.
    pub fn on_open(&self, f: impl Fn(&Self) + 'static) -> ListenerId {
        self.add_plain(Event::Open, false, false, f)
    }

    /// `'ready'`: right after `open`.
    pub fn on_ready(&self, f: impl Fn(&Self) + 'static) -> ListenerId {
        self.add_plain(Event::Ready, false, false, f)
    }

    /// `path` (empty for a stream made from a descriptor).
    pub fn path(&self) -> &Path {
        &self.ext().path
    }

    /// `bytesRead` (read streams) or `bytesWritten` (write streams).
    pub fn bytes(&self) -> u64 {
        self.ext().bytes.get()
    }

    /// `pending`: no file is open (not yet, or not any more: Node's `fd === null`).
    pub fn pending(&self) -> bool {
        self.ext().file.borrow().is_none()
    }

    /// `fd`: the descriptor, while the file is open.
    pub fn fd(&self) -> Option<RawFd> {
        self.ext().file.borrow().as_ref().and_then(File::fd)
    }
}

/// `_construct`: open the file.
fn open_file<R: crate::Side, W: crate::Side>(s: &Stream<R, W, FileExt>, cb: crate::ConstructCallback<R, W, FileExt>) {
    let e = s.ext();
    let me = s.clone();
    rfs::open(s.get_loop(), e.path.clone(), e.flags.as_str(), e.mode, move |r| match r {
        Ok(file) => {
            *me.ext().file.borrow_mut() = Some(file);
            cb.call(Ok(()));
            me.emit_plain(Event::Open);
            me.emit_plain(Event::Ready);
        }
        Err(err) => cb.call(Err(Error::sys(err, "open"))),
    });
}

/// `_read(n)`.
fn read_file(s: &ReadStream, n: usize) {
    let e = s.ext();
    // Node: end - pos + 1 bytes are left (end is inclusive).
    let limit = e.end.saturating_add(1).saturating_sub(e.pos.get().unwrap_or(e.bytes.get()));
    let n = (n as u64).min(limit) as usize;
    if n == 0 {
        s.push(None);
        return;
    }
    let Some(file) = e.file.borrow().clone() else { return };
    e.io_pending.set(true);
    let me = s.clone();
    rfs::read(s.get_loop(), &file, n, e.pos.get(), move |r| {
        let e = me.ext();
        e.io_pending.set(false);
        if me.destroyed() {
            io_done(&me);
            return;
        }
        match r {
            Err(err) => crate::destroy::error_or_destroy(&me, Error::sys(err, "read"), false),
            Ok(buf) if buf.is_empty() => {
                me.push(None);
            }
            Ok(buf) => {
                if let Some(pos) = e.pos.get() {
                    e.pos.set(Some(pos + buf.len() as u64));
                }
                e.bytes.set(e.bytes.get() + buf.len() as u64);
                me.push(buf);
            }
        }
    });
}

/// `_write` / `_writev`.
fn write_file(s: &WriteStream, chunks: Vec<Bytes>, cb: crate::WriteCallback<Absent, Bytes, FileExt>) {
    let e = s.ext();
    let Some(file) = e.file.borrow().clone() else {
        cb.call(Err(Error::node(crate::Code::ERR_STREAM_DESTROYED, "write")));
        return;
    };
    let len: u64 = chunks.iter().map(|c| c.len() as u64).sum();
    let pos = e.pos.get();
    if let Some(p) = pos {
        e.pos.set(Some(p + len));
    }
    e.io_pending.set(true);
    let me = s.clone();
    rfs::write(s.get_loop(), &file, chunks, pos, move |r| {
        let e = me.ext();
        e.io_pending.set(false);
        if me.destroyed() {
            io_done(&me);
        }
        match r {
            Ok(n) => {
                e.bytes.set(e.bytes.get() + n as u64);
                cb.call(Ok(()));
            }
            Err(err) => cb.call(Err(Error::sys(err, "write"))),
        }
    });
}

fn io_done<R: crate::Side, W: crate::Side>(s: &Stream<R, W, FileExt>) {
    let pending = s.ext().pending_close.borrow_mut().take();
    if let Some(close) = pending {
        close();
    }
}

/// `_destroy`: close the file (after the I/O in flight, if any).
fn destroy_file<R: crate::Side, W: crate::Side>(
    s: &Stream<R, W, FileExt>,
    err: Option<Error>,
    cb: DestroyCallback<R, W, FileExt>,
) {
    let me = s.clone();
    let close = move || {
        let file = me.ext().file.borrow_mut().take();
        match file {
            Some(file) => {
                rfs::close(me.get_loop(), &file, move |r| {
                    cb.call(err.or(r.err().map(|e| Error::sys(e, "close"))));
                });
            }
            None => cb.call(err),
        }
    };
    if s.ext().io_pending.get() {
        *s.ext().pending_close.borrow_mut() = Some(Box::new(close));
    } else {
        close();
    }
}

/// Node's `SyncWriteStream`: a Writable whose `_write` writes the whole chunk to its
/// descriptor before it returns, so every write completes at once (`process.stdout`
/// and `stderr` over a file or `/dev/null`). It has no `_writev`: a corked batch is
/// written chunk by chunk.
pub type SyncWriteStream = Stream<Absent, Bytes, SyncWriteExt>;

/// The descriptor half of a [`SyncWriteStream`].
pub struct SyncWriteExt {
    /// Closed (taken) by a destroy with `auto_close`.
    file: RefCell<Option<std::fs::File>>,
    fd: RawFd,
    /// Node's `fd !== null`: false once destroyed.
    open: Cell<bool>,
    auto_close: bool,
    /// `process.stdout`'s `_destroy`: never close, stay usable (see `crate::stdio`).
    pub(crate) keep_open: Cell<bool>,
}

/// `new SyncWriteStream(fd, { autoClose })`. `auto_close` (Node's default true): destroy
/// closes the descriptor; without it the descriptor stays open as long as the stream
/// lives (Node leaves it to whoever opened it).
///
/// ```
/// use bytes::Bytes;
/// use millrace_streams::fs::sync_write_stream;
///
/// let lp = millrace_reactor::Loop::new()?;
/// let (r, w) = millrace_reactor::pipe(false, false)?;
/// lp.enter(|| {
///     let out = sync_write_stream(w, true);
///     out.write(Bytes::from_static(b"written before write() returns"));
///     assert_eq!(out.writable_length(), 0);
///     out.end();
/// });
/// lp.run(millrace_reactor::RunMode::Default);
/// let mut got = String::new();
/// std::io::Read::read_to_string(&mut std::fs::File::from(r), &mut got)?;
/// assert_eq!(got, "written before write() returns");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sync_write_stream(fd: OwnedFd, auto_close: bool) -> SyncWriteStream {
    use std::os::fd::AsRawFd;
    let ext = SyncWriteExt {
        fd: fd.as_raw_fd(),
        file: RefCell::new(Some(std::fs::File::from(fd))),
        open: Cell::new(true),
        auto_close,
        keep_open: Cell::new(false),
    };
    let mut b: Builder<Absent, Bytes, SyncWriteExt> = Builder::with_ext(false, true, ext);
    b.hooks.write = Some(Box::new(|s: &SyncWriteStream, chunk, cb| {
        use std::io::Write;
        let e = s.ext();
        let written = match e.file.borrow().as_ref() {
            Some(mut file) if e.open.get() => file.write_all(&chunk).map_err(millrace_reactor::Error::from),
            _ => Err(millrace_reactor::Error::EBADF),
        };
        cb.call(written.map_err(|err| Error::sys(err, "write")));
    }));
    b.hooks.destroy = Some(Box::new(|s: &SyncWriteStream, err, cb| {
        let e = s.ext();
        if e.keep_open.get() {
            return crate::destroy::dummy_destroy(s, err, cb);
        }
        if e.open.replace(false) && e.auto_close {
            drop(e.file.borrow_mut().take()); // closeSync(fd)
        }
        cb.call(err);
    }));
    b.build()
}

impl SyncWriteStream {
    /// `fd`: the descriptor, until the stream is destroyed (Node's `fd = null`).
    pub fn fd(&self) -> Option<RawFd> {
        self.ext().open.get().then_some(self.ext().fd)
    }

    /// `autoClose`.
    pub fn auto_close(&self) -> bool {
        self.ext().auto_close
    }
}
