//! Lesson 12 · Dangers and precautions: "mmap is a weapon, not a toy".
//!
//! The notes list four dangers; each is provoked here, the dangerous part always in a child
//! process of the lesson, so the lesson survives it and reports what the child died of:
//! - [12.platform] behaviour depends on the platform: the page size and the smallest
//!   mapping offset, mmap(2) refusing an empty file and an unaligned offset (which memmap2
//!   quietly works around), deleting and truncating a mapped file, MAP_POPULATE;
//! - [12.windows] Windows differs: measurable only on Windows; here the documented rules;
//! - [12.truncate] "truncate → segmentation fault": a child maps a file, the lesson cuts it
//!   to one page, the child reads the last page — and dies of SIGBUS, not SIGSEGV; the safe
//!   probe `MADV_POPULATE_READ` returns an error instead;
//! - [12.race] concurrent writes race: two children increment one shared counter with a
//!   load and a store, and with fetch_add; a reader checks a multi-word record that a child
//!   rewrites, without and with a sequence lock.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use clap::Parser;
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Flag, Pages, Secs};
use mmap_lab::{Lab, Lesson, cache, child, not_measured, platform};

use experiments::Trial;
use verdicts::{Platform, Race, Truncate, Windows};

const LESSON: Lesson = Lesson {
    number: 12,
    title: "Dangers and precautions",
    about: "Provokes the notes' four dangers, each in a child process: platform differences \
            (offsets, empty files, deleting and truncating a mapped file, MAP_POPULATE), a \
            reader of a file truncated under it (SIGBUS, and the MADV_POPULATE_READ probe \
            that returns an error instead), and two processes racing on one shared map \
            (load + store vs fetch_add, a torn record vs a sequence lock).",
    default_size: 32 << 20,
};

/// The smallest sample: a few pages to touch through a plain and a populated map.
const MIN_SIZE: u64 = 64 << 10;
/// Pages of the file that readers map and the lesson truncates to one page.
const TRUNCATED_PAGES: u64 = 4;
/// Rounds of a race at most, until one shows the racers overlapping: load + store losing an
/// increment (fetch_add then runs as many), a torn record, a retried sequence-lock read.
const RACE_ROUNDS: u32 = 5;
/// Records read per round while a writer rewrites them, without and with the sequence lock.
const READS: u64 = 100_000;

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// Readers of a truncated file to start, one child process each ([12.truncate])
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    trials: u32,
    /// Increments per racing process ([12.race]); above 100 million the run takes seconds
    #[arg(long, default_value_t = 10_000_000,
          value_parser = clap::value_parser!(u64).range(1000..=1_000_000_000))]
    iterations: u64,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

