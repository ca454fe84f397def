//! The one stream type: `Stream<R, W, E>`, Node's Readable, Writable and Duplex at once.
//!
//! A Node Duplex is one object holding a `_readableState` and a `_writableState`, with
//! one set of listeners and one destroy machine. [`Stream`] is the same: `R` is the type
//! it yields (its readable side), `W` the type it accepts (its writable side), and a side
//! it does not have is [`Absent`], so the compiler rejects `write` on a [`Readable`] and
//! `push` on a [`Writable`]. `E` is an extension value (`()` for plain streams; the socket
//! state for [`net::Socket`](crate::net::Socket)), so listeners receive the full stream,
//! as `this` in Node.
//!
//! Behaviour comes from hooks given to the builder (Node's `new Readable({ read })`):
//! `read`, `write`, `writev`, `final_`, `destroy`, `construct`. A hook receives the stream
//! it belongs to, so it never needs to capture it.
//!
//! The state machines themselves are in `readable.rs`, `writable.rs`, `destroy.rs`,
//! `duplex.rs` and `transform.rs`.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::fmt;
use std::rc::Rc;

use millrace_reactor::{Loop, TickTarget};

use crate::chunk::{Absent, Chunk, Side};
use crate::errors::{Error, Result};
use crate::events::{Event, Handler, ListenerId, Listeners};
use crate::readable::ReadableState;
use crate::transform::Xform;
use crate::writable::WritableState;

/// A stream with readable side `R`, writable side `W` and extension `E`.
pub struct Stream<R, W, E = ()>(pub(crate) Rc<Core<R, W, E>>);

/// Node's `Readable` of `T` (`Bytes` by default).
pub type Readable<T = bytes::Bytes, E = ()> = Stream<T, Absent, E>;
/// Node's `Writable` of `T`.
pub type Writable<T = bytes::Bytes, E = ()> = Stream<Absent, T, E>;
/// Node's `Duplex`: yields `R`, accepts `W`.
pub type Duplex<R = bytes::Bytes, W = R, E = ()> = Stream<R, W, E>;

impl<R, W, E> Clone for Stream<R, W, E> {
    fn clone(&self) -> Self {
        Stream(self.0.clone())
    }
}

impl<R, W, E> PartialEq for Stream<R, W, E> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<R, W, E> Eq for Stream<R, W, E> {}

pub(crate) type ReadHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, usize)>;
pub(crate) type WriteHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, W, WriteCallback<R, W, E>)>;
pub(crate) type WritevHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, Vec<W>, WriteCallback<R, W, E>)>;
pub(crate) type FinalHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, FinalCallback<R, W, E>)>;
pub(crate) type DestroyHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, Option<Error>, DestroyCallback<R, W, E>)>;
pub(crate) type ConstructHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, ConstructCallback<R, W, E>)>;
pub(crate) type BeforeWriteHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, BeforeWrite<'_, W>) -> Result<()>>;
pub(crate) type ObserveHook<R, W, E> = Box<dyn Fn(&Stream<R, W, E>, Event)>;

/// What a [`before_write`](crate::Builder::before_write) hook is called for.
#[derive(Debug)]
pub enum BeforeWrite<'a, W> {
    /// `write(chunk)`, once the stream has checked it is neither ending nor destroyed.
    Write(&'a W),
    /// `end(chunk?)`, before anything else.
    End(Option<&'a W>),
}

/// A stream's behaviour: Node's `_read`, `_write`, `_writev`, `_final`, `_destroy`,
/// `_construct`.
pub(crate) struct Hooks<R, W, E> {
    pub(crate) read: Option<ReadHook<R, W, E>>,
    pub(crate) write: Option<WriteHook<R, W, E>>,
    pub(crate) writev: Option<WritevHook<R, W, E>>,
    pub(crate) final_: Option<FinalHook<R, W, E>>,
    pub(crate) destroy: Option<DestroyHook<R, W, E>>,
    pub(crate) construct: Option<ConstructHook<R, W, E>>,
    /// Called first thing in `write(chunk)` and `end(chunk?)`, and may refuse them (not
    /// a Node hook: Node's OutgoingMessage, which is not a Writable, decides its head and
    /// checks its Content-Length there).
    pub(crate) before_write: Option<BeforeWriteHook<R, W, E>>,
    /// Sees every event that passes no value (`end`, `finish`, `close`, ...) before its
    /// listeners: the owner's own reaction, which no listener can remove or reorder.
    pub(crate) observe: Option<ObserveHook<R, W, E>>,
}

impl<R, W, E> Default for Hooks<R, W, E> {
    fn default() -> Self {
        Hooks {
            read: None,
            write: None,
            writev: None,
            final_: None,
            destroy: None,
            construct: None,
            before_write: None,
            observe: None,
        }
    }
}

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// The next ticks the state machines schedule most (Node's `endReadableNT`,
/// `emitReadable_`, `resume_`, `finish`, ...), run through [`TickTarget`] so that
/// queuing one allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum TickKind {
    EndReadable,
    EmitReadable,
    MaybeReadMore,
    Resume,
    UpdateReadableListening,
    EndWritable,
    Finish,
    FinishIfNeeded,
    EmitClose,
    ErrorBuffer,
    DestroyDone,
}

impl TickKind {
    const ALL: [TickKind; 11] = [
        TickKind::EndReadable,
        TickKind::EmitReadable,
        TickKind::MaybeReadMore,
        TickKind::Resume,
        TickKind::UpdateReadableListening,
        TickKind::EndWritable,
        TickKind::Finish,
        TickKind::FinishIfNeeded,
        TickKind::EmitClose,
        TickKind::ErrorBuffer,
        TickKind::DestroyDone,
    ];
}

// `run_tick` finds a kind by its tag in `TickKind::ALL`: the table must be in tag order.
const _: () = {
    let mut i = 0;
    while i < TickKind::ALL.len() {
        assert!(TickKind::ALL[i] as usize == i);
        i += 1;
    }
};

