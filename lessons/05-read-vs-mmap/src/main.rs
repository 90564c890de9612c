//! Lesson 5 · mmap vs read() — the real difference.
//!
//! Section 5 of the notes is a table: read() uses much RAM, is slow at random access, slow
//! to start, gets no help from the OS and has trouble with big files; mmap is the opposite
//! on every row — hence "big file = mmap". This lesson measures every row with both sides
//! done well, because a comparison against a clumsy read() means nothing:
//!
//! - read(): `fs::read` of the whole file, a loop of `read()` calls into one reused 1 MiB
//!   buffer, and `pread` (`read_exact_at`) for random access;
//! - mmap: plain, with `populate` (MAP_POPULATE), and with the advice that fits the access
//!   (`advise(Sequential)` for scans, `advise(Random)` for random reads).
//!
//! Every scan checksums the whole file, so all methods do the same work and must agree. A
//! scan of a resident `Vec<u8>` of the same bytes is the ceiling, and each scan is also
//! recorded as a share of it. From 64 MiB on, well beyond common CPU caches, that ceiling
//! is the memory bandwidth; below, the CPU caches may serve much of the scan. Rows where
//! the page cache changes the answer run warm (file cached) and cold (evicted with
//! `cache::evict` after unmapping): the read() loop and mmap + advise(Sequential) scans
//! that [5.os] compares, random reads and the time to the first byte. A method counts as
//! faster only when its median time beats the other's by more than 1.25×. Warm rows compare
//! medians alone. Cold runs of competing methods alternate, and a cold row must also win
//! every run: its slowest run beat the other's fastest, so a burst of disk noise cannot
//! decide a verdict. Plain mmap's cold random reads run once — its read-around pulls in
//! much of the file each time, all of it when the file fits one readahead window — so that
//! row only illustrates read-around and no verdict uses it. `--cold` runs the fs::read,
//! plain mmap and populate scans cold too; `--pattern` picks the rows.
//!
//! Every verdict comes from the run's numbers, and where a claim holds only under some
//! conditions (cache state, access pattern, how much of the file is touched) its reason
//! says on which side this machine fell, and why.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use memmap2::{Advice, Mmap, MmapOptions};
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec, read_exact_at};
use mmap_lab::measure::{self, Sample, probe, probe_median, status};
use mmap_lab::{Lab, Lesson, Report, Unit, Verdict, cache, size};

const LESSON: Lesson = Lesson {
    number: 5,
    title: "mmap vs read() — the real difference",
    about: "Measures every row of the notes' read() vs mmap table with both sides done well: \
            fs::read, a buffered read() loop and pread against mmap (plain, populate, \
            advise). Scans are compared with a scan of a resident Vec (the ceiling); rows \
            where the page cache matters run warm and cold. --pattern picks the \
            sequential or the random rows; --cold also runs fs::read, plain mmap and populate \
            scans cold.",
    default_size: 256 << 20,
};

/// The buffer of the read() loop, reused for every call.
const BUF: usize = 1 << 20;
/// Random 8-byte reads per warm run.
const WARM_READS: usize = 50_000;
/// Random 8-byte reads per cold run (each may wait for the disk).
const COLD_READS: usize = 256;
/// Reads of the sparse file larger than RAM in [5.big].
const BIG_READS: usize = 16;
/// The block a program reads with pread to get at the first byte.
const FIRST_BLOCK: usize = 4096;
/// How much the read() loop has asked for when [5.os] looks at what readahead fetched.
const READAHEAD_PROBE: usize = 4 * BUF;
/// The smallest sample this lesson accepts.
const MIN_SIZE: u64 = 2 * READAHEAD_PROBE as u64;
/// Two timings closer than this factor count as a tie.
const TIE: f64 = 1.25;
/// Above this share of the file left cached after an eviction, cold rows are not cold.
const NOT_COLD: f64 = 0.1;
/// From this many resident bytes on, a scan outgrows common CPU caches and measures the
/// memory bandwidth.
const BEYOND_CPU_CACHES: usize = 64 << 20;
/// Why a memory row has no number.
const NO_RSS: &str = "this platform did not report the process's RSS (no /proc/self/status, \
                      or its peak could not be reset), so memory use was not measured";

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// What to measure: sequential scans ([5.ram] [5.startup] [5.os] [5.big]), random
    /// reads ([5.random]), or all of them ([5.rule] needs both)
    #[arg(long, value_enum, default_value_t)]
    pattern: Pattern,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
enum Pattern {
    Sequential,
    Random,
    #[default]
    All,
}

impl Pattern {
    fn sequential(self) -> bool {
        self != Pattern::Random
    }

    fn random(self) -> bool {
        self != Pattern::Sequential
    }
}

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<Report> {
    lab.require_size(MIN_SIZE)?;
    // Each buffer a row allocates must show in its RSS, not come from resident heap pages.
    let fresh = measure::fresh_big_allocations();
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    let mut report = lab.report();
    if !fresh {
        report.note(
            "this C library may hand a freed buffer back from resident heap pages, so the \
             RSS growth of a repeated step can read low",
        );
    }
    let pattern = args.pattern.to_possible_value();
    report.param("pattern", pattern.as_ref().map(|v| v.get_name()));
    report.param("buffer_bytes", BUF);
    report.measure(
        "file.size",
        "sample file size",
        lab.size as f64,
        Unit::Bytes,
    );
    let (seq, rnd) = (args.pattern.sequential(), args.pattern.random());
    let mut cold = Cold::new(&path);
    let mut scans = seq.then(Scans::default);

    // The page cache decides many rows, so the run goes by cache state: the cold scans
    // first (the last one leaves the file cached), then every warm row, then the other
    // cold rows, each run on a freshly evicted file.
    if let Some(t) = &mut scans {
        // The read() loop against mmap with the advice that suits a scan; --cold adds the
        // other methods.
        let mut methods = vec![Scan::Buffered, Scan::MmapSequential];
        if lab.cold {
            methods.extend([Scan::Mmap, Scan::MmapPopulate]);
            match fits_in_ram(lab.size, 1) {
                Ok(()) => methods.push(Scan::ReadAll),
                Err(why) => report.note(format!("cold fs::read skipped: {why}")),
            }
        }
        scan_cold(lab, &path, &methods, &mut cold, t, &mut report)?;
    }
    warm_up(&path, &mut report)?;
    let python = match &mut scans {
        Some(t) => {
            scan_warm(lab, &path, t, &mut report)?;
            finish_scans(t, lab.size, &mut report);
            python_peer(lab, &path, &mut report)
        }
        None => None,
    };
    let mut random = match rnd {
        true => Some(random_warm(lab, &path, &mut report)?),
        false => None,
    };
    let mut startup = match seq {
        true => Some(startup_warm(lab, &path, &mut report)?),
        false => None,
    };
    if let Some(r) = &mut random {
        random_cold(lab, &path, &mut cold, r, &mut report)?;
    }
    if let Some(f) = &mut startup {
        startup_cold(lab, &path, &mut cold, f, &mut report)?;
    }
    let os = match seq {
        true => Some(read_ahead(lab, &path, &mut cold, &mut report)?),
        false => None,
    };
    let big = match seq {
        true => larger_than_ram(lab, &mut report)?,
        false => None,
    };
    if cold.evictions > 0 {
        report.measure(
            "cold.left_after_evict",
            "most of the file left cached after an eviction",
            cold.worst_left,
            Unit::Fraction,
        );
    }

    let skipped = match args.pattern {
        Pattern::Random => "--pattern random skipped the sequential experiments this row needs",
        _ => "--pattern sequential skipped the random-access experiments this row needs",
    };
    match &scans {
        Some(s) => claim_ram(&mut report, lab.size, s, python.as_ref()),
        None => not_measured(&mut report, "5.ram", skipped),
    }
    match &random {
        Some(r) => claim_random(&mut report, r, lab),
        None => not_measured(&mut report, "5.random", skipped),
    }
    match (&scans, &startup) {
        (Some(s), Some(f)) => claim_startup(&mut report, s, f, python.as_ref()),
        _ => not_measured(&mut report, "5.startup", skipped),
    }
    match (&scans, &os, &startup) {
        (Some(s), Some(o), Some(f)) => claim_os(&mut report, s, o, f, lab),
        _ => not_measured(&mut report, "5.os", skipped),
    }
    match &scans {
        Some(s) => claim_big(&mut report, lab.size, s, big.as_ref()),
        None => not_measured(&mut report, "5.big", skipped),
    }
    match (&scans, &random) {
        (Some(s), Some(r)) => claim_rule(&mut report, s, r),
        _ => not_measured(&mut report, "5.rule", skipped),
    }
    if cold.worst_left > NOT_COLD {
        // Every row but [5.ram] rests on from-disk numbers that were not from disk.
        let left = Unit::Fraction.format(cold.worst_left);
        for c in report.claims.iter_mut() {
            if c.id != "5.ram" && c.verdict != Verdict::NotMeasured {
                c.verdict = Verdict::NotMeasured;
                c.why = format!(
                    "evicting the file left {left} of it cached ({} is tmpfs, or another \
                     process maps the file), so the from-disk rows did not come from disk; \
                     as measured: {}",
                    lab.data.path().display(),
                    c.why
                );
                if !c.evidence.iter().any(|e| e == "cold.left_after_evict") {
                    c.evidence.push("cold.left_after_evict".into());
                }
            }
        }
    }

    report.try_next("just lesson 5 --cold   (every scan from disk too)");
    report.try_next("just lesson 5 --size 2G --runs 1   (a file 8× bigger)");
    report.try_next("just lessons   (what the other sections of the notes claim)");
    Ok(report)
}

