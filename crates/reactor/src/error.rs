//! Errors with libuv's names.
//!
//! libuv reports failures as negated `errno` values and names them (`UV_ECONNRESET`,
//! `UV_ECANCELED`, …). [`Error`] is the same thing in Rust: a small `Copy` value that
//! wraps the `errno`, whose [`code`](Error::code) is the name libuv and Node print, and
//! which converts to and from [`std::io::Error`] without losing the number.
//!
//! Resolver failures are not `errno` values: libuv gives them codes of their own
//! (`UV_EAI_NONAME` is -3008), and so do we (`Error::EAI_NONAME`, whose
//! [`errno`](Error::errno) is 3008, libuv's number without the sign).

use std::fmt;
use std::io;

/// A reactor error: one `errno` value, named as libuv names it.
///
/// ```
/// use millrace_reactor::Error;
/// let e = Error::ECONNRESET;
/// assert_eq!(e.code(), "ECONNRESET");
/// assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::ConnectionReset);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error(i32);

macro_rules! errnos {
    ($($name:ident => $text:literal,)*) => {
        #[allow(missing_docs)]
        impl Error {
            $(pub const $name: Error = Error(libc::$name);)*
        }

        fn name_of(errno: i32) -> Option<(&'static str, &'static str)> {
            match errno {
                $(libc::$name => Some((stringify!($name), $text)),)*
                _ => None,
            }
        }
    };
}

errnos! {
    E2BIG => "argument list too long",
    EACCES => "permission denied",
    EADDRINUSE => "address already in use",
    EADDRNOTAVAIL => "address not available",
    EAFNOSUPPORT => "address family not supported",
    EAGAIN => "resource temporarily unavailable",
    EALREADY => "connection already in progress",
    EBADF => "bad file descriptor",
    EBUSY => "resource busy or locked",
    ECANCELED => "operation canceled",
    ECONNABORTED => "software caused connection abort",
    ECONNREFUSED => "connection refused",
    ECONNRESET => "connection reset by peer",
    EDESTADDRREQ => "destination address required",
    EEXIST => "file already exists",
    EFAULT => "bad address in system call argument",
    EFBIG => "file too large",
    EHOSTUNREACH => "host is unreachable",
    EINTR => "interrupted system call",
    EINVAL => "invalid argument",
    EIO => "i/o error",
    EISCONN => "socket is already connected",
    EISDIR => "illegal operation on a directory",
    ELOOP => "too many symbolic links encountered",
    EMFILE => "too many open files",
    EMSGSIZE => "message too long",
    ENAMETOOLONG => "name too long",
    ENETDOWN => "network is down",
    ENETUNREACH => "network is unreachable",
    ENFILE => "file table overflow",
    ENOBUFS => "no buffer space available",
    ENODEV => "no such device",
    ENOENT => "no such file or directory",
    ENOMEM => "not enough memory",
    ENOSPC => "no space left on device",
    ENOSYS => "function not implemented",
    ENOTCONN => "socket is not connected",
    ENOTDIR => "not a directory",
    ENOTEMPTY => "directory not empty",
    ENOTSOCK => "socket operation on non-socket",
    ENOTSUP => "operation not supported on socket",
    ENOTTY => "inappropriate ioctl for device",
    EPERM => "operation not permitted",
    EPIPE => "broken pipe",
    EPROTO => "protocol error",
    ERANGE => "result too large",
    EROFS => "read-only file system",
    ESPIPE => "invalid seek",
    ESRCH => "no such process",
    ETIMEDOUT => "connection timed out",
    ETXTBSY => "text file is busy",
    EXDEV => "cross-device link not permitted",
}

/// libuv's resolver codes (`uv/errno.h`'s `UV__EAI_*`, without the sign), named and
/// described as `uv_err_name` and `uv_strerror` do.
macro_rules! eai_codes {
    ($($name:ident = $value:literal => $text:literal,)*) => {
        #[allow(missing_docs)]
        impl Error {
            $(pub const $name: Error = Error($value);)*
        }

        fn eai_name_of(code: i32) -> Option<(&'static str, &'static str)> {
            match code {
                $($value => Some((stringify!($name), $text)),)*
                _ => None,
            }
        }
    };
}

