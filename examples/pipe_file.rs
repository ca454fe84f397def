//! The same journey as `manual_backpressure`, with `pipe` doing the backpressure.
//!
//! ```text
//! cargo run --release --example pipe_file -- [FILE]
//! ```
//!
//! `file.pipe(&socket)` is the seed's loop inside the library: the source pauses when
//! `write` returns false and resumes on `drain`, and the socket is ended when the file
//! ends. The sink and the report are those of `manual_backpressure`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use millrace::reactor::{Loop, RunMode};
use millrace::streams::{fs, net};

fn main() {
    let (path, temp) = match std::env::args().nth(1) {
        Some(p) => (std::path::PathBuf::from(p), false),
        None => {
            let p = std::env::temp_dir().join(format!("millrace-pipe-{}.bin", std::process::id()));
            std::fs::write(&p, vec![b'x'; 32 * 1024 * 1024]).expect("write the temporary file");
            (p, true)
        }
    };
    let lp = Loop::current();
    let received = Rc::new(Cell::new(0u64));
    let (pauses, drains) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let start = Instant::now();

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
    let (p, d) = (pauses.clone(), drains.clone());
    server
        .listen("127.0.0.1:0".parse().unwrap(), move |_| {
            let out = net::Socket::connect(srv.address().expect("listening"));
            let file = fs::create_read_stream(&file_path);
            let (p, d) = (p.clone(), d.clone());
            file.on_pause(move |_| p.set(p.get() + 1));
            out.on_drain(move |_| d.set(d.get() + 1));
            file.pipe(&out);
        })
        .expect("listen on 127.0.0.1");

    lp.run_next_ticks();
    lp.run(RunMode::Default);
    let m = lp.metrics();
    println!(
        "pipe: {} bytes in {:.1?}; the source paused {} times, {} drain events; {} write syscalls ({} writev), {} EAGAIN",
        received.get(),
        start.elapsed(),
        pauses.get(),
        drains.get(),
        m.write_syscalls(),
        m.writev,
        m.write_eagain
    );
    if temp {
        let _ = std::fs::remove_file(&path);
    }
}
