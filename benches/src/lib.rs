//! The criterion benchmark suite of mmap-lessons: what it measures, in which sizes, for how
//! long — one definition shared by the three bench targets and by `bench-results`, which
//! exports a run as `target/bench-results.json` and compares it with the reference machine.
//!
//! - `seq_scan`: read a whole file and count its newlines, from 4 KiB to 256 MiB, with
//!   `fs::read`, a loop of `read()` into one reused 256 KiB buffer, `mmap`, and `mmap` with
//!   `MAP_POPULATE`. Every method hands the bytes to the same [`consume`], so only the I/O
//!   path differs.
//! - `random_access`: one 8-byte read at a random (seeded) offset of a warm 256 MiB file,
//!   with `pread` or by indexing a mapping.
//! - `small_files`: one whole small file (4 KiB or 64 KiB, cycling through 1000 of them),
//!   with open + read or open + mmap.
//!
//! Files come from `mmap_lab::data` (`target/lesson-data/`), so they are made once and
//! shared with the lessons. Every group reads its files once before measuring: the numbers
//! are for a warm page cache.
//!
//! `MMAP_BENCH_QUICK=1` selects the quick mode (fewer sizes, short measurements) that the
//! book uses; the full mode is the reference.

use std::fs;
use std::path::PathBuf;
use std::process;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use mmap_lab::BadInput;
use mmap_lab::data::{Content, DataDir, Spec, target_dir};
use mmap_lab::files::warn;
use mmap_lab::size;

/// Full (the reference) or quick (for the book).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Quick,
}

/// The environment variable that selects [`Mode::Quick`].
pub const QUICK_ENV: &str = "MMAP_BENCH_QUICK";

impl Mode {
    /// Quick when `MMAP_BENCH_QUICK` is set to anything but empty or `0`.
    pub fn from_env() -> Mode {
        match std::env::var(QUICK_ENV) {
            Ok(v) if !v.is_empty() && v != "0" => Mode::Quick,
            _ => Mode::Full,
        }
    }

    /// `"full"` or `"quick"`, as recorded in the exported results.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Quick => "quick",
        }
    }

    /// Parses [`Mode::name`].
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "full" => Some(Mode::Full),
            "quick" => Some(Mode::Quick),
            _ => None,
        }
    }

    /// File sizes of `seq_scan`.
    pub fn scan_sizes(self) -> &'static [u64] {
        match self {
            Mode::Full => &[4 << 10, 64 << 10, 1 << 20, 16 << 20, 256 << 20],
            Mode::Quick => &[4 << 10, 1 << 20, 256 << 20],
        }
    }

    /// How long criterion warms up and measures one benchmark whose iteration takes about
    /// `per_iter` (measured on the spot by [`bench()`]).
    pub fn timing(self, per_iter: Duration) -> Timing {
        let long = per_iter >= Duration::from_millis(2);
        match (self, long) {
            (Mode::Full, false) => Timing {
                warm_up: Duration::from_secs(1),
                measurement: Duration::from_secs(3),
                samples: 50,
                flat: false,
            },
            (Mode::Full, true) => Timing {
                warm_up: Duration::from_secs(1),
                measurement: Duration::from_secs(6),
                samples: 20,
                flat: true,
            },
            (Mode::Quick, false) => Timing {
                warm_up: Duration::from_millis(300),
                measurement: Duration::from_millis(700),
                samples: 20,
                flat: false,
            },
            (Mode::Quick, true) => Timing {
                warm_up: Duration::from_millis(300),
                measurement: Duration::from_secs(1),
                samples: 10,
                flat: true,
            },
        }
        .fit(per_iter)
    }
}

/// The groups, functions and parameters of the suite.
pub const SEQ_SCAN: &str = "seq_scan";
pub const SCAN_METHODS: [&str; 4] = ["fs_read", "read_256k", "mmap", "mmap_populate"];
/// The reused buffer of `read_256k`.
pub const READ_BUFFER: usize = 256 << 10;

pub const RANDOM_ACCESS: &str = "random_access";
pub const RANDOM_METHODS: [&str; 2] = ["pread", "mmap"];
pub const RANDOM_FILE_SIZE: u64 = 256 << 20;
/// Bytes read per random access.
pub const RANDOM_READ: usize = 8;

