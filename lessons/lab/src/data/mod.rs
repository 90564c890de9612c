//! Sample files for the lessons, in a data directory the lessons own.
//!
//! A file is described by a [`Spec`] (name, size, content). [`DataDir::acquire`] returns a
//! file matching the spec, making it only when it is missing or invalid, and holds it in use
//! for the run. What a lesson promises about its data directory (README, "Data files"):
//!
//! - **It writes only its own files.** A file counts as mmap-lab's only when its sidecar
//!   `NAME.mmap-lab` parses, says `created_by: mmap-lab` and names that file
//!   ([`sidecar`]); anything else is never overwritten or deleted. Probe files are created
//!   exclusively, under names no one else uses.
//! - **It never leaves a half-written or damaged file in use.** Data goes to
//!   `NAME.partial-PID-N`, is synced and renamed into place; the sidecar records a
//!   fingerprint of the content, and a file that no longer matches it is made again. A
//!   failed remake leaves the old file and its sidecar as they were, still mmap-lab's.
//! - **It checks before it writes.** The disk a whole run needs ([`DataDir::ensure_room`]),
//!   the filesystem's largest file, and whether it really makes sparse files.
//! - **Runs share a directory safely** ([`lock`]): one run makes a file while the others
//!   wait (saying for whom, giving up after [`lock::wait_limit`]); a file in use by a run is
//!   not removed by another's `--clean` or by `just clean-data`.
//! - **It cleans up after itself**: SIGINT, SIGTERM and SIGHUP remove partial files, scratch
//!   files and (with `--clean`) the run's files ([`crate::cleanup`]); what a `kill -9` leaves
//!   — partial files no one is making, scratch files of runs that are gone — is swept when
//!   the directory is next opened.
//!
//! Contents are deterministic (seeded), so a reused file and a regenerated one are equal.

mod generate;
pub mod lock;
pub mod sidecar;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cleanup::{self, Registered, Removal};
use crate::error::BadInput;
use crate::files::show;
use crate::{size, sys};

pub use generate::write_log;
use generate::{Progress, generate};
use sidecar::{Sidecar, fingerprint};

/// What goes into a sample file.
#[derive(Debug, Clone, Copy)]
pub enum Content {
    /// Uniformly random bytes from a seeded generator: nothing to compress, no structure.
    Random { seed: u64 },
    /// Lines like a web server's log, seeded: text to search.
    Log { seed: u64 },
    /// A sparse file: its size is set but no block is written, so it takes no disk space
    /// and reads as zeros. For showing a file larger than RAM or disk.
    Sparse,
    /// A lesson's own format: `fill` must write exactly `size` bytes. Change `tag` whenever
    /// `fill` changes, so old files are regenerated.
    Custom {
        tag: &'static str,
        fill: fn(&mut dyn Write, u64) -> io::Result<()>,
    },
}

impl Content {
    fn tag(&self) -> String {
        match self {
            Content::Random { seed } => format!("random-{seed}"),
            Content::Log { seed } => format!("log-{seed}"),
            Content::Sparse => "sparse".into(),
            Content::Custom { tag, .. } => format!("custom-{tag}"),
        }
    }
}

/// A sample file: `name` is a short word such as `sample`; the size and content tag make the
/// file name unique, so different sizes coexist and are each reused.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub size: u64,
    pub content: Content,
    /// A scratch file belongs to one run: it is deleted when the run ends, however it ends.
    pub scratch: bool,
}

impl Spec {
    pub fn new(name: &str, size: u64, content: Content) -> Spec {
        Spec {
            name: name.to_string(),
            size,
            content,
            scratch: false,
        }
    }

    /// The same file as a scratch file of this run (a huge sparse file, say).
    pub fn scratch(self) -> Spec {
        Spec {
            scratch: true,
            ..self
        }
    }

    /// The file name: `sample-268435456-random-7.bin`.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}.bin", self.name, self.size, self.content.tag())
    }
}

const PARTIAL: &str = ".partial-";
/// Kept free on the data directory's filesystem beyond the files themselves.
const DISK_RESERVE: u64 = 256 << 20;

/// The directory lessons write into.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
    progress: bool,
}

/// The state of a spec's file.
#[derive(Debug, PartialEq, Eq)]
enum State {
    Ready,
    Missing,
    /// Ours but not as specified (interrupted, damaged): made again.
    Stale,
    /// Not ours: never touched. The text says why.
    Foreign(String),
}

