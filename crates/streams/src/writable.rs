//! Node's Writable state machine (Node 20, `lib/internal/streams/writable.js`).
//!
//! ```text
//!  write(chunk) ──► length += len ──► ret = length < hwm || length == 0, measured
//!      │                                after a direct _write (else needDrain)
//!      ├─ writing, corked, errored or constructing? ──► buffered (later one _writev)
//!      └─ else _write(chunk, cb) ──► cb ──► onwrite: length -= len
//!                                              │ buffered? clearBuffer
//!                                              │ sync? afterWrite on the next tick (if due)
//!                                              ▼
//!                          afterWrite: needDrain && length == 0 && !ending ──► 'drain'
//!                                      then the write callbacks, then finishMaybe
//!  end() ──► ending ──► (nothing pending) _final ──► 'prefinish' ──► 'finish' (next tick)
//!                                                       └─ autoDestroy: destroy ──► 'close'
//! ```
//!
//! `drain` comes before the write callbacks of the same batch and never after `end()`;
//! `cork`/`uncork` turn the buffered writes into one `_writev`. Function names follow
//! writable.js so the two read side by side.

use std::collections::VecDeque;
use std::fmt;

use crate::chunk::{Chunk, Side};
use crate::errors::{Code, Error};
use crate::events::Event;
use crate::stream::TickKind;
use crate::stream::{BeforeWrite, FinalCallback, SideOptions, Stream, WriteCallback};

/// A user's write or end callback.
pub(crate) type UserCb = Box<dyn FnOnce(Option<Error>)>;

/// The callback of the write in flight (Node's `writecb`).
pub(crate) enum WriteCb {
    Nop,
    One(UserCb),
    Many(Vec<Option<UserCb>>),
}

impl WriteCb {
    fn call(self, err: Option<Error>) {
        match self {
            WriteCb::Nop => {}
            WriteCb::One(f) => f(err),
            WriteCb::Many(fs) => {
                for f in fs.into_iter().flatten() {
                    f(err.clone());
                }
            }
        }
    }
}

pub(crate) struct Buffered<W> {
    pub(crate) chunk: W,
    cb: Option<UserCb>,
}

/// `_writableState`.
pub(crate) struct WritableState<W> {
    pub(crate) object_mode: bool,
    pub(crate) hwm: usize,
    pub(crate) final_called: bool,
    pub(crate) need_drain: bool,
    pub(crate) ending: bool,
    pub(crate) ended: bool,
    pub(crate) finished: bool,
    pub(crate) destroyed: bool,
    pub(crate) length: usize,
    pub(crate) writing: bool,
    pub(crate) corked: u32,
    pub(crate) sync: bool,
    pub(crate) buffer_processing: bool,
    /// Requests `clearBuffer` has taken out of `buffered` but Node still counts: Node
    /// advances `bufferedIndex` (or resets the buffer) only after the `_write` loop or
    /// the `_writev` call, so `bufferedRequestCount` includes them meanwhile.
    buffer_taken: usize,
    pub(crate) writelen: usize,
    pub(crate) writecb: Option<WriteCb>,
    /// An `afterWrite` is scheduled on a next tick (Node's `kAfterWritePending`); a
    /// callback-less synchronous write completing meanwhile needs no tick of its own.
    /// (Node also coalesces writes sharing one callback function, `afterWriteTickInfo`;
    /// Rust callbacks are distinct values, so each gets its own tick.)
    after_write_pending: bool,
    pub(crate) buffered: VecDeque<Buffered<W>>,
    all_noop: bool,
    pub(crate) pending_cb: usize,
    pub(crate) constructed: bool,
    pub(crate) prefinished: bool,
    pub(crate) error_emitted: bool,
    pub(crate) emit_close: bool,
    pub(crate) auto_destroy: bool,
    pub(crate) errored: Option<Error>,
    pub(crate) closed: bool,
    pub(crate) close_emitted: bool,
    pub(crate) on_finished: Vec<UserCb>,
    /// An emptied `_writev` batch its hook handed back (a net socket's does, once the
    /// batch is written): the next batch is gathered into it, not a new vector.
    spare_batch: Vec<W>,
    /// The `writable` property when set explicitly (`writable: false` on a Duplex).
    pub(crate) writable: Option<bool>,
}

