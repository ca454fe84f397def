//! Node's Readable state machine (Node 20, `lib/internal/streams/readable.js`).
//!
//! ```text
//!            push(chunk) ──► flowing, buffer empty, not inside _read? ──yes──► 'data'
//!                                  │ no
//!                                  ▼
//!                     buffer (length += len) ── needReadable? ──► 'readable' (next tick)
//!                                  │
//!  read(n) / flow() ◄──────────────┘      maybeReadMore (next tick): read(0) while
//!    │ length - n < hwm: _read(hwm)       below the highWaterMark, to prefetch
//!    ▼
//!  'data' with what was taken            push(None) ─► ended ─► 'end' once the buffer
//!                                                       is empty (next tick)
//! ```
//!
//! Three ways to consume, with Node's precedence: a `readable` listener (paused mode,
//! pull with `read`), else a `data` listener (flowing), else nothing (paused, buffering
//! up to the highWaterMark). `pause`/`resume` switch explicitly; `resume` acts on the next
//! tick. Every function here keeps Node's name, so this file reads beside readable.js.

use std::collections::VecDeque;
use std::fmt;

use bytes::BytesMut;

use crate::chunk::{Chunk, Side};
use crate::decoder::{js_len, js_offset, Decoder, Encoding};
use crate::errors::{Code, Error};
use crate::events::Event;
use crate::pipe::{AwaitDrain, PipeEntry};
use crate::stream::TickKind;
use crate::stream::{SideOptions, Stream};

const MAX_HWM: usize = 0x4000_0000;

/// `_readableState`.
pub(crate) struct ReadableState<R> {
    pub(crate) object_mode: bool,
    pub(crate) hwm: usize,
    pub(crate) buffer: VecDeque<R>,
    pub(crate) length: usize,
    pub(crate) pipes: Vec<PipeEntry>,
    pub(crate) flowing: Option<bool>,
    pub(crate) paused: Option<bool>,
    pub(crate) ended: bool,
    pub(crate) end_emitted: bool,
    pub(crate) reading: bool,
    pub(crate) constructed: bool,
    pub(crate) sync: bool,
    pub(crate) need_readable: bool,
    pub(crate) emitted_readable: bool,
    pub(crate) readable_listening: bool,
    pub(crate) resume_scheduled: bool,
    pub(crate) error_emitted: bool,
    pub(crate) emit_close: bool,
    pub(crate) auto_destroy: bool,
    pub(crate) destroyed: bool,
    pub(crate) closed: bool,
    pub(crate) close_emitted: bool,
    pub(crate) multi_await_drain: bool,
    pub(crate) reading_more: bool,
    pub(crate) data_emitted: bool,
    pub(crate) errored: Option<Error>,
    pub(crate) await_drain: AwaitDrain,
    pub(crate) decoder: Option<Decoder>,
    /// The `readable` property when set explicitly (`readable: false` on a Duplex).
    pub(crate) readable: Option<bool>,
}

/// What [`Stream::readable_state`] reports: Node's `_readableState`, readable.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadableSnapshot {
    /// `length`: bytes (or objects) buffered.
    pub length: usize,
    /// `highWaterMark`.
    pub high_water_mark: usize,
    /// `objectMode`.
    pub object_mode: bool,
    /// `flowing`: `None` before any consumer, then true/false.
    pub flowing: Option<bool>,
    /// `ended`: `push(None)` was called.
    pub ended: bool,
    /// `endEmitted`.
    pub end_emitted: bool,
    /// `reading`: a `_read` is outstanding.
    pub reading: bool,
    /// `needReadable`.
    pub need_readable: bool,
    /// `emittedReadable`.
    pub emitted_readable: bool,
    /// `readableListening`.
    pub readable_listening: bool,
    /// `resumeScheduled`: a `resume()` waits for its next tick.
    pub resume_scheduled: bool,
    /// `destroyed`.
    pub destroyed: bool,
    /// `closed`.
    pub closed: bool,
    /// `errored` (its code, or message when it has none).
    pub errored: Option<String>,
    /// `pipes.length`.
    pub pipes: usize,
    /// `dataEmitted` (`readableDidRead`).
    pub data_emitted: bool,
}

impl<R> ReadableState<R> {
    pub(crate) fn new(side: SideOptions, encoding: Option<Encoding>) -> Self {
        ReadableState::initial(side, encoding, VecDeque::new(), Vec::new())
    }

