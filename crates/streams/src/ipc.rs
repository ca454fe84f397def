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
//! - **References.** The parent's channel keeps the loop alive until it is
//!   disconnected. The child's does only while `'message'` or `'disconnect'` listeners
//!   are registered (or a send is queued); [`ref_`](Channel::ref_) and
//!   [`unref`](Channel::unref) override that for good.
//!
//! Where this differs from Node:
//! - Only the `'json'` serialization; `'advanced'` (V8's serializer) is
//!   not supported, and a child started with it gets an error from [`process_channel`].
//! - Handles cannot be sent. One that arrives (Node's `NODE_HANDLE` message) is closed
//!   and answered with Node's `NODE_HANDLE_NACK`, as Node answers a message whose handle
//!   did not come through, so the sender does not wait for an acknowledgement forever;
//!   other internal (`NODE_…`) messages are dropped.
//! - A line that is not JSON is an `'error'` (Node throws from inside its read
//!   callback, which ends the process), and the lines after it are still read.
//! - `disconnect` while a message is half received: Node waits for that message,
//!   which its disconnected channel then never emits, so `'disconnect'` never comes;
//!   here it comes on the next tick.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Buf, Bytes};
use millrace_reactor::{self as reactor, Handle, IpcHandle, Loop, Pipe, ReadEvent};

use crate::errors::{Code, Error};
use crate::events::{Emitter, Event, Handler, ListenerId};

/// One IPC message: any JSON value (Node's `JSON.parse` of a line).
pub type Message = serde_json::Value;

/// Past this many queued bytes `send` returns false (Node's `65536 * 2`).
const SEND_BACKLOG: usize = 65536 * 2;

/// `callback(err)` of [`Channel::send_cb`].
type SendCallback = Box<dyn FnOnce(Option<Error>)>;

/// Where a child process's channel reports its errors.
type ErrorSink = Rc<dyn Fn(&Error)>;

