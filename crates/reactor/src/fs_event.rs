//! File system event handles (libuv's `uv_fs_event_t`, `src/unix/linux.c`): inotify.
//!
//! As in libuv, a loop opens one inotify descriptor, the first time a handle starts, and
//! polls it like any other. Every handle watching the same file shares one watch
//! descriptor; the watch is removed when the last of them stops. Each inotify event is
//! reported to every handle on its watch, in the order they started, as libuv reports
//! it: `CHANGE` for a change of contents or attributes (`IN_MODIFY`, `IN_ATTRIB`),
//! `RENAME` for anything else (a file created, deleted or moved in a watched directory,
//! the watched file itself deleted or moved, and the kernel's `IN_IGNORED` after that),
//! with the name of the entry concerned, or, when the watched path is a file, its own
//! base name. Watching is not recursive (libuv ignores `UV_FS_EVENT_RECURSIVE` on Linux
//! too).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::ops::BitOr;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use mio::unix::SourceFd;
use mio::Interest;

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::{IoEntry, Loop};

/// What happened to a watched path (`uv_fs_event`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FsEvents(u32);

impl FsEvents {
    /// `UV_RENAME`: an entry appeared, went away or was moved.
    pub const RENAME: FsEvents = FsEvents(1);
    /// `UV_CHANGE`: contents or attributes changed.
    pub const CHANGE: FsEvents = FsEvents(2);

    /// The bits, as libuv's `events` argument.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// True if every event of `other` is in `self`.
    pub fn contains(self, other: FsEvents) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for FsEvents {
    type Output = FsEvents;
    fn bitor(self, rhs: FsEvents) -> FsEvents {
        FsEvents(self.0 | rhs.0)
    }
}

impl fmt::Debug for FsEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [(FsEvents::RENAME, "RENAME"), (FsEvents::CHANGE, "CHANGE")]
            .iter()
            .filter(|(e, _)| self.contains(*e))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "FsEvents({})", names.join(" | "))
    }
}

type FsEventCb = dyn FnMut(&FsEvent, Option<&OsStr>, FsEvents, Result<()>);

pub(crate) struct FsEventInner {
    core: HandleCore,
    wd: Cell<i32>,
    path: RefCell<Option<PathBuf>>,
    cb: CallbackSlot<FsEventCb>,
}

/// A file system event handle (`uv_fs_event_t`).
///
/// ```
/// use millrace_reactor::{FsEvent, FsEvents, Handle, Loop, RunMode};
///
/// let dir = std::env::temp_dir().join(format!("millrace-fs-event-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let lp = Loop::new()?;
/// let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// let s = seen.clone();
/// let watcher = FsEvent::new(&lp);
/// watcher.start(&dir, move |w, name, events, status| {
///     status.unwrap();
///     s.borrow_mut().push((name.unwrap().to_owned(), events.contains(FsEvents::RENAME)));
///     w.close(|_| {});
/// })?;
/// std::fs::write(dir.join("new"), b"x")?;
/// lp.run(RunMode::Default);
/// assert_eq!(seen.borrow()[0], ("new".into(), true));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FsEvent(Rc<FsEventInner>);

/// The handles on one watch descriptor (libuv's `watcher_list`).
struct WatchList {
    path: PathBuf,
    handles: Vec<Rc<FsEventInner>>,
    iterating: bool,
}

/// A loop's inotify descriptor and its watches.
pub(crate) struct Inotify {
    file: std::fs::File,
    watches: HashMap<i32, WatchList>,
}

const WATCHED: u32 = libc::IN_ATTRIB
    | libc::IN_CREATE
    | libc::IN_MODIFY
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO;

impl FsEvent {
    /// `uv_fs_event_init`.
    pub fn new(lp: &Loop) -> FsEvent {
        FsEvent(Rc::new(FsEventInner {
            core: HandleCore::new(lp),
            wd: Cell::new(-1),
            path: RefCell::new(None),
            cb: CallbackSlot::empty(),
        }))
    }

    /// `uv_fs_event_start`: watches `path`, a file or a directory (its entries, not
    /// their subdirectories), and calls `cb(handle, name, events, status)` for each
    /// event (poll phase). `EINVAL` if the handle is active already; `ENOENT`,
    /// `EACCES`, `ENOSPC` (the user's inotify watch limit) from `inotify_add_watch`.
    pub fn start(
        &self,
        path: impl AsRef<Path>,
        cb: impl FnMut(&FsEvent, Option<&OsStr>, FsEvents, Result<()>) + 'static,
    ) -> Result<()> {
        let h = &self.0;
        if h.core.is_active() || h.core.is_closing() {
            return Err(Error::EINVAL);
        }
        let lp = h.core.lp.clone();
        init_inotify(&lp)?;
        let path = path.as_ref().to_path_buf();
        let mut slot = lp.inner().inotify.borrow_mut();
        let ino = slot.as_mut().expect("initialised");
        let wd = crate::sys::inotify_add_watch(ino.file.as_fd(), &path, WATCHED)?;
        let list = ino.watches.entry(wd).or_insert_with(|| WatchList { path, handles: Vec::new(), iterating: false });
        list.handles.push(h.clone());
        *h.path.borrow_mut() = Some(list.path.clone());
        drop(slot);
        h.wd.set(wd);
        h.cb.set(Box::new(cb));
        h.core.start();
        Ok(())
    }

