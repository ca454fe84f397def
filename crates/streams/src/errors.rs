//! Stream errors with Node's codes (Node's `lib/internal/errors.js`).
//!
//! [`Error`] is cheap to clone (one `Arc`): Node hands the same error object to the
//! `error` event, to write callbacks and to `finished`, and so do we. Its
//! [`code`](Error::code) is Node's string (`ERR_STREAM_WRITE_AFTER_END`, `ECONNRESET`, …),
//! and its message is Node's message, word for word.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use millrace_reactor as reactor;

/// Node's error codes for streams.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// `write()` after `end()`.
    ERR_STREAM_WRITE_AFTER_END,
    /// A call on a destroyed stream; the detail names the call (`write`, `end`, `pipe`).
    ERR_STREAM_DESTROYED,
    /// A callback called twice (`_final`, `_construct`).
    ERR_MULTIPLE_CALLBACK,
    /// The stream closed before it ended or finished.
    ERR_STREAM_PREMATURE_CLOSE,
    /// `push()` after `push(None)`.
    ERR_STREAM_PUSH_AFTER_EOF,
    /// `unshift()` after the `end` event.
    ERR_STREAM_UNSHIFT_AFTER_END_EVENT,
    /// `end()` on a stream that already finished.
    ERR_STREAM_ALREADY_FINISHED,
    /// `pipe()` from a stream that is not readable.
    ERR_STREAM_CANNOT_PIPE,
    /// A required method (`_read`, `_write`, `_transform`) was not given.
    ERR_METHOD_NOT_IMPLEMENTED,
    /// An argument out of range (`read(n)` above 1 GiB).
    ERR_OUT_OF_RANGE,
    /// An argument with an invalid value (an unknown encoding).
    ERR_INVALID_ARG_VALUE,
    /// An operation on a closed socket.
    ERR_SOCKET_CLOSED,
    /// `write()` before a socket connected, with no connection coming.
    ERR_SOCKET_CLOSED_BEFORE_CONNECTION,
    /// `listen()` on a server that is listening.
    ERR_SERVER_ALREADY_LISTEN,
    /// `close()` on a server that is not listening.
    ERR_SERVER_NOT_RUNNING,
    /// A descriptor a socket cannot be made of (a file, a terminal); the detail names
    /// its type (`FILE`, `TTY`, `UDP`, `UNKNOWN`).
    ERR_INVALID_FD_TYPE,
    /// `uv_tty_init` refused the descriptor of a terminal stream; the detail is its
    /// error ("EINVAL (invalid argument)").
    ERR_TTY_INIT_FAILED,
    /// `bind()` on a dgram socket that is bound or binding.
    ERR_SOCKET_ALREADY_BOUND,
    /// A call on a closed dgram socket.
    ERR_SOCKET_DGRAM_NOT_RUNNING,
    /// `connect()` on a connected dgram socket, or a send to an address from one.
    ERR_SOCKET_DGRAM_IS_CONNECTED,
    /// `disconnect()` or `remote_address()` on a dgram socket that is not connected.
    ERR_SOCKET_DGRAM_NOT_CONNECTED,
    /// A dgram send without a port, or to port 0; the detail is what was received
    /// (`undefined`, `type number (0)`).
    ERR_SOCKET_BAD_PORT,
    /// `kill()` with a signal number the system does not have; the detail is the number.
    ERR_UNKNOWN_SIGNAL,
    /// `exec`/`execFile`: the child wrote more than `maxBuffer` to stdout or stderr; the
    /// detail names which.
    ERR_CHILD_PROCESS_STDIO_MAXBUFFER,
    /// `send` on an IPC channel that is disconnected.
    ERR_IPC_CHANNEL_CLOSED,
    /// `disconnect` on an IPC channel that is disconnected already.
    ERR_IPC_DISCONNECTED,
    /// More than one `'ipc'` entry in a child's `stdio`.
    ERR_IPC_ONE_PIPE,
    /// An `'ipc'` entry in a synchronous spawn's `stdio`.
    ERR_IPC_SYNC_FORK,
    /// `fork` with a `stdio` that has no `'ipc'` entry.
    ERR_CHILD_PROCESS_IPC_REQUIRED,
}

