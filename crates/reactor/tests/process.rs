//! Child processes. Ported from libuv 1.46's test/test-spawn.c, with the child helpers
//! of test/run-tests.c (`spawn_helper1` … `spawn_helper9`, `spawn_tcp_server_helper`,
//! `spawn_helper_setuid_setgid`), `process_ref` from test-ref.c and
//! `kill_invalid_signum` from test-signal.c. Each test keeps libuv's name and its
//! assertions (exit status, terminating signal, bytes read, callback counts).
//!
//! This target has no libtest harness (`harness = false`): like libuv's runner, the
//! binary runs itself again as the child, and `main` dispatches on `argv[1]`. A helper
//! name makes it that helper; otherwise it runs the table of tests one after another,
//! each on a fresh `Loop`, catching a panic per test, with libtest's substring filter
//! (arguments starting with `-` are ignored, but for `--skip NAME` and `--list`): the
//! runner in tests/util/runner.rs, shared with ipc.rs.
//!
//! libuv runs each test in a process of its own; here they share one, so:
//! - the descriptors 0, 1 and 2 are saved before each test and put back after it (some
//!   tests close them or `dup2` files over them), and any child a test spawned that is
//!   still running afterwards is killed and reaped;
//! - the tests that change what cannot be put back run in a process of their own (this
//!   binary again, with `run_isolated NAME RESULT_FILE`): `spawn_setuid_fails` and
//!   `spawn_setgid_fails` (which, as root, become `nobody` for good) and
//!   `spawn_fails_check_for_waitpid_cleanup` (which asks that the process have no
//!   child left at all).
//!
//! A test that cannot run here says so (`skipped: why`) instead of passing.
//!
//! `kill` found a difference from libuv, since fixed: the child kept the parent's
//! signal mask (std's `Command` does not empty it), so a parent that blocks SIGTERM
//! had children that could not be terminated.
//!
//! Differences from libuv's tests, all from the API, none from the behaviour tested:
//! - A failed spawn gives no handle (`Process::spawn` returns `Err`), so there is no
//!   `uv_is_active(&process) == 0` to check and no handle to close; the tests check that
//!   nothing is active on the loop instead (`spawn_fails`,
//!   `spawn_exercise_sigchld_issue`, which therefore counts 1 close callback, not 101).
//! - An exit callback is required: where libuv passes `NULL` (`spawn_auto_unref`,
//!   `process_ref`) a callback that does nothing stands in.
//! - `MAKE_VALGRIND_HAPPY` closes whatever is left with `uv_walk`; ours requires every
//!   handle closed, so the tests that left handles open to it (`spawn_detached`,
//!   `spawn_tcp_server`, `closed_fd_events`) close them just before.
//! - `spawn_tcp_server` binds port 0 rather than `TEST_PORT` (other test binaries run at
//!   the same time).
//! - `spawn_empty_env` runs even with `LD_LIBRARY_PATH` set (cargo always sets it):
//!   libuv skips then only because its runner may need it to find libuv.so, and this
//!   binary needs no shared library from there.
//!
//! Not ported:
//! - Windows-only tests: `spawn_detect_pipe_name_collisions_on_windows`,
//!   `argument_escaping`, `environment_creation` (Windows command-line quoting and
//!   environment blocks), `spawn_quoted_path` (`RETURN_SKIP` on Unix), and the Windows
//!   variants of `spawn_setuid_fails` and `spawn_setgid_fails` (`UV_ENOTSUP`; the Unix
//!   variants are here).
//! - Flags with no counterpart in `ProcessOptions`, all ignored on Unix by libuv too:
//!   `UV_PROCESS_WINDOWS_HIDE*` and `UV_PROCESS_WINDOWS_VERBATIM_ARGUMENTS` (set in
//!   `spawn_setuid_fails`).
//!
//! Additions:
//! - `spawn_with_an_odd_path` is Windows-only in libuv (a `PATH` with `;` and `.`);
//!   here it is its Unix analogue: a `PATH` with odd, `.` and empty entries.
//! - `spawn_same_stdout_stderr` is in test-spawn.c but not in libuv's test list; it is
//!   run here.
//! - `closed_fd_events`, also in test-spawn.c, is ported too.
//! - `spawn_detached` also checks that the child leads its own session.

mod util;

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libc::SIGTERM;
use millrace_reactor::{
    fs, kill, Error, Family, Handle, Loop, Pipe, Process, ProcessOptions, ReadEvent, RunMode, StdioContainer, Tcp,
    Timer,
};
use util::runner::{self, reap_children, skip, spawn, Outcome, Skip};
use util::{do_close, make_valgrind_happy, Counter, TempPath};

use StdioContainer::{CreatePipe, Ignore, InheritFd, InheritStream};

/// `uv_run(loop, UV_RUN_DEFAULT)` bounded by a 10 s watchdog (an unreferenced timer
/// that panics), so that a child that never exits fails the test instead of hanging it.
fn run(lp: &Loop) -> bool {
    util::net::run(lp)
}

// ---------------------------------------------------------------------------------
// The test runner (util::runner, plus the tests that run in a process of their own).

/// Where the test runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In the runner's process.
    Here,
    /// In a process of its own (it changes what cannot be put back).
    Own,
}

struct Test {
    name: &'static str,
    f: fn(&Loop) -> Outcome,
    place: Place,
}

const fn here(name: &'static str, f: fn(&Loop) -> Outcome) -> Test {
    Test { name, f, place: Place::Here }
}

const fn own(name: &'static str, f: fn(&Loop) -> Outcome) -> Test {
    Test { name, f, place: Place::Own }
}

