//! Writable-side stream scenarios (`tests/conformance/w_*.js`) replayed against traces
//! recorded from Node 20: cork/uncork, `_writev`, drain state, write and end errors,
//! destroy, finish, Duplex half-open, Transform final/flush and backpressure, and the
//! highWaterMark rules. Each test must print exactly the lines of
//! `tests/conformance/golden/<name>.txt`.

mod util;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;
use millrace::reactor::Loop;
use millrace::streams::{
    pass_through, pass_through_builder, Chunk, Duplex, Error, Event, Readable, Transform, Writable,
};
use util::{check_golden, err_name, js_bool, run_ops, text, Completer, Trace, Xorshift};

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// `errName(e)` of a callback's error.
fn en(e: &Option<Error>) -> String {
    err_name(e.as_ref())
}

/// A once-callable continuation held by a listener (JavaScript's `next()`).
type Next = Rc<Cell<Option<Box<dyn FnOnce()>>>>;

fn next_of(f: impl FnOnce() + 'static) -> Next {
    Rc::new(Cell::new(Some(Box::new(f))))
}

fn call(n: &Next) {
    if let Some(f) = n.take() {
        f();
    }
}

#[test]
fn w_needdrain_state() {
    check_golden("w_needdrain_state", |t, lp| {
        let tt = t.clone();
        let x = Transform::<Bytes, Bytes>::builder()
            .high_water_mark(1)
            .transform(move |s, _, cb| {
                tt.log(format!(
                    "t _transform needDrain {} length {}",
                    js_bool(s.writable_state().need_drain),
                    s.writable_length()
                ));
                cb.call(Ok(None));
            })
            .build();
        x.on_drain(t.on("t drain"));
        t.log(format!("t before needDrain {}", js_bool(x.writable_state().need_drain)));
        let (tt, x2) = (t.clone(), x.clone());
        let r = x.write_cb(b("asdasd"), move |_| {
            tt.log(format!("t write cb needDrain {}", js_bool(x2.writable_state().need_drain)))
        });
        t.log(format!(
            "t write {} needDrain {} writableNeedDrain {}",
            js_bool(r),
            js_bool(x.writable_state().need_drain),
            js_bool(x.writable_need_drain())
        ));

        let (tt, lp2) = (t.clone(), lp.clone());
        let w = Writable::<Bytes>::builder()
            .high_water_mark(4)
            .write(move |w, chunk, cb| {
                tt.log(format!("w _write {} needDrain {}", text(&chunk), js_bool(w.writable_state().need_drain)));
                lp2.set_immediate(move || cb.ok());
            })
            .build();
        let tt = t.clone();
        w.on_drain(move |w| {
            tt.log(format!(
                "w drain needDrain {} writableNeedDrain {}",
                js_bool(w.writable_state().need_drain),
                js_bool(w.writable_need_drain())
            ))
        });
        let r = w.write(b("ab"));
        t.log(format!("w write ab {} needDrain {}", js_bool(r), js_bool(w.writable_need_drain())));
        let r = w.write(b("cde"));
        t.log(format!(
            "w write cde {} needDrain {} length {}",
            js_bool(r),
            js_bool(w.writable_need_drain()),
            w.writable_length()
        ));
        let tt = t.clone();
        w.once_drain(move |w| {
            let r = w.write(b("fghij"));
            tt.log(format!("w write fghij {} needDrain {}", js_bool(r), js_bool(w.writable_need_drain())));
            w.end();
            tt.log(format!(
                "after end writableNeedDrain {} needDrain {}",
                js_bool(w.writable_need_drain()),
                js_bool(w.writable_state().need_drain)
            ));
        });
        w.on_finish(t.on("w finish"));
        w.on_close(t.on("w close"));
    });
}

/// Writes `chunks` one per immediate (the scenarios' `writeChunks`), then runs `done`.
fn write_chunks(
    t: Trace,
    w: Writable<Bytes>,
    lp: Loop,
    mut chunks: VecDeque<&'static str>,
    log_state: bool,
    done: Box<dyn FnOnce()>,
) {
    match chunks.pop_front() {
        Some(c) => {
            let lp2 = lp.clone();
            lp.set_immediate(move || {
                let r = w.write(b(c));
                if log_state {
                    t.log(format!(
                        "write {c} {} length {} buffered {}",
                        js_bool(r),
                        w.writable_length(),
                        w.writable_state().buffered
                    ));
                } else {
                    t.log(format!("write {c} {}", js_bool(r)));
                }
                write_chunks(t, w, lp2, chunks, log_state, done);
            });
        }
        None => done(),
    }
}

#[test]
fn w_cork_uncork() {
    check_golden("w_cork_uncork", |t, lp| {
        let tt = t.clone();
        let w = Writable::<Bytes>::builder()
            .write(move |w, chunk, cb| {
                tt.log(format!(
                    "w _write {} corked {} length {} buffered {}",
                    text(&chunk),
                    w.writable_corked(),
                    w.writable_length(),
                    w.writable_state().buffered
                ));
                cb.ok();
            })
            .build();
        w.on_finish(t.on("w finish"));
        w.on_drain(t.on("w drain"));
        t.log(format!("write stuff {}", js_bool(w.write(b("stuff")))));
        w.cork();
        t.log(format!("corked {}", w.writable_corked()));
        let (tt, w2, lp2) = (t.clone(), w.clone(), lp.clone());
        let done = Box::new(move || {
            tt.log("uncork");
            w2.uncork();
            tt.log(format!(
                "after uncork corked {} length {} buffered {}",
                w2.writable_corked(),
                w2.writable_length(),
                w2.writable_state().buffered
            ));
            lp2.set_immediate(move || {
                tt.log(format!(
                    "immediate finished {} ended {}",
                    js_bool(w2.writable_finished()),
                    js_bool(w2.writable_ended())
                ))
            });
        });
        let chunks = ["please", "buffer", "me", "kindly"].into_iter().collect();
        write_chunks(t.clone(), w, lp.clone(), chunks, true, done);
    });
}

#[test]
fn w_cork_end() {
    check_golden("w_cork_end", |t, lp| {
        let seen_end = Rc::new(Cell::new(false));
        let (tt, se) = (t.clone(), seen_end.clone());
        let w = Writable::<Bytes>::builder()
            .write(move |_, chunk, cb| {
                tt.log(format!("w _write {} seenEnd {}", text(&chunk), js_bool(se.get())));
                cb.ok();
            })
            .build();
        let (tt, se) = (t.clone(), seen_end.clone());
        w.on_finish(move |_| {
            se.set(true);
            tt.log("w finish");
        });
        w.on_prefinish(t.on("w prefinish"));
        w.on_close(t.on("w close"));
        w.write(b("stuff"));
        w.cork();
        let (tt, w2, lp2) = (t.clone(), w.clone(), lp.clone());
        let done = Box::new(move || {
            tt.log("end");
            w2.end();
            tt.log(format!(
                "after end seenEnd {} corked {} length {}",
                js_bool(seen_end.get()),
                w2.writable_corked(),
                w2.writable_length()
            ));
            let (t2, se) = (tt.clone(), seen_end.clone());
            lp2.next_tick(move || t2.log(format!("tick seenEnd {}", js_bool(se.get()))));
            lp2.set_immediate(move || tt.log(format!("immediate seenEnd {}", js_bool(seen_end.get()))));
        });
        let chunks = ["please", "buffer", "me", "kindly"].into_iter().collect();
        write_chunks(t.clone(), w, lp.clone(), chunks, false, done);
    });
}

#[test]
fn w_uncorked_buffered_count() {
    check_golden("w_uncorked_buffered_count", |t, lp| {
        let (t1, t2) = (t.clone(), t.clone());
        let w = Writable::<Bytes>::builder()
            .writev(move |_, chunks, cb| {
                let all: Vec<String> = chunks.iter().map(text).collect();
                t1.log(format!("w _writev {} {}", chunks.len(), all.join(",")));
                cb.ok();
            })
            .write(move |_, chunk, cb| {
                t2.log(format!("w _write {}", text(&chunk)));
                cb.ok();
            })
            .build();
        let state = |w: &Writable<Bytes>| {
            let s = w.writable_state();
            format!("corked {} buffered {}", s.corked, s.buffered)
        };
        w.on_finish(t.on("w finish"));
        w.on_close(t.on("w close"));
        w.cork();
        t.log(format!("cork {}", state(&w)));
        w.cork();
        t.log(format!("cork {}", state(&w)));
        let tt = t.clone();
        w.write_cb(b("first chunk"), move |_| tt.log("cb first"));
        t.log(format!("write first {}", state(&w)));
        w.uncork();
        t.log(format!("uncork {}", state(&w)));
        let (tt, w2) = (t.clone(), w.clone());
        lp.next_tick(move || {
            w2.uncork();
            tt.log(format!("tick uncork {}", state(&w2)));
            w2.cork();
            let t3 = tt.clone();
            w2.write_cb(b("third chunk"), move |_| t3.log("cb third"));
            tt.log(format!("write third {}", state(&w2)));
            let t3 = tt.clone();
            w2.end_cb(None, move |_| t3.log("end cb"));
            tt.log(format!("end {} ended {}", state(&w2), js_bool(w2.writable_ended())));
        });
        let tt = t.clone();
        w.write_cb(b("second chunk"), move |_| tt.log("cb second"));
        t.log(format!("write second {}", state(&w)));
    });
}

