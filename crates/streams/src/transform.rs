//! Transform and PassThrough (Node 20, `lib/internal/streams/transform.js`).
//!
//! A Transform is a Duplex whose `_write` hands each chunk to `transform`, which pushes
//! output and then calls back. The write callback is held back while the readable side
//! is full (at or above its highWaterMark and the transform added to it), and released
//! by the next `_read`: that is how backpressure crosses a transform. `flush` runs from
//! `_final`, before the readable side ends.

use std::cell::RefCell;

use crate::chunk::{Chunk, Side};
use crate::errors::{Code, Error, Result};
use crate::stream::{Builder, FinalCallback, Options, Stream, WriteCallback};

pub(crate) type TransformFn<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, W, TransformCallback<R, W, E>)>;
pub(crate) type FlushFn<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, FlushCallback<R, W, E>)>;

/// A Transform's hooks and its held write callback (Node's `kCallback`).
pub(crate) struct Xform<R, W, E> {
    transform: Option<TransformFn<R, W, E>>,
    flush: Option<FlushFn<R, W, E>>,
    callback: RefCell<Option<WriteCallback<R, W, E>>>,
}

impl<R: Side, W: Side, E: 'static> Xform<R, W, E> {
    /// `Transform.prototype._write`.
    pub(crate) fn write(&self, s: &Stream<R, W, E>, chunk: W, cb: WriteCallback<R, W, E>) {
        let length = s.r().length;
        match &self.transform {
            Some(f) => f(s, chunk, TransformCallback { cb, length }),
            None => cb.call(Err(Error::node(Code::ERR_METHOD_NOT_IMPLEMENTED, "_transform()"))),
        }
    }

    /// Back to no held write callback (`Stream::renew`).
    pub(crate) fn renew(&mut self) {
        *self.callback.get_mut() = None;
    }

    /// `Transform.prototype._read`: releases a held write callback.
    pub(crate) fn read(&self, _s: &Stream<R, W, E>) {
        let held = self.callback.borrow_mut().take();
        if let Some(cb) = held {
            cb.ok();
        }
    }

    /// `final`: `flush`, then the end of the readable side. Without `cb` (called from
    /// `prefinish` when a user `final` replaced it) a flush error destroys the stream.
    pub(crate) fn final_(&self, s: &Stream<R, W, E>, cb: Option<FinalCallback<R, W, E>>) {
        match &self.flush {
            Some(f) if !s.destroyed() => f(s, FlushCallback { stream: s.clone(), cb }),
            _ => {
                crate::readable::push_internal(s, None);
                if let Some(cb) = cb {
                    cb.call(Ok(()));
                }
            }
        }
    }
}

/// The callback of a `transform` call: `cb.call(Ok(Some(out)))` pushes `out` and asks
/// for the next chunk; `Ok(None)` just asks; `Err(e)` fails the write.
#[must_use = "a transform that never calls back stalls the stream"]
pub struct TransformCallback<R, W, E> {
    cb: WriteCallback<R, W, E>,
    length: usize,
}

impl<R: Side, W: Side, E: 'static> TransformCallback<R, W, E> {
    /// Reports the transform of one chunk.
    pub fn call(self, result: Result<Option<R>>) {
        let s = self.cb.stream.clone();
        let val = match result {
            Err(e) => {
                self.cb.call(Err(e));
                return;
            }
            Ok(v) => v,
        };
        if let Some(v) = val {
            crate::readable::push_internal(&s, Some(v));
        }
        let (r_ended, release) = {
            let ended = s.w().ended;
            let r = s.r();
            (r.ended, ended || self.length == r.length || r.length < r.hwm)
        };
        if r_ended {
            // The transform pushed the end itself: Node delays the callback a tick so
            // the new state propagates first.
            let cb = self.cb;
            s.0.lp.next_tick(move || cb.ok());
        } else if release {
            self.cb.ok();
        } else if let Some(x) = &s.0.xform {
            *x.callback.borrow_mut() = Some(self.cb);
        }
    }
}

/// The callback of `flush`: pushes a last chunk (if any) and ends the readable side.
#[must_use = "a flush that never calls back stalls the stream"]
pub struct FlushCallback<R, W, E> {
    stream: Stream<R, W, E>,
    cb: Option<FinalCallback<R, W, E>>,
}

impl<R: Side, W: Side, E: 'static> FlushCallback<R, W, E> {
    /// Reports the flush.
    pub fn call(self, result: Result<Option<R>>) {
        let s = self.stream;
        match result {
            Err(e) => match self.cb {
                Some(cb) => cb.call(Err(e)),
                None => {
                    s.destroy(Some(e));
                }
            },
            Ok(data) => {
                if let Some(d) = data {
                    crate::readable::push_internal(&s, Some(d));
                }
                crate::readable::push_internal(&s, None);
                if let Some(cb) = self.cb {
                    cb.call(Ok(()));
                }
            }
        }
    }
}

impl<R: Chunk, W: Chunk, E: 'static> Builder<R, W, E> {
    /// `_transform(chunk, cb)`: makes the stream a Transform.
    pub fn transform(mut self, f: impl Fn(&Stream<R, W, E>, W, TransformCallback<R, W, E>) + 'static) -> Self {
        self.xform_mut().transform = Some(Box::new(f));
        self
    }

    /// `_flush(cb)`: runs at the end of a Transform's input.
    pub fn flush(mut self, f: impl Fn(&Stream<R, W, E>, FlushCallback<R, W, E>) + 'static) -> Self {
        self.xform_mut().flush = Some(Box::new(f));
        self
    }

    fn xform_mut(&mut self) -> &mut Xform<R, W, E> {
        self.xform.get_or_insert_with(|| Xform { transform: None, flush: None, callback: RefCell::new(None) })
    }
}

/// The Transform constructor's options: a readable highWaterMark of 0 makes the
/// writable side buffer nothing too (unless it has its own), so that a Transform does
/// not buffer twice.
pub(crate) fn transform_options(o: &mut Options) {
    if o.high_water_mark.or(o.readable_high_water_mark) == Some(0) {
        o.high_water_mark = None;
        o.readable_high_water_mark = Some(0);
        o.writable_high_water_mark = Some(o.writable_high_water_mark.unwrap_or(0));
    }
}

/// Node's `Transform`: accepts `I`, yields `O`. Build one with
/// `Transform::<I, O>::builder().transform(…)`.
pub type Transform<I = bytes::Bytes, O = I, E = ()> = Stream<O, I, E>;

/// Node's `PassThrough`: a Transform that passes every chunk on.
pub type PassThrough<T = bytes::Bytes> = Stream<T, T, ()>;

/// A new PassThrough with default options.
pub fn pass_through<T: Chunk>() -> PassThrough<T> {
    pass_through_builder().build()
}

/// A PassThrough builder, to set options first.
pub fn pass_through_builder<T: Chunk>() -> Builder<T, T, ()> {
    Stream::<T, T, ()>::builder().transform(|_, chunk, cb| cb.call(Ok(Some(chunk))))
}
