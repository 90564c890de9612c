//! Sample files for the lessons, in a data directory the lesson owns.
//!
//! A file is described by a [`Spec`] (name, size, content). [`DataDir::file`] returns the
//! path of a file matching the spec, making it only when it is missing or invalid:
//!
//! - it is written under a temporary name and renamed into place, so an interrupted run
//!   never leaves a half-written file under the real name;
//! - a small sidecar `NAME.mmap-lab` records what mmap-lab wrote; a file without its sidecar
//!   was not made here and is never overwritten (the lesson stops with an error instead);
//! - free disk space is checked before writing; sparse files need none.
//!
//! Contents are deterministic (seeded), so a reused file and a regenerated one are equal.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::BadInput;
use crate::{size, sys};

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
}

impl Spec {
    pub fn new(name: &str, size: u64, content: Content) -> Spec {
        Spec {
            name: name.to_string(),
            size,
            content,
        }
    }

    /// The file name: `sample-268435456-random-7.bin`.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}.bin", self.name, self.size, self.content.tag())
    }

    fn sidecar_text(&self) -> String {
        format!(
            "{{\"created_by\":\"mmap-lab\",\"size\":{},\"content\":\"{}\"}}\n",
            self.size,
            self.content.tag()
        )
    }
}

const SIDECAR: &str = ".mmap-lab";
const PARTIAL: &str = ".partial-";
/// Kept free on the data directory's filesystem beyond the file itself.
const DISK_RESERVE: u64 = 256 << 20;

/// The directory a lesson writes into.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
    progress: bool,
}

/// The workspace's `target/` directory, found from the running binary (so
/// `CARGO_TARGET_DIR` and `build.target-dir` are respected): `target/release/lesson-05` →
/// `target`, `target/debug/deps/test-xyz` → `target`. Lessons, benchmarks and the book all
/// find their files through it.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let mut dir = exe.as_deref().and_then(Path::parent).map(Path::to_path_buf);
    if dir.as_deref().is_some_and(|d| d.ends_with("deps")) {
        dir = dir.and_then(|d| d.parent().map(Path::to_path_buf));
    }
    let target = dir.as_deref().and_then(Path::parent);
    target.map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

impl DataDir {
    /// The default: `lesson-data/` in the workspace's [`target_dir`]. Same filesystem as
    /// the work, unlike `/tmp`, which is often tmpfs where nothing can be evicted.
    pub fn default_path() -> PathBuf {
        target_dir().join("lesson-data")
    }

