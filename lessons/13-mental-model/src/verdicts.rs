//! Lesson 13's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Outcome::Faster;
use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::findings::TIE;
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Pages, Rate, Secs};
use mmap_lab::{Judgement, Spread, findings};

findings! {
    /// [13.model] The file's bytes through a map and through read(), in both directions.
    pub struct Model {
        file: Bytes = "sample file size",
        map_len: Bytes = "length of the map",
        compared: Bytes = "bytes compared, map against read()",
        [key] same_bytes: Flag = "the map holds exactly the bytes read() returns",
        [key] same_checksum: Flag = "read() loop, map and a copy in RAM give one checksum",
        [key] store_seen: Flag = "a store into a shared map is what read() returns next, no msync",
    }
}

/// [13.model] mmap = file → memory: holds when the map is the file's bytes (same bytes,
/// same length, same checksum) and a store into memory is in the file for read() at once;
/// depends when only one direction showed; fails when the map's bytes were not the file's.
pub fn model(f: &Model) -> Judgement {
    let reads = f.same_bytes.0 && f.same_checksum.0 && f.map_len == f.file;
    let writes = f.store_seen.0;
    let verdict = match (reads, writes) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let headline = match verdict {
        Holds => format!(
            "the map is the file: its {} are the bytes read() returns, and a store into the \
             map is what read() returns next",
            f.file
        ),
        Depends => "reading holds — the map has read()'s bytes — but a store into a shared map \
                    was not what read() returned next"
            .to_string(),
        _ => format!(
            "the map is not the file here: of {} compared, the bytes or the checksum differed \
             from read()'s",
            f.compared
        ),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "map of {} over a {} file; {} compared buffer by buffer: equal {}; checksums equal \
             {}",
            f.map_len, f.file, f.compared, f.same_bytes, f.same_checksum
        ))
        .detail(format_args!(
            "one byte stored into each page of a shared writable map, then read back with \
             pread(2) before any msync: seen {}",
            f.store_seen
        ))
}

findings! {
    /// [13.no-copy] What each path copies: from the disk when cold, out of the page cache
    /// when cached — and what the map pays instead.
    pub struct NoCopy {
        file: Bytes = "sample file size",
        [key] cold_read_disk: Bytes = "read() loop, cold: read from disk (/proc/self/io)",
        [key] cold_map_disk: Bytes = "map scanned, cold: read from disk (/proc/self/io)",
        [key] warm_read: Spread = "read() loop with a 128 KiB buffer, cached: whole file",
        [key] warm_map: Spread = "fresh map scanned, cached (mmap, faults and munmap included)",
        warm_map_again: Spread = "the same map scanned again (its pages already mapped)",
        ram: Spread = "a copy already in RAM scanned: the ceiling",
        [key] map_faults: Count = "page faults of one fresh map scan, cached (median)",
        pages: Count = "pages in the file",
        page_tables: Bytes = "page tables of a scanned map (VmPTE growth)",
    }
}

