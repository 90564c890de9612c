//! Lesson 5's experiments: the file scanned every way, random 8-byte reads, the first byte,
//! readahead behind a read() loop, a sparse file larger than RAM. Verdicts: `verdicts.rs`.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::Instant;

use memmap2::Mmap;
use mmap_lab::cache::Advice;
use mmap_lab::data::{Content, Spec, read_exact_at, write_all_at};
use mmap_lab::lab::Entry;
use mmap_lab::measure::{Smaps, probe, smaps_of, status, system_memory};
use mmap_lab::quantity::{Bytes, Flag, Ratio};
use mmap_lab::scan::{checksum, fill};
use mmap_lab::{Lab, Spread, cache, not_measured};

use crate::verdicts::{Big, Ram, Scans};

/// The buffer of the read() loop, reused for every call.
pub const BUF: usize = 1 << 20;
/// How much the read() loop has asked for when we look at what readahead fetched.
pub const READAHEAD_PROBE: usize = 4 * BUF;
/// Random reads of plain mmap from disk (one run, not judged): enough to show read-around.
pub const PLAIN_READS: usize = 64;
/// The runs of each of [`small`]'s reads, with the sum of what each run read.
pub type Small = Vec<Vec<Entry<u64>>>;

/// The ways of reading the file: whole (`ReadAll` to `Seq`), or a word at a time (the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    ReadAll,
    Loop,
    Mmap,
    Populate,
    Seq,
    Pread,
    Random,
}
use Way::{Loop, Populate, Pread, ReadAll, Seq};

/// The scans: fs::read only where it fits; from disk only `Loop` and `Seq` unless `--cold`.
pub const SCANS: [Way; 5] = [ReadAll, Loop, Seq, Way::Mmap, Populate];

// ANCHOR: scan
/// Reads the whole file with `method` and checksums it; returns the checksum, the seconds
/// until the first byte was in hand, and fs::read's copy or the map (freed after the clock).
pub fn scan(lab: &Lab, method: Way, path: &Path) -> anyhow::Result<Scanned> {
    let start = Instant::now();
    let first = || start.elapsed().as_secs_f64();
    Ok(match method {
        ReadAll => {
            let bytes = std::fs::read(path)?; // a private copy of the whole file
            (checksum(&bytes), first(), bytes, None)
        }
        Loop => {
            let (mut file, mut buf) = (File::open(path)?, vec![0u8; BUF]); // one buffer, reused
            let (mut n, at, mut sum) = (fill(&mut file, &mut buf)?, first(), 0u64);
            while n > 0 {
                sum = sum.wrapping_add(checksum(&buf[..n]));
                n = fill(&mut file, &mut buf)?;
            }
            (sum, at, Vec::new(), None)
        }
        _ => {
            let map = match method {
                Populate => lab.map_populated(path)?, // MAP_POPULATE: every page mapped now
                _ => lab.map(path)?,
            };
            if method == Seq {
                cache::advise(&map, Advice::Sequential)?; // read further ahead, drop behind
            }
            let at = (std::hint::black_box(map.first()), first()).1;
            (checksum(&map), at, Vec::new(), Some(map))
        }
    })
}

// ANCHOR_END: scan

/// What a scan returns: its checksum, seconds to the first byte, fs::read's copy, the map.
type Scanned = (u64, f64, Vec<u8>, Option<Mmap>);
/// One run of a scan: its checksum, seconds to the first byte, and smaps for a map.
pub type Run = Entry<(u64, f64, Option<Smaps>)>;

/// The runs of each scan, and cached the ceiling: a resident `Vec`'s fastest scan, bytes/s.
pub struct Rows(pub Vec<(Way, Vec<Run>)>, pub f64);

impl Rows {
    /// The runs of `way` (none when it did not run), their times, their times to first byte.
    pub fn get(&self, way: Way) -> &[Run] {
        self.0.iter().find(|r| r.0 == way).map_or(&[], |r| &r.1)
    }
    pub fn time(&self, way: Way) -> Spread {
        Entry::times(self.get(way), 1.0)
    }
    pub fn first(&self, way: Way) -> Spread {
        Spread::of(&self.get(way).iter().map(|e| e.out.1).collect::<Vec<_>>())
    }
    /// The time of every scan that ran, for the report.
    pub fn times(&self) -> Scans {
        let t = |w| Some(self.time(w)).filter(|s| s.runs > 0);
        Scans {
            read_all: t(ReadAll),
            read_loop: t(Loop),
            mmap: t(Way::Mmap),
            populate: t(Populate),
            seq: t(Seq),
        }
    }
}

