//! Lesson 9's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Ratio, Secs};
use mmap_lab::{Judgement, Outcome, Spread, Unit, Verdict, findings};

/// The most copies of the file the mapped workers' Pss may add up to and still be "one
/// copy, shared": half a copy of slack for page tables and each process's own pages.
pub const ONE_COPY: f64 = 1.5;

/// The least of the file each mapped worker must have resident, for its low Pss to mean
/// sharing and not pages it never touched.
pub const WHOLE: f64 = 0.9;

/// Shares of the private copies (one per worker beyond the first) the map must save: all
/// of them, give or take a quarter, to hold; at least a quarter to depend.
pub const SAVED_ALL: f64 = 0.75;
pub const SAVED_SOME: f64 = 0.25;

findings! {
    /// One group of worker processes, measured while every one of them held the file.
    pub struct Group {
        rss_sum: Bytes = "Rss of the workers, summed",
        pss_sum: Bytes = "Pss of the workers, summed",
        rss_least: Bytes = "the smallest Rss of one worker",
        pss_most: Bytes = "the largest Pss of one worker",
        available_drop: Bytes = "drop in MemAvailable while they held the file",
    }
}

/// A number of copies for a headline: `1.00`, `5.02`.
fn n(copies: Ratio) -> String {
    format!("{:.2}", copies.0)
}

/// Copies of a `file` of this size in a group's summed Pss, beyond a group of idle workers.
pub fn copies(pss_sum: f64, idle_pss_sum: f64, file: f64) -> Ratio {
    Ratio((pss_sum - idle_pss_sum) / file)
}

findings! {
    /// [9.shared] Workers that each map one file and read it whole, and messages written
    /// through one process's shared map and read by another.
    pub struct Shared {
        workers: Count = "worker processes, each mapping the file",
        file: Bytes = "the file each of them read whole through its map",
        [key] rss_sum: Bytes = "their Rss, summed",
        [key] pss_sum: Bytes = "their Pss, summed",
        idle_pss_sum: Bytes = "Pss of as many idle workers, summed (the baseline)",
        [key] copies: Ratio = "copies of the file in their Pss beyond the baseline",
        least_resident: Fraction = "the file's share in the least-filled worker's Rss",
        [key] seen_across: Flag = "another process read every message written through the shared map",
        python_copies: Option<Ratio> = "the notes' Python (multiprocessing, mmap): copies in Pss",
    }
}

/// [9.shared] Shared memory: every worker has the whole file resident, yet their Pss adds
/// up to one copy (the same physical pages), and a write through one map is read in another.
pub fn shared(f: &Shared) -> Judgement {
    let whole = f.least_resident.0 >= WHOLE;
    let one = f.copies.0 <= ONE_COPY;
    let python = f.python_copies.is_none_or(|c| c.0 <= ONE_COPY);
    let verdict = match (whole && one, python, f.seen_across.0) {
        (true, true, true) => Holds,
        (false, _, false) => Fails,
        _ => Depends,
    };
    let headline = match (verdict, whole && one) {
        (Holds, _) => format!(
            "{} processes each mapped the whole file, yet held {} copies of it between them \
             (Pss); what one wrote through a shared map, another read",
            f.workers,
            n(f.copies)
        ),
        (Depends, true) if !python => format!(
            "the Rust workers shared one copy of the file ({}), but the notes' Python workers \
             held {} copies",
            n(f.copies),
            n(f.python_copies.unwrap_or_default())
        ),
        (Depends, true) => format!(
            "the mapped file's pages were shared ({} copies for {} workers), but writes \
             through a shared map did not reach the other process whole",
            n(f.copies),
            f.workers
        ),
        (Depends, false) => format!(
            "writes through a shared map reached the other process, but the {} mapped \
             workers held {} copies of the file, not one",
            f.workers,
            n(f.copies)
        ),
        _ => format!(
            "nothing was shared: the mapped workers held {} copies of the file, and writes \
             through the map did not reach the other process whole",
            n(f.copies)
        ),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "{} mapped workers: Rss {} summed, Pss {} summed; {} idle workers: Pss {}",
            f.workers, f.rss_sum, f.pss_sum, f.workers, f.idle_pss_sum
        ))
        .detail(format_args!(
            "the least-filled worker had {} of the {} file resident (at least {} needed)",
            f.least_resident,
            f.file,
            Unit::Fraction.format(WHOLE)
        ))
        .detail_if(
            f.python_copies.is_some(),
            format_args!(
                "the notes' Python workers (multiprocessing, mmap.ACCESS_READ): {} copies",
                n(f.python_copies.unwrap_or_default())
            ),
        )
}