fn writev_case(t: &Trace, uncork: bool, next: Next) {
    t.log(format!("# uncork {}", js_bool(uncork)));
    let tt = t.clone();
    let w = Writable::<Bytes>::builder()
        .writev(move |w, chunks, cb| {
            let lens: Vec<String> = chunks.iter().map(|c| c.len().to_string()).collect();
            tt.log(format!("w _writev {} {} length {}", chunks.len(), lens.join(","), w.writable_length()));
            cb.ok();
        })
        .build();
    let cnt = |msg: &'static str| {
        let tt = t.clone();
        move |e: Option<Error>| tt.log(format!("cb {msg} {}", e.map_or_else(|| "ok".to_owned(), |e| e.message())))
    };
    let tt = t.clone();
    w.on_finish(move |_| {
        tt.log("w finish");
        call(&next);
    });
    w.cork();
    t.log(format!("write hello {}", js_bool(w.write_cb(b("hello, "), cnt("hello")))));
    t.log(format!("write world {}", js_bool(w.write_cb(b("world"), cnt("world")))));
    w.cork();
    t.log(format!("write ! {}", js_bool(w.write_cb(b("!"), cnt("!")))));
    t.log(format!("write and then {}", js_bool(w.write_cb(b("and then..."), cnt("and then")))));
    w.uncork();
    t.log(format!("inner uncork corked {} buffered {}", w.writable_corked(), w.writable_state().buffered));
    let hex = Bytes::from_static(&[0xfa, 0xce, 0xbe, 0xa7, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xca, 0xfb, 0xad]);
    t.log(format!("write hex {}", js_bool(w.write_cb(hex, cnt("hex")))));
    if uncork {
        w.uncork();
        t.log(format!("uncork corked {} buffered {}", w.writable_corked(), w.writable_state().buffered));
    }
    w.end_cb(None, cnt("end"));
    t.log(format!("end corked {} length {}", w.writable_corked(), w.writable_length()));
}

#[test]
fn w_writev_cork() {
    check_golden("w_writev_cork", |t, _| {
        let t2 = t.clone();
        writev_case(
            t,
            true,
            next_of(move || {
                let t3 = t2.clone();
                writev_case(&t2, false, next_of(move || t3.log("done")));
            }),
        );
    });
}

#[test]
fn w_writev_inflight() {
    check_golden("w_writev_inflight", |t, lp| {
        let (t1, t2, lp1, lp2) = (t.clone(), t.clone(), lp.clone(), lp.clone());
        let w = Writable::<Bytes>::builder()
            .high_water_mark(8)
            .write(move |w, chunk, cb| {
                t1.log(format!("w _write {} length {}", text(&chunk), w.writable_length()));
                lp1.set_immediate(move || cb.ok());
            })
            .writev(move |w, chunks, cb| {
                let all: Vec<String> = chunks.iter().map(text).collect();
                t2.log(format!(
                    "w _writev {} length {} buffered {}",
                    all.join("|"),
                    w.writable_length(),
                    w.writable_state().buffered
                ));
                lp2.set_immediate(move || cb.ok());
            })
            .build();
        let tt = t.clone();
        w.on_drain(move |w| tt.log(format!("w drain length {}", w.writable_length())));
        w.on_finish(t.on("w finish"));
        w.on_close(t.on("w close"));
        for c in ["a", "bb", "ccc", "dddd"] {
            let tt = t.clone();
            let r = w.write_cb(b(c), move |_| tt.log(format!("cb {c}")));
            t.log(format!(
                "write {c} {} length {} buffered {}",
                js_bool(r),
                w.writable_length(),
                w.writable_state().buffered
            ));
        }
        let tt = t.clone();
        w.once_drain(move |w| {
            tt.log(format!("write e {}", js_bool(w.write(b("e")))));
            tt.log(format!("write f {}", js_bool(w.write(b("f")))));
            let t2 = tt.clone();
            w.end_cb(Some(b("g")), move |_| t2.log("end cb"));
        });
    });
}

fn write_after_end_case(t: &Trace, lp: &Loop, auto_destroy: bool, next: Next) {
    t.log(format!("# autoDestroy {}", js_bool(auto_destroy)));
    let tt = t.clone();
    let mut bld = Writable::<Bytes>::builder().write(move |_, _, _cb| tt.log("w _write"));
    if !auto_destroy {
        bld = bld.no_auto_destroy();
    }
    let w = bld.build();
    let tt = t.clone();
    w.on_error(move |w, e| tt.log(format!("w error {} destroyed {}", err_name(Some(e)), js_bool(w.destroyed()))));
    w.on_finish(t.on("w finish"));
    w.on_close(t.on("w close"));
    w.end();
    let ticked = Rc::new(Cell::new(false));
    let (tt, tk) = (t.clone(), ticked.clone());
    let r = w.write_cb(b("asd"), move |e| tt.log(format!("write cb {} ticked {}", en(&e), js_bool(tk.get()))));
    ticked.set(true);
    t.log(format!(
        "write returned {} destroyed {} errored {} writable {}",
        js_bool(r),
        js_bool(w.destroyed()),
        err_name(w.errored().as_ref()),
        js_bool(w.writable())
    ));
    let tt = t.clone();
    lp.set_immediate(move || {
        tt.log(format!(
            "later destroyed {} finished {} errored {}",
            js_bool(w.destroyed()),
            js_bool(w.writable_finished()),
            err_name(w.errored().as_ref())
        ));
        call(&next);
    });
}

#[test]
fn w_write_after_end() {
    check_golden("w_write_after_end", |t, lp| {
        let (t2, lp2) = (t.clone(), lp.clone());
        write_after_end_case(
            t,
            lp,
            false,
            next_of(move || {
                let t3 = t2.clone();
                write_after_end_case(&t2, &lp2, true, next_of(move || t3.log("done")));
            }),
        );
    });
}

fn write_after_destroy_case(t: &Trace, lp: &Loop, auto_destroy: bool, next: Next) {
    t.log(format!("# autoDestroy {}", js_bool(auto_destroy)));
    let tt = t.clone();
    let mut bld = Writable::<Bytes>::builder().write(move |_, _, _cb| tt.log("w _write"));
    if !auto_destroy {
        bld = bld.no_auto_destroy();
    }
    let w = bld.build();
    let tt = t.clone();
    w.on_error(move |_, e| tt.log(format!("w error {} {}", err_name(Some(e)), e.message())));
    w.on_close(t.on("w close"));
    w.destroy(None);
    let ticked = Rc::new(Cell::new(false));
    let (tt, tk) = (t.clone(), ticked.clone());
    let r = w.write_cb(b("asd"), move |e| {
        let msg = e.as_ref().map(Error::message).unwrap_or_default();
        tt.log(format!("write cb {} {msg} ticked {}", en(&e), js_bool(tk.get())))
    });
    ticked.set(true);
    t.log(format!(
        "write returned {} destroyed {} errored {}",
        js_bool(r),
        js_bool(w.destroyed()),
        err_name(w.errored().as_ref())
    ));
    let tt = t.clone();
    lp.set_immediate(move || {
        tt.log(format!("later errored {} closed {}", err_name(w.errored().as_ref()), js_bool(w.closed())));
        call(&next);
    });
}

#[test]
fn w_write_after_destroy() {
    check_golden("w_write_after_destroy", |t, lp| {
        let (t2, lp2) = (t.clone(), lp.clone());
        write_after_destroy_case(
            t,
            lp,
            false,
            next_of(move || {
                let t3 = t2.clone();
                write_after_destroy_case(&t2, &lp2, true, next_of(move || t3.log("done")));
            }),
        );
    });
}

