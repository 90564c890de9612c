//! Lesson 2's experiments: map a file and watch the address space, touch a few bytes and
//! watch the kernel load pages, use the map as a `&[u8]`. Plain Rust and mmap-lab's
//! instruments; the verdicts are in `verdicts.rs`.

use std::path::Path;

use memmap2::Mmap;
use mmap_lab::measure::{Sample, Status, probe, status};
use mmap_lab::{Lab, cache};

/// The process's memory on both sides of `mmap(2)`.
pub struct Mapped {
    pub map: Mmap,
    /// `/proc/self/status` before and after; `None` where the platform has none.
    pub status: Option<(Status, Status)>,
}

/// Maps `path` and looks at virtual and resident size on both sides of the call.
pub fn map_and_watch(lab: &Lab, path: &Path) -> anyhow::Result<Mapped> {
    // ANCHOR: map
    let before = status();
    let map = lab.map(path)?; // mmap(2): address space now, no bytes read yet
    let after = status();
    // ANCHOR_END: map
    Ok(Mapped {
        map,
        status: before.zip(after),
    })
}

/// What touching one byte in each of `touches` stretches of a cold map did.
pub struct Touched {
    pub sample: Sample,
    /// Of the pages touched, how many were resident afterwards.
    pub touched_resident: usize,
    /// Pages of the file resident afterwards, once readahead has settled.
    pub resident: cache::Residency,
}

/// Reads one byte in each of `touches` equal stretches of the map, counting page faults.
pub fn touch(map: &Mmap, touches: usize) -> anyhow::Result<Touched> {
    // ANCHOR: touch
    let stride = map.len() / touches;
    let (sum, sample) = probe(|| {
        (0..touches)
            .map(|i| u64::from(map[i * stride]))
            .sum::<u64>()
    });
    // ANCHOR_END: touch
    std::hint::black_box(sum);
    let resident = cache::settled(|| cache::residency(map))?;
    let pages = cache::resident_pages(map)?;
    let page = cache::page_size();
    let touched_resident = (0..touches).filter(|i| pages[i * stride / page]).count();
    Ok(Touched {
        sample,
        touched_resident,
        resident,
    })
}

/// What the ordinary `&[u8]` operations found in the map.
pub struct ByteOps {
    pub zeros: usize,
    /// Where the 8 bytes taken from the middle were found, and the middle.
    pub found: Option<usize>,
    pub middle: usize,
    /// A subslice points into the map itself: no copy was made.
    pub in_place: bool,
    /// The map equals what `fs::read` returns.
    pub equal: bool,
    pub read: Sample,
}

/// Counts, slices and searches the map as a byte slice and compares it with `fs::read`.
pub fn byte_ops(map: &Mmap, path: &Path) -> anyhow::Result<ByteOps> {
    // ANCHOR: bytes
    let bytes: &[u8] = map; // the map *is* a byte slice
    let zeros = bytes.iter().filter(|&&b| b == 0).count();
    let middle = bytes.len() / 2;
    let needle = &bytes[middle..middle + 8]; // a subslice: a pointer into the map
    let found = memchr::memmem::find(bytes, needle);
    // ANCHOR_END: bytes
    let in_place = bytes.as_ptr_range().contains(&needle.as_ptr());
    let (copy, read) = probe(|| std::fs::read(path));
    Ok(ByteOps {
        zeros,
        found,
        middle,
        in_place,
        equal: copy? == bytes,
        read,
    })
}
