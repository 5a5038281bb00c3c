//! File I/O with errors that name the file, and crash-safe replacement of files.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::TlsError;

/// Mode for files anyone on the machine may read (the CA certificate is handed to clients).
pub(crate) const PUBLIC: u32 = 0o644;
/// Mode for sealed keys: sealed is not public, so deny other users even the ciphertext.
pub(crate) const PRIVATE: u32 = 0o600;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(io_err(path))
}

/// Replaces `path` with `contents` so that a crash leaves either the old or the new file,
/// never a torn one: write a temp file in the same directory, fsync, rename, fsync the dir.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".coffer-tls-")
        .tempfile_in(&dir)
        .map_err(io_err(&dir))?;
    set_mode(tmp.as_file(), mode).map_err(io_err(tmp.path()))?;
    tmp.write_all(contents).map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| TlsError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    sync_dir(&dir)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes the rename itself durable; without it a power cut can resurrect the old name.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), TlsError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), TlsError> {
    Ok(())
}