findings! {
    /// [9.saves-ram] The same workers holding the file three ways, measured while they held it.
    pub struct SavesRam {
        workers: Count = "worker processes per way",
        file: Bytes = "the file",
        [key] map_copies: Ratio = "mapped: copies of the file in the workers' Pss",
        [key] read_copies: Ratio = "fs::read: copies of the file in the workers' Pss",
        [key] stream_copies: Ratio = "read() loop: copies of the file in the workers' Pss",
        map: Group = "mapped",
        read: Group = "fs::read",
        stream: Group = "read() loop",
        python_map_copies: Option<Ratio> = "the notes' Python, mmap: copies in Pss",
        python_read_copies: Option<Ratio> = "the notes' Python, f.read(): copies in Pss",
    }
}

impl SavesRam {
    /// The private copies fs::read makes beyond the one the page cache holds anyway.
    fn private(&self) -> f64 {
        self.workers.0 - 1.0
    }

    /// The share of those private copies that mapping saved, given copies mapped and read.
    fn saved(&self, map: Ratio, read: Ratio) -> f64 {
        (read.0 - map.0) / self.private()
    }
}

fn level(saved: f64) -> Verdict {
    if saved >= SAVED_ALL {
        Holds
    } else if saved >= SAVED_SOME {
        Depends
    } else {
        Fails
    }
}

