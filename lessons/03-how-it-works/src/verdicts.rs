//! Lesson 3's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Pages, Ratio};
use mmap_lab::{Judgement, Outcome, Spread, findings};

/// Pages per touch (or read) that may come in and still be "the pages needed".
const NEEDED: f64 = 2.0;
/// Share of the default pass's pages still cached after munmap that means "not evicted".
const KEPT: f64 = 0.9;
/// Share of the file mmap may load before any touch and still have loaded nothing.
const AT_MAP: f64 = 0.01;
/// Share of cold reads that must be major faults (make_cold may leave a tenth cached).
const DISK_SHARE: f64 = 0.5;
/// Faults per read a second pass through the same mapping may take and still be free.
const AGAIN_SHARE: f64 = 0.1;

findings! {
    /// [3.page-4k] The page size, and how much one cold or warm fault loads and maps.
    pub struct Page4k {
        [key] page: Bytes = "page size (sysconf)",
        [key] random_per_fault: Pages = "pages read per major fault, MADV_RANDOM",
        random_mapped: Option<Bytes> = "memory one MADV_RANDOM fault mapped (smaps Rss)",
        [key] default_per_fault: Pages = "pages read per major fault, default advice",
        [key] warm_mapped: Option<Pages> = "pages mapped per fault on cached pages (fault-around)",
    }
}

/// [3.page-4k] Handled in 4 KiB pages: the page size, and one page per fault, readahead off.
pub fn page_4k(f: &Page4k) -> Judgement {
    let (page, random, default) = (f.page, Count(f.random_per_fault.0), f.default_per_fault);
    let (four_k, one) = (page.0 == 4096.0, random.0 <= 1.0);
    let not = if four_k { "" } else { ", not 4 KiB" };
    let (s, bytes) = (if one { "" } else { "s" }, Bytes(default.0 * page.0));
    Judgement::new(if four_k && one { Holds } else { Depends }).headline(format_args!(
        "a page here is {page}{not}; one MADV_RANDOM fault read {random} page{s}, one with the \
         default advice {default} ({bytes})"
    ))
}

findings! {
    /// [3.in] Which pages a few touches of the evicted file brought in, under each advice.
    pub struct In {
        touches: Count = "cold touches, one in the middle of each slice of the file",
        [key] random_resident: Pages = "pages resident after the cold touches, MADV_RANDOM",
        [key] random_touched: Count = "of them touched pages",
        [key] random_majflt: Count = "major faults of those touches",
        default_behind: Pages = "pages read before each touched page, default advice",
        default_ahead: Pages = "pages read after each touched page, default advice",
        sequential_behind: Pages = "pages read before each touched page, MADV_SEQUENTIAL",
        sequential_ahead: Pages = "pages read after each touched page, MADV_SEQUENTIAL",
        capped: Flag = "a count filled all the pages looked at (≥: readahead reached further)",
    }
}

/// [3.in] Pages come in when needed: readahead off, the touched pages, each by its own fault.
pub fn in_(f: &In) -> Judgement {
    let (k, resident) = (f.touches, f.random_resident);
    let (hit, majflt) = (f.random_touched, f.random_majflt);
    let exact = hit.0 >= k.0 && majflt.0 >= k.0 && resident.0 <= NEEDED * k.0;
    let mark = if f.capped.0 { "≥" } else { "~" };
    let each = |b: Pages, a: Pages| format!("{mark}{b} before, {mark}{a} after each touch");
    let default = each(f.default_behind, f.default_ahead);
    let sequential = each(f.sequential_behind, f.sequential_ahead);
    Judgement::new(if exact { Holds } else { Fails })
        .headline(format_args!(
            "with MADV_RANDOM, {k} cold touches made {resident} resident ({hit} touched, {majflt} \
             major faults); the default advice read {default}"
        ))
        .detail(format_args!(
            "MADV_SEQUENTIAL read {sequential}: readahead reads them needed or not"
        ))
}

