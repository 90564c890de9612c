//! Lesson 1's experiments: one task — add up the bytes of a slice in the middle of a file —
//! done three ways, and random 8-byte reads done three ways. Plain Rust and mmap-lab's
//! instruments; the verdicts are in `verdicts.rs`.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use memmap2::Mmap;
use mmap_lab::measure::{Sample, probe, probe_runs, walls};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction};
use mmap_lab::{Lab, Spread, cache, data};

use crate::verdicts::{Random, Way};

fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

// ANCHOR: ways
/// The notes' way: read the whole file, then use the slice.
fn read_whole(path: &Path, slice: &Range<usize>) -> anyhow::Result<(Vec<u8>, u64)> {
    let data = fs::read(path)?;
    let total = sum(&data[slice.clone()]);
    Ok((data, total))
}

/// Plain file I/O done with care: seek to the slice and read only it.
fn read_slice(path: &Path, slice: &Range<usize>) -> anyhow::Result<(Vec<u8>, u64)> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(slice.start as u64))?;
    let mut buf = vec![0u8; slice.len()];
    file.read_exact(&mut buf)?;
    let total = sum(&buf);
    Ok((buf, total))
}

/// mmap: map the whole file, touch only the slice.
fn map_slice(lab: &Lab, path: &Path, slice: &Range<usize>) -> anyhow::Result<(Mmap, u64)> {
    let map = lab.map(path)?;
    let total = sum(&map[slice.clone()]);
    Ok((map, total))
}
// ANCHOR_END: ways

// ANCHOR: random
/// Random access the plain I/O way: one `pread` system call per read.
fn pread_all(file: &File, offsets: &[usize]) -> anyhow::Result<u64> {
    let mut total = 0u64;
    let mut word = [0u8; 8];
    for &at in offsets {
        data::read_exact_at(file, &mut word, at as u64).context("pread")?;
        total = total.wrapping_add(u64::from_le_bytes(word));
    }
    Ok(total)
}

/// Random access to bytes in memory: a map or a `Vec` alike.
fn index_all(bytes: &[u8], offsets: &[usize]) -> u64 {
    let mut total = 0u64;
    let mut word = [0u8; 8];
    for &at in offsets {
        word.copy_from_slice(&bytes[at..at + 8]);
        total = total.wrapping_add(u64::from_le_bytes(word));
    }
    total
}
// ANCHOR_END: random

/// What one way cost: the last run's value, its [`Way`], and the page faults and share of
/// the watched range cached of its median-time run.
struct Cost<T> {
    out: T,
    way: Way,
    faults: u64,
    cached: Fraction,
}

/// Runs `f` `lab.runs` times, each from the same page-cache state: evicted first with
/// `--cold`, else warmed over `watch` before the first run. Each run's value is dropped
/// before the next run starts (pages still mapped cannot be evicted).
fn cost<T>(
    lab: &Lab,
    path: &Path,
    watch: Range<u64>,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<Cost<T>> {
    if !lab.cold {
        cache::warm(path, watch.clone())?;
    }
    let (mut out, mut runs) = (None, Vec::new());
    for _ in 0..lab.runs {
        drop(out.take());
        lab.prepare(path)?;
        let before = cache::file_range_residency(path, watch.clone())?;
        let (value, sample) = probe(&mut f);
        out = Some(value.with_context(|| lab.show(path))?);
        let after = cache::file_range_residency(path, watch.clone())?;
        let intake = after
            .resident_bytes()
            .saturating_sub(before.resident_bytes());
        runs.push((sample, intake, after.fraction()));
    }
    let time = Spread::of(&walls(&runs.iter().map(|r| r.0).collect::<Vec<_>>()));
    runs.sort_by_key(|r| r.0.wall);
    let (sample, intake, cached) = runs[(runs.len() - 1) / 2];
    let peak_growth = Bytes(sample.peak_growth().map_or(f64::NAN, |g| g as f64));
    let way = Way {
        peak_growth,
        cache_intake: Bytes::of(intake),
        time,
    };
    let out = out.context("no run was made")?;
    Ok(Cost {
        out,
        way,
        faults: sample.faults(),
        cached: Fraction(cached),
    })
}

/// Random reads land in the first this-many bytes, so warming them stays cheap.
const RANDOM_SPAN: u64 = 256 << 20;
/// Random reads per run: warm, and with `--cold` (each may wait for the disk).
const READS: [usize; 2] = [100_000, 1_000];
/// The page cache is watched this far around the slice (or two readahead windows if more).
const WATCH_MARGIN: u64 = 64 << 20;

/// What the three ways of doing the task cost on one file.
#[derive(Debug)]
pub struct Point {
    /// fs::read, and the share of the file cached after it; `None` when not tried.
    pub whole: Option<(Way, Fraction)>,
    pub seek: Way,
    pub map: Way,
    /// The Vec fs::read filled.
    pub vec: Option<Vec<u8>>,
}

/// Does the task three ways on `path` (fs::read only when `whole`), watching the page cache
/// over the whole file for fs::read and around the slice for the other two.
pub fn task(lab: &Lab, path: &Path, slice: &Range<usize>, whole: bool) -> anyhow::Result<Point> {
    let all = 0..fs::metadata(path)?.len();
    let read = whole
        .then(|| cost(lab, path, all, || read_whole(path, slice)))
        .transpose()?;
    let (whole, vec) = read.map(|c| ((c.way, c.cached), c.out.0)).unzip();
    let ra = lab.machine.read_ahead_kb.map_or(0, |kb| 2 * kb * 1024);
    let margin = ra.max(WATCH_MARGIN);
    let watch = (slice.start as u64).saturating_sub(margin)..slice.end as u64 + margin;
    let seek = cost(lab, path, watch.clone(), || read_slice(path, slice))?.way;
    let map = cost(lab, path, watch, || map_slice(lab, path, slice))?.way;
    Ok(Point {
        whole,
        seek,
        map,
        vec,
    })
}

/// Random 8-byte reads near the start of `path`: with pread, through a fresh map, through
/// that map again once its pages are mapped, and from `vec`.
pub fn random(lab: &Lab, path: &Path, vec: Option<&[u8]>) -> anyhow::Result<Random> {
    let (span, reads) = (lab.size.min(RANDOM_SPAN), READS[usize::from(lab.cold)]);
    let offsets = |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..reads)
            .map(|_| rng.usize(0..span as usize - 8))
            .collect::<Vec<_>>()
    };
    let (a, b) = (offsets(11), offsets(12));
    let file = lab.open(path)?;
    let pread = cost(lab, path, 0..span, || pread_all(&file, &a))?;
    let fresh = cost(lab, path, 0..span, || {
        let map = lab.map(path)?;
        let total = index_all(&map, &a);
        Ok((map, total))
    })?;
    let mapped = probe_runs(lab.runs, || index_all(&fresh.out.0, &b)).1;
    let on_vec = vec.map(|v| probe_runs(lab.runs, || index_all(v, &a)).1);
    let n = reads as f64;
    let per = |s: &[Sample]| Spread::of(&walls(s)).per(n);
    Ok(Random {
        reads: Count::of(reads),
        span: Bytes::of(span),
        cold: Flag(lab.cold),
        pread: pread.way.time.per(n),
        fresh_map: fresh.way.time.per(n),
        fresh_faults: Count::of(fresh.faults),
        map: per(&mapped),
        map_faults: Count::of(mapped.iter().map(Sample::faults).max().unwrap_or(0)),
        vec: on_vec.as_deref().map(per),
        pread_intake: pread.way.cache_intake,
        fresh_intake: fresh.way.cache_intake,
    })
}
