//! Typed event listeners with EventEmitter's rules.
//!
//! Node's `EventEmitter.emit` calls the listeners registered when the emit began, in
//! order (a listener added during the emit is not called; one removed during it still
//! is), and a `once` listener is removed before it runs. A stream keeps its listeners
//! in one list per signature; all but the `data` list are allocated with their first
//! listener (a stream is allocated per request in the HTTP server, and most of those
//! never have one).
//! [`ListenerId`] names one registration for `off`.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use crate::errors::Error;
use crate::stream::AnyStream;

/// The events a stream emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// `'data'`
    Data,
    /// `'end'`
    End,
    /// `'readable'`
    Readable,
    /// `'pause'`
    Pause,
    /// `'resume'`
    Resume,
    /// `'error'`
    Error,
    /// `'close'`
    Close,
    /// `'drain'`
    Drain,
    /// `'finish'`
    Finish,
    /// `'prefinish'`
    Prefinish,
    /// `'pipe'`
    Pipe,
    /// `'unpipe'`
    Unpipe,
    /// `'connect'` (sockets)
    Connect,
    /// `'timeout'` (sockets)
    Timeout,
    /// `'open'` (file streams)
    Open,
    /// `'ready'` (file streams)
    Ready,
    /// `'connection'` (servers)
    Connection,
    /// `'listening'` (servers).
    Listening,
    /// `'aborted'` (HTTP requests).
    Aborted,
    /// `'socket'` (HTTP responses: handed their socket).
    Socket,
    /// `'resize'` (terminal write streams: the window size changed).
    Resize,
    /// A dgram socket's datagram (a value event).
    Message,
    /// `'spawn'` (child processes).
    Spawn,
    /// `'exit'` (child processes).
    Exit,
    /// `'disconnect'` (an IPC channel, and the child process it belongs to).
    Disconnect,
}

/// One listener registration, returned by every `on_*`/`once_*`; give it to `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId {
    pub(crate) event: Event,
    pub(crate) id: u64,
}

impl ListenerId {
    /// The event it listens to.
    pub fn event(&self) -> Event {
        self.event
    }
}

type PlainFn<S> = Rc<dyn Fn(&S)>;
type ValueFn<S, R> = Rc<dyn Fn(&S, R)>;
type ErrorFn<S> = Rc<dyn Fn(&S, &Error)>;
type PipeFn<S> = Rc<dyn Fn(&S, &dyn AnyStream)>;

/// A listener, by the arguments its event passes (`S` is the emitter, `R` the value a
/// `'data'` or `'connection'` listener receives).
pub(crate) enum Handler<S, R> {
    Plain(PlainFn<S>),
    Data(ValueFn<S, R>),
    Error(ErrorFn<S>),
    Pipe(PipeFn<S>),
}

struct Entry<H> {
    event: Event,
    id: u64,
    once: bool,
    f: H,
}

/// The listeners an emit calls: usually none or one, so no allocation for those.
pub(crate) enum Snapshot<H> {
    None,
    One(H),
    Many(Vec<H>),
}

impl<H> Snapshot<H> {
    /// Runs `call` on each listener; false if there was none.
    #[inline]
    fn call_each(self, mut call: impl FnMut(&H)) -> bool {
        match self {
            Snapshot::None => false,
            Snapshot::One(f) => {
                call(&f);
                true
            }
            Snapshot::Many(all) => {
                all.iter().for_each(call);
                true
            }
        }
    }
}

/// The listeners of one signature, in registration order.
struct List<H> {
    v: RefCell<Vec<Entry<H>>>,
}

impl<H: Clone> List<H> {
    fn new() -> Self {
        List { v: RefCell::new(Vec::new()) }
    }

    fn add(&self, entry: Entry<H>, prepend: bool) {
        let mut v = self.v.borrow_mut();
        if prepend {
            // Before the other listeners of the same event (`prependListener`).
            v.insert(0, entry);
        } else {
            v.push(entry);
        }
    }

    fn take_all(&self) -> Vec<Entry<H>> {
        std::mem::take(&mut *self.v.borrow_mut())
    }

    /// The listeners of `event`, `once` ones removed; and whether any listener of
    /// `event` is left. Removed handlers are held by the snapshot, so no destructor
    /// runs under the borrow.
    #[inline]
    fn snapshot(&self, event: Event) -> (Snapshot<H>, bool) {
        let mut v = self.v.borrow_mut();
        let Some(first) = v.iter().position(|e| e.event == event) else { return (Snapshot::None, false) };
        let second = v[first + 1..].iter().position(|e| e.event == event);
        if second.is_none() {
            let f = v[first].f.clone();
            if v[first].once {
                v.remove(first);
                return (Snapshot::One(f), false);
            }
            return (Snapshot::One(f), true);
        }
        let all: Vec<H> = v[first..].iter().filter(|e| e.event == event).map(|e| e.f.clone()).collect();
        v.retain(|e| !(e.event == event && e.once));
        let left = v.iter().any(|e| e.event == event);
        (Snapshot::Many(all), left)
    }
}

