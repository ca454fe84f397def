//! `dns.lookup`, `dns.lookupService` and `net.connect` by host name, replayed against
//! Node 20's trace (`tests/conformance/dns_lookup.js`, golden `dns_lookup.txt`).

mod util;

use std::net::IpAddr;
use std::rc::Rc;

use millrace::streams::dns::{self, LookupOptions};
use millrace::streams::{net, Error};
use util::{check_golden, js_bool, text, Trace};

type Next = Rc<dyn Fn()>;
type Step = Box<dyn FnOnce(&Trace, Next)>;

/// JavaScript's `String(x)` inside `[…].join(' ')`: null and undefined print nothing.
fn js(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The scenario's `failed`: the call, the host, and whether the message is Node's
/// "syscall CODE host".
fn failed(t: &Trace, what: &str, e: &Error) {
    let (syscall, host) = (e.syscall().unwrap_or(""), e.hostname().unwrap_or(""));
    let shaped = e.message() == format!("{syscall} {} {host}", e.code().unwrap_or(""));
    t.log(format!("{what} error {syscall} {host} {}", js_bool(shaped)));
}

fn run(t: Trace, mut steps: Vec<Step>) {
    if steps.is_empty() {
        t.log("done");
        return;
    }
    let step = steps.remove(0);
    let rest = std::cell::RefCell::new(Some(steps));
    let t2 = t.clone();
    step(
        &t,
        Rc::new(move || {
            if let Some(steps) = rest.borrow_mut().take() {
                run(t2.clone(), steps)
            }
        }),
    );
}

fn list(all: &[dns::LookupAddress]) -> String {
    all.iter().map(|a| format!("{}/{}", a.address, a.family)).collect::<Vec<_>>().join(",")
}

#[test]
fn dns_lookup() {
    check_golden("dns_lookup", |t, _| {
        let steps: Vec<Step> = vec![
            Box::new(|t, next| {
                let t2 = t.clone();
                dns::lookup("localhost", LookupOptions::default(), move |r| {
                    let (address, family) = r.unwrap();
                    t2.log(format!("lookup localhost  {} {family}", js(address)));
                    next();
                })
                .unwrap();
                t.log("lookup localhost called");
            }),
            Box::new(|t, next| {
                let t2 = t.clone();
                let opts = LookupOptions { family: 4, ..Default::default() };
                dns::lookup_all("localhost", opts, move |r| {
                    t2.log(format!("lookup all  {}", list(&r.unwrap())));
                    next();
                })
                .unwrap();
            }),
            Box::new(|t, next| {
                let t2 = t.clone();
                dns::lookup("::1", LookupOptions::default(), move |r| {
                    let (address, family) = r.unwrap();
                    t2.log(format!("lookup ::1  {} {family}", js(address)));
                })
                .unwrap();
                let t2 = t.clone();
                dns::lookup_all("127.0.0.1", LookupOptions::default(), move |r| {
                    t2.log(format!("lookup ip all  {}", list(&r.unwrap())));
                    next();
                })
                .unwrap();
                let t2 = t.clone();
                millrace::reactor::Loop::current().next_tick(move || t2.log("tick after ip lookups"));
                t.log("ip lookups called");
            }),
            Box::new(|t, next| {
                let t2 = t.clone();
                dns::lookup("", LookupOptions { family: 6, ..Default::default() }, move |r| {
                    let (address, family) = r.unwrap();
                    t2.log(format!("lookup empty  {} {family}", js(address)));
                    next();
                })
                .unwrap();
            }),
            Box::new(|t, next| {
                for opts in [
                    LookupOptions { family: 5, ..Default::default() },
                    LookupOptions { hints: 99999, ..Default::default() },
                ] {
                    let e = dns::lookup("localhost", opts, |_| panic!("called back")).unwrap_err();
                    t.log(format!("throws {} {}", e.code().unwrap(), e.message()));
                }
                next();
            }),
            Box::new(|t, next| {
                let t2 = t.clone();
                dns::lookup("example.invalid.", LookupOptions::default(), move |r| {
                    failed(&t2, "lookup invalid", &r.unwrap_err());
                    t2.log("address ");
                    next();
                })
                .unwrap();
            }),
            Box::new(|t, next| {
                let t2 = t.clone();
                dns::lookup_service(IpAddr::from([127, 0, 0, 1]), 80, move |r| {
                    let (host, service) = r.unwrap();
                    t2.log(format!("lookupService  {host} {service}"));
                    next();
                });
            }),
            Box::new(|t, next| {
                let server = net::create_server(|_, sock| {
                    sock.end_with(bytes::Bytes::from_static(b"hi"));
                });
                let (t, srv) = (t.clone(), server.clone());
                server
                    .listen("127.0.0.1:0".parse().unwrap(), move |_| {
                        let port = srv.address().unwrap().port();
                        let c = net::Socket::connect_host("localhost", port);
                        let t2 = t.clone();
                        c.on_lookup(move |_, ev| {
                            let family = js(ev.family());
                            t2.log(format!("client lookup  {} {family} {}", js(ev.address), ev.host))
                        });
                        let t2 = t.clone();
                        c.on_connect(move |c| {
                            let remote = c.remote_addr().unwrap();
                            t2.log(format!("client connect {} {}", remote.ip(), js_bool(remote.port() == port)))
                        });
                        let t2 = t.clone();
                        c.on_data(move |_, d| t2.log(format!("client data {}", text(&d))));
                        let (t2, srv2, next2) = (t.clone(), srv.clone(), next.clone());
                        c.on_close(move |c| {
                            t2.log(format!("client close {}", js_bool(c.had_error())));
                            let next3 = next2.clone();
                            srv2.close(move |_, _| next3());
                        });
                        t.log(format!("connecting {}", js_bool(c.connecting())));
                    })
                    .unwrap();
            }),
            Box::new(|t, next| {
                let c = net::Socket::connect_host("localhost", 9);
                let t2 = t.clone();
                c.on_lookup(move |_, _| t2.log("destroyed lookup"));
                c.on_connect(t.on("destroyed connect"));
                let t2 = t.clone();
                c.on_close(move |c| {
                    t2.log(format!("destroyed close {}", js_bool(c.had_error())));
                    let next = next.clone();
                    millrace::reactor::Loop::current().set_timeout(50, move || next());
                });
                c.destroy(None);
                t.log(format!("destroyed while looking up {}", js_bool(c.destroyed())));
            }),
            Box::new(|t, next| {
                let c = net::Socket::connect_host("example.invalid.", 80);
                let t2 = t.clone();
                c.on_lookup(move |_, ev| {
                    let syscall = ev.error.as_ref().and_then(|e| e.syscall()).unwrap_or("");
                    t2.log(format!("bad lookup {syscall}   {}", ev.host))
                });
                let t2 = t.clone();
                c.on_error(move |_, e| failed(&t2, "bad client", e));
                let t2 = t.clone();
                c.on_close(move |c| {
                    t2.log(format!("bad close {}", js_bool(c.had_error())));
                    next();
                });
            }),
        ];
        run(t.clone(), steps);
    });
}
