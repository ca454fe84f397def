//! # millrace-reactor
//!
//! A single-threaded event loop in libuv's image, on mio: the loop and its phases,
//! handles (timers, idle/prepare/check watchers, async, TCP, Unix domain sockets and
//! pipes, terminals, UDP, signals, polls, child processes, file system events and
//! polls), requests (writes, connects, shutdowns, thread-pool work, file system
//! operations), a next-tick queue and always-on metrics.
//!
//! Why libuv's shape: Node's streams and HTTP server are built on exactly these
//! guarantees (callbacks never run on the caller's stack, close is deferred, write
//! callbacks come in order, the loop lives while something is active and referenced),
//! and the layers above reproduce Node only if the layer below reproduces libuv. Each
//! module says which libuv file it follows; `docs/reactor.md` walks one iteration.
//!
//! Everything here is `!Send`: a loop and its handles belong to one thread. Handles are
//! cheap clones of one `Rc`, like references to JavaScript objects, so a callback may
//! capture the handles it drives. Reference cycles through callbacks are broken when a
//! handle is closed: after its close callback, a handle drops all its callbacks.
//!
//! ```
//! use millrace_reactor::{Handle, Idle, Loop, RunMode, Timer};
//!
//! let lp = Loop::new()?;
//! let idle = Idle::new(&lp);
//! idle.start(|_| {})?; // an active idle watcher keeps the poll from blocking
//! let timer = Timer::new(&lp);
//! let idle2 = idle.clone();
//! timer.start(5, 0, move |t| {
//!     idle2.close(|_| {});
//!     t.close(|_| {});
//! })?;
//! lp.run(RunMode::Default);
//! assert!(lp.metrics().loop_count > 1);
//! # Ok::<(), millrace_reactor::Error>(())
//! ```
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_code)] // but in sys.rs and fs/sys.rs

#[cfg(not(all(unix, target_pointer_width = "64")))]
compile_error!("millrace-reactor supports 64-bit Unix (Linux) only");

mod async_;
pub mod dns;
mod error;
pub mod fs;
mod fs_event;
mod fs_poll;
mod handle;
mod immediate;
mod loop_;
mod metrics;
pub mod os;
mod pipe;
mod poll;
mod process;
mod remote;
mod signal;
mod sock;
mod stream;
mod sys;
mod tcp;
mod threadpool;
mod timer;
mod tty;
mod udp;
mod watcher;

pub use async_::{Async, AsyncSender};
pub use error::{Error, Result};
pub use fs_event::{FsEvent, FsEvents};
pub use fs_poll::FsPoll;
pub use handle::{guess_handle, Handle, HandleType};
pub use loop_::{Loop, RunMode, TickTarget};
pub use metrics::{Metrics, StreamStats};
pub use pipe::{pipe, IpcHandle, Pipe, PipeFlags};
pub use poll::{Poll, PollEvents};
pub use process::{kill, take_inherited_fd, Process, ProcessOptions, StdioContainer};
pub use signal::Signal;
pub use stream::{WriteReq, IOV_MAX};
pub use tcp::{BindOptions, Family, ReadEvent, Tcp};
pub use threadpool::{queue_work, threadpool_size, WorkReq, DEFAULT_THREADPOOL_SIZE};
pub use timer::Timer;
pub use tty::{openpty, reset_mode, set_winsize, Tty, TtyMode};
pub use udp::{Membership, Udp, UdpBindFlags, UdpRecv};
pub use watcher::{Check, CheckKind, Idle, IdleKind, Prepare, PrepareKind, Watcher, WatcherKind};

/// Queues `f` on the current thread's loop's next-tick queue ([`Loop::next_tick`]).
pub fn next_tick(f: impl FnOnce() + 'static) {
    Loop::current().next_tick(f)
}
