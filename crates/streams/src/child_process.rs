//! Child processes (Node 20, `lib/child_process.js` and `lib/internal/child_process.js`)
//! on the reactor's [`Process`].
//!
//! [`spawn`] is Node's `child_process.spawn`: a [`ChildProcess`] whose `stdin`, `stdout`
//! and `stderr` (and any further `'pipe'` descriptor) are [`Socket`]s over Unix socket
//! pairs, with Node's order of events:
//! - **`spawn`** on the next tick after the child started; a child that could not start
//!   (`ENOENT`, `EACCES`, `EAGAIN`, `EMFILE`, `ENFILE`) gets an **`error`** on the next
//!   tick instead ("spawn nope ENOENT", with `path` and `spawnargs`), its `exit_code`
//!   the negative errno, and no `exit`. Other errors (a user it may not become, say) are
//!   returned at once, as Node throws them.
//! - **`exit`** when the loop sees the child end, with the exit code or the name of the
//!   signal that ended it. `stdin` is destroyed then. Output may still be on its way.
//! - **`close`** once the child exited *and* every readable descriptor (1 and up) closed;
//!   a tick after `exit` those nobody reads from are resumed (Node's `flushStdio`), so
//!   `close` comes even if the output is never read. The listeners are dropped after it.
//! - **`kill`** sends a signal (SIGTERM by default): true if sent, false once the child
//!   is gone; an unknown signal number is `ERR_UNKNOWN_SIGNAL`, a refusal other than
//!   "no such process" is an `error` event ("kill EPERM").
//!
//! `stdin` is write-only (`readable: false`), the others read-only from the child's
//! side of things but writable sockets, exactly as Node makes them. The `timeout`
//! option kills the child with `kill_signal` when it runs too long; `shell` runs the
//! command line through `/bin/sh -c`.
//!
//! [`exec_file`] and [`exec`] collect a child's output and call back once it closed,
//! with Node's errors ([`ExecError`]). [`spawn_sync`], [`exec_file_sync`] and
//! [`exec_sync`] block until the child ended, running a loop of their own (Node's
//! `SyncProcessRunner`).
//!
//! [`Stdio::Ipc`] and [`fork`] give the child an IPC channel ([`crate::ipc`]):
//! [`send`](ChildProcess::send), [`on_message`](ChildProcess::on_message),
//! [`disconnect`](ChildProcess::disconnect), sockets, servers and dgram sockets sent with
//! [`send_handle`](ChildProcess::send_handle); its end of file counts towards `close`.
//! Not here: passing a stream as a descriptor.

use std::cell::{Cell, RefCell};
use std::ffi::OsString;
use std::fmt;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::rc::Rc;

use millrace_reactor::{self as reactor, Handle, Loop, Pipe, Process, ProcessOptions, StdioContainer, Timer};

use crate::errors::{Code, Error};
use crate::events::{Emitter, Event, Handler, ListenerId};
use crate::ipc::{Channel, Message, SendCallback, SentHandle};
use crate::net::{Socket, SocketOptions};

/// What one descriptor of the child is (an entry of Node's `stdio` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// `'pipe'` (the default for 0, 1 and 2): a socket pair; the parent's end is
    /// `stdin`/`stdout`/`stderr` (or `stdio(n)`).
    Pipe,
    /// `'ignore'` (the default above 2): 0, 1 and 2 are `/dev/null`; a higher one is
    /// not opened.
    Ignore,
    /// `'inherit'`: the parent's own descriptor of the same number.
    Inherit,
    /// A number: that descriptor of the parent's.
    Fd(RawFd),
    /// `'ipc'`: the IPC channel (at most one): a socket pair whose parent end is the
    /// child process's [`channel`](ChildProcess::channel), and whose number the child
    /// finds in `NODE_CHANNEL_FD` ([`process_channel`](crate::ipc::process_channel),
    /// or Node's `process.send`). Not allowed in the synchronous calls.
    Ipc,
}

/// `child_process.spawn`'s options.
#[derive(Clone, Debug)]
pub struct SpawnOptions {
    /// `cwd`: the child's working directory.
    pub cwd: Option<PathBuf>,
    /// `env`: the child's whole environment (`None`: this process's).
    pub env: Option<Vec<(OsString, OsString)>>,
    /// `argv0`: the name the child sees as its `argv[0]` (default: the program).
    pub argv0: Option<OsString>,
    /// `stdio`; missing entries among 0–2 are [`Stdio::Pipe`].
    pub stdio: Vec<Stdio>,
    /// `detached`: the child leads a new session.
    pub detached: bool,
    /// `uid`.
    pub uid: Option<u32>,
    /// `gid`.
    pub gid: Option<u32>,
    /// `shell`: run `file` and `args`, joined by spaces, as `shell -c "…"` (Node's
    /// `shell: true` is `/bin/sh`).
    pub shell: Option<PathBuf>,
    /// `timeout` in ms (0: none): the child is sent `kill_signal` when it runs longer.
    pub timeout: u64,
    /// `killSignal` for `timeout` (default SIGTERM).
    pub kill_signal: i32,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions {
            cwd: None,
            env: None,
            argv0: None,
            stdio: Vec::new(),
            detached: false,
            uid: None,
            gid: None,
            shell: None,
            timeout: 0,
            kill_signal: libc::SIGTERM,
        }
    }
}

struct Inner {
    lp: Loop,
    handle: RefCell<Option<Process>>,
    pid: Option<i32>,
    stdio: Vec<Option<Socket>>,
    exit_code: Cell<Option<i32>>,
    signal_code: Cell<Option<&'static str>>,
    killed: Cell<bool>,
    spawnfile: String,
    spawnargs: Vec<String>,
    closes_needed: Cell<u32>,
    closes_got: Cell<u32>,
    timer: RefCell<Option<Timer>>,
    ev: Emitter<ChildProcess, ()>,
    channel: Option<Channel>,
}

