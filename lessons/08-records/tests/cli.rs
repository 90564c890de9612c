//! Lesson 8 as a reader runs it: a JSON report with every claim of section 8, and the
//! mechanisms behind the verdicts — the record layout, the Python/Rust round trip, where a
//! record's bytes come from, cold first touches as major faults.

use mmap_lab::Verdict;
use mmap_lab::testkit::{Run, assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-08");
const SMALL: [&str; 2] = ["--lookups", "20000"];

/// Whether the notes' Python ran in this run (python3 is installed and worked).
fn python_ran(run: &Run) -> bool {
    !run.report.notes.iter().any(|n| n.contains("python3"))
}

#[test]
fn reports_every_claim_of_section_8_with_the_layout_of_the_records() {
    let run = run_json(BIN, "4M", &SMALL);
    run.assert_section_claims(8);
    // A #[repr(C)] record of an i32 and an f64 is 16 bytes, balance at 8; packed, 12.
    assert_eq!(run.value("format.repr_c"), 16.0);
    assert_eq!(run.value("format.repr_packed"), 12.0);
    assert_eq!(run.value("format.balance_offset"), 8.0);
    assert_eq!(run.value("format.misaligned_refused"), 1.0);
    assert_eq!(run.value("format.ways_agree"), 1.0);
    // Read in place, without a page fault once the file is cached.
    assert_eq!(run.value("no-copy.in_place"), 1.0);
    assert_eq!(run.value("no-copy.warm_major"), 0.0);
    // Cold, with advise(Random), every first touch of a page is a major fault: a disk read.
    let lookups = run.value("no-copy.cold_lookups");
    assert_eq!(lookups, 256.0);
    assert!(run.value("no-copy.cold_major") >= 0.9 * lookups);
    for c in &run.report.claims {
        assert_ne!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
    }
}

#[test]
fn python_and_rust_read_each_others_records() {
    let run = run_json(BIN, "4M", &SMALL);
    if !python_ran(&run) {
        eprintln!(
            "python3 not installed — round trip skipped: {:?}",
            run.report.notes
        );
        return;
    }
    // "i d" is padded like the #[repr(C)] record; "=id" is not, and misreads the file.
    assert_eq!(run.value("format.calcsize"), 16.0);
    assert_eq!(run.value("format.calcsize_packed"), 12.0);
    assert_eq!(run.value("format.packed_right"), 0.0);
    assert_eq!(run.value("format.python_read_rust"), 1.0);
    assert_eq!(run.value("format.rust_read_python"), 1.0);
    assert_eq!(run.value("no-copy.values_match"), 1.0);
    // The notes' slice is a copy; a memoryview is not.
    assert_eq!(run.value("no-copy.python_slice_copies"), 1.0);
    assert_eq!(run.value("no-copy.python_view_shares"), 1.0);
    let no_copy = run
        .report
        .claims
        .iter()
        .find(|c| c.id == "8.no-copy")
        .unwrap();
    assert_eq!(no_copy.verdict, Verdict::Fails, "{}", no_copy.why);
    // Python wrote only into its scratch file, which is gone with the run.
    let left: Vec<String> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|f| !f.contains("from-python")), "{left:?}");
    assert!(left.iter().any(|f| f.starts_with("records-")), "{left:?}");
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    let err = assert_bad_input(BIN, &["--size", "1M"]);
    assert!(err.contains("too small"), "{err}");
    assert_bad_input(BIN, &["--lookups", "5"]);
    assert_bad_input(BIN, &["--lookups", "1000000000"]);
    assert_bad_input(BIN, &["--lookups", "many"]);
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "4M");
}

#[test]
fn on_tmpfs_only_the_claim_that_needs_a_cold_file_is_not_measured() {
    let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "4M") else {
        return;
    };
    for c in &report.claims {
        if c.id == "8.no-copy" {
            assert_eq!(c.verdict, Verdict::NotMeasured, "{}", c.why);
            assert!(c.why.contains("tmpfs"), "{}", c.why);
        } else {
            assert_ne!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
        }
    }
}
