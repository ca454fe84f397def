//! The IPC channel between a parent and a child process (Node 20: `setupChannel` and
//! `_forkChild` in `lib/internal/child_process.js`, the `'json'` serialization of
//! `lib/internal/child_process/serialization.js`).
//!
//! A [`Channel`] is one end of a Unix socket pair opened as an IPC pipe. Each message is
//! a JSON value ([`Message`]) written as one line: `JSON.stringify(message) + '\n'`, the
//! wire format Node uses, so either end may be Node. The parent's end belongs to a
//! [`ChildProcess`](crate::child_process::ChildProcess) spawned with
//! [`Stdio::Ipc`](crate::child_process::Stdio::Ipc) (or made by
//! [`fork`](crate::child_process::fork)), which tells the child the descriptor's number
//! in `NODE_CHANNEL_FD`; the child's end is [`process_channel`] (Node's `process.send`,
//! `process.on('message')`, `process.disconnect`).
//!
//! Node's rules, in this file:
//! - **Receiving.** Bytes are split at `'\n'` and each complete line parsed; every
//!   message is emitted on a next tick of its own. A message that arrives while nothing
//!   listens for `'message'` is kept, and delivered on the tick after the first
//!   `'message'` listener is added.
//! - **Sending.** [`send`](Channel::send) is written at once as far as the socket takes
//!   it (`uv_try_write`); its callback then runs on the next tick. What the socket does
//!   not take is queued, the channel is referenced until it is written, and the
//!   callback runs then (with no error, whatever the write's outcome: Node ignores it).
//!   The return value is false once more than 128 KiB wait in the queue ("the primary is
//!   more than 2 read() calls behind, please stop sending").
//! - **Errors.** `send` after the channel is disconnected is `ERR_IPC_CHANNEL_CLOSED`,
//!   a write that fails at once "write EPIPE" (to the callback if there is one, else as
//!   an `'error'`, on the next tick either way); `disconnect` twice is an
//!   `ERR_IPC_DISCONNECTED` `'error'` at once.
//! - **Disconnecting.** [`disconnect`](Channel::disconnect) stops sending at once; the
//!   socket is closed and `'disconnect'` emitted on the next tick. End of file from the
//!   peer (it disconnected or exited) does the same, and counts towards the child
//!   process's `'close'`. As in Node, a parent that disconnects by itself never sees
//!   `'close'`: only the end of file counts, and its own close stops the reading.
//! - **Handles.** [`send_handle`](Channel::send_handle) sends a socket, a listening
//!   server or a bound dgram socket as Node's `NODE_HANDLE` message with the descriptor
//!   attached. Until the peer
//!   answers `NODE_HANDLE_ACK`, later sends wait in order; a socket's descriptor is
//!   closed here once acknowledged (unless `keep_open`), a server keeps listening here
//!   too, as does a dgram socket. A received handle is acknowledged and becomes a
//!   [`Socket`], a listening [`Server`] or a receiving dgram socket for the `'message'`
//!   listeners ([`on_message_handle`](Channel::on_message_handle)).
//!   Sockets a server accepted carry its key: closing that server then waits until the
//!   peer reports them all closed (Node's `SocketListSend`/`SocketListReceive`,
//!   `NODE_SOCKET_NOTIFY_CLOSE` and `NODE_SOCKET_ALL_CLOSED`; `NODE_SOCKET_GET_COUNT` is
//!   answered too).
//! - **References.** The parent's channel keeps the loop alive until it is
//!   disconnected. The child's does only while `'message'` or `'disconnect'` listeners
//!   are registered (or a send is queued); [`ref_`](Channel::ref_) and
//!   [`unref`](Channel::unref) override that for good.
//!
//! Where this differs from Node:
//! - Only the `'json'` serialization; `'advanced'` (V8's serializer) is
//!   not supported, and a child started with it gets an error from [`process_channel`].
//! - Sockets, servers and dgram sockets travel (Node's `net.Socket`, `net.Server` and
//!   `dgram.Socket`); a bare handle (`net.Native`, `dgram.Native`) that arrives is
//!   acknowledged and closed. A `NODE_HANDLE_NACK` resends the handle, at most three times, as Node
//!   does, without Node's warning when it gives up. A server does not forget a peer
//!   whose process exited (Node drops it from `_workers` at `'exit'`); its `close`
//!   stops waiting for that peer once the channel is disconnected, which an exit
//!   brings. `server.getConnections` does not count the connections sent away.
//!   Cluster's internal messages are not acted on.
//! - A line that is not JSON is an `'error'` (Node throws from inside its read
//!   callback, which ends the process), and the lines after it are still read.
//! - `disconnect` while a message is half received: Node waits for that message,
//!   which its disconnected channel then never emits, so `'disconnect'` never comes;
//!   here it comes on the next tick.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Buf, Bytes};
use millrace_reactor::{self as reactor, Handle, IpcHandle, Loop, Pipe, ReadEvent};