/// A data file held in use by this run (a shared lock on it): other runs do not remove it
/// until this is dropped.
#[derive(Debug)]
pub struct InUse {
    path: PathBuf,
    /// Holds the shared lock; the signal registration refers to its descriptor.
    _file: File,
    _on_signal: Option<Registered>,
}

impl InUse {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What [`DataDir::clean`] did.
#[derive(Debug, Default)]
pub struct Cleaned {
    pub files: usize,
    pub bytes: u64,
    /// Files kept because a running lesson uses them.
    pub in_use: Vec<String>,
}

/// The workspace's cargo `target/` directory, found from the running binary (so
/// `CARGO_TARGET_DIR` and `build.target-dir` are respected): `target/release/lesson-05` →
/// `target`, `target/debug/deps/test-xyz` → `target`. `None` for a binary that was
/// installed or copied elsewhere (no `CACHEDIR.TAG`, which cargo writes there).
pub fn cargo_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?;
    if dir.ends_with("deps") {
        dir = dir.parent()?;
    }
    let target = dir.parent()?;
    target
        .join("CACHEDIR.TAG")
        .is_file()
        .then(|| target.to_path_buf())
}

/// [`cargo_target_dir`], or `target` in the current directory: where the benchmarks and
/// the book, which always run through cargo, keep their results.
pub fn target_dir() -> PathBuf {
    cargo_target_dir().unwrap_or_else(|| PathBuf::from("target"))
}

/// The per-user cache directory for a lesson binary outside a workspace:
/// `$XDG_CACHE_HOME/mmap-lessons/lesson-data`, else `~/.cache/mmap-lessons/lesson-data`.
fn user_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("mmap-lessons").join("lesson-data")
}

impl DataDir {
    /// The default: `lesson-data/` in the workspace's target directory (same filesystem as
    /// the work, unlike `/tmp`, which is often tmpfs where nothing can be evicted); for a
    /// binary outside a workspace, the user's cache directory.
    pub fn default_path() -> PathBuf {
        cargo_target_dir().map_or_else(user_cache_dir, |t| t.join("lesson-data"))
    }

