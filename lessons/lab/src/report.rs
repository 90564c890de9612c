//! A lesson's result as data: the claims it checked, the numbers it measured and a verdict
//! per claim computed from those numbers. Rendered as text for the terminal, JSON for the
//! book and `just compare`, and Markdown for the book (with a reference machine's numbers
//! beside the reader's).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::judge::Judgement;
use crate::machine::Machine;
use crate::size;
use crate::{claims, files};

/// The unit of a measurement; it decides how the value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Bytes,
    Seconds,
    Pages,
    Count,
    /// A plain ratio such as a speed-up, printed as `3.2×`.
    Ratio,
    /// A share between 0 and 1, printed as a percentage.
    Fraction,
    #[serde(rename = "bytes/s")]
    BytesPerSecond,
    /// Yes (1) or no (0).
    Flag,
}

impl Unit {
    /// `value` in this unit, for people.
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "—".to_string();
        }
        match self {
            Unit::Bytes => size::fmt_f64(value),
            Unit::BytesPerSecond => format!("{}/s", size::fmt_f64(value)),
            Unit::Seconds => fmt_seconds(value),
            Unit::Pages => format!("{} pages", fmt_count(value)),
            Unit::Count => fmt_count(value),
            Unit::Ratio => format!("{}×", sig3(value)),
            Unit::Fraction => fmt_percent(value * 100.0),
            Unit::Flag => (if value != 0.0 { "yes" } else { "no" }).to_string(),
        }
    }
}

fn fmt_seconds(s: f64) -> String {
    let a = s.abs();
    let (v, unit) = if a >= 1.0 {
        (s, "s")
    } else if a >= 1e-3 {
        (s * 1e3, "ms")
    } else if a >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    format!("{} {unit}", sig3(v))
}

/// The range of a timed row's runs for a sentence: `1.44 to 1.65 µs`, or `905 µs to 1.1 ms`
/// when the units differ. Words, not an en dash: generated text must survive the book's
/// smart punctuation unchanged.
pub fn range(unit: Unit, low: f64, high: f64) -> String {
    let (a, b) = (unit.format(low), unit.format(high));
    match (a.split_once(' '), b.split_once(' ')) {
        (Some((x, ua)), Some((y, ub))) if ua == ub => format!("{x} to {y} {ub}"),
        _ => format!("{a} to {b}"),
    }
}

/// Three significant figures without trailing zeros: `3.2`, `0.312`, `1250`, `26`.
pub fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() >= 1e15 {
        return format!("{v:.2e}");
    }
    let digits = v.abs().log10().floor() as i32;
    let decimals = (2 - digits).clamp(0, 9) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A percentage: three significant figures, but never rounded up to 100 % or down to 0 %
/// from a value that is not exactly that.
fn fmt_percent(p: f64) -> String {
    let text = if p > 99.5 && p < 100.0 {
        format!("{:.2}", p.min(99.99))
            .trim_end_matches('0')
            .to_string()
    } else if p > 0.0 && p < 0.001 {
        "<0.001".to_string()
    } else {
        sig3(p)
    };
    format!("{text} %")
}

fn fmt_count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let digits = format!("{}", v.abs() as u64);
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if v < 0.0 { format!("-{out}") } else { out }
    } else {
        sig3(v)
    }
}

/// One number a lesson measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// A stable dotted name, e.g. `read.peak_rss`; the book and comparisons match on it.
    pub name: String,
    pub value: f64,
    pub unit: Unit,
    /// What it is, for people: `fs::read of the whole file, peak RSS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

/// The verdict on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The measurements agree with the claim.
    Holds,
    /// The claim holds under some conditions and not others; `why` says which side this run
    /// fell on.
    Depends,
    /// The measurements contradict the claim.
    Fails,
    /// This platform cannot show it; `why` says what would be needed.
    NotMeasured,
}

impl Verdict {
    /// `HOLDS`, `DEPENDS`, `FAILS` or `NOT MEASURED`.
    pub fn shout(self) -> &'static str {
        match self {
            Verdict::Holds => "HOLDS",
            Verdict::Depends => "DEPENDS",
            Verdict::Fails => "FAILS",
            Verdict::NotMeasured => "NOT MEASURED",
        }
    }

    /// `Holds` when `condition`, `Fails` otherwise.
    pub fn holds_if(condition: bool) -> Verdict {
        if condition {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    }
}

