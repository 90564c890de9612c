//! Findings: what one claim's experiment measured, as a typed struct that records itself.
//!
//! A lesson declares one findings struct per claim with [`findings!`](crate::findings!).
//! Each field has a typed quantity ([`Bytes`](crate::quantity::Bytes),
//! [`Secs`](crate::quantity::Secs), [`Flag`](crate::quantity::Flag), a [`Spread`] of timed
//! runs, or an `Option` of one for a part that may be skipped) and its label, written once:
//!
//! ```
//! use mmap_lab::quantity::{Bytes, Fraction};
//!
//! mmap_lab::findings! {
//!     /// [2.vm] what mapping the file did to the address space and to RAM.
//!     pub struct Vm {
//!         file: Bytes = "sample file size",
//!         [key] virt_growth: Bytes = "address space added by mmap",
//!         [key] resident: Fraction = "share of the file in RAM right after mmap",
//!     }
//! }
//! ```
//!
//! [`Lab::check`](crate::Lab::check) records every field as a measurement named
//! `PREFIX.field` (the prefix is the claim id without its section: `vm.virt_growth`), makes
//! all of them the claim's evidence, and marks the `[key]` fields as the numbers the book's
//! claim card shows. No field can be forgotten and no name can be misspelt. A findings
//! struct can itself be a field of another (one row of a table of ways), recorded as
//! `PREFIX.field.sub` and labelled `field label: sub label`.

use std::fmt;

use crate::measure::median;
use crate::report::{Measurement, Unit};

/// A value that can be recorded as measurements under a name.
pub trait Record {
    /// Appends the value's measurements to `out`, named `name` (and `name.*` for a value with
    /// several numbers). A value that is not finite, or absent, records nothing.
    fn record(&self, name: &str, label: &str, out: &mut Vec<Measurement>);
}

impl<T: Record> Record for Option<T> {
    fn record(&self, name: &str, label: &str, out: &mut Vec<Measurement>) {
        if let Some(v) = self {
            v.record(name, label, out);
        }
    }
}

/// Pushes one measurement when its value is finite.
pub(crate) fn push(out: &mut Vec<Measurement>, name: &str, label: &str, value: f64, unit: Unit) {
    if value.is_finite() {
        out.push(Measurement {
            name: name.to_string(),
            value,
            unit,
            label: label.to_string(),
        });
    }
}

/// A claim's findings: a struct declared with [`findings!`](crate::findings!).
pub trait Findings {
    /// Records every field as `prefix.field`.
    fn record_fields(&self, prefix: &str, out: &mut Vec<Measurement>);
    /// The fields marked `[key]`: the few numbers a reader should see first.
    fn keys(&self) -> Vec<&'static str>;
}

/// Declares a findings struct: every field public, with a typed quantity and a label. A
/// field written `[key] name: Type = "label"` is one of the claim's key numbers. See the
/// [module docs](mod@crate::findings).
#[macro_export]
macro_rules! findings {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $([$key:ident])? $field:ident : $ty:ty = $label:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::findings::Findings for $name {
            fn record_fields(&self, prefix: &str, out: &mut Vec<$crate::report::Measurement>) {
                $(
                    $crate::findings::Record::record(
                        &self.$field,
                        &format!("{prefix}.{}", stringify!($field)),
                        ::std::convert::AsRef::<str>::as_ref(&$label),
                        out,
                    );
                )*
            }

            fn keys(&self) -> Vec<&'static str> {
                #[allow(unused_mut)]
                let mut keys = Vec::new();
                $( $( let _ = stringify!($key); keys.push(stringify!($field)); )? )*
                keys
            }
        }

        /// As a field of other findings: recorded as `name.field`, labelled
        /// `label: field label`.
        impl $crate::findings::Record for $name {
            fn record(&self, name: &str, label: &str, out: &mut Vec<$crate::report::Measurement>) {
                let start = out.len();
                $crate::findings::Findings::record_fields(self, name, out);
                for m in &mut out[start..] {
                    m.label = format!("{label}: {}", m.label);
                }
            }
        }
    };
}

