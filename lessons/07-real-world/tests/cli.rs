//! Lesson 7 as a reader runs it: a JSON report with the claim of section 7, and the
//! mechanisms behind its verdict — every way counts the same lines, ripgrep chooses a map
//! for one file and not for many, SQLite ships with mmap off, and a file the lesson did not
//! make is never written.

use std::path::{Path, PathBuf};

use mmap_lab::Verdict;
use mmap_lab::machine::find_program;
use mmap_lab::testkit::{assert_bad_input, assert_rejects_bad_input, run_json, run_json_in};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-07");

/// The data file whose name starts with `prefix`.
fn data_file(dir: &Path, prefix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(".bin")
        })
        .unwrap_or_else(|| panic!("no {prefix}* in {}", dir.display()))
}

/// Lines of `text` containing `literal`, counted the plain way.
fn lines_with(text: &[u8], literal: &str) -> u64 {
    let lit = literal.as_bytes();
    text.split(|&b| b == b'\n')
        .filter(|l| l.windows(lit.len()).any(|w| w == lit))
        .count() as u64
}

#[test]
fn reports_the_claim_of_section_7_with_every_way_agreeing() {
    let run = run_json(BIN, "8M", &[]);
    run.assert_section_claims(7);
    let claim = &run.report.claims[0];
    assert!(
        matches!(
            claim.verdict,
            Verdict::Holds | Verdict::Depends | Verdict::Fails
        ),
        "{:?}: {}",
        claim.verdict,
        claim.why
    );
    // The log analyzer's count is the plain count of the log's lines with the literal.
    let log = std::fs::read(data_file(run.dir.path(), "access-log-")).unwrap();
    assert_eq!(
        run.value("users.matches"),
        lines_with(&log, "ERROR svc-07") as f64
    );
    assert!(run.value("users.matches") > 0.0);
    // Every way, every peer and every run counted, found and looked up the same.
    for flag in ["counts_agree", "index_agree", "sqlite_agree"] {
        assert_eq!(run.value(&format!("users.{flag}")), 1.0, "{flag}");
    }
    // SQLite ships with memory-mapped I/O off, and maps the whole file when asked.
    assert_eq!(run.value("users.sqlite_default"), 0.0);
    assert!(run.value("users.sqlite_mmap") >= run.value("users.db"));
    // 8 MiB of --size: one small file per 64 KiB.
    assert_eq!(run.value("users.files"), 128.0);
    if find_program("rg").is_some() {
        // ripgrep's own rule: a map for one explicit file, read() for many.
        assert_eq!(run.value("users.rg_maps_one"), 1.0);
        assert_eq!(run.value("users.rg_maps_many"), 0.0);
        run.value("users.rg_files_mmap");
    } else {
        assert!(
            run.report
                .notes
                .iter()
                .any(|n| n.contains("rg not installed"))
        );
        assert!(run.report.value("users.rg").is_none());
    }
}

#[test]
fn a_literal_on_many_lines_is_counted_alike_by_every_way() {
    let run = run_json(BIN, "4M", &["--literal", " 500 ", "--files", "11"]);
    let log = std::fs::read(data_file(run.dir.path(), "access-log-")).unwrap();
    let want = lines_with(&log, " 500 ");
    assert!(want > 1000, "{want}");
    assert_eq!(run.value("users.matches"), want as f64);
    assert_eq!(run.value("users.counts_agree"), 1.0);
    if find_program("rg").is_some() && find_program("grep").is_some() {
        for peer in ["rg", "rg_no_mmap", "grep"] {
            run.value(&format!("users.{peer}"));
        }
    }
}

#[test]
fn a_database_the_lesson_did_not_make_is_never_written() {
    let run = run_json(BIN, "4M", &["--files", "11"]);
    let dir = run.dir.path();
    for prefix in ["sqlite-1048576-", "index-", "access-log-"] {
        let ours = data_file(dir, prefix);
        let sidecar = PathBuf::from(format!("{}.mmap-lab", ours.display()));
        std::fs::remove_file(&sidecar).unwrap();
        let before = std::fs::read(&ours).unwrap();
        let err = assert_bad_input(
            BIN,
            &[
                "--size",
                "4M",
                "--files",
                "11",
                "--dir",
                dir.to_str().unwrap(),
            ],
        );
        assert!(err.contains("not made by mmap-lab"), "{err}");
        assert_eq!(
            std::fs::read(&ours).unwrap(),
            before,
            "{prefix} was written"
        );
        std::fs::remove_file(&ours).unwrap();
    }
    // The run's scratch database for the updates is gone; a new run makes everything again.
    assert!(std::fs::read_dir(dir).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("sqlite-writes")
    }));
    let again = run_json_in(BIN, "4M", &["--files", "11"], dir);
    assert_eq!(again.claims.len(), 1);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    assert_bad_input(BIN, &["--size", "1M"]);
    assert_bad_input(BIN, &["--literal", ""]);
    assert_bad_input(BIN, &["--literal", "two\nlines"]);
    assert_bad_input(BIN, &["--files", "10"]);
    assert_bad_input(BIN, &["--files", "20001"]);
    assert_bad_input(BIN, &["--files", "many"]);
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "4M");
}

#[test]
fn on_tmpfs_the_runs_from_disk_are_skipped_and_the_claim_still_judged() {
    let Some(report) = mmap_lab::testkit::run_on_tmpfs(BIN, "4M") else {
        return;
    };
    assert_ne!(report.claims[0].verdict, Verdict::NotMeasured);
    assert!(report.value("users.cold_query_on").is_none());
    assert!(report.value("users.cold_index_map").is_none());
    assert!(report.value("users.query_on").is_some());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("runs from disk skipped")),
        "{:?}",
        report.notes
    );
}
