//! Child processes (libuv's `uv_process_t`, `src/unix/process.c`).
//!
//! [`Process::spawn`] starts a program with the descriptors the caller lays out, one
//! [`StdioContainer`] per child descriptor: ignored (0, 1 and 2 then read and write
//! `/dev/null`), a new socket pair whose other end opens the caller's [`Pipe`], or a
//! descriptor of the parent's inherited as is. The spawn itself is std's `Command` (fork
//! and exec with a close-on-exec pipe for the exec error, the directory, the user and
//! group, the environment); what libuv's child does beyond that (signals back to their
//! defaults, `setsid`, descriptors above 2, blocking 0–2) happens between fork and exec
//! in `sys::child_init`.
//!
//! How exits come back is libuv's on Linux: the loop owns one internal, unreferenced
//! `SIGCHLD` [`Signal`] handle, started with the first spawn. On every `SIGCHLD` it
//! asks each of the loop's live children with `waitpid(pid, WNOHANG)`, and calls the
//! exit callback of each that ended (poll phase). A process handle is active, and keeps
//! the loop alive, from the spawn until that callback; it must still be closed.

use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::handle::{sealed::HandleImpl, CallbackSlot, Handle, HandleCore};
use crate::loop_::Loop;
use crate::pipe::Pipe;
use crate::signal::Signal;
use crate::tcp::Tcp;

type ExitCb = dyn FnOnce(&Process, i64, i32);

/// What one descriptor of the child is (libuv's `uv_stdio_container_t`).
#[derive(Clone, Debug)]
pub enum StdioContainer {
    /// `UV_IGNORE`: descriptors 0, 1 and 2 read and write `/dev/null`; a higher one is
    /// left as the child inherits it (closed, normally: the reactor opens everything
    /// close-on-exec).
    Ignore,
    /// `UV_CREATE_PIPE`: a new Unix socket pair; the child gets one end as this
    /// descriptor, `pipe` (a handle with no descriptor yet) opens the other.
    /// `readable` and `writable` are the child's view (`UV_READABLE_PIPE`: the child
    /// reads, so the parent's handle is writable).
    CreatePipe {
        /// The parent's end.
        pipe: Pipe,
        /// The child reads from it (the parent's handle is writable).
        readable: bool,
        /// The child writes to it (the parent's handle is readable).
        writable: bool,
    },
    /// `UV_INHERIT_FD`: the child gets this descriptor of the parent's.
    InheritFd(RawFd),
    /// `UV_INHERIT_STREAM`: the child gets the descriptor of this stream handle (a
    /// [`Tcp`], or the stream side of a [`Pipe`] or `Tty`).
    InheritStream(Tcp),
}

/// What to run and how (libuv's `uv_process_options_t`).
///
/// ```
/// use millrace_reactor::{Handle, Loop, Process, ProcessOptions, RunMode};
/// use std::{cell::Cell, rc::Rc};
///
/// let lp = Loop::new()?;
/// let status = Rc::new(Cell::new(None));
/// let s = status.clone();
/// let opts = ProcessOptions::new("sh").args(["sh", "-c", "exit 7"]);
/// Process::spawn(&lp, &opts, move |p, code, signal| {
///     s.set(Some((code, signal)));
///     p.close(|_| {});
/// })?;
/// lp.run(RunMode::Default);
/// assert_eq!(status.get(), Some((7, 0)));
/// # Ok::<(), millrace_reactor::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ProcessOptions {
    /// The program: a path, or a name looked up in `PATH` (the child's `PATH` when
    /// `env` sets one, as `execvp` does after libuv replaces `environ`).
    pub file: OsString,
    /// The whole argument vector, `args[0]` included (what the child sees as its
    /// name); empty means just `file`.
    pub args: Vec<OsString>,
    /// The child's environment as `NAME=value` entries; `None` inherits the parent's.
    pub env: Option<Vec<OsString>>,
    /// The child's working directory; `None` keeps the parent's.
    pub cwd: Option<PathBuf>,
    /// The child's descriptors from 0 up; fewer than three means the rest of 0–2 are
    /// ignored (`/dev/null`).
    pub stdio: Vec<StdioContainer>,
    /// `UV_PROCESS_DETACHED`: the child leads a new session (`setsid`), so it is not
    /// in the parent's process group and outlives a terminal's hang-up.
    pub detached: bool,
    /// `UV_PROCESS_SETUID`: the child's user id.
    pub uid: Option<u32>,
    /// `UV_PROCESS_SETGID`: the child's group id.
    pub gid: Option<u32>,
}

