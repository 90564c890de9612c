//! Lesson 7 · Where is it used in real life?
//!
//! The notes list the programs that map files — database engines (SQLite), search engines
//! (Lucene), log analyzers, video and media processing, binary index files — as
//! "high-performance systems". This lesson runs the workloads those programs map files for,
//! each both ways on the same files, and asks the programs what they choose by themselves:
//!
//! - a log analyzer: the lines of an access log that contain a literal, counted with
//!   `memchr::memmem` through a map (one thread, and one thread per core on pieces cut at
//!   line boundaries) and through `read()`, raced against `rg -c`, `rg --no-mmap -c` and
//!   `grep -c`, every count required to be equal;
//! - SQLite (bundled with rusqlite): random lookups with `mmap_size` 0 — what it ships with,
//!   read back — and with a map covering the file, cached and from disk; and updates;
//! - a binary index: binary search over a sorted file of 8-byte keys, through a map and
//!   through `pread`, cached and from disk;
//! - ripgrep's own rule: `--mmap` against `--no-mmap` over a few thousand small files, and
//!   what `rg --trace` says it chose for one file and for many.
//!
//! Competing ways take turns (`Lab::turns`), each cold run on a freshly evicted file.

mod experiments;
mod verdicts;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use experiments::{Duel, PAGE, Way};
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::machine::find_program;
use mmap_lab::quantity::{Bytes, Count, Flag};
use mmap_lab::{BadInput, Lab, Lesson, attempt, cache, not_measured, size};
use verdicts::Users;

const LESSON: Lesson = Lesson {
    number: 7,
    title: "Where is it used in real life?",
    about: "Runs the workloads real programs map files for, each through a map and the other \
            way: a log analyzer raced against ripgrep and grep, SQLite lookups and updates \
            with mmap_size 0 (as it ships) and with a map, a binary index through a map and \
            through pread, and ripgrep's own choice for one file and for many. --size is the \
            log's size; the database and the index are a quarter of it each.",
    default_size: 128 << 20,
};

/// Random SQLite lookups per cached run; the first of them also run from disk.
const QUERIES: usize = 5_000;
const COLD_QUERIES: usize = 200;
/// SQLite updates per run, and per transaction.
const UPDATES: usize = 2_000;
const PER_TX: usize = 100;
/// Binary-search lookups per cached run; the first of them also run from disk.
const LOOKUPS: usize = 5_000;
const COLD_LOOKUPS: usize = 200;
/// Each small log file of ripgrep's rule.
const SMALL: u64 = 16 << 10;
/// One small file per this much of --size, by default.
const SMALL_SHARE: u64 = 64 << 10;
/// The smallest --size: a 1 MiB database and index.
const MIN_SIZE: u64 = 4 << 20;
/// The largest database: SQLite builds it in memory first.
const MAX_DB: u64 = 256 << 20;
/// The database and the index, made by the lesson's own generators.
const SQLITE: Content = Content::Custom {
    tag: "sqlite-v1",
    fill: experiments::make_db,
};
const INDEX: Content = Content::Custom {
    tag: "index-v1",
    fill: experiments::make_index,
};

