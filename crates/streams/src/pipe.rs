//! `pipe` and `unpipe` (Node 20, `Readable.prototype.pipe` in readable.js).
//!
//! The backpressure loop of the seed diagram, redrawn from this file:
//!
//! ```text
//!   src 'data' ──► dest.write(chunk) ── true ──► (keep flowing)
//!                        │ false
//!                        ▼
//!            pause(): remember dest in awaitDrainWriters; src.pause()
//!                        │               ... dest's buffer empties ...
//!                        ▼
//!            dest 'drain' ──► pipeOnDrain: forget dest; when no destination is
//!                             still waiting and src has data listeners: src.resume()
//!   src 'end' ──► dest.end()     (unless { end: false })
//!   dest 'close' / 'finish' ──► unpipe;   dest 'error' ──► unpipe, then error dest
//! ```
//!
//! With several destinations the source waits for all of them (`awaitDrainWriters`
//! becomes a set, Node's `multiAwaitDrain`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::chunk::{Chunk, Side};
use crate::events::{Event, ListenerId};
use crate::stream::{AnyStream, Stream};

/// The destinations a source waits for (Node's `awaitDrainWriters`), by stream id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum AwaitDrain {
    #[default]
    None,
    One(usize),
    Many(Vec<usize>),
}

impl AwaitDrain {
    pub(crate) fn clear(&mut self) {
        match self {
            AwaitDrain::Many(v) => v.clear(),
            other => *other = AwaitDrain::None,
        }
    }
}

/// Emits `unpipe` on a destination, given the source.
pub(crate) type EmitUnpipe = Rc<dyn Fn(&dyn AnyStream)>;

/// One destination of a source.
pub(crate) struct PipeEntry {
    pub(crate) dest_id: usize,
    /// This pipe (a source may pipe into the same destination twice).
    pub(crate) pipe_id: usize,
    /// Removes the pipe's listeners (Node's `cleanup`, run by `onunpipe`).
    pub(crate) cleanup: Rc<dyn Fn()>,
    /// Emits `unpipe` on the destination.
    pub(crate) emit_unpipe: EmitUnpipe,
}

/// Options for [`Stream::pipe_with`].
#[derive(Clone, Copy, Debug)]
pub struct PipeOptions {
    /// End the destination when the source ends (default true).
    pub end: bool,
}

impl Default for PipeOptions {
    fn default() -> Self {
        PipeOptions { end: true }
    }
}

#[derive(Default)]
struct PipeIds {
    end: Option<ListenerId>,
    data: Option<ListenerId>,
    close: Option<ListenerId>,
    finish: Option<ListenerId>,
    error: Option<ListenerId>,
    drain: Option<ListenerId>,
    unpipe: Option<ListenerId>,
}

impl<R: Chunk, W: Side, E: 'static> Stream<R, W, E> {
    /// `src.pipe(dest)`: sends everything this stream yields into `dest`, with Node's
    /// backpressure; ends `dest` when this stream ends. Returns `dest`.
    pub fn pipe<R2: Side, E2: 'static>(&self, dest: &Stream<R2, R, E2>) -> Stream<R2, R, E2>
    where
        R: Chunk,
    {
        self.pipe_with(dest, PipeOptions::default())
    }

    /// `src.pipe(dest, { end })`.
    pub fn pipe_with<R2: Side, E2: 'static>(&self, dest: &Stream<R2, R, E2>, opts: PipeOptions) -> Stream<R2, R, E2> {
        pipe(self, dest, opts);
        dest.clone()
    }

    /// `src.unpipe(dest)`: stops piping into `dest`; with `None`, into every destination.
    pub fn unpipe(&self, dest: Option<&dyn AnyStream>) -> &Self {
        unpipe(self, dest.map(|d| d.stream_id()));
        self
    }
}

