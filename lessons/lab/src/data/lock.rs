//! Locks on data files, so that runs of several lessons (and the benchmarks) share a data
//! directory safely:
//!
//! - a **making lock** per file (`.NAME.lock`, an empty file that exists only while the file
//!   is being made): two runs that need the same file take turns and it is written once; a
//!   run that waits says for whom and gives up after [`wait_limit`] instead of hanging
//!   behind a stopped generator;
//! - a **use lock** on the data file itself (shared, held by every run using it): removal
//!   (`--clean`, `just clean-data`) takes it exclusively without waiting, and leaves a file in
//!   use where it is.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cleanup::{self, Registered, Removal};
use crate::files;

/// How long a run waits for another one that is making the same file: 120 s, or
/// `MMAP_LAB_LOCK_WAIT` seconds.
pub fn wait_limit() -> Duration {
    let secs = std::env::var("MMAP_LAB_LOCK_WAIT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

/// The making lock's file for data file `file`: `.NAME.lock` beside it.
pub fn lock_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    file.with_file_name(format!(".{name}.lock"))
}

/// Opens (creating, never truncating) the making lock of `file`.
fn open_lock(file: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path(file))
}

/// A held making lock. Dropping it removes the lock file and then releases the lock; a run
/// that was waiting on the removed file sees that it is no longer at its path and takes a
/// new one, so no two runs ever hold the making lock of one file.
#[derive(Debug)]
pub struct Making {
    lock: File,
    path: PathBuf,
    _on_signal: Registered,
}

impl Drop for Making {
    fn drop(&mut self) {
        if still_at(&self.lock, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Takes the making lock of `file` without waiting: `None` while another run holds it.
pub fn try_making(file: &Path) -> anyhow::Result<Option<Making>> {
    let path = lock_path(file);
    loop {
        let lock = open_lock(file).with_context(|| format!("open {}", files::show(&path)))?;
        match lock.try_lock() {
            Ok(()) if still_at(&lock, &path) => {
                let on_signal = cleanup::on_signal(&path, None, Removal::Always);
                return Ok(Some(Making {
                    lock,
                    path,
                    _on_signal: on_signal,
                }));
            }
            // Locked a lock file its holder had just removed: take the new one.
            Ok(()) => continue,
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e).context("lock"),
        }
    }
}

/// Takes the making lock of `file`, waiting for another run that holds it. After a second
/// it says on stderr whom it waits for (`who` names the other run: its partial file's pid);
/// after [`wait_limit`] it gives up with an error that says what to do.
pub fn making(file: &Path, who: impl Fn() -> Option<u32>) -> anyhow::Result<Making> {
    let started = Instant::now();
    let limit = wait_limit();
    let mut said = false;
    loop {
        if let Some(lock) = try_making(file)? {
            return Ok(lock);
        }
        let waited = started.elapsed();
        let holder = who().map_or("another run".to_string(), |pid| format!("process {pid}"));
        if waited >= limit {
            anyhow::bail!(
                "gave up after {} s waiting for {holder}, which is making {} (is it stopped? \
                 let it finish, end it, or use another --dir)",
                limit.as_secs(),
                files::show(file)
            );
        }
        if !said && waited >= Duration::from_secs(1) {
            files::warn(&format!(
                "waiting for {holder}, which is making {} (giving up after {} s)",
                files::show(file),
                limit.as_secs()
            ));
            said = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Opens `file` with a shared use lock: `None` when it does not exist.
pub fn use_shared(file: &Path) -> anyhow::Result<Option<File>> {
    let f = match File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("open {}", files::show(file))),
    };
    f.lock_shared()
        .with_context(|| format!("lock {}", files::show(file)))?;
    Ok(Some(f))
}

/// Whether an open file is still the one at `path` (not replaced or removed since).
#[cfg(unix)]
pub fn still_at(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
pub fn still_at(_f: &File, path: &Path) -> bool {
    path.exists()
}

/// Takes `file` for removal: an exclusive use lock without waiting. `Ok(None)` when another
/// run uses it, or it does not exist.
pub fn for_removal(file: &Path) -> anyhow::Result<Option<File>> {
    let f = match File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("open {}", files::show(file))),
    };
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("lock {}", files::show(file)))
        }
    }
}