fn not_measured(report: &mut Report, id: &str, why: &str) {
    report.claim(id, Verdict::NotMeasured, why, &[]);
}

/// A measurement this row needs is missing (an experiment was skipped).
const MISSING: &str = "a measurement this row needs is missing from this run";

/// The names among `names` that this run recorded (rows can be skipped for lack of RAM or
/// of a peer program).
fn present<'a>(report: &Report, names: &[&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| report.value(n).is_some())
        .collect()
}

/// Reads the file once unless it is fully cached, so that "warm" means warm.
fn warm_up(path: &Path, report: &mut Report) -> anyhow::Result<()> {
    if cache::file_residency(path)?.fraction() < 1.0 {
        scan(Scan::Buffered, path).with_context(|| format!("read {}", path.display()))?;
    }
    report.measure(
        "warm.resident",
        "file in the page cache before the warm rows",
        cache::file_residency(path)?.fraction(),
        Unit::Fraction,
    );
    Ok(())
}

/// Whether `copies` heap copies of `bytes` leave at least half the available RAM free;
/// `Err` says why not.
fn fits_in_ram(bytes: u64, copies: u32) -> Result<(), String> {
    let need = bytes.saturating_mul(u64::from(copies));
    match measure::system_memory() {
        None => Err("this platform cannot tell how much RAM is free".into()),
        Some(m) if need.saturating_mul(2) > m.available => Err(format!(
            "{copies} × {} would take more than half of the {} of RAM available",
            size::fmt(bytes),
            size::fmt(m.available)
        )),
        Some(_) => Ok(()),
    }
}

/// Page-cache residency of the file in bytes once readahead has settled.
fn cached_bytes(path: &Path) -> anyhow::Result<f64> {
    let resident = cache::settled(|| Ok(cache::file_residency(path)?.resident))?;
    Ok((resident * cache::page_size()) as f64)
}

// ---------------------------------------------------------------------------------------
// Cold runs and fair comparisons.
// ---------------------------------------------------------------------------------------

/// Cold runs: each one starts right after the file was evicted from the page cache.
struct Cold<'a> {
    path: &'a Path,
    evictions: u32,
    worst_left: f64,
}

impl<'a> Cold<'a> {
    fn new(path: &'a Path) -> Self {
        Cold {
            path,
            evictions: 0,
            worst_left: 0.0,
        }
    }

    /// Evicts the file, then runs `f` and measures it. `after` takes the result right
    /// after, untimed: it must drop any map of the file (a mapped page cannot be evicted)
    /// and may look at the page cache.
    fn once<T, U>(
        &mut self,
        f: impl FnOnce() -> T,
        after: impl FnOnce(T) -> anyhow::Result<U>,
    ) -> anyhow::Result<(U, Sample)> {
        let left = cache::evict(self.path)?;
        self.evictions += 1;
        self.worst_left = self.worst_left.max(left.fraction());
        let (out, sample) = probe(f);
        Ok((after(out)?, sample))
    }
}

/// The times of one row's runs, in seconds (per read for random reads): the median and the
/// fastest and slowest run.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    lo: f64,
    hi: f64,
}

impl Spread {
    /// A row measured by its median alone (the warm rows).
    fn of(median: f64) -> Spread {
        Spread {
            median,
            lo: median,
            hi: median,
        }
    }

    /// How this row compares with `other`: faster only when the medians differ by more
    /// than [`TIE`] and this row's slowest run beat the other's fastest (no overlap).
    fn versus(self, other: Spread) -> Versus {
        let ratio = other.median / self.median;
        let outcome = if ratio > TIE && self.hi < other.lo {
            Outcome::Faster
        } else if ratio < 1.0 / TIE && other.hi < self.lo {
            Outcome::Slower
        } else {
            Outcome::Tie
        };
        Versus { ratio, outcome }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Faster,
    Tie,
    Slower,
}

#[derive(Debug, Clone, Copy)]
struct Versus {
    /// The other's time ÷ this one's: above 1 means this one is faster.
    ratio: f64,
    outcome: Outcome,
}

impl Versus {
    /// "is 2.3× faster than X", "ties with X (1.12×)", "is 1.8× slower than X", or, when
    /// the medians differ but the runs overlap, says so.
    fn text(self, other: &str) -> String {
        let r = self.ratio;
        let overlap = "by the median, but the runs overlap: no clear winner";
        match self.outcome {
            Outcome::Faster => format!("is {r:.1}× faster than {other}"),
            Outcome::Slower => format!("is {:.1}× slower than {other}", 1.0 / r),
            Outcome::Tie if r > TIE => format!("is {r:.1}× faster than {other} {overlap}"),
            Outcome::Tie if r < 1.0 / TIE => {
                format!("is {:.1}× slower than {other} {overlap}", 1.0 / r)
            }
            Outcome::Tie => format!("ties with {other} ({r:.2}×)"),
        }
    }
}

/// The median run (by wall time) of `runs`, with the spread of all of them; `per` divides
/// the times (the number of reads, for a time per read).
fn median_run<U>(mut runs: Vec<(U, Sample)>, per: f64) -> anyhow::Result<(U, Sample, Spread)> {
    runs.sort_by_key(|(_, s)| s.wall);
    let secs = |s: &Sample| s.wall.as_secs_f64() / per;
    let (Some(lo), Some(hi)) = (
        runs.first().map(|r| secs(&r.1)),
        runs.last().map(|r| secs(&r.1)),
    ) else {
        anyhow::bail!("no run was made");
    };
    let (out, sample) = runs.swap_remove((runs.len() - 1) / 2);
    let median = secs(&sample);
    Ok((out, sample, Spread { median, lo, hi }))
}

// ---------------------------------------------------------------------------------------
// The scans: every method reads the whole file and checksums it.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    ReadAll,
    Buffered,
    Mmap,
    MmapPopulate,
    MmapSequential,
}

impl Scan {
    fn id(self) -> &'static str {
        match self {
            Scan::ReadAll => "read_all",
            Scan::Buffered => "buffered",
            Scan::Mmap => "mmap",
            Scan::MmapPopulate => "mmap_populate",
            Scan::MmapSequential => "mmap_seq",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Scan::ReadAll => "fs::read, then scan",
            Scan::Buffered => "read() loop, 1 MiB buffer",
            Scan::Mmap => "mmap",
            Scan::MmapPopulate => "mmap + populate",
            Scan::MmapSequential => "mmap + advise(Sequential)",
        }
    }

    fn is_mmap(self) -> bool {
        matches!(self, Scan::Mmap | Scan::MmapPopulate | Scan::MmapSequential)
    }
}

/// What one scan produced. `held` keeps the file's bytes (a `Vec` or a map) alive after the
/// timed part, so that freeing them is not timed and their memory can still be measured.
struct Scanned {
    sum: u64,
    first_byte: Duration,
    held: Held,
}

enum Held {
    Nothing,
    Bytes(Vec<u8>),
    Map(Mmap),
}

// ANCHOR: scan
/// The checksum every scan computes: the wrapping sum of the file's little-endian 64-bit
/// words (the tail zero-padded). Cheap enough that a scan runs at memory speed.
fn checksum(bytes: &[u8]) -> u64 {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    words.iter().fold(u64::from_le_bytes(last), |sum, w| {
        sum.wrapping_add(u64::from_le_bytes(*w))
    })
}

