//! Benchmark results of the criterion suite (`benches/`) as data: read from criterion's
//! output directory once, saved as one JSON file, loaded by the book and by
//! `bench-results compare`.
//!
//! Criterion writes, for every benchmark, `<criterion dir>/<group>/<function>/<param>/new/`
//! with `benchmark.json` (the id and the throughput) and `estimates.json` (the statistics).
//! This module is the only place that reads those files, so a criterion upgrade that
//! changes them breaks here, loudly, and nowhere else.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::machine::Machine;

/// One run of the suite on one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResults {
    pub machine: Machine,
    /// `"full"` or `"quick"` (`MMAP_BENCH_QUICK=1`: fewer sizes, shorter measurements).
    pub mode: String,
    /// When the results were exported, in seconds since the Unix epoch.
    pub created_unix: u64,
    /// Sorted by group, function, then parameter (numerically when it is a number).
    pub benchmarks: Vec<BenchResult>,
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
        (self.median_ns > 0.0).then(|| bytes as f64 / (self.median_ns * 1e-9))
    }
}

impl BenchResults {
    /// Reads every benchmark under `criterion_dir` (normally `target/criterion`).
    ///
    /// Fails when the directory is missing, holds no benchmark, or a file does not have the
    /// shape this module knows (a criterion upgrade changed it).
    pub fn read_criterion(
        criterion_dir: &Path,
        machine: Machine,
        mode: &str,
    ) -> anyhow::Result<BenchResults> {
        if !criterion_dir.is_dir() {
            bail!(
                "{} does not exist: no benchmark has run yet",
                criterion_dir.display()
            );
        }
        let mut dirs = Vec::new();
        find_new_dirs(criterion_dir, &mut dirs)
            .with_context(|| format!("reading {}", criterion_dir.display()))?;
        let mut benchmarks = dirs
            .iter()
            .map(|dir| read_one(dir))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if benchmarks.is_empty() {
            bail!("{} holds no benchmark results", criterion_dir.display());
        }
        benchmarks.sort_by(|a, b| {
            sort_key(a)
                .partial_cmp(&sort_key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(BenchResults {
            machine,
            mode: mode.to_string(),
            created_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            benchmarks,
        })
    }

    /// Loads results saved by [`BenchResults::save`].
    pub fn load(path: &Path) -> anyhow::Result<BenchResults> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a bench results file", path.display()))
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

fn sort_key(b: &BenchResult) -> (&str, &str, f64, &str) {
    let param = b.parameter.as_deref().unwrap_or("");
    (
        &b.group,
        &b.function,
        param.parse::<f64>().unwrap_or(f64::INFINITY),
        param,
    )
}

/// Collects every `.../new` directory that holds a `benchmark.json` (criterion's latest
/// run; `base` and named baselines are ignored).
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            out.push(path);
        } else {
            find_new_dirs(&path, out)?;
        }
    }
    Ok(())
}

/// `benchmark.json`, the fields this module needs.
#[derive(Deserialize)]
struct CriterionId {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<CriterionThroughput>,
    full_id: String,
}

/// Every variant criterion knows, so an unknown one fails to parse; only bytes are kept.
#[derive(Deserialize)]
#[allow(dead_code)]
enum CriterionThroughput {
    Bytes(u64),
    BytesDecimal(u64),
    ElementsAndBytes { elements: u64, bytes: u64 },
    Elements(u64),
    Bits(u64),
}

/// `estimates.json`, the fields this module needs.
#[derive(Deserialize)]
struct CriterionEstimates {
    median: CriterionEstimate,
}

#[derive(Deserialize)]
struct CriterionEstimate {
    point_estimate: f64,
    confidence_interval: CriterionInterval,
}

#[derive(Deserialize)]
struct CriterionInterval {
    lower_bound: f64,
    upper_bound: f64,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} does not have the shape criterion 0.8 writes (did criterion change?)",
            path.display()
        )
    })
}

fn read_one(new_dir: &Path) -> anyhow::Result<BenchResult> {
    let id: CriterionId = read_json(&new_dir.join("benchmark.json"))?;
    let est: CriterionEstimates = read_json(&new_dir.join("estimates.json"))?;
    let throughput_bytes = match id.throughput {
        Some(CriterionThroughput::Bytes(n) | CriterionThroughput::BytesDecimal(n)) => Some(n),
        Some(CriterionThroughput::ElementsAndBytes { bytes, .. }) => Some(bytes),
        Some(CriterionThroughput::Elements(_) | CriterionThroughput::Bits(_)) | None => None,
    };
    Ok(BenchResult {
        id: id.full_id,
        group: id.group_id,
        function: id.function_id.unwrap_or_default(),
        parameter: id.value_str,
        median_ns: est.median.point_estimate,
        lower_ns: est.median.confidence_interval.lower_bound,
        upper_ns: est.median.confidence_interval.upper_bound,
        throughput_bytes,
    })
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
    fn missing_or_empty_criterion_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let machine = Machine::detect(dir.path());
        let missing = dir.path().join("criterion");
        assert!(BenchResults::read_criterion(&missing, machine.clone(), "quick").is_err());
        fs::create_dir(&missing).unwrap();
        let err = BenchResults::read_criterion(&missing, machine, "quick").unwrap_err();
        assert!(err.to_string().contains("no benchmark"), "{err}");
    }
}
