//! The steps of `just book`, `just serve` and `just reference`, each printing what it does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use mmap_lab::Report;

use crate::check::{self, Problem};
use crate::results::Results;
use crate::{Paths, render};

/// The mdBook version the book is written for.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Prints a step's heading.
pub fn step(text: &str) {
    mmap_lab::say!("==> {text}");
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

/// mdBook 0.5.4 where it is usually found — on `PATH`, else in `cargo install`'s directory
/// (`$CARGO_HOME/bin` or `~/.cargo/bin`) — as the command to run it; `None` when neither has
/// that version.
pub fn find_mdbook() -> Option<PathBuf> {
    [
        Some(PathBuf::from("mdbook")),
        cargo_bin().map(|b| b.join("mdbook")),
    ]
    .into_iter()
    .flatten()
    .find(|c| mdbook_version(c).as_deref() == Some(MDBOOK_VERSION))
}

/// Finds mdBook 0.5.4 ([`find_mdbook`]), installing it with `cargo install --locked` when it
/// is missing or another version, and returns the command to run it.
pub fn ensure_mdbook() -> anyhow::Result<PathBuf> {
    if let Some(found) = find_mdbook() {
        step(&format!("mdbook {MDBOOK_VERSION} found"));
        return Ok(found);
    }
    let found = mdbook_version(Path::new("mdbook"))
        .or_else(|| cargo_bin().and_then(|b| mdbook_version(&b.join("mdbook"))))
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
    find_mdbook().with_context(|| {
        format!(
            "mdbook {MDBOOK_VERSION} was installed but cannot be found; add ~/.cargo/bin to PATH"
        )
    })
}

/// Runs every lesson into `staging` (emptied first) and, only when every one succeeded,
/// moves the reports into `book/reference/`, so a failed run leaves the committed
/// reference as it was instead of a mix of old and new reports.
pub fn record_reference(paths: &Paths) -> anyhow::Result<()> {
    let staging = paths.target.join("reference-staging");
    stage_then_move(&staging, &paths.reference(), |dir| run_lessons(paths, dir))
}

/// Gives `run` the empty folder `staging` to write into. When it reports no failure, moves
/// every file it wrote into `dest`, each replacing the file of that name; otherwise leaves
/// `dest` untouched and fails naming the failures. `staging` is removed either way.
pub fn stage_then_move(
    staging: &Path,
    dest: &Path,
    run: impl FnOnce(&Path) -> anyhow::Result<Vec<String>>,
) -> anyhow::Result<()> {
    if staging.exists() {
        std::fs::remove_dir_all(staging)
            .with_context(|| format!("remove {}", staging.display()))?;
    }
    std::fs::create_dir_all(staging).with_context(|| format!("create {}", staging.display()))?;
    let outcome = run(staging).and_then(|failures| {
        if !failures.is_empty() {
            bail!(
                "nothing was changed in {}: {}",
                dest.display(),
                failures.join("; ")
            );
        }
        move_all(staging, dest)
    });
    let _ = std::fs::remove_dir_all(staging);
    outcome
}

/// Moves every file of `from` into `dest`: first a copy of each beside its place, then the
/// renames, so an error while copying (a full disk) changes nothing in `dest`. (`from` may
/// be on another filesystem, where a plain rename fails.)
fn move_all(from: &Path, dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dest).with_context(|| format!("create {}", dest.display()))?;
    let mut copied = Vec::new();
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let path = entry?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let tmp = dest.join(format!(".{}.new", name.to_string_lossy()));
        if let Err(e) = std::fs::copy(&path, &tmp) {
            for (tmp, _) in &copied {
                let _ = std::fs::remove_file(tmp);
            }
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("write {}", tmp.display()));
        }
        copied.push((tmp, dest.join(name)));
    }
    for (tmp, path) in copied {
        std::fs::rename(&tmp, &path).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// Builds every lesson (release) and runs each with `--format json`, writing
/// `<out_dir>/lesson-NN.json`. A lesson that fails is reported and its old result in
/// `out_dir` removed (so the book does not show it as this run's); the others still run.
/// Returns the failures.
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
        let _ = mmap_lab::files::write_stdout(&format!(
            "==> running lesson {} ({} --format json) ... ",
            l.number,
            l.package()
        ));
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
                mmap_lab::say!(
                    "{:.1} s → {}",
                    started.elapsed().as_secs_f64(),
                    paths.show(&out)
                );
            }
            Err(e) => {
                mmap_lab::say!("FAILED");
                mmap_lab::warn!("    lesson {}: {e}", l.number);
                let _ = std::fs::remove_file(&out);
                failures.push(format!("lesson {} {e}", l.number));
            }
        }
    }
    Ok(failures)
}

/// Runs the quick benchmark suite and exports it to `target/bench-results.json` — only
/// this run's results: the export rejects any older than its start.
pub fn run_quick_benches(paths: &Paths) -> anyhow::Result<()> {
    step("running the quick benchmarks (cargo bench -p mmap-benches, MMAP_BENCH_QUICK=1)");
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs()
        .to_string();
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
        "--since",
        &since,
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
    mmap_lab::say!("    {} files, {changed} changed", files.len());
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
            mmap_lab::warn!("    {p}");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn a_failed_run_changes_nothing_and_a_full_one_replaces_every_file() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = (tmp.path().join("staging"), tmp.path().join("reference"));
        std::fs::create_dir_all(&dest).unwrap();
        for n in [1, 2] {
            std::fs::write(dest.join(format!("lesson-0{n}.json")), "old").unwrap();
        }
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("left-over.json"), "a crashed run's").unwrap();

        // Lesson 1 ran, lesson 2 failed: both old reports stay, nothing new comes in.
        let err = stage_then_move(&staging, &dest, |dir| {
            assert!(
                std::fs::read_dir(dir).unwrap().next().is_none(),
                "staging starts empty"
            );
            std::fs::write(dir.join("lesson-01.json"), "new").unwrap();
            Ok(vec!["lesson 2 exited with 1".into()])
        })
        .unwrap_err();
        assert!(err.to_string().contains("lesson 2 exited with 1"), "{err}");
        assert_eq!(read(&dest.join("lesson-01.json")), "old");
        assert_eq!(read(&dest.join("lesson-02.json")), "old");
        assert!(!staging.exists());

        // An error of the run itself: the same.
        let err = stage_then_move(&staging, &dest, |dir| {
            std::fs::write(dir.join("lesson-01.json"), "new").unwrap();
            bail!("cargo build failed")
        })
        .unwrap_err();
        assert!(err.to_string().contains("cargo build failed"), "{err}");
        assert_eq!(read(&dest.join("lesson-01.json")), "old");

        // Every lesson ran: every report is replaced, and nothing else is left behind.
        stage_then_move(&staging, &dest, |dir| {
            for n in [1, 2] {
                std::fs::write(dir.join(format!("lesson-0{n}.json")), "new").unwrap();
            }
            Ok(Vec::new())
        })
        .unwrap();
        assert_eq!(read(&dest.join("lesson-01.json")), "new");
        assert_eq!(read(&dest.join("lesson-02.json")), "new");
        let mut names: Vec<String> = std::fs::read_dir(&dest)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["lesson-01.json", "lesson-02.json"]);
        assert!(!staging.exists());
    }
}
