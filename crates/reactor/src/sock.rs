//! The two kinds of stream socket a stream handle holds (libuv's `uv_stream_t` is either
//! a `uv_tcp_t` or a `uv_pipe_t`): TCP and Unix domain. Both are a descriptor on which
//! the same system calls run (`recv`, `writev`, `shutdown`, `accept4`), so the stream
//! machinery in `stream.rs` does not care which one it has.

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// A connected (or connecting) stream socket.
pub(crate) enum Conn {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Conn {
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).read(buf),
            Conn::Unix(s) => (&*s).read(buf),
        }
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write(buf),
            Conn::Unix(s) => (&*s).write(buf),
        }
    }

    pub(crate) fn write_vectored(&self, iov: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write_vectored(iov),
            Conn::Unix(s) => (&*s).write_vectored(iov),
        }
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Conn::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        }
    }

    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Conn::Tcp(s) => s.take_error(),
            Conn::Unix(s) => s.take_error(),
        }
    }

    /// Connected yet? (`getpeername` succeeds; `NotConnected` while connecting.)
    pub(crate) fn check_connected(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.peer_addr().map(drop),
            Conn::Unix(s) => s.peer_addr().map(drop),
        }
    }
}

/// A listening socket.
pub(crate) enum Listener {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl Listener {
    /// `accept4(2)`: a new connection, non-blocking and close-on-exec.
    pub(crate) fn accept(&self) -> io::Result<Conn> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| Conn::Tcp(s)),
            Listener::Unix(l) => l.accept().map(|(s, _)| Conn::Unix(s)),
        }
    }
}

macro_rules! fd_source {
    ($t:ty, $($v:ident),+) => {
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                match self {
                    $(Self::$v(s) => s.as_raw_fd(),)+
                }
            }
        }

        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                match self {
                    $(Self::$v(s) => s.as_fd(),)+
                }
            }
        }

        impl Source for $t {
            fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
                SourceFd(&self.as_raw_fd()).register(r, t, i)
            }

            fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
                SourceFd(&self.as_raw_fd()).reregister(r, t, i)
            }

            fn deregister(&mut self, r: &Registry) -> io::Result<()> {
                SourceFd(&self.as_raw_fd()).deregister(r)
            }
        }
    };
}

fd_source!(Conn, Tcp, Unix);
fd_source!(Listener, Tcp, Unix);