/// [13.no-copy] "No copy": the map would save a copy cold if it read less from the disk than
/// read() (by [`TIE`]), and cached if its scan beat read()'s. Holds when it saves both,
/// depends when one, fails when neither.
pub fn no_copy(f: &NoCopy) -> Judgement {
    let cold_saves = f.cold_map_disk.0 * TIE < f.cold_read_disk.0;
    let warm = f.warm_map.versus(&f.warm_read);
    let warm_saves = warm.outcome == Faster;
    let verdict = match (cold_saves, warm_saves) {
        (true, true) => Holds,
        (false, false) => Fails,
        _ => Depends,
    };
    let cold = if cold_saves {
        format!(
            "cold, the map read {} from disk, read() {}",
            f.cold_map_disk, f.cold_read_disk
        )
    } else {
        format!("cold, both paths read {} from disk", f.cold_map_disk)
    };
    let headline = match (cold_saves, warm_saves) {
        (false, true) => format!(
            "one copy fewer, not none: {cold}; cached, the map skips read()'s copy to the \
             buffer — {}",
            warm.than("read()")
        ),
        (true, true) => format!(
            "no copy the read() path makes: {cold}, and cached the map scan is {}",
            warm.than("read()")
        ),
        _ => format!(
            "{cold}; cached, the map scan is {}: its faults cost what the copy saves",
            warm.than("read()")
        ),
    };
    let fault_pages = f.pages.0 / f.map_faults.0.max(1.0);
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "cold: read() loop {} and map {} from disk for a {} file — the disk copies it into \
             the page cache (DMA) either way",
            f.cold_read_disk, f.cold_map_disk, f.file
        ))
        .detail(format_args!(
            "cached, whole file: read() loop {} ({}), fresh map {} ({}), same map again {}, a \
             copy in RAM {} ({})",
            f.warm_read,
            rate(f.file, &f.warm_read),
            f.warm_map,
            rate(f.file, &f.warm_map),
            f.warm_map_again,
            f.ram,
            rate(f.file, &f.ram)
        ))
        .detail(format_args!(
            "what the map adds: {} page faults per scan (one per {} pages) and {} of page \
             tables for {} pages",
            f.map_faults,
            Count(fault_pages.round()),
            f.page_tables,
            f.pages
        ))
}

/// `bytes` over a spread's median, as a rate.
fn rate(bytes: Bytes, s: &Spread) -> Rate {
    Rate::of(bytes, s.secs())
}

findings! {
    /// [13.os] What the kernel did that the lesson did not ask for.
    pub struct Os {
        touched: Count = "pages touched in a cold map, one byte each, no advice",
        [key] resident: Pages = "pages of the file resident afterwards: read ahead",
        read_ahead: Option<Bytes> = "the disk's read_ahead_kb",
        [key] kept: Fraction = "share of the file still cached after munmap",
        dirtied: Count = "pages dirtied through a shared map, never synced",
        [key] dirty_left: Count = "of those, still dirty when the watch ended",
        watched: Secs = "how long after the writes the watch ended",
        deadline: Option<Secs> = "the kernel's writeback deadline (dirty_expire + dirty_writeback)",
        [key] evicted: Option<Count> = "pages of the sample memory reclaim evicted (cachestat)",
        available: Option<Bytes> = "RAM available at the start",
        beyond_evicted: Option<Count> = "pages of the --beyond-cache file reclaim evicted (cachestat)",
    }
}

/// Readahead counts when the kernel brought in at least this many pages per page touched.
pub const READ_AHEAD: f64 = 2.0;
/// The page cache kept the file when at least this share stayed after munmap.
pub const KEPT: f64 = 0.9;
/// Writeback is overdue when the watch went on this long past the kernel's deadline.
pub const GRACE: f64 = 5.0;

/// What became of the dirty pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writeback {
    /// Some were written back while we watched.
    Seen,
    /// None yet, but the kernel's deadline had not passed.
    NotDue,
    /// None, though the deadline had passed (or no page was dirty to begin with).
    Missed,
}

fn writeback(f: &Os) -> Writeback {
    if f.dirtied.0 > 0.0 && f.dirty_left.0 < f.dirtied.0 {
        Writeback::Seen
    } else if f.dirtied.0 > 0.0 && f.deadline.is_none_or(|d| f.watched.0 < d.0 + GRACE) {
        Writeback::NotDue
    } else {
        Writeback::Missed
    }
}

