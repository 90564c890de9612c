//! [`Lab`]: what a running lesson works with — its settings, its data directory, the
//! machine — and the report it fills, one claim at a time, with [`Lab::check`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use memmap2::Mmap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache;
use crate::data::{DataDir, InUse, Spec};
use crate::error::{BadInput, NotMeasured, not_measured};
use crate::findings::Findings;
use crate::judge::Judgement;
use crate::machine::Machine;
use crate::peer::{self, Peer, Ran};
use crate::report::{Report, Unit};
use crate::size;

/// What a lesson is: its number (= the notes' section), title and default file size.
#[derive(Debug, Clone, Copy)]
pub struct Lesson {
    pub number: u8,
    pub title: &'static str,
    /// One paragraph for `--help`.
    pub about: &'static str,
    /// The sample file size when `--size` is not given.
    pub default_size: u64,
}

/// A running lesson: its settings, its data directory, the machine, and the report being
/// filled.
#[derive(Debug)]
pub struct Lab {
    pub lesson: Lesson,
    /// The sample size: `--size` or the lesson's default.
    pub size: u64,
    pub cold: bool,
    pub runs: u32,
    pub data: DataDir,
    pub machine: Machine,
    /// `--clean`: the run's files go when it ends (and when a signal interrupts it).
    clean: bool,
    used: Vec<Spec>,
    held: Vec<InUse>,
    report: Report,
}

/// The most of a file [`Lab::make_cold`] accepts still cached after eviction.
const MAX_LEFT_COLD: f64 = 0.1;

impl Lab {
    pub(crate) fn new(lesson: Lesson, size: u64, flags: (bool, bool, u32), data: DataDir) -> Lab {
        let (cold, clean, runs) = flags;
        let machine = Machine::detect(data.path());
        let mut report = Report::new(lesson.number, lesson.title, machine.clone());
        report.param("size_bytes", size);
        report.param("cold", cold);
        report.param("runs", runs);
        Lab {
            lesson,
            size,
            cold,
            runs,
            data,
            machine,
            clean,
            used: Vec::new(),
            held: Vec::new(),
            report,
        }
    }

    /// Ends the run: releases its files, deletes its scratch files (and with `--clean` all
    /// its files, except those another run still uses, which it names on stderr) and returns
    /// the report.
    pub(crate) fn finish(mut self) -> Report {
        self.held.clear();
        for spec in &self.used {
            if !(self.clean || spec.scratch) {
                continue;
            }
            match self.data.remove(spec) {
                Ok(true) => {}
                Ok(false) => crate::files::warn(&format!(
                    "kept {}: another lesson is using it",
                    spec.file_name()
                )),
                Err(e) => {
                    crate::files::warn(&format!("could not remove {}: {e:#}", spec.file_name()))
                }
            }
        }
        self.report
    }

    /// Runs `judge` on `findings`, records the findings as measurements named after the
    /// claim (`[5.ram]` → `ram.FIELD`) and adds the verdict on claim `id`, quoting the notes.
    pub fn check<F: Findings>(
        &mut self,
        id: &str,
        judge: impl FnOnce(&F) -> Judgement,
        findings: &F,
    ) {
        let judgement = judge(findings);
        let prefix = prefix(id);
        let first = self.report.measurements.len();
        self.record(prefix, findings);
        let evidence = self.report.measurements[first..]
            .iter()
            .map(|m| m.name.clone())
            .collect();
        let key = findings
            .keys()
            .iter()
            .map(|k| format!("{prefix}.{k}"))
            .collect();
        self.report.claim(id, judgement, evidence, key);
    }

    /// [`check`](Lab::check) for findings an experiment may not have been able to measure:
    /// a [`NotMeasured`] error becomes a NOT MEASURED verdict with its reason; any other error
    /// is returned (the lesson fails).
    pub fn check_if<F: Findings>(
        &mut self,
        id: &str,
        judge: impl FnOnce(&F) -> Judgement,
        findings: anyhow::Result<F>,
    ) -> anyhow::Result<()> {
        match findings {
            Ok(f) => self.check(id, judge, &f),
            Err(e) => match e.downcast::<NotMeasured>() {
                Ok(nm) => {
                    self.report
                        .claim(id, Judgement::not_measured(nm.0), Vec::new(), Vec::new())
                }
                Err(e) => return Err(e.context(format!("[{id}]"))),
            },
        }
        Ok(())
    }

    /// Gives claim `id` NOT MEASURED with the reason `why`: for a lesson whose every
    /// experiment needs what this run cannot do (a cold file on tmpfs, say).
    pub fn not_measured(&mut self, id: &str, why: &str) {
        self.report
            .claim(id, Judgement::not_measured(why), Vec::new(), Vec::new());
    }