    /// A state as built, with the given options and (empty) collections.
    #[inline(always)]
    fn initial(side: SideOptions, encoding: Option<Encoding>, buffer: VecDeque<R>, pipes: Vec<PipeEntry>) -> Self {
        let SideOptions { object_mode, hwm, emit_close, auto_destroy } = side;
        ReadableState {
            object_mode,
            hwm,
            buffer,
            length: 0,
            pipes,
            flowing: None,
            paused: None,
            ended: false,
            end_emitted: false,
            reading: false,
            constructed: true,
            sync: true,
            need_readable: false,
            emitted_readable: false,
            readable_listening: false,
            resume_scheduled: false,
            error_emitted: false,
            emit_close,
            auto_destroy,
            destroyed: false,
            closed: false,
            close_emitted: false,
            multi_await_drain: false,
            reading_more: false,
            data_emitted: false,
            errored: None,
            await_drain: AwaitDrain::None,
            decoder: (!object_mode).then_some(encoding).flatten().map(Decoder::new),
            readable: None,
        }
    }

    /// Back to the state as built (`Stream::renew`): the modes stay, `hwm` and `encoding`
    /// are the ones it was built with (`read(n)` can raise the one, `set_encoding` change
    /// the other), and the buffers keep their capacity.
    pub(crate) fn renew(&mut self, hwm: usize, encoding: Option<Encoding>) {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let mut pipes = std::mem::take(&mut self.pipes);
        pipes.clear();
        let side = SideOptions {
            object_mode: self.object_mode,
            hwm,
            emit_close: self.emit_close,
            auto_destroy: self.auto_destroy,
        };
        *self = ReadableState::initial(side, encoding, buffer, pipes);
    }

    pub(crate) fn snapshot(&self) -> ReadableSnapshot {
        ReadableSnapshot {
            length: self.length,
            high_water_mark: self.hwm,
            object_mode: self.object_mode,
            flowing: self.flowing,
            ended: self.ended,
            end_emitted: self.end_emitted,
            reading: self.reading,
            need_readable: self.need_readable,
            emitted_readable: self.emitted_readable,
            readable_listening: self.readable_listening,
            resume_scheduled: self.resume_scheduled,
            destroyed: self.destroyed,
            closed: self.closed,
            errored: self.errored.as_ref().map(|e| e.code().map_or_else(|| e.message(), str::to_owned)),
            pipes: self.pipes.len(),
            data_emitted: self.data_emitted,
        }
    }

    /// What a chunk counts toward the highWaterMark.
    pub(crate) fn chunk_len(&self, c: &R) -> usize
    where
        R: Side,
    {
        if self.object_mode {
            return 1;
        }
        match c.side_byte_len() {
            None => 1,
            Some(n) if self.decoder.is_some() => match c.clone().side_into_bytes() {
                Ok(b) => js_len(&b),
                Err(_) => n,
            },
            Some(n) => n,
        }
    }

    fn clear_await_drain(&mut self) {
        if self.multi_await_drain {
            self.await_drain.clear();
        } else {
            self.await_drain = AwaitDrain::None;
        }
    }
}

impl fmt::Debug for ReadableSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "length={} hwm={} flowing={:?} ended={} endEmitted={} reading={} needReadable={} destroyed={}",
            self.length,
            self.high_water_mark,
            self.flowing,
            self.ended,
            self.end_emitted,
            self.reading,
            self.need_readable,
            self.destroyed
        )
    }
}

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    pub(crate) fn r(&self) -> std::cell::RefMut<'_, ReadableState<R>> {
        self.rs().expect("stream has a readable side")
    }
}

