//! Lesson 12 as a reader runs it: a JSON report with every claim of section 12, and the
//! mechanisms behind the verdicts — the truncated-file reader dies of SIGBUS, fetch_add
//! loses nothing while load + store loses increments, the sequence lock accepts no torn
//! record.

use mmap_lab::Verdict;
use mmap_lab::testkit::{assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-12");

#[test]
fn reports_every_claim_of_section_12() {
    let run = run_json(BIN, "1M", &["--trials", "5", "--iterations", "200000"]);
    run.assert_section_claims(12);
    let verdict = |id: &str| {
        let c = run.report.claims.iter().find(|c| c.id == id).unwrap();
        (c.verdict, c.why.clone())
    };
    assert_eq!(
        verdict("12.platform").0,
        Verdict::Holds,
        "{:?}",
        verdict("12.platform")
    );
    let (windows, why) = verdict("12.windows");
    assert_eq!(windows, Verdict::NotMeasured);
    assert!(why.contains("64 KiB"), "{why}");
    // Mapping offsets go in page steps on Linux, and the map of a deleted file still works.
    assert_eq!(
        run.value("platform.granularity"),
        run.value("platform.page_size")
    );
    assert_eq!(run.value("platform.unaligned_refused"), 1.0);
    assert_eq!(run.value("platform.memmap2_unaligned"), 1.0);
    assert_eq!(run.value("platform.empty_refused"), 1.0);
    assert_eq!(run.value("platform.unlinked_valid"), 1.0);
    // The lesson's own scratch files are gone; only the kept samples remain.
    let left: Vec<String> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(
        left.iter()
            .all(|n| n.starts_with("sample-") || n.starts_with("empty-")),
        "{left:?}"
    );
}

#[test]
fn a_reader_of_a_truncated_file_dies_of_sigbus_and_the_probe_reports_an_error() {
    let run = run_json(BIN, "1M", &["--trials", "20", "--iterations", "1000"]);
    assert_eq!(run.value("truncate.trials"), 20.0);
    assert_eq!(
        run.value("truncate.sigbus"),
        20.0,
        "every reader dies of SIGBUS"
    );
    assert_eq!(run.value("truncate.sigsegv"), 0.0);
    assert_eq!(
        run.value("truncate.signal"),
        7.0,
        "SIGBUS is signal 7 on Linux"
    );
    assert_eq!(run.value("truncate.probe_before"), 1.0);
    assert_eq!(run.value("truncate.probe_refused"), 1.0);
    let c = run
        .report
        .claims
        .iter()
        .find(|c| c.id == "12.truncate")
        .unwrap();
    assert_eq!(c.verdict, Verdict::Depends, "{}", c.why);
    assert!(c.why.contains("SIGBUS"), "{}", c.why);
}

#[test]
fn fetch_add_loses_nothing_and_load_store_loses_increments() {
    // Start small and grow: two cores shared with other work may keep the racers apart
    // for a short race; the message says how many iterations it took.
    let mut tried = Vec::new();
    for n in [100_000u64, 1_000_000, 4_000_000] {
        let run = run_json(
            BIN,
            "1M",
            &["--trials", "1", "--iterations", &n.to_string()],
        );
        assert_eq!(
            run.value("race.atomic_lost"),
            0.0,
            "fetch_add lost increments"
        );
        assert_eq!(
            run.value("race.torn_seqlock"),
            0.0,
            "the seqlock accepted a torn record"
        );
        let lost = run.value("race.plain_lost");
        assert!(lost <= 2.0 * n as f64);
        tried.push(n);
        if lost > 0.0 {
            eprintln!("load + store lost {lost} increments at {n} per process");
            return;
        }
    }
    panic!("load + store lost no increment at {tried:?} iterations per process");
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert_bad_input(BIN, &["--size", "4K"]);
    assert_bad_input(BIN, &["--trials", "0"]);
    assert_bad_input(BIN, &["--trials", "1001"]);
    assert_bad_input(BIN, &["--iterations", "10"]);
    assert_bad_input(BIN, &["--iterations", "99999999999"]);
    let lesson_5 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/reference/lesson-05.json"
    );
    let err = assert_bad_input(BIN, &["--reference", lesson_5]);
    assert!(err.contains("lesson 5, not of lesson 12"), "{err}");
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "1M");
}

#[test]
fn on_tmpfs_every_claim_is_still_measured() {
    let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "1M") else {
        return;
    };
    for c in &report.claims {
        if c.id == "12.windows" {
            assert_eq!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
        } else {
            assert_ne!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
        }
    }
}