findings! {
    /// [3.out] What unmapping and `posix_fadvise(DONTNEED)` did to the page cache.
    pub struct Out {
        default_read: Pages = "pages the default pass read",
        [key] after_unmap: Pages = "pages still cached after the default pass unmapped",
        fincore: Option<Pages> = "the same, counted by fincore (util-linux)",
        mapped: Option<Pages> = "pages a new mapping of them mapped (smaps Rss)",
        [key] left_while_mapped: Pages = "pages left after posix_fadvise(DONTNEED) while mapped",
        [key] left_after_evict: Pages = "pages left after munmap + posix_fadvise(DONTNEED)",
    }
}

/// [3.out] Evicted when not needed: do pages leave once the program unmaps them?
pub fn out(f: &Out) -> Judgement {
    let kept = f.after_unmap.0 >= KEPT * f.default_read.0;
    let (stayed, read) = (Count(f.after_unmap.0), f.default_read);
    let (mapped, after) = (Count(f.left_while_mapped.0), Count(f.left_after_evict.0));
    let how = if kept { "outlived" } else { "left at" };
    Judgement::new(if kept { Depends } else { Holds })
        .headline(format_args!(
            "pages {how} munmap ({stayed} of {read} stayed cached); posix_fadvise(DONTNEED) \
             evicted all but {mapped} while mapped, {after} once unmapped"
        ))
        .detail("eviction under memory pressure is not measured: no step creates memory pressure")
}

findings! {
    /// [3.lazy] What mapping loaded, and what random reads faulted at first and later touches.
    pub struct Lazy {
        [key] at_map: Fraction = "file resident right after mmap (evicted before)",
        reads: Count = "random page reads, MADV_RANDOM",
        [key] cold_majflt: Count = "major faults of those reads, cold",
        [key] mapped_faults: Count = "page faults of the same reads, same mapping again",
    }
}

/// [3.lazy] Mapping loads nothing; a page is read at its first touch, and only then.
pub fn lazy(f: &Lazy) -> Judgement {
    let (at_map, reads, majflt, again) = (f.at_map, f.reads, f.cold_majflt, f.mapped_faults);
    let lazy = at_map.0 < AT_MAP && majflt.0 >= DISK_SHARE * reads.0;
    let lazy = lazy && again.0 < AGAIN_SHARE * reads.0;
    let not = if lazy { "" } else { "not lazy here: " };
    Judgement::new(if lazy { Holds } else { Fails }).headline(format_args!(
        "{not}mmap loaded {at_map} of the file; {majflt} of {reads} cold reads were major faults, \
         and reading them again took {again} faults"
    ))
}

findings! {
    /// [3.therefore] Random reads of a file whose pages are mostly not in RAM.
    pub struct Therefore {
        of_ram: Fraction = "the sample's size, as a share of this machine's RAM",
        [key] resident: Fraction = "of the file resident after the cold reads, MADV_RANDOM",
        resident_per_read: Ratio = "pages resident per page read, MADV_RANDOM",
        [key] cold: Spread = "cold random read, MADV_RANDOM, per read",
        [key] warm: Spread = "same reads, new mapping, pages cached, per read",
        mapped: Spread = "same reads, same mapping again, per read",
        default_cold: Spread = "cold random read, default advice, per read",
        default_resident: Fraction = "of the file resident after them",
        default_per_read: Ratio = "pages resident per page read, default advice",
    }
}

