//! Lesson 2's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::judge::or_missing;
use mmap_lab::quantity::{Bytes, Count, Flag, Pages, Secs};
use mmap_lab::{Judgement, findings};

/// Resident memory that mmap may add and still be said to have loaded nothing: a
/// hundredth of the file (page tables, the kernel's own bookkeeping).
const RSS_SHARE: f64 = 0.01;

/// Pages one touch may bring in and still be "the page that was needed": 64 pages
/// (256 KiB) allows the textbook 128 KiB readahead window with room to spare.
pub const NEEDED_PAGES: f64 = 64.0;

findings! {
    /// [2.vm] What `mmap(2)` did to the address space and to RAM.
    pub struct Vm {
        file: Bytes = "sample file size",
        [key] virt_growth: Bytes = "address space added by mmap",
        [key] rss_growth: Bytes = "resident memory added by mmap",
    }
}

/// [2.vm] Bound to virtual memory: the address space grows by the file at once, RAM not.
pub fn vm(f: &Vm) -> Judgement {
    let bound = f.virt_growth.0 >= f.file.0;
    let lazy = f.rss_growth.0 < f.file.0 * RSS_SHARE;
    let verdict = match (bound, lazy) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let headline = match verdict {
        Holds => format!(
            "mmap added the whole file, {}, to the address space at once, and {} to RAM",
            f.virt_growth, f.rss_growth
        ),
        Depends => format!(
            "mmap bound the file to the address space, but RAM also grew by {}: pages were \
             loaded eagerly",
            f.rss_growth
        ),
        _ => format!(
            "the address space grew by only {} for a file of {}: mapping did not bind it whole",
            f.virt_growth, f.file
        ),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "virtual size +{}, resident size +{} for a {} file",
            f.virt_growth, f.rss_growth, f.file
        ))
}

findings! {
    /// [2.os-loads] Touching a few bytes of a cold map.
    pub struct OsLoads {
        touches: Count = "bytes read through the cold map, one per stretch",
        [key] touched_resident: Count = "of the touched pages, resident afterwards",
        [key] faults: Count = "page faults while reading them",
        [key] resident: Pages = "pages of the file resident afterwards",
        read_ahead: Option<Bytes> = "the disk's readahead window (read_ahead_kb)",
        time: Secs = "time of those reads",
    }
}

impl OsLoads {
    /// Pages brought in per byte read.
    pub fn per_touch(&self) -> f64 {
        self.resident.0 / self.touches.0
    }
}

/// [2.os-loads] The kernel, not the program, loads the page that is needed.
pub fn os_loads(f: &OsLoads) -> Judgement {
    let loaded = f.touched_resident.0 >= f.touches.0 && f.faults.0 >= 1.0;
    let per = f.per_touch();
    let verdict = match (loaded, per <= NEEDED_PAGES) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let window = or_missing(f.read_ahead, "unknown");
    let headline = match verdict {
        Holds => format!(
            "each byte read made the kernel load its page (and {} neighbours), with no read() \
             call of ours",
            mmap_lab::Unit::Count.format((per - 1.0).round())
        ),
        Depends => format!(
            "the kernel loads the page that is needed — and {} more per touch: readahead \
             ({window} on this disk) decides, not the program",
            mmap_lab::Unit::Count.format((per - 1.0).round())
        ),
        _ => format!(
            "only {} of the {} touched pages were resident afterwards ({} faults): the kernel \
             did not keep the pages that were needed",
            f.touched_resident, f.touches, f.faults
        ),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "{} one-byte reads of a cold map: {} page faults, {} resident afterwards ({} per \
             touch), in {}",
            f.touches,
            f.faults,
            f.resident,
            mmap_lab::Unit::Count.format(per),
            f.time
        ))
        .detail(format_args!(
            "readahead window of this disk: {window}; a fault served from readahead counts as \
             minor even when it waited for the disk"
        ))
}

findings! {
    /// [2.bytes] The map used as an ordinary `&[u8]`.
    pub struct AsSlice {
        [key] equal: Flag = "the map equals fs::read of the file",
        [key] in_place: Flag = "a subslice points into the map (no copy)",
        found: Flag = "memmem found the 8 bytes taken from the middle",
        zeros: Count = "zero bytes counted by iterating the map",
        read_time: Secs = "fs::read of the same file, for comparison",
    }
}