impl<R: Side, W: Side, E: 'static> TickTarget for Core<R, W, E> {
    fn run_tick(self: Rc<Self>, tag: u32) {
        let s = Stream(self);
        let Some(kind) = TickKind::ALL.get(tag as usize) else { return };
        match kind {
            TickKind::EndReadable => crate::readable::end_readable_nt(&s),
            TickKind::EmitReadable => crate::readable::emit_readable_(&s),
            TickKind::MaybeReadMore => crate::readable::maybe_read_more_(&s),
            TickKind::Resume => crate::readable::resume_(&s),
            TickKind::UpdateReadableListening => crate::readable::update_readable_listening(&s),
            TickKind::EndWritable => crate::duplex::end_writable_nt(&s),
            TickKind::Finish => crate::writable::finish(&s),
            TickKind::FinishIfNeeded => crate::writable::finish_if_needed_nt(&s),
            TickKind::EmitClose => crate::destroy::emit_close_nt(&s),
            TickKind::ErrorBuffer => crate::writable::error_buffer(&s),
            TickKind::DestroyDone => crate::destroy::on_destroy(&s, None),
        }
    }
}

/// Streams created on this thread and not yet dropped. After a program's streams have
/// all closed and their owners let go, this returns to zero: close drops every
/// listener, which breaks the reference cycles streams form with their listeners.
pub fn live_streams() -> usize {
    LIVE.with(Cell::get)
}

pub(crate) struct Core<R, W, E> {
    pub(crate) lp: Loop,
    pub(crate) r: Option<RefCell<ReadableState<R>>>,
    pub(crate) w: Option<RefCell<WritableState<W>>>,
    pub(crate) ev: Listeners<Stream<R, W, E>, R>,
    pub(crate) hooks: Hooks<R, W, E>,
    pub(crate) xform: Option<Xform<R, W, E>>,
    pub(crate) allow_half_open: Cell<bool>,
    /// A destroy that waits for `_construct` (Node's `kDestroy` listener).
    pub(crate) pending_destroy: RefCell<Option<Option<Error>>>,
    next_listener: Cell<u64>,
    /// What `renew` needs to make the stream as it was built.
    born: Born,
    pub(crate) ext: E,
}

/// The build options that the states do not keep as built: [`Stream::renew`] restores
/// them.
#[derive(Clone, Copy)]
struct Born {
    /// The readable side's highWaterMark (`read(n)` can raise it).
    readable_hwm: usize,
    /// `encoding` (`set_encoding` can change it).
    encoding: Option<crate::decoder::Encoding>,
    /// `allowHalfOpen` (a setter can change it).
    allow_half_open: bool,
    /// `readable: false` / `writable: false` left the side ended from the start.
    readable: bool,
    writable: bool,
}

/// Options shared by every kind of stream (Node's stream constructor options).
#[derive(Clone, Debug)]
pub struct Options {
    /// `highWaterMark` for both sides (bytes, or chunks in object mode).
    pub high_water_mark: Option<usize>,
    /// `readableHighWaterMark` (Duplex), over `high_water_mark`.
    pub readable_high_water_mark: Option<usize>,
    /// `writableHighWaterMark` (Duplex), over `high_water_mark`.
    pub writable_high_water_mark: Option<usize>,
    /// `objectMode` for both sides; forced for chunk types that are not bytes.
    pub object_mode: bool,
    /// `readableObjectMode` (Duplex).
    pub readable_object_mode: bool,
    /// `writableObjectMode` (Duplex).
    pub writable_object_mode: bool,
    /// `emitClose` (default true).
    pub emit_close: bool,
    /// `autoDestroy` (default true).
    pub auto_destroy: bool,
    /// `allowHalfOpen` (Duplex; default true).
    pub allow_half_open: bool,
    /// `readable: false` (Duplex): the readable side starts ended.
    pub readable: bool,
    /// `writable: false` (Duplex): the writable side starts finished.
    pub writable: bool,
    /// `encoding` (Readable): decode byte chunks as this text encoding.
    pub encoding: Option<crate::decoder::Encoding>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            high_water_mark: None,
            readable_high_water_mark: None,
            writable_high_water_mark: None,
            object_mode: false,
            readable_object_mode: false,
            writable_object_mode: false,
            emit_close: true,
            auto_destroy: true,
            allow_half_open: true,
            readable: true,
            writable: true,
            encoding: None,
        }
    }
}

/// Node's default highWaterMark for byte streams in Node 20: 16 KiB (Node 22 moved to
/// 64 KiB; we follow 20, the Node our goldens come from).
pub const DEFAULT_HIGH_WATER_MARK: usize = 16 * 1024;
/// Node's default highWaterMark for object-mode streams: 16 objects.
pub const DEFAULT_OBJECT_HIGH_WATER_MARK: usize = 16;

thread_local! {
    /// The defaults in force on this thread (bytes, objects): Node keeps them per
    /// isolate, so a worker thread has its own.
    static DEFAULTS: Cell<(usize, usize)> =
        const { Cell::new((DEFAULT_HIGH_WATER_MARK, DEFAULT_OBJECT_HIGH_WATER_MARK)) };
}

/// `stream.getDefaultHighWaterMark(objectMode)`: the highWaterMark a stream built on
/// this thread without one gets (16 KiB, or 16 objects, unless set).
pub fn default_high_water_mark(object_mode: bool) -> usize {
    let (bytes, objects) = DEFAULTS.with(Cell::get);
    if object_mode {
        objects
    } else {
        bytes
    }
}

/// `stream.setDefaultHighWaterMark(objectMode, value)`: the default for the streams
/// built on this thread from now on (streams already built keep theirs).
pub fn set_default_high_water_mark(object_mode: bool, value: usize) {
    DEFAULTS.with(|d| {
        let (bytes, objects) = d.get();
        d.set(if object_mode { (bytes, value) } else { (value, objects) });
    });
}