use crate::errors::{Code, Error};
use crate::events::{Emitter, Event, Handler, ListenerId};
use crate::net::{Server, Socket, SocketOptions};

/// One IPC message: any JSON value (Node's `JSON.parse` of a line).
pub type Message = serde_json::Value;

/// Past this many queued bytes `send` returns false (Node's `65536 * 2`).
const SEND_BACKLOG: usize = 65536 * 2;

/// `callback(err)` of a send with a handle ([`Channel::send_handle`]): `None` once
/// written, or the error.
pub type SendCallback = Box<dyn FnOnce(Option<Error>)>;

/// Where a child process's channel reports its errors.
type ErrorSink = Rc<dyn Fn(&Error)>;

/// What a `'message'` listener receives: the message, and the handle sent with it.
type Received = (Message, Option<SentHandle>);

/// Node gives up on a handle its peer did not receive after this many retries.
const MAX_HANDLE_RETRANSMISSIONS: u32 = 3;

/// A handle that travels with a message (Node's `sendHandle`): a socket, which leaves
/// the sender (unless `keep_open`), or a listening server, which then listens in both
/// processes.
#[derive(Clone)]
pub enum SentHandle {
    /// A `net.Socket` (TCP or Unix domain).
    Socket(Socket),
    /// A listening `net.Server`.
    Server(Server),
    /// A bound `dgram.Socket`, which then receives in both processes.
    Dgram(crate::dgram::Socket),
}

impl fmt::Debug for SentHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SentHandle::Socket(_) => f.write_str("SentHandle::Socket"),
            SentHandle::Server(_) => f.write_str("SentHandle::Server"),
            SentHandle::Dgram(_) => f.write_str("SentHandle::Dgram"),
        }
    }
}

/// A send waiting for the acknowledgement of the handle sent before it (Node's
/// `_handleQueue` entries).
struct Queued {
    msg: Message,
    handle: Option<SentHandle>,
    keep_open: bool,
    cb: Option<SendCallback>,
}

/// A `SocketListSend` request: its key, the `cmd` of the answer, and what to call.
type Request = (String, &'static str, Box<dyn FnOnce(bool)>);

/// Node's `SocketListReceive`: how many of a server's sockets received here are open,
/// and how many `NODE_SOCKET_NOTIFY_CLOSE` requests wait for them to close.
#[derive(Default)]
struct GotList {
    connections: Cell<usize>,
    waiting: Cell<usize>,
}

/// A socket's handle that went out and waits for `NODE_HANDLE_ACK` to be closed
/// (Node's `_pendingMessage`).
struct PendingMessage {
    wrapped: Message,
    native: IpcHandle,
    retransmissions: u32,
}

struct Inner {
    lp: Loop,
    /// The channel's pipe (Node's `target.channel` and `kChannelHandle`); `None` once
    /// the channel is disconnected.
    pipe: RefCell<Option<Pipe>>,
    connected: Cell<bool>,
    /// The start of a message whose `'\n'` has not arrived (Node's `kJSONBuffer`).
    partial: RefCell<Vec<u8>>,
    /// Messages that arrived while no one listened (Node's `kPendingMessages`).
    unheard: RefCell<Vec<Received>>,
    /// Node's `Control`: references counted for listeners and queued sends, unless
    /// `ref_`/`unref` set them for good.
    refs: Cell<u32>,
    ref_explicit: Cell<bool>,
    /// The child's end: adding or removing a `'message'` or `'disconnect'` listener
    /// counts as a reference (Node's `newListener` hook on `process`).
    counted: bool,
    ev: Emitter<Channel, Received>,
    /// Sends held until the handle sent last is acknowledged (Node's `_handleQueue`:
    /// `Some` from a handle's send until its `NODE_HANDLE_ACK`).
    handle_queue: RefCell<Option<Vec<Queued>>>,
    pending_message: RefCell<Option<PendingMessage>>,
    /// A handle received and not yet claimed by its `NODE_HANDLE` message.
    pending_handle: RefCell<Option<IpcHandle>>,
    /// The servers whose connections were sent here, by key (Node's
    /// `sockets.send`): each asks this channel's peer before it closes.
    sent_keys: RefCell<Vec<String>>,
    /// Requests waiting for the peer's answer (Node's `SocketListSend._request`): the
    /// key, the answer's `cmd`, and what to call (`true` if answered, `false` if the
    /// channel disconnected first).
    requests: RefCell<Vec<Request>>,
    /// The sockets received here, by key (Node's `SocketListReceive`).
    got: RefCell<Vec<(String, Rc<GotList>)>>,
    /// Where `'error'` goes when the channel belongs to a child process.
    error_to: RefCell<Option<ErrorSink>>,
    /// Called once at end of file (the child process's `maybeClose`).
    on_eof: RefCell<Option<Box<dyn FnOnce()>>>,
}

/// One end of an IPC channel (see the [module docs](self)).
///
/// ```no_run
/// // In a child started by `fork` (or by Node's `child_process.fork`):
/// use millrace_streams::ipc::{process_channel, Message};
///
/// let lp = millrace_reactor::Loop::new()?;
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     if let Some(parent) = process_channel()? {
///         parent.on_message(|ch, msg: Message| {
///             ch.send(&serde_json::json!({ "echo": msg }));
///             ch.disconnect();
///         });
///     }
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Channel(Rc<Inner>);

static PROCESS_CHANNEL_TAKEN: AtomicBool = AtomicBool::new(false);

thread_local! {
    static PROCESS_CHANNEL: RefCell<Option<Channel>> = const { RefCell::new(None) };
}

/// The channel to this process's parent, if the parent gave it one (Node's
/// `process.channel`; `process.send` and the rest are its methods): the descriptor named
/// by `NODE_CHANNEL_FD`, opened on the current thread's loop on the first call (later
/// calls on this thread return the same channel; other threads get `None`). Both
/// `NODE_CHANNEL_*` variables are removed from the environment then, so this process's
/// own children do not see them, as in Node.
///
/// `None` without the variable. An error for a number that is not an open socket, or
/// for `NODE_CHANNEL_SERIALIZATION_MODE=advanced` (not supported).
pub fn process_channel() -> Result<Option<Channel>, Error> {
    if let Some(ch) = PROCESS_CHANNEL.with(|c| c.borrow().clone()) {
        return Ok(Some(ch));
    }
    let Some(var) = std::env::var_os("NODE_CHANNEL_FD") else { return Ok(None) };
    if PROCESS_CHANNEL_TAKEN.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    let mode = std::env::var_os("NODE_CHANNEL_SERIALIZATION_MODE");
    std::env::remove_var("NODE_CHANNEL_FD");
    std::env::remove_var("NODE_CHANNEL_SERIALIZATION_MODE");
    if mode.as_ref().is_some_and(|m| m != "json") {
        let m = mode.unwrap_or_default();
        return Err(Error::msg(format!("unsupported IPC serialization mode {:?} (only 'json')", m)));
    }
    let fd: RawFd = var.to_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
        Error::node_message(
            Code::ERR_INVALID_ARG_VALUE,
            format!("The environment variable NODE_CHANNEL_FD is invalid. Received {:?}", var),
        )
    })?;
    let owned = reactor::take_inherited_fd(fd).map_err(|e| Error::sys(e, "open"))?;
    let lp = Loop::current();
    let pipe = Pipe::new_ipc(&lp);
    pipe.open_fd(owned).map_err(|e| Error::sys(e, "open"))?;
    pipe.unref();
    let ch = Channel::setup(&lp, pipe, true).map_err(|e| Error::sys(e, "read"))?;
    PROCESS_CHANNEL.with(|c| *c.borrow_mut() = Some(ch.clone()));
    Ok(Some(ch))
}