const TESTS: &[Test] = &[
    here("process_ref", process_ref),
    here("spawn_fails", spawn_fails),
    own("spawn_fails_check_for_waitpid_cleanup", spawn_fails_check_for_waitpid_cleanup),
    here("spawn_empty_env", spawn_empty_env),
    here("spawn_exit_code", spawn_exit_code),
    here("spawn_stdout", spawn_stdout),
    here("spawn_stdin", spawn_stdin),
    here("spawn_stdio_greater_than_3", spawn_stdio_greater_than_3),
    here("spawn_ignored_stdio", spawn_ignored_stdio),
    here("spawn_and_kill", spawn_and_kill),
    here("spawn_detached", spawn_detached),
    here("spawn_and_kill_with_std", spawn_and_kill_with_std),
    here("spawn_and_ping", spawn_and_ping),
    here("spawn_same_stdout_stderr", spawn_same_stdout_stderr),
    here("spawn_preserve_env", spawn_preserve_env),
    own("spawn_setuid_fails", spawn_setuid_fails),
    own("spawn_setgid_fails", spawn_setgid_fails),
    here("spawn_stdout_to_file", spawn_stdout_to_file),
    here("spawn_stdout_and_stderr_to_file", spawn_stdout_and_stderr_to_file),
    here("spawn_stdout_and_stderr_to_file2", spawn_stdout_and_stderr_to_file2),
    here("spawn_stdout_and_stderr_to_file_swap", spawn_stdout_and_stderr_to_file_swap),
    here("spawn_auto_unref", spawn_auto_unref),
    here("spawn_closed_process_io", spawn_closed_process_io),
    here("spawn_reads_child_path", spawn_reads_child_path),
    here("spawn_inherit_streams", spawn_inherit_streams),
    here("spawn_tcp_server", spawn_tcp_server),
    here("spawn_exercise_sigchld_issue", spawn_exercise_sigchld_issue),
    here("spawn_relative_path", spawn_relative_path),
    here("kill", kill_),
    here("kill_invalid_signum", kill_invalid_signum),
    here("spawn_fs_open", spawn_fs_open),
    here("closed_fd_events", closed_fd_events),
    here("spawn_with_an_odd_path", spawn_with_an_odd_path),
    here("spawn_setuid_setgid", spawn_setuid_setgid),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(name) = args.get(1) {
        if let Some(code) = helper(name, &args[2..]) {
            std::process::exit(code);
        }
        if name == "run_isolated" && args.len() == 4 {
            return run_isolated_child(&args[2], PathBuf::from(&args[3]));
        }
    }
    runner::run_tests(
        TESTS,
        &args,
        |t| t.name,
        |t| match t.place {
            Place::Here => run_here(t),
            Place::Own => run_in_own_process(t),
        },
    )
}

/// Runs `t` in this process on a fresh loop: its outcome, or the panic's message.
fn run_here(t: &Test) -> Result<Outcome, String> {
    let saved = save_stdio();
    let r = runner::catch(|| {
        let lp = Loop::new().expect("Loop::new");
        (t.f)(&lp)
    });
    restore_stdio(saved);
    reap_children();
    r
}

/// Runs `t` in a child of this binary (`run_isolated NAME RESULT_FILE`), which writes
/// its outcome to the file.
fn run_in_own_process(t: &Test) -> Result<Outcome, String> {
    let result = TempPath::new("process-result");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["run_isolated", t.name])
        .arg(result.path())
        .spawn()
        .map_err(|e| format!("cannot run the test in its own process: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the test's process still runs after 30 s: killed".to_string());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let text = std::fs::read_to_string(result.path()).unwrap_or_default();
    match text.split_once('\t') {
        Some(("ok", _)) if status.success() => Ok(Ok(())),
        Some(("skipped", why)) if status.success() => Ok(Err(Skip(why.to_string()))),
        Some(("failed", msg)) => Err(msg.to_string()),
        _ => Err(format!("the test's process ended with {status} and reported {text:?}")),
    }
}

/// The child's side of [`run_in_own_process`].
fn run_isolated_child(name: &str, result: PathBuf) -> ExitCode {
    use std::io::Write;
    // Opened now: the test may give up the rights it takes to open it.
    let mut file = std::fs::File::create(result).expect("the result file");
    runner::set_panic_hook();
    let Some(t) = TESTS.iter().find(|t| t.name == name) else {
        let _ = write!(file, "failed\tno test named {name}");
        return ExitCode::FAILURE;
    };
    let line = match run_here(t) {
        Ok(Ok(())) => "ok\t".to_string(),
        Ok(Err(Skip(why))) => format!("skipped\t{why}"),
        Err(msg) => format!("failed\t{msg}"),
    };
    file.write_all(line.as_bytes()).expect("writing the result file");
    ExitCode::SUCCESS
}

/// Copies of descriptors 0, 1 and 2 (`None` for one that is closed).
fn save_stdio() -> [Option<OwnedFd>; 3] {
    std::array::from_fn(|fd| {
        // SAFETY: F_DUPFD_CLOEXEC only adds a descriptor; a closed `fd` fails with EBADF.
        let copy = unsafe { libc::fcntl(fd as RawFd, libc::F_DUPFD_CLOEXEC, 10) };
        // SAFETY: a new descriptor that nothing else owns.
        (copy >= 0).then(|| unsafe { OwnedFd::from_raw_fd(copy) })
    })
}

fn restore_stdio(saved: [Option<OwnedFd>; 3]) {
    for (fd, copy) in saved.into_iter().enumerate() {
        if let Some(copy) = copy {
            // SAFETY: dup2 only changes the descriptor table; whatever a test left on
            // 0, 1 or 2 is replaced by what was there before it.
            let r = unsafe { libc::dup2(copy.as_raw_fd(), fd as RawFd) };
            assert_eq!(r, fd as RawFd, "restoring descriptor {fd}");
        }
    }
}

// ---------------------------------------------------------------------------------
// The child side (run-tests.c's `maybe_run_test`).

/// libuv's `ASSERT` in a helper: abort, so the parent sees SIGABRT.
fn check(cond: bool, what: &str) {
    if !cond {
        eprintln!("helper: assertion failed: {what}");
        std::process::abort();
    }
}

/// `write(2)` of all of `buf` (libuv's runner makes stdout and stderr unbuffered).
fn write_fd(fd: RawFd, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        // SAFETY: write reads `buf.len()` bytes from `buf`, which lives across the call.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return false;
        }
        buf = &buf[n as usize..];
    }
    true
}

/// `read(2)`, retried on EINTR.
fn read_fd(fd: RawFd, buf: &mut [u8]) -> isize {
    loop {
        // SAFETY: read writes at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return n;
    }
}

