//! Lesson 3 as a reader runs it: a JSON report with every claim of section 3, and the
//! mechanisms behind the verdicts (residency, faults, eviction), never timings.

use mmap_lab::Verdict;
use mmap_lab::machine::Machine;
use mmap_lab::testkit::{assert_bad_input, assert_rejects_bad_input, data_dir, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-03");

/// The smallest sample the lesson accepts on the disk the tests use, by its own rule: its
/// 8 touches 2 × `read_ahead_kb` apart (128 KiB when the disk does not say), 16 MiB at least.
fn min_size() -> u64 {
    let dir = data_dir();
    let readahead = Machine::detect(dir.path())
        .read_ahead_kb
        .map_or(128 << 10, |kb| kb << 10);
    (16 << 20u64).max(2 * 8 * readahead)
}

#[test]
fn reports_every_claim_of_section_3() {
    let size = min_size();
    let run = run_json(BIN, &format!("{}K", size >> 10), &[]);
    run.assert_section_claims(3);
    let (touches, reads) = (run.value("in.touches"), run.value("lazy.reads"));
    let page = mmap_lab::cache::page_size() as f64;
    let pages = size as f64 / page;

    // [3.page-4k] The page size is measured, and one MADV_RANDOM fault maps exactly one
    // page by the kernel's own accounting (smaps Rss), whatever sysconf says.
    assert_eq!(run.value("page-4k.page"), page);
    assert_eq!(run.value("page-4k.random_mapped"), page);

    // [3.in] With MADV_RANDOM, k cold touches bring in the k touched pages and hardly more;
    // the default advice reads ahead, so each fault brings in more.
    let resident = run.value("in.random_resident");
    assert!(
        (touches..=2.0 * touches).contains(&resident),
        "{resident} pages resident after {touches} touches"
    );
    assert_eq!(run.value("in.random_touched"), touches);
    assert!(run.value("in.random_majflt") > 0.0);
    assert!(run.value("page-4k.default_per_fault") > run.value("page-4k.random_per_fault"));
    // At the smallest size the touches' readahead windows stay apart: each lies inside the
    // half slice counted on each side of its own touch, and together they are all the pages
    // the default pass read.
    let looked_at = pages / touches / 2.0;
    assert_eq!(run.value("in.capped"), 0.0);
    for side in ["behind", "ahead"] {
        for advice in ["default", "sequential"] {
            let n = run.value(&format!("in.{advice}_{side}"));
            assert!(n < looked_at, "{advice}_{side}: {n} of {looked_at} pages");
        }
    }
    let window = run.value("in.default_behind") + 1.0 + run.value("in.default_ahead");
    let read_by_default = run.value("out.after_unmap");
    assert!(
        (touches * window - read_by_default).abs() <= touches,
        "{touches} windows of {window} pages vs {read_by_default} pages read"
    );
    // MADV_SEQUENTIAL reads ahead of the fault, not around it.
    assert!(run.value("in.sequential_behind") < run.value("in.sequential_ahead"));
    // fincore, when installed, sees the same page cache as our mincore.
    if let Some(seen) = run.report.value("out.fincore") {
        assert_eq!(seen, run.value("out.after_unmap"));
    }

    // [3.out] Unmapping leaves pages cached; posix_fadvise(DONTNEED) spares the pages still
    // mapped and drops the rest once unmapped.
    assert!(run.value("out.after_unmap") > 0.0);
    assert!(run.value("out.left_while_mapped") >= run.value("out.mapped"));
    assert!(run.value("out.left_while_mapped") < run.value("out.after_unmap"));
    assert!(run.value("out.left_after_evict") <= pages / 100.0);

    // [3.lazy] Mapping loads nothing; the first touches fault the pages in from disk, and
    // touching them again through the same mapping takes far fewer faults.
    assert!(run.value("lazy.at_map") < 0.01);
    assert!(run.value("lazy.cold_majflt") > 0.0);
    assert!(run.value("lazy.mapped_faults") < run.value("lazy.cold_majflt"));

    // [3.therefore] With MADV_RANDOM the reads keep about the pages they read resident, at
    // least those; the default advice reads many pages per page needed.
    let per_read = run.value("therefore.resident_per_read");
    assert!(
        (1.0..=2.0).contains(&per_read),
        "{per_read} pages resident per read"
    );
    assert!(run.value("therefore.default_per_read") > 1.0);
    assert!((run.value("therefore.resident") - per_read * reads / pages).abs() < 1e-9);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    let dir = data_dir();
    let below = format!("{}K", (min_size() >> 10) - 1024);
    let dir_arg = dir.path().to_str().expect("utf-8 test directory");
    assert_bad_input(BIN, &["--size", &below, "--dir", dir_arg]);
}

#[test]
fn a_sample_another_process_keeps_mapped_is_not_measured_instead_of_faked() {
    let size = format!("{}K", min_size() >> 10);
    let run = run_json(BIN, &size, &[]);
    let sample = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .expect("the lesson made its sample");
    let file = std::fs::File::open(&sample).unwrap();
    // SAFETY: the test's own copy of the lesson's sample; nothing truncates it meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let sum: u64 = map.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    let again = mmap_lab::testkit::run_json_in(BIN, &size, &[], run.dir.path());
    assert_eq!(again.claims.len(), 5);
    for c in &again.claims {
        assert_eq!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
        assert!(c.why.contains("another process has it mapped"), "{}", c.why);
    }
    assert!(
        again.measurements.is_empty(),
        "no cache hits reported as disk reads"
    );
    std::hint::black_box(sum);
}

#[test]
fn survives_odd_environments_and_tmpfs() {
    let size = format!("{}K", min_size() >> 10);
    mmap_lab::testkit::assert_survives_odd_environments(BIN, &size);
    if let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, &size) {
        assert!(
            report
                .claims
                .iter()
                .all(|c| c.verdict == Verdict::NotMeasured)
        );
    }
}
