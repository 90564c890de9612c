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
use mmap_lab::report::{Report, Unit, Verdict, md_cell};
use mmap_lab::{claims, size};

use crate::cards::{self, Lesson};
use crate::html::{self, badge, claim_anchor, count, esc, inline, no_badge};
use crate::results::{Results, Side};
use crate::{Paths, plot};

/// The command that puts the reader's numbers into the book.
pub const ADD_YOURS: &str = "just book";

/// Generated files: path relative to `book/src/generated/` → contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Makes every generated file from `results` and the notes.
pub fn generate(paths: &Paths, results: &Results) -> anyhow::Result<Files> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))
    };
    let notes = notes_sections(&read(paths.notes())?);
    let original = notes_sections(&read(paths.notes_original())?);
    let chapters = chapter_files(&paths.src())?;
    let mut files = Files::new();
    let mut put = |name: String, text: String| files.insert(name, text.into_bytes());

    for (n, (_title, body)) in &notes {
        put(
            format!("lesson-{n:02}/notes.md"),
            notes_page(*n, body, original.get(n)),
        );
    }
    let lessons: BTreeSet<u8> = results
        .reference
        .lessons
        .keys()
        .chain(results.reader.lessons.keys())
        .copied()
        .collect();
    for &n in &lessons {
        let lesson = Lesson {
            number: n,
            reference: results.reference.lessons.get(&n),
            reader: results.reader.lessons.get(&n),
            reader_ran_any: !results.reader.lessons.is_empty(),
        };
        put(
            format!("lesson-{n:02}/verdicts.md"),
            cards::verdicts(&lesson),
        );
        put(format!("lesson-{n:02}/cards.md"), cards::cards(&lesson));
        put(
            format!("lesson-{n:02}/report.md"),
            lesson_report(lesson.reference, lesson.reader),
        );
    }
    let summary = |text: &str| crate::summary::notes_summary(text);
    if let Some((_, english)) = summary(&read(paths.notes())?) {
        let uzbek = summary(&read(paths.notes_original())?);
        put(
            "summary/notes.md".into(),
            notes_page(0, &english, uzbek.as_ref()),
        );
    }
    put(
        "summary/table.md".into(),
        crate::summary::table(results, &chapters),
    );
    put("machines.md".into(), machines(results));
    put("status.md".into(), status(results));
    put(
        "scoreboard.md".into(),
        scoreboard(results, &chapters, &notes),
    );

    let reference_bench = results.reference.bench.as_ref();
    let reader_bench = results.reader.bench.as_ref();
    let groups: BTreeSet<&str> = reference_bench
        .into_iter()
        .chain(reader_bench)
        .flat_map(|b| b.benchmarks.iter().map(|r| r.group.as_str()))
        .collect();
    let pages = source_pages(&paths.src(), &paths.generated())?;
    for group in groups {
        let reference = of_group(reference_bench, group);
        let reader = of_group(reader_bench, group);
        let svg = plot::group(group, &reference, &reader)?;
        put(format!("bench/{group}.svg"), svg);
        put(
            format!("bench/{group}.md"),
            bench_group(group, &reference, &reader, reader_bench.is_some()),
        );
        put(format!("bench/{group}-link.md"), bench_link(group, &pages));
    }
    let (compare_md, pairs) = compare(results);
    put("compare.md".into(), compare_md);
    if !pairs.is_empty() {
        put("compare.svg".into(), plot::compare(&pairs)?);
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

/// Emoji of the notes and the plain symbols that stand for them: without an emoji font
/// (common on servers and in PDF printers) emoji render as empty boxes.
const SYMBOLS: [(&str, &str); 7] = [
    ("✅", "✓"),
    ("❌", "✗"),
    ("⚠️", "⚠"),
    ("👉", "→"),
    ("👇", "↓"),
    ("📌", "▸"),
    ("\u{fe0f}", ""),
];

/// `text` with the notes' emoji as plain symbols ([`SYMBOLS`]).
fn plain_symbols(text: &str) -> String {
    SYMBOLS.iter().fold(text.to_string(), |t, (emoji, plain)| {
        t.replace(emoji, plain)
    })
}

/// A lesson's `notes.md`: its section of the notes in English, and the Uzbek original
/// (`original`: title and body) a tab away. The tabs are two radio buttons, so the page
/// needs no script; print shows both languages.
fn notes_page(n: u8, english: &str, original: Option<&(String, String)>) -> String {
    let english = plain_symbols(english);
    let Some((title, uzbek)) = original else {
        return english;
    };
    format!(
        "<div class=\"notes-tabs\">\n\
         <input type=\"radio\" name=\"notes-{n:02}\" id=\"notes-{n:02}-en\" class=\"show-en\" checked>\
         <label for=\"notes-{n:02}-en\">English</label>\n\
         <input type=\"radio\" name=\"notes-{n:02}\" id=\"notes-{n:02}-uz\" class=\"show-uz\">\
         <label for=\"notes-{n:02}-uz\"><span lang=\"uz\">O‘zbekcha</span> (the original)</label>\n\
         <div class=\"notes-en\" lang=\"en\">\n\n{english}\n\n</div>\n\
         <div class=\"notes-uz\" lang=\"uz\">\n<p class=\"notes-title\"><strong>{}</strong></p>\n\n{}\n\n</div>\n\
         </div>\n",
        // Section 0 is the notes' unnumbered summary.
        esc(&if n == 0 {
            plain_symbols(title)
        } else {
            format!("{n}. {title}")
        }),
        plain_symbols(uzbek).trim_end()
    )
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

fn of_group<'a>(bench: Option<&'a BenchResults>, group: &str) -> Vec<&'a BenchResult> {
    bench
        .map(|b| b.benchmarks.iter().filter(|r| r.group == group).collect())
        .unwrap_or_default()
}