#[test]
fn w_end_cb_error() {
    check_golden("w_end_cb_error", |t, lp| {
        let (tt, lp2) = (t.clone(), lp.clone());
        let w = Writable::<Bytes>::builder()
            .write(move |_, _, cb| {
                tt.log("w _write");
                lp2.next_tick(move || cb.call(Err(Error::msg("kaboom"))));
            })
            .build();
        w.on_error(t.on_err("w"));
        w.on_finish(t.on("w finish"));
        w.on_close(t.on("w close"));
        w.on_prefinish(t.on("w prefinish"));
        t.log(format!("write {}", js_bool(w.write(b("asd")))));
        let tt = t.clone();
        w.end_cb(None, move |e| tt.log(format!("end cb 1 {}", en(&e))));
        let tt = t.clone();
        w.end_cb(None, move |e| tt.log(format!("end cb 2 {}", en(&e))));
        t.log(format!("ended {} destroyed {}", js_bool(w.writable_ended()), js_bool(w.destroyed())));
    });
}

#[test]
fn w_end_twice_write_after_end() {
    check_golden("w_end_twice_write_after_end", |t, lp| {
        let (tt, lp2) = (t.clone(), lp.clone());
        let w = Writable::<Bytes>::builder()
            .write(move |_, chunk, cb| {
                tt.log(format!("w _write {}", text(&chunk)));
                lp2.set_immediate(move || cb.ok());
            })
            .build();
        w.on_error(t.on_err("w"));
        w.on_finish(t.on("w finish"));
        w.on_close(t.on("w close"));
        let tt = t.clone();
        w.end_cb(Some(b("testing ended state")), move |e| tt.log(format!("end cb 1 {}", en(&e))));
        t.log(format!("destroyed {} writableEnded {}", js_bool(w.destroyed()), js_bool(w.writable_ended())));
        let tt = t.clone();
        w.end_cb(None, move |e| tt.log(format!("end cb 2 {}", en(&e))));
        t.log(format!("destroyed {} writableEnded {}", js_bool(w.destroyed()), js_bool(w.writable_ended())));
        let tt = t.clone();
        w.end_cb(Some(b("end")), move |e| tt.log(format!("end cb 3 {}", en(&e))));
        t.log(format!("destroyed {} errored {}", js_bool(w.destroyed()), err_name(w.errored().as_ref())));
    });
}

#[test]
fn w_finished_state() {
    check_golden("w_finished_state", |t, lp| {
        let tt = t.clone();
        let w = Writable::<Bytes>::builder()
            .write(move |w, _, cb| {
                let s = w.writable_state();
                tt.log(format!("w _write finished {} ended {}", js_bool(s.finished), js_bool(w.writable_ended())));
                cb.ok();
            })
            .build();
        let tt = t.clone();
        w.on_finish(move |w| {
            tt.log(format!(
                "w finish finished {} writableFinished {}",
                js_bool(w.writable_state().finished),
                js_bool(w.writable_finished())
            ))
        });
        let tt = t.clone();
        w.on_close(move |w| {
            tt.log(format!("w close finished {} destroyed {}", js_bool(w.writable_finished()), js_bool(w.destroyed())))
        });
        let (tt, w2) = (t.clone(), w.clone());
        w.end_cb(Some(b("testing finished state")), move |e| {
            tt.log(format!("end cb {} finished {}", en(&e), js_bool(w2.writable_finished())))
        });
        t.log(format!(
            "after end finished {} ended {} length {}",
            js_bool(w.writable_finished()),
            js_bool(w.writable_ended()),
            w.writable_length()
        ));
        let tt = t.clone();
        lp.next_tick(move || tt.log(format!("tick finished {}", js_bool(w.writable_finished()))));
    });
}

#[test]
fn w_final_async() {
    check_golden("w_final_async", |t, lp| {
        let (t1, t2, lp2) = (t.clone(), t.clone(), lp.clone());
        let d = Duplex::<Bytes, Bytes>::builder()
            .read(|_, _| {})
            .write(move |_, chunk, cb| {
                t1.log(format!("d _write {}", text(&chunk)));
                cb.ok();
            })
            .final_(move |d, cb| {
                t2.log(format!("d _final pendingcb {}", d.writable_state().pending_cb));
                let t3 = t2.clone();
                let _ = lp2.set_timeout(1, move || {
                    t3.log("d final timer");
                    cb.call(Ok(()));
                });
            })
            .build();
        d.on_prefinish(t.on("d prefinish"));
        let tt = t.clone();
        d.on_finish(move |d| tt.log(format!("d finish finished {}", js_bool(d.writable_finished()))));
        d.on_error(t.on_err("d"));
        d.on_close(t.on("d close"));
        let tt = t.clone();
        d.end_cb(Some(b("test")), move |e| tt.log(format!("end cb {}", en(&e))));
        t.log(format!(
            "after end finished {} prefinished {}",
            js_bool(d.writable_finished()),
            js_bool(d.writable_state().prefinished)
        ));
        let (tt, d2) = (t.clone(), d.clone());
        let _ = lp.set_timeout(20, move || {
            tt.log(format!(
                "later destroyed {} readableEnded {}",
                js_bool(d2.destroyed()),
                js_bool(d2.readable_ended())
            ));
            d2.push(None);
            d2.resume();
        });
        d.on_end(t.on("d end"));
    });
}

fn destroy_watch(t: &Trace, name: &'static str) -> Writable<Bytes> {
    let w = Writable::<Bytes>::builder().write(|_, _, cb| cb.ok()).build();
    w.on_finish(t.on(format!("{name} finish")));
    let tt = t.clone();
    w.on_error(move |w, e| tt.log(format!("{name} error {} closed {}", err_name(Some(e)), js_bool(w.closed()))));
    let tt = t.clone();
    w.on_close(move |w| {
        tt.log(format!("{name} close errored {} closed {}", err_name(w.errored().as_ref()), js_bool(w.closed())))
    });
    w
}

#[test]
fn w_destroy_basic() {
    check_golden("w_destroy_basic", |t, lp| {
        let a = destroy_watch(t, "a");
        a.destroy(None);
        t.log(format!(
            "a destroyed {} closed {} errored {}",
            js_bool(a.destroyed()),
            js_bool(a.closed()),
            err_name(a.errored().as_ref())
        ));
        let bw = destroy_watch(t, "b");
        bw.destroy(Some(Error::msg("kaboom")));
        t.log(format!(
            "b destroyed {} closed {} errored {} errorEmitted {}",
            js_bool(bw.destroyed()),
            js_bool(bw.closed()),
            err_name(bw.errored().as_ref()),
            js_bool(bw.writable_state().error_emitted)
        ));
        let c = destroy_watch(t, "c");
        c.destroy(Some(Error::msg("kaboom 1")));
        c.destroy(Some(Error::msg("kaboom 2")));
        t.log(format!(
            "c errored {} writable {} aborted {}",
            err_name(c.errored().as_ref()),
            js_bool(c.writable()),
            js_bool(c.writable_aborted())
        ));
        let tt = t.clone();
        lp.next_tick(move || tt.log(format!("tick b errorEmitted {}", js_bool(bw.writable_state().error_emitted))));
    });
}

