//! # millrace-http
//!
//! Node's HTTP/1.1 server on millrace streams: sockets in, [`IncomingMessage`] (a
//! Readable of the request body) and [`ServerResponse`] (a Writable of the response
//! body) out, with Node's events, defaults, headers and framing on the wire, and
//! llhttp's strictness against malformed and smuggled requests.
//!
//! ```no_run
//! use millrace_http::{create_server, ServerResponseExt};
//!
//! let server = create_server(|_req, res| {
//!     res.set_header("Content-Type", "text/plain").unwrap();
//!     res.end_with("hello world");
//! });
//! server.listen(3000, "127.0.0.1", |s| println!("listening on http://{}", s.address().unwrap()))?;
//! millrace_reactor::Loop::current().run(millrace_reactor::RunMode::Default);
//! # Ok::<(), millrace_streams::Error>(())
//! ```
//!
//! The request and response APIs are traits ([`IncomingMessageExt`],
//! [`ServerResponseExt`]) on the stream types; `use millrace_http::prelude::*` brings
//! them in. `docs/http.md` follows one request through these files.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod errors;
mod headers;
mod incoming;
mod outgoing;
mod parser;
mod response;
mod server;

pub use errors::{Code, Error, Result};
pub use headers::{
    has_invalid_char, is_token, reason_phrase, utc_date, DistinctHeaders, HeaderValue, Headers, RawHeaders,
    RawHeadersIter,
};
pub use incoming::{IncomingMessage, IncomingMessageExt, IncomingState};
pub use outgoing::HeaderInput;
pub use parser::{MAX_CHUNK_EXTENSIONS, RAW_HEAD_FACTOR};
pub use response::{ResponseState, ServerResponse, ServerResponseExt};
pub use server::{create_server, Server, ServerOptions};

/// What the fuzz targets (`fuzz/`) drive; not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::parser::split_check::check as parser_split;
}

/// The traits that give requests and responses their methods.
pub mod prelude {
    pub use crate::{IncomingMessageExt, ServerResponseExt};
}
