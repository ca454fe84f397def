//! Destroy, errors, construct (Node 20, `lib/internal/streams/destroy.js`).
//!
//! `destroy(err)` marks both sides destroyed at once, calls `_destroy`, and when that
//! calls back, emits `error` (if any) and then `close`, each on a next tick. Errors
//! raised inside the machinery go through `errorOrDestroy`: with `autoDestroy` (the
//! default) they destroy the stream; without, they only mark it errored and emit
//! `error`. `error` is emitted at most once per stream.
//!
//! After `close` the stream drops every listener, which breaks the reference cycles
//! that Node code builds without a thought (a stream's listener capturing another
//! stream whose listener captures the first).

use crate::chunk::Side;
use crate::errors::Error;
use crate::events::Event;
use crate::stream::TickKind;
use crate::stream::{ConstructCallback, DestroyCallback, Stream};

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    /// `stream.destroy(err)`: releases the stream at once; `error` (with `err`) and
    /// `close` follow on next ticks. Destroying twice does nothing.
    pub fn destroy(&self, err: Option<Error>) -> &Self {
        self.destroy_closing(err, false)
    }

    /// `destroy()` with `close` emitted now instead of a tick later: for types built on
    /// streams whose Node counterpart closes in step with something else, as Node's
    /// `ServerResponse` emits `close` inside its socket's `close` (`onServerResponseClose`
    /// calls `emitCloseNT` itself). A stream with a `_destroy` hook, or not constructed
    /// yet, is destroyed as by `destroy(None)`; a destroyed one is left alone.
    pub fn destroy_closing_now(&self) -> &Self {
        self.destroy_closing(None, true)
    }

    fn destroy_closing(&self, err: Option<Error>, close_now: bool) -> &Self {
        // Writable.prototype.destroy: fail what is still buffered, on the next tick.
        if let Some(w) = self.ws_ref() {
            if !w.destroyed && (!w.buffered.is_empty() || !w.on_finished.is_empty()) {
                drop(w);
                self.tick_kind(TickKind::ErrorBuffer);
            }
        }
        destroy(self, err, close_now);
        self
    }

    /// `destroyed`.
    pub fn destroyed(&self) -> bool {
        match (self.rs_ref(), self.ws_ref()) {
            (Some(r), Some(w)) => r.destroyed && w.destroyed,
            (Some(r), None) => r.destroyed,
            (None, Some(w)) => w.destroyed,
            (None, None) => false,
        }
    }

    /// `closed`: `_destroy` has called back.
    pub fn closed(&self) -> bool {
        self.ws_ref().map(|w| w.closed).or_else(|| self.rs_ref().map(|r| r.closed)).unwrap_or(false)
    }

    /// `errored`: the error the stream failed with.
    pub fn errored(&self) -> Option<Error> {
        self.ws_ref().and_then(|w| w.errored.clone()).or_else(|| self.rs_ref().and_then(|r| r.errored.clone()))
    }
}

/// `checkError`: records `err` on both sides (first error wins).
fn check_error<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: &Option<Error>) {
    let Some(err) = err else { return };
    if let Some(mut w) = s.ws() {
        if w.errored.is_none() {
            w.errored = Some(err.clone());
        }
    }
    if let Some(mut r) = s.rs() {
        if r.errored.is_none() {
            r.errored = Some(err.clone());
        }
    }
}

/// `close_now`: without a `_destroy` hook, `close` is emitted before this returns.
fn destroy<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Option<Error>, close_now: bool) {
    let already = s.ws_ref().is_some_and(|w| w.destroyed) || s.rs_ref().is_some_and(|r| r.destroyed);
    if already {
        return;
    }
    check_error(s, &err);
    if let Some(mut w) = s.ws() {
        w.destroyed = true;
    }
    if let Some(mut r) = s.rs() {
        r.destroyed = true;
    }
    let constructed = s.ws_ref().map(|w| w.constructed).or_else(|| s.rs_ref().map(|r| r.constructed)).unwrap_or(true);
    if !constructed {
        *s.0.pending_destroy.borrow_mut() = Some(err);
    } else {
        call_destroy_hook(s, err, close_now);
    }
}

/// `_destroy(self, err, cb)`; without a hook, the callback at once (`close_now`: and
/// `close` too).
fn call_destroy_hook<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Option<Error>, close_now: bool) {
    match &s.0.hooks.destroy {
        Some(f) => f(s, err, DestroyCallback { stream: s.clone() }),
        None => destroyed(s, err, close_now),
    }
}

/// `onDestroy`: the `_destroy` callback.
pub(crate) fn on_destroy<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Option<Error>) {
    destroyed(s, err, false);
}

/// `onDestroy` without an error, `close` emitted before this returns.
pub(crate) fn on_destroy_closing_now<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    destroyed(s, None, true);
}

/// `onDestroy`, with `close` emitted now rather than on the next tick if `close_now` and
/// there is no error.
fn destroyed<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Option<Error>, close_now: bool) {
    check_error(s, &err);
    if let Some(mut w) = s.ws() {
        w.closed = true;
    }
    if let Some(mut r) = s.rs() {
        r.closed = true;
    }
    match err {
        Some(err) => s.tick(move |s| {
            emit_error_nt(s, &err);
            emit_close_nt(s);
        }),
        None if close_now => emit_close_nt(s),
        None => s.tick_kind(TickKind::EmitClose),
    }
}

