//! The thread pool (libuv's `src/threadpool.c`): blocking work off the loop thread.
//!
//! One pool per process, shared by every loop, started on first use with
//! `MILLRACE_THREADPOOL_SIZE` threads (default 4, at most 1024: libuv's
//! `UV_THREADPOOL_SIZE` rules). Work runs on a pool thread; its `after` callback runs
//! back on the loop thread, in the poll phase, through the loop's waker. Work that has
//! not started can be cancelled; its `after` callback then gets `ECANCELED`.
//!
//! A panic inside work is caught on the pool thread (the pool survives) and resumed on
//! the loop thread when the `after` callback would have run, as `JoinHandle::join`
//! would report it.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::loop_::Loop;
use crate::remote::{WorkFailure, WorkResult};

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const CANCELLED: u8 = 3;

/// The default number of pool threads.
pub const DEFAULT_THREADPOOL_SIZE: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    queue: Mutex<VecDeque<Job>>,
    cv: Condvar,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// The number of pool threads this process uses (read once, on first use).
pub fn threadpool_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        std::env::var("MILLRACE_THREADPOOL_SIZE")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map_or(DEFAULT_THREADPOOL_SIZE, |n| n.clamp(1, 1024))
    })
}

fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        for i in 0..threadpool_size() {
            std::thread::Builder::new()
                .name(format!("millrace-worker-{i}"))
                .spawn(worker)
                .expect("millrace: cannot start a thread-pool thread");
        }
        Pool { queue: Mutex::new(VecDeque::new()), cv: Condvar::new() }
    })
}

fn worker() {
    let pool = pool();
    loop {
        let job = {
            let mut q = pool.queue.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(job) = q.pop_front() {
                    break job;
                }
                q = pool.cv.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        job();
    }
}

fn submit(job: Job) {
    let pool = pool();
    pool.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(job);
    pool.cv.notify_one();
}

struct WorkShared {
    state: AtomicU8,
}

pub(crate) struct WorkEntry {
    after: Box<dyn FnOnce(WorkResult)>,
}

/// A unit of work queued on the pool (`uv_work_t`); keep it to cancel the work.
pub struct WorkReq {
    lp: Loop,
    key: usize,
    shared: Arc<WorkShared>,
}

/// `uv_queue_work`: runs `work` on the thread pool, then `after` with its result on the
/// loop thread (or `Err(ECANCELED)` if cancelled first). The request keeps the loop
/// alive until `after` has run.
///
/// ```
/// use millrace_reactor::{queue_work, Loop, RunMode};
/// let lp = Loop::new()?;
/// queue_work(&lp, || 6 * 7, |r| assert_eq!(r, Ok(42)));
/// lp.run(RunMode::Default);
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
pub fn queue_work<T, W, A>(lp: &Loop, work: W, after: A) -> WorkReq
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
    A: FnOnce(Result<T>) + 'static,
{
    let shared = Arc::new(WorkShared { state: AtomicU8::new(QUEUED) });
    let after = Box::new(move |r: WorkResult| {
        let r = match r {
            Ok(any) => match any.downcast::<T>() {
                Ok(v) => Ok(*v),
                Err(_) => unreachable!("work result has the type it was queued with"),
            },
            Err(WorkFailure::Cancelled) => Err(Error::ECANCELED),
            Err(WorkFailure::Panicked(p)) => panic::resume_unwind(p),
        };
        after(r)
    });
    let key = lp.inner().work.borrow_mut().insert(WorkEntry { after });
    lp.req_register();
    let remote = lp.inner().remote.clone();
    let job_shared = shared.clone();
    submit(Box::new(move || {
        if job_shared.state.compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return; // cancelled while queued: the loop already has its ECANCELED
        }
        let res: WorkResult = match panic::catch_unwind(AssertUnwindSafe(work)) {
            Ok(v) => Ok(Box::new(v) as Box<dyn Any + Send>),
            Err(p) => Err(WorkFailure::Panicked(p)),
        };
        job_shared.state.store(DONE, Ordering::Release);
        remote.post(|inbox| inbox.work.push((key, res)));
    }));
    WorkReq { lp: lp.clone(), key, shared }
}

impl WorkReq {
    /// `uv_cancel`: succeeds only if the work has not started; the `after` callback then
    /// runs with `ECANCELED` on a later iteration. `EBUSY` if it is running or done.
    pub fn cancel(&self) -> Result<()> {
        match self.shared.state.compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                let key = self.key;
                self.lp.inner().remote.post(|inbox| inbox.work.push((key, Err(WorkFailure::Cancelled))));
                Ok(())
            }
            Err(_) => Err(Error::EBUSY),
        }
    }
}

impl fmt::Debug for WorkReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.shared.state.load(Ordering::Relaxed) {
            QUEUED => "queued",
            RUNNING => "running",
            DONE => "done",
            _ => "cancelled",
        };
        f.debug_struct("WorkReq").field("state", &state).finish()
    }
}

/// Runs a finished request's `after` callback (poll phase).
pub(crate) fn deliver(lp: &Loop, key: usize, result: WorkResult) {
    let entry = lp.inner().work.borrow_mut().try_remove(key);
    let Some(entry) = entry else { return };
    lp.req_unregister();
    (entry.after)(result);
    lp.run_next_ticks();
}
