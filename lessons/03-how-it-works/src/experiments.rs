//! Lesson 3's experiments: touch pages of an evicted map, evict them again, time random
//! reads. Plain Rust and mmap-lab's instruments; the verdicts are in `verdicts.rs`.

use std::path::Path;
use std::process::Command;

use memmap2::Mmap;
use mmap_lab::cache::Advice;
use mmap_lab::measure::{Sample, probe, smaps_of};
use mmap_lab::quantity::Pages;
use mmap_lab::{Lab, cache};

/// What touching some pages through a mapping did.
pub struct Pass {
    pub sample: Sample,
    /// Page-cache residency of every page of the file afterwards (`mincore`).
    pub resident: Vec<bool>,
    /// Pages of the file this process maps afterwards (smaps `Rss`; `None` without /proc).
    pub mapped: Option<f64>,
}

impl Pass {
    /// Pages of the file in the page cache.
    pub fn resident(&self) -> f64 {
        self.resident.iter().filter(|&&r| r).count() as f64
    }

    /// Pages brought into the page cache per major fault.
    pub fn per_fault(&self) -> Pages {
        Pages((self.resident() / self.sample.majflt.max(1) as f64).round())
    }
}

/// Reads one byte of each of `pages` (the first touch of a page in a mapping faults), then
/// looks at what is resident once readahead has settled.
pub fn pass(map: &Mmap, pages: &[usize]) -> anyhow::Result<Pass> {
    let page = cache::page_size();
    let (sum, sample) = probe(|| pages.iter().map(|&p| u64::from(map[p * page])).sum::<u64>());
    std::hint::black_box(sum);
    Ok(Pass {
        sample,
        resident: cache::settled(|| cache::resident_pages(map))?,
        mapped: smaps_of(std::process::id(), map.as_ptr()).map(|s| s.rss as f64 / page as f64),
    })
}

/// Evicts the sample, maps it with `advice` and touches `pages`: every page resident
/// afterwards came in during this pass. The map is gone when it returns.
pub fn cold_pass(lab: &Lab, path: &Path, advice: Advice, pages: &[usize]) -> anyhow::Result<Pass> {
    lab.make_cold(path)?;
    let map = lab.map(path)?;
    cache::advise(&map, advice)?;
    pass(&map, pages)
}

/// The same cold touches with `MADV_RANDOM`, `MADV_SEQUENTIAL` and the default advice, in
/// that order: the default pass's pages stay cached for the steps after it.
pub fn under_advice(lab: &Lab, path: &Path, touched: &[usize]) -> anyhow::Result<[Pass; 3]> {
    // ANCHOR: advice
    let random = cold_pass(lab, path, Advice::Random, touched)?;
    let sequential = cold_pass(lab, path, Advice::Sequential, touched)?;
    let default = cold_pass(lab, path, Advice::Normal, touched)?;
    // ANCHOR_END: advice
    Ok([random, sequential, default])
}

/// Resident pages within `half` pages before and after each touched page, averaged over the
/// touches, and whether some count filled all `half` pages (readahead may reach further).
pub fn around(resident: &[bool], touched: &[usize], half: usize) -> (Pages, Pages, bool) {
    let len = resident.len();
    let count = |lo: usize, hi: usize| resident[lo..hi.min(len)].iter().filter(|&&r| r).count();
    let (mut behind, mut ahead, mut capped) = (0, 0, false);
    for &t in touched {
        let (b, a) = (count(t.saturating_sub(half), t), count(t + 1, t + 1 + half));
        (behind, ahead, capped) = (behind + b, ahead + a, capped || b == half || a == half);
    }
    let mean = |n: usize| Pages((n as f64 / touched.len() as f64).round());
    (mean(behind), mean(ahead), capped)
}

/// Pages of the sample left in the page cache after `posix_fadvise(DONTNEED)` while `map`
/// maps part of it, and after munmap and eviction.
pub fn evict(lab: &Lab, path: &Path, map: Mmap) -> anyhow::Result<[usize; 2]> {
    // ANCHOR: evict
    let while_mapped = cache::evict(path)?; // posix_fadvise(DONTNEED), the subject here
    drop(map); // munmap
    let after = lab.make_cold(path)?; // the same, now that nothing maps it
    // ANCHOR_END: evict
    Ok([while_mapped.resident, after.resident])
}

/// Reads `pages` of the evicted sample (`MADV_RANDOM`) cold, again through the same map and
/// through a new one, then cold with the default advice; first, the share of the file
/// resident right after mmap.
pub fn reads(lab: &Lab, path: &Path, pages: &[usize]) -> anyhow::Result<(f64, [Pass; 4])> {
    // ANCHOR: lazy
    lab.make_cold(path)?;
    let first = lab.map(path)?;
    cache::advise(&first, Advice::Random)?;
    let at_map = cache::residency(&first)?.fraction(); // what mmap itself loaded
    let cold = pass(&first, pages)?; // a disk read per page
    let mapped = pass(&first, pages)?; // no fault at all
    drop(first);
    let cached = pass(&lab.map(path)?, pages)?; // a minor fault per page
    // ANCHOR_END: lazy
    let default = cold_pass(lab, path, Advice::Normal, pages)?;
    Ok((at_map, [cold, mapped, cached, default]))
}

/// Pages of the file in the page cache by `fincore` (util-linux), a second opinion on
/// mincore; `None` when it is not installed or failed.
pub fn fincore_pages(path: &Path) -> Option<f64> {
    let out = Command::new("fincore")
        .args(["--raw", "--noheadings", "--output", "PAGES"])
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(())?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
