//! Terminal streams replayed against traces recorded from Node 20 (see
//! `tests/conformance.rs`). Node's scenario runs under `script`, whose pseudo-terminal is
//! its stdin and stdout; here the scenario gets the slave side of a pty of its own
//! (`millrace_reactor::openpty`) and a thread reads what the terminal shows from the
//! master side. The goldens are committed; these tests need neither Node nor `script`.

mod util;

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};

use bytes::Bytes;
use millrace::reactor::{self, openpty, set_winsize};
use millrace::streams::tty::{self, ReadStream, WriteStream};
use millrace::streams::Error;
use util::{check_golden, err_name, js_bool, read_terminal, Trace};

/// `JSON.stringify` of a latin1 string of `bytes`.
fn json_latin1(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x08 => s.push_str("\\b"),
            0x0c => s.push_str("\\f"),
            0..=0x1f => s.push_str(&format!("\\u{b:04x}")),
            _ => s.push(char::from(b)),
        }
    }
    s.push('"');
    s
}

/// `[…].join(' ')` of the golden's `flags()`: a null is empty.
fn flags(s: &millrace::streams::net::Socket) -> String {
    format!(
        "true {} {} {} {} {} {} {}",
        js_bool(s.readable()),
        js_bool(s.writable()),
        s.readable_high_water_mark(),
        s.writable_high_water_mark(),
        s.readable_flowing().map_or("", js_bool),
        js_bool(s.pending()),
        js_bool(s.connecting())
    )
}

