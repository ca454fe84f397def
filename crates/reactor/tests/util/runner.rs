//! The runner of the targets that run themselves again as helper processes, as libuv's
//! test runner does (`harness = false`: process.rs, ipc.rs). Such a target has its own
//! `main`: it dispatches on `argv[1]` to its helpers, and otherwise hands its table of
//! tests to [`run_tests`], which runs them one after another, catching a panic per
//! test, with libtest's substring filter (arguments starting with `-` are ignored, but
//! for `--skip NAME` and `--list`).
//!
//! The children the tests spawn go through [`spawn`], so that [`reap_children`] can
//! end any a failed test left running.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use millrace_reactor::{Error, Loop, Process, ProcessOptions};

/// What a test that did not fail returns: `Err` if it could not run here.
pub type Outcome = Result<(), Skip>;

/// Why a test could not run (libuv's `RETURN_SKIP`).
pub struct Skip(pub String);

pub fn skip(why: &str) -> Outcome {
    Err(Skip(why.to_string()))
}

/// The message of the last panic, kept by the panic hook (stderr may be a test's file
/// when it happens).
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Makes panics leave their message for [`catch`] instead of printing it.
pub fn set_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = info.to_string();
    }));
}

/// Runs `f`: its outcome, or the message of the panic that ended it.
pub fn catch(f: impl FnOnce() -> Outcome) -> Result<Outcome, String> {
    LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()).clear();
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| std::mem::take(&mut *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner())))
}

/// Runs the tests of `tests` that `args` (the whole command line) selects, each with
/// `run` (which gives its outcome or its failure's message), and reports as libtest
/// does.
pub fn run_tests<T>(
    tests: &[T],
    args: &[String],
    name: impl Fn(&T) -> &'static str,
    run: impl Fn(&T) -> Result<Outcome, String>,
) -> ExitCode {
    let mut filters = Vec::new();
    let mut skips = Vec::new();
    let mut list = false;
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--list" => list = true,
            "--skip" => skips.extend(rest.next().cloned()),
            // libtest options that take a value.
            "--test-threads" | "--color" | "--format" | "--logfile" | "--shuffle-seed" | "-Z" => {
                rest.next();
            }
            _ if a.starts_with('-') => {}
            _ => filters.push(a.clone()),
        }
    }
    let selected: Vec<&T> = tests
        .iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| name(t).contains(f.as_str())))
        .filter(|t| !skips.iter().any(|s| name(t).contains(s.as_str())))
        .collect();
    if list {
        for t in &selected {
            println!("{}: test", name(t));
        }
        return ExitCode::SUCCESS;
    }

    set_panic_hook();
    let start = Instant::now();
    println!("\nrunning {} tests", selected.len());
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), 0);
    for t in selected {
        use std::io::Write;
        print!("test {} ... ", name(t));
        std::io::stdout().flush().unwrap();
        let t0 = Instant::now();
        let result = run(t);
        let ms = t0.elapsed().as_millis();
        match result {
            Ok(Ok(())) => {
                passed += 1;
                println!("ok");
            }
            Ok(Err(Skip(why))) => {
                skipped += 1;
                println!("skipped: {why}");
            }
            Err(msg) => {
                println!("FAILED ({ms} ms)\n    {}", msg.replace('\n', "\n    "));
                failed.push(name(t));
            }
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; {skipped} skipped; finished in {:.2}s\n",
        failed.len(),
        start.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failures:\n    {}\n", failed.join("\n    "));
        ExitCode::FAILURE
    }
}

thread_local! {
    /// Every child the tests spawned (by [`spawn`]).
    static CHILDREN: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// `uv_spawn`, remembering the child so that [`reap_children`] can end it.
pub fn spawn(
    lp: &Loop,
    options: &ProcessOptions,
    exit_cb: impl FnOnce(&Process, i64, i32) + 'static,
) -> Result<Process, Error> {
    let r = Process::spawn(lp, options, exit_cb);
    if let Ok(p) = &r {
        CHILDREN.with(|c| c.borrow_mut().push(p.pid()));
    }
    r
}

/// Kills (SIGKILL) and reaps every child a test left running, and reaps those left
/// as zombies. A child the loop reaped already is `ECHILD` to `waitpid` and is left
/// alone: its number may belong to another process by now.
pub fn reap_children() {
    for pid in CHILDREN.with(|c| std::mem::take(&mut *c.borrow_mut())) {
        let mut status = 0;
        // SAFETY: waitpid writes one int through the pointer, which points at `status`.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == 0 {
            // SAFETY: `pid` is our child and not yet reaped, so the number is still its.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
    }
}