#[test]
fn w_destroy_custom() {
    check_golden("w_destroy_custom", |t, lp| {
        let mk = |name: &'static str, w: Writable<Bytes>| {
            w.on_finish(t.on(format!("{name} finish")));
            w.on_error(t.on_err(name));
            w.on_close(t.on(format!("{name} close")));
            w
        };
        let tt = t.clone();
        let a = mk(
            "a",
            Writable::<Bytes>::builder()
                .write(|_, _, cb| cb.ok())
                .destroy(move |_, err, cb| {
                    tt.log(format!("a _destroy {}", en(&err)));
                    cb.call(err);
                })
                .build(),
        );
        a.destroy(Some(Error::msg("kaboom a")));
        t.log(format!("a destroyed {}", js_bool(a.destroyed())));
        let tt = t.clone();
        let bw = mk(
            "b",
            Writable::<Bytes>::builder()
                .write(|_, _, cb| cb.ok())
                .destroy(move |_, err, cb| {
                    tt.log(format!("b _destroy {}", en(&err)));
                    cb.call(None);
                })
                .build(),
        );
        bw.destroy(Some(Error::msg("kaboom b")));
        t.log(format!("b destroyed {} errored {}", js_bool(bw.destroyed()), err_name(bw.errored().as_ref())));
        let tt = t.clone();
        let c = mk(
            "c",
            Writable::<Bytes>::builder()
                .write(|_, _, cb| cb.ok())
                .destroy(move |_, err, cb| {
                    tt.log(format!("c _destroy {}", en(&err)));
                    cb.call(Some(Error::msg("kaboom c")));
                })
                .build(),
        );
        c.destroy(None);
        t.log(format!("c destroyed {}", js_bool(c.destroyed())));
        let (tt, lp2) = (t.clone(), lp.clone());
        let d = mk(
            "d",
            Writable::<Bytes>::builder()
                .write(|_, _, cb| cb.ok())
                .destroy(move |s, err, cb| {
                    tt.log(format!("d _destroy {}", en(&err)));
                    let (t2, s) = (tt.clone(), s.clone());
                    lp2.next_tick(move || {
                        t2.log(format!("d _destroy tick closed {}", js_bool(s.closed())));
                        cb.call(None);
                        t2.log(format!("d after cb closed {}", js_bool(s.closed())));
                    });
                })
                .build(),
        );
        d.destroy(None);
        t.log(format!("d destroyed {} closed {}", js_bool(d.destroyed()), js_bool(d.closed())));
        let (tt, lp2) = (t.clone(), lp.clone());
        let e = mk(
            "e",
            Writable::<Bytes>::builder()
                .write(|_, _, cb| cb.ok())
                .destroy(move |_, err, cb| {
                    tt.log(format!("e _destroy {}", en(&err)));
                    lp2.next_tick(move || cb.call(Some(Error::msg("kaboom e1"))));
                })
                .build(),
        );
        e.destroy(None);
        t.log(format!(
            "e destroyed {} errorEmitted {}",
            js_bool(e.destroyed()),
            js_bool(e.writable_state().error_emitted)
        ));
        e.destroy(Some(Error::msg("kaboom e2")));
        t.log(format!(
            "e errorEmitted {} errored {}",
            js_bool(e.writable_state().error_emitted),
            err_name(e.errored().as_ref())
        ));
    });
}

#[test]
fn w_destroy_in_write() {
    check_golden("w_destroy_in_write", |t, _| {
        let tt = t.clone();
        let w = Writable::<Bytes>::builder()
            .write(move |s, chunk, cb| {
                tt.log(format!("w _write {}", text(&chunk)));
                s.destroy(Some(Error::msg("asd")));
                tt.log(format!(
                    "w after destroy destroyed {} writing {}",
                    js_bool(s.destroyed()),
                    js_bool(s.writable_state().writing)
                ));
                cb.ok();
                tt.log(format!("w after cb length {}", s.writable_length()));
            })
            .build();
        w.on_error(t.on_err("w"));
        w.on_finish(t.on("w finish"));
        w.on_prefinish(t.on("w prefinish"));
        w.on_close(t.on("w close"));
        let tt = t.clone();
        w.end_cb(Some(b("asd")), move |e| tt.log(format!("end cb {}", en(&e))));
        t.log(format!(
            "destroyed {} ended {} finished {}",
            js_bool(w.destroyed()),
            js_bool(w.writable_ended()),
            js_bool(w.writable_finished())
        ));
    });
}

#[test]
fn w_destroy_buffered() {
    check_golden("w_destroy_buffered", |t, lp| {
        let tt = t.clone();
        let w = Writable::<Bytes>::builder()
            .write(move |_, chunk, cb| {
                tt.log(format!("a _write {}", text(&chunk)));
                cb.ok();
            })
            .build();
        w.on_error(t.on_err("a"));
        w.on_close(t.on("a close"));
        let cb = |n: &'static str| {
            let tt = t.clone();
            move |e: Option<Error>| tt.log(format!("{n} {}", en(&e)))
        };
        w.cork();
        w.write_cb(b("1"), cb("a cb 1"));
        w.uncork();
        w.cork();
        w.write_cb(b("2"), cb("a cb 2"));
        w.destroy(None);
        w.write_cb(b("3"), cb("a cb 3"));
        w.uncork();
        t.log(format!("a length {} buffered {}", w.writable_length(), w.writable_state().buffered));

        let (tt, lp2) = (t.clone(), lp.clone());
        let w = Writable::<Bytes>::builder()
            .write(move |_, chunk, cb| {
                tt.log(format!("b _write {}", text(&chunk)));
                lp2.set_immediate(move || cb.ok());
            })
            .build();
        w.on_error(t.on_err("b"));
        w.on_close(t.on("b close"));
        w.write_cb(b("x"), cb("b cb x"));
        w.write_cb(b("y"), cb("b cb y"));
        w.destroy(None);
        t.log(format!("b length {} buffered {}", w.writable_length(), w.writable_state().buffered));
    });
}

#[test]
fn w_destroy_end_cb() {
    check_golden("w_destroy_end_cb", |t, lp| {
        let t0 = t.clone();
        let lp0 = lp.clone();
        let step3 = move |next: Next| {
            let (tt, lp2) = (t0.clone(), lp0.clone());
            let w = Writable::<Bytes>::builder()
                .write(move |_, _, cb| {
                    tt.log("c _write");
                    lp2.next_tick(move || cb.ok());
                })
                .build();
            w.once_error(t0.on_err("c"));
            let tt = t0.clone();
            w.on_close(move |_| {
                tt.log("c close");
                call(&next);
            });
            let tt = t0.clone();
            w.end_cb(Some(b("asd")), move |e| tt.log(format!("c end cb {}", en(&e))));
            w.destroy(Some(Error::msg("asd")));
        };
        let t0 = t.clone();
        let step2 = move |next: Next| {
            let w = Writable::<Bytes>::builder().write(|_, _, cb| cb.ok()).build();
            let tt = t0.clone();
            w.on_finish(move |w| {
                tt.log("b finish");
                w.destroy(None);
                let ticked = Rc::new(Cell::new(false));
                let (t2, tk) = (tt.clone(), ticked.clone());
                w.end_cb(None, move |e| t2.log(format!("b end cb {} ticked {}", en(&e), js_bool(tk.get()))));
                ticked.set(true);
            });
            let tt = t0.clone();
            w.on_close(move |_| {
                tt.log("b close");
                call(&next);
            });
            w.end();
        };
        let t0 = t.clone();
        let w = Writable::<Bytes>::builder().write(|_, _, cb| cb.call(Err(Error::msg("asd")))).build();
        let tt = t0.clone();
        w.on_error(move |w, e| {
            tt.log(format!("a error {}", err_name(Some(e))));
            w.destroy(None);
            let ticked = Rc::new(Cell::new(false));
            let (t2, tk) = (tt.clone(), ticked.clone());
            w.end_cb(None, move |e| t2.log(format!("a end cb {} ticked {}", en(&e), js_bool(tk.get()))));
            ticked.set(true);
        });
        let tt = t0.clone();
        let next = next_of(move || step2(next_of(move || step3(next_of(move || tt.log("done"))))));
        let tt = t0.clone();
        w.on_close(move |_| {
            tt.log("a close");
            call(&next);
        });
        w.write(b("asd"));
    });
}

#[test]
fn w_destroy_event_order() {
    check_golden("w_destroy_event_order", |t, _| {
        let rs = Readable::<Bytes>::builder().read(|_, _| {}).build();
        let ws = Writable::<Bytes>::builder().write(|_, _, cb| cb.ok()).build();
        let ds = Duplex::<Bytes, Bytes>::builder().read(|_, _| {}).write(|_, _, cb| cb.ok()).build();
        macro_rules! watch {
            ($name:literal, $s:expr) => {{
                let tt = t.clone();
                $s.on_close(move |s| tt.log(format!("{} close errored {}", $name, err_name(s.errored().as_ref()))));
                $s.on_error(t.on_err($name));
                $s.on_finish(t.on(concat!($name, " finish")));
            }};
        }
        watch!("rs", rs);
        rs.on_end(t.on("rs end"));
        watch!("ws", ws);
        watch!("ds", ds);
        ds.on_end(t.on("ds end"));
        rs.destroy(Some(Error::msg("kaboom r")));
        ws.destroy(Some(Error::msg("kaboom w")));
        ds.destroy(Some(Error::msg("kaboom d")));
        t.log(format!(
            "sync destroyed {} {} {}",
            js_bool(rs.destroyed()),
            js_bool(ws.destroyed()),
            js_bool(ds.destroyed())
        ));
    });
}

