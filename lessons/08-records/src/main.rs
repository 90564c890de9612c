//! Lesson 8 · mmap + struct: fixed-size records read in place.
//!
//! The notes read record `record_id` of a binary file with `struct.calcsize("i d")`, a
//! slice of the map and `struct.unpack`, and claim two things:
//! - [8.no-copy] no disk, no RAM copy: we look where a record's bytes come from — the map
//!   itself (a `bytemuck` cast), a copy (the notes' slice, watched while the map changes),
//!   or the disk (major faults when the file is cold);
//! - [8.fast] extremely fast random access: time per random lookup, in place, copied out
//!   and with one `pread` per record, in Rust and in the notes' Python, cached and cold.
//!
//! Both languages read each other's files, which shows the padding that `"i d"` and a
//! `#[repr(C)]` record share (16 bytes) and that `"=id"` lacks (12).

mod experiments;
mod verdicts;

use std::ffi::OsStr;
use std::process::ExitCode;

use clap::Parser;
use experiments::{Cold, ColdRows, PYTHON, PyWarm, RECORD, Record, Warm};
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::Sample;
use mmap_lab::quantity::{Bytes, Count, Flag, Ratio};
use mmap_lab::{Lab, Lesson, NotMeasured, Spread, cache, not_measured};
use verdicts::{Fast, Format, NoCopy};

const LESSON: Lesson = Lesson {
    number: 8,
    title: "mmap + struct: fixed-size records",
    about: "Writes a file of fixed-size records (the notes' struct format \"i d\") and looks \
            records up at random: in place through a bytemuck cast of the map, copied out, \
            and with one pread each, cached and from disk, beside the notes' own Python \
            (mm[a:b] + struct.unpack, struct.unpack_from, os.pread). Python and Rust read \
            each other's records, which shows the padding of \"i d\".",
    default_size: 64 << 20,
};

/// Cached lookups by default, of the in-place and copy-out rows.
const LOOKUPS: u64 = 1_000_000;
/// The `pread` row does this share of them: a system call each.
const PREAD_SHARE: usize = 10;
/// Python's rows do this share of them: an interpreter loop each.
const PYTHON_SHARE: usize = 5;
/// Lookups of a cold file, each on a page of its own.
const COLD_LOOKUPS: usize = 256;
/// Records the notes' Python writes into its scratch file for Rust to read.
const PY_RECORDS: u64 = 4096;
/// Record ids whose values the notes' Python reports back.
const CHECKED: usize = 32;
/// The smallest sample: enough pages for the cold lookups to have one each.
const MIN_SIZE: u64 = 4 << 20;

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// Random lookups per cached run of the in-place and copy-out ways (pread does a tenth,
    /// Python a fifth)
    #[arg(long, default_value_t = LOOKUPS,
          value_parser = clap::value_parser!(u64).range(10_000..=100_000_000))]
    lookups: u64,
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
    lab.require_size(MIN_SIZE)?;
    if args.lookups > LOOKUPS {
        mmap_lab::files::warn("a bigger run than the default: the pread and Python rows grow too");
    }
    let records = lab.size / RECORD as u64;
    let content = Content::Custom {
        tag: "records-v1",
        fill: experiments::write_records,
    };
    // The notes' Python writes records into a scratch file of this run, and only there.
    let scratch = Spec::new(
        &format!("from-python-{}", std::process::id()),
        PY_RECORDS * RECORD as u64,
        Content::Sparse,
    );
    let paths = lab.files(vec![
        Spec::new("records", records * RECORD as u64, content),
        scratch.scratch(),
    ])?;
    let (path, scratch) = (&paths[0], &paths[1]);
    let lookups = args.lookups as usize;
    lab.param("records", records);
    lab.param("lookups", lookups);
    lab.param("cold_lookups", COLD_LOOKUPS);

    // Cached: the three Rust ways take turns, then the notes' Python on the same file.
    let ids = experiments::random_ids(records, lookups, 8);
    cache::warm(path, 0..records * RECORD as u64)?;
    let warm = experiments::warm(lab, path, &ids, lookups / PREAD_SHARE)?;
    let check: Vec<usize> = ids.iter().copied().take(CHECKED).collect();
    let py = run_python(lab, path, scratch, lookups / PYTHON_SHARE, &check);
    let rust_read_python = match &py {
        Some(p) if p.wrote == PY_RECORDS => Some(Flag(experiments::read_python_records(
            lab, scratch, p.wrote,
        )?)),
        Some(_) => Some(Flag(false)),
        None => None,
    };

    // From disk: each way on a freshly evicted file, the ways taking turns.
    let cold_ids = experiments::page_ids(records, COLD_LOOKUPS, 9);
    let cold = match experiments::cold_rounds(lab, path, &cold_ids, py.is_some()) {
        Ok(rows) => Ok(rows),
        Err(e) => Err(e.downcast::<NotMeasured>()?.0),
    };
    let cold_agree = cold.as_ref().map_or(true, |c| {
        let sums = c.in_place.iter().chain(&c.pread).map(|r| r.user_ids);
        let want: i64 = cold_ids
            .iter()
            .map(|&id| i64::from(Record::at(id as u64).user_id))
            .sum();
        sums.chain(c.python.iter().map(|p| p.user_ids))
            .all(|s| s == want)
    });

    let [repr_c, repr_packed, balance_offset] = experiments::layout().map(|b| Bytes::of(b as u64));
    let format = Format {
        calcsize: py.as_ref().map(|p| Bytes::of(p.calcsize[0])),
        calcsize_packed: py.as_ref().map(|p| Bytes::of(p.calcsize[1])),
        repr_c,
        repr_packed,
        balance_offset,
        packed_right: py.as_ref().map(|p| Count::of(p.packed_right)),
        python_read_rust: py.as_ref().map(|p| Flag(python_read(p, &check))),
        rust_read_python,
        ways_agree: Flag(warm.agree && cold_agree && py.as_ref().is_none_or(|p| p.agree)),
        misaligned_refused: Flag(warm.misaligned.is_err()),
    };
    lab.record("format", &format);
    if let Err(e) = warm.misaligned {
        lab.note(format!(
            "bytemuck refused to cast the map at offset 1: {e:?}"
        ));
    }

    // [8.no-copy] "no disk, no RAM copy"
    let no_copy = cold.as_ref().map_err(not_measured).map(|c| NoCopy {
        in_place: Flag(warm.in_map),
        values_match: Flag(format.values_match()),
        warm_major: Count::of(warm.in_place.iter().map(|s| s.majflt).sum::<u64>()),
        warm_disk: warm.disk.map(Bytes::of),
        cold_lookups: Count::of(cold_ids.len()),
        cold_major: Count::of(median_of(&c.in_place, |r| r.sample.majflt as f64) as u64),
        cold_disk: c
            .in_place
            .iter()
            .all(|r| r.disk.is_some())
            .then(|| Bytes(median_of(&c.in_place, |r| r.disk.unwrap_or(0) as f64))),
        python_cold_major: (!c.python.is_empty())
            .then(|| Count(median_of(&c.python, |p| p.major as f64))),
        python_slice_copies: py.as_ref().map(|p| Flag(p.slice_kept)),
        python_view_shares: py.as_ref().map(|p| Flag(p.view_saw)),
    });
    lab.check_if("8.no-copy", verdicts::no_copy, no_copy)?;

    // [8.fast] "extremely fast random access"
    let fast = fast(
        &warm,
        py.as_ref(),
        cold.as_ref().ok(),
        lookups,
        cold_ids.len(),
    );
    lab.check("8.fast", verdicts::fast, &fast);

    lab.try_next("just lesson 8 --size 1G   (random lookups over a file bigger than the caches)");
    lab.try_next("just lesson 9   (one map shared by several processes)");
    Ok(())
}

