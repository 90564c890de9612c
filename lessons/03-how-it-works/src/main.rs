//! Lesson 3 · How mmap works: pages come into RAM when touched and leave when evicted.
//!
//! The notes say the file is mapped into the virtual address space and then:
//! - [3.page-4k] it is handled in pages, "usually 4 KB": we read the page size and measure
//!   how much one fault really loads and maps — one page with `MADV_RANDOM`, a whole
//!   readahead window (`read_ahead_kb`) with the default advice;
//! - [3.in] pages come into RAM when needed: after evicting the sample, a few touches make
//!   exactly the touched pages resident (`mincore`) with `MADV_RANDOM`, and whole windows
//!   around them (default advice) or ahead of them (`MADV_SEQUENTIAL`);
//! - [3.out] pages are evicted when not needed: we watch what unmapping and
//!   `posix_fadvise(DONTNEED)` do to residency — and say what we do not show (eviction under
//!   memory pressure, which a lesson should not create on the reader's machine);
//! - [3.lazy] lazy loading: mapping loads nothing, and a page costs a disk read at its first
//!   touch only — random reads timed cold, warm (cached, new mapping) and mapped;
//! - [3.therefore] hence a big file, little RAM and fast random access: how much of the file
//!   random reads keep resident, and what one read costs cold and warm, with `MADV_RANDOM`
//!   and with the default advice.
//!
//! The lesson makes the sample cold itself (evicting it after unmapping) wherever a step
//! needs it, so `--cold` is implied.

use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::Context;
use memmap2::{Advice, Mmap};
use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::{Sample, Smaps, probe, smaps_of};
use mmap_lab::{Lab, Lesson, Report, Unit, Verdict, cache, size};

const LESSON: Lesson = Lesson {
    number: 3,
    title: "How mmap works",
    about: "Evicts a sample file, maps it and watches pages come in (mincore, page faults) \
            when they are touched: one page per fault with MADV_RANDOM, a readahead window \
            with the default advice, fault-around on warm faults. Then unmaps and evicts to \
            watch them leave, and times random reads cold, warm and mapped. Cold steps evict \
            the sample themselves, so --cold is implied.",
    default_size: 256 << 20,
};

/// Cold touches, one in the middle of each of this many equal slices of the file.
const TOUCHES: usize = 8;
/// Random page reads for timing random access.
const READS: usize = 256;
/// The smallest sample on any disk: the `READS` random pages (1 MiB) stay a small part of
/// it. On a disk with a big readahead window the touches need more room ([`min_size`]).
const MIN_SIZE: u64 = 16 << 20;
/// The readahead window assumed when the disk does not say (`read_ahead_kb` unknown):
/// Linux's default.
const DEFAULT_READAHEAD: u64 = 128 << 10;
/// Seed of the random read positions.
const SEED: u64 = 3;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

/// The smallest sample whose touches cannot share readahead: a fault reads at most
/// `readahead` bytes, half behind and half ahead of its page with the default advice, all
/// ahead with `MADV_SEQUENTIAL`. With the touches a slice apart and half a slice looked at
/// on each side of each, a slice of 2 × `readahead` keeps every window apart and inside the
/// part of the file we count for its own touch.
fn min_size(readahead: u64) -> u64 {
    MIN_SIZE.max(2 * TOUCHES as u64 * readahead)
}

/// Maps the whole sample read-only.
fn map(file: &File) -> anyhow::Result<Mmap> {
    // SAFETY: the file is this lesson's own sample in its data directory; nothing writes or
    // truncates it while it is mapped.
    unsafe { Mmap::map(file) }.context("mmap")
}

/// Reads one byte of each listed page; the first touch of a page in a mapping faults.
fn touch(map: &[u8], pages: &[usize], page: usize) -> u64 {
    pages.iter().map(|&p| u64::from(map[p * page])).sum()
}

/// What touching some pages through a mapping did.
struct Pass {
    sample: Sample,
    /// Page-cache residency of every page of the file afterwards (`mincore`).
    resident: Vec<bool>,
    /// This process's accounting of the mapping afterwards (`None` without /proc).
    smaps: Option<Smaps>,
}

