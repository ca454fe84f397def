//! Name resolution (Node 20, `lib/dns.js` and `src/cares_wrap.cc`'s `GetAddrInfo`):
//! `dns.lookup` and `dns.lookupService`, on the reactor's `getaddrinfo` and
//! `getnameinfo` (the thread pool), as Node's are on libuv's.
//!
//! Node's rules kept here:
//! - a host that is already an IP address is answered on the next tick, without the
//!   resolver; an empty host answers no address (family 4, or 6 when asked);
//! - the resolver is asked for `SOCK_STREAM` answers of the family given (0: both), with
//!   the `hints` given (only [`ADDRCONFIG`], [`V4MAPPED`] and [`ALL`] are allowed);
//! - answers keep the resolver's order (`verbatim`, Node 20's default) or put IPv4
//!   first (`verbatim: false`);
//! - a failure is Node's `dnsException`: "getaddrinfo ENOTFOUND no.such.host", code
//!   `ENOTFOUND` for "no such name" and libuv's name otherwise, with `hostname`;
//! - the callback runs when the resolver answers (the loop's poll phase).
//!
//! ```
//! use millrace_streams::dns::{lookup_all, LookupOptions};
//!
//! let lp = millrace_reactor::Loop::current();
//! lookup_all("localhost", LookupOptions::default(), |r| {
//!     let addresses = r.unwrap();
//!     assert!(addresses.iter().any(|a| a.address.is_loopback()));
//! })
//! .unwrap();
//! lp.run(millrace_reactor::RunMode::Default);
//! ```

use std::net::{IpAddr, SocketAddr};

use millrace_reactor::dns::{self as rdns, AddrInfoHints};
use millrace_reactor::Loop;

use crate::errors::{Code, Error, Result};

/// `dns.ADDRCONFIG`: only families the machine has an address of.
pub const ADDRCONFIG: i32 = libc::AI_ADDRCONFIG;
/// `dns.V4MAPPED`: IPv4 addresses as IPv4-mapped IPv6 when IPv6 was asked for and none
/// was found.
pub const V4MAPPED: i32 = libc::AI_V4MAPPED;
/// `dns.ALL`: with `V4MAPPED`, both IPv6 and mapped IPv4 addresses.
pub const ALL: i32 = libc::AI_ALL;

/// `dns.lookup`'s options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupOptions {
    /// `family`: 4, 6, or 0 (the default) for both.
    pub family: u8,
    /// `hints`: [`ADDRCONFIG`], [`V4MAPPED`], [`ALL`] or none (0).
    pub hints: i32,
    /// `verbatim` (true, Node 20's default order): the resolver's order; false puts
    /// IPv4 addresses first.
    pub verbatim: bool,
}

impl Default for LookupOptions {
    fn default() -> LookupOptions {
        LookupOptions { family: 0, hints: 0, verbatim: true }
    }
}

/// One answer of [`lookup_all`] (Node's `{ address, family }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LookupAddress {
    /// The address.
    pub address: IpAddr,
    /// 4 or 6.
    pub family: u8,
}

/// Node's family number of an address: 4 or 6.
pub(crate) fn family_of(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        4
    } else {
        6
    }
}

/// Node's argument checks, which throw: a family other than 0, 4, 6; hints other than
/// the three flags.
fn validate(opts: &LookupOptions) -> Result<()> {
    if !matches!(opts.family, 0 | 4 | 6) {
        let m = format!("The property 'options.family' must be one of: 0, 4, 6. Received {}", opts.family);
        return Err(Error::node_message(Code::ERR_INVALID_ARG_VALUE, m));
    }
    if opts.hints & !(ADDRCONFIG | V4MAPPED | ALL) != 0 {
        let m = format!("The argument 'hints' is invalid. Received {}", opts.hints);
        return Err(Error::node_message(Code::ERR_INVALID_ARG_VALUE, m));
    }
    Ok(())
}

/// `dns.lookup(hostname, { all: true, … }, cb)`: every address, in the order the
/// options ask for. An argument error is returned at once (Node throws it); the rest
/// comes to `cb`.
pub fn lookup_all(
    hostname: &str,
    opts: LookupOptions,
    cb: impl FnOnce(Result<Vec<LookupAddress>>) + 'static,
) -> Result<()> {
    validate(&opts)?;
    let lp = Loop::current();
    if hostname.is_empty() {
        lp.next_tick(move || cb(Ok(Vec::new())));
        return Ok(());
    }
    if let Ok(ip) = hostname.parse::<IpAddr>() {
        lp.next_tick(move || cb(Ok(vec![LookupAddress { address: ip, family: family_of(ip) }])));
        return Ok(());
    }
    let hints = AddrInfoHints {
        flags: opts.hints,
        family: match opts.family {
            4 => libc::AF_INET,
            6 => libc::AF_INET6,
            _ => libc::AF_UNSPEC,
        },
        socktype: libc::SOCK_STREAM,
        protocol: 0,
    };
    let host = hostname.to_owned();
    rdns::getaddrinfo(&lp, Some(hostname), None, Some(hints), move |r| match r {
        Err(e) => cb(Err(Error::dns(e, "getaddrinfo", host))),
        Ok(answers) => {
            let mut out: Vec<LookupAddress> = answers
                .iter()
                .map(|a| LookupAddress { address: a.addr.ip(), family: family_of(a.addr.ip()) })
                .collect();
            if !opts.verbatim {
                out.sort_by_key(|a| a.family); // stable: IPv4 first, each family in order
            }
            cb(Ok(out))
        }
    })
    .map_err(|e| Error::dns(e, "getaddrinfo", hostname))?;
    Ok(())
}

/// `dns.lookup(hostname, options, cb)`: the first address and its family, as Node's
/// `(err, address, family)`; the address is `None` for an empty host name.
pub fn lookup(
    hostname: &str,
    opts: LookupOptions,
    cb: impl FnOnce(Result<(Option<IpAddr>, u8)>) + 'static,
) -> Result<()> {
    let empty_family = if opts.family == 6 { 6 } else { 4 };
    lookup_all(hostname, opts, move |r| {
        cb(r.map(|all| match all.first() {
            Some(a) => (Some(a.address), a.family),
            None => (None, empty_family),
        }))
    })
}

/// `dns.lookupService(address, port, cb)`: the host and service names of an address
/// and port (`getnameinfo` with `NI_NAMEREQD`: an address without a name is
/// `ENOTFOUND`).
pub fn lookup_service(address: IpAddr, port: u16, cb: impl FnOnce(Result<(String, String)>) + 'static) {
    let lp = Loop::current();
    rdns::getnameinfo(&lp, SocketAddr::new(address, port), libc::NI_NAMEREQD, move |r| {
        cb(r.map_err(|e| Error::dns(e, "getnameinfo", address.to_string())))
    });
}