/// What the non-emitting operations need of a list, whatever its listeners' signature:
/// [`Listeners`] picks the list of an event's kind once and asks it.
trait EventList {
    fn remove(&self, id: ListenerId) -> bool;
    /// Removes the listeners of `event`.
    fn clear_event(&self, event: Event);
    fn has(&self, event: Event) -> bool;
    fn count(&self, event: Event) -> usize;
    /// Removes the listeners registered before `mark` (by id); returns the event bits of
    /// those left.
    fn clear_before(&self, mark: u64) -> u32;
}

impl<H> EventList for List<H> {
    fn remove(&self, id: ListenerId) -> bool {
        let removed = {
            let mut v = self.v.borrow_mut();
            v.iter().position(|e| e.id == id.id && e.event == id.event).map(|i| v.remove(i))
        };
        removed.is_some() // dropped outside the borrow: a destructor may touch the stream
    }

    fn clear_event(&self, event: Event) {
        let removed: Vec<Entry<H>> = {
            let mut v = self.v.borrow_mut();
            let (gone, kept) = std::mem::take(&mut *v).into_iter().partition(|e| e.event == event);
            *v = kept;
            gone
        };
        drop(removed); // outside the borrow
    }

    fn has(&self, event: Event) -> bool {
        self.v.borrow().iter().any(|e| e.event == event)
    }

    fn count(&self, event: Event) -> usize {
        self.v.borrow().iter().filter(|e| e.event == event).count()
    }

    fn clear_before(&self, mark: u64) -> u32 {
        let (removed, bits) = {
            let mut v = self.v.borrow_mut();
            let (kept, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut *v).into_iter().partition(|e| e.id >= mark);
            *v = kept;
            (gone, v.iter().fold(0, |m, e| m | 1 << e.event as u32))
        };
        drop(removed); // outside the borrow
        bits
    }
}

/// Every listener of one stream: one list per signature (so an emit calls its
/// listeners without matching on their kind), and a bit per event with listeners, so
/// that "has a listener?" (asked several times per chunk) and emits nobody listens to
/// cost no scan.
///
/// The value list (`data`, emitted per chunk) is inline; the other three are allocated
/// with the first listener of theirs: many streams never have one (the HTTP server's
/// requests and responses, unless the handler listens), and for those a stream is
/// smaller and cheaper to make and drop.
pub(crate) struct Listeners<S, R> {
    values: List<ValueFn<S, R>>,
    lists: OnceCell<Box<Lists<S>>>,
    mask: Cell<u32>,
}

struct Lists<S> {
    plain: List<PlainFn<S>>,
    error: List<ErrorFn<S>>,
    pipe: List<PipeFn<S>>,
}

impl<S, R> Default for Listeners<S, R> {
    fn default() -> Self {
        Listeners { values: List::new(), lists: OnceCell::new(), mask: Cell::new(0) }
    }
}

// One bit per event in `Listeners::mask` (`Exit` is the last variant).
const _: () = assert!((Event::Exit as u32) < 32);

/// Which list an event's listeners live in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Value,
    Plain,
    Error,
    Pipe,
}

fn kind(event: Event) -> Kind {
    match event {
        Event::Data | Event::Connection | Event::Message => Kind::Value,
        Event::Error => Kind::Error,
        Event::Pipe | Event::Unpipe => Kind::Pipe,
        _ => Kind::Plain,
    }
}

impl<S, R> Listeners<S, R> {
    fn mark(&self, event: Event, has: bool) {
        let bit = 1u32 << event as u32;
        let m = self.mask.get();
        self.mask.set(if has { m | bit } else { m & !bit });
    }

    /// The list `event`'s listeners live in, if it exists yet.
    fn list_of(&self, event: Event) -> Option<&dyn EventList> {
        match (kind(event), self.lists.get()) {
            (Kind::Value, _) => Some(&self.values),
            (Kind::Plain, Some(l)) => Some(&l.plain),
            (Kind::Error, Some(l)) => Some(&l.error),
            (Kind::Pipe, Some(l)) => Some(&l.pipe),
            (_, None) => None,
        }
    }

    pub(crate) fn add(&self, event: Event, id: u64, once: bool, prepend: bool, handler: Handler<S, R>) {
        debug_assert!(
            matches!(
                (kind(event), &handler),
                (Kind::Value, Handler::Data(_))
                    | (Kind::Plain, Handler::Plain(_))
                    | (Kind::Error, Handler::Error(_))
                    | (Kind::Pipe, Handler::Pipe(_))
            ),
            "listener of the wrong signature for {event:?}"
        );
        let lists =
            || self.lists.get_or_init(|| Box::new(Lists { plain: List::new(), error: List::new(), pipe: List::new() }));
        match handler {
            Handler::Data(f) => self.values.add(Entry { event, id, once, f }, prepend),
            Handler::Plain(f) => lists().plain.add(Entry { event, id, once, f }, prepend),
            Handler::Error(f) => lists().error.add(Entry { event, id, once, f }, prepend),
            Handler::Pipe(f) => lists().pipe.add(Entry { event, id, once, f }, prepend),
        }
        self.mark(event, true);
    }

