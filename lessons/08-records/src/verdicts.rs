//! Lesson 8's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Outcome::Faster;
use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::judge::or_missing;
use mmap_lab::quantity::{Bytes, Count, Flag, Ratio};
use mmap_lab::{Judgement, Spread, Unit, findings};

/// The performance goal of the issue, checked in a benchmark run, not by a judge: Rust's
/// random record lookups at least this many times faster than the notes' Python.
pub const PYTHON_GOAL: f64 = 25.0;

findings! {
    /// The record format: padding, the two languages reading each other's files, and the
    /// alignment check of the cast. Context for both claims.
    pub struct Format {
        calcsize: Option<Bytes> = "Python: struct.calcsize(\"i d\")",
        calcsize_packed: Option<Bytes> = "Python: struct.calcsize(\"=id\")",
        repr_c: Bytes = "Rust: size_of::<Record>() (#[repr(C)], i32 + 4 padding + f64)",
        repr_packed: Bytes = "Rust: size_of of the #[repr(C, packed)] twin",
        balance_offset: Bytes = "Rust: offset of balance in Record",
        packed_right: Option<Count> = "of 64 records read with \"=id\" (the 12-byte layout), right",
        python_read_rust: Option<Flag> = "the notes' Python read the records Rust wrote",
        rust_read_python: Option<Flag> = "Rust read the records the notes' Python wrote, in place",
        ways_agree: Flag = "every way of looking up found the same records",
        misaligned_refused: Flag = "bytemuck refused to cast the map at offset 1",
    }
}

impl Format {
    /// Every reader found what the writers wrote.
    pub fn values_match(&self) -> bool {
        self.ways_agree.0
            && self.python_read_rust.is_none_or(|f| f.0)
            && self.rust_read_python.is_none_or(|f| f.0)
    }
}

findings! {
    /// [8.no-copy] Where a looked-up record's bytes come from: the map itself, a copy, the
    /// disk.
    pub struct NoCopy {
        [key] in_place: Flag = "a record read through the cast points into the map",
        values_match: Flag = "every reader, in both languages, found what was written",
        warm_major: Count = "major faults during the cached lookups",
        warm_disk: Option<Bytes> = "read from disk during the cached lookups",
        cold_lookups: Count = "lookups of a cold file, each on a page of its own",
        [key] cold_major: Count = "major faults during them (mmap + advise(Random))",
        cold_disk: Option<Bytes> = "read from disk during them",
        python_cold_major: Option<Count> = "major faults of the notes' Python on the cold file",
        [key] python_slice_copies: Option<Flag> = "the notes' mm[a:b] kept its bytes when the map changed: a copy",
        python_view_shares: Option<Flag> = "memoryview(mm)[a:b] saw the change: no copy",
    }
}

/// [8.no-copy] "no disk, no RAM copy": judged on the notes' code (its slice) when Python
/// ran, else on the Rust cast. A copy on every lookup fails the claim whatever the cache
/// holds; a cold file read from disk makes it depend on the page cache.
pub fn no_copy(f: &NoCopy) -> Judgement {
    let copies = f.python_slice_copies.map_or(!f.in_place.0, |c| c.0);
    let warm_disk = f.warm_major.0 > 0.0 || f.warm_disk.is_some_and(|b| b.0 > 0.0);
    let cold_disk = f.cold_major.0 > 0.0 || f.cold_disk.is_some_and(|b| b.0 > 0.0);
    let verdict = if !f.values_match.0 || warm_disk || copies {
        Fails
    } else if cold_disk {
        Depends
    } else {
        Holds
    };
    let who = if f.python_slice_copies.is_some() {
        "the notes' mm[a:b] copies every record into a new bytes object"
    } else {
        "the records were copied, not read in place"
    };
    let headline = match verdict {
        _ if !f.values_match.0 => "the records read back were not the ones written: the \
             writer's and the reader's formats disagree"
            .to_string(),
        _ if warm_disk => format!(
            "even on the cached file the lookups waited for the disk: {} major faults",
            f.warm_major
        ),
        Fails if cold_disk => format!(
            "{who}, and cold each first touch read the disk ({} major faults); Rust's cached \
             cast has neither",
            f.cold_major
        ),
        Fails => format!("{who}; no lookup waited for the disk"),
        Depends => format!(
            "records are read in place with no copy, but not without the disk: cold, {} \
             first touches took {} major faults",
            f.cold_lookups, f.cold_major
        ),
        _ => "records are read in place with no copy, and no lookup waited for the disk, \
              even right after eviction"
            .to_string(),
    };
    let python = match (f.python_slice_copies, f.python_view_shares) {
        (Some(s), Some(v)) => format!(
            "the notes' Python: the slice kept the old bytes: {s}; a memoryview saw the \
             change: {v}; struct.unpack_from reads the map without a slice"
        ),
        _ => "the notes' Python did not run: judged on the Rust cast".to_string(),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "cached: {} major faults, {} read from disk; a record reference points into \
             the map: {}",
            f.warm_major,
            or_missing(f.warm_disk, "unknown"),
            f.in_place
        ))
        .detail(format_args!(
            "cold: {} lookups on {} pages took {} major faults and read {} from disk{}",
            f.cold_lookups,
            f.cold_lookups,
            f.cold_major,
            or_missing(f.cold_disk, "an unknown amount"),
            f.python_cold_major.map_or(String::new(), |m| format!(
                "; the notes' Python (no advice, readahead on) took {m}"
            ))
        ))
        .detail(python)
}

