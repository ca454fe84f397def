//! Timers (libuv's `uv_timer_t`, `src/timer.c`).
//!
//! Timers are ordered by `(due time, start order)`, so timers with equal deadlines fire
//! in the order they were started. When the timers phase runs it first collects every
//! due timer, then runs them one by one; a repeating timer is re-armed *before* its
//! callback, so the callback may stop or restart it. Deadlines that overflow clamp to
//! the end of time instead of wrapping.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::Loop;

type TimerCb = dyn FnMut(&Timer);

pub(crate) struct TimerInner {
    core: HandleCore,
    due: Cell<u64>,
    repeat: Cell<u64>,
    start_id: Cell<u64>,
    /// In the phase's batch of due timers, waiting for its callback.
    ready: Cell<bool>,
    /// A callback was given (it may be out of its slot while it runs).
    has_cb: Cell<bool>,
    cb: CallbackSlot<TimerCb>,
}

/// A timer handle (`uv_timer_t`).
///
/// ```
/// use millrace_reactor::{Handle, Loop, RunMode, Timer};
/// let lp = Loop::new()?;
/// let t = Timer::new(&lp);
/// t.start(10, 10, |t| {
///     if t.get_loop().now() >= 30 { t.stop(); }
/// })?;
/// lp.run(RunMode::Default);
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone)]
pub struct Timer(Rc<TimerInner>);

impl Timer {
    /// `uv_timer_init`.
    pub fn new(lp: &Loop) -> Timer {
        Timer(Rc::new(TimerInner {
            core: HandleCore::new(lp),
            due: Cell::new(0),
            repeat: Cell::new(0),
            start_id: Cell::new(0),
            ready: Cell::new(false),
            has_cb: Cell::new(false),
            cb: CallbackSlot::empty(),
        }))
    }

    /// `uv_timer_start`: calls `cb` after `timeout` ms, then every `repeat` ms if
    /// `repeat` is not 0. Restarting a started timer moves it. `EINVAL` if closing.
    pub fn start(&self, timeout: u64, repeat: u64, cb: impl FnMut(&Timer) + 'static) -> Result<()> {
        if self.0.core.is_closing() {
            return Err(Error::EINVAL);
        }
        self.0.cb.set(Box::new(cb));
        self.0.has_cb.set(true);
        self.arm(timeout, repeat);
        Ok(())
    }

    fn arm(&self, timeout: u64, repeat: u64) {
        self.stop();
        let lp = &self.0.core.lp;
        let inner = lp.inner();
        let due = lp.now().saturating_add(timeout);
        let id = inner.timer_counter.get();
        inner.timer_counter.set(id + 1);
        self.0.due.set(due);
        self.0.repeat.set(repeat);
        self.0.start_id.set(id);
        inner.timers.borrow_mut().insert((due, id), self.0.clone());
        self.0.core.start();
    }

    /// `uv_timer_stop`: also cancels a call already due in this timers phase.
    pub fn stop(&self) {
        let t = &self.0;
        if t.core.is_active() {
            let removed = t.core.lp.inner().timers.borrow_mut().remove(&(t.due.get(), t.start_id.get()));
            drop(removed);
            t.core.stop();
        }
        t.ready.set(false);
    }

    /// `uv_timer_again`: restarts a repeating timer with its repeat as the timeout;
    /// nothing for a non-repeating one. `EINVAL` if it was never started.
    pub fn again(&self) -> Result<()> {
        if !self.0.has_cb.get() {
            return Err(Error::EINVAL);
        }
        let repeat = self.0.repeat.get();
        if repeat != 0 {
            self.arm(repeat, repeat);
        }
        Ok(())
    }

    /// `uv_timer_set_repeat`: takes effect at the next expiry.
    pub fn set_repeat(&self, repeat: u64) {
        self.0.repeat.set(repeat);
    }

    /// `uv_timer_get_repeat`.
    pub fn repeat(&self) -> u64 {
        self.0.repeat.get()
    }

    /// `uv_timer_get_due_in`: ms from the loop's `now()` to the timer's deadline, 0
    /// once it has passed. As in libuv, a stopped timer keeps its last deadline.
    pub fn due_in(&self) -> u64 {
        self.0.due.get().saturating_sub(self.0.core.lp.now())
    }
}

impl HandleImpl for Timer {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    fn close_now(&self) {
        self.stop();
    }

    fn drop_callbacks(&self) {
        self.0.has_cb.set(false);
        self.0.cb.clear();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("active", &self.0.core.is_active())
            .field("due_in", &self.due_in())
            .field("repeat", &self.0.repeat.get())
            .finish()
    }
}

/// `uv__next_timeout`: -1 without timers, else ms until the first (capped at i32::MAX).
pub(crate) fn next_timeout(lp: &Loop) -> i32 {
    let timers = lp.inner().timers.borrow();
    match timers.keys().next() {
        None => -1,
        Some(&(due, _)) => due.saturating_sub(lp.now()).min(i32::MAX as u64) as i32,
    }
}

/// `uv__run_timers`.
pub(crate) fn run_timers(lp: &Loop) {
    let inner = lp.inner();
    let now = lp.now();
    loop {
        let first = {
            let timers = inner.timers.borrow();
            match timers.iter().next() {
                Some((&(due, _), t)) if due <= now => Some(t.clone()),
                _ => None,
            }
        };
        let Some(t) = first else { break };
        let timer = Timer(t);
        timer.stop();
        timer.0.ready.set(true);
        inner.timers_ready.borrow_mut().push_back(timer.0.clone());
    }
    loop {
        let next = inner.timers_ready.borrow_mut().pop_front();
        let Some(t) = next else { break };
        if !t.ready.get() {
            continue; // stopped or restarted by an earlier callback in this batch
        }
        t.ready.set(false);
        let timer = Timer(t);
        let _ = timer.again();
        if let Some(mut cb) = timer.0.cb.take() {
            cb(&timer);
            let keep = !timer.0.core.is_closing();
            timer.0.cb.restore(cb, keep);
        }
        lp.run_next_ticks();
    }
}
