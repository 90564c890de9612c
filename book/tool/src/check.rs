//! Makes a broken include fail the build, naming the file.
//!
//! mdBook logs a missing `{{#include}}` target or anchor and goes on, leaving the
//! directive's text in the page. Before mdBook expands them, [`chapter`] checks every
//! `{{#include path:anchor}}` (and `rustdoc_include`) of a chapter: the file exists and is
//! not empty; the anchor exists, is closed and encloses at least one non-blank line; and no
//! include selects lines by number (code moves; anchors move with it). Included Markdown is
//! checked the same way, and every local image the chapter shows (directly or through an
//! included file) must exist and not be empty. After the build, [`html`] looks for any
//! `{{#` left in the rendered pages.

use std::path::{Component, Path, PathBuf};

use anyhow::Context;

/// A problem found in the book, with the file it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An `{{#include ...}}` directive found in Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The whole directive, e.g. `{{#include ../x.rs:map}}`.
    pub text: String,
    pub path: String,
    /// What follows the first `:`, if anything (an anchor or line numbers).
    pub selector: Option<String>,
}

/// Every include directive in `markdown` (escaped `\{{#...}}` ones are skipped).
pub fn includes(markdown: &str) -> Vec<Include> {
    let mut out = Vec::new();
    let mut rest = markdown;
    let mut offset = 0;
    while let Some(at) = rest.find("{{#") {
        let start = offset + at;
        let escaped = markdown[..start].ends_with('\\');
        let after = &markdown[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        let (kind, arg) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        if !escaped && matches!(kind, "include" | "rustdoc_include") {
            let arg = arg.trim();
            let (path, selector) = match arg.split_once(':') {
                Some((p, s)) => (p.to_string(), Some(s.to_string())),
                None => (arg.to_string(), None),
            };
            out.push(Include {
                text: format!("{{{{#{inner}}}}}"),
                path,
                selector,
            });
        }
        offset = start + 3 + end + 2;
        rest = &markdown[offset..];
    }
    out
}

/// Local image targets in `markdown`: `![alt](path)` and `<img src="path">`.
pub fn images(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("![") {
        rest = &rest[at + 2..];
        if let Some(close) = rest.find("](") {
            let target = &rest[close + 2..];
            if let Some(end) = target.find(')') {
                out.push(
                    target[..end]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string(),
                );
            }
        }
    }
    let mut rest = markdown;
    while let Some(at) = rest.find("<img ") {
        rest = &rest[at + 5..];
        if let Some(src) = rest.find("src=\"") {
            let target = &rest[src + 5..];
            if let Some(end) = target.find('"') {
                out.push(target[..end].to_string());
            }
        }
    }
    out.retain(|t| !t.is_empty() && !t.contains("://") && !t.starts_with('#'));
    out
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without other anchor lines,
/// as mdBook takes them. `None` when the anchor is not there or never closed.
pub fn anchor_region(source: &str, name: &str) -> Option<String> {
    let mut inside = false;
    let mut region = Vec::new();
    for line in source.lines() {
        if anchor_marker(line, "ANCHOR_END:") == Some(name) {
            return inside.then(|| region.join("\n"));
        }
        if anchor_marker(line, "ANCHOR:") == Some(name) {
            inside = true;
            continue;
        }
        if inside
            && anchor_marker(line, "ANCHOR:").is_none()
            && anchor_marker(line, "ANCHOR_END:").is_none()
        {
            region.push(line);
        }
    }
    None
}

fn anchor_marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let at = line.find(marker)?;
    let rest = line[at + marker.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// `base.join(relative)` with `.` and `..` resolved textually (the file may not exist).
fn join(base: &Path, relative: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(relative).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Checks the includes and images of one chapter. `chapter_dir` is the directory the
/// chapter's relative paths start from; `name` names the chapter in messages.
pub fn chapter(name: &str, content: &str, chapter_dir: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_text(name, content, chapter_dir, chapter_dir, 0, &mut problems);
    problems
}

fn check_text(
    name: &str,
    content: &str,
    include_dir: &Path,
    chapter_dir: &Path,
    depth: usize,
    problems: &mut Vec<Problem>,
) {
    for image in images(content) {
        let path = join(chapter_dir, &image);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > 0 => {}
            Ok(_) => problems.push(Problem(format!(
                "{name}: image {image}: {} is empty",
                path.display()
            ))),
            Err(_) => problems.push(Problem(format!(
                "{name}: image {image}: {} does not exist{}",
                path.display(),
                hint(&path)
            ))),
        }
    }
    for inc in includes(content) {
        let path = join(include_dir, &inc.path);
        let where_ = format!("{name}: {}", inc.text);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem(format!(
                    "{where_}: cannot read {}: {e}{}",
                    path.display(),
                    hint(&path)
                )));
                continue;
            }
        };
        let selected = match inc.selector.as_deref().map(str::trim) {
            None | Some("") => text,
            Some(sel) if sel.starts_with(|c: char| c.is_ascii_digit()) || sel.starts_with(':') => {
                problems.push(Problem(format!(
                    "{where_}: selects lines by number; mark the code with \
                     `// ANCHOR: name` … `// ANCHOR_END: name` and include the anchor"
                )));
                continue;
            }
            Some(anchor) => match anchor_region(&text, anchor) {
                Some(region) => region,
                None => {
                    problems.push(Problem(format!(
                        "{where_}: {} has no anchor `{anchor}` (ANCHOR: {anchor} … \
                         ANCHOR_END: {anchor})",
                        path.display()
                    )));
                    continue;
                }
            },
        };
        if selected.trim().is_empty() {
            problems.push(Problem(format!(
                "{where_}: {} is empty{}",
                path.display(),
                if inc.selector.is_some() {
                    " at that anchor"
                } else {
                    ""
                }
            )));
            continue;
        }
        if path.extension().is_some_and(|e| e == "md") && depth < 8 {
            let dir = path.parent().unwrap_or(include_dir).to_path_buf();
            check_text(name, &selected, &dir, chapter_dir, depth + 1, problems);
        }
    }
}