    /// Opens the data directory. A directory given by the user must exist, be a directory
    /// and be writable (checked by creating and removing a probe file); the default one is
    /// created. `progress` allows a progress bar on the terminal for slow generation.
    /// Leftovers of interrupted runs are swept (see the module docs).
    pub fn open(dir: Option<&Path>, progress: bool) -> anyhow::Result<DataDir> {
        let path = match dir {
            Some(d) => {
                let meta = fs::metadata(d)
                    .map_err(|e| BadInput(format!("--dir {}: {}", show(d), plain(&e))))?;
                if !meta.is_dir() {
                    return Err(BadInput(format!("--dir {}: not a directory", show(d))).into());
                }
                d.to_path_buf()
            }
            None => {
                let d = Self::default_path();
                fs::create_dir_all(&d)
                    .with_context(|| format!("cannot create data directory {}", show(&d)))?;
                d
            }
        };
        let dir = DataDir { path, progress };
        match dir.probe_file("probe").and_then(|(f, p)| {
            drop(f);
            fs::remove_file(p)
        }) {
            Ok(()) => {}
            Err(e) => {
                return Err(BadInput(format!(
                    "--dir {}: not writable ({})",
                    show(&dir.path),
                    plain(&e)
                ))
                .into());
            }
        }
        dir.sweep();
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory is on tmpfs (RAM): "cold" reads are impossible there.
    pub fn is_tmpfs(&self) -> bool {
        sys::fs_type(&self.path).is_some_and(|t| t == "tmpfs" || t == "ramfs")
    }

    /// A new file of ours, created exclusively (never an existing file of that name):
    /// `.mmap-lab-WHAT-PID-RANDOM`.
    fn probe_file(&self, what: &str) -> io::Result<(File, PathBuf)> {
        loop {
            let name = format!(
                ".mmap-lab-{what}-{}-{:08x}",
                std::process::id(),
                fastrand::u32(..)
            );
            let p = self.path.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&p) {
                Ok(f) => return Ok((f, p)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Fails with a clear message unless `bytes` more fit on the directory's filesystem with
    /// room to spare.
    pub fn ensure_free(&self, bytes: u64) -> anyhow::Result<()> {
        let Some(free) = self.free_disk()? else {
            return Ok(());
        };
        if bytes.saturating_add(DISK_RESERVE) > free {
            return Err(BadInput(format!(
                "{} needs {} of disk, but only {} is free there (keeping {} spare); \
                 choose a smaller --size or another --dir",
                show(&self.path),
                size::fmt(bytes),
                size::fmt(free),
                size::fmt(DISK_RESERVE)
            ))
            .into());
        }
        Ok(())
    }

    /// The disk space free for files on the directory's filesystem (`statvfs`); `None`
    /// where the platform cannot tell.
    pub fn free_disk(&self) -> anyhow::Result<Option<u64>> {
        match sys::free_disk(&self.path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(None),
            Err(e) => Err(e).context("statvfs"),
        }
    }

    /// Checks, before anything is written, that every file of `specs` that still has to be
    /// made fits: the filesystem accepts files that large, and their disk (sparse files
    /// need none where the filesystem makes them) fits in the free space together.
    pub fn ensure_room(&self, specs: &[Spec]) -> anyhow::Result<()> {
        // A file already in place needs no room; its content is verified when it is used.
        let mut todo = Vec::new();
        for spec in specs {
            if self.state(spec, false)? != State::Ready {
                todo.push(spec);
            }
        }
        self.room_for(&todo)
    }

    /// [`ensure_room`](DataDir::ensure_room) for files that all have to be written. One
    /// probe file at the largest size tells whether the filesystem takes them and keeps
    /// sparse files sparse.
    fn room_for(&self, specs: &[&Spec]) -> anyhow::Result<()> {
        let Some(largest) = specs.iter().map(|s| s.size).max() else {
            return Ok(());
        };
        let sparse_ok = self.probe_size(largest)?;
        let need = specs
            .iter()
            .filter(|s| !(matches!(s.content, Content::Sparse) && sparse_ok))
            .fold(0u64, |sum, s| sum.saturating_add(s.size));
        self.ensure_free(need)
    }

    /// Fails with a [`BadInput`] error unless the directory's filesystem accepts a file of
    /// `bytes` (vfat stops at 4 GiB, ext4 at 16 TiB).
    pub fn ensure_accepts(&self, bytes: u64) -> anyhow::Result<()> {
        self.probe_size(bytes).map(|_| ())
    }

    /// Sets the length of a probe file to `bytes` and deletes it; `Ok(true)` when the
    /// file stayed sparse (took next to no blocks). A filesystem without sparse files (vfat,
    /// exFAT) fills the length with zeros, so a "sparse" sample there needs real disk.
    fn probe_size(&self, bytes: u64) -> anyhow::Result<bool> {
        let (file, probe) = self
            .probe_file("size-probe")
            .with_context(|| format!("size probe in {}", show(&self.path)))?;
        let result = file
            .set_len(bytes)
            .and_then(|()| Ok(stays_sparse(&file.metadata()?, bytes)));
        drop(file);
        let _ = fs::remove_file(&probe);
        match result {
            Ok(sparse) => Ok(sparse),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::FileTooLarge | io::ErrorKind::InvalidInput
                ) =>
            {
                Err(BadInput(format!(
                    "{}: the filesystem does not accept a file of {} ({}); choose a smaller \
                     --size or another --dir",
                    show(&self.path),
                    size::fmt(bytes),
                    plain(&e)
                ))
                .into())
            }
            Err(e) => Err(e).with_context(|| format!("size probe in {}", show(&self.path))),
        }
    }

    /// Where a spec's file lives (whether or not it exists yet).
    pub fn path_of(&self, spec: &Spec) -> PathBuf {
        self.path.join(spec.file_name())
    }

    /// Whether the file for `spec` exists, was written by mmap-lab and still matches what
    /// its sidecar recorded.
    pub fn is_ready(&self, spec: &Spec) -> bool {
        self.state(spec, true).is_ok_and(|s| s == State::Ready)
    }

    /// The state of `spec`'s file; with `verify`, its content is checked against the
    /// sidecar's fingerprint too (a few pages read), else only its size and sidecar.
    fn state(&self, spec: &Spec, verify: bool) -> anyhow::Result<State> {
        let file = self.path_of(spec);
        let side = match Sidecar::read(&file) {
            Ok(s) => s,
            Err(e) => {
                return Ok(State::Foreign(format!(
                    "{} exists but is not a sidecar mmap-lab wrote ({e})",
                    show(&sidecar::path_of(&file))
                )));
            }
        };
        let meta = match fs::symlink_metadata(&file) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("stat {}", show(&file))),
        };
        Ok(match (meta, side) {
            (None, None) => State::Missing,
            (None, Some(_)) => State::Stale,
            (Some(_), None) => State::Foreign(format!(
                "{} exists but was not made by mmap-lab",
                show(&file)
            )),
            (Some(m), Some(_)) if !m.is_file() => {
                State::Foreign(format!("{} is not a regular file", show(&file)))
            }
            (Some(m), Some(sc)) => {
                let same = m.len() == spec.size
                    && sc.size == spec.size
                    && sc.content == spec.content.tag()
                    && !sc.fingerprint.is_empty()
                    && (!verify
                        || File::open(&file)
                            .and_then(|f| fingerprint(&f))
                            .is_ok_and(|fp| fp == sc.fingerprint));
                if same { State::Ready } else { State::Stale }
            }
        })
    }

    /// The path of a file matching `spec`, made first if missing or invalid. The file is
    /// not held in use: a lesson uses [`acquire`](DataDir::acquire) (through `Lab::file`).
    pub fn file(&self, spec: &Spec) -> anyhow::Result<PathBuf> {
        self.acquire(spec, false).map(|u| u.path)
    }

    /// A file matching `spec`, made first if missing or invalid, and held in use until the
    /// result is dropped. With `remove_on_signal` (a `--clean` run) or for a scratch spec,
    /// a fatal signal removes it unless another run uses it too.
    ///
    /// Two runs that want the same file at once take turns: the one that makes it holds
    /// its making lock, and the other finds it ready.
    pub fn acquire(&self, spec: &Spec, remove_on_signal: bool) -> anyhow::Result<InUse> {
        let path = self.path_of(spec);
        for _ in 0..3 {
            match self.state(spec, true)? {
                State::Ready => {
                    if let Some(file) = lock::use_shared(&path)?
                        && lock::still_at(&file, &path)
                    {
                        let on_signal = (remove_on_signal || spec.scratch).then(|| {
                            let held = raw_fd(&file);
                            cleanup::on_signal(
                                &path,
                                Some(&sidecar::path_of(&path)),
                                Removal::UnlessShared { held },
                            )
                        });
                        return Ok(InUse {
                            path,
                            _file: file,
                            _on_signal: on_signal,
                        });
                    }
                    // Removed or replaced between the look and the lock: look again.
                }
                State::Foreign(why) => {
                    return Err(BadInput(format!(
                        "{why}; refusing to overwrite it (move it away or choose another --dir)"
                    ))
                    .into());
                }
                State::Missing | State::Stale => {
                    let _making = lock::making(&path, || self.maker_of(&path))?;
                    match self.state(spec, true)? {
                        State::Ready => {}
                        State::Foreign(_) => continue,
                        State::Missing | State::Stale => self.make(spec, &path)?,
                    }
                }
            }
        }
        anyhow::bail!(
            "{} kept changing while this run tried to use it",
            show(&path)
        )
    }

    /// Makes `spec`'s file at `path`; the caller holds its making lock.
    fn make(&self, spec: &Spec, path: &Path) -> anyhow::Result<()> {
        self.remove_partials_of(path);
        self.room_for(&[spec])?;
        let side = sidecar::path_of(path);
        let mut record = Sidecar::new(path, spec.size, spec.content.tag());
        record.scratch_of = spec.scratch.then(std::process::id);
        // A new file's sidecar goes first: once it exists the name is ours, even if this run
        // is killed before the rename, and the next run makes the file again. A stale file
        // keeps its old sidecar until the new data is in place, so a failure leaves both.
        let claimed = if side.exists() {
            None
        } else {
            write_atomically(&side, |f| f.write_all(record.to_text().as_bytes()))?;
            // Interrupted before the file is complete, the run takes the new name back.
            Some(cleanup::on_signal(path, Some(&side), Removal::Always))
        };
        let progress = Progress::new(spec, self.progress);
        // Synced before it is renamed into place: a sample must not start its life as dirty
        // pages, which writeback would turn clean in the middle of a lesson's measurement.
        let written = write_atomically(path, |f| {
            generate(spec, f, &progress)?;
            fingerprint(f)
        })
        .with_context(|| format!("writing {}", show(path)));
        progress.bar.finish_and_clear();
        match written {
            Ok(fp) => {
                record.fingerprint = fp;
                write_atomically(&side, |f| f.write_all(record.to_text().as_bytes()))
            }
            Err(e) => {
                if claimed.is_some() {
                    let _ = fs::remove_file(&side);
                }
                Err(e)
            }
        }
    }

    /// Maps one of this directory's files read-only. Refused for a file outside the
    /// directory or not vouched for by its sidecar.
    pub fn map(&self, path: &Path) -> anyhow::Result<memmap2::Mmap> {
        self.map_with(path, false)
    }

    /// [`map`](DataDir::map), with `MAP_POPULATE` when `populate`.
    pub fn map_with(&self, path: &Path, populate: bool) -> anyhow::Result<memmap2::Mmap> {
        if path.parent() != Some(self.path.as_path()) || !matches!(Sidecar::read(path), Ok(Some(_)))
        {
            anyhow::bail!(
                "{} is not a data file mmap-lab made in {}",
                show(path),
                show(&self.path)
            );
        }
        let file = File::open(path).with_context(|| format!("open {}", show(path)))?;
        let mut options = memmap2::MmapOptions::new();
        if populate {
            options.populate();
        }
        // SAFETY: a `&[u8]` over a map is sound only while the file's bytes do not change
        // and its length does not shrink. mmap-lab writes a data file only whole, under a
        // temporary name that is then renamed into place, and never writes, truncates or
        // shortens one in place; regenerating or deleting it leaves the mapped inode alive
        // and unchanged. Nothing else is meant to write into the data directory (README,
        // "Data files"); a user who edits a sample while a lesson maps it breaks that.
        unsafe { options.map(&file) }.with_context(|| format!("mmap {}", show(path)))
    }

    /// Deletes every file mmap-lab made here that no running lesson uses (with its sidecar
    /// and lock file), and partial files no one is writing; anything else stays. The
    /// directory itself is removed when that leaves it empty.
    pub fn clean(&self) -> anyhow::Result<Cleaned> {
        let mut done = Cleaned::default();
        for (file, _) in self.vouched()? {
            match self.remove_file(&file)? {
                Some(bytes) => {
                    done.files += 1;
                    done.bytes += bytes;
                }
                None => done.in_use.push(show(&file)),
            }
        }
        self.sweep_partials();
        let _ = fs::remove_dir(&self.path);
        Ok(done)
    }

    /// Deletes the file of `spec` (and its sidecar) if mmap-lab made it and no other run
    /// uses it; `Ok(false)` when it was kept because another run uses it.
    pub fn remove(&self, spec: &Spec) -> anyhow::Result<bool> {
        let path = self.path_of(spec);
        if !matches!(Sidecar::read(&path), Ok(Some(_))) {
            return Ok(true);
        }
        Ok(self.remove_file(&path)?.is_some())
    }

    /// Removes a vouched-for file unless in use: the disk it took, or `None` when in use.
    fn remove_file(&self, path: &Path) -> anyhow::Result<Option<u64>> {
        let side = sidecar::path_of(path);
        let bytes = fs::symlink_metadata(path).map_or(0, |m| disk_usage(&m));
        let Some(_exclusive) = lock::for_removal(path)? else {
            if path.exists() {
                return Ok(None);
            }
            // An orphaned sidecar: its file is gone.
            let _ = fs::remove_file(&side);
            return Ok(Some(0));
        };
        fs::remove_file(path).with_context(|| format!("remove {}", show(path)))?;
        let _ = fs::remove_file(&side);
        Ok(Some(bytes))
    }

    /// The data files here that a sidecar vouches for, with their sidecars.
    fn vouched(&self) -> anyhow::Result<Vec<(PathBuf, Sidecar)>> {
        let mut out = Vec::new();
        for entry in
            fs::read_dir(&self.path).with_context(|| format!("list {}", show(&self.path)))?
        {
            let path = entry?.path();
            let Some(file) = path
                .to_str()
                .and_then(|p| p.strip_suffix(sidecar::SUFFIX))
                .map(PathBuf::from)
            else {
                continue;
            };
            let Ok(Some(sc)) = Sidecar::read(&file) else {
                continue;
            };
            // The sidecar must match the file too: a file of another size or kind by that
            // name is not the one mmap-lab made.
            match fs::symlink_metadata(&file) {
                Ok(m) if m.is_file() && m.len() == sc.size => out.push((file, sc)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => out.push((file, sc)),
                _ => {}
            }
        }
        Ok(out)
    }

    /// Sweeps what interrupted runs left: partial files no one is writing, and scratch
    /// files of runs that are gone and that no one uses. Best effort: a failure here only
    /// leaves the leftover for the next sweep.
    fn sweep(&self) {
        self.sweep_partials();
        let Ok(files) = self.vouched() else { return };
        for (file, sc) in files {
            if let Some(pid) = sc.scratch_of
                && (pid == std::process::id() || !sys::process_alive(pid))
            {
                let _ = self.remove_file(&file);
            }
        }
    }

    /// Removes `NAME.partial-PID-N` files (and sidecar partials) whose file no run is making.
    fn sweep_partials(&self) {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let data = if let Some((stem, _)) = split_partial(name) {
                stem.strip_suffix(sidecar::SUFFIX).unwrap_or(stem)
            } else if let Some(stem) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".lock"))
            {
                // A making lock left by a run that was killed: taking and dropping it
                // removes it.
                stem
            } else {
                continue;
            };
            let data = self.path.join(data);
            if let Ok(Some(_making)) = lock::try_making(&data) {
                self.remove_partials_of(&data);
            }
        }
    }

    /// Removes the partial files of data file `file`; the caller holds its making lock.
    fn remove_partials_of(&self, file: &Path) {
        let Some(stem) = file.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some((s, _)) = name.to_str().and_then(split_partial)
                && (s == stem || s.strip_suffix(sidecar::SUFFIX) == Some(stem))
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The pid of the run making `file`, from its partial file's name.
    fn maker_of(&self, file: &Path) -> Option<u32> {
        let stem = file.file_name()?.to_str()?.to_string();
        fs::read_dir(&self.path).ok()?.flatten().find_map(|e| {
            let name = e.file_name();
            let (s, pid) = split_partial(name.to_str()?)?;
            (s == stem).then_some(pid)
        })
    }
}