/// [13.os] The OS manages it: holds when the kernel read ahead, kept the file cached after
/// munmap and did not miss its own writeback deadline (writing back seen, or not yet due);
/// depends when some of that showed (evictions by reclaim count too) and some went against;
/// fails when none of it showed.
pub fn os(f: &Os) -> Judgement {
    let per_touch = f.resident.0 / f.touched.0.max(1.0);
    let ahead = per_touch >= READ_AHEAD;
    let kept = f.kept.0 >= KEPT;
    let wb = writeback(f);
    let evictions = f.evicted.map_or(0.0, |e| e.0) + f.beyond_evicted.map_or(0.0, |e| e.0);
    let seen = [ahead, kept, wb == Writeback::Seen, evictions > 0.0];
    let against = [!ahead, !kept, wb == Writeback::Missed];
    let verdict = if !against.contains(&true) {
        Holds
    } else if seen.contains(&true) {
        Depends
    } else {
        Fails
    };
    let ahead_words = if ahead {
        format!("read {} pages per page touched", Count(per_touch.round()))
    } else {
        "read only the pages touched".to_string()
    };
    let kept_words = if kept {
        "kept the file cached after munmap"
    } else {
        "dropped the file at munmap"
    };
    let deadline = mmap_lab::judge::or_missing(f.deadline, "unknown");
    let wb_words = match wb {
        Writeback::Seen => format!(
            "wrote back {} of {} dirty pages within {}",
            Count(f.dirtied.0 - f.dirty_left.0),
            f.dirtied,
            f.watched
        ),
        Writeback::NotDue => format!(
            "writeback not due after {} (deadline {deadline})",
            f.watched
        ),
        Writeback::Missed => format!(
            "{} pages still dirty after {} (deadline {deadline})",
            f.dirty_left, f.watched
        ),
    };
    let unasked = if verdict == Fails { "" } else { "unasked, " };
    let available = mmap_lab::judge::or_missing(f.available, "unknown");
    let evicted = match (f.evicted, f.beyond_evicted) {
        (_, Some(b)) => format!(
            "eviction: reclaim evicted {b} pages of the --beyond-cache file, unasked (the \
             lesson's own evictions use posix_fadvise, which this count does not see)"
        ),
        (Some(e), None) if e.0 > 0.0 => format!(
            "eviction: reclaim evicted {e} pages of the sample, unasked ({available} RAM \
             available)"
        ),
        (Some(_), None) => format!(
            "eviction: reclaim evicted none of the sample: with {available} RAM available it \
             had no need (--beyond-cache makes one)"
        ),
        (None, None) => "eviction: cachestat(2) is not available here to count it".to_string(),
    };
    Judgement::new(verdict)
        .headline(format_args!(
            "{unasked}the kernel {ahead_words}, {kept_words}; {wb_words}"
        ))
        .detail(format_args!(
            "readahead: {} pages touched in a cold map, {} resident afterwards (read_ahead_kb: \
             {})",
            f.touched,
            f.resident,
            mmap_lab::judge::or_missing(f.read_ahead, "unknown")
        ))
        .detail(format_args!(
            "caching: {} of the file still in the page cache after the map was unmapped",
            f.kept
        ))
        .detail(format_args!(
            "writeback: {} pages dirtied through a shared map, no msync; {} still dirty {} \
             later; the kernel writes a dirty file back once it is dirty_expire old, checked \
             every dirty_writeback (together {deadline}; --writeback-wait to watch longer)",
            f.dirtied, f.dirty_left, f.watched
        ))
        .detail(evicted)
}

findings! {
    /// Two passes through a map over a file larger than the RAM available.
    pub struct Beyond {
        size: Bytes = "file size",
        available: Bytes = "RAM available at the start",
        first: Secs = "first pass, map scanned, from disk",
        second: Secs = "second pass, map scanned",
        second_disk: Option<Bytes> = "second pass: read from disk",
        resident: Fraction = "share of the file cached afterwards",
    }
}

findings! {
    /// [13.speed] The same scans cold and cached, and optionally beyond the page cache.
    pub struct Speed {
        file: Bytes = "sample file size",
        [key] cold_map: Spread = "map scanned, cold",
        [key] warm_map: Spread = "map scanned, cached",
        cold_read: Spread = "read() loop, cold",
        warm_read: Spread = "read() loop, cached",
        beyond: Option<Beyond> = "--beyond-cache",
    }
}