/// The verdict on one claim of the notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// The id from the notes, e.g. `5.ram`.
    pub id: String,
    /// The claim, quoted from the notes.
    pub claim: String,
    pub verdict: Verdict,
    /// The headline: one sentence built from the numbers of this run.
    pub why: String,
    /// Short clauses with the numbers behind the headline.
    #[serde(default)]
    pub details: Vec<String>,
    /// Names of the measurements the verdict rests on.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The few of them a reader should see first (the book's claim card shows these).
    #[serde(default)]
    pub key: Vec<String>,
}

/// Everything a lesson run found. See the crate docs for the JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub lesson: u8,
    pub title: String,
    pub machine: Machine,
    /// The run's parameters (`size_bytes`, `cold`, ...).
    pub params: BTreeMap<String, serde_json::Value>,
    pub measurements: Vec<Measurement>,
    pub claims: Vec<ClaimResult>,
    /// Things worth saying that are not numbers: a peer that was not installed, a warning
    /// about the data directory.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Commands worth running next.
    #[serde(default)]
    pub try_next: Vec<String>,
}

impl Report {
    pub fn new(lesson: u8, title: &str, machine: Machine) -> Report {
        Report {
            lesson,
            title: title.to_string(),
            machine,
            params: BTreeMap::new(),
            measurements: Vec::new(),
            claims: Vec::new(),
            notes: Vec::new(),
            try_next: Vec::new(),
        }
    }

    /// Records a parameter of the run.
    pub fn param(&mut self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.params.insert(key.to_string(), value);
    }

