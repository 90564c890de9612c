//! Lesson 10's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Outcome::Faster;
use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::quantity::{Bytes, Count, Secs};
use mmap_lab::{Judgement, Spread, findings};

/// A heartbeat this late has missed five beats: the loop was blocked, whatever the idle
/// jitter.
pub const BLOCKED: f64 = 0.005;
/// ...and at least this many times its idle lateness.
const OVER_IDLE: f64 = 10.0;

/// Whether a worst lateness `late` means the loop was blocked, given the idle one.
fn blocked(late: f64, idle: f64) -> bool {
    late >= BLOCKED && late >= OVER_IDLE * idle
}

fn blocked_words(b: bool) -> &'static str {
    if b { "blocked" } else { "did not block" }
}

findings! {
    /// One way of reading the file, beside the heartbeat: every number, for the report.
    pub struct Lateness {
        worst: Spread = "worst lateness",
        p99: Secs = "99th-percentile lateness (median over the runs)",
        fired: Count = "heartbeats that fired",
        due: Count = "heartbeats due",
        loop_majflt: Count = "major faults of the runtime's thread (median)",
    }
}

findings! {
    /// All the ways, cold and cached, and the notes' Python.
    pub struct Table {
        idle: Lateness = "heartbeat alone",
        map_inline_cold: Option<Lateness> = "map touched inline, cold",
        map_inline_warm: Lateness = "map touched inline, cached",
        read_inline_cold: Option<Lateness> = "std::fs read inline, cold",
        read_inline_warm: Lateness = "std::fs read inline, cached",
        tokio_fs_cold: Option<Lateness> = "tokio::fs read, cold",
        tokio_fs_warm: Lateness = "tokio::fs read, cached",
        map_blocking_cold: Option<Lateness> = "map touched in spawn_blocking, cold",
        map_blocking_warm: Lateness = "map touched in spawn_blocking, cached",
        python_inline_p99: Option<Secs> = "the notes' asyncio, mmap inline, cold: 99th-percentile lateness",
        python_executor_p99: Option<Secs> = "the notes' asyncio, run_in_executor, cold: 99th-percentile lateness",
    }
}

findings! {
    /// [10.os-io] Where the disk reads of a cold map happen: page faults, on which thread.
    pub struct OsIo {
        pages: Count = "pages touched (one byte each)",
        [key] inline_disk: Option<Bytes> = "map touched inline: read from disk (/proc/self/io)",
        [key] inline_loop_majflt: Count = "map touched inline: major faults of the runtime's thread",
        [key] pool_majflt: Count = "map touched in spawn_blocking: major faults of the pool's thread",
        blocking_loop_majflt: Count = "map touched in spawn_blocking: major faults of the runtime's thread",
    }
}

/// [10.os-io] The kernel does the disk I/O of a map, in page faults: holds when the cold
/// touches took major faults — the reads of ours are none — on the runtime's thread inline
/// and on the pool's in spawn_blocking; fails when a cold touch faulted nothing in.
pub fn os_io(f: &OsIo) -> Judgement {
    let faulted = f.inline_loop_majflt.0 >= 1.0 && f.pool_majflt.0 >= 1.0;
    let verdict = if faulted { Holds } else { Fails };
    let disk = f
        .inline_disk
        .map_or(String::new(), |d| format!(" ({d} from disk)"));
    let headline = if faulted {
        format!(
            "the kernel read the pages in page faults{disk}, no read() of ours — and the thread that touched them waited"
        )
    } else {
        format!(
            "touching a cold map took {} major faults inline and {} in spawn_blocking: no disk I/O seen in page faults",
            f.inline_loop_majflt, f.pool_majflt
        )
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "inline: {} major faults on the runtime's thread; spawn_blocking: {} on the pool's thread, {} on the runtime's ({} pages touched)",
            f.inline_loop_majflt, f.pool_majflt, f.blocking_loop_majflt, f.pages
        ))
        .detail(
            "a fault that finds its page still arriving by readahead counts as minor though it waits for the disk, so a few major faults stand for the whole file",
        )
}

findings! {
    /// [10.not-blocked] The heartbeat's lateness beside a map touched on the loop.
    pub struct NotBlocked {
        [key] idle: Spread = "heartbeat alone: worst lateness",
        [key] inline_cold: Spread = "map touched inline, cold: worst lateness",
        inline_warm: Spread = "map touched inline, cached: worst lateness",
        inline_ticks: Count = "map touched inline, cold: heartbeats that fired",
        inline_expected: Count = "map touched inline, cold: heartbeats due",
        [key] python_inline: Option<Secs> = "the notes' asyncio, mmap touched inline, cold: worst lateness",
        python_executor: Option<Secs> = "the notes' asyncio, run_in_executor, cold: worst lateness",
    }
}