    /// `uv_fs_event_stop`: no more events; the watch goes when no handle uses it.
    pub fn stop(&self) {
        let h = &self.0;
        if !h.core.is_active() {
            return;
        }
        let wd = h.wd.replace(-1);
        *h.path.borrow_mut() = None;
        h.core.stop();
        let lp = h.core.lp.clone();
        let mut slot = lp.inner().inotify.borrow_mut();
        if let Some(ino) = slot.as_mut() {
            if let Some(list) = ino.watches.get_mut(&wd) {
                list.handles.retain(|x| !Rc::ptr_eq(x, h));
            }
            maybe_free(ino, wd);
        }
    }

    /// `uv_fs_event_getpath`: the path given to `start`; `EINVAL` while not started.
    pub fn path(&self) -> Result<PathBuf> {
        self.0.path.borrow().clone().ok_or(Error::EINVAL)
    }
}

fn init_inotify(lp: &Loop) -> Result<()> {
    if lp.inner().inotify.borrow().is_some() {
        return Ok(());
    }
    let fd = crate::sys::inotify_init()?;
    lp.io_register(&mut SourceFd(&fd.as_raw_fd()), IoEntry::Inotify, Interest::READABLE)?;
    *lp.inner().inotify.borrow_mut() = Some(Inotify { file: std::fs::File::from(fd), watches: HashMap::new() });
    Ok(())
}

/// `maybe_free_watcher_list`: a watch nobody uses any more is removed.
fn maybe_free(ino: &mut Inotify, wd: i32) {
    let Some(list) = ino.watches.get(&wd) else { return };
    if !list.iterating && list.handles.is_empty() {
        ino.watches.remove(&wd);
        let _ = crate::sys::inotify_rm_watch(ino.file.as_fd(), wd);
    }
}

/// One event as the kernel wrote it.
struct Raw {
    wd: i32,
    mask: u32,
    name: Option<OsString>,
}

/// Splits what one `read` returned into events (`struct inotify_event`: wd, mask,
/// cookie, len, then `len` bytes of NUL-padded name).
fn parse(buf: &[u8]) -> Vec<Raw> {
    const HEAD: usize = 16;
    let mut out = Vec::new();
    let mut p = 0;
    while p + HEAD <= buf.len() {
        let word = |i: usize| u32::from_ne_bytes(buf[p + i..p + i + 4].try_into().expect("4 bytes"));
        let (wd, mask, len) = (word(0) as i32, word(4), word(12) as usize);
        let end = (p + HEAD + len).min(buf.len());
        let raw_name = &buf[p + HEAD..end];
        let name =
            raw_name.split(|&b| b == 0).next().filter(|n| !n.is_empty()).map(|n| OsStr::from_bytes(n).to_owned());
        out.push(Raw { wd, mask, name });
        p = end;
    }
    out
}

/// `uv__inotify_read`: reads every pending event and calls the handles of its watch.
pub(crate) fn dispatch(lp: &Loop) {
    loop {
        let mut buf = [0u8; 4096];
        let n = {
            let slot = lp.inner().inotify.borrow();
            let Some(ino) = slot.as_ref() else { return };
            match (&ino.file).read(&mut buf) {
                Ok(n) if n > 0 => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                _ => return, // EAGAIN: nothing more
            }
        };
        for ev in parse(&buf[..n]) {
            let mut events = FsEvents::default();
            if ev.mask & (libc::IN_ATTRIB | libc::IN_MODIFY) != 0 {
                events = events | FsEvents::CHANGE;
            }
            if ev.mask & !(libc::IN_ATTRIB | libc::IN_MODIFY) != 0 {
                events = events | FsEvents::RENAME;
            }
            let (handles, name) = {
                let mut slot = lp.inner().inotify.borrow_mut();
                let Some(list) = slot.as_mut().and_then(|i| i.watches.get_mut(&ev.wd)) else { continue };
                list.iterating = true;
                // A watched file's events carry no name: libuv gives its base name.
                let name = ev.name.clone().or_else(|| Some(basename(&list.path)));
                (list.handles.clone(), name)
            };
            for h in handles {
                // Stopped (or moved to another watch) by an earlier callback: skip it.
                if !h.core.is_active() || h.wd.get() != ev.wd {
                    continue;
                }
                let handle = FsEvent(h);
                if let Some(mut cb) = handle.0.cb.take() {
                    cb(&handle, name.as_deref(), events, Ok(()));
                    let keep = !handle.0.core.is_closing();
                    handle.0.cb.restore(cb, keep);
                }
                lp.run_next_ticks();
            }
            let mut slot = lp.inner().inotify.borrow_mut();
            if let Some(ino) = slot.as_mut() {
                if let Some(list) = ino.watches.get_mut(&ev.wd) {
                    list.iterating = false;
                }
                maybe_free(ino, ev.wd);
            }
        }
    }
}

/// `uv__basename_r`: what follows the last `/` (empty for "dir/"), or the whole path
/// if it has none.
fn basename(path: &Path) -> OsString {
    let b = path.as_os_str().as_bytes();
    let start = b.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    OsStr::from_bytes(&b[start..]).to_owned()
}

impl HandleImpl for FsEvent {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    fn close_now(&self) {
        self.stop();
    }

    fn drop_callbacks(&self) {
        self.0.cb.clear();
    }
}

impl fmt::Debug for FsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FsEvent")
            .field("path", &self.0.path.borrow())
            .field("active", &self.0.core.is_active())
            .finish()
    }
}
