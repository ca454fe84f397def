//! Counters that are always on: plain integer increments, read with [`Loop::metrics`].
//!
//! libuv's `uv_metrics_info` gives the loop count, the events handled and the time spent
//! idle in the poll; millrace adds one counter per kind of system call on the I/O path,
//! the `EAGAIN`s seen, and the bytes moved, so that a write strategy can be compared by
//! what it costs the kernel, not only by wall time.
//!
//! [`Loop::metrics`]: crate::Loop::metrics

use std::cell::Cell;
use std::time::Duration;

/// A snapshot of one loop's counters since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Loop iterations (`uv_metrics_info().loop_count`).
    pub loop_count: u64,
    /// Events handled by the poll phase (`uv_metrics_info().events`).
    pub events: u64,
    /// Time spent blocked in the poll (`uv_metrics_idle_time`).
    pub idle_time: Duration,
    /// `epoll_wait(2)` calls.
    pub epoll_wait: u64,
    /// `read(2)` calls on streams.
    pub read: u64,
    /// `write(2)` calls on streams (one buffer).
    pub write: u64,
    /// `writev(2)` calls on streams (several buffers).
    pub writev: u64,
    /// `accept(2)` calls, including the one that returns `EAGAIN`.
    pub accept: u64,
    /// Reads that returned `EAGAIN`.
    pub read_eagain: u64,
    /// Writes that returned `EAGAIN`.
    pub write_eagain: u64,
    /// Writes the kernel took only in part (its buffer filled): the reactor then waits
    /// for the writable edge instead of trying again into `EAGAIN`.
    pub write_partial: u64,
    /// Bytes read from streams.
    pub bytes_read: u64,
    /// Bytes written to streams.
    pub bytes_written: u64,
    /// Next-tick callbacks run (Node's `process.nextTick` queue): what the stream state
    /// machines cost in deferred steps.
    pub next_ticks: u64,
}

impl Metrics {
    /// All write system calls (`write` + `writev`).
    pub fn write_syscalls(&self) -> u64 {
        self.write + self.writev
    }

    /// The counters accumulated between `earlier` and `self`.
    pub fn since(&self, earlier: &Metrics) -> Metrics {
        Metrics {
            loop_count: self.loop_count - earlier.loop_count,
            events: self.events - earlier.events,
            idle_time: self.idle_time.saturating_sub(earlier.idle_time),
            epoll_wait: self.epoll_wait - earlier.epoll_wait,
            read: self.read - earlier.read,
            write: self.write - earlier.write,
            writev: self.writev - earlier.writev,
            accept: self.accept - earlier.accept,
            read_eagain: self.read_eagain - earlier.read_eagain,
            write_eagain: self.write_eagain - earlier.write_eagain,
            write_partial: self.write_partial - earlier.write_partial,
            bytes_read: self.bytes_read - earlier.bytes_read,
            bytes_written: self.bytes_written - earlier.bytes_written,
            next_ticks: self.next_ticks - earlier.next_ticks,
        }
    }
}

/// The loop's live copy. Next ticks are counted apart: they are the hottest counter,
/// and one `u64` is cheaper to bump than the whole snapshot.
#[derive(Default)]
pub(crate) struct MetricsCell(Cell<Metrics>, Cell<u64>);

impl MetricsCell {
    #[inline]
    pub(crate) fn bump(&self, f: impl FnOnce(&mut Metrics)) {
        let mut m = self.0.get();
        f(&mut m);
        self.0.set(m);
    }

    #[inline]
    pub(crate) fn add_next_ticks(&self, n: u64) {
        self.1.set(self.1.get() + n);
    }

    pub(crate) fn get(&self) -> Metrics {
        Metrics { next_ticks: self.1.get(), ..self.0.get() }
    }
}

/// Per-stream counters (`Tcp::stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes read from the socket.
    pub bytes_read: u64,
    /// Bytes written to the socket.
    pub bytes_written: u64,
    /// `read(2)` calls on the socket.
    pub read_calls: u64,
    /// `write(2)`/`writev(2)` calls on the socket.
    pub write_calls: u64,
    /// Write requests completed (successfully or not).
    pub write_reqs: u64,
    /// Writes that returned `EAGAIN`.
    pub write_eagain: u64,
    /// Writes the kernel took only in part.
    pub write_partial: u64,
}
