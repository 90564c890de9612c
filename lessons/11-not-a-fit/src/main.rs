//! Lesson 11 · When is mmap NOT a good fit? The notes name four cases and say plain
//! `read()` and buffered I/O do better there. Each is measured against its rival:
//!
//! - [11.small] a few thousand small files (4 KiB to 1 MiB), each read whole or mapped
//!   whole, warm: time per file, and the size from which the map wins, if any;
//! - [11.sequential] one pass over one big file, cached and from disk: a `read()` loop
//!   with a 128 KiB buffer against a map, with and without `advise(Sequential)`;
//! - [11.writes] one-byte writes scattered over a file: `pwrite` against stores through a
//!   shared map, synced one by one and once at the end, with the bytes each write cost the
//!   disk (`/proc/self/io` `write_bytes`);
//! - [11.tx] transfers between accounts by a writer killed with SIGKILL at random moments:
//!   naive stores through a shared map, and SQLite transactions in WAL mode.

mod experiments;
mod verdicts;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::crash::Plan;
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Secs};
use mmap_lab::{Lab, Lesson, cache, child, files, iostat};

use experiments::{EACH, END, LEDGER_BYTES, READ_BUF, WRITES_FILE, WalFiles};
use verdicts::{SMALL_SIZES, Sequential, Small, Tx, Writes};

const LESSON: Lesson = Lesson {
    number: 11,
    title: "When is mmap not a good fit?",
    about: "Puts mmap against plain I/O where the notes say it loses: a few thousand small \
            files (their number grows with --size), one sequential pass over a big file of \
            --size cached and from disk, one-byte writes scattered over a file with the bytes \
            each cost the disk, and a writer killed at random moments — naive stores through \
            a map against SQLite transactions in WAL mode.",
    default_size: 64 << 20,
};

/// The smallest sample: a few readahead windows of the reference disk, and room for eight
/// files of each small size.
const MIN_SIZE: u64 = 4 << 20;
/// Above this a run reads a lot from disk: it warns first.
const BIG_SIZE: u64 = 256 << 20;
/// SIGKILLs per writer in a default run: about half a second of torture.
const DEFAULT_KILLS: u64 = 40;
/// Small files per size: at most, and at least.
const MOST_FILES: u64 = 1000;
const FEWEST_FILES: u64 = 8;
/// The child roles of this binary: the two writers that are killed.
const ROLES: &[child::Role] = &[
    ("map-writer", experiments::map_writer),
    ("sqlite-writer", experiments::sqlite_writer),
];

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// SIGKILLs per writer in the transaction torture (each about 7 ms)
    #[arg(long, default_value_t = DEFAULT_KILLS, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    kills: u64,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