/// Reads the whole file with `method` and checksums it; also notes when the first byte was
/// available.
fn scan(method: Scan, path: &Path) -> io::Result<Scanned> {
    let start = Instant::now();
    match method {
        Scan::ReadAll => {
            let bytes = std::fs::read(path)?;
            let first_byte = start.elapsed();
            let sum = checksum(&bytes);
            Ok(Scanned {
                sum,
                first_byte,
                held: Held::Bytes(bytes),
            })
        }
        Scan::Buffered => {
            let mut file = File::open(path)?;
            let mut buf = vec![0u8; BUF];
            let mut n = fill(&mut file, &mut buf)?;
            let first_byte = start.elapsed();
            let mut sum = 0u64;
            while n > 0 {
                sum = sum.wrapping_add(checksum(&buf[..n]));
                n = fill(&mut file, &mut buf)?;
            }
            Ok(Scanned {
                sum,
                first_byte,
                held: Held::Nothing,
            })
        }
        Scan::Mmap | Scan::MmapPopulate | Scan::MmapSequential => {
            let file = File::open(path)?;
            let mut options = MmapOptions::new();
            if method == Scan::MmapPopulate {
                options.populate();
            }
            // SAFETY: the sample file belongs to this lesson's data directory and nothing
            // writes or truncates it while it is mapped.
            let map = unsafe { options.map(&file) }?;
            if method == Scan::MmapSequential {
                map.advise(Advice::Sequential)?;
            }
            std::hint::black_box(map.first().copied());
            let first_byte = start.elapsed();
            Ok(Scanned {
                sum: checksum(&map),
                first_byte,
                held: Held::Map(map),
            })
        }
    }
}

