//! Directories: `uv_fs_mkdir`, `mkdtemp`, `rmdir`, `scandir` and the `uv_dir_t` trio
//! `opendir`/`readdir`/`closedir`.
//!
//! Both listings leave out `.` and `..`, as libuv does. [`scandir`] reads the whole
//! directory and sorts it by the bytes of the names (libuv's `strcmp` sort); a [`Dir`]
//! hands out at most `nentries` entries per [`readdir`], in the order the file system
//! gives them, and an empty batch means the end.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{pool_op, sys, FsReq};
use crate::error::{Error, Result};
use crate::loop_::Loop;

/// What kind of file a directory entry is (`uv_dirent_type_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DirentType {
    /// The file system did not say (`UV_DIRENT_UNKNOWN`).
    Unknown,
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Link,
    /// A named pipe.
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// A character device.
    Char,
    /// A block device.
    Block,
}

/// One directory entry (`uv_dirent_t`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    /// The entry's name, without the directory.
    pub name: OsString,
    /// What it is.
    pub kind: DirentType,
}

impl Dirent {
    fn from_entry(e: &std::fs::DirEntry) -> Dirent {
        use std::os::unix::fs::FileTypeExt;
        // DirEntry::file_type is the d_type readdir returned (an lstat only where the
        // file system leaves d_type unknown).
        let kind = match e.file_type() {
            Ok(t) if t.is_file() => DirentType::File,
            Ok(t) if t.is_dir() => DirentType::Dir,
            Ok(t) if t.is_symlink() => DirentType::Link,
            Ok(t) if t.is_fifo() => DirentType::Fifo,
            Ok(t) if t.is_socket() => DirentType::Socket,
            Ok(t) if t.is_char_device() => DirentType::Char,
            Ok(t) if t.is_block_device() => DirentType::Block,
            _ => DirentType::Unknown,
        };
        Dirent { name: e.file_name(), kind }
    }
}

/// `uv_fs_mkdir`, synchronously: `mkdir(path, mode)` (the umask applies).
pub fn mkdir_sync(path: impl AsRef<Path>, mode: u32) -> Result<()> {
    Ok(std::fs::DirBuilder::new().mode(mode).create(path)?)
}

/// `uv_fs_mkdtemp`, synchronously: makes a new directory named by `template`, whose
/// last six characters must be `XXXXXX` (`EINVAL` otherwise), and returns its path.
pub fn mkdtemp_sync(template: impl AsRef<Path>) -> Result<PathBuf> {
    Ok(sys::mkdtemp(template.as_ref())?)
}

/// `uv_fs_rmdir`, synchronously (`ENOTEMPTY` for a directory with entries).
pub fn rmdir_sync(path: impl AsRef<Path>) -> Result<()> {
    Ok(std::fs::remove_dir(path)?)
}

/// `uv_fs_scandir`, synchronously: every entry but `.` and `..`, sorted by the bytes of
/// their names. A path that is not a directory is `ENOTDIR`.
pub fn scandir_sync(path: impl AsRef<Path>) -> Result<Vec<Dirent>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(path)? {
        entries.push(Dirent::from_entry(&e?));
    }
    entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(entries)
}

/// An open directory stream (`uv_dir_t`), read in batches by [`readdir`]. Clones share
/// the stream; [`closedir`] closes it for all of them (later calls are `EBADF`).
#[derive(Clone, Debug)]
pub struct Dir(Arc<Mutex<Option<std::fs::ReadDir>>>);

/// `uv_fs_opendir`, synchronously.
pub fn opendir_sync(path: impl AsRef<Path>) -> Result<Dir> {
    Ok(Dir(Arc::new(Mutex::new(Some(std::fs::read_dir(path)?)))))
}

/// `uv_fs_readdir`, synchronously: the next entries, at most `nentries` (libuv's
/// `dir->nentries`); an empty batch is the end. `nentries` 0 is `EINVAL` here, where
/// libuv reads nothing, since an empty batch would read as the end.
pub fn readdir_sync(dir: &Dir, nentries: usize) -> Result<Vec<Dirent>> {
    if nentries == 0 {
        return Err(Error::EINVAL);
    }
    let mut guard = dir.0.lock().unwrap_or_else(|p| p.into_inner());
    let stream = guard.as_mut().ok_or(Error::EBADF)?;
    let mut batch = Vec::new();
    for e in stream.by_ref().take(nentries) {
        batch.push(Dirent::from_entry(&e?));
    }
    Ok(batch)
}

/// `uv_fs_closedir`, synchronously (`EBADF` if already closed).
pub fn closedir_sync(dir: &Dir) -> Result<()> {
    match dir.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(_) => Ok(()),
        None => Err(Error::EBADF),
    }
}

pool_op!(
    /// `uv_fs_mkdir` on the thread pool.
    mkdir(path: impl Into<PathBuf> => path.into(), mode: u32 => mode) -> () = mkdir_sync(&path, mode)
);

pool_op!(
    /// `uv_fs_mkdtemp` on the thread pool.
    mkdtemp(template: impl Into<PathBuf> => template.into()) -> PathBuf = mkdtemp_sync(&template)
);

pool_op!(
    /// `uv_fs_rmdir` on the thread pool.
    rmdir(path: impl Into<PathBuf> => path.into()) -> () = rmdir_sync(&path)
);

pool_op!(
    /// `uv_fs_scandir` on the thread pool.
    scandir(path: impl Into<PathBuf> => path.into()) -> Vec<Dirent> = scandir_sync(&path)
);

pool_op!(
    /// `uv_fs_opendir` on the thread pool.
    opendir(path: impl Into<PathBuf> => path.into()) -> Dir = opendir_sync(&path)
);

pool_op!(
    /// `uv_fs_readdir` on the thread pool.
    readdir(dir: &Dir => dir.clone(), nentries: usize => nentries) -> Vec<Dirent> = readdir_sync(&dir, nentries)
);

pool_op!(
    /// `uv_fs_closedir` on the thread pool.
    closedir(dir: &Dir => dir.clone()) -> () = closedir_sync(&dir)
);