fn cb_log(t: &Trace, what: &'static str) -> impl FnOnce(Option<Error>) + 'static {
    let t = t.clone();
    move |e| t.log(format!("{what} {}", err_name(e.as_ref())))
}

#[test]
fn tty_stream() {
    let (master, slave) = openpty(None).unwrap();
    let shown = read_terminal(&master, usize::MAX);
    let shown = std::rc::Rc::new(shown);
    check_golden("tty_stream", move |t, lp| {
        let (fd0, fd1) = (slave.try_clone().unwrap(), slave.try_clone().unwrap());
        drop(slave); // the terminal closes with the streams' handles
        t.log(format!("isatty {} {}", js_bool(tty::isatty(fd0.as_fd())), js_bool(tty::isatty(fd1.as_fd()))));
        let ws = WriteStream::new(fd1).unwrap();
        let rs = ReadStream::new(fd0).unwrap();
        let (columns, rows) = ws.get_window_size();
        t.log(format!("ws {} {} {} {columns}x{rows}", flags(&ws), ws.columns(), ws.rows()));
        t.log(format!("rs {} {}", flags(&rs), js_bool(rs.is_raw())));
        ws.on_error(t.on_err("ws"));
        rs.on_error(t.on_err("rs"));
        ws.on_finish(t.on("ws finish"));
        let (tt, shown) = (t.clone(), shown.clone());
        ws.on_close(move |w| {
            tt.log(format!("ws close {}", js_bool(w.had_error())));
            let screen = shown.recv_timeout(std::time::Duration::from_secs(10));
            let screen = screen.expect("the terminal is still open 10 s after the last stream closed");
            tt.log(format!("terminal {}", json_latin1(&screen)));
        });
        let tt = t.clone();
        ws.on_resize(move |w| tt.log(format!("ws resize {} {}", w.columns(), w.rows())));

        t.log(format!("raw true {}", js_bool(rs.set_raw_mode(true).is_raw())));
        t.log(format!("normal true {}", js_bool(rs.set_raw_mode(false).is_raw())));

        t.log(format!("write {}", js_bool(ws.write_cb(Bytes::from_static(b"hello\n"), cb_log(t, "write cb")))));
        t.log(format!("after write {} {}", ws.writable_length(), ws.bytes_written()));
        let tt = t.clone();
        reactor::next_tick(move || tt.log("tick"));
        t.log(format!("cursorTo x {}", js_bool(ws.cursor_to(2, None, cb_log(t, "cursorTo x cb")))));
        t.log(format!("cursorTo xy {}", js_bool(ws.cursor_to(2, Some(3), |_| {}))));
        let (a, b) = (ws.move_cursor(-1, 2, |_| {}), ws.move_cursor(3, -4, |_| {}));
        t.log(format!("moveCursor {} {}", js_bool(a), js_bool(b)));
        t.log(format!("moveCursor 0 {}", js_bool(ws.move_cursor(0, 0, cb_log(t, "moveCursor 0 cb")))));
        let (a, b, c) = (ws.clear_line(-1, |_| {}), ws.clear_line(1, |_| {}), ws.clear_line(0, |_| {}));
        t.log(format!("clearLine {} {} {}", js_bool(a), js_bool(b), js_bool(c)));
        let tt = t.clone();
        t.log(format!("clearScreenDown {}", js_bool(ws.clear_screen_down(move |_| tt.log("clearScreenDown cb")))));

        let (tt, lp2) = (t.clone(), lp.clone());
        lp.set_immediate(move || {
            let t = tt;
            set_winsize(master.as_fd(), 100, 40).unwrap(); // Node: `stty cols 100 rows 40`
            t.log(format!("stty {} {}", ws.columns(), ws.rows()));
            ws.refresh_size();
            ws.refresh_size();
            let (columns, rows) = ws.get_window_size();
            t.log(format!("window {columns}x{rows}"));
            let tt = t.clone();
            ws.end_cb(Some(Bytes::from_static(b"bye")), move |_| tt.log("end cb"));
            t.log(format!(
                "after end {} {} {}",
                js_bool(ws.writable()),
                js_bool(ws.writable_ended()),
                js_bool(ws.readable())
            ));
            lp2.set_immediate(move || {
                let rs2 = rs.clone();
                rs.on_close(move |r| {
                    t.log(format!("rs close {} {}", js_bool(r.had_error()), js_bool(r.destroyed())));
                    t.log(format!("raw after close true {}", js_bool(rs2.set_raw_mode(true).is_raw())));
                    not_a_terminal(&t);
                    ws.destroy(None);
                });
                rs.destroy(None);
            });
        });
    });
}

/// A file is not a terminal: `ERR_TTY_INIT_FAILED` for both kinds of stream.
fn not_a_terminal(t: &Trace) {
    let path = std::env::temp_dir().join(format!("millrace-golden-tty-file-{}", std::process::id()));
    std::fs::write(&path, b"x").unwrap();
    let open = || -> OwnedFd { std::fs::File::open(&path).unwrap().into() };
    let errs = [("ReadStream", ReadStream::new(open()).err()), ("WriteStream", WriteStream::new(open()).err())];
    for (name, e) in errs {
        match e {
            None => t.log("file tty?!"),
            Some(e) => t.log(format!("file {name} {} {}", err_name(Some(&e)), e.message())),
        }
    }
    std::fs::remove_file(&path).unwrap();
}

/// The flat `{"K":"V",…}` objects of the colour golden (no escapes in them), in order.
fn parse_env(json: &str) -> Vec<(String, String)> {
    let inner = json.strip_prefix('{').and_then(|s| s.strip_suffix('}')).expect("an object");
    let strings: Vec<&str> = inner.split('"').skip(1).step_by(2).collect();
    strings.chunks(2).map(|kv| (kv[0].to_owned(), kv[1].to_owned())).collect()
}

// The environments are the golden's own first column (Node printed each with its
// answers); every answer must be Node's.
#[test]
fn tty_colors() {
    let golden = include_str!("conformance/golden/tty_colors.txt");
    check_golden("tty_colors", |t, _| {
        for line in golden.lines() {
            let json = &line[..=line.find('}').unwrap()];
            let env: HashMap<String, String> = parse_env(json).into_iter().collect();
            let fits = [2, 16, 256, 1 << 24].map(|n| js_bool(tty::has_colors(n, &env)));
            t.log(format!("{json} {} {}", tty::color_depth(&env), fits.join(" ")));
        }
    });
}
