//! File system poll handles (libuv's `uv_fs_poll_t`, `src/fs-poll.c`): a path's `stat`,
//! taken on the thread pool every `interval` ms and compared with the last one.
//!
//! The first `stat` only records. After it, the callback gets `(previous, current)`
//! whenever the status changed (change time, modification time, birth time, size,
//! mode, owner, group, inode or device), or an error when the `stat` starts failing
//! (once per error: a path that stays missing reports `ENOENT` once, with an all-zero
//! current status), and again when it succeeds after failing. The next `stat` is
//! scheduled `interval` ms after the last one began (less the time it took), by an
//! internal, unreferenced timer: only the poll handle keeps the loop alive.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use crate::error::{Error, Result};
use crate::fs::Stat;
use crate::handle::{sealed::HandleImpl, CallbackSlot, Handle, HandleCore};
use crate::loop_::Loop;
use crate::timer::Timer;

type FsPollCb = dyn FnMut(&FsPoll, Result<()>, &Stat, &Stat);

pub(crate) struct FsPollInner {
    core: HandleCore,
    ctx: RefCell<Option<Rc<PollCtx>>>,
    cb: CallbackSlot<FsPollCb>,
}

/// One `start` (libuv's `poll_ctx`): it lives until its `stat` in flight comes back
/// after a `stop`.
struct PollCtx {
    path: PathBuf,
    interval: u64,
    start_time: Cell<u64>,
    /// libuv's `busy_polling`: 0 before the first `stat`, 1 after a good one, the
    /// negated errno after a failed one.
    busy: Cell<i32>,
    statbuf: Cell<Stat>,
    timer: Timer,
    stopped: Cell<bool>,
}

/// A file system poll handle (`uv_fs_poll_t`).
///
/// ```
/// use millrace_reactor::{FsPoll, Handle, Loop, RunMode};
///
/// let path = std::env::temp_dir().join(format!("millrace-fs-poll-doc-{}", std::process::id()));
/// std::fs::write(&path, b"one")?;
/// let lp = Loop::new()?;
/// let sizes = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// let s = sizes.clone();
/// let poll = FsPoll::new(&lp);
/// poll.start(&path, 10, move |p, status, prev, curr| {
///     status.unwrap();
///     s.borrow_mut().push((prev.size, curr.size));
///     p.close(|_| {});
/// })?;
/// let p = path.clone();
/// lp.set_timeout(50, move || std::fs::write(&p, b"three").unwrap());
/// lp.run(RunMode::Default);
/// assert_eq!(*sizes.borrow(), [(3, 5)]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FsPoll(Rc<FsPollInner>);

impl FsPoll {
    /// `uv_fs_poll_init`.
    pub fn new(lp: &Loop) -> FsPoll {
        FsPoll(Rc::new(FsPollInner { core: HandleCore::new(lp), ctx: RefCell::new(None), cb: CallbackSlot::empty() }))
    }

    /// `uv_fs_poll_start`: `stat`s `path` now and every `interval` ms (0 counts as 1)
    /// and calls `cb(handle, status, previous, current)` on a change (see the module
    /// docs). Starting an active handle does nothing, as in libuv.
    pub fn start(
        &self,
        path: impl AsRef<Path>,
        interval: u64,
        cb: impl FnMut(&FsPoll, Result<()>, &Stat, &Stat) + 'static,
    ) -> Result<()> {
        let h = &self.0;
        if h.core.is_active() {
            return Ok(());
        }
        if h.core.is_closing() {
            return Err(Error::EINVAL);
        }
        let lp = h.core.lp.clone();
        let timer = Timer::new(&lp);
        timer.core().mark_internal();
        timer.unref();
        let ctx = Rc::new(PollCtx {
            path: path.as_ref().to_path_buf(),
            interval: interval.max(1),
            start_time: Cell::new(lp.now()),
            busy: Cell::new(0),
            statbuf: Cell::new(Stat::zeroed()),
            timer,
            stopped: Cell::new(false),
        });
        *h.ctx.borrow_mut() = Some(ctx.clone());
        h.cb.set(Box::new(cb));
        h.core.start();
        stat(h.clone(), ctx);
        Ok(())
    }