/// Fills `buf` with read() calls until it is full or the file ends; returns the bytes read.
/// Every chunk but the last is a whole buffer, so chunk checksums add up to the file's.
fn fill(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
// ANCHOR_END: scan

/// One measured scan.
#[derive(Debug, Clone, Copy)]
struct Row {
    rate: f64,
    first_byte: f64,
    time: Spread,
}

#[derive(Debug, Default)]
struct Scans {
    /// Bytes per second scanning a resident `Vec` (the ceiling).
    ceiling: f64,
    warm: Vec<(Scan, Row)>,
    cold: Vec<(Scan, Row)>,
    /// Every scan's checksum, warm and cold.
    sums: Vec<u64>,
    /// Peak RSS growth of fs::read (None when it was skipped for lack of RAM, or where RSS
    /// cannot be measured, as for every memory number below).
    read_all_peak: Option<f64>,
    buffered_peak: Option<f64>,
    /// RSS added by a full mmap scan, and how much of it was file-backed.
    mmap_rss: Option<f64>,
    mmap_rss_file: Option<f64>,
    /// RSS added by scanning the first sixteenth of a map.
    mmap_part_rss: Option<f64>,
    /// Page-cache residency right after a cold read() loop.
    cached_after_cold_read: f64,
}

impl Scans {
    fn warm(&self, s: Scan) -> Option<Row> {
        self.warm.iter().find(|(m, _)| *m == s).map(|(_, r)| *r)
    }

    fn cold(&self, s: Scan) -> Option<Row> {
        self.cold.iter().find(|(m, _)| *m == s).map(|(_, r)| *r)
    }

    /// The fastest cold mmap scan.
    fn best_cold_mmap(&self) -> Option<(Scan, Row)> {
        self.cold
            .iter()
            .filter(|(m, _)| m.is_mmap())
            .max_by(|a, b| a.1.rate.total_cmp(&b.1.rate))
            .copied()
    }
}

/// Records the rate, time to first byte and page faults of one scan.
fn record_row(
    report: &mut Report,
    state: &str,
    method: Scan,
    bytes: f64,
    sample: &Sample,
    first: Duration,
    time: Spread,
) -> Row {
    let prefix = format!("scan.{state}.{}", method.id());
    let rate = report.measure(
        &format!("{prefix}.rate"),
        &format!("{state} scan: {}", method.label()),
        bytes / time.median,
        Unit::BytesPerSecond,
    );
    let first_byte = report.measure(
        &format!("{prefix}.first_byte"),
        &format!("{state}: {}, time to first byte", method.label()),
        first.as_secs_f64(),
        Unit::Seconds,
    );
    if method.is_mmap() {
        report.measure(
            &format!("{prefix}.faults"),
            &format!("{state} scan: {}, page faults", method.label()),
            sample.faults() as f64,
            Unit::Count,
        );
    }
    Row {
        rate,
        first_byte,
        time,
    }
}

/// The cold scans, runs of the methods taking turns; the last one leaves the file cached.
fn scan_cold(
    lab: &Lab,
    path: &Path,
    methods: &[Scan],
    cold: &mut Cold,
    t: &mut Scans,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut runs: Vec<Vec<_>> = methods.iter().map(|_| Vec::new()).collect();
    for _ in 0..lab.runs {
        for (&method, runs) in methods.iter().zip(&mut runs) {
            let run = cold.once(
                || scan(method, path),
                |done| {
                    let done =
                        done.with_context(|| format!("{} of {}", method.label(), path.display()))?;
                    t.sums.push(done.sum);
                    // What one cold pass of the read() loop left in the page cache.
                    let cached = match method {
                        Scan::Buffered => cache::file_residency(path)?.fraction(),
                        _ => 0.0,
                    };
                    Ok((done.first_byte, cached))
                },
            )?;
            runs.push(run);
        }
    }
    for (&method, runs) in methods.iter().zip(runs) {
        let n = runs.len();
        let ((first, cached), sample, time) = median_run(runs, 1.0)?;
        let row = record_row(
            report,
            "cold",
            method,
            lab.size as f64,
            &sample,
            first,
            time,
        );
        t.cold.push((method, row));
        if n > 1 {
            let prefix = format!("scan.cold.{}", method.id());
            for (end, secs) in [("fastest", time.lo), ("slowest", time.hi)] {
                report.measure(
                    &format!("{prefix}.rate_{end}"),
                    &format!("cold scan: {}, {end} of {n} runs", method.label()),
                    lab.size as f64 / secs,
                    Unit::BytesPerSecond,
                );
            }
        }
        if method == Scan::Buffered {
            t.cached_after_cold_read = report.measure(
                "scan.cold.buffered.cached_after",
                "file in the page cache after one cold read() loop",
                cached,
                Unit::Fraction,
            );
        }
    }
    Ok(())
}

/// The warm rows: fs::read, the read() loop and the three mmap scans, what each did to the
/// process's memory, and the ceiling: scans of a resident Vec, spread between the rows so
/// that one busy moment of the machine cannot pull it down.
fn scan_warm(lab: &Lab, path: &Path, t: &mut Scans, report: &mut Report) -> anyhow::Result<()> {
    let bytes = lab.size as f64;
    // fs::read first, one copy at a time: each run's Vec is freed before the next run reads
    // the file again, and the last one stays as the resident copy the ceiling scans.
    let mut copy: Option<Vec<u8>> = None;
    match fits_in_ram(lab.size, 1) {
        Ok(()) => {
            let mut runs = Vec::new();
            for _ in 0..lab.runs {
                drop(copy.take());
                let (done, sample) = probe(|| scan(Scan::ReadAll, path));
                let done = done.with_context(|| format!("fs::read {}", path.display()))?;
                t.sums.push(done.sum);
                runs.push((done.first_byte, sample));
                if let Held::Bytes(b) = done.held {
                    copy = Some(b);
                }
            }
            let (first, sample, time) = median_run(runs, 1.0)?;
            let time = Spread::of(time.median);
            let row = record_row(report, "warm", Scan::ReadAll, bytes, &sample, first, time);
            t.warm.push((Scan::ReadAll, row));
            t.read_all_peak = sample.peak_growth().map(|g| {
                report.measure(
                    "scan.warm.read_all.peak_rss_growth",
                    "fs::read, peak RSS growth",
                    g as f64,
                    Unit::Bytes,
                )
            });
        }
        Err(why) => report.note(format!("fs::read skipped: {why}")),
    }
    // Without fs::read's copy, the ceiling scans a smaller resident buffer.
    let resident = match copy {
        Some(b) => b,
        None => ceiling_buffer(path, lab.size)?,
    };
    let resident = resident.as_slice();
    // A ceiling is a best case: the fastest of the scans, not their median.
    let ceiling_scan = || probe(|| checksum(resident)).1.wall;
    let mut fastest = (0..lab.runs)
        .map(|_| ceiling_scan())
        .min()
        .unwrap_or(Duration::MAX);

    for method in [
        Scan::Buffered,
        Scan::Mmap,
        Scan::MmapPopulate,
        Scan::MmapSequential,
    ] {
        fastest = fastest.min(ceiling_scan());
        let before = status();
        let (done, sample) = probe_median(lab.runs, || scan(method, path));
        let done = done.with_context(|| format!("{} of {}", method.label(), path.display()))?;
        let after = status();
        let time = Spread::of(sample.wall.as_secs_f64());
        let row = record_row(
            report,
            "warm",
            method,
            bytes,
            &sample,
            done.first_byte,
            time,
        );
        t.warm.push((method, row));
        t.sums.push(done.sum);
        match (method, &done.held) {
            (Scan::Buffered, _) => {
                t.buffered_peak = sample.peak_growth().map(|g| {
                    report.measure(
                        "scan.warm.buffered.peak_rss_growth",
                        "read() loop, peak RSS growth",
                        g as f64,
                        Unit::Bytes,
                    )
                });
            }
            (Scan::Mmap, Held::Map(map)) => {
                t.mmap_rss = sample.rss_growth().map(|g| {
                    report.measure(
                        "scan.warm.mmap.rss_growth",
                        "mmap, whole file scanned, RSS growth",
                        g as f64,
                        Unit::Bytes,
                    )
                });
                t.mmap_rss_file = before.zip(after).map(|(b, a)| {
                    report.measure(
                        "scan.warm.mmap.rss_file_growth",
                        "mmap, whole file scanned, RssFile growth (page cache)",
                        a.rss_file.saturating_sub(b.rss_file) as f64,
                        Unit::Bytes,
                    )
                });
                if let Some(s) = measure::smaps_of(std::process::id(), map.as_ptr()) {
                    report.measure(
                        "scan.warm.mmap.anonymous",
                        "mmap, whole file scanned, anonymous memory in the map",
                        s.anonymous as f64,
                        Unit::Bytes,
                    );
                }
            }
            _ => {}
        }
    }
    fastest = fastest.min(ceiling_scan());
    let label = match resident.len() >= BEYOND_CPU_CACHES {
        true => "scan of a resident Vec (memory bandwidth)",
        false => "scan of a resident Vec (under 64 MiB: CPU caches may serve it)",
    };
    t.ceiling = report.measure(
        "scan.ceiling.rate",
        label,
        resident.len() as f64 / fastest.as_secs_f64(),
        Unit::BytesPerSecond,
    );

    // mmap touching only part of the file: the case the notes have in mind.
    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    // SAFETY: as in `scan`, the lesson's own sample is not modified while mapped.
    let map = unsafe { Mmap::map(&file) }.context("mmap")?;
    let (_, part) = probe(|| checksum(&map[..map.len() / 16]));
    t.mmap_part_rss = part.rss_growth().map(|g| {
        report.measure(
            "scan.warm.mmap_part.rss_growth",
            "mmap, first 1/16 of the file scanned, RSS growth",
            g as f64,
            Unit::Bytes,
        )
    });
    Ok(())
}

/// A resident buffer for the ceiling when fs::read's copies did not fit: the file's head,
/// at most a quarter of the available RAM and 1 GiB.
fn ceiling_buffer(path: &Path, file_size: u64) -> anyhow::Result<Vec<u8>> {
    let available = measure::system_memory().map_or(256 << 20, |m| m.available);
    let len = file_size.min(available / 4).min(1 << 30) as usize;
    let mut buf = vec![0u8; len];
    let mut file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    fill(&mut file, &mut buf).with_context(|| format!("read {}", path.display()))?;
    Ok(buf)
}

/// Every scan as a share of the ceiling, and whether all scans agreed.
fn finish_scans(t: &Scans, file_size: u64, report: &mut Report) {
    let mut above = Vec::new();
    for (state, rows) in [("warm", &t.warm), ("cold", &t.cold)] {
        for (method, row) in rows {
            let share = report.measure(
                &format!("scan.{state}.{}.of_ceiling", method.id()),
                &format!("{state} scan: {}, share of the ceiling", method.label()),
                row.rate / t.ceiling,
                Unit::Fraction,
            );
            if share > 1.05 {
                above.push(format!(
                    "{} ({})",
                    method.label(),
                    Unit::Fraction.format(share)
                ));
            }
        }
    }
    if !above.is_empty() {
        report.note(format!(
            "{} ran faster than the best scan of the resident Vec: the ceiling is this \
             run's fastest Vec scan, not a hard limit, and a scan of {} takes only \
             milliseconds, so other work on the machine moves it — read the shares as \
             approximate",
            above.join(", "),
            size::fmt(file_size)
        ));
    }
    let equal = t.sums.windows(2).all(|w| w[0] == w[1]);
    report.measure(
        "scan.checksums_equal",
        "every scan computed the same checksum (1 = yes)",
        f64::from(u8::from(equal)),
        Unit::Count,
    );
}

fn claim_ram(report: &mut Report, file_size: u64, t: &Scans, py: Option<&Python>) {
    let size = file_size as f64;
    let evidence = present(
        report,
        &[
            "scan.warm.read_all.peak_rss_growth",
            "scan.warm.buffered.peak_rss_growth",
            "scan.warm.mmap.rss_growth",
            "scan.warm.mmap.rss_file_growth",
            "scan.warm.mmap.anonymous",
            "scan.warm.mmap_part.rss_growth",
            "peer.python.read_rss_growth",
            "peer.python.mmap_rss_growth",
        ],
    );
    let (Some(buffered), Some(mmap_full), Some(mmap_part)) =
        (t.buffered_peak, t.mmap_rss, t.mmap_part_rss)
    else {
        return not_measured(report, "5.ram", NO_RSS);
    };
    // "read() high": false if the read() loop stays small. "mmap minimal": false if a full
    // scan maps most of the file.
    let loop_low = buffered < size / 4.0;
    let mmap_full_high = mmap_full > size / 2.0;
    let part_low = mmap_part < size / 4.0;
    let verdict = match (loop_low, mmap_full_high) {
        (false, false) => Verdict::Holds,
        (true, true) if t.read_all_peak.is_none_or(|p| p < size / 2.0) => Verdict::Fails,
        _ => Verdict::Depends,
    };
    let b = |x: f64| size::fmt_f64(x);
    let read_all_text =
        t.read_all_peak
            .map_or("fs::read was skipped (not enough RAM)".into(), |p| {
                format!(
                    "fs::read raised peak RSS by {} ({:.2}× the file: a private copy)",
                    b(p),
                    p / size
                )
            });
    let reused = if buffered < BUF as f64 / 2.0 {
        " (the buffer reused memory the process already had)"
    } else {
        ""
    };
    let versus = if buffered < mmap_part.min(mmap_full) {
        "less than either mmap scan"
    } else if buffered >= mmap_part {
        "no less than mmap touching 1/16 of the file"
    } else {
        "no less than the mmap scan of the whole file"
    };
    let file_pages = t.mmap_rss_file.map_or(String::new(), |f| {
        format!(
            " ({} of it file pages: the page cache, shared and reclaimable, not a copy)",
            b(f)
        )
    });
    // The closing sentence follows the conditions that chose the verdict.
    let read_side = match (loop_low, t.read_all_peak) {
        (false, _) => "'read() high' holds even for the read() loop",
        (true, Some(p)) if p >= size / 2.0 => "'read() high' holds only for read-everything",
        (true, Some(_)) => "'read() high' held neither for fs::read nor for the read() loop",
        (true, None) => "'read() high' did not hold for the read() loop (fs::read was not run)",
    };
    let mmap_side = match (mmap_full_high, part_low) {
        (false, _) => "'mmap minimal' holds even for a scan of the whole file",
        (true, true) => "'mmap minimal' only when part of the file is touched",
        (true, false) => "'mmap minimal' held not even when 1/16 of the file was touched",
    };
    let python = match py.and_then(|p| Some((p.mmap_rss?, p.read_rss?))) {
        Some((m, r)) => format!(
            ". The notes' Python: holding mmap + mm[:100] added {} of RSS, holding f.read() {}",
            b(m),
            b(r)
        ),
        None => String::new(),
    };
    report.claim(
        "5.ram",
        verdict,
        format!(
            "{read_all_text}; the read() loop with its one {} buffer by {}{reused} — {versus}. \
             Scanning the whole map added {} of RSS{file_pages}; scanning 1/16 of it added \
             {}. So {read_side} and {mmap_side}{python}",
            b(BUF as f64),
            b(buffered),
            b(mmap_full),
            b(mmap_part),
        ),
        &evidence,
    );
}

// ---------------------------------------------------------------------------------------
// Random access: 8-byte reads at random offsets, the same offsets for every method.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Pread,
    Mmap,
    MmapRandom,
}

