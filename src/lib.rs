//! # millrace
//!
//! libuv, Node's stream state machines and Node's HTTP server, rebuilt in Rust on mio.
//! This facade re-exports the layers: [`reactor`] (the libuv-style loop) and [`streams`]
//! (Node's Readable/Writable/Duplex/Transform, pipe, pipeline, net and fs streams).
#![deny(missing_docs)]

pub use millrace_reactor as reactor;
pub use millrace_streams as streams;
