//! Lesson 5's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Outcome::Faster;
use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::judge::{list, or_missing};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Rate, Ratio, Secs};
use mmap_lab::{Judgement, Spread, Versus, findings};

use crate::experiments::BUF;

/// A read that raised peak RSS by at least this share of the file holds a copy of it.
const COPY: f64 = 0.5;
/// A read() loop or a partial map holding this share of the file holds much of it.
const MUCH: f64 = 0.25;
/// Bytes read beyond what was asked that count as readahead: 16 pages.
const AHEAD: f64 = 64.0 * 1024.0;
/// The share of the file one cold pass must leave cached to count as kept for the next.
const KEPT: f64 = 0.9;
/// RSS that reading a few words of a huge file may add and still be "constant memory".
const SMALL_RSS: f64 = 16.0 * 1024.0 * 1024.0;

/// The rows mmap won (beyond the tie factor) joined with "and", those it did not with "or".
fn won_lost(rows: &[(&str, Option<Versus>)]) -> (String, String) {
    let names = |win| -> Vec<&str> {
        let ran = rows
            .iter()
            .filter(|r| r.1.map(|v| v.outcome == Faster) == Some(win));
        ran.map(|r| r.0).collect()
    };
    (list(&names(true), "and"), list(&names(false), "or"))
}

findings! {
    /// The time of each way of scanning the whole file that ran.
    pub struct Scans {
        read_all: Option<Spread> = "fs::read, then scan",
        read_loop: Option<Spread> = "read() loop, 1 MiB buffer",
        mmap: Option<Spread> = "mmap",
        populate: Option<Spread> = "mmap + populate",
        seq: Option<Spread> = "mmap + advise(Sequential)",
    }
}

findings! {
    /// Context for every row: the scans, how cold "cold" and warm "warm" were, equal sums.
    pub struct Context {
        warm: Scans = "cached",
        cold: Option<Scans> = "from disk",
        left_after_evict: Option<Fraction> = "file left in the page cache by the first eviction",
        warm_resident: Fraction = "file in the page cache before the warm rows",
        same_checksums: Flag = "every scan computed the same checksum",
    }
}

findings! {
    /// [5.ram] What each way of reading the whole file added to the process's memory.
    pub struct Ram {
        file: Bytes = "sample file size",
        [key] read_all_peak: Option<Bytes> = "fs::read: peak RSS growth (not run when RAM is short)",
        [key] loop_peak: Bytes = "read() loop, 1 MiB buffer: peak RSS growth",
        [key] mmap_rss: Bytes = "mmap, whole file scanned: RSS growth",
        mmap_resident: Bytes = "mmap, whole file scanned: resident in the map (smaps Rss)",
        mmap_anonymous: Bytes = "mmap, whole file scanned: anonymous (copied) memory in the map",
        [key] part_rss: Bytes = "mmap, first 1/16 of the file scanned: RSS growth",
        python_read: Option<Bytes> = "the notes' Python: RSS growth holding f.read()",
        python_mmap: Option<Bytes> = "the notes' Python: RSS growth holding mmap + mm[:100]",
    }
}

