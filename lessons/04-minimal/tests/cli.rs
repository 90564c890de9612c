//! Lesson 4 as a reader runs it: a JSON report with both claims of section 4, and the
//! mechanisms behind the verdicts. The Python side is checked only where `python3` is on
//! PATH; the report must say so when it is not (checked by hiding it).

use std::process::Command;

use mmap_lab::machine::find_program;
use mmap_lab::testkit::{Run, assert_bad_input, assert_rejects_bad_input, data_dir, run_json};
use mmap_lab::{Report, Verdict};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-04");
const SKIPPED: &str = "python3 not found — skipped";

fn verdict(run: &Run, id: &str) -> Verdict {
    let c = run.report.claims.iter().find(|c| c.id == id).unwrap();
    c.verdict
}

/// The mechanisms that do not depend on Python.
fn assert_rust_mechanisms(run: &Run) {
    let size = run.value("file.size");
    // The whole file is mapped, and the search reached `magic` 7/8 of the way in.
    assert_eq!(run.value("rust.map_len"), size);
    assert_eq!(run.value("rust.find_offset"), run.value("magic.offset"));
    assert!(run.value("magic.offset") > size / 2.0);
    // An empty file maps to 0 bytes; an explicit len(0) maps nothing.
    assert_eq!(run.value("empty.rust_mapped"), 1.0);
    assert_eq!(run.value("empty.rust_map_len"), 0.0);
    assert_eq!(run.value("len0.rust_map_len"), 0.0);
    // A Rust slice is a view. Making it on the evicted map read none of its pages; reading
    // through it brought them in as the map's file-backed pages, not as an anonymous copy.
    // A copy (to_vec) is anonymous memory of the slice's length.
    let len = run.value("slice.len");
    assert!(run.value("rust.cold_read.resident_before") < 0.1);
    assert!(run.value("rust.cold_read.resident_after") > 0.9);
    let file = run.value("rust.cold_read.rss_file_growth");
    let anon = run.value("rust.cold_read.rss_anon_growth");
    assert!(
        file >= 0.9 * len,
        "reading through the view mapped {file} bytes of the file"
    );
    assert!(
        anon < len / 16.0,
        "reading through the view added {anon} anonymous bytes"
    );
    let copy = run.value("rust.to_vec.rss_growth");
    assert!(
        (0.9 * len..=1.1 * len).contains(&copy),
        "to_vec of {len} bytes added {copy} of RSS"
    );
    // Reading the evicted slice read it from disk; reading it warm did not.
    assert!(run.value("rust.cold_read.faults") > 0.0);
    let cold = run.value("rust.cold_read.disk_bytes");
    let warm = run.value("rust.warm_read.disk_bytes");
    assert!(cold >= len / 2.0, "cold read read {cold} bytes from disk");
    assert!(warm < len / 8.0, "warm read read {warm} bytes from disk");
    assert_eq!(verdict(run, "4.slice"), Verdict::Depends);
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
    // The notes' snippet found the same bytes and the same offset as Rust.
    assert_eq!(run.value("python.first100_same"), 1.0);
    assert_eq!(
        run.value("python.find_offset"),
        run.value("rust.find_offset")
    );
    assert_eq!(run.value("python.map_len"), run.value("file.size"));
    assert_eq!(run.value("python.file_len"), run.value("file.size"));
    // Python refuses an empty file, so `0` is not quite "the whole file".
    assert_eq!(run.value("empty.python_raised"), 1.0);
    assert_eq!(verdict(&run, "4.zero"), Verdict::Depends);
    // mm[a:b] is a new bytes object holding a copy; a memoryview slice allocates ~nothing.
    let len = run.value("slice.len");
    assert_eq!(run.value("python.slice.is_bytes"), 1.0);
    assert!(run.value("python.slice.alloc") >= len);
    assert!(run.value("python.view.alloc") < len / 100.0);
    // Copying the cold slice read it from disk.
    assert!(run.value("python.slice.resident_before") < 0.1);
    assert!(run.value("python.slice.resident_after") > 0.9);
}

#[test]
fn without_python3_on_path_the_report_says_so() {
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
    assert!(run.report.value("python.find_offset").is_none());
    assert_rust_mechanisms(&run);
    assert_eq!(verdict(&run, "4.zero"), Verdict::Holds);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert_bad_input(BIN, &["--size", "64K"]);
}
