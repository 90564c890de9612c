//! Printing a comparison: a table with the findings for the terminal or the book, or JSON.

use super::Comparison;
use super::words::{display_id, speed_words};

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