    /// `uv_fs_poll_stop`: no more callbacks; a `stat` in flight is dropped when it
    /// comes back.
    pub fn stop(&self) {
        let h = &self.0;
        if !h.core.is_active() {
            return;
        }
        if let Some(ctx) = h.ctx.borrow_mut().take() {
            ctx.stopped.set(true);
            // Inactive: a `stat` is in flight, and its completion closes the timer.
            if ctx.timer.is_active() {
                ctx.timer.close(|_| {});
            }
        }
        h.core.stop();
    }

    /// `uv_fs_poll_getpath`: the path polled; `EINVAL` while not started.
    pub fn path(&self) -> Result<PathBuf> {
        match (self.0.core.is_active(), self.0.ctx.borrow().as_ref()) {
            (true, Some(ctx)) => Ok(ctx.path.clone()),
            _ => Err(Error::EINVAL),
        }
    }
}

fn stat(h: Rc<FsPollInner>, ctx: Rc<PollCtx>) {
    let lp = h.core.lp.clone();
    let path = ctx.path.clone();
    crate::fs::stat(&lp, path, move |r| poll_cb(h, ctx, r));
}

/// `poll_cb`: compare, report, schedule the next `stat`.
fn poll_cb(h: Rc<FsPollInner>, ctx: Rc<PollCtx>, r: Result<Stat>) {
    let live = |h: &FsPollInner| h.core.is_active() && !h.core.is_closing() && !ctx.stopped.get();
    if live(&h) {
        let report = match r {
            Err(e) => {
                let busy = -e.errno();
                let report = (ctx.busy.get() != busy).then_some((Err(e), ctx.statbuf.get(), Stat::zeroed()));
                ctx.busy.set(busy);
                report
            }
            Ok(st) => {
                let busy = ctx.busy.get();
                let prev = ctx.statbuf.get();
                let report = (busy != 0 && (busy < 0 || !same(&prev, &st))).then_some((Ok(()), prev, st));
                ctx.statbuf.set(st);
                ctx.busy.set(1);
                report
            }
        };
        if let Some((status, prev, curr)) = report {
            let handle = FsPoll(h.clone());
            if let Some(mut cb) = h.cb.take() {
                cb(&handle, status, &prev, &curr);
                let keep = !h.core.is_closing();
                h.cb.restore(cb, keep);
            }
            h.core.lp.run_next_ticks();
        }
    }
    if !live(&h) {
        ctx.timer.close(|_| {});
        return;
    }
    let lp = h.core.lp.clone();
    let elapsed = lp.now().saturating_sub(ctx.start_time.get());
    let wait = ctx.interval - elapsed % ctx.interval;
    let c = ctx.clone();
    let _ = ctx.timer.start(wait, 0, move |t| {
        c.start_time.set(t.get_loop().now());
        stat(h.clone(), c.clone());
    });
}

/// libuv's `statbuf_eq` (without the BSD-only flags and generation).
fn same(a: &Stat, b: &Stat) -> bool {
    a.ctime == b.ctime
        && a.mtime == b.mtime
        && a.birthtime == b.birthtime
        && a.size == b.size
        && a.mode == b.mode
        && a.uid == b.uid
        && a.gid == b.gid
        && a.ino == b.ino
        && a.dev == b.dev
}

impl Stat {
    /// libuv's `zero_statbuf`: every field 0, every time the epoch.
    pub fn zeroed() -> Stat {
        Stat {
            dev: 0,
            ino: 0,
            mode: 0,
            nlink: 0,
            uid: 0,
            gid: 0,
            size: 0,
            blksize: 0,
            blocks: 0,
            rdev: 0,
            atime: UNIX_EPOCH,
            mtime: UNIX_EPOCH,
            ctime: UNIX_EPOCH,
            birthtime: UNIX_EPOCH,
        }
    }
}

impl HandleImpl for FsPoll {
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

impl fmt::Debug for FsPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.0.ctx.borrow().as_ref().map(|c| c.path.clone());
        f.debug_struct("FsPoll").field("path", &path).field("active", &self.0.core.is_active()).finish()
    }
}