impl ProcessOptions {
    /// Options that run `file` with no other argument, inheriting the environment and
    /// the directory, with 0–2 ignored.
    pub fn new(file: impl Into<OsString>) -> ProcessOptions {
        ProcessOptions { file: file.into(), ..ProcessOptions::default() }
    }

    /// Sets the whole argument vector (`args[0]` included).
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> ProcessOptions {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the descriptors.
    pub fn stdio(mut self, stdio: impl IntoIterator<Item = StdioContainer>) -> ProcessOptions {
        self.stdio = stdio.into_iter().collect();
        self
    }
}

pub(crate) struct ProcessInner {
    core: HandleCore,
    pid: Cell<i32>,
    status: Cell<Option<i32>>,
    exit_cb: CallbackSlot<ExitCb>,
}

/// A child process handle (`uv_process_t`).
#[derive(Clone)]
pub struct Process(Rc<ProcessInner>);

/// What the loop keeps for its children: the live ones, and the `SIGCHLD` watcher.
#[derive(Default)]
pub(crate) struct Children {
    live: Vec<Rc<ProcessInner>>,
    watcher: Option<Signal>,
}

/// The parent's and the child's ends of one descriptor while the spawn is prepared.
struct Slot {
    parent: Option<OwnedFd>,
    child: Option<OwnedFd>,
}

impl Process {
    /// `uv_spawn`: starts the program and returns its handle, active until `exit_cb`
    /// runs with the exit status and the number of the signal that ended it (one of
    /// them is 0). The callback comes in the poll phase of the iteration that sees the
    /// child's `SIGCHLD`; close the handle afterwards (or at any time: a handle closed
    /// while its child runs never reports the exit).
    ///
    /// Errors:
    /// - from the child, as libuv reports them, before this returns: `ENOENT` or
    ///   `EACCES` for a program that cannot run, `ENOENT` for a missing `cwd`, `EPERM`
    ///   for a user or group the parent may not take. As in libuv (and because Node
    ///   relies on it), the parent's ends of the pipes are opened into their handles
    ///   even then, and see end-of-file at once.
    /// - before any child exists: `EINVAL` for an inherited descriptor that is negative
    ///   or a stream with none, `EBADF` for one that is not open, `EBUSY` for a pipe
    ///   that has a descriptor already, `EINVAL` for one that is closing.
    pub fn spawn(
        lp: &Loop,
        options: &ProcessOptions,
        exit_cb: impl FnOnce(&Process, i64, i32) + 'static,
    ) -> Result<Process> {
        let count = options.stdio.len().max(3);
        let mut slots = Vec::with_capacity(count);
        for i in 0..count {
            slots.push(match options.stdio.get(i) {
                None | Some(StdioContainer::Ignore) => Slot { parent: None, child: None },
                Some(StdioContainer::CreatePipe { pipe, .. }) => {
                    pipe.stream().check_open()?;
                    if pipe.stream().fileno().is_some() {
                        return Err(Error::EBUSY);
                    }
                    let (parent, child) = std::os::unix::net::UnixStream::pair()?;
                    Slot { parent: Some(parent.into()), child: Some(child.into()) }
                }
                Some(StdioContainer::InheritFd(fd)) => Slot { parent: None, child: Some(inherit(Some(*fd))?) },
                Some(StdioContainer::InheritStream(s)) => Slot { parent: None, child: Some(inherit(s.fileno())?) },
            });
        }

        let mut cmd = Command::new(&options.file);
        match options.args.split_first() {
            Some((arg0, rest)) => {
                cmd.arg0(arg0).args(rest);
            }
            None => {
                cmd.arg0(&options.file);
            }
        }
        if let Some(env) = &options.env {
            cmd.env_clear();
            for entry in env {
                let (name, value) = split_env(entry);
                cmd.env(name, value);
            }
        }
        if let Some(cwd) = &options.cwd {
            cmd.current_dir(cwd);
        }
        if let Some(uid) = options.uid {
            cmd.uid(uid);
        }
        if let Some(gid) = options.gid {
            cmd.gid(gid);
        }
        let mut moves = Vec::new();
        for (i, slot) in slots.iter_mut().enumerate() {
            let stdio = match (i, slot.child.as_ref()) {
                (0..=2, None) => Stdio::null(),
                (0..=2, Some(_)) => Stdio::from(slot.child.take().expect("checked")),
                (_, Some(fd)) => {
                    moves.push((std::os::fd::AsRawFd::as_raw_fd(fd), i as RawFd));
                    continue;
                }
                (_, None) => continue,
            };
            match i {
                0 => cmd.stdin(stdio),
                1 => cmd.stdout(stdio),
                _ => cmd.stderr(stdio),
            };
        }
        // Every free number among the child's descriptors above 2 is taken by a
        // placeholder for the spawn: the descriptors std opens meanwhile (its exec-error
        // pipe above all) then cannot have a number that the child's setup overwrites.
        let _placeholders = if moves.is_empty() { Vec::new() } else { placeholders(count as RawFd)? };
        crate::sys::child_init(&mut cmd, moves, options.detached);

        start_watcher(lp)?;
        let spawned = cmd.spawn();
        drop(cmd); // closes the child's ends of 0-2
        for slot in slots.iter_mut() {
            slot.child = None; // and of the rest
        }

        let process = match spawned {
            Ok(child) => {
                let p = Process(Rc::new(ProcessInner {
                    core: HandleCore::new(lp),
                    pid: Cell::new(child.id() as i32),
                    status: Cell::new(None),
                    exit_cb: CallbackSlot::empty(),
                }));
                p.0.exit_cb.set(Box::new(exit_cb));
                lp.inner().children.borrow_mut().live.push(p.0.clone());
                p.0.core.start();
                Ok(p)
            }
            Err(e) => Err(Error::from(e)),
        };
        for (slot, container) in slots.iter_mut().zip(&options.stdio) {
            if let (Some(fd), StdioContainer::CreatePipe { pipe, readable, writable }) = (slot.parent.take(), container)
            {
                pipe.stream().adopt(fd)?;
                pipe.stream().set_access(*writable, *readable);
            }
        }
        if process.is_err() {
            stop_watcher_if_idle(lp);
        }
        process
    }