fn main() -> ExitCode {
    child::dispatch(ROLES);
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size(MIN_SIZE)?;
    lab.param("kills", args.kills);

    // The files: thousands of small ones, one big one, and scratch files written in place.
    let counts = small_counts(lab);
    let ledger = Content::Custom {
        tag: "ledger-1",
        fill: experiments::fill_ledger,
    };
    let bank = Content::Custom {
        tag: "bank-1",
        fill: experiments::fill_bank,
    };
    let mut specs = vec![
        Spec::new("log", lab.size, Content::Log { seed: 11 }),
        Spec::new("scattered", WRITES_FILE, Content::Random { seed: 11 }).scratch(),
        Spec::new("ledger", LEDGER_BYTES, ledger).scratch(),
        Spec::new("bank", experiments::bank_bytes()?, bank).scratch(),
    ];
    for (size, n) in SMALL_SIZES.iter().zip(&counts) {
        // The benchmark suite's small files: the same names, so the two share them.
        specs.extend(
            (0..*n).map(|i| Spec::new(&format!("small{i:04}"), *size, Content::Random { seed: i })),
        );
    }
    let mut paths = lab.files(specs)?;
    let small_files = paths.split_off(4);
    let [log, scattered, ledger, bank] = paths
        .try_into()
        .map_err(|_| anyhow::anyhow!("four files asked, another number given"))?;
    warn_if_long(args, lab);

    // [11.small] "small files": per file, read() against mmap, at each size.
    let mut rows = Vec::new();
    let mut left = small_files.as_slice();
    for n in &counts {
        let (these, rest) = left.split_at(*n as usize);
        left = rest;
        rows.push(experiments::small_files(lab, these, lab.runs)?);
    }
    let row = |i: usize| rows[i];
    let small = Small {
        files: Count::of(small_files.len()),
        read_4k: row(0).0,
        map_4k: row(0).1,
        read_16k: row(1).0,
        map_16k: row(1).1,
        read_64k: row(2).0,
        map_64k: row(2).1,
        read_256k: row(3).0,
        map_256k: row(3).1,
        read_1m: row(4).0,
        map_1m: row(4).1,
    };
    lab.check("11.small", verdicts::small, &small);

    // [11.sequential] "sequential reads": one pass over a big file, cached and from disk.
    let sequential = (|| {
        cache::warm(&log, 0..lab.size)?;
        let [warm_read, warm_map, warm_seq] = experiments::passes(lab, &log, false)?;
        let [cold_read, cold_map, cold_seq] = experiments::passes(lab, &log, true)?;
        Ok(Sequential {
            file: Bytes::of(lab.size),
            buffer: Bytes::of(READ_BUF as u64),
            warm_read,
            warm_map,
            warm_seq,
            cold_read,
            cold_map,
            cold_seq,
            read_ahead: lab.machine.read_ahead_kb.map(|kb| Bytes::of(kb * 1024)),
        })
    })();
    lab.check_if("11.sequential", verdicts::sequential, sequential)?;

    // [11.writes] "many writes": one-byte writes scattered over a file, two ways of syncing.
    let writes = experiments::writes(lab, &scattered, lab.runs).map(|[pe, me, pn, mn]| Writes {
        file: Bytes::of(WRITES_FILE),
        each: Count::of(EACH),
        end: Count::of(END),
        pwrite_each: pe.time,
        map_each: me.time,
        pwrite_end: pn.time,
        map_end: mn.time,
        pwrite_each_dirtied: pe.dirtied,
        map_each_dirtied: me.dirtied,
        pwrite_end_dirtied: pn.dirtied,
        map_end_dirtied: mn.dirtied,
        pwrite_each_device: pe.device,
        map_each_device: me.device,
        pwrite_end_device: pn.device,
        map_end_device: mn.device,
    });
    lab.check_if("11.writes", verdicts::writes, writes)?;

    // [11.tx] "when transactions are needed": both writers killed at random moments.
    let _wal = WalFiles::of(&bank);
    let plan = |ms| Plan {
        kills: args.kills as usize,
        delay: Duration::ZERO..Duration::from_millis(ms),
    };
    let mapped = experiments::torture_map(&ledger, &plan(3))?;
    let sqlite = experiments::torture_sqlite(&bank, &plan(10))?;
    let [map_cost, sqlite_cost, sqlite_durable] = experiments::transfer_costs(&ledger, &bank)?;
    let completed = |t: &mmap_lab::crash::Torture<experiments::Found>| {
        Count::of(t.rounds.iter().map(|r| r.found.completed).sum::<u64>())
    };
    let tx = Tx {
        map_kills: Count::of(mapped.killed()),
        map_torn: Count::of(mapped.count(|f| f.torn)),
        map_lost: Count::of(mapped.count(|f| f.lost)),
        map_completed: completed(&mapped),
        sqlite_kills: Count::of(sqlite.killed()),
        sqlite_broken: Count::of(sqlite.count(|f| f.torn)),
        sqlite_lost: Count::of(sqlite.count(|f| f.lost)),
        sqlite_completed: completed(&sqlite),
        map_cost: Secs::of(map_cost),
        sqlite_cost: Secs::of(sqlite_cost),
        sqlite_durable: Secs::of(sqlite_durable),
        wall: Secs::of(mapped.wall + sqlite.wall),
    };
    lab.check("11.tx", verdicts::tx, &tx);

    lab.try_next("just lesson 11 --size 1G   (one pass over a file far beyond readahead)");
    lab.try_next("just lesson 11 --kills 400   (ten times the kills, about 6 s)");
    lab.try_next("just lesson 12   (SIGBUS on truncate, racing writers)");
    Ok(())
}

/// Says, before a run bigger than the default starts measuring, how much more it does.
fn warn_if_long(args: &Args, lab: &Lab) {
    if args.kills > DEFAULT_KILLS {
        let secs = args.kills * 2 * 7 / 1000;
        files::warn(&format!(
            "lesson-11: {} kills per writer: about {secs} s of torture",
            args.kills
        ));
    }
    if lab.size > BIG_SIZE {
        files::warn(&format!(
            "lesson-11: each of {} cold passes reads {} from disk",
            3 * lab.runs,
            Bytes::of(lab.size)
        ));
    }
}

/// Small files per size: half of `--size` for each size, between [`FEWEST_FILES`] and
/// [`MOST_FILES`], and no more than the open-files limit lets the run hold at once.
fn small_counts(lab: &mut Lab) -> Vec<u64> {
    const SPARE: u64 = 256;
    let want = MOST_FILES * SMALL_SIZES.len() as u64 + SPARE;
    let allowed = iostat::raise_open_files(want).map_or(u64::MAX, |l| l.saturating_sub(SPARE));
    let most = MOST_FILES
        .min(allowed / SMALL_SIZES.len() as u64)
        .max(FEWEST_FILES);
    if most < MOST_FILES {
        lab.note(format!(
            "the open-files limit allows at most {most} small files per size (ulimit -n)"
        ));
    }
    let counts: Vec<u64> = SMALL_SIZES
        .iter()
        .map(|s| (lab.size / 2 / s).clamp(FEWEST_FILES, most))
        .collect();
    lab.param("small_files", counts.iter().sum::<u64>());
    counts
}