/// Node's `ChildProcess` (see the [module docs](self)).
///
/// ```
/// use millrace_streams::child_process::{spawn, SpawnOptions};
///
/// let lp = millrace_reactor::Loop::new()?;
/// let out = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
/// let status = std::rc::Rc::new(std::cell::Cell::new(None));
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     let child = spawn("sh", ["-c", "echo hello; exit 3"], SpawnOptions::default())?;
///     let o = out.clone();
///     child.stdout().unwrap().on_data(move |_, chunk| o.borrow_mut().extend_from_slice(&chunk));
///     let s = status.clone();
///     child.on_close(move |_, code, signal| s.set(Some((code, signal))));
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// assert_eq!(&out.borrow()[..], b"hello\n");
/// assert_eq!(status.get(), Some((Some(3), None)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ChildProcess(Rc<Inner>);

/// `child_process.spawn(file, args, options)` on the current thread's loop.
pub fn spawn<I, S>(file: impl Into<OsString>, args: I, opts: SpawnOptions) -> Result<ChildProcess, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let (file, argv) = normalize(file.into(), args.into_iter().map(Into::into).collect(), &opts)?;
    if opts.stdio.iter().filter(|s| **s == Stdio::Ipc).count() > 1 {
        return Err(Error::node(Code::ERR_IPC_ONE_PIPE, ""));
    }
    ChildProcess::start(file, argv, opts)
}

/// `child_process.fork`'s options.
#[derive(Clone, Debug, Default)]
pub struct ForkOptions {
    /// `execPath`: the program to run (default: this process's own executable, as
    /// Node's default is `process.execPath`; give `node` to fork a Node script).
    pub exec_path: Option<PathBuf>,
    /// `execArgv`: arguments for the program, before the module path.
    pub exec_argv: Vec<OsString>,
    /// `silent`: the child's 0, 1 and 2 are pipes (`stdin`, `stdout`, `stderr`) instead
    /// of this process's own.
    pub silent: bool,
    /// Everything else, as for [`spawn`]. An empty `stdio` is `[0, 1, 2, 'ipc']` (or
    /// three pipes and `'ipc'` when `silent`); one given must include [`Stdio::Ipc`]
    /// (`ERR_CHILD_PROCESS_IPC_REQUIRED`). `shell` is ignored, as in Node.
    pub spawn: SpawnOptions,
}

/// `child_process.fork(modulePath, args, options)`: runs `exec_path` with `exec_argv`,
/// `module` and `args`, and an IPC channel ([`ChildProcess::send`],
/// [`on_message`](ChildProcess::on_message)). The child finds the channel with
/// [`process_channel`](crate::ipc::process_channel) (or, if it is Node, as
/// `process.send`).
///
/// ```no_run
/// use millrace_streams::child_process::{fork, ForkOptions};
///
/// let lp = millrace_reactor::Loop::new()?;
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     let opts = ForkOptions { exec_path: Some("node".into()), ..ForkOptions::default() };
///     let child = fork("worker.js", ["--fast"], opts)?;
///     child.on_message(|child, msg| {
///         println!("worker says {msg}");
///         child.disconnect();
///     });
///     child.send(&serde_json::json!({ "job": 1 }));
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fork<I, S>(module: impl Into<OsString>, args: I, opts: ForkOptions) -> Result<ChildProcess, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let ForkOptions { exec_path, exec_argv, silent, spawn: mut spawn_opts } = opts;
    let exec_path = match exec_path {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| Error::sys(e.into(), "fork"))?,
    };
    if spawn_opts.stdio.is_empty() {
        let std = if silent { Stdio::Pipe } else { Stdio::Inherit };
        spawn_opts.stdio = vec![std, std, std, Stdio::Ipc];
    } else if !spawn_opts.stdio.contains(&Stdio::Ipc) {
        return Err(Error::node(Code::ERR_CHILD_PROCESS_IPC_REQUIRED, "options.stdio"));
    }
    spawn_opts.shell = None;
    let mut argv: Vec<OsString> = exec_argv;
    argv.push(module.into());
    argv.extend(args.into_iter().map(Into::into));
    spawn(exec_path, argv, spawn_opts)
}

/// Node's `normalizeSpawnArguments`: the program and the whole argument vector, the
/// shell and `argv0` applied.
fn normalize(
    mut file: OsString,
    mut args: Vec<OsString>,
    opts: &SpawnOptions,
) -> Result<(OsString, Vec<OsString>), Error> {
    if file.is_empty() {
        return Err(Error::node_message(
            Code::ERR_INVALID_ARG_VALUE,
            "The argument 'file' cannot be empty. Received ''".to_owned(),
        ));
    }
    if let Some(shell) = &opts.shell {
        let command = command_line(&file, &args);
        file = shell.clone().into_os_string();
        args = vec!["-c".into(), command];
    }
    let argv0 = opts.argv0.clone().unwrap_or_else(|| file.clone());
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(argv0);
    argv.extend(args);
    Ok((file, argv))
}

/// The reactor's options for `opts`, with a new pipe handle on `lp` for each `'pipe'`
/// (the child reads descriptor 0 and writes the others, as Node's `getValidStdio`).
fn process_options(
    lp: &Loop,
    file: &OsString,
    argv: &[OsString],
    opts: &SpawnOptions,
) -> (ProcessOptions, Vec<Option<Pipe>>) {
    let mut stdio = opts.stdio.clone();
    while stdio.len() < 3 {
        stdio.push(Stdio::Pipe);
    }
    let pipes: Vec<Option<Pipe>> = stdio
        .iter()
        .map(|s| match s {
            Stdio::Pipe => Some(Pipe::new(lp)),
            Stdio::Ipc => Some(Pipe::new_ipc(lp)),
            _ => None,
        })
        .collect();
    let containers = stdio
        .iter()
        .zip(&pipes)
        .enumerate()
        .map(|(i, (s, pipe))| match (s, pipe) {
            (Stdio::Pipe, Some(pipe)) => {
                StdioContainer::CreatePipe { pipe: pipe.clone(), readable: i == 0, writable: i != 0 }
            }
            (Stdio::Ipc, Some(pipe)) => {
                StdioContainer::CreatePipe { pipe: pipe.clone(), readable: true, writable: true }
            }
            (Stdio::Inherit, _) => StdioContainer::InheritFd(i as RawFd),
            (Stdio::Fd(fd), _) => StdioContainer::InheritFd(*fd),
            _ => StdioContainer::Ignore,
        })
        .collect();
    let pair = |k: &std::ffi::OsStr, v: &std::ffi::OsStr| {
        let mut e = k.to_owned();
        e.push("=");
        e.push(v);
        e
    };
    let mut env: Option<Vec<OsString>> = opts.env.as_ref().map(|env| env.iter().map(|(k, v)| pair(k, v)).collect());
    if let Some(fd) = stdio.iter().position(|s| *s == Stdio::Ipc) {
        // Node's `envPairs` are always given when there is a channel: the options' or
        // this process's environment, and the channel's two variables after them.
        let env = env.get_or_insert_with(|| std::env::vars_os().map(|(k, v)| pair(&k, &v)).collect());
        env.push(format!("NODE_CHANNEL_FD={fd}").into());
        env.push("NODE_CHANNEL_SERIALIZATION_MODE=json".into());
    }
    let options = ProcessOptions {
        file: file.clone(),
        args: argv.to_vec(),
        env,
        cwd: opts.cwd.clone(),
        stdio: containers,
        detached: opts.detached,
        uid: opts.uid,
        gid: opts.gid,
    };
    (options, pipes)
}

