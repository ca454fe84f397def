//! The seed's server: a file read stream written to the response by hand.
//!
//! ```text
//! cargo run --release --example file_server -- 3000 bigfile.txt
//! curl -o /dev/null http://127.0.0.1:3000/
//! ```
//!
//! The backpressure loop of the seed document, line for line: on `data`, write to the
//! response; when `write` returns false (the response's buffer passed its highWaterMark)
//! pause the file and resume it on the response's `drain`; on `end`, end the response.

use millrace::http::{create_server, ServerResponseExt};
use millrace::streams::fs;

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let Some(path) = args.next() else {
        eprintln!("usage: file_server PORT FILE");
        std::process::exit(2);
    };
    let result = millrace::run(move || {
        let server = create_server(move |_req, res| {
            let file = fs::create_read_stream(&path);
            let out = res.clone();
            file.on_data(move |file, chunk| {
                if !out.write(chunk) {
                    file.pause();
                    let file = file.clone();
                    out.once_drain(move |_| {
                        file.resume();
                    });
                }
            });
            let done = res.clone();
            file.on_end(move |_| {
                done.end();
            });
            let failed = res.clone();
            file.on_error(move |_, err| {
                if !failed.headers_sent() {
                    failed.set_status_code(if err.code() == Some("ENOENT") { 404 } else { 500 });
                    failed.end_with(format!("{err}\n"));
                } else {
                    failed.destroy(Some(err.clone()));
                }
            });
        });
        // A port in use is an 'error' event (next tick), as in Node.
        server.on_error(|_, e| {
            eprintln!("file_server: {e}");
            std::process::exit(1);
        });
        if let Err(e) = server.listen(port, "127.0.0.1", move |_| println!("listening on http://127.0.0.1:{port}")) {
            eprintln!("file_server: {e}");
            std::process::exit(1);
        }
    });
    if let Err(e) = result {
        eprintln!("file_server: {e}");
    }
}
