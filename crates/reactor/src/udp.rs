//! UDP handles (libuv's `uv_udp_t`, `src/unix/udp.c`).
//!
//! - **Sending.** [`Udp::send`] queues a datagram; when the queue was empty it is sent at
//!   once, and a datagram the kernel does not take (`EAGAIN`) waits for the socket to be
//!   writable. Every send's callback comes later, in the pending phase or the poll phase,
//!   never on the caller's stack, in order, with the send's result (`EMSGSIZE` for a
//!   datagram over 65,507 bytes, …). Closing the handle fails what is still queued
//!   with `ECANCELED`. [`Udp::try_send`] sends now or fails (`EAGAIN` while sends are
//!   queued).
//! - **Receiving.** [`Udp::recv_start`] calls back once per datagram, with its bytes and
//!   sender. After the last datagram of a wake-up, libuv calls back once more with
//!   `nread == 0` and no address ("nothing more for now"); so does this handle (an
//!   empty [`UdpRecv`] whose `addr` is `None`). An empty datagram has an address. At
//!   most 32 datagrams are read per wake-up; the rest are read in the next iteration.
//!   Each is read into a 64 KiB buffer, which holds any UDP datagram, so none is cut
//!   (libuv's `UV_UDP_PARTIAL` cannot happen; libuv lets `alloc_cb` give less).
//! - **Implicit bind.** A handle that sends or receives before [`Udp::bind`] is bound to
//!   the wildcard address of the family (`0.0.0.0:0` to receive), as libuv does.
//! - **Connected.** After [`Udp::connect`], sends go to that peer only: a send with an
//!   address is `EISCONN`; without a connection, a send without one is `EDESTADDRREQ`.
//! - **Multicast.** Groups are joined and left per socket, IPv4 ([`Udp::set_membership`],
//!   [`Udp::set_source_membership`]) and IPv6 ([`Udp::set_membership6`],
//!   [`Udp::set_source_membership6`]); a handle with no socket yet is first bound to the
//!   family's wildcard address with `reuse_addr`, as libuv does. Where libuv takes an
//!   IPv6 interface as an address whose scope it uses (`"::1%lo0"`), these take the
//!   interface's index (`None` for libuv's `NULL`: the kernel chooses).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io::IoSlice;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use mio::unix::SourceFd;
use mio::Interest;
use socket2::{Domain, SockAddr, SockRef, Socket, Type};

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, HandleCore};
use crate::loop_::{IoEntry, Loop, Pending, Ready};

/// Datagrams read per wake-up before the handle yields (libuv's `count = 32`).
const READS_PER_EVENT: usize = 32;
/// The buffer each datagram is read into (libuv's `alloc_cb` is asked for 64 KiB).
const RECV_BUFFER: usize = 64 * 1024;
/// `uv_udp_init_ex`'s extra flag `UV_UDP_RECVMMSG`.
const UV_UDP_RECVMMSG: u32 = 0x100;

/// One received datagram (`uv_udp_recv_cb`'s `nread`, `buf` and `addr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpRecv {
    /// The datagram (empty for an empty datagram, and for "nothing more for now").
    pub data: Bytes,
    /// The sender; `None` only for libuv's `nread == 0, addr == NULL`: the socket has
    /// nothing more to read for now.
    pub addr: Option<SocketAddr>,
}

/// `uv_udp_bind`'s flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpBindFlags {
    /// `UV_UDP_IPV6ONLY`: an IPv6 socket that takes no IPv4 (`EINVAL` on an IPv4 address).
    pub ipv6_only: bool,
    /// `UV_UDP_REUSEADDR`: other sockets may bind the same address and port
    /// (`SO_REUSEADDR`, which on Linux shares a UDP port).
    pub reuse_addr: bool,
}

/// `uv_membership`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// `UV_JOIN_GROUP`.
    Join,
    /// `UV_LEAVE_GROUP`.
    Leave,
}

type SendCb = Box<dyn FnOnce(&Udp, Result<()>)>;
type RecvCb = dyn FnMut(&Udp, Result<UdpRecv>);

struct SendReq {
    bufs: Vec<Bytes>,
    /// An IP address, or a path (`send_unix`); `None` on a connected handle.
    addr: Option<SockAddr>,
    cb: SendCb,
}

