//! `bench-results`: turn a run of the benchmark suite into one JSON file, and compare it
//! with the reference machine's.
//!
//! ```text
//! bench-results export [--mode full|quick]      target/criterion → target/bench-results.json
//! bench-results compare [--reference FILE] [--mine FILE] [--format text|markdown|json]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mmap_benches::{Mode, benchmark_ids};
use mmap_lab::bench::{BenchResults, compare};
use mmap_lab::cli::BadInput;
use mmap_lab::data::DataDir;
use mmap_lab::machine::Machine;

#[derive(Debug, Parser)]
#[command(
    name = "bench-results",
    about = "Export the benchmark suite's results and compare them with the reference machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read criterion's output (target/criterion) and write target/bench-results.json
    Export {
        /// Which suite ran: `just bench` is full, `just bench quick` is quick
        #[arg(long, value_enum, default_value_t = ModeArg::Full)]
        mode: ModeArg,
        /// Criterion's output directory [default: target/criterion]
        #[arg(long, value_name = "DIR")]
        criterion: Option<PathBuf>,
        /// Where to write the results [default: target/bench-results.json]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the reference machine's results beside yours, with the ratios
    Compare {
        /// The reference results [default: book/reference/bench.json]
        #[arg(long, value_name = "FILE")]
        reference: Option<PathBuf>,
        /// Your results [default: target/bench-results.json]
        #[arg(long, value_name = "FILE")]
        mine: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Full,
    Quick,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-results: error: {e:#}");
            if e.chain().any(|c| c.is::<BadInput>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The cargo target directory this binary was built in (`CARGO_TARGET_DIR` respected).
fn target_dir() -> PathBuf {
    let data = DataDir::default_path();
    data.parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

fn default_mine() -> PathBuf {
    target_dir().join("bench-results.json")
}

fn default_reference() -> PathBuf {
    let benches = Path::new(env!("CARGO_MANIFEST_DIR"));
    benches
        .parent()
        .unwrap_or(benches)
        .join("book/reference/bench.json")
}

const MAKE_THEM: &str = "run `just bench` (or `just bench quick`) to make them";

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Export {
            mode,
            criterion,
            out,
        } => {
            let mode = match mode {
                ModeArg::Full => Mode::Full,
                ModeArg::Quick => Mode::Quick,
            };
            let dir = criterion.unwrap_or_else(|| target_dir().join("criterion"));
            let out = out.unwrap_or_else(default_mine);
            let results = export(&dir, mode)?;
            results.save(&out)?;
            println!(
                "wrote {} ({} benchmarks, {} mode)",
                out.display(),
                results.benchmarks.len(),
                results.mode
            );
            Ok(())
        }
        Command::Compare {
            reference,
            mine,
            format,
        } => {
            let reference = load(
                reference,
                default_reference,
                "reference results",
                "they are committed with the book; restore them from git",
            )?;
            let mine = load(mine, default_mine, "results of yours", MAKE_THEM)?;
            let comparison = compare(&reference, &mine);
            print!(
                "{}",
                match format {
                    Format::Text => comparison.to_text(),
                    Format::Markdown => comparison.to_markdown(),
                    Format::Json => comparison.to_json(),
                }
            );
            Ok(())
        }
    }
}

/// Reads criterion's directory and keeps exactly the benchmarks of `mode`'s suite, so that
/// results left over from a run of the other mode are not mixed in.
fn export(dir: &Path, mode: Mode) -> anyhow::Result<BenchResults> {
    let data = DataDir::default_path();
    let machine = Machine::detect(if data.is_dir() { &data } else { dir });
    let mut results = BenchResults::read_criterion(dir, machine, mode.name())
        .with_context(|| MAKE_THEM.to_string())?;
    let wanted = benchmark_ids(mode);
    results.benchmarks.retain(|b| wanted.contains(&b.id));
    // Suite order: per group, each size with its methods side by side.
    results
        .benchmarks
        .sort_by_key(|b| wanted.iter().position(|id| *id == b.id));
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|id| results.get(id).is_none())
        .collect();
    if let Some(first) = missing.first() {
        anyhow::bail!(
            "{} has no result for {} of the {} benchmarks of the {} suite (first: {first}); \
             run `just bench{}` to completion",
            dir.display(),
            missing.len(),
            wanted.len(),
            mode.name(),
            if mode == Mode::Quick { " quick" } else { "" }
        );
    }
    Ok(results)
}

/// Loads a results file. A file the user named that cannot be read is bad input (exit 2);
/// a missing default file means the results were never made.
fn load(
    given: Option<PathBuf>,
    default: fn() -> PathBuf,
    what: &str,
    hint: &str,
) -> anyhow::Result<BenchResults> {
    match given {
        Some(path) => BenchResults::load(&path).map_err(|e| BadInput(format!("{e:#}")).into()),
        None => {
            let path = default();
            if !path.exists() {
                anyhow::bail!("no {what} at {} yet: {hint}", path.display());
            }
            BenchResults::load(&path)
        }
    }
}