/// The exit code of helper `name`, which has run; `None` if `name` is no helper.
fn helper(name: &str, args: &[String]) -> Option<i32> {
    match name {
        "spawn_helper1" => Some(1),
        "spawn_helper2" => {
            check(write_fd(1, b"hello world\n"), "write to stdout");
            Some(1)
        }
        "spawn_tcp_server_helper" => Some(spawn_tcp_server_helper()),
        "spawn_helper3" => {
            // fgets(buffer, 255, stdin); fputs(buffer, stdout)
            let mut line = Vec::new();
            let mut byte = [0u8];
            while line.len() < 254 && read_fd(0, &mut byte) == 1 {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            check(!line.is_empty(), "fgets(stdin) != NULL");
            let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
            write_fd(1, &line[..end]);
            Some(1)
        }
        "spawn_helper4" => loop {
            // Never surrender, never return!
            std::thread::sleep(Duration::from_secs(10));
        },
        "spawn_helper5" => {
            write_fd(3, b"fourth stdio!\n");
            // SAFETY: fsync takes a descriptor number only.
            unsafe { libc::fsync(3) };
            Some(1)
        }
        "spawn_helper6" => {
            check(write_fd(1, b"hello world\n"), "fprintf(stdout) > 0");
            check(write_fd(2, b"hello errworld\n"), "fprintf(stderr) > 0");
            Some(1)
        }
        "spawn_helper7" => {
            // Test if the test value from the parent is still set.
            let test = std::env::var_os("ENV_TEST");
            check(test.is_some(), "getenv(\"ENV_TEST\") != NULL");
            let test = test.unwrap_or_default();
            check(write_fd(1, std::os::unix::ffi::OsStrExt::as_bytes(test.as_os_str())), "fprintf > 0");
            Some(1)
        }
        "spawn_helper8" => {
            let mut closed_fd = [0u8; 4];
            let mut open_fd = [0u8; 4];
            check(read_fd(0, &mut closed_fd) == 4, "read(closed_fd)");
            check(read_fd(0, &mut open_fd) == 4, "read(open_fd)");
            let (closed_fd, open_fd) = (i32::from_ne_bytes(closed_fd), i32::from_ne_bytes(open_fd));
            check(open_fd > 2, "open_fd > 2");
            check(closed_fd > 2, "closed_fd > 2");
            // SAFETY: write reads one byte from a static string.
            check(unsafe { libc::write(closed_fd, b"x".as_ptr().cast(), 1) } == -1, "write(closed_fd) == -1");
            Some(1)
        }
        "spawn_helper9" => {
            // spawn_stdin_stdout: copy stdin to stdout until EOF.
            let mut buf = [0u8; 1024];
            loop {
                let n = read_fd(0, &mut buf);
                if n == 0 {
                    break;
                }
                check(n > 0, "read(0) > 0");
                check(write_fd(1, &buf[..n as usize]), "write(1)");
            }
            Some(1)
        }
        "spawn_helper_setuid_setgid" => {
            let uid: u32 = args.first().and_then(|s| s.parse().ok()).unwrap_or(u32::MAX);
            let gid: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(u32::MAX);
            // SAFETY: getuid and getgid cannot fail and touch no memory.
            check(uid == unsafe { libc::getuid() }, "uid == getuid()");
            // SAFETY: as above.
            check(gid == unsafe { libc::getgid() }, "gid == getgid()");
            Some(1)
        }
        _ => None,
    }
}

/// Listens on the bound socket the parent passed as descriptor 3.
fn spawn_tcp_server_helper() -> i32 {
    let lp = Loop::new().expect("Loop::new");
    let tcp = Tcp::new(&lp);
    // SAFETY: descriptor 3 is the socket the parent passed; nothing else here owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(3) };
    check(tcp.open_fd(fd).is_ok(), "uv_tcp_open(3) == 0");
    // Make sure that we can listen on a socket that was passed down from the parent
    // process.
    check(tcp.listen(libc::SOMAXCONN, |_, _| {}).is_ok(), "uv_listen == 0");
    1
}

// ---------------------------------------------------------------------------------
// test-spawn.c's statics and callbacks.

/// A test's `close_cb_called`, `exit_cb_called` and `output`.
#[derive(Clone, Default)]
struct G {
    close_cb_called: Counter,
    exit_cb_called: Counter,
    output: Rc<RefCell<Vec<u8>>>,
}

impl G {
    fn close_cb<H>(&self) -> impl FnOnce(&H) + 'static {
        let c = self.close_cb_called.clone();
        move |_| {
            c.inc();
        }
    }

    /// libuv's `exit_cb`: the helper exited with 1.
    fn exit_cb(&self) -> impl FnOnce(&Process, i64, i32) + 'static {
        let g = self.clone();
        move |p, exit_status, term_signal| {
            g.exit_cb_called.inc();
            assert_eq!((exit_status, term_signal), (1, 0), "exit_cb: (exit_status, term_signal)");
            p.close(g.close_cb());
        }
    }

    /// libuv's `kill_cb`: the helper died of SIGTERM, and is gone.
    fn kill_cb(&self) -> impl FnOnce(&Process, i64, i32) + 'static {
        let g = self.clone();
        move |p, exit_status, term_signal| {
            g.exit_cb_called.inc();
            assert_eq!(exit_status, 0, "kill_cb: exit_status");
            assert_eq!(term_signal, SIGTERM, "kill_cb: term_signal");
            p.close(g.close_cb());
            // Sending signum == 0 should check if the child process is still alive, not
            // kill it. This process should be dead.
            assert_eq!(kill(p.pid(), 0), Err(Error::ESRCH));
        }
    }

    /// libuv's `on_read`: collects the output, closes the pipe at EOF.
    fn on_read(&self) -> impl FnMut(&Pipe, ReadEvent) + 'static {
        let g = self.clone();
        move |p, ev| match ev {
            ReadEvent::Data(b) => g.output.borrow_mut().extend_from_slice(&b),
            ReadEvent::Eof => p.close(g.close_cb()),
            ReadEvent::Error(e) => panic!("on_read: {e:?} (expected data or EOF)"),
        }
    }

    /// libuv's `on_read_once`.
    fn on_read_once(&self) -> impl FnMut(&Pipe, ReadEvent) + 'static {
        let mut on_read = self.on_read();
        move |p, ev| {
            p.read_stop();
            on_read(p, ev);
        }
    }

    /// libuv's `write_cb`: the write succeeded; close the pipe.
    fn write_cb(&self) -> impl FnOnce(&Pipe, Result<(), Error>) + 'static {
        let g = self.clone();
        move |p, r| {
            assert_eq!(r, Ok(()), "write_cb: status");
            p.close(g.close_cb());
        }
    }

    fn output(&self) -> Vec<u8> {
        self.output.borrow().clone()
    }
}

