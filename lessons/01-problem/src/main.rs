//! Lesson 1 · The problem: where plain file I/O falls short.
//!
//! The notes open with `data = f.read()` and blame it for four things. One task — add up the
//! bytes of the 10 MiB slice in the middle of a file — is done three ways on two files (a
//! quarter of `--size`, and `--size`): read the whole file with `fs::read` (and the notes'
//! own Python `f.read()`), seek to the slice and read only it, map the file and touch only
//! the slice. Then random 8-byte reads: pread, a map, and the Vec `fs::read` filled.
//!
//! Files up to 1 GiB hold random bytes; larger ones are sparse (`--size 64G` costs no disk).
//! A whole-file read over the read budget is skipped with a note instead of exhausting RAM.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::{self, system_memory};
use mmap_lab::quantity::{Bytes, Flag, Secs};
use mmap_lab::{BadInput, Lab, Lesson, cache, not_measured, size};

use verdicts::{Ram, Slope, Waste, Whole};

const LESSON: Lesson = Lesson {
    number: 1,
    title: "The problem: where plain file I/O falls short",
    about: "Reads a file whole with fs::read (and Python's f.read()), reads only a 10 MiB slice \
            with seek + read, and maps it and touches the slice, at two file sizes: the RAM, \
            page cache and time of each. Then random 8-byte reads with pread, a map and the \
            Vec. Files above 1 GiB are sparse (no disk used); --size goes up to 1 TiB.",
    default_size: 256 << 20,
};

/// "You need only 10 MB of it": the slice the task uses (a quarter of small files).
const SLICE: u64 = 10 << 20;
/// The smallest `--size`: its quarter file still spans a few hundred pages.
const MIN_SIZE: u64 = 4 << 20;
/// The largest: a sparse file needs no disk, but a map needs address space (and ext4 stops
/// at 16 TiB).
const MAX_SIZE: u64 = 1 << 40;
/// Files up to this size hold random bytes; larger ones are sparse.
const RANDOM_MAX: u64 = 1 << 30;

/// The notes' snippet, measured: how far peak RSS rose above the RSS before it (from
/// /proc: `ru_maxrss` would start at this process's own peak, inherited across exec), and
/// its time.
const PYTHON_READ: &str = r#"
import json, resource, sys, time
def mem(key):
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) << 10 for line in f if line.startswith(key))
    except OSError:  # no /proc (macOS): the peak so far, in bytes there
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
before, t0 = mem("VmRSS:"), time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = f.read()
secs = time.perf_counter() - t0
print(json.dumps({"peak_growth": mem("VmHWM:") - before, "secs": secs}))
"#;

/// What the Python snippet printed.
#[derive(Debug, serde::Deserialize)]
struct PyRead {
    peak_growth: f64,
    secs: f64,
}

