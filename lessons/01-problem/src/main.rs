//! Lesson 1 · The problem: where plain file I/O falls short.
//!
//! The notes open with `data = f.read()` and blame it for four things. This lesson gives
//! one small task — "get the slice of 10 MiB in the middle of the file and add up its
//! bytes" — to three ways of doing it, on two files (a quarter of `--size`, and `--size`):
//!
//! - read the whole file with `fs::read`, then use the slice (the notes' snippet; Python's
//!   own `f.read()` runs beside it when `python3` is installed);
//! - seek to the slice and read only it (plain file I/O, done with care);
//! - map the file and touch only the slice.
//!
//! From those runs:
//! - [1.whole] `fs::read`'s peak RSS growth against the file size, and the page cache's
//!   own copy of the file;
//! - [1.ram] RSS growth at the two sizes, as a slope per way: bytes of RAM per byte of file;
//! - [1.waste] RAM, page cache taken in and time of each way, for the same 10 MiB;
//! - [1.random] N random 8-byte reads with `pread`, through a fresh map, through a map whose
//!   pages are already mapped, and from the `Vec` that `fs::read` returned.
//!
//! Files up to 1 GiB hold random bytes (the `sample` files other lessons share); larger
//! ones are sparse, so `--size 64G` costs no disk. A whole-file read that would take more
//! than the read budget (`--read-budget`, 4 GiB by default, and never more than half of the
//! available RAM) is skipped with a note instead of exhausting memory.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::Context;
use memmap2::Mmap;
use mmap_lab::cache::{self, Residency};
use mmap_lab::cli::{BadInput, Common, LessonArgs};
use mmap_lab::data::{self, Content, Spec};
use mmap_lab::measure::{self, Sample, probe, probe_median, system_memory};
use mmap_lab::{Lab, Lesson, Report, Unit, Verdict, size};

const LESSON: Lesson = Lesson {
    number: 1,
    title: "The problem: where plain file I/O falls short",
    about: "Reads a file whole with fs::read (and Python's f.read()), reads only a 10 MiB \
            slice with seek + read, and maps it and touches the same slice, at two file \
            sizes: how much RAM, page cache and time each way costs. Then random 8-byte \
            reads with pread, through a map and from the Vec. Files above 1 GiB are sparse \
            (no disk used); --size accepts up to 1 TiB, and a whole-file read that would \
            take more than the read budget (--read-budget, 4 GiB by default, and never more \
            than half of the available RAM) is skipped with a note.",
    default_size: 256 << 20,
};

/// "You need only 10 MB of it": the slice the task uses (a quarter of small files).
const SLICE: u64 = 10 << 20;
/// The smallest `--size`: its quarter file still spans a few hundred pages.
const MIN_SIZE: u64 = 4 << 20;
/// The largest `--size`. Sparse files need no disk, but a mapping needs address space and
/// filesystems have limits (ext4: 16 TiB); 1 TiB makes the point.
const MAX_SIZE: u64 = 1 << 40;
/// Files up to this size hold random bytes; larger ones are sparse.
const RANDOM_MAX: u64 = 1 << 30;
/// Random reads land in the first this-many bytes of the file, so that warming them stays
/// cheap for a huge sparse file.
const RANDOM_SPAN: u64 = 256 << 20;
/// Random reads per run: warm, and with `--cold` (each cold read may wait for the disk).
const READS_WARM: usize = 100_000;
const READS_COLD: usize = 1_000;
/// The page cache is watched this far on each side of the slice at least (twice the
/// readahead window if that is larger), so readahead beyond the slice is counted.
const WATCH_MARGIN: u64 = 64 << 20;
/// fs::read "holds all of the file" when its peak RSS grew by at least this share of it.
const WHOLE_SHARE: f64 = 0.9;
/// A way's RAM "grows with the file" when its RSS slope is at least this many bytes per
/// byte of file, and stays flat below `FLAT_SLOPE`.
const GROWS_SLOPE: f64 = 0.5;
const FLAT_SLOPE: f64 = 0.1;
/// Reading the whole file "wastes" RAM when it would take at least this many times what
/// the map took for the same slice.
const WASTE_RATIO: f64 = 2.0;
/// `--read-budget` when none is given.
const DEFAULT_READ_BUDGET: &str = "4G";

/// The notes' Python snippet. It prints how far its peak RSS rose above its RSS before the
/// read (`ru_maxrss` is KiB on Linux, bytes on macOS; without /proc the old peak stands in
/// for the RSS before), the time and the length read.
const PYTHON_READ: &str = r#"
import os, resource, sys, time
scale = 1 if sys.platform == "darwin" else 1024
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
try:
    with open("/proc/self/statm") as f:
        before = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
except OSError:
    before = peak()
t0 = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = f.read()
print(max(0, peak() - before), time.perf_counter() - t0, len(data))
"#;

