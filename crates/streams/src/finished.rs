//! `finished` (Node 20, `lib/internal/streams/end-of-stream.js`, `eos`).
//!
//! Calls back once when a stream is done: after `end` (readable side) and `finish`
//! (writable side), or on `error`, or with `ERR_STREAM_PREMATURE_CLOSE` when `close`
//! comes first. A stream that will emit `close` (autoDestroy + emitClose) is reported
//! done only at `close`, so the callback sees the stream fully released. The returned
//! [`Cleanup`] removes the listeners without calling back.

use std::cell::RefCell;
use std::rc::Rc;

use crate::chunk::Side;
use crate::errors::{Code, Error};
use crate::events::ListenerId;
use crate::stream::Stream;

/// Options for [`finished_with`] (Node's `{ readable, writable, error }`).
#[derive(Clone, Copy, Debug)]
pub struct FinishedOptions {
    /// Wait for the readable side (default: if the stream has one).
    pub readable: Option<bool>,
    /// Wait for the writable side (default: if the stream has one).
    pub writable: Option<bool>,
    /// Report `error` events (default true).
    pub error: bool,
}

impl Default for FinishedOptions {
    fn default() -> Self {
        FinishedOptions { readable: None, writable: None, error: true }
    }
}

/// Removes the listeners `finished` added; the callback will not run.
#[must_use = "dropping the cleanup does nothing; call it to detach"]
pub struct Cleanup(Box<dyn FnOnce()>);

impl Cleanup {
    /// Detaches.
    pub fn call(self) {
        (self.0)()
    }
}

type Callback = Rc<RefCell<Option<Box<dyn FnOnce(Option<Error>)>>>>;

fn fire(cb: &Callback, err: Option<Error>) {
    let f = cb.borrow_mut().take();
    if let Some(f) = f {
        f(err);
    }
}

/// `stream.finished(stream, cb)`.
pub fn finished<R: Side, W: Side, E: 'static>(
    s: &Stream<R, W, E>,
    cb: impl FnOnce(Option<Error>) + 'static,
) -> Cleanup {
    finished_with(s, FinishedOptions::default(), cb)
}

/// Node's `isReadableNodeStream`.
pub(crate) fn is_readable_node_stream<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    match (s.rs_ref(), s.has_writable()) {
        (None, _) => false,
        (Some(_), false) => true,
        (Some(r), true) => r.readable != Some(false),
    }
}

/// Node's `isWritableNodeStream`.
pub(crate) fn is_writable_node_stream<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    match (s.ws_ref(), s.has_readable()) {
        (None, _) => false,
        (Some(_), false) => true,
        (Some(w), true) => w.writable != Some(false),
    }
}

/// Node's `isWritableFinished(stream, strict)`.
fn is_writable_finished<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, strict: bool) -> Option<bool> {
    if !is_writable_node_stream(s) {
        return None;
    }
    let w = s.ws_ref()?;
    if w.finished {
        return Some(true);
    }
    if w.errored.is_some() {
        return Some(false);
    }
    Some(w.finished || (!strict && w.ended && w.length == 0))
}

/// Node's `isReadableFinished(stream, strict)`.
pub(crate) fn is_readable_finished<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, strict: bool) -> Option<bool> {
    if !is_readable_node_stream(s) {
        return None;
    }
    let r = s.rs_ref()?;
    if r.errored.is_some() {
        return Some(false);
    }
    Some(r.end_emitted || (!strict && r.ended && r.length == 0))
}

/// Node's `isReadable` (the "still readable" test; `None` without a readable property).
pub(crate) fn is_readable<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> Option<bool> {
    s.rs_ref()?;
    if s.destroyed_any() {
        return Some(false);
    }
    let readable_prop = {
        let r = s.rs_ref()?;
        r.readable != Some(false) && !r.destroyed && !r.error_emitted && !r.end_emitted
    };
    Some(is_readable_node_stream(s) && readable_prop && is_readable_finished(s, true) != Some(true))
}

/// Node's `isWritable`.
pub(crate) fn is_writable<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> Option<bool> {
    s.ws_ref()?;
    if s.destroyed_any() {
        return Some(false);
    }
    let ended = s.ws_ref()?.ending;
    Some(is_writable_node_stream(s) && crate::duplex::writable_prop(s) && !ended)
}

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    /// Node's `isDestroyed`: either side destroyed.
    pub(crate) fn destroyed_any(&self) -> bool {
        self.ws_ref().is_some_and(|w| w.destroyed) || self.rs_ref().is_some_and(|r| r.destroyed)
    }
}

fn will_emit_close<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    if let Some(w) = s.ws_ref() {
        return w.auto_destroy && w.emit_close && !w.closed;
    }
    if let Some(r) = s.rs_ref() {
        return r.auto_destroy && r.emit_close && !r.closed;
    }
    false
}

fn errored<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> Option<Error> {
    s.ws_ref().and_then(|w| w.errored.clone()).or_else(|| s.rs_ref().and_then(|r| r.errored.clone()))
}

