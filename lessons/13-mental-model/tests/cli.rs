//! Lesson 13 as a reader runs it: every claim of section 13 judged, and the mechanisms behind
//! the verdicts — one set of bytes both ways, the disk reading the whole file for either path,
//! readahead, pages kept after munmap, dirty pages the kernel (not the lesson) writes back.

use mmap_lab::Verdict;
use mmap_lab::testkit::{
    assert_bad_input, assert_rejects_bad_input, assert_survives_odd_environments, data_dir,
    run_json, run_on_tmpfs,
};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-13");
const MIB: f64 = 1048576.0;

#[test]
fn reports_every_claim_of_section_13_and_the_mechanisms_behind_them() {
    let run = run_json(BIN, "32M", &[]);
    run.assert_section_claims(13);
    let v = |name: &str| run.value(name);
    // [13.model] the map holds read()'s bytes, and read() sees a store into a shared map.
    for flag in ["same_bytes", "same_checksum", "store_seen"] {
        assert_eq!(v(&format!("model.{flag}")), 1.0, "{flag}");
    }
    assert_eq!(v("model.compared"), 32.0 * MIB);
    // [13.no-copy] cold, the disk delivers the whole file to the page cache either way (the
    // data directory is on the workspace's disk, and the file was made cold first).
    for way in ["read", "map"] {
        let disk = v(&format!("no-copy.cold_{way}_disk"));
        assert!(
            (0.9 * 32.0 * MIB..=1.1 * 32.0 * MIB).contains(&disk),
            "{way}: {disk}"
        );
    }
    // What the map adds: faults that each map at least one page, and page tables.
    let (faults, pages) = (v("no-copy.map_faults"), v("no-copy.pages"));
    assert!(
        (1.0..=pages).contains(&faults),
        "{faults} faults for {pages} pages"
    );
    assert!(v("no-copy.page_tables") > 0.0);
    // [13.os] readahead brought in more than the touched pages; the file stayed cached after
    // munmap; the dirty pages were written back by the kernel or reported still dirty.
    assert!(v("os.resident") > v("os.touched"));
    assert!(v("os.kept") >= 0.9);
    let (dirtied, left) = (v("os.dirtied"), v("os.dirty_left"));
    assert_eq!(dirtied, 1024.0, "a 4 MiB scratch file, one store per page");
    let os = run.report.claims.iter().find(|c| c.id == "13.os").unwrap();
    assert!(
        left < dirtied || os.why.contains("not due"),
        "{left} of {dirtied} left: {}",
        os.why
    );
    // The scratch file went with the run; the sample stays for the next one.
    let names: Vec<String> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("dirty-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("sample-")), "{names:?}");
}

#[test]
fn beyond_cache_warns_before_it_starts_and_judges_a_file_that_fits_as_fitting() {
    let run = run_json(BIN, "16M", &["--beyond-cache", "--beyond-size", "32M"]);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("--beyond-cache: writing a 32 MiB scratch file"))
        .unwrap_or_else(|| panic!("no warning: {}", run.stderr));
    assert!(warning.contains("min at the"), "{warning}");
    assert_eq!(run.value("speed.beyond.size"), 32.0 * MIB);
    let speed = run
        .report
        .claims
        .iter()
        .find(|c| c.id == "13.speed")
        .unwrap();
    // The page cache's speed-up decides the verdict (a loaded machine may blur it at 16 MiB);
    // a file that fits forced nothing out, and the report says so.
    if speed.verdict != Verdict::Fails {
        assert!(speed.why.contains("fit in"), "{}", speed.why);
    }
    assert!(
        speed
            .details
            .iter()
            .any(|d| d.contains("--beyond-cache: 32 MiB file")),
        "{:?}",
        speed.details
    );
    assert!(run.report.value("os.beyond_evicted").is_some());
}

#[test]
fn rejects_bad_input_and_survives_odd_environments() {
    assert_rejects_bad_input(BIN);
    assert_bad_input(BIN, &["--size", "8M"]);
    assert!(assert_bad_input(BIN, &["--size", "64T"]).contains("in-RAM ceiling"));
    assert_bad_input(BIN, &["--writeback-wait", "601"]);
    assert_bad_input(BIN, &["--writeback-wait=-1"]);
    assert_bad_input(BIN, &["--beyond-size", "4K"]);
    // A --beyond-cache file the disk cannot take is refused before anything is written.
    let dir = data_dir();
    let d = dir.path().to_str().unwrap();
    let err = assert_bad_input(BIN, &["--dir", d, "--beyond-size", "100T"]);
    assert!(err.contains("lesson-13: error:"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert_survives_odd_environments(BIN, "16M");
}

#[test]
fn on_tmpfs_only_the_model_is_measured() {
    let Some(report) = run_on_tmpfs(BIN, "16M") else {
        return;
    };
    for c in &report.claims {
        let want = if c.id == "13.model" {
            Verdict::Holds
        } else {
            Verdict::NotMeasured
        };
        assert_eq!(c.verdict, want, "[{}] {}", c.id, c.why);
    }
}
