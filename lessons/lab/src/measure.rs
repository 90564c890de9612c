//! Instruments: what a piece of code cost in time, CPU, page faults and memory.
//!
//! [`probe`] wraps a closure and returns a [`Sample`]. Memory numbers come from
//! `/proc/self/status` and `/proc/PID/smaps_rollup` (Linux); page faults and CPU time from
//! `getrusage(2)`. A number the platform cannot give is `None`, never a guess.
//!
//! Page faults and CPU time are per process: a probe measures everything the process did
//! meanwhile, so lessons probe one thing at a time.

use std::time::{Duration, Instant};

use crate::sys;

/// What one call of [`probe`] measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Wall-clock time of the closure.
    pub wall: Duration,
    /// User CPU time spent meanwhile (process-wide).
    pub user: Duration,
    /// System CPU time spent meanwhile (process-wide).
    pub sys: Duration,
    /// Minor page faults: resolved without waiting for a disk read of that page (the page was
    /// in the page cache, or readahead had already brought it in).
    pub minflt: u64,
    /// Major page faults: the faulting thread waited for the page to be read.
    pub majflt: u64,
    /// Resident set size just before the closure ran.
    pub rss_before: Option<u64>,
    /// Resident set size just after the closure returned.
    pub rss_after: Option<u64>,
    /// Peak resident set size while the closure ran (`VmHWM` after resetting it).
    pub peak_rss: Option<u64>,
}

impl Sample {
    /// All page faults, minor and major.
    pub fn faults(&self) -> u64 {
        self.minflt + self.majflt
    }

    /// How much the RSS grew over the closure (0 if it shrank or is unknown).
    pub fn rss_growth(&self) -> Option<u64> {
        Some(self.rss_after?.saturating_sub(self.rss_before?))
    }

    /// How far the peak RSS rose above the RSS before the closure.
    pub fn peak_growth(&self) -> Option<u64> {
        Some(self.peak_rss?.saturating_sub(self.rss_before?))
    }
}

/// Runs `f` once and measures it.
pub fn probe<T>(f: impl FnOnce() -> T) -> (T, Sample) {
    let peak_ok = sys::reset_peak_rss();
    let rss_before = status().map(|s| s.rss);
    let ru0 = sys::rusage();
    let t0 = Instant::now();
    let out = std::hint::black_box(f());
    let wall = t0.elapsed();
    let ru1 = sys::rusage();
    let st = status();
    let mut s = Sample {
        wall,
        rss_before,
        rss_after: st.map(|s| s.rss),
        peak_rss: if peak_ok {
            st.map(|s| s.peak_rss)
        } else {
            None
        },
        ..Sample::default()
    };
    if let (Some(a), Some(b)) = (ru0, ru1) {
        s.user = b.user.saturating_sub(a.user);
        s.sys = b.sys.saturating_sub(a.sys);
        s.minflt = b.minflt.saturating_sub(a.minflt);
        s.majflt = b.majflt.saturating_sub(a.majflt);
    }
    (out, s)
}

/// Page faults the calling thread has taken so far: (minor, major). Where work runs on
/// several threads (an async runtime and its blocking pool), this says which thread waited
/// for the disk. `None` where the platform cannot tell (it is Linux's `RUSAGE_THREAD`).
pub fn thread_faults() -> Option<(u64, u64)> {
    sys::thread_rusage().map(|r| (r.minflt, r.majflt))
}

/// The median of `values` (the mean of the two middle ones for an even count); NaN for
/// none. The one median of the workspace: timed rows, lateness percentiles and Python
/// peers all use it.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The `p`th percentile of `values` (nearest rank: the smallest value with at least `p` %
/// of them at or below it); NaN for none. Latencies are judged by it (p99).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    let rank = ((v.len() as f64 * p / 100.0).ceil() as usize).saturating_sub(1);
    v.get(rank).copied().unwrap_or(f64::NAN)
}

/// Runs `f` `runs` times (at least once), each run probed, and returns the last result with
/// every run's sample: for a [`Spread`](crate::findings::Spread) of wall times. Each result
/// is dropped before the next run starts.
pub fn probe_runs<T>(runs: u32, mut f: impl FnMut() -> T) -> (T, Vec<Sample>) {
    let runs = runs.max(1);
    let mut samples = Vec::with_capacity(runs as usize);
    for _ in 1..runs {
        samples.push(probe(&mut f).1);
    }
    let (last, sample) = probe(&mut f);
    samples.push(sample);
    (last, samples)
}

