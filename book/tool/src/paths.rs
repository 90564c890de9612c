//! Where everything the book reads and writes lives.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mmap_lab::data::target_dir;

/// The paths of one workspace checkout.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root (holds `Cargo.toml`, `lessons/`, `book/`).
    pub workspace: PathBuf,
    /// Cargo's target directory: the one this tool was built in, found from the running
    /// program like every other tool of the workspace ([`target_dir`]).
    pub target: PathBuf,
}

/// A lesson package found under `lessons/NN-slug/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonDir {
    pub number: u8,
    /// The directory name, e.g. `05-read-vs-mmap`.
    pub name: String,
}

impl LessonDir {
    /// The cargo package, e.g. `lesson-05`.
    pub fn package(&self) -> String {
        format!("lesson-{:02}", self.number)
    }
}

impl Paths {
    /// The workspace this tool was built in.
    pub fn of_this_checkout() -> Paths {
        let tool = Path::new(env!("CARGO_MANIFEST_DIR"));
        Paths::new(tool.join("../.."))
    }

    /// The paths of the workspace at `workspace`.
    pub fn new(workspace: impl Into<PathBuf>) -> Paths {
        let workspace = workspace.into();
        let workspace = workspace.canonicalize().unwrap_or(workspace);
        Paths {
            workspace,
            target: target_dir(),
        }
    }

    /// The mdBook root (`book/`).
    pub fn book(&self) -> PathBuf {
        self.workspace.join("book")
    }

    /// The book's sources (`book/src/`).
    pub fn src(&self) -> PathBuf {
        self.book().join("src")
    }

    /// Generated parts of the book (`book/src/generated/`, git-ignored).
    pub fn generated(&self) -> PathBuf {
        self.src().join("generated")
    }

    /// The rendered HTML (`book/book/`).
    pub fn html(&self) -> PathBuf {
        self.book().join("book")
    }

    /// The reference machine's outputs, committed (`book/reference/`).
    pub fn reference(&self) -> PathBuf {
        self.book().join("reference")
    }

    /// The reference report of lesson `n`.
    pub fn reference_lesson(&self, n: u8) -> PathBuf {
        self.reference().join(format!("lesson-{n:02}.json"))
    }

    /// The reference bench results, written by the benches' export.
    pub fn reference_bench(&self) -> PathBuf {
        self.reference().join("bench.json")
    }

    /// The reader's lesson reports, written by `just book`.
    pub fn reader_lessons(&self) -> PathBuf {
        self.target.join("lesson-results")
    }

    /// The reader's report of lesson `n`.
    pub fn reader_lesson(&self, n: u8) -> PathBuf {
        self.reader_lessons().join(format!("lesson-{n:02}.json"))
    }

    /// The reader's bench results, written by the benches' export.
    pub fn reader_bench(&self) -> PathBuf {
        self.target.join("bench-results.json")
    }

    /// The notes, in English, with claim ids.
    pub fn notes(&self) -> PathBuf {
        self.workspace.join("notes/mmap-notes.en.md")
    }

    /// The notes as written, in Uzbek: the original the English renders.
    pub fn notes_original(&self) -> PathBuf {
        self.workspace.join("notes/mmap-notes.uz.md")
    }

    /// The lesson packages present in `lessons/`, in order.
    pub fn lessons(&self) -> anyhow::Result<Vec<LessonDir>> {
        let dir = self.workspace.join("lessons");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some((num, slug)) = name.split_once('-') else {
                continue;
            };
            if num.len() == 2
                && !slug.is_empty()
                && let Ok(number) = num.parse::<u8>()
                && self
                    .workspace
                    .join("lessons")
                    .join(&name)
                    .join("Cargo.toml")
                    .is_file()
            {
                found.push(LessonDir { number, name });
            }
        }
        found.sort_by_key(|l| l.number);
        Ok(found)
    }

    /// `path` relative to the workspace, for messages.
    pub fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.workspace)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