/// [5.ram] Holds when even a read() loop held much while a whole mmap scan added little.
pub fn ram(f: &Ram) -> Judgement {
    let of = |b: Bytes, share: f64| b.0 >= share * f.file.0;
    let (copy, loop_much) = (f.read_all_peak.map(|p| of(p, COPY)), of(f.loop_peak, MUCH));
    let (full_small, part_small) = (!of(f.mmap_rss, COPY), !of(f.part_rss, MUCH));
    let verdict = match (loop_much && full_small, copy == Some(false) && !loop_much) {
        (true, _) => Holds,
        (_, true) => Fails,
        _ if !full_small && !part_small => Fails,
        _ => Depends,
    };
    let read = match (loop_much, copy) {
        (true, _) => "even a read() loop held much of the file",
        (_, Some(true)) => "fs::read held a private copy of the file, a read() loop its buffer",
        (_, Some(false)) => "no read() held much memory, not even fs::read",
        (_, None) => "fs::read was not run (too little RAM); a read() loop held only its buffer",
    };
    let mmap = match (full_small, part_small) {
        (true, _) => "a whole mmap scan added little RAM",
        (_, true) => "mmap adds RAM for the pages it touches, all of them in a whole scan",
        _ => "mmap added much RAM even for 1/16 of the file",
    };
    let copied = match f.mmap_anonymous.0 {
        0.0 => "page-cache pages, shared and reclaimable, not a copy".into(),
        _ => format!("{} of it copied", f.mmap_anonymous),
    };
    let read_all = f
        .read_all_peak
        .map(|p| format!("+{p} ({} the file)", Ratio(p.0 / f.file.0)));
    let read_all = or_missing(read_all, "not run");
    let python = (f.python_read.zip(f.python_mmap))
        .map(|(r, m)| format!("the notes' Python: holding f.read() +{r}, mmap + mm[:100] +{m}"));
    Judgement::new(verdict)
        .headline(format_args!("{read}; {mmap}"))
        .detail(format_args!(
            "fs::read: peak RSS {read_all}; a read() loop, one 1 MiB buffer: +{}",
            f.loop_peak
        ))
        .detail(format_args!(
            "mmap scanning the whole {}: RSS +{}, {} resident in the map, {copied}; scanning \
             1/16 of it: +{}",
            f.file, f.mmap_rss, f.mmap_resident, f.part_rss
        ))
        .detail(or_missing(python, "the notes' Python: not run"))
}

findings! {
    /// [5.random] 8-byte reads at random offsets, the same offsets for every method.
    pub struct Random {
        [key] warm_pread: Spread = "cached: pread, per 8-byte read",
        [key] warm_mmap: Spread = "cached: mmap (fresh map, faults included), per read",
        warm_mapped: Spread = "cached: mmap, pages already mapped, per read",
        [key] cold_pread: Spread = "from disk: pread, per read",
        [key] cold_mmap_random: Spread = "from disk: mmap + advise(Random), per read",
        cold_mmap: Spread = "from disk: plain mmap (one run, fewer reads, not judged), per read",
        cold_pread_cached: Bytes = "from disk: pread, file read into the cache",
        cold_mmap_random_cached: Bytes = "from disk: mmap + advise(Random), file read into the cache",
        cold_mmap_cached: Bytes = "from disk: plain mmap, file read into the cache",
        cold_mmap_major_faults: Count = "from disk: plain mmap, major page faults",
        same_words: Flag = "pread and mmap read the same words",
    }
}

/// [5.random] mmap must beat pread cached and from disk to hold, and read the same words.
pub fn random(f: &Random) -> Judgement {
    let cached = f.warm_mmap.versus(&f.warm_pread);
    let disk = f.cold_mmap_random.versus(&f.cold_pread);
    let verdict = match (f.same_words.0, cached.outcome, disk.outcome) {
        (true, Faster, Faster) => Holds,
        (true, Faster, _) | (true, _, Faster) => Depends,
        _ => Fails,
    };
    let (cached, disk) = (cached.than("pread"), disk.than("pread"));
    let headline = match f.same_words.0 {
        true => format!("cached, mmap was {cached}; from disk, with advise(Random), {disk}"),
        false => "pread and mmap read different words: the experiment is broken".into(),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "cached: pread {}, mmap {} per read, {} once mapped: no system call per read",
            f.warm_pread, f.warm_mmap, f.warm_mapped
        ))
        .detail(format_args!(
            "from disk: pread {}, pulling {} into the cache; mmap + advise(Random) {}, pulling \
             {}",
            f.cold_pread, f.cold_pread_cached, f.cold_mmap_random, f.cold_mmap_random_cached
        ))
        .detail(format_args!(
            "plain mmap from disk, not judged: {} per read, {} major faults reading around, {} \
             cached",
            f.cold_mmap, f.cold_mmap_major_faults, f.cold_mmap_cached
        ))
}