/// The build options one side's state keeps.
#[derive(Clone, Copy)]
pub(crate) struct SideOptions {
    pub(crate) object_mode: bool,
    pub(crate) hwm: usize,
    pub(crate) emit_close: bool,
    pub(crate) auto_destroy: bool,
}

impl SideOptions {
    /// A side of chunks `T`: in object mode if asked or if `T` is not bytes; with the
    /// highWaterMark given, else the side's own (a Duplex's), else the mode's default.
    pub(crate) fn of<T: Side>(o: &Options, object_mode: bool, side_hwm: Option<usize>) -> Self {
        let object_mode = object_mode || !T::counts_bytes();
        SideOptions {
            object_mode,
            hwm: o.high_water_mark.or(side_hwm).unwrap_or_else(|| default_high_water_mark(object_mode)),
            emit_close: o.emit_close,
            auto_destroy: o.auto_destroy,
        }
    }
}

/// Builds a stream from options and hooks (Node's `new Duplex({ read, write, … })`).
pub struct Builder<R, W, E = ()> {
    pub(crate) opts: Options,
    pub(crate) hooks: Hooks<R, W, E>,
    pub(crate) sides: (bool, bool),
    pub(crate) xform: Option<Xform<R, W, E>>,
    pub(crate) ext: E,
}

impl<R: Side, W: Side, E: 'static> Builder<R, W, E> {
    pub(crate) fn with_ext(readable: bool, writable: bool, ext: E) -> Self {
        Builder { opts: Options::default(), hooks: Hooks::default(), sides: (readable, writable), xform: None, ext }
    }
}

impl<T: Chunk, E: 'static> Builder<T, Absent, E> {
    /// A Readable carrying `ext` (what [`Stream::ext`] returns): the way to build a
    /// readable stream type of your own, as `IncomingMessage` is.
    pub fn readable_ext(ext: E) -> Self {
        Builder::with_ext(true, false, ext)
    }
}

impl<T: Chunk, E: 'static> Builder<Absent, T, E> {
    /// A Writable carrying `ext`.
    pub fn writable_ext(ext: E) -> Self {
        Builder::with_ext(false, true, ext)
    }
}

impl<R: Chunk, W: Chunk, E: 'static> Builder<R, W, E> {
    /// A Duplex carrying `ext`.
    pub fn duplex_ext(ext: E) -> Self {
        Builder::with_ext(true, true, ext)
    }
}

impl<R: Side, W: Side, E: 'static> Builder<R, W, E> {
    /// Replaces all options.
    pub fn options(mut self, opts: Options) -> Self {
        self.opts = opts;
        self
    }

    /// `highWaterMark`.
    pub fn high_water_mark(mut self, hwm: usize) -> Self {
        self.opts.high_water_mark = Some(hwm);
        self
    }

    /// `objectMode: true`.
    pub fn object_mode(mut self) -> Self {
        self.opts.object_mode = true;
        self
    }

    /// `emitClose: false`.
    pub fn no_emit_close(mut self) -> Self {
        self.opts.emit_close = false;
        self
    }

    /// `autoDestroy: false`.
    pub fn no_auto_destroy(mut self) -> Self {
        self.opts.auto_destroy = false;
        self
    }

    /// `_destroy(err, cb)`.
    pub fn destroy(mut self, f: impl Fn(&Stream<R, W, E>, Option<Error>, DestroyCallback<R, W, E>) + 'static) -> Self {
        self.hooks.destroy = Some(Box::new(f));
        self
    }

    /// `_construct(cb)`: runs on the next tick; reads and writes wait for it.
    pub fn construct(mut self, f: impl Fn(&Stream<R, W, E>, ConstructCallback<R, W, E>) + 'static) -> Self {
        self.hooks.construct = Some(Box::new(f));
        self
    }

    pub(crate) fn build_stream(self) -> Stream<R, W, E> {
        self.build_into(None)
    }

    /// Builds the stream, in `old`'s memory if `old` is given and nothing else holds it
    /// (no clone, no weak reference).
    pub(crate) fn build_into(mut self, old: Option<Stream<R, W, E>>) -> Stream<R, W, E> {
        if self.xform.is_some() {
            crate::transform::transform_options(&mut self.opts);
        }
        let lp = Loop::current();
        let o = &self.opts;
        let (readable, writable) = self.sides;
        // Node's `isDuplex`: the per-side options count only on a Duplex; a plain
        // Readable or Writable ignores them.
        let duplex = readable && writable;
        let r = readable.then(|| {
            let object_mode = o.object_mode || (duplex && o.readable_object_mode);
            RefCell::new(ReadableState::new(
                SideOptions::of::<R>(o, object_mode, o.readable_high_water_mark.filter(|_| duplex)),
                o.encoding,
            ))
        });
        let w = writable.then(|| {
            let object_mode = o.object_mode || (duplex && o.writable_object_mode);
            RefCell::new(WritableState::new(SideOptions::of::<W>(
                o,
                object_mode,
                o.writable_high_water_mark.filter(|_| duplex),
            )))
        });
        let has_construct = self.hooks.construct.is_some();
        if let (Some(r), true) = (&r, self.xform.is_some()) {
            // Transform: pushes from _transform are not "inside _read".
            r.borrow_mut().sync = false;
        }
        let born = Born {
            readable_hwm: r.as_ref().map_or(0, |r| r.borrow().hwm),
            encoding: o.encoding,
            allow_half_open: o.allow_half_open,
            readable: o.readable,
            writable: o.writable,
        };
        let mut old = old.map(|s| s.0);
        let s = match old.as_mut().and_then(Rc::get_mut) {
            Some(slot) => {
                // Field by field, in place: no whole core is built and then moved. The
                // pattern names every field, so a field added to `Core` must be set here.
                let Core {
                    lp: l,
                    r: rs,
                    w: ws,
                    ev,
                    hooks,
                    xform,
                    allow_half_open,
                    pending_destroy,
                    next_listener,
                    born: b,
                    ext: x,
                } = slot;
                *l = lp;
                *rs = r;
                *ws = w;
                *ev = Listeners::default();
                *hooks = self.hooks;
                *xform = self.xform;
                allow_half_open.set(o.allow_half_open);
                *pending_destroy.get_mut() = None;
                next_listener.set(0);
                *b = born;
                *x = self.ext;
                Stream(old.take().expect("the core just reused"))
            }
            None => {
                drop(old); // held elsewhere: let go
                LIVE.with(|n| n.set(n.get() + 1));
                Stream(Rc::new(Core {
                    lp,
                    r,
                    w,
                    ev: Listeners::default(),
                    hooks: self.hooks,
                    xform: self.xform,
                    allow_half_open: Cell::new(o.allow_half_open),
                    pending_destroy: RefCell::new(None),
                    next_listener: Cell::new(0),
                    born,
                    ext: self.ext,
                }))
            }
        };
        s.born_sides(has_construct);
        s
    }
}

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    /// The stream made new in its own memory, as its builder made it: both sides back
    /// in their first state (with the options it was built with), no listeners, the
    /// same hooks and loop, and its extension value reset by `reset`, which can keep
    /// what the old value allocated. Only a stream that nothing else holds (no clone,
    /// no weak reference, no queued next tick) can be renewed; any other comes back as
    /// `Err`. A server that makes a stream per message renews finished ones and so
    /// skips both the allocator and the builder.
    pub fn renew(mut self, reset: impl FnOnce(&mut E)) -> std::result::Result<Self, Self> {
        let Some(core) = Rc::get_mut(&mut self.0) else { return Err(self) };
        // The pattern names every field, so a field added to `Core` must be renewed here.
        let Core { lp: _, r, w, ev, hooks, xform, allow_half_open, pending_destroy, next_listener, born, ext } = core;
        if let Some(r) = r {
            r.get_mut().renew(born.readable_hwm, born.encoding);
            // Transform: pushes from _transform are not "inside _read".
            r.get_mut().sync = xform.is_none();
        }
        if let Some(w) = w {
            w.get_mut().renew();
        }
        ev.clear();
        if let Some(x) = xform {
            x.renew();
        }
        allow_half_open.set(born.allow_half_open);
        *pending_destroy.get_mut() = None;
        next_listener.set(0);
        reset(ext);
        let has_construct = hooks.construct.is_some();
        self.born_sides(has_construct);
        Ok(self)
    }

    /// The last steps of building: `readable: false` / `writable: false`, `_construct`.
    fn born_sides(&self, has_construct: bool) {
        if self.has_readable() && self.has_writable() {
            crate::duplex::apply_side_options(self, self.0.born.readable, self.0.born.writable);
        }
        if has_construct {
            crate::destroy::construct(self);
        }
    }
}