    /// The child's process id (kept after it exits).
    pub fn pid(&self) -> i32 {
        self.0.pid.get()
    }

    /// `uv_process_kill`: sends `signum` to the child. `ESRCH` once it has been reaped,
    /// `EINVAL` for a signal number that does not exist; 0 only checks the child is
    /// there.
    pub fn kill(&self, signum: i32) -> Result<()> {
        if self.0.status.get().is_some() {
            return Err(Error::ESRCH);
        }
        kill(self.pid(), signum)
    }
}

/// `uv_kill`: `kill(2)` with libuv's errors (`EINVAL`, `EPERM`, `ESRCH`).
pub fn kill(pid: i32, signum: i32) -> Result<()> {
    Ok(crate::sys::kill(pid, signum)?)
}

/// Takes ownership of descriptor `fd`, which this process inherited from its parent
/// (a number handed over in the environment, as Node's `NODE_CHANNEL_FD`), so that a
/// handle can be opened on it (`uv_pipe_open(pipe, fd)` with the number). It is made
/// close-on-exec, so this process's own children do not inherit it too.
///
/// The contract is the caller's: nothing else in the process may own `fd` (the
/// descriptor is closed when the returned value is dropped). To keep one number from
/// being taken twice through here, a second call for the same number is `EBUSY`; a
/// number that is not open is `EBADF`, and a negative one `EINVAL`.
pub fn take_inherited_fd(fd: RawFd) -> Result<OwnedFd> {
    static TAKEN: std::sync::Mutex<Vec<RawFd>> = std::sync::Mutex::new(Vec::new());
    if fd < 0 {
        return Err(Error::EINVAL);
    }
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    if taken.contains(&fd) {
        return Err(Error::EBUSY);
    }
    let owned = crate::sys::own_inherited(fd)?;
    taken.push(fd);
    Ok(owned)
}

fn inherit(fd: Option<RawFd>) -> Result<OwnedFd> {
    match fd {
        Some(fd) if fd >= 0 => Ok(crate::sys::dup_at_least(fd, 3)?),
        _ => Err(Error::EINVAL),
    }
}

/// `NAME=value` split at the first `=` after the first byte (a name may start with
/// one, as Windows' `=C:` do); an entry without `=` is a name with an empty value.
fn split_env(entry: &OsStr) -> (&OsStr, &OsStr) {
    let b = entry.as_bytes();
    match b.iter().skip(1).position(|&c| c == b'=') {
        Some(i) => (OsStr::from_bytes(&b[..i + 1]), OsStr::from_bytes(&b[i + 2..])),
        None => (entry, OsStr::new("")),
    }
}

/// Close-on-exec duplicates of `/dev/null` on every free descriptor number from 3 to
/// `count - 1`.
fn placeholders(count: RawFd) -> Result<Vec<OwnedFd>> {
    let null = std::fs::File::open("/dev/null")?;
    let mut held = Vec::new();
    loop {
        let fd = crate::sys::dup_at_least(std::os::fd::AsRawFd::as_raw_fd(&null.as_fd()), 3)?;
        if std::os::fd::AsRawFd::as_raw_fd(&fd) >= count {
            return Ok(held);
        }
        held.push(fd);
    }
}

fn start_watcher(lp: &Loop) -> Result<()> {
    let mut ch = lp.inner().children.borrow_mut();
    let watcher = ch.watcher.get_or_insert_with(|| {
        let s = Signal::new(lp);
        s.core().mark_internal();
        s.unref();
        s
    });
    if !watcher.is_active() {
        watcher.start(libc::SIGCHLD, |s, _| wait_children(&s.get_loop()))?;
    }
    Ok(())
}

/// `uv__process_close`'s `uv_signal_stop` of the watcher, once no child is left. The
/// watcher is dropped too (stopped, it holds nothing of the OS's), so that a loop
/// dropped without `Loop::close` does not keep itself alive through it.
fn stop_watcher_if_idle(lp: &Loop) {
    let watcher = {
        let mut ch = lp.inner().children.borrow_mut();
        if !ch.live.is_empty() {
            return;
        }
        ch.watcher.take()
    };
    if let Some(w) = watcher {
        w.stop();
    }
}

/// `uv__wait_children`: reaps every child of this loop that has ended, then calls the
/// exit callbacks, in spawn order.
fn wait_children(lp: &Loop) {
    let live: Vec<Rc<ProcessInner>> = lp.inner().children.borrow().live.clone();
    let mut ended = Vec::new();
    for p in live {
        match crate::sys::waitpid_nohang(p.pid.get()) {
            Ok(None) => {}
            Ok(Some(status)) => {
                p.status.set(Some(status));
                ended.push(p);
            }
            // ECHILD: someone else reaped it (libuv: "handle this by not handling it").
            Err(_) => {}
        }
    }
    if ended.is_empty() {
        return;
    }
    lp.inner().children.borrow_mut().live.retain(|p| !ended.iter().any(|e| Rc::ptr_eq(e, p)));
    for p in ended {
        if p.core.is_closing() {
            continue; // closed by an earlier exit callback
        }
        p.core.stop();
        let status = p.status.get().unwrap_or(0);
        let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 0 };
        let signal = if libc::WIFSIGNALED(status) { libc::WTERMSIG(status) } else { 0 };
        let cb = p.exit_cb.take();
        if let Some(cb) = cb {
            cb(&Process(p), code.into(), signal);
            lp.run_next_ticks();
        }
    }
}

impl HandleImpl for Process {
    fn core(&self) -> &HandleCore {
        &self.0.core
    }

    /// `uv__process_close`: forget the child; the last one stops the `SIGCHLD` watcher.
    fn close_now(&self) {
        let lp = self.0.core.lp.clone();
        lp.inner().children.borrow_mut().live.retain(|p| !Rc::ptr_eq(p, &self.0));
        self.0.core.stop();
        stop_watcher_if_idle(&lp);
    }

    fn drop_callbacks(&self) {
        self.0.exit_cb.clear();
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.0.pid.get())
            .field("status", &self.0.status.get())
            .field("active", &self.0.core.is_active())
            .finish()
    }
}
