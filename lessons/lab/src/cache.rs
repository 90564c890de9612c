//! The page cache: which pages of a file are in memory, and how to make a file cold.
//!
//! Residency comes from `mincore(2)`. Since Linux 5.2 it reports the real state only for
//! files the caller owns or may write (otherwise every page looks resident), so measure
//! residency of files this process created. Eviction uses
//! `posix_fadvise(POSIX_FADV_DONTNEED)`, which needs no root but skips dirty pages (so we
//! `fsync` first) and pages that some process still maps (so unmap first).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use memmap2::{Mmap, MmapOptions};

use crate::sys;

/// The page size of this machine, in bytes.
pub fn page_size() -> usize {
    sys::page_size()
}

/// How many pages of a range are resident in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Residency {
    pub resident: usize,
    pub pages: usize,
}

impl Residency {
    /// Resident pages as a fraction of all pages (0 for an empty range).
    pub fn fraction(&self) -> f64 {
        if self.pages == 0 {
            0.0
        } else {
            self.resident as f64 / self.pages as f64
        }
    }

    /// Resident bytes (pages × page size).
    pub fn resident_bytes(&self) -> u64 {
        (self.resident * page_size()) as u64
    }
}

/// The residency of each page of a mapping: `true` where the page is in memory.
pub fn resident_pages(mem: &[u8]) -> anyhow::Result<Vec<bool>> {
    sys::mincore(mem).context("mincore")
}

/// How many pages of a mapping are resident (in the page cache, for a file mapping).
///
/// This says nothing about whether *this process* has the pages mapped: a page another
/// process read is resident here too. Compare with [`crate::measure::smaps_of`] for that.
pub fn residency(mem: &[u8]) -> anyhow::Result<Residency> {
    let pages = resident_pages(mem)?;
    Ok(Residency {
        resident: pages.iter().filter(|&&r| r).count(),
        pages: pages.len(),
    })
}

/// Page-cache residency of a whole file. It maps the file without touching it, so
/// measuring does not change the answer.
pub fn file_residency(path: &Path) -> anyhow::Result<Residency> {
    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    if file.metadata()?.len() == 0 {
        return Ok(Residency {
            resident: 0,
            pages: 0,
        });
    }
    // SAFETY: the map is only passed to mincore, which never reads the bytes, so a
    // concurrent truncation cannot fault us; it is dropped before we return.
    let map = unsafe { Mmap::map(&file) }.with_context(|| format!("mmap {}", path.display()))?;
    residency(&map)
}

/// Page-cache residency of the bytes `range` of a file (clamped to the file), without
/// touching them. Cheaper than [`file_residency`] for a slice of a huge file.
pub fn file_range_residency(path: &Path, range: Range<u64>) -> anyhow::Result<Residency> {
    let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let len = file.metadata()?.len();
    let page = page_size() as u64;
    let start = range.start.min(len) / page * page;
    let end = range.end.min(len);
    if end <= start {
        return Ok(Residency {
            resident: 0,
            pages: 0,
        });
    }
    let map_len = usize::try_from(end - start).context("range larger than the address space")?;
    // SAFETY: as in `file_residency`, the map only goes to mincore, which never reads the
    // bytes, and it is dropped before we return.
    let map = unsafe { MmapOptions::new().offset(start).len(map_len).map(&file) }
        .with_context(|| format!("mmap {}", path.display()))?;
    residency(&map)
}

/// Brings the bytes `range` of a file (clamped to the file) into the page cache by reading
/// them through a small buffer, so that the next access is "warm". Returns the residency of
/// the range afterwards: under memory pressure the kernel may already have dropped some.
pub fn warm(path: &Path, range: Range<u64>) -> anyhow::Result<Residency> {
    let mut file = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let end = range.end.min(file.metadata()?.len());
    file.seek(SeekFrom::Start(range.start))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = end.saturating_sub(range.start);
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        file.read_exact(&mut buf[..n])
            .with_context(|| format!("read {}", path.display()))?;
        left -= n as u64;
    }
    file_range_residency(path, range)
}

/// Looks at residency (with `look`) until two looks 10 ms apart agree, at most half a
/// second. A page fault or a `read()` returns as soon as its own pages are in, while the
/// rest of the readahead window is still arriving from the disk; counting right away
/// catches the window half-filled.
pub fn settled<T: PartialEq>(mut look: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut last = look()?;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let now = look()?;
        if now == last {
            break;
        }
        last = now;
    }
    Ok(last)
}

/// The bytes of a file in the page cache, once readahead has settled ([`settled`]).
pub fn settled_bytes(path: &Path) -> anyhow::Result<u64> {
    settled(|| Ok(file_residency(path)?.resident_bytes()))
}

/// How a mapping will be read, told to the kernel with [`advise`] (`madvise(2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// The default: read around each faulting page (`read_ahead_kb`).
    Normal,
    /// No readahead: a fault reads only its own page (`MADV_RANDOM`).
    Random,
    /// Read further ahead, and drop pages behind (`MADV_SEQUENTIAL`).
    Sequential,
    /// Start reading the whole range now (`MADV_WILLNEED`).
    WillNeed,
}

/// Gives the kernel `advice` about `map`; "not available here" where the platform has no
/// `madvise` (the map works the same, with the kernel's default behaviour).
pub fn advise(map: &Mmap, advice: Advice) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use memmap2::Advice as A;
        map.advise(match advice {
            Advice::Normal => A::Normal,
            Advice::Random => A::Random,
            Advice::Sequential => A::Sequential,
            Advice::WillNeed => A::WillNeed,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (map, advice);
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "madvise is not available here",
        ))
    }
}

/// Drops a file's pages from the page cache, so that the next access reads from disk.
///
/// Unmap the file first: pages that any process still maps stay. Returns the residency
/// left afterwards, so a lesson can say how cold "cold" really was.
pub fn evict(path: &Path) -> anyhow::Result<Residency> {
    let file = OpenOptions::new()
        .read(true)
        .open(path)
        .with_context(|| format!("open {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("fsync {}", path.display()))?;
    sys::fadvise_dontneed(&file)
        .with_context(|| format!("posix_fadvise(DONTNEED) {}", path.display()))?;
    file_residency(path)
}