impl<R, W, E> Drop for Core<R, W, E> {
    fn drop(&mut self) {
        LIVE.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

impl<R, W, E> Stream<R, W, E> {
    /// The extension value given at build time.
    pub fn ext(&self) -> &E {
        &self.0.ext
    }

    /// The loop the stream schedules its next ticks on.
    pub fn get_loop(&self) -> &Loop {
        &self.0.lp
    }

    /// True if `a` and `b` are the same stream.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn rs(&self) -> Option<RefMut<'_, ReadableState<R>>> {
        self.0.r.as_ref().map(|r| r.borrow_mut())
    }

    pub(crate) fn ws(&self) -> Option<RefMut<'_, WritableState<W>>> {
        self.0.w.as_ref().map(|w| w.borrow_mut())
    }

    pub(crate) fn rs_ref(&self) -> Option<Ref<'_, ReadableState<R>>> {
        self.0.r.as_ref().map(|r| r.borrow())
    }

    pub(crate) fn ws_ref(&self) -> Option<Ref<'_, WritableState<W>>> {
        self.0.w.as_ref().map(|w| w.borrow())
    }

    pub(crate) fn has_readable(&self) -> bool {
        self.0.r.is_some()
    }

    pub(crate) fn has_writable(&self) -> bool {
        self.0.w.is_some()
    }

    fn listener_id(&self, event: Event) -> ListenerId {
        let id = self.0.next_listener.get();
        self.0.next_listener.set(id + 1);
        ListenerId { event, id }
    }

    /// Schedules one of the machinery's own ticks (no allocation, unlike `tick`).
    #[inline]
    pub(crate) fn tick_kind(&self, kind: TickKind)
    where
        R: Side,
        W: Side,
        E: 'static,
    {
        debug_assert_eq!(TickKind::ALL.get(kind as usize), Some(&kind), "TickKind::ALL misses {kind:?}");
        self.0.lp.next_tick_target(self.0.clone(), kind as u32);
    }

    /// Schedules `f(self)` on the next tick.
    pub(crate) fn tick(&self, f: impl FnOnce(&Stream<R, W, E>) + 'static)
    where
        R: 'static,
        W: 'static,
        E: 'static,
    {
        let me = self.clone();
        self.0.lp.next_tick(move || f(&me));
    }

    /// Removes a listener; false if it was not registered (or already ran, for `once`).
    pub fn off(&self, id: ListenerId) -> bool
    where
        R: Side,
        W: Side,
        E: 'static,
    {
        let removed = self.0.ev.remove(id);
        // Readable's `removeListener('readable', fn)` schedules the update whether or not
        // `fn` was still registered.
        if id.event == Event::Readable && self.has_readable() {
            self.tick_kind(TickKind::UpdateReadableListening);
        }
        removed
    }

    /// `removeAllListeners(event)`.
    pub fn remove_all_listeners(&self, event: Event)
    where
        R: Side,
        W: Side,
        E: 'static,
    {
        self.0.ev.clear_event(event);
        if event == Event::Readable {
            self.tick_kind(TickKind::UpdateReadableListening);
        }
    }

    /// The number of listeners of `event`.
    pub fn listener_count(&self, event: Event) -> usize {
        self.0.ev.count(event)
    }

    /// Drops every listener: done once `close` has been emitted, which breaks the
    /// reference cycles between streams and the closures that capture them.
    pub(crate) fn drop_listeners(&self) {
        self.0.ev.clear();
    }

    /// `emitter.on(event, f)` for an event whose listeners take no value (not `data`,
    /// `connection`, `error`, `pipe` or `unpipe`, which have their own `on_*`): for
    /// types built on streams that add events of their own, such as the HTTP
    /// request's `aborted`.
    ///
    /// # Panics
    /// If `event` is one whose listeners take a value.
    pub fn on_event(&self, event: Event, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
        assert!(
            !matches!(event, Event::Data | Event::Connection | Event::Error | Event::Pipe | Event::Unpipe),
            "on_event({event:?}): the listener takes a value; use its own on_* method"
        );
        self.add_plain(event, false, false, f)
    }

    /// `emitter.emit(event)` for an event whose listeners take no value (see
    /// [`Stream::on_event`]); true if it had listeners.
    pub fn emit_event(&self, event: Event) -> bool {
        self.emit_plain(event)
    }

    pub(crate) fn add_plain(
        &self,
        event: Event,
        once: bool,
        prepend: bool,
        f: impl Fn(&Stream<R, W, E>) + 'static,
    ) -> ListenerId {
        self.add_handler(event, once, prepend, Handler::Plain(Rc::new(f)))
    }

    fn add_handler(&self, event: Event, once: bool, prepend: bool, h: Handler<Stream<R, W, E>, R>) -> ListenerId {
        let id = self.listener_id(event);
        self.0.ev.add(event, id.id, once, prepend, h);
        id
    }

    pub(crate) fn emit_plain(&self, event: Event) -> bool {
        if let Some(f) = &self.0.hooks.observe {
            f(self, event);
        }
        self.0.ev.emit_plain(event, self)
    }

    pub(crate) fn emit_pipe(&self, event: Event, other: &dyn AnyStream) -> bool {
        self.0.ev.emit_pipe(event, self, other)
    }
}

