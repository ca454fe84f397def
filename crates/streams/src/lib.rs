//! # millrace-streams
//!
//! Node's stream state machines in Rust: Readable, Writable, Duplex, Transform and
//! PassThrough with Node 20's backpressure, event order and error codes; `pipe`,
//! `pipeline` and `finished`; TCP sockets and file streams that bridge reactor handles
//! into streams (Node's `stream_wrap`); terminal streams, `process.stdin`/`stdout`
//! ([`stdio`]), UDP sockets ([`dgram`]), child processes ([`child_process`]) and
//! the IPC channel between a parent and a child ([`ipc`]).
//!
//! Every stream is a [`Stream<R, W, E>`]: `R` is what it yields, `W` what it accepts
//! (either may be [`Absent`]), `E` an extension value. Streams are cheap `Rc` clones,
//! like JavaScript object references; events are typed methods (`on_data`, `on_end`,
//! `on_drain`, …) whose listeners receive the stream itself, as `this` in Node. Ordering
//! comes from the reactor's next-tick queue, exactly where Node uses `process.nextTick`,
//! so a scenario prints the same events in the same order as on Node; the conformance
//! tests check that byte for byte against traces recorded from Node 20.
//!
//! ```
//! use bytes::Bytes;
//! use millrace_streams::{Readable, Writable};
//! use std::{cell::RefCell, rc::Rc};
//!
//! let lp = millrace_reactor::Loop::new()?;
//! let log = Rc::new(RefCell::new(Vec::new()));
//! lp.enter(|| {
//!     let n = std::cell::Cell::new(0);
//!     let src = Readable::<Bytes>::builder()
//!         .read(move |r, _| {
//!             n.set(n.get() + 1);
//!             r.push(if n.get() <= 3 { Some(Bytes::from(format!("chunk{}", n.get()))) } else { None });
//!         })
//!         .build();
//!     let l = log.clone();
//!     let dst = Writable::<Bytes>::builder()
//!         .write(move |_, chunk, cb| {
//!             l.borrow_mut().push(chunk);
//!             cb.ok();
//!         })
//!         .build();
//!     src.pipe(&dst);
//! });
//! lp.run(millrace_reactor::RunMode::Default);
//! assert_eq!(log.borrow().len(), 3);
//! # Ok::<(), millrace_reactor::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod child_process;
mod chunk;
mod decoder;
mod destroy;
pub mod dgram;
pub mod dns;
mod duplex;
mod errors;
mod events;
mod finished;
mod from;
pub mod fs;
mod fs_watch;
pub mod ipc;
pub mod net;
mod pipe;
mod pipeline;
mod readable;
pub mod stdio;
mod stream;
mod transform;
pub mod tty;
mod writable;

pub use chunk::{Absent, Chunk, Side};
pub use decoder::Encoding;
pub use errors::{Code, Error, Result};
pub use events::{Event, ListenerId};
pub use finished::{finished, finished_with, Cleanup, FinishedOptions};
pub use pipe::PipeOptions;
pub use pipeline::{pipeline, Pipeline};
pub use readable::ReadableSnapshot;
pub use stream::{
    default_high_water_mark, live_streams, set_default_high_water_mark, AnyStream, BeforeWrite, Builder,
    ConstructCallback, DestroyCallback, Duplex, FinalCallback, Options, Readable, Stream, Writable, WriteCallback,
    DEFAULT_HIGH_WATER_MARK, DEFAULT_OBJECT_HIGH_WATER_MARK,
};
pub use transform::{pass_through, pass_through_builder, FlushCallback, PassThrough, Transform, TransformCallback};
pub use writable::WritableSnapshot;
