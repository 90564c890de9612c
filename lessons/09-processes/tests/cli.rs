//! Lesson 9 as a reader runs it: a JSON report with every claim of section 9, and the
//! mechanisms behind the verdicts — shared pages, private copies, messages delivered once —
//! never timings.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mmap_lab::Verdict;
use mmap_lab::testkit::{Run, assert_bad_input, assert_rejects_bad_input, run_json};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-09");
const SIZE: f64 = (16 << 20) as f64;

fn verdict(run: &Run, id: &str) -> Verdict {
    let claim = run.report.claims.iter().find(|c| c.id == id);
    claim
        .map(|c| c.verdict)
        .unwrap_or_else(|| panic!("no verdict on [{id}]"))
}

#[test]
fn reports_every_claim_of_section_9() {
    let run = run_json(BIN, "16M", &[]);
    run.assert_section_claims(9);

    // [9.shared] Five workers each have the whole file resident, and their Pss — every
    // page divided among the processes mapping it — adds up to one copy: well below half
    // their summed Rss.
    let (rss, pss) = (run.value("shared.rss_sum"), run.value("shared.pss_sum"));
    assert!(pss < rss / 2.0, "Pss {pss} against Rss {rss}");
    assert!(rss >= 5.0 * SIZE, "{rss}");
    assert!(run.value("shared.least_resident") > 0.9);
    assert!(run.value("shared.copies") < 1.5);
    assert_eq!(verdict(&run, "9.shared"), Verdict::Holds);

    // [9.saves-ram] fs::read makes a private copy per worker; a read() loop holds a
    // buffer each, not the file.
    assert!(run.value("saves-ram.read_copies") > 4.5);
    assert!(run.value("saves-ram.map_copies") < 1.5);
    assert!(run.value("saves-ram.stream_copies") < 0.5);
    assert_eq!(verdict(&run, "9.saves-ram"), Verdict::Holds);
    assert_eq!(run.value("run.same_checksums"), 1.0);

    // [9.ipc] With atomics the ring delivers every message exactly once, in order, whole.
    assert_eq!(run.value("ipc.exactly_once"), 1.0);
    assert_eq!(run.value("ipc.messages"), 50_000.0);

    // The notes' Python, when installed, shares the map and copies with f.read().
    if run.report.value("shared.python_copies").is_some() {
        assert!(run.value("shared.python_copies") < 1.5);
        assert!(run.value("saves-ram.python_read_copies") > 4.5);
    } else {
        assert!(run.report.notes.iter().any(|n| n.contains("python3")));
    }
    // The ring's scratch file is gone; the sample stays for the next run.
    let names: Vec<String> = std::fs::read_dir(run.dir.path())
        .expect("read the data dir")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("ring-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("sample-")), "{names:?}");
}

#[test]
fn two_workers_share_as_well() {
    let run = run_json(BIN, "16M", &["--workers", "2"]);
    assert!(run.value("saves-ram.read_copies") > 1.8);
    assert!(run.value("shared.copies") < 1.5);
}

#[test]
fn rejects_bad_input() {
    assert_rejects_bad_input(BIN);
    for workers in ["0", "1", "65", "many"] {
        assert_bad_input(BIN, &["--workers", workers]);
    }
    // More workers than the machine can hold: the fs::read copies would not fit in RAM.
    let err = assert_bad_input(BIN, &["--workers", "64", "--size", "100G"]);
    assert!(err.contains("RAM available"), "{err}");
    assert_bad_input(BIN, &["--size", "4M"]);
}

#[test]
fn survives_odd_environments() {
    mmap_lab::testkit::assert_survives_odd_environments(BIN, "16M");
}

/// The children of `pid`, from `/proc/*/stat`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...: the fields after the last ')'.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            rest.split_whitespace().nth(1) == Some(&pid.to_string())
        })
        .collect()
}

fn is_worker(pid: u32) -> bool {
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    env.split(|&b| b == 0)
        .any(|v| v == b"MMAP_LAB_CHILD_ROLE=worker")
}

/// A zombie (ended, never reaped) or still running.
fn left_behind(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .map_or(true, |c| c.is_empty() || c.contains("lesson-09"))
}

#[test]
fn a_worker_that_dies_fails_the_run_and_every_child_is_reaped() {
    // A killed worker may already have exited on its own; then the run succeeds, so try
    // again until a kill lands on a worker that was still holding the file.
    for _attempt in 0..5 {
        let dir = mmap_lab::testkit::data_dir();
        let mut lesson = Command::new(BIN)
            .args(["--format", "json", "--size", "16M", "--runs", "1", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the lesson");
        let (mut seen, mut killed) = (BTreeSet::new(), None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while killed.is_none() && Instant::now() < deadline {
            for kid in children_of(lesson.id()) {
                seen.insert(kid);
                if killed.is_none() && is_worker(kid) {
                    // SAFETY: kill(2) with a pid of a child of the lesson we started.
                    unsafe { libc::kill(kid as i32, libc::SIGKILL) };
                    killed = Some(kid);
                }
            }
            if lesson.try_wait().expect("poll the lesson").is_some() {
                break;
            }
        }
        let out = lesson.wait_with_output().expect("wait for the lesson");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for pid in &seen {
            assert!(!left_behind(*pid), "child {pid} left behind");
        }
        if killed.is_none() || out.status.success() {
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("worker") && stderr.contains("signal 9"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
        return;
    }
    panic!("no kill landed on a worker that was still running");
}
