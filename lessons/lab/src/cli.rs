//! The flags every lesson shares, and the `main` that runs a lesson.
//!
//! A lesson's `main.rs` is:
//!
//! ```no_run
//! use mmap_lab::{Lab, Lesson, Report};
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
//! fn run(_args: &mmap_lab::cli::Args, lab: &mut Lab) -> anyhow::Result<Report> {
//!     let mut report = lab.report();
//!     // claim -> experiment -> measurement -> verdict
//!     Ok(report)
//! }
//! ```
//!
//! A lesson with flags of its own defines a `clap::Parser` struct that flattens [`Common`]
//! and implements [`LessonArgs`].

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use crate::data::{DataDir, Spec};
use crate::machine::Machine;
use crate::report::Report;
use crate::{cache, size};

/// What a lesson is: its number (= the notes' section), title and default file size.
#[derive(Debug, Clone, Copy)]
pub struct Lesson {
    pub number: u8,
    pub title: &'static str,
    /// One paragraph for `--help`.
    pub about: &'static str,
    /// The sample file size when `--size` is not given.
    pub default_size: u64,
}

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

/// An error caused by what the user asked for (a bad flag value, a size that does not
/// fit): printed as one line, exit code 2. Other errors exit with 1.
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// What a running lesson works with: its settings, its data directory and the machine.
#[derive(Debug)]
pub struct Lab {
    pub lesson: Lesson,
    /// The sample size: `--size` or the lesson's default.
    pub size: u64,
    pub cold: bool,
    pub runs: u32,
    pub data: DataDir,
    pub machine: Machine,
    used: Vec<Spec>,
    notes: Vec<String>,
}

impl Lab {
    /// A report for this lesson with the machine fingerprint and the common parameters.
    pub fn report(&self) -> Report {
        let mut r = Report::new(self.lesson.number, self.lesson.title, self.machine.clone());
        r.param("size_bytes", self.size);
        r.param("cold", self.cold);
        r.param("runs", self.runs);
        r.notes.extend(self.notes.iter().cloned());
        r
    }

    /// The path of the sample file for `spec`, generated if needed (see [`DataDir::file`]).
    /// `--clean` deletes it at the end.
    pub fn file(&mut self, spec: Spec) -> anyhow::Result<PathBuf> {
        let path = self.data.file(&spec)?;
        self.used.push(spec);
        Ok(path)
    }

    /// Fails with a [`BadInput`] error when the sample is smaller than this lesson needs.
    pub fn require_size(&self, min: u64) -> anyhow::Result<()> {
        if self.size < min {
            return Err(BadInput(format!(
                "--size {} is too small for lesson {}: it needs at least {}",
                exact_if_equal(self.size, min),
                self.lesson.number,
                exact_if_equal(min, self.size)
            ))
            .into());
        }
        Ok(())
    }

    /// Makes `path` cold (evicted) when `--cold` was given; a no-op otherwise. Returns the
    /// fraction of the file still resident afterwards (`None` when nothing was done).
    pub fn prepare(&self, path: &Path) -> anyhow::Result<Option<f64>> {
        if !self.cold {
            return Ok(None);
        }
        Ok(Some(self.make_cold(path)?.fraction()))
    }

    /// Evicts `path` from the page cache, so that the next access reads from disk, and
    /// checks that it worked. Every "cold" number rests on this: when more than a tenth of
    /// the file stays cached (another process maps it, or the directory is on tmpfs), the
    /// run stops with an error that says why, rather than report cache hits as disk reads.
    pub fn make_cold(&self, path: &Path) -> anyhow::Result<cache::Residency> {
        let left = cache::evict(path)?;
        if left.fraction() > MAX_LEFT_COLD {
            let cause = if self.data.is_tmpfs() {
                "the data directory is on tmpfs, where files live in RAM; use --dir on a disk \
                 filesystem"
            } else {
                "another process has it mapped (a benchmark or another lesson using the same \
                 file?); run again when nothing else uses it, or give this run its own --dir"
            };
            anyhow::bail!(
                "cannot make {} cold: {} of it stayed in the page cache after eviction — {cause}",
                path.display(),
                crate::report::Unit::Fraction.format(left.fraction())
            );
        }
        Ok(left)
    }
}

/// The most of a file [`Lab::make_cold`] accepts still cached after eviction.
const MAX_LEFT_COLD: f64 = 0.1;

/// Parses the arguments, runs the lesson and prints its report. Errors print one line on
/// stderr: exit code 2 for bad input, 1 for anything else.
pub fn main<A: LessonArgs>(
    lesson: &Lesson,
    run: impl FnOnce(&A, &mut Lab) -> anyhow::Result<Report>,
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
            eprintln!("{name}: error: {e:#}");
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
    run: impl FnOnce(&A, &mut Lab) -> anyhow::Result<Report>,
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
    let machine = Machine::detect(data.path());
    let mut notes = Vec::new();
    if data.is_tmpfs() {
        notes.push(format!(
            "{} is on tmpfs: files live in RAM there, so nothing can be evicted and cold \
             reads are impossible; use --dir on a disk filesystem",
            data.path().display()
        ));
    }
    let mut lab = Lab {
        lesson: *lesson,
        size: common.size.unwrap_or(lesson.default_size),
        cold: common.cold,
        runs: common.runs,
        data,
        machine,
        used: Vec::new(),
        notes,
    };
    let result = run(args, &mut lab);
    if common.clean {
        for spec in &lab.used {
            lab.data.remove(spec)?;
        }
    }
    let report = result?;
    let text = match common.format {
        Format::Text => report.to_text(reference.as_ref()),
        Format::Json => report.to_json() + "\n",
        Format::Markdown => report.to_markdown(reference.as_ref()),
    };
    write_stdout(&text)
}

/// Writes to standard output; a reader that went away (`lesson-05 | head`) is not an error.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("write the report"),
        _ => Ok(()),
    }
}

/// `bytes` for people, or exactly (`2097151 bytes`) when that would print the same as
/// `other`.
fn exact_if_equal(bytes: u64, other: u64) -> String {
    if size::fmt(bytes) == size::fmt(other) {
        format!("{bytes} bytes")
    } else {
        size::fmt(bytes)
    }
}
