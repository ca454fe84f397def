//! Signal handles (libuv's `uv_signal_t`), on `signal-hook`'s self-pipe.
//!
//! The first time a loop watches a signal, a self-pipe action is registered for it with
//! `signal-hook`; the signal handler writes a byte and the loop, polling the pipe's read
//! end, calls every handle watching that signal (poll phase). As in libuv, the signal's
//! default action comes back when no handle anywhere in the process watches it: a
//! `signal-hook` conditional-default action runs the default (terminate, for SIGINT and
//! SIGTERM) whenever the process-wide watcher count for that signal is zero.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mio::Interest;
use signal_hook::SigId;

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::{IoEntry, Loop};

type SignalCb = dyn FnMut(&Signal, i32);

/// Process-wide state of one signal.
struct Global {
    watchers: AtomicUsize,
    unwatched: Arc<AtomicBool>,
}

fn global(signum: i32) -> Result<Arc<Global>> {
    static TABLE: OnceLock<Mutex<HashMap<i32, Arc<Global>>>> = OnceLock::new();
    if signal_hook::consts::FORBIDDEN.contains(&signum) {
        return Err(Error::EINVAL);
    }
    let mut table = TABLE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(g) = table.get(&signum) {
        return Ok(g.clone());
    }
    let unwatched = Arc::new(AtomicBool::new(true));
    signal_hook::flag::register_conditional_default(signum, unwatched.clone())?;
    let g = Arc::new(Global { watchers: AtomicUsize::new(0), unwatched });
    table.insert(signum, g.clone());
    Ok(g)
}

struct LoopSignal {
    sig_id: SigId,
    reader: mio::net::UnixStream,
    handles: Vec<Rc<SignalInner>>,
}

/// A loop's signal pipes, one per signal it has watched.
#[derive(Default)]
pub(crate) struct LoopSignals(HashMap<i32, LoopSignal>);

impl Drop for LoopSignals {
    fn drop(&mut self) {
        for (_, s) in self.0.drain() {
            signal_hook::low_level::unregister(s.sig_id);
        }
    }
}

pub(crate) struct SignalInner {
    core: HandleCore,
    signum: std::cell::Cell<i32>,
    oneshot: std::cell::Cell<bool>,
    global: std::cell::RefCell<Option<Arc<Global>>>,
    cb: CallbackSlot<SignalCb>,
}

/// A signal handle (`uv_signal_t`).
///
/// ```no_run
/// use millrace_reactor::{Handle, Loop, RunMode, Signal};
/// let lp = Loop::new()?;
/// let sig = Signal::new(&lp);
/// sig.start(libc::SIGINT, |s, _| {
///     println!("shutting down");
///     s.close(|_| {});
/// })?;
/// lp.run(RunMode::Default);
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone)]
pub struct Signal(Rc<SignalInner>);

impl Signal {
    /// `uv_signal_init`.
    pub fn new(lp: &Loop) -> Signal {
        Signal(Rc::new(SignalInner {
            core: HandleCore::new(lp),
            signum: std::cell::Cell::new(0),
            oneshot: std::cell::Cell::new(false),
            global: std::cell::RefCell::new(None),
            cb: CallbackSlot::empty(),
        }))
    }

    /// `uv_signal_start`: calls `cb(handle, signum)` on every delivery of `signum`.
    /// `EINVAL` for a signal that cannot be caught (SIGKILL, SIGSTOP, SIGSEGV, …).
    pub fn start(&self, signum: i32, cb: impl FnMut(&Signal, i32) + 'static) -> Result<()> {
        self.start_with(signum, false, Box::new(cb))
    }

    /// `uv_signal_start_oneshot`: like `start`, but stops after the first delivery.
    pub fn start_oneshot(&self, signum: i32, cb: impl FnMut(&Signal, i32) + 'static) -> Result<()> {
        self.start_with(signum, true, Box::new(cb))
    }

    fn start_with(&self, signum: i32, oneshot: bool, cb: Box<SignalCb>) -> Result<()> {
        let s = &self.0;
        if s.core.is_closing() || signum <= 0 {
            return Err(Error::EINVAL);
        }
        let g = global(signum)?;
        self.stop();
        let lp = s.core.lp.clone();
        {
            let mut sigs = lp.inner().signals.borrow_mut();
            let entry = match sigs.0.entry(signum) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let (reader, writer) = std::os::unix::net::UnixStream::pair()?;
                    reader.set_nonblocking(true)?;
                    let mut reader = mio::net::UnixStream::from_std(reader);
                    lp.io_register(&mut reader, IoEntry::Signal(signum), Interest::READABLE)?;
                    let sig_id = signal_hook::low_level::pipe::register(signum, writer)?;
                    v.insert(LoopSignal { sig_id, reader, handles: Vec::new() })
                }
            };
            entry.handles.push(s.clone());
        }
        g.watchers.fetch_add(1, Ordering::SeqCst);
        g.unwatched.store(false, Ordering::SeqCst);
        *s.global.borrow_mut() = Some(g);
        s.signum.set(signum);
        s.oneshot.set(oneshot);
        s.cb.set(cb);
        s.core.start();
        Ok(())
    }

    /// `uv_signal_stop`.
    pub fn stop(&self) {
        let s = &self.0;
        if !s.core.is_active() {
            return;
        }
        if let Some(entry) = s.core.lp.inner().signals.borrow_mut().0.get_mut(&s.signum.get()) {
            entry.handles.retain(|h| !Rc::ptr_eq(h, s));
        }
        if let Some(g) = s.global.borrow_mut().take() {
            if g.watchers.fetch_sub(1, Ordering::SeqCst) == 1 {
                g.unwatched.store(true, Ordering::SeqCst);
            }
        }
        s.core.stop();
    }

    /// The signal being watched (0 if none).
    pub fn signum(&self) -> i32 {
        self.0.signum.get()
    }
}

/// The pipe for `signum` is readable: one callback round per byte (poll phase).
pub(crate) fn dispatch(lp: &Loop, signum: i32) {
    let mut deliveries = 0usize;
    {
        let mut sigs = lp.inner().signals.borrow_mut();
        let Some(entry) = sigs.0.get_mut(&signum) else { return };
        let mut buf = [0u8; 64];
        loop {
            match entry.reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => deliveries += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }
    for _ in 0..deliveries {
        let handles = match lp.inner().signals.borrow().0.get(&signum) {
            Some(entry) => entry.handles.clone(),
            None => return,
        };
        for h in handles {
            if !h.core.is_active() || h.signum.get() != signum {
                continue;
            }
            let sig = Signal(h);
            if sig.0.oneshot.get() {
                sig.stop();
            }
            if let Some(mut cb) = sig.0.cb.take() {
                cb(&sig, signum);
                let keep = !sig.0.core.is_closing();
                sig.0.cb.restore(cb, keep);
            }
            lp.run_next_ticks();
        }
    }
}

impl HandleImpl for Signal {
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

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.0.signum.get())
            .field("active", &self.0.core.is_active())
            .finish()
    }
}
