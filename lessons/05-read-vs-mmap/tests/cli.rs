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

#[test]
fn reports_every_claim_of_section_5() {
    let run = run_json(BIN, "16M", &[]);
    run.assert_section_claims(5);

    // [5.ram] fs::read holds a private copy of the whole file; the read() loop only its
    // buffer; a full mmap scan maps the file's page-cache pages, a partial one a part.
    let read_all = run.value("ram.read_all_peak");
    assert!((0.9 * SIZE..1.5 * SIZE).contains(&read_all), "{read_all}");
    assert!(run.value("ram.loop_peak") < SIZE / 4.0);
    assert!(run.value("ram.mmap_resident") >= 0.9 * SIZE);
    assert_eq!(run.value("ram.mmap_anonymous"), 0.0);
    assert!(run.value("ram.part_rss") < SIZE / 2.0);
    assert_eq!(verdict(&run, "5.ram"), Verdict::Depends);

    // Every method read the same bytes.
    assert_eq!(run.value("run.same_checksums"), 1.0);
    assert_eq!(run.value("random.same_words"), 1.0);

    // Cold means cold: eviction left (almost) nothing cached.
    assert!(run.value("run.left_after_evict") < 0.05);
    assert!(run.value("run.warm_resident") > 0.99);

    // [5.os] read() gets readahead and the page cache too; mmap's first fault reads ahead.
    assert!(run.value("os.mmap_fault") > 4096.0);
    assert!(run.value("os.read_by_kernel") > run.value("os.asked"));
    assert!(run.value("os.kept") > 0.9);
    assert_eq!(verdict(&run, "5.os"), Verdict::Fails);

    // [5.random] advise(Random) stops mmap's read-around; plain mmap reads around a fault.
    assert!(run.value("random.cold_mmap_random_cached") < run.value("random.cold_mmap_cached"));
    assert!(run.value("random.cold_mmap_major_faults") > 0.0);

    // [5.big] the file larger than RAM maps into address space, not RAM: mapping it takes
    // all of its size in addresses but only the pages read in RSS, and both pread and the
    // map read back the marker words written across it. The run deleted the file.
    let big = run.value("big.size");
    assert!(big > run.value("big.available"));
    assert!(run.value("big.mmap_virt") >= big);
    assert!(run.value("big.mmap_rss") < big / 1000.0);
    assert_eq!(run.value("big.pread_read_back"), 1.0);
    assert_eq!(run.value("big.mmap_read_back"), 1.0);
    let left: Vec<_> = std::fs::read_dir(run.dir.path())
        .expect("read the data dir")
        .map(|e| e.expect("a dir entry").file_name())
        .filter(|n| n.to_string_lossy().starts_with("larger-than-ram"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // The notes' Python, when installed, holds the whole file after f.read().
    if run.report.value("ram.python_read").is_some() {
        assert!(run.value("ram.python_read") >= 0.9 * SIZE);
        assert!(run.value("ram.python_mmap") < SIZE / 4.0);
    } else {
        assert!(run.report.notes.iter().any(|n| n.contains("python3")));
    }
}

#[test]
fn cold_runs_every_scan_from_disk() {
    let run = run_json(BIN, "16M", &["--cold"]);
    for method in ["read_all", "read_loop", "mmap", "populate", "seq"] {
        assert!(
            run.report.value(&format!("run.cold.{method}")).is_some(),
            "no cold {method} scan"
        );
    }
    assert_eq!(run.value("run.same_checksums"), 1.0);
    assert!(run.value("run.left_after_evict") < 0.05);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert!(assert_bad_input(BIN, &["--size", "1M"]).contains("too small"));
}

#[test]
fn a_file_another_process_keeps_cached_leaves_only_the_cold_claims_unmeasured() {
    let run = run_json(BIN, "16M", &[]);
    let sample = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("sample"))
        })
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .expect("the lesson made its sample");
    let file = std::fs::File::open(&sample).unwrap();
    // SAFETY: the test's own copy of the lesson's sample; nothing truncates it meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let sum: u64 = map.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    let again = mmap_lab::testkit::run_json_in(BIN, "16M", &[], run.dir.path());
    let claim = |id: &str| again.claims.iter().find(|c| c.id == id).unwrap().clone();
    for id in ["5.random", "5.startup", "5.os", "5.rule"] {
        let c = claim(id);
        assert_eq!(c.verdict, Verdict::NotMeasured, "[{id}]");
        assert!(
            c.why.contains("another process has it mapped"),
            "[{id}] {}",
            c.why
        );
    }
    assert_ne!(claim("5.ram").verdict, Verdict::NotMeasured);
    assert_ne!(claim("5.big").verdict, Verdict::NotMeasured);
    std::hint::black_box(sum);
}