impl Code {
    /// The code as Node prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ERR_STREAM_WRITE_AFTER_END => "ERR_STREAM_WRITE_AFTER_END",
            Code::ERR_STREAM_DESTROYED => "ERR_STREAM_DESTROYED",
            Code::ERR_MULTIPLE_CALLBACK => "ERR_MULTIPLE_CALLBACK",
            Code::ERR_STREAM_PREMATURE_CLOSE => "ERR_STREAM_PREMATURE_CLOSE",
            Code::ERR_STREAM_PUSH_AFTER_EOF => "ERR_STREAM_PUSH_AFTER_EOF",
            Code::ERR_STREAM_UNSHIFT_AFTER_END_EVENT => "ERR_STREAM_UNSHIFT_AFTER_END_EVENT",
            Code::ERR_STREAM_ALREADY_FINISHED => "ERR_STREAM_ALREADY_FINISHED",
            Code::ERR_STREAM_CANNOT_PIPE => "ERR_STREAM_CANNOT_PIPE",
            Code::ERR_METHOD_NOT_IMPLEMENTED => "ERR_METHOD_NOT_IMPLEMENTED",
            Code::ERR_OUT_OF_RANGE => "ERR_OUT_OF_RANGE",
            Code::ERR_INVALID_ARG_VALUE => "ERR_INVALID_ARG_VALUE",
            Code::ERR_SOCKET_CLOSED => "ERR_SOCKET_CLOSED",
            Code::ERR_SOCKET_CLOSED_BEFORE_CONNECTION => "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
            Code::ERR_SERVER_ALREADY_LISTEN => "ERR_SERVER_ALREADY_LISTEN",
            Code::ERR_SERVER_NOT_RUNNING => "ERR_SERVER_NOT_RUNNING",
            Code::ERR_INVALID_FD_TYPE => "ERR_INVALID_FD_TYPE",
            Code::ERR_TTY_INIT_FAILED => "ERR_TTY_INIT_FAILED",
            Code::ERR_SOCKET_ALREADY_BOUND => "ERR_SOCKET_ALREADY_BOUND",
            Code::ERR_SOCKET_DGRAM_NOT_RUNNING => "ERR_SOCKET_DGRAM_NOT_RUNNING",
            Code::ERR_SOCKET_DGRAM_IS_CONNECTED => "ERR_SOCKET_DGRAM_IS_CONNECTED",
            Code::ERR_SOCKET_DGRAM_NOT_CONNECTED => "ERR_SOCKET_DGRAM_NOT_CONNECTED",
            Code::ERR_SOCKET_BAD_PORT => "ERR_SOCKET_BAD_PORT",
            Code::ERR_UNKNOWN_SIGNAL => "ERR_UNKNOWN_SIGNAL",
            Code::ERR_CHILD_PROCESS_STDIO_MAXBUFFER => "ERR_CHILD_PROCESS_STDIO_MAXBUFFER",
            Code::ERR_IPC_CHANNEL_CLOSED => "ERR_IPC_CHANNEL_CLOSED",
            Code::ERR_IPC_DISCONNECTED => "ERR_IPC_DISCONNECTED",
            Code::ERR_IPC_ONE_PIPE => "ERR_IPC_ONE_PIPE",
            Code::ERR_IPC_SYNC_FORK => "ERR_IPC_SYNC_FORK",
            Code::ERR_CHILD_PROCESS_IPC_REQUIRED => "ERR_CHILD_PROCESS_IPC_REQUIRED",
        }
    }
}

