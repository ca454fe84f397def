use bytes::Bytes;
use millrace_reactor::{Handle, HandleType, IpcHandle, Loop, Pipe, ReadEvent, RunMode, Tcp};
use std::os::unix::net::UnixStream;

#[test]
fn smoke() {
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    let (pa, pb) = (Pipe::new_ipc(&lp), Pipe::new_ipc(&lp));
    pa.open_fd(a.into()).unwrap();
    pb.open_fd(b.into()).unwrap();
    let server = Tcp::new(&lp);
    server.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = server.local_addr().unwrap().port();
    pa.write(vec![Bytes::from_static(b"plain ")], |_, r| r.unwrap()).unwrap();
    pa.write2(vec![Bytes::from_static(b"hello\n")], &server, |_, r| r.unwrap()).unwrap();
    pa.write2(vec![Bytes::from_static(b"again\n")], &server, |_, r| r.unwrap()).unwrap();
    let s = server.clone();
    let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let g = got.clone();
    pb.read_start(move |p, ev| {
        let ReadEvent::Data(d) = ev else { panic!("{ev:?}") };
        g.borrow_mut().push((String::from_utf8_lossy(&d).into_owned(), p.pending_count(), p.pending_type()));
        while p.pending_count() > 0 {
            let IpcHandle::Tcp(t) = p.accept_pending().unwrap() else { panic!() };
            assert_eq!(t.local_addr().unwrap().port(), port);
            t.close(|_| {});
        }
        if g.borrow().len() == 2 {
            p.close(|_| {});
            s.close(|_| {});
        }
    })
    .unwrap();
    pa.unref();
    lp.run(RunMode::Default);
    eprintln!("{:?}", got.borrow());
    assert_eq!(
        *got.borrow(),
        [("plain hello\n".to_string(), 1, HandleType::Tcp), ("again\n".to_string(), 1, HandleType::Tcp)]
    );
}
