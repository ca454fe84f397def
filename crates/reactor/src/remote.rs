//! The loop's one door for other threads: a mio `Waker` plus a locked inbox.
//!
//! libuv wakes a loop from other threads through an internal async handle (an eventfd);
//! the thread pool reports finished work through it and `uv_async_send` uses the same
//! mechanism. Here [`Remote`] is that eventfd (mio's `Waker`) and an inbox of async
//! sends and work results. A send only writes the eventfd when the loop has not already
//! been woken since it last emptied the inbox, so a burst of sends costs one syscall.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mio::{Registry, Token, Waker};

use crate::async_::AsyncShared;
use crate::loop_::Loop;

/// A finished piece of thread-pool work: its slot in the loop's work table and the
/// result (a value, a panic payload to resume, or `ECANCELED`).
pub(crate) type WorkResult = Result<Box<dyn Any + Send>, WorkFailure>;

pub(crate) enum WorkFailure {
    Cancelled,
    Panicked(Box<dyn Any + Send>),
}

#[derive(Default)]
pub(crate) struct Inbox {
    pub(crate) asyncs: Vec<Arc<AsyncShared>>,
    pub(crate) work: Vec<(usize, WorkResult)>,
}

pub(crate) struct Remote {
    waker: Waker,
    woken: AtomicBool,
    inbox: Mutex<Inbox>,
}

impl Remote {
    pub(crate) fn new(registry: &Registry, token: Token) -> std::io::Result<Remote> {
        Ok(Remote {
            waker: Waker::new(registry, token)?,
            woken: AtomicBool::new(false),
            inbox: Mutex::new(Inbox::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inbox> {
        // A panic while holding this lock cannot leave the inbox inconsistent (pushes
        // and a swap), so a poisoned lock is still usable.
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts something in the inbox and wakes the loop if it is not already woken.
    pub(crate) fn post(&self, f: impl FnOnce(&mut Inbox)) {
        f(&mut self.lock());
        if !self.woken.swap(true, Ordering::AcqRel) {
            // Failure means the eventfd is gone with its loop: nobody to wake.
            let _ = self.waker.wake();
        }
    }

    fn take(&self) -> Inbox {
        self.woken.store(false, Ordering::Release);
        std::mem::take(&mut *self.lock())
    }
}

/// Runs on the loop thread when the waker's event arrives (poll phase).
pub(crate) fn dispatch(lp: &Loop) {
    let inbox = lp.inner().remote.take();
    let mut rest =
        Undelivered { remote: &lp.inner().remote, asyncs: inbox.asyncs.into_iter(), work: inbox.work.into_iter() };
    for shared in rest.asyncs.by_ref() {
        crate::async_::deliver(lp, &shared);
    }
    for (key, result) in rest.work.by_ref() {
        crate::threadpool::deliver(lp, key, result);
    }
}

/// What a dispatch has not delivered yet. A callback may panic (a panic in work is
/// resumed on purpose); the rest of the batch then goes back to the inbox, so that a
/// caller who catches the panic and runs the loop again still gets every completion,
/// instead of a request that keeps the loop alive forever.
struct Undelivered<'a> {
    remote: &'a Remote,
    asyncs: std::vec::IntoIter<Arc<AsyncShared>>,
    work: std::vec::IntoIter<(usize, WorkResult)>,
}

impl Drop for Undelivered<'_> {
    fn drop(&mut self) {
        if self.asyncs.as_slice().is_empty() && self.work.as_slice().is_empty() {
            return;
        }
        let (asyncs, work) = (self.asyncs.by_ref().collect::<Vec<_>>(), self.work.by_ref().collect::<Vec<_>>());
        // Ahead of anything posted since, to keep the order of delivery.
        self.remote.post(|inbox| {
            inbox.asyncs.splice(0..0, asyncs);
            inbox.work.splice(0..0, work);
        });
    }
}