fn pipe<R: Chunk, W: Side, E: 'static, R2: Side, E2: 'static>(
    src: &Stream<R, W, E>,
    dest: &Stream<R2, R, E2>,
    opts: PipeOptions,
) {
    let dest_id = dest.stream_id();
    {
        let mut r = src.r();
        if r.pipes.len() == 1 && !r.multi_await_drain {
            r.multi_await_drain = true;
            r.await_drain = match r.await_drain {
                AwaitDrain::One(id) => AwaitDrain::Many(vec![id]),
                _ => AwaitDrain::Many(Vec::new()),
            };
        }
    }
    let ids = Rc::new(RefCell::new(PipeIds::default()));
    let cleaned_up = Rc::new(Cell::new(false));

    // cleanup(): removes every listener of this pipe.
    let cleanup: Rc<dyn Fn()> = {
        let (src, dest, ids, cleaned_up) = (src.clone(), dest.clone(), ids.clone(), cleaned_up.clone());
        Rc::new(move || {
            if cleaned_up.get() {
                return;
            }
            let taken = std::mem::take(&mut *ids.borrow_mut());
            for id in [taken.close, taken.finish, taken.drain, taken.error, taken.unpipe].into_iter().flatten() {
                dest.off(id);
            }
            for id in [taken.end, taken.data].into_iter().flatten() {
                src.off(id);
            }
            cleaned_up.set(true);
            // A source paused for this destination must not wait for it any more.
            let waiting = !matches!(src.r().await_drain, AwaitDrain::None);
            let dest_needs_drain = dest.ws_ref().is_none_or(|w| w.need_drain);
            if taken.drain.is_some() && waiting && dest_needs_drain {
                pipe_on_drain(&src, dest_id);
            }
        })
    };

    let emit_unpipe: EmitUnpipe = {
        let dest = dest.clone();
        Rc::new(move |src: &dyn AnyStream| {
            dest.emit_pipe(Event::Unpipe, src);
        })
    };
    let pipe_id = Rc::as_ptr(&cleaned_up) as usize;
    src.r().pipes.push(PipeEntry { dest_id, pipe_id, cleanup: cleanup.clone(), emit_unpipe });

    // onunpipe: the destination's 'unpipe' listener that cleans this pipe up, in its
    // place among the destination's listeners. Node's `unpipeInfo.hasUnpiped` lets only
    // the pipe just removed react; here, the pipe no longer in `pipes`.
    {
        let (src2, cleanup2) = (src.clone(), cleanup.clone());
        let src_id = src.stream_id();
        let id = dest.on_unpipe(move |_, readable| {
            let removed = src2.rs_ref().is_some_and(|r| !r.pipes.iter().any(|p| p.pipe_id == pipe_id));
            if readable.stream_id() == src_id && removed {
                cleanup2();
            }
        });
        ids.borrow_mut().unpipe = Some(id);
    }

    // 'end' on src: end dest, or just unpipe.
    let end_emitted = src.r().end_emitted;
    let end_fn: Box<dyn Fn()> = if opts.end {
        let dest = dest.clone();
        Box::new(move || {
            if dest.has_writable() {
                crate::writable::end(&dest, None, None);
            }
        })
    } else {
        let src = src.clone();
        Box::new(move || unpipe(&src, Some(dest_id)))
    };
    if end_emitted {
        src.0.lp.next_tick(end_fn);
    } else {
        let id = src.add_plain(crate::events::Event::End, true, false, move |_| end_fn());
        ids.borrow_mut().end = Some(id);
    }

    // pause(): the destination asked us to wait.
    let pause: Rc<dyn Fn()> = {
        let (src, dest, ids, cleaned_up) = (src.clone(), dest.clone(), ids.clone(), cleaned_up.clone());
        Rc::new(move || {
            if !cleaned_up.get() {
                {
                    let mut r = src.r();
                    let n = r.pipes.len();
                    if n == 1 && r.pipes[0].dest_id == dest_id {
                        r.await_drain = AwaitDrain::One(dest_id);
                        r.multi_await_drain = false;
                    } else if n > 1 && r.pipes.iter().any(|p| p.dest_id == dest_id) {
                        if let AwaitDrain::Many(v) = &mut r.await_drain {
                            if !v.contains(&dest_id) {
                                v.push(dest_id);
                            }
                        }
                    }
                }
                crate::readable::pause_stream(&src);
            }
            if ids.borrow().drain.is_none() {
                let s = src.clone();
                let id = dest.on_drain(move |_| pipe_on_drain(&s, dest_id));
                ids.borrow_mut().drain = Some(id);
            }
        })
    };

    // 'data' on src: write to dest; false means pause.
    {
        let (dest, pause) = (dest.clone(), pause.clone());
        let id = src.on_data(move |_, chunk| {
            if !crate::writable::write_(&dest, chunk, None) {
                pause();
            }
        });
        ids.borrow_mut().data = Some(id);
    }

    // 'error' on dest (prepended): unpipe, then make sure dest errors.
    {
        let (src, ids2) = (src.clone(), ids.clone());
        let id = dest.prepend_error(move |dest, er| {
            unpipe(&src, Some(dest_id));
            if let Some(id) = ids2.borrow_mut().error.take() {
                dest.off(id);
            }
            if !dest.0.ev.has(Event::Error) {
                let emitted = dest.ws_ref().map(|w| w.error_emitted).or_else(|| dest.rs_ref().map(|r| r.error_emitted));
                if emitted == Some(false) {
                    crate::destroy::error_or_destroy(dest, er.clone(), false);
                } else {
                    dest.emit_error(er);
                }
            }
        });
        ids.borrow_mut().error = Some(id);
    }

    // 'close' / 'finish' on dest: unpipe (each removes the other).
    {
        let (src, ids2) = (src.clone(), ids.clone());
        let id = dest.once_close(move |dest| {
            if let Some(id) = ids2.borrow_mut().finish.take() {
                dest.off(id);
            }
            unpipe(&src, Some(dest_id));
        });
        ids.borrow_mut().close = Some(id);
    }
    {
        let (src, ids2) = (src.clone(), ids.clone());
        let id = dest.once_finish(move |dest| {
            if let Some(id) = ids2.borrow_mut().close.take() {
                dest.off(id);
            }
            unpipe(&src, Some(dest_id));
        });
        ids.borrow_mut().finish = Some(id);
    }

    dest.emit_pipe(Event::Pipe, src);

    let need_drain = dest.ws_ref().is_some_and(|w| !w.destroyed && !w.ending && w.need_drain);
    if need_drain {
        pause();
    } else if src.r().flowing != Some(true) {
        crate::readable::resume_stream(src);
    }
}

