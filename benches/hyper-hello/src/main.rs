//! Every request gets `hello world` (status 200, `Content-Type: text/plain`), from hyper
//! 1.x on a current_thread tokio runtime: the reference for `scripts/bench-http`.
//!
//! ```text
//! cargo run --release -- 3000
//! ```

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut res = Response::new(Full::new(Bytes::from_static(b"hello world")));
    res.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    Ok(res)
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on http://127.0.0.1:{port}");
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("hyper-hello: accept: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true); // as Node's http server does by default
            tokio::spawn(async move {
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .pipeline_flush(true)
                    .serve_connection(TokioIo::new(stream), service_fn(hello));
                let _ = conn.await; // a client gone mid-request is not news
            });
        }
    })
}