impl Channel {
    /// Node's `setupChannel(target, channel)`: starts reading `pipe`.
    pub(crate) fn setup(lp: &Loop, pipe: Pipe, counted: bool) -> reactor::Result<Channel> {
        let ch = Channel(Rc::new(Inner {
            lp: lp.clone(),
            pipe: RefCell::new(Some(pipe.clone())),
            connected: Cell::new(true),
            partial: RefCell::new(Vec::new()),
            unheard: RefCell::new(Vec::new()),
            refs: Cell::new(0),
            ref_explicit: Cell::new(false),
            counted,
            ev: Emitter::default(),
            handle_queue: RefCell::new(None),
            pending_message: RefCell::new(None),
            pending_handle: RefCell::new(None),
            sent_keys: RefCell::new(Vec::new()),
            requests: RefCell::new(Vec::new()),
            got: RefCell::new(Vec::new()),
            error_to: RefCell::new(None),
            on_eof: RefCell::new(None),
        }));
        // While the pipe reads, it keeps the channel (and through its listeners and its
        // end-of-file hook, the child process) alive, as a Node handle keeps its owner:
        // a child process nobody holds still delivers its messages, `disconnect` and
        // `close`. Closing the pipe drops the callback, and the cycle with it.
        let c = ch.clone();
        pipe.read_start(move |p, ev| c.on_read(p, ev))?;
        Ok(ch)
    }

    /// The child process that owns the parent's end: where errors go, and what end of
    /// file tells.
    pub(crate) fn attach(&self, error_to: ErrorSink, on_eof: Box<dyn FnOnce()>) {
        *self.0.error_to.borrow_mut() = Some(error_to);
        *self.0.on_eof.borrow_mut() = Some(on_eof);
    }

