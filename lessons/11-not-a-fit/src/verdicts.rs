//! Lesson 11's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Outcome::{Faster, Slower};
use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::findings::TIE;
use mmap_lab::judge::or_missing;
use mmap_lab::quantity::{Bytes, Count, Secs};
use mmap_lab::{Judgement, Spread, Unit, Versus, findings};

/// The sizes [11.small] reads, smallest first.
pub const SMALL_SIZES: [u64; 5] = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20];

/// The largest file this lesson calls small: 64 KiB, sixteen pages. mmap must lose to
/// `read()` at every size up to it for [11.small] to hold.
pub const SMALL: u64 = 64 << 10;

findings! {
    /// [11.small] Whole small files, warm, read and mapped one after another: time per file.
    pub struct Small {
        files: Count = "small files read and mapped, all sizes together",
        [key] read_4k: Spread = "4 KiB files: open + read() + close, per file",
        [key] map_4k: Spread = "4 KiB files: open + mmap + munmap + close, per file",
        read_16k: Spread = "16 KiB files: read(), per file",
        map_16k: Spread = "16 KiB files: mmap, per file",
        [key] read_64k: Spread = "64 KiB files: read(), per file",
        [key] map_64k: Spread = "64 KiB files: mmap, per file",
        read_256k: Spread = "256 KiB files: read(), per file",
        map_256k: Spread = "256 KiB files: mmap, per file",
        read_1m: Spread = "1 MiB files: read(), per file",
        map_1m: Spread = "1 MiB files: mmap, per file",
    }
}

impl Small {
    /// Each size with its `read()` and mmap rows, smallest first.
    pub fn rows(&self) -> [(u64, Spread, Spread); 5] {
        let [a, b, c, d, e] = SMALL_SIZES;
        [
            (a, self.read_4k, self.map_4k),
            (b, self.read_16k, self.map_16k),
            (c, self.read_64k, self.map_64k),
            (d, self.read_256k, self.map_256k),
            (e, self.read_1m, self.map_1m),
        ]
    }
}

fn size(bytes: u64) -> String {
    Unit::Bytes.format(bytes as f64)
}

/// [11.small] Small files are no place for mmap: it must lose to `read()` at every size up
/// to [`SMALL`]; where it starts to win is the crossover.
pub fn small(f: &Small) -> Judgement {
    let rows = f.rows();
    let vs: Vec<(u64, Versus)> = rows.iter().map(|(s, r, m)| (*s, m.versus(r))).collect();
    let smallest = vs[0].1;
    let loses_small = vs
        .iter()
        .filter(|(s, _)| *s <= SMALL)
        .all(|(_, v)| v.outcome == Slower);
    let verdict = match (smallest.outcome == Slower, loses_small) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let cross = match vs.iter().find(|(_, v)| v.outcome == Faster) {
        Some((s, v)) => format!("mmap wins from {} ({v})", size(*s)),
        None => format!("mmap never won, up to {}", size(SMALL_SIZES[4])),
    };
    let first_not_slower = vs
        .iter()
        .find(|(_, v)| v.outcome != Slower)
        .map_or(String::new(), |(s, v)| {
            format!("at {} it was {v}", size(*s))
        });
    let headline = match verdict {
        Holds => format!(
            "mmap lost to read() for every file up to {} (at 4 KiB {smallest}); {cross}",
            size(SMALL)
        ),
        Depends => {
            format!("mmap lost to read() at 4 KiB ({smallest}), but {first_not_slower}; {cross}")
        }
        _ => format!(
            "for 4 KiB files mmap was {}: per file it cost no more; {cross}",
            smallest.than("read()")
        ),
    };
    let mut j = Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "{} files in the page cache, each read whole and its newlines counted",
            f.files
        ));
    for ((s, r, m), (_, v)) in rows.iter().zip(&vs) {
        j = j.detail(format_args!(
            "{}: read() {r}, mmap {m} per file — mmap {v}",
            size(*s)
        ));
    }
    j
}

