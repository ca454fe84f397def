//! # millrace
//!
//! libuv, Node's stream state machines and Node's HTTP server, rebuilt in Rust on mio.
//! This facade re-exports the layers: [`reactor`] (the libuv-style loop), [`streams`]
//! (Node's Readable/Writable/Duplex/Transform, pipe, pipeline, net and fs streams) and
//! [`http`] (Node's HTTP/1.1 server), and gives [`run`], the way a Node program starts.
//!
//! ```no_run
//! use millrace::http::{create_server, ServerResponseExt};
//!
//! millrace::run(|| {
//!     create_server(|_req, res| {
//!         res.end_with("hello world");
//!     })
//!     .listen(3000, "127.0.0.1", |_| println!("Server running on http://localhost:3000"))
//!     .expect("listen");
//! })
//! .unwrap();
//! ```
#![deny(missing_docs)]

pub use millrace_http as http;
pub use millrace_reactor as reactor;
pub use millrace_streams as streams;

/// Runs a program the way Node runs a script: `main` runs first (on this thread's
/// loop), then its next ticks, then the loop until nothing is alive (libuv's default
/// loop and `uv_run(UV_RUN_DEFAULT)`). Tracing is turned on by `MILLRACE_TRACE` (an
/// env-filter string, e.g. `MILLRACE_TRACE=millrace=trace`).
pub fn run(main: impl FnOnce()) -> std::io::Result<()> {
    init_tracing();
    let lp = reactor::Loop::current();
    main();
    lp.run_next_ticks();
    lp.run(reactor::RunMode::Default);
    Ok(())
}

/// Installs a `tracing` subscriber writing to stderr if `MILLRACE_TRACE` is set (its
/// value is an env-filter directive, such as `millrace::reactor=trace`). Without it the
/// trace points cost one static check each.
pub fn init_tracing() {
    if let Ok(filter) = std::env::var("MILLRACE_TRACE") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// The README's example compiles (checked as a doc test).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;
