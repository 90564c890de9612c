//! Lesson 5 as a reader runs it: a JSON report with every claim of section 5, and the
//! mechanisms behind the verdicts (memory, page cache, readahead, equal bytes) — never
//! timings.

use mmap_lab::Verdict;
use mmap_lab::testkit::{Run, assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-05");
const SIZE: f64 = (16 << 20) as f64;

fn verdict(run: &Run, id: &str) -> Verdict {
    run.report
        .claims
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.verdict)
        .unwrap_or_else(|| panic!("no verdict on [{id}]"))
}

fn has(run: &Run, prefix: &str) -> bool {
    run.report
        .measurements
        .iter()
        .any(|m| m.name.starts_with(prefix))
}

#[test]
fn reports_every_claim_of_section_5() {
    let run = run_json(BIN, "16M", &[]);
    run.assert_section_claims(5);

    // [5.ram] fs::read holds a private copy of the whole file; the read() loop only its
    // buffer; a full mmap scan maps the file's page-cache pages, a partial one a part.
    let read_all = run.value("scan.warm.read_all.peak_rss_growth");
    assert!((0.9 * SIZE..1.5 * SIZE).contains(&read_all), "{read_all}");
    assert!(run.value("scan.warm.buffered.peak_rss_growth") < SIZE / 4.0);
    assert!(run.value("scan.warm.mmap.rss_file_growth") >= 0.9 * SIZE);
    assert_eq!(run.value("scan.warm.mmap.anonymous"), 0.0);
    assert!(run.value("scan.warm.mmap_part.rss_growth") < SIZE / 2.0);
    assert_eq!(verdict(&run, "5.ram"), Verdict::Depends);

    // Every method read the same bytes.
    assert_eq!(run.value("scan.checksums_equal"), 1.0);
    assert_eq!(run.value("random.checksums_equal"), 1.0);

    // Cold means cold: eviction left (almost) nothing cached.
    assert!(run.value("cold.left_after_evict") < 0.05);
    assert!(run.value("warm.resident") > 0.99);

    // [5.os] read() gets readahead and the page cache too.
    assert!(run.value("os.read.cached") > run.value("os.read.asked"));
    assert!(run.value("scan.cold.buffered.cached_after") > 0.9);
    assert_eq!(verdict(&run, "5.os"), Verdict::Fails);

    // [5.random] advise(Random) stops mmap's read-around; plain mmap reads around a fault.
    assert!(run.value("random.cold.mmap_random.cached") < run.value("random.cold.mmap.cached"));
    assert!(run.value("random.cold.mmap.major_faults") > 0.0);

    // [5.big] the file larger than RAM maps into address space, not RAM: mapping it takes
    // all of its size in addresses but only the pages read in RSS, and both pread and the
    // map read back the marker words written across it. The run deleted the file.
    let big = run.value("big.size");
    assert!(big > run.value("big.available"));
    assert!(run.value("big.mmap_virt_growth") >= big);
    assert!(run.value("big.mmap_rss_growth") < big / 1000.0);
    assert_eq!(run.value("big.reads_equal"), 1.0);
    let left: Vec<_> = std::fs::read_dir(run.dir.path())
        .expect("read the data dir")
        .map(|e| e.expect("a dir entry").file_name())
        .filter(|n| n.to_string_lossy().starts_with("larger-than-ram"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // The notes' Python, when installed, holds the whole file after f.read().
    if run.report.value("peer.python.read_rss_growth").is_some() {
        assert!(run.value("peer.python.read_rss_growth") >= 0.9 * SIZE);
        assert!(run.value("peer.python.mmap_rss_growth") < SIZE / 4.0);
    } else {
        assert!(run.report.notes.iter().any(|n| n.contains("python3")));
    }
}

#[test]
fn pattern_chooses_the_rows() {
    let random = run_json(BIN, "16M", &["--pattern", "random"]);
    random.assert_section_claims(5);
    assert!(has(&random, "random.cold.pread"));
    assert!(!has(&random, "scan."));
    assert_ne!(verdict(&random, "5.random"), Verdict::NotMeasured);
    for id in ["5.ram", "5.startup", "5.os", "5.big", "5.rule"] {
        assert_eq!(verdict(&random, id), Verdict::NotMeasured, "[{id}]");
    }

    let sequential = run_json(BIN, "16M", &["--pattern", "sequential"]);
    sequential.assert_section_claims(5);
    assert!(has(&sequential, "scan.cold.buffered"));
    assert!(!has(&sequential, "random."));
    assert_eq!(verdict(&sequential, "5.random"), Verdict::NotMeasured);
    assert_eq!(verdict(&sequential, "5.rule"), Verdict::NotMeasured);
    assert_ne!(verdict(&sequential, "5.ram"), Verdict::NotMeasured);
}

#[test]
fn cold_runs_every_scan_from_disk() {
    let run = run_json(BIN, "16M", &["--cold", "--pattern", "sequential"]);
    for method in ["read_all", "buffered", "mmap", "mmap_populate", "mmap_seq"] {
        assert!(
            run.report
                .value(&format!("scan.cold.{method}.rate"))
                .is_some(),
            "no cold {method} scan"
        );
    }
    assert_eq!(run.value("scan.checksums_equal"), 1.0);
    assert!(run.value("cold.left_after_evict") < 0.05);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert!(assert_bad_input(BIN, &["--size", "1M"]).contains("too small"));
    // clap names the flag and lists the values it accepts.
    let err = assert_bad_input(BIN, &["--pattern", "diagonal"]);
    assert!(
        err.contains("--pattern") && err.contains("sequential, random, all"),
        "{err}"
    );
}