/// Every scan of `ways` taking turns, cached or (`cold`) each on a freshly evicted file. Cached,
/// a resident `Vec` of the file's head (≤ ¼ of free RAM, 1 GiB) is scanned after each run.
pub fn scans(lab: &Lab, path: &Path, ways: &[Way], cold: bool) -> anyhow::Result<Rows> {
    let cap = (system_memory().map_or(256 << 20, |m| m.available) / 4).min(1 << 30);
    let mut resident = vec![0u8; if cold { 0 } else { lab.size.min(cap) as usize }];
    fill(&mut File::open(path)?, &mut resident)?;
    let (how, mut fastest) = ((lab.runs, ways.len(), cold), f64::MAX);
    let run = |i: usize| scan(lab, ways[i], path);
    let runs = lab.contest(path, how, cold, run, |(sum, first, _copy, map): Scanned| {
        if !cold {
            fastest = fastest.min(probe(|| checksum(&resident)).1.wall.as_secs_f64());
        }
        let smaps = map.and_then(|m| smaps_of(std::process::id(), m.as_ptr()));
        (sum, first, smaps)
    })?; // each copy or map is freed here, before the file is counted or evicted
    let rows = ways.iter().copied().zip(runs).collect();
    Ok(Rows(rows, resident.len() as f64 / fastest))
}

/// What the cached scans, a map read for 1/16 only and the notes' Python did to memory.
pub fn ram(lab: &Lab, path: &Path, rows: &Rows, py: Option<&PythonOut>) -> anyhow::Result<Ram> {
    let map = lab.map(path)?;
    let part = probe(|| checksum(&map[..map.len() / 16])).1.rss_growth();
    let no_rss = || not_measured("this platform did not report the process's RSS");
    let peak = |w| Some(Bytes::of(rows.get(w).last()?.sample.peak_growth()?));
    let last = rows.get(Way::Mmap).last().ok_or_else(no_rss)?;
    let smaps = last.out.2.ok_or_else(no_rss)?;
    Ok(Ram {
        file: Bytes::of(lab.size),
        read_all_peak: peak(ReadAll),
        loop_peak: peak(Loop).ok_or_else(no_rss)?,
        mmap_rss: Bytes::of(last.sample.rss_growth().ok_or_else(no_rss)?),
        mmap_resident: Bytes::of(smaps.rss),
        mmap_anonymous: Bytes::of(smaps.anonymous),
        part_rss: Bytes::of(part.ok_or_else(no_rss)?),
        python_read: py.and_then(|p| p.read_rss).map(Bytes),
        python_mmap: py.and_then(|p| p.mmap_rss).map(Bytes),
    })
}

// ANCHOR: random
/// Reads the 8-byte word at every offset and sums them. The map (if any) is returned so
/// that unmapping is not timed.
pub fn read_words(
    lab: &Lab,
    method: Way,
    path: &Path,
    offsets: &[u64],
) -> anyhow::Result<(u64, Option<Mmap>)> {
    if method == Pread {
        let (file, mut word, mut sum) = (File::open(path)?, [0u8; 8], 0u64);
        for &off in offsets {
            read_exact_at(&file, &mut word, off)?; // one system call per read
            sum = sum.wrapping_add(u64::from_le_bytes(word));
        }
        return Ok((sum, None));
    }
    let map = lab.map(path)?;
    if method == Way::Random {
        cache::advise(&map, Advice::Random)?; // no read-around: fetch only the page that faulted
    }
    Ok((sum_at(&map, offsets), Some(map)))
}

/// The sum of the 8-byte words at `offsets` of a mapped (or any in-memory) file.
pub fn sum_at(bytes: &[u8], offsets: &[u64]) -> u64 {
    offsets.iter().fold(0u64, |sum, &off| {
        let word = bytes.get(off as usize..).and_then(|b| b.first_chunk::<8>());
        sum.wrapping_add(word.map_or(0, |w| u64::from_le_bytes(*w)))
    })
}
// ANCHOR_END: random

// ANCHOR: first_byte
/// read(): open and pread the first block.
pub fn first_byte_pread(path: &Path) -> io::Result<u8> {
    let mut block = [0u8; 4096];
    read_exact_at(&File::open(path)?, &mut block, 0)?;
    Ok(block[0])
}

/// mmap: open, map and touch the first byte (the map is returned so unmapping is not timed).
pub fn first_byte_mmap(lab: &Lab, path: &Path) -> anyhow::Result<(u8, Mmap)> {
    let map = lab.map(path)?;
    Ok((map.first().copied().unwrap_or(0), map))
}
// ANCHOR_END: first_byte