/// The program and its arguments joined by spaces (Node's shell command line, and an
/// exec error's `cmd`).
fn command_line(file: &std::ffi::OsStr, args: &[OsString]) -> OsString {
    let mut line = file.to_owned();
    for a in args {
        line.push(" ");
        line.push(a);
    }
    line
}

fn lossy(s: &std::ffi::OsStr) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

impl ChildProcess {
    /// `ChildProcess.prototype.spawn`.
    fn start(file: OsString, argv: Vec<OsString>, opts: SpawnOptions) -> Result<ChildProcess, Error> {
        let lp = Loop::current();
        let (options, pipes) = process_options(&lp, &file, &argv, &opts);
        let exit_to: Rc<RefCell<Option<ChildProcess>>> = Rc::new(RefCell::new(None));
        let to = exit_to.clone();
        let spawned = Process::spawn(&lp, &options, move |_, code, signal| {
            let child = to.borrow_mut().take();
            if let Some(child) = child {
                child.on_exit_handle(code, signal);
            }
        });
        let spawnfile = lossy(&file);
        let spawnargs: Vec<String> = argv.iter().map(|a| lossy(a)).collect();
        let (handle, err) = match spawned {
            Ok(p) => (Some(p), None),
            Err(e) if is_runtime_error(e) => (None, Some(e)),
            Err(e) => {
                for p in pipes.iter().flatten() {
                    p.close(|_| {});
                }
                return Err(Error::sys(e, "spawn"));
            }
        };
        let pid = handle.as_ref().map(Process::pid);
        let no_stdio = matches!(err, Some(reactor::Error::EMFILE | reactor::Error::ENFILE));
        let ipc_at = opts.stdio.iter().position(|s| *s == Stdio::Ipc);
        let mut channel = None;
        let sockets: Vec<Option<Socket>> = pipes
            .into_iter()
            .enumerate()
            .map(|(i, pipe)| match pipe {
                Some(pipe) if Some(i) == ipc_at && !no_stdio => {
                    // Node's `setupChannel(this, ipc)`: the channel, not a socket.
                    match Channel::setup(&lp, pipe.clone(), false) {
                        Ok(ch) => channel = Some(ch),
                        Err(_) => pipe.close(|_| {}),
                    }
                    None
                }
                Some(pipe) if !no_stdio && pipe.stream().fileno().is_some() => {
                    Some(Socket::from_pipe(pipe, SocketOptions { readable: i > 0, ..SocketOptions::default() }))
                }
                Some(pipe) => {
                    pipe.close(|_| {});
                    None
                }
                None => None,
            })
            .collect();
        let child = ChildProcess(Rc::new(Inner {
            lp: lp.clone(),
            handle: RefCell::new(handle),
            pid,
            stdio: sockets,
            exit_code: Cell::new(None),
            signal_code: Cell::new(None),
            killed: Cell::new(false),
            spawnfile,
            spawnargs,
            closes_needed: Cell::new(1),
            closes_got: Cell::new(0),
            timer: RefCell::new(None),
            ev: Emitter::default(),
            channel,
        }));
        if let Some(ch) = &child.0.channel {
            child.0.closes_needed.set(child.0.closes_needed.get() + 1);
            // Errors go to the child process while someone holds it; the end of file
            // keeps it (until then) so that `close` still comes.
            let to_error = Rc::downgrade(&child.0);
            let to_close = child.clone();
            ch.attach(
                Rc::new(move |e: &Error| {
                    if let Some(c) = to_error.upgrade() {
                        ChildProcess(c).emit_error(e);
                    }
                }),
                Box::new(move || to_close.maybe_close()),
            );
        }
        for (i, s) in child.0.stdio.iter().enumerate() {
            if let (true, Some(s)) = (i > 0, s) {
                child.0.closes_needed.set(child.0.closes_needed.get() + 1);
                let c = child.clone();
                s.on_close(move |_| c.maybe_close());
            }
        }
        match err {
            Some(e) => {
                let c = child.clone();
                lp.next_tick(move || c.on_exit_handle(-i64::from(e.errno()), 0));
            }
            None => {
                *exit_to.borrow_mut() = Some(child.clone());
                let c = child.clone();
                lp.next_tick(move || {
                    c.0.ev.emit_plain(Event::Spawn, &c);
                });
                if opts.timeout > 0 {
                    let c = child.clone();
                    let signal = opts.kill_signal;
                    let t = lp.set_timeout(opts.timeout, move || {
                        c.0.timer.borrow_mut().take();
                        if let Err(e) = c.kill(signal) {
                            c.emit_error(&e);
                        }
                    });
                    *child.0.timer.borrow_mut() = Some(t);
                }
            }
        }
        Ok(child)
    }

    /// The handle's `onexit`: `code` is the exit status, or a negative errno for a child
    /// that never started.
    fn on_exit_handle(&self, code: i64, signal: i32) {
        let i = &self.0;
        if signal != 0 {
            i.signal_code.set(Some(signal_name(signal).unwrap_or("SIGUNKNOWN")));
        } else {
            i.exit_code.set(Some(code as i32));
        }
        if let Some(stdin) = self.stdin() {
            stdin.destroy(None);
        }
        if let Some(h) = i.handle.borrow_mut().take() {
            h.close(|_| {});
        }
        if let Some(t) = i.timer.borrow_mut().take() {
            t.close(|_| {});
        }
        if code < 0 {
            let err = reactor::Error::from_errno(-code as i32);
            let e = Error::spawn(err, "spawn", &i.spawnfile, i.spawnargs[1..].to_vec());
            self.emit_error(&e);
        } else {
            i.ev.emit_plain(Event::Exit, self);
        }
        let c = self.clone();
        i.lp.next_tick(move || c.flush_stdio());
        self.maybe_close();
    }

