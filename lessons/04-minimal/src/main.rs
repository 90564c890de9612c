//! Lesson 4 · A minimal mmap example: the notes' eight lines of Python, in Rust and in Python.
//!
//! The notes map a file with `mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)`, print its
//! first 100 bytes and `find(b"magic")`. We run that snippet as written (when `python3` is
//! on PATH) beside its Rust counterpart (memmap2 + `memchr::memmem`) on the same log-like
//! file, which has `magic` at a known offset 7/8 of the way in, so each search scans most of
//! the file; both must find that offset. Then the two notes under the snippet:
//!
//! - [4.zero] "`0` → the whole file": the map's length equals the file's, in both
//!   languages. The edges differ: Python refuses to map an empty file (ValueError) where
//!   memmap2 returns a 0-byte map, and in memmap2 the whole file is *no* length — an
//!   explicit `len(0)` maps nothing.
//! - [4.slice] "slicing → not disk, a memory view": we slice a freshly evicted map and watch
//!   its pages. A Rust slice `&map[a..b]` is a view if making it reads none of them and
//!   reading through it maps the page cache's own pages (file-backed RSS, no anonymous
//!   copy), where `to_vec()` adds anonymous memory the size of the slice. A Python slice
//!   `mm[a:b]` is a copy if it allocates the slice's length (tracemalloc; `memoryview(mm)[a:b]`
//!   is the view). And whether reading it touches the disk depends on whether its pages are
//!   in the page cache: we count the bytes read from disk, cold and warm.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use memmap2::{Mmap, MmapOptions};
use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec, write_log};
use mmap_lab::machine::find_program;
use mmap_lab::measure::{
    Status, disk_read_bytes, fresh_big_allocations, probe, status, system_memory,
};
use mmap_lab::{Lab, Lesson, Report, Unit, Verdict, cache, size};

const LESSON: Lesson = Lesson {
    number: 4,
    title: "A minimal mmap example",
    about: "Runs the notes' Python snippet (map a file, print its first 100 bytes, find \
            b\"magic\") beside its Rust counterpart on the same log file, checks that mapping \
            with length 0 / no length covers the whole file (and what an empty file does), \
            and whether a slice of a map is a view or a copy, and whether reading it touches \
            the disk.",
    default_size: 128 << 20,
};

/// What the notes search for.
const NEEDLE: &[u8] = b"magic";
/// The one line of the sample that contains [`NEEDLE`].
const MAGIC_LINE: &[u8] = b"magic: the needle the notes search for\n";
/// The largest slice [4.slice] takes: enough to see megabytes move, small for any RAM.
const SLICE_MAX: u64 = 32 << 20;

/// The notes' snippet, line for line, with the path taken from argv instead of "data.bin";
/// lines marked `# +` are ours (timing, and the lengths [4.zero] compares).
const PY_SNIPPET: &str = r#"import mmap
import os, sys, time  # +