/// `eos(stream, options, callback)`.
pub fn finished_with<R: Side, W: Side, E: 'static>(
    s: &Stream<R, W, E>,
    opts: FinishedOptions,
    cb: impl FnOnce(Option<Error>) + 'static,
) -> Cleanup {
    let callback: Callback = Rc::new(RefCell::new(Some(Box::new(cb))));
    let readable = opts.readable.unwrap_or_else(|| is_readable_node_stream(s));
    let writable = opts.writable.unwrap_or_else(|| is_writable_node_stream(s));

    #[derive(Clone, Copy)]
    struct Flags {
        will_emit_close: bool,
        writable_finished: bool,
        readable_finished: bool,
    }
    let flags = Rc::new(std::cell::Cell::new(Flags {
        will_emit_close: will_emit_close(s)
            && is_readable_node_stream(s) == readable
            && is_writable_node_stream(s) == writable,
        writable_finished: is_writable_finished(s, false) == Some(true),
        readable_finished: is_readable_finished(s, false) == Some(true),
    }));

    let onfinish = {
        let (callback, flags) = (callback.clone(), flags.clone());
        move |s: &Stream<R, W, E>| {
            let mut f = flags.get();
            f.writable_finished = true;
            if s.destroyed() {
                f.will_emit_close = false;
            }
            flags.set(f);
            let stream_readable = readable_prop(s);
            if f.will_emit_close && (!stream_readable || readable) {
                return;
            }
            if !readable || f.readable_finished {
                fire(&callback, None);
            }
        }
    };
    let onend = {
        let (callback, flags) = (callback.clone(), flags.clone());
        move |s: &Stream<R, W, E>| {
            let mut f = flags.get();
            f.readable_finished = true;
            if s.destroyed() {
                f.will_emit_close = false;
            }
            flags.set(f);
            let stream_writable = s.has_writable() && crate::duplex::writable_prop(s);
            if f.will_emit_close && (!stream_writable || writable) {
                return;
            }
            if !writable || f.writable_finished {
                fire(&callback, None);
            }
        }
    };
    let onerror = {
        let callback = callback.clone();
        move |_: &Stream<R, W, E>, err: &Error| fire(&callback, Some(err.clone()))
    };
    let onclose = {
        let (callback, flags) = (callback.clone(), flags.clone());
        move |s: &Stream<R, W, E>| {
            if let Some(e) = errored(s) {
                return fire(&callback, Some(e));
            }
            let f = flags.get();
            if readable
                && !f.readable_finished
                && is_readable_node_stream(s)
                && is_readable_finished(s, false) != Some(true)
            {
                return fire(&callback, Some(Error::node(Code::ERR_STREAM_PREMATURE_CLOSE, "")));
            }
            if writable && !f.writable_finished && is_writable_finished(s, false) != Some(true) {
                return fire(&callback, Some(Error::node(Code::ERR_STREAM_PREMATURE_CLOSE, "")));
            }
            fire(&callback, None);
        }
    };
    let onclosed = {
        let callback = callback.clone();
        move |s: &Stream<R, W, E>| fire(&callback, errored(s))
    };

    let mut ids: Vec<ListenerId> = Vec::new();
    if s.has_readable() {
        ids.push(s.add_plain(crate::events::Event::End, false, false, onend));
    }
    if s.has_writable() {
        ids.push(s.on_finish(onfinish));
    }
    if opts.error {
        ids.push(s.on_error(onerror));
    }
    let onclose = Rc::new(onclose);
    {
        let onclose = onclose.clone();
        ids.push(s.on_close(move |s| onclose(s)));
    }

    let closed = s.ws_ref().map(|w| w.closed).or_else(|| s.rs_ref().map(|r| r.closed)).unwrap_or(false);
    let error_emitted = s.ws_ref().is_some_and(|w| w.error_emitted) || s.rs_ref().is_some_and(|r| r.error_emitted);
    let f = flags.get();
    if closed {
        s.tick(move |s| onclose(s));
    } else if error_emitted {
        if !f.will_emit_close {
            s.tick(move |s| onclosed(s));
        }
    } else if !readable
        && (!f.will_emit_close || is_readable(s) == Some(true))
        && (f.writable_finished || is_writable(s) == Some(false))
        // Node 20: a write still pending means 'finish' is still to come.
        && s.ws_ref().is_none_or(|w| w.pending_cb == 0)
    {
        s.tick(move |s| onclosed(s));
    } else if !writable
        && (!f.will_emit_close || is_writable(s) == Some(true))
        && (f.readable_finished || is_readable(s) == Some(false))
    {
        s.tick(move |s| onclosed(s));
    }

    let stream = s.clone();
    Cleanup(Box::new(move || {
        let f = callback.borrow_mut().take();
        drop(f);
        for id in ids {
            stream.off(id);
        }
    }))
}

/// The `readable` property of a stream with a readable side.
fn readable_prop<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    match s.rs_ref() {
        Some(r) => r.readable != Some(false) && !r.destroyed && !r.error_emitted && !r.end_emitted,
        None => false,
    }
}