#[test]
fn w_duplex_end() {
    check_golden("w_duplex_end", |t, lp| {
        let mk = |name: &'static str, half_open: bool| {
            let mut bld = Duplex::<Bytes, Bytes>::builder().read(|_, _| {}).write(|_, _, cb| cb.ok());
            if !half_open {
                bld = bld.no_half_open();
            }
            let d = bld.build();
            t.log(format!(
                "{name} allowHalfOpen {} end listeners {}",
                js_bool(d.allow_half_open()),
                d.listener_count(Event::End)
            ));
            let tt = t.clone();
            d.on_end(move |d| {
                tt.log(format!(
                    "{name} end writable {} writableEnded {}",
                    js_bool(d.writable()),
                    js_bool(d.writable_ended())
                ))
            });
            d.on_finish(t.on(format!("{name} finish")));
            d.on_prefinish(t.on(format!("{name} prefinish")));
            d.on_close(t.on(format!("{name} close")));
            d
        };
        let a = mk("a", true);
        a.resume();
        a.push(None);
        let bd = mk("b", false);
        bd.resume();
        bd.push(None);
        let c = mk("c", false);
        c.end();
        c.resume();
        c.push(None);
        let tt = t.clone();
        lp.set_immediate(move || {
            for (name, d) in [("a", &a), ("b", &bd), ("c", &c)] {
                tt.log(format!("{name} writable {} destroyed {}", js_bool(d.writable()), js_bool(d.destroyed())));
            }
        });
    });
}

#[test]
fn w_transform_final() {
    check_golden("w_transform_final", |t, lp| {
        let state = Rc::new(Cell::new(0i64));
        let inc = |s: &Rc<Cell<i64>>| {
            s.set(s.get() + 1);
            s.get()
        };
        let (t1, t2, t3) = (t.clone(), t.clone(), t.clone());
        let (s1, s2, s3) = (state.clone(), state.clone(), state.clone());
        let (lp1, lp2, lp3) = (lp.clone(), lp.clone(), lp.clone());
        let x = Transform::<i64, i64>::builder()
            .object_mode()
            .transform(move |x, chunk, next| {
                t1.log(format!("transform part 1 {} chunk {chunk}", inc(&s1)));
                x.push(s1.get());
                t1.log(format!("transform part 2 {}", inc(&s1)));
                lp1.next_tick(move || next.call(Ok(None)));
            })
            .final_(move |_, done| {
                t2.log(format!("final part 1 {}", inc(&s2)));
                let (t, s) = (t2.clone(), s2.clone());
                let _ = lp2.set_timeout(10, move || {
                    t.log(format!("final part 2 {}", inc(&s)));
                    done.call(Ok(()));
                });
            })
            .flush(move |_, done| {
                t3.log(format!("flush part 1 {}", inc(&s3)));
                let (t, s) = (t3.clone(), s3.clone());
                lp3.next_tick(move || {
                    t.log(format!("flush part 2 {}", inc(&s)));
                    done.call(Ok(None));
                });
            })
            .build();
        let (tt, s) = (t.clone(), state.clone());
        x.on_finish(move |_| tt.log(format!("finish {}", inc(&s))));
        let (tt, s) = (t.clone(), state.clone());
        x.on_end(move |_| tt.log(format!("end {}", inc(&s))));
        let (tt, s) = (t.clone(), state.clone());
        x.on_prefinish(move |_| tt.log(format!("prefinish {}", s.get())));
        let (tt, s) = (t.clone(), state.clone());
        x.on_close(move |_| tt.log(format!("close {}", s.get())));
        let (tt, s) = (t.clone(), state.clone());
        x.on_data(move |_, d| tt.log(format!("data {} value {d}", inc(&s))));
        x.write(1);
        x.write(4);
        let (tt, s) = (t.clone(), state.clone());
        x.end_cb(Some(7), move |_| tt.log(format!("end cb {}", inc(&s))));
    });
}

#[test]
fn w_transform_flush_data() {
    check_golden("w_transform_flush_data", |t, _| {
        let (t1, t2) = (t.clone(), t.clone());
        let x = Transform::<Bytes, Bytes>::builder()
            .transform(move |_, d, n| {
                t1.log(format!("t _transform {}", text(&d)));
                n.call(Ok(None));
            })
            .flush(move |_, n| {
                t2.log("t _flush");
                n.call(Ok(Some(b("asdf"))));
            })
            .build();
        x.on_prefinish(t.on("t prefinish"));
        x.on_finish(t.on("t finish"));
        x.on_end(t.on("t end"));
        x.on_close(t.on("t close"));
        x.end_with(b("blerg"));
        let tt = t.clone();
        x.on_data(move |_, d| tt.log(format!("t data {}", text(&d))));
        t.log(format!("sync readableLength {}", x.readable_length()));
    });
}

#[test]
fn w_transform_consumption() {
    check_golden("w_transform_consumption", |t, _| {
        let transformed = Rc::new(Cell::new(0usize));
        let (tt, tr) = (t.clone(), transformed.clone());
        let x = Transform::<Bytes, Bytes>::builder()
            .high_water_mark(10)
            .transform(move |x, chunk, cb| {
                tr.set(tr.get() + chunk.len());
                tt.log(format!("tx _transform {} readableLength {}", chunk.len(), x.readable_length()));
                x.push(chunk);
                cb.call(Ok(None));
            })
            .build();
        for i in 1..=10usize {
            let r = x.write(Bytes::from(vec![0u8; i]));
            t.log(format!("write {i} {}", js_bool(r)));
        }
        x.end();
        t.log(format!(
            "readableLength {} transformed {} writableLength {} buffered {}",
            x.readable_state().length,
            transformed.get(),
            x.writable_length(),
            x.writable_state().buffered
        ));
        x.on_finish(t.on("tx finish"));
        x.on_end(t.on("tx end"));
        let total = Rc::new(Cell::new(0usize));
        let tot = total.clone();
        x.on_data(move |_, c| tot.set(tot.get() + c.len()));
        let tt = t.clone();
        x.on_end(move |_| tt.log(format!("total {} transformed {}", total.get(), transformed.get())));
    });
}