    /// Node's `flushStdio`: a readable descriptor nobody consumed is resumed, so it
    /// reaches its end and closes.
    fn flush_stdio(&self) {
        for s in self.0.stdio.iter().flatten() {
            if s.readable() {
                s.resume();
            }
        }
    }

    fn maybe_close(&self) {
        let i = &self.0;
        i.closes_got.set(i.closes_got.get() + 1);
        if i.closes_got.get() == i.closes_needed.get() {
            i.ev.emit_plain(Event::Close, self);
            // The channel's own listeners stay: its `disconnect` comes a tick after the
            // end of file that brought this `close`, and it drops them itself then.
            i.ev.clear();
        }
    }

    fn emit_error(&self, e: &Error) {
        self.0.ev.emit_error(self, e);
    }

    /// `subprocess.kill(signal)`: sends `signal` (0 only checks the child is there).
    /// True if it was sent (and `killed` is then true); false if the child is gone.
    /// `ERR_UNKNOWN_SIGNAL` for a number that names no signal; a refusal other than
    /// `ESRCH` is emitted as `error` ("kill EPERM") and gives false.
    pub fn kill(&self, signal: i32) -> Result<bool, Error> {
        if signal != 0 && signal_name(signal).is_none() {
            return Err(Error::node(Code::ERR_UNKNOWN_SIGNAL, &signal.to_string()));
        }
        let handle = self.0.handle.borrow().clone();
        let Some(h) = handle else { return Ok(false) };
        match h.kill(signal) {
            Ok(()) => {
                self.0.killed.set(true);
                Ok(true)
            }
            Err(reactor::Error::ESRCH) => Ok(false),
            Err(e @ (reactor::Error::EINVAL | reactor::Error::ENOSYS)) => Err(Error::sys(e, "kill")),
            Err(e) => {
                self.emit_error(&Error::sys(e, "kill"));
                Ok(false)
            }
        }
    }

    /// `subprocess.pid`: `None` if the child did not start.
    pub fn pid(&self) -> Option<i32> {
        self.0.pid
    }

    /// `subprocess.stdin`: the writable end of descriptor 0, if it is a pipe.
    pub fn stdin(&self) -> Option<Socket> {
        self.stdio(0)
    }

    /// `subprocess.stdout`.
    pub fn stdout(&self) -> Option<Socket> {
        self.stdio(1)
    }

    /// `subprocess.stderr`.
    pub fn stderr(&self) -> Option<Socket> {
        self.stdio(2)
    }

    /// `subprocess.stdio[n]`: the parent's end of descriptor `n`, if it is a pipe.
    pub fn stdio(&self, n: usize) -> Option<Socket> {
        self.0.stdio.get(n).cloned().flatten()
    }

    /// `subprocess.exitCode`: set when the child exited normally (or, negative, when it
    /// did not start).
    pub fn exit_code(&self) -> Option<i32> {
        self.0.exit_code.get()
    }

    /// `subprocess.signalCode`: the signal that ended the child ("SIGTERM").
    pub fn signal_code(&self) -> Option<&'static str> {
        self.0.signal_code.get()
    }

    /// `subprocess.killed`: a `kill` succeeded.
    pub fn killed(&self) -> bool {
        self.0.killed.get()
    }

    /// `subprocess.spawnfile`.
    pub fn spawnfile(&self) -> &str {
        &self.0.spawnfile
    }

    /// `subprocess.spawnargs`: the whole argument vector, `argv[0]` first.
    pub fn spawnargs(&self) -> &[String] {
        &self.0.spawnargs
    }

    /// `subprocess.ref()`.
    pub fn ref_(&self) {
        if let Some(h) = self.0.handle.borrow().as_ref() {
            h.ref_();
        }
    }

    /// `subprocess.unref()`: the loop may end while the child runs.
    pub fn unref(&self) {
        if let Some(h) = self.0.handle.borrow().as_ref() {
            h.unref();
        }
    }

    /// `'spawn'`.
    pub fn on_spawn(&self, f: impl Fn(&ChildProcess) + 'static) -> ListenerId {
        self.plain(Event::Spawn, Rc::new(f))
    }

    /// `'exit'`: `(exit_code, signal_code)`, one of them `None`.
    pub fn on_exit(&self, f: impl Fn(&ChildProcess, Option<i32>, Option<&'static str>) + 'static) -> ListenerId {
        self.plain(Event::Exit, Rc::new(move |c: &ChildProcess| f(c, c.exit_code(), c.signal_code())))
    }

    /// `'close'`: the child exited and its readable descriptors closed; `(exit_code,
    /// signal_code)`.
    pub fn on_close(&self, f: impl Fn(&ChildProcess, Option<i32>, Option<&'static str>) + 'static) -> ListenerId {
        self.plain(Event::Close, Rc::new(move |c: &ChildProcess| f(c, c.exit_code(), c.signal_code())))
    }

    /// `'error'`: the child did not start, or a `kill` was refused.
    pub fn on_error(&self, f: impl Fn(&ChildProcess, &Error) + 'static) -> ListenerId {
        self.0.ev.on(Event::Error, false, Handler::Error(Rc::new(f)))
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) -> bool {
        match (id.event(), &self.0.channel) {
            (Event::Message | Event::Disconnect, Some(ch)) => ch.off(id),
            _ => self.0.ev.remove(id),
        }
    }

    /// `subprocess.channel`: the IPC channel, if `stdio` had [`Stdio::Ipc`] (its
    /// `ref_`/`unref`, `fd`).
    pub fn channel(&self) -> Option<&Channel> {
        self.0.channel.as_ref()
    }

    /// `subprocess.connected`: a channel that is not disconnected.
    pub fn connected(&self) -> bool {
        self.0.channel.as_ref().is_some_and(Channel::connected)
    }

    /// `subprocess.send(message)`: see [`Channel::send`]. Without a channel, false
    /// (Node has no `send` method then).
    pub fn send(&self, msg: &Message) -> bool {
        self.0.channel.as_ref().is_some_and(|ch| ch.send(msg))
    }

    /// `subprocess.send(message, callback)`: see [`Channel::send_cb`].
    pub fn send_cb(&self, msg: &Message, cb: impl FnOnce(Option<Error>) + 'static) -> bool {
        self.0.channel.as_ref().is_some_and(|ch| ch.send_cb(msg, cb))
    }

    /// `subprocess.disconnect()`: see [`Channel::disconnect`]. Without a channel,
    /// nothing.
    pub fn disconnect(&self) {
        if let Some(ch) = &self.0.channel {
            ch.disconnect();
        }
    }

    /// `'message'`: a message from the child. Without a channel the listener is never
    /// called.
    pub fn on_message(&self, f: impl Fn(&ChildProcess, Message) + 'static) -> ListenerId {
        self.on_message_handle(move |c, msg, _| f(c, msg))
    }

    /// `'message'` with the handle the child sent along (`(message, sendHandle)`).
    pub fn on_message_handle(&self, f: impl Fn(&ChildProcess, Message, Option<SentHandle>) + 'static) -> ListenerId {
        match &self.0.channel {
            Some(ch) => {
                let c = self.clone();
                ch.on_message_handle(move |_, msg, h| f(&c, msg, h))
            }
            None => ListenerId { event: Event::Message, id: self.0.ev.next_id() },
        }
    }

    /// `subprocess.send(message, sendHandle, { keepOpen }, callback)`: see
    /// [`Channel::send_handle`].
    pub fn send_handle(&self, msg: &Message, handle: SentHandle, keep_open: bool, cb: Option<SendCallback>) -> bool {
        self.0.channel.as_ref().is_some_and(|ch| ch.send_handle(msg, handle, keep_open, cb))
    }

    /// `'disconnect'`: the channel closed (this side disconnected, or the child did, or
    /// it exited).
    pub fn on_disconnect(&self, f: impl Fn(&ChildProcess) + 'static) -> ListenerId {
        match &self.0.channel {
            Some(ch) => {
                let c = self.clone();
                ch.on_disconnect(move |_| f(&c))
            }
            None => ListenerId { event: Event::Disconnect, id: self.0.ev.next_id() },
        }
    }

    fn plain(&self, event: Event, f: Rc<dyn Fn(&ChildProcess)>) -> ListenerId {
        self.0.ev.on(event, false, Handler::Plain(f))
    }
}

impl fmt::Debug for ChildProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildProcess")
            .field("pid", &self.0.pid)
            .field("spawnargs", &self.0.spawnargs)
            .field("exit_code", &self.0.exit_code.get())
            .field("signal_code", &self.0.signal_code.get())
            .field("killed", &self.0.killed.get())
            .finish()
    }
}

