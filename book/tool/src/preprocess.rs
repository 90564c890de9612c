//! The mdBook preprocessor (`[preprocessor.mmap]` in `book/book.toml`, run before mdBook's
//! own `links`): regenerates `src/generated/` from the results that exist, then checks every
//! chapter's includes and images and fails the build, naming the file, if one is broken.
//! The book itself passes through unchanged.
//!
//! mdBook sends `[context, book]` as JSON on stdin and reads the book back from stdout. The
//! book is handled as plain JSON (chapters are objects under `"Chapter"` keys), so the tool
//! does not depend on mdBook's crates.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::check::{self, Problem};
use crate::results::Results;
use crate::{Paths, render};

/// Runs the preprocessor on stdin/stdout.
pub fn run() -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("read the book from mdBook")?;
    let value: Value = serde_json::from_str(&input).context("mdBook sent something not JSON")?;
    let Some([ctx, book]) = value
        .as_array()
        .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
    else {
        bail!("mdBook sent something other than [context, book]");
    };
    let root = PathBuf::from(ctx["root"].as_str().context("the context has no root")?);
    let src_dir = ctx["config"]["book"]["src"].as_str().unwrap_or("src");
    let paths = Paths::new(root.join(".."));
    let results = Results::load(&paths)?;
    let files = render::generate(&paths, &results)?;
    render::write(&paths, &files)?;

    let src = root.join(src_dir);
    let problems = check_book(book, &src);
    if !problems.is_empty() {
        for p in &problems {
            mmap_lab::warn!("mmap-book: {p}");
        }
        bail!(
            "{} broken include(s) or image(s) in the book (listed above)",
            problems.len()
        );
    }
    serde_json::to_writer(std::io::stdout().lock(), book).context("write the book back")?;
    Ok(())
}

/// Checks every chapter of the book JSON; `src` is the book's source directory.
pub fn check_book(book: &Value, src: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    visit(book, &mut |chapter| {
        let Some(content) = chapter["content"].as_str() else {
            return;
        };
        let source = chapter["source_path"]
            .as_str()
            .or(chapter["path"].as_str())
            .unwrap_or("");
        let dir = src.join(Path::new(source).parent().unwrap_or(Path::new("")));
        let name = format!("book/src/{source}");
        problems.extend(check::chapter(&name, content, &dir));
    });
    problems
}

fn visit(value: &Value, f: &mut impl FnMut(&Value)) {
    match value {
        Value::Object(map) => {
            if let Some(chapter) = map.get("Chapter") {
                f(chapter);
            }
            for v in map.values() {
                visit(v, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        _ => {}
    }
}
