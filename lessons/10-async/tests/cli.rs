//! Lesson 10 as a reader runs it: every claim of section 10 judged, and the mechanisms behind
//! the verdicts — a cold page is faulted in on the thread that touches it.

use mmap_lab::Verdict;
use mmap_lab::testkit::{
    assert_rejects_bad_input, assert_survives_odd_environments, run_json, run_on_tmpfs,
};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-10");

#[test]
fn reports_every_claim_of_section_10() {
    let run = run_json(BIN, "32M", &[]);
    run.assert_section_claims(10);
    // Inline, the runtime's own thread takes the faults of the cold map; in spawn_blocking
    // the pool's thread does, and the runtime's takes none.
    assert!(run.value("os-io.inline_loop_majflt") >= 1.0);
    assert!(run.value("os-io.pool_majflt") >= 1.0);
    assert_eq!(run.value("os-io.blocking_loop_majflt"), 0.0);
    // Every heartbeat row was measured, and the heartbeat ran while idle.
    assert!(run.value("lateness.idle.fired") >= 1.0);
    for way in ["map_inline", "read_inline", "tokio_fs", "map_blocking"] {
        assert!(
            run.report
                .value(&format!("lateness.{way}_cold.worst"))
                .is_some(),
            "{way}"
        );
    }
}

#[test]
fn rejects_bad_input_and_survives_odd_environments() {
    assert_rejects_bad_input(BIN);
    mmap_lab::testkit::assert_bad_input(BIN, &["--size", "1M"]);
    assert_survives_odd_environments(BIN, "16M");
}

#[test]
fn on_tmpfs_every_claim_needs_a_cold_file() {
    if let Some(report) = run_on_tmpfs(BIN, "16M") {
        for c in &report.claims {
            assert_eq!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
        }
    }
}
