//! Small HTML pieces the generated parts share.
//!
//! Generated parts that carry text from the lessons are written as HTML blocks without
//! blank lines, so mdBook passes them through untouched: its smart punctuation would
//! otherwise turn `--cold` into "–cold" and `b"magic"` into curly quotes.

use mmap_lab::report::{Measurement, Unit, Verdict, sig3};

/// `text` with `&`, `<`, `>` and `"` escaped.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped, with `` `code` `` spans as `<code>` and no line breaks.
pub fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.replace('\n', " ").split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&esc(part));
            out.push_str("</code>");
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

/// The CSS class of a verdict: `holds`, `depends`, `fails`, `not-measured`.
pub fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "holds",
        Verdict::Depends => "depends",
        Verdict::Fails => "fails",
        Verdict::NotMeasured => "not-measured",
    }
}

/// A coloured verdict badge: the colour and the word.
pub fn badge(v: Verdict) -> String {
    format!("<span class=\"badge {}\">{}</span>", class(v), v.shout())
}

/// A grey badge for a verdict that does not exist (yet): `not run`, `not yet`.
pub fn no_badge(words: &str) -> String {
    format!("<span class=\"badge none\">{}</span>", esc(words))
}

/// The HTML id of a claim's card: `[5.ram]` → `claim-5-ram`.
pub fn claim_anchor(id: &str) -> String {
    format!("claim-{}", id.replace('.', "-"))
}

/// A measured value with its unit, in one piece that never splits across lines, with
/// the singular where the count is one.
pub fn value(m: &Measurement) -> String {
    let text = match m.unit {
        Unit::Pages if m.value == 1.0 => "1 page".to_string(),
        unit => unit.format(m.value),
    };
    format!("<span class=\"v\">{}</span>", esc(&text))
}

/// `n` and the noun, singular for one: `1 benchmark`, `3 benchmarks`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A speed ratio in words, three significant figures: `2.1× faster`, `same (±5 %)`.
pub fn speed(speedup: f64) -> String {
    if (speedup - 1.0).abs() < crate::plot::SAME {
        format!("same (±{:.0} %)", crate::plot::SAME * 100.0)
    } else if speedup > 1.0 {
        format!("{}× faster", sig3(speedup))
    } else {
        format!("{}× slower", sig3(1.0 / speedup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_code_and_text_is_escaped() {
        assert_eq!(
            inline("run `--cold` <now> & `b\"x\"`"),
            "run <code>--cold</code> &lt;now&gt; &amp; <code>b&quot;x&quot;</code>"
        );
    }

    #[test]
    fn numbers_have_three_figures_and_plurals() {
        assert_eq!(speed(2.104), "2.1× faster");
        assert_eq!(speed(0.5), "2× slower");
        assert_eq!(speed(1.02), "same (±5 %)");
        assert_eq!(count(1, "claim"), "1 claim");
        assert_eq!(count(2, "claim"), "2 claims");
        let one = Measurement {
            name: "a".into(),
            value: 1.0,
            unit: Unit::Pages,
            label: String::new(),
        };
        assert_eq!(value(&one), "<span class=\"v\">1 page</span>");
    }
}
