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

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Reference time ÷ your time (above 1 yours is faster), when both medians are finite times
/// above zero.
pub fn speedup(reference: &BenchResult, mine: &BenchResult) -> Option<f64> {
    (usable(reference.median_ns) && usable(mine.median_ns))
        .then(|| reference.median_ns / mine.median_ns)
}

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
        let since = UNIX_EPOCH + Duration::from_secs(since_unix);
        let mut found = scan(criterion_dir)?;
        let mut results = BenchResults::new(machine, mode);
        let (mut missing, mut stale) = (Vec::new(), Vec::new());
        for id in ids {
            match found.iter().position(|f| f.id == *id) {
                None => missing.push(id.as_str()),
                Some(i) if found[i].written < since => stale.push(id.as_str()),
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

    /// Loads results saved by [`BenchResults::save`]. Fails on a file that is not one, has a
    /// median that is not a finite time above zero, or has a benchmark twice.
    pub fn load(path: &Path) -> anyhow::Result<BenchResults> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
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

/// Orders parameters numerically when they are numbers (`4096` before `1048576`), others
/// after them by name.
pub fn param_key(param: Option<&str>) -> Option<(f64, &str)> {
    param.map(|p| (p.parse::<f64>().unwrap_or(f64::INFINITY), p))
}

/// The note a bench target leaves in a benchmark's directory when it skips it; criterion
/// writes no file of that name.
const SKIPPED_FILE: &str = "mmap-skipped.json";

/// Notes in `criterion_dir` that the suite skipped benchmark `id` on this machine, and why,
/// so the export of the run reports it as skipped instead of missing. A later result of the
/// same benchmark supersedes the note.
pub fn mark_skipped(criterion_dir: &Path, id: &str, why: &str) -> anyhow::Result<()> {
    let dir = id
        .split('/')
        .fold(criterion_dir.to_path_buf(), |dir, part| dir.join(part));
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let note = SkippedBench {
        id: id.to_string(),
        why: why.to_string(),
    };
    let path = dir.join(SKIPPED_FILE);
    fs::write(&path, serde_json::to_string_pretty(&note)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
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

/// Geometric mean, the right average for ratios (2× and 0.5× average to 1×).
fn geo_mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// Ratios within this of 1 read as "the same": below run-to-run noise.
const SAME: f64 = 0.05;

/// For the table: "2.10× faster" / "1.30× slower" / "same (±5 %)" inside run-to-run noise.
pub fn speed_words(speedup: f64) -> String {
    if (speedup - 1.0).abs() < SAME {
        format!("same (±{:.0} %)", SAME * 100.0)
    } else if speedup > 1.0 {
        format!("{speedup:.2}× faster")
    } else {
        format!("{:.2}× slower", 1.0 / speedup)
    }
}

/// For a sentence: "2.10× faster than the reference" / "about as fast as the reference".
fn speed_than(speedup: f64) -> String {
    if (speedup - 1.0).abs() < SAME {
        format!(
            "about as fast as the reference (within {:.0} %)",
            SAME * 100.0
        )
    } else {
        format!("{} than the reference", speed_words(speedup))
    }
}

/// A parameter for people: the suite's numeric parameters are byte sizes (`4096` reads
/// `4 KiB`), anything else reads as written.
pub fn fmt_param(param: &str) -> String {
    match param.parse::<u64>() {
        Ok(n) if n >= 1024 => {
            let mut unit = 0;
            let mut v = n;
            while v % 1024 == 0 && v >= 1024 && unit < 4 {
                v /= 1024;
                unit += 1;
            }
            if unit == 0 {
                crate::size::fmt(n)
            } else {
                format!("{v} {}", ["B", "KiB", "MiB", "GiB", "TiB"][unit])
            }
        }
        _ => param.to_string(),
    }
}

fn findings(reference: &BenchResults, mine: &BenchResults, rows: &[ComparedBench]) -> Vec<String> {
    let mut out = Vec::new();
    if reference.mode != mine.mode {
        out.push(format!(
            "the reference ran the {} suite and yours the {} one: a quick run measures for \
             less time, so its numbers are noisier",
            reference.mode, mine.mode
        ));
    }
    let both: Vec<&ComparedBench> = rows.iter().filter(|r| r.speedup.is_some()).collect();
    let ratios: Vec<f64> = both.iter().filter_map(|r| r.speedup).collect();
    let Some(overall) = geo_mean(&ratios) else {
        out.push("no benchmark ran on both machines, so there is nothing to compare".into());
        return out;
    };
    let by_speedup = |a: &&&ComparedBench, b: &&&ComparedBench| {
        a.speedup
            .unwrap_or(1.0)
            .total_cmp(&b.speedup.unwrap_or(1.0))
    };
    let mut line = format!(
        "overall your machine is {} (geometric mean of {} benchmarks",
        speed_than(overall),
        both.len()
    );
    if let (Some(lo), Some(hi)) = (
        both.iter().min_by(by_speedup),
        both.iter().max_by(by_speedup),
    ) && both.len() > 1
    {
        line.push_str(&format!(
            ", from {:.2}× on {} to {:.2}× on {}",
            lo.speedup.unwrap_or(1.0),
            display_id(lo),
            hi.speedup.unwrap_or(1.0),
            display_id(hi)
        ));
    }
    line.push(')');
    out.push(line);
    let one_side = rows.iter().filter(|r| r.speedup.is_none()).count();
    if one_side > 0 {
        out.push(format!(
            "{one_side} benchmark(s) ran on one side only (shown as —)"
        ));
    }
    for (side, results) in [("your machine", mine), ("the reference", reference)] {
        for s in &results.skipped {
            out.push(format!(
                "{} was skipped on {side}: {}",
                display_skipped(&s.id),
                s.why
            ));
        }
    }
    let mut groups: Vec<&str> = Vec::new();
    for r in rows {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    for group in groups {
        let in_group: Vec<&ComparedBench> = rows.iter().filter(|r| r.group == group).collect();
        let ratios: Vec<f64> = in_group.iter().filter_map(|r| r.speedup).collect();
        let Some(g) = geo_mean(&ratios) else { continue };
        let mut line = format!("{group}: yours is {}", speed_than(g));
        for lead in leaders(&in_group) {
            line.push_str("; ");
            line.push_str(&lead);
        }
        out.push(line);
    }
    out
}

/// `seq_scan/mmap/256 MiB`: the id with a size parameter printed for people.
fn display_id(r: &ComparedBench) -> String {
    match &r.parameter {
        Some(p) => format!("{}/{}/{}", r.group, r.function, fmt_param(p)),
        None => r.id.clone(),
    }
}

/// A skipped benchmark's id, its size parameter printed for people like [`display_id`].
fn display_skipped(id: &str) -> String {
    match id.split('/').collect::<Vec<_>>().as_slice() {
        [group, function, param] => format!("{group}/{function}/{}", fmt_param(param)),
        _ => id.to_string(),
    }
}

/// The kind of a method: the first word of its name, so `mmap` and `mmap_populate` are one
/// kind and `fs_read` another.
fn kind(function: &str) -> &str {
    function.split('_').next().unwrap_or(function)
}

/// For the largest parameter of a group, and any parameter where the two machines disagree
/// on the fastest method: which method wins, and its lead over the fastest method of another
/// kind, here and on the reference.
fn leaders(rows: &[&ComparedBench]) -> Vec<String> {
    let mut params: Vec<Option<&str>> = rows.iter().map(|r| r.parameter.as_deref()).collect();
    params.sort_by(|a, b| {
        param_key(*a)
            .partial_cmp(&param_key(*b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    params.dedup();
    let largest = params.last().copied().flatten();
    let mut out = Vec::new();
    for param in params.iter().copied() {
        let both: Vec<(&str, f64, f64)> = rows
            .iter()
            .filter(|r| r.parameter.as_deref() == param && r.speedup.is_some())
            .filter_map(|r| Some((r.function.as_str(), r.reference_ns?, r.mine_ns?)))
            .collect();
        if both.len() < 2 {
            continue;
        }
        let fastest = |by: fn(&(&str, f64, f64)) -> f64| {
            let mut sorted = both.clone();
            sorted.sort_by(|a, b| by(a).total_cmp(&by(b)));
            sorted
        };
        let mine = fastest(|t| t.2);
        let refs = fastest(|t| t.1);
        // The runner-up of another kind: `mmap` against a read, not against `mmap_populate`.
        let winner = mine[0];
        let runner = mine[1..]
            .iter()
            .copied()
            .find(|t| kind(t.0) != kind(winner.0))
            .unwrap_or(mine[1]);
        // Winners that differ by less than the noise on both machines are not a difference.
        let (contender, behind_here) = (refs[0], refs[0].2 / winner.2);
        let tied = contender.0 != winner.0
            && behind_here < 1.0 + SAME
            && winner.1 / contender.1 < 1.0 + SAME;
        let same = contender.0 == winner.0 || tied;
        if param != largest && same {
            continue;
        }
        let at = param
            .map(|p| format!("at {} ", fmt_param(p)))
            .unwrap_or_default();
        let lead_here = runner.2 / winner.2;
        let lead_ref = runner.1 / winner.1;
        let text = if tied && runner.0 == contender.0 {
            format!(
                "{at}{} and {} are within {:.0} % of each other on both machines",
                winner.0,
                contender.0,
                SAME * 100.0
            )
        } else if tied {
            format!(
                "{at}{} is fastest here and {} on the reference, within {:.0} % of each other; \
                 {} is {lead_here:.2}× ahead of {} here vs {lead_ref:.2}× on the reference",
                winner.0,
                contender.0,
                SAME * 100.0,
                winner.0,
                runner.0
            )
        } else if same {
            format!(
                "{at}{} is fastest on both machines, {lead_here:.2}× ahead of {} here vs \
                 {lead_ref:.2}× on the reference",
                winner.0, runner.0
            )
        } else {
            let relation = if lead_ref >= 1.0 {
                format!("led {} by {lead_ref:.2}×", runner.0)
            } else {
                format!("trailed {} by {:.2}×", runner.0, 1.0 / lead_ref)
            };
            format!(
                "{at}the fastest here is {}, {lead_here:.2}× ahead of {}; on the reference {} \
                 was fastest and {} {relation}",
                winner.0, runner.0, contender.0, winner.0
            )
        };
        out.push(text);
    }
    out
}

impl Comparison {
    /// Columns: benchmark, reference, yours, yours vs reference.
    fn table(&self) -> Vec<[String; 4]> {
        let cell = |ns: Option<f64>, bps: Option<f64>| match (ns, bps) {
            (None, _) => "—".to_string(),
            (Some(ns), None) => crate::Unit::Seconds.format(ns * 1e-9),
            (Some(ns), Some(bps)) => format!(
                "{} ({})",
                crate::Unit::Seconds.format(ns * 1e-9),
                crate::Unit::BytesPerSecond.format(bps)
            ),
        };
        self.rows
            .iter()
            .map(|r| {
                [
                    display_id(r),
                    cell(r.reference_ns, r.reference_bytes_per_second),
                    cell(r.mine_ns, r.mine_bytes_per_second),
                    r.speedup.map_or_else(|| "—".to_string(), speed_words),
                ]
            })
            .collect()
    }

    /// A table for the terminal, then the findings.
    pub fn to_text(&self) -> String {
        let header = [
            "benchmark".to_string(),
            format!("reference ({})", self.reference_mode),
            format!("yours ({})", self.mine_mode),
            "yours vs reference".to_string(),
        ];
        let table = self.table();
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &table {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String; 4]| {
            let mut l = String::new();
            for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                if i == 0 {
                    l.push_str(c);
                    l.push_str(&" ".repeat(pad));
                } else {
                    l.push_str("  ");
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                }
            }
            l.trim_end().to_string() + "\n"
        };
        let mut out = format!(
            "Benchmarks · yours vs the reference\nreference: {}\nyours:     {}\n\n",
            self.reference_machine.summary(),
            self.mine_machine.summary()
        );
        out.push_str(&line(&header));
        for row in &table {
            out.push_str(&line(row));
        }
        out.push('\n');
        for f in &self.findings {
            out.push_str(&format!("- {f}\n"));
        }
        out
    }

    /// A Markdown table and the findings as a list, for the book.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "Reference: {} ({} suite)  \nYours: {} ({} suite)\n\n\
             | benchmark | reference | yours | yours vs reference |\n|---|---:|---:|---:|\n",
            self.reference_machine.summary(),
            self.reference_mode,
            self.mine_machine.summary(),
            self.mine_mode
        );
        for [a, b, c, d] in self.table() {
            out.push_str(&format!("| `{a}` | {b} | {c} | {d} |\n"));
        }
        out.push('\n');
        for f in &self.findings {
            out.push_str(&format!("- {f}\n"));
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
            + "\n"
    }
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

    fn results(mode: &str, rows: &[(&str, f64)]) -> BenchResults {
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
    fn compare_says_when_the_winner_differs() {
        let reference = results(
            "full",
            &[
                ("small_files/read/4096", 10.0),
                ("small_files/mmap/4096", 20.0),
            ],
        );
        let mine = results(
            "quick",
            &[
                ("small_files/read/4096", 12.0),
                ("small_files/mmap/4096", 8.0),
            ],
        );
        let mut mine = mine;
        mine.skipped.push(SkippedBench {
            id: "small_files/read/65536".into(),
            why: "too little memory".into(),
        });
        let f = compare(&reference, &mine).findings.join("\n");
        assert!(f.contains("yours the quick one"), "{f}");
        assert!(
            f.contains("small_files/read/64 KiB was skipped on your machine: too little memory"),
            "{f}"
        );
        assert!(
            f.contains("at 4 KiB the fastest here is mmap, 1.50× ahead of read; on the reference read was fastest and mmap trailed read by 2.00×"),
            "{f}"
        );
    }

    #[test]
    fn a_flip_within_the_noise_is_not_a_difference() {
        let reference = results(
            "full",
            &[
                ("seq_scan/read/1024", 100.0),
                ("seq_scan/mmap/1024", 101.0),
                ("seq_scan/read/4096", 100.0),
                ("seq_scan/mmap/4096", 300.0),
            ],
        );
        let mine = results(
            "full",
            &[
                ("seq_scan/read/1024", 102.0),
                ("seq_scan/mmap/1024", 100.0),
                ("seq_scan/read/4096", 300.0),
                ("seq_scan/mmap/4096", 100.0),
            ],
        );
        let f = compare(&reference, &mine).findings.join("\n");
        assert!(!f.contains("at 1 KiB"), "{f}");
        assert!(f.contains("at 4 KiB the fastest here is mmap"), "{f}");
        let mine = results(
            "full",
            &[("seq_scan/read/4096", 102.0), ("seq_scan/mmap/4096", 100.0)],
        );
        let reference = results(
            "full",
            &[("seq_scan/read/4096", 100.0), ("seq_scan/mmap/4096", 103.0)],
        );
        let f = compare(&reference, &mine).findings.join("\n");
        assert!(
            f.contains("at 4 KiB mmap and read are within 5 % of each other on both machines"),
            "{f}"
        );
        // Two of one kind tied: the lead over the other kind still reads.
        let reference = results(
            "full",
            &[
                ("seq_scan/read/4096", 300.0),
                ("seq_scan/mmap/4096", 100.0),
                ("seq_scan/mmap_populate/4096", 98.0),
            ],
        );
        let mine = results(
            "full",
            &[
                ("seq_scan/read/4096", 200.0),
                ("seq_scan/mmap/4096", 100.0),
                ("seq_scan/mmap_populate/4096", 102.0),
            ],
        );
        let f = compare(&reference, &mine).findings.join("\n");
        assert!(
            f.contains(
                "at 4 KiB mmap is fastest here and mmap_populate on the reference, within 5 % of \
                 each other; mmap is 2.00× ahead of read here vs 3.00× on the reference"
            ),
            "{f}"
        );
    }

    #[test]
    fn compare_with_nothing_in_common_says_so() {
        let reference = results("full", &[("a/x/1", 1.0)]);
        let mine = results("full", &[("b/y/1", 1.0)]);
        let c = compare(&reference, &mine);
        assert!(c.rows.iter().all(|r| r.speedup.is_none()));
        assert!(c.findings.iter().any(|f| f.contains("nothing to compare")));
    }

    #[test]
    fn numeric_parameters_print_as_sizes() {
        assert_eq!(fmt_param("4096"), "4 KiB");
        assert_eq!(fmt_param("268435456"), "256 MiB");
        assert_eq!(fmt_param("1000"), "1000");
        assert_eq!(fmt_param("1500"), "1.46 KiB");
        assert_eq!(fmt_param("warm"), "warm");
    }
}
