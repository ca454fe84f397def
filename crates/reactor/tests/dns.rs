//! Host and service names on the thread pool. Ported from libuv's test-getaddrinfo.c
//! (`getaddrinfo_fail`, `getaddrinfo_fail_sync`, `getaddrinfo_basic`,
//! `getaddrinfo_basic_sync`, `getaddrinfo_concurrent`), test-getnameinfo.c
//! (`getnameinfo_basic_ip4`, `getnameinfo_basic_ip4_sync`, `getnameinfo_basic_ip6`) and
//! test-threadpool-cancel.c (`threadpool_cancel_getaddrinfo`,
//! `threadpool_cancel_getnameinfo`).
//!
//! Adapted: libuv's callbacks get a `struct addrinfo` list or two C strings, ours a
//! `Vec<AddrInfo>` or a `(host, service)` pair; where libuv only frees what came back,
//! these check what a user can see of it (a loopback answer for "localhost", non-empty
//! names). The failing lookups use libuv's own name, `example.invalid.`, which no
//! resolver answers (`.invalid` is reserved), so they fail without a network too.

mod util;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use millrace_reactor::dns::{self, AddrInfoHints};
use millrace_reactor::{Error, Loop, RunMode};
use util::pool::{cancel_from_timer, saturate_threadpool};
use util::{make_valgrind_happy, Counter};

const NAME: &str = "localhost";

