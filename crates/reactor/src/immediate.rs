//! Node's `setImmediate` and `setTimeout` on the reactor.
//!
//! Node runs immediates from one check handle, in the order they were queued: all the
//! immediates queued when the check phase begins run in that phase (draining next ticks
//! after each), and an immediate queued while they run waits for the next iteration.
//! While immediates are pending an idle handle keeps the poll from blocking. That is
//! what [`Loop::set_immediate`] does. [`Loop::set_timeout`] is a one-shot timer that
//! closes itself after it fires.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::handle::{sealed::HandleImpl, Handle};
use crate::loop_::{Callback, Loop};
use crate::timer::Timer;
use crate::watcher::{Check, Idle};

pub(crate) struct Immediates {
    queue: Rc<RefCell<VecDeque<Callback>>>,
    check: Check,
    idle: Idle,
}

impl Loop {
    /// Node's `setImmediate(f)`: runs `f` in the check phase of this or the next
    /// iteration, after every immediate queued before it.
    pub fn set_immediate(&self, f: impl FnOnce() + 'static) {
        let mut slot = self.inner().immediates.borrow_mut();
        let imm = slot.get_or_insert_with(|| {
            let (check, idle) = (Check::new(self), Idle::new(self));
            check.core().mark_internal();
            idle.core().mark_internal();
            Immediates { queue: Rc::new(RefCell::new(VecDeque::new())), check, idle }
        });
        imm.queue.borrow_mut().push_back(Box::new(f));
        if !imm.check.is_active() {
            let queue = imm.queue.clone();
            let idle = imm.idle.clone();
            let _ = imm.check.start(move |check| run_immediates(check, &queue, &idle));
            let _ = imm.idle.start(|_| {});
        }
    }

    /// Node's `setTimeout(f, ms)`: a timer that runs `f` once and closes. Returns the
    /// timer, which can be stopped (`clearTimeout`) or unref'd.
    pub fn set_timeout(&self, ms: u64, f: impl FnOnce() + 'static) -> Timer {
        let t = Timer::new(self);
        let mut f = Some(f);
        let _ = t.start(ms, 0, move |t| {
            if let Some(f) = f.take() {
                f();
            }
            t.close(|_| {});
        });
        t
    }
}

fn run_immediates(check: &Check, queue: &Rc<RefCell<VecDeque<Callback>>>, idle: &Idle) {
    let count = queue.borrow().len();
    let lp = check.get_loop();
    for _ in 0..count {
        let next = queue.borrow_mut().pop_front();
        match next {
            Some(f) => {
                f();
                lp.run_next_ticks();
            }
            None => break,
        }
    }
    if queue.borrow().is_empty() {
        check.stop();
        idle.stop();
    }
}