impl<R: Chunk, W: Side, E: 'static> Stream<R, W, E> {
    /// `readable.push(chunk)`: adds a chunk (or, with `None`, the end). Returns false
    /// when the buffer is at or above the highWaterMark: stop pushing until `_read` is
    /// called again.
    pub fn push(&self, chunk: impl Into<Option<R>>) -> bool {
        readable_add_chunk(self, chunk.into(), false)
    }

    /// `readable.unshift(chunk)`: puts a chunk back at the front of the buffer.
    pub fn unshift(&self, chunk: R) -> bool {
        readable_add_chunk(self, Some(chunk), true)
    }

    /// `readable.read(n)`: takes `n` bytes (or all that is buffered with `None`; one
    /// object in object mode) from the buffer, or `None` if not enough is there yet.
    /// `read(Some(0))` only triggers a refill.
    pub fn read(&self, n: Option<usize>) -> Option<R> {
        read(self, n)
    }

    /// `readable.pause()`.
    pub fn pause(&self) -> &Self {
        pause_stream(self);
        self
    }

    /// `readable.resume()`: switches to flowing mode (on the next tick).
    pub fn resume(&self) -> &Self {
        resume_stream(self);
        self
    }

    /// `readable.isPaused()`.
    pub fn is_paused(&self) -> bool {
        let r = self.r();
        r.paused == Some(true) || r.flowing == Some(false)
    }

    /// `readable.setEncoding(enc)`: from now on chunks are complete text in `enc`
    /// (chunks never split a character). Byte streams only; ignored in object mode.
    pub fn set_encoding(&self, enc: Encoding) -> &Self {
        let mut r = self.r();
        if r.object_mode {
            return self;
        }
        let mut decoder = Decoder::new(enc);
        let mut content = BytesMut::new();
        for c in r.buffer.drain(..) {
            if let Ok(b) = c.side_into_bytes() {
                content.extend_from_slice(&decoder.write(&b));
            }
        }
        r.decoder = Some(decoder);
        r.length = js_len(&content);
        if !content.is_empty() {
            if let Some(c) = R::side_from_bytes(content.freeze()) {
                r.buffer.push_back(c);
            }
        }
        self
    }

    /// `readableEncoding`.
    pub fn readable_encoding(&self) -> Option<Encoding> {
        self.r().decoder.as_ref().map(Decoder::encoding)
    }

    /// `readable.readable`: true until the stream ended, errored or was destroyed.
    pub fn readable(&self) -> bool {
        let r = self.r();
        r.readable != Some(false) && !r.destroyed && !r.error_emitted && !r.end_emitted
    }

    /// `readableFlowing`.
    pub fn readable_flowing(&self) -> Option<bool> {
        self.r().flowing
    }

    /// `readable.readableFlowing = value`: sets the state as Node's setter does, and
    /// nothing else (no resume, no pause). `None` puts a stream back as it was before
    /// any consumer: the next `data` listener starts the flow again. Node's HTTP server
    /// does this to a socket it hands to an `upgrade` listener.
    pub fn set_readable_flowing(&self, flowing: Option<bool>) -> &Self {
        self.r().flowing = flowing;
        self
    }

    /// `readableLength`.
    pub fn readable_length(&self) -> usize {
        self.r().length
    }

    /// `readableHighWaterMark`.
    pub fn readable_high_water_mark(&self) -> usize {
        self.r().hwm
    }

    /// `readableObjectMode`.
    pub fn readable_object_mode(&self) -> bool {
        self.r().object_mode
    }

    /// `readableEnded`: `end` was emitted.
    pub fn readable_ended(&self) -> bool {
        self.r().end_emitted
    }

    /// `readableDidRead`.
    pub fn readable_did_read(&self) -> bool {
        self.r().data_emitted
    }

    /// `readableAborted`: destroyed or errored before `end`.
    pub fn readable_aborted(&self) -> bool {
        let r = self.r();
        r.readable != Some(false) && (r.destroyed || r.errored.is_some()) && !r.end_emitted
    }

    /// A snapshot of `_readableState`.
    pub fn readable_state(&self) -> ReadableSnapshot {
        self.r().snapshot()
    }
}