/// [2.bytes] Indexing, slicing, iterating and searching work, on the file's own bytes.
/// That every slice method applies is true by type (`Mmap` derefs to `&[u8]`); that they
/// see the file's bytes, without copying them, is what is measured.
pub fn bytes(f: &AsSlice) -> Judgement {
    let verdict = if f.equal.0 && f.in_place.0 && f.found.0 {
        Holds
    } else {
        Fails
    };
    let headline = if verdict == Holds {
        "the map is a &[u8] by type; indexing, iterating and memmem saw exactly the bytes \
         fs::read returns, and slices pointed into the map"
            .to_string()
    } else {
        format!(
            "the map is a &[u8] by type, but equal to fs::read: {}, slices in place: {}, \
             search found the needle: {}",
            f.equal, f.in_place, f.found
        )
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "iterating counted {} zero bytes; fs::read of the same file took {}",
            f.zeros, f.read_time
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    const MIB: f64 = 1048576.0;

    /// The reference machine: 256 MiB sample, readahead 8 MiB.
    fn vm_reference() -> Vm {
        Vm {
            file: Bytes(256.0 * MIB),
            virt_growth: Bytes(256.0 * MIB),
            rss_growth: Bytes(0.0),
        }
    }

    fn os_loads_reference() -> OsLoads {
        OsLoads {
            touches: Count(8.0),
            touched_resident: Count(8.0),
            faults: Count(8.0),
            resident: Pages(16128.0),
            read_ahead: Some(Bytes(8.0 * MIB)),
            time: Secs(0.0557),
        }
    }

    fn bytes_reference() -> AsSlice {
        AsSlice {
            equal: Flag(true),
            in_place: Flag(true),
            found: Flag(true),
            zeros: Count(1048564.0),
            read_time: Secs(0.16),
        }
    }

    #[test]
    fn vm_holds_on_the_reference_and_moves_with_rss_and_address_space() {
        let r = vm_reference();
        assert_eq!(verdict(vm, &r), Holds);
        // RSS growing by a hundredth of the file: eager loading.
        let eager = Vm {
            rss_growth: Bytes(2.6 * MIB),
            ..r.clone()
        };
        assert_eq!(verdict(vm, &eager), Depends);
        let just_under = Vm {
            rss_growth: Bytes(2.5 * MIB),
            ..r.clone()
        };
        assert_eq!(verdict(vm, &just_under), Holds);
        let partial = Vm {
            virt_growth: Bytes(255.0 * MIB),
            ..r
        };
        assert_eq!(verdict(vm, &partial), Fails);
    }

    #[test]
    fn os_loads_depends_on_the_readahead_window() {
        let r = os_loads_reference();
        // 2,016 pages per touch with an 8 MiB window: much more than the page needed.
        assert_eq!(verdict(os_loads, &r), Depends);
        // The textbook 128 KiB window: 32 pages per touch.
        let small = OsLoads {
            resident: Pages(8.0 * 32.0),
            ..r.clone()
        };
        assert_eq!(verdict(os_loads, &small), Holds);
        let edge = OsLoads {
            resident: Pages(8.0 * 64.0),
            ..r.clone()
        };
        assert_eq!(verdict(os_loads, &edge), Holds);
        let over = OsLoads {
            resident: Pages(8.0 * 65.0),
            ..r.clone()
        };
        assert_eq!(verdict(os_loads, &over), Depends);
        let lost = OsLoads {
            touched_resident: Count(7.0),
            ..small.clone()
        };
        assert_eq!(verdict(os_loads, &lost), Fails);
        let no_fault = OsLoads {
            faults: Count(0.0),
            ..small
        };
        assert_eq!(verdict(os_loads, &no_fault), Fails);
    }

    #[test]
    fn bytes_fails_when_the_map_differs_from_the_file() {
        let r = bytes_reference();
        assert_eq!(verdict(bytes, &r), Holds);
        let differs = AsSlice {
            equal: Flag(false),
            ..r.clone()
        };
        assert_eq!(verdict(bytes, &differs), Fails);
        let copied = AsSlice {
            in_place: Flag(false),
            ..r
        };
        assert_eq!(verdict(bytes, &copied), Fails);
    }
}
