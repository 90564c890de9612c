//! `bench-results`: turn a run of the benchmark suite into one JSON file, and compare it
//! with the reference machine's.
//!
//! ```text
//! bench-results export --since SECS [--mode full|quick]   target/criterion → target/bench-results.json
//! bench-results compare [--reference FILE] [--mine FILE] [--format text|markdown|json]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mmap_benches::{Mode, benchmark_ids, criterion_dir};
use mmap_lab::BadInput;
use mmap_lab::bench::{BenchResults, compare};
use mmap_lab::data::DataDir;
use mmap_lab::data::target_dir;
use mmap_lab::files::{printable, show, warn, write_stdout};
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
        /// When the run started, in seconds since the Unix epoch (`date +%s` before
        /// `cargo bench`): an older result is an earlier run's and fails the export.
        /// 0 accepts results of any age
        #[arg(long, value_name = "SECS")]
        since: u64,
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
            warn(&format!(
                "bench-results: error: {}",
                printable(&format!("{e:#}"))
            ));
            if e.chain().any(|c| c.is::<BadInput>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
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
            since,
            criterion,
            out,
        } => {
            let mode = match mode {
                ModeArg::Full => Mode::Full,
                ModeArg::Quick => Mode::Quick,
            };
            let dir = criterion.unwrap_or_else(criterion_dir);
            let out = out.unwrap_or_else(default_mine);
            let results = export(&dir, mode, since)?;
            results.save(&out)?;
            let mut text = format!(
                "wrote {} ({} benchmarks, {} mode)\n",
                show(&out),
                results.benchmarks.len(),
                results.mode
            );
            for s in &results.skipped {
                text.push_str(&format!("skipped on this machine: {} ({})\n", s.id, s.why));
            }
            write_stdout(&text).context("write to stdout")
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
            let text = match format {
                Format::Text => comparison.to_text(),
                Format::Markdown => comparison.to_markdown(),
                Format::Json => comparison.to_json(),
            };
            write_stdout(&text).context("write to stdout")
        }
    }
}

/// Reads criterion's directory: exactly the benchmarks of `mode`'s suite, each measured (or
/// skipped) since the run started, so results left over from an earlier run — of either
/// mode — are never mixed in.
fn export(dir: &Path, mode: Mode, since: u64) -> anyhow::Result<BenchResults> {
    let data = DataDir::default_path();
    let machine = Machine::detect(if data.is_dir() { &data } else { dir });
    let again = format!(
        "run `just bench{}` to completion",
        if mode == Mode::Quick { " quick" } else { "" }
    );
    BenchResults::read_run(dir, machine, mode.name(), &benchmark_ids(mode), since)
        .map_err(|e| anyhow::anyhow!("{e:#}; {again}"))
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