/// How much faster one timed row must be than another, median to median, to count as
/// faster rather than a tie. Lessons run few repetitions on a shared machine, so a
/// difference under a quarter is treated as noise.
pub const TIE: f64 = 1.25;

/// The runs of one timed step, in seconds (per run, or per operation after [`Spread::per`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub fastest: f64,
    pub slowest: f64,
    pub runs: usize,
}

impl Spread {
    /// The spread of `runs` (seconds each); an empty slice gives a spread of NaNs, which
    /// records nothing.
    pub fn of(runs: &[f64]) -> Spread {
        let fastest = runs.iter().copied().fold(f64::NAN, f64::min);
        let slowest = runs.iter().copied().fold(f64::NAN, f64::max);
        Spread {
            median: median(runs),
            fastest,
            slowest,
            runs: runs.len(),
        }
    }

    /// The wall times of `samples`, each divided by `ops`: time per operation.
    pub fn of_samples(samples: &[crate::measure::Sample], ops: f64) -> Spread {
        Spread::of(&crate::measure::walls(samples)).per(ops)
    }

    /// One run only.
    pub fn once(secs: f64) -> Spread {
        Spread::of(&[secs])
    }

    /// The same runs per operation: each divided by `ops`.
    pub fn per(self, ops: f64) -> Spread {
        Spread {
            median: self.median / ops,
            fastest: self.fastest / ops,
            slowest: self.slowest / ops,
            runs: self.runs,
        }
    }

    /// The median as a [`Secs`](crate::quantity::Secs).
    pub fn secs(&self) -> crate::quantity::Secs {
        crate::quantity::Secs(self.median)
    }

    /// This row against `other`: faster when its median is at least [`TIE`] times lower and
    /// its slowest run beats the other's fastest; slower the other way round; a tie else.
    pub fn versus(&self, other: &Spread) -> Versus {
        let factor = other.median / self.median;
        let outcome = if factor >= TIE && self.slowest < other.fastest {
            Outcome::Faster
        } else if factor <= 1.0 / TIE && self.fastest > other.slowest {
            Outcome::Slower
        } else {
            Outcome::Tie
        };
        Versus { outcome, factor }
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |v: f64| Unit::Seconds.format(v);
        if self.runs > 1 && self.fastest < self.slowest {
            let runs = crate::report::range(Unit::Seconds, self.fastest, self.slowest);
            write!(f, "{} ({runs})", s(self.median))
        } else {
            f.write_str(&s(self.median))
        }
    }
}

impl Record for Spread {
    fn record(&self, name: &str, label: &str, out: &mut Vec<Measurement>) {
        push(out, name, label, self.median, Unit::Seconds);
        if self.runs > 1 {
            let fastest = format!("{label} (fastest run)");
            let slowest = format!("{label} (slowest run)");
            push(
                out,
                &format!("{name}.fastest"),
                &fastest,
                self.fastest,
                Unit::Seconds,
            );
            push(
                out,
                &format!("{name}.slowest"),
                &slowest,
                self.slowest,
                Unit::Seconds,
            );
        }
    }
}

/// Which of two timed rows won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Faster,
    Tie,
    Slower,
}

/// One timed row against another: the outcome and the factor (the other's median over this
/// one's, so above 1 means this one is faster).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Versus {
    pub outcome: Outcome,
    pub factor: f64,
}

impl Versus {
    /// The comparison as a phrase against `other`: `3.2× faster than pread`, `about as fast
    /// as pread (1.1× slower)`.
    pub fn than(&self, other: &str) -> String {
        let r = |v: f64| Unit::Ratio.format(v);
        match self.outcome {
            Outcome::Faster | Outcome::Slower => format!("{self} than {other}"),
            Outcome::Tie if self.factor >= 1.0 => {
                format!("about as fast as {other} ({} faster)", r(self.factor))
            }
            Outcome::Tie => format!("about as fast as {other} ({} slower)", r(1.0 / self.factor)),
        }
    }
}