    /// Records findings that belong to no one claim (context for the reader), as
    /// `prefix.FIELD`.
    pub fn record<F: Findings>(&mut self, prefix: &str, findings: &F) {
        let mut recorded = Vec::new();
        findings.record_fields(prefix, &mut recorded);
        // A name recorded twice (a claim checked twice, say) keeps its first number.
        recorded.retain(|m| self.report.measurement(&m.name).is_none());
        self.report.measurements.extend(recorded);
    }

    /// Records a parameter of the run (sizes as `NAME_bytes`, printed as sizes).
    pub fn param(&mut self, key: &str, value: impl Serialize) {
        self.report.param(key, value);
    }

    /// Adds a note (printed after the claims).
    pub fn note(&mut self, text: impl Into<String>) {
        self.report.note(text);
    }

    /// Suggests a command to run next.
    pub fn try_next(&mut self, command: impl Into<String>) {
        self.report.try_next(command);
    }

    /// The path of the sample file for `spec`, made if needed and held in use for the rest
    /// of the run (see [`DataDir::acquire`]). `--clean` deletes it at the end; a scratch spec
    /// is deleted at the end in any case.
    pub fn file(&mut self, spec: Spec) -> anyhow::Result<PathBuf> {
        Ok(self.files(vec![spec])?.remove(0))
    }

    /// Several files at once: the disk they need together is checked before any of them is
    /// written, so a run that cannot finish writes nothing.
    pub fn files(&mut self, specs: Vec<Spec>) -> anyhow::Result<Vec<PathBuf>> {
        self.data.ensure_room(&specs)?;
        let mut paths = Vec::with_capacity(specs.len());
        for spec in specs {
            let held = self.data.acquire(&spec, self.clean)?;
            paths.push(held.path().to_path_buf());
            self.held.push(held);
            self.used.push(spec);
        }
        Ok(paths)
    }

    /// Maps one of this run's data files read-only: the one mapping helper of the lessons.
    pub fn map(&self, path: &Path) -> anyhow::Result<Mmap> {
        self.data.map(path)
    }

    /// Maps a data file with every page mapped before `mmap` returns (`MAP_POPULATE`).
    pub fn map_populated(&self, path: &Path) -> anyhow::Result<Mmap> {
        self.data.map_with(path, true)
    }

    /// Competing methods taking turns: `rounds` rounds in which each of `methods` runs once
    /// (`f(i)`), each on a freshly evicted file when `cold` ([`make_cold`](Lab::make_cold)),
    /// so that a slow moment of the disk or the machine hits all of them alike. Returns each
    /// method's results, in order.
    pub fn turns<T>(
        &self,
        path: &Path,
        (rounds, methods, cold): (u32, usize, bool),
        mut f: impl FnMut(usize) -> anyhow::Result<T>,
    ) -> anyhow::Result<Vec<Vec<T>>> {
        let mut out: Vec<Vec<T>> = (0..methods).map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (i, runs) in out.iter_mut().enumerate() {
                if cold {
                    self.make_cold(path)?;
                }
                runs.push(f(i)?);
            }
        }
        Ok(out)
    }

    /// [`turns`](Lab::turns) with every run probed ([`crate::measure::probe`]); with
    /// `count_cache`, the bytes of the file in the page cache after each run, once readahead
    /// has settled. A run's value is dropped after its cache is counted (a mapping it returns
    /// is unmapped before the next eviction).
    pub fn contest<T, R>(
        &self,
        path: &Path,
        how: (u32, usize, bool),
        count_cache: bool,
        mut f: impl FnMut(usize) -> anyhow::Result<T>,
        mut keep: impl FnMut(T) -> R,
    ) -> anyhow::Result<Vec<Vec<Entry<R>>>> {
        self.turns(path, how, |i| {
            let (out, sample) = crate::measure::probe(|| f(i));
            let cached = count_cache
                .then(|| cache::settled_bytes(path))
                .transpose()?;
            Ok(Entry {
                sample,
                out: keep(out?),
                cached,
            })
        })
    }

    /// Fails with a [`BadInput`] error when the sample is smaller than this lesson needs.
    pub fn require_size(&self, min: u64) -> anyhow::Result<()> {
        if self.size < min {
            return Err(BadInput(format!(
                "--size {} is too small for lesson {}: it needs at least {}",
                exact_if_equal(self.size, min),
                self.lesson.number,
                exact_if_equal(min, self.size)
            ))
            .into());
        }
        Ok(())
    }

    /// Evicts `path` from the page cache, so that the next access reads from disk, and
    /// checks that it worked: the one cold-run policy of the lessons. When more than a tenth
    /// of the file stays cached (the directory is on tmpfs, or another process maps it) the
    /// error is a [`NotMeasured`] that says why, so the claims that need a cold file become
    /// NOT MEASURED instead of reporting cache hits as disk reads.
    pub fn make_cold(&self, path: &Path) -> anyhow::Result<cache::Residency> {
        let left = cache::evict(path)?;
        if left.fraction() > MAX_LEFT_COLD {
            let cause = if self.data.is_tmpfs() {
                "the data directory is on tmpfs, where files live in RAM; use --dir on a disk \
                 filesystem"
            } else {
                "another process has it mapped (a benchmark or another lesson using the same \
                 file?); run again when nothing else uses it, or give this run its own --dir"
            };
            return Err(not_measured(format!(
                "could not make the sample cold: {} of it stayed in the page cache after \
                 eviction — {cause}",
                Unit::Fraction.format(left.fraction())
            )));
        }
        Ok(left)
    }

    /// [`make_cold`](Lab::make_cold) when `--cold` was given; `None` otherwise.
    pub fn prepare(&self, path: &Path) -> anyhow::Result<Option<cache::Residency>> {
        self.cold.then(|| self.make_cold(path)).transpose()
    }

    /// Runs a Python peer ([`peer::python`]); `None` with a note when python3 is not
    /// installed or the script failed, so the lesson goes on without it. `what` names it in
    /// the note: "the notes' snippet".
    pub fn python<T: DeserializeOwned>(
        &mut self,
        what: &str,
        script: &str,
        args: &[&OsStr],
    ) -> Option<Ran<T>> {
        match peer::python(script, args) {
            Peer::Ran(r) => Some(r),
            Peer::Missing => {
                self.note(format!("python3 not installed — skipped: {what}"));
                None
            }
            Peer::Failed(e) => {
                self.note(format!("python3 failed — skipped: {what} ({e})"));
                None
            }
        }
    }

    /// The lessons' data files a path names, for error messages: the path relative to the
    /// data directory when it is inside it.
    pub fn show(&self, path: &Path) -> String {
        path.strip_prefix(self.data.path())
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
    }

    /// Opens `path` for reading, naming it in the error.
    pub fn open(&self, path: &Path) -> anyhow::Result<std::fs::File> {
        std::fs::File::open(path).with_context(|| format!("open {}", self.show(path)))
    }
}

