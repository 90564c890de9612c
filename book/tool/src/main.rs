//! `mmap-book`: builds the mmap-lessons book.
//!
//! ```text
//! mmap-book build [--no-run] [--dest DIR]   just book: run lessons + quick benches, generate, build
//! mmap-book serve [mdbook serve flags]      just serve: generate, then mdbook serve (live reload)
//! mmap-book reference                       just reference: lesson reports → book/reference/
//! mmap-book generate                        write book/src/generated/ from existing results
//! mmap-book check                           generate, then check every include and image
//! mmap-book summary [--no-run]              just summary: run the lessons, print the decision table
//! mmap-book preprocess [supports R]         the mdBook preprocessor (book.toml runs it)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use mmap_book::{Paths, preprocess, steps};

const USAGE: &str = "usage: mmap-book build [--no-run] [--dest DIR] | serve [ARGS] | reference | \
                     generate | check | summary [--no-run] | preprocess [supports RENDERER]";

const HELP: &str = "\
mmap-book: builds the mmap-lessons book (book/).

usage: mmap-book COMMAND

commands:
  build [--no-run] [--dest DIR]  run every lesson and the quick benchmarks, generate the
                                 book's numbers and build it with mdBook (`just book`)
  serve [MDBOOK ARGS]            generate, then `mdbook serve` with live reload (`just serve`)
  reference                      run every lesson and record the reports in book/reference/,
                                 all or nothing (`just reference`)
  generate                       write book/src/generated/ from the results that exist
  check                          generate, then check every include and image of the book
  summary [--no-run]             run every lesson, then print the decision table of when mmap
                                 won on this machine beside the reference (`just summary`)
  preprocess [supports R]        the mdBook preprocessor that book/book.toml runs
  help                           this text";

const BUILD_HELP: &str = "\
usage: mmap-book build [--no-run] [--dest DIR]

Runs every lesson (release build) and the quick benchmark suite on this machine, writes
book/src/generated/ with your numbers beside the reference machine's, and builds the book
with mdBook 0.5.4 (installed with cargo when missing). A lesson that fails is reported and
the book still builds; the exit code is then 1.

options:
  --no-run      skip the lessons and benchmarks: use the results already in target/
  --dest DIR    write the HTML to DIR instead of book/book/
  -h, --help    this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(e) => {
            mmap_lab::warn!("mmap-book: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> anyhow::Result<ExitCode> {
    let paths = Paths::of_this_checkout();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["preprocess", "supports", _] => Ok(ExitCode::SUCCESS),
        ["preprocess"] => preprocess::run().map(|()| ExitCode::SUCCESS),
        ["build", rest @ ..] => build(&paths, rest),
        ["serve", rest @ ..] => {
            let mdbook = steps::ensure_mdbook()?;
            steps::generate(&paths)?;
            let extra: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            steps::serve(&paths, &mdbook, &extra).map(|()| ExitCode::SUCCESS)
        }
        ["reference"] => {
            let started = Instant::now();
            steps::step(
                "recording the reference: keep the machine quiet (another process reading the \
                 lesson files or loading the CPU changes cold-cache numbers and even verdicts)",
            );
            steps::record_reference(&paths)?;
            mmap_lab::say!(
                "reference lesson reports written to {} in {:.0} s",
                paths.show(&paths.reference()),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        ["generate"] => steps::generate(&paths).map(|()| ExitCode::SUCCESS),
        ["check"] => {
            steps::generate(&paths)?;
            let problems = steps::check_sources(&paths)?;
            for p in &problems {
                mmap_lab::warn!("{p}");
            }
            if problems.is_empty() {
                mmap_lab::say!("every include and image of the book resolves");
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::FAILURE)
            }
        }
        ["summary", rest @ ..] => summary(&paths, rest),
        ["help" | "--help" | "-h"] => {
            mmap_lab::say!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        [] => Ok(bad_usage("a command is needed")),
        _ => Ok(bad_usage(&format!("unknown command: {}", words.join(" ")))),
    }
}

/// Bad usage: one line saying what is wrong, the usage, exit code 2.
fn bad_usage(what: &str) -> ExitCode {
    mmap_lab::warn!("mmap-book: {what}\n{USAGE}");
    ExitCode::from(2)
}

/// `just summary`: every lesson run (unless `--no-run`), then the decision table — your
/// machine beside the reference — for readers who do not build the book.
fn summary(paths: &Paths, flags: &[&str]) -> anyhow::Result<ExitCode> {
    let run = match flags {
        [] => true,
        ["--no-run"] => false,
        _ => return Ok(bad_usage("summary takes only --no-run")),
    };
    let failures = if run {
        steps::run_lessons(paths, &paths.reader_lessons())?
    } else {
        Vec::new()
    };
    let results = mmap_book::results::Results::load(paths)?;
    let reference = mmap_lab::summary::decide(&results.reference.lessons);
    let yours = mmap_lab::summary::decide(&results.reader.lessons);
    let mine = (!results.reader.lessons.is_empty()).then_some(yours.as_slice());
    let text = mmap_lab::summary::to_text(&reference, mine, mmap_lab::cli::text_width());
    mmap_lab::files::write_stdout(&text)?;
    for f in &failures {
        mmap_lab::warn!("failed: {f}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn build(paths: &Paths, flags: &[&str]) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut run = true;
    let mut dest: Option<PathBuf> = None;
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        match *flag {
            "--no-run" => run = false,
            "--dest" => match it.next() {
                Some(d) => dest = Some(PathBuf::from(d)),
                None => return Ok(bad_usage("build --dest needs a directory")),
            },
            "--help" | "-h" => {
                mmap_lab::say!("{BUILD_HELP}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Ok(bad_usage(&format!("build: unknown flag {other}"))),
        }
    }
    let mdbook = steps::ensure_mdbook()?;
    let mut failures = Vec::new();
    if run {
        failures = steps::run_lessons(paths, &paths.reader_lessons())?;
        if let Err(e) = steps::run_quick_benches(paths) {
            mmap_lab::warn!("    the quick benchmarks failed: {e:#}");
            failures.push(format!("the quick benchmarks: {e:#}"));
        }
    } else {
        steps::step("--no-run: using the results already in target/ (if any)");
    }
    steps::generate(paths)?;
    let dest = steps::build(paths, &mdbook, dest.as_deref())?;
    mmap_lab::say!(
        "\nThe book is ready in {:.0} s: open {}",
        started.elapsed().as_secs_f64(),
        dest.join("index.html").display()
    );
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        mmap_lab::warn!(
            "but some steps failed, and the book shows the reference's numbers (or your \
             older ones) where they would be:\n  {}",
            failures.join("\n  ")
        );
        Ok(ExitCode::FAILURE)
    }
}