fn main() -> ExitCode {
    child::dispatch(experiments::ROLES);
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size(MIN_SIZE)?;
    lab.param("trials", args.trials);
    lab.param("iterations", args.iterations);
    if args.iterations > 100_000_000 {
        lab.note(format!(
            "--iterations {}: the race alone may take many seconds",
            args.iterations
        ));
    }
    let page = cache::page_size() as u64;
    // Files the lesson deletes, truncates or races on are scratch files of this run.
    let files = lab.files(vec![
        Spec::new("sample", lab.size, Content::Random { seed: 12 }),
        Spec::new("empty", 0, Content::Sparse),
        Spec::new("deleted", 16 * page, Content::Random { seed: 13 }).scratch(),
        Spec::new(
            "truncated",
            TRUNCATED_PAGES * page,
            Content::Random { seed: 14 },
        )
        .scratch(),
        Spec::new("shared", page, Content::Sparse).scratch(),
    ])?;
    let [sample, empty, deleted, truncated, shared] = files.as_slice() else {
        anyhow::bail!("asked for five data files, got {}", files.len())
    };

    // [12.platform] "platform-dependent behaviour"
    let offsets = experiments::offsets(lab, sample)?;
    let (empty_raw, memmap2_empty) = experiments::empty(lab, empty)?;
    let unlinked = experiments::unlink(lab, deleted)?;
    let truncate_allowed = experiments::truncatable(truncated)?;
    let populate = experiments::populate(lab, sample)?;
    let refused = |r: &std::io::Result<()>| match r {
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => None,
        r => Some(Flag(
            r.as_ref()
                .is_err_and(|e| platform::errno_name(e) == "EINVAL"),
        )),
    };
    let granularity = offsets.granularity.as_ref().ok().map(|&g| Bytes::of(g));
    let facts = Platform {
        page_size: Bytes::of(page),
        granularity,
        unaligned_refused: refused(&offsets.raw),
        memmap2_unaligned: Flag(offsets.memmap2),
        empty_refused: refused(&empty_raw),
        memmap2_empty: Flag(memmap2_empty),
        truncate_allowed: Flag(truncate_allowed),
        unlink_allowed: Flag(unlinked.allowed),
        unlinked_valid: Flag(unlinked.valid),
        touched: Pages::of(populate.pages),
        plain_faults: Count::of(populate.plain_faults),
        populate_faults: Count::of(populate.populate_faults),
    };
    lab.check("12.platform", verdicts::platform, &facts);

    // [12.windows] "Windows vs Linux differences": the same experiments, judged on Windows.
    let windows = if cfg!(windows) {
        Ok(Windows {
            truncate_refused: Flag(!truncate_allowed),
            delete_refused: Flag(!unlinked.allowed),
            granularity,
        })
    } else {
        Err(not_measured(verdicts::WINDOWS_FACTS))
    };
    lab.check_if("12.windows", verdicts::windows, windows)?;

    // [12.truncate] "file truncate → segmentation fault"
    let trials = experiments::truncate_trials(truncated, args.trials)?;
    let (before, after) = experiments::safe_probe(truncated)?;
    let killed_by = |sig: i32| trials.iter().filter(|t| **t == Trial::Killed(sig)).count();
    let signals: Vec<i32> = trials
        .iter()
        .filter_map(|t| match t {
            Trial::Killed(s) => Some(*s),
            _ => None,
        })
        .collect();
    let probed = !matches!(&before, Err(e) if e.kind() == std::io::ErrorKind::Unsupported);
    let facts = Truncate {
        trials: Count::of(trials.len()),
        sigbus: Count::of(killed_by(platform::SIGBUS)),
        sigsegv: Count::of(killed_by(platform::SIGSEGV)),
        other_signal: Count::of(
            signals.len() - killed_by(platform::SIGBUS) - killed_by(platform::SIGSEGV),
        ),
        survived: Count::of(trials.iter().filter(|t| **t == Trial::Survived).count()),
        refused: Count::of(trials.iter().filter(|t| **t == Trial::Refused).count()),
        signal: signals
            .first()
            .filter(|&&s| signals.iter().all(|&o| o == s))
            .map(|&s| Count::of(s.unsigned_abs())),
        probe_before: probed.then(|| Flag(before.is_ok())),
        probe_refused: probed.then(|| Flag(after.is_err())),
    };
    if let (true, Err(e)) = (probed, &after) {
        lab.note(format!(
            "MADV_POPULATE_READ on the truncated map returned {}: the error a reader can \
             handle instead of dying",
            platform::errno_name(e)
        ));
    }
    lab.check("12.truncate", verdicts::truncate, &facts);

    // [12.race] "concurrent writes → race condition"
    let n = args.iterations;
    let plain = experiments::race(shared, false, n, RACE_ROUNDS, true)?;
    let atomic = experiments::race(shared, true, n, plain.rounds, false)?;
    let torn = experiments::torn_reads(shared, false, READS, RACE_ROUNDS)?;
    let locked = experiments::torn_reads(shared, true, READS, RACE_ROUNDS)?;
    let facts = Race {
        iterations: Count::of(n),
        rounds: Count::of(plain.rounds),
        plain_lost: Count::of(plain.lost),
        atomic_lost: Count::of(atomic.lost),
        plain_time: Secs::of(plain.wall),
        atomic_time: Secs::of(atomic.wall),
        reads: Count::of(torn.reads),
        locked_reads: Count::of(locked.reads),
        torn_plain: Count::of(torn.torn),
        torn_seqlock: Count::of(locked.torn),
        retries: Count::of(locked.retries),
        writes: Count::of(torn.writes + locked.writes),
    };
    lab.check("12.race", verdicts::race, &facts);

    lab.try_next("just lesson 12 --trials 200   (200 readers of a truncated file)");
    lab.try_next("just lesson 12 --iterations 100000000   (a longer race)");
    lab.try_next("just lesson 13   (the mental model)");
    Ok(())
}
