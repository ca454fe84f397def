//! The event loop: libuv's `uv_run`, stage by stage.
//!
//! One iteration (libuv `src/unix/core.c`, `uv_run`):
//!
//! ```text
//!   ┌─► pending callbacks   deferred completions: write callbacks, connect results
//!   │   idle                idle watchers (their presence makes the poll not block)
//!   │   prepare             prepare watchers, just before blocking
//!   │   poll                epoll_wait: I/O callbacks, async sends, thread-pool results
//!   │   pending (≤ 8 more)  completions queued during poll
//!   │   check               check watchers, just after the poll
//!   │   closing             close callbacks
//!   │   update time, timers due
//!   └── alive? (active+ref'd handles, requests, pending, closing)
//! ```
//!
//! In the Default mode the timers also run once before the first iteration, as libuv
//! does. The poll blocks until the next timer unless anything is pending, an idle
//! watcher is active, a handle is closing, or the loop was asked to stop.
//!
//! After every callback the loop invokes, it drains the next-tick queue
//! ([`Loop::next_tick`]): Node's `process.nextTick`, on which stream ordering depends.
//!
//! Handles and requests never run a callback on their caller's stack; anything that
//! completes at once is put in the pending queue.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mio::{Events, Interest, Poll, Registry, Token};
use slab::Slab;

use crate::error::{Error, Result};
use crate::metrics::{Metrics, MetricsCell};
use crate::remote::Remote;
use crate::signal::LoopSignals;
use crate::tcp::TcpInner;
use crate::timer::TimerInner;
use crate::watcher::WatcherInner;

/// How [`Loop::run`] runs (libuv's `uv_run_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Run until nothing is alive or [`Loop::stop`] is called.
    Default,
    /// One iteration; block in the poll if there is nothing pending.
    Once,
    /// One iteration; never block.
    NoWait,
}

pub(crate) type Callback = Box<dyn FnOnce()>;

/// An object that runs next ticks of its own, named by a tag: queued with
/// [`Loop::next_tick_target`], such a tick costs no allocation (a boxed closure
/// does). Stream state machines schedule several ticks per chunk or message.
pub trait TickTarget {
    /// Runs the tick `tag` that was queued for this object.
    fn run_tick(self: Rc<Self>, tag: u32);
}

/// One queued next tick.
enum Tick {
    Boxed(Callback),
    Target(Rc<dyn TickTarget>, u32),
}

/// Something to do in the pending phase.
pub(crate) enum Pending {
    /// A stream with completed writes, a finished connect or a due shutdown
    /// (libuv's `uv__io_feed` of a stream's watcher).
    Stream(Rc<TcpInner>),
    /// A UDP handle with sends completed at once (their callbacks are due).
    Udp(Rc<crate::udp::UdpInner>),
}

/// A handle served again in the next poll phase without a new event (mio is
/// edge-triggered): what libuv's level-triggered epoll would report again.
pub(crate) enum Ready {
    /// A stream with readiness left unserved (the fairness cap, or `read_start` on data
    /// that already arrived).
    Stream(Rc<TcpInner>),
    /// A poll handle whose watched condition still held after its callback.
    Poll(Rc<crate::poll::PollInner>),
    /// A UDP handle with datagrams waiting (the 32-per-wake-up cap, or `recv_start`).
    Udp(Rc<crate::udp::UdpInner>),
}

/// What an I/O token leads to.
pub(crate) enum IoEntry {
    Tcp(Rc<TcpInner>),
    Signal(i32),
    Poll(Rc<crate::poll::PollInner>),
    Udp(Rc<crate::udp::UdpInner>),
    /// The loop's inotify descriptor (file system event handles).
    Inotify,
}

pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

