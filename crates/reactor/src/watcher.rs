//! Idle, prepare and check watchers: one generic handle (libuv's `loop-watcher.c`).
//!
//! Each kind runs in its own phase of the iteration: idle and prepare just before the
//! poll, check just after it. An active idle watcher makes the poll not block. Within a
//! phase the most recently started watcher runs first (libuv inserts at the head); a
//! watcher started during its own phase waits for the next iteration, and one stopped
//! during the phase is skipped.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::Loop;

/// Which phase a watcher runs in.
pub trait WatcherKind: 'static {
    /// Index of the phase's list in the loop.
    #[doc(hidden)]
    const PHASE: usize;
    /// The libuv name, for `Debug`.
    #[doc(hidden)]
    const NAME: &'static str;
}

/// Runs before the poll and keeps it from blocking (`uv_idle_t`).
#[derive(Debug)]
pub enum IdleKind {}
/// Runs right before the poll (`uv_prepare_t`).
#[derive(Debug)]
pub enum PrepareKind {}
/// Runs right after the poll (`uv_check_t`).
#[derive(Debug)]
pub enum CheckKind {}

impl WatcherKind for IdleKind {
    const PHASE: usize = 0;
    const NAME: &'static str = "Idle";
}
impl WatcherKind for PrepareKind {
    const PHASE: usize = 1;
    const NAME: &'static str = "Prepare";
}
impl WatcherKind for CheckKind {
    const PHASE: usize = 2;
    const NAME: &'static str = "Check";
}

type WatcherCb = dyn FnMut(&Rc<WatcherInner>);

pub(crate) struct WatcherInner {
    core: HandleCore,
    phase: usize,
    /// Bumped on every start, so a phase can tell a watcher restarted during it.
    epoch: Cell<u64>,
    cb: CallbackSlot<WatcherCb>,
}

/// A loop watcher of kind `K`; see [`Idle`], [`Prepare`], [`Check`].
pub struct Watcher<K: WatcherKind> {
    inner: Rc<WatcherInner>,
    kind: PhantomData<K>,
}

/// `uv_idle_t`.
pub type Idle = Watcher<IdleKind>;
/// `uv_prepare_t`.
pub type Prepare = Watcher<PrepareKind>;
/// `uv_check_t`.
pub type Check = Watcher<CheckKind>;

impl<K: WatcherKind> Clone for Watcher<K> {
    fn clone(&self) -> Self {
        Watcher { inner: self.inner.clone(), kind: PhantomData }
    }
}

impl<K: WatcherKind> Watcher<K> {
    /// `uv_idle_init` / `uv_prepare_init` / `uv_check_init`.
    pub fn new(lp: &Loop) -> Self {
        Watcher {
            inner: Rc::new(WatcherInner {
                core: HandleCore::new(lp),
                phase: K::PHASE,
                epoch: Cell::new(0),
                cb: CallbackSlot::empty(),
            }),
            kind: PhantomData,
        }
    }

    /// Starts calling `cb` once per iteration in this watcher's phase. Starting an
    /// active watcher does nothing (libuv keeps the first callback). `EINVAL` if closing.
    pub fn start(&self, mut cb: impl FnMut(&Self) + 'static) -> Result<()> {
        let w = &self.inner;
        if w.core.is_closing() {
            return Err(Error::EINVAL);
        }
        if w.core.is_active() {
            return Ok(());
        }
        w.cb.set(Box::new(move |rc: &Rc<WatcherInner>| cb(&Watcher { inner: rc.clone(), kind: PhantomData })));
        w.epoch.set(w.epoch.get() + 1);
        w.core.lp.inner().watchers[w.phase].borrow_mut().push_front(w.clone());
        w.core.start();
        Ok(())
    }

    /// Stops the watcher; if its phase is running, it is skipped.
    pub fn stop(&self) {
        let w = &self.inner;
        if !w.core.is_active() {
            return;
        }
        w.core.lp.inner().watchers[w.phase].borrow_mut().retain(|o| !Rc::ptr_eq(o, w));
        w.core.stop();
    }
}

impl<K: WatcherKind> HandleImpl for Watcher<K> {
    fn core(&self) -> &HandleCore {
        &self.inner.core
    }

    fn close_now(&self) {
        self.stop();
    }

    fn drop_callbacks(&self) {
        self.inner.cb.clear();
    }
}

impl<K: WatcherKind> fmt::Debug for Watcher<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(K::NAME).field("active", &self.inner.core.is_active()).finish()
    }
}

/// `uv__run_idle` / `uv__run_prepare` / `uv__run_check`.
pub(crate) fn run_phase(lp: &Loop, phase: usize) {
    let list = &lp.inner().watchers[phase];
    let batch: VecDeque<(Rc<WatcherInner>, u64)> = {
        let mut l = list.borrow_mut();
        if l.is_empty() {
            return;
        }
        std::mem::take(&mut *l)
            .into_iter()
            .map(|w| {
                let e = w.epoch.get();
                (w, e)
            })
            .collect()
    };
    for (w, epoch) in batch {
        if !w.core.is_active() || w.epoch.get() != epoch {
            continue; // stopped, or restarted, during this phase
        }
        list.borrow_mut().push_back(w.clone());
        if let Some(mut cb) = w.cb.take() {
            cb(&w);
            let keep = !w.core.is_closing();
            w.cb.restore(cb, keep);
        }
        lp.run_next_ticks();
    }
}