pub(crate) struct UdpInner {
    core: HandleCore,
    sock: RefCell<Option<UdpSocket>>,
    /// The epoll registration's slab key.
    key: Cell<Option<usize>>,
    connected: Cell<bool>,
    /// libuv's `write_queue`: not yet taken by the kernel.
    queue: RefCell<VecDeque<SendReq>>,
    /// libuv's `write_completed_queue`: done, the callback not yet called.
    completed: RefCell<VecDeque<(SendCb, usize, Result<()>)>>,
    queue_size: Cell<usize>,
    queue_count: Cell<usize>,
    /// Edge cache: the last event said writable and no send has hit `EAGAIN` since.
    writable: Cell<bool>,
    reading: Cell<bool>,
    in_pending: Cell<bool>,
    /// Queued to read again in the next poll phase (the 32-datagram cap was hit).
    queued: Cell<bool>,
    recv_cb: CallbackSlot<RecvCb>,
    /// What each datagram is read into (made on the first read).
    buf: RefCell<Vec<u8>>,
}

/// A UDP socket (`uv_udp_t`).
///
/// ```
/// use bytes::Bytes;
/// use millrace_reactor::{Handle, Loop, RunMode, Udp};
///
/// let lp = Loop::new()?;
/// let server = Udp::new(&lp);
/// server.bind("127.0.0.1:0".parse()?, Default::default())?;
/// let addr = server.getsockname()?;
/// server.recv_start(|s, r| {
///     let r = r.unwrap();
///     if r.addr.is_some() {
///         assert_eq!(&r.data[..], b"PING");
///         s.close(|_| {});
///     }
/// })?;
/// let client = Udp::new(&lp);
/// client.send(vec![Bytes::from_static(b"PING")], Some(addr), |c, r| {
///     r.unwrap();
///     c.close(|_| {});
/// })?;
/// lp.run(RunMode::Default);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Udp(pub(crate) Rc<UdpInner>);

impl Udp {
    /// `uv_udp_init`: no socket until it is bound, connected, or used.
    pub fn new(lp: &Loop) -> Udp {
        Udp(Rc::new(UdpInner {
            core: HandleCore::new(lp),
            sock: RefCell::new(None),
            key: Cell::new(None),
            connected: Cell::new(false),
            queue: RefCell::new(VecDeque::new()),
            completed: RefCell::new(VecDeque::new()),
            queue_size: Cell::new(0),
            queue_count: Cell::new(0),
            writable: Cell::new(false),
            reading: Cell::new(false),
            in_pending: Cell::new(false),
            queued: Cell::new(false),
            recv_cb: CallbackSlot::empty(),
            buf: RefCell::new(Vec::new()),
        }))
    }

    /// `uv_udp_init_ex` with `AF_INET` (`ipv6: false`) or `AF_INET6`: the socket is made
    /// now.
    pub fn new_with_family(lp: &Loop, ipv6: bool) -> Result<Udp> {
        let domain = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
        Udp::new_ex(lp, domain as u32)
    }

    /// `uv_udp_init_ex(loop, handle, flags)`, flags as libuv's: the low 8 bits are the
    /// domain, `AF_UNSPEC` (no socket until one is needed, as [`Udp::new`]), `AF_INET`
    /// or `AF_INET6` (the socket is made now); the higher bits may hold
    /// `UV_UDP_RECVMMSG` (`0x100`), which is accepted and has no effect here (each
    /// datagram is read by its own `recvfrom`). `EINVAL` for another domain or another
    /// flag; the error of `socket(2)`.
    pub fn new_ex(lp: &Loop, flags: u32) -> Result<Udp> {
        let domain = (flags & 0xFF) as libc::c_int;
        if domain != libc::AF_INET && domain != libc::AF_INET6 && domain != libc::AF_UNSPEC {
            return Err(Error::EINVAL);
        }
        if flags & !0xFF & !UV_UDP_RECVMMSG != 0 {
            return Err(Error::EINVAL);
        }
        let sock = match domain {
            libc::AF_UNSPEC => None,
            libc::AF_INET => Some(Socket::new(Domain::IPV4, Type::DGRAM, None)?),
            _ => Some(Socket::new(Domain::IPV6, Type::DGRAM, None)?),
        };
        let u = Udp::new(lp);
        if let Some(sock) = sock {
            sock.set_nonblocking(true)?;
            u.adopt(sock.into())?;
        }
        Ok(u)
    }

