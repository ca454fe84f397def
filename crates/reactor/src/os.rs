//! The process's surroundings (libuv's `uv_os_*`, `uv_cwd`/`uv_chdir`, `uv_loadavg`,
//! `uv_uptime`, `uv_get_free_memory`/`uv_get_total_memory`), as `src/unix/core.c` and
//! `linux.c` find them: what Node's `os` and `process.cwd()` report.
//!
//! libuv fills caller buffers and answers `ENOBUFS` when they are too small; these
//! return owned values instead. `uv_get_constrained_memory` and
//! `uv_get_available_memory` (cgroup limits) are not here.
//!
//! ```
//! use millrace_reactor::os;
//!
//! assert!(os::tmpdir().is_absolute());
//! assert_eq!(os::uname().unwrap().sysname, "Linux");
//! assert!(os::total_memory() > os::free_memory());
//! ```

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::sys;

/// A user's account (`uv_passwd_t`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passwd {
    /// The login name.
    pub username: String,
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The login shell.
    pub shell: String,
    /// The home directory.
    pub homedir: PathBuf,
}

/// A group (`uv_group_t`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub groupname: String,
    /// The group id.
    pub gid: u32,
    /// Its members' login names.
    pub members: Vec<String>,
}

/// What `uname(2)` says of the system (`uv_utsname_t`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Utsname {
    /// "Linux".
    pub sysname: String,
    /// The kernel release ("6.8.0-45-generic").
    pub release: String,
    /// The kernel build.
    pub version: String,
    /// The hardware ("x86_64").
    pub machine: String,
}

/// A path without its trailing `/` (but `/` itself), as libuv returns directories.
fn without_trailing_slash(p: String) -> PathBuf {
    let trimmed = p.trim_end_matches('/');
    PathBuf::from(if trimmed.is_empty() && !p.is_empty() { "/" } else { trimmed })
}

/// `uv_os_tmpdir`: the first of `TMPDIR`, `TMP`, `TEMP`, `TEMPDIR` that is set and not
/// empty, else `/tmp`; without a trailing slash.
pub fn tmpdir() -> PathBuf {
    for name in ["TMPDIR", "TMP", "TEMP", "TEMPDIR"] {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => return without_trailing_slash(v),
            _ => {}
        }
    }
    PathBuf::from("/tmp")
}

/// `uv_os_homedir`: `HOME` if set and not empty, else the user's home directory from the
/// password database.
pub fn homedir() -> Result<PathBuf> {
    match std::env::var("HOME") {
        Ok(v) if !v.is_empty() => Ok(without_trailing_slash(v)),
        _ => Ok(get_passwd()?.homedir),
    }
}

/// `uv_os_get_passwd`: the account of the effective user.
pub fn get_passwd() -> Result<Passwd> {
    get_passwd2(sys::geteuid())
}

/// `uv_os_get_passwd2`: the account of `uid` (`ENOENT` when there is none).
pub fn get_passwd2(uid: u32) -> Result<Passwd> {
    let (username, uid, gid, shell, homedir) = sys::getpwuid(uid)?;
    Ok(Passwd { username, uid, gid, shell, homedir: PathBuf::from(homedir) })
}

/// `uv_os_get_group`: the group `gid` and its members (`ENOENT` when there is none).
pub fn get_group(gid: u32) -> Result<Group> {
    let (groupname, gid, members) = sys::getgrgid(gid)?;
    Ok(Group { groupname, gid, members })
}

/// `uv_os_uname`.
pub fn uname() -> Result<Utsname> {
    let (sysname, release, version, machine) = sys::uname()?;
    Ok(Utsname { sysname, release, version, machine })
}

/// `uv_os_gethostname`.
pub fn gethostname() -> Result<String> {
    Ok(sys::gethostname()?)
}

/// `uv_cwd`: the current directory, without a trailing slash.
pub fn cwd() -> Result<PathBuf> {
    Ok(std::env::current_dir()?)
}

/// `uv_chdir`: changes the process's current directory (for every thread).
pub fn chdir(dir: impl AsRef<Path>) -> Result<()> {
    Ok(std::env::set_current_dir(dir)?)
}

/// The first number of a `/proc` file's line that starts with `key` (libuv's
/// `uv__read_proc_meminfo`, in kB there, in bytes here).
fn meminfo(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

/// `uv_get_free_memory`: `MemAvailable` from `/proc/meminfo` (0 if it cannot be read).
pub fn free_memory() -> u64 {
    meminfo("MemAvailable:").unwrap_or(0)
}

/// `uv_get_total_memory`: `MemTotal` from `/proc/meminfo` (0 if it cannot be read).
pub fn total_memory() -> u64 {
    meminfo("MemTotal:").unwrap_or(0)
}

/// The first `n` numbers of a one-line `/proc` file.
fn proc_numbers<const N: usize>(path: &str) -> Option<[f64; N]> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out = [0.0; N];
    let mut words = text.split_whitespace();
    for slot in &mut out {
        *slot = words.next()?.parse().ok()?;
    }
    Some(out)
}

/// `uv_loadavg`: the 1, 5 and 15 minute load averages from `/proc/loadavg` (zeroes if
/// it cannot be read).
pub fn loadavg() -> [f64; 3] {
    proc_numbers::<3>("/proc/loadavg").unwrap_or([0.0; 3])
}

/// `uv_uptime`: seconds since boot, from `/proc/uptime`. Where that file cannot be
/// read libuv falls back to `CLOCK_BOOTTIME`; here that is `ENOSYS`.
pub fn uptime() -> Result<f64> {
    proc_numbers::<1>("/proc/uptime").map(|[u]| u).ok_or(crate::Error::ENOSYS)
}
