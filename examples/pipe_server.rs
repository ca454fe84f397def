//! The seed's server with `pipe`: the file read stream piped into the response.
//!
//! ```text
//! cargo run --release --example pipe_server -- 3000 bigfile.txt
//! curl -o /dev/null http://127.0.0.1:3000/
//! ```
//!
//! `file.pipe(res)` runs the loop of `file_server` inside the library: pause on a false
//! `write`, resume on `drain`, end the response when the file ends.

use millrace::http::{create_server, ServerResponseExt};
use millrace::streams::fs;

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let Some(path) = args.next() else {
        eprintln!("usage: pipe_server PORT FILE");
        std::process::exit(2);
    };
    let result = millrace::run(move || {
        let server = create_server(move |_req, res| {
            let file = fs::create_read_stream(&path);
            let failed = res.clone();
            file.on_error(move |_, err| {
                if !failed.headers_sent() {
                    failed.set_status_code(if err.code() == Some("ENOENT") { 404 } else { 500 });
                    failed.end_with(format!("{err}\n"));
                } else {
                    failed.destroy(Some(err.clone()));
                }
            });
            file.pipe(res);
        });
        // A port in use is an 'error' event (next tick), as in Node.
        server.on_error(|_, e| {
            eprintln!("pipe_server: {e}");
            std::process::exit(1);
        });
        if let Err(e) = server.listen(port, "127.0.0.1", move |_| println!("listening on http://127.0.0.1:{port}")) {
            eprintln!("pipe_server: {e}");
            std::process::exit(1);
        }
    });
    if let Err(e) = result {
        eprintln!("pipe_server: {e}");
    }
}
