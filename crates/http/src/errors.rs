//! HTTP errors with Node's codes: the `ERR_HTTP_*` family and the parser's `HPE_*`
//! codes (llhttp's names, which Node exposes on `clientError`).

use std::fmt;

use millrace_streams as streams;

/// Node's HTTP error codes (and llhttp's, for parse errors).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// `setHeader`/`writeHead` after the head was sent.
    ERR_HTTP_HEADERS_SENT,
    /// A header name that is not an HTTP token.
    ERR_INVALID_HTTP_TOKEN,
    /// A header value (or status message) with a forbidden character.
    ERR_INVALID_CHAR,
    /// A status code outside 100..=999.
    ERR_HTTP_INVALID_STATUS_CODE,
    /// A trailer on a response that is not chunked.
    ERR_HTTP_TRAILER_INVALID,
    /// The request did not complete in `request_timeout`/`headers_timeout`.
    ERR_HTTP_REQUEST_TIMEOUT,
    /// `listen` on a server that is already listening.
    ERR_SERVER_ALREADY_LISTEN,
    /// `close` on a server that is not listening.
    ERR_SERVER_NOT_RUNNING,
    /// With `strictContentLength`, a body longer or shorter than its Content-Length.
    ERR_HTTP_CONTENT_LENGTH_MISMATCH,
    /// With `rejectNonStandardBodyWrites`, a body for a HEAD, 204 or 304 response.
    ERR_HTTP_BODY_NOT_ALLOWED,
    /// An argument of the wrong form (a `Link` early hint not of the form
    /// `</styles.css>; rel=preload; as=style`).
    ERR_INVALID_ARG_VALUE,
    /// A malformed request line or header (llhttp `HPE_INVALID_*`).
    HPE_INVALID_METHOD,
    /// A malformed request target.
    HPE_INVALID_URL,
    /// A malformed `HTTP/x.y`.
    HPE_INVALID_VERSION,
    /// A malformed header name or value.
    HPE_INVALID_HEADER_TOKEN,
    /// A line ending that is not CRLF.
    HPE_CR_EXPECTED,
    /// A bare CR or LF.
    HPE_LF_EXPECTED,
    /// A Content-Length that is not a number, or is repeated.
    HPE_INVALID_CONTENT_LENGTH,
    /// Content-Length together with Transfer-Encoding.
    HPE_UNEXPECTED_CONTENT_LENGTH,
    /// A Transfer-Encoding whose final coding is not `chunked`.
    HPE_INVALID_TRANSFER_ENCODING,
    /// A malformed chunk size.
    HPE_INVALID_CHUNK_SIZE,
    /// More than `max_header_size` bytes of head.
    HPE_HEADER_OVERFLOW,
    /// Chunk extensions over 16 KiB.
    HPE_CHUNK_EXTENSIONS_OVERFLOW,
    /// The connection ended in the middle of a request.
    HPE_INVALID_EOF_STATE,
    /// A request with more than one Host header (RFC 9112 §3.2).
    HPE_DUPLICATE_HOST,
    /// A malformed chunk extension (llhttp's strict-mode error).
    HPE_STRICT,
    /// Bytes other than CR/LF after a request that closes the connection.
    HPE_CLOSED_CONNECTION,
}

impl Code {
    /// The code as Node prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ERR_HTTP_HEADERS_SENT => "ERR_HTTP_HEADERS_SENT",
            Code::ERR_INVALID_HTTP_TOKEN => "ERR_INVALID_HTTP_TOKEN",
            Code::ERR_INVALID_CHAR => "ERR_INVALID_CHAR",
            Code::ERR_HTTP_INVALID_STATUS_CODE => "ERR_HTTP_INVALID_STATUS_CODE",
            Code::ERR_HTTP_TRAILER_INVALID => "ERR_HTTP_TRAILER_INVALID",
            Code::ERR_HTTP_REQUEST_TIMEOUT => "ERR_HTTP_REQUEST_TIMEOUT",
            Code::ERR_SERVER_ALREADY_LISTEN => "ERR_SERVER_ALREADY_LISTEN",
            Code::ERR_SERVER_NOT_RUNNING => "ERR_SERVER_NOT_RUNNING",
            Code::ERR_HTTP_CONTENT_LENGTH_MISMATCH => "ERR_HTTP_CONTENT_LENGTH_MISMATCH",
            Code::ERR_HTTP_BODY_NOT_ALLOWED => "ERR_HTTP_BODY_NOT_ALLOWED",
            Code::ERR_INVALID_ARG_VALUE => "ERR_INVALID_ARG_VALUE",
            Code::HPE_INVALID_METHOD => "HPE_INVALID_METHOD",
            Code::HPE_INVALID_URL => "HPE_INVALID_URL",
            Code::HPE_INVALID_VERSION => "HPE_INVALID_VERSION",
            Code::HPE_INVALID_HEADER_TOKEN => "HPE_INVALID_HEADER_TOKEN",
            Code::HPE_CR_EXPECTED => "HPE_CR_EXPECTED",
            Code::HPE_LF_EXPECTED => "HPE_LF_EXPECTED",
            Code::HPE_INVALID_CONTENT_LENGTH => "HPE_INVALID_CONTENT_LENGTH",
            Code::HPE_UNEXPECTED_CONTENT_LENGTH => "HPE_UNEXPECTED_CONTENT_LENGTH",
            Code::HPE_INVALID_TRANSFER_ENCODING => "HPE_INVALID_TRANSFER_ENCODING",
            Code::HPE_INVALID_CHUNK_SIZE => "HPE_INVALID_CHUNK_SIZE",
            Code::HPE_HEADER_OVERFLOW => "HPE_HEADER_OVERFLOW",
            Code::HPE_CHUNK_EXTENSIONS_OVERFLOW => "HPE_CHUNK_EXTENSIONS_OVERFLOW",
            Code::HPE_INVALID_EOF_STATE => "HPE_INVALID_EOF_STATE",
            Code::HPE_DUPLICATE_HOST => "HPE_DUPLICATE_HOST",
            Code::HPE_STRICT => "HPE_STRICT",
            Code::HPE_CLOSED_CONNECTION => "HPE_CLOSED_CONNECTION",
        }
    }

    /// The status the server answers a client error with (Node's canned responses).
    pub fn status(self) -> u16 {
        match self {
            Code::HPE_HEADER_OVERFLOW => 431,
            Code::HPE_CHUNK_EXTENSIONS_OVERFLOW => 413,
            Code::ERR_HTTP_REQUEST_TIMEOUT => 408,
            _ => 400,
        }
    }
}

/// An HTTP error: a code and Node's message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

impl Error {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Node's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn headers_sent(what: &str) -> Error {
        Error::new(Code::ERR_HTTP_HEADERS_SENT, format!("Cannot {what} headers after they are sent to the client"))
    }

    pub(crate) fn invalid_token(name: &str) -> Error {
        Error::new(Code::ERR_INVALID_HTTP_TOKEN, format!("Header name must be a valid HTTP token [\"{name}\"]"))
    }

    pub(crate) fn invalid_char(what: &str, name: &str) -> Error {
        Error::new(Code::ERR_INVALID_CHAR, format!("Invalid character in {what} [\"{name}\"]"))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error [{}]: {}", self.code.as_str(), self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

impl std::error::Error for Error {}

impl From<Error> for streams::Error {
    fn from(e: Error) -> streams::Error {
        streams::Error::with_code(e.code.as_str(), e.message)
    }
}

/// `Result` with the HTTP [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