#[derive(Debug, clap::Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// The most RAM a whole-file read (fs::read, Python's f.read()) may take; a bigger file
    /// is not read whole. Never more than half of the RAM available
    #[arg(
        long,
        value_name = "SIZE",
        default_value = DEFAULT_READ_BUDGET,
        value_parser = parse_budget
    )]
    read_budget: u64,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

fn parse_budget(text: &str) -> Result<u64, String> {
    match size::parse(text) {
        Ok(0) => Err("0 would skip every whole-file read; give a size such as 64M".into()),
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(e.to_string()),
    }
}

/// A size as `--size`/`--read-budget` take it: `16G`, `100M`, `4K` or bytes.
fn flag_size(bytes: u64) -> String {
    [(30, "G"), (20, "M"), (10, "K")]
        .into_iter()
        .find(|&(shift, _)| bytes.is_multiple_of(1 << shift))
        .map_or(bytes.to_string(), |(shift, unit)| {
            format!("{}{unit}", bytes >> shift)
        })
}

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

/// The part of a file the task needs.
#[derive(Debug, Clone)]
struct Slice {
    offset: u64,
    len: u64,
}

impl Slice {
    /// `len` bytes in the middle of a file of `file_size`, starting on a page boundary.
    fn middle_of(file_size: u64, len: u64) -> Slice {
        let page = cache::page_size() as u64;
        Slice {
            offset: (file_size - len) / 2 / page * page,
            len,
        }
    }

    fn range(&self) -> Range<usize> {
        self.offset as usize..(self.offset + self.len) as usize
    }

    /// The slice and `margin` bytes on each side: where the page cache is watched.
    fn window(&self, margin: u64) -> Range<u64> {
        self.offset.saturating_sub(margin)..self.offset + self.len + margin
    }
}

fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

// ANCHOR: ways
/// The notes' way: read the whole file, then use the slice.
fn read_whole(path: &Path, slice: &Slice) -> anyhow::Result<(Vec<u8>, u64)> {
    let data = fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let total = sum(&data[slice.range()]);
    Ok((data, total))
}

/// Plain file I/O done with care: seek to the slice and read only it.
fn read_slice(path: &Path, slice: &Slice) -> anyhow::Result<(Vec<u8>, u64)> {
    let mut file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    file.seek(SeekFrom::Start(slice.offset))?;
    let mut buf = vec![0u8; slice.len as usize];
    file.read_exact(&mut buf)
        .with_context(|| format!("read {}", path.display()))?;
    let total = sum(&buf);
    Ok((buf, total))
}

/// mmap: map the whole file, touch only the slice.
fn map_slice(path: &Path, slice: &Slice) -> anyhow::Result<(Mmap, u64)> {
    let map = map_file(path)?;
    let total = sum(&map[slice.range()]);
    Ok((map, total))
}
// ANCHOR_END: ways

fn map_file(path: &Path) -> anyhow::Result<Mmap> {
    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    // SAFETY: the file is one of this lesson's own samples in its data directory; nothing
    // truncates or writes it while it is mapped.
    unsafe { Mmap::map(&file) }.with_context(|| format!("mmap {}", path.display()))
}

// ANCHOR: random
/// Random access the plain I/O way: one `pread` system call per read.
fn pread_all(file: &File, offsets: &[usize]) -> anyhow::Result<u64> {
    let mut total = 0u64;
    let mut word = [0u8; 8];
    for &at in offsets {
        data::read_exact_at(file, &mut word, at as u64).context("pread")?;
        total = total.wrapping_add(u64::from_le_bytes(word));
    }
    Ok(total)
}

/// Random access to bytes in memory: a map or a `Vec` alike.
fn index_all(bytes: &[u8], offsets: &[usize]) -> u64 {
    let mut total = 0u64;
    let mut word = [0u8; 8];
    for &at in offsets {
        word.copy_from_slice(&bytes[at..at + 8]);
        total = total.wrapping_add(u64::from_le_bytes(word));
    }
    total
}
// ANCHOR_END: random

/// What one way of doing a step cost: the run with the median time, and what the page
/// cache took in over the watched range during that run.
#[derive(Debug, Clone, Copy)]
struct Cost {
    sample: Sample,
    cache_intake: u64,
    cache_after: Residency,
}

impl Cost {
    fn secs(&self) -> f64 {
        self.sample.wall.as_secs_f64()
    }

    /// Peak RSS growth; `None` where the platform cannot measure it.
    fn growth(&self) -> Option<f64> {
        self.sample.peak_growth().map(|g| g as f64)
    }
}