/// `pipeOnDrain`.
fn pipe_on_drain<R: Side, W: Side, E: 'static>(src: &Stream<R, W, E>, dest_id: usize) {
    let resume = {
        let mut r = src.r();
        if r.await_drain == AwaitDrain::One(dest_id) {
            r.await_drain = AwaitDrain::None;
        } else if r.multi_await_drain {
            if let AwaitDrain::Many(v) = &mut r.await_drain {
                v.retain(|&id| id != dest_id);
            }
        }
        matches!(&r.await_drain, AwaitDrain::None) || matches!(&r.await_drain, AwaitDrain::Many(v) if v.is_empty())
    };
    if resume && src.0.ev.has(Event::Data) {
        crate::readable::resume_stream(src);
    }
}

/// `Readable.prototype.unpipe`.
pub(crate) fn unpipe<R: Side, W: Side, E: 'static>(src: &Stream<R, W, E>, dest: Option<usize>) {
    let removed: Vec<PipeEntry> = {
        let mut r = src.r();
        if r.pipes.is_empty() {
            return;
        }
        match dest {
            None => std::mem::take(&mut r.pipes),
            Some(id) => match r.pipes.iter().position(|p| p.dest_id == id) {
                None => return,
                Some(i) => vec![r.pipes.remove(i)],
            },
        }
    };
    if src.r().pipes.is_empty() {
        crate::readable::pause_stream(src);
    }
    for p in removed {
        (p.emit_unpipe)(src);
        // `onunpipe` ran the cleanup during the emit, unless the destination's listeners
        // are gone (it closed); cleaning up twice does nothing.
        (p.cleanup)();
    }
    // A source that closed while still piping kept its listeners for this moment.
    let release = src.rs_ref().is_some_and(|r| r.pipes.is_empty() && r.close_emitted && r.emit_close);
    if release {
        src.drop_listeners();
    }
}
