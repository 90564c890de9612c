//! Lesson 6's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::judge::or_missing;
use mmap_lab::quantity::{Bytes, Count, Flag, Secs};
use mmap_lab::{Judgement, Unit, findings};

findings! {
    /// [6.in-place] `mm[0:4] = b"DATA"` and a flush, in Rust and in the notes' Python.
    pub struct InPlace {
        [key] same_file: Flag = "Rust twin: the same inode and size afterwards",
        [key] outside: Count = "Rust twin: bytes changed outside mm[0:4]",
        wrote: Flag = "Rust twin: the first four bytes read DATA afterwards",
        [key] seen: Flag = "Rust twin: another process's read() saw DATA before the flush",
        flush: Secs = "Rust twin: flush (msync) of the one written page",
        py_same_file: Option<Flag> = "notes' Python: the same inode and size afterwards",
        py_outside: Option<Count> = "notes' Python: bytes changed outside mm[0:4]",
        py_wrote: Option<Flag> = "notes' Python: the first four bytes read DATA afterwards",
        py_seen: Option<Flag> = "notes' Python: another process's read() saw DATA before flush",
    }
}

/// [6.in-place] The file itself changes, only where written, and every reader of the page
/// cache sees it before any flush.
pub fn in_place(f: &InPlace) -> Judgement {
    let mut edits = vec![(f.same_file, f.wrote, f.outside, f.seen)];
    if let (Some(s), Some(w), Some(o), Some(r)) =
        (f.py_same_file, f.py_wrote, f.py_outside, f.py_seen)
    {
        edits.push((s, w, o, r));
    }
    let here = edits.iter().all(|(s, w, o, _)| s.0 && w.0 && o.0 == 0.0);
    let seen = edits.iter().all(|e| e.3.0);
    let verdict = match (here, seen) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let who = if edits.len() > 1 {
        "in Python and Rust"
    } else {
        "in Rust"
    };
    let headline = match verdict {
        Holds => format!(
            "{who}, the write changed just mm[0:4] of the same file, and another process's \
             read() saw it before the flush: one page cache"
        ),
        Depends => format!(
            "{who}, the write changed just mm[0:4] of the same file, but another process saw \
             it only after the flush"
        ),
        _ => format!("{who}, the write did not stay in place: a new inode or size, or other bytes"),
    };
    let py = match (f.py_same_file, f.py_outside, f.py_seen) {
        (Some(s), Some(o), Some(r)) => {
            format!(
                "notes' Python: same file {s}, {o} bytes changed elsewhere, seen before flush {r}"
            )
        }
        _ => "the notes' Python did not run (python3 missing)".to_string(),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "Rust twin: same inode and size {}, {} bytes changed elsewhere, DATA written {}, \
             seen before flush {}; the flush took {}",
            f.same_file, f.outside, f.wrote, f.seen, f.flush
        ))
        .detail(py)
}

findings! {
    /// [6.no-rollback] No undo for a shared map; the two ways back, and their costs.
    pub struct NoRollback {
        [key] kept: Flag = "a shared map's write stayed after unmapping without a flush",
        [key] private_untouched: Flag = "writes through map_copy (MAP_PRIVATE) left the file as it was",
        private_copied: Bytes = "memory map_copy took for its copies (one byte written per page)",
        private_touch: Secs = "one byte written per page through map_copy",
        shared_touch: Secs = "the same writes through a shared map",
        [key] replace_atomic: Flag = "write-new + fsync + rename: old bytes until the rename, new after",
        replace_new_inode: Flag = "the path names a new inode after the rename",
        [key] replace: Secs = "write-new + fsync + rename + fsync of the directory",
        in_place: Secs = "the same change in place: flush of the page written through the map",
    }
}

/// [6.no-rollback] Nothing undoes a write through a shared map; what the two ways back cost.
pub fn no_rollback(f: &NoRollback) -> Judgement {
    let ways = f.private_untouched.0 && f.replace_atomic.0;
    let ratio = |a: Secs, b: Secs| Unit::Ratio.format(a.0 / b.0);
    let headline = match (f.kept.0, ways) {
        (true, true) => format!(
            "no undo: an unflushed write stayed after unmapping; map_copy never writes the file, \
             and rename replaces it whole, {} the cost of in place",
            ratio(f.replace, f.in_place)
        ),
        (true, false) => "no undo: an unflushed write stayed after unmapping, and map_copy or \
                          rename did not give the old bytes back either"
            .to_string(),
        (false, _) => {
            "a write through a shared map was gone after unmapping: something undid it".to_string()
        }
    };
    Judgement::new(if f.kept.0 { Holds } else { Fails })
        .headline(headline)
        .detail(format_args!(
            "map_copy (MAP_PRIVATE): file unchanged {}; one byte per page took {} and {} of \
             private copies, against {} through a shared map",
            f.private_untouched, f.private_touch, f.private_copied, f.shared_touch
        ))
        .detail(format_args!(
            "write-new + fsync + rename: all-or-nothing {}, new inode {}, {}; the change in \
             place with its flush: {}",
            f.replace_atomic, f.replace_new_inode, f.replace, f.in_place
        ))
}