impl Access {
    fn id(self) -> &'static str {
        match self {
            Access::Pread => "pread",
            Access::Mmap => "mmap",
            Access::MmapRandom => "mmap_random",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Access::Pread => "pread",
            Access::Mmap => "mmap",
            Access::MmapRandom => "mmap + advise(Random)",
        }
    }
}

// ANCHOR: random
/// Reads the 8-byte word at every offset and sums them. The map (if any) is returned so
/// that unmapping is not timed.
fn read_words(method: Access, path: &Path, offsets: &[u64]) -> io::Result<(u64, Option<Mmap>)> {
    let file = File::open(path)?;
    if method == Access::Pread {
        let mut word = [0u8; 8];
        let mut sum = 0u64;
        for &off in offsets {
            read_exact_at(&file, &mut word, off)?;
            sum = sum.wrapping_add(u64::from_le_bytes(word));
        }
        return Ok((sum, None));
    }
    // SAFETY: the lesson's own data file, not written or truncated while mapped.
    let map = unsafe { Mmap::map(&file) }?;
    if method == Access::MmapRandom {
        map.advise(Advice::Random)?;
    }
    Ok((sum_at(&map, offsets), Some(map)))
}

/// The sum of the 8-byte words at `offsets` of a mapped (or any in-memory) file.
fn sum_at(bytes: &[u8], offsets: &[u64]) -> u64 {
    offsets.iter().fold(0u64, |sum, &off| {
        let word = bytes
            .get(off as usize..)
            .and_then(|b| b.first_chunk::<8>())
            .map_or(0, |w| u64::from_le_bytes(*w));
        sum.wrapping_add(word)
    })
}
// ANCHOR_END: random

#[derive(Debug, Clone, Copy)]
struct ColdRandom {
    /// Time per read.
    time: Spread,
    /// Bytes of the file in the page cache afterwards.
    cached: f64,
}

#[derive(Debug)]
struct Randoms {
    /// Where the words are read: the same offsets for every method.
    offsets: Vec<u64>,
    warm_pread: f64,
    warm_mmap: f64,
    warm_mapped: f64,
    /// Whether pread and mmap read the same words while the file was cached.
    warm_equal: bool,
    cold: Vec<(Access, ColdRandom)>,
}

impl Randoms {
    fn cold(&self, a: Access) -> Option<ColdRandom> {
        self.cold.iter().find(|(m, _)| *m == a).map(|(_, r)| *r)
    }
}

fn per_read(sample: &Sample, reads: usize) -> f64 {
    sample.wall.as_secs_f64() / reads as f64
}

fn context(method: Access, path: &Path) -> String {
    format!("{} reads of {}", method.label(), path.display())
}

fn random_warm(lab: &Lab, path: &Path, report: &mut Report) -> anyhow::Result<Randoms> {
    let mut rng = fastrand::Rng::with_seed(5);
    let offsets: Vec<u64> = (0..WARM_READS).map(|_| rng.u64(0..=lab.size - 8)).collect();
    report.param("random_reads", WARM_READS);
    report.param("cold_random_reads", COLD_READS);

    let (pread, sample) = probe_median(lab.runs, || read_words(Access::Pread, path, &offsets));
    let (pread_sum, _) = pread.with_context(|| context(Access::Pread, path))?;
    let warm_pread = report.measure(
        "random.warm.pread.per_read",
        "cached: pread, time per 8-byte read",
        per_read(&sample, WARM_READS),
        Unit::Seconds,
    );
    let (mapped, sample) = probe_median(lab.runs, || read_words(Access::Mmap, path, &offsets));
    let (mmap_sum, map) = mapped.with_context(|| context(Access::Mmap, path))?;
    let warm_mmap = report.measure(
        "random.warm.mmap.per_read",
        "cached: mmap (fresh map, faults included), time per read",
        per_read(&sample, WARM_READS),
        Unit::Seconds,
    );
    report.measure(
        "random.warm.mmap.faults",
        "cached: mmap, page faults for those reads",
        sample.faults() as f64,
        Unit::Count,
    );
    let map = map.context("mmap reads returned no map")?;
    let (again_sum, sample) = probe_median(lab.runs, || sum_at(&map, &offsets));
    drop(map);
    let warm_mapped = report.measure(
        "random.warm.mmap_mapped.per_read",
        "cached: mmap, pages already mapped, time per read",
        per_read(&sample, WARM_READS),
        Unit::Seconds,
    );
    Ok(Randoms {
        warm_equal: pread_sum == mmap_sum && mmap_sum == again_sum,
        offsets,
        warm_pread,
        warm_mmap,
        warm_mapped,
        cold: Vec::new(),
    })
}

/// The cold rows: fewer reads (each may wait for the disk), on an evicted file, pread and
/// mmap + advise(Random) taking turns. Plain mmap runs once, to show read-around: it pulls
/// in much of the file every time, so it is slow to repeat and no verdict compares it.
fn random_cold(
    lab: &Lab,
    path: &Path,
    cold: &mut Cold,
    r: &mut Randoms,
    report: &mut Report,
) -> anyhow::Result<()> {
    let offsets = &r.offsets[..COLD_READS];
    let methods = [Access::Pread, Access::MmapRandom, Access::Mmap];
    let mut runs: Vec<Vec<_>> = methods.iter().map(|_| Vec::new()).collect();
    let mut sums = Vec::new();
    for run in 0..lab.runs {
        for (&method, runs) in methods.iter().zip(&mut runs) {
            if method == Access::Mmap && run > 0 {
                continue;
            }
            runs.push(cold.once(
                || read_words(method, path, offsets),
                |done| {
                    let (sum, map) = done.with_context(|| context(method, path))?;
                    drop(map);
                    sums.push(sum);
                    cached_bytes(path)
                },
            )?);
        }
    }
    for (&method, runs) in methods.iter().zip(runs) {
        let n = runs.len();
        let (cached, sample, time) = median_run(runs, COLD_READS as f64)?;
        let prefix = format!("random.cold.{}", method.id());
        if n > 1 {
            for (end, secs) in [("fastest", time.lo), ("slowest", time.hi)] {
                report.measure(
                    &format!("{prefix}.per_read_{end}"),
                    &format!("from disk: {}, {end} of {n} runs, per read", method.label()),
                    secs,
                    Unit::Seconds,
                );
            }
        }
        report.measure(
            &format!("{prefix}.per_read"),
            &format!("from disk: {}, time per read", method.label()),
            time.median,
            Unit::Seconds,
        );
        let cached = report.measure(
            &format!("{prefix}.cached"),
            &format!("from disk: {}, file read into the cache", method.label()),
            cached,
            Unit::Bytes,
        );
        if method != Access::Pread {
            report.measure(
                &format!("{prefix}.major_faults"),
                &format!("from disk: {}, major page faults", method.label()),
                sample.majflt as f64,
                Unit::Count,
            );
        }
        r.cold.push((method, ColdRandom { time, cached }));
    }
    let equal = r.warm_equal && sums.windows(2).all(|w| w[0] == w[1]);
    report.measure(
        "random.checksums_equal",
        "pread and mmap read the same words (1 = yes)",
        f64::from(u8::from(equal)),
        Unit::Count,
    );
    Ok(())
}

