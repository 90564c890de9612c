//! Lesson 12's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::judge::or_missing;
use mmap_lab::quantity::{Bytes, Count, Flag, Pages, Secs};
use mmap_lab::{Judgement, Unit, findings};

/// Windows' allocation granularity: mapping offsets must be multiples of 64 KiB
/// (documented; `/work/shared/facts.md`).
pub const WINDOWS_GRANULARITY: f64 = 65536.0;

/// A populated map "prefaulted" when touching it took at most this share of the faults
/// that touching a plain map of the same cached file took.
pub const PREFAULT_SHARE: f64 = 0.1;

/// What [12.windows] says where it cannot be measured: the documented Windows behaviour.
pub const WINDOWS_FACTS: &str = "not measurable on Linux; Windows documents that a mapped file \
     cannot be truncated (error 1224) or deleted, and that offsets go in 64 KiB steps";

fn count(n: f64) -> String {
    Unit::Count.format(n)
}

findings! {
    /// [12.platform] What this platform does with odd mappings.
    pub struct Platform {
        [key] page_size: Bytes = "page size",
        [key] granularity: Option<Bytes> = "smallest file offset mmap(2) accepts (allocation granularity)",
        unaligned_refused: Option<Flag> = "mmap(2) refused offset 1 with EINVAL",
        memmap2_unaligned: Flag = "memmap2 mapped offset 1 anyway (it rounds the offset down itself)",
        empty_refused: Option<Flag> = "mmap(2) refused to map an empty file with EINVAL",
        memmap2_empty: Flag = "memmap2 mapped the empty file, as length 0",
        truncate_allowed: Flag = "the OS let a mapped file be truncated",
        unlink_allowed: Flag = "the OS let a mapped file be deleted",
        [key] unlinked_valid: Flag = "the map still read the same bytes after the file was deleted",
        touched: Pages = "pages touched through each map (file cached)",
        plain_faults: Count = "page faults touching every page of a plain map",
        [key] populate_faults: Count = "page faults touching every page of a MAP_POPULATE map",
    }
}

impl Platform {
    /// Touching the populated map took (almost) none of the faults a plain map took.
    pub fn prefaulted(&self) -> bool {
        self.plain_faults.0 > 0.0 && self.populate_faults.0 <= self.plain_faults.0 * PREFAULT_SHARE
    }

    /// The measured behaviours that differ from what Windows documents, in a few words.
    pub fn differences(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(g) = self.granularity.filter(|g| g.0 != WINDOWS_GRANULARITY) {
            out.push(format!("offsets in {g} steps"));
        }
        if self.truncate_allowed.0 {
            out.push("truncating a mapped file works".into());
        }
        if self.unlink_allowed.0 {
            out.push("deleting one works".into());
        }
        if self.prefaulted() {
            out.push("MAP_POPULATE prefaults".into());
        }
        out
    }
}

/// [12.platform] Behaviour depends on the platform: holds when what this machine did
/// differs from Windows' documented behaviour in at least one of four measured ways.
pub fn platform(f: &Platform) -> Judgement {
    let diffs = f.differences();
    let verdict = if diffs.is_empty() { Fails } else { Holds };
    let headline = if verdict == Holds {
        format!(
            "{} of 4 checks differ from documented Windows: {}",
            diffs.len(),
            diffs.join(", ")
        )
    } else {
        "every measured behaviour matched Windows' documented one: nothing here showed a \
         platform difference"
            .to_string()
    };
    let raw = |r: Option<Flag>| or_missing(r, "not available");
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "page size {}, smallest mapping offset {}",
            f.page_size,
            or_missing(f.granularity, "not measurable here")
        ))
        .detail(format_args!(
            "mmap(2) refused offset 1: {}, an empty file: {}; memmap2 mapped both anyway: {}, \
             {} — it rounds offsets down and maps an empty file as length 0",
            raw(f.unaligned_refused),
            raw(f.empty_refused),
            f.memmap2_unaligned,
            f.memmap2_empty
        ))
        .detail(format_args!(
            "truncating a mapped file allowed: {}; deleting it allowed: {}, and the map still \
             read the same bytes: {}",
            f.truncate_allowed, f.unlink_allowed, f.unlinked_valid
        ))
        .detail(format_args!(
            "touching {}: {} page faults through a plain map, {} through MAP_POPULATE",
            f.touched, f.plain_faults, f.populate_faults
        ))
}