findings! {
    /// [6.crash] The naive writer killed with SIGKILL at random moments; and what a power
    /// loss, which is not simulated, would find unwritten.
    pub struct Crash {
        [key] kills: Count = "SIGKILLs of the naive writer at random moments",
        killed: Count = "of those rounds, ended by the SIGKILL",
        [key] torn: Count = "kills that left a transfer half-done",
        broken: Count = "kills after which the sum of balances or a checksum was off",
        completed: Count = "transfers the killed writers had completed",
        [key] lost: Count = "kills after which a completed transfer was missing",
        reported: Count = "transfers the writers had reported done through a pipe",
        [key] dirty: Bytes = "dirty in the page cache after a byte was written per page",
        dirty_after: Bytes = "still dirty after the flush (msync)",
        flush: Secs = "the flush (msync) that wrote them",
        expire: Option<Secs> = "vm.dirty_expire_centisecs: how long a dirty page may wait",
        wall: Secs = "the whole torture",
    }
}

/// [6.crash] A kill corrupts the multi-step update it cuts; what was written survives it.
pub fn crash(f: &Crash) -> Judgement {
    let verdict = if f.torn.0 > 0.0 || f.lost.0 > 0.0 {
        Holds
    } else {
        Fails
    };
    let headline = match (verdict, f.lost.0 > 0.0) {
        (Holds, false) => format!(
            "{} of {} kills cut a transfer in half; all {} completed ones survived: a process \
             crash corrupts the update it cuts, not what was written",
            f.torn, f.kills, f.completed
        ),
        (Holds, true) => format!(
            "{} of {} kills cut a transfer in half, and {} lost completed transfers: the crash \
             corrupted the ledger",
            f.torn, f.kills, f.lost
        ),
        _ => format!(
            "none of {} kills cut a transfer in half, and all {} completed transfers survived",
            f.kills, f.completed
        ),
    };
    let expire = or_missing(f.expire, "an unknown time");
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "{} of {} rounds ended by SIGKILL; {} left a wrong sum or checksum; the writers had \
             reported {} transfers done through a pipe; {} of torture",
            f.killed, f.kills, f.broken, f.reported, f.wall
        ))
        .detail(format_args!(
            "a power loss is not simulated: it would lose what was dirty — {} after the writes, \
             {} once a flush of {} had run; unflushed pages may wait {}",
            f.dirty, f.dirty_after, f.flush, expire
        ))
}

findings! {
    /// [6.no-tx] The same torture on a writer with a redo journal and a commit word.
    pub struct NoTx {
        [key] naive_torn: Count = "kills that cut a naive transfer in half ([6.crash])",
        kills: Count = "SIGKILLs of the journaling writer",
        [key] broken: Count = "kills after which recovery left a wrong sum or checksum",
        lost: Count = "kills after which recovery did not give the completed transfers",
        cut: Count = "kills that landed between a transfer's record writes",
        [key] redone: Count = "kills after which recovery redid a committed transfer",
        completed: Count = "transfers the killed journaling writers had completed",
        naive_cost: Secs = "one naive transfer",
        safe_cost: Secs = "one journaled transfer, no msync (safe against a process crash)",
        [key] durable_cost: Secs = "one journaled transfer with its two msyncs (power loss too)",
    }
}