/// [10.not-blocked] The event loop is not blocked by mmap access: fails when touching a cold
/// map on the loop delayed the heartbeat (the notes' own asyncio when it ran, else Rust's).
pub fn not_blocked(f: &NotBlocked) -> Judgement {
    let idle = f.idle.median;
    let rust = blocked(f.inline_cold.median, idle);
    let python = f.python_inline.map(|p| blocked(p.0, idle));
    let verdict = if python.unwrap_or(rust) { Fails } else { Holds };
    let who = match python {
        Some(_) => "the notes' asyncio",
        None => "a tokio task",
    };
    let late = f.python_inline.map_or(f.inline_cold.secs(), |p| p);
    let headline = match verdict {
        Fails => format!(
            "touching a cold map in {who} blocked the loop: a 1 ms heartbeat ran {late} late (idle: \
             {}) — a page fault stops the thread",
            f.idle.secs()
        ),
        _ => format!(
            "touching a cold map in {who} left the 1 ms heartbeat at most {late} late: the loop \
             was not blocked"
        ),
    };
    let python = f
        .python_inline
        .zip(f.python_executor)
        .map(|(i, e)| format!("the notes' asyncio: inline {i} late, run_in_executor {e}"));
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "tokio, map touched inline: worst lateness {} cold, {} cached; {} of {} heartbeats \
             fired while it ran cold",
            f.inline_cold, f.inline_warm, f.inline_ticks, f.inline_expected
        ))
        .detail_if(python.is_some(), python.unwrap_or_default())
}

findings! {
    /// [10.ok] An async server with mmap: inline against spawn_blocking.
    pub struct Offload {
        idle: Spread = "heartbeat alone: worst lateness",
        [key] inline_cold: Spread = "map touched inline, cold: worst lateness",
        [key] blocking_cold: Spread = "map touched in spawn_blocking, cold: worst lateness",
        blocking_warm: Spread = "map touched in spawn_blocking, cached: worst lateness",
    }
}

/// [10.ok] mmap in an async server is OK: holds when even inline touches leave the loop
/// free, depends when only spawn_blocking does, fails when neither does.
pub fn ok(f: &Offload) -> Judgement {
    let idle = f.idle.median;
    let (inline, pool) = (
        blocked(f.inline_cold.median, idle),
        blocked(f.blocking_cold.median, idle),
    );
    let verdict = match (inline, pool) {
        (false, false) => Holds,
        (true, false) => Depends,
        (_, true) => Fails,
    };
    let headline = match verdict {
        Holds => {
            "mmap in an async task is OK here: cold touches did not delay the heartbeat, inline \
                  or in spawn_blocking"
                .to_string()
        }
        Depends => format!(
            "OK only off the loop: cold touches inline delayed the heartbeat {}, in spawn_blocking \
             {}",
            f.inline_cold.secs(),
            f.blocking_cold.secs()
        ),
        _ => format!(
            "not OK: even in spawn_blocking cold touches delayed the heartbeat {}",
            f.blocking_cold.secs()
        ),
    };
    Judgement::new(verdict)
        .headline(headline)
        .detail(format_args!(
            "worst lateness: idle {}, inline cold {}, spawn_blocking cold {} (cached {})",
            f.idle, f.inline_cold, f.blocking_cold, f.blocking_warm
        ))
}

findings! {
    /// [10.read-blocks] read() on the loop, and tokio::fs.
    pub struct ReadBlocks {
        idle: Spread = "heartbeat alone: worst lateness",
        [key] read_cold: Spread = "std::fs read inline, cold: worst lateness",
        read_warm: Spread = "std::fs read inline, cached: worst lateness",
        [key] tokio_cold: Spread = "tokio::fs read, cold: worst lateness",
        [key] map_cold: Spread = "map touched inline, cold: worst lateness",
    }
}

