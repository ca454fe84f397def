//! Duplex streams and the builders (Node 20, `lib/internal/streams/duplex.js`).
//!
//! A Duplex is one stream with both sides and one destroy machine. `allowHalfOpen`
//! (default true) decides what the end of the readable side does to the writable side:
//! with it false, `end` on the readable side calls `end()` on the writable side. The
//! options `readable: false` / `writable: false` create a side that starts ended.

use crate::chunk::{Absent, Chunk, Side};
use crate::errors::Result;
use crate::events::Event;
use crate::stream::{BeforeWrite, Builder, FinalCallback, Stream, WriteCallback};

/// Applies `readable: false` / `writable: false` (Node's Duplex constructor).
pub(crate) fn apply_side_options<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, readable: bool, writable: bool) {
    if !readable {
        let mut r = s.r();
        r.readable = Some(false);
        r.ended = true;
        r.end_emitted = true;
    }
    if !writable {
        let mut w = s.w();
        w.writable = Some(false);
        w.ending = true;
        w.ended = true;
        w.finished = true;
    }
}

/// Node's `stream.writable` getter (false for a stream without a writable side).
pub(crate) fn writable_prop<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    match s.ws_ref() {
        None => false,
        Some(w) => w.writable != Some(false) && !w.destroyed && w.errored.is_none() && !w.ending && !w.ended,
    }
}

/// `endWritableNT`: the readable side ended and half-open is not allowed.
pub(crate) fn end_writable_nt<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let writable = writable_prop(s) && !s.w().ending && !s.destroyed();
    if writable {
        crate::writable::end(s, None, None);
    }
}

impl<R: Chunk, W: Chunk, E: 'static> Stream<R, W, E> {
    /// `allowHalfOpen`.
    pub fn allow_half_open(&self) -> bool {
        self.0.allow_half_open.get()
    }

    /// Sets `allowHalfOpen`.
    pub fn set_allow_half_open(&self, on: bool) {
        self.0.allow_half_open.set(on);
    }
}

impl<T: Chunk> Stream<T, Absent, ()> {
    /// Builds a Readable (`new Readable({ read, … })`).
    pub fn builder() -> Builder<T, Absent, ()> {
        Builder::with_ext(true, false, ())
    }
}

impl<T: Chunk> Stream<Absent, T, ()> {
    /// Builds a Writable (`new Writable({ write, writev, final, … })`).
    pub fn builder() -> Builder<Absent, T, ()> {
        Builder::with_ext(false, true, ())
    }
}

impl<R: Chunk, W: Chunk> Stream<R, W, ()> {
    /// Builds a Duplex (`new Duplex({ read, write, … })`); with `transform` it becomes a
    /// Transform.
    pub fn builder() -> Builder<R, W, ()> {
        Builder::with_ext(true, true, ())
    }
}

impl<R: Chunk, W: Side, E: 'static> Builder<R, W, E> {
    /// `_read(size)`: produce data with `push`; called again after each push until the
    /// buffer reaches the highWaterMark.
    pub fn read(mut self, f: impl Fn(&Stream<R, W, E>, usize) + 'static) -> Self {
        self.hooks.read = Some(Box::new(f));
        self
    }

    /// `readableHighWaterMark`.
    pub fn readable_high_water_mark(mut self, hwm: usize) -> Self {
        self.opts.readable_high_water_mark = Some(hwm);
        self
    }

    /// `readableObjectMode`.
    pub fn readable_object_mode(mut self) -> Self {
        self.opts.readable_object_mode = true;
        self
    }

    /// `encoding`: decode byte chunks as text.
    pub fn encoding(mut self, enc: crate::decoder::Encoding) -> Self {
        self.opts.encoding = Some(enc);
        self
    }
}

impl<R: Side, W: Chunk, E: 'static> Builder<R, W, E> {
    /// `_write(chunk, cb)`.
    pub fn write(mut self, f: impl Fn(&Stream<R, W, E>, W, WriteCallback<R, W, E>) + 'static) -> Self {
        self.hooks.write = Some(Box::new(f));
        self
    }

    /// `_writev(chunks, cb)`: everything buffered (while corked or while a write was in
    /// flight) in one call.
    pub fn writev(mut self, f: impl Fn(&Stream<R, W, E>, Vec<W>, WriteCallback<R, W, E>) + 'static) -> Self {
        self.hooks.writev = Some(Box::new(f));
        self
    }

    /// `_final(cb)`: runs after `end()` once every write is done, before `finish`. On a
    /// Transform it replaces the built-in final, and `flush` then runs on `prefinish`,
    /// as in Node.
    pub fn final_(mut self, f: impl Fn(&Stream<R, W, E>, FinalCallback<R, W, E>) + 'static) -> Self {
        self.hooks.final_ = Some(Box::new(f));
        self
    }

    /// Called in `write(chunk)` once the stream has checked it is neither ending nor
    /// destroyed, and first thing in `end(chunk?)`, with the chunk. An error refuses
    /// the call as a write after `end` is refused: the callback gets the error, the
    /// stream is destroyed with it (or, without autoDestroy, emits it), `write` returns
    /// false. Not a Node hook: Node's `OutgoingMessage` is not a Writable; its `write`
    /// and `end` decide the head, learn the Content-Length and check the body's length
    /// there (and throw).
    pub fn before_write(mut self, f: impl Fn(&Stream<R, W, E>, BeforeWrite<'_, W>) -> Result<()> + 'static) -> Self {
        self.hooks.before_write = Some(Box::new(f));
        self
    }

    /// Called for every event that passes no value (`end`, `finish`, `close`, `drain`,
    /// ...) just before its listeners: the stream owner's own reaction, which a user's
    /// `remove_all_listeners` cannot take away. Not a Node hook: Node's HTTP server
    /// registers listeners first thing instead, which costs an allocation per message.
    pub fn observe(mut self, f: impl Fn(&Stream<R, W, E>, Event) + 'static) -> Self {
        self.hooks.observe = Some(Box::new(f));
        self
    }

    /// `writableHighWaterMark`.
    pub fn writable_high_water_mark(mut self, hwm: usize) -> Self {
        self.opts.writable_high_water_mark = Some(hwm);
        self
    }

    /// `writableObjectMode`.
    pub fn writable_object_mode(mut self) -> Self {
        self.opts.writable_object_mode = true;
        self
    }
}

impl<R: Chunk, W: Chunk, E: 'static> Builder<R, W, E> {
    /// `allowHalfOpen: false`: the end of the readable side ends the writable side.
    pub fn no_half_open(mut self) -> Self {
        self.opts.allow_half_open = false;
        self
    }

    /// `readable: false`.
    pub fn not_readable(mut self) -> Self {
        self.opts.readable = false;
        self
    }

    /// `writable: false`.
    pub fn not_writable(mut self) -> Self {
        self.opts.writable = false;
        self
    }
}

impl<R: Side, W: Side, E: 'static> Builder<R, W, E> {
    /// Creates the stream on the current thread's loop.
    pub fn build(self) -> Stream<R, W, E> {
        self.build_stream()
    }

    /// [`build`](Builder::build), into the memory of `old` if nothing else holds `old`
    /// any more (no clone, no weak reference; its listeners are gone once it closed).
    /// Otherwise `old` is let go and the stream is allocated as `build` does. A server
    /// that makes a stream per message can hand back finished ones and so stay off the
    /// allocator.
    pub fn build_reusing(self, old: Stream<R, W, E>) -> Stream<R, W, E> {
        self.build_into(Some(old))
    }
}
