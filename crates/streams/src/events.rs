//! Typed event listeners with EventEmitter's rules.
//!
//! Node's `EventEmitter.emit` calls the listeners registered when the emit began, in
//! order (a listener added during the emit is not called; one removed during it still
//! is), and a `once` listener is removed before it runs. Each event of a stream has its
//! own typed list here; [`ListenerId`] names one registration for `off`.

use std::cell::RefCell;
use std::rc::Rc;

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

struct Entry<F: ?Sized> {
    id: u64,
    once: bool,
    f: Rc<F>,
}

/// The listeners of one event.
pub(crate) struct Listeners<F: ?Sized> {
    list: RefCell<Vec<Entry<F>>>,
}

/// The listeners an emit calls.
pub(crate) enum Snapshot<F: ?Sized> {
    None,
    One(Rc<F>),
    Many(Vec<Rc<F>>),
}

impl<F: ?Sized> Default for Listeners<F> {
    fn default() -> Self {
        Listeners { list: RefCell::new(Vec::new()) }
    }
}

impl<F: ?Sized> Listeners<F> {
    pub(crate) fn add(&self, id: u64, once: bool, f: Rc<F>) {
        self.list.borrow_mut().push(Entry { id, once, f });
    }

    /// `prependListener`.
    pub(crate) fn prepend(&self, id: u64, once: bool, f: Rc<F>) {
        self.list.borrow_mut().insert(0, Entry { id, once, f });
    }

    pub(crate) fn remove(&self, id: u64) -> bool {
        let removed = {
            let mut list = self.list.borrow_mut();
            list.iter().position(|e| e.id == id).map(|i| list.remove(i))
        };
        removed.is_some()
    }

    pub(crate) fn count(&self) -> usize {
        self.list.borrow().len()
    }

    pub(crate) fn clear(&self) {
        let old = std::mem::take(&mut *self.list.borrow_mut());
        drop(old); // outside the borrow: a closure's destructor may touch the stream
    }

    /// The listeners to call now; `once` listeners are removed.
    pub(crate) fn snapshot(&self) -> Snapshot<F> {
        let mut list = self.list.borrow_mut();
        match list.len() {
            0 => Snapshot::None,
            1 => {
                let f = list[0].f.clone();
                if list[0].once {
                    let e = list.pop();
                    drop(list);
                    drop(e);
                }
                Snapshot::One(f)
            }
            _ => {
                let all = list.iter().map(|e| e.f.clone()).collect();
                if list.iter().any(|e| e.once) {
                    let mut removed = Vec::new();
                    list.retain_mut(|e| {
                        if e.once {
                            removed.push(e.f.clone());
                        }
                        !e.once
                    });
                    drop(list);
                    drop(removed);
                }
                Snapshot::Many(all)
            }
        }
    }

    /// Calls every listener of the snapshot; returns whether there was any.
    pub(crate) fn emit(&self, mut call: impl FnMut(&F)) -> bool {
        match self.snapshot() {
            Snapshot::None => false,
            Snapshot::One(f) => {
                call(&f);
                true
            }
            Snapshot::Many(all) => {
                for f in &all {
                    call(f);
                }
                true
            }
        }
    }
}