/// Runs `f` `lab.runs` times, each from the same page-cache state (evicted first with
/// `--cold`), and keeps the run with the median time. The value of the last run is returned
/// (earlier ones are dropped before the next run: mapped pages cannot be evicted).
fn cost<T>(
    lab: &Lab,
    path: &Path,
    watch: Range<u64>,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(T, Cost)> {
    let mut kept = None;
    let mut costs = Vec::new();
    for _ in 0..lab.runs {
        drop(kept.take());
        lab.prepare(path)?;
        let before = cache::file_range_residency(path, watch.clone())?;
        let (out, sample) = probe(&mut f);
        kept = Some(out?);
        let after = cache::file_range_residency(path, watch.clone())?;
        costs.push(Cost {
            sample,
            cache_intake: after
                .resident_bytes()
                .saturating_sub(before.resident_bytes()),
            cache_after: after,
        });
    }
    costs.sort_by_key(|c| c.sample.wall);
    let median = costs[(costs.len() - 1) / 2];
    Ok((kept.context("no run was made")?, median))
}

/// How much RAM a whole-file read may take, and why that much.
struct Budget {
    bytes: u64,
    why: String,
    /// `--read-budget` set the limit (not the RAM), so a bigger one would lift it.
    from_flag: bool,
}

/// `--read-budget`, held to half of the RAM available right now (and to 1 GiB where that
/// is unknown).
fn read_budget(flag: u64) -> Budget {
    let (cap, cap_why) = match system_memory() {
        Some(m) => (
            m.available / 2,
            format!("half of the {} of RAM available", size::fmt(m.available)),
        ),
        None => (
            RANDOM_MAX,
            "this platform does not say how much RAM is available".into(),
        ),
    };
    if cap < flag {
        Budget {
            bytes: cap,
            why: cap_why,
            from_flag: false,
        }
    } else {
        Budget {
            bytes: flag,
            why: format!("--read-budget {}", size::fmt(flag)),
            from_flag: true,
        }
    }
}

impl Budget {
    /// What would let this lesson read whole a quarter file of `quarter` bytes: a bigger
    /// `--read-budget` when that flag set the limit, and a smaller `--size` when one that
    /// fits is still allowed.
    fn remedy(&self, quarter: u64) -> String {
        const MIB: u64 = 1 << 20;
        let mut ways = Vec::new();
        if self.from_flag {
            let budget = quarter.div_ceil(MIB) * MIB;
            ways.push(format!("--read-budget {} or more", flag_size(budget)));
        }
        let size = self.bytes.saturating_mul(4) / MIB * MIB;
        if size >= MIN_SIZE {
            ways.push(format!("--size {} or less", flag_size(size)));
        }
        if ways.is_empty() {
            "more available RAM".into()
        } else {
            ways.join(", or ")
        }
    }
}

/// Runs the notes' Python snippet on `path`: (peak RSS growth, seconds). `None` when
/// `python3` is not installed; an error when it ran and failed.
fn python_read(path: &Path) -> Option<anyhow::Result<(f64, f64)>> {
    let out = match Command::new("python3")
        .args(["-c", PYTHON_READ])
        .arg(path)
        .output()
    {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(e.into())),
        Ok(out) => out,
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    Some(match (out.status.success(), fields.as_slice()) {
        (true, [growth, secs, _len]) => Ok((*growth, *secs)),
        _ => Err(anyhow::anyhow!(
            "{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("no output")
        )),
    })
}

/// The three ways of doing the task: measurement prefix and label.
const WAYS: [(&str, &str); 3] = [
    ("whole", "fs::read whole"),
    ("seek", "seek + read slice"),
    ("map", "mmap, touch slice"),
];

/// What the three ways cost on one file (`whole` is `None` when the file did not fit).
#[derive(Debug)]
struct Point {
    size: u64,
    whole: Option<Cost>,
    seek: Cost,
    map: Cost,
}

impl Point {
    fn way(&self, way: &str) -> Option<Cost> {
        match way {
            "whole" => self.whole,
            "seek" => Some(self.seek),
            _ => Some(self.map),
        }
    }
}

/// Records what each way cost on each file, once, as
/// `{way}.{quarter|full}.{peak_growth|cache_intake|time}`; the claims read these back.
fn record(report: &mut Report, points: &[Point; 2]) {
    for (p, tag) in points.iter().zip(["quarter", "full"]) {
        for (way, label) in WAYS {
            let Some(c) = p.way(way) else { continue };
            let label = format!("{label}, {}", size::fmt(p.size));
            if let Some(g) = c.growth() {
                report.measure(
                    &format!("{way}.{tag}.peak_growth"),
                    &format!("{label}: peak RSS growth"),
                    g,
                    Unit::Bytes,
                );
            }
            report.measure(
                &format!("{way}.{tag}.cache_intake"),
                &format!("{label}: new page cache"),
                c.cache_intake as f64,
                Unit::Bytes,
            );
            report.measure(
                &format!("{way}.{tag}.time"),
                &format!("{label}: time"),
                c.secs(),
                Unit::Seconds,
            );
        }
    }
}

const NO_RSS: &str = "this platform reports no peak RSS (/proc/self/status and clear_refs)";

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<Report> {
    if lab.size > MAX_SIZE {
        return Err(BadInput(format!(
            "--size {} is more than lesson 1 accepts ({}): even a sparse file that large \
             strains filesystem limits and address space",
            size::fmt(lab.size),
            size::fmt(MAX_SIZE)
        ))
        .into());
    }
    lab.require_size(MIN_SIZE)?;
    let fresh = measure::fresh_big_allocations();
    let page = cache::page_size() as u64;
    let sizes = [lab.size / 4, lab.size];
    let slice_len = (SLICE.min(sizes[0]) / page * page).max(page);
    let sparse = lab.size > RANDOM_MAX;
    let content = if sparse {
        Content::Sparse
    } else {
        Content::Random { seed: 1 }
    };
    let paths = [
        lab.file(Spec::new("sample", sizes[0], content))?,
        lab.file(Spec::new("sample", sizes[1], content))?,
    ];
    let slices = sizes.map(|s| Slice::middle_of(s, slice_len));
    let margin = lab
        .machine
        .read_ahead_kb
        .map_or(0, |kb| 2 * kb * 1024)
        .max(WATCH_MARGIN);
    let span = lab.size.min(RANDOM_SPAN);

    let mut report = lab.report();
    if !fresh {
        report.note(
            "this C library may hand a freed buffer back from resident heap pages, so the \
             RSS growth of a repeated step can read low",
        );
    }
    report.param("quarter_bytes", sizes[0]);
    report.param("slice_bytes", slice_len);
    report.param("content", if sparse { "sparse" } else { "random" });
    if sparse {
        report.note(format!(
            "files above {} are sparse: no disk blocks, every byte reads as zero, so no \
             disk is read; cold numbers show the kernel zero-filling pages, not disk speed",
            size::fmt(RANDOM_MAX)
        ));
    }
    report.measure("file.size", "file size", lab.size as f64, Unit::Bytes);
    let budget = read_budget(args.read_budget);
    report.param("read_budget_bytes", budget.bytes);
    if let Some(mem) = system_memory() {
        report.measure(
            "mem.available",
            "RAM available at the start",
            mem.available as f64,
            Unit::Bytes,
        );
    }

    // Without --cold, make resident what each step reads, so "warm" is measured, not hoped
    // for (another lesson may have evicted the shared sample). With --cold, every step
    // starts evicted instead (see `cost`).
    if !lab.cold {
        let mut warm = Residency {
            resident: 0,
            pages: 0,
        };
        for (i, path) in paths.iter().enumerate() {
            let range = if sizes[i] <= budget.bytes {
                0..sizes[i]
            } else {
                slices[i].window(margin)
            };
            let r = cache::warm(path, range)?;
            warm.resident += r.resident;
            warm.pages += r.pages;
        }
        if sizes[1] > budget.bytes {
            let r = cache::warm(&paths[1], 0..span)?;
            warm.resident += r.resident;
            warm.pages += r.pages;
        }
        report.measure(
            "warm.resident",
            "warmed bytes in the page cache before measuring",
            warm.fraction(),
            Unit::Fraction,
        );
    }

    // The task, three ways, on the quarter file and then the full one. The full file's Vec
    // is kept for the random reads of [1.random].
    let mut points = Vec::new();
    let mut vec: Option<Vec<u8>> = None;
    let mut python: Option<(f64, f64)> = None;
    for i in 0..2 {
        let (path, slice, file_size) = (&paths[i], &slices[i], sizes[i]);
        let mut whole = None;
        let affordable = file_size <= budget.bytes;
        report.param(
            if i == 0 {
                "read_whole_quarter"
            } else {
                "read_whole_full"
            },
            affordable,
        );
        if affordable {
            if i == 1 {
                lab.prepare(path)?;
                match python_read(path) {
                    None => report.note("python3 not installed — the notes' snippet skipped"),
                    Some(Err(e)) => report.note(format!("python3 failed ({e:#}) — skipped")),
                    Some(Ok(p)) => python = Some(p),
                }
            }
            let ((data, _), c) = cost(lab, path, 0..file_size, || read_whole(path, slice))?;
            whole = Some(c);
            if i == 1 {
                vec = Some(data);
            }
        } else {
            report.note(format!(
                "fs::read of the {} file skipped: it needs {} of RAM for the Vec alone, more \
                 than the read budget of {} ({})",
                size::fmt(file_size),
                size::fmt(file_size),
                size::fmt(budget.bytes),
                budget.why
            ));
        }
        let watch = slice.window(margin);
        points.push(Point {
            size: file_size,
            whole,
            seek: cost(lab, path, watch.clone(), || read_slice(path, slice))?.1,
            map: cost(lab, path, watch, || map_slice(path, slice))?.1,
        });
    }
    let points: [Point; 2] = points
        .try_into()
        .map_err(|_| anyhow::anyhow!("two sizes, two points"))?;

    record(&mut report, &points);
    whole_claim(&mut report, &points, python, &budget);
    ram_claim(&mut report, &points, &budget);
    random_claim(&mut report, lab, &paths[1], span, vec.as_deref())?;
    waste_claim(&mut report, lab, slice_len, &budget);

    if lab.size <= budget.bytes {
        // Above 1 GiB (so sparse) and above four read budgets (so not even its quarter file
        // is read whole), keeping a --read-budget the reader chose.
        let big = (4 * budget.bytes).max(2 * RANDOM_MAX).div_ceil(1 << 30) << 30;
        let keep = if parse_budget(DEFAULT_READ_BUDGET) == Ok(args.read_budget) {
            String::new()
        } else {
            format!(" --read-budget {}", flag_size(args.read_budget))
        };
        report.try_next(format!(
            "just lesson 1 --size {}{keep}   (sparse, over the read budget: fs::read of it is \
             skipped, the map still touches 10 MiB)",
            flag_size(big)
        ));
    }
    report.try_next("just lesson 1 --cold   (every step starts with the file evicted)");
    report.try_next("just lesson 2   (the idea of mmap: a file that looks like memory)");
    Ok(report)
}

/// [1.whole] The Vec holds the whole file: peak RSS growth ≈ file size.
fn whole_claim(
    report: &mut Report,
    points: &[Point; 2],
    python: Option<(f64, f64)>,
    budget: &Budget,
) {
    let read = points
        .iter()
        .zip(["quarter", "full"])
        .rev()
        .find_map(|(p, tag)| Some((p.size, tag, p.whole?)));
    let Some((file, tag, cost)) = read else {
        report.claim(
            "1.whole",
            Verdict::NotMeasured,
            format!(
                "nothing was read whole: even the quarter file ({}) is more than the read \
                 budget of {} ({}); {} would measure it",
                size::fmt(points[0].size),
                size::fmt(budget.bytes),
                budget.why,
                budget.remedy(points[0].size)
            ),
            &[],
        );
        return;
    };
    let growth_name = format!("whole.{tag}.peak_growth");
    let Some(growth) = report.value(&growth_name) else {
        report.claim("1.whole", Verdict::NotMeasured, NO_RSS, &[]);
        return;
    };
    let ratio = report.measure(
        "whole.growth_ratio",
        "fs::read: peak RSS growth ÷ file size",
        growth / file as f64,
        Unit::Ratio,
    );
    let cached = report.measure(
        "whole.cache_after",
        "share of the file in the page cache after fs::read",
        cost.cache_after.fraction(),
        Unit::Fraction,
    );
    let mut evidence = vec![
        growth_name.as_str(),
        "whole.growth_ratio",
        "whole.cache_after",
    ];
    let mut py_text = String::new();
    let mut py_ok = true;
    if let Some((py_growth, py_secs)) = python {
        let g = report.measure(
            "python.peak_growth",
            "Python f.read() of the same file: peak RSS growth",
            py_growth,
            Unit::Bytes,
        );
        report.measure(
            "python.time",
            "Python f.read(): time",
            py_secs,
            Unit::Seconds,
        );
        evidence.push("python.peak_growth");
        py_ok = g >= WHOLE_SHARE * file as f64;
        py_text = format!(
            "; Python's f.read() grew its peak RSS by {} ({:.2}× the file{})",
            size::fmt_f64(g),
            g / file as f64,
            if py_ok {
                ""
            } else {
                ", short of the whole file"
            }
        );
    }
    let which = if tag == "full" {
        ""
    } else {
        " (the full file was skipped, see the notes)"
    };
    let holds_all = ratio >= WHOLE_SHARE;
    report.claim(
        "1.whole",
        Verdict::holds_if(holds_all && py_ok),
        format!(
            "fs::read of the {} file{which} raised peak RSS by {} = {ratio:.2}× the file{}\
             {py_text}; the page cache held {} of the file besides{}",
            size::fmt(file),
            size::fmt_f64(growth),
            if holds_all {
                ": the Vec holds all of it".to_string()
            } else {
                format!(", less than {WHOLE_SHARE}× the file: peak RSS did not show all of the Vec")
            },
            Unit::Fraction.format(cached),
            if cached >= 0.5 {
                ", so those bytes sat in RAM twice"
            } else {
                ""
            }
        ),
        &evidence,
    );
}

/// [1.ram] RSS growth against file size, for each way: a slope.
fn ram_claim(report: &mut Report, points: &[Point; 2], budget: &Budget) {
    let (q, f) = (points[0].size, points[1].size);
    let mut slope = |way: &str, label: &str| -> Option<f64> {
        let a = report.value(&format!("{way}.quarter.peak_growth"))?;
        let b = report.value(&format!("{way}.full.peak_growth"))?;
        Some(report.measure(
            &format!("{way}.slope"),
            &format!("{label}: RAM per byte of file"),
            (b - a) / (f - q) as f64,
            Unit::Ratio,
        ))
    };
    let read = slope(WAYS[0].0, WAYS[0].1);
    let seek = slope(WAYS[1].0, WAYS[1].1);
    let map = slope(WAYS[2].0, WAYS[2].1);
    let (Some(seek), Some(map)) = (seek, map) else {
        report.claim("1.ram", Verdict::NotMeasured, NO_RSS, &[]);
        return;
    };
    // Each way that reads only the slice, and whether its RSS stayed flat as the file grew.
    let parts = [(seek, "with seek + read"), (map, "by mapping it")];
    let trend = |s: f64| {
        if s.abs() < FLAT_SLOPE {
            "flat"
        } else if s > 0.0 {
            "it grew with the file"
        } else {
            "it shrank as the file grew"
        }
    };
    let slice_text = format!(
        "reading only the slice with seek + read grew RSS by {seek:.3} bytes per byte of file \
         ({}) and mapping it by {map:.3} ({})",
        trend(seek),
        trend(map)
    );
    let flat: Vec<&str> = parts
        .iter()
        .filter(|(s, _)| s.abs() < FLAT_SLOPE)
        .map(|&(_, how)| how)
        .collect();

    // How fs::read's RAM followed the file: a slope from two whole reads, the RAM per byte
    // of the one whole read that fitted the budget, or nothing.
    let quarter = report.value("whole.quarter.peak_growth");
    let (whole_grows, whole_text, mut evidence) = match (read, quarter) {
        (Some(read), _) => {
            let grows = read >= GROWS_SLOPE;
            let text = format!(
                "going from the {} to the {} file, fs::read grew peak RSS by {read:.2} bytes \
                 per byte of file{}",
                size::fmt(q),
                size::fmt(f),
                if grows {
                    ": reading everything takes RAM in step with the file".to_string()
                } else {
                    format!(
                        ", under {GROWS_SLOPE}: here even reading everything did not take RAM \
                         in step with the file"
                    )
                }
            );
            let evidence = vec![
                "whole.quarter.peak_growth",
                "whole.full.peak_growth",
                "whole.slope",
            ];
            (Some(grows), text, evidence)
        }
        (None, Some(g)) => {
            let ratio = g / q as f64;
            let grows = ratio >= WHOLE_SHARE;
            let text = format!(
                "fs::read of the {} file took {ratio:.2} bytes of RAM per byte of file ({}), and \
                 the {} file was not read whole: it is more than the read budget of {} ({})",
                size::fmt(q),
                if grows {
                    "all of the file"
                } else {
                    "less than the file"
                },
                size::fmt(f),
                size::fmt(budget.bytes),
                budget.why
            );
            (Some(grows), text, vec!["whole.quarter.peak_growth"])
        }
        (None, None) => {
            let text = format!(
                "fs::read was tried on neither file: even the {} one is more than the read \
                 budget of {} ({}), so how its RAM follows the file was not measured",
                size::fmt(q),
                size::fmt(budget.bytes),
                budget.why
            );
            (None, text, Vec::new())
        }
    };
    evidence.extend(["seek.slope", "map.slope"]);
    let (verdict, tail) = match (whole_grows, flat.is_empty()) {
        (Some(false), _) => (Verdict::Fails, String::new()),
        (Some(true), false) => (
            Verdict::Depends,
            format!(
                ": a big file needs big RAM when you read all of it, not when you read only \
                 the slice {}",
                flat.join(" or ")
            ),
        ),
        (None, false) => (
            Verdict::Depends,
            format!(
                ": a big file did not need big RAM to read only the slice {}",
                flat.join(" or ")
            ),
        ),
        (_, true) => (
            Verdict::Holds,
            ": here the RAM of every way measured grew with the file".to_string(),
        ),
    };
    report.claim(
        "1.ram",
        verdict,
        format!("{whole_text}; {slice_text}{tail}"),
        &evidence,
    );
}

/// [1.random] N random 8-byte reads: pread, a fresh map, a mapped map, the Vec.
fn random_claim(
    report: &mut Report,
    lab: &Lab,
    path: &Path,
    span: u64,
    vec: Option<&[u8]>,
) -> anyhow::Result<()> {
    let n = if lab.cold { READS_COLD } else { READS_WARM };
    report.param("random_reads", n);
    report.param("random_span_bytes", span);
    let offsets = |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n)
            .map(|_| rng.u64(0..span - 8) as usize)
            .collect::<Vec<_>>()
    };
    let (a, b) = (offsets(11), offsets(12));
    let temp = if lab.cold { "cold" } else { "warm" };
    let per = |c: f64| c / n as f64;

    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let (_, pread) = cost(lab, path, 0..span, || pread_all(&file, &a))?;
    let (fresh_map, fresh) = cost(lab, path, 0..span, || {
        let map = map_file(path)?;
        let total = index_all(&map, &a);
        Ok((map, total))
    })?;
    let (_, mapped) = probe_median(lab.runs, || index_all(&fresh_map.0, &b));
    let on_vec = vec.map(|v| probe_median(lab.runs, || index_all(v, &a)).1);

    let pread_t = report.measure(
        "random.pread.per_read",
        &format!("pread, {temp}: time per read"),
        per(pread.secs()),
        Unit::Seconds,
    );
    let pread_in = report.measure(
        "random.pread.cache_intake",
        "pread: new page cache",
        pread.cache_intake as f64,
        Unit::Bytes,
    );
    let fresh_t = report.measure(
        "random.map_fresh.per_read",
        &format!("fresh map, {temp}: time per read"),
        per(fresh.secs()),
        Unit::Seconds,
    );
    let fresh_f = report.measure(
        "random.map_fresh.faults",
        "fresh map: page faults",
        fresh.sample.faults() as f64,
        Unit::Count,
    );
    let fresh_in = report.measure(
        "random.map_fresh.cache_intake",
        "fresh map: new page cache",
        fresh.cache_intake as f64,
        Unit::Bytes,
    );
    let mapped_t = report.measure(
        "random.map.per_read",
        "map with its pages mapped: time per read",
        per(mapped.wall.as_secs_f64()),
        Unit::Seconds,
    );
    report.measure(
        "random.map.faults",
        "map with its pages mapped: page faults",
        mapped.faults() as f64,
        Unit::Count,
    );
    let vec_t = on_vec.map(|s| {
        report.measure(
            "random.vec.per_read",
            "Vec from fs::read: time per read",
            per(s.wall.as_secs_f64()),
            Unit::Seconds,
        )
    });
    let memory = vec_t.map_or(mapped_t, |v| v.min(mapped_t));
    let ratio = report.measure(
        "random.pread_vs_memory",
        "pread ÷ fastest read from memory",
        pread_t / memory,
        Unit::Ratio,
    );
    let mut evidence = vec![
        "random.pread.per_read",
        "random.map_fresh.per_read",
        "random.map_fresh.faults",
        "random.map.per_read",
    ];
    if vec_t.is_some() {
        evidence.push("random.vec.per_read");
    }
    evidence.push("random.pread_vs_memory");
    let fmt = |s: f64| Unit::Seconds.format(s);
    let fresh_text = format!(
        "a fresh map took {} per read while it faulted pages in ({fresh_f} faults), {}",
        fmt(fresh_t),
        if fresh_t > pread_t {
            "slower than pread"
        } else {
            "still faster than pread"
        }
    );
    let cold_text = if lab.cold {
        evidence.extend(["random.pread.cache_intake", "random.map_fresh.cache_intake"]);
        format!(
            "; cold, pread brought {} into the page cache for {n} reads and the fresh map {} \
             (each fault reads around it: readahead)",
            size::fmt_f64(pread_in),
            size::fmt_f64(fresh_in)
        )
    } else {
        String::new()
    };
    let (verdict, why) = if ratio < 2.0 {
        (
            Verdict::Fails,
            format!(
                "pread took {} per {temp} read, within 2× of a read from memory ({}); \
                 {fresh_text}{cold_text}",
                fmt(pread_t),
                fmt(memory)
            ),
        )
    } else {
        let head = format!(
            "pread took {} per {temp} read, {ratio:.0}× the fastest read from memory ({}), \
             because each read is a system call{}; a map whose pages are mapped took {} and \
             {fresh_text}",
            fmt(pread_t),
            fmt(memory),
            if lab.cold {
                " and may wait for the disk"
            } else {
                ""
            },
            fmt(mapped_t)
        );
        match vec_t {
            Some(v) if v * 2.0 < pread_t => (
                Verdict::Depends,
                format!(
                    "{head}; but after f.read() the Vec answers in {} per read — the notes' \
                     own snippet makes random access fast, at the price of [1.whole]{cold_text}",
                    fmt(v)
                ),
            ),
            _ => (Verdict::Holds, format!("{head}{cold_text}")),
        }
    };
    report.claim("1.random", verdict, why, &evidence);
    Ok(())
}