macro_rules! plain_events {
    ($($(#[$doc:meta])* $field:ident, $on:ident, $once:ident, $event:ident;)*) => {
        impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
            $(
                $(#[$doc])*
                pub fn $on(&self, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
                    self.add_plain(Event::$event, false, false, f)
                }

                $(#[$doc])*
                /// Runs once, then is removed.
                pub fn $once(&self, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
                    self.add_plain(Event::$event, true, false, f)
                }
            )*
        }
    };
}

plain_events! {
    /// `'close'`: the stream and its resources are gone; emitted last.
    close, on_close, once_close, Close;
    /// `'drain'`: the write buffer emptied after `write` returned false.
    drain, on_drain, once_drain, Drain;
    /// `'finish'`: every write is done and `end` was called.
    finish, on_finish, once_finish, Finish;
    /// `'prefinish'`: after `_final`, just before `finish`.
    prefinish, on_prefinish, once_prefinish, Prefinish;
    /// `'pause'`.
    pause, on_pause, once_pause, Pause;
    /// `'resume'`.
    resume, on_resume, once_resume, Resume;
}

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    /// `'error'`. Without an error listener an error is reported through `tracing` (Node
    /// would crash the process); the stream is destroyed either way.
    pub fn on_error(&self, f: impl Fn(&Stream<R, W, E>, &Error) + 'static) -> ListenerId {
        self.add_handler(Event::Error, false, false, Handler::Error(Rc::new(f)))
    }

    /// `'error'`, once.
    pub fn once_error(&self, f: impl Fn(&Stream<R, W, E>, &Error) + 'static) -> ListenerId {
        self.add_handler(Event::Error, true, false, Handler::Error(Rc::new(f)))
    }

    pub(crate) fn prepend_error(&self, f: impl Fn(&Stream<R, W, E>, &Error) + 'static) -> ListenerId {
        self.add_handler(Event::Error, false, true, Handler::Error(Rc::new(f)))
    }

    pub(crate) fn emit_error(&self, err: &Error) {
        let any = self.0.ev.emit_error(self, err);
        if !any {
            tracing::warn!(target: "millrace::streams", error = %err, "unhandled 'error' event");
        }
    }

    /// `'pipe'`: a readable started piping into this stream.
    pub fn on_pipe(&self, f: impl Fn(&Stream<R, W, E>, &dyn AnyStream) + 'static) -> ListenerId {
        self.add_handler(Event::Pipe, false, false, Handler::Pipe(Rc::new(f)))
    }

    /// `'unpipe'`: a readable stopped piping into this stream.
    pub fn on_unpipe(&self, f: impl Fn(&Stream<R, W, E>, &dyn AnyStream) + 'static) -> ListenerId {
        self.add_handler(Event::Unpipe, false, false, Handler::Pipe(Rc::new(f)))
    }
}

impl<R: Chunk, W: Side, E: 'static> Stream<R, W, E> {
    /// `'data'`: a chunk, in flowing mode. Adding a data listener starts the flow (unless
    /// the stream was explicitly paused), as in Node.
    pub fn on_data(&self, f: impl Fn(&Stream<R, W, E>, R) + 'static) -> ListenerId {
        let id = self.add_handler(Event::Data, false, false, Handler::Data(Rc::new(f)));
        crate::readable::on_data_added(self);
        id
    }

    /// `'data'`, once.
    pub fn once_data(&self, f: impl Fn(&Stream<R, W, E>, R) + 'static) -> ListenerId {
        let id = self.add_handler(Event::Data, true, false, Handler::Data(Rc::new(f)));
        crate::readable::on_data_added(self);
        id
    }

    /// `'end'`: no more data; emitted once the buffer is consumed.
    pub fn on_end(&self, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
        self.add_plain(Event::End, false, false, f)
    }

    /// `'end'`, once.
    pub fn once_end(&self, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
        self.add_plain(Event::End, true, false, f)
    }

    /// `'readable'`: data (or the end) can be read with `read()`. Adding a readable
    /// listener switches the stream to paused mode, and it takes precedence over
    /// `data` for flow control, as in Node.
    pub fn on_readable(&self, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
        let id = self.add_plain(Event::Readable, false, false, f);
        crate::readable::on_readable_added(self);
        id
    }

    /// `'readable'`, once.
    pub fn once_readable(&self, f: impl Fn(&Stream<R, W, E>) + 'static) -> ListenerId {
        // EventEmitter's `once` wrapper removes itself with `removeListener` before calling
        // the listener, and Readable's `removeListener('readable')` schedules
        // `updateReadableListening`.
        let wrapped = move |s: &Stream<R, W, E>| {
            s.tick_kind(TickKind::UpdateReadableListening);
            f(s)
        };
        let id = self.add_plain(Event::Readable, true, false, wrapped);
        crate::readable::on_readable_added(self);
        id
    }
}

impl<R: Side, W: Side, E: 'static> Stream<R, W, E> {
    #[inline]
    pub(crate) fn emit_data(&self, chunk: R) {
        self.0.ev.emit_value(Event::Data, self, chunk);
    }
}