    /// `channel.onread`.
    fn on_read(&self, pipe: &Pipe, ev: ReadEvent) {
        let data = match ev {
            ReadEvent::Data(data) => data,
            _ => return self.on_end(pipe),
        };
        // A handle came with these bytes: the `NODE_HANDLE` message among them (or
        // after them) claims it. Linux ends a read after bytes that carried one, so
        // there is at most one per read (Node relies on that too).
        while pipe.pending_count() > 0 {
            match pipe.accept_pending() {
                Ok(h) => {
                    if let Some(old) = self.0.pending_handle.borrow_mut().replace(h) {
                        old.close(|| {});
                    }
                }
                Err(_) => break,
            }
        }
        for line in self.split(&data) {
            match serde_json::from_slice::<Message>(&line) {
                Ok(msg) if is_internal(&msg) => {
                    let handle = match cmd_of(&msg) {
                        Some("NODE_HANDLE") => self.0.pending_handle.borrow_mut().take(),
                        _ => None,
                    };
                    self.handle_message(msg, handle, true);
                }
                Ok(msg) => self.handle_message(msg, None, false),
                Err(e) => {
                    let err = Error::msg(format!("IPC message is not valid JSON: {e}"));
                    let c = self.clone();
                    self.0.lp.next_tick(move || c.emit_error(&err));
                }
            }
        }
    }

    /// Node's json `parseChannelMessages`: the complete lines in what has arrived.
    fn split(&self, data: &Bytes) -> Vec<Vec<u8>> {
        let mut partial = self.0.partial.borrow_mut();
        let mut lines = Vec::new();
        let mut rest = &data[..];
        while let Some(i) = find_newline(rest) {
            let mut line = std::mem::take(&mut *partial);
            line.extend_from_slice(&rest[..i]);
            lines.push(line);
            rest = &rest[i + 1..];
        }
        partial.extend_from_slice(rest);
        lines
    }

    /// Node's `handleMessage`: emitted on a tick of its own (an internal one to the
    /// channel itself), or kept for the first listener.
    fn handle_message(&self, msg: Message, handle: Option<IpcHandle>, internal: bool) {
        if self.0.pipe.borrow().is_none() {
            if let Some(h) = handle {
                h.close(|| {});
            }
            return;
        }
        let c = self.clone();
        self.0.lp.next_tick(move || {
            if internal {
                c.internal_message(msg, handle);
            } else {
                c.emit_message(msg, None);
            }
        });
    }

    /// Node's `emit`: to the `'message'` listeners, or kept for the first one.
    fn emit_message(&self, msg: Message, handle: Option<SentHandle>) {
        if self.0.ev.has(Event::Message) {
            self.0.ev.emit_value(Event::Message, self, (msg, handle));
        } else {
            self.0.unheard.borrow_mut().push((msg, handle));
        }
    }

