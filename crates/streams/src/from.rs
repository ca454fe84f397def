//! `Readable.from(iterable)`: a Readable that pulls its chunks from an iterator.
//!
//! Follows Node 20's `lib/internal/streams/from.js` for a synchronous iterator of
//! synchronous values (`nextSyncWithSyncValues`): the stream is in object mode with a
//! highWaterMark of 1 unless the options say otherwise; `_read` calls `next()` and
//! pushes until `push` returns false (a flag keeps a second `_read` out while one is
//! pulling); the iterator's end pushes EOF; a `next()` that fails destroys the stream
//! with its error. `_destroy` is Node's: `close(error)` is an `async` function, so the
//! destroy callback runs on a next tick queued from a microtask. A Rust iterator is an
//! iterator without `return()` or `throw()` (an array's, in JavaScript); it is dropped
//! where Node would call `return()`, when the stream is destroyed.
//!
//! What has no counterpart here: JavaScript's `null` values (`ERR_STREAM_NULL_VALUES`;
//! a Rust item is never null), promises among the values, and async iterators.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::chunk::{Absent, Chunk};
use crate::errors::Error;
use crate::stream::{Options, Stream};

impl Options {
    /// The options `Readable.from` starts from (`{ objectMode: true, highWaterMark: 1 }`),
    /// to override as Node's `...opts` does:
    /// `Options { high_water_mark: Some(3), ..Options::readable_from() }`.
    pub fn readable_from() -> Options {
        Options { object_mode: true, high_water_mark: Some(1), ..Options::default() }
    }
}

impl<T: Chunk> Stream<T, Absent, ()> {
    /// `Readable.from(iterable)`: a Readable of the iterator's items, in object mode with
    /// a highWaterMark of 1. Items are pulled only as the stream reads them.
    ///
    /// ```
    /// use millrace_streams::Readable;
    /// use std::{cell::RefCell, rc::Rc};
    ///
    /// let lp = millrace_reactor::Loop::new()?;
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// lp.enter(|| {
    ///     let r = Readable::from_iterable(1..=3u32);
    ///     let s = seen.clone();
    ///     r.on_data(move |_, v| s.borrow_mut().push(v));
    /// });
    /// lp.run(millrace_reactor::RunMode::Default);
    /// assert_eq!(*seen.borrow(), [1, 2, 3]);
    /// # Ok::<(), millrace_reactor::Error>(())
    /// ```
    pub fn from_iterable<I>(iterable: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: 'static,
    {
        Self::from_iterable_with(iterable, Options::readable_from())
    }

    /// `Readable.from(iterable, opts)`: `opts` replaces the defaults; start from
    /// [`Options::readable_from`] to keep the ones not given, as Node spreads `opts`
    /// over them.
    pub fn from_iterable_with<I>(iterable: I, opts: Options) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: 'static,
    {
        Self::try_from_iterable_with(iterable.into_iter().map(Ok), opts)
    }

    /// `Readable.from` of an iterator whose `next()` can fail (throw, in JavaScript): an
    /// `Err` item destroys the stream with that error and nothing more is pulled.
    pub fn try_from_iterable_with<I>(iterable: I, opts: Options) -> Self
    where
        I: IntoIterator<Item = Result<T, Error>>,
        I::IntoIter: 'static,
    {
        let iter = Rc::new(RefCell::new(Some(iterable.into_iter())));
        let reading = Cell::new(false);
        let it = iter.clone();
        Stream::<T, Absent, ()>::builder()
            .options(opts)
            .read(move |r, _| {
                if reading.replace(true) {
                    return;
                }
                loop {
                    // The borrow ends before `push`: its listeners may read again.
                    let next = it.borrow_mut().as_mut().and_then(Iterator::next);
                    match next {
                        None => {
                            r.push(None);
                            return;
                        }
                        Some(Err(e)) => {
                            r.destroy(Some(e));
                            return;
                        }
                        Some(Ok(v)) => {
                            if !r.push(Some(v)) {
                                reading.set(false);
                                return;
                            }
                        }
                    }
                }
            })
            .destroy(move |s, err, cb| {
                let iter = iter.clone();
                s.get_loop().queue_microtask(move || {
                    // Where Node calls the iterator's `return()`.
                    let done = iter.borrow_mut().take();
                    drop(done);
                    cb.call_on_next_tick(err);
                });
            })
            .build()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use millrace_reactor::{Loop, RunMode};

    use crate::{Error, Readable};

    /// An iterator that counts its `next()` calls and notes when it is dropped.
    struct Counted {
        next: Rc<Cell<u32>>,
        dropped: Rc<Cell<bool>>,
    }

    impl Iterator for Counted {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            self.next.set(self.next.get() + 1);
            Some(self.next.get())
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.dropped.set(true);
        }
    }

    /// An endless iterator is pulled only as far as it is read, and dropped (Node's
    /// `return()`) once the stream is destroyed, before `close`.
    #[test]
    fn an_endless_iterator_is_pulled_as_read_and_dropped_at_destroy() {
        let lp = Loop::new().unwrap();
        let (next, dropped) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(false)));
        let log = Rc::new(RefCell::new(Vec::new()));
        lp.enter(|| {
            let r = Readable::from_iterable(Counted { next: next.clone(), dropped: dropped.clone() });
            let (l, d) = (log.clone(), dropped.clone());
            r.on_close(move |_| l.borrow_mut().push(format!("close dropped {}", d.get())));
            let l = log.clone();
            r.on_data(move |r, v| {
                l.borrow_mut().push(format!("data {v}"));
                if v == 3 {
                    r.pause();
                    r.destroy(None);
                }
            });
        });
        lp.run(RunMode::Default);
        assert_eq!(*log.borrow(), ["data 1", "data 2", "data 3", "close dropped true"]);
        // One read ahead of the consumer (highWaterMark 1), no more.
        assert_eq!(next.get(), 4);
    }

    /// An `Err` item is `next()` throwing: the stream is destroyed with it.
    #[test]
    fn an_err_item_destroys_the_stream_with_it() {
        let lp = Loop::new().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        lp.enter(|| {
            let items = vec![Ok(1u32), Err(Error::msg("bad item")), Ok(3)];
            let r = Readable::try_from_iterable_with(items, crate::Options::readable_from());
            let l = log.clone();
            r.on_data(move |_, v| l.borrow_mut().push(format!("data {v}")));
            let l = log.clone();
            r.on_error(move |_, e| l.borrow_mut().push(format!("error {}", e.message())));
            let l = log.clone();
            r.on_end(move |_| l.borrow_mut().push("end".to_owned()));
        });
        lp.run(RunMode::Default);
        assert_eq!(*log.borrow(), ["data 1", "error bad item"]);
    }
}
