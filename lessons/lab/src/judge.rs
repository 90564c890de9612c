//! The verdict a judge gives a claim: HOLDS / DEPENDS / FAILS / NOT MEASURED, a headline a
//! reader takes in at once, and detail clauses with the numbers.
//!
//! A judge is a pure function `fn(&Findings) -> Judgement`: it reads only its findings (no
//! I/O, no clock), so its unit tests feed it the reference machine's numbers and numbers
//! moved across each boundary, and see the verdict move.

use std::fmt;

use crate::report::Verdict;

/// The longest headline a reader should have to take in, in characters.
pub const HEADLINE_MAX: usize = 160;

/// A verdict with its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// One sentence: the answer a reader wants.
    pub headline: String,
    /// Short clauses with the numbers behind the headline.
    pub details: Vec<String>,
}

impl Judgement {
    /// A judgement with no words yet.
    pub fn new(verdict: Verdict) -> Judgement {
        Judgement {
            verdict,
            headline: String::new(),
            details: Vec::new(),
        }
    }

    /// A claim that could not be measured here, and why.
    pub fn not_measured(why: impl fmt::Display) -> Judgement {
        Judgement::new(Verdict::NotMeasured).headline(why)
    }

    /// Sets the headline.
    pub fn headline(mut self, text: impl fmt::Display) -> Judgement {
        self.headline = text.to_string();
        self
    }

    /// Adds a detail clause.
    pub fn detail(mut self, text: impl fmt::Display) -> Judgement {
        self.details.push(text.to_string());
        self
    }

    /// Adds a detail clause when `cond`.
    pub fn detail_if(self, cond: bool, text: impl fmt::Display) -> Judgement {
        if cond { self.detail(text) } else { self }
    }

    /// Panics unless the headline is one line of at most [`HEADLINE_MAX`] characters and
    /// every detail is non-empty: for the judges' unit tests.
    #[track_caller]
    pub fn assert_readable(&self) {
        let n = self.headline.chars().count();
        assert!(n > 0, "empty headline");
        assert!(
            n <= HEADLINE_MAX,
            "headline of {n} characters (at most {HEADLINE_MAX}): {}",
            self.headline
        );
        assert!(!self.headline.contains('\n'), "headline spans lines");
        assert!(
            self.details.iter().all(|d| !d.trim().is_empty()),
            "empty detail"
        );
    }
}

/// Runs `judge` on `findings`, checks that the judgement reads well
/// ([`Judgement::assert_readable`]) and returns it: for the judges' unit tests.
#[track_caller]
pub fn judged<F>(judge: impl Fn(&F) -> Judgement, findings: &F) -> Judgement {
    let j = judge(findings);
    j.assert_readable();
    j
}

/// The verdict of [`judged`].
#[track_caller]
pub fn verdict_of<F>(judge: impl Fn(&F) -> Judgement, findings: &F) -> Verdict {
    judged(judge, findings).verdict
}

/// Joins phrases for a sentence: `a`, `a and b`, `a, b and c` (`last` is "and" or "or").
pub fn list(items: &[&str], last: &str) -> String {
    match items {
        [init @ .., end] if !init.is_empty() => format!("{} {last} {end}", init.join(", ")),
        _ => items.concat(),
    }
}

/// A value that may not have been measured, for a sentence: the value, or `missing`.
pub fn or_missing(value: Option<impl fmt::Display>, missing: &str) -> String {
    value.map_or_else(|| missing.to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_join_for_a_sentence() {
        assert_eq!(list(&["a"], "and"), "a");
        assert_eq!(list(&["a", "b", "c"], "or"), "a, b or c");
        assert_eq!(or_missing(None::<u8>, "not run"), "not run");
        assert_eq!(or_missing(Some(3), "not run"), "3");
    }
}