/// The errors Node reports as an `error` event rather than throwing.
fn is_runtime_error(e: reactor::Error) -> bool {
    matches!(
        e,
        reactor::Error::EACCES
            | reactor::Error::EAGAIN
            | reactor::Error::EMFILE
            | reactor::Error::ENFILE
            | reactor::Error::ENOENT
    )
}

/// A signal's name as Node prints it (`os.constants.signals`), for Linux's numbers.
pub fn signal_name(signum: i32) -> Option<&'static str> {
    SIGNALS.iter().find(|(_, n)| *n == signum).map(|(name, _)| *name)
}

/// A signal's number by its name ("SIGTERM").
pub fn signal_number(name: &str) -> Option<i32> {
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, num)| *num)
}

const SIGNALS: [(&str, i32); 31] = [
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGILL", libc::SIGILL),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGABRT", libc::SIGABRT),
    ("SIGBUS", libc::SIGBUS),
    ("SIGFPE", libc::SIGFPE),
    ("SIGKILL", libc::SIGKILL),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGALRM", libc::SIGALRM),
    ("SIGTERM", libc::SIGTERM),
    ("SIGSTKFLT", libc::SIGSTKFLT),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGCONT", libc::SIGCONT),
    ("SIGSTOP", libc::SIGSTOP),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGTTIN", libc::SIGTTIN),
    ("SIGTTOU", libc::SIGTTOU),
    ("SIGURG", libc::SIGURG),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGXFSZ", libc::SIGXFSZ),
    ("SIGVTALRM", libc::SIGVTALRM),
    ("SIGPROF", libc::SIGPROF),
    ("SIGWINCH", libc::SIGWINCH),
    ("SIGIO", libc::SIGIO),
    ("SIGPWR", libc::SIGPWR),
    ("SIGSYS", libc::SIGSYS),
];

/// `child_process.execFile`'s and `exec`'s options.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// `cwd`.
    pub cwd: Option<PathBuf>,
    /// `env` (`None`: this process's).
    pub env: Option<Vec<(OsString, OsString)>>,
    /// `uid`.
    pub uid: Option<u32>,
    /// `gid`.
    pub gid: Option<u32>,
    /// `shell` (for `exec`, `/bin/sh` unless given).
    pub shell: Option<PathBuf>,
    /// `timeout` in ms (0: none): then the child is sent `kill_signal`.
    pub timeout: u64,
    /// `maxBuffer` (1 MiB): more output than this on stdout or stderr ends the child
    /// (`ERR_CHILD_PROCESS_STDIO_MAXBUFFER`); what came within the limit is kept.
    pub max_buffer: usize,
    /// `killSignal` (SIGTERM).
    pub kill_signal: i32,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            cwd: None,
            env: None,
            uid: None,
            gid: None,
            shell: None,
            timeout: 0,
            max_buffer: 1024 * 1024,
            kill_signal: libc::SIGTERM,
        }
    }
}

/// How an `execFile` or `exec` went wrong (the callback's `err`).
#[derive(Clone, Debug)]
pub enum ExecError {
    /// The command ran and did not succeed: it exited with a code other than 0, or a
    /// signal ended it. Node's "Command failed: CMD\nSTDERR" with `code`, `killed` and
    /// `signal`.
    Failed {
        /// `err.code`: the exit code (`None` when a signal ended it).
        code: Option<i32>,
        /// `err.killed`: the parent killed it (`kill` or the timeout).
        killed: bool,
        /// `err.signal`: the signal that ended it.
        signal: Option<&'static str>,
        /// `err.cmd`: the program and its arguments, joined by spaces.
        cmd: String,
        /// `err.message`.
        message: String,
    },
    /// Anything else, with the command: the spawn's error ("spawn nope ENOENT"),
    /// `ERR_CHILD_PROCESS_STDIO_MAXBUFFER`, or a kill that was refused.
    Other {
        /// The error.
        error: Error,
        /// `err.cmd`.
        cmd: String,
    },
}