/// `emitCloseNT`.
pub(crate) fn emit_close_nt<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let mut emit = false;
    if let Some(mut w) = s.ws() {
        w.close_emitted = true;
        emit |= w.emit_close;
    }
    if let Some(mut r) = s.rs() {
        r.close_emitted = true;
        emit |= r.emit_close;
    }
    if emit {
        emit_close_and_release(s);
    }
}

/// Emits `close` and drops every listener: the machinery emits nothing after `close`,
/// except on a source that still pipes somewhere: when that destination finishes or
/// closes, `unpipe` pauses the source and Node emits `pause` on it then. Such a source
/// keeps its listeners until its last pipe goes (see `pipe::unpipe`).
pub(crate) fn emit_close_and_release<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    s.emit_plain(Event::Close);
    if s.rs_ref().is_none_or(|r| r.pipes.is_empty()) {
        s.drop_listeners();
    }
}

/// `emitErrorNT`: `error`, at most once.
pub(crate) fn emit_error_nt<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: &Error) {
    let emitted = s.ws_ref().is_some_and(|w| w.error_emitted) || s.rs_ref().is_some_and(|r| r.error_emitted);
    if emitted {
        return;
    }
    if let Some(mut w) = s.ws() {
        w.error_emitted = true;
    }
    if let Some(mut r) = s.rs() {
        r.error_emitted = true;
    }
    s.emit_error(err);
}

/// `errorOrDestroy`.
pub(crate) fn error_or_destroy<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Error, sync: bool) {
    let destroyed = s.ws_ref().is_some_and(|w| w.destroyed) || s.rs_ref().is_some_and(|r| r.destroyed);
    if destroyed {
        return;
    }
    let auto = s.rs_ref().is_some_and(|r| r.auto_destroy) || s.ws_ref().is_some_and(|w| w.auto_destroy);
    if auto {
        s.destroy(Some(err));
        return;
    }
    check_error(s, &Some(err.clone()));
    if sync {
        s.tick(move |s| emit_error_nt(s, &err));
    } else {
        emit_error_nt(s, &err);
    }
}

/// `construct`: `_construct` runs on the next tick; both sides wait for it.
pub(crate) fn construct<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if let Some(mut r) = s.rs() {
        r.constructed = false;
    }
    if let Some(mut w) = s.ws() {
        w.constructed = false;
    }
    s.tick(|s| {
        if let Some(f) = &s.0.hooks.construct {
            f(s, ConstructCallback { stream: s.clone() });
        }
    });
}

/// `onConstruct`: the `_construct` callback.
pub(crate) fn on_construct<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Option<Error>) {
    if let Some(mut r) = s.rs() {
        r.constructed = true;
    }
    if let Some(mut w) = s.ws() {
        w.constructed = true;
    }
    let pending = s.0.pending_destroy.borrow_mut().take();
    if let Some(destroy_err) = pending {
        call_destroy_hook(s, err.or(destroy_err), false);
    } else if let Some(err) = err {
        error_or_destroy(s, err, true);
    } else {
        s.tick(|s| {
            // kConstruct: the Readable's listener, then the Writable's.
            let need_readable = s.rs_ref().is_some_and(|r| r.need_readable);
            if need_readable {
                crate::readable::maybe_read_more(s);
            }
            if s.has_writable() {
                if !s.w().writing {
                    crate::writable::clear_buffer(s);
                }
                crate::writable::finish_maybe(s, false);
            }
        });
    }
}

/// Readies `s` for [`dummy_destroy`]: its `close` comes from there, not from the
/// machinery (which would release the listeners of a stream that lives on).
pub(crate) fn keep_open<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if let Some(mut w) = s.ws() {
        w.emit_close = false;
    }
    if let Some(mut r) = s.rs() {
        r.emit_close = false;
    }
}

/// `dummyDestroy` (Node's `_destroy` of `process.stdout` and `stderr`): the descriptor
/// is never closed. The destroy completes (`error`, if any, then `close` on next ticks),
/// and the stream is made new at once (`_undestroy`): `destroyed` is false again when
/// `destroy()` returns, and later writes go out. Its listeners stay.
pub(crate) fn dummy_destroy<R: Side, W: Side, E: 'static>(
    s: &Stream<R, W, E>,
    err: Option<Error>,
    cb: DestroyCallback<R, W, E>,
) {
    cb.call(err);
    undestroy(s);
    s.tick(|s| {
        s.emit_plain(Event::Close);
    });
}

/// `_undestroy()`: both sides as after construction (a side made ended by `readable:
/// false` or `writable: false` stays so).
pub(crate) fn undestroy<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if let Some(mut r) = s.rs() {
        let gone = r.readable == Some(false);
        r.constructed = true;
        r.closed = false;
        r.close_emitted = false;
        r.destroyed = false;
        r.errored = None;
        r.error_emitted = false;
        r.reading = false;
        r.ended = gone;
        r.end_emitted = gone;
    }
    if let Some(mut w) = s.ws() {
        let gone = w.writable == Some(false);
        w.constructed = true;
        w.destroyed = false;
        w.closed = false;
        w.close_emitted = false;
        w.errored = None;
        w.error_emitted = false;
        w.final_called = false;
        w.prefinished = false;
        w.ended = gone;
        w.ending = gone;
        w.finished = gone;
    }
}