pub(crate) struct LoopInner {
    poll: RefCell<Poll>,
    pub(crate) registry: Registry,
    events: RefCell<Events>,
    pub(crate) remote: Arc<Remote>,
    start: Instant,
    time: Cell<u64>,
    stop_flag: Cell<bool>,
    running: Cell<bool>,
    closed: Cell<bool>,
    pub(crate) active_handles: Cell<usize>,
    pub(crate) active_reqs: Cell<usize>,
    pub(crate) handle_count: Cell<usize>,
    pub(crate) timers: RefCell<BTreeMap<(u64, u64), Rc<TimerInner>>>,
    pub(crate) timer_counter: Cell<u64>,
    pub(crate) timers_ready: RefCell<VecDeque<Rc<TimerInner>>>,
    pub(crate) watchers: [RefCell<VecDeque<Rc<WatcherInner>>>; 3],
    pending: RefCell<VecDeque<Pending>>,
    closing: RefCell<Vec<Callback>>,
    ticks: RefCell<VecDeque<Tick>>,
    microtasks: RefCell<VecDeque<Callback>>,
    io: RefCell<Slab<(u32, IoEntry)>>,
    io_gen: Cell<u32>,
    /// Handles to serve in the next poll phase with no new event (see [`Ready`]); the
    /// poll does not block while there are any.
    pub(crate) ready: RefCell<VecDeque<Ready>>,
    pub(crate) read_buf: RefCell<BytesMut>,
    pub(crate) metrics: MetricsCell,
    pub(crate) signals: RefCell<LoopSignals>,
    pub(crate) children: RefCell<crate::process::Children>,
    pub(crate) inotify: RefCell<Option<crate::fs_event::Inotify>>,
    pub(crate) asyncs: RefCell<Slab<Rc<crate::async_::AsyncInner>>>,
    pub(crate) work: RefCell<Slab<crate::threadpool::WorkEntry>>,
    pub(crate) immediates: RefCell<Option<crate::immediate::Immediates>>,
}

/// An event loop (libuv's `uv_loop_t`): single-threaded, cheap to clone (an `Rc`).
///
/// ```
/// use millrace_reactor::{Handle, Loop, RunMode, Timer};
/// use std::{cell::Cell, rc::Rc};
///
/// let lp = Loop::new()?;
/// let fired = Rc::new(Cell::new(0));
/// let timer = Timer::new(&lp);
/// let f = fired.clone();
/// timer.start(1, 0, move |t| {
///     f.set(f.get() + 1);
///     t.close(|_| {});
/// })?;
/// assert!(!lp.run(RunMode::Default));
/// assert_eq!(fired.get(), 1);
/// lp.close()?;
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone)]
pub struct Loop {
    inner: Rc<LoopInner>,
}

thread_local! {
    static CURRENT: RefCell<Option<Loop>> = const { RefCell::new(None) };
}