impl ExecError {
    /// `err.message`.
    pub fn message(&self) -> String {
        match self {
            ExecError::Failed { message, .. } => message.clone(),
            ExecError::Other { error, .. } => error.message(),
        }
    }

    /// `err.cmd`.
    pub fn cmd(&self) -> &str {
        match self {
            ExecError::Failed { cmd, .. } | ExecError::Other { cmd, .. } => cmd,
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ExecError {}

type ExecCallback = Box<dyn FnOnce(Option<ExecError>, bytes::Bytes, bytes::Bytes)>;

/// What `execFile` keeps while the child runs.
struct ExecState {
    child: RefCell<Option<ChildProcess>>,
    out: [RefCell<Vec<u8>>; 2],
    max_buffer: usize,
    kill_signal: i32,
    killed: Cell<bool>,
    exited: Cell<bool>,
    /// An error that came before the exit (Node's `ex`); `err.cmd` is added at the end.
    ex: RefCell<Option<Error>>,
    file: OsString,
    args: Vec<OsString>,
    timer: RefCell<Option<Timer>>,
    callback: RefCell<Option<ExecCallback>>,
}

/// `child_process.execFile(file, args, options, callback)`: runs the program with its
/// output collected, and calls `callback(err, stdout, stderr)` once it closed. `err` is
/// `None` only if it exited with code 0; the output comes either way. The output is
/// given as bytes (Node's `encoding: 'buffer'`); `maxBuffer` counts bytes.
///
/// ```
/// use millrace_streams::child_process::{exec_file, ExecOptions};
///
/// let lp = millrace_reactor::Loop::new()?;
/// let got = std::rc::Rc::new(std::cell::RefCell::new(None));
/// lp.enter(|| -> Result<(), millrace_streams::Error> {
///     let g = got.clone();
///     exec_file("sh", ["-c", "printf out; printf err >&2"], ExecOptions::default(), move |err, out, errout| {
///         *g.borrow_mut() = Some((err.is_none(), out, errout));
///     })?;
///     Ok(())
/// })?;
/// lp.run(millrace_reactor::RunMode::Default);
/// let (ok, out, err) = got.borrow_mut().take().unwrap();
/// assert!(ok);
/// assert_eq!((&out[..], &err[..]), (&b"out"[..], &b"err"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn exec_file<I, S>(
    file: impl Into<OsString>,
    args: I,
    opts: ExecOptions,
    callback: impl FnOnce(Option<ExecError>, bytes::Bytes, bytes::Bytes) + 'static,
) -> Result<ChildProcess, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let file: OsString = file.into();
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let spawn_opts = SpawnOptions {
        cwd: opts.cwd.clone(),
        env: opts.env.clone(),
        uid: opts.uid,
        gid: opts.gid,
        shell: opts.shell.clone(),
        ..SpawnOptions::default()
    };
    let child = spawn(file.clone(), args.clone(), spawn_opts)?;
    let st = Rc::new(ExecState {
        child: RefCell::new(Some(child.clone())),
        out: Default::default(),
        max_buffer: opts.max_buffer,
        kill_signal: opts.kill_signal,
        killed: Cell::new(false),
        exited: Cell::new(false),
        ex: RefCell::new(None),
        file,
        args,
        timer: RefCell::new(None),
        callback: RefCell::new(Some(Box::new(callback))),
    });
    if opts.timeout > 0 {
        let s = st.clone();
        let t = child.0.lp.set_timeout(opts.timeout, move || {
            s.timer.borrow_mut().take();
            exec_kill(&s);
        });
        *st.timer.borrow_mut() = Some(t);
    }
    for (i, name) in [(0, "stdout"), (1, "stderr")] {
        let Some(sock) = child.stdio(i + 1) else { continue };
        let s = st.clone();
        sock.on_data(move |_, chunk| {
            let len = s.out[i].borrow().len();
            if len + chunk.len() > s.max_buffer {
                let keep = s.max_buffer.saturating_sub(len);
                s.out[i].borrow_mut().extend_from_slice(&chunk[..keep]);
                *s.ex.borrow_mut() = Some(Error::node(Code::ERR_CHILD_PROCESS_STDIO_MAXBUFFER, name));
                exec_kill(&s);
            } else {
                s.out[i].borrow_mut().extend_from_slice(&chunk);
            }
        });
    }
    let s = st.clone();
    child.on_close(move |_, code, signal| exec_exit(&s, code, signal));
    let s = st.clone();
    child.on_error(move |c, e| {
        *s.ex.borrow_mut() = Some(e.clone());
        exec_destroy_output(c);
        exec_exit(&s, None, None);
    });
    Ok(child)
}

/// `child_process.exec(command, options, callback)`: [`exec_file`] of the whole command
/// line through the shell (`/bin/sh -c`, or `options.shell`).
pub fn exec(
    command: impl Into<OsString>,
    mut opts: ExecOptions,
    callback: impl FnOnce(Option<ExecError>, bytes::Bytes, bytes::Bytes) + 'static,
) -> Result<ChildProcess, Error> {
    if opts.shell.is_none() {
        opts.shell = Some("/bin/sh".into());
    }
    exec_file(command, Vec::<OsString>::new(), opts, callback)
}

fn exec_destroy_output(child: &ChildProcess) {
    for s in [child.stdout(), child.stderr()].into_iter().flatten() {
        s.destroy(None);
    }
}

/// `execFile`'s `kill`: the output is no longer wanted, and the child is sent the kill
/// signal.
fn exec_kill(st: &Rc<ExecState>) {
    let child = st.child.borrow().clone();
    let Some(child) = child else { return };
    exec_destroy_output(&child);
    st.killed.set(true);
    if let Err(e) = child.kill(st.kill_signal) {
        *st.ex.borrow_mut() = Some(e);
        exec_exit(st, None, None);
    }
}

/// `execFile`'s `exithandler`: once, the callback with what was collected.
fn exec_exit(st: &Rc<ExecState>, code: Option<i32>, signal: Option<&'static str>) {
    if st.exited.replace(true) {
        return;
    }
    if let Some(t) = st.timer.borrow_mut().take() {
        t.close(|_| {});
    }
    let killed_by_child = st.child.borrow_mut().take().is_some_and(|c| c.killed());
    let Some(callback) = st.callback.borrow_mut().take() else { return };
    let stdout = bytes::Bytes::from(std::mem::take(&mut *st.out[0].borrow_mut()));
    let stderr = bytes::Bytes::from(std::mem::take(&mut *st.out[1].borrow_mut()));
    let ex = st.ex.borrow_mut().take();
    if ex.is_none() && code == Some(0) && signal.is_none() {
        return callback(None, stdout, stderr);
    }
    let cmd = lossy(&command_line(&st.file, &st.args));
    let ex = match ex {
        Some(error) => ExecError::Other { error, cmd },
        None => ExecError::Failed {
            message: format!("Command failed: {cmd}\n{}", String::from_utf8_lossy(&stderr)),
            code,
            killed: killed_by_child || st.killed.get(),
            signal,
            cmd,
        },
    };
    callback(Some(ex), stdout, stderr);
}

/// `child_process.spawnSync`'s options: [`SpawnOptions`] (`timeout` and `kill_signal`
/// included), what to feed the child, and the output limit.
#[derive(Clone, Debug)]
pub struct SpawnSyncOptions {
    /// `cwd`, `env`, `argv0`, `stdio`, `detached`, `uid`, `gid`, `shell`, `timeout`,
    /// `killSignal`.
    pub spawn: SpawnOptions,
    /// `input`: written to descriptor 0 (a pipe), which then ends. Without it, the
    /// child's stdin pipe ends at once.
    pub input: Option<bytes::Bytes>,
    /// `maxBuffer` (1 MiB), over all of the output together: past it the child is
    /// killed and `error` is `ENOBUFS`. 0 means no limit.
    pub max_buffer: usize,
}

impl Default for SpawnSyncOptions {
    fn default() -> Self {
        SpawnSyncOptions { spawn: SpawnOptions::default(), input: None, max_buffer: 1024 * 1024 }
    }
}

/// What `spawnSync` returns.
#[derive(Clone, Debug, Default)]
pub struct SpawnSyncResult {
    /// `pid` (0 if the child did not start).
    pub pid: i32,
    /// `output`: what the child wrote to each descriptor that is a pipe it writes to
    /// (`None` for the others, descriptor 0 among them); `None` altogether if the child
    /// did not start.
    pub output: Option<Vec<Option<bytes::Bytes>>>,
    /// `status`: the exit code (`None` if a signal ended the child, or it did not start).
    pub status: Option<i32>,
    /// `signal`: the signal that ended the child.
    pub signal: Option<&'static str>,
    /// `error`: the child did not start ("spawnSync nope ENOENT"), ran too long
    /// (`ETIMEDOUT`) or wrote too much (`ENOBUFS`).
    pub error: Option<Error>,
}

impl SpawnSyncResult {
    /// `stdout` (`output[1]`).
    pub fn stdout(&self) -> Option<&bytes::Bytes> {
        self.output.as_ref().and_then(|o| o.get(1)).and_then(Option::as_ref)
    }

