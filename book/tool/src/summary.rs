//! The closing chapter's decision table (`generated/summary.md`) and the notes' unnumbered
//! summary section: each workload with the way that won on the reference machine and on
//! yours, linked to the claim card it comes from. The rows and the comparison are
//! [`mmap_lab::summary`]'s, shared with `just summary`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mmap_lab::summary::{Decided, decide};

use crate::html::{claim_anchor, esc, no_badge};
use crate::results::Results;

/// The decision table as an HTML table that stacks on a phone.
pub fn table(results: &Results, chapters: &BTreeMap<u8, String>) -> String {
    let reference = decide(&results.reference.lessons);
    let yours = (!results.reader.lessons.is_empty()).then(|| decide(&results.reader.lessons));
    let cell = |d: Option<&Decided>| match d.and_then(|d| d.outcome.as_ref()) {
        Some((Some(_), words)) => format!("<strong>{}</strong>", esc(words)),
        Some((None, words)) => esc(words),
        None => no_badge("not measured"),
    };
    let mut out = String::from(
        "<table class=\"summary stack\"><thead><tr><th>workload</th><th>from</th>\
         <th>reference</th><th>yours</th></tr></thead><tbody>\n",
    );
    for (i, r) in reference.iter().enumerate() {
        let section: u8 = r
            .row
            .claim
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let claim = match chapters.get(&section) {
            Some(file) => format!(
                "<a href=\"{}#{}\"><code>[{}]</code></a>",
                file.replace(".md", ".html"),
                claim_anchor(r.row.claim),
                esc(r.row.claim)
            ),
            None => format!("<code>[{}]</code>", esc(r.row.claim)),
        };
        let yours = match &yours {
            Some(y) => cell(y.get(i)),
            None => no_badge("not run: just book"),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"text\">{}</td><td class=\"id\">{claim}</td><td data-label=\"reference\">{}</td><td data-label=\"yours\">{yours}</td></tr>",
            esc(r.row.workload),
            cell(Some(r)),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// The body of the notes' last, unnumbered section (`## ✅ Summary ...`), if any.
pub fn notes_summary(notes: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = notes.lines().collect();
    let start = lines.iter().rposition(|l| {
        l.strip_prefix("## ")
            .is_some_and(|h| !h.starts_with(|c: char| c.is_ascii_digit()))
    })?;
    let title = lines[start].trim_start_matches("## ").to_string();
    Some((
        title,
        lines[start + 1..].join("\n").trim().to_string() + "\n",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_summary_is_their_last_unnumbered_section() {
        let notes = "## 13. Mental model\n- a\n\n## ✅ Summary (advanced mindset)\n\n- big file\n";
        let (title, body) = notes_summary(notes).unwrap();
        assert_eq!(title, "✅ Summary (advanced mindset)");
        assert_eq!(body, "- big file\n");
        assert!(notes_summary("## 1. x\n").is_none());
    }
}