/// A stream seen without its chunk types: what `pipe`/`unpipe` listeners and pipelines
/// hold.
pub trait AnyStream {
    /// An identity for the stream (stable while it lives).
    fn stream_id(&self) -> usize;
    /// `destroy(err)`.
    fn destroy_any(&self, err: Option<Error>);
    /// `destroyed`.
    fn is_destroyed(&self) -> bool;
}

impl<R: Side, W: Side, E: 'static> AnyStream for Stream<R, W, E> {
    fn stream_id(&self) -> usize {
        Rc::as_ptr(&self.0) as *const () as usize
    }

    fn destroy_any(&self, err: Option<Error>) {
        self.destroy(err);
    }

    fn is_destroyed(&self) -> bool {
        self.destroyed()
    }
}

/// Node's `_write` callback: call it once the chunk is handled. It is consumed by the
/// call, so Node's `ERR_MULTIPLE_CALLBACK` cannot happen:
///
/// ```compile_fail
/// # use millrace_streams::*;
/// let w = Writable::<bytes::Bytes>::builder().write(|_, _, cb| {
///     cb.call(Ok(()));
///     cb.call(Ok(())); // error[E0382]: use of moved value: `cb`
/// }).build();
/// ```
#[must_use = "a write that never calls back stalls the stream"]
pub struct WriteCallback<R, W, E> {
    pub(crate) stream: Stream<R, W, E>,
}

impl<R: Side, W: Side, E: 'static> WriteCallback<R, W, E> {
    /// Reports the write done (`cb()`) or failed (`cb(err)`).
    pub fn call(self, result: Result<()>) {
        crate::writable::onwrite(&self.stream, result.err());
    }

    /// `cb()`.
    pub fn ok(self) {
        self.call(Ok(()))
    }
}

/// Node's `_final` callback.
#[must_use = "a final that never calls back stalls the stream"]
pub struct FinalCallback<R, W, E> {
    pub(crate) stream: Stream<R, W, E>,
}

impl<R: Side, W: Side, E: 'static> FinalCallback<R, W, E> {
    /// `cb()` or `cb(err)`.
    pub fn call(self, result: Result<()>) {
        crate::writable::on_final_done(&self.stream, result.err());
    }
}

/// Node's `_destroy` callback.
#[must_use = "a destroy that never calls back never emits close"]
pub struct DestroyCallback<R, W, E> {
    pub(crate) stream: Stream<R, W, E>,
}

impl<R: Side, W: Side, E: 'static> DestroyCallback<R, W, E> {
    /// `cb(err)`: the error to report (usually the one `_destroy` was given), or none.
    pub fn call(self, err: Option<Error>) {
        crate::destroy::on_destroy(&self.stream, err);
    }

    /// `cb()` with `close` emitted before this returns rather than a tick later: for a
    /// type whose Node counterpart closes in step with something else (see
    /// [`Stream::destroy_closing_now`]).
    pub fn call_closing_now(self) {
        crate::destroy::on_destroy_closing_now(&self.stream);
    }

    /// `process.nextTick(cb, err)`: the callback a tick later, as some `_destroy`s call
    /// it (Node's `IncomingMessage`); without an error, queuing it allocates nothing.
    pub fn call_on_next_tick(self, err: Option<Error>) {
        match err {
            None => self.stream.tick_kind(TickKind::DestroyDone),
            Some(e) => self.stream.tick(move |s| crate::destroy::on_destroy(s, Some(e))),
        }
    }
}

/// Node's `_construct` callback.
#[must_use = "a construct that never calls back stalls the stream"]
pub struct ConstructCallback<R, W, E> {
    pub(crate) stream: Stream<R, W, E>,
}

impl<R: Side, W: Side, E: 'static> ConstructCallback<R, W, E> {
    /// `cb()` or `cb(err)`.
    pub fn call(self, result: Result<()>) {
        crate::destroy::on_construct(&self.stream, result.err());
    }
}

impl<R, W, E> fmt::Debug for Stream<R, W, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Stream");
        if let Some(r) = &self.0.r {
            match r.try_borrow() {
                Ok(r) => d.field("readable", &r.snapshot()),
                Err(_) => d.field("readable", &"<busy>"),
            };
        }
        if let Some(w) = &self.0.w {
            match w.try_borrow() {
                Ok(w) => d.field("writable", &w.snapshot()),
                Err(_) => d.field("writable", &"<busy>"),
            };
        }
        d.finish()
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use bytes::Bytes;

    fn rc_size<R, W, E>() -> usize {
        std::mem::size_of::<Core<R, W, E>>() + 16 // the Rc's two counts
    }

    /// A stream is allocated per HTTP message: its core (with the `Rc` counts) must stay
    /// within glibc's tcache sizes (up to 1032 bytes), or every one of those allocations
    /// takes malloc's slow path. Sized here with extension states as large as the HTTP
    /// crate's (a response's state is 240 bytes, a request's 152).
    #[test]
    fn core_fits_the_allocator_fast_path() {
        let duplex = rc_size::<Bytes, Bytes, ()>();
        let response = rc_size::<Absent, Bytes, [u64; 30]>();
        let request = rc_size::<Bytes, Absent, [u64; 19]>();
        eprintln!("duplex {duplex}, response-like {response}, request-like {request} bytes");
        assert!(duplex <= 1032 && response <= 1032 && request <= 1032);
    }
}

