//! Lesson 13 · Mental model: "mmap = file → memory; no copy; the OS manages it; speed → the
//! OS page cache".
//!
//! Four lines to remember, each checked against this machine:
//! - [13.model] the map holds exactly the bytes `read()` returns, and a store into a shared
//!   map is what `read()` returns next;
//! - [13.no-copy] cold, the disk copies the file into the page cache for the map and for
//!   `read()` alike; cached, the map skips `read()`'s copy out of the page cache — and pays
//!   page faults and page tables instead (against a copy already in RAM, the ceiling);
//! - [13.os] the kernel reads ahead, keeps pages cached after `munmap` and writes dirty pages
//!   back on its own schedule, none of it asked for;
//! - [13.speed] a cached scan against a cold one; with `--beyond-cache`, a file larger than
//!   the RAM available, where the cache must evict.

mod experiments;
mod verdicts;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use experiments::{med, spread};
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::system_memory;
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Pages, Secs};
use mmap_lab::{Lab, Lesson, attempt, cache, kernel, need, size};

use verdicts::{Model, NoCopy, Os, Speed};

const LESSON: Lesson = Lesson {
    number: 13,
    title: "Mental model",
    about: "Checks the notes' four-line mental model on this machine: the map against read() \
            byte for byte; what each path copies cold and cached, against a copy in RAM; the \
            readahead, caching and writeback the kernel does unasked; and the page cache as \
            the source of speed — with --beyond-cache, a file larger than the RAM available.",
    default_size: 128 << 20,
};

/// The smallest sample: a few readahead windows apart for the touches.
const MIN_SIZE: u64 = 16 << 20;
/// Bytes touched in a cold map for readahead, one per stretch of the file.
const TOUCHES: usize = 8;
/// The scratch file dirtied through a shared map.
const DIRTY_SIZE: u64 = 4 << 20;

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// Seconds after the writes to watch for writeback ([13.os]); the kernel's own deadline is
    /// dirty_expire + dirty_writeback (35 s by default): give 40 to see it
    #[arg(long, value_name = "SECS", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    writeback_wait: u64,
    /// Also scan a file larger than the RAM available, twice ([13.speed]): writes it (and
    /// deletes it at the end) and reads it from disk twice — minutes, not seconds
    #[arg(long)]
    beyond_cache: bool,
    /// The --beyond-cache file's size, and --beyond-cache itself [default: 1.25 × the RAM
    /// available]
    #[arg(long, value_name = "SIZE", value_parser = parse_beyond)]
    beyond_size: Option<u64>,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