/// The JavaScript values of the object-mode transform scenario.
#[derive(Clone)]
enum Js {
    Num(i64),
    Bool(bool),
    Str(&'static str),
}

impl Chunk for Js {}

/// `JSON.stringify`.
fn stringify(v: &Js) -> String {
    match v {
        Js::Num(n) => n.to_string(),
        Js::Bool(b) => b.to_string(),
        Js::Str(s) => format!("\"{s}\""),
    }
}

#[test]
fn w_transform_object() {
    check_golden("w_transform_object", |t, lp| {
        let js = Transform::<Js, String>::builder()
            .object_mode()
            .transform(|x, data, cb| {
                x.push(stringify(&data));
                cb.call(Ok(None));
            })
            .build();
        let ended = Rc::new(Cell::new(false));
        let (tt, e) = (t.clone(), ended.clone());
        js.on_end(move |_| {
            e.set(true);
            tt.log("js end");
        });
        let values =
            [Js::Num(1), Js::Bool(true), Js::Bool(false), Js::Num(0), Js::Str("foo"), Js::Str(""), Js::Num(100)];
        for v in values {
            js.write(v);
            let res = js.read(None).unwrap_or_else(|| "null".to_owned());
            t.log(format!("js read {res} length {}", js.readable_length()));
        }
        js.end();
        js.read(None);
        t.log(format!("sync ended {}", js_bool(ended.get())));
        let tt = t.clone();
        lp.next_tick(move || tt.log(format!("tick ended {}", js_bool(ended.get()))));

        let pt = pass_through_builder::<i64>().object_mode().build();
        pt.write(1);
        pt.write(2);
        pt.write(3);
        pt.end();
        t.log(format!(
            "pt hwm {} {} objectMode {}",
            pt.readable_high_water_mark(),
            pt.writable_high_water_mark(),
            js_bool(pt.readable_object_mode())
        ));
        let mut reads = Vec::new();
        for _ in 0..4 {
            reads.push(pt.read(None).map_or_else(|| "null".to_owned(), |v| v.to_string()));
        }
        t.log(format!("pt read {}", reads.join(" ")));
        pt.on_end(t.on("pt end"));
    });
}

#[test]
fn w_transform_held_cb() {
    check_golden("w_transform_held_cb", |t, lp| {
        let count = Cell::new(0);
        let saved: RefCell<Option<Bytes>> = RefCell::new(None);
        let tt = t.clone();
        let pt = Transform::<Bytes, Bytes>::builder()
            .high_water_mark(3)
            .transform(move |pt, c, cb| {
                tt.log(format!("pt _transform {} readableLength {}", text(&c), pt.readable_length()));
                let n = count.get();
                count.set(n + 1);
                if n == 1 {
                    *saved.borrow_mut() = Some(c);
                } else {
                    if let Some(s) = saved.borrow_mut().take() {
                        pt.push(s);
                    }
                    pt.push(c);
                }
                cb.call(Ok(None));
            })
            .build();
        let (tt, lp2) = (t.clone(), lp.clone());
        pt.once_readable(move |pt| {
            tt.log(format!("pt readable length {}", pt.readable_length()));
            let (tt, pt) = (tt.clone(), pt.clone());
            lp2.next_tick(move || {
                let r = pt.write(b("d"));
                tt.log(format!("write d {} writableLength {}", js_bool(r), pt.writable_length()));
                let (t2, p2) = (tt.clone(), pt.clone());
                let r = pt.write_cb(b("ef"), move |_| {
                    t2.log("ef cb");
                    p2.end();
                });
                tt.log(format!("write ef {} writableLength {}", js_bool(r), pt.writable_length()));
                let got = pt.read(None).map_or_else(|| "null".to_owned(), |c| text(&c));
                tt.log(format!("read {got} writableLength {}", pt.writable_length()));
                let got = pt.read(None).map_or_else(|| "null".to_owned(), |c| text(&c));
                tt.log(format!("read {got}"));
            });
        });
        pt.on_finish(t.on("pt finish"));
        pt.on_end(t.on("pt end"));
        let r = pt.write(b("abc"));
        t.log(format!("write abc {} readableLength {}", js_bool(r), pt.readable_length()));
    });
}

#[test]
fn w_transform_expand() {
    check_golden("w_transform_expand", |t, lp| {
        let (tt, lp2) = (t.clone(), lp.clone());
        let pt = Transform::<Bytes, Bytes>::builder()
            .transform(move |pt, chunk, cb| {
                tt.log(format!("pt _transform {}", text(&chunk)));
                let (pt, lp3) = (pt.clone(), lp2.clone());
                let _ = lp2.set_timeout(10, move || {
                    pt.push(chunk.clone());
                    let _ = lp3.set_timeout(10, move || {
                        pt.push(chunk);
                        cb.call(Ok(None));
                    });
                });
            })
            .build();
        for s in ["foog", "bark", "bazy", "kuel"] {
            let r = pt.write(b(s));
            t.log(format!("write {s} {}", js_bool(r)));
        }
        pt.end();
        let tt = t.clone();
        pt.on_finish(move |pt| {
            tt.log(format!("pt finish readableLength {}", pt.readable_length()));
            while let Some(c) = pt.read(Some(5)) {
                tt.log(format!("read {}", text(&c)));
            }
            tt.log(format!("read null, ended {}", js_bool(pt.readable_ended())));
        });
        pt.on_end(t.on("pt end"));
        pt.on_close(t.on("pt close"));
    });
}

#[test]
fn w_highwatermark() {
    check_golden("w_highwatermark", |t, _| {
        fn rw<R: Chunk, W: Chunk>(s: &Duplex<R, W>) -> String {
            format!("{} {}", s.readable_high_water_mark(), s.writable_high_water_mark())
        }
        let rb = || Readable::<Bytes>::builder().read(|_, _| {});
        t.log(format!("readable default {}", rb().build().readable_high_water_mark()));
        t.log(format!("readable object {}", rb().object_mode().build().readable_high_water_mark()));
        t.log(format!("readable 5 {}", rb().high_water_mark(5).build().readable_high_water_mark()));
        t.log(format!(
            "readable huge {}",
            rb().high_water_mark(9_007_199_254_740_991).build().readable_high_water_mark()
        ));
        t.log(format!(
            "readable side options ignored {}",
            rb().readable_high_water_mark(3).readable_object_mode().build().readable_high_water_mark()
        ));
        let wb = Writable::<Bytes>::builder;
        t.log(format!("writable default {}", wb().build().writable_high_water_mark()));
        t.log(format!(
            "writable side options ignored {}",
            wb().writable_high_water_mark(3).writable_object_mode().build().writable_high_water_mark()
        ));
        t.log(format!("writable object {}", wb().object_mode().build().writable_high_water_mark()));
        t.log(format!("writable 7 {}", wb().high_water_mark(7).build().writable_high_water_mark()));
        let db = Duplex::<Bytes, Bytes>::builder;
        t.log(format!("duplex default {}", rw(&db().build())));
        t.log(format!("duplex object {}", rw(&db().object_mode().build())));
        t.log(format!("duplex readableObjectMode {}", rw(&db().readable_object_mode().build())));
        t.log(format!("duplex writableObjectMode {}", rw(&db().writable_object_mode().build())));
        t.log(format!("duplex sides {}", rw(&db().readable_high_water_mark(3).writable_high_water_mark(9).build())));
        t.log(format!(
            "duplex hwm wins {}",
            rw(&db().high_water_mark(4).readable_high_water_mark(3).writable_high_water_mark(9).build())
        ));
        t.log(format!("duplex one side {}", rw(&db().readable_high_water_mark(3).build())));
        t.log(format!("duplex object side {}", rw(&db().writable_object_mode().readable_high_water_mark(2).build())));
        let tb = || Transform::<Bytes, Bytes>::builder().transform(|_, c, cb| cb.call(Ok(Some(c))));
        t.log(format!("transform default {}", rw(&tb().build())));
        t.log(format!("transform object {}", rw(&tb().object_mode().build())));
        t.log(format!("transform 2 {}", rw(&tb().high_water_mark(2).build())));
        t.log(format!("passthrough default {}", rw(&pass_through::<Bytes>())));
        t.log(format!("transform readable 0 {}", rw(&tb().readable_high_water_mark(0).build())));
        t.log(format!(
            "transform readable 0 writable 5 {}",
            rw(&tb().readable_high_water_mark(0).writable_high_water_mark(5).build())
        ));
        let tt = t.clone();
        let r0 = Readable::<Bytes>::builder().high_water_mark(0).read(move |_, _| tt.log("r0 _read")).build();
        for _ in 0..3 {
            t.log(format!("r0 push {}", js_bool(r0.push(Bytes::new()))));
        }
        let tt = t.clone();
        let r1 = Readable::<Bytes>::builder().high_water_mark(0).read(move |_, _| tt.log("r1 _read")).build();
        let got = r1.read(Some(0));
        t.log(format!("r1 read(0) {}", got.map_or_else(|| "null".to_owned(), |c| text(&c))));
        let tt = t.clone();
        let w0 = Writable::<Bytes>::builder()
            .high_water_mark(0)
            .write(move |_, _, cb| {
                tt.log("w0 _write");
                cb.ok();
            })
            .build();
        let r = w0.write(b("x"));
        t.log(format!("w0 write sync {} needDrain {}", js_bool(r), js_bool(w0.writable_need_drain())));
        let tt = t.clone();
        let lp = Loop::current();
        let w1 = Writable::<Bytes>::builder()
            .high_water_mark(0)
            .write(move |_, _, cb| {
                tt.log("w1 _write");
                lp.set_immediate(move || cb.ok());
            })
            .build();
        w1.on_drain(t.on("w1 drain"));
        let r = w1.write(b("x"));
        t.log(format!("w1 write async {} needDrain {}", js_bool(r), js_bool(w1.writable_need_drain())));
    });
}

#[test]
fn w_autodestroy_false_error() {
    check_golden("w_autodestroy_false_error", |t, lp| {
        let (tt, lp2) = (t.clone(), lp.clone());
        let w = Writable::<Bytes>::builder()
            .no_auto_destroy()
            .write(move |_, chunk, cb| {
                tt.log(format!("w _write {}", text(&chunk)));
                let e = Error::msg(format!("asd {}", text(&chunk)));
                lp2.next_tick(move || cb.call(Err(e)));
            })
            .build();
        let tt = t.clone();
        w.on_error(move |w, e| tt.log(format!("w error {} destroyed {}", err_name(Some(e)), js_bool(w.destroyed()))));
        w.on_finish(t.on("w finish"));
        w.on_close(t.on("w close"));
        let cb = |n: &'static str| {
            let tt = t.clone();
            move |e: Option<Error>| tt.log(format!("{n} {}", en(&e)))
        };
        w.cork();
        w.write_cb(b("1"), cb("cb 1"));
        w.write_cb(b("2"), cb("cb 2"));
        w.uncork();
        t.log(format!("uncorked length {} buffered {}", w.writable_length(), w.writable_state().buffered));
        let (tt, lp2) = (t.clone(), lp.clone());
        let cb3 = cb("cb 3");
        let end_cb = cb("end cb");
        lp.set_immediate(move || {
            tt.log(format!(
                "errored {} destroyed {} writable {} length {}",
                err_name(w.errored().as_ref()),
                js_bool(w.destroyed()),
                js_bool(w.writable()),
                w.writable_length()
            ));
            let r = w.write_cb(b("3"), cb3);
            tt.log(format!("write 3 {}", js_bool(r)));
            w.end_cb(None, end_cb);
            lp2.set_immediate(move || {
                tt.log(format!("still destroyed {} closed {}", js_bool(w.destroyed()), js_bool(w.closed())));
                w.destroy(None);
                tt.log(format!("destroyed {}", js_bool(w.destroyed())));
            });
        });
    });
}