#[cfg(test)]
mod reuse_tests {
    use super::*;
    use crate::Writable;
    use bytes::Bytes;
    use std::cell::RefCell;

    fn writable(log: &Rc<RefCell<Vec<String>>>, tag: &'static str) -> Writable<u32> {
        let l = log.clone();
        Writable::<u32>::builder()
            .write(move |_, c, cb| {
                l.borrow_mut().push(format!("{tag} {c}"));
                cb.ok();
            })
            .build()
    }

    /// A finished stream nothing else holds lends its memory to the next one, which
    /// starts from a fresh state; one still held elsewhere is left alone.
    #[test]
    fn build_reusing_takes_the_memory_only_of_a_stream_no_one_holds() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let lp = Loop::current();
        let live = live_streams();
        let old = writable(&log, "old");
        old.write(1u32);
        old.end();
        lp.run_next_ticks();
        assert!(old.writable_finished() && old.destroyed());
        let id = old.stream_id();

        let l = log.clone();
        let new = Writable::<u32>::builder()
            .write(move |_, c, cb| {
                l.borrow_mut().push(format!("new {c}"));
                cb.ok();
            })
            .build_reusing(old);
        assert_eq!(new.stream_id(), id, "the same memory");
        assert_eq!(live_streams(), live + 1, "the old one counts as dropped");
        assert!(!new.writable_finished() && !new.destroyed() && !new.writable_ended());
        new.write(2u32);
        assert_eq!(*log.borrow(), ["old 1", "new 2"]);

        // Held elsewhere: not reused, and still itself.
        let held = new.clone();
        let other = Writable::<u32>::builder().write(|_, _, cb| cb.ok()).build_reusing(new);
        assert_ne!(other.stream_id(), id);
        held.write(3u32);
        assert_eq!(log.borrow().last().map(String::as_str), Some("new 3"));
        assert_eq!(live_streams(), live + 2);
    }

    /// A stream worn in every way the builder's options cover (read(n) raised its
    /// highWaterMark, `set_encoding`, `set_allow_half_open`, listeners, ended and
    /// closed) comes back from `renew` as its twin fresh from the same builder: the same
    /// states, the same hooks, no listeners, its extension reset by the closure.
    #[test]
    fn renew_makes_a_stream_as_its_builder_made_it() {
        use crate::decoder::Encoding;
        use crate::Duplex;
        let lp = Loop::current();
        let log = Rc::new(RefCell::new(Vec::new()));
        let make = |log: &Rc<RefCell<Vec<String>>>| {
            let l = log.clone();
            Builder::duplex_ext(vec![0u8; 0])
                .readable_high_water_mark(4)
                .encoding(Encoding::Utf8)
                .no_half_open()
                .read(|_: &Duplex<Bytes, Bytes, Vec<u8>>, _| {})
                .write(move |_, c: Bytes, cb| {
                    l.borrow_mut().push(format!("write {}", c.len()));
                    cb.ok();
                })
        };
        let twin = make(&log).build();
        let old = make(&log).build();
        let id = old.stream_id();
        old.on_end(|_| {});
        old.set_allow_half_open(true);
        old.push(Some(Bytes::from_static(b"abcdef")));
        old.set_encoding(Encoding::Latin1);
        let _ = old.read(Some(10)); // above the hwm: raises it
        assert_ne!(old.readable_state().high_water_mark, twin.readable_state().high_water_mark);
        old.write(Bytes::from_static(b"xy"));
        old.push(None);
        old.end();
        old.destroy(None);
        lp.run_next_ticks();
        assert!(old.destroyed());

        let resets = Cell::new(0);
        let new = old
            .renew(|v| {
                resets.set(resets.get() + 1);
                v.push(7);
            })
            .unwrap_or_else(|_| panic!("nothing else holds it"));
        assert_eq!((new.stream_id(), resets.get(), new.ext().as_slice()), (id, 1, &[7][..]));
        assert!(new.readable_state() == twin.readable_state(), "readable side as built");
        assert!(new.writable_state() == twin.writable_state(), "writable side as built");
        assert_eq!(new.allow_half_open(), twin.allow_half_open());
        assert_eq!(new.listener_count(Event::End), 0);
        // It behaves as built: the same write hook, the built encoding (UTF-8 keeps
        // "é" whole; Latin-1 would give two characters).
        new.write(Bytes::from_static(b"abc"));
        new.push(Some(Bytes::from("é")));
        let text = new.read(None).map(|b: Bytes| String::from_utf8_lossy(&b).into_owned());
        assert_eq!(text.as_deref(), Some("é"));
        assert_eq!(*log.borrow(), ["write 2", "write 3"]);

        // One let go while still open keeps no listener (close, which drops them, never
        // came) and no buffered chunk.
        let open = make(&log).build();
        open.on_data(|_, _| {});
        open.cork();
        open.write(Bytes::from_static(b"held"));
        lp.run_next_ticks(); // the resume that on_data queued: it holds the stream
        assert_eq!(open.readable_state().flowing, Some(true));
        let open = open.renew(|_| {}).unwrap_or_else(|_| panic!("nothing else holds it"));
        assert_eq!(open.listener_count(Event::Data), 0);
        assert!(open.writable_state() == twin.writable_state(), "uncorked, nothing buffered");
        assert!(open.readable_state() == twin.readable_state(), "not flowing");
    }

    /// A stream held elsewhere is not renewed: it comes back as it was, and the reset
    /// does not run.
    #[test]
    fn renew_gives_back_a_stream_held_elsewhere() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let s = writable(&log, "s");
        s.write(1u32);
        let held = s.clone();
        let back = match s.renew(|_| panic!("not renewed")) {
            Err(back) => back,
            Ok(_) => panic!("a held stream was renewed"),
        };
        assert!(Stream::ptr_eq(&back, &held));
        back.end();
        Loop::current().run_next_ticks();
        assert!(held.writable_finished(), "still itself");
        let lp = Loop::current();
        let weak = Writable::<u32>::builder().write(|_, _, cb| cb.ok()).build();
        let _w = Rc::downgrade(&weak.0);
        assert!(weak.renew(|_| {}).is_err(), "a weak reference holds it too");
        lp.run_next_ticks();
    }

    /// A renewed Transform passes chunks on again, and a renewed stream with
    /// `_construct` runs it again before its first write.
    #[test]
    fn renew_restores_transforms_and_constructs() {
        use crate::Transform;
        let lp = Loop::current();
        let t = Transform::<u32, u32>::builder().transform(|_, c, cb| cb.call(Ok(Some(c * 10)))).build();
        t.write(1u32);
        t.end();
        assert_eq!(t.read(None), Some(10));
        lp.run_next_ticks();
        let t = t.renew(|_| {}).unwrap_or_else(|_| panic!("renewable"));
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s2 = seen.clone();
        t.on_data(move |_, c| s2.borrow_mut().push(c));
        t.write(2u32);
        t.write(3u32);
        lp.run_next_ticks();
        assert_eq!(*seen.borrow(), [20, 30]);

        let log = Rc::new(RefCell::new(Vec::new()));
        let (l1, l2) = (log.clone(), log.clone());
        let w = Writable::<u32>::builder()
            .construct(move |_, cb| {
                l1.borrow_mut().push("construct".to_string());
                cb.call(Ok(()));
            })
            .write(move |_, c, cb| {
                l2.borrow_mut().push(format!("write {c}"));
                cb.ok();
            })
            .build();
        lp.run_next_ticks();
        w.end();
        lp.run_next_ticks();
        let w = w.renew(|_| {}).unwrap_or_else(|_| panic!("renewable"));
        w.write(5u32);
        assert_eq!(*log.borrow(), ["construct"], "the write waits for _construct");
        lp.run_next_ticks();
        assert_eq!(*log.borrow(), ["construct", "construct", "write 5"]);
    }
}

