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
    assert!(run.value("vm.virt_growth") >= (16 << 20) as f64);
    assert!(run.value("vm.rss_growth") < (1 << 20) as f64);
    // Every touched page was loaded by the kernel.
    assert_eq!(run.value("os-loads.touched_resident"), 8.0);
    // The bytes seen through the map are the file's bytes.
    assert_eq!(run.value("bytes.equal"), 1.0);
    for c in &run.report.claims {
        assert!(
            matches!(c.verdict, Verdict::Holds | Verdict::Depends),
            "[{}] {:?}: {}",
            c.id,
            c.verdict,
            c.why
        );
    }
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    mmap_lab::testkit::assert_bad_input(BIN, &["--size", "4K"]);
    let lesson_5 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/reference/lesson-05.json"
    );
    let err = mmap_lab::testkit::assert_bad_input(BIN, &["--reference", lesson_5]);
    assert!(err.contains("lesson 5, not of lesson 2"), "{err}");
}

#[test]
fn a_file_another_process_keeps_cached_leaves_only_the_cold_claim_unmeasured() {
    let run = run_json(BIN, "16M", &[]);
    let sample = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .expect("the lesson made its sample");
    let file = std::fs::File::open(&sample).unwrap();
    // SAFETY: the test's own copy of the lesson's sample; nothing truncates it meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let sum: u64 = map.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    let again = mmap_lab::testkit::run_json_in(BIN, "16M", &[], run.dir.path());
    let verdict = |id: &str| again.claims.iter().find(|c| c.id == id).unwrap().clone();
    let loads = verdict("2.os-loads");
    assert_eq!(loads.verdict, Verdict::NotMeasured);
    assert!(
        loads.why.contains("another process has it mapped"),
        "{}",
        loads.why
    );
    assert_eq!(verdict("2.vm").verdict, Verdict::Holds);
    assert_eq!(verdict("2.bytes").verdict, Verdict::Holds);
    std::hint::black_box(sum);
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "16M");
}

#[test]
fn on_tmpfs_only_the_claim_that_needs_a_cold_file_is_not_measured() {
    let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "16M") else {
        return;
    };
    for c in &report.claims {
        let want = if c.id == "2.os-loads" {
            Verdict::NotMeasured
        } else {
            Verdict::Holds
        };
        assert_eq!(c.verdict, want, "[{}] {}", c.id, c.why);
    }
}