fn claim_random(report: &mut Report, r: &Randoms, lab: &Lab) {
    // From disk the verdict compares pread with mmap + advise(Random) only: both ran the
    // same number of times, and each of their faults or reads fetches little. Plain mmap
    // ran once and its read-around may cache the whole file, so it is shown, not judged.
    let (Some(pread), Some(mmap), Some(plain)) = (
        r.cold(Access::Pread),
        r.cold(Access::MmapRandom),
        r.cold(Access::Mmap),
    ) else {
        return not_measured(report, "5.random", MISSING);
    };
    let warm = Spread::of(r.warm_mmap).versus(Spread::of(r.warm_pread));
    let cold = mmap.time.versus(pread.time);
    let verdict = match (warm.outcome, cold.outcome) {
        (Outcome::Faster, Outcome::Faster) => Verdict::Holds,
        (Outcome::Faster, _) | (_, Outcome::Faster) => Verdict::Depends,
        _ => Verdict::Fails,
    };
    let t = |s: f64| Unit::Seconds.format(s);
    let b = |x: f64| size::fmt_f64(x);
    let readahead = lab
        .machine
        .read_ahead_kb
        .map_or(String::new(), |kb| format!(" (read_ahead_kb {kb})"));
    let wins = |v: Versus| match v.outcome {
        Outcome::Faster => "wins",
        _ => "does not win",
    };
    let plain_vs = Spread::of(plain.time.median).versus(Spread::of(pread.time.median));
    let around = if plain.cached > 2.0 * mmap.cached {
        "its faults read around each page"
    } else {
        "its faults read no more than advise(Random)'s"
    };
    let whole = if plain.cached >= lab.size as f64 {
        ", all of the file,"
    } else {
        ""
    };
    let slowdown = pread.time.median / r.warm_pread;
    report.claim(
        "5.random",
        verdict,
        format!(
            "cached: pread {} per 8-byte read, mmap {}, so mmap {} (no system call per read; \
             {} once its pages were mapped). From disk: pread {} per read, pulling {} into the \
             cache; {} {}, pulling {}, so it {}. Plain mmap, run once and left out of the \
             verdict, took {} per read and {}: {around}, pulling {}{whole} into the \
             cache{readahead}. mmap {} while the data is cached and {} from disk, where a \
             pread took {:.0}× as long as a cached one",
            t(r.warm_pread),
            t(r.warm_mmap),
            warm.text("pread"),
            t(r.warm_mapped),
            t(pread.time.median),
            b(pread.cached),
            Access::MmapRandom.label(),
            t(mmap.time.median),
            b(mmap.cached),
            cold.text("pread"),
            t(plain.time.median),
            plain_vs.text("pread"),
            b(plain.cached),
            wins(warm),
            wins(cold),
            slowdown,
        ),
        &present(
            report,
            &[
                "random.warm.pread.per_read",
                "random.warm.mmap.per_read",
                "random.warm.mmap_mapped.per_read",
                "random.cold.pread.per_read",
                "random.cold.pread.per_read_fastest",
                "random.cold.pread.per_read_slowest",
                "random.cold.mmap_random.per_read",
                "random.cold.mmap_random.per_read_fastest",
                "random.cold.mmap_random.per_read_slowest",
                "random.cold.mmap.per_read",
                "random.cold.pread.cached",
                "random.cold.mmap_random.cached",
                "random.cold.mmap.cached",
            ],
        ),
    );
}

// ---------------------------------------------------------------------------------------
// Startup: how long until the program holds the file's first byte.
// ---------------------------------------------------------------------------------------

// ANCHOR: first_byte
/// read(): open and pread the first block.
fn first_byte_pread(path: &Path) -> io::Result<u8> {
    let file = File::open(path)?;
    let mut block = [0u8; FIRST_BLOCK];
    read_exact_at(&file, &mut block, 0)?;
    Ok(block[0])
}

/// mmap: open, map and touch the first byte (the map is returned so unmapping is not timed).
fn first_byte_mmap(path: &Path) -> io::Result<(u8, Mmap)> {
    let file = File::open(path)?;
    // SAFETY: the lesson's own data file, not written or truncated while mapped.
    let map = unsafe { Mmap::map(&file) }?;
    Ok((map.first().copied().unwrap_or(0), map))
}
// ANCHOR_END: first_byte

#[derive(Debug)]
struct Startup {
    warm_pread: f64,
    warm_mmap: f64,
    /// Filled by `startup_cold`.
    cold: Option<ColdStartup>,
}

#[derive(Debug)]
struct ColdStartup {
    pread: Spread,
    mmap: Spread,
    pread_cached: f64,
    mmap_cached: f64,
}

fn startup_warm(lab: &Lab, path: &Path, report: &mut Report) -> anyhow::Result<Startup> {
    let ctx = || format!("first byte of {}", path.display());
    let (done, pread) = probe_median(lab.runs, || first_byte_pread(path));
    done.with_context(ctx)?;
    let (done, mmap) = probe_median(lab.runs, || first_byte_mmap(path));
    done.with_context(ctx)?;
    Ok(Startup {
        warm_pread: report.measure(
            "startup.warm.pread",
            "cached: open + pread of the first 4 KiB",
            pread.wall.as_secs_f64(),
            Unit::Seconds,
        ),
        warm_mmap: report.measure(
            "startup.warm.mmap",
            "cached: open + mmap + first byte",
            mmap.wall.as_secs_f64(),
            Unit::Seconds,
        ),
        cold: None,
    })
}

/// The first byte of an evicted file, pread and mmap taking turns, and how much the kernel
/// read to deliver it.
fn startup_cold(
    lab: &Lab,
    path: &Path,
    cold: &mut Cold,
    f: &mut Startup,
    report: &mut Report,
) -> anyhow::Result<()> {
    let ctx = || format!("first byte of {}", path.display());
    let (mut preads, mut mmaps) = (Vec::new(), Vec::new());
    for _ in 0..lab.runs {
        preads.push(cold.once(
            || first_byte_pread(path),
            |done| {
                done.with_context(ctx)?;
                cached_bytes(path)
            },
        )?);
        mmaps.push(cold.once(
            || first_byte_mmap(path),
            |done| {
                drop(done.with_context(ctx)?);
                cached_bytes(path)
            },
        )?);
    }
    let (pread_cached, _, pread) = median_run(preads, 1.0)?;
    let (mmap_cached, _, mmap) = median_run(mmaps, 1.0)?;
    let mut record =
        |name: &str, label: &str, value: f64, unit: Unit| report.measure(name, label, value, unit);
    f.cold = Some(ColdStartup {
        pread,
        mmap,
        pread_cached: record(
            "startup.cold.pread.cached",
            "from disk: the first 4 KiB pread brought into the cache",
            pread_cached,
            Unit::Bytes,
        ),
        mmap_cached: record(
            "startup.cold.mmap.cached",
            "from disk: the first mmap fault brought into the cache",
            mmap_cached,
            Unit::Bytes,
        ),
    });
    record(
        "startup.cold.pread",
        "from disk: open + pread of the first 4 KiB",
        pread.median,
        Unit::Seconds,
    );
    record(
        "startup.cold.mmap",
        "from disk: open + mmap + first byte",
        mmap.median,
        Unit::Seconds,
    );
    Ok(())
}

/// The notes' own Python (sections 1 and 4), run on the same warm file. RSS growth comes
/// from /proc/self/status: `ru_maxrss` would include this lesson's peak, which a spawned
/// child inherits.
const PYTHON: &str = r#"
import json, mmap, sys, time

def rss():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None

path = sys.argv[1]
base = rss()
t = time.perf_counter()
with open(path, "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    head = mm[:100]
    mmap_first = time.perf_counter() - t
    mmap_rss = rss()
    mm.close()
t = time.perf_counter()
with open(path, "rb") as f:
    data = f.read()
read_all = time.perf_counter() - t
read_rss = rss()
grow = lambda r: None if r is None or base is None else r - base
print(json.dumps({"mmap_first": mmap_first, "mmap_rss": grow(mmap_rss),
                  "read_all": read_all, "read_rss": grow(read_rss)}))
"#;

#[derive(Debug)]
struct Python {
    mmap_first: f64,
    read_all: f64,
    /// RSS growth while the data is held (None without /proc).
    mmap_rss: Option<f64>,
    read_rss: Option<f64>,
}

/// Runs the notes' Python snippets side by side, when python3 is installed.
fn python_peer(lab: &Lab, path: &Path, report: &mut Report) -> Option<Python> {
    if let Err(why) = fits_in_ram(lab.size, 1) {
        report.note(format!("python3 f.read() skipped: {why}"));
        return None;
    }
    let out = match Command::new("python3")
        .arg("-c")
        .arg(PYTHON)
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.note("python3 not installed — the notes' Python snippets skipped");
            return None;
        }
        Err(e) => {
            report.note(format!("python3 could not run ({e}) — skipped"));
            return None;
        }
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
    let field = |k: &str| parsed.as_ref().and_then(|v| v[k].as_f64());
    let (Some(mmap_first), Some(read_all)) = (field("mmap_first"), field("read_all")) else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("no output");
        report.note(format!(
            "python3 failed ({last}) — the notes' Python skipped"
        ));
        return None;
    };
    Some(Python {
        mmap_rss: field("mmap_rss").map(|v| {
            report.measure(
                "peer.python.mmap_rss_growth",
                "Python: RSS growth holding mmap + mm[:100]",
                v,
                Unit::Bytes,
            )
        }),
        read_rss: field("read_rss").map(|v| {
            report.measure(
                "peer.python.read_rss_growth",
                "Python: RSS growth holding f.read()",
                v,
                Unit::Bytes,
            )
        }),
        mmap_first: report.measure(
            "peer.python.mmap_first",
            "Python: open + mmap + mm[:100]",
            mmap_first,
            Unit::Seconds,
        ),
        read_all: report.measure(
            "peer.python.read_all",
            "Python: open + f.read()",
            read_all,
            Unit::Seconds,
        ),
    })
}