/// Runs the notes' Python on the cached file: its timed ways, the padding, the `check` ids
/// read back for Rust, and records written into `scratch`.
fn run_python(
    lab: &mut Lab,
    path: &std::path::Path,
    scratch: &std::path::Path,
    lookups: usize,
    check: &[usize],
) -> Option<PyWarm> {
    let (lookups, runs) = (lookups.to_string(), lab.runs.to_string());
    let check: Vec<String> = check.iter().map(ToString::to_string).collect();
    let mut args = vec![OsStr::new("warm"), path.as_os_str(), OsStr::new(&lookups)];
    args.extend([OsStr::new(&runs), scratch.as_os_str()]);
    args.extend(check.iter().map(OsStr::new));
    lab.python::<PyWarm>("the notes' snippet", PYTHON, &args)
        .map(|r| r.out)
}

/// Whether Python read, for each check id, the record Rust wrote there.
fn python_read(p: &PyWarm, check: &[usize]) -> bool {
    p.checked.len() == check.len()
        && p.checked.iter().zip(check).all(|(&(id, bits), &i)| {
            let r = Record::at(i as u64);
            id == r.user_id && bits == r.balance.to_bits()
        })
}

/// The median of one number of each run.
fn median_of<T>(runs: &[T], f: impl Fn(&T) -> f64) -> f64 {
    mmap_lab::measure::median(&runs.iter().map(f).collect::<Vec<_>>())
}

/// The [8.fast] findings: every way's runs, per lookup.
fn fast(w: &Warm, py: Option<&PyWarm>, cold: Option<&ColdRows>, n: usize, cold_n: usize) -> Fast {
    let per = |s: &[Sample], n: usize| Spread::of_samples(s, n as f64);
    let py_per = |secs: &[f64], n: u64| Spread::of(secs).per(n as f64);
    let cold_per = |rows: &[Cold]| {
        let s: Vec<Sample> = rows.iter().map(|r| r.sample).collect();
        per(&s, cold_n)
    };
    let in_place = per(&w.in_place, n);
    let python_slice = py.map(|p| py_per(&p.slice, p.lookups));
    Fast {
        in_place,
        copy_out: per(&w.copy_out, n),
        pread: per(&w.pread, n / PREAD_SHARE),
        python_slice,
        python_unpack_from: py.map(|p| py_per(&p.unpack_from, p.lookups)),
        python_pread: py.map(|p| py_per(&p.pread, p.pread_lookups)),
        python_ratio: python_slice.map(|s| Ratio(s.median / in_place.median)),
        cold_in_place: cold.map(|c| cold_per(&c.in_place)),
        cold_pread: cold.map(|c| cold_per(&c.pread)),
        cold_python: cold.filter(|c| !c.python.is_empty()).map(|c| {
            Spread::of(&c.python.iter().map(|p| p.secs).collect::<Vec<_>>()).per(cold_n as f64)
        }),
    }
}