/// [10.read-blocks] read() blocks on I/O: holds when a cold read() on the loop delayed the
/// heartbeat more than a cached one (the wait is the disk's); depends when it delayed it only
/// as much as the cached read (copying, not waiting); fails when it did not block.
pub fn read_blocks(f: &ReadBlocks) -> Judgement {
    let idle = f.idle.median;
    let cold = blocked(f.read_cold.median, idle);
    let on_disk = f.read_warm.versus(&f.read_cold).outcome == Faster;
    let verdict = match (cold, on_disk) {
        (true, true) => Holds,
        (true, false) => Depends,
        (false, _) => Fails,
    };
    let map = blocked_words(blocked(f.map_cold.median, idle));
    let tokio = blocked_words(blocked(f.tokio_cold.median, idle));
    let headline = match verdict {
        Holds => format!(
            "a cold read() on the loop blocked it {} — and a cold map touched there {map} too; \
             tokio::fs {tokio}",
            f.read_cold.secs()
        ),
        Depends => format!(
            "read() on the loop blocked it {}, but no more cold than cached: copying, not the \
             disk, held it",
            f.read_cold.secs()
        ),
        _ => format!(
            "a cold read() on the loop left the heartbeat at most {} late: it did not block",
            f.read_cold.secs()
        ),
    };
    Judgement::new(verdict).headline(headline).detail(format_args!(
        "worst lateness: std::fs inline {} cold, {} cached; tokio::fs cold {}; map inline cold {}",
        f.read_cold, f.read_warm, f.tokio_cold, f.map_cold
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    fn s(ms: f64) -> Spread {
        Spread::of(&[ms * 0.9e-3, ms * 1e-3, ms * 1.1e-3])
    }

    /// The reference machine: 128 MiB sample, 8 MiB readahead.
    fn not_blocked_reference() -> NotBlocked {
        NotBlocked {
            idle: s(0.08),
            inline_cold: s(60.0),
            inline_warm: s(2.0),
            inline_ticks: Count(6.0),
            inline_expected: Count(64.0),
            python_inline: Some(Secs(0.08)),
            python_executor: Some(Secs(0.0004)),
        }
    }

    #[test]
    fn os_io_holds_when_cold_touches_fault_and_fails_when_nothing_faulted() {
        let r = OsIo {
            pages: Count(32768.0),
            inline_disk: Some(Bytes(128.0 * 1048576.0)),
            inline_loop_majflt: Count(1.0),
            pool_majflt: Count(1.0),
            blocking_loop_majflt: Count(0.0),
        };
        assert_eq!(verdict(os_io, &r), Holds);
        let none = OsIo {
            inline_loop_majflt: Count(0.0),
            ..r.clone()
        };
        assert_eq!(verdict(os_io, &none), Fails);
        let pool = OsIo {
            pool_majflt: Count(0.0),
            ..r
        };
        assert_eq!(verdict(os_io, &pool), Fails);
    }

    #[test]
    fn not_blocked_fails_on_the_reference_and_follows_the_notes_python() {
        let r = not_blocked_reference();
        assert_eq!(verdict(not_blocked, &r), Fails);
        // The notes' Python decides when it ran: a loop it did not block holds.
        let py_free = NotBlocked {
            python_inline: Some(Secs(0.002)),
            ..r.clone()
        };
        assert_eq!(verdict(not_blocked, &py_free), Holds);
        // Without Python, Rust's inline touch decides; the boundary is BLOCKED.
        let rust = NotBlocked {
            python_inline: None,
            python_executor: None,
            ..r.clone()
        };
        assert_eq!(verdict(not_blocked, &rust), Fails);
        let under = NotBlocked {
            inline_cold: s(4.9),
            ..rust.clone()
        };
        assert_eq!(verdict(not_blocked, &under), Holds);
        // ...and ten times the idle lateness.
        let noisy = NotBlocked {
            idle: s(0.6),
            inline_cold: s(5.5),
            ..rust
        };
        assert_eq!(verdict(not_blocked, &noisy), Holds);
    }

    #[test]
    fn ok_depends_when_only_spawn_blocking_keeps_the_loop_free() {
        let r = Offload {
            idle: s(0.08),
            inline_cold: s(60.0),
            blocking_cold: s(0.3),
            blocking_warm: s(0.2),
        };
        assert_eq!(verdict(ok, &r), Depends);
        let inline_fine = Offload {
            inline_cold: s(1.0),
            ..r.clone()
        };
        assert_eq!(verdict(ok, &inline_fine), Holds);
        let pool_blocked = Offload {
            blocking_cold: s(20.0),
            ..r
        };
        assert_eq!(verdict(ok, &pool_blocked), Fails);
    }

    #[test]
    fn read_blocks_holds_when_the_disk_not_the_copy_delays_the_loop() {
        let r = ReadBlocks {
            idle: s(0.08),
            read_cold: s(70.0),
            read_warm: s(12.0),
            tokio_cold: s(0.5),
            map_cold: s(60.0),
        };
        assert_eq!(verdict(read_blocks, &r), Holds);
        let copying = ReadBlocks {
            read_warm: s(65.0),
            ..r.clone()
        };
        assert_eq!(verdict(read_blocks, &copying), Depends);
        let free = ReadBlocks {
            read_cold: s(3.0),
            ..r
        };
        assert_eq!(verdict(read_blocks, &free), Fails);
    }
}
