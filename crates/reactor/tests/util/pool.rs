//! Thread-pool helpers: libuv's `pause_sems` and `saturate_threadpool`
//! (test/test-threadpool-cancel.c).

use std::sync::{Arc, Condvar, Mutex};

use millrace_reactor::{queue_work, threadpool_size, Loop};

/// A gate that pool threads wait at until it opens.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn wait(&self) {
        let (open, cv) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
    }

    pub fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

/// Queues one piece of work per pool thread, each blocked until the returned gate
/// opens (libuv's `unblock_threadpool`).
///
/// Deterministic even while other tests of the binary use the pool: the blockers are
/// queued before anything the caller queues next, the queue is FIFO, and the pool has
/// exactly as many threads as blockers, so later work cannot start until the gate opens.
pub fn saturate_threadpool(lp: &Loop) -> Gate {
    let gate = Gate::default();
    for _ in 0..threadpool_size() {
        let g = gate.clone();
        queue_work(lp, move || g.wait(), |r| assert_eq!(r, Ok(())));
    }
    gate
}

/// libuv's `timer_cb` with its `cancel_info` (test-threadpool-cancel.c): after 10 ms,
/// cancels every request (each must still be cancellable), closes the timer and opens
/// the gate. The returned counter is the timer's calls.
pub fn cancel_from_timer(lp: &Loop, reqs: Vec<millrace_reactor::WorkReq>, gate: Gate) -> super::Counter {
    use millrace_reactor::Handle;
    let timer_cb_called = super::Counter::new();
    let t = timer_cb_called.clone();
    millrace_reactor::Timer::new(lp)
        .start(10, 0, move |h| {
            for req in &reqs {
                assert_eq!(req.cancel(), Ok(()));
            }
            h.close(|_| {});
            gate.open();
            t.inc();
        })
        .unwrap();
    timer_cb_called
}
