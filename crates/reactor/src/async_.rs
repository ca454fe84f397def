//! Async handles: wake a loop from any thread (libuv's `uv_async_t`).
//!
//! [`Async::sender`] gives a `Send + Sync` [`AsyncSender`]. Sends coalesce: however many
//! arrive before the loop gets to the handle, the callback runs once, in the poll
//! phase. A send that arrives while the callback runs schedules one more call. All
//! async handles of a loop share its one mio `Waker`.

use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::Loop;
use crate::remote::Remote;

type AsyncCb = dyn FnMut(&Async);

/// State shared with senders on other threads.
pub(crate) struct AsyncShared {
    key: usize,
    pending: AtomicBool,
    closed: AtomicBool,
}

pub(crate) struct AsyncInner {
    core: HandleCore,
    shared: Arc<AsyncShared>,
    cb: CallbackSlot<AsyncCb>,
}

/// An async handle (`uv_async_t`). Active from creation until closed.
///
/// ```
/// use millrace_reactor::{Async, Handle, Loop, RunMode};
/// let lp = Loop::new()?;
/// let a = Async::new(&lp, |a| a.close(|_| {}));
/// let tx = a.sender();
/// std::thread::spawn(move || tx.send()).join().unwrap();
/// lp.run(RunMode::Default);
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone)]
pub struct Async(Rc<AsyncInner>);

/// Wakes an [`Async`] handle from any thread.
#[derive(Clone)]
pub struct AsyncSender {
    shared: Arc<AsyncShared>,
    remote: Arc<Remote>,
}

impl Async {
    /// `uv_async_init`: the handle is active at once.
    pub fn new(lp: &Loop, cb: impl FnMut(&Async) + 'static) -> Async {
        let mut slab = lp.inner().asyncs.borrow_mut();
        let entry = slab.vacant_entry();
        let shared =
            Arc::new(AsyncShared { key: entry.key(), pending: AtomicBool::new(false), closed: AtomicBool::new(false) });
        let inner = Rc::new(AsyncInner { core: HandleCore::new(lp), shared, cb: CallbackSlot::empty() });
        inner.cb.set(Box::new(cb));
        inner.core.start();
        entry.insert(inner.clone());
        Async(inner)
    }

    /// A sender for other threads.
    pub fn sender(&self) -> AsyncSender {
        AsyncSender { shared: self.0.shared.clone(), remote: self.0.core.lp.inner().remote.clone() }
    }

    /// `uv_async_send` from the loop's own thread.
    pub fn send(&self) {
        self.sender().send()
    }
}

impl AsyncSender {
    /// `uv_async_send`: schedules the callback; coalesces with sends not yet delivered.
    /// A send to a closed handle does nothing.
    pub fn send(&self) {
        if self.shared.closed.load(Ordering::Acquire) {
            return;
        }
        if !self.shared.pending.swap(true, Ordering::AcqRel) {
            let shared = self.shared.clone();
            self.remote.post(|inbox| inbox.asyncs.push(shared));
        }
    }
}

/// Delivers one coalesced send (poll phase).
pub(crate) fn deliver(lp: &Loop, shared: &Arc<AsyncShared>) {
    if shared.closed.load(Ordering::Acquire) {
        return;
    }
    let handle = match lp.inner().asyncs.borrow().get(shared.key) {
        Some(h) if Arc::ptr_eq(&h.shared, shared) => h.clone(),
        _ => return,
    };
    // Clear before the callback: a send during the callback means another call.
    shared.pending.store(false, Ordering::Release);
    let a = Async(handle);
    if let Some(mut cb) = a.0.cb.take() {
        cb(&a);
        let keep = !a.0.core.is_closing();
        a.0.cb.restore(cb, keep);
    }
    lp.run_next_ticks();
}

impl HandleImpl for Async {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    fn close_now(&self) {
        self.0.shared.closed.store(true, Ordering::Release);
        let removed = self.0.core.lp.inner().asyncs.borrow_mut().try_remove(self.0.shared.key);
        drop(removed);
    }

    fn drop_callbacks(&self) {
        self.0.cb.clear();
    }
}

impl fmt::Debug for Async {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("pending", &self.0.shared.pending.load(Ordering::Relaxed))
            .field("closing", &self.0.core.is_closing())
            .finish()
    }
}

impl fmt::Debug for AsyncSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSender").finish_non_exhaustive()
    }
}