    /// Opens the data directory. A directory given by the user must exist, be a directory
    /// and be writable (checked by creating and removing a probe file); the default one is
    /// created. `progress` allows a progress bar on the terminal for slow generation.
    pub fn open(dir: Option<&Path>, progress: bool) -> anyhow::Result<DataDir> {
        let path = match dir {
            Some(d) => {
                let meta = fs::metadata(d)
                    .map_err(|e| BadInput(format!("--dir {}: {}", d.display(), plain(&e))))?;
                if !meta.is_dir() {
                    return Err(BadInput(format!("--dir {}: not a directory", d.display())).into());
                }
                d.to_path_buf()
            }
            None => {
                let d = Self::default_path();
                fs::create_dir_all(&d)
                    .with_context(|| format!("cannot create data directory {}", d.display()))?;
                d
            }
        };
        let probe = path.join(format!(".mmap-lab-probe-{}", std::process::id()));
        match File::create(&probe) {
            Ok(_) => {
                let _ = fs::remove_file(&probe);
            }
            Err(e) => {
                return Err(BadInput(format!(
                    "--dir {}: not writable ({})",
                    path.display(),
                    plain(&e)
                ))
                .into());
            }
        }
        Ok(DataDir { path, progress })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory is on tmpfs (RAM): "cold" reads are impossible there.
    pub fn is_tmpfs(&self) -> bool {
        sys::fs_type(&self.path).is_some_and(|t| t == "tmpfs" || t == "ramfs")
    }

    /// Fails with a clear message unless `bytes` more fit on the directory's filesystem with
    /// room to spare.
    pub fn ensure_free(&self, bytes: u64) -> anyhow::Result<()> {
        let free = match sys::free_disk(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(()),
            Err(e) => return Err(e).context("statvfs"),
        };
        if bytes.saturating_add(DISK_RESERVE) > free {
            return Err(BadInput(format!(
                "{} needs {} of disk, but only {} is free there (keeping {} spare); \
                 choose a smaller --size or another --dir",
                self.path.display(),
                size::fmt(bytes),
                size::fmt(free),
                size::fmt(DISK_RESERVE)
            ))
            .into());
        }
        Ok(())
    }

    /// Fails with a [`BadInput`] error unless the directory's filesystem accepts a file of
    /// `bytes` (vfat stops at 4 GiB, ext4 at 16 TiB): it sets the length of a scratch file,
    /// which allocates no blocks, and deletes it. Checked before anything is written, so a
    /// refused size leaves no sidecar behind.
    pub fn ensure_accepts(&self, bytes: u64) -> anyhow::Result<()> {
        self.probe_size(bytes).map(|_| ())
    }

    /// Sets the length of a scratch file to `bytes` and deletes it; `Ok(true)` when the
    /// file stayed sparse (took next to no blocks). A filesystem without sparse files (vfat,
    /// exFAT) fills the length with zeros, so a "sparse" sample there needs real disk.
    fn probe_size(&self, bytes: u64) -> anyhow::Result<bool> {
        let probe = self
            .path
            .join(format!(".mmap-lab-size-probe-{}", std::process::id()));
        let result = File::create(&probe).and_then(|f| {
            f.set_len(bytes)?;
            Ok(stays_sparse(&f.metadata()?, bytes))
        });
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
                    self.path.display(),
                    size::fmt(bytes),
                    plain(&e)
                ))
                .into())
            }
            Err(e) => Err(e).with_context(|| format!("size probe in {}", self.path.display())),
        }
    }

    /// Where a spec's file lives (whether or not it exists yet).
    pub fn path_of(&self, spec: &Spec) -> PathBuf {
        self.path.join(spec.file_name())
    }

    /// Whether the file for `spec` exists, was written by mmap-lab and is complete.
    pub fn is_ready(&self, spec: &Spec) -> bool {
        let file = self.path_of(spec);
        let sidecar_ok = fs::read_to_string(sidecar(&file)).is_ok_and(|t| t == spec.sidecar_text());
        sidecar_ok && fs::metadata(&file).is_ok_and(|m| m.is_file() && m.len() == spec.size)
    }

    /// The path of a file matching `spec`, generated first if missing or invalid.
    ///
    /// Two processes asking for the same file at once (two lessons, a lesson and the
    /// benchmarks) take turns: the directory is locked while a file is checked, made or
    /// removed, so the second one finds the file ready instead of writing it again.
    pub fn file(&self, spec: &Spec) -> anyhow::Result<PathBuf> {
        let file = self.path_of(spec);
        if self.is_ready(spec) {
            return Ok(file);
        }
        let _lock = self.lock()?;
        if self.is_ready(spec) {
            return Ok(file);
        }
        if file.exists() && !sidecar(&file).exists() {
            return Err(BadInput(format!(
                "{} exists but was not made by mmap-lab; refusing to overwrite it \
                 (move it away or choose another --dir)",
                file.display()
            ))
            .into());
        }
        self.remove_stale_partials(&file);
        let sparse = matches!(spec.content, Content::Sparse);
        if !sparse {
            self.ensure_free(spec.size)?;
        }
        if !self.probe_size(spec.size)? && sparse {
            self.ensure_free(spec.size)?;
        }
        // The sidecar goes first: once it exists, the name is ours even if we are killed
        // before the rename, and the next run regenerates the file.
        write_atomically(&sidecar(&file), |f| {
            f.write_all(spec.sidecar_text().as_bytes())
        })?;
        let progress = self.progress(spec);
        let written = write_atomically(&file, |f| generate(spec, f, &progress))
            .with_context(|| format!("writing {}", file.display()));
        progress.bar.finish_and_clear();
        if written.is_err() {
            let _ = fs::remove_file(sidecar(&file));
        }
        written?;
        Ok(file)
    }

    /// Maps one of this directory's files read-only. Refused for a file outside the
    /// directory or without a sidecar (not made by mmap-lab).
    pub fn map(&self, path: &Path) -> anyhow::Result<memmap2::Mmap> {
        if path.parent() != Some(self.path.as_path()) || !sidecar(path).exists() {
            anyhow::bail!(
                "{} is not a data file mmap-lab made in {}",
                path.display(),
                self.path.display()
            );
        }
        let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
        // SAFETY: a `&[u8]` over a map is sound only while the file's bytes do not change
        // and its length does not shrink. mmap-lab writes a data file only whole, under a
        // temporary name that is then renamed into place, and never writes, truncates or
        // shortens one in place; regenerating or deleting it leaves the mapped inode alive
        // and unchanged. Nothing else is meant to write into the data directory (README,
        // "Data files"); a user who edits a sample while a lesson maps it breaks that.
        unsafe { memmap2::Mmap::map(&file) }.with_context(|| format!("mmap {}", path.display()))
    }

    /// Deletes every file mmap-lab made here (those with a sidecar, and the sidecars), and
    /// temporary files of runs that were interrupted; anything else stays. Returns how many
    /// files and bytes went. The directory itself is removed when that leaves it empty.
    pub fn clean(&self) -> anyhow::Result<(usize, u64)> {
        let lock = self.lock()?;
        let (mut files, mut bytes) = (0, 0);
        for entry in fs::read_dir(&self.path)? {
            let path = entry?.path();
            let Some(made) = path
                .to_str()
                .and_then(|p| p.strip_suffix(SIDECAR))
                .map(PathBuf::from)
            else {
                continue;
            };
            self.remove_stale_partials(&made);
            for p in [&made, &path] {
                if let Ok(meta) = fs::metadata(p) {
                    fs::remove_file(p).with_context(|| format!("remove {}", p.display()))?;
                    files += 1;
                    bytes += disk_usage(&meta);
                }
            }
        }
        drop(lock);
        let _ = fs::remove_dir(&self.path);
        Ok((files, bytes))
    }

    /// An exclusive lock on the directory, released when dropped.
    fn lock(&self) -> anyhow::Result<File> {
        let dir =
            File::open(&self.path).with_context(|| format!("open {}", self.path.display()))?;
        dir.lock()
            .with_context(|| format!("lock {}", self.path.display()))?;
        Ok(dir)
    }

    /// Deletes the file of `spec` (and its sidecar) if mmap-lab made it.
    pub fn remove(&self, spec: &Spec) -> anyhow::Result<()> {
        let file = self.path_of(spec);
        let _lock = self.lock()?;
        if sidecar(&file).exists() {
            match fs::remove_file(&file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("remove {}", file.display()));
                }
                _ => {}
            }
            fs::remove_file(sidecar(&file))?;
        }
        Ok(())
    }

    fn remove_stale_partials(&self, file: &Path) {
        let Some(stem) = file.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // NAME.partial-PID-N (the data) or NAME.mmap-lab.partial-PID-N (its sidecar)
            let Some(pid) = name
                .strip_prefix(stem)
                .map(|rest| rest.strip_prefix(SIDECAR).unwrap_or(rest))
                .and_then(|rest| rest.strip_prefix(PARTIAL))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if !sys::process_alive(pid) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn progress(&self, spec: &Spec) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(spec.size), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("generating {}", spec.file_name()));
        Progress {
            bar,
            started: Instant::now(),
            enabled: self.progress,
        }
    }
}