pub const LOG_COUNT: &str = "log_count";
/// The in-process ways, then the peers run as programs (skipped where not installed).
pub const LOG_METHODS: [&str; 6] = ["map_1", "map_all", "read_loop", "rg", "rg_no_mmap", "grep"];
pub const LOG_FILE_SIZE: u64 = 128 << 20;
/// Lesson 7's default literal.
pub const LOG_LITERAL: &str = "ERROR svc-07";

pub const RECORD_LOOKUP: &str = "record_lookup";
pub const RECORD_METHODS: [&str; 3] = ["in_place", "copy_out", "pread"];
pub const RECORD_FILE_SIZE: u64 = 64 << 20;

pub const SMALL_FILES: &str = "small_files";
pub const SMALL_METHODS: [&str; 2] = ["read", "mmap"];
pub const SMALL_FILE_SIZES: [u64; 2] = [4 << 10, 64 << 10];
pub const SMALL_FILE_COUNT: usize = 1000;

/// Every benchmark id a complete run of `mode` produces, as criterion spells them.
pub fn benchmark_ids(mode: Mode) -> Vec<String> {
    let mut ids = Vec::new();
    for size in mode.scan_sizes() {
        for m in SCAN_METHODS {
            ids.push(format!("{SEQ_SCAN}/{m}/{size}"));
        }
    }
    for m in RANDOM_METHODS {
        ids.push(format!("{RANDOM_ACCESS}/{m}/{RANDOM_FILE_SIZE}"));
    }
    for m in LOG_METHODS {
        ids.push(format!("{LOG_COUNT}/{m}/{LOG_FILE_SIZE}"));
    }
    for m in RECORD_METHODS {
        ids.push(format!("{RECORD_LOOKUP}/{m}/{RECORD_FILE_SIZE}"));
    }
    for size in SMALL_FILE_SIZES {
        for m in SMALL_METHODS {
            ids.push(format!("{SMALL_FILES}/{m}/{size}"));
        }
    }
    ids
}

/// What every scan does with the bytes: count the newlines, like `wc -l`. The same for
/// every method, so only the way the bytes arrive differs.
pub fn consume(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Criterion settings of one benchmark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub warm_up: Duration,
    pub measurement: Duration,
    pub samples: usize,
    /// Flat sampling (the same iteration count in every sample), for slow iterations.
    pub flat: bool,
}

impl Timing {
    /// Stretches the measurement time so that all samples fit, instead of letting
    /// criterion warn and overrun.
    fn fit(mut self, per_iter: Duration) -> Timing {
        let needed = if self.flat {
            per_iter * self.samples as u32
        } else {
            // Linear sampling runs 1 + 2 + ... + n iterations at least.
            per_iter * (self.samples * (self.samples + 1) / 2) as u32
        };
        self.measurement = self.measurement.max(needed.mul_f64(1.2));
        self
    }

    /// Applies these settings to the next benchmarks of `group`.
    pub fn apply(&self, group: &mut BenchmarkGroup<'_, WallTime>) {
        group
            .warm_up_time(self.warm_up)
            .measurement_time(self.measurement)
            .sample_size(self.samples)
            .sampling_mode(if self.flat {
                SamplingMode::Flat
            } else {
                SamplingMode::Auto
            });
    }
}

/// Benchmarks `routine` as `id` in `group`. It first runs once — which brings its files
/// into the page cache — and how long that took chooses the [`Timing`].
pub fn bench<R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    mode: Mode,
    id: BenchmarkId,
    mut routine: impl FnMut() -> R,
) {
    let start = Instant::now();
    std::hint::black_box(routine());
    mode.timing(start.elapsed()).apply(group);
    group.bench_function(id, |b| b.iter(&mut routine));
}

/// Where the suite's criterion output goes and `bench-results export` reads it:
/// `$CRITERION_HOME` when set (as criterion itself does), else `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    match std::env::var_os("CRITERION_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target_dir().join("criterion"),
    }
}

/// The criterion every bench target starts from: output in [`criterion_dir`], plots on (the
/// HTML report needs them), a smaller bootstrap in quick mode.
pub fn criterion(mode: Mode) -> Criterion {
    let c = Criterion::default().output_directory(&criterion_dir());
    match mode {
        Mode::Full => c,
        Mode::Quick => c.nresamples(20_000),
    }
}

/// The data directory of the lessons (`target/lesson-data/`), or the end of the run.
pub fn data_dir() -> DataDir {
    or_exit(DataDir::open(None, true))
}