/// [6.no-tx] The map gives no transactions; a journal with a commit word makes them, and
/// durability costs the flushes.
pub fn no_tx(f: &NoTx) -> Judgement {
    let verdict = if f.naive_torn.0 == 0.0 {
        Fails
    } else if f.broken.0 > 0.0 || f.lost.0 > 0.0 {
        Depends
    } else {
        Holds
    };
    let slower = Unit::Ratio.format(f.durable_cost.0 / f.safe_cost.0);
    let headline = match verdict {
        Holds => format!(
            "no transactions: {} naive transfers tore; a redo journal kept all {} kills \
             consistent, and msync for power loss made it {slower} slower",
            f.naive_torn, f.kills
        ),
        Depends => format!(
            "no transactions, and care is hard: even with a journal, {} of {} kills left the \
             ledger wrong after recovery",
            f.broken.0.max(f.lost.0),
            f.kills
        ),
        _ => "no kill cut a naive transfer in half: the map's writes behaved as if atomic here"
            .to_string(),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "journaling writer: {} kills, {} landed between record writes, recovery redid {}, \
             {} wrong sums, {} lost; {} transfers completed",
            f.kills, f.cut, f.redone, f.broken, f.lost, f.completed
        ))
        .detail(format_args!(
            "per transfer: naive {}, journaled {}, journaled with msync {}",
            f.naive_cost, f.safe_cost, f.durable_cost
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    /// The reference machine (8 MiB sample, 200 kills per writer), from its recorded run.
    fn in_place_reference() -> InPlace {
        InPlace {
            same_file: Flag(true),
            outside: Count(0.0),
            wrote: Flag(true),
            seen: Flag(true),
            flush: Secs(0.00105),
            py_same_file: Some(Flag(true)),
            py_outside: Some(Count(0.0)),
            py_wrote: Some(Flag(true)),
            py_seen: Some(Flag(true)),
        }
    }

    #[test]
    fn in_place_holds_and_moves_with_the_file_and_the_reader() {
        let r = in_place_reference();
        assert_eq!(verdict(in_place, &r), Holds);
        let no_python = InPlace {
            py_same_file: None,
            py_outside: None,
            py_wrote: None,
            py_seen: None,
            ..r.clone()
        };
        assert_eq!(verdict(in_place, &no_python), Holds);
        assert!(in_place(&no_python).headline.starts_with("in Rust"));
        let late = InPlace {
            py_seen: Some(Flag(false)),
            ..r.clone()
        };
        assert_eq!(verdict(in_place, &late), Depends);
        let spread = InPlace {
            outside: Count(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(in_place, &spread), Fails);
        let replaced = InPlace {
            py_same_file: Some(Flag(false)),
            ..r.clone()
        };
        assert_eq!(verdict(in_place, &replaced), Fails);
        let unwritten = InPlace {
            wrote: Flag(false),
            ..r
        };
        assert_eq!(verdict(in_place, &unwritten), Fails);
    }

    fn no_rollback_reference() -> NoRollback {
        NoRollback {
            kept: Flag(true),
            private_untouched: Flag(true),
            private_copied: Bytes(8.0 * 1048576.0),
            private_touch: Secs(0.00525),
            shared_touch: Secs(0.000241),
            replace_atomic: Flag(true),
            replace_new_inode: Flag(true),
            replace: Secs(0.0165),
            in_place: Secs(0.0011),
        }
    }

    #[test]
    fn no_rollback_fails_only_when_the_write_was_undone() {
        let r = no_rollback_reference();
        assert_eq!(verdict(no_rollback, &r), Holds);
        assert!(
            no_rollback(&r).headline.contains("15×"),
            "{}",
            no_rollback(&r).headline
        );
        let leaky = NoRollback {
            private_untouched: Flag(false),
            ..r.clone()
        };
        assert_eq!(verdict(no_rollback, &leaky), Holds);
        assert!(no_rollback(&leaky).headline.contains("did not give"));
        let undone = NoRollback {
            kept: Flag(false),
            ..r
        };
        assert_eq!(verdict(no_rollback, &undone), Fails);
    }

    fn crash_reference() -> Crash {
        Crash {
            kills: Count(200.0),
            killed: Count(200.0),
            torn: Count(146.0),
            broken: Count(146.0),
            completed: Count(30_941_256.0),
            lost: Count(0.0),
            reported: Count(30_508_508.0),
            dirty: Bytes(8.0 * 1048576.0),
            dirty_after: Bytes(0.0),
            flush: Secs(0.00267),
            expire: Some(Secs(30.0)),
            wall: Secs(0.82),
        }
    }

    #[test]
    fn crash_holds_only_when_something_tore_or_was_lost() {
        let r = crash_reference();
        assert_eq!(verdict(crash, &r), Holds);
        let one = Crash {
            torn: Count(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(crash, &one), Holds);
        let none = Crash {
            torn: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(crash, &none), Fails);
        let lost = Crash {
            lost: Count(1.0),
            ..none
        };
        assert_eq!(verdict(crash, &lost), Holds);
        assert!(crash(&lost).headline.contains("lost"));
        let unknown = Crash { expire: None, ..r };
        assert_eq!(verdict(crash, &unknown), Holds);
    }

    fn no_tx_reference() -> NoTx {
        NoTx {
            naive_torn: Count(146.0),
            kills: Count(200.0),
            broken: Count(0.0),
            lost: Count(0.0),
            cut: Count(113.0),
            redone: Count(114.0),
            completed: Count(23_826_662.0),
            naive_cost: Secs(9e-9),
            safe_cost: Secs(9e-9),
            durable_cost: Secs(0.000277),
        }
    }

    #[test]
    fn no_tx_moves_with_the_naive_tears_and_the_journal() {
        let r = no_tx_reference();
        assert_eq!(verdict(no_tx, &r), Holds);
        let atomic = NoTx {
            naive_torn: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(no_tx, &atomic), Fails);
        let one = NoTx {
            naive_torn: Count(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(no_tx, &one), Holds);
        let bad_journal = NoTx {
            broken: Count(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(no_tx, &bad_journal), Depends);
        let lost = NoTx {
            lost: Count(1.0),
            ..r
        };
        assert_eq!(verdict(no_tx, &lost), Depends);
    }
}
