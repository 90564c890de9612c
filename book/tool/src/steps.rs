//! The steps of `just book`, `just serve` and `just reference`, each printing what it does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use mmap_lab::Report;

use crate::check::{self, Problem};
use crate::results::Results;
use crate::{Paths, render};

/// The mdBook version the book is written for.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Prints a step's heading.
pub fn step(text: &str) {
    println!("==> {text}");
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// The installed mdBook's version, if any.
fn mdbook_version(mdbook: &Path) -> Option<String> {
    let out = Command::new(mdbook).arg("--version").output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_start_matches("mdbook")
            .trim()
            .trim_start_matches('v')
            .to_string()
    })
}

/// Where `cargo install` puts binaries.
fn cargo_bin() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"))
}

/// Finds mdBook 0.5.4, installing it with `cargo install --locked` when it is missing or
/// another version, and returns the command to run it.
pub fn ensure_mdbook() -> anyhow::Result<PathBuf> {
    let candidates = [
        Some(PathBuf::from("mdbook")),
        cargo_bin().map(|b| b.join("mdbook")),
    ];
    for c in candidates.iter().flatten() {
        if mdbook_version(c).as_deref() == Some(MDBOOK_VERSION) {
            step(&format!("mdbook {MDBOOK_VERSION} found"));
            return Ok(c.clone());
        }
    }
    let found = candidates
        .iter()
        .flatten()
        .find_map(|c| mdbook_version(c))
        .map_or("not installed".to_string(), |v| format!("found {v}"));
    step(&format!(
        "mdbook {MDBOOK_VERSION} is needed ({found}): installing it with \
         `cargo install --locked mdbook --version {MDBOOK_VERSION}` (a few minutes, once)"
    ));
    run(Command::new("cargo").args([
        "install",
        "--locked",
        "mdbook",
        "--version",
        MDBOOK_VERSION,
    ]))?;
    for c in candidates.iter().flatten() {
        if mdbook_version(c).as_deref() == Some(MDBOOK_VERSION) {
            return Ok(c.clone());
        }
    }
    bail!("mdbook {MDBOOK_VERSION} was installed but cannot be found; add ~/.cargo/bin to PATH")
}

/// Builds every lesson (release) and runs each with `--format json`, writing
/// `<out_dir>/lesson-NN.json`. A lesson that fails is reported and its old result removed;
/// the others still run. Returns the failures.
pub fn run_lessons(paths: &Paths, out_dir: &Path) -> anyhow::Result<Vec<String>> {
    let lessons = paths.lessons()?;
    if lessons.is_empty() {
        bail!(
            "no lessons found in {}",
            paths.workspace.join("lessons").display()
        );
    }
    let list: Vec<String> = lessons.iter().map(|l| l.number.to_string()).collect();
    step(&format!(
        "building lessons {} (cargo build --release)",
        list.join(", ")
    ));
    let mut build = Command::new("cargo");
    build
        .current_dir(&paths.workspace)
        .args(["build", "--release", "--quiet"]);
    for l in &lessons {
        build.args(["-p", &l.package()]);
    }
    run(&mut build)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("create {}", out_dir.display()))?;
    let mut failures = Vec::new();
    for l in &lessons {
        let out = out_dir.join(format!("lesson-{:02}.json", l.number));
        let exe = paths.target.join("release").join(format!(
            "{}{}",
            l.package(),
            std::env::consts::EXE_SUFFIX
        ));
        print!(
            "==> running lesson {} ({} --format json) ... ",
            l.number,
            l.package()
        );
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let started = Instant::now();
        let result = Command::new(&exe)
            .current_dir(&paths.workspace)
            .args(["--format", "json"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        let outcome = match result {
            Ok(o) if o.status.success() => serde_json::from_slice::<Report>(&o.stdout)
                .map_err(|e| format!("printed something that is not a report: {e}"))
                .map(|_| o.stdout),
            Ok(o) => Err(format!(
                "exited with {}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run {}: {e}", exe.display())),
        };
        match outcome {
            Ok(json) => {
                let tmp = out.with_extension("json.tmp");
                std::fs::write(&tmp, &json).with_context(|| format!("write {}", tmp.display()))?;
                std::fs::rename(&tmp, &out).with_context(|| format!("write {}", out.display()))?;
                println!(
                    "{:.1} s → {}",
                    started.elapsed().as_secs_f64(),
                    paths.show(&out)
                );
            }
            Err(e) => {
                println!("FAILED");
                eprintln!("    lesson {}: {e}", l.number);
                let _ = std::fs::remove_file(&out);
                failures.push(format!("lesson {} {e}", l.number));
            }
        }
    }
    Ok(failures)
}

/// Runs the quick benchmark suite and exports it to `target/bench-results.json`.
pub fn run_quick_benches(paths: &Paths) -> anyhow::Result<()> {
    step("running the quick benchmarks (cargo bench -p mmap-benches, MMAP_BENCH_QUICK=1)");
    run(Command::new("cargo")
        .current_dir(&paths.workspace)
        .env("MMAP_BENCH_QUICK", "1")
        .args(["bench", "--quiet", "-p", "mmap-benches", "--", "--quiet"]))?;
    step(&format!(
        "exporting them to {}",
        paths.show(&paths.reader_bench())
    ));
    run(Command::new("cargo").current_dir(&paths.workspace).args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "mmap-benches",
        "--bin",
        "bench-results",
        "--",
        "export",
        "--mode",
        "quick",
    ]))
}