t0 = time.perf_counter()  # +
with open(sys.argv[1], "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    print(mm[:100])   # the first 100 bytes
    print(mm.find(b"magic"))

    print(len(mm), os.fstat(f.fileno()).st_size)  # + map length, file length
    mm.close()
print(time.perf_counter() - t0)  # + seconds: open, mmap, slice, find
"#;

// ANCHOR: python_slice
/// [4.slice] and [4.zero] in Python: what `mm[a:b]` and `memoryview(mm)[a:b]` allocate
/// (tracemalloc), and what mapping an empty file with length 0 does.
const PY_SLICE: &str = r#"import mmap, sys, time, tracemalloc

path, a, b, empty = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    s = mm[a:b]
    t1 = time.perf_counter()
    copied = tracemalloc.get_traced_memory()[0] - base
    print("slice_type", type(s).__name__)
    print("slice_alloc", copied)
    print("slice_seconds", t1 - t0)
    del s
    base = tracemalloc.get_traced_memory()[0]
    v = memoryview(mm)[a:b]
    viewed = tracemalloc.get_traced_memory()[0] - base
    print("view_type", type(v).__name__)
    print("view_alloc", viewed)
    print("view_len", v.nbytes)
    v.release()
    tracemalloc.stop()
    mm.close()
try:
    with open(empty, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        print("empty_len", len(mm))
        mm.close()
except ValueError as e:
    print("empty_error", e)
"#;
// ANCHOR_END: python_slice

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<Report> {
    let fresh = fresh_big_allocations();
    let page = cache::page_size() as u64;
    lab.require_size(256 * page)?;
    let path = lab.file(Spec::new(
        "log-magic",
        lab.size,
        Content::Custom {
            tag: "log-magic-1",
            fill: fill_log_with_magic,
        },
    ))?;
    let empty = lab.file(Spec::new("empty", 0, Content::Sparse))?;
    let python = find_program("python3");
    let mut report = lab.report();
    if !fresh {
        report.note(
            "this C library may hand slice.to_vec() its buffer from resident heap pages, so \
             the copy's RSS growth can read low",
        );
    }
    let size = report.measure(
        "file.size",
        "sample file size",
        lab.size as f64,
        Unit::Bytes,
    );
    let expected = report.measure(
        "magic.offset",
        "where the generator put `magic`",
        magic_offset(lab.size) as f64,
        Unit::Count,
    );
    match &python {
        Some(p) => report.param("python3", p.display().to_string()),
        None => report.note("python3 not found — skipped: the notes' Python snippet was not run"),
    }

    // The snippet in Rust: warm the file up once (unless --cold, which evicts it before
    // every run), then time `runs` runs.
    if !lab.cold {
        snippet(&path)?;
    }
    let mut rust_times = Vec::new();
    let mut rust = None;
    for _ in 0..lab.runs {
        lab.prepare(&path)?;
        let (found, sample) = probe(|| snippet(&path));
        rust = Some(found?);
        rust_times.push(sample.wall);
    }
    let rust = rust.context("no run of the Rust snippet")?;
    let rust_at = report.measure(
        "rust.find_offset",
        "Rust: memmem::find(&map, b\"magic\")",
        rust.found.map_or(-1.0, |at| at as f64),
        Unit::Count,
    );
    let rust_len = report.measure(
        "rust.map_len",
        "Rust: Mmap::map (no length), map length",
        rust.map_len as f64,
        Unit::Bytes,
    );
    report.measure(
        "rust.time",
        "Rust: open + map + first 100 bytes + find",
        median(&rust_times),
        Unit::Seconds,
    );
    let first100 = python_bytes_repr(&rust.first);

    // The same snippet in Python, as the notes wrote it.
    let mut py_snippet = None;
    if let Some(py) = &python {
        match run_py_snippet(py, &path, lab) {
            Ok(runs) => py_snippet = Some(runs),
            Err(e) => report.note(format!("python3 failed — skipped: {e:#}")),
        }
    }
    if let Some(py) = &py_snippet {
        report.measure(
            "python.find_offset",
            "Python: mm.find(b\"magic\")",
            py.found as f64,
            Unit::Count,
        );
        report.measure(
            "python.map_len",
            "Python: len(mm) with length 0",
            py.map_len as f64,
            Unit::Bytes,
        );
        report.measure(
            "python.file_len",
            "Python: os.fstat(f).st_size",
            py.file_len as f64,
            Unit::Bytes,
        );
        report.measure(
            "python.first100_same",
            "Python's print(mm[:100]) = Rust's first 100 bytes (1 = same)",
            f64::from(u8::from(py.first == first100)),
            Unit::Count,
        );
        report.measure(
            "python.time",
            "Python: open + mmap + slice + find (perf_counter)",
            py.inner,
            Unit::Seconds,
        );
        report.measure(
            "python.process_time",
            "Python: the whole python3 process",
            py.process,
            Unit::Seconds,
        );
        report.measure(
            "python.startup_time",
            "Python: start-up and exit (process - inner time)",
            py.process - py.inner,
            Unit::Seconds,
        );
        if let Some(rust_time) = report.value("rust.time") {
            report.measure(
                "snippet.python_over_rust",
                "Python's inner time / Rust's",
                py.inner / rust_time,
                Unit::Ratio,
            );
        }
    }
    report.note(format!(
        "the first 100 bytes, as print(mm[:100]) shows them: {first100}"
    ));

    // [4.zero] An empty file, and memmap2's explicit length 0.
    // ANCHOR: zero
    let empty_map = {
        let file = File::open(&empty).with_context(|| format!("open {}", empty.display()))?;
        // SAFETY: the empty file is this lesson's own; nothing writes it while it is mapped.
        unsafe { Mmap::map(&file) }
    };
    let len_zero = {
        let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
        // SAFETY: the sample is this lesson's own file; nothing writes or truncates it while
        // it is mapped.
        unsafe { MmapOptions::new().len(0).map(&file) }
    };
    // ANCHOR_END: zero
    let empty_rust = report.measure(
        "empty.rust_mapped",
        "Rust: Mmap::map of an empty file succeeded (1 = yes)",
        f64::from(u8::from(empty_map.is_ok())),
        Unit::Count,
    );
    if let Ok(m) = &empty_map {
        report.measure(
            "empty.rust_map_len",
            "Rust: the empty file's map length",
            m.len() as f64,
            Unit::Bytes,
        );
    }
    let len0 = match &len_zero {
        Ok(m) => report.measure(
            "len0.rust_map_len",
            "Rust: MmapOptions::len(0) on the sample, map length",
            m.len() as f64,
            Unit::Bytes,
        ),
        Err(_) => -1.0,
    };
    drop((empty_map, len_zero));

    // [4.slice] The slice: a quarter of the way in, at most SLICE_MAX, whole pages.
    let a = (lab.size / 4) / page * page;
    let len = (lab.size / 2).min(SLICE_MAX) / page * page;
    let b = a + len;
    report.measure("slice.offset", "the slice starts at", a as f64, Unit::Count);
    let slice_len = report.measure("slice.len", "the slice's length", len as f64, Unit::Bytes);
    let ram_ok = system_memory().is_none_or(|m| m.available > 4 * len);
    if !ram_ok {
        report.note(format!(
            "less than {} of RAM available: the copies of the slice (Rust to_vec, Python \
             mm[a:b]) were skipped",
            size::fmt(4 * len)
        ));
    }

    // Rust, cold: evict the file, map it, slice it, then read through the slice. A view
    // reads nothing when it is made; reading through it maps the file's own page-cache pages
    // (file-backed RSS), where a copy is new anonymous memory.
    let evicted = lab.make_cold(&path)?;
    let map = map_sample(&path)?;
    // ANCHOR: slice
    let slice = &map[a as usize..b as usize];
    let resident_before = cache::residency(slice)?.fraction();
    let (mem0, disk0) = (status(), disk_read_bytes());
    let (lines, cold) = probe(|| memchr::memchr_iter(b'\n', slice).count());
    let (mem1, disk1) = (status(), disk_read_bytes());
    let resident_after = cache::residency(slice)?.fraction();
    let copied = ram_ok.then(|| probe(|| slice.to_vec()).1);
    // ANCHOR_END: slice
    drop(map);
    report.measure(
        "evict.resident",
        "file resident after eviction",
        evicted.fraction(),
        Unit::Fraction,
    );
    let res_before = report.measure(
        "rust.cold_read.resident_before",
        "Rust: slice pages in RAM after &map[a..b], before reading (cold)",
        resident_before,
        Unit::Fraction,
    );
    let res_after = report.measure(
        "rust.cold_read.resident_after",
        "Rust: slice pages in RAM after reading through it",
        resident_after,
        Unit::Fraction,
    );
    let growth = |field: fn(&Status) -> u64| Some(field(&mem1?) as f64 - field(&mem0?) as f64);
    let read_file = growth(|s| s.rss_file).map(|g| {
        report.measure(
            "rust.cold_read.rss_file_growth",
            "Rust: file-backed RSS added by reading through the slice",
            g,
            Unit::Bytes,
        )
    });
    let read_anon = growth(|s| s.rss_anon).map(|g| {
        report.measure(
            "rust.cold_read.rss_anon_growth",
            "Rust: anonymous RSS added by reading through the slice",
            g,
            Unit::Bytes,
        )
    });
    let vec_rss = copied.and_then(|c| c.rss_growth()).map(|g| {
        report.measure(
            "rust.to_vec.rss_growth",
            "Rust: RSS added by slice.to_vec() (a copy)",
            g as f64,
            Unit::Bytes,
        )
    });
    let cold_disk = disk_delta(
        &mut report,
        "rust.cold_read.disk_bytes",
        "Rust: read from disk while reading the cold slice",
        disk0,
        disk1,
    );
    let cold_faults = report.measure(
        "rust.cold_read.faults",
        "Rust: page faults reading the cold slice",
        cold.faults() as f64,
        Unit::Count,
    );
    let cold_time = report.measure(
        "rust.cold_read.time",
        "Rust: counting lines in the cold slice",
        cold.wall.as_secs_f64(),
        Unit::Seconds,
    );

    // Rust, warm: the same read through a fresh map, the pages now in the page cache.
    let map = map_sample(&path)?;
    let slice = &map[a as usize..b as usize];
    let disk0 = disk_read_bytes();
    let (warm_lines, warm) = probe(|| memchr::memchr_iter(b'\n', slice).count());
    let disk1 = disk_read_bytes();
    drop(map);
    let warm_disk = disk_delta(
        &mut report,
        "rust.warm_read.disk_bytes",
        "Rust: read from disk while reading it warm",
        disk0,
        disk1,
    );
    report.measure(
        "rust.warm_read.faults",
        "Rust: page faults reading it warm (fresh map)",
        warm.faults() as f64,
        Unit::Count,
    );
    let warm_time = report.measure(
        "rust.warm_read.time",
        "Rust: counting lines in the warm slice",
        warm.wall.as_secs_f64(),
        Unit::Seconds,
    );
    if lines != warm_lines {
        bail!("the slice had {lines} lines cold but {warm_lines} warm");
    }

    // Python, cold: evict again; what does mm[a:b] allocate, and does it read the disk?
    let mut py_slice = None;
    if let (Some(py), true) = (&python, ram_ok) {
        match run_py_slice(lab, py, &path, &empty, a, b) {
            Ok(s) => py_slice = Some(s),
            Err(e) => report.note(format!("python3 failed — skipped: {e:#}")),
        }
    }
    if let Some(s) = &py_slice {
        report.measure(
            "python.slice.is_bytes",
            "Python: type(mm[a:b]) is bytes (1 = yes)",
            f64::from(u8::from(s.slice_type == "bytes")),
            Unit::Count,
        );
        report.measure(
            "python.slice.alloc",
            "Python: bytes allocated by mm[a:b] (tracemalloc)",
            s.slice_alloc,
            Unit::Bytes,
        );
        report.measure(
            "python.view.alloc",
            "Python: bytes allocated by memoryview(mm)[a:b]",
            s.view_alloc,
            Unit::Bytes,
        );
        report.measure(
            "python.slice.time",
            "Python: mm[a:b] of the cold slice",
            s.slice_seconds,
            Unit::Seconds,
        );
        report.measure(
            "python.slice.resident_before",
            "Python: slice pages in RAM before mm[a:b] (cold)",
            s.resident_before,
            Unit::Fraction,
        );
        report.measure(
            "python.slice.resident_after",
            "Python: slice pages in RAM after mm[a:b]",
            s.resident_after,
            Unit::Fraction,
        );
    }

    // [4.zero] verdict: the map covers the whole file, found `magic` near its end; and the
    // empty file.
    let rust_whole = rust_len == size && rust.file_len as f64 == size && rust_at == expected;
    let empty_note = if empty_rust == 1.0 {
        format!(
            "memmap2 maps an empty file to {} bytes",
            report.value("empty.rust_map_len").unwrap_or(0.0)
        )
    } else {
        "memmap2 refused to map an empty file".to_string()
    };
    let len0_note = if len0 >= 0.0 {
        format!(
            "in memmap2 the whole file is *no* length: an explicit len(0) mapped {}",
            size::fmt_f64(len0)
        )
    } else {
        "memmap2 refused an explicit len(0)".to_string()
    };
    let py_whole = py_snippet.as_ref().map(|py| {
        py.map_len as f64 == size && py.file_len as f64 == size && py.found as f64 == expected
    });
    let py_empty = py_slice.as_ref().map(|s| s.empty.clone());
    let py_empty_raised = py_empty.as_ref().map(|empty| {
        report.measure(
            "empty.python_raised",
            "Python: mmap of an empty file raised (1 = yes)",
            f64::from(u8::from(empty.is_err())),
            Unit::Count,
        )
    });
    let verdict = if !rust_whole || py_whole == Some(false) {
        Verdict::Fails
    } else if py_empty_raised == Some(1.0) && empty_rust == 1.0 {
        Verdict::Depends
    } else {
        Verdict::Holds
    };
    let whole = if rust_whole && py_whole != Some(false) {
        "is the whole file"
    } else {
        "is NOT the whole file"
    };
    let whole_text = match &py_snippet {
        Some(py) => format!(
            "for a non-empty file `0` {whole}: Python's len(mm) = {} and memmap2's map (no \
             length) = {} for a {}-byte file, and Python found `magic` at {}, Rust at \
             {rust_at}",
            py.map_len, rust.map_len, rust.file_len, py.found
        ),
        None => format!(
            "for a non-empty file no length {whole}: memmap2 mapped {} of a {}-byte file and \
             found `magic` at {rust_at}; Python's `0` was not checked (python3 not run)",
            rust.map_len, rust.file_len
        ),
    };
    let empty_text = match &py_empty {
        Some(Err(msg)) => format!(
            "an empty file is the exception: Python raised ValueError(\"{msg}\") where \
             {empty_note}"
        ),
        Some(Ok(n)) => format!("an empty file: Python mapped it to {n} bytes and {empty_note}"),
        None => format!("{empty_note}; Python's empty-file case was not checked"),
    };
    let why = format!(
        "{whole_text} (put at {expected}, {:.0} % of the way in); {empty_text}; and {len0_note}",
        100.0 * expected / size
    );
    let mut evidence = vec![
        "file.size",
        "magic.offset",
        "rust.map_len",
        "rust.find_offset",
    ];
    if py_snippet.is_some() {
        evidence.extend(["python.map_len", "python.file_len", "python.find_offset"]);
    }
    evidence.extend([
        "empty.rust_mapped",
        "empty.rust_map_len",
        "len0.rust_map_len",
    ]);
    if report.value("empty.python_raised").is_some() {
        evidence.push("empty.python_raised");
    }
    evidence.retain(|e| report.value(e).is_some());
    report.claim("4.zero", verdict, why, &evidence);

    // [4.slice] verdict. A view: making it on the cold map read none of its pages, and
    // reading through it brought them in as file-backed memory (the page cache's own pages)
    // with no anonymous copy — the RSS checks only where the platform reports RSS.
    let made_nothing = res_before < 0.1;
    let read_in_place = res_after > 0.9
        && read_file.is_none_or(|f| f >= 0.9 * slice_len)
        && read_anon.is_none_or(|n| n < slice_len / 16.0);
    let rust_view = made_nothing && read_in_place;
    let py_copies = py_slice.as_ref().map(|s| s.slice_alloc >= 0.9 * slice_len);
    let went_to_disk = cold_disk.map_or(res_after - res_before > 0.5, |d| d > 0.0);
    let warm_cached = warm_disk.map(|d| d < slice_len / 16.0);
    let verdict = if !rust_view && py_copies != Some(false) {
        Verdict::Fails
    } else if rust_view && py_copies != Some(true) && !went_to_disk {
        Verdict::Holds
    } else {
        Verdict::Depends
    };

    let rss_text = match (read_file, read_anon) {
        (Some(f), Some(n)) => format!(
            " and added {} of file-backed RSS and {} of anonymous memory",
            size::fmt_f64(f),
            size::fmt_f64(n)
        ),
        _ => " (RSS is not reported here, so its kind was not checked)".to_string(),
    };
    let rust_text = format!(
        "a Rust slice &map[a..b] {}: right after slicing the cold map {} of its pages were in \
         RAM; reading through it took that to {}{rss_text}{}",
        if rust_view {
            "is a view"
        } else {
            "did NOT behave as a view"
        },
        Unit::Fraction.format(res_before),
        Unit::Fraction.format(res_after),
        vec_rss.map_or(String::new(), |v| format!(
            ", while slice.to_vec(), a copy, added {} of RSS",
            size::fmt_f64(v)
        )),
    );
    let py_text = match (&py_slice, py_copies) {
        (Some(s), Some(copies)) => format!(
            "a Python slice mm[a:b] {}: a new {} object that allocated {} for a {} slice (its \
             pages in RAM: {} before the script, {} after), while memoryview(mm)[a:b] \
             allocated {}",
            if copies {
                "is a COPY"
            } else {
                "is not a copy here"
            },
            s.slice_type,
            size::fmt_f64(s.slice_alloc),
            size::fmt_f64(slice_len),
            Unit::Fraction.format(s.resident_before),
            Unit::Fraction.format(s.resident_after),
            size::fmt_f64(s.view_alloc)
        ),
        _ => "Python's slice was not checked (python3 not run)".to_string(),
    };
    let bytes_text = |d: Option<f64>| {
        d.map_or(
            "an uncounted amount (no /proc/self/io here)".into(),
            size::fmt_f64,
        )
    };
    let readahead = match cold_disk {
        Some(d) if d > slice_len => format!(
            "more than the slice: readahead reads around and past it{}; ",
            lab.machine
                .read_ahead_kb
                .map_or(String::new(), |kb| format!(
                    ", read_ahead_kb here: {}",
                    size::fmt(kb * 1024)
                ))
        ),
        _ => String::new(),
    };
    let cold_text = format!(
        "after eviction, reading the {} slice through the view read {} from disk ({readahead}\
         {cold_faults} page faults, {}, slice pages in RAM {} → {})",
        size::fmt_f64(slice_len),
        bytes_text(cold_disk),
        Unit::Seconds.format(cold_time),
        Unit::Fraction.format(res_before),
        Unit::Fraction.format(res_after),
    );
    let warm_text = format!(
        "the same read from the page cache read {} ({})",
        bytes_text(warm_disk),
        Unit::Seconds.format(warm_time),
    );
    let disk_text = match (went_to_disk, warm_cached) {
        (true, Some(true)) => format!(
            "and \"not disk\" holds only for pages already in the page cache: {cold_text}, \
             {warm_text}"
        ),
        (true, Some(false)) => {
            format!("and \"not disk\" held neither cold nor warm: {cold_text}, and {warm_text}")
        }
        (true, None) => format!(
            "and \"not disk\" does not hold for pages outside the page cache: {cold_text}; \
             {warm_text}"
        ),
        (false, _) => {
            format!("and \"not disk\" held even after eviction: {cold_text}; {warm_text}")
        }
    };
    let mut evidence = vec!["slice.len"];
    if py_slice.is_some() {
        evidence.extend([
            "python.slice.is_bytes",
            "python.slice.alloc",
            "python.view.alloc",
            "python.slice.resident_before",
            "python.slice.resident_after",
        ]);
    }
    evidence.extend([
        "rust.cold_read.resident_before",
        "rust.cold_read.resident_after",
        "rust.cold_read.rss_file_growth",
        "rust.cold_read.rss_anon_growth",
        "rust.to_vec.rss_growth",
        "rust.cold_read.disk_bytes",
        "rust.cold_read.faults",
        "rust.cold_read.time",
        "rust.warm_read.disk_bytes",
        "rust.warm_read.time",
    ]);
    evidence.retain(|e| report.value(e).is_some());
    report.claim(
        "4.slice",
        verdict,
        format!("{rust_text}; {py_text}; {disk_text}"),
        &evidence,
    );

    report.try_next("just lesson 4 --cold   (both snippets read the file from disk)");
    report.try_next("just lesson 8   (mmap + struct: reading records without the copy)");
    Ok(report)
}

/// Where the generator puts `magic`: 7/8 of the way into the file, at the start of a line.
fn magic_offset(size: u64) -> u64 {
    size - size / 8
}

/// Log lines with one line holding `magic`, at [`magic_offset`].
fn fill_log_with_magic(out: &mut dyn Write, size: u64) -> io::Result<()> {
    let at = magic_offset(size);
    write_log(out, at, 4)?;
    out.write_all(MAGIC_LINE)?;
    write_log(out, size - at - MAGIC_LINE.len() as u64, 5)
}

/// What one run of the snippet saw.
#[derive(Debug)]
struct Found {
    first: Vec<u8>,
    found: Option<usize>,
    map_len: usize,
    file_len: u64,
}

// ANCHOR: snippet
/// The notes' snippet in Rust: map the whole file (no length, like Python's `0`), take the
/// first 100 bytes, find `magic`.
fn snippet(path: &Path) -> anyhow::Result<Found> {
    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    // SAFETY: the sample is this lesson's own file; nothing writes or truncates it while it
    // is mapped.
    let mm = unsafe { Mmap::map(&file) }.context("mmap")?;
    let first = mm[..mm.len().min(100)].to_vec();
    let found = memchr::memmem::find(&mm, NEEDLE);
    Ok(Found {
        first,
        found,
        map_len: mm.len(),
        file_len: file.metadata()?.len(),
    })
}
// ANCHOR_END: snippet

/// Maps the lesson's own sample file read-only.
fn map_sample(path: &Path) -> anyhow::Result<Mmap> {
    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    // SAFETY: the sample is this lesson's own file; nothing writes or truncates it while it
    // is mapped.
    unsafe { Mmap::map(&file) }.context("mmap")
}

/// The difference of two `disk_read_bytes` readings, recorded; `None` where the platform
/// cannot count (then nothing is recorded).
fn disk_delta(
    report: &mut Report,
    name: &str,
    label: &str,
    before: Option<u64>,
    after: Option<u64>,
) -> Option<f64> {
    let (before, after) = (before?, after?);
    Some(report.measure(
        name,
        label,
        after.saturating_sub(before) as f64,
        Unit::Bytes,
    ))
}

/// The Python snippet's runs.
#[derive(Debug)]
struct PySnippet {
    first: String,
    found: i64,
    map_len: u64,
    file_len: u64,
    /// Median seconds inside Python (perf_counter).
    inner: f64,
    /// Median seconds of the whole process.
    process: f64,
}

/// Runs the notes' snippet `lab.runs` times (each cold with `--cold`).
fn run_py_snippet(py: &Path, path: &Path, lab: &Lab) -> anyhow::Result<PySnippet> {
    let mut inner = Vec::new();
    let mut process = Vec::new();
    let mut last = None;
    for _ in 0..lab.runs {
        lab.prepare(path)?;
        let (out, wall) = run_python(py, PY_SNIPPET, &[path.as_os_str()])?;
        let mut lines = out.lines();
        let mut next = || {
            lines
                .next()
                .context("python printed fewer lines than expected")
        };
        let first = next()?.to_string();
        let found: i64 = next()?.trim().parse().context("mm.find output")?;
        let (m, f) = next()?
            .split_once(' ')
            .context("len(mm) and st_size output")?;
        let seconds: f64 = next()?.trim().parse().context("timing output")?;
        inner.push(Duration::from_secs_f64(seconds));
        process.push(wall);
        last = Some((first, found, m.parse()?, f.parse()?));
    }
    let (first, found, map_len, file_len) = last.context("no run of the Python snippet")?;
    Ok(PySnippet {
        first,
        found,
        map_len,
        file_len,
        inner: median(&inner),
        process: median(&process),
    })
}

/// What the Python slice script found.
#[derive(Debug)]
struct PySlice {
    slice_type: String,
    slice_alloc: f64,
    slice_seconds: f64,
    view_alloc: f64,
    resident_before: f64,
    resident_after: f64,
    /// `Ok(len)` when Python mapped the empty file, `Err(message)` when it raised.
    empty: Result<u64, String>,
}

/// Evicts the sample, runs [`PY_SLICE`] and measures the slice's residency around it.
fn run_py_slice(
    lab: &Lab,
    py: &Path,
    path: &Path,
    empty: &Path,
    a: u64,
    b: u64,
) -> anyhow::Result<PySlice> {
    lab.make_cold(path)?;
    let map = map_sample(path)?;
    let range = &map[a as usize..b as usize];
    let resident_before = cache::residency(range)?.fraction();
    let (out, _) = run_python(
        py,
        PY_SLICE,
        &[
            path.as_os_str(),
            OsStr::new(&a.to_string()),
            OsStr::new(&b.to_string()),
            empty.as_os_str(),
        ],
    )?;
    let resident_after = cache::residency(range)?.fraction();
    let field = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .with_context(|| format!("python printed no {key}"))
    };
    let number = |key: &str| -> anyhow::Result<f64> {
        field(key)?
            .trim()
            .parse()
            .with_context(|| format!("python's {key}"))
    };
    let empty = match field("empty_error") {
        Ok(msg) => Err(msg.to_string()),
        Err(_) => Ok(number("empty_len")? as u64),
    };
    Ok(PySlice {
        slice_type: field("slice_type")?.to_string(),
        slice_alloc: number("slice_alloc")?,
        slice_seconds: number("slice_seconds")?,
        view_alloc: number("view_alloc")?,
        resident_before,
        resident_after,
        empty,
    })
}

/// Runs `python3 -c SCRIPT ARGS...`; returns its stdout and the whole process's wall time.
fn run_python(py: &Path, script: &str, args: &[&OsStr]) -> anyhow::Result<(String, Duration)> {
    let t0 = Instant::now();
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .with_context(|| format!("run {}", py.display()))?;
    let wall = t0.elapsed();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "{} exited with {}: {}",
            py.display(),
            out.status,
            stderr.lines().last().unwrap_or("")
        );
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), wall))
}

