//! Helpers for the lessons' integration tests (feature `testkit`): run a lesson binary the
//! way a reader would, parse its JSON report and check it against the notes.
//!
//! ```ignore
//! let run = mmap_lab::testkit::run_json(env!("CARGO_BIN_EXE_lesson-02"), "8M", &[]);
//! run.assert_section_claims(2);
//! mmap_lab::testkit::assert_rejects_bad_input(env!("CARGO_BIN_EXE_lesson-02"));
//! ```

use std::path::Path;
use std::process::{Command, Output};

use crate::claims;
use crate::report::Report;

/// A finished lesson run with its own data directory (deleted on drop).
#[derive(Debug)]
pub struct Run {
    pub report: Report,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

/// A fresh data directory on the workspace's disk (not /tmp, which may be tmpfs).
pub fn data_dir() -> tempfile::TempDir {
    let target = crate::data::DataDir::default_path();
    let parent = target.parent().unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix("lesson-test-")
        .tempdir_in(parent)
        .expect("create a test data directory")
}

/// Runs `bin --format json --size SIZE --dir <fresh dir> EXTRA...`; asserts exit 0 and a
/// parseable report.
pub fn run_json(bin: &str, size: &str, extra: &[&str]) -> Run {
    let dir = data_dir();
    let (report, stderr) = run_json_at(bin, size, extra, dir.path());
    Run {
        report,
        stderr,
        dir,
    }
}

/// Like [`run_json`], in an existing data directory (a second run that reuses the first
/// one's files); returns the report.
pub fn run_json_in(bin: &str, size: &str, extra: &[&str], dir: &Path) -> Report {
    run_json_at(bin, size, extra, dir).0
}

fn run_json_at(bin: &str, size: &str, extra: &[&str], dir: &Path) -> (Report, String) {
    let out = Command::new(bin)
        .args(["--format", "json", "--size", size, "--runs", "1", "--dir"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("run the lesson");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {stderr}\nstdout: {stdout}",
        out.status
    );
    let report: Report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not a report ({e}):\n{stdout}\nstderr: {stderr}"));
    (report, stderr)
}

impl Run {
    /// Every claim id of `section` has exactly one verdict with a reason, only those ids
    /// appear, and every piece of evidence names a recorded measurement.
    pub fn assert_section_claims(&self, section: u8) {
        let r = &self.report;
        assert_eq!(r.lesson, section);
        let mut want: Vec<&str> = claims::of_section(section).map(|c| c.id).collect();
        let mut got: Vec<&str> = r.claims.iter().map(|c| c.id.as_str()).collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "claim ids of section {section}");
        for c in &r.claims {
            assert!(!c.why.trim().is_empty(), "[{}] has no reason", c.id);
            for e in &c.evidence {
                assert!(
                    r.value(e).is_some(),
                    "[{}] cites {e}, which was not measured",
                    c.id
                );
            }
        }
    }

    /// The value of a measurement that must be present.
    pub fn value(&self, name: &str) -> f64 {
        self.report
            .value(name)
            .unwrap_or_else(|| panic!("no measurement {name} in {:#?}", self.report.measurements))
    }
}

fn run_raw(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("run the lesson")
}

/// Asserts that `args` make the lesson fail the way bad input should: exit code 2, one line
/// on stderr, no panic, no report.
pub fn assert_bad_input(bin: &str, args: &[&str]) -> String {
    let out = run_raw(bin, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    // clap follows its error line with hints of its own: the possible values of an enum
    // flag, and "For more information, try '--help'."
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            !l.starts_with("For more information") && !l.trim().starts_with("[possible values")
        })
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: want one error line, got: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed a report");
    stderr
}

/// The bad input every lesson must reject: a missing, non-directory or unwritable `--dir`,
/// `--size 0`, an unparseable size, and a size far beyond any free disk. The data
/// directory is left as it was.
pub fn assert_rejects_bad_input(bin: &str) {
    let dir = data_dir();
    let d = dir.path().to_str().expect("utf-8 temp path");
    let missing = format!("{d}/missing");
    let file = format!("{d}/a-file");
    std::fs::write(&file, b"").expect("write a plain file");
    let before = listing(dir.path());

    assert!(assert_bad_input(bin, &["--dir", &missing]).contains("missing"));
    assert!(assert_bad_input(bin, &["--dir", &file]).contains("not a directory"));
    // /proc refuses new files even to root, unlike a chmod-ed directory.
    assert!(assert_bad_input(bin, &["--dir", "/proc"]).contains("not writable"));
    assert_bad_input(bin, &["--dir", d, "--size", "0"]);
    assert_bad_input(bin, &["--dir", d, "--size", "lots"]);
    assert_bad_input(bin, &["--dir", d, "--size", "1000000T"]);
    assert_bad_input(bin, &["--dir", d, "--runs", "0"]);
    assert_eq!(listing(dir.path()), before, "bad input left files behind");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