/// [9.saves-ram] RAM is saved: mapped workers hold one copy between them where fs::read
/// workers hold one each. The saving is the private copies: a read() loop shares the page
/// cache as well, so the headline says which RAM the map saved.
pub fn saves_ram(f: &SavesRam) -> Judgement {
    let rust = f.saved(f.map_copies, f.read_copies);
    let python = f
        .python_map_copies
        .zip(f.python_read_copies)
        .map(|(m, r)| f.saved(m, r));
    let verdict = match (level(rust), python.map(level)) {
        (Holds, Some(Holds) | None) => Holds,
        (Fails, Some(Fails) | None) => Fails,
        _ => Depends,
    };
    let (m, r, s) = (n(f.map_copies), n(f.read_copies), n(f.stream_copies));
    let headline = match (verdict, level(rust)) {
        (Holds, _) => format!(
            "mmap saved the private copies: {} mapped workers held {m} copies of the file \
             (Pss), fs::read {r}; a read() loop held {s}, sharing the page cache too",
            f.workers
        ),
        (Depends, Holds) => format!(
            "Rust's mapped workers saved the private copies ({m} copies against {r}), the \
             notes' Python ones did not ({} against {})",
            n(f.python_map_copies.unwrap_or_default()),
            n(f.python_read_copies.unwrap_or_default())
        ),
        (Depends, _) => format!(
            "mmap saved only part of the private copies: mapped workers held {m} copies of \
             the file (Pss), fs::read workers {r}"
        ),
        _ => format!(
            "no RAM was saved: {} mapped workers held {m} copies of the file (Pss), about as \
             many as fs::read's {r}",
            f.workers
        ),
    };
    let row = |name: &str, g: &Group| {
        format!(
            "{name}: Rss {} summed (each at least {}), Pss {} summed (each at most {}), \
             MemAvailable down {}",
            g.rss_sum, g.rss_least, g.pss_sum, g.pss_most, g.available_drop
        )
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(row("mapped", &f.map))
        .detail(row("fs::read", &f.read))
        .detail(row("read() loop", &f.stream))
        .detail(
            "the page cache holds the file once for every way, and MemAvailable counts it as \
             free to reclaim: private copies lower it (other processes on the machine move it too)",
        )
        .detail_if(
            python.is_some(),
            format_args!(
                "the notes' Python workers: mmap {} copies, f.read() {}",
                n(f.python_map_copies.unwrap_or_default()),
                n(f.python_read_copies.unwrap_or_default())
            ),
        )
}

findings! {
    /// [9.ipc] Two processes passing 128-byte messages through a shared map and a pipe.
    pub struct Ipc {
        messages: Count = "messages of 128 bytes per run",
        [key] ring: Spread = "ring buffer in a shared map, with atomics: time per message",
        [key] pipe: Spread = "pipe, one write() per message: time per message",
        [key] ring_rtt: Spread = "counter in a shared map: round trip (median of a run)",
        pipe_rtt: Spread = "pipe there and back: round trip (median of a run)",
        ring_rtt_p99: Secs = "counter in a shared map: 99th percentile round trip",
        pipe_rtt_p99: Secs = "pipe: 99th percentile round trip",
        exactly_once: Flag = "with atomics, every message arrived once, in order and whole",
        [key] unsync_broken: Count = "without synchronisation: messages lost or torn",
        unsync_lost: Count = "without synchronisation: messages overwritten before they were read",
        unsync_torn: Count = "without synchronisation: messages read half old, half new",
    }
}

/// [9.ipc] Ideal for IPC: judged on speed (throughput and round trips against a pipe) and on
/// what it takes: the atomics must deliver every message, and without them the same map
/// loses or tears messages — so it is ideal only with synchronisation the program brings.
pub fn ipc(f: &Ipc) -> Judgement {
    let thr = f.ring.versus(&f.pipe);
    let lat = f.ring_rtt.versus(&f.pipe_rtt);
    let faster = [thr, lat]
        .iter()
        .filter(|v| v.outcome == Outcome::Faster)
        .count();
    let broken = f.unsync_broken.0 > 0.0;
    let verdict = match (faster, f.exactly_once.0, broken) {
        (0, _, _) | (_, false, _) => Fails,
        (2, true, false) => Holds,
        _ => Depends,
    };
    let share = Unit::Fraction.format(f.unsync_broken.0 / f.messages.0);
    let headline = match verdict {
        Holds => format!(
            "a shared map carried messages {thr} than a pipe, round trips {lat}; even \
             unsynchronised, no message was lost or torn in this run"
        ),
        Depends if broken => format!(
            "a shared map carried messages {thr} than a pipe, round trips {lat} — with \
             atomics; without them {share} of the messages were lost or torn"
        ),
        Depends => format!(
            "a shared map carried messages {thr} than a pipe, but its round trips were {lat}"
        ),
        _ if !f.exactly_once.0 => {
            "even with atomics the ring did not deliver every message once, in order and whole"
                .to_string()
        }
        _ => format!("a shared map was no faster than a pipe: messages {thr}, round trips {lat}"),
    };
    let rate = |s: &Spread| Unit::Count.format((1.0 / s.median).round());
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "{} messages: shared map {} per message ({} a second), pipe {} ({} a second)",
            f.messages,
            f.ring,
            rate(&f.ring),
            f.pipe,
            rate(&f.pipe)
        ))
        .detail(format_args!(
            "round trip: shared map {} (99th percentile {}), pipe {} (99th percentile {})",
            f.ring_rtt, f.ring_rtt_p99, f.pipe_rtt, f.pipe_rtt_p99
        ))
        .detail(format_args!(
            "without synchronisation: {} messages lost (overwritten unread), {} torn (read half \
             written)",
            f.unsync_lost, f.unsync_torn
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    const MIB: f64 = 1048576.0;

    fn group(rss_sum: f64, pss_sum: f64, drop: f64) -> Group {
        Group {
            rss_sum: Bytes(rss_sum * MIB),
            pss_sum: Bytes(pss_sum * MIB),
            rss_least: Bytes(rss_sum / 5.0 * MIB),
            pss_most: Bytes(pss_sum / 5.0 * MIB),
            available_drop: Bytes(drop * MIB),
        }
    }

    /// The reference machine: 5 workers, 256 MiB file.
    fn shared_reference() -> Shared {
        Shared {
            workers: Count(5.0),
            file: Bytes(256.0 * MIB),
            rss_sum: Bytes(1294.0 * MIB),
            pss_sum: Bytes(264.0 * MIB),
            idle_pss_sum: Bytes(6.0 * MIB),
            copies: Ratio(1.01),
            least_resident: Fraction(1.0),
            seen_across: Flag(true),
            python_copies: Some(Ratio(1.0)),
        }
    }

    fn saves_reference() -> SavesRam {
        SavesRam {
            workers: Count(5.0),
            file: Bytes(256.0 * MIB),
            map_copies: Ratio(1.01),
            read_copies: Ratio(5.0),
            stream_copies: Ratio(0.02),
            map: group(1294.0, 264.0, 10.0),
            read: group(1294.0, 1286.0, 1290.0),
            stream: group(31.0, 11.0, 5.0),
            python_map_copies: Some(Ratio(1.0)),
            python_read_copies: Some(Ratio(5.0)),
        }
    }

    fn ipc_reference() -> Ipc {
        Ipc {
            messages: Count(100_000.0),
            ring: Spread::of(&[60e-9, 55e-9, 70e-9]),
            pipe: Spread::of(&[2.0e-6, 1.9e-6, 2.2e-6]),
            ring_rtt: Spread::of(&[0.4e-6, 0.3e-6, 0.5e-6]),
            pipe_rtt: Spread::of(&[15e-6, 14e-6, 16e-6]),
            ring_rtt_p99: Secs(2e-6),
            pipe_rtt_p99: Secs(40e-6),
            exactly_once: Flag(true),
            unsync_broken: Count(95_000.0),
            unsync_lost: Count(90_000.0),
            unsync_torn: Count(5_000.0),
        }
    }

    #[test]
    fn copies_count_the_pss_beyond_the_baseline() {
        assert_eq!(copies(264.0, 8.0, 256.0).0, 1.0);
        assert_eq!(copies(8.0, 8.0, 256.0).0, 0.0);
    }

    #[test]
    fn shared_holds_on_the_reference_and_moves_with_copies_residency_and_writes() {
        let r = shared_reference();
        assert_eq!(verdict(shared, &r), Holds);
        let edge = Shared {
            copies: Ratio(ONE_COPY),
            ..r.clone()
        };
        assert_eq!(verdict(shared, &edge), Holds);
        let private = Shared {
            copies: Ratio(1.51),
            ..r.clone()
        };
        assert_eq!(verdict(shared, &private), Depends);
        // Low Pss from pages never touched is not sharing.
        let untouched = Shared {
            least_resident: Fraction(0.89),
            ..r.clone()
        };
        assert_eq!(verdict(shared, &untouched), Depends);
        let no_writes = Shared {
            seen_across: Flag(false),
            ..r.clone()
        };
        assert_eq!(verdict(shared, &no_writes), Depends);
        let python = Shared {
            python_copies: Some(Ratio(4.9)),
            ..r.clone()
        };
        assert_eq!(verdict(shared, &python), Depends);
        assert!(shared(&python).headline.contains("Python"));
        let no_python = Shared {
            python_copies: None,
            ..r.clone()
        };
        assert_eq!(verdict(shared, &no_python), Holds);
        let nothing = Shared {
            copies: Ratio(5.0),
            seen_across: Flag(false),
            ..r
        };
        assert_eq!(verdict(shared, &nothing), Fails);
    }

    #[test]
    fn saves_ram_holds_on_the_reference_and_says_which_ram_was_saved() {
        let r = saves_reference();
        assert_eq!(verdict(saves_ram, &r), Holds);
        let h = saves_ram(&r).headline;
        assert!(
            h.contains("private copies") && h.contains("page cache"),
            "{h}"
        );
        // 4 private copies: saving 3 of them is the edge of "all".
        let edge = SavesRam {
            map_copies: Ratio(2.0),
            ..r.clone()
        };
        assert_eq!(verdict(saves_ram, &edge), Holds);
        let part = SavesRam {
            map_copies: Ratio(2.1),
            ..r.clone()
        };
        assert_eq!(verdict(saves_ram, &part), Depends);
        let some = SavesRam {
            map_copies: Ratio(4.0),
            ..r.clone()
        };
        assert_eq!(verdict(saves_ram, &some), Depends);
        // Rust saving nothing, the notes' Python saving all: the two disagree.
        let none = SavesRam {
            map_copies: Ratio(4.1),
            ..r.clone()
        };
        assert_eq!(verdict(saves_ram, &none), Depends);
        let alone = SavesRam {
            python_map_copies: None,
            python_read_copies: None,
            ..none.clone()
        };
        assert_eq!(verdict(saves_ram, &alone), Fails);
        let python_none = SavesRam {
            python_map_copies: Some(Ratio(5.0)),
            ..none
        };
        assert_eq!(verdict(saves_ram, &python_none), Fails);
        // Rust saving all, the notes' Python saving nothing.
        let python = SavesRam {
            python_map_copies: Some(Ratio(5.0)),
            ..r
        };
        assert_eq!(verdict(saves_ram, &python), Depends);
        assert!(saves_ram(&python).headline.contains("Python"));
    }

    #[test]
    fn ipc_depends_on_the_reference_because_without_atomics_messages_break() {
        let r = ipc_reference();
        assert_eq!(verdict(ipc, &r), Depends);
        assert!(ipc(&r).headline.contains("with atomics"));
        let clean = Ipc {
            unsync_broken: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(ipc, &clean), Holds);
        // Only one of the two speeds beats the pipe.
        let slow_trips = Ipc {
            ring_rtt: r.pipe_rtt,
            ..clean.clone()
        };
        assert_eq!(verdict(ipc, &slow_trips), Depends);
        // Within the tie factor is not faster.
        let tie = Ipc {
            ring: r.pipe.per(1.2),
            ..slow_trips.clone()
        };
        assert_eq!(verdict(ipc, &tie), Fails);
        let beyond = Ipc {
            ring: r.pipe.per(1.3),
            ..slow_trips
        };
        assert_eq!(verdict(ipc, &beyond), Depends);
        let lost = Ipc {
            exactly_once: Flag(false),
            ..clean
        };
        assert_eq!(verdict(ipc, &lost), Fails);
        assert!(ipc(&lost).headline.contains("even with atomics"));
    }
}