/// Writes `book/src/generated/` from the results that exist.
pub fn generate(paths: &Paths) -> anyhow::Result<()> {
    let results = Results::load(paths)?;
    step(&format!(
        "writing {} (reference: {} lessons{}; yours: {} lessons{})",
        paths.show(&paths.generated()),
        results.reference.lessons.len(),
        if results.reference.bench.is_some() {
            " + benchmarks"
        } else {
            ""
        },
        results.reader.lessons.len(),
        if results.reader.bench.is_some() {
            " + benchmarks"
        } else {
            ""
        },
    ));
    let files = render::generate(paths, &results)?;
    let changed = render::write(paths, &files)?;
    println!("    {} files, {changed} changed", files.len());
    Ok(())
}

/// Checks the includes and images of every chapter source in `book/src/` (the same check
/// the preprocessor makes during a build).
pub fn check_sources(paths: &Paths) -> anyhow::Result<Vec<Problem>> {
    let src = paths.src();
    let mut problems = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
            let path = entry?.path();
            if path == paths.generated() {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("read {}", path.display()))?;
                let name = paths.show(&path);
                problems.extend(check::chapter(&name, &text, path.parent().unwrap_or(&src)));
            }
        }
    }
    Ok(problems)
}

fn preprocessor_env(cmd: &mut Command) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("find this program")?;
    cmd.env(
        "MDBOOK_PREPROCESSOR__MMAP__COMMAND",
        format!("'{}' preprocess", exe.display()),
    );
    Ok(())
}

/// Builds the book with mdBook into `dest` (default `book/book/`), then fails if any page
/// still shows a `{{#` directive.
pub fn build(paths: &Paths, mdbook: &Path, dest: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dest = dest.map_or_else(|| paths.html(), Path::to_path_buf);
    step(&format!(
        "building the book (mdbook build → {})",
        paths.show(&dest)
    ));
    let mut cmd = Command::new(mdbook);
    cmd.arg("build")
        .arg(paths.book())
        .arg("--dest-dir")
        .arg(&dest);
    preprocessor_env(&mut cmd)?;
    run(&mut cmd)?;
    step("checking the rendered pages for unexpanded {{# directives");
    let problems = check::html(&dest)?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("    {p}");
        }
        bail!("{} page(s) still show mdBook directives", problems.len());
    }
    Ok(dest)
}

/// `mdbook serve` with live reload.
pub fn serve(paths: &Paths, mdbook: &Path, extra: &[String]) -> anyhow::Result<()> {
    step("serving the book with live reload (mdbook serve; Ctrl-C stops it)");
    let mut cmd = Command::new(mdbook);
    cmd.arg("serve").arg(paths.book()).args(extra);
    preprocessor_env(&mut cmd)?;
    run(&mut cmd)
}