/// `NAME.partial-PID-N` → (`NAME`, PID).
fn split_partial(name: &str) -> Option<(&str, u32)> {
    let (stem, rest) = name.split_once(PARTIAL)?;
    let pid = rest.split('-').next()?.parse().ok()?;
    Some((stem, pid))
}

#[cfg(unix)]
fn raw_fd(f: &File) -> i32 {
    std::os::fd::AsRawFd::as_raw_fd(f)
}

#[cfg(not(unix))]
fn raw_fd(_f: &File) -> i32 {
    -1
}

/// Writes `path` by writing a temporary file in the same directory (removed on a fatal
/// signal), syncing it and renaming it over `path`, so no one ever sees it half-written.
/// The directory is not synced: after a crash the rename may be lost, and the file is then
/// made again. `body`'s result is returned.
fn write_atomically<T>(
    path: &Path,
    body: impl FnOnce(&mut File) -> io::Result<T>,
) -> anyhow::Result<T> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!("{PARTIAL}{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _on_signal = cleanup::on_signal(&tmp, None, Removal::Always);
    let result = (|| -> io::Result<T> {
        let mut f = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&tmp)?;
        let out = body(&mut f)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(out)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("write {}", show(path)))
}

/// Reads exactly `buf.len()` bytes at `offset` without moving the file's cursor: one
/// `pread(2)` on Unix, `ReadFile` with an offset on Windows. This is random access the plain
/// I/O way, one system call per read.
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, buf, offset);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "positioned reads are not available here",
        ))
    }
}

/// Writes all of `buf` at `offset` without moving the file's cursor: `pwrite(2)` on Unix,
/// `WriteFile` with an offset on Windows.
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            let n = std::os::windows::fs::FileExt::seek_write(file, buf, offset)?;
            buf = &buf[n..];
            offset += n as u64;
        }
        Ok(())
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, buf, offset);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "positioned writes are not available here",
        ))
    }
}

/// Whether a file whose length was just set to `len` took (almost) no disk blocks.
#[cfg(unix)]
fn stays_sparse(meta: &fs::Metadata, len: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.blocks().saturating_mul(512) < len.clamp(64 << 10, 1 << 20)
}

#[cfg(not(unix))]
fn stays_sparse(_meta: &fs::Metadata, _len: u64) -> bool {
    false
}

/// The disk space a file takes (less than its length when it is sparse).
#[cfg(unix)]
fn disk_usage(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::blocks(meta).saturating_mul(512)
}

#[cfg(not(unix))]
fn disk_usage(meta: &fs::Metadata) -> u64 {
    meta.len()
}

/// An `io::Error` without the "(os error N)" tail, for one-line messages.
fn plain(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