/// The median of some durations, in seconds.
fn median(times: &[Duration]) -> f64 {
    let mut t = times.to_vec();
    t.sort_unstable();
    t.get(t.len().saturating_sub(1) / 2)
        .map_or(f64::NAN, Duration::as_secs_f64)
}

/// How Python prints a `bytes` object (`repr`), so Rust's first 100 bytes can be compared
/// with the line the notes' `print(mm[:100])` writes.
fn python_bytes_repr(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = format!("b{quote}");
    for &c in bytes {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            _ if char::from(c) == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push(quote);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the notes' snippet is in the script we run, except the file name,
    /// which comes from argv.
    #[test]
    fn the_python_snippet_is_the_notes_snippet() {
        let notes = include_str!("../../../notes/mmap-notes.en.md");
        let section = &notes[notes.find("## 4.").unwrap()..];
        let code = &section[section.find("```python\n").unwrap() + 10..];
        let code = &code[..code.find("```").unwrap()];
        let ours: Vec<&str> = PY_SNIPPET.lines().collect();
        for line in code.lines().filter(|l| !l.trim().is_empty()) {
            if line.contains("\"data.bin\"") {
                let line = line.replace("\"data.bin\"", "sys.argv[1]");
                assert!(ours.contains(&line.as_str()), "{line}");
            } else {
                assert!(ours.contains(&line), "missing from PY_SNIPPET: {line}");
            }
        }
    }

    #[test]
    fn bytes_print_like_python() {
        assert_eq!(python_bytes_repr(b"ab\n"), r"b'ab\n'");
        assert_eq!(python_bytes_repr(b"it's"), r#"b"it's""#);
        assert_eq!(python_bytes_repr(b"'\"\\\x00\xff"), r#"b'\'"\\\x00\xff'"#);
    }

    #[test]
    fn magic_sits_where_the_generator_says() {
        let mut out = Vec::new();
        fill_log_with_magic(&mut out, 1 << 20).unwrap();
        assert_eq!(out.len(), 1 << 20);
        assert_eq!(
            memchr::memmem::find(&out, NEEDLE),
            Some(magic_offset(1 << 20) as usize)
        );
    }
}
