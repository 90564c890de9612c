//! `bench-results` end to end: export from a criterion directory, compare two files, and
//! the one-line errors.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput};
use mmap_benches::{Mode, benchmark_ids};
use mmap_lab::bench::{BenchResult, BenchResults};
use mmap_lab::machine::Machine;

fn bench_results(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bench-results"))
        .args(args)
        .output()
        .expect("run bench-results")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Criterion output for `ids`, each a trivial benchmark measured very briefly.
fn fake_run(dir: &Path, ids: &[String]) {
    let mut c = Criterion::default()
        .output_directory(dir)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(5))
        .measurement_time(Duration::from_millis(20))
        .nresamples(100)
        .without_plots();
    for id in ids {
        let [group, function, param]: [&str; 3] = id
            .split('/')
            .collect::<Vec<_>>()
            .try_into()
            .expect("group/function/param");
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::Bytes(param.parse().expect("a size")));
        g.bench_function(BenchmarkId::new(function, param), |b| {
            b.iter(|| black_box(1u64) + 1)
        });
        g.finish();
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn export_keeps_exactly_the_suite_of_its_run_and_compare_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let criterion = tmp.path().join("criterion");
    let quick = benchmark_ids(Mode::Quick);
    // A result only the full suite makes, as an earlier full run would leave behind.
    let stale = "seq_scan/mmap/16777216".to_string();
    assert!(!quick.contains(&stale));
    // The run skips one benchmark (as seq_scan does when memory is short) and says so.
    let skipped = "seq_scan/fs_read/268435456".to_string();
    assert!(quick.contains(&skipped));
    let since = unix_now();
    let mut ids: Vec<String> = quick.iter().filter(|id| **id != skipped).cloned().collect();
    ids.push(stale.clone());
    fake_run(&criterion, &ids);
    mmap_lab::bench::mark_skipped(&criterion, &skipped, "too little memory").unwrap();

    let out = tmp.path().join("mine.json");
    let since_text = since.to_string();
    let args = [
        "export",
        "--mode",
        "quick",
        "--since",
        &since_text,
        "--criterion",
        criterion.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let run = bench_results(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("skipped on this machine: {skipped}")),
        "{stdout}"
    );
    let results = BenchResults::load(&out).unwrap();
    assert_eq!(results.mode, "quick");
    let exported: Vec<&String> = results.benchmarks.iter().map(|b| &b.id).collect();
    let expected: Vec<&String> = quick.iter().filter(|id| **id != skipped).collect();
    assert_eq!(exported, expected, "the quick suite, in suite order");
    assert_eq!(results.skipped.len(), 1);
    assert_eq!(results.skipped[0].id, skipped);

    // The full suite is incomplete in that directory: say so, exit 1.
    let mut full_args = args;
    full_args[2] = "full";
    let run = bench_results(&full_args);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("just bench"), "{err}");

    // A run that started after these results were written: they are an earlier run's.
    let later = (unix_now() + 1).to_string();
    let mut later_args = args;
    later_args[4] = &later;
    let run = bench_results(&later_args);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("only results older than this run"), "{err}");
    assert!(err.contains("just bench quick"), "{err}");

    // Compare the export with itself: every ratio is 1, every format works.
    let file = out.to_str().unwrap();
    for format in ["text", "markdown", "json"] {
        let run = bench_results(&[
            "compare",
            "--reference",
            file,
            "--mine",
            file,
            "--format",
            format,
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        let text = String::from_utf8(run.stdout).unwrap();
        assert!(text.contains("seq_scan/mmap"), "{text}");
        if format == "text" {
            assert!(text.contains("about as fast as the reference"), "{text}");
        }
    }
}

#[test]
fn export_without_results_says_how_to_make_them() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("criterion");
    let out = tmp.path().join("out.json");
    let run = bench_results(&[
        "export",
        "--since",
        "0",
        "--criterion",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("just bench"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_start_time_beyond_the_clock_finds_no_result_instead_of_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = vec!["seq_scan/fs_read/4096".to_string()];
    fake_run(tmp.path(), &ids);
    let out = tmp.path().join("out.json");
    let run = bench_results(&[
        "export",
        "--since",
        &u64::MAX.to_string(),
        "--criterion",
        tmp.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("garbage.json");
    std::fs::write(&garbage, "{ not json").unwrap();
    let missing = tmp.path().join("missing.json");
    let valid = tmp.path().join("valid.json");
    BenchResults {
        machine: Machine::detect(tmp.path()),
        mode: "quick".into(),
        created_unix: 0,
        benchmarks: Vec::new(),
        skipped: Vec::new(),
    }
    .save(&valid)
    .unwrap();
    // A reference whose median is not a time would print "inf× slower": refused at load.
    let zero = tmp.path().join("zero.json");
    let mut results = BenchResults::load(&valid).unwrap();
    results.benchmarks.push(BenchResult {
        id: "g/f/1".into(),
        group: "g".into(),
        function: "f".into(),
        parameter: Some("1".into()),
        median_ns: 0.0,
        lower_ns: 0.0,
        upper_ns: 0.0,
        throughput_bytes: None,
    });
    results.save(&zero).unwrap();
    let (garbage, missing, valid, zero) = (
        garbage.to_str().unwrap(),
        missing.to_str().unwrap(),
        valid.to_str().unwrap(),
        zero.to_str().unwrap(),
    );
    for (args, says) in [
        (
            ["compare", "--reference", valid, "--mine", missing],
            "cannot read",
        ),
        (
            ["compare", "--reference", garbage, "--mine", valid],
            "not a bench results file",
        ),
        (
            ["compare", "--reference", zero, "--mine", valid],
            "g/f/1 has a median of 0 ns",
        ),
    ] {
        let run = bench_results(&args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        let err = stderr(&run);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("bench-results: error: "), "{err}");
        assert!(err.contains(says), "{err}");
    }
    for args in [
        vec!["compare", "--format", "pdf"],
        vec!["export", "--since", "0", "--mode", "slow"],
        vec!["export", "--mode", "quick"],
        vec!["export", "--since", "yesterday"],
        vec!["frobnicate"],
    ] {
        let run = bench_results(&args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(stderr(&run).starts_with("error: "), "{args:?}");
    }
}