    /// `stderr` (`output[2]`).
    pub fn stderr(&self) -> Option<&bytes::Bytes> {
        self.output.as_ref().and_then(|o| o.get(2)).and_then(Option::as_ref)
    }
}

/// Node's `SyncProcessRunner` (`src/spawn_sync.cc`) while its loop runs.
struct SyncRun {
    process: RefCell<Option<Process>>,
    pipes: Vec<Option<Pipe>>,
    out: Vec<RefCell<Vec<u8>>>,
    total: Cell<usize>,
    max_buffer: usize,
    kill_signal: i32,
    error: Cell<Option<reactor::Error>>,
    exit: Cell<Option<(i64, i32)>>,
    killed: Cell<bool>,
    timer: RefCell<Option<Timer>>,
}

impl SyncRun {
    /// `SetError`: the first error stays.
    fn set_error(&self, e: reactor::Error) {
        if self.error.get().is_none() {
            self.error.set(Some(e));
        }
    }

    /// `Kill`: the kill signal (SIGKILL if that is refused), then no more reading.
    fn kill(&self) {
        if self.killed.replace(true) {
            return;
        }
        if self.exit.get().is_none() {
            if let Some(p) = self.process.borrow().as_ref() {
                if let Err(e) = p.kill(self.kill_signal) {
                    if e != reactor::Error::ESRCH {
                        self.set_error(e);
                        let _ = p.kill(libc::SIGKILL);
                    }
                }
            }
        }
        for p in self.pipes.iter().flatten() {
            p.close(|_| {});
        }
        if let Some(t) = self.timer.borrow_mut().take() {
            t.close(|_| {});
        }
    }
}

/// `child_process.spawnSync(file, args, options)`: runs the child to its end on a loop
/// of its own, with this thread blocked meanwhile, and returns what it wrote and how it
/// ended. What went wrong in the child is `error` in the result; what Node throws (an
/// empty program name) is returned as `Err`.
///
/// ```
/// use millrace_streams::child_process::{spawn_sync, SpawnSyncOptions};
///
/// let opts = SpawnSyncOptions { input: Some("to cat".into()), ..SpawnSyncOptions::default() };
/// let r = spawn_sync("cat", Vec::<String>::new(), opts)?;
/// assert_eq!(r.status, Some(0));
/// assert_eq!(&r.stdout().unwrap()[..], b"to cat");
/// # Ok::<(), millrace_streams::Error>(())
/// ```
pub fn spawn_sync<I, S>(file: impl Into<OsString>, args: I, opts: SpawnSyncOptions) -> Result<SpawnSyncResult, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let (file, argv) = normalize(file.into(), args.into_iter().map(Into::into).collect(), &opts.spawn)?;
    if opts.spawn.stdio.contains(&Stdio::Ipc) {
        return Err(Error::node(Code::ERR_IPC_SYNC_FORK, ""));
    }
    let lp = Loop::new().map_err(|e| Error::sys(e, "spawnSync"))?;
    let (options, pipes) = process_options(&lp, &file, &argv, &opts.spawn);
    let run = Rc::new(SyncRun {
        process: RefCell::new(None),
        out: pipes.iter().map(|_| RefCell::new(Vec::new())).collect(),
        pipes,
        total: Cell::new(0),
        max_buffer: opts.max_buffer,
        kill_signal: opts.spawn.kill_signal,
        error: Cell::new(None),
        exit: Cell::new(None),
        killed: Cell::new(false),
        timer: RefCell::new(None),
    });
    let r = run.clone();
    let spawned = Process::spawn(&lp, &options, move |p, code, signal| {
        r.exit.set(Some((code, signal)));
        p.close(|_| {});
        if let Some(t) = r.timer.borrow_mut().take() {
            t.close(|_| {});
        }
    });
    let spawnfile = lossy(&file);
    let spawnargs: Vec<String> = argv[1..].iter().map(|a| lossy(a)).collect();
    let mut result = SpawnSyncResult::default();
    match spawned {
        Err(e) => {
            for p in run.pipes.iter().flatten() {
                p.close(|_| {});
            }
            lp.run(reactor::RunMode::Default);
            result.error = Some(Error::spawn(e, "spawnSync", &spawnfile, spawnargs));
            return Ok(result);
        }
        Ok(p) => {
            result.pid = p.pid();
            *run.process.borrow_mut() = Some(p);
        }
    }
    if opts.spawn.timeout > 0 {
        let t = Timer::new(&lp);
        let r = run.clone();
        let _ = t.start(opts.spawn.timeout, 0, move |_| {
            r.set_error(reactor::Error::ETIMEDOUT);
            r.kill();
        });
        *run.timer.borrow_mut() = Some(t);
    }
    for (i, pipe) in run.pipes.iter().enumerate() {
        let Some(pipe) = pipe else { continue };
        if i == 0 {
            if let Some(input) = opts.input.clone().filter(|b| !b.is_empty()) {
                let _ = pipe.write([input], |_, _| {});
            }
            let _ = pipe.shutdown(|_, _| {});
            continue;
        }
        let r = run.clone();
        let _ = pipe.read_start(move |p, ev| match ev {
            reactor::ReadEvent::Data(chunk) => {
                r.out[i].borrow_mut().extend_from_slice(&chunk);
                r.total.set(r.total.get() + chunk.len());
                if r.max_buffer > 0 && r.total.get() > r.max_buffer {
                    r.set_error(reactor::Error::ENOBUFS);
                    r.kill();
                }
            }
            _ => p.close(|_| {}),
        });
    }
    lp.run(reactor::RunMode::Default);
    // The pipes the child reads end with the child, or with a kill.
    for p in run.pipes.iter().flatten() {
        p.close(|_| {});
    }
    lp.run(reactor::RunMode::Default);
    if let Some((code, signal)) = run.exit.get() {
        if signal > 0 {
            result.signal = Some(signal_name(signal).unwrap_or("SIGUNKNOWN"));
        } else {
            result.status = Some(code as i32);
        }
    }
    result.output = Some(
        run.pipes
            .iter()
            .enumerate()
            .map(|(i, p)| (i > 0 && p.is_some()).then(|| bytes::Bytes::from(run.out[i].take())))
            .collect(),
    );
    result.error = run.error.get().map(|e| Error::spawn(e, "spawnSync", &spawnfile, spawnargs));
    let _ = lp.close();
    Ok(result)
}

