//! The flags every lesson shares, and the `main` that runs a lesson.
//!
//! A lesson's `main.rs` is:
//!
//! ```no_run
//! use mmap_lab::{Lab, Lesson};
//!
//! const LESSON: Lesson = Lesson {
//!     number: 2,
//!     title: "The idea of mmap",
//!     about: "Map a file and use it as a byte slice.",
//!     default_size: 64 << 20,
//! };
//!
//! fn main() -> std::process::ExitCode {
//!     mmap_lab::cli::main::<mmap_lab::cli::Args>(&LESSON, run)
//! }
//!
//! fn run(_args: &mmap_lab::cli::Args, lab: &mut Lab) -> anyhow::Result<()> {
//!     // for each claim: run its experiment, then lab.check(id, judge, &findings)
//!     Ok(())
//! }
//! ```
//!
//! A lesson with flags of its own defines a `clap::Parser` struct that flattens [`Common`]
//! and implements [`LessonArgs`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use crate::data::DataDir;
use crate::error::BadInput;
use crate::lab::{Lab, Lesson};
use crate::report::Report;
use crate::size;

/// How the report is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people, on a terminal.
    #[default]
    Text,
    /// One JSON object (read by the book and the tests; `--reference` takes one).
    Json,
    /// Tables of verdicts and measurements, for notes and pull requests.
    Markdown,
}

/// The flags every lesson has.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Size of the sample file: a number of bytes or 64K, 256M, 10G ... (default: the
    /// lesson's own)
    #[arg(long, value_parser = parse_size_flag, value_name = "SIZE")]
    pub size: Option<u64>,
    /// Directory for data files; must exist and be writable [default: target/lesson-data
    /// in the workspace]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// A report from another machine (made with --format json) to print beside this run's
    /// numbers
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Evict the data files from the page cache before measuring, so reads come from disk
    #[arg(long)]
    pub cold: bool,
    /// Delete the data files this run used when it ends (by default they are kept and
    /// reused by the next run)
    #[arg(long)]
    pub clean: bool,
    /// Repeat each timed step this many times and report the median
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
}

fn parse_size_flag(text: &str) -> Result<u64, String> {
    match size::parse(text) {
        Ok(0) => Err("the size must be at least 1 byte".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A lesson's arguments: its own `clap::Parser` that flattens [`Common`].
pub trait LessonArgs: Parser {
    fn common(&self) -> &Common;
}

/// The arguments of a lesson that has no flags of its own.
#[derive(Debug, Clone, Parser)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

/// Parses the arguments, runs the lesson and prints its report. Errors print one line on
/// stderr: exit code 2 for bad input, 1 for anything else.
pub fn main<A: LessonArgs>(
    lesson: &Lesson,
    run: impl FnOnce(&A, &mut Lab) -> anyhow::Result<()>,
) -> ExitCode {
    let name = format!("lesson-{:02}", lesson.number);
    let command = A::command()
        .name(name.clone())
        .bin_name(name.clone())
        .about(format!("Lesson {} · {}", lesson.number, lesson.title))
        .long_about(format!(
            "Lesson {} · {}\n\n{}",
            lesson.number, lesson.title, lesson.about
        ))
        .after_help(format!(
            "Default --size: {}. Data files go to --dir (default target/lesson-data/).",
            size::fmt(lesson.default_size)
        ));
    let args = match command
        .try_get_matches()
        .and_then(|m| A::from_arg_matches(&m))
    {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    match run_lesson(lesson, &args, run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::files::warn(&format!(
                "{name}: error: {}",
                crate::files::printable(&format!("{e:#}"))
            ));
            if e.chain().any(|c| c.is::<BadInput>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run_lesson<A: LessonArgs>(
    lesson: &Lesson,
    args: &A,
    run: impl FnOnce(&A, &mut Lab) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let common = args.common();
    let reference = common
        .reference
        .as_deref()
        .map(|p| Report::load(p).map_err(|e| BadInput(format!("--reference: {e:#}"))))
        .transpose()?;
    if let Some(r) = &reference
        && r.lesson != lesson.number
    {
        return Err(BadInput(format!(
            "--reference: that is a report of lesson {}, not of lesson {}",
            r.lesson, lesson.number
        ))
        .into());
    }
    let progress = common.format == Format::Text && std::io::stderr().is_terminal();
    let data = DataDir::open(common.dir.as_deref(), progress)?;
    let tmpfs = data.is_tmpfs().then(|| crate::files::show(data.path()));
    let outside = (common.dir.is_none() && crate::data::cargo_target_dir().is_none())
        .then(|| crate::files::show(data.path()));
    let size = common.size.unwrap_or(lesson.default_size);
    let mut lab = Lab::new(
        *lesson,
        size,
        (common.cold, common.clean, common.runs),
        data,
    );
    if let Some(dir) = tmpfs {
        lab.note(format!(
            "{dir} is on tmpfs: files live in RAM there, so nothing can be evicted and the \
             claims that need a cold file are not measured; use --dir on a disk filesystem"
        ));
    }
    if let Some(dir) = outside {
        lab.note(format!(
            "data files go to {dir}: this binary is not inside a cargo workspace (--dir chooses \
             another place)"
        ));
    }
    let result = run(args, &mut lab);
    let report = lab.finish();
    result?;
    let text = match common.format {
        Format::Text => report.to_text(reference.as_ref(), text_width()),
        Format::Json => report.to_json() + "\n",
        Format::Markdown => report.to_markdown(reference.as_ref()),
    };
    crate::files::write_stdout(&text).context("write the report")
}

/// The columns a text report may use: the terminal's width, else `COLUMNS`, else 100.
pub fn text_width() -> usize {
    crate::sys::terminal_width()
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(100)
}
