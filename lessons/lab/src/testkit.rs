//! Helpers for the lessons' integration tests (feature `testkit`): run a lesson binary the
//! way a reader would, parse its JSON report and check it against the notes.
//!
//! ```ignore
//! let run = mmap_lab::testkit::run_json(env!("CARGO_BIN_EXE_lesson-02"), "8M", &[]);
//! run.assert_section_claims(2);
//! mmap_lab::testkit::assert_rejects_bad_input(env!("CARGO_BIN_EXE_lesson-02"));
//! ```

use std::path::Path;
use std::process::{Command, Output, Stdio};

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
    // A newline in a path stays inside the one error line.
    let odd = format!("{d}/no\nsuch");
    assert!(assert_bad_input(bin, &["--dir", &odd]).contains("no\\u{a}such"));
    // Another machine's report is read only when it is a small regular file.
    assert!(assert_bad_input(bin, &["--dir", d, "--reference", "/dev/zero"]).contains("regular"));
    let fifo = format!("{d}/fifo");
    let c = std::ffi::CString::new(fifo.as_str()).expect("no NUL in the path");
    // SAFETY: mkfifo reads the NUL-terminated path, which outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert_bad_input(bin, &["--dir", d, "--reference", &fifo]);
    std::fs::remove_file(&fifo).expect("remove the fifo");
    assert_eq!(listing(dir.path()), before, "bad input left files behind");
}

/// A lesson in an unlucky environment still ends with its exit code, never a panic
/// (101): stderr on a full device, stdout on a full device, a reference report whose text
/// tries to drive the terminal, a binary copied out of the workspace (its files go to the
/// user's cache directory, and the report says so). `size` is a small sample size.
pub fn assert_survives_odd_environments(bin: &str, size: &str) {
    let full = || {
        Stdio::from(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        )
    };
    let dir = data_dir();
    let d = dir.path().to_str().expect("utf-8 temp path");

    let out = Command::new(bin)
        .args(["--size", "0"])
        .stderr(full())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "bad input with stderr full");

    let args = ["--size", size, "--runs", "1", "--dir", d];
    let out = Command::new(bin)
        .args(args)
        .stdout(full())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stdout full: {stderr}");
    assert!(stderr.contains("write the report"), "{stderr}");

    // A reference report with a terminal escape in it prints the escape harmlessly.
    let run = run_json(bin, size, &[]);
    let mut tampered = run.report.clone();
    tampered.title = "\u{1b}[2J\u{1b}]0;pwned\u{7}".into();
    if let Some(c) = tampered.claims.first_mut() {
        c.why = "\u{1b}[31mred".into();
    }
    let reference = format!("{d}/reference.json");
    std::fs::write(&reference, tampered.to_json()).expect("write the reference");
    let out = Command::new(bin)
        .args(args)
        .args(["--reference", &reference])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.contains(&0x1b),
        "a raw escape reached the terminal"
    );

    // Copied out of the workspace, the binary keeps its data in the user's cache.
    let away = tempfile::tempdir().expect("a directory outside the workspace");
    let copy = away.path().join("lesson");
    std::fs::copy(bin, &copy).expect("copy the lesson binary");
    let cache = away.path().join("cache");
    let out = Command::new(&copy)
        .args(["--format", "json", "--size", size, "--runs", "1"])
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .expect("run the copy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).expect("a report");
    let data = cache.join("mmap-lessons").join("lesson-data");
    assert!(
        listing(&data).iter().any(|f| f.ends_with(".mmap-lab")),
        "{:?}",
        listing(&data)
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("not inside a cargo workspace")),
        "{:?}",
        report.notes
    );
    assert!(
        listing(away.path())
            .iter()
            .all(|f| f == "lesson" || f == "cache")
    );
}

/// Runs the lesson with its data directory on a fresh tmpfs, where nothing can be made
/// cold: it must still finish (exit 0), the claims that need a cold file being NOT
/// MEASURED. Mounting needs root; elsewhere it says so and returns `None`.
pub fn run_on_tmpfs(bin: &str, size: &str) -> Option<Report> {
    let dir = data_dir();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1g", "mmap-lab-test"])
        .arg(dir.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("cannot mount a tmpfs here (not root?) — tmpfs test skipped");
        return None;
    }
    let out = Command::new(bin)
        .args(["--format", "json", "--size", size, "--runs", "1", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run the lesson");
    let _ = Command::new("umount").arg(dir.path()).status();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "on tmpfs: {stderr}");
    let report: Report = serde_json::from_slice(&out.stdout).expect("a report");
    assert!(
        report.notes.iter().any(|n| n.contains("tmpfs")),
        "no tmpfs note: {:?}",
        report.notes
    );
    Some(report)
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
