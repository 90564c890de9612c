//! Lesson 1 as a reader runs it: a JSON report with every claim of section 1, and the
//! mechanisms behind the verdicts.

use mmap_lab::Verdict;
use mmap_lab::testkit::{Run, assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-01");
const MIB: f64 = (1u64 << 20) as f64;

fn verdict(run: &Run, id: &str) -> Verdict {
    let c = run.report.claims.iter().find(|c| c.id == id).unwrap();
    c.verdict
}

#[test]
fn reports_every_claim_of_section_1() {
    let run = run_json(BIN, "64M", &[]);
    run.assert_section_claims(1);
    let size = 64.0 * MIB;
    assert_eq!(run.report.params["sparse"], false);
    // [1.whole] fs::read's Vec holds the whole file.
    assert!(run.value("whole.peak_growth") >= 0.9 * size);
    assert_eq!(verdict(&run, "1.whole"), Verdict::Holds);
    // [1.ram] RAM grows with the file when it is read whole, not when a slice is read or
    // mapped.
    assert!(run.value("ram.whole.slope") >= 0.9);
    assert!(run.value("ram.seek.slope").abs() < 0.1);
    assert!(run.value("ram.map.slope").abs() < 0.1);
    // [1.waste] The slice is 10 MiB of a 64 MiB file: mapping it and touching it maps
    // about those pages, far below the file; fs::read takes the whole file.
    let slice = run.value("waste.slice");
    assert_eq!(slice, 10.0 * MIB);
    let map = run.value("waste.map.peak_growth");
    assert!(map >= 0.9 * slice && map < 32.0 * MIB, "map grew by {map}");
    assert!(run.value("waste.whole.peak_growth") >= 0.9 * size);
    // [1.random] A fresh map faults pages in; once they are mapped it does not.
    assert!(run.value("random.fresh_faults") > 0.0);
    assert!(10.0 * run.value("random.map_faults") <= run.value("random.fresh_faults"));
}

#[test]
fn cold_runs_read_the_disk_the_way_each_path_asks() {
    let run = run_json(BIN, "64M", &["--cold"]);
    run.assert_section_claims(1);
    let slice = run.value("waste.slice");
    // fs::read pulls the whole file into the page cache; touching the mapped slice pulls
    // in the slice plus readahead, far less than the file.
    assert!(run.value("waste.whole.cache_intake") >= 0.9 * 64.0 * MIB);
    let map = run.value("waste.map.cache_intake");
    assert!(map >= 0.9 * slice && map < 48.0 * MIB, "map took in {map}");
    // A cold fault reads around the page it needs; a pread reads what it asked for.
    assert!(run.value("random.fresh_intake") > run.value("random.pread_intake"));
}

#[test]
fn a_sparse_file_beyond_the_ram_skips_the_whole_read_and_says_so() {
    let ram = mmap_lab::measure::system_memory()
        .expect("Linux reports RAM")
        .total;
    let size = format!("{}G", (2 * ram).div_ceil(1 << 30));
    let run = run_json(BIN, &size, &[]);
    run.assert_section_claims(1);
    let p = &run.report.params;
    assert_eq!(p["sparse"], true);
    assert_eq!(p["read_whole_full"], false);
    assert_eq!(p["read_whole_quarter"], false);
    let skipped = run
        .report
        .notes
        .iter()
        .filter(|n| n.contains("fs::read") && n.contains("skipped"))
        .count();
    assert_eq!(skipped, 2, "{:#?}", run.report.notes);
    assert!(run.report.value("waste.whole.peak_growth").is_none());
    assert!(run.report.value("ram.whole.quarter").is_none());
    assert_eq!(verdict(&run, "1.whole"), Verdict::NotMeasured);
    // The map still touches its 10 MiB and no more.
    assert!(run.value("waste.map.peak_growth") < 32.0 * MIB);
}

#[test]
fn a_small_read_budget_skips_the_whole_read_yet_judges_the_map() {
    let run = run_json(BIN, "8M", &["--read-budget", "1M"]);
    run.assert_section_claims(1);
    let p = &run.report.params;
    assert_eq!(p["read_budget_bytes"], 1 << 20);
    assert_eq!(p["read_whole_quarter"], false);
    assert_eq!(p["read_whole_full"], false);
    let claim = |id: &str| run.report.claims.iter().find(|c| c.id == id).unwrap();
    assert_eq!(claim("1.whole").verdict, Verdict::NotMeasured);
    // The limit was the flag, so the remedy names a bigger one (the quarter file: 2 MiB).
    assert!(claim("1.whole").why.contains("--read-budget 2M or more"));
    // [1.ram] blames the read budget, not the RAM, for the skipped reads.
    assert!(
        claim("1.ram").why.contains("--read-budget"),
        "{}",
        claim("1.ram").why
    );
    // [1.waste] The slice is a quarter of the file here; touching it through the map grows
    // RSS by about the slice, well under the file that fs::read would have taken.
    let slice = run.value("waste.slice");
    assert_eq!(slice, 2.0 * MIB);
    let map = run.value("waste.map.peak_growth");
    assert!(map >= 0.9 * slice && map <= 4.0 * MIB, "map grew by {map}");
    assert!(run.value("waste.file") >= 2.0 * map);
    assert_ne!(verdict(&run, "1.waste"), Verdict::Fails);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert!(assert_bad_input(BIN, &["--size", "2T"]).contains("1 TiB"));
    assert!(assert_bad_input(BIN, &["--size", "3M"]).contains("at least 4 MiB"));
    assert!(assert_bad_input(BIN, &["--read-budget", "0"]).contains("--read-budget"));
}

#[test]
fn survives_odd_environments_and_tmpfs() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "8M");
    // Nothing here needs a cold file unless --cold is given: every claim is measured.
    if let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "8M") {
        assert!(
            report
                .claims
                .iter()
                .all(|c| c.verdict != Verdict::NotMeasured)
        );
    }
}