/// What `execFileSync` and `execSync` throw: the error (the result's, or "Command
/// failed: CMD\nSTDERR" when the exit code is not 0) with the whole result attached,
/// as Node assigns it to the error.
#[derive(Clone, Debug)]
pub struct ExecSyncError {
    /// The error: `message()`, and `code()` for the result's errors (none for a command
    /// that failed).
    pub error: Error,
    /// `status`, `signal`, `pid`, `output`, `stdout`, `stderr`.
    pub result: SpawnSyncResult,
}

impl fmt::Display for ExecSyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error.message())
    }
}

impl std::error::Error for ExecSyncError {}

/// `child_process.execFileSync(file, args, options)`: [`spawn_sync`], then its stdout,
/// or the error. When `options.spawn.stdio` is left empty, what the child wrote to
/// stderr is written to this process's stderr too, as Node does.
pub fn exec_file_sync<I, S>(
    file: impl Into<OsString>,
    args: I,
    opts: SpawnSyncOptions,
) -> Result<Option<bytes::Bytes>, ExecSyncError>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let file: OsString = file.into();
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cmd = lossy(&command_line(opts.spawn.argv0.as_deref().unwrap_or(&file), &args));
    exec_sync_with(file, args, opts, cmd)
}

/// `child_process.execSync(command, options)`: [`exec_file_sync`] of the command line
/// through the shell (`/bin/sh -c`, or `options.spawn.shell`).
pub fn exec_sync(
    command: impl Into<OsString>,
    mut opts: SpawnSyncOptions,
) -> Result<Option<bytes::Bytes>, ExecSyncError> {
    if opts.spawn.shell.is_none() {
        opts.spawn.shell = Some("/bin/sh".into());
    }
    let command: OsString = command.into();
    let cmd = lossy(&command);
    exec_sync_with(command, Vec::new(), opts, cmd)
}

fn exec_sync_with(
    file: OsString,
    args: Vec<OsString>,
    opts: SpawnSyncOptions,
    cmd: String,
) -> Result<Option<bytes::Bytes>, ExecSyncError> {
    let inherit_stderr = opts.spawn.stdio.is_empty();
    let result = match spawn_sync(file, args, opts) {
        Ok(r) => r,
        Err(error) => return Err(ExecSyncError { error, result: SpawnSyncResult::default() }),
    };
    if inherit_stderr {
        if let Some(err) = result.stderr() {
            use std::io::Write;
            let _ = std::io::stderr().write_all(err);
        }
    }
    // Node's `checkExecSyncError`.
    if let Some(error) = result.error.clone() {
        return Err(ExecSyncError { error, result });
    }
    if result.status != Some(0) {
        let mut message = format!("Command failed: {cmd}");
        if let Some(err) = result.stderr().filter(|e| !e.is_empty()) {
            message.push('\n');
            message.push_str(&String::from_utf8_lossy(err));
        }
        return Err(ExecSyncError { error: Error::msg(message), result });
    }
    Ok(result.stdout().cloned())
}
