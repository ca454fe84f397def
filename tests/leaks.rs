//! Nothing survives a finished program: after a pipeline over files and sockets (TCP or
//! Unix domain) completes and the loop exits, every stream and every handle has been
//! dropped.

use std::cell::Cell;
use std::rc::Rc;

use millrace::reactor::{Loop, RunMode};
use millrace::streams::{fs, live_streams, net, pass_through, pipeline};

#[test]
fn pipeline_over_sockets_and_files_leaves_nothing_behind() {
    pipeline_leaves_nothing_behind(false);
}

// The same over a Unix domain socket; its file is gone too.
#[test]
fn pipeline_over_unix_sockets_and_files_leaves_nothing_behind() {
    pipeline_leaves_nothing_behind(true);
}

fn pipeline_leaves_nothing_behind(unix: bool) {
    let dir = std::env::temp_dir();
    let tag = format!("{}-{}", if unix { "unix" } else { "tcp" }, std::process::id());
    let input = dir.join(format!("millrace-leak-in-{tag}"));
    let output = dir.join(format!("millrace-leak-out-{tag}"));
    let sock_path = dir.join(format!("millrace-leak-{tag}.sock"));
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&input, &data).unwrap();

    let lp = Loop::new().unwrap();
    let done = Rc::new(Cell::new(0));
    lp.enter(|| {
        // server: socket → PassThrough → file
        let out = output.clone();
        let d = done.clone();
        let server = net::create_server(move |server, sock| {
            let file = fs::create_write_stream(&out);
            let (d, server) = (d.clone(), server.clone());
            pipeline(sock).pipe(&pass_through()).pipe(&file).done(move |err| {
                assert!(err.is_none(), "server pipeline: {err:?}");
                d.set(d.get() + 1);
                server.close(|_, _| {});
            });
        });
        // client: file → socket
        let (srv, inp, d) = (server.clone(), input.clone(), done.clone());
        let client = move |_: &net::Server| {
            let sock = match srv.path() {
                Some(path) => net::Socket::connect_path(path),
                None => net::Socket::connect(srv.address().unwrap()),
            };
            let d = d.clone();
            pipeline(&fs::create_read_stream(&inp)).pipe(&sock).done(move |err| {
                assert!(err.is_none(), "client pipeline: {err:?}");
                d.set(d.get() + 1);
            });
        };
        match unix {
            true => server.listen_path(&sock_path, client).unwrap(),
            false => server.listen("127.0.0.1:0".parse().unwrap(), client).unwrap(),
        }
    });
    lp.enter(|| {
        lp.run_next_ticks();
        lp.run(RunMode::Default);
    });

    assert_eq!(done.get(), 2, "both pipelines completed");
    assert_eq!(std::fs::read(&output).unwrap(), data, "the file arrived whole");
    assert_eq!(lp.handle_count(), 0, "every handle closed");
    assert_eq!(lp.active_reqs(), 0);
    assert_eq!(live_streams(), 0, "every stream dropped");
    lp.close().unwrap();
    std::fs::remove_file(&input).unwrap();
    std::fs::remove_file(&output).unwrap();
    assert!(!sock_path.exists(), "the server's close removed its socket file");
}

/// `Readable::from_iterable` streams, one read to its end through a pipeline and one
/// destroyed mid-way, leave nothing behind either: the iterator (held by the stream's
/// hooks) is dropped with the stream, and the destroyed one's at its destroy.
#[test]
fn from_iterable_streams_leave_nothing_behind() {
    use millrace::streams::{Readable, Writable};

    /// Notes its drop.
    struct Tracked(Rc<Cell<u32>>, std::ops::Range<u32>);
    impl Iterator for Tracked {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            self.1.next()
        }
    }
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    let lp = Loop::new().unwrap();
    let (dropped, sum) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0u32)));
    lp.enter(|| {
        let s = sum.clone();
        let dst = Writable::<u32>::builder()
            .write(move |_, v, cb| {
                s.set(s.get() + v);
                cb.ok();
            })
            .build();
        let whole = Readable::from_iterable(Tracked(dropped.clone(), 0..100));
        pipeline(&whole).pipe(&dst).done(|err| assert!(err.is_none()));
        let cut = Readable::from_iterable(Tracked(dropped.clone(), 0..1_000_000));
        cut.on_data(|r, v| {
            if v == 10 {
                r.destroy(None);
            }
        });
    });
    lp.enter(|| {
        lp.run_next_ticks();
        lp.run(RunMode::Default);
    });
    assert_eq!(sum.get(), (0..100).sum::<u32>());
    assert_eq!(dropped.get(), 2, "both iterators dropped");
    assert_eq!(live_streams(), 0, "every stream dropped");
    lp.close().unwrap();
}