findings! {
    /// [5.startup] How long until the program holds the file's first byte.
    pub struct Startup {
        read_all: Option<Spread> = "cached: fs::read, time to its first byte (the whole file first)",
        loop_warm: Spread = "cached: read() loop, time to its first byte (its first 1 MiB)",
        loop_cold: Spread = "from disk: read() loop, time to its first byte (its first 1 MiB)",
        [key] pread_warm: Spread = "cached: open + pread of the first 4 KiB",
        [key] mmap_warm: Spread = "cached: open + mmap + first byte",
        [key] pread_cold: Spread = "from disk: open + pread of the first 4 KiB",
        [key] mmap_cold: Spread = "from disk: open + mmap + first byte",
        python_read_all: Option<Secs> = "the notes' Python: open + f.read()",
        python_mmap: Option<Secs> = "the notes' Python: open + mmap + mm[:100]",
    }
}

/// [5.startup] Holds when mmap has the first byte before even a 4 KiB pread, both ways.
pub fn startup(f: &Startup) -> Judgement {
    let (warm, cold) = (f.mmap_warm, f.mmap_cold);
    let rows = [
        ("fs::read", f.read_all.map(|r| warm.versus(&r))),
        ("a cached 1 MiB read()", Some(warm.versus(&f.loop_warm))),
        ("a 1 MiB read() from disk", Some(cold.versus(&f.loop_cold))),
        ("a cached 4 KiB pread", Some(warm.versus(&f.pread_warm))),
        ("a 4 KiB pread from disk", Some(cold.versus(&f.pread_cold))),
    ];
    let won = rows.map(|r| r.1.map(|v| v.outcome == Faster));
    let verdict = match (won[3..] == [Some(true); 2], won[1..].contains(&Some(true))) {
        (true, _) => Holds,
        (false, true) => Depends,
        (false, false) => Fails,
    };
    let (beat, not) = won_lost(&rows);
    let only = ["", "; only fs::read was slower"][usize::from(won[0] == Some(true))];
    let headline = match verdict {
        Holds => "mmap beat every read() to the first byte, even a 4 KiB pread, both ways".into(),
        Depends => format!("mmap got its first byte before {beat}, not before {not}"),
        _ => format!("mmap was no sooner than a 4 KiB pread or a 1 MiB read(), either way{only}"),
    };
    let all = or_missing(f.read_all, "not run");
    let python = (f.python_read_all.zip(f.python_mmap))
        .map(|(r, m)| format!("the notes' Python: f.read() {r}, mmap + mm[:100] {m}"));
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "fs::read (whole file first): {all}; a read() loop's first 1 MiB: {} cached, {} \
             from disk",
            f.loop_warm, f.loop_cold
        ))
        .detail(format_args!(
            "open + mmap + first byte: {warm} cached, {cold} from disk; open + 4 KiB pread: {}, \
             {}",
            f.pread_warm, f.pread_cold
        ))
        .detail(or_missing(python, "the notes' Python: not run"))
}

findings! {
    /// [5.os] The OS help a read() loop gets, readahead and the page cache, and mmap's.
    pub struct Os {
        [key] asked: Bytes = "from disk: bytes the read() loop asked for",
        [key] read_by_kernel: Bytes = "from disk: bytes the kernel had read by then",
        window: Option<Bytes> = "the disk's readahead window (read_ahead_kb)",
        [key] kept: Fraction = "file in the page cache after one cold read() loop",
        [key] mmap_fault: Bytes = "from disk: what mmap's first fault brought into the cache",
    }
}