    /// `uv_udp_open`: a UDP socket this process already has, made non-blocking, with
    /// `SO_REUSEADDR` set (libuv's `uv__set_reuse`); a socket already bound or connected
    /// is taken as such. `EBUSY` if the handle has a socket. (libuv's `EEXIST`, for a
    /// descriptor another handle of the loop watches, cannot happen: the handle owns
    /// `fd`.)
    pub fn open_fd(&self, fd: OwnedFd) -> Result<()> {
        if self.0.sock.borrow().is_some() {
            return Err(Error::EBUSY);
        }
        let sock = UdpSocket::from(fd);
        sock.set_nonblocking(true)?;
        let sref = SockRef::from(&sock);
        sref.set_reuse_address(true)?;
        // libuv's `uv__udp_is_connected`: `getpeername` succeeds, whatever the family.
        self.0.connected.set(sref.peer_addr().is_ok());
        self.adopt(sock)
    }

    fn adopt(&self, sock: UdpSocket) -> Result<()> {
        let _ = SockRef::from(&sock).set_cloexec(true);
        let fd = sock.as_raw_fd();
        let lp = self.0.core.lp.clone();
        let (key, _) =
            lp.io_register(&mut SourceFd(&fd), IoEntry::Udp(self.0.clone()), Interest::READABLE | Interest::WRITABLE)?;
        self.0.key.set(Some(key));
        *self.0.sock.borrow_mut() = Some(sock);
        Ok(())
    }

    /// The socket, made and bound to the wildcard address of `v6`'s family if there is
    /// none (`uv__udp_maybe_deferred_bind`).
    fn ensure_bound(&self, v6: bool) -> Result<()> {
        self.ensure_bound_with(v6, UdpBindFlags::default())
    }

    fn ensure_bound_with(&self, v6: bool, flags: UdpBindFlags) -> Result<()> {
        if self.0.sock.borrow().is_some() {
            return Ok(());
        }
        let addr: SocketAddr = if v6 { (Ipv6Addr::UNSPECIFIED, 0).into() } else { (Ipv4Addr::UNSPECIFIED, 0).into() };
        self.bind(addr, flags)
    }

    /// `uv_udp_bind`. `EADDRINUSE` for a port taken without `reuse_addr` on both sides;
    /// `EINVAL` if already bound, for `ipv6_only` on an IPv4 address, or for an address
    /// of the other family than a socket made early ([`Udp::new_ex`]).
    pub fn bind(&self, addr: SocketAddr, flags: UdpBindFlags) -> Result<()> {
        self.bind_impl(addr, flags, false)
    }

    /// `uv_udp_bind` with `UV_UDP_LINUX_RECVERR` among the flags: sets `IP_RECVERR` (or
    /// `IPV6_RECVERR`) first, so that ICMP errors reach an unconnected socket too (a send
    /// or a read after a datagram to a closed port fails with `ECONNREFUSED`). Errors as
    /// [`bind`](Udp::bind)'s.
    pub fn bind_recverr(&self, addr: SocketAddr, flags: UdpBindFlags) -> Result<()> {
        self.bind_impl(addr, flags, true)
    }