/// `readableAddChunk`. The common case (a chunk pushed at the back) takes one borrow
/// of the state, with `addChunk` inlined.
fn readable_add_chunk<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: Option<R>, add_to_front: bool) -> bool {
    let Some(chunk) = chunk else {
        s.r().reading = false;
        on_eof_chunk(s);
        return ret_value(s);
    };
    let mut r = s.r();
    if !r.object_mode && chunk.side_byte_len() == Some(0) {
        // An empty chunk outside object mode only ends a pending _read.
        if !add_to_front {
            r.reading = false;
            drop(r);
            maybe_read_more(s);
        } else {
            drop(r);
        }
        return ret_value(s);
    }
    if add_to_front {
        if r.end_emitted {
            drop(r);
            crate::destroy::error_or_destroy(s, Error::node(Code::ERR_STREAM_UNSHIFT_AFTER_END_EVENT, ""), false);
            return ret_value(s);
        }
        if r.destroyed || r.errored.is_some() {
            return false;
        }
        drop(r);
        add_chunk(s, chunk, true);
        return ret_value(s);
    }
    if r.ended {
        drop(r);
        crate::destroy::error_or_destroy(s, Error::node(Code::ERR_STREAM_PUSH_AFTER_EOF, ""), false);
        return ret_value(s);
    }
    if r.destroyed || r.errored.is_some() {
        return false;
    }
    r.reading = false;
    let chunk = match r.decoder.as_mut() {
        None => chunk,
        Some(d) => match chunk.side_into_bytes() {
            Err(c) => c,
            Ok(b) => match R::side_from_bytes(d.write(&b)) {
                Some(text) if text.side_byte_len() != Some(0) => text,
                _ => {
                    // Only part of a character: nothing to add yet.
                    drop(r);
                    maybe_read_more(s);
                    return ret_value(s);
                }
            },
        },
    };
    // addChunk, inline.
    if r.flowing == Some(true) && r.length == 0 && !r.sync && s.0.ev.has(Event::Data) {
        r.clear_await_drain();
        r.data_emitted = true;
        drop(r);
        s.emit_data(chunk);
    } else {
        let len = r.chunk_len(&chunk);
        r.length += len;
        r.buffer.push_back(chunk);
        let need_readable = r.need_readable;
        drop(r);
        if need_readable {
            emit_readable(s);
        }
    }
    maybe_read_more_then_ret(s)
}

/// `maybeReadMore` and the return value of `push`, under one borrow.
#[inline]
fn maybe_read_more_then_ret<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    let (schedule, ret) = {
        let mut r = s.r();
        let schedule = !r.reading_more && r.constructed;
        if schedule {
            r.reading_more = true;
        }
        (schedule, !r.ended && (r.length < r.hwm || r.length == 0))
    };
    if schedule {
        s.tick_kind(TickKind::MaybeReadMore);
    }
    ret
}

fn ret_value<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) -> bool {
    let r = s.r();
    !r.ended && (r.length < r.hwm || r.length == 0)
}

/// `addChunk`.
fn add_chunk<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: R, add_to_front: bool) {
    let direct = {
        let r = s.r();
        r.flowing == Some(true) && r.length == 0 && !r.sync
    } && s.0.ev.has(Event::Data);
    if direct {
        {
            let mut r = s.r();
            r.clear_await_drain();
            r.data_emitted = true;
        }
        s.emit_data(chunk);
    } else {
        let need_readable = {
            let mut r = s.r();
            let len = r.chunk_len(&chunk);
            r.length += len;
            if add_to_front {
                r.buffer.push_front(chunk);
            } else {
                r.buffer.push_back(chunk);
            }
            r.need_readable
        };
        if need_readable {
            emit_readable(s);
        }
    }
    maybe_read_more(s);
}

/// `computeNewHighWaterMark`: the next power of two.
fn compute_new_high_water_mark(n: usize) -> Option<usize> {
    if n > MAX_HWM {
        return None;
    }
    Some(n.next_power_of_two())
}

/// `howMuchToRead`; `n` of `None` is JavaScript's `read()` (NaN).
fn how_much_to_read<R: Side>(n: Option<usize>, r: &ReadableState<R>) -> usize {
    if n == Some(0) || (r.length == 0 && r.ended) {
        return 0;
    }
    if r.object_mode {
        return 1;
    }
    match n {
        None => {
            if r.flowing == Some(true) && r.length > 0 {
                r.buffer.front().map_or(0, |c| r.chunk_len(c))
            } else {
                r.length
            }
        }
        Some(n) if n <= r.length => n,
        Some(_) => {
            if r.ended {
                r.length
            } else {
                0
            }
        }
    }
}

/// `Readable.prototype.read`.
pub(crate) fn read<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, n_arg: Option<usize>) -> Option<R> {
    match read_impl(s, n_arg, true) {
        Read::Chunk(c) => Some(c),
        Read::Emitted | Read::Nothing => None,
    }
}

/// What `read_impl` did with the chunk it took.
enum Read<R> {
    /// Nothing to take.
    Nothing,
    /// Taken and returned (after emitting `data` with a copy).
    Chunk(R),
    /// Taken and moved into `data` (`flow` does not need it back).
    Emitted,
}

