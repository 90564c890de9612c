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
use mmap_lab::{Lab, Lesson, NotMeasured, cache, claims, size};

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
/// Random page reads for timing random access.
const READS: usize = 256;
/// Seed of the random read positions.
const SEED: u64 = 3;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

/// The smallest sample (16 MiB at least) whose touches cannot share readahead: a fault reads
/// at most `readahead` bytes, around or ahead of its page, so touches 2 × `readahead` apart
/// keep every window inside the half slice counted on each side of its own touch.
fn min_size(readahead: u64) -> u64 {
    (16 << 20u64).max(2 * TOUCHES as u64 * readahead)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    // read_ahead_kb, or Linux's default window when the disk does not say.
    let readahead = lab.machine.read_ahead_kb.map_or(128 << 10, |kb| kb << 10);
    let apart = format!(
        "its touches must lie 2 × readahead ({}) apart",
        size::fmt(readahead)
    );
    lab.require_size(min_size(readahead)).context(apart)?;
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    lab.param("cold", true);
    // Every claim here watches pages come in from disk: where the file cannot be made cold
    // (tmpfs, another process maps it), all of them are NOT MEASURED, with the reason.
    if let Err(e) = lab.make_cold(&path) {
        let why = e.downcast::<NotMeasured>()?.0;
        for claim in claims::of_section(3) {
            lab.not_measured(claim.id, &why);
        }
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
    let per_warm_fault = |m: f64| Pages((m / warm.sample.faults().max(1) as f64).round());
    let page_4k = Page4k {
        page: Bytes::of(page as u64),
        random_per_fault: Pages(random.per_fault()),
        random_mapped: random.mapped().map(|m| Bytes(m * page as f64 / k)),
        default_per_fault: Pages(default.per_fault()),
        warm_mapped: warm.mapped().map(per_warm_fault),
        warm_pmd: warm.smaps.map(|s| Bytes::of(s.file_pmd_mapped)),
    };
    lab.check("3.page-4k", verdicts::page_4k, &page_4k);

    let (behind, ahead, capped) = experiments::around(&default.resident, &touched, slice / 2);
    let (s_behind, s_ahead, s_capped) =
        experiments::around(&sequential.resident, &touched, slice / 2);
    let came_in = In {
        touches: Count::of(TOUCHES),
        random_resident: Pages(random.resident()),
        random_touched: Count::of(touched.iter().filter(|&&t| random.resident[t]).count()),
        random_majflt: Count::of(random.sample.majflt),
        default_behind: Pages(behind.round()),
        default_ahead: Pages(ahead.round()),
        sequential_behind: Pages(s_behind.round()),
        sequential_ahead: Pages(s_ahead.round()),
        capped: Flag(capped || s_capped),
    };
    lab.check("3.in", verdicts::in_, &came_in);

    // [3.out] Unmapping does not evict; posix_fadvise(DONTNEED) does, but spares mapped pages.
    let [while_mapped, after] = experiments::evict(lab, &path, warm_map)?;
    let out = Out {
        default_read: Pages(default.resident()),
        after_unmap: Pages::of(after_unmap),
        fincore,
        mapped: warm.mapped().map(Pages),
        left_while_mapped: Pages::of(while_mapped),
        left_after_evict: Pages::of(after),
    };
    lab.check("3.out", verdicts::out, &out);

    // [3.lazy] [3.therefore] Random single-page reads: cold, again through the same mapping,
    // through a new mapping while cached (all MADV_RANDOM); then cold with the default advice.
    let reads = experiments::random_pages(pages, READS, SEED);
    let rounds = (0..lab.runs)
        .map(|_| experiments::reads(lab, &path, &reads))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Counts from the last round: the mechanism is the same in every round.
    let (_, [cold, mapped, cached, default]) = &rounds[rounds.len() - 1];
    let lazy = Lazy {
        at_map: Fraction(rounds.iter().map(|r| r.0).fold(0.0, f64::max)),
        reads: Count::of(READS),
        cold_majflt: Count::of(cold.sample.majflt),
        warm_majflt: Count::of(cached.sample.majflt),
        mapped_faults: Count::of(mapped.sample.faults()),
    };
    lab.check("3.lazy", verdicts::lazy, &lazy);

    let therefore = Therefore {
        of_ram: Fraction(lab.size as f64 / lab.machine.ram_bytes as f64),
        resident: Fraction(cold.resident() / pages as f64),
        resident_per_read: Ratio(cold.resident() / n),
        cold: experiments::per_read(rounds.iter().map(|r| &r.1[0]), READS),
        warm: experiments::per_read(rounds.iter().map(|r| &r.1[2]), READS),
        mapped: experiments::per_read(rounds.iter().map(|r| &r.1[1]), READS),
        default_cold: experiments::per_read(rounds.iter().map(|r| &r.1[3]), READS),
        default_resident: Fraction(default.resident() / pages as f64),
        default_per_read: Ratio(default.resident() / n),
    };
    lab.check("3.therefore", verdicts::therefore, &therefore);
    lab.try_next("just lesson 3 --size 2G   (a file 8× bigger, as few pages resident)");
    lab.try_next("just lesson 5   (read() vs mmap)");
    Ok(())
}
