//! Lesson 13's experiments: the same file through a map and through `read()`, cold and
//! cached, against a scan of a copy already in RAM; the work the kernel does unasked —
//! readahead, keeping pages cached, writing back a shared map's dirty pages — and, on
//! request, a file larger than the page cache. Plain Rust and mmap-lab's instruments; the
//! verdicts are in `verdicts.rs`.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use memmap2::MmapMut;
use mmap_lab::data::{Content, Spec, read_exact_at};
use mmap_lab::kernel::{cachestat, page_table_bytes};
use mmap_lab::measure::{Sample, disk_read_bytes, median, probe, smaps_of, system_memory};
use mmap_lab::quantity::{Bytes, Fraction, Secs};
use mmap_lab::scan::{checksum, fill};
use mmap_lab::{BadInput, Lab, Spread, cache, not_measured, size};

use crate::verdicts::Beyond;

/// The read() loop's buffer: small enough to stay in the CPU's cache, so that the loop
/// pays for the copy out of the page cache and little else.
pub const BUF: usize = 128 << 10;

// ANCHOR: paths
/// File → kernel → user: every read() copies a buffer's worth out of the page cache.
pub fn read_loop(path: &Path) -> io::Result<u64> {
    let (mut file, mut buf) = (File::open(path)?, vec![0u8; BUF]);
    let mut sum = 0u64;
    loop {
        let n = fill(&mut file, &mut buf)?;
        if n == 0 {
            return Ok(sum);
        }
        sum = sum.wrapping_add(checksum(&buf[..n])); // BUF is a multiple of 8
    }
}

/// File → memory: the map's pages *are* the page cache; the first touch of each faults
/// it in (and sets up its page-table entry), no copy.
pub fn map_scan(lab: &Lab, path: &Path) -> anyhow::Result<(u64, Option<u64>)> {
    let map = lab.map(path)?;
    let sum = checksum(&map);
    Ok((sum, page_table_bytes())) // the page tables, while the map still has them
}
// ANCHOR_END: paths

/// One scan of the whole file: what it cost and what it read from the disk.
#[derive(Debug, Clone, Copy)]
pub struct Scan {
    pub sum: u64,
    pub sample: Sample,
    /// Bytes this process read from storage meanwhile (`/proc/self/io`).
    pub disk: Option<u64>,
    /// Page tables the map took (VmPTE while mapped, less before); 0 for the read() loop.
    pub page_tables: u64,
}

/// The paths a scan can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Read,
    Map,
}

/// Scans `path` one way, measured.
pub fn scan(lab: &Lab, way: Way, path: &Path) -> anyhow::Result<Scan> {
    let (pte, disk) = (page_table_bytes(), disk_read_bytes());
    let (out, sample) = probe(|| match way {
        Way::Read => read_loop(path).map(|s| (s, None)).map_err(Into::into),
        Way::Map => map_scan(lab, path),
    });
    let (sum, mapped_pte) = out?;
    let disk = disk
        .zip(disk_read_bytes())
        .map(|(a, b)| b.saturating_sub(a));
    let page_tables = pte.zip(mapped_pte).map_or(0, |(a, b)| b.saturating_sub(a));
    Ok(Scan {
        sum,
        sample,
        disk,
        page_tables,
    })
}

/// Each path `lab.runs` times, taking turns, each on a freshly evicted file when `cold`.
pub fn scans(lab: &Lab, path: &Path, cold: bool) -> anyhow::Result<[Vec<Scan>; 2]> {
    let ways = [Way::Read, Way::Map];
    let mut rows = lab.turns(path, (lab.runs, 2, cold), |i| scan(lab, ways[i], path))?;
    let map = rows.pop().unwrap_or_default();
    Ok([rows.pop().unwrap_or_default(), map])
}

/// The wall times of scans, as a spread.
pub fn spread(scans: &[Scan]) -> Spread {
    let samples: Vec<Sample> = scans.iter().map(|s| s.sample).collect();
    Spread::of_samples(&samples, 1.0)
}

/// The ceiling: the same checksum over a copy of the file already in RAM (a `Vec` read
/// once beforehand), `runs` times; and the checksum.
pub fn in_ram(path: &Path, runs: u32) -> anyhow::Result<(Spread, u64)> {
    let copy = std::fs::read(path)?;
    let (sum, samples) = mmap_lab::measure::probe_runs(runs, || checksum(&copy));
    Ok((Spread::of_samples(&samples, 1.0), sum))
}

