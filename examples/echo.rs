//! Every request gets status 200, its own body back, and the headers `x-method` and
//! `x-url` holding the request's method and url. The reference server for the
//! conformance tests (`tests/node/echo.js` is the same on Node).
//!
//! ```text
//! cargo run --release --example echo -- 3000
//! curl -d 'some body' http://127.0.0.1:3000/path?q=1
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use millrace::http::{create_server, IncomingMessage, IncomingMessageExt, ServerResponse, ServerResponseExt};
use millrace::reactor::{Loop, RunMode};

/// The request's body back, with `x-method` and `x-url` (`tests/http_conformance.rs`
/// includes this file and runs this handler).
pub fn echo(req: &IncomingMessage, res: &ServerResponse) {
    let body = Rc::new(RefCell::new(BytesMut::new()));
    let b = body.clone();
    req.on_data(move |_, chunk| b.borrow_mut().extend_from_slice(&chunk));
    let res = res.clone();
    req.on_end(move |req| {
        let _ = res.set_header("x-method", req.method());
        let _ = res.set_header("x-url", req.url());
        let body: Bytes = std::mem::take(&mut *body.borrow_mut()).freeze();
        res.end_with(body);
    });
}

#[allow(dead_code)] // unused where tests/http_conformance.rs includes this file
fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let server = create_server(echo);
    // A port in use is an 'error' event (next tick), as in Node.
    server.on_error(|_, e| {
        eprintln!("echo: {e}");
        std::process::exit(1);
    });
    if let Err(e) = server.listen(port, "127.0.0.1", move |_| println!("listening on http://127.0.0.1:{port}")) {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
    Loop::current().run(RunMode::Default);
}