#[cfg(test)]
mod before_write_tests {
    use super::*;
    use crate::Writable;
    use std::cell::RefCell;

    /// A Writable of numbers whose `before_write` refuses 13 (from `write` or `end`),
    /// logging what the hook saw, each `_write`, each callback and the events.
    fn guarded(log: &Rc<RefCell<Vec<String>>>) -> Writable<u32> {
        let (l, l2) = (log.clone(), log.clone());
        let w = Writable::<u32>::builder()
            .before_write(move |_, call| {
                let (what, chunk) = match call {
                    BeforeWrite::Write(c) => ("write", Some(*c)),
                    BeforeWrite::End(c) => ("end", c.copied()),
                };
                l.borrow_mut().push(format!("before {what} {chunk:?}"));
                match chunk {
                    Some(13) => Err(Error::with_code("E13", "unlucky")),
                    _ => Ok(()),
                }
            })
            .write(move |_, c, cb| {
                l2.borrow_mut().push(format!("_write {c}"));
                cb.ok();
            })
            .build();
        for (event, name) in [(Event::Finish, "finish"), (Event::Close, "close")] {
            let l = log.clone();
            w.on_event(event, move |_| l.borrow_mut().push(name.to_owned()));
        }
        let l = log.clone();
        w.on_error(move |_, e| l.borrow_mut().push(format!("error {}", e.code().unwrap_or("?"))));
        w
    }

    fn callback(log: &Rc<RefCell<Vec<String>>>, tag: &'static str) -> impl FnOnce(Option<Error>) + 'static {
        let l = log.clone();
        move |e| {
            l.borrow_mut().push(format!("{tag} cb {}", e.and_then(|e| e.code().map(str::to_owned)).unwrap_or_default()))
        }
    }

    /// The hook sees every write and the end; a refused write returns false, calls back
    /// with the error and destroys the stream with it, as a write after end would; a
    /// write after end never reaches the hook.
    #[test]
    fn before_write_refuses_as_a_write_after_end_is_refused() {
        let lp = Loop::current();
        let log = Rc::new(RefCell::new(Vec::new()));
        let w = guarded(&log);
        assert!(w.write_cb(1u32, callback(&log, "1")));
        assert!(!w.write_cb(13u32, callback(&log, "13")));
        assert!(w.destroyed());
        assert!(!w.write(2u32), "destroyed: refused before the hook");
        lp.run_next_ticks();
        assert_eq!(
            *log.borrow(),
            ["before write Some(1)", "_write 1", "before write Some(13)", "1 cb ", "13 cb E13", "error E13", "close"]
        );

        let log = Rc::new(RefCell::new(Vec::new()));
        let w = guarded(&log);
        w.end_cb(Some(5), callback(&log, "end"));
        assert!(!w.write(6u32));
        lp.run_next_ticks();
        assert_eq!(
            *log.borrow(),
            [
                "before end Some(5)",
                "_write 5",
                "end cb ERR_STREAM_WRITE_AFTER_END",
                "error ERR_STREAM_WRITE_AFTER_END",
                "close"
            ],
            "ended: the write after end is the Writable's; the end callback gets that error"
        );
    }

    /// An `end` the hook refuses does not end the stream: its callback gets the error and
    /// the stream is destroyed with it; no `finish`.
    #[test]
    fn before_write_refusing_end() {
        let lp = Loop::current();
        let log = Rc::new(RefCell::new(Vec::new()));
        let w = guarded(&log);
        w.end_cb(Some(13), callback(&log, "end"));
        assert!(!w.writable_ended() && w.destroyed());
        lp.run_next_ticks();
        assert_eq!(*log.borrow(), ["before end Some(13)", "error E13", "close", "end cb E13"]);
    }
}