enum Repr {
    Node {
        code: Code,
        message: String,
    },
    Sys {
        err: reactor::Error,
        syscall: &'static str,
    },
    /// Node's `ExceptionWithHostPort` ("connect ECONNREFUSED 127.0.0.1:80") or, when
    /// `described`, `UVExceptionWithHostPort` ("listen EADDRINUSE: address already in
    /// use :::80").
    SysAt {
        err: reactor::Error,
        syscall: &'static str,
        at: At,
        described: bool,
    },
    Custom {
        code: Option<String>,
        message: String,
    },
    /// Node's `UVException` naming a path ("ENOENT: no such file or directory, watch
    /// 'x'").
    UvPath {
        err: reactor::Error,
        syscall: &'static str,
        path: PathBuf,
    },
    /// A failed lookup (Node's `dnsException`: "getaddrinfo ENOTFOUND example.invalid",
    /// with `hostname`).
    Dns {
        err: reactor::Error,
        syscall: &'static str,
        hostname: String,
    },
    /// A child process that could not be started (Node's `ErrnoException(err, 'spawn
    /// ' + file)` with `path` and `spawnargs`).
    Spawn {
        err: reactor::Error,
        syscall: String,
        path: PathBuf,
        spawnargs: Vec<String>,
    },
}

/// What a [`Repr::SysAt`] error names: a host and port, or a Unix domain socket's path
/// ("connect ENOENT /tmp/app.sock").
enum At {
    Host(IpAddr, u16),
    Path(PathBuf),
}

/// A stream error: Node's code and message, shared by every place it is reported.
#[derive(Clone)]
pub struct Error(Arc<Repr>);

impl Error {
    /// A Node stream error with its standard message; `what` names the call for the
    /// codes whose message does (`ERR_STREAM_DESTROYED`: "Cannot call write after …").
    pub fn node(code: Code, what: &str) -> Error {
        let message = match code {
            Code::ERR_STREAM_WRITE_AFTER_END => "write after end".to_owned(),
            Code::ERR_STREAM_DESTROYED => format!("Cannot call {what} after a stream was destroyed"),
            Code::ERR_MULTIPLE_CALLBACK => "Callback called multiple times".to_owned(),
            Code::ERR_STREAM_PREMATURE_CLOSE => "Premature close".to_owned(),
            Code::ERR_STREAM_PUSH_AFTER_EOF => "stream.push() after EOF".to_owned(),
            Code::ERR_STREAM_UNSHIFT_AFTER_END_EVENT => "stream.unshift() after end event".to_owned(),
            Code::ERR_STREAM_ALREADY_FINISHED => format!("Cannot call {what} after a stream was finished"),
            Code::ERR_STREAM_CANNOT_PIPE => "Cannot pipe, not readable".to_owned(),
            Code::ERR_METHOD_NOT_IMPLEMENTED => format!("The {what} method is not implemented"),
            Code::ERR_OUT_OF_RANGE => format!("The value of \"{what}\" is out of range."),
            Code::ERR_INVALID_ARG_VALUE => format!("The argument {what} is invalid."),
            Code::ERR_SOCKET_CLOSED => "Socket is closed".to_owned(),
            Code::ERR_SOCKET_CLOSED_BEFORE_CONNECTION => {
                "Socket closed before the connection was established".to_owned()
            }
            Code::ERR_SERVER_ALREADY_LISTEN => {
                "Listen method has been called more than once without closing.".to_owned()
            }
            Code::ERR_SERVER_NOT_RUNNING => "Server is not running.".to_owned(),
            Code::ERR_INVALID_FD_TYPE => format!("Unsupported fd type: {what}"),
            Code::ERR_TTY_INIT_FAILED => format!("TTY initialization failed: uv_tty_init returned {what}"),
            Code::ERR_SOCKET_ALREADY_BOUND => "Socket is already bound".to_owned(),
            Code::ERR_SOCKET_DGRAM_NOT_RUNNING => "Not running".to_owned(),
            Code::ERR_SOCKET_DGRAM_IS_CONNECTED => "Already connected".to_owned(),
            Code::ERR_SOCKET_DGRAM_NOT_CONNECTED => "Not connected".to_owned(),
            Code::ERR_SOCKET_BAD_PORT => format!("Port should be > 0 and < 65536. Received {what}."),
            Code::ERR_UNKNOWN_SIGNAL => format!("Unknown signal: {what}"),
            Code::ERR_CHILD_PROCESS_STDIO_MAXBUFFER => format!("{what} maxBuffer length exceeded"),
            Code::ERR_IPC_CHANNEL_CLOSED => "Channel closed".to_owned(),
            Code::ERR_IPC_DISCONNECTED => "IPC channel is already disconnected".to_owned(),
            Code::ERR_IPC_ONE_PIPE => "Child process can have only one IPC pipe".to_owned(),
            Code::ERR_IPC_SYNC_FORK => "IPC cannot be used with synchronous forks".to_owned(),
            Code::ERR_CHILD_PROCESS_IPC_REQUIRED => {
                format!("Forked processes must have an IPC channel, missing value 'ipc' in {what}")
            }
        };
        Error(Arc::new(Repr::Node { code, message }))
    }

