//! Every request gets `hello world`.
//!
//! ```text
//! cargo run --release --example hello -- 3000
//! curl http://127.0.0.1:3000/
//! ```

use millrace::http::{create_server, ServerResponseExt};
use millrace::reactor::{Loop, RunMode};

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let server = create_server(|_req, res| {
        let _ = res.set_header("Content-Type", "text/plain");
        res.end_with("hello world");
    });
    if let Err(e) = server.listen(port, "127.0.0.1", move |_| println!("listening on http://127.0.0.1:{port}")) {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
    Loop::current().run(RunMode::Default);
}