impl Pass {
    /// Pages of the file in the page cache.
    fn resident(&self) -> usize {
        self.resident.iter().filter(|&&r| r).count()
    }

    /// Pages of the file this process has mapped (page-table entries): smaps `Rss`.
    fn mapped(&self, page: usize) -> Option<f64> {
        self.smaps.map(|s| (s.rss / page as u64) as f64)
    }
}

/// Touches `pages` through `map` and records the faults, the residency and the mapping.
fn pass(map: &Mmap, pages: &[usize], page: usize) -> anyhow::Result<Pass> {
    let (sum, sample) = probe(|| touch(map, pages, page));
    std::hint::black_box(sum);
    Ok(Pass {
        sample,
        resident: cache::settled(|| cache::resident_pages(map))?,
        smaps: smaps_of(std::process::id(), map.as_ptr()),
    })
}

/// Evicts the file, maps it with `advice` and touches `pages`: every page resident
/// afterwards came in during this pass. No other mapping of the file may be alive, since
/// mapped pages cannot be evicted; this one is unmapped when the pass returns.
fn cold_pass(
    lab: &Lab,
    path: &Path,
    file: &File,
    advice: Advice,
    pages: &[usize],
    page: usize,
) -> anyhow::Result<Pass> {
    lab.make_cold(path)?;
    let map = map(file)?;
    map.advise(advice).context("madvise")?;
    pass(&map, pages, page)
}

/// Where readahead put the pages it read: resident pages just before and just after each
/// touched page, within `half` pages, averaged over the touches.
struct Around {
    behind: f64,
    ahead: f64,
    /// Some touch had every page we looked at behind it resident, and the file went on
    /// before them: readahead may reach further than we counted.
    behind_capped: bool,
    /// The same ahead of a touch.
    ahead_capped: bool,
}

fn around(resident: &[bool], touched: &[usize], half: usize) -> Around {
    let len = resident.len();
    // Resident pages in lo..hi, and whether that is all of them with more file beyond
    // (readahead cannot pass the file's ends, so reaching one is not a cap).
    let count = |lo: usize, hi: usize, beyond: bool| {
        let window = &resident[lo.min(len)..hi.min(len)];
        let n = window.iter().filter(|&&r| r).count();
        (n, beyond && !window.is_empty() && n == window.len())
    };
    let mut a = Around {
        behind: 0.0,
        ahead: 0.0,
        behind_capped: false,
        ahead_capped: false,
    };
    for &t in touched {
        let (behind, full) = count(t.saturating_sub(half), t, t > half);
        a.behind += behind as f64;
        a.behind_capped |= full;
        let (ahead, full) = count(t + 1, t + 1 + half, t + 1 + half < len);
        a.ahead += ahead as f64;
        a.ahead_capped |= full;
    }
    let n = touched.len() as f64;
    a.behind /= n;
    a.ahead /= n;
    a
}

/// "~N" pages counted on one side of the touches, "≥N" when the count filled the part of
/// the file looked at.
fn side(count: f64, capped: bool) -> String {
    if capped {
        format!("≥{count:.0}")
    } else {
        format!("~{count:.0}")
    }
}

/// "1 page", "16 pages".
fn pages_text(n: f64) -> String {
    if n == 1.0 {
        "1 page".to_string()
    } else {
        format!("{n:.0} pages")
    }
}

/// Where a readahead window lay relative to the faulting page.
fn placement_of(behind: f64, ahead: f64) -> &'static str {
    match (behind >= 1.0, ahead >= 1.0) {
        (true, true) => "readahead around the fault",
        (false, true) => "readahead ahead of the fault",
        (true, false) => "readahead behind the fault",
        (false, false) => "no readahead",
    }
}

/// The pass with the median wall time.
fn median(mut runs: Vec<Pass>) -> Pass {
    runs.sort_by_key(|p| p.sample.wall);
    let mid = (runs.len() - 1) / 2;
    runs.swap_remove(mid)
}