/// Lesson 7's flags: the shared ones, the literal and the number of small files.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// The literal whose lines the log analyzer counts (one line, not empty)
    #[arg(long, default_value = "ERROR svc-07")]
    literal: String,
    /// How many small log files ripgrep searches at once; it maps 10 or fewer [default: one
    /// per 64 KiB of --size, 2,000 at most]
    #[arg(long, value_parser = clap::value_parser!(u32).range(11..=20_000))]
    files: Option<u32>,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    if args.literal.is_empty() || args.literal.contains(['\n', '\r']) {
        let why = format!("--literal {}: must be one line, not empty", args.literal);
        return Err(BadInput(why).into());
    }
    lab.require_size(MIN_SIZE)?;
    let db_size = (lab.size / 4).min(MAX_DB) / PAGE * PAGE;
    let write_size = (db_size / 4).clamp(1 << 20, 8 << 20);
    let index_size = lab.size / 4 / 8 * 8;
    let files = args
        .files
        .unwrap_or((lab.size / SMALL_SHARE).clamp(11, 2000) as u32);
    let mut specs = vec![
        Spec::new("access-log", lab.size, Content::Log { seed: 7 }),
        Spec::new("sqlite", db_size, SQLITE),
        Spec::new("sqlite-writes", write_size, SQLITE).scratch(),
        Spec::new("index", index_size, INDEX),
    ];
    let small_log = |i: u32| Content::Log {
        seed: 100 + u64::from(i),
    };
    specs.extend((0..files).map(|i| Spec::new(&format!("small-log-{i:05}"), SMALL, small_log(i))));
    // Made in order, so a missing last one means a first run: warn, once the disk is checked.
    if files > 100 && specs.last().is_some_and(|last| !lab.data.is_ready(last)) {
        lab.data.ensure_room(&specs)?;
        warn(&format!(
            "making {files} small files for ripgrep's rule, once (later runs reuse them)"
        ));
    }
    let paths = lab.files(specs)?;
    if lab.size > 4 * LESSON.default_size {
        warn(&format!(
            "a {} log is raced six ways, --runs times; this takes a while",
            size::fmt(lab.size)
        ));
    }
    let [log, db, wdb, index] = [0, 1, 2, 3].map(|i| paths[i].clone());
    let small: Vec<&Path> = paths[4..].iter().map(PathBuf::as_path).collect();
    lab.param("literal", &args.literal);
    lab.param("files", files);
    lab.param("database_bytes", db_size);
    lab.param("index_bytes", index_size);
    let (rg, grep) = (find_program("rg").is_some(), find_program("grep").is_some());
    for (name, there) in [("rg", rg), ("grep", grep)] {
        if !there {
            lab.note(format!(
                "{name} not installed — skipped: its rows of the log race"
            ));
        }
    }

    // "log analyzers": count the lines with the literal every way, on the cached log.
    cache::warm(&log, 0..lab.size)?;
    let mut ways = vec![Way::Map, Way::MapAll, Way::Read];
    ways.extend(rg.then_some([Way::Rg, Way::RgNoMmap]).into_iter().flatten());
    ways.extend(grep.then_some(Way::Grep));
    let race = experiments::race(lab, &log, &args.literal, &ways)?;
    for (_, run) in &race.rows {
        if let Err(why) = run {
            lab.note(why.clone());
        }
    }
    let ours = |way| race.row(way).context("our own count gave no time");
    let matches = race.counts.first().copied().unwrap_or(0);

    // ripgrep's own rule: a map for a few explicit files, read() for many.
    let in_small = experiments::count_files(lab, &small, &args.literal)?;
    let rg_files = if rg {
        let ran = experiments::duel(lab, small[0], (false, 1), |i| {
            experiments::rg(&args.literal, Some(["--no-mmap", "--mmap"][i]), &small)
                .map_err(not_measured)
        });
        skipped(lab, ran, "")?
    } else {
        None
    };
    let rg_maps = |files: &[&Path]| {
        rg.then(|| experiments::rg_maps(&args.literal, files))
            .flatten()
            .map(Flag)
    };

    // "database engines (SQLite)": the same random lookups with mmap_size 0 and mapped.
    let (default, mapped) = experiments::mmap_sizes(&db, db_size)?;
    let mut rng = fastrand::Rng::with_seed(7);
    let ids: Vec<i64> = (0..QUERIES)
        .map(|_| rng.i64(0..experiments::db_rows(db_size)))
        .collect();
    let mmap_size = [0, db_size];
    cache::warm(&db, 0..db_size)?;
    let lookups = |ids: &[i64], i: usize| Ok(experiments::lookups(&db, mmap_size[i], ids)?);
    let query = experiments::duel(lab, &db, (false, QUERIES), |i| lookups(&ids, i))?;
    let cold_query = experiments::duel(lab, &db, (true, COLD_QUERIES), |i| {
        lookups(&ids[..COLD_QUERIES], i)
    });
    let cold_query = skipped(lab, cold_query, "runs from disk skipped: ")?;
    let wids: Vec<i64> = (0..UPDATES)
        .map(|_| rng.i64(0..experiments::db_rows(write_size)))
        .collect();
    let write = experiments::duel(lab, &wdb, (false, UPDATES), |i| {
        Ok(experiments::writes(
            &wdb,
            [0, write_size][i],
            &wids,
            PER_TX,
        )?)
    })?;

    // "binary index files": binary search through pread and through a map.
    let positions: Vec<u64> = (0..LOOKUPS).map(|_| rng.u64(0..index_size / 8)).collect();
    cache::warm(&index, 0..index_size)?;
    let search = |at: &[u64], i| experiments::index_lookups(lab, &index, i == 1, at);
    let warm_search = experiments::duel(lab, &index, (false, LOOKUPS), |i| search(&positions, i))?;
    let cold_search = experiments::duel(lab, &index, (true, COLD_LOOKUPS), |i| {
        search(&positions[..COLD_LOOKUPS], i)
    });
    let cold_search = skipped(lab, cold_search, "runs from disk skipped: ")?;

    // [7.users] "used by database engines, search engines, log analyzers, ... binary index files"
    let cold = |d: &Option<experiments::Duel>| d.as_ref().map(|d| (d.without, d.with)).unzip();
    let ((cold_query_off, cold_query_on), (cold_index_pread, cold_index_map)) =
        (cold(&cold_query), cold(&cold_search));
    let (rg_files_read, rg_files_mmap) = cold(&rg_files);
    let users = Users {
        sqlite_default: Bytes(default as f64),
        sqlite_mmap: Bytes(mapped as f64),
        db: Bytes::of(db_size),
        query_off: query.without,
        query_on: query.with,
        cold_query_off,
        cold_query_on,
        write_off: write.without,
        write_on: write.with,
        sqlite_agree: Flag(
            query.same() && cold_query.as_ref().is_none_or(|d| d.same()) && write.all(UPDATES),
        ),
        index: Bytes::of(index_size),
        index_pread: warm_search.without,
        index_map: warm_search.with,
        cold_index_pread,
        cold_index_map,
        index_agree: Flag(
            warm_search.all(LOOKUPS) && cold_search.as_ref().is_none_or(|d| d.all(COLD_LOOKUPS)),
        ),
        log: Bytes::of(lab.size),
        matches: Count::of(matches),
        log_read: ours(Way::Read)?,
        log_map: ours(Way::Map)?,
        log_map_all: ours(Way::MapAll)?,
        threads: Count::of(lab.machine.cores),
        rg: race.row(Way::Rg),
        rg_no_mmap: race.row(Way::RgNoMmap),
        grep: race.row(Way::Grep),
        counts_agree: Flag(
            race.counts.iter().all(|&c| c == matches)
                && rg_files.as_ref().is_none_or(|d| d.all(in_small as usize)),
        ),
        files: Count::of(files),
        rg_files_mmap,
        rg_files_read,
        rg_maps_one: rg_maps(&small[..1]),
        rg_maps_many: rg_maps(&small),
    };
    lab.check("7.users", verdicts::users, &users);

    lab.try_next("just lesson 7 --size 1G   (the log analyzer on a 1 GiB log)");
    lab.try_next("just lesson 7 --literal ' 500 '   (a literal on every sixth line)");
    lab.try_next("just lesson 8   (records read in place through a map)");
    Ok(())
}

/// A duel, or `None` when it could not be measured here (its reason a note, after `what`).
fn skipped(lab: &mut Lab, duel: anyhow::Result<Duel>, what: &str) -> anyhow::Result<Option<Duel>> {
    Ok(attempt(|| duel)?
        .map_err(|nm| lab.note(format!("{what}{nm}")))
        .ok())
}

/// A warning on stderr, before the report.
fn warn(text: &str) {
    mmap_lab::files::warn(&format!("lesson-07: {text}"));
}
