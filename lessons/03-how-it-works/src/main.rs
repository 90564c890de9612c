//! Lesson 3 · How mmap works: pages come into RAM when touched and leave when evicted.
//!
//! Touch pages of the evicted sample under each advice [3.page-4k] [3.in], evict them
//! [3.out], and time random reads cold, cached and mapped [3.lazy] [3.therefore].

mod experiments;
mod verdicts;

use std::process::ExitCode;

use anyhow::Context;
use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Pages, Ratio};
use mmap_lab::{Lab, Lesson, Spread, attempt, cache, claims};

use verdicts::{In, Lazy, Out, Page4k, Therefore};

const LESSON: Lesson = Lesson {
    number: 3,
    title: "How mmap works",
    about: "Watches the pages of an evicted sample come in when touched and leave when \
            evicted, and times random reads cold, cached and mapped. --cold is implied.",
    default_size: 256 << 20,
};

/// Cold touches, one in the middle of each of this many equal slices of the file.
const TOUCHES: usize = 8;
/// Random page reads for timing random access, at positions seeded with `SEED`.
const READS: usize = 256;
const SEED: u64 = 3;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    // Touches 2 × readahead apart (read_ahead_kb, else Linux's 128 KiB) cannot share it: a
    // fault reads at most that, around or ahead of its page, so every window stays inside the
    // half slice counted on each side of its own touch. And 16 MiB at least.
    let readahead = Bytes::of(lab.machine.read_ahead_bytes().unwrap_or(128 << 10));
    let min = (16 << 20).max(2 * TOUCHES as u64 * readahead.0 as u64);
    let apart = format!("its touches must lie 2 × readahead ({readahead}) apart");
    lab.require_size(min).context(apart)?;
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    lab.param("cold", true);
    // Every claim here watches pages come in from disk: where the file cannot be made cold
    // (tmpfs, another process maps it), all of them are NOT MEASURED, with the reason.
    if let Err(why) = attempt(|| lab.make_cold(&path))? {
        claims::of_section(3).for_each(|c| lab.not_measured(c.id, &why.0));
        return Ok(());
    }
    let (page, k) = (cache::page_size(), TOUCHES as f64);
    let (pages, n) = (lab.size as usize / page, READS as f64);

    // [3.page-4k] [3.in] Touch the middle of each slice of the evicted file under each advice;
    // then map the cached pages anew and touch them again: those faults read nothing.
    let slice = pages / TOUCHES;
    let touched: Vec<usize> = (0..TOUCHES).map(|i| i * slice + slice / 2).collect();
    let [random, sequential, default] = experiments::under_advice(lab, &path, &touched)?;
    let after_unmap = cache::file_residency(&path)?.resident; // the pages outlive the map
    let fincore = experiments::fincore_pages(&path).map(Pages);
    if fincore.is_none() {
        lab.note("fincore (util-linux) not installed or failed — skipped");
    }
    let warm_map = lab.map(&path)?;
    let warm = experiments::pass(&warm_map, &touched)?;
    let page_4k = Page4k {
        page: Bytes::of(page as u64),
        random_per_fault: random.per_fault(),
        random_mapped: random.mapped.map(|m| Bytes(m * page as f64 / k)),
        default_per_fault: default.per_fault(),
        warm_mapped: warm
            .mapped
            .map(|m| Pages((m / warm.sample.faults().max(1) as f64).round())),
    };
    lab.check("3.page-4k", verdicts::page_4k, &page_4k);

    let (behind, ahead, capped) = experiments::around(&default.resident, &touched, slice / 2);
    let (s_behind, s_ahead, s_cap) = experiments::around(&sequential.resident, &touched, slice / 2);
    let came_in = In {
        touches: Count::of(TOUCHES),
        random_resident: Pages(random.resident()),
        random_touched: Count::of(touched.iter().filter(|&&t| random.resident[t]).count()),
        random_majflt: Count::of(random.sample.majflt),
        default_behind: behind,
        default_ahead: ahead,
        sequential_behind: s_behind,
        sequential_ahead: s_ahead,
        capped: Flag(capped || s_cap),
    };
    lab.check("3.in", verdicts::in_, &came_in);

    // [3.out] Unmapping does not evict; posix_fadvise(DONTNEED) does, but spares mapped pages.
    let [while_mapped, after] = experiments::evict(lab, &path, warm_map)?;
    let out = Out {
        default_read: Pages(default.resident()),
        after_unmap: Pages::of(after_unmap),
        fincore,
        mapped: warm.mapped.map(Pages),
        left_while_mapped: Pages::of(while_mapped),
        left_after_evict: Pages::of(after),
    };
    lab.check("3.out", verdicts::out, &out);

    // [3.lazy] [3.therefore] Random single-page reads: cold, again through the same mapping,
    // through a new mapping while cached (all MADV_RANDOM); then cold with the default advice.
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut reads = rng.choose_multiple(0..pages, READS);
    rng.shuffle(&mut reads);
    let rounds = (0..lab.runs)
        .map(|_| experiments::reads(lab, &path, &reads))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Counts from the last round: the mechanism is the same in every round.
    let (_, [cold, mapped, _, default]) = &rounds[rounds.len() - 1];
    let lazy = Lazy {
        at_map: Fraction(rounds.iter().map(|r| r.0).fold(0.0, f64::max)),
        reads: Count::of(READS),
        cold_majflt: Count::of(cold.sample.majflt),
        mapped_faults: Count::of(mapped.sample.faults()),
    };
    lab.check("3.lazy", verdicts::lazy, &lazy);

    let samples = |i: usize| rounds.iter().map(|r| r.1[i].sample).collect::<Vec<_>>();
    let therefore = Therefore {
        of_ram: Fraction(lab.size as f64 / lab.machine.ram_bytes as f64),
        resident: Fraction(cold.resident() / pages as f64),
        resident_per_read: Ratio(cold.resident() / n),
        cold: Spread::of_samples(&samples(0), n),
        warm: Spread::of_samples(&samples(2), n),
        mapped: Spread::of_samples(&samples(1), n),
        default_cold: Spread::of_samples(&samples(3), n),
        default_resident: Fraction(default.resident() / pages as f64),
        default_per_read: Ratio(default.resident() / n),
    };
    lab.check("3.therefore", verdicts::therefore, &therefore);
    lab.try_next("just lesson 3 --size 2G   (a file 8× bigger, as few pages resident)");
    lab.try_next("just lesson 5   (read() vs mmap)");
    Ok(())
}