/// What [`Stream::writable_state`] reports: Node's `_writableState`, readable.
#[derive(Clone, PartialEq, Eq)]
pub struct WritableSnapshot {
    /// `length`: bytes (or objects) written and not yet handled by `_write`.
    pub length: usize,
    /// `highWaterMark`.
    pub high_water_mark: usize,
    /// `objectMode`.
    pub object_mode: bool,
    /// `needDrain`.
    pub need_drain: bool,
    /// `writing`: a `_write`/`_writev` is in flight.
    pub writing: bool,
    /// `corked` count.
    pub corked: u32,
    /// `bufferedRequestCount`.
    pub buffered: usize,
    /// `ending`: `end()` was called.
    pub ending: bool,
    /// `ended`.
    pub ended: bool,
    /// `prefinished`.
    pub prefinished: bool,
    /// `finished`: `finish` was emitted.
    pub finished: bool,
    /// `destroyed`.
    pub destroyed: bool,
    /// `closed`.
    pub closed: bool,
    /// `errorEmitted`: `error` was emitted.
    pub error_emitted: bool,
    /// `errored` (its code, or message when it has none).
    pub errored: Option<String>,
    /// `pendingcb`.
    pub pending_cb: usize,
    /// `sync`.
    pub sync: bool,
}

impl<W> WritableState<W> {
    pub(crate) fn new(side: SideOptions) -> Self {
        WritableState::initial(side, VecDeque::new(), Vec::new(), Vec::new())
    }

    /// A state as built, with the given options and (empty) collections.
    #[inline(always)]
    fn initial(
        side: SideOptions,
        buffered: VecDeque<Buffered<W>>,
        on_finished: Vec<UserCb>,
        spare_batch: Vec<W>,
    ) -> Self {
        let SideOptions { object_mode, hwm, emit_close, auto_destroy } = side;
        WritableState {
            object_mode,
            hwm,
            final_called: false,
            need_drain: false,
            ending: false,
            ended: false,
            finished: false,
            destroyed: false,
            length: 0,
            writing: false,
            corked: 0,
            sync: true,
            buffer_processing: false,
            buffer_taken: 0,
            writelen: 0,
            writecb: None,
            after_write_pending: false,
            buffered,
            all_noop: true,
            pending_cb: 0,
            constructed: true,
            prefinished: false,
            error_emitted: false,
            emit_close,
            auto_destroy,
            errored: None,
            closed: false,
            close_emitted: false,
            on_finished,
            spare_batch,
            writable: None,
        }
    }

    /// Back to the state as built (`Stream::renew`): the options stay, and the buffers
    /// keep their capacity.
    pub(crate) fn renew(&mut self) {
        let mut buffered = std::mem::take(&mut self.buffered);
        buffered.clear();
        let mut on_finished = std::mem::take(&mut self.on_finished);
        on_finished.clear();
        let spare_batch = std::mem::take(&mut self.spare_batch);
        let side = SideOptions {
            object_mode: self.object_mode,
            hwm: self.hwm,
            emit_close: self.emit_close,
            auto_destroy: self.auto_destroy,
        };
        *self = WritableState::initial(side, buffered, on_finished, spare_batch);
    }

    pub(crate) fn snapshot(&self) -> WritableSnapshot {
        WritableSnapshot {
            length: self.length,
            high_water_mark: self.hwm,
            object_mode: self.object_mode,
            need_drain: self.need_drain,
            writing: self.writing,
            corked: self.corked,
            buffered: self.buffered.len() + self.buffer_taken,
            ending: self.ending,
            ended: self.ended,
            prefinished: self.prefinished,
            finished: self.finished,
            destroyed: self.destroyed,
            closed: self.closed,
            error_emitted: self.error_emitted,
            errored: self.errored.as_ref().map(|e| e.code().map_or_else(|| e.message(), str::to_owned)),
            pending_cb: self.pending_cb,
            sync: self.sync,
        }
    }

    fn len_of(&self, c: &W) -> usize
    where
        W: Side,
    {
        if self.object_mode {
            1
        } else {
            c.side_byte_len().unwrap_or(1)
        }
    }