/// The shared random sample of `size` bytes (the same file the lessons use).
pub fn sample_file(data: &DataDir, size: u64) -> PathBuf {
    or_exit(data.file(&Spec::new("sample", size, Content::Random { seed: 1 })))
}

/// `SMALL_FILE_COUNT` distinct random files of `size` bytes each, side by side in the data
/// directory (`small0000-4096-random-0.bin`, ...).
pub fn small_files(data: &DataDir, size: u64) -> Vec<PathBuf> {
    (0..SMALL_FILE_COUNT)
        .map(|i| {
            let spec = Spec::new(
                &format!("small{i:04}"),
                size,
                Content::Random { seed: i as u64 },
            );
            or_exit(data.file(&spec))
        })
        .collect()
}

/// Whether benchmark `id` can allocate `bytes` with room to spare (twice that much
/// available), so it never pushes the machine into swapping. When it cannot, prints why and
/// notes the benchmark as skipped in [`criterion_dir`], so the export reports it as skipped
/// on this machine rather than missing.
pub fn fits_in_memory(id: &str, bytes: u64) -> bool {
    let available = mmap_lab::measure::system_memory().map(|m| m.available);
    match available {
        Some(a) if a < bytes.saturating_mul(2) => {
            skip(
                id,
                &format!(
                    "it allocates {} and only {} was available",
                    size::fmt(bytes),
                    size::fmt(a)
                ),
            );
            false
        }
        _ => true,
    }
}

/// Notes benchmark `id` as skipped on this machine, and why (a peer not installed, too
/// little RAM), so the export reports it as skipped rather than missing.
pub fn skip(id: &str, why: &str) {
    warn(&format!("mmap-benches: skipping {id}: {why}"));
    if let Err(e) = mmap_lab::bench::mark_skipped(&criterion_dir(), id, why) {
        warn(&format!(
            "mmap-benches: warning: {e:#} (the export will call {id} missing)"
        ));
    }
}

/// The value, or one line on stderr and the end of the process: exit code 2 for bad input
/// (such as a full disk), 1 otherwise.
pub fn or_exit<T>(result: anyhow::Result<T>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            warn(&format!(
                "mmap-benches: error: {}",
                mmap_lab::files::printable(&format!("{e:#}"))
            ));
            let code = if e.chain().any(|c| c.is::<BadInput>()) {
                2
            } else {
                1
            };
            process::exit(code)
        }
    }
}

/// Reads a file to the end through one reused buffer, consuming each chunk.
pub fn read_with_buffer(path: &std::path::Path, buf: &mut [u8]) -> std::io::Result<u64> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let mut total = 0;
    loop {
        match file.read(buf)? {
            0 => return Ok(total),
            n => total += consume(&buf[..n]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consume_counts_newlines() {
        assert_eq!(consume(b""), 0);
        assert_eq!(consume(b"a\nb\n\n"), 3);
    }

    #[test]
    fn read_with_buffer_sees_every_byte_whatever_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8 + b'\x08').collect();
        fs::write(&path, &bytes).unwrap();
        let expected = consume(&bytes);
        assert!(expected > 0);
        for len in [1, 7, 4096, READ_BUFFER] {
            let mut buf = vec![0; len];
            assert_eq!(read_with_buffer(&path, &mut buf).unwrap(), expected);
        }
    }

    #[test]
    fn quick_mode_is_a_subset_of_full() {
        let full = benchmark_ids(Mode::Full);
        let quick = benchmark_ids(Mode::Quick);
        assert!(quick.len() < full.len());
        assert!(quick.iter().all(|id| full.contains(id)));
        assert!(full.contains(&"seq_scan/mmap/268435456".to_string()));
    }

    #[test]
    fn timing_makes_room_for_every_sample() {
        let slow = Duration::from_millis(400);
        let t = Mode::Quick.timing(slow);
        assert!(t.flat && t.samples >= 10);
        assert!(t.measurement >= slow * t.samples as u32);
        let fast = Mode::Full.timing(Duration::from_micros(5));
        assert!(!fast.flat && fast.measurement == Duration::from_secs(3));
    }

    #[test]
    fn mode_names_round_trip() {
        for m in [Mode::Full, Mode::Quick] {
            assert_eq!(Mode::parse(m.name()), Some(m));
        }
        assert_eq!(Mode::parse("slow"), None);
    }
}
