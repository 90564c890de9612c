//! Lesson 11 as a reader runs it: a JSON report with every claim of section 11, and the
//! mechanisms behind the verdicts — a one-byte store that costs the disk a whole page, and
//! SQLite's balances intact after every SIGKILL.

use mmap_lab::Verdict;
use mmap_lab::testkit::{assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-11");
const PAGE: f64 = 4096.0;

/// The files a run leaves in its data directory.
fn left(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn reports_every_claim_of_section_11_and_leaves_only_its_samples() {
    let run = run_json(BIN, "4M", &["--kills", "8"]);
    run.assert_section_claims(11);
    // 4 MiB: half of it per small size, at least eight files of each.
    assert_eq!(run.value("small.files"), (512 + 128 + 32 + 8 + 8) as f64);
    for c in &run.report.claims {
        assert_ne!(c.verdict, Verdict::NotMeasured, "[{}] {}", c.id, c.why);
    }
    // The scratch files (the scattered writes, the ledger, the bank) and SQLite's -wal and
    // -shm are gone; the big sample and the small files stay, each with its sidecar.
    let files = left(run.dir.path());
    assert_eq!(files.len(), 2 * (1 + 688), "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("log-") || f.starts_with("small")),
        "{files:?}"
    );
}

#[test]
fn a_one_byte_store_costs_a_page_and_sqlite_survives_every_kill() {
    let run = run_json(BIN, "4M", &["--kills", "30"]);
    // The kernel accounts every one-byte write as at least a whole page, by either path.
    for way in ["pwrite_each", "map_each", "pwrite_end", "map_end"] {
        let dirtied = run.value(&format!("writes.{way}_dirtied"));
        assert!(dirtied >= PAGE, "{way}: {dirtied} bytes per 1-byte write");
    }
    // What the disk received for a synced store through the map: a page at least.
    if let Some(device) = run.report.value("writes.map_each_device") {
        assert!(device >= PAGE, "{device}");
    }
    // Every round of both tortures ended by SIGKILL; SQLite kept the sum of the balances and
    // every transfer it had committed after each one, and committed some in between.
    assert_eq!(run.value("tx.sqlite_kills"), 30.0);
    assert_eq!(run.value("tx.map_kills"), 30.0);
    assert_eq!(run.value("tx.sqlite_broken"), 0.0);
    assert_eq!(run.value("tx.sqlite_lost"), 0.0);
    assert!(run.value("tx.sqlite_completed") > 0.0);
    // A process crash loses no store to the map either: what it reported done is there.
    assert_eq!(run.value("tx.map_lost"), 0.0);
    assert!(run.value("tx.map_torn") <= 30.0);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert_bad_input(BIN, &["--kills", "0"]);
    assert_bad_input(BIN, &["--kills", "10001"]);
    let err = assert_bad_input(BIN, &["--size", "1M"]);
    assert!(err.contains("too small for lesson 11"), "{err}");
    let lesson_6 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/reference/lesson-06.json"
    );
    let err = assert_bad_input(BIN, &["--reference", lesson_6]);
    assert!(err.contains("lesson 6, not of lesson 11"), "{err}");
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "4M");
}

#[test]
fn on_tmpfs_the_claims_that_need_a_disk_are_not_measured() {
    let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "4M") else {
        return;
    };
    for c in &report.claims {
        let needs_disk = c.id == "11.sequential" || c.id == "11.writes";
        assert_eq!(
            c.verdict == Verdict::NotMeasured,
            needs_disk,
            "[{}] {:?}: {}",
            c.id,
            c.verdict,
            c.why
        );
    }
}