/// [5.os] "read() none, mmap yes": fails when a read() loop gets readahead and the cache.
pub fn os(f: &Os) -> Judgement {
    let ahead = f.read_by_kernel.0 - f.asked.0 >= AHEAD;
    let (cached, mmap_ahead) = (f.kept.0 >= KEPT, f.mmap_fault.0 >= AHEAD);
    let verdict = match (ahead, cached, mmap_ahead) {
        (true, true, _) => Fails,
        (false, false, true) => Holds,
        _ => Depends,
    };
    let got = match (ahead, cached) {
        (true, _) => "readahead, but the page cache kept little of the file",
        (false, true) => "the page cache, but no readahead",
        (false, false) => "neither readahead nor the page cache",
    };
    let mmap = ["got no readahead either", "was read ahead"][usize::from(mmap_ahead)];
    let headline = match verdict {
        Fails => "read() gets mmap's OS help: readahead, and the cache for the next pass".into(),
        Holds => "only mmap got readahead; a read() loop got neither it nor the page cache".into(),
        _ => format!("read() got {got}; mmap's first fault {mmap}"),
    };
    let window = or_missing(f.window, "unknown");
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "when the read() loop had asked for {} of the cold file the kernel had read {} \
             (window {window}); mmap's first fault read {}; one pass left {} of the file cached",
            f.asked, f.read_by_kernel, f.mmap_fault, f.kept
        ))
}

findings! {
    /// [5.big] A sparse file twice the size of RAM read with pread and through a map.
    pub struct Big {
        [key] size: Bytes = "sparse file, 2× this machine's RAM",
        available: Bytes = "RAM available now",
        read_share: Option<Ratio> = "fs::read of the sample: peak RSS growth over the file size",
        loop_peak: Bytes = "read() loop of the sample, 1 MiB buffer: peak RSS growth",
        pread_read_back: Flag = "pread read back the marker words written across it",
        pread_rss: Bytes = "RSS added by those preads",
        [key] mmap_read_back: Flag = "mmap + advise(Random) read back the marker words",
        [key] mmap_virt: Bytes = "address space added by mapping it",
        [key] mmap_rss: Bytes = "RSS added by mapping it and reading the words",
    }
}

/// [5.big] "read() a problem, mmap ideal" beyond RAM: depends when only fs::read has one.
pub fn big(f: &Big) -> Judgement {
    let (back, virt, rss, available) = (f.mmap_read_back, f.mmap_virt, f.mmap_rss, f.available);
    let mmap_ok = back.0 && virt.0 >= f.size.0 && rss.0 <= SMALL_RSS;
    let careful_ok =
        f.pread_read_back.0 && f.pread_rss.0 <= SMALL_RSS && f.loop_peak.0 <= 2.0 * BUF as f64;
    let need = f.read_share.map(|s| Bytes(s.0 * f.size.0));
    let verdict = match (mmap_ok, careful_ok, need.map(|n| n.0 > available.0)) {
        (false, ..) | (true, true, Some(false)) => Fails,
        (true, false, _) => Holds,
        (true, true, _) => Depends,
    };
    let twice = "a file twice the size of RAM";
    let careful = "pread read its words in constant memory, as a map did, in address space only";
    let headline = match (verdict, need) {
        (Fails, _) if !mmap_ok => format!(
            "a map did not read {twice} in little RAM: read back {back}, address space {virt}, \
             RSS +{rss}"
        ),
        (Fails, _) => format!(
            "no read() had a problem with {twice}: fs::read would fit in the RAM available, \
             and pread read it as well as a map"
        ),
        (Holds, _) => format!(
            "a map read {twice} in little RAM, while pread or a read() loop needed much memory \
             or misread it"
        ),
        (_, Some(_)) => format!("only fs::read has a problem with {twice}: {careful}"),
        _ => format!("fs::read was not run; for {twice} {careful}"),
    };
    let read_all = (f.read_share.zip(need)).map(|(share, n)| {
        format!("fs::read holds {share} the file: this one would need {n} of {available}; not run")
    });
    Judgement::new(verdict)
        .headline(headline)
        .detail(or_missing(read_all, "fs::read was not run on the sample"))
        .detail(format_args!(
            "a read() loop needs one buffer (+{} on the sample); preads across the {} file read \
             back {}, RSS +{}; the map: {virt} of address space, RSS +{rss}, read back {back}",
            f.loop_peak, f.size, f.pread_read_back, f.pread_rss
        ))
        .detail("memory and correctness only, on a sparse file (no disk I/O); speed: [5.rule]")
}