    /// Node's `internalMessage` listener: the handle protocol. `NODE_HANDLE_ACK` (or
    /// `_NACK`) ends the wait for the handle sent last and lets the queued sends go;
    /// `NODE_HANDLE` brings a handle, which is acknowledged and turned into a socket or
    /// a server for the `'message'` listeners.
    fn internal_message(&self, msg: Message, handle: Option<IpcHandle>) {
        let cmd = cmd_of(&msg).unwrap_or("");
        if cmd == "NODE_HANDLE_ACK" || cmd == "NODE_HANDLE_NACK" {
            let resend = {
                let mut pending = self.0.pending_message.borrow_mut();
                let give_up = match pending.as_mut() {
                    Some(_) if cmd == "NODE_HANDLE_ACK" => true,
                    Some(p) => {
                        p.retransmissions += 1;
                        p.retransmissions > MAX_HANDLE_RETRANSMISSIONS
                    }
                    None => false,
                };
                if give_up {
                    if let Some(p) = pending.take() {
                        p.native.close(|| {});
                    }
                }
                pending.as_ref().map(|p| (p.wrapped.clone(), p.native.clone()))
            };
            let queue = self.0.handle_queue.borrow_mut().take().unwrap_or_default();
            if let Some((wrapped, native)) = resend {
                // Node's `_send` of the pending message: it waits for an answer again,
                // and the sends taken from the queue queue up behind it.
                if self.write_handle(&wrapped, &native, false, None).0 {
                    *self.0.handle_queue.borrow_mut() = Some(Vec::new());
                }
            }
            for q in queue {
                self.send_inner(q.msg, q.handle, q.keep_open, q.cb);
            }
            if !self.0.connected.get() && self.0.pipe.borrow().is_some() && self.0.handle_queue.borrow().is_none() {
                self.close_channel();
            }
            return;
        }
        let key = msg.get("key").and_then(Message::as_str).map(str::to_owned);
        match (cmd, key) {
            ("NODE_SOCKET_ALL_CLOSED" | "NODE_SOCKET_COUNT", Some(key)) => {
                let answered = {
                    let mut requests = self.0.requests.borrow_mut();
                    let at = requests.iter().position(|(k, c, _)| *k == key && *c == cmd);
                    at.map(|i| requests.remove(i).2)
                };
                if let Some(f) = answered {
                    f(true);
                }
                return;
            }
            ("NODE_SOCKET_NOTIFY_CLOSE", Some(key)) => {
                if let Some(list) = self.got_list(&key, false) {
                    if list.connections.get() == 0 {
                        self.all_closed(&key);
                    } else {
                        list.waiting.set(list.waiting.get() + 1);
                    }
                }
                return;
            }
            ("NODE_SOCKET_GET_COUNT", Some(key)) => {
                if let Some(list) = self.got_list(&key, false) {
                    if self.0.connected.get() {
                        let count = list.connections.get();
                        let reply = serde_json::json!({ "cmd": "NODE_SOCKET_COUNT", "key": key, "count": count });
                        self.send_inner(reply, None, false, None);
                    }
                }
                return;
            }
            ("NODE_HANDLE", _) => {}
            _ => return,
        }
        let Some(handle) = handle else {
            self.write_line(&serde_json::json!({ "cmd": "NODE_HANDLE_NACK" }), None, true);
            return;
        };
        self.write_line(&serde_json::json!({ "cmd": "NODE_HANDLE_ACK" }), None, true);
        let inner = msg.get("msg").cloned().unwrap_or(Message::Null);
        let internal = is_internal(&inner);
        let deliver = move |c: &Channel, h: SentHandle| {
            if internal {
                return; // a cluster message: nothing here listens for those
            }
            c.emit_message_later(inner.clone(), h);
        };
        let opts = SocketOptions { readable: true, writable: true, ..SocketOptions::default() };
        let key = msg.get("key").and_then(Message::as_str).map(str::to_owned);
        let track = |c: &Channel, s: Socket| {
            if let Some(list) = key.as_ref().and_then(|k| c.got_list(k, true)) {
                list.connections.set(list.connections.get() + 1);
                let (weak, key) = (Rc::downgrade(&c.0), key.clone().unwrap_or_default());
                s.once_close(move |_| {
                    list.connections.set(list.connections.get() - 1);
                    if list.connections.get() == 0 {
                        if let Some(c) = weak.upgrade() {
                            for _ in 0..list.waiting.replace(0) {
                                Channel(c.clone()).all_closed(&key);
                            }
                        }
                    }
                });
            }
            SentHandle::Socket(s)
        };
        match (msg.get("type").and_then(Message::as_str), handle) {
            (Some("net.Socket"), IpcHandle::Tcp(t)) => deliver(self, track(self, Socket::from_tcp(t, opts))),
            (Some("net.Socket"), IpcHandle::Pipe(p)) => deliver(self, track(self, Socket::from_pipe(p, opts))),
            (Some("net.Server"), IpcHandle::Tcp(t)) => {
                let server = Server::new(SocketOptions::default(), |_, _| {});
                let c = self.clone();
                let deliver = Rc::new(deliver);
                let _ = server.listen_handle(t, move |server| deliver(&c, SentHandle::Server(server.clone())));
            }
            (Some("dgram.Socket"), IpcHandle::Udp(u)) => {
                let kind = match msg.get("dgramType").and_then(Message::as_str) {
                    Some("udp6") => crate::dgram::SocketType::Udp6,
                    _ => crate::dgram::SocketType::Udp4,
                };
                let c = self.clone();
                let deliver = Rc::new(deliver);
                crate::dgram::Socket::from_bound_handle(kind, u, move |s| deliver(&c, SentHandle::Dgram(s.clone())));
            }
            (_, h) => h.close(|| {}), // bare handles are not taken here
        }
    }

    /// The received sockets of `key` (made if `make`: Node's `getSocketList('got')`).
    fn got_list(&self, key: &str, make: bool) -> Option<Rc<GotList>> {
        let mut got = self.0.got.borrow_mut();
        if let Some((_, l)) = got.iter().find(|(k, _)| k == key) {
            return Some(l.clone());
        }
        if !make {
            return None;
        }
        let l = Rc::new(GotList::default());
        got.push((key.to_owned(), l.clone()));
        Some(l)
    }

    /// `SocketListReceive`'s `onempty`: tells the sender that none of its server's
    /// sockets is open here any more.
    fn all_closed(&self, key: &str) {
        if self.0.connected.get() {
            self.send_inner(serde_json::json!({ "cmd": "NODE_SOCKET_ALL_CLOSED", "key": key }), None, false, None);
        }
    }

    /// `SocketListSend.close`: asks the peer to tell when the sockets of `key` it took
    /// are closed; `done` runs then, or when the channel disconnects (at once if it is).
    fn notify_close(&self, key: String, done: Box<dyn FnOnce()>) {
        if !self.0.connected.get() {
            return done();
        }
        let msg = serde_json::json!({ "cmd": "NODE_SOCKET_NOTIFY_CLOSE", "key": key });
        self.send_inner(msg, None, false, None);
        self.0.requests.borrow_mut().push((key, "NODE_SOCKET_ALL_CLOSED", Box::new(move |_| done())));
    }

    /// `handleMessage(message.msg, handle)` once a received handle is a socket or a
    /// server: emitted on the next tick.
    fn emit_message_later(&self, msg: Message, handle: SentHandle) {
        if self.0.pipe.borrow().is_none() {
            return;
        }
        let c = self.clone();
        self.0.lp.next_tick(move || c.emit_message(msg, Some(handle)));
    }

