//! Benchmark results of the criterion suite (`benches/`) as data: read from criterion's
//! output directory once, saved as one JSON file, loaded by the book and by
//! `bench-results compare`.
//!
//! Criterion writes, for every benchmark, `<criterion dir>/<group>/<function>/<param>/new/`
//! with `benchmark.json` (the id and the throughput) and `estimates.json` (the statistics).
//! This module is the only place that reads those files, so a criterion upgrade that
//! changes them breaks here, loudly, and nowhere else. Beside them, a bench target that skips
//! a benchmark on this machine leaves a note ([`mark_skipped`]), so that an export reports it
//! as skipped rather than missing.
//!
//! One module per job: `criterion` reads criterion's output directory, `skipped` writes the
//! notes of skipped benchmarks, `param` orders and prints a benchmark's parameter, `compare`
//! pairs two results, `words` reads a comparison in sentences and `render` prints it. This
//! file holds the types they share and re-exports what is public.

mod compare;
mod criterion;
mod param;
mod render;
mod skipped;
mod words;

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::machine::Machine;

pub use compare::{compare, speedup};
pub use param::{fmt_param, param_key, param_label, param_order};
pub use skipped::mark_skipped;
pub use words::speed_words;

/// One run of the suite on one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResults {
    pub machine: Machine,
    /// `"full"` or `"quick"` (`MMAP_BENCH_QUICK=1`: fewer sizes, shorter measurements).
    pub mode: String,
    /// When the results were exported, in seconds since the Unix epoch.
    pub created_unix: u64,
    /// [`BenchResults::read_criterion`] sorts them by group, function, then parameter
    /// (numerically when it is a number); [`BenchResults::read_run`] (`bench-results export`)
    /// keeps the suite's order, each size's methods side by side.
    pub benchmarks: Vec<BenchResult>,
    /// Benchmarks of the suite that did not run on this machine, and why (such as too little
    /// free memory). Files written before skips were recorded have none.
    #[serde(default)]
    pub skipped: Vec<SkippedBench>,
}

/// A benchmark the suite skipped on one machine, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedBench {
    /// Criterion's full id, e.g. `seq_scan/fs_read/268435456`.
    pub id: String,
    pub why: String,
}

/// One benchmark: the median time of one iteration with its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Criterion's full id, e.g. `seq_scan/mmap/268435456`.
    pub id: String,
    pub group: String,
    pub function: String,
    pub parameter: Option<String>,
    /// Median time per iteration in nanoseconds.
    pub median_ns: f64,
    /// Lower bound of the median's confidence interval, in nanoseconds.
    pub lower_ns: f64,
    /// Upper bound of the median's confidence interval, in nanoseconds.
    pub upper_ns: f64,
    /// Bytes processed by one iteration, when the benchmark declared a byte throughput.
    pub throughput_bytes: Option<u64>,
}

impl BenchResult {
    /// Bytes per second at the median time, when the benchmark has a byte throughput.
    pub fn bytes_per_second(&self) -> Option<f64> {
        let bytes = self.throughput_bytes?;
        usable(self.median_ns).then(|| bytes as f64 / (self.median_ns * 1e-9))
    }
}

/// Whether a median can be divided by and into: a finite time above zero.
fn usable(ns: f64) -> bool {
    ns.is_finite() && ns > 0.0
}

impl BenchResults {
    /// Loads results saved by [`BenchResults::save`]. Fails on a file that is not one, has a
    /// median that is not a finite time above zero, or has a benchmark twice.
    pub fn load(path: &Path) -> anyhow::Result<BenchResults> {
        let text = crate::files::read_text_capped(path, 16 << 20)
            .with_context(|| format!("cannot read {}", crate::files::show(path)))?;
        let results: BenchResults = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a bench results file", path.display()))?;
        results
            .validate()
            .with_context(|| format!("{} holds unusable results", path.display()))?;
        Ok(results)
    }

    /// What comparing needs: every median a finite time above zero, every id once.
    fn validate(&self) -> anyhow::Result<()> {
        let mut seen = HashSet::new();
        for b in &self.benchmarks {
            if !usable(b.median_ns) {
                bail!(
                    "{} has a median of {} ns, not a time above zero",
                    b.id,
                    b.median_ns
                );
            }
            if !seen.insert(b.id.as_str()) {
                bail!("{} is there twice", b.id);
            }
        }
        Ok(())
    }

