//! `book/src/generated/`: everything in the book that comes from numbers.
//!
//! Every file is made from the reference results alone when the reader has none yet, and
//! says which command adds the reader's. Image paths are written relative to `book/src/`,
//! where the chapters that include these files live (mdBook pastes an included file into
//! the chapter, so its links resolve from the chapter).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mmap_lab::bench::{self, BenchResult, BenchResults, param_label, param_order};
use mmap_lab::machine::Machine;
use mmap_lab::report::{Measurement, Report, Unit, Verdict, md_cell};
use mmap_lab::{claims, size};

use crate::results::Results;
use crate::{Paths, plot};

/// The command that puts the reader's numbers into the book.
pub const ADD_YOURS: &str = "just book";

/// Generated files: path relative to `book/src/generated/` → contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Makes every generated file from `results` and the notes.
pub fn generate(paths: &Paths, results: &Results) -> anyhow::Result<Files> {
    let notes_path = paths.notes();
    let notes = std::fs::read_to_string(&notes_path)
        .with_context(|| format!("read {}", notes_path.display()))?;
    let chapters = chapter_files(&paths.src())?;
    let mut files = Files::new();
    let mut put = |name: String, text: String| files.insert(name, text.into_bytes());

    for (n, (_title, body)) in notes_sections(&notes) {
        put(format!("lesson-{n:02}/notes.md"), body);
    }
    let lessons: BTreeSet<u8> = results
        .reference
        .lessons
        .keys()
        .chain(results.reader.lessons.keys())
        .copied()
        .collect();
    for &n in &lessons {
        let reference = results.reference.lessons.get(&n);
        let reader = results.reader.lessons.get(&n);
        put(
            format!("lesson-{n:02}/results.md"),
            lesson_results(n, reference, reader, !results.reader.lessons.is_empty()),
        );
        put(
            format!("lesson-{n:02}/report.md"),
            lesson_report(reference, reader),
        );
    }
    put("machines.md".into(), machines(results));
    put("status.md".into(), status(results));
    put("scoreboard.md".into(), scoreboard(results, &chapters));

    let reference_bench = results.reference.bench.as_ref();
    let reader_bench = results.reader.bench.as_ref();
    let groups: BTreeSet<&str> = reference_bench
        .into_iter()
        .chain(reader_bench)
        .flat_map(|b| b.benchmarks.iter().map(|r| r.group.as_str()))
        .collect();
    for group in groups {
        let reference = of_group(reference_bench, group);
        let reader = of_group(reader_bench, group);
        let svg = plot::group(group, &reference, &reader)?;
        files.insert(format!("bench/{group}.svg"), svg.into_bytes());
        files.insert(
            format!("bench/{group}.md"),
            bench_group(group, &reference, &reader, reader_bench.is_some()).into_bytes(),
        );
    }
    let (compare_md, pairs) = compare(results);
    files.insert("compare.md".into(), compare_md.into_bytes());
    if !pairs.is_empty() {
        files.insert("compare.svg".into(), plot::compare(&pairs)?.into_bytes());
    }
    Ok(files)
}

/// Writes `files` into `book/src/generated/`, touching only files whose contents changed
/// (so `mdbook serve`, which watches `src/`, does not rebuild forever) and removing files
/// that are no longer generated. Returns how many files were written or removed.
pub fn write(paths: &Paths, files: &Files) -> anyhow::Result<usize> {
    let root = paths.generated();
    let mut changed = 0;
    for (name, contents) in files {
        let path = root.join(name);
        if std::fs::read(&path).is_ok_and(|old| &old == contents) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&tmp, contents).with_context(|| format!("write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("write {}", path.display()))?;
        changed += 1;
    }
    for stale in existing_files(&root)? {
        let name = stale
            .strip_prefix(&root)
            .unwrap_or(&stale)
            .to_string_lossy()
            .replace('\\', "/");
        if !files.contains_key(&name) {
            std::fs::remove_file(&stale).with_context(|| format!("remove {}", stale.display()))?;
            changed += 1;
        }
    }
    Ok(changed)
}

fn existing_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.extend(existing_files(&entry.path())?);
        } else {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// The chapters of the book that teach lesson `n`: `book/src/NN-slug.md`, by number.
fn chapter_files(src: &Path) -> anyhow::Result<BTreeMap<u8, String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src).with_context(|| format!("read {}", src.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some((num, _)) = name.split_once('-')
            && name.ends_with(".md")
            && num.len() == 2
            && let Ok(n) = num.parse::<u8>()
        {
            out.insert(n, name);
        }
    }
    Ok(out)
}