    /// The read callback's end of file or error.
    fn on_end(&self, pipe: &Pipe) {
        self.0.partial.borrow_mut().clear();
        self.disconnect();
        pipe.read_stop();
        if !pipe.is_closing() {
            pipe.close(|_| {});
        }
        self.0.pipe.borrow_mut().take();
        let eof = self.0.on_eof.borrow_mut().take();
        if let Some(f) = eof {
            f();
        }
    }

    /// `send(message)`: see [`send_cb`](Channel::send_cb).
    pub fn send(&self, msg: &Message) -> bool {
        self.send_with(msg.clone(), None, false, None)
    }

    /// `send(message, callback)`: writes `msg` as one JSON line. The callback gets
    /// `None` once it is written (on the next tick if the socket took it at once), or
    /// the error. False if the channel is disconnected (`ERR_IPC_CHANNEL_CLOSED`) or
    /// more than 128 KiB are queued: wait before sending more.
    pub fn send_cb(&self, msg: &Message, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        self.send_with(msg.clone(), None, false, Some(Box::new(cb)))
    }

    /// `send(message, sendHandle, { keepOpen }, callback)`: `msg` with a socket or a
    /// listening server, as Node's `NODE_HANDLE` message, so the peer may be Node. A
    /// socket leaves this side at once (it stops reading, has no handle any more, and
    /// no longer counts as its server's connection), and its descriptor is closed when
    /// the peer acknowledges it, unless `keep_open`. A server keeps listening here too.
    /// Until the acknowledgement comes, later sends wait in order (the return value is
    /// then true only for the first of them). A socket that has no handle (destroyed,
    /// or sent already) goes as a plain message.
    pub fn send_handle(&self, msg: &Message, handle: SentHandle, keep_open: bool, cb: Option<SendCallback>) -> bool {
        self.send_with(msg.clone(), Some(handle), keep_open, cb)
    }

    fn send_with(&self, msg: Message, handle: Option<SentHandle>, keep_open: bool, cb: Option<SendCallback>) -> bool {
        if self.0.connected.get() {
            return self.send_inner(msg, handle, keep_open, cb);
        }
        let err = Error::node(Code::ERR_IPC_CHANNEL_CLOSED, "");
        self.report(err, cb);
        false
    }

    /// Node's `_send`.
    fn send_inner(&self, msg: Message, handle: Option<SentHandle>, keep_open: bool, cb: Option<SendCallback>) -> bool {
        if self.0.pipe.borrow().is_none() {
            return false;
        }
        {
            let mut queue = self.0.handle_queue.borrow_mut();
            if let Some(q) = queue.as_mut() {
                q.push(Queued { msg, handle, keep_open, cb });
                return q.len() == 1;
            }
        }
        let Some(handle) = handle else { return self.write_line(&msg, cb, false) };
        let mut key = None;
        let (kind, native) = match &handle {
            SentHandle::Socket(s) => {
                // A server's connection: the server must ask this channel's peer before
                // it closes (`_setupWorker`, once per server and channel).
                if let (Some(server), true) = (s.server(), s.tcp().is_some()) {
                    let k = server.connection_key();
                    if !self.0.sent_keys.borrow().contains(&k) {
                        self.0.sent_keys.borrow_mut().push(k.clone());
                        let (weak, k2) = (Rc::downgrade(&self.0), k.clone());
                        server.setup_worker(Rc::new(move |done: Box<dyn FnOnce()>| match weak.upgrade() {
                            Some(c) => Channel(c).notify_close(k2.clone(), done),
                            None => done(),
                        }));
                    }
                    key = Some(k);
                }
                ("net.Socket", if keep_open { s.tcp() } else { s.detach_handle() }.map(IpcHandle::Tcp))
            }
            SentHandle::Server(s) => ("net.Server", s.handle().map(IpcHandle::Tcp)),
            SentHandle::Dgram(s) => ("dgram.Socket", s.udp().map(IpcHandle::Udp)),
        };
        let Some(native) = native else { return self.write_line(&msg, cb, false) };
        let mut wrapped = serde_json::json!({ "cmd": "NODE_HANDLE", "type": kind, "msg": msg });
        if let Some(k) = key {
            wrapped["key"] = Message::String(k);
        }
        if let SentHandle::Dgram(s) = &handle {
            wrapped["dgramType"] = Message::from(match s.kind() {
                crate::dgram::SocketType::Udp4 => "udp4",
                crate::dgram::SocketType::Udp6 => "udp6",
            });
        }
        let close_on_error = matches!(handle, SentHandle::Socket(_)) && !keep_open;
        let (written, ok) = self.write_handle(&wrapped, &native, close_on_error, cb);
        if written && self.0.handle_queue.borrow().is_none() {
            // Wait for the acknowledgement (`postSend` keeps a socket's handle to close
            // it then).
            *self.0.handle_queue.borrow_mut() = Some(Vec::new());
            if close_on_error {
                *self.0.pending_message.borrow_mut() = Some(PendingMessage { wrapped, native, retransmissions: 0 });
            }
        }
        ok
    }

