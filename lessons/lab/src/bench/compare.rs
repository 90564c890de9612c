//! Comparing two results benchmark by benchmark: the pairs, and the ratio of their times.

use super::words::findings;
use super::{BenchResult, BenchResults, ComparedBench, Comparison, usable};

/// Reference time ÷ your time (above 1 yours is faster), when both medians are finite times
/// above zero.
pub fn speedup(reference: &BenchResult, mine: &BenchResult) -> Option<f64> {
    (usable(reference.median_ns) && usable(mine.median_ns))
        .then(|| reference.median_ns / mine.median_ns)
        // Absurd medians (1e-300 ns against 1e300) give no ratio worth printing.
        .filter(|r| r.is_finite() && *r > 0.0)
}

/// Compares your results with the reference's, benchmark by benchmark.
pub fn compare(reference: &BenchResults, mine: &BenchResults) -> Comparison {
    // The reference's order (the full suite's), then whatever only you ran.
    let mut ids: Vec<&BenchResult> = reference.benchmarks.iter().collect();
    ids.extend(
        mine.benchmarks
            .iter()
            .filter(|m| reference.get(&m.id).is_none()),
    );
    let rows: Vec<ComparedBench> = ids
        .into_iter()
        .map(|b| {
            let r = reference.get(&b.id);
            let m = mine.get(&b.id);
            let speedup = r.zip(m).and_then(|(r, m)| speedup(r, m));
            ComparedBench {
                id: b.id.clone(),
                group: b.group.clone(),
                function: b.function.clone(),
                parameter: b.parameter.clone(),
                reference_ns: r.map(|r| r.median_ns),
                mine_ns: m.map(|m| m.median_ns),
                reference_bytes_per_second: r.and_then(BenchResult::bytes_per_second),
                mine_bytes_per_second: m.and_then(BenchResult::bytes_per_second),
                speedup,
            }
        })
        .collect();
    let findings = findings(reference, mine, &rows);
    Comparison {
        reference_machine: reference.machine.clone(),
        mine_machine: mine.machine.clone(),
        reference_mode: reference.mode.clone(),
        mine_mode: mine.mode.clone(),
        rows,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tests::results;

    #[test]
    fn a_median_that_is_not_a_time_gives_no_ratio() {
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            let reference = results("full", &[("g/a/1", bad), ("g/b/1", 10.0)]);
            let mine = results("full", &[("g/a/1", 10.0), ("g/b/1", bad)]);
            let c = compare(&reference, &mine);
            assert!(c.rows.iter().all(|r| r.speedup.is_none()), "{bad}");
            // No "inf× slower" or "NaN× slower".
            let text = c.to_text();
            assert!(!text.contains('×'), "{text}");
        }
        // Each a usable time, but their ratio overflows.
        let reference = results("full", &[("g/a/1", 1e300)]);
        let mine = results("full", &[("g/a/1", 1e-300)]);
        let c = compare(&reference, &mine);
        assert!(c.rows[0].speedup.is_none());
        assert!(!c.to_text().contains("inf"), "{}", c.to_text());
    }

    #[test]
    fn compare_pairs_benchmarks_and_reads_the_ratios() {
        let reference = results(
            "full",
            &[
                ("seq_scan/fs_read/4096", 100.0),
                ("seq_scan/mmap/4096", 300.0),
                ("seq_scan/fs_read/268435456", 3e8),
                ("seq_scan/mmap/268435456", 2e8),
                ("random_access/pread/268435456", 1000.0),
            ],
        );
        let mine = results(
            "full",
            &[
                ("seq_scan/fs_read/4096", 50.0),
                ("seq_scan/mmap/4096", 150.0),
                ("seq_scan/fs_read/268435456", 1.5e8),
                ("seq_scan/mmap/268435456", 0.5e8),
                ("random_access/mmap/268435456", 30.0),
            ],
        );
        let c = compare(&reference, &mine);
        assert_eq!(c.rows.len(), 6);
        let row = |id: &str| c.rows.iter().find(|r| r.id == id).unwrap();
        assert_eq!(row("seq_scan/fs_read/4096").speedup, Some(2.0));
        assert_eq!(row("seq_scan/mmap/268435456").speedup, Some(4.0));
        assert_eq!(
            row("seq_scan/fs_read/4096").mine_bytes_per_second,
            Some(4096.0 / 50e-9)
        );
        // One side only: no ratio, shown as "—".
        assert_eq!(row("random_access/pread/268435456").mine_ns, None);
        assert_eq!(row("random_access/mmap/268435456").reference_ns, None);
        assert_eq!(row("random_access/mmap/268435456").speedup, None);
        // Reference order first, then what only you ran.
        assert_eq!(c.rows.last().unwrap().id, "random_access/mmap/268435456");

        let f = c.findings.join("\n");
        // Geometric mean of 2, 2, 2, 4 = 2^(5/4).
        let g = 2f64.powf(1.25);
        assert!(
            f.contains(&format!("{g:.2}× faster than the reference")),
            "{f}"
        );
        assert!(
            f.contains("from 2.00× on seq_scan/fs_read/4 KiB to 4.00× on seq_scan/mmap/256 MiB"),
            "{f}"
        );
        assert!(f.contains("2 benchmark(s) ran on one side only"), "{f}");
        // At 256 MiB mmap wins on both: 3× ahead here, 1.5× on the reference.
        assert!(
            f.contains("at 256 MiB mmap is fastest on both machines, 3.00× ahead of fs_read here vs 1.50× on the reference"),
            "{f}"
        );
        // At 4 KiB the same method (fs_read) wins on both and it is not the largest size.
        assert!(!f.contains("at 4 KiB"), "{f}");
        // random_access has no benchmark on both sides: no line for it.
        assert!(!f.contains("random_access:"), "{f}");

        let text = c.to_text();
        assert!(text.contains("seq_scan/mmap/256 MiB"), "{text}");
        assert!(text.contains("4.00× faster"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("random_access/pread/256 MiB") && l.contains('—')),
            "{text}"
        );
        let md = c.to_markdown();
        assert!(
            md.contains("| benchmark | reference | yours | yours vs reference |"),
            "{md}"
        );
        let back: Comparison = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back.findings, c.findings);
        assert_eq!(back.rows.len(), c.rows.len());
        assert_eq!(back.rows[0].speedup, Some(2.0));
    }

    #[test]
    fn compare_with_nothing_in_common_says_so() {
        let reference = results("full", &[("a/x/1", 1.0)]);
        let mine = results("full", &[("b/y/1", 1.0)]);
        let c = compare(&reference, &mine);
        assert!(c.rows.iter().all(|r| r.speedup.is_none()));
        assert!(c.findings.iter().any(|f| f.contains("nothing to compare")));
    }
}