#[test]
fn w_emit_close_false() {
    check_golden("w_emit_close_false", |t, lp| {
        let a = Writable::<Bytes>::builder().no_emit_close().write(|_, _, cb| cb.ok()).build();
        a.on_finish(t.on("a finish"));
        a.on_close(t.on("a close"));
        a.end_with(b("x"));
        let bw = Writable::<Bytes>::builder().no_emit_close().write(|_, _, cb| cb.ok()).build();
        let tt = t.clone();
        bw.on_error(move |w, e| tt.log(format!("b error {} closed {}", err_name(Some(e)), js_bool(w.closed()))));
        bw.on_close(t.on("b close"));
        bw.destroy(Some(Error::msg("kaboom")));
        let r = Readable::<Bytes>::builder().no_emit_close().read(|_, _| {}).build();
        r.on_end(t.on("r end"));
        r.on_close(t.on("r close"));
        r.resume();
        r.push(None);
        let tt = t.clone();
        lp.set_immediate(move || {
            tt.log(format!(
                "a destroyed {} closed {} finished {}",
                js_bool(a.destroyed()),
                js_bool(a.closed()),
                js_bool(a.writable_finished())
            ));
            tt.log(format!("b destroyed {} closed {}", js_bool(bw.destroyed()), js_bool(bw.closed())));
            tt.log(format!("r destroyed {} closed {}", js_bool(r.destroyed()), js_bool(r.closed())));
        });
    });
}

#[test]
fn w_write_sync_state() {
    check_golden("w_write_sync_state", |t, lp| {
        fn st<W: Chunk>(w: &Writable<W>) -> String {
            format!(
                "length {} needDrain {} pendingcb {}",
                w.writable_length(),
                js_bool(w.writable_need_drain()),
                w.writable_state().pending_cb
            )
        }
        fn watch<W: Chunk>(t: &Trace, name: &'static str, w: &Writable<W>) {
            w.on_drain(t.on(format!("{name} drain")));
            w.on_prefinish(t.on(format!("{name} prefinish")));
            w.on_finish(t.on(format!("{name} finish")));
            w.on_close(t.on(format!("{name} close")));
        }
        let tt = t.clone();
        let a = Writable::<Bytes>::builder()
            .high_water_mark(2)
            .write(move |_, chunk, cb| {
                tt.log(format!("a _write {}", text(&chunk)));
                cb.ok();
            })
            .build();
        watch(t, "a", &a);
        let r = a.write(b("abc"));
        t.log(format!("a write abc {} {}", js_bool(r), st(&a)));
        let r = a.write(b("de"));
        t.log(format!("a write de {} {}", js_bool(r), st(&a)));
        a.end();
        t.log(format!("a end {}", st(&a)));
        let tt = t.clone();
        let bw = Writable::<&'static str>::builder()
            .high_water_mark(2)
            .write(move |_, chunk, cb| {
                tt.log(format!("b _write {chunk}"));
                cb.ok();
            })
            .build();
        watch(t, "b", &bw);
        let r = bw.write("x");
        t.log(format!("b write x {} {}", js_bool(r), st(&bw)));
        let r = bw.write("y");
        t.log(format!("b write y {} {}", js_bool(r), st(&bw)));
        let tt = t.clone();
        let r = bw.write_cb("z", move |_| tt.log("b cb z"));
        t.log(format!("b write z {} {}", js_bool(r), st(&bw)));
        bw.end();
        t.log(format!("b end {}", st(&bw)));
        let tt = t.clone();
        lp.next_tick(move || tt.log(format!("tick a {} b {}", st(&a), st(&bw))));
    });
}

#[test]
fn w_transform_push_end() {
    check_golden("w_transform_push_end", |t, lp| {
        let tt = t.clone();
        let x = Transform::<Bytes, Bytes>::builder()
            .transform(move |x, chunk, cb| {
                let s = text(&chunk);
                tt.log(format!("t _transform {s}"));
                if s == "stop" {
                    x.push(None);
                } else {
                    x.push(chunk);
                }
                tt.log(format!("t calling back {s}"));
                cb.call(Ok(None));
            })
            .build();
        let tt = t.clone();
        x.on_data(move |_, d| tt.log(format!("t data {}", text(&d))));
        x.on_end(t.on("t end"));
        x.on_finish(t.on("t finish"));
        x.on_close(t.on("t close"));
        x.on_error(t.on_err("t"));
        let tt = t.clone();
        x.write_cb(b("a"), move |_| tt.log("cb a"));
        let tt = t.clone();
        x.write_cb(b("stop"), move |_| tt.log("cb stop"));
        t.log(format!(
            "after stop writableLength {} writing {} readableEnded {}",
            x.writable_length(),
            js_bool(x.writable_state().writing),
            js_bool(x.readable_state().ended)
        ));
        let tt = t.clone();
        lp.next_tick(move || tt.log("tick"));
        let tt = t.clone();
        x.end_cb(None, move |_| tt.log("end cb"));
    });
}

/// A `_write`/`_writev` or `_final` callback of `w_generated`, completed alike.
enum Done {
    Write(millrace::streams::WriteCallback<millrace::streams::Absent, Bytes, ()>),
    Final(millrace::streams::FinalCallback<millrace::streams::Absent, Bytes, ()>),
}

impl Done {
    fn call(self) {
        match self {
            Done::Write(cb) => cb.ok(),
            Done::Final(cb) => cb.call(Ok(())),
        }
    }
}

/// One generated case of `w_generated.js`: its what its operations act on.
struct GenCase {
    t: Trace,
    w: Writable<Bytes>,
    written: Cell<usize>,
}

fn gen_state(w: &Writable<Bytes>) -> String {
    format!("length {} needDrain {}", w.writable_length(), js_bool(w.writable_need_drain()))
}

fn gen_op(cx: &GenCase, op: &str) -> bool {
    let w = &cx.w;
    match op {
        "c" => w.cork(),
        "u" => w.uncork(),
        "e" => {
            let tt = cx.t.clone();
            w.end_cb(None, move |e| tt.log(format!("end cb {}", en(&e))));
            cx.t.log(format!("end {}", gen_state(w)));
        }
        "d" => {
            w.destroy(None);
            cx.t.log("destroy");
        }
        "X" => {
            w.destroy(Some(Error::msg("boom")));
            cx.t.log("destroy(boom)");
        }
        _ if op.starts_with('E') => {
            let n: usize = op[1..].parse().expect("E<n>");
            let tt = cx.t.clone();
            w.end_cb(Some(Bytes::from(vec![b'x'; n])), move |e| tt.log(format!("end cb {}", en(&e))));
            cx.t.log(format!("end({n}) {}", gen_state(w)));
        }
        _ => {
            let id = cx.written.get();
            cx.written.set(id + 1);
            let n: usize = op[1..].parse().expect("w<n>");
            let tt = cx.t.clone();
            let ret = w.write_cb(Bytes::from(vec![b'x'; n]), move |e| tt.log(format!("cb {id} {}", en(&e))));
            cx.t.log(format!("write {id} {} {}", js_bool(ret), gen_state(w)));
        }
    }
    true
}