/// `read`, with two borrows of the state: before and after `_read`. With `keep` false
/// the chunk is moved into the `data` event instead of cloned for the caller.
fn read_impl<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, n_arg: Option<usize>, keep: bool) -> Read<R> {
    let n_orig = n_arg;
    let mut r = s.r();
    if let Some(n) = n_arg {
        if n > r.hwm {
            match compute_new_high_water_mark(n) {
                Some(h) => r.hwm = h,
                None => {
                    drop(r);
                    crate::destroy::error_or_destroy(s, Error::node(Code::ERR_OUT_OF_RANGE, "size"), false);
                    return Read::Nothing;
                }
            }
        }
    }
    if n_arg != Some(0) {
        r.emitted_readable = false;
    }
    // read(0) with enough buffered (or at the end): just trigger 'readable'.
    if n_arg == Some(0) && r.need_readable && ((if r.hwm != 0 { r.length >= r.hwm } else { r.length > 0 }) || r.ended) {
        let at_end = r.length == 0 && r.ended;
        drop(r);
        if at_end {
            end_readable(s);
        } else {
            emit_readable(s);
        }
        return Read::Nothing;
    }
    let mut n = how_much_to_read(n_arg, &r);
    if n == 0 && r.ended {
        let empty = r.length == 0;
        drop(r);
        if empty {
            end_readable(s);
        }
        return Read::Nothing;
    }
    let do_read = r.need_readable || r.length == 0 || r.length - n < r.hwm;
    let call_read = if r.ended || r.reading || r.destroyed || r.errored.is_some() || !r.constructed {
        false
    } else if do_read {
        r.reading = true;
        r.sync = true;
        if r.length == 0 {
            r.need_readable = true;
        }
        true
    } else {
        false
    };
    if call_read {
        let hwm = r.hwm;
        drop(r);
        call_read_hook(s, hwm);
        r = s.r();
        r.sync = false;
        if !r.reading {
            n = how_much_to_read(n_orig, &r);
        }
    }

    let ret = if n > 0 { from_list(n, &mut r) } else { None };
    match &ret {
        None => {
            // Node 20: `needReadable |= length <= hwm` (never cleared here).
            if r.length <= r.hwm {
                r.need_readable = true;
            }
            n = 0;
        }
        Some(_) => {
            r.length -= n;
            r.clear_await_drain();
        }
    }
    let mut end = false;
    if r.length == 0 {
        if !r.ended {
            r.need_readable = true;
        }
        if n_orig != Some(n) && r.ended {
            end = true;
        }
    }
    let emit = ret.is_some() && !r.error_emitted && !r.close_emitted;
    if emit {
        r.data_emitted = true;
    }
    drop(r);
    if end {
        end_readable(s);
    }
    let Some(chunk) = ret else { return Read::Nothing };
    if !emit || !s.0.ev.has(Event::Data) {
        return if keep { Read::Chunk(chunk) } else { Read::Emitted };
    }
    if keep {
        s.emit_data(chunk.clone());
        Read::Chunk(chunk)
    } else {
        s.emit_data(chunk);
        Read::Emitted
    }
}

fn call_read_hook<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, hwm: usize) {
    if let Some(x) = &s.0.xform {
        x.read(s);
        return;
    }
    match &s.0.hooks.read {
        Some(f) => f(s, hwm),
        None => crate::destroy::error_or_destroy(s, Error::node(Code::ERR_METHOD_NOT_IMPLEMENTED, "_read()"), false),
    }
}

/// `fromList`: takes `n` (already computed) from the buffer.
fn from_list<R: Side>(n: usize, r: &mut ReadableState<R>) -> Option<R> {
    if r.length == 0 {
        return None;
    }
    if r.object_mode {
        return r.buffer.pop_front();
    }
    if n >= r.length {
        if r.buffer.len() == 1 {
            return r.buffer.pop_front();
        }
        let all: Vec<R> = r.buffer.drain(..).collect();
        return Some(concat(all, r.length));
    }
    // consume(n): from the first chunk alone, or spanning chunks.
    let decoded = r.decoder.is_some();
    let first_len = r.buffer.front().map_or(0, |c| r.chunk_len(c));
    if n < first_len {
        let first = r.buffer.pop_front()?;
        let (head, tail) = split(first, n, decoded);
        r.buffer.push_front(tail);
        return Some(head);
    }
    if n == first_len {
        return r.buffer.pop_front();
    }
    let mut out = BytesMut::new();
    let mut left = n;
    while left > 0 {
        let Some(c) = r.buffer.pop_front() else { break };
        let len = r.chunk_len(&c);
        if len <= left {
            left -= len;
            if let Ok(b) = c.side_into_bytes() {
                out.extend_from_slice(&b);
            }
        } else {
            let (head, tail) = split(c, left, decoded);
            if let Ok(b) = head.side_into_bytes() {
                out.extend_from_slice(&b);
            }
            r.buffer.push_front(tail);
            left = 0;
        }
    }
    R::side_from_bytes(out.freeze())
}

