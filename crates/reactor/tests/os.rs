//! The process's surroundings: ported from libuv 1.46's test-tmpdir.c (`tmpdir`),
//! test-homedir.c (`homedir`), test-get-passwd.c (`get_passwd`, `get_passwd2`,
//! `get_group`), test-uname.c (`uname`), test-gethostname.c (`gethostname`),
//! test-get-loadavg.c (`get_loadavg`) and test-cwd-and-chdir.c (`cwd_and_chdir`).
//!
//! Adapted: libuv fills caller buffers, so its tests also check `ENOBUFS` for a buffer
//! too small and `EINVAL` for NULL arguments; our functions return owned values and
//! take no buffers, so those parts have no counterpart. test-get-memory.c's `get_memory`
//! is not ported: it also checks `uv_get_constrained_memory` and
//! `uv_get_available_memory`, which are not implemented; `free_and_total_memory` checks
//! the two that are.

use std::path::Path;

use millrace_reactor::{os, Error};

/// libuv's check of a directory it returns: not empty, and no trailing slash unless it
/// is `/`.
fn check_dir(p: &Path) {
    let s = p.to_str().unwrap();
    assert!(!s.is_empty());
    if s.len() > 1 {
        assert!(!s.ends_with('/'), "{s}");
    } else {
        assert_eq!(s, "/");
    }
}

// test-tmpdir.c: the temporary directory is named without a trailing slash.
#[test]
fn tmpdir() {
    let dir = os::tmpdir();
    check_dir(&dir);
    // Not in libuv's test: it is the first of libuv's variables that is set, or /tmp.
    let expected = ["TMPDIR", "TMP", "TEMP", "TEMPDIR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .map(|s| if s.len() > 1 { s.trim_end_matches('/').to_owned() } else { s })
        .unwrap_or_else(|| "/tmp".into());
    assert_eq!(dir, Path::new(&expected));
}

// test-homedir.c: the home directory is named without a trailing slash.
#[test]
fn homedir() {
    let dir = os::homedir().unwrap();
    check_dir(&dir);
}

// test-get-passwd.c: the effective user's account has a name, a shell, a home without a
// trailing slash, and the effective uid.
#[test]
fn get_passwd() {
    let pwd = os::get_passwd().unwrap();
    assert!(!pwd.username.is_empty());
    assert!(!pwd.shell.is_empty());
    check_dir(&pwd.homedir);
    // SAFETY: geteuid/getgid/getegid have no arguments and cannot fail.
    let (euid, gid, egid) = unsafe { (libc::geteuid(), libc::getgid(), libc::getegid()) };
    assert_eq!(pwd.uid, euid);
    if pwd.uid != 0 && pwd.gid != gid {
        assert_eq!(pwd.gid, egid);
    }
}

// test-get-passwd.c: looking the same uid up again gives the same account; uid 0 is
// "root".
#[test]
fn get_passwd2() {
    let pwd = os::get_passwd().unwrap();
    let pwd2 = os::get_passwd2(pwd.uid).unwrap();
    assert_eq!(pwd, pwd2);
    let root = os::get_passwd2(0).unwrap();
    assert_eq!(root.username, "root");
    assert!(!root.homedir.as_os_str().is_empty());
    assert!(!root.shell.is_empty());
    // Not in libuv's test: a uid nobody has is ENOENT.
    assert_eq!(os::get_passwd2(0x7fff_fff0).unwrap_err(), Error::ENOENT);
}

// test-get-passwd.c: the user's primary group has a name and its gid.
#[test]
fn get_group() {
    let pwd = os::get_passwd().unwrap();
    let grp = os::get_group(pwd.gid).unwrap();
    assert_eq!(grp.gid, pwd.gid);
    assert!(!grp.groupname.is_empty());
    // Not in libuv's test: a gid nobody has is ENOENT.
    assert_eq!(os::get_group(0x7fff_fff0).unwrap_err(), Error::ENOENT);
}

fn c_str(field: &[libc::c_char]) -> String {
    // SAFETY: uname NUL-terminates each field within its array.
    unsafe { std::ffi::CStr::from_ptr(field.as_ptr()) }.to_string_lossy().into_owned()
}

// test-uname.c: the fields are uname(2)'s.
#[test]
fn uname() {
    let buffer = os::uname().unwrap();
    // SAFETY: utsname is plain old data; uname fills it.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname writes the one struct behind the pointer.
    assert_ne!(unsafe { libc::uname(&mut buf) }, -1);
    assert_eq!(buffer.sysname, c_str(&buf.sysname));
    assert_eq!(buffer.version, c_str(&buf.version));
    assert_eq!(buffer.release, c_str(&buf.release));
    assert_eq!(buffer.machine, c_str(&buf.machine));
}

// test-gethostname.c: the host name is not empty and fits UV_MAXHOSTNAMESIZE.
#[test]
fn gethostname() {
    let name = os::gethostname().unwrap();
    assert!(!name.is_empty() && name.len() < 256);
    // Not in libuv's test: it is what the kernel reports.
    let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(name, kernel.trim_end());
}

// test-get-loadavg.c: three averages, none negative.
#[test]
fn get_loadavg() {
    let avg = os::loadavg();
    assert!(avg.iter().all(|a| *a >= 0.0), "{avg:?}");
    // Not in libuv's test: they are /proc/loadavg's.
    let text = std::fs::read_to_string("/proc/loadavg").unwrap();
    let first: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
    assert!((avg[0] - first).abs() < 5.0);
}

// test-cwd-and-chdir.c: changing to the current directory leaves it the same. (The
// directory is process-wide; going to where we already are is safe beside other tests.)
#[test]
fn cwd_and_chdir() {
    let orig = os::cwd().unwrap();
    assert!(!orig.as_os_str().is_empty());
    check_dir(&orig);
    os::chdir(&orig).unwrap();
    assert_eq!(os::cwd().unwrap(), orig);
    // Not in libuv's test: a directory that is not there is ENOENT.
    assert_eq!(os::chdir("/nonexistent-millrace-dir").unwrap_err(), Error::ENOENT);
}

// test-get-memory.c, in part (see the header): free memory is above 0 and below total.
#[test]
fn free_and_total_memory() {
    let (free, total) = (os::free_memory(), os::total_memory());
    assert!(free > 0);
    assert!(total > free);
}

// Not in libuv's tests: the uptime is positive and /proc/uptime's.
#[test]
fn uptime() {
    let up = os::uptime().unwrap();
    assert!(up > 0.0);
}