    /// A Node error with a message of its own (Node's `ERR_INVALID_ARG_VALUE` with a
    /// reason: "The argument 'file' cannot be empty. Received ''").
    pub(crate) fn node_message(code: Code, message: String) -> Error {
        Error(Arc::new(Repr::Node { code, message }))
    }

    /// A system error from the reactor, with the call that failed (`read`, `write`,
    /// `connect`, …), as Node's `uvException`: "read ECONNRESET".
    pub fn sys(err: reactor::Error, syscall: &'static str) -> Error {
        Error(Arc::new(Repr::Sys { err, syscall }))
    }

    /// A system error that names the address it concerns, as Node's
    /// `exceptionWithHostPort`: "connect ECONNREFUSED 127.0.0.1:8080" (the port only when
    /// above 0), with [`address`](Error::address) and [`port`](Error::port).
    pub fn sys_at(err: reactor::Error, syscall: &'static str, address: IpAddr, port: u16) -> Error {
        Error(Arc::new(Repr::SysAt { err, syscall, at: At::Host(address, port), described: false }))
    }

    /// As [`sys_at`](Error::sys_at), with libuv's description after the code, as Node's
    /// `UVExceptionWithHostPort` (a server's `listen` errors): "listen EADDRINUSE: address
    /// already in use :::8080".
    pub fn uv_at(err: reactor::Error, syscall: &'static str, address: IpAddr, port: u16) -> Error {
        Error(Arc::new(Repr::SysAt { err, syscall, at: At::Host(address, port), described: true }))
    }

    /// [`sys_at`](Error::sys_at) for a Unix domain socket: Node's address is the path
    /// ("connect ENOENT /tmp/app.sock"), given by [`path`](Error::path).
    pub fn sys_at_path(err: reactor::Error, syscall: &'static str, path: impl Into<PathBuf>) -> Error {
        Error(Arc::new(Repr::SysAt { err, syscall, at: At::Path(path.into()), described: false }))
    }

    /// [`uv_at`](Error::uv_at) for a Unix domain socket: "listen EADDRINUSE: address
    /// already in use /tmp/app.sock".
    pub fn uv_at_path(err: reactor::Error, syscall: &'static str, path: impl Into<PathBuf>) -> Error {
        Error(Arc::new(Repr::SysAt { err, syscall, at: At::Path(path.into()), described: true }))
    }

    /// Node's `UVException` with a path: "ENOENT: no such file or directory, watch
    /// 'missing'", with `syscall` and [`path`](Error::path).
    pub fn uv_path(err: reactor::Error, syscall: &'static str, path: impl Into<PathBuf>) -> Error {
        Error(Arc::new(Repr::UvPath { err, syscall, path: path.into() }))
    }

    /// A failed lookup, as Node's `dnsException`: `code` is `ENOTFOUND` for the
    /// resolver's "no such name" (`EAI_NONAME`, `EAI_NODATA`) and the libuv name
    /// otherwise (`EAI_AGAIN`, …); the message is "getaddrinfo ENOTFOUND host"; the
    /// name is [`hostname`](Error::hostname).
    pub fn dns(err: reactor::Error, syscall: &'static str, hostname: impl Into<String>) -> Error {
        Error(Arc::new(Repr::Dns { err, syscall, hostname: hostname.into() }))
    }