fn claim_startup(report: &mut Report, s: &Scans, f: &Startup, py: Option<&Python>) {
    let Some(c) = &f.cold else {
        return not_measured(report, "5.startup", MISSING);
    };
    let read_all = s.warm(Scan::ReadAll).map(|r| r.first_byte);
    let mmap_warm = Spread::of(f.warm_mmap);
    let beats_read_all =
        read_all.is_none_or(|r| mmap_warm.versus(Spread::of(r)).outcome == Outcome::Faster);
    let warm = mmap_warm.versus(Spread::of(f.warm_pread));
    let cold = c.mmap.versus(c.pread);
    let beats_pread = warm.outcome == Outcome::Faster && cold.outcome == Outcome::Faster;
    let verdict = match (beats_read_all, beats_pread) {
        (true, true) => Verdict::Holds,
        (true, false) => Verdict::Depends,
        (false, _) => Verdict::Fails,
    };
    let t = |x: f64| Unit::Seconds.format(x);
    let read_all_text = read_all.map_or("fs::read was skipped (not enough RAM)".into(), |r| {
        format!(
            "fs::read handed over its first byte after {} (it loads the whole file first)",
            t(r)
        )
    });
    let python = py.map_or(String::new(), |p| {
        format!(
            "; the notes' Python: f.read() {}, mmap + mm[:100] {}",
            t(p.read_all),
            t(p.mmap_first)
        )
    });
    let summary = match verdict {
        Verdict::Holds => "mmap started first against every kind of read()",
        Verdict::Depends => "'read() slow to start' is true only for read-everything",
        _ => "mmap did not start faster even than reading the whole file",
    };
    report.claim(
        "5.startup",
        verdict,
        format!(
            "{read_all_text}; mmap after {} cached, {} from disk. A pread of just the first \
             4 KiB took {} cached and {} from disk: mmap {} cached and {} from disk (its first \
             fault read {} into the cache, the pread {}). {summary}{python}",
            t(f.warm_mmap),
            t(c.mmap.median),
            t(f.warm_pread),
            t(c.pread.median),
            warm.text("that pread"),
            cold.text("it"),
            size::fmt_f64(c.mmap_cached),
            size::fmt_f64(c.pread_cached),
        ),
        &present(
            report,
            &[
                "scan.warm.read_all.first_byte",
                "startup.warm.mmap",
                "startup.warm.pread",
                "startup.cold.mmap",
                "startup.cold.pread",
                "startup.cold.mmap.cached",
                "startup.cold.pread.cached",
                "peer.python.read_all",
                "peer.python.mmap_first",
            ],
        ),
    );
}

// ---------------------------------------------------------------------------------------
// OS help: readahead and the page cache serve read() as much as mmap.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct ReadAhead {
    asked: f64,
    cached: f64,
}

fn read_ahead(
    lab: &Lab,
    path: &Path,
    cold: &mut Cold,
    report: &mut Report,
) -> anyhow::Result<ReadAhead> {
    // ANCHOR: readahead
    let read_start = || -> io::Result<usize> {
        let mut file = File::open(path)?;
        let mut buf = vec![0u8; BUF];
        let mut asked = 0;
        while asked < READAHEAD_PROBE {
            match fill(&mut file, &mut buf)? {
                0 => break,
                n => asked += n,
            }
        }
        Ok(asked)
    };
    // After the read() calls: what the kernel had read, against what the loop asked for.
    let mut runs = Vec::new();
    for _ in 0..lab.runs {
        runs.push(cold.once(read_start, |asked| Ok((asked?, cached_bytes(path)?)))?);
    }
    // ANCHOR_END: readahead
    let ((asked, cached), _, _) = median_run(runs, 1.0)?;
    Ok(ReadAhead {
        asked: report.measure(
            "os.read.asked",
            "from disk: bytes the read() loop asked for",
            asked as f64,
            Unit::Bytes,
        ),
        cached: report.measure(
            "os.read.cached",
            "from disk: bytes the kernel had read by then",
            cached,
            Unit::Bytes,
        ),
    })
}

fn claim_os(report: &mut Report, s: &Scans, o: &ReadAhead, f: &Startup, lab: &Lab) {
    let (Some(warm), Some(buffered), Some(c)) =
        (s.warm(Scan::Buffered), s.cold(Scan::Buffered), &f.cold)
    else {
        return not_measured(report, "5.os", MISSING);
    };
    let readahead = o.cached > o.asked;
    let page_cache = s.cached_after_cold_read > 0.9;
    let verdict = match (readahead, page_cache) {
        (true, true) => Verdict::Fails,
        (false, false) => Verdict::Holds,
        _ => Verdict::Depends,
    };
    let r = |x: f64| Unit::BytesPerSecond.format(x);
    let b = |x: f64| size::fmt_f64(x);
    let window = lab.machine.read_ahead_kb.map_or(String::new(), |kb| {
        format!("; read_ahead_kb on this disk: {kb}")
    });
    let help = match (readahead, page_cache) {
        (true, true) => "read() gets the same OS help as mmap",
        (true, false) => "read() got readahead, but the page cache did not keep the file",
        (false, true) => "read() got the page cache, but no readahead was seen",
        (false, false) => "read() got neither readahead nor the page cache here",
    };
    let cold_scans: Vec<String> = s
        .cold
        .iter()
        .map(|(m, row)| format!("{}: {}", m.label(), r(row.rate)))
        .collect();
    let mut evidence = vec![
        "os.read.asked",
        "os.read.cached",
        "scan.cold.buffered.cached_after",
        "scan.warm.buffered.rate",
    ];
    let rates: Vec<String> = s
        .cold
        .iter()
        .map(|(m, _)| format!("scan.cold.{}.rate", m.id()))
        .collect();
    evidence.extend(rates.iter().map(String::as_str));
    evidence.push("cold.left_after_evict");
    report.claim(
        "5.os",
        verdict,
        format!(
            "{help}: when the read() loop had asked for {} of the cold file the kernel had \
             read {} (readahead{window}); after one cold pass {} of the file stayed in the \
             page cache, and a warm pass ran at {} instead of {}. Cold scans, fed by the \
             same readahead — {}. mmap's first fault read {}, a 4 KiB pread {}",
            b(o.asked),
            b(o.cached),
            Unit::Fraction.format(s.cached_after_cold_read),
            r(warm.rate),
            r(buffered.rate),
            cold_scans.join("; "),
            b(c.mmap_cached),
            b(c.pread_cached),
        ),
        &evidence,
    );
}

// ---------------------------------------------------------------------------------------
// Big files: a sparse file twice the size of RAM, read both ways without reading it all.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Big {
    size: f64,
    available: f64,
    /// Address space and RSS that mapping the file and reading the words through the map
    /// added to the process (None where the platform cannot tell).
    mmap_growth: Option<(f64, f64)>,
    /// RSS that reading the words with pread added.
    pread_rss: Option<f64>,
    /// Whether pread and mmap both read back the marker words.
    reads_equal: bool,
}

fn larger_than_ram(lab: &mut Lab, report: &mut Report) -> anyhow::Result<Option<Big>> {
    let Some(mem) = measure::system_memory() else {
        report.note("this platform cannot tell its RAM size, so no file larger than RAM");
        return Ok(None);
    };
    let big = (2 * mem.total).next_multiple_of(cache::page_size() as u64);
    // Named after this process, so that runs side by side never delete each other's file,
    // and deleted before returning, even when reading it failed.
    let name = format!("larger-than-ram-{}", std::process::id());
    let spec = Spec::new(&name, big, Content::Sparse);
    let result = match lab.file(spec.clone()) {
        Ok(path) => read_big(&path, big, mem.available, report).map(Some),
        Err(e) => {
            report.note(format!("no sparse file larger than RAM here ({e:#})"));
            Ok(None)
        }
    };
    let removed = lab.data.remove(&spec);
    let big = result?;
    removed?;
    Ok(big)
}