    fn bind_impl(&self, addr: SocketAddr, flags: UdpBindFlags, recverr: bool) -> Result<()> {
        if self.0.core.is_closing() {
            return Err(Error::EINVAL);
        }
        if flags.ipv6_only && addr.is_ipv4() {
            return Err(Error::EINVAL);
        }
        let fresh = self.0.sock.borrow().is_none();
        if fresh {
            let domain = if addr.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
            let sock = Socket::new(domain, Type::DGRAM, None)?;
            sock.set_nonblocking(true)?;
            self.adopt(sock.into())?;
        }
        let guard = self.0.sock.borrow();
        let std = guard.as_ref().ok_or(Error::EBADF)?;
        let sock = SockRef::from(std);
        if recverr {
            // libuv's `uv__set_recverr`, by the address's family.
            let (level, name) = if addr.is_ipv6() {
                (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
            } else {
                (libc::IPPROTO_IP, libc::IP_RECVERR)
            };
            crate::sys::setsockopt_int(std.as_fd(), level, name, 1)?;
        }
        if flags.reuse_addr {
            sock.set_reuse_address(true)?;
        }
        if addr.is_ipv6() {
            sock.set_only_v6(flags.ipv6_only)?;
        }
        match sock.bind(&addr.into()) {
            // The BSDs' answer for an address of the other family, as libuv maps it.
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => Err(Error::EINVAL),
            r => Ok(r?),
        }
    }

    /// `uv_udp_connect`: `Some(addr)` connects (`EISCONN` if connected); `None`
    /// disconnects (`ENOTCONN` if not connected).
    pub fn connect(&self, addr: Option<SocketAddr>) -> Result<()> {
        match addr {
            None => {
                if !self.0.connected.get() {
                    return Err(Error::ENOTCONN);
                }
                let fd = self.fileno()?;
                crate::sys::dissolve_association(fd)?;
                self.0.connected.set(false);
                Ok(())
            }
            Some(addr) => {
                if self.0.connected.get() {
                    return Err(Error::EISCONN);
                }
                self.ensure_bound(addr.is_ipv6())?;
                let guard = self.0.sock.borrow();
                guard.as_ref().ok_or(Error::EBADF)?.connect(addr)?;
                self.0.connected.set(true);
                Ok(())
            }
        }
    }

    /// `uv_udp_getsockname`. `EBADF` before the handle has a socket.
    pub fn getsockname(&self) -> Result<SocketAddr> {
        let guard = self.0.sock.borrow();
        Ok(guard.as_ref().ok_or(Error::EBADF)?.local_addr()?)
    }

    /// `uv_udp_getpeername`. `ENOTCONN` if not connected.
    pub fn getpeername(&self) -> Result<SocketAddr> {
        let guard = self.0.sock.borrow();
        Ok(guard.as_ref().ok_or(Error::ENOTCONN)?.peer_addr()?)
    }

    /// `uv_fileno`: `EBADF` before the handle has a socket.
    pub fn fileno(&self) -> Result<RawFd> {
        self.0.sock.borrow().as_ref().map(|s| s.as_raw_fd()).ok_or(Error::EBADF)
    }

    fn check_dest(&self, addr: Option<SocketAddr>) -> Result<()> {
        match (addr, self.0.connected.get()) {
            (Some(_), true) => Err(Error::EISCONN),
            (None, false) => Err(Error::EDESTADDRREQ),
            _ => Ok(()),
        }
    }

    /// `uv_udp_send`: queues `bufs` as one datagram to `addr` (`None` on a connected
    /// handle); `cb` gets its result later (see the module docs).
    pub fn send(
        &self,
        bufs: Vec<Bytes>,
        addr: Option<SocketAddr>,
        cb: impl FnOnce(&Udp, Result<()>) + 'static,
    ) -> Result<()> {
        if self.0.core.is_closing() {
            return Err(Error::EINVAL);
        }
        self.check_dest(addr)?;
        self.ensure_bound(addr.is_some_and(|a| a.is_ipv6()))?;
        self.queue_send(bufs, addr.map(SockAddr::from), Box::new(cb));
        Ok(())
    }

    /// `uv_udp_send` to a `sockaddr_un`: queues `bufs` as one datagram to the socket at
    /// `path`, as [`send`](Udp::send) does (its result in `cb`, later). The handle must
    /// have a socket of its own (`EINVAL` otherwise: libuv has no deferred bind for
    /// `AF_UNIX`, and aborts); `EISCONN` if connected; `EINVAL` for a path too long for
    /// `sun_path`.
    pub fn send_unix(
        &self,
        bufs: Vec<Bytes>,
        path: impl AsRef<Path>,
        cb: impl FnOnce(&Udp, Result<()>) + 'static,
    ) -> Result<()> {
        if self.0.core.is_closing() {
            return Err(Error::EINVAL);
        }
        if self.0.connected.get() {
            return Err(Error::EISCONN);
        }
        if self.0.sock.borrow().is_none() {
            return Err(Error::EINVAL);
        }
        let to = SockAddr::unix(path).map_err(|_| Error::EINVAL)?;
        self.queue_send(bufs, Some(to), Box::new(cb));
        Ok(())
    }

    /// `uv__udp_send` once the destination is checked and the socket exists.
    fn queue_send(&self, bufs: Vec<Bytes>, addr: Option<SockAddr>, cb: SendCb) {
        let p = &self.0;
        let was_empty = p.queue_count.get() == 0;
        let size: usize = bufs.iter().map(Bytes::len).sum();
        p.queue_size.set(p.queue_size.get() + size);
        p.queue_count.set(p.queue_count.get() + 1);
        p.queue.borrow_mut().push_back(SendReq { bufs, addr, cb });
        p.core.lp.req_register(); // a send keeps the loop alive until its callback
        p.core.start();
        if was_empty {
            // Sent now if the kernel takes it; the callback waits for the pending phase.
            send_queued(self);
            if !p.completed.borrow().is_empty() && !p.in_pending.replace(true) {
                p.core.lp.push_pending(Pending::Udp(p.clone()));
            }
        }
    }

    /// `uv_udp_try_send`: sends now and returns the bytes sent; `EAGAIN` while sends are
    /// queued or the kernel has no room.
    pub fn try_send(&self, bufs: &[Bytes], addr: Option<SocketAddr>) -> Result<usize> {
        if self.0.queue_count.get() != 0 {
            return Err(Error::EAGAIN);
        }
        self.check_dest(addr)?;
        self.ensure_bound(addr.is_some_and(|a| a.is_ipv6()))?;
        send_now(self, bufs, addr.map(SockAddr::from).as_ref())
    }

    /// `uv_udp_recv_start`: `cb` for every datagram (and "nothing more for now", see the
    /// module docs), or an error. Binds to `0.0.0.0:0` if unbound. `EALREADY` if
    /// receiving.
    pub fn recv_start(&self, cb: impl FnMut(&Udp, Result<UdpRecv>) + 'static) -> Result<()> {
        let p = &self.0;
        if p.core.is_closing() {
            return Err(Error::EINVAL);
        }
        if p.reading.get() {
            return Err(Error::EALREADY);
        }
        self.ensure_bound(false)?;
        p.recv_cb.set(Box::new(cb));
        p.reading.set(true);
        p.core.start();
        // What arrived before recv_start was announced by an edge nobody took: if the
        // socket has something now, read it in the next poll phase.
        let fd = self.fileno()?;
        if crate::sys::readable_now(fd) {
            queue_read(&p.core.lp, p.clone());
        }
        Ok(())
    }

    /// `uv_udp_recv_stop`.
    pub fn recv_stop(&self) {
        let p = &self.0;
        p.reading.set(false);
        p.recv_cb.clear();
        if p.queue_count.get() == 0 {
            p.core.stop();
        }
    }

    /// `uv_udp_is_reading` (not in libuv 1.46's API, but in its state).
    pub fn is_reading(&self) -> bool {
        self.0.reading.get()
    }

    /// `uv_udp_get_send_queue_size`: bytes queued, not yet taken by the kernel.
    pub fn send_queue_size(&self) -> usize {
        self.0.queue_size.get()
    }

    /// `uv_udp_get_send_queue_count`: sends whose callback has not run.
    pub fn send_queue_count(&self) -> usize {
        self.0.queue_count.get()
    }

    fn with_sock<T>(&self, f: impl FnOnce(&SockRef<'_>) -> std::io::Result<T>) -> Result<T> {
        let guard = self.0.sock.borrow();
        let sock = SockRef::from(guard.as_ref().ok_or(Error::EBADF)?);
        Ok(f(&sock)?)
    }

    fn is_v6(&self) -> Result<bool> {
        self.getsockname().map(|a| a.is_ipv6())
    }

    /// `uv_udp_set_broadcast`.
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        self.with_sock(|s| s.set_broadcast(on))
    }

    /// `uv_udp_set_ttl`: 1 to 255, else `EINVAL`.
    pub fn set_ttl(&self, ttl: i32) -> Result<()> {
        if !(1..=255).contains(&ttl) {
            return Err(Error::EINVAL);
        }
        if self.is_v6()? {
            self.with_sock(|s| s.set_unicast_hops_v6(ttl as u32))
        } else {
            self.with_sock(|s| s.set_ttl_v4(ttl as u32))
        }
    }

    /// `uv_udp_set_multicast_ttl`: 0 to 255, else `EINVAL`.
    pub fn set_multicast_ttl(&self, ttl: i32) -> Result<()> {
        if !(0..=255).contains(&ttl) {
            return Err(Error::EINVAL);
        }
        if self.is_v6()? {
            self.with_sock(|s| s.set_multicast_hops_v6(ttl as u32))
        } else {
            self.with_sock(|s| s.set_multicast_ttl_v4(ttl as u32))
        }
    }

    /// `uv_udp_set_multicast_loop`.
    pub fn set_multicast_loop(&self, on: bool) -> Result<()> {
        if self.is_v6()? {
            self.with_sock(|s| s.set_multicast_loop_v6(on))
        } else {
            self.with_sock(|s| s.set_multicast_loop_v4(on))
        }
    }

    /// `uv_udp_set_membership` for an IPv4 group: joins or leaves `group` on the
    /// interface that has address `interface` (`None`, libuv's `NULL`: `INADDR_ANY`, the
    /// kernel chooses by route). Binds to `0.0.0.0:0` with `reuse_addr` first if the
    /// handle has no socket. `EINVAL` for an address that is not multicast; `ENODEV` if
    /// no interface can be chosen (no route to the group); `EADDRNOTAVAIL` for leaving a
    /// group not joined.
    pub fn set_membership(&self, group: Ipv4Addr, interface: Option<Ipv4Addr>, m: Membership) -> Result<()> {
        self.ensure_bound_with(false, UdpBindFlags { reuse_addr: true, ..Default::default() })?;
        if !group.is_multicast() {
            return Err(Error::EINVAL);
        }
        let iface = interface.unwrap_or(Ipv4Addr::UNSPECIFIED);
        match m {
            Membership::Join => self.with_sock(|s| s.join_multicast_v4(&group, &iface)),
            Membership::Leave => self.with_sock(|s| s.leave_multicast_v4(&group, &iface)),
        }
    }

    /// `uv_udp_set_membership` for an IPv6 group (`IPV6_ADD_MEMBERSHIP`,
    /// `IPV6_DROP_MEMBERSHIP`): joins or leaves `group` on the interface of index
    /// `interface` (libuv takes an address and uses its scope, `"::1%lo0"`; `None`, its
    /// `NULL`, is index 0: the kernel chooses by route). Binds to `[::]:0` with
    /// `reuse_addr` first if the handle has no socket. `EINVAL` for an address that is
    /// not multicast; `ENODEV` if no interface can be chosen; `EADDRNOTAVAIL` for
    /// leaving a group not joined.
    pub fn set_membership6(&self, group: Ipv6Addr, interface: Option<u32>, m: Membership) -> Result<()> {
        self.ensure_bound_with(true, UdpBindFlags { reuse_addr: true, ..Default::default() })?;
        let index = interface.unwrap_or(0);
        match m {
            Membership::Join => self.with_sock(|s| s.join_multicast_v6(&group, index)),
            Membership::Leave => self.with_sock(|s| s.leave_multicast_v6(&group, index)),
        }
    }

    /// `uv_udp_set_source_membership` for an IPv4 group (IGMPv3,
    /// `IP_ADD_SOURCE_MEMBERSHIP`, `IP_DROP_SOURCE_MEMBERSHIP`): receives what `source`
    /// sends to `group`, on the interface that has address `interface` (`None`:
    /// `INADDR_ANY`). Binds to `0.0.0.0:0` with `reuse_addr` first if the handle has no
    /// socket. `EINVAL` for a group that is not multicast, or for leaving a group not
    /// joined (Linux); `ENODEV` if no interface can be chosen.
    pub fn set_source_membership(
        &self,
        group: Ipv4Addr,
        interface: Option<Ipv4Addr>,
        source: Ipv4Addr,
        m: Membership,
    ) -> Result<()> {
        self.ensure_bound_with(false, UdpBindFlags { reuse_addr: true, ..Default::default() })?;
        let iface = interface.unwrap_or(Ipv4Addr::UNSPECIFIED);
        match m {
            Membership::Join => self.with_sock(|s| s.join_ssm_v4(&source, &group, &iface)),
            Membership::Leave => self.with_sock(|s| s.leave_ssm_v4(&source, &group, &iface)),
        }
    }

    /// `uv_udp_set_source_membership` for an IPv6 group (MLDv2,
    /// `MCAST_JOIN_SOURCE_GROUP`, `MCAST_LEAVE_SOURCE_GROUP`): receives what `source`
    /// sends to `group`, on the interface of index `interface` (`None`: 0, the kernel
    /// chooses). Binds to `[::]:0` with `reuse_addr` first if the handle has no socket.
    /// `EINVAL` for a group that is not multicast, or for leaving a group not joined
    /// (Linux); `ENODEV` if no interface can be chosen.
    pub fn set_source_membership6(
        &self,
        group: Ipv6Addr,
        interface: Option<u32>,
        source: Ipv6Addr,
        m: Membership,
    ) -> Result<()> {
        self.ensure_bound_with(true, UdpBindFlags { reuse_addr: true, ..Default::default() })?;
        let guard = self.0.sock.borrow();
        let sock = guard.as_ref().ok_or(Error::EBADF)?;
        let join = m == Membership::Join;
        Ok(crate::sys::mcast_source_group6(sock.as_fd(), join, interface.unwrap_or(0), &group, &source)?)
    }

    /// `uv_udp_set_multicast_interface` with an IPv4 address: multicast datagrams leave
    /// by the interface that has `interface` (`IP_MULTICAST_IF`). `None` is libuv's
    /// `NULL`: the kernel's choice, `INADDR_ANY` on an IPv4 handle, index 0 on an IPv6
    /// one (a handle bound to an IPv6 address). `EBADF` without a socket;
    /// `EADDRNOTAVAIL` for an address no interface has.
    pub fn set_multicast_interface(&self, interface: Option<Ipv4Addr>) -> Result<()> {
        match interface {
            None if self.is_v6()? => self.with_sock(|s| s.set_multicast_if_v6(0)),
            None => self.with_sock(|s| s.set_multicast_if_v4(&Ipv4Addr::UNSPECIFIED)),
            Some(addr) => self.with_sock(|s| s.set_multicast_if_v4(&addr)),
        }
    }

    /// `uv_udp_set_multicast_interface` with an IPv6 address, of which libuv uses only
    /// the scope (`"::1%lo0"`): multicast datagrams leave by the interface of index
    /// `interface` (`IPV6_MULTICAST_IF`; `None`: 0, the kernel's choice). `EBADF`
    /// without a socket; `ENODEV` for an index no interface has.
    pub fn set_multicast_interface6(&self, interface: Option<u32>) -> Result<()> {
        self.with_sock(|s| s.set_multicast_if_v6(interface.unwrap_or(0)))
    }

    /// `uv_recv_buffer_size`: `None` reads it; `Some(n)` sets it (Linux keeps double).
    pub fn recv_buffer_size(&self, size: Option<usize>) -> Result<usize> {
        match size {
            None => self.with_sock(|s| s.recv_buffer_size()),
            Some(n) => self.with_sock(|s| s.set_recv_buffer_size(n)).map(|()| n),
        }
    }

    /// `uv_send_buffer_size`: as [`recv_buffer_size`](Udp::recv_buffer_size).
    pub fn send_buffer_size(&self, size: Option<usize>) -> Result<usize> {
        match size {
            None => self.with_sock(|s| s.send_buffer_size()),
            Some(n) => self.with_sock(|s| s.set_send_buffer_size(n)).map(|()| n),
        }
    }
}

/// One `sendmsg` of `bufs` as one datagram (retried on `EINTR`, which sent nothing).
fn send_now(u: &Udp, bufs: &[Bytes], to: Option<&SockAddr>) -> Result<usize> {
    let guard = u.0.sock.borrow();
    let sock = SockRef::from(guard.as_ref().ok_or(Error::EBADF)?);
    let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
    loop {
        let r = match to {
            Some(a) => sock.send_to_vectored(&slices, a),
            None => sock.send_vectored(&slices),
        };
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from(e)),
            Ok(n) => {
                u.0.core.lp.inner().metrics.bump(|m| {
                    m.write += 1;
                    m.bytes_written += n as u64;
                });
                return Ok(n);
            }
        }
    }
}