    fn reset_buffer(&mut self) {
        self.buffered.clear();
        self.all_noop = true;
    }

    /// `needFinish`.
    fn need_finish(&self) -> bool {
        self.ending
            && !self.destroyed
            && self.constructed
            && self.length == 0
            && self.errored.is_none()
            // Node's `kBuffered` stays set until `clearBuffer` resets the buffer after
            // its writes: a write completing synchronously inside it does not finish.
            && self.buffered.is_empty()
            && self.buffer_taken == 0
            && !self.finished
            && !self.writing
            && !self.error_emitted
            && !self.close_emitted
    }
}

impl fmt::Debug for WritableSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "length={} hwm={} needDrain={} writing={} corked={} buffered={} ending={} finished={} destroyed={}",
            self.length,
            self.high_water_mark,
            self.need_drain,
            self.writing,
            self.corked,
            self.buffered,
            self.ending,
            self.finished,
            self.destroyed
        )
    }
}

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    pub(crate) fn w(&self) -> std::cell::RefMut<'_, WritableState<W>> {
        self.ws().expect("stream has a writable side")
    }
}

impl<R: Side, W: Chunk, E: 'static> Stream<R, W, E> {
    /// `writable.write(chunk)`: true while the buffered length stays below the
    /// highWaterMark; false means "wait for `drain`". Writing after `end` fails with
    /// `ERR_STREAM_WRITE_AFTER_END`, after destroy with `ERR_STREAM_DESTROYED`.
    pub fn write(&self, chunk: impl Into<W>) -> bool {
        write_(self, chunk.into(), None)
    }

    /// `writable.write(chunk, cb)`: `cb` runs once the chunk is handled, with the error
    /// if it failed.
    pub fn write_cb(&self, chunk: impl Into<W>, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        write_(self, chunk.into(), Some(Box::new(cb)))
    }

    /// `writable.end()`.
    pub fn end(&self) -> &Self {
        end(self, None, None);
        self
    }

    /// `writable.end(chunk)`.
    pub fn end_with(&self, chunk: impl Into<W>) -> &Self {
        end(self, Some(chunk.into()), None);
        self
    }

    /// `writable.end(chunk?, cb)`: `cb` runs on `finish`, or with the error that
    /// prevented it.
    pub fn end_cb(&self, chunk: Option<W>, cb: impl FnOnce(Option<Error>) + 'static) -> &Self {
        end(self, chunk, Some(Box::new(cb)));
        self
    }

    /// `writable.cork()`: buffer writes until `uncork`.
    pub fn cork(&self) {
        self.w().corked += 1;
    }

    /// `writable.uncork()`: when the count reaches zero, everything buffered goes to
    /// one `_writev` (or `_write`s, without one).
    pub fn uncork(&self) {
        let go = {
            let mut w = self.w();
            if w.corked > 0 {
                w.corked -= 1;
                !w.writing
            } else {
                false
            }
        };
        if go {
            clear_buffer(self);
        }
    }

    /// `writable.writable`: true until ended, errored or destroyed.
    pub fn writable(&self) -> bool {
        crate::duplex::writable_prop(self)
    }

    /// `writableEnded`: `end()` was called.
    pub fn writable_ended(&self) -> bool {
        self.w().ending
    }

    /// `writableFinished`: `finish` was emitted.
    pub fn writable_finished(&self) -> bool {
        self.w().finished
    }

    /// `writableLength`.
    pub fn writable_length(&self) -> usize {
        self.w().length
    }

    /// `writableHighWaterMark`.
    pub fn writable_high_water_mark(&self) -> usize {
        self.w().hwm
    }

    /// `writableObjectMode`.
    pub fn writable_object_mode(&self) -> bool {
        self.w().object_mode
    }

    /// `writableCorked`.
    pub fn writable_corked(&self) -> u32 {
        self.w().corked
    }

    /// `writableNeedDrain`.
    pub fn writable_need_drain(&self) -> bool {
        let w = self.w();
        !w.destroyed && !w.ending && w.need_drain
    }

    /// `writableAborted`.
    pub fn writable_aborted(&self) -> bool {
        let w = self.w();
        w.writable != Some(false) && (w.destroyed || w.errored.is_some()) && !w.finished
    }

    /// A snapshot of `_writableState`.
    pub fn writable_state(&self) -> WritableSnapshot {
        self.w().snapshot()
    }
}