fn fail_cb(_: &Process, _: i64, _: i32) {
    panic!("fail_cb called");
}

fn exepath() -> PathBuf {
    std::env::current_exe().expect("uv_exepath")
}

/// libuv's `init_process_options`: run this binary as helper `test`.
fn init_process_options(test: &str) -> ProcessOptions {
    let exe = exepath();
    ProcessOptions::new(&exe).args([exe.into_os_string(), OsString::from(test)])
}

fn pipe_out(pipe: &Pipe) -> StdioContainer {
    CreatePipe { pipe: pipe.clone(), readable: false, writable: true }
}

fn pipe_in(pipe: &Pipe) -> StdioContainer {
    CreatePipe { pipe: pipe.clone(), readable: true, writable: false }
}

const NOT_A_PROGRAM: &str = "program-that-had-better-not-exist";

/// The uid and gid of user `nobody`.
fn nobody() -> Option<(u32, u32)> {
    // SAFETY: the name is NUL-terminated; the record, if any, is valid until the next
    // getpw* call, and is copied out of at once.
    unsafe {
        let pw = libc::getpwnam(c"nobody".as_ptr());
        (!pw.is_null()).then(|| ((*pw).pw_uid, (*pw).pw_gid))
    }
}

fn getuid() -> u32 {
    // SAFETY: getuid cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

/// libuv's "if root, become nobody" (for good: real, effective and saved ids).
fn become_nobody_if_root() {
    if getuid() == 0 {
        let (uid, gid) = nobody().expect("getpwnam(\"nobody\")");
        // SAFETY: setgid and setuid take integers and touch no memory.
        assert_eq!(unsafe { libc::setgid(gid) }, 0, "setgid(nobody)");
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setuid(uid) }, 0, "setuid(nobody)");
    }
}