findings! {
    /// [5.rule] The rows "big file = mmap" rests on, timed on the sample, cached and from disk.
    pub struct Rule {
        file: Bytes = "sample file size",
        ceiling: Rate = "scan of a resident Vec (the ceiling)",
        [key] scan_warm_loop: Spread = "cached: read() loop scan",
        [key] scan_warm_mmap: Spread = "cached: mmap + advise(Sequential) scan",
        scan_cold_loop: Spread = "from disk: read() loop scan",
        scan_cold_mmap: Spread = "from disk: mmap + advise(Sequential) scan",
        random: Random = "random reads",
    }
}

/// [5.rule] Holds when mmap wins every row, scans and random reads, fails when it wins none.
pub fn rule(f: &Rule) -> Judgement {
    let r = &f.random;
    let (cold_scan, cold_random) = (&f.scan_cold_mmap, &r.cold_mmap_random);
    let rows = [
        ("a cached scan", f.scan_warm_mmap.versus(&f.scan_warm_loop)),
        ("cached random reads", r.warm_mmap.versus(&r.warm_pread)),
        ("a scan from disk", cold_scan.versus(&f.scan_cold_loop)),
        ("random reads from disk", cold_random.versus(&r.cold_pread)),
    ];
    let won = rows.map(|r| r.1.outcome == Faster);
    let verdict = match won.iter().filter(|w| **w).count() {
        4 => Holds,
        0 => Fails,
        _ => Depends,
    };
    let why = match won {
        [true, true, false, false] => ": whether the file is cached decides",
        [false, true, false, true] => ": the access pattern decides",
        _ => "",
    };
    let (beat, not) = won_lost(&rows.map(|(name, v)| (name, Some(v))));
    let headline = match verdict {
        Holds => "won every row, scans and random reads, cached and from disk".into(),
        Fails => "won no row: a read() loop and pread did as well".into(),
        _ => format!("won {beat}, not {not}{why}"),
    };
    let [scan, random, cold_scan, cold_random] = rows.map(|r| r.1);
    let (scan, cold_scan) = (scan.than("the loop"), cold_scan.than("the loop"));
    let (random, cold_random) = (random.than("pread"), cold_random.than("pread"));
    let rate = |s: &Spread| Rate::of(f.file, s.secs());
    let (seq, looped) = (rate(&f.scan_warm_mmap), rate(&f.scan_warm_loop));
    let (cold_seq, cold_loop) = (rate(&f.scan_cold_mmap), rate(&f.scan_cold_loop));
    let share = Fraction(seq.0 / f.ceiling.0);
    Judgement::new(verdict)
        .headline(format_args!("for this {} sample mmap {headline}", f.file))
        .detail(format_args!(
            "cached scan: mmap + advise(Sequential) {seq} ({share} of a resident Vec's {}), \
             {scan}: the read() loop, at {looped}, copies every byte into its buffer",
            f.ceiling
        ))
        .detail(format_args!(
            "disk scan: mmap {cold_seq}, read() loop {cold_loop}: {cold_scan}"
        ))
        .detail(format_args!(
            "random reads: cached, mmap was {random}; from disk, {cold_random}"
        ))
        .detail("no file larger than the page cache was timed: eviction was not measured")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::{judged, verdict_of as verdict};

    const MIB: f64 = 1048576.0;
    /// The reference machine's sample: 256 MiB, readahead 8 MiB, 23.5 GiB of RAM.
    const FILE: f64 = 256.0 * MIB;

    /// A row measured once (the reference report keeps only the median of warm rows).
    fn once(secs: f64) -> Spread {
        Spread::once(secs)
    }

    /// A row of three runs.
    fn runs(median: f64, fastest: f64, slowest: f64) -> Spread {
        Spread {
            median,
            fastest,
            slowest,
            runs: 3,
        }
    }

    /// A scan of the sample at `rates` bytes per second (median, fastest, slowest).
    fn scan(median: f64, fastest: f64, slowest: f64) -> Spread {
        runs(FILE / median, FILE / fastest, FILE / slowest)
    }

    fn ram_reference() -> Ram {
        Ram {
            file: Bytes(FILE),
            read_all_peak: Some(Bytes(268439552.0)),
            loop_peak: Bytes(1044480.0),
            mmap_rss: Bytes(FILE),
            mmap_resident: Bytes(FILE),
            mmap_anonymous: Bytes(0.0),
            part_rss: Bytes(16.0 * MIB),
            python_read: Some(Bytes(268443648.0)),
            python_mmap: Some(Bytes(69632.0)),
        }
    }

    #[test]
    fn ram_depends_on_the_reference_and_moves_with_each_memory_number() {
        let r = ram_reference();
        assert_eq!(verdict(ram, &r), Depends);
        // A read() loop holding a quarter of the file while a whole mmap scan adds little.
        let holds = Ram {
            loop_peak: Bytes(FILE / 4.0),
            mmap_rss: Bytes(FILE / 2.0 - 1.0),
            ..r.clone()
        };
        assert_eq!(verdict(ram, &holds), Holds);
        let loop_small = Ram {
            loop_peak: Bytes(FILE / 4.0 - 1.0),
            ..holds.clone()
        };
        assert_eq!(verdict(ram, &loop_small), Depends);
        let full_big = Ram {
            mmap_rss: Bytes(FILE / 2.0),
            ..holds
        };
        assert_eq!(verdict(ram, &full_big), Depends);
        // No read() held much: not even fs::read.
        let no_copy = Ram {
            read_all_peak: Some(Bytes(FILE / 2.0 - 1.0)),
            ..r.clone()
        };
        assert_eq!(verdict(ram, &no_copy), Fails);
        // mmap held much even for a sixteenth of the file.
        let part_big = Ram {
            part_rss: Bytes(FILE / 4.0),
            ..r.clone()
        };
        assert_eq!(verdict(ram, &part_big), Fails);
    }

    #[test]
    fn ram_without_fs_read_says_so_instead_of_failing() {
        let skipped = Ram {
            read_all_peak: None,
            python_read: None,
            ..ram_reference()
        };
        let j = judged(ram, &skipped);
        assert_eq!(j.verdict, Depends);
        assert!(
            j.headline.contains("fs::read was not run"),
            "{}",
            j.headline
        );
    }

    fn random_reference() -> Random {
        Random {
            warm_pread: once(6.867e-7),
            warm_mmap: once(2.739e-8),
            warm_mapped: once(4.848e-9),
            cold_pread: runs(4.4033e-5, 4.2552e-5, 5.9921e-5),
            cold_mmap_random: runs(4.4895e-5, 4.4501e-5, 5.6547e-5),
            cold_mmap: once(6.939e-4),
            cold_pread_cached: Bytes(1056768.0),
            cold_mmap_random_cached: Bytes(1056768.0),
            cold_mmap_cached: Bytes(263413760.0),
            cold_mmap_major_faults: Count(41.0),
            same_words: Flag(true),
        }
    }

    #[test]
    fn random_depends_on_the_reference_and_holds_when_mmap_wins_from_disk_too() {
        let r = random_reference();
        assert_eq!(verdict(random, &r), Depends);
        // From disk, 1.25× faster than pread's median with no overlap: faster.
        let wins = Random {
            cold_mmap_random: runs(3.5e-5, 3.4e-5, 3.6e-5),
            ..r.clone()
        };
        assert_eq!(verdict(random, &wins), Holds);
        let short = Random {
            cold_mmap_random: runs(3.6e-5, 3.4e-5, 3.7e-5),
            ..r.clone()
        };
        assert_eq!(verdict(random, &short), Depends);
        // Cached no better than pread, from disk a tie.
        let cached_tie = Random {
            warm_mmap: once(6.0e-7),
            ..r.clone()
        };
        assert_eq!(verdict(random, &cached_tie), Fails);
        let broken = Random {
            same_words: Flag(false),
            ..wins
        };
        assert_eq!(verdict(random, &broken), Fails);
    }

    fn startup_reference() -> Startup {
        Startup {
            read_all: Some(once(0.138155687)),
            loop_warm: once(6.10829e-4),
            loop_cold: once(2.285849e-3),
            pread_warm: once(3.395e-6),
            mmap_warm: once(8.653e-6),
            pread_cold: once(1.53735e-4),
            mmap_cold: once(2.281257e-3),
            python_read_all: Some(Secs(0.1267)),
            python_mmap: Some(Secs(3.542e-5)),
        }
    }

    #[test]
    fn startup_depends_on_the_reference_and_can_hold_or_fail() {
        let r = startup_reference();
        let j = judged(startup, &r);
        assert_eq!(j.verdict, Depends);
        assert!(
            j.headline.contains("fs::read and a cached 1 MiB read()"),
            "{}",
            j.headline
        );
        // mmap before even the 4 KiB pread, cached and from disk.
        let first = Startup {
            mmap_warm: once(2.0e-6),
            mmap_cold: once(1.0e-4),
            ..r.clone()
        };
        assert_eq!(verdict(startup, &first), Holds);
        let cached_only = Startup {
            mmap_cold: once(2.0e-4),
            ..first
        };
        assert_eq!(verdict(startup, &cached_only), Depends);
        // The read() loop's first 1 MiB as quick as mmap: only fs::read was slower.
        let quick = Startup {
            loop_warm: once(1.07e-5),
            ..r.clone()
        };
        assert_eq!(verdict(startup, &quick), Fails);
        let not_quite = Startup {
            loop_warm: once(1.09e-5),
            ..r.clone()
        };
        assert_eq!(verdict(startup, &not_quite), Depends);
        let no_read_all = Startup {
            read_all: None,
            ..quick
        };
        assert_eq!(verdict(startup, &no_read_all), Fails);
    }

    fn os_reference() -> Os {
        Os {
            asked: Bytes(4.0 * MIB),
            read_by_kernel: Bytes(14.0 * MIB),
            window: Some(Bytes(8.0 * MIB)),
            kept: Fraction(1.0),
            mmap_fault: Bytes(8.0 * MIB),
        }
    }

    #[test]
    fn os_fails_on_the_reference_and_holds_when_read_gets_no_help() {
        let r = os_reference();
        assert_eq!(verdict(os, &r), Fails);
        // The kernel read only what the loop asked, and one pass left little cached.
        let alone = Os {
            read_by_kernel: Bytes(4.0 * MIB + 60.0 * 1024.0),
            kept: Fraction(0.05),
            ..r.clone()
        };
        assert_eq!(verdict(os, &alone), Holds);
        let ahead = Os {
            read_by_kernel: Bytes(4.0 * MIB + AHEAD),
            ..alone.clone()
        };
        assert_eq!(verdict(os, &ahead), Depends);
        let kept = Os {
            kept: Fraction(KEPT),
            ..alone.clone()
        };
        assert_eq!(verdict(os, &kept), Depends);
        let almost = Os {
            kept: Fraction(0.89),
            ..r.clone()
        };
        assert_eq!(verdict(os, &almost), Depends);
        let mmap_alone_too = Os {
            mmap_fault: Bytes(4096.0),
            ..alone
        };
        assert_eq!(verdict(os, &mmap_alone_too), Depends);
    }

    fn big_reference() -> Big {
        Big {
            size: Bytes(50553028608.0),
            available: Bytes(24195280896.0),
            read_share: Some(Ratio(268439552.0 / FILE)),
            loop_peak: Bytes(1044480.0),
            pread_read_back: Flag(true),
            pread_rss: Bytes(0.0),
            mmap_read_back: Flag(true),
            mmap_virt: Bytes(50553028608.0),
            mmap_rss: Bytes(65536.0),
        }
    }

    #[test]
    fn big_depends_on_the_reference_and_moves_with_each_side() {
        let r = big_reference();
        assert_eq!(verdict(big, &r), Depends);
        assert_eq!(
            verdict(
                big,
                &Big {
                    mmap_read_back: Flag(false),
                    ..r.clone()
                }
            ),
            Fails
        );
        assert_eq!(
            verdict(
                big,
                &Big {
                    mmap_virt: Bytes(1e9),
                    ..r.clone()
                }
            ),
            Fails
        );
        assert_eq!(
            verdict(
                big,
                &Big {
                    mmap_rss: Bytes(SMALL_RSS + 1.0),
                    ..r.clone()
                }
            ),
            Fails
        );
        assert_eq!(
            verdict(
                big,
                &Big {
                    mmap_rss: Bytes(SMALL_RSS),
                    ..r.clone()
                }
            ),
            Depends
        );
        // Even the careful read()s had trouble.
        assert_eq!(
            verdict(
                big,
                &Big {
                    pread_rss: Bytes(SMALL_RSS + 1.0),
                    ..r.clone()
                }
            ),
            Holds
        );
        assert_eq!(
            verdict(
                big,
                &Big {
                    pread_read_back: Flag(false),
                    ..r.clone()
                }
            ),
            Holds
        );
        assert_eq!(
            verdict(
                big,
                &Big {
                    loop_peak: Bytes(2.0 * MIB + 1.0),
                    ..r.clone()
                }
            ),
            Holds
        );
        // fs::read holding 0.4× the file would fit 18.8 GiB in 22.5 GiB: no read() has a problem.
        let lean = Big {
            read_share: Some(Ratio(0.4)),
            ..r.clone()
        };
        assert_eq!(verdict(big, &lean), Fails);
        let copy = Big {
            read_share: Some(Ratio(0.5)),
            ..r.clone()
        };
        assert_eq!(verdict(big, &copy), Depends);
        let j = judged(
            big,
            &Big {
                read_share: None,
                ..r
            },
        );
        assert_eq!(j.verdict, Depends);
        assert!(
            j.headline.contains("fs::read was not run"),
            "{}",
            j.headline
        );
    }

    fn rule_reference() -> Rule {
        Rule {
            file: Bytes(FILE),
            ceiling: Rate(29337096087.0),
            scan_warm_loop: once(FILE / 7732057493.0),
            scan_warm_mmap: once(FILE / 26339504931.0),
            scan_cold_loop: scan(2178508042.0, 2325008359.0, 1340631505.0),
            scan_cold_mmap: scan(2502322578.0, 2557606877.0, 2478716748.0),
            random: random_reference(),
        }
    }

    #[test]
    fn rule_depends_on_the_reference_and_names_the_warm_scan_win() {
        let r = rule_reference();
        let j = judged(rule, &r);
        assert_eq!(j.verdict, Depends);
        assert!(
            j.headline.contains("whether the file is cached decides"),
            "{}",
            j.headline
        );
        assert!(
            j.details[0].contains("3.41× faster than the loop"),
            "{}",
            j.details[0]
        );
        // mmap wins from disk too.
        let fast_random = Random {
            cold_mmap_random: runs(3.0e-5, 2.9e-5, 3.1e-5),
            ..r.random.clone()
        };
        let fast_disk = Rule {
            scan_cold_mmap: scan(4e9, 4.1e9, 3.9e9),
            random: fast_random.clone(),
            ..r.clone()
        };
        assert_eq!(verdict(rule, &fast_disk), Holds);
        // Cached, mmap only 1.24× ahead: ties everywhere.
        let loop_time = FILE / 7732057493.0;
        let none = Rule {
            scan_warm_mmap: once(loop_time / 1.24),
            random: Random {
                warm_mmap: once(6.867e-7 / 1.2),
                ..r.random.clone()
            },
            ..r.clone()
        };
        assert_eq!(verdict(rule, &none), Fails);
        let one = Rule {
            scan_warm_mmap: once(loop_time / 1.26),
            ..none.clone()
        };
        assert_eq!(verdict(rule, &one), Depends);
        assert!(
            rule(&Rule {
                random: fast_random,
                ..none
            })
            .headline
            .contains("the access pattern decides")
        );
    }
}