/// `_write(stream, chunk, encoding, cb)`.
pub(crate) fn write_<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: W, cb: Option<UserCb>) -> bool {
    let mut w = s.w();
    let err = if w.ending {
        Error::node(Code::ERR_STREAM_WRITE_AFTER_END, "write")
    } else if w.destroyed {
        Error::node(Code::ERR_STREAM_DESTROYED, "write")
    } else if s.0.hooks.before_write.is_some() {
        drop(w);
        return write_hooked(s, chunk, cb);
    } else {
        w.pending_cb += 1;
        drop(w);
        return write_or_buffer(s, chunk, cb);
    };
    drop(w);
    write_refused(s, err, cb)
}

/// `write_` through the `before_write` hook, which may refuse the chunk.
#[inline(never)]
fn write_hooked<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: W, cb: Option<UserCb>) -> bool {
    if let Some(f) = &s.0.hooks.before_write {
        if let Err(e) = f(s, BeforeWrite::Write(&chunk)) {
            return write_refused(s, e, cb);
        }
    }
    s.w().pending_cb += 1;
    write_or_buffer(s, chunk, cb)
}

/// A write after end or destroy (out of the hot path).
#[cold]
#[inline(never)]
fn write_refused<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Error, cb: Option<UserCb>) -> bool {
    if let Some(cb) = cb {
        let e = err.clone();
        s.0.lp.next_tick(move || cb(Some(e)));
    }
    crate::destroy::error_or_destroy(s, err, true);
    false
}

/// `writeOrBuffer`.
#[inline]
fn write_or_buffer<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: W, cb: Option<UserCb>) -> bool {
    let direct = {
        let mut w = s.w();
        let len = w.len_of(&chunk);
        w.length += len;
        if w.writing || w.corked > 0 || w.errored.is_some() || !w.constructed {
            if cb.is_some() {
                w.all_noop = false;
            }
            w.buffered.push_back(Buffered { chunk, cb });
            None
        } else {
            w.writelen = len;
            w.writecb = Some(cb.map_or(WriteCb::Nop, WriteCb::One));
            w.writing = true;
            w.sync = true;
            Some(chunk)
        }
    };
    let called = direct.is_some();
    if let Some(chunk) = direct {
        call_write_hook(s, chunk);
    }
    // Node 20 measures after `_write`: a write that completed synchronously no longer
    // counts, so it neither returns false nor sets needDrain.
    let mut w = s.w();
    if called {
        w.sync = false;
    }
    let ret = w.length < w.hwm || w.length == 0;
    if !ret {
        w.need_drain = true;
    }
    ret && w.errored.is_none() && !w.destroyed
}

#[inline]
fn call_write_hook<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: W) {
    let cb = WriteCallback { stream: s.clone() };
    if let Some(x) = &s.0.xform {
        x.write(s, chunk, cb);
    } else if let Some(f) = &s.0.hooks.write {
        f(s, chunk, cb);
    } else if let Some(f) = &s.0.hooks.writev {
        f(s, vec![chunk], cb);
    } else {
        onwrite(s, Some(Error::node(Code::ERR_METHOD_NOT_IMPLEMENTED, "_write()")));
    }
}

/// `doWrite` for a batch (`_writev`).
fn do_writev<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunks: Vec<W>) {
    let destroyed = s.w().destroyed;
    if destroyed {
        onwrite(s, Some(Error::node(Code::ERR_STREAM_DESTROYED, "write")));
    } else if let Some(f) = &s.0.hooks.writev {
        f(s, chunks, WriteCallback { stream: s.clone() });
    }
    s.w().sync = false;
}