/// The numbered sections of the notes: number → (title, body with claim ids as code).
pub fn notes_sections(notes: &str) -> BTreeMap<u8, (String, String)> {
    let mut out = BTreeMap::new();
    let mut current: Option<(u8, String, Vec<&str>)> = None;
    for line in notes.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            if let Some((n, title, body)) = current.take() {
                out.insert(n, (title, mark_claim_ids(body.join("\n").trim())));
            }
            if let Some((n, title)) = heading.split_once(". ")
                && let Ok(n) = n.parse::<u8>()
            {
                current = Some((n, title.trim().to_string(), Vec::new()));
            }
        } else if let Some((_, _, body)) = current.as_mut() {
            body.push(line);
        }
    }
    if let Some((n, title, body)) = current {
        out.insert(n, (title, mark_claim_ids(body.join("\n").trim())));
    }
    for (_, body) in out.values_mut() {
        body.push('\n');
    }
    out
}

/// `[5.ram]` → `` `[5.ram]` `` for every id of the notes, so ids stand out and never read
/// as Markdown link labels. Code blocks are left alone.
fn mark_claim_ids(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let mut line = line.to_string();
        if !in_code {
            for c in claims::ALL {
                line = line.replace(&format!("[{}]", c.id), &format!("`[{}]`", c.id));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

fn verdict(v: Verdict) -> String {
    format!("**{}**", v.shout())
}

fn params(report: &Report) -> String {
    report
        .params
        .iter()
        .map(|(k, v)| match (k.as_str(), v.as_u64()) {
            ("size_bytes", Some(b)) => format!("size {}", size::fmt(b)),
            _ => format!("{k} = {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdicts and measurements of lesson `n`, reference beside the reader's.
fn lesson_results(
    n: u8,
    reference: Option<&Report>,
    reader: Option<&Report>,
    reader_ran_any: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- generated by mmap-book; edit the lesson, not this file -->"
    );
    match reference {
        Some(r) => {
            let _ = writeln!(
                out,
                "- **Reference machine:** {} ({})",
                r.machine.summary(),
                params(r)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- **Reference machine:** no reference run of this lesson yet (`just reference` \
                 makes one)"
            );
        }
    }
    match reader {
        Some(r) => {
            let _ = writeln!(
                out,
                "- **Your machine:** {} ({})",
                r.machine.summary(),
                params(r)
            );
        }
        None if reader_ran_any => {
            let _ = writeln!(
                out,
                "- **Your machine:** lesson {n} has not run here yet — `{ADD_YOURS}` runs it \
                 and puts your numbers beside these."
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- **Your machine:** not measured yet. These are the reference machine's \
                 numbers; `{ADD_YOURS}` runs every lesson on your machine and puts yours \
                 beside them."
            );
        }
    }
    out.push('\n');

    let reports: Vec<(&str, &Report)> = [("reference", reference), ("your machine", reader)]
        .into_iter()
        .filter_map(|(who, r)| r.map(|r| (who, r)))
        .collect();
    let mut ids: Vec<&str> = claims::of_section(n).map(|c| c.id).collect();
    for (_, r) in &reports {
        for c in &r.claims {
            if !ids.contains(&c.id.as_str()) {
                ids.push(&c.id);
            }
        }
    }
    let _ = writeln!(out, "### Verdicts\n");
    for id in ids {
        let text = claims::get(id).map_or("", |c| c.text);
        let _ = writeln!(out, "#### `[{id}]` {text}\n");
        let _ = writeln!(out, "| | verdict | why |");
        let _ = writeln!(out, "| :--- | :--- | :--- |");
        for (who, r) in &reports {
            match r.claims.iter().find(|c| c.id == id) {
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "| {who} | {} | {} |",
                        verdict(c.verdict),
                        md_cell(&c.why)
                    );
                }
                None => {
                    let _ = writeln!(out, "| {who} | — | this run did not check it |");
                }
            }
        }
        out.push('\n');
    }

    let _ = writeln!(out, "### Measurements\n");
    let mut names: Vec<&str> = Vec::new();
    for (_, r) in &reports {
        for m in &r.measurements {
            if !names.contains(&m.name.as_str()) {
                names.push(&m.name);
            }
        }
    }
    let header: Vec<&str> = reports.iter().map(|(who, _)| *who).collect();
    let _ = writeln!(out, "| measurement | {} |", header.join(" | "));
    let _ = writeln!(out, "| :--- |{}", " ---: |".repeat(reports.len()));
    for name in names {
        let found: Vec<Option<&Measurement>> =
            reports.iter().map(|(_, r)| r.measurement(name)).collect();
        let Some(first) = found.iter().flatten().next() else {
            continue;
        };
        let values: Vec<String> = found
            .iter()
            .map(|m| m.map_or("—".to_string(), |m| m.unit.format(m.value)))
            .collect();
        let _ = writeln!(
            out,
            "| {} <br><small>`{name}`</small> | {} |",
            md_cell(first.display_name()),
            values.join(" | ")
        );
    }
    let notes: Vec<String> = reports
        .iter()
        .flat_map(|(who, r)| r.notes.iter().map(move |n| format!("{who}: {n}")))
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "> {}  ", md_cell(&n));
        }
    }
    out
}

/// The lesson's terminal output: the reader's with the reference's numbers beside each
/// value, or the reference's alone.
fn lesson_report(reference: Option<&Report>, reader: Option<&Report>) -> String {
    let (what, text) = match (reader, reference) {
        (Some(r), reference) => (
            "Your run, as `just lesson` prints it with `--reference` (the reference machine's \
             numbers in brackets):",
            r.to_text(reference, 100),
        ),
        (None, Some(r)) => (
            "The reference machine's run, as `just lesson` prints it:",
            r.to_text(None, 100),
        ),
        (None, None) => return String::new(),
    };
    format!("{what}\n\n```text\n{}\n```\n", text.trim_end())
}

fn machine_rows(machines: &[(&str, &Machine)]) -> String {
    let mut out = String::new();
    let names: Vec<&str> = machines.iter().map(|(n, _)| *n).collect();
    let _ = writeln!(out, "| | {} |", names.join(" | "));
    let _ = writeln!(out, "| :--- |{}", " :--- |".repeat(machines.len()));
    type Field = fn(&Machine) -> String;
    let fields: [(&str, Field); 10] = [
        ("operating system", |m| m.os.clone()),
        ("kernel", |m| m.kernel.clone()),
        ("CPU", |m| m.cpu.clone()),
        ("cores", |m| m.cores.to_string()),
        ("RAM", |m| size::fmt(m.ram_bytes)),
        ("page size", |m| size::fmt(m.page_size as u64)),
        ("filesystem of the data directory", |m| m.fs.clone()),
        ("transparent huge pages", |m| m.thp.clone()),
        ("readahead (`read_ahead_kb`)", |m| {
            m.read_ahead_kb
                .map_or("unknown".into(), |kb| size::fmt(kb * 1024))
        }),
        ("compiler", |m| m.rustc.clone()),
    ];
    for (name, get) in fields {
        let values: Vec<String> = machines.iter().map(|(_, m)| md_cell(&get(m))).collect();
        let _ = writeln!(out, "| {name} | {} |", values.join(" | "));
    }
    out
}

fn machines(results: &Results) -> String {
    let mut list: Vec<(&str, &Machine)> = Vec::new();
    if let Some(m) = results.reference.machine() {
        list.push(("reference machine", m));
    }
    if let Some(m) = results.reader.machine() {
        list.push(("your machine", m));
    }
    if list.is_empty() {
        return "No results yet: `just reference` records the reference machine's, \
                `just book` yours.\n"
            .into();
    }
    let mut out = machine_rows(&list);
    if results.reader.is_empty() {
        let _ = writeln!(out, "\nYour machine joins this table after `{ADD_YOURS}`.");
    }
    out
}

fn status(results: &Results) -> String {
    let reader = &results.reader;
    if reader.is_empty() {
        return format!(
            "> [!NOTE]\n> This copy of the book shows the **reference machine's** numbers only. \
             Run `{ADD_YOURS}` in the workspace to run every lesson and the quick benchmarks \
             on your machine; each chapter then shows your numbers beside the reference's.\n"
        );
    }
    let lessons: Vec<String> = reader.lessons.keys().map(u8::to_string).collect();
    let bench = reader.bench.as_ref().map_or(
        "no benchmarks yet (`just bench` or `just book` runs them)".to_string(),
        |b| format!("{} benchmarks ({} run)", b.benchmarks.len(), b.mode),
    );
    let machine = reader.machine().map_or(String::new(), Machine::summary);
    format!(
        "> [!NOTE]\n> This copy of the book shows **your numbers** beside the reference \
         machine's: lessons {} and {bench}, measured on {machine}. Run `{ADD_YOURS}` again \
         to refresh them.\n",
        lessons.join(", ")
    )
}

/// Every claim of the notes with its verdict on both machines.
fn scoreboard(results: &Results, chapters: &BTreeMap<u8, String>) -> String {
    let find = |side: &crate::results::Side, id: &str| {
        side.lessons
            .values()
            .flat_map(|r| r.claims.iter())
            .find(|c| c.id == id)
            .map(|c| c.verdict)
    };
    let mut out = String::new();
    let reader_any = !results.reader.lessons.is_empty();
    let mut tally: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut rows = String::new();
    for c in claims::ALL {
        let covered = chapters.contains_key(&c.section)
            || results.reference.lessons.contains_key(&c.section)
            || results.reader.lessons.contains_key(&c.section);
        let show = |side: &crate::results::Side, who: &'static str| match find(side, c.id) {
            Some(v) => (who, v.shout().to_string()),
            None if !covered => (who, "not yet covered".to_string()),
            None if who == "your machine" && !side.lessons.contains_key(&c.section) => {
                (who, "not run yet".to_string())
            }
            None => (who, "not checked".to_string()),
        };
        let r = show(&results.reference, "reference");
        let y = show(&results.reader, "your machine");
        let lesson = match chapters.get(&c.section) {
            Some(file) => format!("[{}]({file})", c.section),
            None => c.section.to_string(),
        };
        let bold = |s: &str| {
            if s.chars().all(|ch| ch.is_ascii_uppercase() || ch == ' ') {
                format!("**{s}**")
            } else {
                format!("*{s}*")
            }
        };
        let _ = writeln!(
            rows,
            "| `[{}]` | {} | {lesson} | {} | {} |",
            c.id,
            md_cell(c.text),
            bold(&r.1),
            bold(&y.1)
        );
        *tally.entry((r.0, r.1)).or_default() += 1;
        *tally.entry((y.0, y.1)).or_default() += 1;
    }
    let summary = |who: &str| {
        tally
            .iter()
            .filter(|((w, _), _)| *w == who)
            .map(|((_, v), n)| format!("{n} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "Of the {} claims in the notes — **reference machine:** {}.  ",
        claims::ALL.len(),
        summary("reference")
    );
    if reader_any {
        let _ = writeln!(out, "**Your machine:** {}.\n", summary("your machine"));
    } else {
        let _ = writeln!(
            out,
            "**Your machine:** nothing run yet — `{ADD_YOURS}` fills that column.\n"
        );
    }
    let _ = writeln!(
        out,
        "| id | the notes say | lesson | reference | your machine |"
    );
    let _ = writeln!(out, "| :--- | :--- | :---: | :--- | :--- |");
    out.push_str(&rows);
    out
}

fn of_group<'a>(bench: Option<&'a BenchResults>, group: &str) -> Vec<&'a BenchResult> {
    bench
        .map(|b| b.benchmarks.iter().filter(|r| r.group == group).collect())
        .unwrap_or_default()
}