/// A --beyond-size: a size of at least 1 MiB.
fn parse_beyond(text: &str) -> Result<u64, String> {
    match size::parse(text) {
        Ok(n) if n >= 1 << 20 => Ok(n),
        Ok(_) => Err("the --beyond-cache file must be at least 1 MiB".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size(MIN_SIZE)?;
    if let Err(why) = mmap_lab::measure::fits_in_ram(lab.size, 1) {
        let why = format!("--size: the in-RAM ceiling of [13.no-copy] needs a copy: {why}");
        return Err(mmap_lab::BadInput(why).into());
    }
    let sample = Spec::new("sample", lab.size, Content::Random { seed: 13 });
    let scratch = Spec::new("dirty", DIRTY_SIZE, Content::Random { seed: 131 }).scratch();
    let available = system_memory().map(|m| m.available);
    let big = (args.beyond_cache || args.beyond_size.is_some())
        .then(|| experiments::beyond_spec(lab, args.beyond_size, available))
        .transpose()?;
    if let Some(big) = &big {
        lab.data
            .ensure_room(&[sample.clone(), scratch.clone(), big.clone()])?;
    }
    let paths = lab.files(vec![sample, scratch])?;
    let (path, scratch) = (&paths[0], &paths[1]);
    // The writes whose writeback [13.os] watches come first: the watch runs meanwhile.
    let dirtied = experiments::dirty(scratch)?;

    let cold = attempt(|| experiments::scans(lab, path, true))?;
    // The last cold round, a map scan, has just been unmapped: how much stayed cached. The
    // cached scans start from there, with the pages as the map's faults brought them in.
    let kept = cache::file_residency(path)?.fraction();
    cache::warm(path, 0..lab.size)?;
    let [warm_read, warm_map] = experiments::scans(lab, path, false)?;
    let (ram, ram_sum) = experiments::in_ram(path, lab.runs)?;
    let map_again = experiments::map_again(lab, path, lab.runs)?;
    let (compared, same_bytes) = experiments::same_bytes(lab, path)?;
    let touched = attempt(|| experiments::readahead(lab, path, TOUCHES))?;

    // [13.model] "mmap = file → memory"
    let sums = warm_read.iter().chain(&warm_map).map(|s| s.sum);
    let model = Model {
        file: Bytes::of(lab.size),
        map_len: Bytes::of(lab.map(path)?.len() as u64),
        compared: Bytes::of(compared),
        same_bytes: Flag(same_bytes),
        same_checksum: Flag(sums.chain([ram_sum]).all(|s| s == ram_sum)),
        store_seen: Flag(dirtied.seen_by_read),
    };
    lab.check("13.model", verdicts::model, &model);

    // [13.no-copy] "no copy"
    let no_copy = need(&cold).and_then(|[cold_read, cold_map]| {
        Ok(NoCopy {
            file: Bytes::of(lab.size),
            cold_read_disk: experiments::disk(cold_read)?,
            cold_map_disk: experiments::disk(cold_map)?,
            warm_read: spread(&warm_read),
            warm_map: spread(&warm_map),
            warm_map_again: map_again,
            ram,
            map_faults: Count(med(&warm_map, |s| s.sample.faults() as f64)),
            pages: Count::of(lab.size.div_ceil(cache::page_size() as u64)),
            page_tables: Bytes(med(&warm_map, |s| s.page_tables as f64)),
        })
    });
    lab.check_if("13.no-copy", verdicts::no_copy, no_copy)?;

    // [13.speed] measured before [13.os] is judged: a --beyond-cache run is what makes the
    // kernel evict.
    let rate = need(&cold).map(|[_, m]| lab.size as f64 / spread(m).median);
    let passes = match big {
        Some(spec) => Some(experiments::beyond(lab, spec, rate.as_ref().ok().copied())?),
        None => None,
    };
    let watched = experiments::watch(&dirtied, Duration::from_secs(args.writeback_wait));

    // [13.os] "the OS manages it"
    let os = need(&touched).and_then(|t| {
        need(&cold)?;
        Ok(Os {
            touched: Count::of(t.touched),
            resident: Pages::of(t.resident),
            read_ahead: lab.machine.read_ahead_bytes().map(Bytes::of),
            kept: Fraction(kept),
            dirtied: Count::of(dirtied.dirty),
            dirty_left: Count::of(watched.left),
            watched: Secs::of(watched.after),
            deadline: kernel::writeback().map(|w| Secs::of(w.deadline())),
            evicted: experiments::evicted(path).map(Count::of),
            available: available.map(Bytes::of),
            beyond_evicted: passes.as_ref().and_then(|p| p.1).map(Count::of),
        })
    });
    lab.check_if("13.os", verdicts::os, os)?;

    // [13.speed] "speed → the OS page cache"
    let speed = need(&cold).map(|[cold_read, cold_map]| Speed {
        file: Bytes::of(lab.size),
        cold_map: spread(cold_map),
        warm_map: spread(&warm_map),
        cold_read: spread(cold_read),
        warm_read: spread(&warm_read),
        beyond: passes.map(|(b, _)| b),
    });
    lab.check_if("13.speed", verdicts::speed, speed)?;

    lab.try_next("just lesson 13 --writeback-wait 40   (watch the kernel write the map back)");
    lab.try_next("just lesson 13 --beyond-cache   (a file larger than RAM: minutes, and disk)");
    Ok(())
}