eai_codes! {
    EAI_ADDRFAMILY = 3000 => "address family not supported",
    EAI_AGAIN = 3001 => "temporary failure",
    EAI_BADFLAGS = 3002 => "bad ai_flags value",
    EAI_CANCELED = 3003 => "request canceled",
    EAI_FAIL = 3004 => "permanent failure",
    EAI_FAMILY = 3005 => "ai_family not supported",
    EAI_MEMORY = 3006 => "out of memory",
    EAI_NODATA = 3007 => "no address",
    EAI_NONAME = 3008 => "unknown node or service",
    EAI_OVERFLOW = 3009 => "argument buffer overflow",
    EAI_SERVICE = 3010 => "service not available for socket type",
    EAI_SOCKTYPE = 3011 => "socket type not supported",
    EAI_BADHINTS = 3013 => "invalid value for hints",
    EAI_PROTOCOL = 3014 => "resolved protocol is unknown",
}

fn name_and_text(code: i32) -> Option<(&'static str, &'static str)> {
    name_of(code).or_else(|| eai_name_of(code))
}

impl Error {
    /// The error for an OS `errno` value.
    pub const fn from_errno(errno: i32) -> Error {
        Error(errno)
    }

    /// The OS `errno` value (for the resolver's `EAI_*` codes, libuv's number without
    /// its sign).
    pub const fn errno(self) -> i32 {
        self.0
    }

    /// libuv's (and Node's) name for the error: `"ECONNRESET"`, `"ECANCELED"`, …;
    /// `"UNKNOWN"` for a number without a name here.
    pub fn code(self) -> &'static str {
        name_and_text(self.0).map_or("UNKNOWN", |(name, _)| name)
    }

    /// The message libuv's `uv_strerror` gives.
    pub fn message(self) -> &'static str {
        name_and_text(self.0).map_or("unknown error", |(_, text)| text)
    }

    /// The error of the calling thread's last failed system call.
    pub fn last_os_error() -> Error {
        Error::from(io::Error::last_os_error())
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        if let Some(errno) = e.raw_os_error() {
            return Error(errno);
        }
        use io::ErrorKind::*;
        Error(match e.kind() {
            NotFound => libc::ENOENT,
            PermissionDenied => libc::EACCES,
            ConnectionRefused => libc::ECONNREFUSED,
            ConnectionReset => libc::ECONNRESET,
            ConnectionAborted => libc::ECONNABORTED,
            NotConnected => libc::ENOTCONN,
            AddrInUse => libc::EADDRINUSE,
            AddrNotAvailable => libc::EADDRNOTAVAIL,
            BrokenPipe => libc::EPIPE,
            AlreadyExists => libc::EEXIST,
            WouldBlock => libc::EAGAIN,
            InvalidInput | InvalidData => libc::EINVAL,
            TimedOut => libc::ETIMEDOUT,
            Interrupted => libc::EINTR,
            Unsupported => libc::ENOTSUP,
            OutOfMemory => libc::ENOMEM,
            _ => libc::EIO,
        })
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::from_raw_os_error(e.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.0)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for Error {}

/// `Result` with the reactor's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_io_error() {
        for e in [Error::ECANCELED, Error::EPIPE, Error::ENOTCONN, Error::EBUSY] {
            let io: io::Error = e.into();
            assert_eq!(Error::from(io), e);
        }
        assert_eq!(Error::from_errno(9999).code(), "UNKNOWN");
        assert_eq!(Error::EALREADY.to_string(), "EALREADY: connection already in progress");
    }

    #[test]
    fn resolver_codes_have_libuv_names_and_numbers() {
        assert_eq!(Error::EAI_NONAME.code(), "EAI_NONAME");
        assert_eq!(Error::EAI_NONAME.errno(), 3008);
        assert_eq!(Error::EAI_CANCELED.message(), "request canceled");
        assert_eq!(Error::from_errno(3012).code(), "UNKNOWN");
    }

    #[test]
    fn io_errors_without_errno_map_to_names() {
        let e = io::Error::new(io::ErrorKind::ConnectionReset, "x");
        assert_eq!(Error::from(e).code(), "ECONNRESET");
    }
}