struct Inner {
    lp: Loop,
    /// The channel's pipe (Node's `target.channel` and `kChannelHandle`); `None` once
    /// the channel is disconnected.
    pipe: RefCell<Option<Pipe>>,
    connected: Cell<bool>,
    /// The start of a message whose `'\n'` has not arrived (Node's `kJSONBuffer`).
    partial: RefCell<Vec<u8>>,
    /// Messages that arrived while no one listened (Node's `kPendingMessages`).
    unheard: RefCell<Vec<Message>>,
    /// Node's `Control`: references counted for listeners and queued sends, unless
    /// `ref_`/`unref` set them for good.
    refs: Cell<u32>,
    ref_explicit: Cell<bool>,
    /// The child's end: adding or removing a `'message'` or `'disconnect'` listener
    /// counts as a reference (Node's `newListener` hook on `process`).
    counted: bool,
    ev: Emitter<Channel, Message>,
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
            error_to: RefCell::new(None),
            on_eof: RefCell::new(None),
        }));
        // The pipe's read callback holds the channel only weakly: the pipe belongs to
        // the channel, and a channel no one holds any more has no one to tell.
        let weak = Rc::downgrade(&ch.0);
        pipe.read_start(move |p, ev| {
            if let Some(inner) = weak.upgrade() {
                Channel(inner).on_read(p, ev);
            }
        })?;
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
        // A handle came with these bytes: Node's `NODE_HANDLE` message carries it.
        let mut handles = Vec::new();
        while pipe.pending_count() > 0 {
            match pipe.accept_pending() {
                Ok(h) => handles.push(h),
                Err(_) => break,
            }
        }
        let messages = self.split(&data);
        for line in messages {
            match serde_json::from_slice::<Message>(&line) {
                Ok(msg) if is_internal(&msg) => self.internal_message(&msg, &mut handles),
                Ok(msg) => self.handle_message(msg),
                Err(e) => {
                    let err = Error::msg(format!("IPC message is not valid JSON: {e}"));
                    let c = self.clone();
                    self.0.lp.next_tick(move || c.emit_error(&err));
                }
            }
        }
        for h in handles {
            close_ipc_handle(&h);
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

    /// A `NODE_…` message. Only `NODE_HANDLE` needs an answer: handles are not taken
    /// here, so its descriptor is closed (by the caller) and the sender told so.
    fn internal_message(&self, msg: &Message, _handles: &mut Vec<IpcHandle>) {
        if msg.get("cmd").and_then(Message::as_str) == Some("NODE_HANDLE") {
            self.write_message(&serde_json::json!({ "cmd": "NODE_HANDLE_NACK" }), None, true);
        }
    }

    /// Node's `handleMessage`: emitted on a tick of its own, or kept for the first
    /// listener.
    fn handle_message(&self, msg: Message) {
        if self.0.pipe.borrow().is_none() {
            return;
        }
        let c = self.clone();
        self.0.lp.next_tick(move || {
            if c.0.ev.has(Event::Message) {
                c.0.ev.emit_value(Event::Message, &c, msg);
            } else {
                c.0.unheard.borrow_mut().push(msg);
            }
        });
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
        self.send_with(msg, None)
    }

    /// `send(message, callback)`: writes `msg` as one JSON line. The callback gets
    /// `None` once it is written (on the next tick if the socket took it at once), or
    /// the error. False if the channel is disconnected (`ERR_IPC_CHANNEL_CLOSED`) or
    /// more than 128 KiB are queued: wait before sending more.
    pub fn send_cb(&self, msg: &Message, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        self.send_with(msg, Some(Box::new(cb)))
    }

    fn send_with(&self, msg: &Message, cb: Option<SendCallback>) -> bool {
        if self.0.connected.get() {
            return self.write_message(msg, cb, false);
        }
        let err = Error::node(Code::ERR_IPC_CHANNEL_CLOSED, "");
        self.report(err, cb);
        false
    }

    /// Node's `_send` without a handle: `JSON.stringify(message) + '\n'`.
    fn write_message(&self, msg: &Message, cb: Option<SendCallback>, swallow_errors: bool) -> bool {
        let Some(pipe) = self.0.pipe.borrow().clone() else { return false };
        let mut line = serde_json::to_vec(msg).unwrap_or_else(|_| b"null".to_vec());
        line.push(b'\n');
        let mut data = Bytes::from(line);
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
        // Node's `_disconnect`.
        let Some(pipe) = self.0.pipe.borrow_mut().take() else { return };
        let c = self.clone();
        self.0.lp.next_tick(move || {
            if !pipe.is_closing() {
                pipe.close(|_| {});
            }
            c.0.ev.emit_plain(Event::Disconnect, &c);
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
        let id = self.0.ev.on(Event::Message, false, Handler::Data(Rc::new(f)));
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
                for msg in unheard {
                    c.0.ev.emit_value(Event::Message, &c, msg);
                }
            });
        }
    }

    /// A listener registered through the child process that owns this channel.
    pub(crate) fn on_message_weak<T: 'static>(
        &self,
        owner: Weak<T>,
        f: impl Fn(&Rc<T>, Message) + 'static,
    ) -> ListenerId {
        self.on_message(move |_, msg| {
            if let Some(o) = owner.upgrade() {
                f(&o, msg)
            }
        })
    }

    /// As [`on_message_weak`](Channel::on_message_weak), for `'disconnect'`.
    pub(crate) fn on_disconnect_weak<T: 'static>(&self, owner: Weak<T>, f: impl Fn(&Rc<T>) + 'static) -> ListenerId {
        self.on_disconnect(move |_| {
            if let Some(o) = owner.upgrade() {
                f(&o)
            }
        })
    }

    /// Drops every listener (the child process's `'close'`).
    pub(crate) fn clear_listeners(&self) {
        self.0.ev.clear();
    }
}

/// Node's `isInternal`: an object whose `cmd` is a string longer than `NODE_` that
/// starts with it.
fn is_internal(msg: &Message) -> bool {
    msg.get("cmd").and_then(Message::as_str).is_some_and(|c| c.len() > 5 && c.starts_with("NODE_"))
}

fn find_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn close_ipc_handle(h: &IpcHandle) {
    match h {
        IpcHandle::Tcp(t) => t.close(|_| {}),
        IpcHandle::Pipe(p) => p.close(|_| {}),
        IpcHandle::Udp(u) => u.close(|_| {}),
    }
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