/// A map already faulted in, scanned again `runs` times: no faults left to take.
pub fn map_again(lab: &Lab, path: &Path, runs: u32) -> anyhow::Result<Spread> {
    let map = lab.map(path)?;
    std::hint::black_box(checksum(&map));
    let (_, samples) = mmap_lab::measure::probe_runs(runs, || checksum(&map));
    Ok(Spread::of_samples(&samples, 1.0))
}

/// Compares the map with what read() returns, buffer by buffer: the bytes compared, and
/// whether every one was equal.
pub fn same_bytes(lab: &Lab, path: &Path) -> anyhow::Result<(u64, bool)> {
    let map = lab.map(path)?;
    let (mut file, mut buf) = (File::open(path)?, vec![0u8; BUF]);
    let (mut at, mut equal) = (0usize, true);
    loop {
        let n = fill(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        equal &= map.get(at..at + n) == Some(&buf[..n]);
        at += n;
    }
    Ok((at as u64, equal && at == map.len()))
}

/// Pages of a cold map touched one byte each, and what the kernel brought in around them.
#[derive(Debug, Clone, Copy)]
pub struct Touched {
    pub touched: usize,
    pub resident: usize,
}

/// Evicts the file, touches one byte in each of `touches` equal stretches of a fresh map
/// (no advice: the kernel's defaults) and counts the file's resident pages once readahead
/// has settled.
pub fn readahead(lab: &Lab, path: &Path, touches: usize) -> anyhow::Result<Touched> {
    lab.make_cold(path)?;
    let map = lab.map(path)?;
    // ANCHOR: readahead
    let stride = map.len() / touches;
    let sum: u64 = (0..touches).map(|i| u64::from(map[i * stride])).sum();
    std::hint::black_box(sum); // `touches` pages asked for; how many did the kernel read?
    let resident = cache::settled(|| cache::residency(&map))?;
    // ANCHOR_END: readahead
    Ok(Touched {
        touched: touches,
        resident: resident.resident,
    })
}

/// A shared writable map of a scratch file, written one byte per page and left unsynced:
/// whose dirty pages the kernel may write back on its own.
#[derive(Debug)]
pub struct Dirtied {
    file: File,
    map: MmapMut,
    at: Instant,
    /// Dirty pages of the file right after the writes.
    pub dirty: u64,
    /// read() returned the bytes just stored through the map, before any msync.
    pub seen_by_read: bool,
}

/// Writes one byte into every page of `path` (a scratch file of this run) through a shared
/// map, without msync, and reads the first page back with read().
pub fn dirty(path: &Path) -> anyhow::Result<Dirtied> {
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    // SAFETY: the file is a scratch file of this run, which nothing else opens; it is not
    // truncated while mapped, and the map is only ever accessed through this `MmapMut`.
    let mut map = unsafe { MmapMut::map_mut(&file)? };
    // ANCHOR: dirty
    for i in (0..map.len()).step_by(cache::page_size()) {
        map[i] = map[i].wrapping_add(1); // memory → file: the page is now dirty
    }
    let at = Instant::now(); // no msync from here on: writeback is the kernel's business
    let mut first = [0u8; 1];
    read_exact_at(&file, &mut first, 0)?; // what read() says the file holds now
    // ANCHOR_END: dirty
    let dirty = dirty_pages(&file, &map);
    Ok(Dirtied {
        seen_by_read: first[0] == map[0],
        dirty,
        at,
        file,
        map,
    })
}

/// Dirty pages of the file, counting those under writeback (cachestat), or else of the map
/// (`smaps`).
fn dirty_pages(file: &File, map: &MmapMut) -> u64 {
    match cachestat(file) {
        Ok(c) => c.dirty + c.writeback,
        Err(_) => smaps_of(std::process::id(), map.as_ptr())
            .map_or(0, |s| s.shared_dirty / cache::page_size() as u64),
    }
}

/// What the watch for writeback saw.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    /// How long after the writes the watch ended.
    pub after: Duration,
    /// Dirty pages left then.
    pub left: u64,
}