/// [13.speed] Speed comes from the page cache: fails when a cached map scan was not faster
/// than a cold one; otherwise holds — unless a --beyond-cache run, with a file larger than
/// the RAM available, kept its cached speed on a second pass (depends: the speed was not
/// all the cache's).
pub fn speed(f: &Speed) -> Judgement {
    let cache = f.warm_map.versus(&f.cold_map);
    let read = f.warm_read.versus(&f.cold_read);
    let base = format!(
        "cached, a map scan is {} ({} → {})",
        cache.than("cold"),
        f.cold_map.secs(),
        f.warm_map.secs()
    );
    let per_byte = |s: Secs, size: Bytes| Spread::once(s.0 / size.0);
    let (verdict, headline) = match &f.beyond {
        _ if cache.outcome != Faster => {
            (Fails, format!("the page cache made no difference: {base}"))
        }
        None => (
            Holds,
            format!("{base}; the beyond-cache case was not run (--beyond-cache)"),
        ),
        Some(b) if b.size.0 <= b.available.0 => (
            Holds,
            format!(
                "{base}; the --beyond-cache file ({}) fit in the {} available",
                b.size, b.available
            ),
        ),
        Some(b) => {
            let second = per_byte(b.second, b.size);
            let warm = f.warm_map.per(f.file.0);
            let drop = warm.versus(&second);
            if drop.outcome == Faster {
                (
                    Holds,
                    format!(
                        "{base}; beyond the cache ({} > {} RAM) a second pass ran {:.1}× slower \
                         than cached",
                        b.size, b.available, drop.factor
                    ),
                )
            } else {
                (
                    Depends,
                    format!(
                        "{base}, yet beyond the cache ({} > {} RAM) a second pass kept the \
                         cached speed",
                        b.size, b.available
                    ),
                )
            }
        }
    };
    let beyond = f.beyond.as_ref().map(|b| {
        format!(
            "--beyond-cache: {} file, {} RAM available; map scans: first pass {} ({}), second \
             {} ({}, {} from disk); {} cached afterwards",
            b.size,
            b.available,
            b.first,
            Rate::of(b.size, b.first),
            b.second,
            Rate::of(b.size, b.second),
            mmap_lab::judge::or_missing(b.second_disk, "unknown"),
            b.resident
        )
    });
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "map scan of {}: cold {} ({}), cached {} ({})",
            f.file,
            f.cold_map,
            rate(f.file, &f.cold_map),
            f.warm_map,
            rate(f.file, &f.warm_map)
        ))
        .detail(format_args!(
            "read() loop: cold {}, cached {} — {}",
            f.cold_read,
            f.warm_read,
            read.than("cold")
        ))
        .detail(beyond.unwrap_or_else(|| {
            "Crotty, Leis and Pavlo (CIDR 2022) saw mmap 2 to 20× behind direct I/O once the page \
             cache had to evict: run --beyond-cache to see the cache run out here"
                .to_string()
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::{judged, verdict_of as verdict};

    const MIB: f64 = 1048576.0;

    fn s(ms: f64) -> Spread {
        Spread::of(&[ms * 0.95e-3, ms * 1e-3, ms * 1.05e-3])
    }

    fn model_reference() -> Model {
        Model {
            file: Bytes(128.0 * MIB),
            map_len: Bytes(128.0 * MIB),
            compared: Bytes(128.0 * MIB),
            same_bytes: Flag(true),
            same_checksum: Flag(true),
            store_seen: Flag(true),
        }
    }

    #[test]
    fn model_holds_both_ways_depends_on_reads_alone_and_fails_on_other_bytes() {
        let r = model_reference();
        assert_eq!(verdict(model, &r), Holds);
        let no_store = Model {
            store_seen: Flag(false),
            ..r.clone()
        };
        assert_eq!(verdict(model, &no_store), Depends);
        let other = Model {
            same_bytes: Flag(false),
            ..r.clone()
        };
        assert_eq!(verdict(model, &other), Fails);
        let short = Model {
            map_len: Bytes(64.0 * MIB),
            ..r.clone()
        };
        assert_eq!(verdict(model, &short), Fails);
        let sum = Model {
            same_checksum: Flag(false),
            ..r
        };
        assert_eq!(verdict(model, &sum), Fails);
    }

    /// The reference machine: 128 MiB sample, both paths read it all from disk cold; cached,
    /// the map scan ran near the in-RAM ceiling, about 3× the read() loop.
    fn no_copy_reference() -> NoCopy {
        NoCopy {
            file: Bytes(128.0 * MIB),
            cold_read_disk: Bytes(128.0 * MIB),
            cold_map_disk: Bytes(128.0 * MIB),
            warm_read: s(16.0),
            warm_map: s(5.5),
            warm_map_again: s(4.6),
            ram: s(4.4),
            map_faults: Count(270.0),
            pages: Count(32768.0),
            page_tables: Bytes(4096.0),
        }
    }

    #[test]
    fn no_copy_depends_on_the_reference_one_copy_fewer_not_none() {
        let r = no_copy_reference();
        let j = judged(no_copy, &r);
        assert_eq!(j.verdict, Depends, "{}", j.headline);
        assert!(j.headline.contains("one copy fewer"), "{}", j.headline);
        // The map no faster cached than read(): no copy saved anywhere.
        let tie = NoCopy {
            warm_map: s(14.0),
            ..r.clone()
        };
        assert_eq!(verdict(no_copy, &tie), Fails);
        // Just past the tie factor it saves the copy again.
        let just = NoCopy {
            warm_map: s(16.0 / 1.4),
            ..r.clone()
        };
        assert_eq!(verdict(no_copy, &just), Depends);
        // A map that read less from disk than read() (by the tie factor) saves both copies.
        let less = NoCopy {
            cold_map_disk: Bytes(128.0 * MIB / 1.3),
            ..r.clone()
        };
        assert_eq!(verdict(no_copy, &less), Holds);
        let not_enough = NoCopy {
            cold_map_disk: Bytes(128.0 * MIB / 1.2),
            ..r
        };
        assert_eq!(verdict(no_copy, &not_enough), Depends);
        let less_but_slow = NoCopy {
            warm_map: s(14.0),
            ..less
        };
        assert_eq!(verdict(no_copy, &less_but_slow), Depends);
    }

    fn os_reference() -> Os {
        Os {
            touched: Count(8.0),
            resident: Pages(16384.0),
            read_ahead: Some(Bytes(8.0 * MIB)),
            kept: Fraction(1.0),
            dirtied: Count(1024.0),
            dirty_left: Count(1024.0),
            watched: Secs(2.0),
            deadline: Some(Secs(35.0)),
            evicted: Some(Count(0.0)),
            available: Some(Bytes(22.0 * 1024.0 * MIB)),
            beyond_evicted: None,
        }
    }

    #[test]
    fn os_holds_on_the_reference_with_writeback_not_yet_due() {
        let r = os_reference();
        let j = judged(os, &r);
        assert_eq!(j.verdict, Holds, "{}", j.headline);
        assert!(j.headline.contains("not due"), "{}", j.headline);
        let written = Os {
            dirty_left: Count(0.0),
            watched: Secs(31.0),
            ..r.clone()
        };
        let j = judged(os, &written);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("wrote back 1,024"), "{}", j.headline);
        // Past the deadline and its grace with every page still dirty: overdue.
        let overdue = Os {
            watched: Secs(40.1),
            ..r.clone()
        };
        assert_eq!(verdict(os, &overdue), Depends);
        let in_grace = Os {
            watched: Secs(39.9),
            ..r.clone()
        };
        assert_eq!(verdict(os, &in_grace), Holds);
        // No dirty page to watch at all counts against.
        let none = Os {
            dirtied: Count(0.0),
            dirty_left: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(os, &none), Depends);
    }

    #[test]
    fn os_boundaries_readahead_and_caching() {
        let r = os_reference();
        let no_readahead = Os {
            resident: Pages(15.0),
            ..r.clone()
        };
        assert_eq!(verdict(os, &no_readahead), Depends);
        let two_per_touch = Os {
            resident: Pages(16.0),
            ..r.clone()
        };
        assert_eq!(verdict(os, &two_per_touch), Holds);
        let dropped = Os {
            kept: Fraction(0.89),
            ..r.clone()
        };
        assert_eq!(verdict(os, &dropped), Depends);
        // Nothing the kernel did on its own showed: fails.
        let nothing = Os {
            resident: Pages(8.0),
            kept: Fraction(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(os, &nothing), Fails);
        let only_writeback = Os {
            dirty_left: Count(0.0),
            ..nothing.clone()
        };
        assert_eq!(verdict(os, &only_writeback), Depends);
        let only_eviction = Os {
            evicted: Some(Count(1.0)),
            ..nothing
        };
        assert_eq!(verdict(os, &only_eviction), Depends);
        // Eviction is reported, never invented: a beyond-cache count goes in the details.
        let beyond = Os {
            beyond_evicted: Some(Count(5e6)),
            ..r
        };
        let j = judged(os, &beyond);
        assert!(j.details.iter().any(|d| d.contains("5,000,000")), "{j:?}");
    }

    fn speed_reference() -> Speed {
        Speed {
            file: Bytes(128.0 * MIB),
            cold_map: s(110.0),
            warm_map: s(5.5),
            cold_read: s(120.0),
            warm_read: s(16.0),
            beyond: None,
        }
    }

    fn beyond(second_secs: f64) -> Beyond {
        Beyond {
            size: Bytes(28.0 * 1024.0 * MIB),
            available: Bytes(22.0 * 1024.0 * MIB),
            first: Secs(60.0),
            second: Secs(second_secs),
            second_disk: Some(Bytes(27.0 * 1024.0 * MIB)),
            resident: Fraction(0.7),
        }
    }

    #[test]
    fn speed_holds_on_the_reference_and_says_the_beyond_cache_case_did_not_run() {
        let r = speed_reference();
        let j = judged(speed, &r);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("not run"), "{}", j.headline);
        // A disk as fast as the cache: no difference, the claim fails.
        let fast_disk = Speed {
            cold_map: s(6.5),
            ..r.clone()
        };
        assert_eq!(verdict(speed, &fast_disk), Fails);
        let just = Speed {
            cold_map: s(5.5 * 1.4),
            ..r
        };
        assert_eq!(verdict(speed, &just), Holds);
    }

    #[test]
    fn speed_beyond_the_cache_holds_when_the_second_pass_slows_and_depends_when_not() {
        let r = speed_reference();
        // 28 GiB at the cached rate of 128 MiB per 5.5 ms would take 1.2 s.
        let slow = Speed {
            beyond: Some(beyond(55.0)),
            ..r.clone()
        };
        let j = judged(speed, &slow);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("slower than cached"), "{}", j.headline);
        let kept_up = Speed {
            beyond: Some(beyond(1.3)),
            ..r.clone()
        };
        assert_eq!(verdict(speed, &kept_up), Depends);
        // A --beyond-cache file that fit in RAM forced nothing: judged on the default part.
        let fit = Speed {
            beyond: Some(Beyond {
                size: Bytes(64.0 * MIB),
                ..beyond(0.01)
            }),
            ..r.clone()
        };
        let j = judged(speed, &fit);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("fit in"), "{}", j.headline);
        // No cache speed-up at all fails whatever the beyond-cache run says.
        let flat = Speed {
            cold_map: s(6.0),
            ..slow
        };
        assert_eq!(verdict(speed, &flat), Fails);
    }
}
