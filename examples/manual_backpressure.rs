//! The seed's backpressure loop, by hand: a file read stream written into a TCP socket.
//!
//! ```text
//! cargo run --release --example manual_backpressure -- [FILE]
//! ```
//!
//! A local sink server counts what arrives, reading slowly. The client reads FILE (default: a 32 MiB
//! temporary file) in 64 KiB chunks and writes each to the socket; when `write` returns
//! false (the socket's buffer passed its 16 KiB highWaterMark) it pauses the file and
//! resumes on `drain`: the seed document's code, line for line. At the end it prints the
//! journey: writes, how many returned false, drains, and the write system calls.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use millrace::reactor::{Loop, RunMode};
use millrace::streams::{fs, net};

fn main() {
    let (path, temp) = match std::env::args().nth(1) {
        Some(p) => (std::path::PathBuf::from(p), false),
        None => {
            let p = std::env::temp_dir().join(format!("millrace-manual-{}.bin", std::process::id()));
            std::fs::write(&p, vec![b'x'; 32 * 1024 * 1024]).expect("write the temporary file");
            (p, true)
        }
    };
    let lp = Loop::current();
    let received = Rc::new(Cell::new(0u64));
    let (writes, falses, drains) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let start = Instant::now();

    // The sink: counts bytes, closes when the client ends.
    // The sink reads slowly (a 2 ms pause after every 256 KiB), so the kernel's buffers
    // fill and the client meets backpressure.
    let got = received.clone();
    let server = net::create_server(move |server, sock| {
        let got = got.clone();
        sock.on_data(move |sock, chunk| {
            let before = got.get();
            got.set(before + chunk.len() as u64);
            if before / (256 * 1024) != got.get() / (256 * 1024) {
                sock.pause();
                let sock = sock.clone();
                sock.get_loop().clone().set_timeout(2, move || {
                    sock.resume();
                });
            }
        });
        let server = server.clone();
        sock.on_end(move |_| server.close(|_, _| {}));
    });
    let (srv, file_path) = (server.clone(), path.clone());
    let (w, f, d) = (writes.clone(), falses.clone(), drains.clone());
    server
        .listen("127.0.0.1:0".parse().unwrap(), move |_| {
            let out = net::Socket::connect(srv.address().expect("listening"));
            let file = fs::create_read_stream(&file_path);
            let sock = out.clone();
            let (w, f, d) = (w.clone(), f.clone(), d.clone());
            // The seed's code: on data → write; false → pause, once drain → resume.
            file.on_data(move |file, chunk| {
                w.set(w.get() + 1);
                if !sock.write(chunk) {
                    f.set(f.get() + 1);
                    file.pause();
                    let (file, d) = (file.clone(), d.clone());
                    sock.once_drain(move |_| {
                        d.set(d.get() + 1);
                        file.resume();
                    });
                }
            });
            file.on_end(move |_| {
                out.end();
            });
        })
        .expect("listen on 127.0.0.1");

    lp.run_next_ticks();
    lp.run(RunMode::Default);
    let m = lp.metrics();
    println!(
        "manual backpressure: {} bytes in {:.1?}; {} write() calls, {} returned false, {} drain events; \
         {} write syscalls ({} writev), {} EAGAIN",
        received.get(),
        start.elapsed(),
        writes.get(),
        falses.get(),
        drains.get(),
        m.write_syscalls(),
        m.writev,
        m.write_eagain
    );
    if temp {
        let _ = std::fs::remove_file(&path);
    }
}