    /// Writes a `NODE_HANDLE` line with `native`'s descriptor (`uv_write2`, whose
    /// callback always comes later, so the channel is referenced until then): whether
    /// it was queued, and whether the queue is below the backlog. A write refused at
    /// once reports its error (to `cb`, else as `'error'`), and closes a socket's handle
    /// if `close_on_error` (Node's `postSend` without a target).
    fn write_handle(
        &self,
        msg: &Message,
        native: &IpcHandle,
        close_on_error: bool,
        cb: Option<SendCallback>,
    ) -> (bool, bool) {
        let Some(pipe) = self.0.pipe.borrow().clone() else { return (false, false) };
        let cb = Rc::new(RefCell::new(cb));
        let (c, done) = (self.clone(), cb.clone());
        let written = pipe.write2([json_line(msg)], native.clone(), move |_, _| {
            c.unref_counted();
            if let Some(cb) = done.borrow_mut().take() {
                cb(None);
            }
        });
        let queued = match written {
            Ok(_) => {
                self.ref_counted();
                true
            }
            Err(e) => {
                if close_on_error {
                    native.close(|| {});
                }
                let cb = cb.borrow_mut().take();
                self.report(Error::sys(e, "write"), cb);
                false
            }
        };
        (queued, pipe.write_queue_size() < SEND_BACKLOG)
    }

    /// Writes one message line as far as the socket takes it at once, the rest queued.
    fn write_line(&self, msg: &Message, cb: Option<SendCallback>, swallow_errors: bool) -> bool {
        let Some(pipe) = self.0.pipe.borrow().clone() else { return false };
        let mut data = json_line(msg);
        let written = match pipe.try_write(std::slice::from_ref(&data)) {
            Ok(n) => n,
            Err(reactor::Error::EAGAIN) => 0,
            Err(e) => {
                if !swallow_errors {
                    self.report(Error::sys(e, "write"), cb);
                }
                return pipe.write_queue_size() < SEND_BACKLOG;
            }
        };
        if written == data.len() {
            if let Some(cb) = cb {
                self.0.lp.next_tick(move || cb(None));
            }
        } else {
            data.advance(written);
            let c = self.clone();
            let queued = pipe.write([data], move |_, _| {
                c.unref_counted();
                if let Some(cb) = cb {
                    cb(None);
                }
            });
            match queued {
                Ok(_) => self.ref_counted(),
                Err(e) if !swallow_errors => {
                    // The callback went with the refused request: report to no one
                    // but the listeners, as the request's own callback is gone.
                    self.report(Error::sys(e, "write"), None);
                }
                Err(_) => {}
            }
        }
        pipe.write_queue_size() < SEND_BACKLOG
    }

    /// An error for `callback` if there is one, else for the `'error'` listeners; on
    /// the next tick either way.
    fn report(&self, err: Error, cb: Option<SendCallback>) {
        match cb {
            Some(cb) => self.0.lp.next_tick(move || cb(Some(err))),
            None => {
                let c = self.clone();
                self.0.lp.next_tick(move || c.emit_error(&err));
            }
        }
    }

    fn emit_error(&self, err: &Error) {
        let to = self.0.error_to.borrow().clone();
        match to {
            Some(f) => f(err),
            None => {
                self.0.ev.emit_error(self, err);
            }
        }
    }

    /// `connected`: false from the moment [`disconnect`](Channel::disconnect) is called
    /// or the peer went away.
    pub fn connected(&self) -> bool {
        self.0.connected.get()
    }

    /// `disconnect()`: no more sends; the channel closes and `'disconnect'` is emitted
    /// on the next tick. Twice is an `ERR_IPC_DISCONNECTED` `'error'`, at once.
    pub fn disconnect(&self) {
        if !self.0.connected.get() {
            self.emit_error(&Error::node(Code::ERR_IPC_DISCONNECTED, ""));
            return;
        }
        self.0.connected.set(false);
        // Queued sends go first: the acknowledgement they wait for disconnects.
        if self.0.handle_queue.borrow().is_none() {
            self.close_channel();
        }
    }

    /// Node's `_disconnect`: the channel is gone; it closes, and `'disconnect'` is
    /// emitted, on the next tick.
    fn close_channel(&self) {
        let Some(pipe) = self.0.pipe.borrow_mut().take() else { return };
        if let Some(p) = self.0.pending_message.borrow_mut().take() {
            p.native.close(|| {});
        }
        let c = self.clone();
        self.0.lp.next_tick(move || {
            if !pipe.is_closing() {
                pipe.close(|_| {});
            }
            // `SocketListSend`'s requests end with the channel (Node's `once('disconnect')`).
            let requests = std::mem::take(&mut *c.0.requests.borrow_mut());
            for (_, _, f) in requests {
                f(false);
            }
            c.0.ev.emit_plain(Event::Disconnect, &c);
            // Nothing can arrive any more: the listeners (which may hold the child
            // process) and the end-of-file hook go, breaking the cycles through them.
            c.0.ev.clear_event(Event::Message);
            c.0.ev.clear_event(Event::Disconnect);
            c.0.on_eof.borrow_mut().take();
        });
    }

