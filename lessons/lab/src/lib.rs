//! `mmap-lab`: the shared toolkit of the mmap-lessons workspace.
//!
//! Every lesson is a small binary that quotes claims from the course notes, runs an
//! experiment and prints a verdict computed from what it measured. Everything two lessons
//! would otherwise repeat lives here, one module per concern:
//!
//! - [`data`]: sample files in a scratch directory, made atomically and reused across runs;
//! - [`measure`]: time, CPU, page faults, RSS and `smaps` numbers around a closure;
//! - [`cache`]: page-cache residency (`mincore`) and eviction (`posix_fadvise`);
//! - [`report`]: a lesson's result as data, rendered as text, JSON or Markdown;
//! - [`machine`]: the fingerprint that heads every report;
//! - [`lab`]: [`Lab`], a running lesson: its settings, data files and report, filled with
//!   [`Lab::check`]`(id, judge, &findings)`;
//! - [`quantity`], [`findings`](mod@findings), [`judge`]: typed numbers, a claim's findings that record
//!   themselves, and the [`Judgement`] a pure judge gives them (the lesson pattern, in
//!   `DESIGN.md`);
//! - [`peer`]: the notes' Python (and other real programs) run beside the Rust;
//! - [`error`]: bad input (exit 2) and measurements this run cannot make (NOT MEASURED);
//! - [`cli`]: the flags every lesson shares and the `main` that runs a lesson;
//! - [`claims`]: every claim of the notes, by id;
//! - [`size`]: parsing and printing byte sizes;
//! - [`scan`]: the checksum and `read()` filling every whole-file scan shares;
//! - [`text`]: counting the lines of a text that contain a literal (lesson 7, the benches);
//! - [`summary`]: the closing decision table, read from the lessons' reports;
//! - [`files`]: reading small files and writing messages so that no input hangs or panics;
//! - [`child`]: dangerous demos in child processes of the lesson, always reaped;
//! - [`cleanup`]: removing a run's temporary files when a signal interrupts it.
//!
//! Operating-system specific calls are confined to a private `sys` module. On a platform
//! where a measurement is not available, the functions return `None` (or an error that says
//! so) rather than a made-up number.

pub mod cache;
pub mod child;
pub mod claims;
pub mod cleanup;
pub mod cli;
pub mod crash;
pub mod data;
pub mod error;
pub mod files;
pub mod findings;
pub mod iostat;
pub mod judge;
pub mod kernel;
pub mod lab;
pub mod machine;
pub mod measure;
pub mod peer;
pub mod platform;
pub mod procmem;
pub mod quantity;
pub mod report;
pub mod scan;
pub mod size;
pub mod summary;
mod sys;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text;

pub use error::{BadInput, Measured, NotMeasured, attempt, need, not_measured};
pub use findings::{Findings, Outcome, Spread, Versus};
pub use judge::Judgement;
pub use lab::{Lab, Lesson};
pub use report::{Report, Unit, Verdict};
pub mod bench;