    /// Saves the results as pretty JSON, creating the parent directory if needed.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = serde_json::to_string_pretty(self)? + "\n";
        fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The benchmark with this full id.
    pub fn get(&self, id: &str) -> Option<&BenchResult> {
        self.benchmarks.iter().find(|b| b.id == id)
    }
}

/// One benchmark on the reference machine and on yours; a side that did not run it is
/// `None` (printed as "—").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparedBench {
    pub id: String,
    pub group: String,
    pub function: String,
    pub parameter: Option<String>,
    pub reference_ns: Option<f64>,
    pub mine_ns: Option<f64>,
    pub reference_bytes_per_second: Option<f64>,
    pub mine_bytes_per_second: Option<f64>,
    /// Reference time ÷ your time: above 1 your machine is faster.
    pub speedup: Option<f64>,
}

/// The reference machine's results beside yours, with a short reading of what differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub reference_machine: Machine,
    pub mine_machine: Machine,
    pub reference_mode: String,
    pub mine_mode: String,
    /// Every benchmark of either side, in suite order.
    pub rows: Vec<ComparedBench>,
    /// Sentences computed from the rows: overall and per-group speed, and whether the same
    /// method wins on both machines and by how much.
    pub findings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(median_ns: f64, bytes: Option<u64>) -> BenchResult {
        BenchResult {
            id: "g/f/1".into(),
            group: "g".into(),
            function: "f".into(),
            parameter: Some("1".into()),
            median_ns,
            lower_ns: median_ns,
            upper_ns: median_ns,
            throughput_bytes: bytes,
        }
    }

    #[test]
    fn bytes_per_second_is_throughput_over_median() {
        assert_eq!(result(1e9, Some(1000)).bytes_per_second(), Some(1000.0));
        assert_eq!(result(5e8, Some(1000)).bytes_per_second(), Some(2000.0));
        assert_eq!(result(1e9, None).bytes_per_second(), None);
        assert_eq!(result(0.0, Some(1)).bytes_per_second(), None);
    }

    #[test]
    fn load_rejects_medians_that_are_not_times_and_duplicate_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("r.json");
        let good = results("full", &[("g/a/1", 10.0), ("g/b/1", 20.0)]);
        good.save(&path).unwrap();
        assert_eq!(BenchResults::load(&path).unwrap(), good);
        // (JSON has no infinity or NaN: serde_json refuses them already.)
        for bad in [0.0, -5.0] {
            let mut r = good.clone();
            r.benchmarks[1].median_ns = bad;
            r.save(&path).unwrap();
            let err = format!("{:#}", BenchResults::load(&path).unwrap_err());
            assert!(
                err.contains("g/b/1 has a median of") && err.contains("not a time above zero"),
                "{bad}: {err}"
            );
        }
        let mut twice = good.clone();
        twice.benchmarks.push(good.benchmarks[0].clone());
        twice.save(&path).unwrap();
        let err = format!("{:#}", BenchResults::load(&path).unwrap_err());
        assert!(err.contains("g/a/1 is there twice"), "{err}");
    }

    /// Results of `mode` with one benchmark per `(id, median in ns)`; a numeric parameter is
    /// also the benchmark's byte throughput.
    pub(super) fn results(mode: &str, rows: &[(&str, f64)]) -> BenchResults {
        let machine = Machine::detect(Path::new("."));
        let benchmarks = rows
            .iter()
            .map(|&(id, ns)| {
                let parts: Vec<&str> = id.split('/').collect();
                BenchResult {
                    id: id.to_string(),
                    group: parts[0].to_string(),
                    function: parts[1].to_string(),
                    parameter: parts.get(2).map(|p| p.to_string()),
                    median_ns: ns,
                    lower_ns: ns * 0.9,
                    upper_ns: ns * 1.1,
                    throughput_bytes: parts.get(2).and_then(|p| p.parse().ok()),
                }
            })
            .collect();
        BenchResults {
            machine,
            mode: mode.to_string(),
            created_unix: 0,
            benchmarks,
            skipped: Vec::new(),
        }
    }
}