#[derive(Debug, clap::Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// The most RAM a whole-file read (fs::read, Python's f.read()) may take; a bigger file
    /// is not read whole. Never more than half of the RAM available
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_budget)]
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
        r => r.map_err(|e| e.to_string()),
    }
}

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    if lab.size > MAX_SIZE {
        let (size, max) = (size::fmt(lab.size), size::fmt(MAX_SIZE));
        let why = "even a sparse file that large strains filesystem limits";
        Err(BadInput(format!(
            "--size {size} is more than lesson 1 accepts ({max}): {why}"
        )))?;
    }
    lab.require_size(MIN_SIZE)?;
    if !measure::fresh_big_allocations() {
        lab.note("this C library may reuse resident heap pages: RSS growth can read low");
    }
    // The read budget: --read-budget, held to half of the RAM available (1 GiB if unknown).
    let cap = system_memory().map_or(RANDOM_MAX, |m| m.available / 2);
    let (budget, from_flag) = (args.read_budget.min(cap), args.read_budget <= cap);
    let why = if from_flag {
        "--read-budget"
    } else {
        "half of the RAM available"
    };
    let sizes = [lab.size / 4, lab.size];
    let sparse = lab.size > RANDOM_MAX;
    let content = if sparse {
        Content::Sparse
    } else {
        Content::Random { seed: 1 }
    };
    // Both files at once: the disk they need together is checked before either is written.
    let paths = lab.files(sizes.map(|s| Spec::new("sample", s, content)).to_vec())?;
    let page = cache::page_size() as u64;
    let len = (SLICE.min(sizes[0]) / page * page).max(page);
    let slices = sizes
        .map(|s| (s - len) / 2 / page * page)
        .map(|at| at as usize..(at + len) as usize);
    let fits = sizes.map(|s| s <= budget);
    lab.param("sparse", sparse);
    lab.param("read_budget_bytes", budget);
    lab.param("read_whole_quarter", fits[0]);
    lab.param("read_whole_full", fits[1]);
    if sparse {
        lab.note(
            "files above 1 GiB are sparse: every byte reads as zero from no disk block, so \
             cold numbers show the kernel zero-filling pages, not disk speed",
        );
    }
    for s in sizes.into_iter().filter(|&s| s > budget).map(size::fmt) {
        let b = size::fmt(budget);
        lab.note(format!(
            "fs::read of the {s} file skipped: its Vec alone needs {s}, over the \
             read budget of {b} ({why})"
        ));
    }

    // The task, three ways, on the quarter file and on the full one (its Vec serves [1.random]).
    let quarter = experiments::task(lab, &paths[0], &slices[0], fits[0])?;
    let full = experiments::task(lab, &paths[1], &slices[1], fits[1])?;

    // [1.whole] "the file is loaded into RAM in full": the larger file that was read whole.
    let read = [(&full, 1), (&quarter, 0)]
        .into_iter()
        .find_map(|(p, i)| Some((p.whole?, i)));
    let whole = match read {
        Some(((way, cached), i)) => {
            lab.prepare(&paths[i])?;
            let py =
                lab.python::<PyRead>("the notes' f.read()", PYTHON_READ, &[paths[i].as_os_str()]);
            let (file, peak_growth) = (Bytes::of(sizes[i]), way.peak_growth);
            let (python, python_time) = py
                .map(|p| (Bytes(p.out.peak_growth), Secs(p.out.secs)))
                .unzip();
            peak_rss().map(|()| Whole {
                file,
                peak_growth,
                cached,
                python,
                python_time,
            })
        }
        None => {
            let more = format!("--read-budget {}M or more", sizes[0].div_ceil(1 << 20));
            let remedy = if from_flag {
                more.as_str()
            } else {
                "a smaller --size"
            };
            let quarter = size::fmt(sizes[0]);
            Err(not_measured(format!(
                "nothing was read whole: the quarter file ({quarter}) is \
                 over the read budget ({why}); {remedy} would measure it"
            )))
        }
    };
    lab.check_if("1.whole", verdicts::whole, whole)?;

    // [1.ram] "big file → big RAM": each way's growth from the quarter file to the full one.
    let growth = |p: &experiments::Point| p.whole.map(|(w, _)| w.peak_growth);
    let ram = peak_rss().map(|()| Ram {
        quarter: Bytes::of(sizes[0]),
        full: Bytes::of(sizes[1]),
        whole: growth(&quarter)
            .zip(growth(&full))
            .map(|(q, f)| Slope::new(sizes, q, f)),
        seek: Slope::new(sizes, quarter.seek.peak_growth, full.seek.peak_growth),
        map: Slope::new(sizes, quarter.map.peak_growth, full.map.peak_growth),
        budget: Bytes::of(budget),
        budget_is_flag: Flag(from_flag),
    });
    lab.check_if("1.ram", verdicts::ram, ram)?;

    // [1.random] "random access is slow"
    let random = experiments::random(lab, &paths[1], full.vec.as_deref())?;
    lab.check("1.random", verdicts::random, &random);

    // [1.waste] "a 10 GB file, you need only 10 MB of it → a waste of resources"
    let (slice, file, whole) = (Bytes::of(len), Bytes::of(lab.size), full.whole.map(|w| w.0));
    let waste = peak_rss().map(|()| Waste {
        slice,
        file,
        whole,
        map: full.map,
        seek: full.seek,
    });
    lab.check_if("1.waste", verdicts::waste, waste)?;

    lab.try_next(
        "just lesson 1 --size 64G   (sparse, over the read budget: fs::read is \
         skipped, the map still touches 10 MiB)",
    );
    lab.try_next("just lesson 1 --cold   (every step starts with the file evicted)");
    lab.try_next("just lesson 2   (the idea of mmap: a file that looks like memory)");
    Ok(())
}

/// The RAM claims rest on peak RSS: NOT MEASURED where this platform reports none.
fn peak_rss() -> anyhow::Result<()> {
    let why = "this platform reports no peak RSS (/proc/self/status, clear_refs)";
    measure::probe(|| ())
        .1
        .peak_rss
        .map(|_| ())
        .ok_or_else(|| not_measured(why))
}