/// One run of [`Lab::contest`]: its sample, what the run kept, and the bytes of the file
/// cached afterwards (when counted).
#[derive(Debug, Clone)]
pub struct Entry<R> {
    pub sample: crate::measure::Sample,
    pub out: R,
    pub cached: Option<u64>,
}

impl<R> Entry<R> {
    /// The wall times of `entries` as a spread, each divided by `ops`.
    pub fn times(entries: &[Entry<R>], ops: f64) -> crate::findings::Spread {
        let samples: Vec<_> = entries.iter().map(|e| e.sample).collect();
        crate::findings::Spread::of_samples(&samples, ops)
    }

    /// The median of the bytes cached after each run (0 where not counted).
    pub fn cached_median(entries: &[Entry<R>]) -> crate::quantity::Bytes {
        let v: Vec<f64> = entries
            .iter()
            .map(|e| e.cached.unwrap_or(0) as f64)
            .collect();
        crate::quantity::Bytes(crate::measure::median(&v))
    }
}

/// The measurement prefix of a claim: its id without the section, `5.ram` → `ram`.
fn prefix(id: &str) -> &str {
    id.split_once('.').map_or(id, |(_, rest)| rest)
}

/// `bytes` for people, or exactly (`2097151 bytes`) when that would print the same as
/// `other`.
fn exact_if_equal(bytes: u64, other: u64) -> String {
    if size::fmt(bytes) == size::fmt(other) {
        format!("{bytes} bytes")
    } else {
        size::fmt(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Content;

    #[test]
    fn a_contest_runs_each_method_once_a_round_and_counts_the_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::open(Some(tmp.path()), false).unwrap();
        let lesson = Lesson {
            number: 2,
            title: "t",
            about: "",
            default_size: 1 << 20,
        };
        let mut lab = Lab::new(lesson, 1 << 20, (false, false, 3), data);
        let path = lab
            .file(Spec::new("c", 1 << 20, Content::Random { seed: 1 }))
            .unwrap();
        let mut order = Vec::new();
        let runs = lab
            .contest(
                &path,
                (2, 3, false),
                true,
                |i| {
                    order.push(i);
                    Ok(i * 10)
                },
                |v| v + 1,
            )
            .unwrap();
        assert_eq!(order, [0, 1, 2, 0, 1, 2], "methods take turns");
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().all(|r| r.len() == 2));
        assert_eq!(runs[2][1].out, 21);
        assert!(runs[0][0].cached.is_some());
        assert_eq!(Entry::times(&runs[0], 1.0).runs, 2);
    }
}
