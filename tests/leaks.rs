//! Nothing survives a finished program: after a pipeline over files and sockets
//! completes and the loop exits, every stream and every handle has been dropped.

use std::cell::Cell;
use std::rc::Rc;

use millrace::reactor::{Loop, RunMode};
use millrace::streams::{fs, live_streams, net, pass_through, pipeline};

#[test]
fn pipeline_over_sockets_and_files_leaves_nothing_behind() {
    let dir = std::env::temp_dir();
    let input = dir.join(format!("millrace-leak-in-{}", std::process::id()));
    let output = dir.join(format!("millrace-leak-out-{}", std::process::id()));
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
                server.close(|_| {});
            });
        });
        // client: file → socket
        let (srv, inp, d) = (server.clone(), input.clone(), done.clone());
        server
            .listen("127.0.0.1:0".parse().unwrap(), move |_| {
                let sock = net::Socket::connect(srv.address().unwrap());
                let d = d.clone();
                pipeline(&fs::create_read_stream(&inp)).pipe(&sock).done(move |err| {
                    assert!(err.is_none(), "client pipeline: {err:?}");
                    d.set(d.get() + 1);
                });
            })
            .unwrap();
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
}
