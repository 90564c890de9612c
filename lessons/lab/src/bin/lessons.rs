//! `lessons`: the list of lessons (one per section of the notes) with the claims each one
//! checks; `lessons package N`, which turns `5` or `05` into the package `lesson-05` for
//! `just lesson N`; and `lessons clean-data`, which deletes the sample files mmap-lab made
//! in the default data directory (and nothing else).

use std::path::Path;
use std::process::ExitCode;

use mmap_lab::data::DataDir;
use mmap_lab::files::{printable, show, warn, write_stdout};
use mmap_lab::{claims, size};

/// The workspace's `lessons/` directory, where a lesson exists as `NN-slug/`.
const LESSONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn main() -> ExitCode {
    // Arguments that are not UTF-8 are shown lossily and match no command.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["list"] => say(&listing()),
        ["clean-data"] => clean_data(),
        ["package", n] => match n.parse::<u8>().ok().filter(|&n| exists(n)) {
            Some(n) => say(&format!("lesson-{n:02}\n")),
            None => {
                warn(&format!(
                    "there is no lesson '{}'; the lessons are:\n\n{}",
                    printable(n),
                    listing()
                ));
                ExitCode::from(2)
            }
        },
        _ => {
            warn("usage: lessons [list] | lessons package N | lessons clean-data");
            ExitCode::from(2)
        }
    }
}

/// Prints `text`; a full or failing stdout is an error (exit 1), a closed pipe is not.
fn say(text: &str) -> ExitCode {
    match write_stdout(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&anyhow::Error::from(e).context("write to stdout")),
    }
}

fn clean_data() -> ExitCode {
    let dir = DataDir::default_path();
    if !dir.exists() {
        return say(&format!(
            "nothing to delete: {} does not exist\n",
            show(&dir)
        ));
    }
    match DataDir::open(Some(&dir), false).and_then(|d| d.clean()) {
        Ok(done) => {
            let mut text = format!(
                "deleted {} files ({} of disk) from {}\n",
                done.files,
                size::fmt(done.bytes),
                show(&dir)
            );
            for name in &done.in_use {
                text.push_str(&format!("kept {name}: a running lesson is using it\n"));
            }
            say(&text)
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    warn(&format!("lessons: error: {}", printable(&format!("{e:#}"))));
    ExitCode::FAILURE
}

fn exists(n: u8) -> bool {
    let prefix = format!("{n:02}-");
    std::fs::read_dir(Path::new(LESSONS_DIR)).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
    })
}

fn listing() -> String {
    let mut out = String::new();
    for &(n, title) in claims::SECTIONS {
        let ids: Vec<&str> = claims::of_section(n).map(|c| c.id).collect();
        let state = if exists(n) { "" } else { "  (not written yet)" };
        out.push_str(&format!(
            "{n:>3}  {title}{state}\n     checks: {}\n",
            ids.join(" ")
        ));
    }
    out.push_str("\nRun one with: just lesson N   (or cargo run --release -p lesson-NN)\n");
    out
}
