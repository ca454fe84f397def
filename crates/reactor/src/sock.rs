//! The kinds of descriptor a stream handle holds (libuv's `uv_stream_t` is either a
//! `uv_tcp_t` or a `uv_pipe_t`): a TCP socket, a Unix domain socket, or, opened into a
//! pipe handle, any other descriptor that can be polled (an anonymous pipe, a FIFO, a
//! terminal). The same system calls run on all of them (`read`, `writev`, `shutdown`,
//! `accept4`), so the stream machinery in `stream.rs` does not care which one it has.

use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// A connected (or connecting) stream socket, or a descriptor that is not a socket.
pub(crate) enum Conn {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
    /// A pipe, FIFO or terminal (`uv_pipe_open` on a descriptor that is not a socket).
    Fd(File),
}

impl Conn {
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).read(buf),
            Conn::Unix(s) => (&*s).read(buf),
            Conn::Fd(f) => (&*f).read(buf),
        }
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write(buf),
            Conn::Unix(s) => (&*s).write(buf),
            Conn::Fd(f) => (&*f).write(buf),
        }
    }

    pub(crate) fn write_vectored(&self, iov: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write_vectored(iov),
            Conn::Unix(s) => (&*s).write_vectored(iov),
            Conn::Fd(f) => (&*f).write_vectored(iov),
        }
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Conn::Unix(s) => s.shutdown(std::net::Shutdown::Write),
            // libuv calls shutdown(2) whatever the descriptor is, and hands its error on.
            Conn::Fd(_) => Err(io::Error::from_raw_os_error(libc::ENOTSOCK)),
        }
    }

    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Conn::Tcp(s) => s.take_error(),
            Conn::Unix(s) => s.take_error(),
            Conn::Fd(_) => Ok(None),
        }
    }

    /// Connected yet? (`getpeername` succeeds; `NotConnected` while connecting.)
    pub(crate) fn check_connected(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.peer_addr().map(drop),
            Conn::Unix(s) => s.peer_addr().map(drop),
            Conn::Fd(_) => Ok(()),
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

fd_source!(Conn, Tcp, Unix, Fd);
fd_source!(Listener, Tcp, Unix);