    pub(crate) fn remove(&self, id: ListenerId) -> bool {
        let Some(list) = self.list_of(id.event) else { return false };
        let removed = list.remove(id);
        if removed {
            self.mark(id.event, list.has(id.event));
        }
        removed
    }

    pub(crate) fn count(&self, event: Event) -> usize {
        self.list_of(event).map_or(0, |l| l.count(event))
    }

    /// True if `event` has a listener.
    #[inline]
    pub(crate) fn has(&self, event: Event) -> bool {
        self.mask.get() & (1 << event as u32) != 0
    }

    pub(crate) fn clear(&self) {
        if self.mask.get() == 0 {
            return; // a bit per event with listeners: none, so every list is empty
        }
        let values = self.values.take_all();
        let rest = self.lists.get().map(|l| (l.plain.take_all(), l.error.take_all(), l.pipe.take_all()));
        let old = (values, rest);
        self.mask.set(0);
        drop(old); // outside the borrows: a closure's destructor may touch the stream
    }

    /// Removes every listener registered before `mark` (ids grow with registration):
    /// what a listener added during the emit that precedes this keeps.
    pub(crate) fn clear_before(&self, mark: u64) {
        let mut bits = self.values.clear_before(mark);
        if let Some(l) = self.lists.get() {
            bits |= l.plain.clear_before(mark) | l.error.clear_before(mark) | l.pipe.clear_before(mark);
        }
        self.mask.set(bits);
    }

    pub(crate) fn clear_event(&self, event: Event) {
        if !self.has(event) {
            return;
        }
        if let Some(list) = self.list_of(event) {
            list.clear_event(event);
        }
        self.mark(event, false);
    }

    #[inline]
    fn snapshot<H: Clone>(&self, list: &List<H>, event: Event) -> Snapshot<H> {
        if !self.has(event) {
            return Snapshot::None;
        }
        let (snap, left) = list.snapshot(event);
        if !left {
            self.mark(event, false);
        }
        snap
    }

    /// [`snapshot`](Self::snapshot) of one of the lists allocated on demand.
    #[inline]
    fn snapshot_of<H: Clone>(&self, list: impl FnOnce(&Lists<S>) -> &List<H>, event: Event) -> Snapshot<H> {
        match self.lists.get() {
            Some(l) => self.snapshot(list(l), event),
            None => Snapshot::None,
        }
    }

    /// Emits an event whose listeners take only the emitter.
    #[inline]
    pub(crate) fn emit_plain(&self, event: Event, s: &S) -> bool {
        self.snapshot_of(|l| &l.plain, event).call_each(|f| f(s))
    }

    /// Emits `'error'`.
    pub(crate) fn emit_error(&self, s: &S, err: &Error) -> bool {
        self.snapshot_of(|l| &l.error, Event::Error).call_each(|f| f(s, err))
    }

    /// Emits `'pipe'` or `'unpipe'`.
    pub(crate) fn emit_pipe(&self, event: Event, s: &S, other: &dyn AnyStream) -> bool {
        self.snapshot_of(|l| &l.pipe, event).call_each(|f| f(s, other))
    }

    /// Emits an event that hands each listener a value (`'data'`, a server's
    /// `'connection'`): the last listener gets `value` itself, the others clones.
    #[inline]
    pub(crate) fn emit_value(&self, event: Event, s: &S, value: R) -> bool
    where
        R: Clone,
    {
        match self.snapshot(&self.values, event) {
            Snapshot::None => false,
            Snapshot::One(f) => {
                f(s, value);
                true
            }
            Snapshot::Many(all) => {
                let last = all.len() - 1;
                let mut value = Some(value);
                for (i, f) in all.iter().enumerate() {
                    let v = if i == last { value.take() } else { value.clone() };
                    if let Some(v) = v {
                        f(s, v)
                    }
                }
                true
            }
        }
    }
}

/// The listeners of an event emitter that is not a stream (a dgram socket, a child
/// process, a file watcher), with the ids it hands out. It derefs to its [`Listeners`]
/// for the emits.
pub(crate) struct Emitter<S, R> {
    listeners: Listeners<S, R>,
    next_id: Cell<u64>,
}

impl<S, R> Default for Emitter<S, R> {
    fn default() -> Self {
        Emitter { listeners: Listeners::default(), next_id: Cell::new(0) }
    }
}

impl<S, R> Emitter<S, R> {
    /// A new listener id (for a listener registered later, or kept in a list of its
    /// own).
    pub(crate) fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// Registers `handler` for `event` (`once`: removed before it first runs).
    pub(crate) fn on(&self, event: Event, once: bool, handler: Handler<S, R>) -> ListenerId {
        let id = self.next_id();
        self.listeners.add(event, id, once, false, handler);
        ListenerId { event, id }
    }
}

impl<S, R> std::ops::Deref for Emitter<S, R> {
    type Target = Listeners<S, R>;
    fn deref(&self) -> &Listeners<S, R> {
        &self.listeners
    }
}