/// `uv__udp_sendmsg`: sends queued datagrams until the kernel refuses; each one sent (or
/// failed) moves to the completed queue.
fn send_queued(u: &Udp) {
    let p = &u.0;
    loop {
        let next = {
            let q = p.queue.borrow();
            match q.front() {
                Some(req) => (req.bufs.clone(), req.addr.clone()),
                None => break,
            }
        };
        let result = send_now(u, &next.0, next.1.as_ref());
        if result == Err(Error::EAGAIN) {
            p.writable.set(false);
            break;
        }
        let Some(req) = p.queue.borrow_mut().pop_front() else { break };
        let size: usize = req.bufs.iter().map(Bytes::len).sum();
        p.completed.borrow_mut().push_back((req.cb, size, result.map(|_| ())));
    }
}

/// `uv__udp_run_completed`: the send callbacks, in order.
fn run_completed(u: &Udp) {
    let p = &u.0;
    loop {
        let next = p.completed.borrow_mut().pop_front();
        let Some((cb, size, result)) = next else { break };
        p.queue_size.set(p.queue_size.get() - size);
        p.queue_count.set(p.queue_count.get() - 1);
        p.core.lp.req_unregister();
        cb(u, result);
        p.core.lp.run_next_ticks();
    }
    if p.queue_count.get() == 0 && !p.reading.get() && !p.core.is_closing() {
        p.core.stop();
    }
}