// test-getaddrinfo.c: no node and no service is EINVAL from the call itself (the
// callback never runs); a name that does not exist fails in the callback.
#[test]
fn getaddrinfo_fail() {
    let lp = Loop::new().unwrap();
    let r = dns::getaddrinfo(&lp, None, None, None, |_| panic!("called back for EINVAL"));
    assert_eq!(r.err(), Some(Error::EINVAL));

    let fail_cb_called = Counter::new();
    let c = fail_cb_called.clone();
    dns::getaddrinfo(&lp, Some("example.invalid."), None, None, move |r| {
        assert_eq!(c.get(), 0);
        // libuv asserts only a failure: which one depends on the resolver (EAI_NONAME
        // from a DNS server, EAI_AGAIN without one).
        assert!(r.is_err());
        c.inc();
    })
    .unwrap();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(fail_cb_called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-getaddrinfo.c: the same failure, synchronously.
#[test]
fn getaddrinfo_fail_sync() {
    assert!(dns::getaddrinfo_sync(Some("example.invalid."), None, None).is_err());
    assert_eq!(dns::getaddrinfo_sync(None, None, None), Err(Error::EINVAL));
}

// test-getaddrinfo.c: "localhost" resolves on the pool; the callback runs once.
#[test]
fn getaddrinfo_basic() {
    let lp = Loop::new().unwrap();
    let getaddrinfo_cbs = Counter::new();
    let c = getaddrinfo_cbs.clone();
    dns::getaddrinfo(&lp, Some(NAME), None, None, move |r| {
        let answers = r.unwrap();
        assert!(answers.iter().any(|a| a.addr.ip().is_loopback()), "{answers:?}");
        c.inc();
    })
    .unwrap();
    lp.run(RunMode::Default);
    assert_eq!(getaddrinfo_cbs.get(), 1);
    make_valgrind_happy(&lp);
}

// test-getaddrinfo.c: the same, synchronously; with hints, only what they ask for.
#[test]
fn getaddrinfo_basic_sync() {
    let answers = dns::getaddrinfo_sync(Some(NAME), None, None).unwrap();
    assert!(answers.iter().any(|a| a.addr.ip().is_loopback()));

    let hints = AddrInfoHints { family: libc::AF_INET, socktype: libc::SOCK_STREAM, ..Default::default() };
    let answers = dns::getaddrinfo_sync(Some(NAME), Some("80"), Some(hints)).unwrap();
    assert!(!answers.is_empty());
    for a in &answers {
        assert_eq!((a.family, a.socktype), (libc::AF_INET, libc::SOCK_STREAM));
        assert_eq!(a.addr, "127.0.0.1:80".parse::<SocketAddr>().unwrap());
    }
}

// test-getaddrinfo.c: ten lookups at once, each calling back once with its own data.
#[test]
fn getaddrinfo_concurrent() {
    const CONCURRENT_COUNT: usize = 10;
    let lp = Loop::new().unwrap();
    let callback_counts = Rc::new(RefCell::new([0usize; CONCURRENT_COUNT]));
    let getaddrinfo_cbs = Counter::new();
    for i in 0..CONCURRENT_COUNT {
        let (counts, cbs) = (callback_counts.clone(), getaddrinfo_cbs.clone());
        dns::getaddrinfo(&lp, Some(NAME), None, None, move |r| {
            assert!(r.is_ok());
            counts.borrow_mut()[i] += 1;
            cbs.inc();
        })
        .unwrap();
    }
    lp.run(RunMode::Default);
    assert_eq!(*callback_counts.borrow(), [1; CONCURRENT_COUNT]);
    assert_eq!(getaddrinfo_cbs.get(), CONCURRENT_COUNT);
    make_valgrind_happy(&lp);
}

fn getnameinfo_req(lp: &Loop, addr: &str) -> Counter {
    let called = Counter::new();
    let c = called.clone();
    dns::getnameinfo(lp, addr.parse().unwrap(), 0, move |r| {
        let (host, service) = r.unwrap();
        assert!(!host.is_empty());
        assert!(!service.is_empty());
        c.inc();
    });
    called
}

// test-getnameinfo.c: 127.0.0.1:80 has a host name and a service name.
#[test]
fn getnameinfo_basic_ip4() {
    let lp = Loop::new().unwrap();
    let called = getnameinfo_req(&lp, "127.0.0.1:80");
    lp.run(RunMode::Default);
    assert_eq!(called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-getnameinfo.c: the same, synchronously; NI_NUMERICHOST | NI_NUMERICSERV gives
// the numbers back.
#[test]
fn getnameinfo_basic_ip4_sync() {
    let (host, service) = dns::getnameinfo_sync("127.0.0.1:80".parse().unwrap(), 0).unwrap();
    assert!(!host.is_empty() && !service.is_empty());
    let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
    let (host, service) = dns::getnameinfo_sync("127.0.0.1:80".parse().unwrap(), numeric).unwrap();
    assert_eq!((host.as_str(), service.as_str()), ("127.0.0.1", "80"));
}

// test-getnameinfo.c: [::1]:80, on the pool.
#[test]
fn getnameinfo_basic_ip6() {
    let lp = Loop::new().unwrap();
    let called = getnameinfo_req(&lp, "[::1]:80");
    lp.run(RunMode::Default);
    assert_eq!(called.get(), 1);
    make_valgrind_happy(&lp);
}

// test-threadpool-cancel.c: lookups queued behind a saturated pool and cancelled report
// UV_EAI_CANCELED (not ECANCELED) and no answers.
#[test]
fn threadpool_cancel_getaddrinfo() {
    let lp = Loop::new().unwrap();
    let gate = saturate_threadpool(&lp);
    let cbs = Counter::new();
    let cb = |c: &Counter| {
        let c = c.clone();
        move |r: Result<Vec<dns::AddrInfo>, Error>| {
            assert_eq!(r, Err(Error::EAI_CANCELED));
            c.inc();
        }
    };
    let hints = AddrInfoHints::default();
    let reqs = vec![
        dns::getaddrinfo(&lp, Some("fail"), None, None, cb(&cbs)).unwrap(),
        dns::getaddrinfo(&lp, None, Some("fail"), None, cb(&cbs)).unwrap(),
        dns::getaddrinfo(&lp, Some("fail"), Some("fail"), None, cb(&cbs)).unwrap(),
        dns::getaddrinfo(&lp, Some("fail"), None, Some(hints), cb(&cbs)).unwrap(),
    ];
    let timer_cb_called = cancel_from_timer(&lp, reqs, gate);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_cb_called.get(), 1);
    assert_eq!(cbs.get(), 4);
    make_valgrind_happy(&lp);
}

// test-threadpool-cancel.c: the same for getnameinfo.
#[test]
fn threadpool_cancel_getnameinfo() {
    let lp = Loop::new().unwrap();
    let gate = saturate_threadpool(&lp);
    let cbs = Counter::new();
    let addr4: SocketAddr = "127.0.0.1:80".parse().unwrap();
    let reqs = (0..4)
        .map(|_| {
            let c = cbs.clone();
            dns::getnameinfo(&lp, addr4, 0, move |r| {
                assert_eq!(r, Err(Error::EAI_CANCELED));
                c.inc();
            })
        })
        .collect();
    let timer_cb_called = cancel_from_timer(&lp, reqs, gate);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(timer_cb_called.get(), 1);
    assert_eq!(cbs.get(), 4);
    make_valgrind_happy(&lp);
}
