//! The closing decision table: for each workload the notes' summary is about, which way won
//! on a machine, by how much, and the claim it comes from — read from the lessons' reports.
//!
//! Each [`Row`] names two measurements of one lesson's report (the mapped way and the other
//! way, both lower-is-better: times, lateness, memory, broken updates) and compares them by
//! the lessons' one rule ([`Spread::versus`]: 1.25× and runs that do not overlap). The book's
//! last chapter shows the table for the reference machine and the reader's; `just summary`
//! prints it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::findings::{Outcome, Spread};
use crate::report::{Report, wrap_into};

/// One workload of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub workload: &'static str,
    /// The claim card the numbers come from.
    pub claim: &'static str,
    /// What is compared, lower being better: "time per read".
    pub measure: &'static str,
    /// The mapped way: its words and its measurement in the claim's lesson.
    pub mmap: (&'static str, &'static str),
    /// The other way.
    pub other: (&'static str, &'static str),
}

/// The workloads, in the order of the notes' summary and of section 11: random access,
/// a sequential pass, small files, writes, sharing, async, transactions.
pub const ROWS: &[Row] = &[
    Row {
        workload: "random reads, file cached",
        measure: "time per read",
        claim: "5.random",
        mmap: ("mmap", "random.warm_mmap"),
        other: ("pread", "random.warm_pread"),
    },
    Row {
        workload: "random reads, file on disk",
        measure: "time per read",
        claim: "5.random",
        mmap: ("mmap + advise(Random)", "random.cold_mmap_random"),
        other: ("pread", "random.cold_pread"),
    },
    Row {
        workload: "one sequential pass, cached",
        measure: "time of the pass",
        claim: "11.sequential",
        mmap: ("mmap + advise(Sequential)", "sequential.warm_seq"),
        other: ("read() loop", "sequential.warm_read"),
    },
    Row {
        workload: "one sequential pass, from disk",
        measure: "time of the pass",
        claim: "11.sequential",
        mmap: ("mmap + advise(Sequential)", "sequential.cold_seq"),
        other: ("read() loop", "sequential.cold_read"),
    },
    Row {
        workload: "many small files (4 KiB)",
        measure: "time per file",
        claim: "11.small",
        mmap: ("mmap", "small.map_4k"),
        other: ("read()", "small.read_4k"),
    },
    Row {
        workload: "many small files (1 MiB)",
        measure: "time per file",
        claim: "11.small",
        mmap: ("mmap", "small.map_1m"),
        other: ("read()", "small.read_1m"),
    },
    Row {
        workload: "small writes, each synced",
        measure: "time per write",
        claim: "11.writes",
        mmap: ("store + msync", "writes.map_each"),
        other: ("pwrite + fdatasync", "writes.pwrite_each"),
    },
    Row {
        workload: "five processes sharing a file: RAM",
        measure: "summed Pss",
        claim: "9.saves-ram",
        mmap: ("mmap", "saves-ram.map.pss_sum"),
        other: ("fs::read each", "saves-ram.read.pss_sum"),
    },
    Row {
        workload: "five processes streaming a file: RAM",
        measure: "summed Pss",
        claim: "9.saves-ram",
        mmap: ("mmap", "saves-ram.map.pss_sum"),
        other: ("read() loop each", "saves-ram.stream.pss_sum"),
    },
    Row {
        workload: "async server, cold file, on the loop",
        measure: "heartbeat lateness",
        claim: "10.ok",
        mmap: ("mmap touched inline", "read-blocks.map_cold"),
        other: ("tokio::fs", "read-blocks.tokio_cold"),
    },
    Row {
        workload: "async server, cold file, off the loop",
        measure: "heartbeat lateness",
        claim: "10.ok",
        mmap: ("mmap in spawn_blocking", "ok.blocking_cold"),
        other: ("tokio::fs", "read-blocks.tokio_cold"),
    },
    Row {
        workload: "updates that must not tear (kills)",
        measure: "broken updates",
        claim: "11.tx",
        mmap: ("mmap, in place", "tx.map_torn"),
        other: ("SQLite, WAL", "tx.sqlite_broken"),
    },
];

/// What one machine's reports say about a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub row: Row,
    /// The winning way's words, `None` for a tie; the whole is `None` when a report or a
    /// measurement is missing.
    pub outcome: Option<(Option<&'static str>, String)>,
}