impl<R, W, E> Stream<R, W, E> {
    /// Takes back a `_writev` batch its hook is done with, emptied, to gather the next
    /// batch in (see `WritableState::spare_batch`).
    pub(crate) fn give_back_batch(&self, mut batch: Vec<W>) {
        batch.clear();
        if let Some(mut w) = self.ws() {
            // A batch of some hundreds (a deep pipeline) is not kept for the socket's life.
            if w.spare_batch.capacity() == 0 && batch.capacity() <= 256 {
                w.spare_batch = batch;
            }
        }
    }
}

/// `onwrite`: the `_write` callback.
pub(crate) fn onwrite<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, er: Option<Error>) {
    let mut w = s.w();
    let Some(cb) = w.writecb.take() else {
        drop(w);
        crate::destroy::error_or_destroy(s, Error::node(Code::ERR_MULTIPLE_CALLBACK, ""), false);
        return;
    };
    w.writing = false;
    w.length -= w.writelen;
    w.writelen = 0;
    let sync = w.sync;
    if let Some(er) = er {
        drop(w);
        onwrite_failed(s, er, cb, sync);
        return;
    }
    if !w.buffered.is_empty() {
        drop(w);
        clear_buffer(s);
        w = s.w();
    }
    if !sync {
        drop(w);
        after_write(s, 1, cb);
        return;
    }
    let nop = matches!(cb, WriteCb::Nop);
    // Node 20 writes `state[kState] & kDestroyed !== 0`, which JavaScript's precedence
    // reads as `state[kState] & 1`: the objectMode bit.
    let need_tick = (w.need_drain && w.length == 0) || w.object_mode || !nop;
    if need_tick && !(nop && w.after_write_pending) {
        w.after_write_pending = true;
        drop(w);
        s.tick(move |s| after_write(s, 1, cb));
    } else {
        w.pending_cb -= 1;
        let ending = w.ending;
        drop(w);
        if ending {
            finish_maybe(s, true);
        }
    }
}

/// `onwrite` with an error (out of the hot path).
#[cold]
#[inline(never)]
fn onwrite_failed<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, er: Error, cb: WriteCb, sync: bool) {
    {
        let mut w = s.w();
        if w.errored.is_none() {
            w.errored = Some(er.clone());
        }
    }
    if let Some(mut r) = s.rs() {
        if r.errored.is_none() {
            r.errored = Some(er.clone());
        }
    }
    if sync {
        s.tick(move |s| onwrite_error(s, er, cb));
    } else {
        onwrite_error(s, er, cb);
    }
}

fn onwrite_error<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, er: Error, cb: WriteCb) {
    s.w().pending_cb -= 1;
    cb.call(Some(er.clone()));
    error_buffer(s);
    crate::destroy::error_or_destroy(s, er, false);
}

/// `afterWrite`: `drain` (if due), then `count` write callbacks, then `finishMaybe`.
fn after_write<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, count: usize, cb: WriteCb) {
    let drain = {
        let mut w = s.w();
        w.after_write_pending = false;
        let need = !w.ending && !w.destroyed && w.length == 0 && w.need_drain;
        if need {
            w.need_drain = false;
        }
        need
    };
    if drain {
        s.emit_plain(Event::Drain);
    }
    match cb {
        WriteCb::Nop => s.w().pending_cb -= count,
        cb => {
            s.w().pending_cb -= 1;
            cb.call(None);
        }
    }
    if s.w().destroyed {
        error_buffer(s);
    }
    // Node 20: `if (ending) finishMaybe(stream, state, true)`: 'finish' comes on a later
    // tick, not inside the write callback's tick.
    finish_maybe(s, true);
}

/// `errorBuffer`: fails every buffered write and pending `end` callback.
pub(crate) fn error_buffer<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let (buffered, finished, err) = {
        let mut w = s.w();
        if w.writing {
            return;
        }
        let buffered: Vec<Buffered<W>> = w.buffered.drain(..).collect();
        for b in &buffered {
            let len = w.len_of(&b.chunk);
            w.length -= len;
        }
        let finished = std::mem::take(&mut w.on_finished);
        w.reset_buffer();
        (buffered, finished, w.errored.clone())
    };
    for b in buffered {
        if let Some(cb) = b.cb {
            cb(Some(err.clone().unwrap_or_else(|| Error::node(Code::ERR_STREAM_DESTROYED, "write"))));
        }
    }
    for cb in finished {
        cb(Some(err.clone().unwrap_or_else(|| Error::node(Code::ERR_STREAM_DESTROYED, "end"))));
    }
}