findings! {
    /// [8.fast] Time per random record lookup, each way, cached and from disk.
    pub struct Fast {
        [key] in_place: Spread = "cached: Rust, in place (cast of the map), per lookup",
        copy_out: Spread = "cached: Rust, 16 bytes copied out + from_ne_bytes, per lookup",
        [key] pread: Spread = "cached: Rust, one pread per record, per lookup",
        [key] python_slice: Option<Spread> = "cached: the notes' Python, mm[a:b] + struct.unpack, per lookup",
        python_unpack_from: Option<Spread> = "cached: Python, struct.unpack_from(mm), per lookup",
        python_pread: Option<Spread> = "cached: Python, os.pread + struct.unpack, per lookup",
        python_ratio: Option<Ratio> = "the notes' Python per lookup over Rust in place (goal: 25×)",
        cold_in_place: Option<Spread> = "cold: Rust in place + advise(Random), per lookup",
        cold_pread: Option<Spread> = "cold: Rust pread, per lookup",
        cold_python: Option<Spread> = "cold: the notes' Python, per lookup",
    }
}

/// [8.fast] "extremely fast random access": a lookup through the map must beat a `pread`
/// per record, cached (in Rust, and in the notes' Python against `os.pread`) and from disk.
pub fn fast(f: &Fast) -> Judgement {
    let warm = f.in_place.versus(&f.pread);
    let notes = f
        .python_slice
        .zip(f.python_pread)
        .map(|(s, p)| s.versus(&p));
    let cold = f.cold_in_place.zip(f.cold_pread).map(|(m, p)| m.versus(&p));
    let verdict = match (
        warm.outcome,
        notes.map(|v| v.outcome),
        cold.map(|v| v.outcome),
    ) {
        (Faster, n, c) if n.is_none_or(|o| o == Faster) && c.is_none_or(|o| o == Faster) => Holds,
        (Faster, _, _) => Depends,
        _ => Fails,
    };
    let (x, p) = (f.in_place.secs(), f.pread.secs());
    let headline = match (verdict, notes, cold) {
        (Fails, ..) => format!(
            "cached, a record read in place takes {x} vs pread's {p}: {warm} — random access \
             through the map was not fast here"
        ),
        (Depends, Some(n), _) if n.outcome != Faster => format!(
            "in Rust a cached lookup takes {x} vs pread's {p}: {warm}; the notes' Python takes \
             {} vs os.pread's {}: {n}",
            f.python_slice.map_or(x, |s| s.secs()),
            f.python_pread.map_or(x, |s| s.secs())
        ),
        (_, _, Some(c)) => format!(
            "cached, a record read in place takes {x} vs pread's {p}: {warm}; from disk, {} \
             vs {}: {c}",
            f.cold_in_place.map_or(x, |s| s.secs()),
            f.cold_pread.map_or(x, |s| s.secs())
        ),
        _ => format!(
            "cached, a record read in place takes {x} vs pread's {p}: {warm} (the file could \
             not be made cold here)"
        ),
    };
    let py = |s: Option<Spread>| or_missing(s, "not run");
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "cached, Rust: in place {}, copied out {}, pread {}",
            f.in_place, f.copy_out, f.pread
        ))
        .detail(format_args!(
            "cached, Python: the notes' slice {}, unpack_from {}, os.pread {}",
            py(f.python_slice),
            py(f.python_unpack_from),
            py(f.python_pread)
        ))
        .detail_if(
            f.python_ratio.is_some(),
            format_args!(
                "the notes' Python per lookup is {} of Rust in place (goal of the issue: at \
                 least {}, checked in a benchmark run)",
                f.python_ratio.map_or_else(String::new, |r| r.to_string()),
                Unit::Ratio.format(PYTHON_GOAL)
            ),
        )
        .detail(format_args!(
            "cold: in place {}, pread {}, the notes' Python {}",
            py(f.cold_in_place),
            py(f.cold_pread),
            py(f.cold_python)
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    /// The reference machine: 64 MiB, 256 cold lookups on 256 pages.
    fn no_copy_reference() -> NoCopy {
        NoCopy {
            in_place: Flag(true),
            values_match: Flag(true),
            warm_major: Count(0.0),
            warm_disk: Some(Bytes(0.0)),
            cold_lookups: Count(256.0),
            cold_major: Count(256.0),
            cold_disk: Some(Bytes(1048576.0)),
            python_cold_major: Some(Count(12.0)),
            python_slice_copies: Some(Flag(true)),
            python_view_shares: Some(Flag(true)),
        }
    }

    /// A row moved by hand: `median` nanoseconds per lookup, runs within 5 % of it.
    fn ns(median: f64) -> Spread {
        Spread::of(&[median * 1e-9 * 0.95, median * 1e-9, median * 1e-9 * 1.05])
    }

    /// Runs of a timed row, in seconds per lookup: median, fastest, slowest of 3.
    fn spread(median: f64, fastest: f64, slowest: f64) -> Spread {
        Spread {
            median,
            fastest,
            slowest,
            runs: 3,
        }
    }

    /// The reference machine: 64 MiB of records, 1,000,000 cached lookups, 256 cold ones.
    fn fast_reference() -> Fast {
        Fast {
            in_place: spread(12.7e-9, 9.12e-9, 13.7e-9),
            copy_out: spread(12.2e-9, 10.2e-9, 12.9e-9),
            pread: spread(906e-9, 786e-9, 1132e-9),
            python_slice: Some(spread(407e-9, 380e-9, 410e-9)),
            python_unpack_from: Some(spread(313e-9, 299e-9, 320e-9)),
            python_pread: Some(spread(1168e-9, 1134e-9, 1286e-9)),
            python_ratio: Some(Ratio(32.0)),
            cold_in_place: Some(spread(96.6e-6, 82.0e-6, 106.9e-6)),
            cold_pread: Some(spread(93.0e-6, 77.0e-6, 106.7e-6)),
            cold_python: Some(spread(331e-6, 295e-6, 364e-6)),
        }
    }

    #[test]
    fn no_copy_fails_on_the_notes_slice_and_depends_on_the_cache_for_the_cast() {
        let r = no_copy_reference();
        assert_eq!(verdict(no_copy, &r), Fails);
        // Without Python, judged on the Rust cast: in place, but cold reads the disk.
        let rust = NoCopy {
            python_slice_copies: None,
            python_view_shares: None,
            python_cold_major: None,
            ..r.clone()
        };
        assert_eq!(verdict(no_copy, &rust), Depends);
        // A slice that shared the map's bytes would leave only the disk.
        let shared = NoCopy {
            python_slice_copies: Some(Flag(false)),
            ..r.clone()
        };
        assert_eq!(verdict(no_copy, &shared), Depends);
        // No fault and no disk read even cold: holds.
        let cached = NoCopy {
            cold_major: Count(0.0),
            cold_disk: Some(Bytes(0.0)),
            ..shared.clone()
        };
        assert_eq!(verdict(no_copy, &cached), Holds);
        let one_fault = NoCopy {
            cold_major: Count(1.0),
            ..cached.clone()
        };
        assert_eq!(verdict(no_copy, &one_fault), Depends);
        let read_only = NoCopy {
            cold_disk: Some(Bytes(4096.0)),
            ..cached.clone()
        };
        assert_eq!(verdict(no_copy, &read_only), Depends);
        // A copy with no disk read still fails; so does a Rust read that is not in place.
        let copied = NoCopy {
            python_slice_copies: Some(Flag(true)),
            ..cached.clone()
        };
        assert_eq!(verdict(no_copy, &copied), Fails);
        let not_in_place = NoCopy {
            in_place: Flag(false),
            ..rust.clone()
        };
        assert_eq!(verdict(no_copy, &not_in_place), Fails);
    }

    #[test]
    fn no_copy_fails_when_values_differ_or_cached_lookups_fault() {
        let cached = NoCopy {
            python_slice_copies: Some(Flag(false)),
            cold_major: Count(0.0),
            cold_disk: Some(Bytes(0.0)),
            ..no_copy_reference()
        };
        assert_eq!(verdict(no_copy, &cached), Holds);
        let wrong = NoCopy {
            values_match: Flag(false),
            ..cached.clone()
        };
        assert_eq!(verdict(no_copy, &wrong), Fails);
        assert!(no_copy(&wrong).headline.contains("formats disagree"));
        let faulted = NoCopy {
            warm_major: Count(1.0),
            ..cached.clone()
        };
        assert_eq!(verdict(no_copy, &faulted), Fails);
        let read = NoCopy {
            warm_disk: Some(Bytes(4096.0)),
            ..cached
        };
        assert_eq!(verdict(no_copy, &read), Fails);
    }

    #[test]
    fn fast_depends_when_the_disk_decides() {
        let r = fast_reference();
        assert_eq!(verdict(fast, &r), Depends);
        // From disk, a map that beat pread would make it hold.
        let cold_wins = Fast {
            cold_in_place: Some(ns(20_000.0)),
            ..r.clone()
        };
        assert_eq!(verdict(fast, &cold_wins), Holds);
        // Just inside the tie factor: still a tie, still depends.
        let near = Fast {
            cold_in_place: Some(ns(93_000.0 / 1.2)),
            ..r.clone()
        };
        assert_eq!(verdict(fast, &near), Depends);
        // Not measurable cold (tmpfs): the cached rows decide.
        let no_cold = Fast {
            cold_in_place: None,
            cold_pread: None,
            cold_python: None,
            ..r.clone()
        };
        assert_eq!(verdict(fast, &no_cold), Holds);
        assert!(fast(&no_cold).headline.contains("could not be made cold"));
    }

    #[test]
    fn fast_fails_when_the_map_does_not_beat_pread_and_weighs_the_notes_python() {
        let r = Fast {
            cold_in_place: None,
            cold_pread: None,
            ..fast_reference()
        };
        assert_eq!(verdict(fast, &r), Holds);
        let slow = Fast {
            in_place: ns(906.0 / 1.2),
            ..r.clone()
        };
        assert_eq!(verdict(fast, &slow), Fails);
        let edge = Fast {
            in_place: ns(906.0 / 1.26),
            ..r.clone()
        };
        assert_eq!(verdict(fast, &edge), Holds);
        // The notes' Python no faster than os.pread: fast in Rust only.
        let python_tie = Fast {
            python_slice: Some(ns(1168.0 / 1.2)),
            ..r.clone()
        };
        assert_eq!(verdict(fast, &python_tie), Depends);
        assert!(fast(&python_tie).headline.contains("os.pread"));
        let no_python = Fast {
            python_slice: None,
            python_unpack_from: None,
            python_pread: None,
            python_ratio: None,
            ..python_tie
        };
        assert_eq!(verdict(fast, &no_python), Holds);
    }

    #[test]
    fn format_values_match_needs_every_reader() {
        let f = Format {
            calcsize: Some(Bytes(16.0)),
            calcsize_packed: Some(Bytes(12.0)),
            repr_c: Bytes(16.0),
            repr_packed: Bytes(12.0),
            balance_offset: Bytes(8.0),
            packed_right: Some(Count(0.0)),
            python_read_rust: Some(Flag(true)),
            rust_read_python: Some(Flag(true)),
            ways_agree: Flag(true),
            misaligned_refused: Flag(true),
        };
        assert!(f.values_match());
        let no_python = Format {
            python_read_rust: None,
            rust_read_python: None,
            ..f.clone()
        };
        assert!(no_python.values_match());
        let misread = Format {
            rust_read_python: Some(Flag(false)),
            ..f
        };
        assert!(!misread.values_match());
    }
}
