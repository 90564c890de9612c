//! Lesson 4 as a reader runs it: a JSON report with both claims of section 4, and the
//! mechanisms behind the verdicts. The Python side is checked only where `python3` is on
//! PATH; the report must say so when it is not (checked by hiding it).

use std::process::Command;

use mmap_lab::machine::find_program;
use mmap_lab::testkit::{Run, assert_bad_input, assert_rejects_bad_input, data_dir, run_json};
use mmap_lab::{Report, Verdict};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-04");
const SKIPPED: &str = "python3 not installed — skipped";

fn verdict(report: &Report, id: &str) -> Verdict {
    report.claims.iter().find(|c| c.id == id).unwrap().verdict
}

/// The mechanisms that do not depend on Python.
fn assert_rust_mechanisms(run: &Run) {
    let size = run.value("zero.file");
    // The whole file is mapped, and the search reached `magic` 7/8 of the way in.
    assert_eq!(run.value("zero.rust_map_len"), size);
    assert_eq!(run.value("zero.rust_found"), run.value("zero.magic_at"));
    assert!(run.value("zero.magic_at") > size / 2.0);
    // An empty file maps to 0 bytes; an explicit len(0) maps nothing.
    assert_eq!(run.value("zero.rust_empty_len"), 0.0);
    assert_eq!(run.value("zero.rust_len0"), 0.0);
    // A Rust slice is a view. Making it on the evicted map read none of its pages; reading
    // through it brought them in as the map's file-backed pages, not as an anonymous copy.
    // A copy (to_vec) is anonymous memory of the slice's length.
    let len = run.value("slice.len");
    assert!(run.value("slice.resident_before") < 0.1);
    assert!(run.value("slice.resident_after") > 0.9);
    let file = run.value("slice.rss_file");
    let anon = run.value("slice.rss_anon");
    assert!(
        file >= 0.9 * len,
        "reading through the view mapped {file} bytes of the file"
    );
    assert!(
        anon < len / 16.0,
        "reading through the view added {anon} anonymous bytes"
    );
    let copy = run.value("slice.to_vec_rss");
    assert!(
        (0.9 * len..=1.1 * len).contains(&copy),
        "to_vec of {len} bytes added {copy} of RSS"
    );
    // Reading the evicted slice read it from disk; reading it warm did not.
    assert!(run.value("slice.cold_faults") > 0.0);
    let cold = run.value("slice.cold_disk");
    let warm = run.value("slice.warm_disk");
    assert!(cold >= len / 2.0, "cold read read {cold} bytes from disk");
    assert!(warm < len / 8.0, "warm read read {warm} bytes from disk");
}

#[test]
fn reports_both_claims_of_section_4() {
    let run = run_json(BIN, "4M", &[]);
    run.assert_section_claims(4);
    assert_rust_mechanisms(&run);
    let notes = run.report.notes.join("\n");
    if find_program("python3").is_none() {
        assert!(notes.contains(SKIPPED), "{notes}");
        return;
    }
    assert!(!notes.contains(SKIPPED), "{notes}");
    assert!(
        !run.report.params.contains_key("python3"),
        "the interpreter path is recorded"
    );
    // The notes' snippet found the same bytes and the same offset as Rust.
    assert_eq!(run.value("zero.py_first_same"), 1.0);
    assert_eq!(run.value("zero.py_found"), run.value("zero.rust_found"));
    assert_eq!(run.value("zero.py_map_len"), run.value("zero.file"));
    assert_eq!(run.value("zero.py_file_len"), run.value("zero.file"));
    // Python refuses an empty file, so `0` is not quite "the whole file".
    assert_eq!(run.value("zero.py_empty_raised"), 1.0);
    assert_eq!(verdict(&run.report, "4.zero"), Verdict::Depends);
    // mm[a:b] is a new bytes object holding a copy; a memoryview slice allocates ~nothing.
    let len = run.value("slice.len");
    assert_eq!(run.value("slice.py_is_bytes"), 1.0);
    assert!(run.value("slice.py_alloc") >= len);
    assert!(run.value("slice.py_view_alloc") < len / 100.0);
    // Copying the cold slice read it from disk.
    assert!(run.value("slice.py_resident_before") < 0.1);
    assert!(run.value("slice.py_resident_after") > 0.9);
    // So the notes' slicing is a copy, not a view: the claim fails.
    assert_eq!(verdict(&run.report, "4.slice"), Verdict::Fails);
}

#[test]
fn without_python3_on_path_the_report_says_so_and_judges_nothing_from_rust_alone() {
    let dir = data_dir();
    let empty_path = data_dir();
    let out = Command::new(BIN)
        .args(["--format", "json", "--size", "2M", "--runs", "1", "--dir"])
        .arg(dir.path())
        .env("PATH", empty_path.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let report: Report = serde_json::from_str(&stdout).unwrap();
    let run = Run {
        report,
        stderr,
        dir,
    };
    run.assert_section_claims(4);
    assert!(run.report.notes.iter().any(|n| n.contains(SKIPPED)));
    assert!(run.report.value("zero.py_found").is_none());
    assert_rust_mechanisms(&run);
    for id in ["4.zero", "4.slice"] {
        assert_eq!(verdict(&run.report, id), Verdict::NotMeasured, "[{id}]");
    }
}

#[test]
fn a_sample_another_process_keeps_mapped_leaves_only_the_slice_unmeasured() {
    let run = run_json(BIN, "2M", &[]);
    let sample = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin") && p.metadata().unwrap().len() > 0)
        .expect("the lesson made its sample");
    let file = std::fs::File::open(&sample).unwrap();
    // SAFETY: the test's own copy of the lesson's sample; nothing truncates it meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let sum: u64 = map.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    let again = mmap_lab::testkit::run_json_in(BIN, "2M", &[], run.dir.path());
    let slice = again.claims.iter().find(|c| c.id == "4.slice").unwrap();
    assert_eq!(slice.verdict, Verdict::NotMeasured);
    assert!(
        slice.why.contains("another process has it mapped"),
        "{}",
        slice.why
    );
    assert_eq!(verdict(&again, "4.zero"), verdict(&run.report, "4.zero"));
    std::hint::black_box(sum);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert_bad_input(BIN, &["--size", "64K"]);
}

#[test]
fn survives_odd_environments_and_tmpfs() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "4M");
    // Only the slice needs a cold file.
    if let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "4M") {
        let slice = report.claims.iter().find(|c| c.id == "4.slice").unwrap();
        assert_eq!(slice.verdict, Verdict::NotMeasured, "{}", slice.why);
    }
}
