//! Host and service names (libuv's `uv_getaddrinfo` and `uv_getnameinfo`,
//! `src/unix/getaddrinfo.c` and `getnameinfo.c`): the C library's resolver, which may
//! block for as long as a DNS server takes, run on the thread pool.
//!
//! As with the file system requests, the form with a callback queues the call and
//! calls back in the poll phase, and the `_sync` form runs it on the caller's thread.
//! Failures are libuv's: the resolver's `EAI_*` codes become [`Error::EAI_NONAME`],
//! [`Error::EAI_AGAIN`], … (`EAI_SYSTEM` becomes the `errno` behind it), and a request
//! cancelled before it started reports [`Error::EAI_CANCELED`], not `ECANCELED`.
//! `hints.flags` and `getnameinfo`'s flags are the C library's `AI_*` and `NI_*` bits
//! (`libc::AI_ADDRCONFIG`, `libc::NI_NUMERICHOST`, …).
//!
//! Unlike libuv, a host name is handed to the resolver as it is: libuv first converts
//! non-ASCII names to punycode (`uv__idna_toascii`), which is not done here.
//!
//! ```
//! use millrace_reactor::dns;
//!
//! let answers = dns::getaddrinfo_sync(Some("localhost"), None, None).unwrap();
//! assert!(answers.iter().any(|a| a.addr.ip().is_loopback()));
//! let (host, _service) = dns::getnameinfo_sync("127.0.0.1:80".parse().unwrap(), 0).unwrap();
//! assert!(!host.is_empty());
//! ```

use std::ffi::CString;
use std::net::SocketAddr;

use crate::error::{Error, Result};
use crate::loop_::Loop;
use crate::sys;
use crate::threadpool::{queue_work, WorkReq};

/// What a lookup asks for (`struct addrinfo` as `getaddrinfo`'s hints); zero means
/// "any" for the numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrInfoHints {
    /// `AI_*` bits.
    pub flags: i32,
    /// `AF_INET`, `AF_INET6`, or `AF_UNSPEC` (0) for both.
    pub family: i32,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, … or 0 for all.
    pub socktype: i32,
    /// `IPPROTO_TCP`, … or 0 for all.
    pub protocol: i32,
}

/// One answer (`struct addrinfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    /// `AI_*` bits.
    pub flags: i32,
    /// `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_RAW`.
    pub socktype: i32,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, …
    pub protocol: i32,
    /// The address, with the service's port.
    pub addr: SocketAddr,
    /// The canonical name, on the first answer when `AI_CANONNAME` was asked for.
    pub canonname: Option<String>,
}

/// `uv__getaddrinfo_translate_error`: the resolver's code as libuv's.
fn translate(e: sys::GaiError) -> Error {
    match e.code {
        libc::EAI_AGAIN => Error::EAI_AGAIN,
        libc::EAI_BADFLAGS => Error::EAI_BADFLAGS,
        libc::EAI_FAIL => Error::EAI_FAIL,
        libc::EAI_FAMILY => Error::EAI_FAMILY,
        libc::EAI_MEMORY => Error::EAI_MEMORY,
        libc::EAI_NODATA => Error::EAI_NODATA,
        libc::EAI_NONAME => Error::EAI_NONAME,
        libc::EAI_OVERFLOW => Error::EAI_OVERFLOW,
        libc::EAI_SERVICE => Error::EAI_SERVICE,
        libc::EAI_SOCKTYPE => Error::EAI_SOCKTYPE,
        EAI_ADDRFAMILY => Error::EAI_ADDRFAMILY,
        EAI_CANCELED => Error::EAI_CANCELED,
        libc::EAI_SYSTEM => Error::from_errno(e.errno),
        // libuv aborts on a code it does not know; a resolver bug is not worth that.
        _ => Error::EAI_FAIL,
    }
}

/// glibc's GNU extensions, which the libc crate leaves out.
const EAI_ADDRFAMILY: i32 = -9;
const EAI_CANCELED: i32 = -101;

fn c_string(s: Option<&str>) -> Result<Option<CString>> {
    s.map(|s| CString::new(s).map_err(|_| Error::EINVAL)).transpose()
}

/// `uv_getaddrinfo` without a callback: the answers for `node` and/or `service`
/// (`EINVAL` when both are `None`, or for a NUL byte inside either).
pub fn getaddrinfo_sync(
    node: Option<&str>,
    service: Option<&str>,
    hints: Option<AddrInfoHints>,
) -> Result<Vec<AddrInfo>> {
    if node.is_none() && service.is_none() {
        return Err(Error::EINVAL);
    }
    let (node, service) = (c_string(node)?, c_string(service)?);
    let raw = sys::getaddrinfo(
        node.as_deref(),
        service.as_deref(),
        hints.map(|h| (h.flags, h.family, h.socktype, h.protocol)),
    )
    .map_err(translate)?;
    Ok(raw
        .into_iter()
        .filter_map(|a| {
            Some(AddrInfo {
                flags: a.flags,
                family: a.family,
                socktype: a.socktype,
                protocol: a.protocol,
                addr: a.addr?,
                canonname: a.canonname,
            })
        })
        .collect())
}

/// `uv_getaddrinfo` on the thread pool. `EINVAL` at once (and no callback) when `node`
/// and `service` are both `None`, as libuv returns it from the call.
pub fn getaddrinfo(
    lp: &Loop,
    node: Option<&str>,
    service: Option<&str>,
    hints: Option<AddrInfoHints>,
    cb: impl FnOnce(Result<Vec<AddrInfo>>) + 'static,
) -> Result<WorkReq> {
    if node.is_none() && service.is_none() {
        return Err(Error::EINVAL);
    }
    let (node, service) = (node.map(str::to_owned), service.map(str::to_owned));
    Ok(queue_work(
        lp,
        move || getaddrinfo_sync(node.as_deref(), service.as_deref(), hints),
        move |r| cb(cancelled_as_eai(r)),
    ))
}

/// `uv_getnameinfo` without a callback: the host and service names of `addr`.
pub fn getnameinfo_sync(addr: SocketAddr, flags: i32) -> Result<(String, String)> {
    sys::getnameinfo(addr, flags).map_err(translate)
}

/// `uv_getnameinfo` on the thread pool: `(host, service)`.
pub fn getnameinfo(
    lp: &Loop,
    addr: SocketAddr,
    flags: i32,
    cb: impl FnOnce(Result<(String, String)>) + 'static,
) -> WorkReq {
    queue_work(lp, move || getnameinfo_sync(addr, flags), move |r| cb(cancelled_as_eai(r)))
}

/// A cancelled request reports `UV_EAI_CANCELED` (`uv__getaddrinfo_done`).
fn cancelled_as_eai<T>(r: Result<Result<T>>) -> Result<T> {
    match r {
        Err(Error::ECANCELED) => Err(Error::EAI_CANCELED),
        Err(e) => Err(e),
        Ok(inner) => inner,
    }
}