fn concat<R: Side>(parts: Vec<R>, total: usize) -> R {
    let mut out = BytesMut::with_capacity(total);
    let mut first = None;
    for p in parts {
        match p.side_into_bytes() {
            Ok(b) => out.extend_from_slice(&b),
            Err(p) => {
                first.get_or_insert(p);
            }
        }
    }
    match R::side_from_bytes(out.freeze()) {
        Some(c) => c,
        None => first.expect("byte concatenation of an object-mode stream"),
    }
}

/// Splits a byte chunk after `n` (bytes, or UTF-16 units of decoded text).
fn split<R: Side>(c: R, n: usize, decoded: bool) -> (R, R) {
    match c.side_into_bytes() {
        Ok(mut b) => {
            let at = if decoded { js_offset(&b, n) } else { n.min(b.len()) };
            let head = b.split_to(at);
            match (R::side_from_bytes(head), R::side_from_bytes(b)) {
                (Some(h), Some(t)) => (h, t),
                _ => unreachable!("Bytes round-trips"),
            }
        }
        Err(c) => (c.clone(), c),
    }
}

/// `onEofChunk`.
fn on_eof_chunk<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let sync = {
        let mut r = s.r();
        if r.ended {
            return;
        }
        if let Some(d) = r.decoder.as_mut() {
            let tail = d.end();
            if !tail.is_empty() {
                let len = js_len(&tail);
                if let Some(c) = R::side_from_bytes(tail) {
                    r.buffer.push_back(c);
                    r.length += len;
                }
            }
        }
        r.ended = true;
        r.sync
    };
    if sync {
        emit_readable(s);
    } else {
        {
            let mut r = s.r();
            r.need_readable = false;
            r.emitted_readable = true;
        }
        emit_readable_(s);
    }
}

/// `emitReadable`: schedules a `readable` event (once).
pub(crate) fn emit_readable<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let schedule = {
        let mut r = s.r();
        r.need_readable = false;
        if !r.emitted_readable {
            r.emitted_readable = true;
            true
        } else {
            false
        }
    };
    if schedule {
        s.tick_kind(TickKind::EmitReadable);
    }
}

/// `emitReadable_`.
pub(crate) fn emit_readable_<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let emit = {
        let r = s.r();
        !r.destroyed && r.errored.is_none() && (r.length > 0 || r.ended)
    };
    if emit {
        s.emit_plain(Event::Readable);
        s.r().emitted_readable = false;
    }
    {
        let mut r = s.r();
        // Node 20 only sets the flag (`|=`): a `needReadable` raised during the emit stays.
        if r.flowing != Some(true) && !r.ended && r.length <= r.hwm {
            r.need_readable = true;
        }
    }
    flow(s);
}

/// `maybeReadMore`: prefetch on the next tick, up to the highWaterMark.
pub(crate) fn maybe_read_more<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let schedule = {
        let mut r = s.r();
        if !r.reading_more && r.constructed {
            r.reading_more = true;
            true
        } else {
            false
        }
    };
    if schedule {
        s.tick_kind(TickKind::MaybeReadMore);
    }
}

pub(crate) fn maybe_read_more_<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    loop {
        let (go, len) = {
            let r = s.r();
            let go = !r.reading && !r.ended && (r.length < r.hwm || (r.flowing == Some(true) && r.length == 0));
            (go, r.length)
        };
        if !go {
            break;
        }
        read(s, Some(0));
        if len == s.r().length {
            break; // _read pushed nothing synchronously
        }
    }
    s.r().reading_more = false;
}