/// The pending phase: callbacks of sends completed at once.
pub(crate) fn run_pending(p: Rc<UdpInner>) {
    p.in_pending.set(false);
    if p.core.is_closing() {
        return;
    }
    let u = Udp(p);
    if u.0.writable.get() {
        send_queued(&u);
    }
    run_completed(&u);
}

/// An epoll event for the socket (`uv__udp_io`).
pub(crate) fn io_event(lp: &Loop, p: Rc<UdpInner>, ev: &mio::event::Event) {
    if ev.is_writable() || ev.is_error() {
        p.writable.set(true);
        let u = Udp(p.clone());
        if !p.queue.borrow().is_empty() {
            send_queued(&u);
        }
        if !p.completed.borrow().is_empty() {
            run_completed(&u);
        }
    }
    if (ev.is_readable() || ev.is_error()) && p.reading.get() {
        queue_read(lp, p);
    }
}

fn queue_read(lp: &Loop, p: Rc<UdpInner>) {
    if !p.queued.replace(true) {
        lp.inner().ready.borrow_mut().push_back(Ready::Udp(p));
    }
}

/// A handle from the loop's ready list: woken for reading, or left with datagrams by the
/// cap.
pub(crate) fn serve_ready(lp: &Loop, p: Rc<UdpInner>) {
    p.queued.set(false);
    recv_some(lp, Udp(p));
}