/// Writes a marker word (the bitwise NOT of its offset, never zero) at `BIG_READS` places
/// across the sparse file, then reads them back with pread and through a map, and measures
/// what each way added to the process.
fn read_big(path: &Path, big: u64, available: u64, report: &mut Report) -> anyhow::Result<Big> {
    let mut rng = fastrand::Rng::with_seed(7);
    // Word-aligned, so two markers never overlap.
    let offsets: Vec<u64> = (0..BIG_READS).map(|_| rng.u64(0..big / 8) * 8).collect();
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("open {} to write markers", path.display()))?;
    for &off in &offsets {
        file.seek(SeekFrom::Start(off))?;
        file.write_all(&(!off).to_le_bytes())?;
    }
    drop(file);
    let expected = offsets
        .iter()
        .fold(0u64, |sum, &off| sum.wrapping_add(!off));

    let (pread, pread_sample) = probe(|| read_words(Access::Pread, path, &offsets));
    let (pread_sum, _) = pread.with_context(|| context(Access::Pread, path))?;
    let before = status();
    let (mmap_sum, map) = read_words(Access::MmapRandom, path, &offsets)
        .with_context(|| context(Access::MmapRandom, path))?;
    let after = status();
    drop(map);
    let reads_equal = pread_sum == expected && mmap_sum == expected;
    report.measure(
        "big.reads_equal",
        "pread and mmap read back the marker words written into it (1 = yes)",
        f64::from(u8::from(reads_equal)),
        Unit::Count,
    );
    let pread_rss = pread_sample.rss_growth().map(|g| {
        report.measure(
            "big.pread_rss_growth",
            "RSS added by reading its words with pread",
            g as f64,
            Unit::Bytes,
        )
    });
    let mmap_growth = before.zip(after).map(|(b, a)| {
        (
            report.measure(
                "big.mmap_virt_growth",
                "address space added by mapping it",
                a.virt.saturating_sub(b.virt) as f64,
                Unit::Bytes,
            ),
            report.measure(
                "big.mmap_rss_growth",
                "RSS added by mapping it and reading its words",
                a.rss.saturating_sub(b.rss) as f64,
                Unit::Bytes,
            ),
        )
    });
    Ok(Big {
        size: report.measure(
            "big.size",
            "sparse file, 2× this machine's RAM",
            big as f64,
            Unit::Bytes,
        ),
        available: report.measure(
            "big.available",
            "RAM available now",
            available as f64,
            Unit::Bytes,
        ),
        mmap_growth,
        pread_rss,
        reads_equal,
    })
}

fn claim_big(report: &mut Report, file_size: u64, s: &Scans, big: Option<&Big>) {
    let size = file_size as f64;
    let (Some(buffered), Some((best, mmap))) = (s.cold(Scan::Buffered), s.best_cold_mmap()) else {
        return not_measured(report, "5.big", MISSING);
    };
    let Some(loop_peak) = s.buffered_peak else {
        return not_measured(report, "5.big", NO_RSS);
    };
    let scan = mmap.time.versus(buffered.time);
    // "read() a problem": not for the read() loop if its memory stays within its buffer.
    let loop_problem = loop_peak > 2.0 * BUF as f64;
    let verdict = match (loop_problem, scan.outcome) {
        (true, Outcome::Faster) => Verdict::Holds,
        (false, Outcome::Slower) => Verdict::Fails,
        _ => Verdict::Depends,
    };
    let b = |x: f64| size::fmt_f64(x);
    let per_byte = s.read_all_peak.map(|p| p / size);
    let read_all_text = match (per_byte, big) {
        (Some(k), Some(g)) => format!(
            "fs::read keeps the whole file in RAM (its peak RSS grew {k:.2}× the file), so \
             the {} sparse file here (2× RAM) would need {} with {} available — not \
             attempted",
            b(g.size),
            b(k * g.size),
            b(g.available)
        ),
        (Some(k), None) => format!(
            "fs::read keeps the whole file in RAM (its peak RSS grew {k:.2}× the file), so a \
             file larger than RAM cannot be read that way"
        ),
        (None, _) => "fs::read of this size was already refused for lack of RAM".into(),
    };
    let big_text = big.map_or(String::new(), |g| {
        let read_back = match g.reads_equal {
            true => "both read back",
            false => "did NOT both read back",
        };
        let growth = match g.mmap_growth {
            Some((virt, rss)) => format!(
                "mapping it and reading them added {} of address space and {} of RSS",
                b(virt),
                b(rss)
            ),
            None => "what mapping it added to address space and RSS is not measurable here".into(),
        };
        let pread = g
            .pread_rss
            .map_or(String::new(), |r| format!(", the preads {} of RSS", b(r)));
        format!(
            "; pread and mmap + advise(Random) {read_back} the {BIG_READS} marker words \
             written across the file larger than RAM ({growth}{pread})"
        )
    });
    report.claim(
        "5.big",
        verdict,
        format!(
            "{read_all_text}. The read() loop needs its one {} buffer whatever the file size \
             (peak RSS growth here: {}){big_text}. A file larger than RAM comes from disk, \
             where the cold scans ran read() loop {} vs {} {}: mmap {}",
            b(BUF as f64),
            b(loop_peak),
            Unit::BytesPerSecond.format(buffered.rate),
            best.label(),
            Unit::BytesPerSecond.format(mmap.rate),
            scan.text("the loop"),
        ),
        &present(
            report,
            &[
                "scan.warm.read_all.peak_rss_growth",
                "scan.warm.buffered.peak_rss_growth",
                "big.size",
                "big.available",
                "big.mmap_virt_growth",
                "big.mmap_rss_growth",
                "big.pread_rss_growth",
                "big.reads_equal",
                "scan.cold.buffered.rate",
                "scan.cold.buffered.rate_fastest",
                "scan.cold.buffered.rate_slowest",
                "scan.cold.mmap_seq.rate",
                "scan.cold.mmap_seq.rate_fastest",
                "scan.cold.mmap_seq.rate_slowest",
                "scan.cold.mmap.rate",
                "scan.cold.mmap_populate.rate",
            ],
        ),
    );
}

// ---------------------------------------------------------------------------------------
// The rule: "big file = mmap", judged by the rows above.
// ---------------------------------------------------------------------------------------

fn claim_rule(report: &mut Report, s: &Scans, r: &Randoms) {
    let (Some(buffered), Some((seq_best, seq)), Some(pread), Some(rnd)) = (
        s.cold(Scan::Buffered),
        s.best_cold_mmap(),
        r.cold(Access::Pread),
        r.cold(Access::MmapRandom),
    ) else {
        return not_measured(report, "5.rule", MISSING);
    };
    let scan = seq.time.versus(buffered.time);
    let random = rnd.time.versus(pread.time);
    let cached = Spread::of(r.warm_mmap).versus(Spread::of(r.warm_pread));
    for (name, label, v) in [
        (
            "rule.scan_ratio",
            "from disk, one pass: read() loop time ÷ best mmap time",
            scan,
        ),
        (
            "rule.random_ratio",
            "from disk, random reads: pread time ÷ mmap + advise(Random) time",
            random,
        ),
        (
            "rule.cached_random_ratio",
            "cached, random reads: pread time ÷ mmap time",
            cached,
        ),
    ] {
        report.measure(name, label, v.ratio, Unit::Ratio);
    }
    let wins = [scan, random, cached]
        .iter()
        .filter(|v| v.outcome == Outcome::Faster)
        .count();
    let verdict = match wins {
        3 => Verdict::Holds,
        0 => Verdict::Fails,
        _ => Verdict::Depends,
    };
    let one_pass = match scan.outcome {
        Outcome::Faster => "mmap",
        Outcome::Slower => "a read() loop",
        Outcome::Tie => "either, and a read() loop needs only its buffer",
    };
    let random_choice = match (cached.outcome, random.outcome) {
        (Outcome::Faster, Outcome::Faster) => "mmap",
        (Outcome::Faster, Outcome::Tie) => "mmap for the part that stays cached; from disk a tie",
        (Outcome::Faster, Outcome::Slower) => {
            "mmap for the part that stays cached, pread from disk"
        }
        (_, Outcome::Faster) => "mmap when reading from disk",
        _ => "pread does as well",
    };
    report.claim(
        "5.rule",
        verdict,
        format!(
            "the access pattern decides, not the size. A file larger than RAM is read from \
             disk: one cold pass with {} {}; cold random reads with {} {}, and cached ones \
             with mmap {}. mmap won {wins} of these 3 rows, so big file + one pass → \
             {one_pass}; big file + random access → {random_choice}",
            seq_best.label(),
            scan.text("the read() loop"),
            Access::MmapRandom.label(),
            random.text("pread"),
            cached.text("pread"),
        ),
        &[
            "rule.scan_ratio",
            "rule.random_ratio",
            "rule.cached_random_ratio",
        ],
    );
}
