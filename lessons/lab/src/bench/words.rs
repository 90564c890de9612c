//! A comparison in words: the findings (overall and per-group speed, which method leads
//! where) and the phrases that say a ratio or a benchmark for people.

use super::param::{fmt_param, param_order};
use super::{BenchResults, ComparedBench};

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

/// The sentences of a comparison: the suites, overall and per-group speed, one-sided and
/// skipped benchmarks, and which method leads where.
pub(super) fn findings(
    reference: &BenchResults,
    mine: &BenchResults,
    rows: &[ComparedBench],
) -> Vec<String> {
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
pub(super) fn display_id(r: &ComparedBench) -> String {
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
    params.sort_by(|a, b| param_order(*a, *b));
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

#[cfg(test)]
mod tests {
    use crate::bench::SkippedBench;
    use crate::bench::compare;
    use crate::bench::tests::results;

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
}
