//! Lesson 3 as a reader runs it: a JSON report with every claim of section 3, and the
//! mechanisms behind the verdicts (residency, faults, eviction), never timings.

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
    let param = |key: &str| run.report.params[key].as_f64().expect("numeric param");
    let (touches, reads) = (param("touches"), param("random_reads"));
    let page = mmap_lab::cache::page_size() as f64;
    let pages = size as f64 / page;

    // [3.page-4k] The page size is measured, and one MADV_RANDOM fault maps exactly one
    // page by the kernel's own accounting (smaps Rss), whatever sysconf says.
    assert_eq!(run.value("page.size"), page);
    assert_eq!(run.value("random.mapped_per_touch"), page);

    // [3.in] With MADV_RANDOM, k cold touches bring in the k touched pages and hardly more;
    // the default advice reads ahead, so each fault brings in more.
    let resident = run.value("random.resident");
    assert!(
        (touches..=2.0 * touches).contains(&resident),
        "{resident} pages resident after {touches} touches"
    );
    assert_eq!(run.value("random.touched_resident"), touches);
    assert!(run.value("random.majflt") > 0.0);
    assert!(run.value("default.per_fault") > run.value("random.per_fault"));
    // At the smallest size the touches' readahead windows stay apart: each lies inside the
    // part of the file counted for its own touch, and together they are all the pages read.
    let looked_at = run.value("in.looked_at");
    for side in ["behind", "ahead"] {
        for advice in ["default", "sequential"] {
            let n = run.value(&format!("{advice}.{side}"));
            assert!(n < looked_at, "{advice}.{side}: {n} of {looked_at} pages");
        }
    }
    let window = |advice: &str| {
        run.value(&format!("{advice}.behind")) + 1.0 + run.value(&format!("{advice}.ahead"))
    };
    let read_by_default = run.value("out.after_unmap");
    assert!(
        (touches * window("default") - read_by_default).abs() <= touches,
        "{touches} windows of {} pages vs {read_by_default} pages read",
        window("default")
    );
    assert!((window("sequential") - run.value("sequential.per_fault")).abs() <= 1.0);
    // fincore, when installed, sees the same page cache as our mincore.
    if let Some(seen) = run.report.value("peer.fincore_pages") {
        assert_eq!(seen, run.value("out.after_unmap"));
    }

    // [3.out] Unmapping leaves pages cached; posix_fadvise(DONTNEED) spares the pages still
    // mapped and drops the rest once unmapped.
    assert!(run.value("out.after_unmap") > 0.0);
    assert!(run.value("out.left_while_mapped") >= run.value("out.mapped"));
    assert!(run.value("out.left_while_mapped") < run.value("out.cached"));
    assert!(run.value("out.left_after_evict") <= pages / 100.0);

    // [3.lazy] Mapping loads nothing; the first touches fault the pages in from disk, and
    // touching them again through the same mapping takes far fewer faults.
    assert!(run.value("lazy.resident_at_map") < 0.01);
    assert!(run.value("reads.cold_majflt") > 0.0);
    assert!(run.value("reads.cold_resident") >= reads);
    assert!(run.value("reads.mapped_faults") < run.value("reads.cold_majflt"));

    // [3.therefore] With MADV_RANDOM the reads keep only about the pages they read resident;
    // the default advice reads many pages per page needed.
    assert!(run.value("reads.cold_resident") <= 2.0 * reads);
    assert!(run.value("reads.default_read_per_needed") > 1.0);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    let dir = data_dir();
    let below = format!("{}K", (min_size() >> 10) - 1024);
    let dir_arg = dir.path().to_str().expect("utf-8 test directory");
    assert_bad_input(BIN, &["--size", &below, "--dir", dir_arg]);
}