/// A progress bar that stays hidden for the first second, so quick generation prints
/// nothing, and never shows when disabled (`--format json`) or stderr is not a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    enabled: bool,
}

impl Progress {
    fn inc(&self, n: u64) {
        self.bar.inc(n);
        if self.enabled && self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

fn sidecar(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(SIDECAR);
    PathBuf::from(s)
}

/// Writes `path` by writing a temporary file in the same directory, syncing it and renaming
/// it over `path`.
fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut File) -> io::Result<()>,
) -> anyhow::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!("{PARTIAL}{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        body(&mut f)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable only once the directory itself is synced.
        match path.parent() {
            Some(dir) => File::open(dir)?.sync_all(),
            None => Ok(()),
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("write {}", path.display()))
}

const CHUNK: usize = 1 << 20;

fn generate(spec: &Spec, file: &mut File, progress: &Progress) -> io::Result<()> {
    match spec.content {
        Content::Sparse => file.set_len(spec.size),
        Content::Random { seed } => {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut buf = vec![0u8; CHUNK];
            let mut left = spec.size;
            while left > 0 {
                let n = left.min(CHUNK as u64) as usize;
                rng.fill(&mut buf[..n]);
                file.write_all(&buf[..n])?;
                left -= n as u64;
                progress.inc(n as u64);
            }
            Ok(())
        }
        Content::Log { seed } => {
            let mut out = Counted::new(file, progress);
            write_log(&mut out, spec.size, seed)?;
            out.inner.flush()
        }
        Content::Custom { fill, .. } => {
            let mut out = Counted::new(file, progress);
            fill(&mut out, spec.size)?;
            out.inner.flush()?;
            if out.written != spec.size {
                return Err(io::Error::other(format!(
                    "the generator wrote {} bytes instead of {}",
                    out.written, spec.size
                )));
            }
            Ok(())
        }
    }
}