/// Watches the dirtied file, every 50 ms, until all its pages are clean or `wait` has
/// passed since the writes; the lesson never syncs it.
pub fn watch(d: &Dirtied, wait: Duration) -> Watched {
    loop {
        let left = dirty_pages(&d.file, &d.map);
        if left == 0 || d.at.elapsed() >= wait {
            return Watched {
                after: d.at.elapsed(),
                left,
            };
        }
        std::thread::sleep(Duration::from_millis(50).min(wait.saturating_sub(d.at.elapsed())));
    }
}

/// Pages of a file that memory reclaim evicted (cachestat); `None` where it cannot tell.
pub fn evicted(path: &Path) -> Option<u64> {
    cachestat(&File::open(path).ok()?).ok().map(|c| c.evicted)
}

/// The bytes a set of scans read from disk, median; a [`NotMeasured`](mmap_lab::NotMeasured) where the platform
/// does not count them.
pub fn disk(scans: &[Scan]) -> anyhow::Result<Bytes> {
    let bytes: Option<Vec<f64>> = scans.iter().map(|s| s.disk.map(|d| d as f64)).collect();
    bytes
        .map(|b| Bytes(median(&b)))
        .ok_or_else(|| not_measured("/proc/self/io does not count disk reads here"))
}

/// The median of one number of a set of scans.
pub fn med(scans: &[Scan], f: fn(&Scan) -> f64) -> f64 {
    median(&scans.iter().map(f).collect::<Vec<_>>())
}

/// The default --beyond-cache file: this much more than the RAM available.
const BEYOND_FACTOR: f64 = 1.25;

/// The --beyond-cache file: `size`, or 1.25 × the RAM available; refused where that cannot
/// be told, or where the data directory is itself in RAM.
pub fn beyond_spec(lab: &Lab, size: Option<u64>, available: Option<u64>) -> anyhow::Result<Spec> {
    let refuse = |why: &str| Err(BadInput(format!("--beyond-cache: {why}")).into());
    if lab.data.is_tmpfs() {
        return refuse(
            "the data directory is on tmpfs, in RAM, where a file larger than RAM cannot \
             live; use --dir on a disk filesystem",
        );
    }
    let size = match (size, available) {
        (Some(s), _) => s,
        (None, Some(a)) => ((a as f64 * BEYOND_FACTOR) as u64).next_multiple_of(1 << 20),
        (None, None) => return refuse("the RAM available is not known here; give --beyond-size"),
    };
    Ok(Spec::new("beyond", size, Content::Random { seed: 132 }).scratch())
}

/// Warns how long it will take (from `rate`, the bytes per second a cold scan read), makes
/// the big scratch file, evicts it and scans it through a map twice; returns the findings
/// and the pages of it that memory reclaim evicted.
pub fn beyond(
    lab: &mut Lab,
    spec: Spec,
    rate: Option<f64>,
) -> anyhow::Result<(Beyond, Option<u64>)> {
    let available = system_memory().map_or(0, |m| m.available);
    let estimate = rate.map_or_else(
        || "an unknown time (no cold scan measured)".to_string(),
        |r| {
            let min = (3.0 * spec.size as f64 / r / 60.0).ceil();
            format!(
                "about {min} min at the {}/s this disk read cold",
                size::fmt(r as u64)
            )
        },
    );
    mmap_lab::warn!(
        "lesson-13: --beyond-cache: writing a {} scratch file ({} of RAM available; deleted at \
         the end) and scanning it twice: {estimate}. Ctrl-C stops it.",
        size::fmt(spec.size),
        size::fmt(available)
    );
    let path = lab.file(spec.clone())?;
    lab.make_cold(&path)?;
    // ANCHOR: beyond
    let first = scan(lab, Way::Map, &path)?; // from disk: the page cache fills, then evicts
    let second = scan(lab, Way::Map, &path)?; // is any of it still cached?
    // ANCHOR_END: beyond
    let found = Beyond {
        size: Bytes::of(spec.size),
        available: Bytes::of(available),
        first: Secs::of(first.sample.wall),
        second: Secs::of(second.sample.wall),
        second_disk: second.disk.map(Bytes::of),
        resident: Fraction(cache::file_residency(&path)?.fraction()),
    };
    Ok((found, evicted(&path)))
}