fn timing(r: &BenchResult) -> String {
    let time = Unit::Seconds.format(r.median_ns * 1e-9);
    match r.bytes_per_second() {
        Some(rate) => format!(
            "{time} <br><small>{}</small>",
            Unit::BytesPerSecond.format(rate)
        ),
        None => time,
    }
}

/// The key that pairs a reader's benchmark with the reference's.
fn key(r: &BenchResult) -> (&str, Option<&str>) {
    (&r.function, r.parameter.as_deref())
}

fn bench_group(
    group: &str,
    reference: &[&BenchResult],
    reader: &[&BenchResult],
    reader_ran: bool,
) -> String {
    let mut out = String::new();
    let mut keys: Vec<(&str, Option<&str>)> = reference.iter().map(|r| key(r)).collect();
    for r in reader {
        if !keys.contains(&key(r)) {
            keys.push(key(r));
        }
    }
    let functions: Vec<&str> = keys.iter().map(|k| k.0).collect();
    keys.sort_by(|a, b| {
        let rank = |k: &(&str, Option<&str>)| functions.iter().position(|f| *f == k.0);
        rank(a).cmp(&rank(b)).then(param_order(a.1, b.1))
    });
    let _ = writeln!(
        out,
        "Median time per iteration (criterion), with the throughput below it.\n"
    );
    let _ = writeln!(
        out,
        "| `{group}` | parameter | reference | your machine | yours vs reference |"
    );
    let _ = writeln!(out, "| :--- | :--- | ---: | ---: | ---: |");
    for k in keys {
        let a = reference.iter().find(|r| key(r) == k);
        let b = reader.iter().find(|r| key(r) == k);
        let any = a.or(b).expect("every key comes from one side");
        let ratio = a
            .zip(b)
            .and_then(|(a, b)| bench::speedup(a, b))
            .map_or_else(|| "—".into(), bench::speed_words);
        let yours = match b {
            Some(b) => timing(b),
            None if reader_ran => "—".into(),
            None => format!("`{ADD_YOURS}`"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {yours} | {ratio} |",
            md_cell(&any.function),
            param_label(any),
            a.map_or("—".into(), |a| timing(a)),
        );
    }
    let who = if reader.is_empty() {
        format!("the reference machine (`{ADD_YOURS}` adds yours)")
    } else {
        "the reference (dashed line, open circles) and your machine (solid line, filled circles)"
            .into()
    };
    let _ = writeln!(
        out,
        "\n![{group}: {who}](generated/bench/{group}.svg)\n\n<small>Plot: `{group}` on {who}.</small>"
    );
    out
}

/// The "your machine vs the reference" page — mmap-lab's comparison, the same one
/// `just compare` prints — and the pairs (benchmark, reference time ÷ yours) it plots.
fn compare(results: &Results) -> (String, Vec<(String, f64)>) {
    let mut out = String::new();
    let (Some(reference), reader) = (
        results.reference.bench.as_ref(),
        results.reader.bench.as_ref(),
    ) else {
        return (
            "There are no reference benchmark results yet (`just reference` records them).\n"
                .into(),
            Vec::new(),
        );
    };
    let Some(reader) = reader else {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> You have no benchmark results yet. `{ADD_YOURS}` runs the quick \
             benchmarks (`just bench` the full suite) and this page then compares every one \
             of them with the reference machine. Until then, here are the reference's \
             numbers ({} run, {} benchmarks).\n",
            reference.mode,
            reference.benchmarks.len()
        );
        let _ = writeln!(out, "| benchmark | reference |");
        let _ = writeln!(out, "| :--- | ---: |");
        for r in &reference.benchmarks {
            let _ = writeln!(out, "| `{}` | {} |", r.id, timing(r));
        }
        return (out, Vec::new());
    };
    let comparison = bench::compare(reference, reader);
    let pairs: Vec<(String, f64)> = comparison
        .rows
        .iter()
        .filter_map(|row| {
            let label = match reader.get(&row.id) {
                Some(r) => format!("{}/{} {}", row.group, row.function, param_label(r)),
                None => row.id.clone(),
            };
            Some((label.trim().to_string(), row.speedup?))
        })
        .collect();
    if reader.mode != reference.mode {
        let _ = writeln!(
            out,
            "Your results come from a **{}** run and the reference's from a **{}** run; \
             quick runs measure each benchmark for less time and skip some sizes, so expect \
             more noise and some empty cells.\n",
            reader.mode, reference.mode
        );
    }
    if !pairs.is_empty() {
        let _ = writeln!(
            out,
            "![reference time ÷ your time, per benchmark: above 1× your machine is \
             faster](generated/compare.svg)\n"
        );
    }
    out.push_str(&comparison.to_markdown());
    (out, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_sections_are_cut_at_numbered_headings() {
        let notes = "# T\n\nintro\n\n## 1. One\n\n- [1.a] x\n\n## 2. Two\n\n```py\nq[1.a]\n```\n\n## ✅ Summary\n\nend\n";
        let s = notes_sections(notes);
        assert_eq!(s.len(), 2);
        assert_eq!(s[&1].0, "One");
        assert!(s[&1].1.starts_with("- [1.a] x"));
        assert!(!s[&2].1.contains("end"), "{}", s[&2].1);
    }

    #[test]
    fn claim_ids_become_code_outside_code_blocks() {
        let text = "- [5.ram] yes\n```\nmm[5.ram]\n```";
        let out = mark_claim_ids(text);
        assert!(out.starts_with("- `[5.ram]` yes"));
        assert!(out.contains("mm[5.ram]"));
    }
}