/// [3.therefore] What was measured of "big file + little RAM + fast random access": random
/// reads need RAM only for the pages they touch, and what a read costs cold and cached.
pub fn therefore(f: &Therefore) -> Judgement {
    let cold = f.cold.versus(&f.warm);
    let verdict = match (f.resident_per_read.0 <= NEEDED, cold.outcome) {
        (false, _) => Fails,
        (true, Outcome::Slower) => Depends,
        (true, _) => Holds,
    };
    let (resident, per, warm) = (f.resident, f.resident_per_read, f.warm.secs());
    Judgement::new(verdict)
        .headline(format_args!(
            "with MADV_RANDOM, random reads left {resident} of the file resident ({per} the pages \
             read); cached, a read took {warm}, cold {cold}"
        ))
        .detail(format_args!(
            "default advice: a cold read {}, {} of the file resident ({} the pages read); the \
             sample is {} of this machine's RAM: no step read more pages than fit in it",
            f.default_cold, f.default_resident, f.default_per_read, f.of_ram
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::{judged, verdict_of as verdict};

    /// Three runs around `median` seconds, 5 % apart.
    fn runs(median: f64) -> Spread {
        Spread::of(&[median * 0.95, median, median * 1.05])
    }

    /// The reference machine (book/reference/lesson-03.json): 256 MiB sample, 4 KiB pages,
    /// read_ahead_kb 8 MiB, 23.5 GiB of RAM.
    fn page_4k_reference() -> Page4k {
        Page4k {
            page: Bytes(4096.0),
            random_per_fault: Pages(1.0),
            random_mapped: Some(Bytes(4096.0)),
            default_per_fault: Pages(2048.0),
            warm_mapped: Some(Pages(16.0)),
        }
    }

    fn in_reference() -> In {
        In {
            touches: Count(8.0),
            random_resident: Pages(8.0),
            random_touched: Count(8.0),
            random_majflt: Count(8.0),
            default_behind: Pages(1024.0),
            default_ahead: Pages(1023.0),
            sequential_behind: Pages(0.0),
            sequential_ahead: Pages(2047.0),
            capped: Flag(false),
        }
    }

    fn out_reference() -> Out {
        Out {
            default_read: Pages(16384.0),
            after_unmap: Pages(16384.0),
            fincore: Some(Pages(16384.0)),
            mapped: Some(Pages(128.0)),
            left_while_mapped: Pages(128.0),
            left_after_evict: Pages(0.0),
        }
    }

    fn lazy_reference() -> Lazy {
        Lazy {
            at_map: Fraction(0.0),
            reads: Count(256.0),
            cold_majflt: Count(256.0),
            mapped_faults: Count(0.0),
        }
    }

    fn therefore_reference() -> Therefore {
        Therefore {
            of_ram: Fraction(268435456.0 / 25276514304.0),
            resident: Fraction(0.00390625),
            resident_per_read: Ratio(1.0),
            cold: runs(52.0e-6),
            warm: runs(1.47e-6),
            mapped: runs(30.6e-9),
            default_cold: runs(741.0e-6),
            default_resident: Fraction(0.9885),
            default_per_read: Ratio(253.06),
        }
    }

    #[test]
    fn page_4k_holds_for_4_kib_pages_read_one_at_a_time() {
        let r = page_4k_reference();
        let j = judged(page_4k, &r);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("2,048 pages (8 MiB)"), "{}", j.headline);
        let big_pages = Page4k {
            page: Bytes(16384.0),
            ..r.clone()
        };
        assert_eq!(verdict(page_4k, &big_pages), Depends);
        assert!(judged(page_4k, &big_pages).headline.contains("not 4 KiB"));
        // With readahead off, one page per fault is the edge; two is a bigger unit.
        let two = Page4k {
            random_per_fault: Pages(2.0),
            ..r.clone()
        };
        assert_eq!(verdict(page_4k, &two), Depends);
        let no_readahead = Page4k {
            default_per_fault: Pages(1.0),
            warm_mapped: None,
            ..r
        };
        assert_eq!(verdict(page_4k, &no_readahead), Holds);
    }

    #[test]
    fn in_fails_when_the_touched_pages_are_not_exactly_what_came_in() {
        let r = in_reference();
        let j = judged(in_, &r);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("~1,024 pages before"), "{}", j.headline);
        let edge = In {
            random_resident: Pages(16.0),
            ..r.clone()
        };
        assert_eq!(verdict(in_, &edge), Holds);
        let extra = In {
            random_resident: Pages(17.0),
            ..r.clone()
        };
        assert_eq!(verdict(in_, &extra), Fails);
        let lost = In {
            random_touched: Count(7.0),
            ..r.clone()
        };
        assert_eq!(verdict(in_, &lost), Fails);
        let cached = In {
            random_majflt: Count(7.0),
            ..r.clone()
        };
        assert_eq!(verdict(in_, &cached), Fails);
        let capped = In {
            capped: Flag(true),
            ..r
        };
        assert!(judged(in_, &capped).headline.contains("≥1,024"));
    }

    #[test]
    fn out_depends_while_munmap_leaves_the_pages_cached() {
        let r = out_reference();
        assert_eq!(verdict(out, &r), Depends);
        // 90 % of the 16,384 pages read is 14,745.6.
        let most = Out {
            after_unmap: Pages(14746.0),
            ..r.clone()
        };
        assert_eq!(verdict(out, &most), Depends);
        let dropped = Out {
            after_unmap: Pages(14745.0),
            ..r.clone()
        };
        assert_eq!(verdict(out, &dropped), Holds);
        let gone = Out {
            after_unmap: Pages(0.0),
            fincore: None,
            mapped: None,
            ..r
        };
        assert_eq!(verdict(out, &gone), Holds);
    }

    #[test]
    fn lazy_fails_on_eager_loading_disk_free_cold_reads_or_faults_on_rereading() {
        let r = lazy_reference();
        assert_eq!(verdict(lazy, &r), Holds);
        let some = Lazy {
            at_map: Fraction(0.0099),
            ..r.clone()
        };
        assert_eq!(verdict(lazy, &some), Holds);
        let eager = Lazy {
            at_map: Fraction(0.01),
            ..r.clone()
        };
        assert_eq!(verdict(lazy, &eager), Fails);
        let half = Lazy {
            cold_majflt: Count(128.0),
            ..r.clone()
        };
        assert_eq!(verdict(lazy, &half), Holds);
        let cached = Lazy {
            cold_majflt: Count(127.0),
            ..r.clone()
        };
        assert_eq!(verdict(lazy, &cached), Fails);
        // A tenth of 256 reads is 25.6 faults.
        let few = Lazy {
            mapped_faults: Count(25.0),
            ..r.clone()
        };
        assert_eq!(verdict(lazy, &few), Holds);
        let again = Lazy {
            mapped_faults: Count(26.0),
            ..r
        };
        assert_eq!(verdict(lazy, &again), Fails);
    }

    #[test]
    fn therefore_says_only_what_was_measured_and_moves_with_residency_and_cost() {
        let r = therefore_reference();
        let j = judged(therefore, &r);
        assert_eq!(j.verdict, Depends);
        assert!(j.headline.contains("35.4× slower"), "{}", j.headline);
        // Nothing measured a working set beyond RAM: no words about it.
        assert!(!j.headline.contains("big file") && !j.headline.contains("little RAM"));
        assert!(
            j.details
                .iter()
                .any(|d| d.contains("1.06 % of this machine's RAM"))
        );
        let edge = Therefore {
            resident_per_read: Ratio(2.0),
            ..r.clone()
        };
        assert_eq!(verdict(therefore, &edge), Depends);
        let spilled = Therefore {
            resident_per_read: Ratio(2.01),
            ..r.clone()
        };
        assert_eq!(verdict(therefore, &spilled), Fails);
        // A cold read within the tie factor of a cached one: random access is fast cold too.
        let tie = Therefore {
            cold: runs(1.2 * 1.47e-6),
            ..r.clone()
        };
        assert_eq!(verdict(therefore, &tie), Holds);
        let slower = Therefore {
            cold: runs(1.3 * 1.47e-6),
            ..r
        };
        assert_eq!(verdict(therefore, &slower), Depends);
    }
}