/// A buffered writer that counts bytes and moves the progress bar.
struct Counted<'a> {
    inner: BufWriter<&'a mut File>,
    written: u64,
    progress: &'a Progress,
}

impl<'a> Counted<'a> {
    fn new(file: &'a mut File, progress: &'a Progress) -> Self {
        Counted {
            inner: BufWriter::with_capacity(CHUNK, file),
            written: 0,
            progress,
        }
    }
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        self.progress.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes exactly `size` bytes of log lines; the last line is cut short to fit and still
/// ends in a newline.
pub fn write_log(out: &mut dyn Write, size: u64, seed: u64) -> io::Result<()> {
    const LEVELS: [&str; 4] = ["INFO ", "INFO ", "WARN ", "ERROR"];
    const METHODS: [&str; 3] = ["GET", "GET", "POST"];
    const PATHS: [&str; 5] = [
        "/api/items",
        "/api/users",
        "/static/app.js",
        "/login",
        "/search",
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut line = String::with_capacity(128);
    let mut left = size;
    let mut t: u64 = 0;
    while left > 0 {
        line.clear();
        t += rng.u64(1..2000);
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "2026-11-26T{:02}:{:02}:{:02}.{:03}Z {} svc-{:02} {} {}/{} {} {}ms",
            (t / 3_600_000) % 24,
            (t / 60_000) % 60,
            (t / 1000) % 60,
            t % 1000,
            LEVELS[rng.usize(..LEVELS.len())],
            rng.u8(0..16),
            METHODS[rng.usize(..METHODS.len())],
            PATHS[rng.usize(..PATHS.len())],
            rng.u32(1..100_000),
            [200, 200, 200, 304, 404, 500][rng.usize(..6)],
            rng.u32(1..900),
        );
        let bytes = line.as_bytes();
        if (bytes.len() as u64) <= left {
            out.write_all(bytes)?;
            left -= bytes.len() as u64;
        } else {
            let n = left as usize;
            out.write_all(&bytes[..n - 1])?;
            out.write_all(b"\n")?;
            left = 0;
        }
    }
    Ok(())
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