findings! {
    /// [11.sequential] One pass over one big file: `read()` against a map, cached and from
    /// disk.
    pub struct Sequential {
        file: Bytes = "the file read in one pass",
        buffer: Bytes = "the read() loop's buffer",
        [key] warm_read: Spread = "cached: read() loop, per pass",
        [key] warm_map: Spread = "cached: mmap, default advice, per pass",
        warm_seq: Spread = "cached: mmap + advise(Sequential), per pass",
        [key] cold_read: Spread = "from disk: read() loop, per pass",
        [key] cold_map: Spread = "from disk: mmap, default advice, per pass",
        cold_seq: Spread = "from disk: mmap + advise(Sequential), per pass",
        read_ahead: Option<Bytes> = "the disk's readahead window (read_ahead_kb)",
    }
}

/// The faster of two map rows by median, and its name.
fn best(plain: Spread, seq: Spread) -> (Spread, &'static str) {
    if seq.median < plain.median {
        (seq, "mmap + advise(Sequential)")
    } else {
        (plain, "mmap")
    }
}

/// [11.sequential] `read()` must beat the best map both cached and from disk to hold.
pub fn sequential(f: &Sequential) -> Judgement {
    let (warm, warm_name) = best(f.warm_map, f.warm_seq);
    let (cold, cold_name) = best(f.cold_map, f.cold_seq);
    let (w, c) = (f.warm_read.versus(&warm), f.cold_read.versus(&cold));
    let wins = [w, c].iter().filter(|v| v.outcome == Faster).count();
    let verdict = match wins {
        2 => Holds,
        1 => Depends,
        _ => Fails,
    };
    let (mw, mc) = (warm.versus(&f.warm_read), cold.versus(&f.cold_read));
    let headline = match verdict {
        Holds => format!("read() beat the best map in one pass: {w} cached, {c} from disk"),
        Depends => format!(
            "one pass: read() against the best map was {w} cached, {c} from disk — it won only \
             {}",
            if w.outcome == Faster {
                "cached"
            } else {
                "from disk"
            }
        ),
        _ => format!(
            "read() did not win one pass over a big file: the best map was {mw} cached, {mc} \
             from disk"
        ),
    };
    let window = or_missing(f.read_ahead, "unknown");
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "cached, a {} pass: read() with a {} buffer {}, mmap {}, + advise(Sequential) {}; \
             best: {warm_name}",
            f.file, f.buffer, f.warm_read, f.warm_map, f.warm_seq
        ))
        .detail(format_args!(
            "from disk (evicted before every pass, the ways taking turns): read() {}, mmap {}, \
             + advise(Sequential) {}; best: {cold_name}; readahead {window}",
            f.cold_read, f.cold_map, f.cold_seq
        ))
}

findings! {
    /// [11.writes] Many one-byte writes scattered over a file: `pwrite` against stores
    /// through a shared map, synced one by one and once at the end.
    pub struct Writes {
        file: Bytes = "the scratch file written",
        each: Count = "writes per run synced one by one",
        end: Count = "writes per run synced once at the end",
        [key] pwrite_each: Spread = "pwrite + fdatasync, per write",
        [key] map_each: Spread = "store + msync of its page, per write",
        pwrite_end: Spread = "pwrite, one fdatasync at the end, per write",
        [key] map_end: Spread = "store, one msync at the end, per write",
        pwrite_each_dirtied: Bytes = "pwrite + fdatasync: bytes accounted as written, per write",
        map_each_dirtied: Bytes = "store + msync: bytes accounted as written, per write",
        pwrite_end_dirtied: Bytes = "pwrite, synced at the end: bytes accounted, per write",
        map_end_dirtied: Bytes = "store, synced at the end: bytes accounted, per write",
        [key] pwrite_each_device: Option<Bytes> = "pwrite + fdatasync: bytes the disk received, per write",
        [key] map_each_device: Option<Bytes> = "store + msync: bytes the disk received, per write",
        pwrite_end_device: Option<Bytes> = "pwrite, synced at the end: bytes the disk received, per write",
        map_end_device: Option<Bytes> = "store, synced at the end: bytes the disk received, per write",
    }
}

/// The bytes to compare for one way of syncing, `pwrite`'s and the map's: what the disk
/// received where its counters exist, else what the kernel accounted.
fn sent(pwrite: (Bytes, Option<Bytes>), map: (Bytes, Option<Bytes>)) -> (Bytes, Bytes) {
    match (pwrite.1, map.1) {
        (Some(p), Some(m)) => (p, m),
        _ => (pwrite.0, map.0),
    }
}