impl fmt::Display for Versus {
    /// `3.2× faster`, `2.1× slower`, or `about as fast (1.1×)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |v: f64| Unit::Ratio.format(v);
        match self.outcome {
            Outcome::Faster => write!(f, "{} faster", r(self.factor)),
            Outcome::Slower => write!(f, "{} slower", r(1.0 / self.factor)),
            Outcome::Tie if self.factor >= 1.0 => {
                write!(f, "about as fast ({} faster)", r(self.factor))
            }
            Outcome::Tie => write!(f, "about as fast ({} slower)", r(1.0 / self.factor)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::{Bytes, Flag};

    crate::findings! {
        /// A test findings struct.
        struct Sample {
            size: Bytes = "file size",
            [key] same: Flag = "bytes equal",
            python: Option<Bytes> = format!("python peak ({} runs)", 3),
            [key] scan: Spread = "scan",
        }
    }

    #[test]
    fn findings_record_every_field_under_the_prefix_and_mark_keys() {
        let f = Sample {
            size: Bytes::of(4096),
            same: Flag(true),
            python: None,
            scan: Spread::of(&[3.0, 1.0, 2.0]),
        };
        let mut out = Vec::new();
        f.record_fields("bytes", &mut out);
        let names: Vec<&str> = out.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bytes.size",
                "bytes.same",
                "bytes.scan",
                "bytes.scan.fastest",
                "bytes.scan.slowest"
            ]
        );
        assert_eq!(out[1].unit, Unit::Flag);
        assert_eq!(out[2].value, 2.0);
        assert_eq!(f.keys(), ["same", "scan"]);
        let with_python = Sample {
            python: Some(Bytes(1.0)),
            ..f
        };
        let mut out = Vec::new();
        with_python.record_fields("p", &mut out);
        assert_eq!(out[2].label, "python peak (3 runs)");
    }

    crate::findings! {
        /// Findings with findings inside.
        struct Table {
            [key] first: Sample = "way one",
        }
    }

    #[test]
    fn findings_nest_with_their_labels_prefixed() {
        let t = Table {
            first: Sample {
                size: Bytes::of(1),
                same: Flag(false),
                python: None,
                scan: Spread::once(1.0),
            },
        };
        let mut out = Vec::new();
        t.record_fields("w", &mut out);
        assert_eq!(out[0].name, "w.first.size");
        assert_eq!(out[0].label, "way one: file size");
        assert_eq!(t.keys(), ["first"]);
    }

    #[test]
    fn versus_needs_the_tie_factor_and_runs_that_do_not_overlap() {
        let fast = Spread::of(&[1.0, 1.1, 1.2]);
        let slow = Spread::of(&[2.0, 2.1, 2.2]);
        assert_eq!(fast.versus(&slow).outcome, Outcome::Faster);
        assert_eq!(slow.versus(&fast).outcome, Outcome::Slower);
        assert_eq!(fast.versus(&slow).to_string(), "1.91× faster");
        assert_eq!(fast.versus(&slow).than("pread"), "1.91× faster than pread");
        assert_eq!(
            Spread::once(1.0).versus(&Spread::once(1.1)).than("pread"),
            "about as fast as pread (1.1× faster)"
        );
        // Within the tie factor: a tie, whatever the runs.
        let near = Spread::of(&[1.2, 1.3, 1.4]);
        assert_eq!(fast.versus(&near).outcome, Outcome::Tie);
        // Beyond it, but one slow run of the faster row overlaps: still a tie.
        let noisy = Spread::of(&[1.0, 1.1, 2.5]);
        assert_eq!(noisy.versus(&slow).outcome, Outcome::Tie);
        assert_eq!(Spread::of(&[4.0, 2.0]).per(2.0).median, 1.5);
    }
}
