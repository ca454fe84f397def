//! `pipeline` (Node 20, `lib/internal/streams/pipeline.js`).
//!
//! Pipes each stream into the next, destroys every stream on the first error, and calls
//! back exactly once: with the first real error (an `ERR_STREAM_PREMATURE_CLOSE` loses to
//! any other error that comes later), or with none once the last stream finished.
//!
//! ```
//! use bytes::Bytes;
//! use millrace_streams::{pass_through, pipeline, Readable, Writable};
//! use std::{cell::RefCell, rc::Rc};
//!
//! let lp = millrace_reactor::Loop::new()?;
//! let got = Rc::new(RefCell::new(Vec::new()));
//! lp.enter(|| {
//!     let src = Readable::<Bytes>::builder().read(|r, _| { r.push(Bytes::from("hi")); r.push(None); }).build();
//!     let sink = got.clone();
//!     let dst = Writable::<Bytes>::builder().write(move |_, c, cb| { sink.borrow_mut().push(c); cb.ok() }).build();
//!     pipeline(&src).pipe(&pass_through()).pipe(&dst).done(|err| assert!(err.is_none()));
//! });
//! lp.run(millrace_reactor::RunMode::Default);
//! assert_eq!(*got.borrow(), vec![Bytes::from("hi")]);
//! # Ok::<(), millrace_reactor::Error>(())
//! ```

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::chunk::{Chunk, Side};
use crate::errors::{Code, Error};
use crate::finished::{finished_with, is_readable_finished, Cleanup, FinishedOptions};
use crate::pipe::PipeOptions;
use crate::stream::Stream;

type Setup = Box<dyn FnOnce(&Rc<State>, usize, usize)>;
type ErrCb = Box<dyn FnOnce(Option<Error>)>;

#[derive(Default)]
struct State {
    error: RefCell<Option<Error>>,
    destroys: RefCell<Vec<ErrCb>>,
    /// Node's `finishCount`; error paths call `finish` more often than counted, so it
    /// may go below zero, as in JavaScript.
    finish_count: Cell<isize>,
    last_cleanup: RefCell<Vec<Box<dyn FnOnce()>>>,
    callback: RefCell<Option<ErrCb>>,
    lp: RefCell<Option<millrace_reactor::Loop>>,
}

impl State {
    /// `finish(err)`.
    fn finish(self: &Rc<Self>, err: Option<Error>) {
        let left = self.finish_count.get() - 1;
        self.finish_count.set(left);
        self.finish_impl(err, left == 0);
    }

    /// `finishImpl(err, final)`.
    fn finish_impl(self: &Rc<Self>, err: Option<Error>, final_: bool) {
        if let Some(err) = err {
            let replace = self.error.borrow().as_ref().is_none_or(|e| e.is(Code::ERR_STREAM_PREMATURE_CLOSE));
            if replace {
                *self.error.borrow_mut() = Some(err);
            }
        }
        let error = self.error.borrow().clone();
        if error.is_none() && !final_ {
            return;
        }
        loop {
            let next = {
                let mut d = self.destroys.borrow_mut();
                if d.is_empty() {
                    None
                } else {
                    Some(d.remove(0))
                }
            };
            match next {
                Some(destroy) => destroy(error.clone()),
                None => break,
            }
        }
        if final_ {
            if error.is_none() {
                let cleanups = std::mem::take(&mut *self.last_cleanup.borrow_mut());
                for c in cleanups {
                    c();
                }
            }
            let cb = self.callback.borrow_mut().take();
            if let (Some(cb), Some(lp)) = (cb, self.lp.borrow().clone()) {
                lp.next_tick(move || cb(error));
            }
        }
    }
}

/// A pipeline being assembled: `pipeline(&src).pipe(&t).pipe(&dest).done(cb)`.
pub struct Pipeline<R, W, E> {
    last: Stream<R, W, E>,
    setups: Vec<Setup>,
}

/// Starts a pipeline at `src`.
pub fn pipeline<R: Chunk, W: Side, E: 'static>(src: &Stream<R, W, E>) -> Pipeline<R, W, E> {
    let s = src.clone();
    Pipeline { last: src.clone(), setups: vec![Box::new(move |st, i, n| stage(st, &s, i, n))] }
}

/// The per-stream part of `pipelineImpl`: a destroyer, and an error listener.
fn stage<R: Side, W: Side, E: 'static>(st: &Rc<State>, s: &Stream<R, W, E>, i: usize, n: usize) {
    let reading = i < n - 1;
    let writing = i > 0;
    let is_last = i == n - 1;
    let readable = crate::finished::is_readable(s) == Some(true);
    // `end` is always true here: pipelines end their last stream.
    let (destroy, cleanup) = destroyer(s, reading, writing);
    st.destroys.borrow_mut().push(destroy);
    if readable && is_last {
        st.last_cleanup.borrow_mut().push(Box::new(move || cleanup.call()));
    } else {
        drop(cleanup); // the listeners stay; only the detach handle goes
    }
    let st2 = st.clone();
    let id = s.on_error(move |_, err| {
        if !err.is(Code::ERR_STREAM_PREMATURE_CLOSE) {
            st2.finish(Some(err.clone()));
        }
    });
    if readable && is_last {
        let s = s.clone();
        st.last_cleanup.borrow_mut().push(Box::new(move || {
            s.off(id);
        }));
    }
}

