//! Skip notes: a bench target that skips a benchmark on this machine leaves one in
//! criterion's directory, so that the export of the run reports it as skipped.

use std::fs;
use std::path::Path;

use anyhow::Context;

use super::SkippedBench;

/// The note a bench target leaves in a benchmark's directory when it skips it; criterion
/// writes no file of that name.
pub(super) const SKIPPED_FILE: &str = "mmap-skipped.json";

/// Notes in `criterion_dir` that the suite skipped benchmark `id` on this machine, and why,
/// so the export of the run reports it as skipped instead of missing. A later result of the
/// same benchmark supersedes the note.
pub fn mark_skipped(criterion_dir: &Path, id: &str, why: &str) -> anyhow::Result<()> {
    let dir = id
        .split('/')
        .fold(criterion_dir.to_path_buf(), |dir, part| dir.join(part));
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let note = SkippedBench {
        id: id.to_string(),
        why: why.to_string(),
    };
    let path = dir.join(SKIPPED_FILE);
    fs::write(&path, serde_json::to_string_pretty(&note)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}