/// `uv__udp_recvmsg`: up to 32 datagrams, then "nothing more" if the socket ran dry.
fn recv_some(lp: &Loop, u: Udp) {
    let p = &u.0;
    for _ in 0..READS_PER_EVENT {
        if !p.reading.get() || p.core.is_closing() {
            return;
        }
        let got = {
            let guard = p.sock.borrow();
            let Some(sock) = guard.as_ref() else { return };
            let mut buf = p.buf.borrow_mut();
            if buf.len() < RECV_BUFFER {
                buf.resize(RECV_BUFFER, 0);
            }
            loop {
                match sock.recv_from(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(Error::from(e)),
                    Ok((n, from)) => {
                        lp.inner().metrics.bump(|m| {
                            m.read += 1;
                            m.bytes_read += n as u64;
                        });
                        break Ok(UdpRecv { data: Bytes::copy_from_slice(&buf[..n]), addr: Some(from) });
                    }
                }
            }
        };
        let result = match got {
            Err(Error::EAGAIN) => Ok(UdpRecv { data: Bytes::new(), addr: None }),
            r => r,
        };
        let last = !matches!(&result, Ok(r) if r.addr.is_some());
        if let Some(mut cb) = p.recv_cb.take() {
            cb(&u, result);
            let keep = p.reading.get() && !p.core.is_closing();
            p.recv_cb.restore(cb, keep);
        }
        lp.run_next_ticks();
        if last {
            return;
        }
    }
    // The cap: more may be waiting, and no new edge will say so.
    if p.reading.get() {
        queue_read(lp, p.clone());
    }
}