    /// The value of a recorded measurement.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.measurement(name).map(|m| m.value)
    }

    /// The recorded measurement named `name`.
    pub fn measurement(&self, name: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.name == name)
    }

    /// Records the verdict on claim `id`, quoting the claim from the notes. `evidence`
    /// names the measurements the verdict rests on, `key` the few of them to show first.
    pub fn claim(
        &mut self,
        id: &str,
        judgement: Judgement,
        evidence: Vec<String>,
        key: Vec<String>,
    ) {
        let claim = claims::get(id).map_or("(not a claim of the notes)", |c| c.text);
        debug_assert!(claims::get(id).is_some(), "unknown claim id {id}");
        self.claims.push(ClaimResult {
            id: id.to_string(),
            claim: claim.to_string(),
            verdict: judgement.verdict,
            why: judgement.headline,
            details: judgement.details,
            evidence,
            key,
        });
    }

    /// Adds a note (printed after the claims).
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Suggests a command to run next.
    pub fn try_next(&mut self, command: impl Into<String>) {
        self.try_next.push(command.into());
    }

    /// Reads a report written with `--format json` (by another machine, perhaps): a
    /// regular file of at most 16 MiB. Its text is made printable (control characters
    /// escaped), so a report cannot drive the reader's terminal.
    pub fn load(path: &Path) -> anyhow::Result<Report> {
        let text = files::read_text_capped(path, 16 << 20)
            .with_context(|| format!("read {}", files::show(path)))?;
        let mut report: Report = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a lesson report", files::show(path)))?;
        report.make_printable();
        Ok(report)
    }

    fn make_printable(&mut self) {
        let fix = |s: &mut String| *s = files::printable(s);
        fix(&mut self.title);
        for s in [
            &mut self.machine.os,
            &mut self.machine.kernel,
            &mut self.machine.cpu,
            &mut self.machine.fs,
            &mut self.machine.thp,
            &mut self.machine.rustc,
        ] {
            fix(s);
        }
        for m in &mut self.measurements {
            fix(&mut m.name);
            fix(&mut m.label);
        }
        for c in &mut self.claims {
            for s in [&mut c.id, &mut c.claim, &mut c.why] {
                fix(s);
            }
            c.details
                .iter_mut()
                .chain(&mut c.evidence)
                .chain(&mut c.key)
                .for_each(fix);
        }
        self.notes
            .iter_mut()
            .chain(&mut self.try_next)
            .for_each(fix);
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The terminal rendering, wrapped to `width` columns; with a reference, each number
    /// gets the reference's beside it.
    pub fn to_text(&self, reference: Option<&Report>, width: usize) -> String {
        let width = width.clamp(50, 140);
        let mut out = String::new();
        let head = format!("Lesson {} · {}", self.lesson, self.title);
        let _ = writeln!(out, "{head}");
        let _ = writeln!(
            out,
            "{}",
            "─".repeat(head.chars().count().max(40).min(width))
        );
        wrap_into(
            &mut out,
            &format!("machine: {}", self.machine.summary()),
            width,
            "",
            "  ",
        );
        if let Some(r) = reference {
            wrap_into(
                &mut out,
                &format!("reference: {}", r.machine.summary()),
                width,
                "",
                "  ",
            );
        }
        if !self.params.is_empty() {
            let params: Vec<String> = self.params.iter().map(|(k, v)| param_text(k, v)).collect();
            wrap_into(
                &mut out,
                &format!("parameters: {}", params.join(" · ")),
                width,
                "",
                "  ",
            );
        }
        let label_width = self
            .measurements
            .iter()
            .map(|m| m.display_name().chars().count())
            .max()
            .unwrap_or(0)
            .min(width / 2);
        // A timed row's fastest and slowest runs print on its own line, as a range.
        let range = |m: &Measurement| {
            let run = |end: &str| self.measurement(&format!("{}.{end}", m.name));
            run("fastest")
                .zip(run("slowest"))
                .map(|(a, b)| format!(" ({})", range(a.unit, a.value, b.value)))
        };
        let is_run = |m: &Measurement| {
            ["fastest", "slowest"].iter().any(|end| {
                m.name
                    .strip_suffix(end)
                    .and_then(|n| n.strip_suffix('.'))
                    .is_some_and(|n| self.measurement(n).is_some())
            })
        };
        let line = |out: &mut String, m: &Measurement| {
            if is_run(m) {
                return;
            }
            let mut value = m.unit.format(m.value) + &range(m).unwrap_or_default();
            if let Some(r) = reference.and_then(|r| r.measurement(&m.name)) {
                let _ = write!(value, "   (reference {})", r.unit.format(r.value));
            }
            let text = format!("{:<label_width$}  {value}", m.display_name());
            if text.chars().count() + 6 <= width {
                let _ = writeln!(out, "      {text}");
            } else {
                // The label wraps; the value (and the reference's) stays whole below it.
                wrap_into(out, m.display_name(), width, "      ", "        ");
                let _ = writeln!(out, "          {value}");
            }
        };
        for c in &self.claims {
            out.push('\n');
            wrap_into(
                &mut out,
                &format!("[{}] \"{}\"", c.id, c.claim),
                width,
                "",
                "  ",
            );
            let mut verdict = format!("{} — {}", c.verdict.shout(), c.why);
            if let Some(rc) = reference.and_then(|r| r.claims.iter().find(|x| x.id == c.id)) {
                let _ = write!(verdict, " (reference: {})", rc.verdict.shout());
            }
            wrap_into(&mut out, &verdict, width, "  ", "    ");
            for d in &c.details {
                wrap_into(&mut out, &format!("· {d}"), width, "    ", "      ");
            }
            for name in &c.evidence {
                if let Some(m) = self.measurement(name) {
                    line(&mut out, m);
                }
            }
        }
        let cited: Vec<&str> = self
            .claims
            .iter()
            .flat_map(|c| c.evidence.iter().map(String::as_str))
            .collect();
        let others: Vec<&Measurement> = self
            .measurements
            .iter()
            .filter(|m| !cited.contains(&m.name.as_str()))
            .collect();
        if !others.is_empty() {
            let _ = writeln!(out, "\nOther measurements");
            for m in others {
                line(&mut out, m);
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                wrap_into(&mut out, &format!("note: {n}"), width, "", "  ");
            }
        }
        if !self.try_next.is_empty() {
            out.push('\n');
            for t in &self.try_next {
                wrap_into(&mut out, &format!("Try next: {t}"), width, "", "  ");
            }
        }
        out
    }

    /// Markdown for the book: the verdicts and every measurement, with the reference
    /// machine's beside the reader's when a reference is given.
    pub fn to_markdown(&self, reference: Option<&Report>) -> String {
        let mut out = String::new();
        let you = "this machine";
        let _ = writeln!(out, "**{you}:** {}  ", self.machine.summary());
        if let Some(r) = reference {
            let _ = writeln!(out, "**reference:** {}  ", r.machine.summary());
        }
        out.push('\n');
        match reference {
            Some(_) => {
                let _ = writeln!(out, "| claim | verdict here | reference | why (here) |");
                let _ = writeln!(out, "| :--- | :--- | :--- | :--- |");
            }
            None => {
                let _ = writeln!(out, "| claim | verdict | why |");
                let _ = writeln!(out, "| :--- | :--- | :--- |");
            }
        }
        for c in &self.claims {
            let _ = write!(
                out,
                "| `[{}]` {} | **{}** |",
                c.id,
                md_cell(&c.claim),
                c.verdict.shout()
            );
            if let Some(r) = reference {
                let rv = r
                    .claims
                    .iter()
                    .find(|x| x.id == c.id)
                    .map_or("—", |x| x.verdict.shout());
                let _ = write!(out, " {rv} |");
            }
            let mut why = md_cell(&c.why);
            for d in &c.details {
                let _ = write!(why, "<br>· {}", md_cell(d));
            }
            let _ = writeln!(out, " {why} |");
        }
        out.push('\n');
        match reference {
            Some(_) => {
                let _ = writeln!(out, "| measurement | this machine | reference |");
                let _ = writeln!(out, "| :--- | ---: | ---: |");
            }
            None => {
                let _ = writeln!(out, "| measurement | value |");
                let _ = writeln!(out, "| :--- | ---: |");
            }
        }
        for m in &self.measurements {
            let _ = write!(
                out,
                "| {} | {} |",
                md_cell(m.display_name()),
                m.unit.format(m.value)
            );
            if let Some(r) = reference {
                let rv = r
                    .measurement(&m.name)
                    .map_or("—".to_string(), |x| x.unit.format(x.value));
                let _ = write!(out, " {rv} |");
            }
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "> {}\n", md_cell(n));
            }
        }
        out
    }
}