/// The small reads taking turns, cached or (`cold`) on a freshly evicted file whose cache is
/// counted after each run: 0 the first block by pread, 1 the first byte by mmap, the words at
/// `offsets` by 2 pread, 3 a fresh map (+ advise(Random) from disk), 4 a map made before;
/// from disk 4 is a read() loop asking for `READAHEAD_PROBE` bytes, and 5 plain mmap, once.
pub fn small(lab: &Lab, path: &Path, offsets: &[u64], cold: bool) -> anyhow::Result<Small> {
    let mapped = if cold { None } else { Some(lab.map(path)?) };
    let words = [Pread, if cold { Way::Random } else { Way::Mmap }];
    let read = |i| match i {
        0 => Ok((u64::from(first_byte_pread(path)?), None)),
        1 => first_byte_mmap(lab, path).map(|(b, map)| (u64::from(b), Some(map))),
        2 | 3 => read_words(lab, words[i - 2], path, offsets),
        _ if cold => {
            let (mut file, mut buf) = (File::open(path)?, vec![0u8; BUF]);
            for _ in 0..READAHEAD_PROBE / BUF {
                fill(&mut file, &mut buf)?;
            }
            Ok((0, None))
        }
        _ => Ok((sum_at(mapped.as_deref().unwrap_or_default(), offsets), None)),
    };
    let mut runs = lab.contest(path, (lab.runs, 5, cold), cold, read, |(sum, _map)| sum)?;
    if cold {
        let plain = |_| read_words(lab, Way::Mmap, path, &offsets[..PLAIN_READS]);
        runs.extend(lab.contest(path, (1, 1, true), true, plain, |(sum, _)| sum)?);
    }
    Ok(runs)
}

/// A sparse scratch file of twice the RAM with a marker word (NOT its offset, never zero) at
/// 16 places, read back with pread and through a map + advise(Random); `ram`: the sample's.
pub fn larger_than_ram(lab: &mut Lab, ram: &Ram) -> anyhow::Result<Big> {
    let mem = system_memory().ok_or_else(|| not_measured("this platform cannot tell its RAM"))?;
    let size = (2 * mem.total).next_multiple_of(cache::page_size() as u64);
    let name = format!("larger-than-ram-{}", std::process::id()); // deleted when the run ends
    let path = (lab.file(Spec::new(&name, size, Content::Sparse).scratch()))
        .map_err(|e| not_measured(format!("no sparse file ({e:#})")))?;
    let mut rng = fastrand::Rng::with_seed(7);
    let offsets: Vec<u64> = (0..16).map(|_| rng.u64(0..size / 8) * 8).collect();
    let file = OpenOptions::new().write(true).open(&path)?;
    for &off in &offsets {
        write_all_at(&file, &(!off).to_le_bytes(), off)?;
    }
    let expected = offsets.iter().map(|&off| !off).fold(0, u64::wrapping_add);
    let (pread, sample) = probe(|| read_words(lab, Pread, &path, &offsets));
    let before = status();
    let (mmap_sum, _map) = read_words(lab, Way::Random, &path, &offsets)?;
    let no_rss = || not_measured("this platform reports no RSS");
    let (b, a) = before.zip(status()).ok_or_else(no_rss)?;
    Ok(Big {
        size: Bytes::of(size),
        available: Bytes::of(mem.available),
        read_share: ram.read_all_peak.map(|p| Ratio(p.0 / ram.file.0)),
        loop_peak: ram.loop_peak,
        pread_read_back: Flag(pread?.0 == expected),
        pread_rss: Bytes::of(sample.rss_growth().ok_or_else(no_rss)?),
        mmap_read_back: Flag(mmap_sum == expected),
        mmap_virt: Bytes::of(a.virt.saturating_sub(b.virt)),
        mmap_rss: Bytes::of(a.rss.saturating_sub(b.rss)),
    })
}

/// What the notes' Python printed.
#[derive(serde::Deserialize)]
pub struct PythonOut {
    pub mmap_first: f64,
    pub read_all: f64,
    pub mmap_rss: Option<f64>,
    pub read_rss: Option<f64>,
}

/// The notes' own Python (sections 1 and 4) on the warm file: mmap + `mm[:100]`, `f.read()`.
/// RSS from /proc/self/status (`ru_maxrss` would include this lesson's peak, inherited).
pub const PYTHON: &str = r#"
import json, mmap, sys, time
def rss():
    try: return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) * 1024
    except (OSError, IndexError): return None
path, base = sys.argv[1], rss()
t = time.perf_counter()
with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
    head = mm[:100]
    mmap_first, mmap_rss = time.perf_counter() - t, rss()
t = time.perf_counter()
with open(path, "rb") as f:
    data = f.read()
read_all, read_rss = time.perf_counter() - t, rss()
grow = lambda r: None if r is None or base is None else r - base
print(json.dumps(dict(mmap_first=mmap_first, mmap_rss=grow(mmap_rss),
                      read_all=read_all, read_rss=grow(read_rss))))
"#;