/// The Markdown pages of the book outside `generated/`: file name (relative to
/// `book/src/`) → text.
fn source_pages(src: &Path, generated: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src).with_context(|| format!("read {}", src.display()))? {
        let path = entry?.path();
        if path != generated && path.extension().is_some_and(|e| e == "md") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("read {}", path.display()))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            out.insert(name.into_owned(), text);
        }
    }
    Ok(out)
}

/// `bench/GROUP-link.md`: one line pointing to the page that shows the group — the page
/// that includes `generated/bench/GROUP.md` — so each benchmark is shown once.
fn bench_link(group: &str, pages: &BTreeMap<String, String>) -> String {
    let include = format!("generated/bench/{group}.md}}}}");
    let home = pages.iter().find(|(_, text)| text.contains(&include));
    match home {
        Some((file, text)) => {
            let title = text
                .lines()
                .find_map(|l| l.strip_prefix("# "))
                .unwrap_or(file)
                .trim();
            format!(
                "> The `{group}` benchmark is shown once, with its plot and numbers, in \
                 [{title}]({file}#bench-{group}).\n"
            )
        }
        None => format!("> The `{group}` benchmark is not shown on any page of the book yet.\n"),
    }
}

/// A side's verdict on claim `id`, if any lesson of that side checked it.
fn verdict_of(side: &Side, id: &str) -> Option<Verdict> {
    side.lessons
        .values()
        .flat_map(|r| r.claims.iter())
        .find(|c| c.id == id)
        .map(|c| c.verdict)
}

