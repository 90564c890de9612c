//! What the book shows: the reference machine's results (committed in `book/reference/`)
//! and the reader's (written to `target/` by `just book`), loaded with mmap-lab's own types.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use mmap_lab::Report;
use mmap_lab::bench::BenchResults;
use mmap_lab::machine::Machine;

use crate::Paths;

/// One machine's results: lesson reports by lesson number, and the bench suite's numbers.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub lessons: BTreeMap<u8, Report>,
    pub bench: Option<BenchResults>,
}

impl Side {
    /// Whether there is nothing at all.
    pub fn is_empty(&self) -> bool {
        self.lessons.is_empty() && self.bench.is_none()
    }

    /// The machine these results come from (any report names it).
    pub fn machine(&self) -> Option<&Machine> {
        self.lessons
            .values()
            .map(|r| &r.machine)
            .next()
            .or(self.bench.as_ref().map(|b| &b.machine))
    }
}

/// Both sides.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub reference: Side,
    pub reader: Side,
}

impl Results {
    /// Loads whatever exists. A file that exists but cannot be read is an error naming it.
    pub fn load(paths: &Paths) -> anyhow::Result<Results> {
        let mut results = Results::default();
        for n in 1..=99u8 {
            if let Some(r) = load_report(&paths.reference_lesson(n))? {
                results.reference.lessons.insert(n, r);
            }
            if let Some(r) = load_report(&paths.reader_lesson(n))? {
                results.reader.lessons.insert(n, r);
            }
        }
        results.reference.bench = load_bench(&paths.reference_bench())?;
        results.reader.bench = load_bench(&paths.reader_bench())?;
        Ok(results)
    }
}

fn load_report(path: &Path) -> anyhow::Result<Option<Report>> {
    if !path.exists() {
        return Ok(None);
    }
    Report::load(path)
        .map(Some)
        .with_context(|| format!("{} cannot be used; delete or regenerate it", path.display()))
}

fn load_bench(path: &Path) -> anyhow::Result<Option<BenchResults>> {
    if !path.exists() {
        return Ok(None);
    }
    BenchResults::load(path)
        .map(Some)
        .with_context(|| format!("{} cannot be used; delete or regenerate it", path.display()))
}
