//! `bench-results` end to end: export from a criterion directory, compare two files, and
//! the one-line errors.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use mmap_benches::{Mode, benchmark_ids};
use mmap_lab::bench::BenchResults;
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

#[test]
fn export_keeps_exactly_the_suite_of_its_mode_and_compare_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let criterion = tmp.path().join("criterion");
    let quick = benchmark_ids(Mode::Quick);
    // A result only the full suite makes, as an earlier full run would leave behind.
    let stale = "seq_scan/mmap/16777216".to_string();
    assert!(!quick.contains(&stale));
    let mut ids = quick.clone();
    ids.push(stale.clone());
    fake_run(&criterion, &ids);

    let out = tmp.path().join("mine.json");
    let args = [
        "export",
        "--mode",
        "quick",
        "--criterion",
        criterion.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let run = bench_results(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    let results = BenchResults::load(&out).unwrap();
    assert_eq!(results.mode, "quick");
    let exported: Vec<&String> = results.benchmarks.iter().map(|b| &b.id).collect();
    let expected: Vec<&String> = quick.iter().collect();
    assert_eq!(exported, expected, "the quick suite, in suite order");

    // The full suite is incomplete in that directory: say so, exit 1.
    let mut full_args = args;
    full_args[2] = "full";
    let run = bench_results(&full_args);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("just bench"), "{err}");

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
    }
    .save(&valid)
    .unwrap();
    let (garbage, missing, valid) = (
        garbage.to_str().unwrap(),
        missing.to_str().unwrap(),
        valid.to_str().unwrap(),
    );
    for args in [
        ["compare", "--reference", valid, "--mine", missing],
        ["compare", "--reference", garbage, "--mine", valid],
    ] {
        let run = bench_results(&args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        let err = stderr(&run);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("bench-results: error: "), "{err}");
    }
    for args in [
        vec!["compare", "--format", "pdf"],
        vec!["export", "--mode", "slow"],
        vec!["frobnicate"],
    ] {
        let run = bench_results(&args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(stderr(&run).starts_with("error: "), "{args:?}");
    }
}