/// A measurement of `report` as a [`Spread`] (with its runs where they were recorded).
fn spread(report: &Report, name: &str) -> Option<Spread> {
    let median = report.value(name)?;
    let run = |end: &str| report.value(&format!("{name}.{end}")).unwrap_or(median);
    let runs = report
        .params
        .get("runs")
        .and_then(|r| r.as_u64())
        .unwrap_or(1);
    Some(Spread {
        median,
        fastest: run("fastest"),
        slowest: run("slowest"),
        runs: runs as usize,
    })
}

/// Each row decided from `reports` (by lesson number).
pub fn decide(reports: &BTreeMap<u8, Report>) -> Vec<Decided> {
    ROWS.iter()
        .map(|&row| {
            let lesson: u8 = row
                .claim
                .split('.')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let outcome = reports.get(&lesson).and_then(|r| {
                let (m, o) = (spread(r, row.mmap.1)?, spread(r, row.other.1)?);
                Some(compare(row, m, o))
            });
            Decided { row, outcome }
        })
        .collect()
}

/// The winner and the words for "by how much".
fn compare(row: Row, mmap: Spread, other: Spread) -> (Option<&'static str>, String) {
    let ((m, _), (o, _), what) = (row.mmap, row.other, row.measure);
    let lower = |win: &str, lose: &str, by: f64| {
        format!(
            "{win} — {} less {what} than {lose}",
            crate::quantity::Ratio(by)
        )
    };
    if mmap.median == 0.0 || other.median == 0.0 {
        return match (mmap.median == 0.0, other.median == 0.0) {
            (true, true) => (None, format!("a tie: no {what} either way")),
            (true, false) => (
                Some(m),
                format!("{m} — no {what} ({o}: {})", fmt(other.median)),
            ),
            _ => (
                Some(o),
                format!("{o} — no {what} ({m}: {})", fmt(mmap.median)),
            ),
        };
    }
    let v = mmap.versus(&other);
    match v.outcome {
        Outcome::Faster => (Some(m), lower(m, o, v.factor)),
        Outcome::Slower => (Some(o), lower(o, m, 1.0 / v.factor)),
        Outcome::Tie => (None, format!("a tie: {m} and {o} within 1.25× in {what}")),
    }
}

fn fmt(v: f64) -> String {
    crate::report::sig3(v)
}

/// The table as text, yours beside the reference when you have results.
pub fn to_text(reference: &[Decided], yours: Option<&[Decided]>, width: usize) -> String {
    let mut out = String::from("When to use mmap — the decision table from the lessons' numbers\n");
    for (i, r) in reference.iter().enumerate() {
        let _ = writeln!(out, "\n{} [{}]", r.row.workload, r.row.claim);
        let said = |d: &Decided| {
            d.outcome
                .as_ref()
                .map_or("not measured".into(), |o| o.1.clone())
        };
        if let Some(y) = yours.and_then(|y| y.get(i)) {
            wrap_into(
                &mut out,
                &format!("this machine: {}", said(y)),
                width,
                "  ",
                "    ",
            );
        }
        wrap_into(
            &mut out,
            &format!("reference:    {}", said(r)),
            width,
            "  ",
            "    ",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Unit;

    fn report(lesson: u8, values: &[(&str, f64)]) -> Report {
        let machine = crate::machine::Machine::detect(std::path::Path::new("."));
        let mut r = Report::new(lesson, "t", machine);
        for (name, v) in values {
            crate::findings::push(&mut r.measurements, name, "", *v, Unit::Seconds);
        }
        r
    }

    #[test]
    fn rows_are_decided_by_the_one_rule_and_say_so() {
        let mut reports = BTreeMap::new();
        reports.insert(
            5,
            report(
                5,
                &[("random.warm_mmap", 27e-9), ("random.warm_pread", 690e-9)],
            ),
        );
        reports.insert(
            11,
            report(11, &[("tx.map_torn", 10.0), ("tx.sqlite_broken", 0.0)]),
        );
        let d = decide(&reports);
        let cached = &d[0].outcome.as_ref().unwrap();
        assert_eq!(cached.0, Some("mmap"));
        assert_eq!(cached.1, "mmap — 25.6× less time per read than pread");
        assert!(d[1].outcome.is_none(), "cold reads were not measured");
        let tx = d.iter().find(|d| d.row.claim == "11.tx").unwrap();
        assert_eq!(tx.outcome.as_ref().unwrap().0, Some("SQLite, WAL"));
        let text = to_text(&d, None, 80);
        assert!(
            text.contains("random reads, file on disk [5.random]\n  reference:    not measured")
        );
    }

    #[test]
    fn every_row_names_a_claim_of_the_notes() {
        for row in ROWS {
            assert!(crate::claims::get(row.claim).is_some(), "{}", row.claim);
        }
    }
}
