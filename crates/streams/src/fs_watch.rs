//! `fs.watch` and `fs.watchFile` (Node 20, `lib/internal/fs/watchers.js` and `lib/fs.js`)
//! on the reactor's `FsEvent` and `FsPoll`; documented with the `fs` module that
//! re-exports them.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use millrace_reactor::fs::Stat;
use millrace_reactor::{FsEvent, FsEvents, FsPoll, Handle, Loop};

use crate::errors::Error;
use crate::events::{Emitter, Event, Handler, ListenerId};

/// `fs.watch`'s options.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// `persistent` (true): false lets the loop end while watching.
    pub persistent: bool,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions { persistent: true }
    }
}

/// The `change` listeners of a watcher, in registration order: a list of their own, as
/// they take arguments the streams' `Listeners` has no slot for.
struct ChangeList<F: ?Sized>(RefCell<Vec<(u64, Rc<F>)>>);

impl<F: ?Sized> ChangeList<F> {
    fn new() -> Self {
        ChangeList(RefCell::new(Vec::new()))
    }

    fn add(&self, id: u64, f: Rc<F>) -> ListenerId {
        self.0.borrow_mut().push((id, f));
        ListenerId { event: Event::Data, id }
    }

    /// Removes listener `id`; false if it was not there.
    fn remove(&self, id: ListenerId) -> bool {
        let removed = {
            let mut v = self.0.borrow_mut();
            v.iter().position(|(i, _)| *i == id.id).map(|at| v.remove(at))
        };
        removed.is_some() // dropped outside the borrow
    }

    /// The listeners now, to call without a borrow held.
    fn snapshot(&self) -> Vec<Rc<F>> {
        self.0.borrow().iter().map(|(_, f)| f.clone()).collect()
    }

    fn clear(&self) {
        let old = std::mem::take(&mut *self.0.borrow_mut());
        drop(old);
    }

    fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

type ChangeFn = dyn Fn(&FsWatcher, &'static str, Option<&OsStr>);

struct WatcherInner {
    lp: Loop,
    handle: RefCell<Option<FsEvent>>,
    ev: Emitter<FsWatcher, ()>,
    change: ChangeList<ChangeFn>,
}

/// Node's `fs.FSWatcher`, made by [`watch`].
#[derive(Clone)]
pub struct FsWatcher(Rc<WatcherInner>);

/// `fs.watch(filename, options, listener)` on the current thread's loop: `listener`
/// (if any) is the first `change` listener.
///
/// ```
/// use millrace_streams::fs::{watch, WatchOptions};
///
/// let dir = std::env::temp_dir().join(format!("millrace-watch-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let lp = millrace_reactor::Loop::new()?;
/// let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     let s = seen.clone();
///     let w = watch(&dir, WatchOptions::default(), Some(move |w: &millrace_streams::fs::FsWatcher, kind: &str, name: Option<&std::ffi::OsStr>| {
///         s.borrow_mut().push((kind.to_owned(), name.unwrap().to_owned()));
///         w.close();
///     }))?;
///     std::fs::write(dir.join("a"), b"x").unwrap();
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// assert_eq!(seen.borrow()[0], ("rename".to_owned(), "a".into()));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn watch<F>(filename: impl AsRef<Path>, opts: WatchOptions, listener: Option<F>) -> Result<FsWatcher, Error>
where
    F: Fn(&FsWatcher, &'static str, Option<&OsStr>) + 'static,
{
    let lp = Loop::current();
    let path = filename.as_ref().to_path_buf();
    let handle = FsEvent::new(&lp);
    let w = FsWatcher(Rc::new(WatcherInner {
        lp: lp.clone(),
        handle: RefCell::new(Some(handle.clone())),
        ev: Emitter::default(),
        change: ChangeList::new(),
    }));
    // The handle holds its watcher (as Node's handle its owner) until it is closed.
    let me = w.clone();
    let started = handle.start(&path, move |_, name, events, status| {
        let w = me.clone();
        match status {
            Ok(()) => w.emit_change(if events.contains(FsEvents::RENAME) { "rename" } else { "change" }, name),
            Err(e) => {
                if let Some(h) = w.0.handle.borrow_mut().take() {
                    h.close(|_| {});
                }
                let name = name.map(Path::new).unwrap_or(Path::new(""));
                w.0.ev.emit_error(&w, &Error::uv_path(e, "watch", name));
            }
        }
    });
    if let Err(e) = started {
        handle.close(|_| {});
        return Err(Error::uv_path(e, "watch", path));
    }
    if !opts.persistent {
        handle.unref();
    }
    if let Some(f) = listener {
        w.on_change(f);
    }
    Ok(w)
}

impl FsWatcher {
    fn emit_change(&self, kind: &'static str, name: Option<&OsStr>) {
        for f in self.0.change.snapshot() {
            f(self, kind, name);
        }
    }

    /// `watcher.close()`: no more events; `close` on the next tick. Closing twice does
    /// nothing.
    pub fn close(&self) {
        let Some(h) = self.0.handle.borrow_mut().take() else { return };
        h.close(|_| {});
        let w = self.clone();
        self.0.lp.next_tick(move || {
            w.0.ev.emit_plain(Event::Close, &w);
            w.0.ev.clear();
            w.0.change.clear();
        });
    }

    /// `watcher.ref()`.
    pub fn ref_(&self) -> &Self {
        if let Some(h) = self.0.handle.borrow().as_ref() {
            h.ref_();
        }
        self
    }

    /// `watcher.unref()`: the loop may end while watching.
    pub fn unref(&self) -> &Self {
        if let Some(h) = self.0.handle.borrow().as_ref() {
            h.unref();
        }
        self
    }

    /// `'change'`: `(event_type, filename)`, the event type `"rename"` or `"change"`.
    pub fn on_change(&self, f: impl Fn(&FsWatcher, &'static str, Option<&OsStr>) + 'static) -> ListenerId {
        self.0.change.add(self.0.ev.next_id(), Rc::new(f))
    }

    /// `'error'`: the watch failed; the watcher is closed (no `close` event, as Node).
    pub fn on_error(&self, f: impl Fn(&FsWatcher, &Error) + 'static) -> ListenerId {
        self.0.ev.on(Event::Error, false, Handler::Error(Rc::new(f)))
    }

    /// `'close'`.
    pub fn on_close(&self, f: impl Fn(&FsWatcher) + 'static) -> ListenerId {
        self.0.ev.on(Event::Close, false, Handler::Plain(Rc::new(f)))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) -> bool {
        match id.event {
            Event::Data => self.0.change.remove(id),
            _ => self.0.ev.remove(id),
        }
    }
}

impl fmt::Debug for FsWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FsWatcher").field("handle", &self.0.handle.borrow()).finish()
    }
}

/// `fs.watchFile`'s options.
#[derive(Clone, Copy, Debug)]
pub struct WatchFileOptions {
    /// `persistent` (true).
    pub persistent: bool,
    /// `interval` in ms (5007).
    pub interval: u64,
}

impl Default for WatchFileOptions {
    fn default() -> Self {
        WatchFileOptions { persistent: true, interval: 5007 }
    }
}

type StatFn = dyn Fn(&StatWatcher, &Stat, &Stat);

struct StatInner {
    lp: Loop,
    path: PathBuf,
    handle: RefCell<Option<FsPoll>>,
    ev: Emitter<StatWatcher, ()>,
    change: ChangeList<StatFn>,
    /// Node's `KFSStatWatcherRefCount` and `KFSStatWatcherMaxRefCount`.
    refs: Cell<u32>,
    max_refs: Cell<u32>,
}

/// Node's `fs.StatWatcher`, made by [`watch_file`].
#[derive(Clone)]
pub struct StatWatcher(Rc<StatInner>);

thread_local! {
    /// Node's `statWatchers`: one watcher per resolved path.
    static STAT_WATCHERS: RefCell<HashMap<PathBuf, StatWatcher>> = RefCell::new(HashMap::new());
}

/// Node's `path.resolve` for a path on this machine (no symbolic link is followed).
fn resolve(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// `fs.watchFile(filename, options, listener)`: `listener(watcher, current, previous)`
/// on every change of `filename`'s status. A second call for the same path adds the
/// listener to the same watcher (its options are not applied again).
///
/// ```
/// use millrace_streams::fs::{unwatch_file, watch_file, WatchFileOptions};
///
/// let path = std::env::temp_dir().join(format!("millrace-watch-file-doc-{}", std::process::id()));
/// std::fs::write(&path, b"one")?;
/// let lp = millrace_reactor::Loop::new()?;
/// let sizes = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// lp.enter(|| {
///     let (s, p) = (sizes.clone(), path.clone());
///     watch_file(&path, WatchFileOptions { interval: 10, ..Default::default() }, move |_, curr, prev| {
///         s.borrow_mut().push((curr.size, prev.size));
///         unwatch_file(&p, None);
///     });
///     let p = path.clone();
///     millrace_reactor::Loop::current().set_timeout(50, move || std::fs::write(&p, b"three").unwrap());
/// });
/// lp.run(millrace_reactor::RunMode::Default);
/// assert_eq!(*sizes.borrow(), [(5, 3)]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn watch_file(
    filename: impl AsRef<Path>,
    opts: WatchFileOptions,
    listener: impl Fn(&StatWatcher, &Stat, &Stat) + 'static,
) -> StatWatcher {
    let path = resolve(filename.as_ref());
    let existing = STAT_WATCHERS.with(|m| m.borrow().get(&path).cloned());
    let w = match existing {
        Some(w) => {
            w.0.refs.set(w.0.refs.get() + 1);
            w.0.max_refs.set(w.0.max_refs.get() + 1);
            w
        }
        None => {
            let w = StatWatcher::start(path.clone(), opts);
            STAT_WATCHERS.with(|m| m.borrow_mut().insert(path, w.clone()));
            w
        }
    };
    w.on_change(listener);
    w
}

/// `fs.unwatchFile(filename, listener)`: removes that `change` listener (`None`: all of
/// them); the watcher stops once it has none.
pub fn unwatch_file(filename: impl AsRef<Path>, listener: Option<ListenerId>) {
    let path = resolve(filename.as_ref());
    let Some(w) = STAT_WATCHERS.with(|m| m.borrow().get(&path).cloned()) else { return };
    match listener {
        Some(id) => {
            if w.off(id) {
                w.0.max_refs.set(w.0.max_refs.get().saturating_sub(1));
                w.unref();
            }
        }
        None => {
            w.0.change.clear();
            w.0.max_refs.set(0);
            w.0.refs.set(0);
            if let Some(h) = w.0.handle.borrow().as_ref() {
                h.unref();
            }
        }
    }
    if w.0.change.is_empty() {
        w.stop();
        STAT_WATCHERS.with(|m| m.borrow_mut().remove(&path));
    }
}

impl StatWatcher {
    fn start(path: PathBuf, opts: WatchFileOptions) -> StatWatcher {
        let lp = Loop::current();
        let handle = FsPoll::new(&lp);
        let w = StatWatcher(Rc::new(StatInner {
            lp: lp.clone(),
            path: path.clone(),
            handle: RefCell::new(Some(handle.clone())),
            ev: Emitter::default(),
            change: ChangeList::new(),
            refs: Cell::new(1),
            max_refs: Cell::new(1),
        }));
        if !opts.persistent {
            w.unref();
        }
        let me = w.clone();
        // A poll cannot fail to start (errors come to the callback).
        let _ = handle.start(&path, opts.interval, move |_, _status, prev, curr| {
            let w = me.clone();
            for f in w.0.change.snapshot() {
                f(&w, curr, prev);
            }
        });
        w
    }

    /// `watcher.stop()`: no more polling; `stop` on the next tick.
    pub fn stop(&self) {
        let Some(h) = self.0.handle.borrow_mut().take() else { return };
        h.close(|_| {});
        let w = self.clone();
        self.0.lp.next_tick(move || {
            w.0.ev.emit_plain(Event::Close, &w);
        });
    }

    /// The resolved path watched.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// `watcher.ref()` (counted, as Node counts the `watchFile` calls that share it).
    pub fn ref_(&self) -> &Self {
        let i = &self.0;
        if i.refs.get() == i.max_refs.get() {
            return self;
        }
        i.refs.set(i.refs.get() + 1);
        if i.refs.get() == 1 {
            if let Some(h) = i.handle.borrow().as_ref() {
                h.ref_();
            }
        }
        self
    }

    /// `watcher.unref()`.
    pub fn unref(&self) -> &Self {
        let i = &self.0;
        if i.refs.get() == 0 {
            return self;
        }
        i.refs.set(i.refs.get() - 1);
        if i.refs.get() == 0 {
            if let Some(h) = i.handle.borrow().as_ref() {
                h.unref();
            }
        }
        self
    }

    /// `'change'`: `(current, previous)`.
    pub fn on_change(&self, f: impl Fn(&StatWatcher, &Stat, &Stat) + 'static) -> ListenerId {
        self.0.change.add(self.0.ev.next_id(), Rc::new(f))
    }

    /// `'stop'`.
    pub fn on_stop(&self, f: impl Fn(&StatWatcher) + 'static) -> ListenerId {
        self.0.ev.on(Event::Close, false, Handler::Plain(Rc::new(f)))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) -> bool {
        match id.event {
            Event::Data => self.0.change.remove(id),
            _ => self.0.ev.remove(id),
        }
    }
}

impl fmt::Debug for StatWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatWatcher").field("path", &self.0.path).finish()
    }
}