/// The wall times of `samples`, in seconds.
pub fn walls(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.wall.as_secs_f64()).collect()
}

/// Whether `copies` heap copies of `bytes` leave at least half of the available RAM free;
/// if not, why (for a note and for the claims that needed the copy).
pub fn fits_in_ram(bytes: u64, copies: u64) -> Result<(), String> {
    match system_memory() {
        None => Err("this platform cannot tell how much RAM is free".into()),
        Some(m) if bytes.saturating_mul(copies).saturating_mul(2) > m.available => Err(format!(
            "{copies} × {} would take more than half of the {} of RAM available",
            crate::size::fmt(bytes),
            crate::size::fmt(m.available)
        )),
        Some(_) => Ok(()),
    }
}

/// Makes every allocation of 128 KiB or more a fresh `mmap` that goes back to the OS when
/// freed, so that the RSS growth of a step counts its big buffers on every run.
///
/// By default glibc raises its mmap threshold (up to 32 MiB) each time such a block is
/// freed; the next buffer of that size then comes from heap pages that are already
/// resident, and a step that fills a 10 MiB buffer shows 0 B of RSS growth on its second
/// run. Call this first in a lesson that measures buffers. Returns false where it is not
/// available (another C library): say so in the report.
pub fn fresh_big_allocations() -> bool {
    sys::fix_mmap_threshold()
}

/// This process's memory from `/proc/self/status`, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// `VmRSS`: resident set size.
    pub rss: u64,
    /// `VmHWM`: peak resident set size.
    pub peak_rss: u64,
    /// `RssAnon`: resident anonymous memory (heap, stacks).
    pub rss_anon: u64,
    /// `RssFile`: resident file-backed memory (mapped files, the binary itself).
    pub rss_file: u64,
    /// `VmSize`: the size of the virtual address space.
    pub virt: u64,
}

/// Reads `/proc/self/status`; `None` where there is no procfs.
pub fn status() -> Option<Status> {
    let text = sys::read_proc("/proc/self/status")?;
    let mut s = Status::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let field = match key {
            "VmRSS" => &mut s.rss,
            "VmHWM" => &mut s.peak_rss,
            "RssAnon" => &mut s.rss_anon,
            "RssFile" => &mut s.rss_file,
            "VmSize" => &mut s.virt,
            _ => continue,
        };
        *field = kib_field(rest)?;
    }
    Some(s)
}

/// Bytes this process has caused to be read from storage so far (`read_bytes` of
/// `/proc/self/io`): reads, and the readahead behind page faults on mapped files. Pages
/// already in the page cache add nothing, so the difference across a step says whether it
/// touched the disk. `None` without procfs or task I/O accounting.
pub fn disk_read_bytes() -> Option<u64> {
    let text = sys::read_proc("/proc/self/io")?;
    text.lines()
        .find_map(|l| l.strip_prefix("read_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Memory accounting of a process or of one mapping, from `smaps`/`smaps_rollup`, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Smaps {
    /// Pages mapped and resident.
    pub rss: u64,
    /// Proportional set size: each resident page divided by the number of processes
    /// mapping it. Five processes sharing one 100 MiB file mapping have Pss 20 MiB each.
    pub pss: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub anonymous: u64,
    /// `FilePmdMapped`: file pages mapped with one page-table entry per 2 MiB (a huge
    /// page or a large folio), so that one fault maps 512 pages at once. 0 when the kernel
    /// does not report it.
    pub file_pmd_mapped: u64,
}

/// The whole process `pid` (`/proc/PID/smaps_rollup`, Linux 4.14+).
pub fn smaps_rollup(pid: u32) -> Option<Smaps> {
    let text = sys::read_proc(&format!("/proc/{pid}/smaps_rollup"))?;
    parse_smaps_fields(text.lines().skip(1))
}

/// The one mapping (memory region) of process `pid` that contains address `addr`
/// (`/proc/PID/smaps`).
///
/// Use it to account a single `Mmap`: `smaps_of(std::process::id(), map.as_ptr())`. An
/// `madvise` or `mprotect` over part of a map splits it into several regions, and then this
/// counts only the region holding `addr`; advice over the whole map keeps it one region.
pub fn smaps_of(pid: u32, addr: *const u8) -> Option<Smaps> {
    let text = sys::read_proc(&format!("/proc/{pid}/smaps"))?;
    let addr = addr as usize;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(range) = line.split(' ').next() else {
            continue;
        };
        let Some((lo, hi)) = range.split_once('-') else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            continue;
        };
        if (lo..hi).contains(&addr) {
            let mut fields = Vec::new();
            while let Some(next) = lines.next_if(|l| !is_smaps_header(l)) {
                fields.push(next);
            }
            return parse_smaps_fields(fields.into_iter());
        }
    }
    None
}