/// `READS` distinct pages of `pages`, in a seeded random order.
fn random_pages(pages: usize) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut seen = std::collections::HashSet::new();
    std::iter::repeat_with(|| rng.usize(..pages))
        .filter(|p| seen.insert(*p))
        .take(READS)
        .collect()
}

/// Pages of the file in the page cache according to `fincore` (util-linux): a second
/// opinion on our mincore count. `None` when fincore is not installed.
fn fincore_pages(path: &Path) -> Option<anyhow::Result<f64>> {
    let out = match Command::new("fincore")
        .args(["--raw", "--noheadings", "--output", "PAGES"])
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(e.into())),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    Some(if out.status.success() {
        text.trim()
            .parse()
            .with_context(|| format!("it printed {text:?}"))
    } else {
        Err(anyhow::anyhow!(
            "{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    })
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<Report> {
    let page = cache::page_size();
    let readahead_bytes = lab
        .machine
        .read_ahead_kb
        .map_or(DEFAULT_READAHEAD, |kb| kb << 10);
    lab.require_size(min_size(readahead_bytes))
        .with_context(|| {
            format!(
                "its {TOUCHES} touches must lie 2 × readahead ({}) apart so that their \
                 readahead windows cannot overlap",
                size::fmt(readahead_bytes)
            )
        })?;
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    let mut report = lab.report();
    report.param("cold", true);
    report.param("touches", TOUCHES);
    report.param("random_reads", READS);
    let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
    let pages = lab.size as usize / page;
    let file_size = report.measure(
        "file.size",
        "sample file size",
        lab.size as f64,
        Unit::Bytes,
    );
    let readahead = lab
        .machine
        .read_ahead_kb
        .map_or("unknown".to_string(), |kb| size::fmt(kb * 1024));
    let k = TOUCHES as f64;

    // [3.page-4k] [3.in] After evicting the file, touch one byte in the middle of each
    // slice, under each advice, and see which pages came in. The default pass runs last,
    // so its pages are still cached for the steps after it.
    let slice = pages / TOUCHES;
    let touched: Vec<usize> = (0..TOUCHES).map(|i| i * slice + slice / 2).collect();
    // ANCHOR: advice
    let random = cold_pass(lab, &path, &file, Advice::Random, &touched, page)?;
    let sequential = cold_pass(lab, &path, &file, Advice::Sequential, &touched, page)?;
    let default = cold_pass(lab, &path, &file, Advice::Normal, &touched, page)?;
    // ANCHOR_END: advice
    // The default pass's mapping is gone; its pages are not.
    let after_unmap = cache::file_residency(&path)?;
    let peer = fincore_pages(&path);

    let page_size = report.measure("page.size", "page size (sysconf)", page as f64, Unit::Bytes);
    let random_res = report.measure(
        "random.resident",
        &format!("pages resident after {TOUCHES} cold touches, MADV_RANDOM"),
        random.resident() as f64,
        Unit::Pages,
    );
    let random_hit = report.measure(
        "random.touched_resident",
        "of them touched pages",
        touched.iter().filter(|&&t| random.resident[t]).count() as f64,
        Unit::Pages,
    );
    let random_majflt = report.measure(
        "random.majflt",
        "major faults of those touches",
        random.sample.majflt as f64,
        Unit::Count,
    );
    let random_unit = random.smaps.map(|s| {
        report.measure(
            "random.mapped_per_touch",
            "memory one MADV_RANDOM fault mapped (smaps Rss)",
            s.rss as f64 / k,
            Unit::Bytes,
        )
    });
    // A fault that found its page missing is major and reads its page's readahead window;
    // the touches lie far enough apart (min_size) that no window holds another touch, so
    // every page resident after a pass came in with one of its major faults.
    let mut per_fault = |name: &str, label: &str, p: &Pass| {
        report.measure(
            &format!("{name}.per_fault"),
            &format!("pages read per major fault, {label}"),
            (p.resident() as f64 / p.sample.majflt.max(1) as f64).round(),
            Unit::Pages,
        )
    };
    let random_per = per_fault("random", "MADV_RANDOM", &random);
    let default_per = per_fault("default", "default advice", &default);
    per_fault("sequential", "MADV_SEQUENTIAL", &sequential);
    let half = report.measure(
        "in.looked_at",
        "pages looked at on each side of a touched page",
        (slice / 2) as f64,
        Unit::Pages,
    );
    let mut placement = |name: &str, label: &str, p: &Pass| {
        let a = around(&p.resident, &touched, slice / 2);
        let behind = report.measure(
            &format!("{name}.behind"),
            &format!("pages read before the touched page, {label}"),
            a.behind.round(),
            Unit::Pages,
        );
        let ahead = report.measure(
            &format!("{name}.ahead"),
            &format!("pages read after the touched page, {label}"),
            a.ahead.round(),
            Unit::Pages,
        );
        let whence = if a.behind_capped || a.ahead_capped {
            format!(
                "a count that filled all {half:.0} pages looked at on its side: it shows \
                 where we stopped counting, not where readahead stopped"
            )
        } else {
            placement_of(behind, ahead).to_string()
        };
        format!(
            "{} pages before and {} after each touched page ({whence})",
            side(behind, a.behind_capped),
            side(ahead, a.ahead_capped),
        )
    };
    let default_around = placement("default", "default advice", &default);
    let seq_around = placement("sequential", "MADV_SEQUENTIAL", &sequential);
    let default_mapped = default.mapped(page).map(|m| {
        report.measure(
            "default.mapped_per_touch",
            "pages mapped per cold fault, default advice (smaps Rss)",
            (m / k).round(),
            Unit::Pages,
        )
    });

    // Fault-around: a new mapping of pages that are already cached. Each fault maps its
    // page and cached neighbours, and reads nothing.
    // ANCHOR: warm
    let warm_map = map(&file)?;
    let warm = pass(&warm_map, &touched, page)?;
    // ANCHOR_END: warm
    let warm_faults = report.measure(
        "warm.faults",
        &format!("page faults of the same {TOUCHES} touches, new mapping, cached"),
        warm.sample.faults() as f64,
        Unit::Count,
    );
    report.measure(
        "warm.majflt",
        "of them major",
        warm.sample.majflt as f64,
        Unit::Count,
    );
    let warm_unit = warm.smaps.map(|s| {
        let pmd = report.measure(
            "warm.pmd_mapped",
            "mapped in 2 MiB units (smaps FilePmdMapped)",
            s.file_pmd_mapped as f64,
            Unit::Bytes,
        );
        let per = report.measure(
            "warm.mapped_per_fault",
            "pages mapped per warm fault (fault-around)",
            ((s.rss / page as u64) as f64 / warm_faults.max(1.0)).round(),
            Unit::Pages,
        );
        (per, pmd)
    });

    // [3.page-4k] The page is the unit of memory; the unit of loading is the readahead
    // window, the unit of mapping on a warm fault the fault-around window.
    let mut evidence = vec!["page.size", "random.per_fault", "default.per_fault"];
    let unit_text = random_unit.map_or(
        format!(
            ", and one MADV_RANDOM fault read {}",
            pages_text(random_per)
        ),
        |b| {
            evidence.push("random.mapped_per_touch");
            format!(
                ", and one MADV_RANDOM fault read {} and mapped {} (smaps Rss)",
                pages_text(random_per),
                size::fmt_f64(b)
            )
        },
    );
    let cold_mapped_text = default_mapped.map_or(String::new(), |m| {
        evidence.push("default.mapped_per_touch");
        format!(", of which it mapped {m:.0} into this process")
    });
    let warm_text = warm_unit.map_or(String::new(), |(per, pmd)| {
        evidence.extend(["warm.mapped_per_fault", "warm.pmd_mapped"]);
        let pmd_text = if pmd > 0.0 {
            format!("{} of the mapping as 2 MiB units", size::fmt_f64(pmd))
        } else {
            "nothing as 2 MiB units (FilePmdMapped 0)".to_string()
        };
        let around = if per > 1.0 { " (fault-around)" } else { "" };
        format!("; a fault on cached pages mapped {per:.0} pages{around} and {pmd_text}")
    });
    let chunks = format!(
        "{} with the default advice one major fault read {default_per:.0} pages ({}; \
         read_ahead_kb here: {readahead}) into the page cache{cold_mapped_text}{warm_text}",
        if default_per > random_per {
            "but the kernel reads bigger chunks:"
        } else {
            "and no bigger chunks:"
        },
        size::fmt_f64(default_per * page_size)
    );
    let page_text = size::fmt_f64(page_size);
    let (verdict, why) = if page_size == 4096.0 {
        (
            Verdict::Holds,
            format!("a page here is {page_text}{unit_text} — {chunks}"),
        )
    } else {
        (
            Verdict::Depends,
            format!(
                "a page here is {page_text}, not 4 KiB (4 KiB is usual on x86-64 and most \
                 ARM64 systems, not everywhere){unit_text} — {chunks}"
            ),
        )
    };
    report.claim("3.page-4k", verdict, why, &evidence);

    // [3.in] With MADV_RANDOM the touched pages, and only they, came in; other advice
    // brings neighbours along.
    let mut evidence = vec![
        "random.resident",
        "random.touched_resident",
        "random.majflt",
        "default.behind",
        "default.ahead",
        "sequential.behind",
        "sequential.ahead",
    ];
    let peer_text = match peer {
        Some(Ok(p)) => {
            let p = report.measure(
                "peer.fincore_pages",
                "pages resident after the default pass, by fincore",
                p,
                Unit::Pages,
            );
            evidence.push("peer.fincore_pages");
            format!(
                "; fincore (util-linux) counted {p:.0} resident pages after the default \
                 pass, mincore {}",
                after_unmap.resident
            )
        }
        Some(Err(e)) => {
            report.note(format!("fincore (util-linux) failed: {e:#} — skipped"));
            String::new()
        }
        None => {
            report.note("fincore (util-linux) not installed — skipped");
            String::new()
        }
    };
    // Every touched page resident, each read from disk by its own touch, and hardly any
    // page that no touch asked for.
    let all_touched = random_hit == k;
    let each_read = random_majflt >= k;
    let few_extra = random_res <= 2.0 * k;
    let exact = all_touched && each_read && few_extra;
    let in_text = if exact {
        "pages come in on the touch that needs them".to_string()
    } else {
        let mut wrong = Vec::new();
        if !all_touched {
            wrong.push(format!(
                "{:.0} touched page(s) were not resident afterwards",
                k - random_hit
            ));
        }
        if !each_read {
            wrong.push(format!(
                "only {random_majflt:.0} of the {TOUCHES} touches read their page from disk \
                 (a touch whose page is still cached reads nothing)"
            ));
        }
        if !few_extra {
            wrong.push(format!(
                "{:.0} pages came in that no touch asked for",
                random_res - random_hit
            ));
        }
        format!(
            "so this run does not show pages coming in exactly on the touch that needs them: \
             {}",
            wrong.join("; ")
        )
    };
    evidence.push("in.looked_at");
    report.claim(
        "3.in",
        Verdict::holds_if(exact),
        format!(
            "after eviction, {TOUCHES} touches with MADV_RANDOM made {random_res:.0} pages \
             resident ({random_hit:.0} of them the touched ones) with {random_majflt:.0} \
             major faults: {in_text}; the default advice also brought {default_around}, \
             MADV_SEQUENTIAL {seq_around} — needed or not{peer_text}"
        ),
        &evidence,
    );

    // [3.out] Pages leave the page cache when the kernel evicts them. Unmapping does not
    // evict; posix_fadvise(DONTNEED) does, except for pages some process still maps.
    // ANCHOR: evict
    let cached = cache::residency(&warm_map)?;
    let while_mapped = cache::evict(&path)?;
    drop(warm_map);
    let after_evict = cache::evict(&path)?;
    // ANCHOR_END: evict
    let stayed = report.measure(
        "out.after_unmap",
        "pages still cached after the default pass unmapped",
        after_unmap.resident as f64,
        Unit::Pages,
    );
    report.measure(
        "out.cached",
        "pages cached while the warm mapping is alive",
        cached.resident as f64,
        Unit::Pages,
    );
    let mapped = warm.mapped(page).map(|m| {
        report.measure(
            "out.mapped",
            "of them mapped by this process (smaps Rss)",
            m,
            Unit::Pages,
        )
    });
    let survived = report.measure(
        "out.left_while_mapped",
        "pages left after posix_fadvise(DONTNEED) while mapped",
        while_mapped.resident as f64,
        Unit::Pages,
    );
    let left = report.measure(
        "out.left_after_evict",
        "pages left after munmap + posix_fadvise(DONTNEED)",
        after_evict.resident as f64,
        Unit::Pages,
    );
    let mut evidence = vec![
        "out.after_unmap",
        "out.cached",
        "out.left_while_mapped",
        "out.left_after_evict",
    ];
    let mapped_text = mapped.map_or(String::new(), |m| {
        evidence.push("out.mapped");
        format!(" (this process mapped {m:.0})")
    });
    let (verdict, why) = if after_evict.fraction() > 0.01 {
        let cause = if lab.data.is_tmpfs() {
            "the data directory is on tmpfs, which keeps files in RAM"
        } else {
            "something else keeps it cached — most likely another process has the file mapped \
             (a benchmark or another lesson using it?)"
        };
        (
            Verdict::NotMeasured,
            format!(
                "after munmap, posix_fadvise(DONTNEED) left {left:.0} pages ({}) of the file in \
                 RAM: {cause}, so eviction cannot be shown in this run",
                Unit::Fraction.format(after_evict.fraction())
            ),
        )
    } else if stayed >= default.resident() as f64 * 0.9 {
        let how_many = if stayed >= default.resident() as f64 {
            format!("all {stayed:.0}")
        } else {
            format!("{stayed:.0} of the {}", default.resident())
        };
        let while_mapped_text = if survived > left {
            format!(
                "but while it was mapped {survived:.0} of {} cached pages survived \
                 it{mapped_text}",
                cached.resident
            )
        } else {
            format!(
                "and while it was mapped it left {survived:.0} of {} cached \
                 pages{mapped_text}",
                cached.resident
            )
        };
        (
            Verdict::Depends,
            format!(
                "pages are evicted when the kernel needs the memory or is asked, not when a \
                 program stops needing them: after munmap {how_many} pages of the default \
                 pass stayed cached, kept for the next reader; posix_fadvise(DONTNEED) \
                 dropped the file to {left:.0} pages once it was unmapped, \
                 {while_mapped_text}. Eviction under memory pressure (LRU reclaim) is the \
                 other way out — this lesson does not create memory pressure on your \
                 machine, so that path is not shown"
            ),
        )
    } else {
        (
            Verdict::Holds,
            format!(
                "after munmap only {stayed:.0} of the {} pages of the default pass stayed \
                 cached — the kernel dropped them on its own (memory pressure?); \
                 posix_fadvise(DONTNEED) left {left:.0}",
                default.resident()
            ),
        )
    };
    report.claim("3.out", verdict, why, &evidence);

    // [3.lazy] [3.therefore] Random reads of single pages: cold with MADV_RANDOM (one
    // disk read each), again through the same mapping (no fault), through a new mapping
    // while the pages are cached (a minor fault each), and cold with the default advice.
    let reads = random_pages(pages);
    let (mut cold_runs, mut mapped_runs, mut cached_runs) = (Vec::new(), Vec::new(), Vec::new());
    let mut at_map = 0f64;
    for _ in 0..lab.runs {
        // ANCHOR: lazy
        lab.make_cold(&path)?;
        let first_map = map(&file)?;
        first_map.advise(Advice::Random).context("madvise")?;
        let before = cache::residency(&first_map)?; // what mmap itself loaded
        let cold = pass(&first_map, &reads, page)?; // a disk read per page
        let mapped = pass(&first_map, &reads, page)?; // no fault at all
        drop(first_map);
        let new_map = map(&file)?;
        let cached = pass(&new_map, &reads, page)?; // a minor fault per page
        // ANCHOR_END: lazy
        at_map = at_map.max(before.fraction());
        cold_runs.push(cold);
        mapped_runs.push(mapped);
        cached_runs.push(cached);
    }
    let default_runs = (0..lab.runs)
        .map(|_| cold_pass(lab, &path, &file, Advice::Normal, &reads, page))
        .collect::<anyhow::Result<Vec<_>>>()?;
    cache::evict(&path)?;
    let cold = median(cold_runs);
    let mapped_again = median(mapped_runs);
    let cached_again = median(cached_runs);
    let default_cold = median(default_runs);
    let n = READS as f64;
    let per_read = |p: &Pass| p.sample.wall.as_secs_f64() / n;

    let at_map = report.measure(
        "lazy.resident_at_map",
        "file resident right after mmap (evicted before)",
        at_map,
        Unit::Fraction,
    );
    let cold_t = report.measure(
        "reads.cold",
        &format!("cold random read, MADV_RANDOM, per read ({READS} reads)"),
        per_read(&cold),
        Unit::Seconds,
    );
    let cold_maj = report.measure(
        "reads.cold_majflt",
        "major faults of those reads",
        cold.sample.majflt as f64,
        Unit::Count,
    );
    let cold_res = report.measure(
        "reads.cold_resident",
        "pages resident after them",
        cold.resident() as f64,
        Unit::Pages,
    );
    let warm_t = report.measure(
        "reads.warm",
        "same reads, new mapping, pages cached, per read",
        per_read(&cached_again),
        Unit::Seconds,
    );
    let warm_maj = report.measure(
        "reads.warm_majflt",
        "major faults of those reads",
        cached_again.sample.majflt as f64,
        Unit::Count,
    );
    let mapped_t = report.measure(
        "reads.mapped",
        "same reads, same mapping again, per read",
        per_read(&mapped_again),
        Unit::Seconds,
    );
    let mapped_faults = report.measure(
        "reads.mapped_faults",
        "page faults of those reads",
        mapped_again.sample.faults() as f64,
        Unit::Count,
    );
    // Mapping loaded nothing, the first touches read the pages from disk, and touching them
    // again cost (almost) nothing.
    let map_loads_nothing = at_map < 0.01;
    let paid_at_touch = cold_maj >= 1.0 && cold_res >= n;
    let paid_once = mapped_faults < n / 10.0;
    let lazy = map_loads_nothing && paid_at_touch && paid_once;
    let mut lazy_text = vec![if at_map == 0.0 {
        "nothing was loaded before a touch"
    } else if map_loads_nothing {
        "next to nothing was loaded before a touch"
    } else {
        "mapping loaded pages before any touch"
    }];
    lazy_text.push(if paid_at_touch {
        "pages were paid for at their first touch"
    } else {
        "the cold reads did not read their pages from disk"
    });
    lazy_text.push(if paid_once {
        "and only then"
    } else {
        "and touching them again through the same mapping still faulted"
    });
    report.claim(
        "3.lazy",
        Verdict::holds_if(lazy),
        format!(
            "mmap itself loaded {} of the {} file — {}: {READS} cold random reads took \
             {cold_maj:.0} major faults and left {cold_res:.0} pages resident, {} per read; \
             the same pages, cached, through a new mapping cost {} per read ({warm_maj:.0} \
             major faults), and through the mapping that already had them {} per read \
             ({mapped_faults:.0} faults)",
            Unit::Fraction.format(at_map),
            size::fmt_f64(file_size),
            lazy_text.join(", "),
            Unit::Seconds.format(cold_t),
            Unit::Seconds.format(warm_t),
            Unit::Seconds.format(mapped_t),
        ),
        &[
            "lazy.resident_at_map",
            "reads.cold",
            "reads.cold_majflt",
            "reads.cold_resident",
            "reads.warm",
            "reads.warm_majflt",
            "reads.mapped",
            "reads.mapped_faults",
        ],
    );

    // [3.therefore] Big file, little RAM, fast random access — each part measured.
    let cold_fraction = report.measure(
        "reads.cold_file_fraction",
        "of the file resident after the cold reads, MADV_RANDOM",
        cold.resident() as f64 / pages as f64,
        Unit::Fraction,
    );
    let mut evidence = vec![
        "file.size",
        "reads.cold_file_fraction",
        "reads.cold",
        "reads.warm",
        "reads.mapped",
    ];
    if let Some(rss) = cold.smaps.map(|s| s.rss) {
        report.measure(
            "reads.cold_rss",
            "of it mapped by this process (smaps Rss)",
            rss as f64,
            Unit::Bytes,
        );
        evidence.push("reads.cold_rss");
    }
    let default_t = report.measure(
        "reads.default_cold",
        "cold random read, default advice, per read",
        per_read(&default_cold),
        Unit::Seconds,
    );
    let default_fraction = report.measure(
        "reads.default_file_fraction",
        "of the file resident after them",
        default_cold.resident() as f64 / pages as f64,
        Unit::Fraction,
    );
    let waste = report.measure(
        "reads.default_read_per_needed",
        "pages read per page needed, default advice",
        default_cold.resident() as f64 / n,
        Unit::Ratio,
    );
    let slower = report.measure(
        "reads.cold_vs_warm",
        "cold read ÷ warm read, MADV_RANDOM",
        cold_t / warm_t,
        Unit::Ratio,
    );
    evidence.extend([
        "reads.default_cold",
        "reads.default_file_fraction",
        "reads.default_read_per_needed",
        "reads.cold_vs_warm",
    ]);
    // Little RAM: the reads keep about the pages they read resident, a small part of the file.
    let little = cold_res <= 2.0 * n && cold_fraction <= 0.1;
    let default_little = default_cold.resident() as f64 <= 2.0 * n && default_fraction <= 0.1;
    let advice_text = match (little, default_little) {
        (true, false) => "so on a cold file little RAM takes MADV_RANDOM",
        (true, true) => "so here the default advice kept little resident too",
        (false, false) => "so neither advice kept the reads' footprint small here",
        (false, true) => "so here only the default advice kept little resident",
    };
    let default_text = format!(
        "with the default advice a cold read cost {} and the reads pulled {} of the file into \
         RAM ({waste:.0} pages read per page needed), {advice_text}",
        Unit::Seconds.format(default_t),
        Unit::Fraction.format(default_fraction)
    );
    let (verdict, why) = if !little {
        (
            Verdict::Fails,
            format!(
                "even with MADV_RANDOM, {READS} random reads left {} of the file resident; \
                 {default_text}",
                Unit::Fraction.format(cold_fraction)
            ),
        )
    } else if slower >= 10.0 {
        (
            Verdict::Depends,
            format!(
                "big file + little RAM: yes — {READS} random reads of the {} file kept \
                 {cold_res:.0} pages ({}) resident with MADV_RANDOM; fast random access: only \
                 once the pages are cached — {} per read through a mapping that has them, {} \
                 through a new one, but {} cold ({slower:.0}× slower: the {READS} reads waited \
                 for {cold_maj:.0} disk reads, one per major fault); {default_text}",
                size::fmt_f64(file_size),
                Unit::Fraction.format(cold_fraction),
                Unit::Seconds.format(mapped_t),
                Unit::Seconds.format(warm_t),
                Unit::Seconds.format(cold_t),
            ),
        )
    } else {
        (
            Verdict::Holds,
            format!(
                "{READS} random reads of the {} file kept {} of it resident with \
                 MADV_RANDOM, and a cold read ({}) cost only {slower:.1}× a warm one ({}); \
                 {default_text}",
                size::fmt_f64(file_size),
                Unit::Fraction.format(cold_fraction),
                Unit::Seconds.format(cold_t),
                Unit::Seconds.format(warm_t),
            ),
        )
    };
    report.claim("3.therefore", verdict, why, &evidence);
    report.note(format!(
        "the sample ({}) is smaller than this machine's RAM ({}): what the lesson shows is \
         that residency follows the pages touched, not the file size; no step fills RAM",
        size::fmt_f64(file_size),
        size::fmt(lab.machine.ram_bytes)
    ));

    report.try_next(
        "just lesson 3 --size 2G   (the same reads, a file 8× bigger, the same few pages resident)",
    );
    report.try_next("just lesson 5   (read() vs mmap)");
    Ok(report)
}