/// A comparison in few words: `2.1× slower`, or `as fast` for a tie (the factor is in the
/// details).
fn short(v: Versus) -> String {
    match v.outcome {
        Faster | Slower => v.to_string(),
        _ => "as fast".into(),
    }
}

/// One way of syncing: whether the map did worse than `pwrite` — slower beyond the tie
/// rule, or at least [`TIE`] times the bytes to the disk.
fn map_worse(pwrite: &Spread, map: &Spread, (pwrite_bytes, map_bytes): (Bytes, Bytes)) -> bool {
    pwrite.versus(map).outcome == Faster || map_bytes.0 >= pwrite_bytes.0 * TIE
}

/// [11.writes] Many small writes are no place for mmap: it must do worse than `pwrite`,
/// synced one by one and synced at the end, to hold.
pub fn writes(f: &Writes) -> Judgement {
    let each_bytes = sent(
        (f.pwrite_each_dirtied, f.pwrite_each_device),
        (f.map_each_dirtied, f.map_each_device),
    );
    let end_bytes = sent(
        (f.pwrite_end_dirtied, f.pwrite_end_device),
        (f.map_end_dirtied, f.map_end_device),
    );
    let each = map_worse(&f.pwrite_each, &f.map_each, each_bytes);
    let end = map_worse(&f.pwrite_end, &f.map_end, end_bytes);
    let verdict = match (each, end) {
        (true, true) => Holds,
        (true, false) | (false, true) => Depends,
        _ => Fails,
    };
    let (ve, vn) = (
        short(f.map_each.versus(&f.pwrite_each)),
        short(f.map_end.versus(&f.pwrite_end)),
    );
    let ways = format!(
        "{ve} synced each time, {vn} at the end; a synced byte cost the disk {}, by pwrite {}",
        each_bytes.1, each_bytes.0
    );
    let headline = match verdict {
        Holds => format!("the map lost to pwrite: {ways}"),
        Depends => format!(
            "the map lost to pwrite only {}: {ways}",
            if each {
                "synced each time"
            } else {
                "at the end"
            }
        ),
        _ => format!("the map was no worse than pwrite: {ways}"),
    };
    let device = |b: Option<Bytes>| or_missing(b, "not counted");
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "synced one by one ({} writes): pwrite + fdatasync {}, store + msync {} per write; \
             the disk received {} and {} per write, the kernel accounted {} and {}",
            f.each,
            f.pwrite_each,
            f.map_each,
            device(f.pwrite_each_device),
            device(f.map_each_device),
            f.pwrite_each_dirtied,
            f.map_each_dirtied
        ))
        .detail(format_args!(
            "synced at the end ({} writes over a {} file): pwrite {}, store {} per write; the \
             disk received {} and {} per write, the kernel accounted {} and {}",
            f.end,
            f.file,
            f.pwrite_end,
            f.map_end,
            device(f.pwrite_end_device),
            device(f.map_end_device),
            f.pwrite_end_dirtied,
            f.map_end_dirtied
        ))
        .detail(
            "accounted: /proc/self/io write_bytes, every page or folio a write dirtied; \
             received: the disk's sectors written, machine-wide, so other writers add noise",
        )
}

findings! {
    /// [11.tx] A writer killed with SIGKILL at random moments: naive transfers through a
    /// shared map, and the same transfers as SQLite transactions in WAL mode.
    pub struct Tx {
        map_kills: Count = "SIGKILLs of the naive mapped writer",
        [key] map_torn: Count = "kills after which its balances no longer summed up",
        map_lost: Count = "kills after which a transfer it reported done was missing",
        map_completed: Count = "transfers the naive writers completed",
        [key] sqlite_kills: Count = "SIGKILLs of the SQLite writer (WAL, synchronous=NORMAL)",
        [key] sqlite_broken: Count = "kills after which SQLite's sum or quick_check was off",
        [key] sqlite_lost: Count = "kills after which a committed transfer was missing",
        sqlite_completed: Count = "transfers the SQLite writers committed",
        map_cost: Secs = "one naive transfer through the map",
        [key] sqlite_cost: Secs = "one SQLite transaction, synchronous=NORMAL",
        sqlite_durable: Secs = "one SQLite transaction, synchronous=FULL (fsync per commit)",
        wall: Secs = "both tortures",
    }
}

