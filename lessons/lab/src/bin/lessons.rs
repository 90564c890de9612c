//! `lessons`: the list of lessons (one per section of the notes) with the claims each one
//! checks; `lessons package N`, which turns `5` or `05` into the package `lesson-05` for
//! `just lesson N`; and `lessons clean-data`, which deletes the sample files mmap-lab made
//! in the default data directory (and nothing else).

use std::path::Path;
use std::process::ExitCode;

use mmap_lab::cli::write_stdout;
use mmap_lab::data::DataDir;
use mmap_lab::{claims, size};

/// The workspace's `lessons/` directory, where a lesson exists as `NN-slug/`.
const LESSONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["list"] => match write_stdout(&listing()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        },
        ["clean-data"] => {
            let dir = DataDir::default_path();
            if !dir.exists() {
                println!("nothing to delete: {} does not exist", dir.display());
                return ExitCode::SUCCESS;
            }
            match DataDir::open(Some(&dir), false).and_then(|d| d.clean()) {
                Ok((files, bytes)) => {
                    println!(
                        "deleted {files} files ({} of disk) from {}",
                        size::fmt(bytes),
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        ["package", n] => match n.parse::<u8>().ok().filter(|&n| exists(n)) {
            Some(n) => {
                println!("lesson-{n:02}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "there is no lesson '{n}'; the lessons are:\n\n{}",
                    listing()
                );
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("usage: lessons [list] | lessons package N | lessons clean-data");
            ExitCode::from(2)
        }
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("lessons: error: {e:#}");
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