fn is_smaps_header(line: &str) -> bool {
    line.split(' ')
        .next()
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(a, b)| {
            !a.is_empty() && a.chars().chain(b.chars()).all(|c| c.is_ascii_hexdigit())
        })
}

fn parse_smaps_fields<'a>(lines: impl Iterator<Item = &'a str>) -> Option<Smaps> {
    let mut s = Smaps::default();
    let mut seen = false;
    for line in lines {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let field = match key {
            "Rss" => &mut s.rss,
            "Pss" => &mut s.pss,
            "Shared_Clean" => &mut s.shared_clean,
            "Shared_Dirty" => &mut s.shared_dirty,
            "Private_Clean" => &mut s.private_clean,
            "Private_Dirty" => &mut s.private_dirty,
            "Anonymous" => &mut s.anonymous,
            "FilePmdMapped" => &mut s.file_pmd_mapped,
            _ => continue,
        };
        *field = kib_field(rest)?;
        seen = true;
    }
    seen.then_some(s)
}

fn kib_field(rest: &str) -> Option<u64> {
    let n: u64 = rest.split_whitespace().next()?.parse().ok()?;
    Some(n * 1024)
}

/// Memory of the whole machine (sysinfo), in bytes.
#[derive(Debug, Clone, Copy)]
pub struct SystemMemory {
    pub total: u64,
    /// What can be allocated without swapping: free memory plus reclaimable page cache.
    pub available: u64,
}

/// Total and available RAM; `None` where sysinfo cannot tell. Inside a container (a cgroup
/// with a memory limit) the limit counts, not the host's RAM: that is what a lesson can use
/// before it is killed.
pub fn system_memory() -> Option<SystemMemory> {
    use sysinfo::{MemoryRefreshKind, RefreshKind, System};
    let sys = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .ok()?;
    let (mut total, mut available) = (sys.total_memory(), sys.available_memory());
    if let Some(limits) = sys.cgroup_limits() {
        total = total.min(limits.total_memory);
        available = available.min(limits.free_memory);
    }
    (total > 0).then_some(SystemMemory { total, available })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v[..10], 99.0), 10.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), 2.0);
        assert!(percentile(&[], 99.0).is_nan());
    }

    #[test]
    fn parses_smaps_rollup_text() {
        let text = "00400000-7fff0000 ---p 00000000 00:00 0 [rollup]\n\
                    Rss:                1000 kB\nPss:                 500 kB\n\
                    Shared_Clean:        800 kB\nAnonymous:           100 kB\n\
                    FilePmdMapped:      2048 kB\n";
        let s = parse_smaps_fields(text.lines().skip(1)).unwrap();
        assert_eq!(s.rss, 1000 * 1024);
        assert_eq!(s.pss, 500 * 1024);
        assert_eq!(s.shared_clean, 800 * 1024);
        assert_eq!(s.anonymous, 100 * 1024);
        assert_eq!(s.file_pmd_mapped, 2048 * 1024);
    }

    #[test]
    fn smaps_headers_are_recognised() {
        assert!(is_smaps_header(
            "7f1c2a000000-7f1c2a400000 r--s 00000000 fd:01 1234 /tmp/x"
        ));
        assert!(!is_smaps_header("Rss:                1000 kB"));
        assert!(!is_smaps_header("VmFlags: rd sh mr mw me ms sd"));
    }
}