/// [1.waste] Reading everything to use 10 MiB, against reading or mapping only that.
fn waste_claim(report: &mut Report, lab: &Lab, slice_len: u64, budget: &Budget) {
    let file = lab.size as f64;
    let used = report.measure(
        "slice.bytes",
        "bytes the task uses",
        slice_len as f64,
        Unit::Bytes,
    );
    let v = |name: &str| report.value(name);
    let (Some(map_g), Some(seek_g)) = (v("map.full.peak_growth"), v("seek.full.peak_growth"))
    else {
        report.claim("1.waste", Verdict::NotMeasured, NO_RSS, &[]);
        return;
    };
    let (map_t, seek_t) = (v("map.full.time"), v("seek.full.time"));
    let (map_t, seek_t) = (map_t.unwrap_or(f64::NAN), seek_t.unwrap_or(f64::NAN));
    let map_in = v("map.full.cache_intake").unwrap_or(f64::NAN);
    let whole = v("whole.full.peak_growth").zip(v("whole.full.time"));
    let whole_in = v("whole.full.cache_intake").unwrap_or(f64::NAN);
    let secs = |s: f64| Unit::Seconds.format(s);
    let mut evidence = vec!["slice.bytes"];
    if whole.is_some() {
        evidence.extend([
            "whole.full.peak_growth",
            "whole.full.cache_intake",
            "whole.full.time",
        ]);
    }
    evidence.extend([
        "map.full.peak_growth",
        "map.full.cache_intake",
        "map.full.time",
        "seek.full.peak_growth",
        "seek.full.time",
    ]);
    let map_text = format!(
        "mapping and touching it grew RSS by {} and the page cache by {} in {}",
        size::fmt_f64(map_g),
        size::fmt_f64(map_in),
        secs(map_t)
    );
    let seek_text = format!(
        "seek + read of just the slice took {} of RSS in {}{}",
        size::fmt_f64(seek_g),
        secs(seek_t),
        if seek_g <= 2.0 * map_g.max(used) {
            " — about as lean as the map, so the waste belongs to reading everything, not to \
             plain I/O"
        } else {
            ""
        }
    );
    let page = cache::page_size() as f64;
    let Some((whole_g, whole_t)) = whole else {
        // The whole read was skipped: its Vec alone would have needed the file's size in RAM.
        // Set that against what the map took, and check the map stayed near the slice: one
        // readahead window beyond it at most (a fault maps whole folios, which readahead
        // allocates up to that size).
        evidence.insert(0, "file.size");
        let file_ratio = report.measure(
            "waste.file_vs_map",
            "file size (fs::read's Vec) ÷ mmap RSS growth",
            file / map_g.max(page),
            Unit::Ratio,
        );
        evidence.push("waste.file_vs_map");
        let readahead = lab.machine.read_ahead_kb.map(|kb| (kb * 1024) as f64);
        let near = readahead.map(|ra| map_g <= used + ra);
        let near_text = match (near, readahead) {
            (Some(true), Some(ra)) => format!(
                "within the slice plus one readahead window ({})",
                size::fmt_f64(ra)
            ),
            (Some(false), Some(ra)) => format!(
                "{} beyond the slice, more than one readahead window ({})",
                size::fmt_f64(map_g - used),
                size::fmt_f64(ra)
            ),
            _ => "though with the readahead window unknown here, how near the slice it stayed \
                  is not judged"
                .to_string(),
        };
        let (verdict, judgement) = if file_ratio < WASTE_RATIO {
            (
                Verdict::Fails,
                format!("under {WASTE_RATIO}×, so reading it whole would waste little"),
            )
        } else if near == Some(false) {
            (
                Verdict::Depends,
                "so reading it whole would waste RAM, yet the map too took more than the task \
                 uses"
                    .to_string(),
            )
        } else {
            (
                Verdict::Holds,
                "so reading it whole would waste RAM".to_string(),
            )
        };
        report.claim(
            "1.waste",
            verdict,
            format!(
                "to use {} of the {} file, fs::read would need {} of RAM — more than the \
                 read budget of {} ({}), so it was not tried; {map_text}, {near_text}; the \
                 file is {file_ratio:.1}× what the map took, {judgement}; {seek_text}",
                size::fmt_f64(used),
                size::fmt_f64(file),
                size::fmt_f64(file),
                size::fmt(budget.bytes),
                budget.why
            ),
            &evidence,
        );
        return;
    };
    let ram_ratio = report.measure(
        "waste.ram_ratio",
        "RSS growth: fs::read ÷ mmap",
        whole_g / map_g.max(page),
        Unit::Ratio,
    );
    let time_ratio = report.measure(
        "waste.time_ratio",
        "time: fs::read ÷ mmap",
        whole_t / map_t,
        Unit::Ratio,
    );
    evidence.extend(["waste.ram_ratio", "waste.time_ratio"]);
    let verdict = match (ram_ratio >= 2.0, time_ratio >= 1.0) {
        (true, true) => Verdict::Holds,
        (true, false) => Verdict::Depends,
        (false, _) => Verdict::Fails,
    };
    report.claim(
        "1.waste",
        verdict,
        format!(
            "to use {}, fs::read of the whole {} file grew RSS by {} and the page cache by {} \
             in {}; {map_text}: {ram_ratio:.1}× the RAM and {time_ratio:.1}× the time{}; \
             {seek_text}{}",
            size::fmt_f64(used),
            size::fmt_f64(file),
            size::fmt_f64(whole_g),
            size::fmt_f64(whole_in),
            secs(whole_t),
            if time_ratio >= 1.0 {
                ""
            } else {
                " (yet the map was not faster here)"
            },
            if lab.cold {
                ""
            } else {
                " (warm run: the file was already cached, so --cold shows what each way reads \
                 from disk)"
            }
        ),
        &evidence,
    );
}
