//! # millrace
//!
//! libuv, Node's stream state machines and Node's HTTP server, rebuilt in Rust on mio.
//! This facade re-exports the layers: [`reactor`] (the libuv-style loop), [`streams`]
//! (Node's Readable/Writable/Duplex/Transform, pipe, pipeline, net and fs streams) and
//! [`http`] (Node's HTTP/1.1 server).
#![deny(missing_docs)]

pub use millrace_http as http;
pub use millrace_reactor as reactor;
pub use millrace_streams as streams;