/// `clearBuffer`: writes what is buffered, as one `_writev` if there is one.
pub(crate) fn clear_buffer<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let has_writev = s.0.hooks.writev.is_some() && s.0.xform.is_none();
    {
        let mut w = s.w();
        if w.corked > 0 || w.buffer_processing || w.destroyed || !w.constructed || w.buffered.is_empty() {
            return;
        }
        w.buffer_processing = true;
    }
    let count = s.w().buffered.len();
    if count > 1 && has_writev {
        let chunks = {
            let mut w = s.w();
            w.pending_cb -= count - 1;
            let all_noop = w.all_noop;
            let mut chunks = std::mem::take(&mut w.spare_batch);
            chunks.reserve(count);
            // Callbacks only if some write has one (Node's `allNoop`).
            let mut cbs = Vec::with_capacity(if all_noop { 0 } else { count });
            for b in w.buffered.drain(..) {
                chunks.push(b.chunk);
                if !all_noop {
                    cbs.push(b.cb);
                }
            }
            w.writelen = w.length;
            w.writecb = Some(if all_noop { WriteCb::Nop } else { WriteCb::Many(cbs) });
            w.writing = true;
            w.sync = true;
            w.reset_buffer();
            w.buffer_taken = count;
            chunks
        };
        do_writev(s, chunks);
        s.w().buffer_taken = 0;
    } else {
        loop {
            let next = {
                let mut w = s.w();
                match w.buffered.pop_front() {
                    None => None,
                    Some(b) => {
                        w.buffer_taken += 1;
                        let len = w.len_of(&b.chunk);
                        w.writelen = len;
                        w.writecb = Some(b.cb.map_or(WriteCb::Nop, WriteCb::One));
                        w.writing = true;
                        w.sync = true;
                        Some(b.chunk)
                    }
                }
            };
            let Some(chunk) = next else { break };
            let destroyed = s.w().destroyed;
            if destroyed {
                onwrite(s, Some(Error::node(Code::ERR_STREAM_DESTROYED, "write")));
            } else {
                call_write_hook(s, chunk);
            }
            let mut w = s.w();
            w.sync = false;
            if w.buffered.is_empty() {
                w.all_noop = true;
            }
            if w.writing {
                break;
            }
        }
        s.w().buffer_taken = 0;
    }
    s.w().buffer_processing = false;
}

/// `Writable.prototype.end`.
pub(crate) fn end<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: Option<W>, cb: Option<UserCb>) {
    if let Some(f) = &s.0.hooks.before_write {
        if let Err(e) = f(s, BeforeWrite::End(chunk.as_ref())) {
            crate::destroy::error_or_destroy(s, e.clone(), true);
            if let Some(cb) = cb {
                s.0.lp.next_tick(move || cb(Some(e)));
            }
            return;
        }
    }
    let mut err = None;
    if let Some(chunk) = chunk {
        let failed = {
            let w = s.w();
            if w.ending {
                Some(Error::node(Code::ERR_STREAM_WRITE_AFTER_END, "write"))
            } else if w.destroyed {
                Some(Error::node(Code::ERR_STREAM_DESTROYED, "write"))
            } else {
                None
            }
        };
        match failed {
            Some(e) => {
                crate::destroy::error_or_destroy(s, e.clone(), true);
                err = Some(e);
            }
            None => {
                s.w().pending_cb += 1;
                write_or_buffer(s, chunk, None);
            }
        }
    }
    let corked = s.w().corked > 0;
    if corked {
        s.w().corked = 1;
        uncork_internal(s);
    }
    if err.is_none() {
        let (errored, ending, finished, destroyed) = {
            let w = s.w();
            (w.errored.is_some(), w.ending, w.finished, w.destroyed)
        };
        if !errored && !ending {
            s.w().ending = true;
            finish_maybe(s, true);
            s.w().ended = true;
        } else if finished {
            err = Some(Error::node(Code::ERR_STREAM_ALREADY_FINISHED, "end"));
        } else if destroyed {
            err = Some(Error::node(Code::ERR_STREAM_DESTROYED, "end"));
        }
    }
    if let Some(cb) = cb {
        let (errored, finished) = {
            let w = s.w();
            (w.errored.clone(), w.finished)
        };
        if err.is_some() {
            s.0.lp.next_tick(move || cb(err));
        } else if let Some(errored) = errored {
            s.0.lp.next_tick(move || cb(Some(errored)));
        } else if finished {
            s.0.lp.next_tick(move || cb(None));
        } else {
            s.w().on_finished.push(cb);
        }
    }
}