/// Sets an environment variable for the rest of the test, and puts back what was there.
struct EnvVar(&'static str, Option<OsString>);

impl EnvVar {
    fn set(name: &'static str, value: impl Into<OsString>) -> EnvVar {
        let old = std::env::var_os(name);
        std::env::set_var(name, value.into());
        EnvVar(name, old)
    }
}

impl Drop for EnvVar {
    fn drop(&mut self) {
        match self.1.take() {
            Some(v) => std::env::set_var(self.0, v),
            None => std::env::remove_var(self.0),
        }
    }
}

// ---------------------------------------------------------------------------------
// The tests.

// test-ref.c: an unreferenced process handle does not keep the loop alive.
fn process_ref(lp: &Loop) -> Outcome {
    // spawn_helper4 blocks indefinitely.
    let options = init_process_options("spawn_helper4");
    let h = spawn(lp, &options, |_, _, _| {}).unwrap();
    h.unref();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(h.kill(SIGTERM), Ok(()));
    do_close(lp, &h);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_fails(lp: &Loop) -> Outcome {
    let mut options = init_process_options("");
    options.file = NOT_A_PROGRAM.into();
    options.args[0] = NOT_A_PROGRAM.into();
    let r = spawn(lp, &options, fail_cb).unwrap_err();
    assert!(r == Error::ENOENT || r == Error::EACCES, "uv_spawn: {r:?}");
    assert_eq!(lp.active_handles(), 0);
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(lp);
    Ok(())
}

// libuv waits for the failed child's pid and expects ECHILD. No handle, hence no pid,
// comes back here; run in a process of its own, the test asks instead that this
// process have no child at all, reaped or not.
fn spawn_fails_check_for_waitpid_cleanup(lp: &Loop) -> Outcome {
    let mut options = init_process_options("");
    options.file = NOT_A_PROGRAM.into();
    options.args[0] = NOT_A_PROGRAM.into();
    let r = spawn(lp, &options, fail_cb).unwrap_err();
    assert!(r == Error::ENOENT || r == Error::EACCES, "uv_spawn: {r:?}");
    assert_eq!(lp.active_handles(), 0);
    assert!(!lp.run(RunMode::Default));

    // Verify the child is successfully cleaned up.
    let mut status = 0;
    // SAFETY: waitpid writes one int through the pointer, which points at `status`.
    let err = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    assert_eq!((err, errno), (-1, Some(libc::ECHILD)), "waitpid(-1): a child is left");

    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(lp);
    Ok(())
}

// libuv skips this when LD_LIBRARY_PATH (or the like) is set, because its test runner
// may be linked against libuv.so. This binary links no shared library from those paths
// (cargo sets LD_LIBRARY_PATH for every test run), so it runs regardless.
fn spawn_empty_env(lp: &Loop) -> Outcome {
    let g = G::default();
    let mut options = init_process_options("spawn_helper1");
    options.env = Some(Vec::new());
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_exit_code(lp: &Loop) -> Outcome {
    let g = G::default();
    let options = init_process_options("spawn_helper1");
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_stdout(lp: &Loop) -> Outcome {
    let g = G::default();
    let out = Pipe::new(lp);
    let options = init_process_options("spawn_helper2").stdio([Ignore, pipe_out(&out)]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    out.read_start(g.on_read()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 2); // Once for process once for the pipe.
    assert_eq!(String::from_utf8_lossy(&g.output()), "hello world\n");
    make_valgrind_happy(lp);
    Ok(())
}

/// `uv_fs_open(path, O_CREAT | O_RDWR, S_IRUSR | S_IWUSR)`.
fn open_rw(path: &TempPath) -> fs::File {
    fs::open_sync(path.path(), "w+", 0o600).expect("uv_fs_open")
}

/// `uv_fs_read(file, buf of 1024, offset 0)`.
fn read_all(file: &fs::File) -> Vec<u8> {
    fs::read_sync(file, 1024, Some(0)).expect("uv_fs_read").to_vec()
}

fn spawn_stdout_to_file(lp: &Loop) -> Outcome {
    let g = G::default();
    let path = TempPath::new("stdout_file");
    let file = open_rw(&path);
    let options = init_process_options("spawn_helper2").stdio([Ignore, InheritFd(file.fd().unwrap())]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    let output = read_all(&file);
    assert_eq!(output.len(), 12);
    fs::close_sync(&file).unwrap();
    assert_eq!(String::from_utf8_lossy(&output), "hello world\n");
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_stdout_and_stderr_to_file(lp: &Loop) -> Outcome {
    let g = G::default();
    let path = TempPath::new("stdout_file");
    let file = open_rw(&path);
    let fd = file.fd().unwrap();
    let options = init_process_options("spawn_helper6").stdio([Ignore, InheritFd(fd), InheritFd(fd)]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    let output = read_all(&file);
    assert_eq!(output.len(), 27);
    fs::close_sync(&file).unwrap();
    assert_eq!(String::from_utf8_lossy(&output), "hello world\nhello errworld\n");
    make_valgrind_happy(lp);
    Ok(())
}

/// `dup2(file, target)`, the copy on `target` owned from now on (the runner restores
/// descriptors 0-2 after the test).
fn dup2_owned(file: &fs::File, target: RawFd) -> fs::File {
    // SAFETY: dup2 only changes the descriptor table.
    let fd = unsafe { libc::dup2(file.fd().unwrap(), target) };
    assert_eq!(fd, target, "dup2: {}", std::io::Error::last_os_error());
    // SAFETY: `target` is now a copy of `file` that nothing else owns (the runner keeps
    // its own copy of what was there).
    fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn spawn_stdout_and_stderr_to_file2(lp: &Loop) -> Outcome {
    let g = G::default();
    let path = TempPath::new("stdout_file");
    // Replace stderr with our file.
    let opened = open_rw(&path);
    let file = dup2_owned(&opened, libc::STDERR_FILENO);
    let fd = file.fd().unwrap();
    let options = init_process_options("spawn_helper6").stdio([Ignore, InheritFd(fd), InheritFd(fd)]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    let output = read_all(&file);
    assert_eq!(output.len(), 27);
    fs::close_sync(&file).unwrap();
    assert_eq!(String::from_utf8_lossy(&output), "hello world\nhello errworld\n");
    fs::close_sync(&opened).unwrap();
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_stdout_and_stderr_to_file_swap(lp: &Loop) -> Outcome {
    let g = G::default();
    let (out_path, err_path) = (TempPath::new("stdout_file"), TempPath::new("stderr_file"));
    // Open 'stdout_file' and replace STDOUT_FILENO with it.
    let opened_out = open_rw(&out_path);
    let stdout_file = dup2_owned(&opened_out, libc::STDOUT_FILENO);
    // Open 'stderr_file' and replace STDERR_FILENO with it.
    let opened_err = open_rw(&err_path);
    let stderr_file = dup2_owned(&opened_err, libc::STDERR_FILENO);

    // Now we're going to swap them: the child process' stdout will be our stderr_file
    // and vice versa.
    let options = init_process_options("spawn_helper6").stdio([
        Ignore,
        InheritFd(stderr_file.fd().unwrap()),
        InheritFd(stdout_file.fd().unwrap()),
    ]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);

    // Check the content of stdout_file.
    let output = read_all(&stdout_file);
    assert!(output.len() >= 15, "stdout_file: {output:?}");
    fs::close_sync(&stdout_file).unwrap();
    assert!(output.starts_with(b"hello errworld\n"), "stdout_file: {:?}", String::from_utf8_lossy(&output));

    // Check the content of stderr_file.
    let output = read_all(&stderr_file);
    assert!(output.len() >= 12, "stderr_file: {output:?}");
    fs::close_sync(&stderr_file).unwrap();
    assert!(output.starts_with(b"hello world\n"), "stderr_file: {:?}", String::from_utf8_lossy(&output));

    fs::close_sync(&opened_out).unwrap();
    fs::close_sync(&opened_err).unwrap();
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_stdin(lp: &Loop) -> Outcome {
    let g = G::default();
    let (out, input) = (Pipe::new(lp), Pipe::new(lp));
    // `sizeof(buffer)`: the terminating NUL is written too.
    let buffer: &[u8] = b"hello-from-spawn_stdin\0";
    let options = init_process_options("spawn_helper3").stdio([pipe_in(&input), pipe_out(&out)]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    input.write([Bytes::from_static(buffer)], g.write_cb()).unwrap();
    out.read_start(g.on_read()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 3); // Once for process twice for the pipe.
    assert_eq!(g.output(), &buffer[..buffer.len() - 1]);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_stdio_greater_than_3(lp: &Loop) -> Outcome {
    let g = G::default();
    let pipe = Pipe::new(lp);
    let options = init_process_options("spawn_helper5").stdio([Ignore, Ignore, Ignore, pipe_out(&pipe)]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    pipe.read_start(g.on_read()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 2); // Once for process once for the pipe.
    assert_eq!(String::from_utf8_lossy(&g.output()), "fourth stdio!\n");
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_tcp_server(lp: &Loop) -> Outcome {
    let g = G::default();
    let tcp_server = Tcp::new_ex(lp, Family::Inet).unwrap();
    tcp_server.bind(util::net::localhost()).unwrap();
    let fd = tcp_server.fileno().expect("uv_fileno");
    assert!(fd > 0);
    let options = init_process_options("spawn_tcp_server_helper").stdio([
        InheritFd(0),
        InheritFd(1),
        InheritFd(2),
        InheritFd(fd),
    ]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    tcp_server.close(|_| {});
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_ignored_stdio(lp: &Loop) -> Outcome {
    let g = G::default();
    let options = init_process_options("spawn_helper6").stdio([]);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

/// libuv's `timer_cb`: a timer that sends SIGTERM to `process` after 500 ms, then closes.
fn start_kill_timer(lp: &Loop, g: &G, process: &Process) {
    let timer = Timer::new(lp);
    let (g, process) = (g.clone(), process.clone());
    timer
        .start(500, 0, move |t| {
            assert_eq!(process.kill(SIGTERM), Ok(()));
            t.close(g.close_cb());
        })
        .unwrap();
}

fn spawn_and_kill(lp: &Loop) -> Outcome {
    let g = G::default();
    let options = init_process_options("spawn_helper4");
    let process = spawn(lp, &options, g.kill_cb()).unwrap();
    start_kill_timer(lp, &g, &process);
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 2); // Once for process and once for timer.
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_preserve_env(lp: &Loop) -> Outcome {
    let g = G::default();
    let out = Pipe::new(lp);
    let mut options = init_process_options("spawn_helper7").stdio([Ignore, pipe_out(&out)]);
    let _env = EnvVar::set("ENV_TEST", "testval");
    // Explicitly set options.env to NULL to test for env clobbering.
    options.env = None;
    spawn(lp, &options, g.exit_cb()).unwrap();
    out.read_start(g.on_read()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 2);
    assert_eq!(String::from_utf8_lossy(&g.output()), "testval");
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_detached(lp: &Loop) -> Outcome {
    let g = G::default();
    let mut options = init_process_options("spawn_helper4");
    options.detached = true;
    let process = spawn(lp, &options, {
        // libuv's `detach_failure_cb`: counts, and the test expects no call.
        let g = g.clone();
        move |_, _, _| {
            g.exit_cb_called.inc();
        }
    })
    .unwrap();
    process.unref();
    assert!(!lp.run(RunMode::Default));
    assert_eq!(g.exit_cb_called.get(), 0);

    // Not in libuv's test: the child leads a session of its own (setsid).
    // SAFETY: getsid takes a process id and touches no memory.
    assert_eq!(unsafe { libc::getsid(process.pid()) }, process.pid(), "getsid(child)");

    assert_eq!(kill(process.pid(), 0), Ok(()));
    assert_eq!(kill(process.pid(), SIGTERM), Ok(()));

    process.close(|_| {}); // MAKE_VALGRIND_HAPPY's uv_walk.
    make_valgrind_happy(lp);
    assert_eq!(g.exit_cb_called.get(), 0);
    Ok(())
}

fn spawn_and_kill_with_std(lp: &Loop) -> Outcome {
    let g = G::default();
    let (input, out, err) = (Pipe::new(lp), Pipe::new(lp), Pipe::new(lp));
    let message: &[u8] = b"Nancy's joining me because the message this evening is not my message but ours.\0";
    let options = init_process_options("spawn_helper4").stdio([pipe_in(&input), pipe_out(&out), pipe_out(&err)]);
    let process = spawn(lp, &options, g.kill_cb()).unwrap();
    input.write([Bytes::from_static(message)], g.write_cb()).unwrap();
    out.read_start(g.on_read()).unwrap();
    err.read_start(g.on_read()).unwrap();
    start_kill_timer(lp, &g, &process);
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 5); // process x 1, timer x 1, stdio x 3.
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_and_ping(lp: &Loop) -> Outcome {
    let g = G::default();
    let (out, input) = (Pipe::new(lp), Pipe::new(lp));
    let options = init_process_options("spawn_helper3").stdio([pipe_in(&input), pipe_out(&out)]);
    let process = spawn(lp, &options, g.exit_cb()).unwrap();
    // Sending signum == 0 should check if the child process is still alive, not kill it.
    assert_eq!(process.kill(0), Ok(()));
    input.write([Bytes::from_static(b"TEST")], g.write_cb()).unwrap();
    out.read_start(g.on_read()).unwrap();
    assert_eq!(g.exit_cb_called.get(), 0);
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(String::from_utf8_lossy(&g.output()), "TEST");
    make_valgrind_happy(lp);
    Ok(())
}

// In test-spawn.c but not in libuv's test list: as written, the same as
// spawn_and_ping (its `stdio[3]` has a third entry it never sets, `stdio_count` is 2).
fn spawn_same_stdout_stderr(lp: &Loop) -> Outcome {
    spawn_and_ping(lp)
}

fn spawn_closed_process_io(lp: &Loop) -> Outcome {
    let g = G::default();
    let input = Pipe::new(lp);
    let buffer: &[u8] = b"hello-from-spawn_stdin\n\0";
    let options = init_process_options("spawn_helper3").stdio([pipe_in(&input)]);
    // Close process stdin (the runner puts it back after the test).
    // SAFETY: close takes a descriptor number; nothing of ours owns 0.
    unsafe { libc::close(0) };
    spawn(lp, &options, g.exit_cb()).unwrap();
    input.write([Bytes::from_static(buffer)], g.write_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 2); // process, child stdin
    make_valgrind_happy(lp);
    Ok(())
}

/// Blocks or unblocks SIGTERM in this thread.
fn sigterm_mask(how: libc::c_int) {
    // SAFETY: the set is a local initialised by sigemptyset before use; pthread_sigmask
    // reads it and writes nothing back (null old set).
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, SIGTERM);
        assert_eq!(libc::pthread_sigmask(how, &set, std::ptr::null_mut()), 0);
    }
}

/// Puts SIGTERM back to unblocked and SIG_DFL, also when the test fails.
struct SigtermRestore;

impl SigtermRestore {
    fn restore(&self) {
        sigterm_mask(libc::SIG_UNBLOCK);
        // SAFETY: SIG_DFL installs no handler of ours.
        assert_ne!(unsafe { libc::signal(SIGTERM, libc::SIG_DFL) }, libc::SIG_ERR);
    }
}

impl Drop for SigtermRestore {
    fn drop(&mut self) {
        self.restore();
    }
}

// libuv's `kill` (a Rust function cannot be named so here: it would shadow `kill`).
fn kill_(lp: &Loop) -> Outcome {
    let g = G::default();
    let options = init_process_options("spawn_helper4");

    // Verify that uv_spawn() resets the signal disposition.
    let restore = SigtermRestore;
    sigterm_mask(libc::SIG_BLOCK);
    // SAFETY: SIG_IGN installs no handler of ours.
    assert_ne!(unsafe { libc::signal(SIGTERM, libc::SIG_IGN) }, libc::SIG_ERR);

    let process = spawn(lp, &options, g.kill_cb()).unwrap();

    restore.restore();

    // Sending signum == 0 should check if the child process is still alive, not kill it.
    assert_eq!(kill(process.pid(), 0), Ok(()));
    // Kill the process.
    assert_eq!(kill(process.pid(), SIGTERM), Ok(()));

    // The child dies at once, or not at all: a watchdog of 2 s rather than 10, which
    // says what the child's signal state is.
    let dog = Timer::new(lp);
    dog.unref();
    let pid = process.pid();
    dog.start(2000, 0, move |_| panic!("the child did not die of SIGTERM within 2 s: {}", signal_state(pid))).unwrap();
    assert!(!lp.run(RunMode::Default));
    dog.stop();
    drop(dog);
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

/// The `SigBlk` and `SigIgn` lines of `/proc/PID/status`.
fn signal_state(pid: i32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let lines: Vec<&str> = status.lines().filter(|l| l.starts_with("SigBlk") || l.starts_with("SigIgn")).collect();
    format!("{} (SIGTERM is bit {:#x})", lines.join(", ").replace('\t', " "), 1u64 << (SIGTERM - 1))
}

// test-signal.c.
fn kill_invalid_signum(lp: &Loop) -> Outcome {
    let pid = std::process::id() as i32;
    assert_eq!(kill(pid, -1), Err(Error::EINVAL));
    assert_eq!(kill(pid, 4096), Err(Error::EINVAL));
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_setuid_setgid(lp: &Loop) -> Outcome {
    let g = G::default();
    // If not root, then this will fail.
    if getuid() != 0 {
        return skip("It should be run as root user");
    }
    let mut options = init_process_options("spawn_helper_setuid_setgid");
    // Become the "nobody" user.
    let (uid, gid) = nobody().expect("getpwnam(\"nobody\")");
    options.uid = Some(uid);
    options.gid = Some(gid);
    options.args.push(uid.to_string().into());
    options.args.push(gid.to_string().into());
    match spawn(lp, &options, g.exit_cb()) {
        Err(Error::EACCES) => {
            make_valgrind_happy(lp);
            return skip("user 'nobody' cannot access the test runner");
        }
        r => {
            r.unwrap();
        }
    }
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_setuid_fails(lp: &Loop) -> Outcome {
    let g = G::default();
    // If root, become nobody.
    become_nobody_if_root();
    let mut options = init_process_options("spawn_helper1");
    options.uid = Some(0);
    let r = spawn(lp, &options, fail_cb).unwrap_err();
    assert_eq!(r, Error::EPERM);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(g.close_cb_called.get(), 0);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_setgid_fails(lp: &Loop) -> Outcome {
    let g = G::default();
    // If root, become nobody.
    become_nobody_if_root();
    let mut options = init_process_options("spawn_helper1");
    options.gid = Some(0);
    let r = spawn(lp, &options, fail_cb).unwrap_err();
    assert_eq!(r, Error::EPERM);
    assert!(!lp.run(RunMode::Default));
    assert_eq!(g.close_cb_called.get(), 0);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_auto_unref(lp: &Loop) -> Outcome {
    let options = init_process_options("spawn_helper1");
    let process = spawn(lp, &options, |_, _, _| {}).unwrap();
    assert!(!run(lp));
    assert!(!process.is_closing());
    process.close(|_| {});
    assert!(!lp.run(RunMode::Default));
    assert!(process.is_closing());
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_fs_open(lp: &Loop) -> Outcome {
    let g = G::default();
    let file = fs::open_sync("/dev/null", "r+", 0).expect("uv_fs_open");
    let fd = file.fd().unwrap();
    let input = Pipe::new(lp);
    let options = init_process_options("spawn_helper8").stdio([pipe_in(&input)]);

    // Make an inheritable copy.
    // SAFETY: dup only adds a descriptor.
    let dup_fd = unsafe { libc::dup(fd) };
    assert!(dup_fd >= 0);
    // SAFETY: a new descriptor that nothing else owns (libuv leaks it; we close it).
    let dup_owned = unsafe { OwnedFd::from_raw_fd(dup_fd) };

    spawn(lp, &options, g.exit_cb()).unwrap();
    input.write([Bytes::copy_from_slice(&fd.to_ne_bytes())], |_, r| assert_eq!(r, Ok(()), "write_null_cb")).unwrap();
    input.write([Bytes::copy_from_slice(&dup_fd.to_ne_bytes())], g.write_cb()).unwrap();
    assert!(!run(lp));
    fs::close_sync(&file).unwrap();
    drop(dup_owned);
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 2); // One for `in`, one for process
    make_valgrind_happy(lp);
    Ok(())
}

fn closed_fd_events(lp: &Loop) -> Outcome {
    let g = G::default();
    // Create a pipe and share it with a child process.
    let (r, w) = millrace_reactor::pipe(false, false).unwrap();
    assert!(r.as_raw_fd() > 2);
    assert!(w.as_raw_fd() > 2);

    // spawn_helper4 blocks indefinitely.
    let options = init_process_options("spawn_helper4").stdio([InheritFd(r.as_raw_fd()), Ignore, Ignore]);
    let process = spawn(lp, &options, g.exit_cb()).unwrap();
    process.unref();

    // Read from the pipe with the loop (the handle takes ownership of the descriptor).
    let pipe_handle = Pipe::new(lp);
    pipe_handle.open_fd(r).unwrap();
    pipe_handle.read_start(g.on_read_once()).unwrap();

    assert!(write_fd(w.as_raw_fd(), b"\0"));
    assert!(!lp.run(RunMode::Once));

    // Should have received just one byte.
    assert_eq!(g.output().len(), 1);

    // Close the pipe and see if we still get events.
    pipe_handle.close(g.close_cb());
    assert!(write_fd(w.as_raw_fd(), b"\0"));

    let timer_counter = Counter::new();
    let timer = Timer::new(lp);
    let tc = timer_counter.clone();
    timer
        .start(10, 0, move |_| {
            tc.inc();
        })
        .unwrap();

    // See if any spurious events interrupt the timer.
    if lp.run(RunMode::Once) {
        // Have to run again to really trigger the timer.
        assert!(!lp.run(RunMode::Once));
    }
    assert_eq!(timer_counter.get(), 1);

    // Cleanup.
    assert_eq!(process.kill(SIGTERM), Ok(()));
    drop(w);
    // MAKE_VALGRIND_HAPPY's uv_walk closes what is left.
    process.close(|_| {});
    timer.close(|_| {});
    make_valgrind_happy(lp);
    assert_eq!(g.exit_cb_called.get(), 0);
    assert_eq!(g.close_cb_called.get(), 1);
    Ok(())
}

fn spawn_reads_child_path(lp: &Loop) -> Outcome {
    let g = G::default();
    // Set up the process, but make sure that the file to run is relative and requires
    // a lookup into PATH.
    let mut options = init_process_options("spawn_helper1");
    let exe = exepath();
    let file = exe.file_name().unwrap().to_os_string();
    let mut path = OsString::from("PATH=");
    path.push(exe.parent().unwrap());
    path.push("/");
    // Carry over the dynamic linker path (libuv: when linked against libuv.so).
    let mut env = vec![path];
    if let Some(ld) = std::env::var_os("LD_LIBRARY_PATH") {
        let mut var = OsString::from("LD_LIBRARY_PATH=");
        var.push(ld);
        env.push(var);
    }
    options.file = file.clone();
    options.args[0] = file;
    options.env = Some(env);
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_inherit_streams(lp: &Loop) -> Outcome {
    let g = G::default();
    let pipe_stdin_child = Pipe::new(lp);
    let pipe_stdout_child = Pipe::new(lp);
    let pipe_stdin_parent = Pipe::new(lp);
    let pipe_stdout_parent = Pipe::new(lp);

    let (stdin_r, stdin_w) = millrace_reactor::pipe(false, false).unwrap();
    let (stdout_r, stdout_w) = millrace_reactor::pipe(false, false).unwrap();

    pipe_stdin_child.open_fd(stdin_r).unwrap();
    pipe_stdout_child.open_fd(stdout_w).unwrap();
    pipe_stdin_parent.open_fd(stdin_w).unwrap();
    pipe_stdout_parent.open_fd(stdout_r).unwrap();
    assert!(pipe_stdin_child.is_readable());
    assert!(pipe_stdout_child.is_writable());
    assert!(pipe_stdin_parent.is_writable());
    assert!(pipe_stdout_parent.is_readable());
    // Some systems (SVR4) open a bidirectional pipe, most don't.
    let bidir = pipe_stdin_child.is_writable();
    assert_eq!(pipe_stdout_child.is_readable(), bidir);
    assert_eq!(pipe_stdin_parent.is_readable(), bidir);
    assert_eq!(pipe_stdout_parent.is_writable(), bidir);

    let options = init_process_options("spawn_helper9")
        .stdio([InheritStream(pipe_stdin_child.stream().clone()), InheritStream(pipe_stdout_child.stream().clone())]);
    spawn(lp, &options, g.exit_cb()).unwrap();

    pipe_stdin_child.close(|_| {});
    pipe_stdout_child.close(|_| {});

    let ubuf: Vec<u8> = (0..1023u32).map(|i| (i & 255) as u8).collect();
    pipe_stdin_parent.write([Bytes::from(ubuf.clone())], g.write_cb()).unwrap();
    pipe_stdout_parent.read_start(g.on_read()).unwrap();

    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 3);
    assert!(g.output() == ubuf, "output differs: {} bytes read of {}", g.output().len(), ubuf.len());
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_exercise_sigchld_issue(lp: &Loop) -> Outcome {
    let g = G::default();
    let options = init_process_options("spawn_helper1");
    spawn(lp, &options, g.exit_cb()).unwrap();

    // This test exercises a bug in the darwin kernel that causes SIGCHLD not to be
    // delivered sometimes. Calling posix_spawn many times increases the likelihood of
    // encountering this issue, so spin a few times to make this test more reliable.
    let dummy_options = ProcessOptions::new(NOT_A_PROGRAM).args([NOT_A_PROGRAM]);
    let failures = Counter::new();
    for _ in 0..100 {
        let r = spawn(lp, &dummy_options, fail_cb).unwrap_err();
        if r != Error::ENOENT {
            assert_eq!(r, Error::EACCES);
        }
        failures.inc(); // libuv closes each dummy handle (close_cb); there is none here.
    }

    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get() + failures.get(), 101);
    make_valgrind_happy(lp);
    Ok(())
}

fn spawn_relative_path(lp: &Loop) -> Outcome {
    let g = G::default();
    let mut options = init_process_options("spawn_helper1");
    let exe = exepath();
    // Split into dirname and basename and make basename relative.
    let mut relative = OsString::from("./");
    relative.push(exe.file_name().unwrap());
    options.cwd = Some(exe.parent().unwrap().to_path_buf());
    options.file = relative.clone();
    options.args[0] = relative;
    spawn(lp, &options, g.exit_cb()).unwrap();
    assert!(!run(lp));
    assert_eq!(g.exit_cb_called.get(), 1);
    assert_eq!(g.close_cb_called.get(), 1);
    make_valgrind_happy(lp);
    Ok(())
}

// Regression test for libuv issue #909 (Windows: `PATH=;.;...`). The Unix analogue:
// the parent's PATH starts with an odd entry (`;.;`), `.` and an empty entry (both the
// current directory) before the real ones; the lookup still fails cleanly.
fn spawn_with_an_odd_path(lp: &Loop) -> Outcome {
    let g = G::default();
    let path = std::env::var_os("PATH").expect("PATH");
    let mut newpath = OsString::from(";.;:.::");
    newpath.push(path);
    let _env = EnvVar::set("PATH", newpath);

    let mut options = init_process_options("");
    options.file = NOT_A_PROGRAM.into();
    options.args[0] = NOT_A_PROGRAM.into();
    let r = spawn(lp, &options, g.exit_cb()).unwrap_err();
    assert!(r == Error::ENOENT || r == Error::EACCES, "uv_spawn: {r:?}");
    assert_eq!(lp.active_handles(), 0);
    assert!(!lp.run(RunMode::Default));
    make_valgrind_happy(lp);
    Ok(())
}
