//! Reading criterion's output directory: every benchmark's latest result or skip note, and
//! one run of the suite picked from them by id and start time.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::param::param_key;
use super::skipped::SKIPPED_FILE;
use super::{BenchResult, BenchResults, SkippedBench};
use crate::machine::Machine;

impl BenchResults {
    /// Reads every benchmark under `criterion_dir` (normally `target/criterion`), however
    /// old, and the benchmarks noted as skipped since their last result.
    ///
    /// Fails when the directory is missing, holds no benchmark, or a file does not have the
    /// shape this module knows (a criterion upgrade changed it).
    pub fn read_criterion(
        criterion_dir: &Path,
        machine: Machine,
        mode: &str,
    ) -> anyhow::Result<BenchResults> {
        let mut results = BenchResults::new(machine, mode);
        for found in scan(criterion_dir)? {
            match found.outcome {
                Outcome::Measured(r) => results.benchmarks.push(r),
                Outcome::Skipped(s) => results.skipped.push(s),
            }
        }
        if results.benchmarks.is_empty() {
            bail!("{} holds no benchmark results", criterion_dir.display());
        }
        results.benchmarks.sort_by(|a, b| {
            sort_key(a)
                .partial_cmp(&sort_key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(results)
    }

    /// Reads one run of a suite from `criterion_dir`: exactly the benchmarks `ids`, in that
    /// order, each measured — or noted as skipped — at `since_unix` (seconds since the Unix
    /// epoch, when the run started) or later.
    ///
    /// Fails naming the benchmarks that have no result, or only one older than `since_unix`
    /// (left by an earlier run, perhaps of the other mode), so one run's numbers are never
    /// mixed with another's. Fails too when a median is not a time above zero.
    pub fn read_run(
        criterion_dir: &Path,
        machine: Machine,
        mode: &str,
        ids: &[String],
        since_unix: u64,
    ) -> anyhow::Result<BenchResults> {
        // A start time beyond what the clock can hold (`None`): every result is older.
        let since = UNIX_EPOCH.checked_add(Duration::from_secs(since_unix));
        let mut found = scan(criterion_dir)?;
        let mut results = BenchResults::new(machine, mode);
        let (mut missing, mut stale) = (Vec::new(), Vec::new());
        for id in ids {
            match found.iter().position(|f| f.id == *id) {
                None => missing.push(id.as_str()),
                Some(i) if since.is_none_or(|t| found[i].written < t) => stale.push(id.as_str()),
                Some(i) => match found.swap_remove(i).outcome {
                    Outcome::Measured(r) => results.benchmarks.push(r),
                    Outcome::Skipped(s) => results.skipped.push(s),
                },
            }
        }
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("no result for {}", list(&missing)));
        }
        if !stale.is_empty() {
            problems.push(format!(
                "only results older than this run (from an earlier one) for {}",
                list(&stale)
            ));
        }
        if !problems.is_empty() {
            bail!(
                "{} has {} of the {} benchmarks of the {mode} suite",
                criterion_dir.display(),
                problems.join(", and "),
                ids.len()
            );
        }
        results.validate()?;
        Ok(results)
    }

    fn new(machine: Machine, mode: &str) -> BenchResults {
        BenchResults {
            machine,
            mode: mode.to_string(),
            created_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            benchmarks: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// `a, b, c` or `a, b, c and 4 more`: ids for a one-line message.
fn list(ids: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut text = ids[..ids.len().min(SHOWN)].join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    text
}

/// Suite order: group, function, then parameter (numerically when it is a number).
fn sort_key(b: &BenchResult) -> (&str, &str, Option<(f64, &str)>) {
    (&b.group, &b.function, param_key(b.parameter.as_deref()))
}

/// What criterion's directory says about one benchmark: its latest result or the note that
/// it was skipped, whichever was written last, and when.
struct Found {
    id: String,
    outcome: Outcome,
    written: SystemTime,
}

enum Outcome {
    Measured(BenchResult),
    Skipped(SkippedBench),
}

/// Everything under `criterion_dir`, one [`Found`] per benchmark id.
fn scan(criterion_dir: &Path) -> anyhow::Result<Vec<Found>> {
    if !criterion_dir.is_dir() {
        bail!(
            "{} does not exist: no benchmark has run yet",
            criterion_dir.display()
        );
    }
    let mut all = Vec::new();
    scan_dir(criterion_dir, &mut all)
        .with_context(|| format!("reading {}", criterion_dir.display()))?;
    let mut newest: Vec<Found> = Vec::new();
    for f in all {
        match newest.iter_mut().find(|n| n.id == f.id) {
            Some(n) if n.written < f.written => *n = f,
            Some(_) => {}
            None => newest.push(f),
        }
    }
    Ok(newest)
}

/// Collects every `.../new` directory that holds a `benchmark.json` (criterion's latest
/// run; `base` and named baselines are ignored) and every skip note.
fn scan_dir(dir: &Path, out: &mut Vec<Found>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type()?.is_dir() {
            if entry.file_name() == SKIPPED_FILE {
                let note: SkippedBench = serde_json::from_str(&fs::read_to_string(&path)?)
                    .with_context(|| format!("{} is not a skip note", path.display()))?;
                out.push(Found {
                    id: note.id.clone(),
                    outcome: Outcome::Skipped(note),
                    written: fs::metadata(&path)?.modified()?,
                });
            }
        } else if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            let result = read_one(&path)?;
            out.push(Found {
                id: result.id.clone(),
                outcome: Outcome::Measured(result),
                written: fs::metadata(path.join("estimates.json"))?.modified()?,
            });
        } else {
            scan_dir(&path, out)?;
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
    use crate::bench::mark_skipped;

    /// Sets the modification time of `path` to `unix` seconds.
    fn touch(path: &Path, unix: u64) {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(UNIX_EPOCH + Duration::from_secs(unix))
            .unwrap();
    }

    /// Writes the files criterion leaves for `group/function/param`, as of `unix` seconds.
    fn criterion_result(dir: &Path, id: &str, median_ns: f64, unix: u64) {
        let parts: Vec<&str> = id.split('/').collect();
        let new = parts
            .iter()
            .fold(dir.to_path_buf(), |d, p| d.join(p))
            .join("new");
        fs::create_dir_all(&new).unwrap();
        let benchmark = serde_json::json!({
            "group_id": parts[0], "function_id": parts[1], "value_str": parts[2],
            "throughput": {"Bytes": 4096}, "full_id": id,
        });
        let interval = serde_json::json!({"lower_bound": median_ns, "upper_bound": median_ns});
        let estimates = serde_json::json!({
            "median": {"point_estimate": median_ns, "confidence_interval": interval},
        });
        for (name, json) in [("benchmark.json", benchmark), ("estimates.json", estimates)] {
            fs::write(new.join(name), json.to_string()).unwrap();
            touch(&new.join(name), unix);
        }
    }

    fn skip_note(dir: &Path, id: &str, why: &str, unix: u64) {
        mark_skipped(dir, id, why).unwrap();
        let note = id.split('/').fold(dir.to_path_buf(), |d, p| d.join(p));
        touch(&note.join(SKIPPED_FILE), unix);
    }

    #[test]
    fn read_run_takes_only_this_runs_results_and_names_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let machine = Machine::detect(dir);
        let ids: Vec<String> = ["g/a/1", "g/b/1", "g/c/1"].map(String::from).into();
        criterion_result(dir, "g/a/1", 10.0, 2_000);
        criterion_result(dir, "g/b/1", 20.0, 2_000);
        // c: measured by an earlier run, skipped by this one.
        criterion_result(dir, "g/c/1", 30.0, 1_000);
        skip_note(dir, "g/c/1", "not enough memory", 2_000);
        // Not part of this suite: ignored, however old.
        criterion_result(dir, "g/other/1", 5.0, 10);

        let run = BenchResults::read_run(dir, machine.clone(), "quick", &ids, 2_000).unwrap();
        let got: Vec<&str> = run.benchmarks.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(got, ["g/a/1", "g/b/1"]);
        assert_eq!(
            run.skipped,
            [SkippedBench {
                id: "g/c/1".into(),
                why: "not enough memory".into()
            }]
        );

        // A run that started later: a and b are an earlier run's, and say so.
        let err = BenchResults::read_run(dir, machine.clone(), "quick", &ids, 2_001)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("only results older than this run") && err.contains("g/a/1, g/b/1"),
            "{err}"
        );

        // c measured again after the note: the result wins.
        criterion_result(dir, "g/c/1", 40.0, 3_000);
        let run = BenchResults::read_run(dir, machine.clone(), "quick", &ids, 2_000).unwrap();
        assert!(run.skipped.is_empty());
        assert_eq!(run.get("g/c/1").map(|b| b.median_ns), Some(40.0));

        // A benchmark with no result at all is named as missing.
        let mut more = ids.clone();
        more.push("g/d/1".into());
        let err = BenchResults::read_run(dir, machine.clone(), "quick", &more, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no result for g/d/1"), "{err}");
        assert!(
            err.contains("of the 4 benchmarks of the quick suite"),
            "{err}"
        );

        // read_criterion keeps everything; the note is older than c's result now.
        let all = BenchResults::read_criterion(dir, machine, "quick").unwrap();
        assert_eq!(all.benchmarks.len(), 4);
        assert!(all.skipped.is_empty());
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
