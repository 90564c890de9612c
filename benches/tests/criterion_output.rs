//! Runs a real (tiny) criterion benchmark into a temporary directory and reads its output
//! with `mmap_lab::bench`, so a criterion upgrade that changes its files fails here.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use mmap_lab::bench::{BenchResults, compare};
use mmap_lab::machine::Machine;

#[test]
fn read_criterion_parses_what_criterion_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("criterion");
    let mut c = Criterion::default()
        .output_directory(&out)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(20))
        .measurement_time(Duration::from_millis(100))
        .nresamples(1000)
        .without_plots();
    let data = vec![b'\n'; 4096];
    let mut group = c.benchmark_group("tiny");
    group.throughput(Throughput::Bytes(4096));
    group.bench_function(BenchmarkId::new("count", 4096), |b| {
        b.iter(|| mmap_benches::consume(black_box(&data)))
    });
    group.finish();
    c.bench_function("plain", |b| b.iter(|| black_box(1u64) + 1));

    let machine = Machine::detect(dir.path());
    let results = BenchResults::read_criterion(&out, machine, "quick").unwrap();
    assert_eq!(results.mode, "quick");
    assert_eq!(results.benchmarks.len(), 2, "{:#?}", results.benchmarks);

    let tiny = results.get("tiny/count/4096").expect("tiny/count/4096");
    assert_eq!(tiny.group, "tiny");
    assert_eq!(tiny.function, "count");
    assert_eq!(tiny.parameter.as_deref(), Some("4096"));
    assert_eq!(tiny.throughput_bytes, Some(4096));
    assert!(tiny.median_ns > 0.0);
    assert!(tiny.lower_ns <= tiny.median_ns && tiny.median_ns <= tiny.upper_ns);
    let bps = tiny.bytes_per_second().unwrap();
    assert!((bps - 4096.0 / (tiny.median_ns * 1e-9)).abs() < 1e-6 * bps);

    // A benchmark outside a group: criterion's group is its name, there is no function.
    let plain = results.get("plain").expect("plain");
    assert_eq!(plain.group, "plain");
    assert_eq!(plain.parameter, None);
    assert_eq!(plain.throughput_bytes, None);
    assert_eq!(plain.bytes_per_second(), None);

    // What export writes, load reads back, and it compares equal to itself.
    let saved = dir.path().join("results.json");
    results.save(&saved).unwrap();
    let loaded = BenchResults::load(&saved).unwrap();
    assert_eq!(loaded.machine, results.machine);
    assert_eq!(loaded.benchmarks.len(), results.benchmarks.len());
    let same = compare(&loaded, &results);
    assert_eq!(same.rows.len(), 2);
    // JSON keeps a float to within rounding of its last digit.
    assert!(
        same.rows
            .iter()
            .all(|r| r.speedup.is_some_and(|s| (s - 1.0).abs() < 1e-12)),
        "{:#?}",
        same.rows
    );
}