/// What adding a `data` listener does (Node's `Readable.prototype.on('data')`).
pub(crate) fn on_data_added<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let flowing = {
        let mut r = s.r();
        // Node 20 only sets the flag here (`|=`); clearing it is left to
        // `updateReadableListening`, on the tick after a `readable` listener went.
        if s.0.ev.has(Event::Readable) {
            r.readable_listening = true;
        }
        r.flowing
    };
    if flowing != Some(false) {
        resume_stream(s);
    }
}

/// What adding a `readable` listener does.
pub(crate) fn on_readable_added<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let action = {
        let mut r = s.r();
        if !r.end_emitted && !r.readable_listening {
            r.readable_listening = true;
            r.need_readable = true;
            r.flowing = Some(false);
            r.emitted_readable = false;
            if r.length > 0 {
                1
            } else if !r.reading {
                2
            } else {
                0
            }
        } else {
            0
        }
    };
    match action {
        1 => emit_readable(s),
        2 => s.tick(|s| {
            read(s, Some(0));
        }),
        _ => {}
    }
}

/// `updateReadableListening` (next tick after a `readable` listener is removed).
pub(crate) fn update_readable_listening<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if !s.has_readable() {
        return;
    }
    let listening = s.0.ev.has(Event::Readable);
    let (scheduled, paused) = {
        let mut r = s.r();
        r.readable_listening = listening;
        (r.resume_scheduled, r.paused)
    };
    if scheduled && paused == Some(false) {
        s.r().flowing = Some(true);
    } else if s.0.ev.has(Event::Data) {
        resume_stream(s);
    } else if !listening {
        s.r().flowing = None;
    }
}

/// `Readable.prototype.resume`, for any side type (the machinery's callers too).
pub(crate) fn resume_stream<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let (flowing, listening) = {
        let r = s.r();
        (r.flowing, r.readable_listening)
    };
    if flowing != Some(true) {
        s.r().flowing = Some(!listening);
        resume_scheduled(s);
    }
    s.r().paused = Some(false);
}

/// `Readable.prototype.pause`, for any side type (the machinery's callers too).
pub(crate) fn pause_stream<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let flowing = s.r().flowing;
    if flowing != Some(false) {
        s.r().flowing = Some(false);
        s.emit_plain(Event::Pause);
    }
    s.r().paused = Some(true);
}

/// `resume(stream, state)`: schedules `resume_`.
fn resume_scheduled<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let schedule = {
        let mut r = s.r();
        if !r.resume_scheduled {
            r.resume_scheduled = true;
            true
        } else {
            false
        }
    };
    if schedule {
        s.tick_kind(TickKind::Resume);
    }
}

pub(crate) fn resume_<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    if !s.r().reading {
        read(s, Some(0));
    }
    s.r().resume_scheduled = false;
    s.emit_plain(Event::Resume);
    flow(s);
    let again = {
        let r = s.r();
        r.flowing == Some(true) && !r.reading
    };
    if again {
        read(s, Some(0));
    }
}

/// `flow`: reads while flowing.
pub(crate) fn flow<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    while s.r().flowing == Some(true) {
        if matches!(read_impl(s, None, false), Read::Nothing) {
            break;
        }
    }
}

/// `endReadable`.
pub(crate) fn end_readable<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let schedule = {
        let mut r = s.r();
        if !r.end_emitted {
            r.ended = true;
            true
        } else {
            false
        }
    };
    if schedule {
        s.tick_kind(TickKind::EndReadable);
    }
}

/// `endReadableNT`.
pub(crate) fn end_readable_nt<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>) {
    let emit = {
        let mut r = s.r();
        if r.errored.is_none() && !r.close_emitted && !r.end_emitted && r.length == 0 {
            r.end_emitted = true;
            true
        } else {
            false
        }
    };
    if !emit {
        return;
    }
    s.emit_plain(Event::End);
    if crate::duplex::writable_prop(s) && !s.0.allow_half_open.get() {
        s.tick_kind(TickKind::EndWritable);
    } else if s.r().auto_destroy {
        let auto = match s.ws_ref() {
            None => true,
            Some(w) => w.auto_destroy && (w.finished || w.writable == Some(false)),
        };
        if auto {
            s.destroy(None);
        }
    }
}

/// `push` for the machinery (Transform), which works on any side type.
pub(crate) fn push_internal<R: Side, W: Side, E: 'static>(s: &Stream<R, W, E>, chunk: Option<R>) -> bool {
    readable_add_chunk(s, chunk, false)
}