/// [11.tx] When updates must be transactions, a map alone tears them and a database does
/// not: kills must tear the mapped writer while SQLite keeps every balance.
pub fn tx(f: &Tx) -> Judgement {
    let torn = f.map_torn.0 > 0.0 || f.map_lost.0 > 0.0;
    let kept = f.sqlite_broken.0 == 0.0 && f.sqlite_lost.0 == 0.0;
    let verdict = match (torn, kept) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let headline = match verdict {
        Holds => format!(
            "{} of {} kills tore the mapped writer's transfers; SQLite in WAL mode kept every \
             balance and commit through all {} kills",
            f.map_torn, f.map_kills, f.sqlite_kills
        ),
        Depends => format!(
            "neither kept the invariant: kills tore the mapped writer {} times of {}, and broke \
             or lost SQLite's data {} times of {}",
            f.map_torn,
            f.map_kills,
            f.sqlite_broken.0.max(f.sqlite_lost.0),
            f.sqlite_kills
        ),
        _ => format!(
            "none of {} kills tore the mapped writer's transfers: on these kills the map kept \
             the invariant as well as SQLite",
            f.map_kills
        ),
    };
    let ratio = Unit::Ratio.format(f.sqlite_cost.0 / f.map_cost.0);
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "mapped writer: {} transfers completed, {} kills lost a reported one; SQLite: {} \
             committed, {} broken, {} lost; {} of torture",
            f.map_completed, f.map_lost, f.sqlite_completed, f.sqlite_broken, f.sqlite_lost, f.wall
        ))
        .detail(format_args!(
            "the price: a transaction took {} ({ratio} a naive mapped transfer of {}), and {} \
             with an fsync per commit, which a power loss also needs",
            f.sqlite_cost, f.map_cost, f.sqlite_durable
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::{judged, verdict_of as verdict};

    const KIB: f64 = 1024.0;
    const MIB: f64 = 1048576.0;

    /// Three runs: the median with the fastest and slowest around it.
    fn runs(fastest: f64, median: f64, slowest: f64) -> Spread {
        Spread {
            median,
            fastest,
            slowest,
            runs: 3,
        }
    }

    /// Three runs within 2 % of `median`.
    fn tight(median: f64) -> Spread {
        runs(median * 0.99, median, median * 1.01)
    }

    /// The reference machine (book/reference/lesson-11.json): 2,672 warm files, seconds
    /// per file.
    fn small_reference() -> Small {
        Small {
            files: Count(2672.0),
            read_4k: runs(5.29e-6, 5.45e-6, 5.68e-6),
            map_4k: runs(10.5e-6, 10.6e-6, 10.7e-6),
            read_16k: runs(7.66e-6, 7.71e-6, 7.74e-6),
            map_16k: runs(12.4e-6, 12.8e-6, 13.0e-6),
            read_64k: runs(15.3e-6, 18.3e-6, 20.0e-6),
            map_64k: runs(16.9e-6, 18.6e-6, 23.1e-6),
            read_256k: runs(44.2e-6, 44.2e-6, 48.1e-6),
            map_256k: runs(45.5e-6, 46.3e-6, 47.7e-6),
            read_1m: runs(142e-6, 144e-6, 147e-6),
            map_1m: runs(136e-6, 138e-6, 141e-6),
        }
    }

    /// The reference machine: one pass over 64 MiB, seconds per pass.
    fn sequential_reference() -> Sequential {
        Sequential {
            file: Bytes(64.0 * MIB),
            buffer: Bytes(128.0 * KIB),
            warm_read: runs(7.50e-3, 7.72e-3, 7.86e-3),
            warm_map: runs(4.99e-3, 5.09e-3, 5.15e-3),
            warm_seq: runs(4.83e-3, 4.92e-3, 4.93e-3),
            cold_read: runs(31.3e-3, 39.6e-3, 43.5e-3),
            cold_map: runs(36.5e-3, 36.6e-3, 43.3e-3),
            cold_seq: runs(38.9e-3, 41.3e-3, 41.5e-3),
            read_ahead: Some(Bytes(8.0 * MIB)),
        }
    }

    /// The reference machine: one-byte writes over a 16 MiB file in 1 MiB folios.
    fn writes_reference() -> Writes {
        Writes {
            file: Bytes(16.0 * MIB),
            each: Count(32.0),
            end: Count(1024.0),
            pwrite_each: runs(137e-6, 148e-6, 159e-6),
            map_each: runs(345e-6, 345e-6, 421e-6),
            pwrite_end: runs(5.27e-6, 5.32e-6, 5.76e-6),
            map_end: runs(9.67e-6, 9.69e-6, 10.4e-6),
            pwrite_each_dirtied: Bytes(MIB),
            map_each_dirtied: Bytes(MIB),
            pwrite_end_dirtied: Bytes(16.0 * KIB),
            map_end_dirtied: Bytes(16.0 * KIB),
            pwrite_each_device: Some(Bytes(4352.0)),
            map_each_device: Some(Bytes(1049088.0)),
            pwrite_end_device: Some(Bytes(4100.0)),
            map_end_device: Some(Bytes(16388.0)),
        }
    }

    /// The reference machine: 40 kills of each writer.
    fn tx_reference() -> Tx {
        Tx {
            map_kills: Count(40.0),
            map_torn: Count(10.0),
            map_lost: Count(0.0),
            map_completed: Count(13081728.0),
            sqlite_kills: Count(40.0),
            sqlite_broken: Count(0.0),
            sqlite_lost: Count(0.0),
            sqlite_completed: Count(8712.0),
            map_cost: Secs(4e-9),
            sqlite_cost: Secs(27.1e-6),
            sqlite_durable: Secs(339e-6),
            wall: Secs(0.688),
        }
    }

    #[test]
    fn small_depends_on_the_reference_where_64_kib_is_a_tie() {
        let r = small_reference();
        let j = judged(small, &r);
        assert_eq!(j.verdict, Depends);
        assert!(j.headline.contains("at 64 KiB"), "{}", j.headline);
        assert!(j.headline.contains("never won"), "{}", j.headline);
        // The map 1.3× slower at 64 KiB, runs apart: it loses at every small size.
        let loses = Small {
            map_64k: tight(13.4e-6 * 1.3),
            read_64k: tight(13.4e-6),
            ..r.clone()
        };
        assert_eq!(verdict(small, &loses), Holds);
        // Just inside the tie factor: a tie again.
        let tie = Small {
            map_64k: tight(13.4e-6 * 1.24),
            ..loses.clone()
        };
        assert_eq!(verdict(small, &tie), Depends);
        // As fast at 4 KiB: small files are no worse mapped.
        let even = Small {
            map_4k: tight(5.8e-6),
            read_4k: tight(5.77e-6),
            ..r.clone()
        };
        assert_eq!(verdict(small, &even), Fails);
        let faster = Small {
            map_4k: tight(4.0e-6),
            ..even
        };
        assert_eq!(verdict(small, &faster), Fails);
    }

    #[test]
    fn small_names_the_crossover_where_the_map_starts_to_win() {
        let r = Small {
            read_1m: tight(100e-6),
            map_1m: tight(70e-6),
            ..small_reference()
        };
        let j = judged(small, &r);
        assert!(
            j.headline.contains("mmap wins from 1 MiB"),
            "{}",
            j.headline
        );
        let earlier = Small {
            read_256k: tight(40e-6),
            map_256k: tight(30e-6),
            ..r
        };
        let j = judged(small, &earlier);
        assert!(
            j.headline.contains("mmap wins from 256 KiB"),
            "{}",
            j.headline
        );
    }

    #[test]
    fn sequential_fails_on_the_reference_and_holds_when_read_wins_both() {
        let r = sequential_reference();
        let j = judged(sequential, &r);
        assert_eq!(j.verdict, Fails);
        assert!(j.headline.contains("1.57× faster cached"), "{}", j.headline);
        // read() faster cached only: it depends.
        let cached = Sequential {
            warm_read: tight(3.0e-3),
            ..r.clone()
        };
        assert_eq!(verdict(sequential, &cached), Depends);
        // ... and from disk too: it holds.
        let both = Sequential {
            cold_read: tight(20e-3),
            cold_seq: tight(32.5e-3),
            ..cached.clone()
        };
        assert_eq!(verdict(sequential, &both), Holds);
        // From disk only: depends again.
        let disk = Sequential {
            warm_read: r.warm_read,
            ..both
        };
        assert_eq!(verdict(sequential, &disk), Depends);
    }

    #[test]
    fn sequential_compares_read_with_the_faster_map_at_the_tie_factor() {
        let r = Sequential {
            warm_map: tight(10e-3),
            warm_seq: tight(5e-3),
            ..sequential_reference()
        };
        // 5 ms / 1.25 = 4 ms: at the tie factor, read() counts as faster.
        let at = Sequential {
            warm_read: runs(3.9e-3, 4.0e-3, 4.1e-3),
            ..r.clone()
        };
        assert_eq!(verdict(sequential, &at), Depends);
        let inside = Sequential {
            warm_read: runs(4.0e-3, 4.1e-3, 4.2e-3),
            ..r
        };
        assert_eq!(verdict(sequential, &inside), Fails);
    }

    #[test]
    fn writes_hold_on_the_reference_by_time_and_by_the_bytes_a_folio_costs() {
        let r = writes_reference();
        let j = judged(writes, &r);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.contains("cost the disk 1 MiB"), "{}", j.headline);
        // As fast synced each time, but a whole folio per msync: still worse there.
        let folio = Writes {
            map_each: r.pwrite_each,
            ..r.clone()
        };
        assert_eq!(verdict(writes, &folio), Holds);
        // As fast and as few bytes synced each time: worse only at the end.
        let page = Writes {
            map_each_device: Some(Bytes(4352.0 * 1.24)),
            ..folio.clone()
        };
        assert_eq!(verdict(writes, &page), Depends);
        let over = Writes {
            map_each_device: Some(Bytes(4352.0 * 1.25)),
            ..page.clone()
        };
        assert_eq!(verdict(writes, &over), Holds);
        // And as good at the end: no worse at all.
        let even = Writes {
            map_end: r.pwrite_end,
            map_end_device: Some(Bytes(4100.0)),
            ..page
        };
        assert_eq!(verdict(writes, &even), Fails);
    }

    #[test]
    fn writes_fall_back_to_the_accounted_bytes_without_disk_counters() {
        let r = Writes {
            map_each: writes_reference().pwrite_each,
            map_end: writes_reference().pwrite_end,
            pwrite_each_device: None,
            map_each_device: None,
            pwrite_end_device: None,
            map_end_device: None,
            ..writes_reference()
        };
        // The kernel accounts a whole folio to pwrite too: nothing to choose between them.
        assert_eq!(verdict(writes, &r), Fails);
        let one_missing = Writes {
            map_each_device: Some(Bytes(MIB)),
            ..r.clone()
        };
        assert_eq!(verdict(writes, &one_missing), Fails);
        let dirtier = Writes {
            map_each_dirtied: Bytes(2.0 * MIB),
            ..r
        };
        assert_eq!(verdict(writes, &dirtier), Depends);
    }

    #[test]
    fn writes_headlines_fit_when_every_comparison_is_a_tie() {
        let r = writes_reference();
        let ties = Writes {
            map_each: runs(100e-6, 110e-6, 130e-6),
            pwrite_each: runs(105e-6, 121e-6, 125e-6),
            map_end: runs(5.0e-6, 5.9e-6, 6.0e-6),
            map_each_device: Some(Bytes(1048960.0)),
            pwrite_each_device: Some(Bytes(1048960.0)),
            map_end_device: Some(Bytes(4100.0)),
            ..r.clone()
        };
        assert_eq!(verdict(writes, &ties), Fails);
        let depends = Writes {
            map_each_device: Some(Bytes(1048960.0 * 4.0)),
            ..ties
        };
        assert_eq!(verdict(writes, &depends), Depends);
    }

    #[test]
    fn tx_holds_when_kills_tear_the_map_and_sqlite_keeps_every_balance() {
        let r = tx_reference();
        let j = judged(tx, &r);
        assert_eq!(j.verdict, Holds);
        assert!(j.headline.starts_with("10 of 40 kills"), "{}", j.headline);
        let broken = Tx {
            sqlite_broken: Count(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(tx, &broken), Depends);
        let lost = Tx {
            sqlite_lost: Count(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(tx, &lost), Depends);
        let intact = Tx {
            map_torn: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(tx, &intact), Fails);
        assert_eq!(
            verdict(
                tx,
                &Tx {
                    sqlite_broken: Count(3.0),
                    ..intact.clone()
                }
            ),
            Fails
        );
        // A kill that lost a reported transfer counts against the map like a torn one.
        let lost_map = Tx {
            map_lost: Count(1.0),
            ..intact
        };
        assert_eq!(verdict(tx, &lost_map), Holds);
    }
}