impl Measurement {
    /// The label, or the name where there is no label.
    pub fn display_name(&self) -> &str {
        if self.label.is_empty() {
            &self.name
        } else {
            &self.label
        }
    }
}

/// A parameter for people: sizes (`NAME_bytes`) as sizes, flags as yes/no.
fn param_text(key: &str, value: &serde_json::Value) -> String {
    match (key.strip_suffix("_bytes"), value) {
        (Some(name), serde_json::Value::Number(n)) => {
            format!("{name} {}", size::fmt_f64(n.as_f64().unwrap_or(f64::NAN)))
        }
        (_, serde_json::Value::Bool(b)) => format!("{key} {}", if *b { "yes" } else { "no" }),
        (_, serde_json::Value::String(t)) => format!("{key} {t}"),
        _ => format!("{key} {value}"),
    }
}

/// The words of `text`, a number and the unit after it kept together (`4.88 ms`, `2 GiB/s`),
/// so that a value and its unit never split across lines.
fn glue_units(text: &str) -> Vec<String> {
    const UNITS: [&str; 14] = [
        "B", "KiB", "MiB", "GiB", "TiB", "PiB", "ns", "µs", "ms", "s", "%", "pages", "page", "×",
    ];
    let mut out: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let bare = word.trim_end_matches([')', ',', ';', ':', '.', '/']);
        let bare = bare.strip_suffix("/s").unwrap_or(bare);
        let after_number = out
            .last()
            .is_some_and(|prev| prev.ends_with(|c: char| c.is_ascii_digit()));
        match out.last_mut() {
            Some(prev) if after_number && UNITS.contains(&bare) => {
                prev.push(' ');
                prev.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
    }
    out
}

/// Appends `text` wrapped at word boundaries to `width` columns: the first line after
/// `first`, the others after `rest`. A word longer than a line stands on a line of its own.
pub fn wrap_into(out: &mut String, text: &str, width: usize, first: &str, rest: &str) {
    if first.chars().count() + text.chars().count() <= width && !text.contains('\n') {
        out.push_str(first);
        out.push_str(text);
        out.push('\n');
        return;
    }
    let mut line = String::from(first);
    let mut indent_len = first.chars().count();
    let mut len = indent_len;
    for word in glue_units(text) {
        let word = word.as_str();
        let n = word.chars().count();
        if len > indent_len && len + 1 + n > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(rest);
            indent_len = rest.chars().count();
            len = indent_len;
        }
        if len > indent_len {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += n;
    }
    out.push_str(&line);
    out.push('\n');
}

/// `text` made safe for one Markdown table cell (no `|`, no line breaks).
pub fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn machine() -> Machine {
        Machine {
            os: "TestOS".into(),
            kernel: "6.0".into(),
            cpu: "cpu".into(),
            cores: 2,
            ram_bytes: 8 << 30,
            page_size: 4096,
            fs: "ext4".into(),
            thp: "madvise".into(),
            read_ahead_kb: Some(128),
            rustc: "rustc 1.0".into(),
        }
    }

    fn sample() -> Report {
        let mut r = Report::new(5, "read() vs mmap", machine());
        r.param("size_bytes", 1u64 << 30);
        r.param("cold", false);
        for (name, label, value) in [
            ("ram.read_peak", "fs::read, peak RSS", 1.07e9),
            ("ram.mmap_rss", "mmap, 10 MiB touched, RSS", 1.2e7),
        ] {
            crate::findings::push(&mut r.measurements, name, label, value, Unit::Bytes);
        }
        let long = "mmap's RSS stayed a hundredth of fs::read's peak because only the touched \
                    pages were ever loaded, while fs::read copied the whole file into the heap";
        r.claim(
            "5.ram",
            Judgement::new(Verdict::Holds)
                .headline(long)
                .detail("read: 1 GiB peak"),
            vec!["ram.read_peak".into(), "ram.mmap_rss".into()],
            vec!["ram.read_peak".into()],
        );
        r
    }

    #[test]
    fn json_has_the_design_fields_and_round_trips() {
        let r = sample();
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["lesson"], 5);
        assert_eq!(v["machine"]["page_size"], 4096);
        assert_eq!(v["params"]["size_bytes"], 1u64 << 30);
        assert_eq!(v["measurements"][0]["unit"], "bytes");
        assert_eq!(v["claims"][0]["verdict"], "holds");
        assert_eq!(v["claims"][0]["details"][0], "read: 1 GiB peak");
        assert_eq!(v["claims"][0]["key"][0], "ram.read_peak");
        assert_eq!(
            v["claims"][0]["claim"],
            "RAM usage: read() high, mmap minimal"
        );
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn text_wraps_to_the_width_and_puts_evidence_under_its_claim() {
        let r = sample();
        let mut reference = sample();
        reference.measurements[0].value = 2.0e9;
        let text = r.to_text(Some(&reference), 60);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 60,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        let claim_at = text.find("[5.ram]").unwrap();
        let rss_at = text.find("fs::read, peak RSS").unwrap();
        assert!(rss_at > claim_at);
        assert!(text.contains("HOLDS — mmap's RSS"), "{text}");
        assert!(text.contains("· read: 1 GiB peak"), "{text}");
        assert!(text.contains("(reference 1.86 GiB)"), "{text}");
        assert!(text.contains("parameters: cold no · size 1 GiB"), "{text}");
        assert!(
            text.contains("\n          11.4 MiB   (reference 11.4 MiB)\n"),
            "{text}"
        );
    }

    #[test]
    fn markdown_has_both_columns() {
        let r = sample();
        let md = r.to_markdown(Some(&r));
        assert!(md.contains("| measurement | this machine | reference |"));
        assert!(
            md.contains("| fs::read, peak RSS | 1020 MiB | 1020 MiB |"),
            "{md}"
        );
    }

    #[test]
    fn units_print_for_people() {
        assert_eq!(Unit::Seconds.format(0.0015), "1.5 ms");
        assert_eq!(Unit::Seconds.format(0.000_231_4), "231 µs");
        assert_eq!(Unit::Count.format(1234567.0), "1,234,567");
        assert_eq!(Unit::Count.format(2.5), "2.5");
        assert_eq!(Unit::Fraction.format(0.5), "50 %");
        assert_eq!(Unit::Fraction.format(0.9996), "99.96 %");
        assert_eq!(Unit::Ratio.format(3.204), "3.2×");
        assert_eq!(Unit::Ratio.format(0.3126), "0.313×");
        assert_eq!(Unit::Flag.format(1.0), "yes");
        assert_eq!(range(Unit::Seconds, 1.44e-6, 1.65e-6), "1.44 to 1.65 µs");
        assert_eq!(range(Unit::Seconds, 905e-6, 1.1e-3), "905 µs to 1.1 ms");
        assert_eq!(Unit::Seconds.format(1e300), "1.00e300 s");
        assert_eq!(Unit::BytesPerSecond.format(f64::INFINITY), "—");
        assert_eq!(
            Unit::BytesPerSecond.format(2.0 * 1024.0 * 1024.0 * 1024.0),
            "2 GiB/s"
        );
    }
}
