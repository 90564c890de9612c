//! Lesson 6 as a reader runs it: a JSON report with every claim of section 6, and the
//! mechanisms behind the verdicts — a write in place seen by another process, the ways
//! back, and writers killed with SIGKILL whose ledgers are checked after every kill.

use mmap_lab::Verdict;
use mmap_lab::testkit::{assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-06");

#[test]
fn reports_every_claim_of_section_6_and_leaves_no_files() {
    let run = run_json(BIN, "1M", &["--kills", "40"]);
    run.assert_section_claims(6);
    // In place: the same inode and size, nothing changed but mm[0:4], seen before flush.
    assert_eq!(run.value("in-place.same_file"), 1.0);
    assert_eq!(run.value("in-place.outside"), 0.0);
    assert_eq!(run.value("in-place.seen"), 1.0);
    if run.report.value("in-place.py_seen").is_some() {
        assert_eq!(run.value("in-place.py_same_file"), 1.0);
        assert_eq!(run.value("in-place.py_outside"), 0.0);
    }
    // No undo for a shared map; a private map never writes the file; rename is atomic.
    assert_eq!(run.value("no-rollback.kept"), 1.0);
    assert_eq!(run.value("no-rollback.private_untouched"), 1.0);
    assert_eq!(run.value("no-rollback.replace_atomic"), 1.0);
    assert!(run.value("no-rollback.private_copied") >= (1 << 20) as f64);
    // Flushing writes the dirty pages: none are left dirty afterwards.
    assert!(run.value("crash.dirty") > 0.0);
    assert_eq!(run.value("crash.dirty_after"), 0.0);
    for c in &run.report.claims {
        assert!(
            matches!(c.verdict, Verdict::Holds),
            "[{}] {:?}: {}",
            c.id,
            c.verdict,
            c.why
        );
    }
    // The files written in place, the ledgers and a replaced file's temporary are all gone;
    // the pristine sample (never written) stays for the next run.
    let left: Vec<String> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|f| f.starts_with("pristine-")), "{left:?}");
}

#[test]
fn every_kill_is_a_sigkill_and_the_journal_keeps_the_invariant_after_each() {
    let run = run_json(BIN, "1M", &["--kills", "100"]);
    // The naive writer: every round ended by SIGKILL, counts that fit together. Whether a
    // short run tears is chance; that the count is reported and consistent is not.
    let kills = run.value("crash.kills");
    assert_eq!(kills, 100.0);
    assert_eq!(run.value("crash.killed"), kills);
    let torn = run.value("crash.torn");
    assert!(torn <= kills && run.value("crash.broken") <= torn, "{torn}");
    // A process crash loses nothing written: every completed transfer is in the file, and
    // the writer's own reports through its pipe never ran ahead of the file.
    assert_eq!(run.value("crash.lost"), 0.0);
    assert!(run.value("crash.reported") <= run.value("crash.completed"));
    assert!(run.value("crash.completed") > 0.0);
    // The journaling writer: after recovery, no kill left a wrong sum or a lost transfer.
    assert_eq!(run.value("no-tx.kills"), 100.0);
    assert_eq!(run.value("no-tx.broken"), 0.0);
    assert_eq!(run.value("no-tx.lost"), 0.0);
    assert!(run.value("no-tx.redone") <= 100.0);
}

#[test]
fn a_thousand_kills_work() {
    let run = run_json(BIN, "256K", &["--kills", "1000"]);
    assert_eq!(run.value("crash.killed"), 1000.0);
    assert_eq!(run.value("no-tx.kills"), 1000.0);
    assert_eq!(run.value("no-tx.broken"), 0.0);
    assert!(
        run.stderr.contains("1000 kills per writer"),
        "{}",
        run.stderr
    );
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    for kills in ["--kills=0", "--kills=-1", "--kills=lots", "--kills=100001"] {
        assert_bad_input(BIN, &[kills]);
    }
    let err = assert_bad_input(BIN, &["--size", "4K"]);
    assert!(err.contains("too small"), "{err}");
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "256K");
}

#[test]
fn on_tmpfs_every_claim_still_gets_its_verdict() {
    let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "256K") else {
        return;
    };
    for c in &report.claims {
        assert_eq!(c.verdict, Verdict::Holds, "[{}] {}", c.id, c.why);
    }
}