/// `destroyer(stream, reading, writing)`.
fn destroyer<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, reading: bool, writing: bool) -> (ErrCb, Cleanup) {
    let done = Rc::new(Cell::new(false));
    {
        let done = done.clone();
        s.on_close(move |_| done.set(true));
    }
    let cleanup = {
        let done = done.clone();
        finished_with(
            s,
            FinishedOptions { readable: Some(reading), writable: Some(writing), error: true },
            move |err| done.set(err.is_none()),
        )
    };
    let s = s.clone();
    let destroy = Box::new(move |err: Option<Error>| {
        if done.get() {
            return;
        }
        done.set(true);
        s.destroy(Some(err.unwrap_or_else(|| Error::node(Code::ERR_STREAM_DESTROYED, "pipe"))));
    });
    (destroy, cleanup)
}

impl<R: Chunk, W: Side, E: 'static> Pipeline<R, W, E> {
    /// Adds the next stream.
    pub fn pipe<R2: Side, E2: 'static>(mut self, next: &Stream<R2, R, E2>) -> Pipeline<R2, R, E2> {
        let (src, dst) = (self.last.clone(), next.clone());
        self.setups.push(Box::new(move |st, i, n| {
            stage(st, &dst, i, n);
            pipe_pair(st, &src, &dst, i == n - 1);
        }));
        Pipeline { last: next.clone(), setups: self.setups }
    }
}

impl<R: Side, W: Side, E: 'static> Pipeline<R, W, E> {
    /// Wires everything and registers `cb`, called once (on a next tick) with the first
    /// error or none. Returns the last stream.
    pub fn done(self, cb: impl FnOnce(Option<Error>) + 'static) -> Stream<R, W, E> {
        let st = Rc::new(State::default());
        *st.callback.borrow_mut() = Some(Box::new(cb));
        *st.lp.borrow_mut() = Some(self.last.get_loop().clone());
        let n = self.setups.len();
        for (i, setup) in self.setups.into_iter().enumerate() {
            setup(&st, i, n);
        }
        if n < 2 {
            st.finish_count.set(1);
            st.finish(None);
        }
        self.last
    }
}

/// `pipe(src, dst, finish, { end })` inside pipeline.js.
fn pipe_pair<R: Chunk, W: Side, E: 'static, R2: Side, E2: 'static>(
    st: &Rc<State>,
    src: &Stream<R, W, E>,
    dst: &Stream<R2, R, E2>,
    is_last: bool,
) {
    st.finish_count.set(st.finish_count.get() + 2);
    let ended = Rc::new(Cell::new(false));
    {
        let (st, ended) = (st.clone(), ended.clone());
        dst.on_close(move |_| {
            if !ended.get() {
                st.finish(Some(Error::node(Code::ERR_STREAM_PREMATURE_CLOSE, "")));
            }
        });
    }
    src.pipe_with(dst, PipeOptions { end: false });
    {
        let (dst2, ended2) = (dst.clone(), ended.clone());
        let end_fn = move || {
            ended2.set(true);
            crate::writable::end(&dst2, None, None);
        };
        if is_readable_finished(src, true) == Some(true) {
            src.get_loop().next_tick(end_fn);
        } else {
            src.once_end(move |_| end_fn());
        }
    }
    {
        let st = st.clone();
        let cleanup =
            finished_with(src, FinishedOptions { readable: Some(true), writable: Some(false), error: true }, {
                let src = src.clone();
                move |err| {
                    let premature_after_end = err.as_ref().is_some_and(|e| e.is(Code::ERR_STREAM_PREMATURE_CLOSE))
                        && src.rs_ref().is_some_and(|r| r.ended && r.errored.is_none() && !r.error_emitted);
                    if premature_after_end {
                        let (a, b) = (st.clone(), st.clone());
                        src.once_end(move |_| a.finish(None));
                        src.once_error(move |_, e| b.finish(Some(e.clone())));
                    } else {
                        st.finish(err);
                    }
                }
            });
        drop(cleanup); // the listeners stay; only the detach handle goes
    }
    let st2 = st.clone();
    let cleanup =
        finished_with(dst, FinishedOptions { readable: Some(false), writable: Some(true), error: true }, move |err| {
            st2.finish(err)
        });
    let readable_last = is_last && crate::finished::is_readable(dst) == Some(true);
    if readable_last {
        st.last_cleanup.borrow_mut().push(Box::new(move || cleanup.call()));
    } else {
        drop(cleanup); // the listeners stay; only the detach handle goes
    }
}