/// Every claim of the notes with its verdict on both machines: the counts first, then a
/// row per claim of the sections that have a lesson (each id linked to its card), then one
/// line per section not written yet.
fn scoreboard(
    results: &Results,
    chapters: &BTreeMap<u8, String>,
    notes: &BTreeMap<u8, (String, String)>,
) -> String {
    let covered = |section: u8| {
        chapters.contains_key(&section)
            || results.reference.lessons.contains_key(&section)
            || results.reader.lessons.contains_key(&section)
    };
    let reader_any = !results.reader.lessons.is_empty();
    let mut out = String::from("<!-- generated by mmap-book from the lesson reports -->\n");
    out.push_str("<div class=\"tally\">\n");
    for (who, side) in [
        ("reference", &results.reference),
        ("your machine", &results.reader),
    ] {
        if who == "your machine" && !reader_any {
            let _ = writeln!(
                out,
                "<p><strong>Your machine:</strong> nothing run yet — <code>{ADD_YOURS}</code> fills that column.</p>"
            );
            continue;
        }
        let mut counts = [0usize; 5];
        for c in claims::ALL {
            let slot = match verdict_of(side, c.id) {
                Some(Verdict::Holds) => 0,
                Some(Verdict::Depends) => 1,
                Some(Verdict::Fails) => 2,
                Some(Verdict::NotMeasured) => 3,
                None => 4,
            };
            counts[slot] += 1;
        }
        let _ = write!(
            out,
            "<p><strong>{}:</strong>",
            if who == "reference" {
                "Reference machine"
            } else {
                "Your machine"
            }
        );
        for (i, n) in counts.iter().enumerate() {
            let what = match i {
                0 => badge(Verdict::Holds),
                1 => badge(Verdict::Depends),
                2 => badge(Verdict::Fails),
                3 => badge(Verdict::NotMeasured),
                _ => no_badge("not yet"),
            };
            if *n > 0 || i < 3 || i == 4 {
                let _ = write!(out, " <span class=\"count\">{n} {what}</span>");
            }
        }
        out.push_str("</p>\n");
    }
    let _ = writeln!(
        out,
        "<p>of the {} claims in the notes.</p>\n</div>",
        claims::ALL.len()
    );
    let cell = |side: &Side, who: &str, section: u8, id: &str| match verdict_of(side, id) {
        Some(v) => badge(v),
        None if who == "yours" && !side.lessons.contains_key(&section) => no_badge("not run"),
        None => no_badge("not checked"),
    };
    out.push_str("<table class=\"scoreboard verdicts stack\"><thead><tr><th>claim</th><th>the notes say</th><th>reference</th><th>yours</th></tr></thead><tbody>\n");
    for c in claims::ALL.iter().filter(|c| covered(c.section)) {
        let id = match chapters.get(&c.section) {
            Some(file) => format!(
                "<a href=\"{}#{}\"><code>[{}]</code></a>",
                file.replace(".md", ".html"),
                claim_anchor(c.id),
                esc(c.id)
            ),
            None => format!("<code>[{}]</code>", esc(c.id)),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"id\">{id}</td><td class=\"text\">{}</td><td class=\"verdict\" data-label=\"reference\">{}</td><td class=\"verdict\" data-label=\"yours\">{}</td></tr>",
            inline(c.text),
            cell(&results.reference, "reference", c.section, c.id),
            cell(&results.reader, "yours", c.section, c.id)
        );
    }
    out.push_str("</tbody></table>\n");
    let unwritten: BTreeSet<u8> = claims::ALL
        .iter()
        .map(|c| c.section)
        .filter(|s| !covered(*s))
        .collect();
    if !unwritten.is_empty() {
        out.push_str("<p class=\"not-yet-title\"><strong>Not written yet</strong> — these sections have no lesson, so their claims are not yet checked:</p>\n<ul class=\"not-yet\">\n");
        for s in unwritten {
            let title = notes
                .get(&s)
                .map_or(String::new(), |(t, _)| format!(" {}", esc(t)));
            let ids: Vec<String> = claims::of_section(s)
                .map(|c| format!("<code>[{}]</code>", esc(c.id)))
                .collect();
            let _ = writeln!(
                out,
                "<li><strong>{s}.{title}</strong> — {}: {}</li>",
                count(ids.len(), "claim"),
                ids.join(" ")
            );
        }
        out.push_str("</ul>\n");
    }
    out
}

/// A benchmark's time per iteration and, for whole files, its throughput.
fn timing(r: &BenchResult) -> String {
    let time = Unit::Seconds.format(r.median_ns * 1e-9);
    match r
        .bytes_per_second()
        .filter(|_| r.throughput_bytes.is_some_and(|b| b >= 4096))
    {
        Some(rate) => format!(
            "<span class=\"v\">{}</span><br><small class=\"v\">{}</small>",
            esc(&time),
            esc(&Unit::BytesPerSecond.format(rate))
        ),
        None => format!("<span class=\"v\">{}</span>", esc(&time)),
    }
}

/// The key that pairs a reader's benchmark with the reference's.
fn key(r: &BenchResult) -> (&str, Option<&str>) {
    (&r.function, r.parameter.as_deref())
}

