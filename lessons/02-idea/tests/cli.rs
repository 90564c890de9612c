//! Lesson 2 as a reader runs it: a JSON report with every claim of section 2, and the
//! mechanisms behind the verdicts.

use mmap_lab::Verdict;
use mmap_lab::testkit::{assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-02");

#[test]
fn reports_every_claim_of_section_2() {
    let run = run_json(BIN, "16M", &[]);
    run.assert_section_claims(2);
    // Mapping 16 MiB adds at least 16 MiB of address space and almost no RSS.
    assert!(run.value("map.virt_growth") >= (16 << 20) as f64);
    assert!(run.value("map.rss_growth") < (1 << 20) as f64);
    // The bytes seen through the map are the file's bytes.
    assert_eq!(run.value("bytes.equal"), 1.0);
    for c in &run.report.claims {
        assert_eq!(c.verdict, Verdict::Holds, "[{}] {}", c.id, c.why);
    }
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    mmap_lab::testkit::assert_bad_input(BIN, &["--size", "4K"]);
}