findings! {
    /// [12.windows] The Windows rules, measured on Windows.
    pub struct Windows {
        [key] truncate_refused: Flag = "truncating a mapped file was refused",
        [key] delete_refused: Flag = "deleting a mapped file was refused",
        [key] granularity: Option<Bytes> = "smallest file offset a mapping accepts",
    }
}

/// [12.windows] Windows differs from Linux: holds when every documented Windows rule was
/// seen, depends when some were, fails when none was.
pub fn windows(f: &Windows) -> Judgement {
    let gran = f.granularity.map(|g| g.0 == WINDOWS_GRANULARITY);
    let seen = [Some(f.truncate_refused.0), Some(f.delete_refused.0), gran];
    let measured = seen.iter().flatten().count();
    let confirmed = seen.iter().flatten().filter(|&&s| s).count();
    let verdict = match confirmed {
        0 => Fails,
        n if n == measured => Holds,
        _ => Depends,
    };
    Judgement::new(verdict)
        .headline(format_args!(
            "{confirmed} of the {measured} Windows rules measured held: truncate refused {}, \
             delete refused {}, 64 KiB offsets {}",
            f.truncate_refused,
            f.delete_refused,
            gran.map_or("not measured".into(), |g| Flag(g).to_string())
        ))
        .detail(format_args!(
            "smallest mapping offset: {}",
            or_missing(f.granularity, "not measured")
        ))
}

findings! {
    /// [12.truncate] Readers of a mapped file that the lesson truncated under them.
    pub struct Truncate {
        trials: Count = "readers started, one per trial, each in a child process",
        [key] sigbus: Count = "readers killed by SIGBUS",
        [key] sigsegv: Count = "readers killed by SIGSEGV (a segmentation fault)",
        other_signal: Count = "readers killed by another signal",
        survived: Count = "readers that read past the new end and lived",
        refused: Count = "trials where the OS refused to truncate the mapped file",
        [key] signal: Option<Count> = "the signal number every killed reader died of",
        probe_before: Option<Flag> = "MADV_POPULATE_READ succeeded on the whole map before truncating",
        [key] probe_refused: Option<Flag> = "MADV_POPULATE_READ returned an error, not a signal, after truncating",
    }
}

/// [12.truncate] "Truncate → segmentation fault": holds when every reader died of SIGSEGV,
/// depends when readers were killed but (some) by another signal, fails when none was.
pub fn truncate(f: &Truncate) -> Judgement {
    let killed = f.sigbus.0 + f.sigsegv.0 + f.other_signal.0;
    let verdict = if killed == 0.0 {
        Fails
    } else if f.sigsegv.0 == f.trials.0 {
        Holds
    } else {
        Depends
    };
    let number = f.signal.map_or(String::new(), |s| format!(" (signal {s})"));
    let headline = match verdict {
        Holds => format!(
            "truncating the mapped file killed the reader with a segmentation fault in all {} \
             trials",
            f.trials
        ),
        Depends if f.sigbus.0 == killed => format!(
            "truncating the mapped file killed the reader in {} of {} trials — by SIGBUS{number}, \
             not the segmentation fault the notes name",
            count(killed),
            f.trials
        ),
        Depends => format!(
            "truncating the mapped file killed {} of {} readers: {} by SIGBUS, {} by SIGSEGV, {} \
             by another signal",
            count(killed),
            f.trials,
            f.sigbus,
            f.sigsegv,
            f.other_signal
        ),
        _ if f.refused.0 > 0.0 => format!(
            "the OS refused to truncate the mapped file in {} of {} trials, and no reader died",
            f.refused, f.trials
        ),
        _ => format!(
            "no reader died: {} of {} read past the new end of the file and lived",
            f.survived, f.trials
        ),
    };
    let probe = match (f.probe_before, f.probe_refused) {
        (Some(before), Some(after)) => format!(
            "the safe probe, MADV_POPULATE_READ, in the lesson's own process: whole map \
             readable before {before}, an error instead of a signal after truncating {after}"
        ),
        _ => "the safe probe MADV_POPULATE_READ is not available here (Linux 5.14+)".into(),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "{} trials, each a child reading the last page of its map after the lesson cut the \
             file to one page: SIGBUS {}, SIGSEGV {}, other signals {}, survived {}, truncate \
             refused {}",
            f.trials, f.sigbus, f.sigsegv, f.other_signal, f.survived, f.refused
        ))
        .detail(probe)
        .detail("the lesson itself received no signal: every read past the end ran in a child")
}