impl Loop {
    /// A new, independent loop (libuv's `uv_loop_init`).
    pub fn new() -> Result<Loop> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let remote = Arc::new(Remote::new(&registry, WAKER_TOKEN)?);
        let inner = LoopInner {
            poll: RefCell::new(poll),
            registry,
            events: RefCell::new(Events::with_capacity(1024)),
            remote,
            start: Instant::now(),
            time: Cell::new(0),
            stop_flag: Cell::new(false),
            running: Cell::new(false),
            closed: Cell::new(false),
            active_handles: Cell::new(0),
            active_reqs: Cell::new(0),
            handle_count: Cell::new(0),
            timers: RefCell::new(BTreeMap::new()),
            timer_counter: Cell::new(0),
            timers_ready: RefCell::new(VecDeque::new()),
            watchers: Default::default(),
            pending: RefCell::new(VecDeque::new()),
            closing: RefCell::new(Vec::new()),
            ticks: RefCell::new(VecDeque::new()),
            microtasks: RefCell::new(VecDeque::new()),
            io: RefCell::new(Slab::new()),
            io_gen: Cell::new(0),
            ready: RefCell::new(VecDeque::new()),
            read_buf: RefCell::new(BytesMut::new()),
            metrics: MetricsCell::default(),
            signals: RefCell::new(LoopSignals::default()),
            children: RefCell::new(Default::default()),
            inotify: RefCell::new(None),
            asyncs: RefCell::new(Slab::new()),
            work: RefCell::new(Slab::new()),
            immediates: RefCell::new(None),
        };
        let lp = Loop { inner: Rc::new(inner) };
        lp.update_time();
        Ok(lp)
    }

    /// The calling thread's default loop (libuv's `uv_default_loop`), created on first
    /// use, and created anew after it was [closed](Loop::close), as `uv_default_loop`
    /// is after `uv_loop_close`. Functions that need a loop and are not given one use
    /// this one.
    ///
    /// # Panics
    ///
    /// If the OS refuses to create an epoll instance (out of file descriptors).
    pub fn current() -> Loop {
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_some_and(|lp| lp.inner.closed.get()) {
                *c = None;
            }
            c.get_or_insert_with(|| Loop::new().expect("millrace: cannot create the event loop")).clone()
        })
    }

    /// Makes `self` the thread's current loop for the duration of `f`, so that code
    /// using [`Loop::current`] runs on it.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let prev = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        struct Restore(Option<Loop>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = prev);
            }
        }
        let _restore = Restore(prev);
        f()
    }

    pub(crate) fn inner(&self) -> &LoopInner {
        &self.inner
    }

    /// True if `a` and `b` are the same loop.
    pub fn ptr_eq(a: &Loop, b: &Loop) -> bool {
        Rc::ptr_eq(&a.inner, &b.inner)
    }

    /// `uv_run`. Returns true if the loop is still alive (handles or requests remain),
    /// as libuv's non-zero return. Calling `run` from inside a callback of the same loop
    /// is refused: it returns false at once. While it runs, this loop is the thread's
    /// [current](Loop::current) loop, so whatever its callbacks create lives on it.
    pub fn run(&self, mode: RunMode) -> bool {
        self.enter(|| self.run_inner(mode))
    }

    fn run_inner(&self, mode: RunMode) -> bool {
        let inner = &*self.inner;
        if inner.running.get() || inner.closed.get() {
            return false;
        }
        inner.running.set(true);
        struct NotRunning<'a>(&'a Cell<bool>);
        impl Drop for NotRunning<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        let _guard = NotRunning(&inner.running);

        self.run_next_ticks();
        let mut alive = self.alive();
        if !alive {
            self.update_time();
        }
        if mode == RunMode::Default && alive && !inner.stop_flag.get() {
            self.update_time();
            crate::timer::run_timers(self);
        }
        while alive && !inner.stop_flag.get() {
            let can_sleep = inner.pending.borrow().is_empty() && self.watchers_empty(0);
            self.run_pending();
            crate::watcher::run_phase(self, 0);
            crate::watcher::run_phase(self, 1);

            let mut timeout = 0;
            if (mode == RunMode::Once && can_sleep) || mode == RunMode::Default {
                timeout = self.backend_timeout();
            }
            inner.metrics.bump(|m| m.loop_count += 1);
            self.io_poll(timeout);

            for _ in 0..8 {
                if !self.run_pending() {
                    break;
                }
            }
            crate::watcher::run_phase(self, 2);
            self.run_closing();
            self.update_time();
            crate::timer::run_timers(self);

            alive = self.alive();
            if mode != RunMode::Default {
                break;
            }
        }
        inner.stop_flag.set(false);
        alive
    }

    /// `uv_loop_alive`: active and referenced handles, active requests, pending
    /// callbacks or closing handles.
    pub fn alive(&self) -> bool {
        let i = &*self.inner;
        i.active_handles.get() > 0
            || i.active_reqs.get() > 0
            || !i.pending.borrow().is_empty()
            || !i.closing.borrow().is_empty()
    }

    /// `uv_stop`: the current `run` returns after this iteration (before blocking, if it
    /// has not blocked yet).
    pub fn stop(&self) {
        self.inner.stop_flag.set(true);
    }

    /// `uv_now`: the loop's cached time in milliseconds, updated once per iteration.
    pub fn now(&self) -> u64 {
        self.inner.time.get()
    }

    /// `uv_update_time`.
    pub fn update_time(&self) {
        self.inner.time.set(self.inner.start.elapsed().as_millis() as u64);
    }

    /// `uv_hrtime` for this loop: nanoseconds since the loop was created, uncached.
    pub fn hrtime(&self) -> u64 {
        self.inner.start.elapsed().as_nanos() as u64
    }

    /// `uv_backend_timeout`: how long the next poll would block, in milliseconds; -1
    /// for "until an event arrives", 0 for "not at all".
    pub fn backend_timeout(&self) -> i32 {
        let i = &*self.inner;
        if !i.stop_flag.get()
            && (i.active_handles.get() > 0 || i.active_reqs.get() > 0)
            && i.pending.borrow().is_empty()
            && self.watchers_empty(0)
            && i.closing.borrow().is_empty()
            && i.ready.borrow().is_empty()
        {
            crate::timer::next_timeout(self)
        } else {
            0
        }
    }

    /// `uv_loop_close`: refused with `EBUSY` while any handle has not finished closing.
    ///
    /// Once closed, the loop lets go of its own internal handles (the check and idle
    /// handles behind [`set_immediate`](Loop::set_immediate)): they hold the loop, so
    /// until then the loop could not be freed when its last clone is dropped.
    pub fn close(&self) -> Result<()> {
        let i = &*self.inner;
        if i.handle_count.get() > 0 || !i.closing.borrow().is_empty() || i.active_reqs.get() > 0 {
            return Err(Error::EBUSY);
        }
        i.closed.set(true);
        let immediates = i.immediates.borrow_mut().take();
        drop(immediates);
        Ok(())
    }

    /// Handles created on this loop and not yet closed (or dropped while inactive).
    pub fn handle_count(&self) -> usize {
        self.inner.handle_count.get()
    }

    /// Active and referenced handles (what keeps `run` going, with requests).
    pub fn active_handles(&self) -> usize {
        self.inner.active_handles.get()
    }

    /// Requests in flight: writes, connects, shutdowns, thread-pool work.
    pub fn active_reqs(&self) -> usize {
        self.inner.active_reqs.get()
    }

    /// The loop's counters (libuv's `uv_metrics_info`, and more).
    pub fn metrics(&self) -> Metrics {
        self.inner.metrics.get()
    }

    /// Queues `f` to run after the current callback returns and before the loop moves
    /// on (Node's `process.nextTick`). Ticks queued by a tick run in the same drain.
    pub fn next_tick(&self, f: impl FnOnce() + 'static) {
        self.inner.ticks.borrow_mut().push_back(Tick::Boxed(Box::new(f)));
    }

    /// [`next_tick`](Loop::next_tick) for a [`TickTarget`]: `target.run_tick(tag)`, in
    /// the same queue (so in order with every other tick), without an allocation.
    #[inline(always)]
    pub fn next_tick_target(&self, target: Rc<dyn TickTarget>, tag: u32) {
        self.inner.ticks.borrow_mut().push_back(Tick::Target(target, tag));
    }

    /// Queues `f` as a microtask (Node's `queueMicrotask`, and where a promise's
    /// reaction would run): microtasks run once the next-tick queue is empty, all of
    /// them (those they queue included) before the next ticks they queue.
    pub fn queue_microtask(&self, f: impl FnOnce() + 'static) {
        self.inner.microtasks.borrow_mut().push_back(Box::new(f));
    }

    /// Runs queued next-tick callbacks and microtasks until none is left, in the order
    /// of Node's `processTicksAndRejections`: every tick, then every microtask, and
    /// again while the microtasks queued ticks. The loop calls this after every
    /// callback it invokes; embedders that call into streams from outside a loop
    /// callback (a `main` before `run`) may call it too.
    pub fn run_next_ticks(&self) {
        loop {
            self.run_ticks();
            if !self.run_microtasks() {
                break;
            }
        }
    }

    fn run_ticks(&self) {
        let mut ran = 0;
        loop {
            let next = {
                let mut q = self.inner.ticks.borrow_mut();
                let next = q.pop_front();
                if q.is_empty() {
                    // Back to the ring's start (`clear` resets it): the next ticks
                    // reuse the same, warm, cache lines.
                    q.clear();
                }
                next
            };
            match next {
                Some(Tick::Boxed(f)) => f(),
                Some(Tick::Target(t, tag)) => t.run_tick(tag),
                None => break,
            }
            ran += 1;
        }
        if ran > 0 {
            self.inner.metrics.add_next_ticks(ran);
        }
    }

    /// V8's `runMicrotasks`: drains the microtask queue. Whether any ran.
    #[inline]
    fn run_microtasks(&self) -> bool {
        if self.inner.microtasks.borrow().is_empty() {
            return false;
        }
        loop {
            let next = self.inner.microtasks.borrow_mut().pop_front();
            match next {
                Some(f) => f(),
                None => return true,
            }
        }
    }

    pub(crate) fn req_register(&self) {
        let c = &self.inner.active_reqs;
        c.set(c.get() + 1);
    }

    pub(crate) fn req_unregister(&self) {
        let c = &self.inner.active_reqs;
        c.set(c.get() - 1);
    }

    pub(crate) fn push_pending(&self, p: Pending) {
        self.inner.pending.borrow_mut().push_back(p);
    }

    pub(crate) fn push_closing(&self, f: Callback) {
        self.inner.closing.borrow_mut().push(f);
    }

    fn watchers_empty(&self, kind: usize) -> bool {
        self.inner.watchers[kind].borrow().is_empty()
    }

    /// `uv__run_pending`: runs what was pending when the phase began. Returns whether
    /// anything ran.
    fn run_pending(&self) -> bool {
        let batch = std::mem::take(&mut *self.inner.pending.borrow_mut());
        if batch.is_empty() {
            return false;
        }
        for p in batch {
            match p {
                Pending::Stream(tcp) => crate::stream::run_pending(tcp),
                Pending::Udp(u) => crate::udp::run_pending(u),
            }
        }
        true
    }

    /// `uv__run_closing_handles`: newest first, as libuv's closing list.
    fn run_closing(&self) {
        let batch = std::mem::take(&mut *self.inner.closing.borrow_mut());
        for f in batch.into_iter().rev() {
            f();
            self.run_next_ticks();
        }
    }

    /// `uv__io_poll`.
    fn io_poll(&self, timeout: i32) {
        let inner = &*self.inner;
        let timeout = if !inner.ready.borrow().is_empty() {
            Some(Duration::ZERO)
        } else if timeout < 0 {
            None
        } else {
            Some(Duration::from_millis(timeout as u64))
        };
        let mut events = inner.events.borrow_mut();
        let before = self.hrtime();
        let res = inner.poll.borrow_mut().poll(&mut events, timeout);
        let idle = Duration::from_nanos(self.hrtime() - before);
        inner.metrics.bump(|m| {
            m.epoll_wait += 1;
            if timeout != Some(Duration::ZERO) {
                m.idle_time += idle;
            }
        });
        self.update_time();
        if let Err(e) = res {
            // EINTR: the iteration goes on with no events, as libuv's does.
            debug_assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "epoll_wait: {e}");
            drop(events);
            self.run_ready();
            return;
        }
        let mut count = 0u64;
        for ev in events.iter() {
            count += 1;
            let token = ev.token();
            if token == WAKER_TOKEN {
                crate::remote::dispatch(self);
                continue;
            }
            let entry = {
                let io = inner.io.borrow();
                let (idx, gen) = split_token(token);
                match io.get(idx) {
                    Some((g, IoEntry::Tcp(t))) if *g == gen => Some(IoEntry::Tcp(t.clone())),
                    Some((g, IoEntry::Signal(s))) if *g == gen => Some(IoEntry::Signal(*s)),
                    Some((g, IoEntry::Poll(p))) if *g == gen => Some(IoEntry::Poll(p.clone())),
                    Some((g, IoEntry::Udp(u))) if *g == gen => Some(IoEntry::Udp(u.clone())),
                    Some((g, IoEntry::Inotify)) if *g == gen => Some(IoEntry::Inotify),
                    _ => None, // stale: the handle was closed and its slot reused
                }
            };
            match entry {
                Some(IoEntry::Tcp(t)) => crate::stream::io_event(t, ev),
                Some(IoEntry::Signal(signum)) => crate::signal::dispatch(self, signum),
                Some(IoEntry::Poll(p)) => crate::poll::io_event(self, p),
                Some(IoEntry::Udp(u)) => crate::udp::io_event(self, u, ev),
                Some(IoEntry::Inotify) => crate::fs_event::dispatch(self),
                None => {}
            }
        }
        drop(events);
        inner.metrics.bump(|m| m.events += count);
        self.run_ready();
    }

    /// Serves the handles on the ready list (see [`Ready`]); those queued meanwhile wait
    /// for the next poll phase.
    fn run_ready(&self) {
        let batch = std::mem::take(&mut *self.inner.ready.borrow_mut());
        for r in batch {
            match r {
                Ready::Stream(t) => crate::stream::serve_ready(t),
                Ready::Poll(p) => crate::poll::serve_ready(self, p),
                Ready::Udp(u) => crate::udp::serve_ready(self, u),
            }
        }
    }

    /// Registers an I/O source; the token carries a generation so that an event for a
    /// closed handle never reaches a handle that reused its slot.
    pub(crate) fn io_register(
        &self,
        source: &mut impl mio::event::Source,
        entry: IoEntry,
        interest: Interest,
    ) -> Result<(usize, Token)> {
        let gen = self.inner.io_gen.get().wrapping_add(1);
        self.inner.io_gen.set(gen);
        let mut io = self.inner.io.borrow_mut();
        let vacant = io.vacant_entry();
        let key = vacant.key();
        let token = make_token(key, gen);
        self.inner.registry.register(source, token, interest)?;
        vacant.insert((gen, entry));
        Ok((key, token))
    }

    /// `uv__io_check_fd`: can epoll watch `source` (and does this loop not watch it
    /// yet)? It is added and taken out again.
    pub(crate) fn io_check(&self, source: &mut impl mio::event::Source) -> Result<()> {
        self.inner.registry.register(source, Token(usize::MAX - 1), Interest::READABLE)?;
        self.inner.registry.deregister(source)?;
        Ok(())
    }

    pub(crate) fn io_deregister(&self, key: usize, source: &mut impl mio::event::Source) {
        let _ = self.inner.registry.deregister(source);
        let removed = self.inner.io.borrow_mut().try_remove(key);
        drop(removed);
    }
}

fn make_token(idx: usize, gen: u32) -> Token {
    Token(((gen as usize) << 32) | (idx & 0xffff_ffff))
}

fn split_token(t: Token) -> (usize, u32) {
    (t.0 & 0xffff_ffff, (t.0 >> 32) as u32)
}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("Loop")
            .field("now", &i.time.get())
            .field("active_handles", &i.active_handles.get())
            .field("active_reqs", &i.active_reqs.get())
            .field("handles", &i.handle_count.get())
            .field("pending", &i.pending.borrow().len())
            .field("closing", &i.closing.borrow().len())
            .finish()
    }
}