fn hint(path: &Path) -> &'static str {
    let s = path.to_string_lossy();
    if s.contains("/generated/") {
        " (generated files come from book/reference and your results: run `just book`, or \
         `just reference` for a lesson with no reference run yet)"
    } else {
        ""
    }
}

/// Every rendered page under `html_dir` that still shows a `{{#` directive.
pub fn html(html_dir: &Path) -> anyhow::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut stack = vec![html_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("read {}", path.display()))?;
                if let Some(at) = text.find("{{#") {
                    let snippet: String = text[at..].chars().take(60).collect();
                    problems.push(Problem(format!(
                        "{}: an unexpanded directive is left in the page: {snippet}",
                        path.display()
                    )));
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_includes_and_skips_escaped_ones() {
        let md = "a {{#include ../x.rs:map}} b \\{{#include no.md}} {{#title T}} \
                  {{#rustdoc_include y.rs}}";
        let found = includes(md);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, "../x.rs");
        assert_eq!(found[0].selector.as_deref(), Some("map"));
        assert_eq!(found[1].path, "y.rs");
        assert_eq!(found[1].selector, None);
    }

    #[test]
    fn anchors_match_whole_names_and_skip_nested_markers() {
        let src = "x\n// ANCHOR: map\na\n// ANCHOR: inner\nb\n// ANCHOR_END: inner\n\
                   // ANCHOR_END: map\n// ANCHOR: mapping\n// ANCHOR_END: mapping\n";
        assert_eq!(anchor_region(src, "map").as_deref(), Some("a\nb"));
        assert_eq!(anchor_region(src, "mapping").as_deref(), Some(""));
        assert_eq!(anchor_region(src, "ma"), None);
        assert_eq!(anchor_region("// ANCHOR: open\nx\n", "open"), None);
    }

    #[test]
    fn images_are_local_targets_only() {
        let md = "![a](generated/x.svg) ![b](https://e.org/y.png) <img src=\"z.png\">";
        assert_eq!(images(md), vec!["generated/x.svg", "z.png"]);
    }
}