impl HandleImpl for Udp {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    fn close_now(&self) {
        let p = &self.0;
        p.reading.set(false);
        if let Some(key) = p.key.take() {
            if let Some(sock) = p.sock.borrow().as_ref() {
                p.core.lp.io_deregister(key, &mut SourceFd(&sock.as_raw_fd()));
            }
        }
        drop(p.sock.borrow_mut().take());
    }

    /// `uv__udp_finish_close`: what is still queued fails with `ECANCELED`, and every
    /// send callback runs before the close callback.
    fn finish_close(&self) {
        let p = &self.0;
        loop {
            let next = p.queue.borrow_mut().pop_front();
            let Some(req) = next else { break };
            let size = req.bufs.iter().map(Bytes::len).sum();
            p.completed.borrow_mut().push_back((req.cb, size, Err(Error::ECANCELED)));
        }
        run_completed(self);
    }

    fn drop_callbacks(&self) {
        self.0.recv_cb.clear();
    }
}

/// Handles compare by identity, like JavaScript object references.
impl PartialEq for Udp {
    fn eq(&self, other: &Udp) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Udp {}

impl fmt::Debug for Udp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Udp")
            .field("local", &self.getsockname().ok())
            .field("connected", &self.0.connected.get())
            .field("reading", &self.0.reading.get())
            .field("send_queue_count", &self.0.queue_count.get())
            .finish()
    }
}