fn uncork_internal<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let go = {
        let mut w = s.w();
        if w.corked > 0 {
            w.corked -= 1;
            !w.writing
        } else {
            false
        }
    };
    if go {
        clear_buffer(s);
    }
}

/// `callFinal`.
fn call_final<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    {
        let mut w = s.w();
        w.sync = true;
        w.pending_cb += 1;
    }
    let cb = FinalCallback { stream: s.clone() };
    // A user `final` replaces Transform's own `_final` (the flush), as in Node.
    if let Some(f) = &s.0.hooks.final_ {
        f(s, cb);
    } else if let Some(x) = &s.0.xform {
        x.final_(s, Some(cb));
    }
    s.w().sync = false;
}

/// `onFinish` inside `callFinal`: the `_final` callback.
pub(crate) fn on_final_done<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, err: Option<Error>) {
    s.w().pending_cb -= 1;
    match err {
        Some(err) => {
            let (cbs, sync) = {
                let mut w = s.w();
                (std::mem::take(&mut w.on_finished), w.sync)
            };
            for cb in cbs {
                cb(Some(err.clone()));
            }
            crate::destroy::error_or_destroy(s, err, sync);
        }
        None => {
            let go = s.w().need_finish();
            if go {
                {
                    let mut w = s.w();
                    w.prefinished = true;
                }
                emit_prefinish(s);
                s.w().pending_cb += 1;
                s.tick_kind(TickKind::Finish);
            }
        }
    }
}

/// `prefinish`.
fn prefinish<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let has_final = s.0.hooks.final_.is_some() || s.0.xform.is_some();
    let action = {
        let mut w = s.w();
        if !w.prefinished && !w.final_called {
            if has_final && !w.destroyed {
                w.final_called = true;
                1
            } else {
                w.prefinished = true;
                2
            }
        } else {
            0
        }
    };
    match action {
        1 => call_final(s),
        2 => emit_prefinish(s),
        _ => {}
    }
}

/// Emits `prefinish`. A Transform listens to its own `prefinish` from its constructor,
/// before any user listener: when a user `final` replaced its `_final`, that listener
/// runs the flush (without a callback).
fn emit_prefinish<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if let (Some(x), Some(_)) = (&s.0.xform, &s.0.hooks.final_) {
        x.final_(s, None);
    }
    s.emit_plain(Event::Prefinish);
}

/// `finishMaybe`.
pub(crate) fn finish_maybe<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, sync: bool) {
    if !s.w().need_finish() {
        return;
    }
    prefinish(s);
    if s.w().pending_cb != 0 {
        return;
    }
    if sync {
        s.w().pending_cb += 1;
        s.tick_kind(TickKind::FinishIfNeeded);
    } else if s.w().need_finish() {
        s.w().pending_cb += 1;
        finish(s);
    }
}

/// The tick `finishMaybe` schedules for a synchronous end: finish if still needed.
pub(crate) fn finish_if_needed_nt<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if s.w().need_finish() {
        finish(s);
    } else {
        s.w().pending_cb -= 1;
    }
}

/// `finish`.
pub(crate) fn finish<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let cbs = {
        let mut w = s.w();
        w.pending_cb -= 1;
        w.finished = true;
        std::mem::take(&mut w.on_finished)
    };
    for cb in cbs {
        cb(None);
    }
    s.emit_plain(Event::Finish);
    if s.w().auto_destroy {
        let auto = match s.rs_ref() {
            None => true,
            Some(r) => r.auto_destroy && (r.end_emitted || r.readable == Some(false)),
        };
        if auto {
            s.destroy(None);
        }
    }
}