findings! {
    /// [12.race] Two processes writing one shared map at once.
    pub struct Race {
        iterations: Count = "increments per process and round (two processes at once)",
        rounds: Count = "rounds raced: until load + store lost one, at most 5 (fetch_add as many)",
        [key] plain_lost: Count = "increments lost with load + store",
        [key] atomic_lost: Count = "increments lost with fetch_add",
        plain_time: Secs = "time of the load + store race",
        atomic_time: Secs = "time of the fetch_add race",
        reads: Count = "records read without a lock while a writer process rewrote them",
        locked_reads: Count = "records read with a sequence lock while a writer rewrote them",
        [key] torn_plain: Count = "torn records read without a lock",
        [key] torn_seqlock: Count = "torn records accepted with a sequence lock",
        retries: Count = "sequence-lock reads retried because a write was under way",
        writes: Count = "records the writer wrote meanwhile (all rounds)",
    }
}

/// [12.race] Concurrent writes race: holds when load + store lost increments, depends when
/// only the multi-word record tore, fails when neither showed.
pub fn race(f: &Race) -> Judgement {
    let total = 2.0 * f.iterations.0 * f.rounds.0;
    let verdict = match (f.plain_lost.0 > 0.0, f.torn_plain.0 > 0.0) {
        (true, _) => Holds,
        (false, true) => Depends,
        (false, false) => Fails,
    };
    let headline = match verdict {
        Holds => format!(
            "two processes doing load + store lost {} of {} increments, fetch_add lost {}; a \
             reader saw {} of {} records torn, {} with a seqlock",
            f.plain_lost,
            count(total),
            f.atomic_lost,
            f.torn_plain,
            f.reads,
            f.torn_seqlock
        ),
        Depends => format!(
            "no increment was lost in {}, but a reader saw {} torn records without a lock ({} \
             with a seqlock)",
            count(total),
            f.torn_plain,
            f.torn_seqlock
        ),
        _ => format!(
            "no increment lost in {} and no torn record in {} reads: the race did not show — \
             try more --iterations",
            count(total),
            f.reads
        ),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "two child processes, {} increments each per round, rounds: {}; load + store kept \
             {} ({}), fetch_add kept {} ({})",
            f.iterations,
            f.rounds,
            count(total - f.plain_lost.0),
            f.plain_time,
            count(total - f.atomic_lost.0),
            f.atomic_time
        ))
        .detail(format_args!(
            "reads of an {}-word record while a child rewrote it: {} of {} torn without a \
             lock; with a sequence lock {} of {} torn, {} reads retried",
            crate::experiments::WORDS,
            f.torn_plain,
            f.reads,
            f.torn_seqlock,
            f.locked_reads,
            f.retries
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    /// The reference machine (book/reference/lesson-12.json): Linux 6.18, 4 KiB pages, a
    /// 32 MiB sample.
    fn platform_reference() -> Platform {
        Platform {
            page_size: Bytes(4096.0),
            granularity: Some(Bytes(4096.0)),
            unaligned_refused: Some(Flag(true)),
            memmap2_unaligned: Flag(true),
            empty_refused: Some(Flag(true)),
            memmap2_empty: Flag(true),
            truncate_allowed: Flag(true),
            unlink_allowed: Flag(true),
            unlinked_valid: Flag(true),
            touched: Pages(8192.0),
            plain_faults: Count(152.0),
            populate_faults: Count(0.0),
        }
    }

    fn truncate_reference() -> Truncate {
        Truncate {
            trials: Count(20.0),
            sigbus: Count(20.0),
            sigsegv: Count(0.0),
            other_signal: Count(0.0),
            survived: Count(0.0),
            refused: Count(0.0),
            signal: Some(Count(7.0)),
            probe_before: Some(Flag(true)),
            probe_refused: Some(Flag(true)),
        }
    }

    fn race_reference() -> Race {
        Race {
            iterations: Count(1e7),
            rounds: Count(1.0),
            plain_lost: Count(4_953_623.0),
            atomic_lost: Count(0.0),
            plain_time: Secs(0.0101),
            atomic_time: Secs(0.0404),
            reads: Count(200_000.0),
            locked_reads: Count(100_000.0),
            torn_plain: Count(100_000.0),
            torn_seqlock: Count(0.0),
            retries: Count(465_808.0),
            writes: Count(7_340_310.0),
        }
    }

    #[test]
    fn platform_holds_on_the_reference_and_fails_when_everything_matches_windows() {
        let r = platform_reference();
        assert_eq!(r.differences().len(), 4);
        assert_eq!(verdict(platform, &r), Holds);
        let windows_like = Platform {
            granularity: Some(Bytes(WINDOWS_GRANULARITY)),
            truncate_allowed: Flag(false),
            unlink_allowed: Flag(false),
            unlinked_valid: Flag(false),
            populate_faults: Count(152.0),
            ..r.clone()
        };
        assert_eq!(verdict(platform, &windows_like), Fails);
        // Any one difference is enough; the populate boundary is a tenth of the faults.
        let populate_edge = Platform {
            populate_faults: Count(15.2),
            ..windows_like.clone()
        };
        assert_eq!(verdict(platform, &populate_edge), Holds);
        let populate_over = Platform {
            populate_faults: Count(15.3),
            ..windows_like.clone()
        };
        assert_eq!(verdict(platform, &populate_over), Fails);
        let no_granularity = Platform {
            granularity: None,
            ..windows_like.clone()
        };
        assert_eq!(verdict(platform, &no_granularity), Fails);
        let truncatable = Platform {
            truncate_allowed: Flag(true),
            ..windows_like
        };
        assert_eq!(verdict(platform, &truncatable), Holds);
    }

    #[test]
    fn windows_follows_how_many_documented_rules_were_seen() {
        let seen = Windows {
            truncate_refused: Flag(true),
            delete_refused: Flag(true),
            granularity: Some(Bytes(WINDOWS_GRANULARITY)),
        };
        assert_eq!(verdict(windows, &seen), Holds);
        let small_offsets = Windows {
            granularity: Some(Bytes(4096.0)),
            ..seen.clone()
        };
        assert_eq!(verdict(windows, &small_offsets), Depends);
        let unmeasured_offsets = Windows {
            granularity: None,
            ..seen.clone()
        };
        assert_eq!(verdict(windows, &unmeasured_offsets), Holds);
        let linux_like = Windows {
            truncate_refused: Flag(false),
            delete_refused: Flag(false),
            granularity: Some(Bytes(4096.0)),
        };
        assert_eq!(verdict(windows, &linux_like), Fails);
        assert!(WINDOWS_FACTS.chars().count() <= mmap_lab::judge::HEADLINE_MAX);
    }

    #[test]
    fn truncate_depends_on_the_reference_because_the_signal_is_sigbus() {
        let r = truncate_reference();
        let j = truncate(&r);
        assert_eq!(verdict(truncate, &r), Depends);
        assert!(j.headline.contains("SIGBUS (signal 7)"), "{}", j.headline);
        let segv = Truncate {
            sigbus: Count(0.0),
            sigsegv: Count(20.0),
            signal: Some(Count(11.0)),
            ..r.clone()
        };
        assert_eq!(verdict(truncate, &segv), Holds);
        // One reader of twenty not killed by SIGSEGV: no longer "segmentation fault".
        let one_bus = Truncate {
            sigbus: Count(1.0),
            sigsegv: Count(19.0),
            signal: None,
            ..r.clone()
        };
        assert_eq!(verdict(truncate, &one_bus), Depends);
        let one_survivor = Truncate {
            sigbus: Count(0.0),
            sigsegv: Count(19.0),
            survived: Count(1.0),
            ..segv.clone()
        };
        assert_eq!(verdict(truncate, &one_survivor), Depends);
        let nobody = Truncate {
            sigbus: Count(0.0),
            survived: Count(20.0),
            signal: None,
            ..r.clone()
        };
        assert_eq!(verdict(truncate, &nobody), Fails);
        let refused = Truncate {
            survived: Count(0.0),
            refused: Count(20.0),
            probe_before: None,
            probe_refused: None,
            ..nobody
        };
        assert_eq!(verdict(truncate, &refused), Fails);
        assert!(truncate(&refused).headline.contains("refused"));
    }

    #[test]
    fn race_holds_on_the_reference_and_moves_with_the_lost_and_torn_counts() {
        let r = race_reference();
        assert_eq!(verdict(race, &r), Holds);
        let one_lost = Race {
            plain_lost: Count(1.0),
            torn_plain: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(race, &one_lost), Holds);
        let only_torn = Race {
            plain_lost: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(race, &only_torn), Depends);
        let calm = Race {
            torn_plain: Count(0.0),
            ..only_torn
        };
        assert_eq!(verdict(race, &calm), Fails);
        assert!(race(&calm).headline.contains("20,000,000"));
        let five_rounds = Race {
            rounds: Count(5.0),
            ..calm
        };
        assert!(race(&five_rounds).headline.contains("100,000,000"));
    }
}