    /// Node's `err.hostname`, for an error made by [`dns`](Error::dns).
    pub fn hostname(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Dns { hostname, .. } => Some(hostname),
            _ => None,
        }
    }

    /// A child process that did not start or run: "spawn FILE ENOENT", with `syscall`
    /// "spawn FILE", `path` FILE and `spawnargs` (the arguments after the program's
    /// name), as Node's `ChildProcess` emits it; `call` is "spawn", or "spawnSync" for
    /// the errors of `spawnSync` ("spawnSync sleep ETIMEDOUT").
    pub fn spawn(err: reactor::Error, call: &str, file: &str, spawnargs: Vec<String>) -> Error {
        Error(Arc::new(Repr::Spawn { err, syscall: format!("{call} {file}"), path: file.into(), spawnargs }))
    }

    /// Node's `err.spawnargs`, for an error made by [`spawn`](Error::spawn).
    pub fn spawnargs(&self) -> Option<&[String]> {
        match &*self.0 {
            Repr::Spawn { spawnargs, .. } => Some(spawnargs),
            _ => None,
        }
    }

    /// A user error without a code (JavaScript's `new Error(message)`).
    pub fn msg(message: impl Into<String>) -> Error {
        Error(Arc::new(Repr::Custom { code: None, message: message.into() }))
    }

    /// A user error with a code.
    pub fn with_code(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error(Arc::new(Repr::Custom { code: Some(code.into()), message: message.into() }))
    }

    /// Node's `err.code`: `ERR_…` for stream errors, the errno name for system errors,
    /// the given code (or none) for user errors.
    pub fn code(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Node { code, .. } => Some(code.as_str()),
            Repr::Sys { err, .. } | Repr::SysAt { err, .. } | Repr::Spawn { err, .. } | Repr::UvPath { err, .. } => {
                Some(err.code())
            }
            Repr::Dns { err, .. } => Some(dns_code(*err)),
            Repr::Custom { code, .. } => code.as_deref(),
        }
    }

    /// The Node code, if this is one of the stream errors.
    pub fn node_code(&self) -> Option<Code> {
        match &*self.0 {
            Repr::Node { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True if this error has Node code `code`.
    pub fn is(&self, code: Code) -> bool {
        self.node_code() == Some(code)
    }

    /// The reactor error, for system errors.
    pub fn sys_error(&self) -> Option<reactor::Error> {
        match &*self.0 {
            Repr::Sys { err, .. }
            | Repr::SysAt { err, .. }
            | Repr::Spawn { err, .. }
            | Repr::UvPath { err, .. }
            | Repr::Dns { err, .. } => Some(*err),
            _ => None,
        }
    }

    /// Node's `err.syscall`, for system errors that name their call.
    pub fn syscall(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Sys { syscall: "", .. } => None,
            Repr::Sys { syscall, .. } | Repr::SysAt { syscall, .. } => Some(syscall),
            Repr::Spawn { syscall, .. } => Some(syscall),
            Repr::UvPath { syscall, .. } | Repr::Dns { syscall, .. } => Some(syscall),
            _ => None,
        }
    }

    /// Node's `err.address`, for errors made by [`sys_at`](Error::sys_at) or
    /// [`uv_at`](Error::uv_at).
    pub fn address(&self) -> Option<IpAddr> {
        match &*self.0 {
            Repr::SysAt { at: At::Host(address, _), .. } => Some(*address),
            _ => None,
        }
    }

    /// Node's `err.address` for errors made by [`sys_at_path`](Error::sys_at_path) or
    /// [`uv_at_path`](Error::uv_at_path): the Unix domain socket's path; and `err.path`
    /// of a [`spawn`](Error::spawn) error: the program.
    pub fn path(&self) -> Option<&Path> {
        match &*self.0 {
            Repr::SysAt { at: At::Path(path), .. } | Repr::Spawn { path, .. } | Repr::UvPath { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Node's `err.port` (absent for port 0, as in Node).
    pub fn port(&self) -> Option<u16> {
        match &*self.0 {
            Repr::SysAt { at: At::Host(_, port), .. } if *port > 0 => Some(*port),
            _ => None,
        }
    }

    /// Node's `err.message`.
    pub fn message(&self) -> String {
        match &*self.0 {
            Repr::Node { message, .. } | Repr::Custom { message, .. } => message.clone(),
            Repr::Sys { err, syscall: "" } => err.code().to_owned(),
            Repr::Sys { err, syscall } => format!("{syscall} {}", err.code()),
            Repr::Spawn { err, syscall, .. } => format!("{syscall} {}", err.code()),
            Repr::Dns { err, syscall, hostname } => format!("{syscall} {} {hostname}", dns_code(*err)),
            Repr::UvPath { err, syscall, path } => {
                format!("{}: {}, {syscall} '{}'", err.code(), err.message(), path.display())
            }
            Repr::SysAt { err, syscall, at, described } => {
                let mut m = format!("{syscall} {}", err.code());
                if *described {
                    m.push_str(": ");
                    m.push_str(err.message());
                }
                match at {
                    // Node writes `${address}:${port}`, without brackets for IPv6.
                    At::Host(address, 0) => m.push_str(&format!(" {address}")),
                    At::Host(address, p) => m.push_str(&format!(" {address}:{p}")),
                    At::Path(path) => {
                        m.push(' ');
                        m.push_str(&path.to_string_lossy());
                    }
                }
                m
            }
        }
    }

    /// True if `a` and `b` are the same error object (JavaScript's `===`).
    pub fn ptr_eq(a: &Error, b: &Error) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

/// lib/internal/errors.js `dnsException`: "no such name" is `ENOTFOUND`.
fn dns_code(err: reactor::Error) -> &'static str {
    if err == reactor::Error::EAI_NODATA || err == reactor::Error::EAI_NONAME {
        "ENOTFOUND"
    } else {
        err.code()
    }
}

impl From<reactor::Error> for Error {
    fn from(e: reactor::Error) -> Error {
        Error::sys(e, "")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code() {
            Some(code) => write!(f, "Error [{code}]: {}", self.message()),
            None => write!(f, "Error: {}", self.message()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code() {
            Some(code)
                if !matches!(
                    &*self.0,
                    Repr::Sys { .. } | Repr::SysAt { .. } | Repr::Spawn { .. } | Repr::UvPath { .. } | Repr::Dns { .. }
                ) =>
            {
                write!(f, "{} ({code})", self.message())
            }
            _ => f.write_str(&self.message()),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with the streams' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    // A system error's `Display` is its message alone (Node prints `err.message`; the
    // code is already in it), whether it names a host and port or a path.
    #[test]
    fn errors_naming_an_address_display_their_message() {
        let host = Error::uv_at(reactor::Error::EADDRINUSE, "listen", [127, 0, 0, 1].into(), 8080);
        assert_eq!(host.to_string(), "listen EADDRINUSE: address already in use 127.0.0.1:8080");
        let path = Error::sys_at_path(reactor::Error::ENOENT, "connect", "/tmp/app.sock");
        assert_eq!(path.to_string(), "connect ENOENT /tmp/app.sock");
        assert_eq!(path.path(), Some(Path::new("/tmp/app.sock")));
        assert_eq!((path.address(), path.port()), (None, None));
    }

    // Node's dnsException: "no such name" is ENOTFOUND, other resolver failures keep
    // libuv's name; the message is "syscall code hostname".
    #[test]
    fn lookup_errors_are_shaped_as_node_shapes_them() {
        let e = Error::dns(reactor::Error::EAI_NONAME, "getaddrinfo", "no.such.host");
        assert_eq!(e.code(), Some("ENOTFOUND"));
        assert_eq!(e.message(), "getaddrinfo ENOTFOUND no.such.host");
        assert_eq!((e.syscall(), e.hostname()), (Some("getaddrinfo"), Some("no.such.host")));
        assert_eq!(Error::dns(reactor::Error::EAI_NODATA, "getaddrinfo", "x").code(), Some("ENOTFOUND"));
        let e = Error::dns(reactor::Error::EAI_AGAIN, "getnameinfo", "10.0.0.1");
        assert_eq!(e.code(), Some("EAI_AGAIN"));
        assert_eq!(e.to_string(), "getnameinfo EAI_AGAIN 10.0.0.1");
        assert_eq!(e.sys_error(), Some(reactor::Error::EAI_AGAIN));
    }
}
