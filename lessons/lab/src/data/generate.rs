//! Making a sample file's bytes: the seeded generators, and a progress bar for slow ones.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Content, Spec};

const CHUNK: usize = 1 << 20;

/// Writes `spec`'s content into `file`.
pub(super) fn generate(spec: &Spec, file: &mut File, progress: &Progress) -> io::Result<()> {
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

/// A progress bar that stays hidden for the first second, so quick generation prints
/// nothing, and never shows when disabled (`--format json`) or stderr is not a terminal.
pub(super) struct Progress {
    pub(super) bar: ProgressBar,
    started: Instant,
    enabled: bool,
}

impl Progress {
    /// A bar for making `spec`, shown only when `enabled` and only after a second.
    pub(super) fn new(spec: &Spec, enabled: bool) -> Progress {
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
            enabled,
        }
    }

    fn inc(&self, n: u64) {
        self.bar.inc(n);
        if self.enabled && self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}
