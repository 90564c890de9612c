//! Lesson 1 · The problem: where plain file I/O falls short.
//!
//! The notes open with `data = f.read()` and blame it for four things. One task, adding up
//! the 10 MiB in the middle of a file of `--size` and of one a quarter of it, is done three
//! ways: `fs::read` of it all (and the notes' Python `f.read()`), seek + read of the slice,
//! a map touched at the slice. Then random 8-byte reads: pread, a map, the Vec of fs::read.
//! Files over 1 GiB are sparse; a whole-file read over the read budget is skipped.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::{self, system_memory};
use mmap_lab::quantity::{Bytes, Flag, Fraction, Secs};
use mmap_lab::{BadInput, Lab, Lesson, NotMeasured, cache, need, not_measured, size};

use verdicts::{Ram, Slope, Way, Whole};

const LESSON: Lesson = Lesson {
    number: 1,
    title: "The problem: where plain file I/O falls short",
    about: "Uses 10 MiB of a file by reading it whole (fs::read, Python's f.read()), by seek + \
            read, and by a map, at two sizes; then random reads with pread, a map and a Vec.",
    default_size: 256 << 20,
};

/// "You need only 10 MB of it": the slice the task uses (a quarter of small files).
const SLICE: u64 = 10 << 20;
/// The smallest `--size`: its quarter file still spans a few hundred pages.
const MIN_SIZE: u64 = 4 << 20;
/// The largest: a sparse file needs no disk, but a map needs address space.
const MAX_SIZE: u64 = 1 << 40;
/// Files up to this size hold random bytes; larger ones are sparse.
const RANDOM_MAX: u64 = 1 << 30;

/// The notes' snippet, measured: how far peak RSS rose above the RSS before it (from /proc:
/// `ru_maxrss` would start at this process's own peak, inherited across exec), and its time.
const PYTHON_READ: &str = r#"
import json, sys, time
def mem(key):
    return next(int(l.split()[1]) << 10 for l in open("/proc/self/status") if l.startswith(key))
before, t0 = mem("VmRSS:"), time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = f.read()
print(json.dumps({"secs": time.perf_counter() - t0, "peak_growth": mem("VmHWM:") - before}))
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
    let (size, max) = (size::fmt(lab.size), size::fmt(MAX_SIZE));
    let too_big = format!("--size {size} is more than lesson 1 accepts ({max}), even sparse");
    anyhow::ensure!(lab.size <= MAX_SIZE, BadInput(too_big));
    lab.require_size(MIN_SIZE)?;
    if !measure::fresh_big_allocations() {
        lab.note("this C library may reuse resident heap pages: RSS growth can read low");
    }
    // The RAM claims rest on peak RSS: NOT MEASURED where this platform reports none.
    let no_peak = NotMeasured("this platform reports no peak RSS (/proc/self/status)".into());
    let rss = measure::probe(|| ()).1.peak_rss.ok_or(no_peak);
    // The read budget: --read-budget, held to half of the RAM available (1 GiB if unknown).
    let cap = system_memory().map_or(RANDOM_MAX, |m| m.available / 2);
    let (budget, from_flag) = (args.read_budget.min(cap), args.read_budget <= cap);
    let why = ["half of the RAM available", "--read-budget"][usize::from(from_flag)];
    let over = format!("over the read budget of {} ({why})", size::fmt(budget));
    let (sizes, sparse) = ([lab.size / 4, lab.size], lab.size > RANDOM_MAX);
    let content = [Content::Random { seed: 1 }, Content::Sparse][usize::from(sparse)];
    // Both files at once: the disk they need together is checked before either is written.
    let paths = lab.files(sizes.map(|s| Spec::new("sample", s, content)).to_vec())?;
    let page = cache::page_size() as u64;
    let len = (SLICE.min(sizes[0]) / page * page).max(page);
    let fits = sizes.map(|s| s <= budget);
    lab.param("sparse", sparse);
    lab.param("read_budget_bytes", budget);
    lab.param("read_whole_quarter", fits[0]);
    lab.param("read_whole_full", fits[1]);
    if sparse {
        lab.note("files over 1 GiB are sparse: cold reads show zero-filling, not the disk");
    }
    for s in sizes.into_iter().filter(|&s| s > budget).map(size::fmt) {
        let why = format!("fs::read of the {s} file skipped: its Vec alone needs {s}, {over}");
        lab.note(why);
    }

    // The task, three ways, on the quarter file and on the full one (its Vec serves [1.random]).
    let quarter = experiments::task(lab, &paths[0], len, fits[0])?.0;
    let (full, vec) = experiments::task(lab, &paths[1], len, fits[1])?;

    // [1.whole] "the file is loaded into RAM in full": the larger file that was read whole.
    let i = usize::from(fits[1]);
    let whole = match [&quarter, &full][i].whole {
        Some(read) => {
            let cached = Fraction(cache::file_residency(&paths[i])?.fraction());
            lab.prepare(&paths[i])?;
            let args = [paths[i].as_os_str()];
            let py = lab.python::<PyRead>("the notes' f.read()", PYTHON_READ, &args);
            need(&rss).map(|_| Whole {
                file: Bytes::of(sizes[i]),
                peak_growth: read.peak_growth,
                cached,
                python: py.as_ref().map(|p| Bytes(p.out.peak_growth)),
                python_time: py.map(|p| Secs(p.out.secs)),
            })
        }
        None => {
            let remedy = match from_flag {
                true => format!("--read-budget {}M or more", sizes[0].div_ceil(1 << 20)),
                false => "a smaller --size".into(),
            };
            let quarter = size::fmt(sizes[0]);
            let why = format!("the quarter file ({quarter}) is {over}; {remedy} would measure it");
            Err(not_measured(format!("nothing was read whole: {why}")))
        }
    };
    lab.check_if("1.whole", verdicts::whole, whole)?;

    // [1.ram] "big file → big RAM": each way's growth from the quarter file to the full one.
    let slope = |q: Way, f: Way| Slope::new(sizes, q.peak_growth, f.peak_growth);
    let ram = need(&rss).map(|_| Ram {
        whole: quarter.whole.zip(full.whole).map(|(q, f)| slope(q, f)),
        seek: slope(quarter.seek, full.seek),
        map: slope(quarter.map, full.map),
        budget: Bytes::of(budget),
        budget_is_flag: Flag(from_flag),
    });
    lab.check_if("1.ram", verdicts::ram, ram)?;

    // [1.random] "random access is slow"
    let random = experiments::random(lab, &paths[1], vec.as_deref())?;
    lab.check("1.random", verdicts::random, &random);

    // [1.waste] "a 10 GB file, you need only 10 MB of it → a waste of resources"
    lab.check_if("1.waste", verdicts::waste, need(&rss).map(|_| full))?;

    lab.try_next("just lesson 1 --size 64G   (sparse, over the read budget: no fs::read)");
    lab.try_next("just lesson 1 --cold   (every step starts with the file evicted)");
    lab.try_next("just lesson 2   (the idea of mmap: a file that looks like memory)");
    Ok(())
}