/// `bench/GROUP.md`: the group's plot, then its numbers folded.
fn bench_group(
    group: &str,
    reference: &[&BenchResult],
    reader: &[&BenchResult],
    reader_ran: bool,
) -> String {
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
    let who = if reader.is_empty() {
        format!("the reference machine (`{ADD_YOURS}` adds yours)")
    } else {
        "the reference (dashed, open circles) and your machine (solid, filled circles)".into()
    };
    let mut out = format!(
        "<a id=\"bench-{group}\"></a>\n\n![{group}: {who}](generated/bench/{group}.svg)\n\n"
    );
    let _ = write!(
        out,
        "<details class=\"bench-numbers\"><summary>The numbers: {}, median time per iteration (criterion)</summary>\n<table class=\"stack\"><thead><tr><th>method</th><th>size</th><th>reference</th><th>yours</th><th>yours vs reference</th></tr></thead><tbody>\n",
        count(keys.len(), "benchmark")
    );
    for k in keys {
        let a = reference.iter().find(|r| key(r) == k);
        let b = reader.iter().find(|r| key(r) == k);
        let Some(any) = a.or(b) else { continue };
        let ratio = a
            .zip(b)
            .and_then(|(a, b)| bench::speedup(a, b))
            .map_or_else(|| "—".into(), html::speed);
        let yours = match b {
            Some(b) => timing(b),
            None if reader_ran => "—".into(),
            None => format!("<code>{ADD_YOURS}</code>"),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td data-label=\"size\"><span class=\"v\">{}</span></td><td data-label=\"reference\">{}</td><td data-label=\"yours\">{yours}</td><td data-label=\"yours vs ref.\"><span class=\"v\">{}</span></td></tr>",
            esc(&plot::function_words(group, &any.function)),
            esc(&param_label(any)),
            a.map_or("—".into(), |a| timing(a)),
            esc(&ratio)
        );
    }
    out.push_str("</tbody></table>\n</details>\n");
    out
}

/// The "your machine vs the reference" page — mmap-lab's comparison, the same one
/// `just compare` prints: its findings first, then the chart, then every benchmark folded;
/// and the pairs (benchmark, reference time ÷ yours) the chart draws.
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
             of them with the reference machine. Until then, each chapter shows the \
             reference's numbers ({} run, {}).\n",
            reference.mode,
            count(reference.benchmarks.len(), "benchmark")
        );
        return (out, Vec::new());
    };
    let comparison = bench::compare(reference, reader);
    let pairs: Vec<(String, f64)> = comparison
        .rows
        .iter()
        .filter_map(|row| {
            let size = row
                .parameter
                .as_deref()
                .map(bench::fmt_param)
                .unwrap_or_default();
            let label = format!(
                "{} · {} {size}",
                row.group.replace('_', " "),
                plot::function_words(&row.group, &row.function)
            );
            Some((label.trim().to_string(), row.speedup?))
        })
        .collect();
    out.push_str("<ul class=\"findings\">\n");
    for f in &comparison.findings {
        let _ = writeln!(out, "<li>{}</li>", inline(f));
    }
    out.push_str("</ul>\n\n");
    if !pairs.is_empty() {
        out.push_str(
            "![reference time ÷ your time, per benchmark: right of 1× your machine is \
             faster](generated/compare.svg)\n\n",
        );
    }
    let _ = write!(
        out,
        "<details class=\"bench-numbers\"><summary>Every benchmark: {} ({} reference run, {} run of yours)</summary>\n<table class=\"stack\"><thead><tr><th>benchmark</th><th>reference</th><th>yours</th><th>yours vs reference</th></tr></thead><tbody>\n",
        count(comparison.rows.len(), "benchmark"),
        esc(&comparison.reference_mode),
        esc(&comparison.mine_mode)
    );
    for row in &comparison.rows {
        let time = |ns: Option<f64>| {
            ns.map_or_else(
                || "—".to_string(),
                |ns| {
                    format!(
                        "<span class=\"v\">{}</span>",
                        esc(&Unit::Seconds.format(ns * 1e-9))
                    )
                },
            )
        };
        let size = row
            .parameter
            .as_deref()
            .map(bench::fmt_param)
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{} · {} <span class=\"v\">{}</span></td><td data-label=\"reference\">{}</td><td data-label=\"yours\">{}</td><td data-label=\"yours vs ref.\"><span class=\"v\">{}</span></td></tr>",
            esc(&row.group.replace('_', " ")),
            esc(&plot::function_words(&row.group, &row.function)),
            esc(&size),
            time(row.reference_ns),
            time(row.mine_ns),
            esc(&row.speedup.map_or_else(|| "—".into(), html::speed))
        );
    }
    out.push_str("</tbody></table>\n</details>\n");
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
