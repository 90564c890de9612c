//! Lesson 1's experiments: one task — add up the bytes of a slice in the middle of a file —
//! done three ways, and random 8-byte reads done three ways. Plain Rust and mmap-lab's
//! instruments; the verdicts are in `verdicts.rs`.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result};
use memmap2::Mmap;
use mmap_lab::measure::{Sample, probe, probe_runs};
use mmap_lab::quantity::{Bytes, Count, Flag};
use mmap_lab::{Lab, Spread, cache, data};

use crate::verdicts::{Random, Waste, Way};

fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

// ANCHOR: ways
/// The notes' way: read the whole file, then use the slice.
fn read_whole(path: &Path, slice: &Range<usize>) -> Result<(u64, Vec<u8>)> {
    let data = fs::read(path)?;
    Ok((sum(&data[slice.clone()]), data))
}

/// Plain file I/O done with care: seek to the slice and read only it.
fn read_slice(path: &Path, slice: &Range<usize>) -> Result<(u64, Vec<u8>)> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(slice.start as u64))?;
    let mut buf = vec![0u8; slice.len()];
    file.read_exact(&mut buf)?;
    Ok((sum(&buf), buf))
}

/// mmap: map the whole file, touch only the slice.
fn map_slice(lab: &Lab, path: &Path, slice: &Range<usize>) -> Result<(u64, Mmap)> {
    let map = lab.map(path)?;
    Ok((sum(&map[slice.clone()]), map))
}
// ANCHOR_END: ways

// ANCHOR: random
/// Random access the plain I/O way: one `pread` system call per read.
fn pread_all(file: &File, offsets: &[usize]) -> Result<u64> {
    let mut word = [0u8; 8];
    offsets.iter().try_fold(0u64, |total, &at| {
        data::read_exact_at(file, &mut word, at as u64).context("pread")?;
        Ok(total.wrapping_add(u64::from_le_bytes(word)))
    })
}

/// Random access to bytes in memory: a map or a `Vec` alike.
fn index_all(bytes: &[u8], offsets: &[usize]) -> u64 {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    offsets.iter().fold(0, |t, &at| t.wrapping_add(word(at)))
}
// ANCHOR_END: random

/// One run of one way: its sample, and the page cache it took in over the watched range.
type Run = (Sample, u64);

/// Runs `f` once, probed, watching the page cache over `watch` of `path`.
fn watched<T>(path: &Path, watch: &Range<u64>, f: impl FnOnce() -> Result<T>) -> Result<(T, Run)> {
    let before = cache::file_range_residency(path, watch.clone())?.resident_bytes();
    let (out, sample) = probe(f);
    let after = cache::file_range_residency(path, watch.clone())?.resident_bytes();
    Ok((out?, (sample, after.saturating_sub(before))))
}

/// A way's runs as its [`Way`]: the time of each run per `ops`, the RAM and cache of the
/// median-time run (its sample is returned too).
fn way(runs: &[Run], ops: f64) -> (Way, Sample) {
    let mut runs = runs.to_vec();
    runs.sort_by_key(|r| r.0.wall);
    let (median, intake) = runs[(runs.len() - 1) / 2];
    let samples: Vec<Sample> = runs.iter().map(|r| r.0).collect();
    let way = Way {
        peak_growth: Bytes(median.peak_growth().map_or(f64::NAN, |g| g as f64)),
        cache_intake: Bytes::of(intake),
        time: Spread::of_samples(&samples, ops),
    };
    (way, median)
}

/// Random reads land in the first this-many bytes, so warming them stays cheap.
const RANDOM_SPAN: u64 = 256 << 20;
/// Random reads per run: warm, and with `--cold` (each may wait for the disk).
const READS: [usize; 2] = [100_000, 1_000];
/// The page cache is watched this far around the slice (or two readahead windows if more).
const WATCH_MARGIN: u64 = 64 << 20;

/// Does the task on the `len` bytes in the middle of `path` three ways taking turns
/// (fs::read only when `whole`), each run from one page-cache state: evicted with `--cold`,
/// else warmed. The cache is watched over the file for fs::read, near the slice else. Also
/// returns the Vec fs::read filled last.
pub fn task(lab: &Lab, path: &Path, len: u64, whole: bool) -> Result<(Waste, Option<Vec<u8>>)> {
    let (all, page) = (0..fs::metadata(path)?.len(), cache::page_size() as u64);
    let at = (all.end - len) / 2 / page * page;
    let slice = at as usize..(at + len) as usize;
    let margin = (lab.machine.read_ahead_kb.unwrap_or(0) * 2048).max(WATCH_MARGIN);
    let near = at.saturating_sub(margin)..at + len + margin;
    if !lab.cold {
        cache::warm(path, if whole { all.clone() } else { near.clone() })?;
    }
    let mut vec = None;
    let ways = (lab.runs, 2 + usize::from(whole), lab.cold);
    let runs = lab.turns(path, ways, |i| match i {
        0 => Ok(watched(path, &near, || read_slice(path, &slice))?.1),
        1 => Ok(watched(path, &near, || map_slice(lab, path, &slice))?.1),
        _ => {
            vec = None; // the last run's Vec goes before this run's RSS is taken
            let ((_, data), run) = watched(path, &all, || read_whole(path, &slice))?;
            vec = Some(data);
            Ok(run)
        }
    })?;
    let waste = Waste {
        slice: Bytes::of(len),
        file: Bytes::of(all.end),
        whole: runs.get(2).map(|r| way(r, 1.0).0),
        map: way(&runs[1], 1.0).0,
        seek: way(&runs[0], 1.0).0,
    };
    Ok((waste, vec))
}

/// Random 8-byte reads near the start of `path`, taking turns: with pread, through a fresh
/// map, through that map again once its pages are mapped; then from `vec`.
pub fn random(lab: &Lab, path: &Path, vec: Option<&[u8]>) -> Result<Random> {
    let (span, reads) = (lab.size.min(RANDOM_SPAN), READS[usize::from(lab.cold)]);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut offsets = || Vec::from_iter((0..reads).map(|_| rng.usize(..span as usize - 8)));
    let (a, b, all) = (offsets(), offsets(), 0..span);
    let file = lab.open(path)?;
    if !lab.cold {
        cache::warm(path, all.clone())?;
    }
    let fresh = || lab.map(path).map(|map| (index_all(&map, &a), map)); // unmapped untimed
    let runs = lab.turns(path, (lab.runs, 2, lab.cold), |i| match i {
        0 => Ok(watched(path, &all, || pread_all(&file, &a))?.1),
        _ => Ok(watched(path, &all, fresh)?.1),
    })?;
    let (_, map) = fresh()?; // as a fresh run leaves it: then read at other offsets
    let mapped = probe_runs(lab.runs, || index_all(&map, &b)).1;
    let n = reads as f64;
    let ((pread, _), (fresh, fresh_run)) = (way(&runs[0], n), way(&runs[1], n));
    let on_vec = vec.map(|v| probe_runs(lab.runs, || index_all(v, &a)).1);
    Ok(Random {
        reads: Count::of(reads),
        cold: Flag(lab.cold),
        pread: pread.time,
        fresh_map: fresh.time,
        fresh_faults: Count::of(fresh_run.faults()),
        map: Spread::of_samples(&mapped, n),
        map_faults: Count::of(mapped.iter().map(Sample::faults).max().unwrap_or(0)),
        vec: on_vec.map(|s| Spread::of_samples(&s, n)),
        pread_intake: pread.cache_intake,
        fresh_intake: fresh.cache_intake,
    })
}
