//! Typed event listeners with EventEmitter's rules.
//!
//! Node's `EventEmitter.emit` calls the listeners registered when the emit began, in
//! order (a listener added during the emit is not called; one removed during it still
//! is), and a `once` listener is removed before it runs. A stream keeps all its
//! listeners in one small vector tagged by event: streams have few listeners, and one
//! vector keeps a stream small (a stream is allocated per request in the HTTP server).
//! [`ListenerId`] names one registration for `off`.

use std::cell::RefCell;
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
    /// `'listening'` (servers)
    Listening,
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

impl<S, R> Clone for Handler<S, R> {
    fn clone(&self) -> Self {
        match self {
            Handler::Plain(f) => Handler::Plain(f.clone()),
            Handler::Data(f) => Handler::Data(f.clone()),
            Handler::Error(f) => Handler::Error(f.clone()),
            Handler::Pipe(f) => Handler::Pipe(f.clone()),
        }
    }
}

struct Entry<S, R> {
    event: Event,
    id: u64,
    once: bool,
    handler: Handler<S, R>,
}

/// Every listener of one stream.
pub(crate) struct Listeners<S, R> {
    list: RefCell<Vec<Entry<S, R>>>,
}

/// The listeners an emit calls: usually none or one, so no allocation for those.
pub(crate) enum Snapshot<H> {
    None,
    One(H),
    Many(Vec<H>),
}

impl<S, R> Default for Listeners<S, R> {
    fn default() -> Self {
        Listeners { list: RefCell::new(Vec::new()) }
    }
}

impl<S, R> Listeners<S, R> {
    pub(crate) fn add(&self, event: Event, id: u64, once: bool, prepend: bool, handler: Handler<S, R>) {
        let entry = Entry { event, id, once, handler };
        let mut list = self.list.borrow_mut();
        if prepend {
            // Before the other listeners of the same event (`prependListener`).
            list.insert(0, entry);
        } else {
            list.push(entry);
        }
    }

    pub(crate) fn remove(&self, id: ListenerId) -> bool {
        let removed = {
            let mut list = self.list.borrow_mut();
            list.iter().position(|e| e.id == id.id && e.event == id.event).map(|i| list.remove(i))
        };
        removed.is_some()
    }

    pub(crate) fn count(&self, event: Event) -> usize {
        self.list.borrow().iter().filter(|e| e.event == event).count()
    }

    /// True if `event` has a listener (cheaper than `count`).
    pub(crate) fn has(&self, event: Event) -> bool {
        self.list.borrow().iter().any(|e| e.event == event)
    }

    pub(crate) fn clear(&self) {
        let old = std::mem::take(&mut *self.list.borrow_mut());
        drop(old); // outside the borrow: a closure's destructor may touch the stream
    }

    pub(crate) fn clear_event(&self, event: Event) {
        let removed: Vec<Entry<S, R>> = {
            let mut list = self.list.borrow_mut();
            let (gone, kept) = std::mem::take(&mut *list).into_iter().partition(|e| e.event == event);
            *list = kept;
            gone
        };
        drop(removed);
    }

    /// The listeners of `event` to call now; its `once` listeners are removed.
    pub(crate) fn snapshot(&self, event: Event) -> Snapshot<Handler<S, R>> {
        let mut list = self.list.borrow_mut();
        let mut snap = Snapshot::None;
        let mut once = false;
        for e in list.iter().filter(|e| e.event == event) {
            once |= e.once;
            snap = match snap {
                Snapshot::None => Snapshot::One(e.handler.clone()),
                Snapshot::One(first) => Snapshot::Many(vec![first, e.handler.clone()]),
                Snapshot::Many(mut v) => {
                    v.push(e.handler.clone());
                    Snapshot::Many(v)
                }
            };
        }
        if once {
            // The snapshot holds a clone of every removed handler, so no destructor
            // runs under the borrow.
            list.retain(|e| !(e.event == event && e.once));
        }
        snap
    }
}

impl<S, R> Listeners<S, R> {
    fn emit_with(&self, event: Event, mut call: impl FnMut(&Handler<S, R>)) -> bool {
        match self.snapshot(event) {
            Snapshot::None => false,
            Snapshot::One(h) => {
                call(&h);
                true
            }
            Snapshot::Many(all) => {
                all.iter().for_each(call);
                true
            }
        }
    }

    /// Emits an event whose listeners take only the emitter.
    pub(crate) fn emit_plain(&self, event: Event, s: &S) -> bool {
        self.emit_with(event, |h| {
            if let Handler::Plain(f) = h {
                f(s)
            }
        })
    }

    /// Emits `'error'`.
    pub(crate) fn emit_error(&self, s: &S, err: &Error) -> bool {
        self.emit_with(Event::Error, |h| {
            if let Handler::Error(f) = h {
                f(s, err)
            }
        })
    }

    /// Emits `'pipe'` or `'unpipe'`.
    pub(crate) fn emit_pipe(&self, event: Event, s: &S, other: &dyn AnyStream) -> bool {
        self.emit_with(event, |h| {
            if let Handler::Pipe(f) = h {
                f(s, other)
            }
        })
    }

    /// Emits an event that hands each listener a value (`'data'`, a server's
    /// `'connection'`): the last listener gets `value` itself, the others clones.
    pub(crate) fn emit_value(&self, event: Event, s: &S, value: R) -> bool
    where
        R: Clone,
    {
        match self.snapshot(event) {
            Snapshot::None => false,
            Snapshot::One(h) => {
                if let Handler::Data(f) = h {
                    f(s, value)
                }
                true
            }
            Snapshot::Many(all) => {
                let last = all.len() - 1;
                let mut value = Some(value);
                for (i, h) in all.iter().enumerate() {
                    let v = if i == last { value.take() } else { value.clone() };
                    if let (Handler::Data(f), Some(v)) = (h, v) {
                        f(s, v)
                    }
                }
                true
            }
        }
    }
}