fn gen_case(i: usize, rng: Rc<RefCell<Xorshift>>, t: Trace, lp: Loop) {
    const CASES: usize = 300;
    const HWMS: [usize; 3] = [1, 4, 16];
    if i == CASES {
        return;
    }
    let (hwm, with_writev, with_final, ops) = {
        let mut rng = rng.borrow_mut();
        let hwm = HWMS[rng.next() % HWMS.len()];
        let with_writev = rng.next() % 2 == 1;
        let with_final = rng.next() % 2 == 1;
        let mut ops = Vec::new();
        for _ in 0..1 + rng.next() % 12 {
            ops.push(match rng.next() % 100 {
                0..45 => format!("w{}", 1 + rng.next() % 8),
                45..55 => "c".into(),
                55..65 => "u".into(),
                65..80 => "t".into(),
                80..88 => "e".into(),
                88..94 => format!("E{}", 1 + rng.next() % 8),
                94..97 => "d".into(),
                _ => "X".into(),
            });
        }
        ops.push("e".into());
        (hwm, with_writev, with_final, ops)
    };
    t.log(format!("case {i}: hwm {hwm} writev {with_writev} final {with_final} ops {}", ops.join(" ")));
    // The n-th chunk handed to _write/_writev (or _final) completes by n (`Completer`).
    let completer = Completer::new(&lp);
    let complete = move |cb: Done| completer.complete(move || cb.call());
    let (tt, c) = (t.clone(), complete.clone());
    let mut b = Writable::<Bytes>::builder().high_water_mark(hwm).write(move |_, chunk, cb| {
        tt.log(format!("_write {}", chunk.len()));
        c(Done::Write(cb));
    });
    if with_writev {
        let (tt, complete) = (t.clone(), complete.clone());
        b = b.writev(move |_, chunks, cb| {
            let lens: Vec<String> = chunks.iter().map(|c| c.len().to_string()).collect();
            tt.log(format!("_writev {}", lens.join(",")));
            complete(Done::Write(cb));
        });
    }
    if with_final {
        let tt = t.clone();
        b = b.final_(move |_, cb| {
            tt.log("_final");
            complete(Done::Final(cb));
        });
    }
    let w = b.build();
    let tt = t.clone();
    w.on_drain(move |w| tt.log(format!("drain {}", gen_state(w))));
    w.on_prefinish(t.on("prefinish"));
    w.on_finish(t.on("finish"));
    let tt = t.clone();
    w.on_error(move |_, e| tt.log(format!("error {}", err_name(Some(e)))));
    let (tt, lp2) = (t.clone(), lp.clone());
    w.on_close(move |_| {
        tt.log("close");
        let (rng, tt, lp3) = (rng.clone(), tt.clone(), lp2.clone());
        lp2.set_immediate(move || gen_case(i + 1, rng, tt, lp3));
    });
    let cx = GenCase { t, w, written: Cell::new(0) };
    run_ops(&lp, ops.into(), 0, Rc::new(move |op| gen_op(&cx, op)));
}

#[test]
fn w_generated() {
    check_golden("w_generated", |t, lp| {
        gen_case(0, Rc::new(RefCell::new(Xorshift(0x6a09_e667))), t.clone(), lp.clone())
    });
}

/// One generated case of `t_generated.js`: its what its operations act on.
struct XformCase {
    t: Trace,
    x: Transform<Bytes, Bytes>,
    consuming: Cell<bool>,
    written: Cell<usize>,
}

fn xform_state(x: &Transform<Bytes, Bytes>) -> String {
    format!("writable {} readable {}", x.writable_length(), x.readable_length())
}

fn xform_op(cx: &XformCase, op: &str) -> bool {
    let (x, t) = (&cx.x, &cx.t);
    match op.as_bytes()[0] {
        b'w' => {
            let id = cx.written.get();
            cx.written.set(id + 1);
            let n: usize = op[1..].parse().expect("w<n>");
            let tt = t.clone();
            let ret = x.write_cb(Bytes::from(vec![b'x'; n]), move |e| tt.log(format!("cb {id} {}", en(&e))));
            t.log(format!("write {id} {} {}", js_bool(ret), xform_state(x)));
        }
        b'e' => {
            x.end();
            t.log(format!("end() {}", xform_state(x)));
        }
        b'E' => {
            let n: usize = op[1..].parse().expect("E<n>");
            x.end_with(Bytes::from(vec![b'x'; n]));
            t.log(format!("end({n}) {}", xform_state(x)));
        }
        b'r' => {
            let c = x.read(None);
            let shown = c.map_or_else(|| "null".to_owned(), |c| c.len().to_string());
            t.log(format!("read() {shown} {}", xform_state(x)));
        }
        b'P' => {
            x.pause();
            t.log(format!("pause() {}", xform_state(x)));
        }
        b'R' => {
            x.resume();
            t.log(format!("resume() {}", xform_state(x)));
        }
        b'D' => {
            if !cx.consuming.replace(true) {
                let tt = t.clone();
                x.on_data(move |_, c| tt.log(format!("data {}", c.len())));
                t.log("data listener");
            }
        }
        _ => unreachable!("no operation {op}"),
    }
    true
}

fn xform_case(i: usize, rng: Rc<RefCell<Xorshift>>, t: Trace, lp: Loop) {
    const CASES: usize = 300;
    const HWMS: [usize; 3] = [1, 4, 16];
    if i == CASES {
        return;
    }
    let (r_hwm, w_hwm, ops) = {
        let mut rng = rng.borrow_mut();
        let r_hwm = HWMS[rng.next() % HWMS.len()];
        let w_hwm = HWMS[rng.next() % HWMS.len()];
        let mut ops = Vec::new();
        for _ in 0..1 + rng.next() % 10 {
            ops.push(match rng.next() % 100 {
                0..50 => format!("w{}", 1 + rng.next() % 6),
                50..75 => "t".into(),
                75..82 => "D".into(),
                82..88 => "r".into(),
                88..92 => "P".into(),
                92..96 => "R".into(),
                _ => format!("E{}", 1 + rng.next() % 6),
            });
        }
        ops.push("e".into());
        ops.push("D".into());
        ops.push("R".into());
        (r_hwm, w_hwm, ops)
    };
    t.log(format!("case {i}: readable hwm {r_hwm} writable hwm {w_hwm} ops {}", ops.join(" ")));
    let handed = Completer::new(&lp);
    let tt = t.clone();
    let (t3, handed2) = (t.clone(), handed.clone());
    let x = Transform::<Bytes, Bytes>::builder()
        .readable_high_water_mark(r_hwm)
        .writable_high_water_mark(w_hwm)
        .transform(move |s, chunk, cb| {
            tt.log(format!("_transform {}", chunk.len()));
            for k in 0..chunk.len() % 3 {
                let ret = s.push(Bytes::from(vec![b'y'; chunk.len() + k]));
                tt.log(format!("  push {} {}", chunk.len() + k, js_bool(ret)));
            }
            handed.complete(move || cb.call(Ok(None)));
        })
        .flush(move |s, cb| {
            t3.log("_flush");
            s.push(b("f"));
            handed2.complete(move || cb.call(Ok(None)));
        })
        .build();
    let tt = t.clone();
    x.on_drain(move |x| tt.log(format!("drain {}", xform_state(x))));
    x.on_prefinish(t.on("prefinish"));
    x.on_finish(t.on("finish"));
    x.on_end(t.on("end"));
    let tt = t.clone();
    x.on_error(move |_, e| tt.log(format!("error {}", err_name(Some(e)))));
    let (tt, lp2) = (t.clone(), lp.clone());
    x.on_close(move |_| {
        tt.log("close");
        let (rng, tt, lp3) = (rng.clone(), tt.clone(), lp2.clone());
        lp2.set_immediate(move || xform_case(i + 1, rng, tt, lp3));
    });
    let cx = XformCase { t, x, consuming: Cell::new(false), written: Cell::new(0) };
    run_ops(&lp, ops.into(), 0, Rc::new(move |op| xform_op(&cx, op)));
}

#[test]
fn t_generated() {
    check_golden("t_generated", |t, lp| {
        xform_case(0, Rc::new(RefCell::new(Xorshift(0xa54f_f53a))), t.clone(), lp.clone())
    });
}

#[test]
fn w_sync_write_in_clear_buffer() {
    check_golden("w_sync_write_in_clear_buffer", |t, lp| {
        let completer = Completer::new(lp);
        let complete = move |cb: Done| completer.complete(move || cb.call());
        let (t1, t2, c) = (t.clone(), t.clone(), complete.clone());
        let w = Writable::<Bytes>::builder()
            .high_water_mark(16)
            .write(move |_, chunk, cb| {
                t1.log(format!("_write {}", chunk.len()));
                c(Done::Write(cb));
            })
            .final_(move |_, cb| {
                t2.log("_final");
                complete(Done::Final(cb));
            })
            .build();
        w.on_prefinish(t.on("prefinish"));
        w.on_finish(t.on("finish"));
        w.on_close(t.on("close"));
        for (i, len) in [7, 3, 4].into_iter().enumerate() {
            let tt = t.clone();
            w.write_cb(Bytes::from(vec![0u8; len]), move |e| tt.log(format!("cb {i} {}", en(&e))));
        }
        let tt = t.clone();
        w.end_cb(Some(Bytes::from(vec![0u8; 8])), move |e| tt.log(format!("end cb {}", en(&e))));
        let tt = t.clone();
        w.end_cb(None, move |e| tt.log(format!("end cb 2 {}", en(&e))));
    });
}
