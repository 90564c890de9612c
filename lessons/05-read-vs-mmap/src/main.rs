//! Lesson 5 · mmap vs read(). Section 5 of the notes is a table: read() uses much RAM, is slow
//! at random access and to start, gets no OS help, has trouble with big files; mmap the opposite
//! — hence "big file = mmap". Every row is measured with both sides done well, warm and cold.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use experiments::{BUF, PLAIN_READS, PYTHON, PythonOut, SCANS, Way};
use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::lab::Entry;
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Rate, Secs};
use mmap_lab::{Lab, Lesson, attempt, cache, measure, need};
use verdicts::{Context, Os, Random, Rule, Startup};

const LESSON: Lesson = Lesson {
    number: 5,
    title: "mmap vs read() — the real difference",
    about: "Measures every row of the notes' read() vs mmap table with both sides done well: \
            fs::read, a read() loop and pread against mmap (plain, populate, advise), against \
            the ceiling of a resident Vec, warm and cold. --cold runs every scan cold.",
    default_size: 256 << 20,
};

/// Random 8-byte reads per cached run.
const WARM_READS: usize = 50_000;
/// Random 8-byte reads per cold run (each may wait for the disk).
const COLD_READS: usize = 256;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size(2 * experiments::READAHEAD_PROBE as u64)?;
    // Each buffer a row allocates must show in its RSS, not come from resident heap pages.
    if !measure::fresh_big_allocations() {
        lab.note("this C library may reuse resident heap pages, so a repeated RSS reads low");
    }
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    lab.param("buffer_bytes", BUF);
    lab.param("random_reads", WARM_READS);
    lab.param("cold_random_reads", COLD_READS);
    let fits = measure::fits_in_ram(lab.size, 1);
    if let Err(why) = &fits {
        lab.note(format!("fs::read and the notes' f.read() skipped: {why}"));
    }

    // Can the file be made cold here? If not, every claim that needs a cold run says why.
    let left = attempt(|| lab.make_cold(&path))?;
    let mut rng = fastrand::Rng::with_seed(5);
    let offsets: Vec<u64> = (0..WARM_READS).map(|_| rng.u64(0..=lab.size - 8)).collect();
    // The cold rows first (--cold: every scan), each run on a freshly evicted file, then warm.
    let warm = &SCANS[usize::from(fits.is_err())..];
    let on_disk = if lab.cold { warm } else { &SCANS[1..3] };
    let cold = attempt(|| {
        let scans = experiments::scans(lab, &path, on_disk, true)?;
        let small = experiments::small(lab, &path, &offsets[..COLD_READS], true)?;
        Ok((scans, small))
    })?;
    let warm_resident = Fraction(cache::warm(&path, 0..lab.size)?.fraction());
    let rows = experiments::scans(lab, &path, warm, false)?;
    let script = [path.as_os_str()];
    let python = || lab.python::<PythonOut>("the notes' Python", PYTHON, &script);
    let py = fits.is_ok().then(python).flatten().map(|p| p.out);
    let ram = attempt(|| experiments::ram(lab, &path, &rows, py.as_ref()))?;
    let w = experiments::small(lab, &path, &offsets, false)?;

    let sums: Vec<u64> = (rows.0.iter().chain(cold.iter().flat_map(|c| &c.0.0)))
        .flat_map(|(_, runs)| runs.iter().map(|e| e.out.0))
        .collect();
    let context = Context {
        warm: rows.times(),
        cold: cold.as_ref().ok().map(|c| c.0.times()),
        left_after_evict: left.as_ref().ok().map(|r| Fraction(r.fraction())),
        warm_resident,
        same_checksums: Flag(sums.iter().all(|&s| s == sums[0])),
    };
    lab.record("run", &context);

    // [5.ram] "RAM usage: read() high, mmap minimal"
    lab.check_if("5.ram", verdicts::ram, need(&ram).cloned())?;

    // [5.random] "random access: read() slow, mmap fast" (rows: see `experiments::small`)
    let random = cold.as_ref().map_err(Clone::clone).map(|(_, c)| {
        let same =
            |runs: &[Vec<Entry<u64>>]| runs.iter().flatten().all(|e| e.out == runs[0][0].out);
        let (n, k) = (WARM_READS as f64, COLD_READS as f64);
        Random {
            warm_pread: Entry::times(&w[2], n),
            warm_mmap: Entry::times(&w[3], n),
            warm_mapped: Entry::times(&w[4], n),
            cold_pread: Entry::times(&c[2], k),
            cold_mmap_random: Entry::times(&c[3], k),
            cold_mmap: Entry::times(&c[5], PLAIN_READS as f64),
            cold_pread_cached: Entry::cached_median(&c[2]),
            cold_mmap_random_cached: Entry::cached_median(&c[3]),
            cold_mmap_cached: Entry::cached_median(&c[5]),
            cold_mmap_major_faults: Count::of(c[5][0].sample.majflt),
            same_words: Flag(same(&w[2..5]) && same(&c[2..4])),
        }
    });
    lab.check_if("5.random", verdicts::random, need(&random).cloned())?;

    // [5.startup] "startup time: read() slow, mmap fast"
    let startup = need(&cold).map(|(cs, c)| Startup {
        read_all: Some(rows.first(Way::ReadAll)).filter(|s| s.runs > 0),
        loop_warm: rows.first(Way::Loop),
        loop_cold: cs.first(Way::Loop),
        pread_warm: Entry::times(&w[0], 1.0),
        mmap_warm: Entry::times(&w[1], 1.0),
        pread_cold: Entry::times(&c[0], 1.0),
        mmap_cold: Entry::times(&c[1], 1.0),
        python_read_all: py.as_ref().map(|p| Secs(p.read_all)),
        python_mmap: py.as_ref().map(|p| Secs(p.mmap_first)),
    });
    lab.check_if("5.startup", verdicts::startup, startup)?;

    // [5.os] "OS optimisation: read() none, mmap yes"
    let os = need(&cold).map(|(cs, c)| Os {
        asked: Bytes::of(experiments::READAHEAD_PROBE as u64),
        read_by_kernel: Entry::cached_median(&c[4]),
        window: lab.machine.read_ahead_kb.map(|kb| Bytes::of(kb * 1024)),
        kept: Fraction(Entry::cached_median(cs.get(Way::Loop)).0 / lab.size as f64),
        mmap_fault: Entry::cached_median(&c[1]),
    });
    lab.check_if("5.os", verdicts::os, os)?;

    // [5.big] "big file: read() a problem, mmap ideal"
    let big = need(&ram).and_then(|ram| experiments::larger_than_ram(lab, ram));
    lab.check_if("5.big", verdicts::big, big)?;

    // [5.rule] "big file = mmap"
    let rule = need(&cold).and_then(|(cs, _)| {
        Ok(Rule {
            file: Bytes::of(lab.size),
            ceiling: Rate(rows.1),
            scan_warm_loop: rows.time(Way::Loop),
            scan_warm_mmap: rows.time(Way::Seq),
            scan_cold_loop: cs.time(Way::Loop),
            scan_cold_mmap: cs.time(Way::Seq),
            random: need(&random)?.clone(),
        })
    });
    lab.check_if("5.rule", verdicts::rule, rule)?;

    lab.try_next("just lesson 5 --cold   (every scan from disk too)");
    lab.try_next("just lesson 5 --size 2G --runs 1   (a file 8× bigger)");
    lab.try_next("just lessons   (what the other sections of the notes claim)");
    Ok(())
}