    /// `channel.ref()`: the channel keeps the loop alive, whatever its listeners.
    pub fn ref_(&self) {
        self.0.ref_explicit.set(true);
        if let Some(p) = self.0.pipe.borrow().as_ref() {
            p.ref_();
        }
    }

    /// `channel.unref()`: the channel does not keep the loop alive.
    pub fn unref(&self) {
        self.0.ref_explicit.set(true);
        if let Some(p) = self.0.pipe.borrow().as_ref() {
            p.unref();
        }
    }

    /// `Control.refCounted()`.
    fn ref_counted(&self) {
        let n = self.0.refs.get() + 1;
        self.0.refs.set(n);
        if n == 1 && !self.0.ref_explicit.get() {
            if let Some(p) = self.0.pipe.borrow().as_ref() {
                p.ref_();
            }
        }
    }

    /// `Control.unrefCounted()`.
    fn unref_counted(&self) {
        let n = self.0.refs.get().saturating_sub(1);
        self.0.refs.set(n);
        if n == 0 && !self.0.ref_explicit.get() {
            if let Some(p) = self.0.pipe.borrow().as_ref() {
                p.unref();
            }
        }
    }

    /// `channel.fd`: the descriptor, until the channel is disconnected.
    pub fn fd(&self) -> Option<RawFd> {
        self.0.pipe.borrow().as_ref().and_then(Pipe::fileno)
    }

    /// `'message'`: one received message. Messages that arrived before the first
    /// listener are delivered to it on the next tick.
    pub fn on_message(&self, f: impl Fn(&Channel, Message) + 'static) -> ListenerId {
        self.on_message_handle(move |c, msg, _| f(c, msg))
    }

    /// `'message'` with the handle that came with it (`(message, sendHandle)`).
    pub fn on_message_handle(&self, f: impl Fn(&Channel, Message, Option<SentHandle>) + 'static) -> ListenerId {
        let id = self.0.ev.on(Event::Message, false, Handler::Data(Rc::new(move |c, (m, h)| f(c, m, h))));
        self.listener_added(Event::Message);
        id
    }

    /// `'disconnect'`.
    pub fn on_disconnect(&self, f: impl Fn(&Channel) + 'static) -> ListenerId {
        let id = self.0.ev.on(Event::Disconnect, false, Handler::Plain(Rc::new(f)));
        self.listener_added(Event::Disconnect);
        id
    }

    /// `'error'`: a failed send without a callback, `disconnect` twice, a line that is
    /// not JSON. (On a child process's channel these go to the child process.)
    pub fn on_error(&self, f: impl Fn(&Channel, &Error) + 'static) -> ListenerId {
        self.0.ev.on(Event::Error, false, Handler::Error(Rc::new(f)))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) -> bool {
        let removed = self.0.ev.remove(id);
        if removed && self.0.counted && matches!(id.event(), Event::Message | Event::Disconnect) {
            self.unref_counted();
        }
        removed
    }

    /// Node's `newListener` hooks: the child's reference count, and the messages kept
    /// for the first `'message'` listener.
    fn listener_added(&self, event: Event) {
        if self.0.counted {
            self.ref_counted();
        }
        if event == Event::Message {
            let c = self.clone();
            self.0.lp.next_tick(move || {
                if c.0.pipe.borrow().is_none() || !c.0.ev.has(Event::Message) {
                    return;
                }
                let unheard = std::mem::take(&mut *c.0.unheard.borrow_mut());
                for received in unheard {
                    c.0.ev.emit_value(Event::Message, &c, received);
                }
            });
        }
    }
}

/// Node's `isInternal`: an object whose `cmd` is a string longer than `NODE_` that
/// starts with it.
fn is_internal(msg: &Message) -> bool {
    cmd_of(msg).is_some_and(|c| c.len() > 5 && c.starts_with("NODE_"))
}

/// A message's `cmd`, if it is a string.
fn cmd_of(msg: &Message) -> Option<&str> {
    msg.get("cmd").and_then(Message::as_str)
}

/// The json serialization's `writeChannelMessage`: `JSON.stringify(message) + '\n'`.
fn json_line(msg: &Message) -> Bytes {
    let mut line = serde_json::to_vec(msg).unwrap_or_else(|_| b"null".to_vec());
    line.push(b'\n');
    Bytes::from(line)
}

fn find_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("connected", &self.0.connected.get())
            .field("fd", &self.fd())
            .field("refs", &self.0.refs.get())
            .finish()
    }
}
