//! Lesson 9 · mmap and multiprocessing: "5 workers, 1 big file, all using the same mmap".
//!
//! The notes make three claims, and this lesson measures each with real processes — children
//! of this binary (`mmap_lab::child`), every one reaped however the run ends:
//! - [9.shared] mmap is shared memory between processes: five workers each map the file and
//!   read all of it; while they wait, their Rss says each has the whole file resident, and
//!   their Pss (each page divided among the processes mapping it) adds up to one copy. A
//!   message written through one process's shared map is read by another.
//! - [9.saves-ram] RAM is saved: the same five workers with `fs::read` (a private copy each)
//!   and with a `read()` loop (one buffer each): which RAM does the map save? The private
//!   copies — the page cache is shared either way. The notes' own language does the same
//!   with `multiprocessing`, beside it.
//! - [9.ipc] mmap is ideal for IPC: a ring buffer in a shared map with atomics against a
//!   pipe, messages per second and round trips; then the same map with no synchronisation,
//!   losing and tearing messages.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use clap::Parser;
use experiments::{BUF, Mode, PYTHON, PyGroup, PyOut, RING_BYTES};
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction};
use mmap_lab::{BadInput, Lab, Lesson, NotMeasured, cache, child, measure, size};
use verdicts::{Group, SavesRam, Shared, copies};

const LESSON: Lesson = Lesson {
    number: 9,
    title: "mmap and multiprocessing",
    about: "Five worker processes hold one file three ways — mapped, fs::read, a read() loop — \
            and their Rss, Pss and the machine's MemAvailable are measured while they hold it, \
            beside the notes' Python multiprocessing. Then two processes pass messages through \
            a shared map (with atomics, and without) and through a pipe. --workers sets how \
            many workers share the file.",
    default_size: 128 << 20,
};

/// The smallest sample: the file must dwarf a worker's own few MiB.
const MIN_SIZE: u64 = 8 << 20;
/// The most workers `--workers` accepts.
const MAX_WORKERS: i64 = 64;

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// Worker processes that share the file (the notes' example has 5)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=MAX_WORKERS))]
    workers: u32,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

fn main() -> ExitCode {
    child::dispatch(experiments::ROLES);
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    let workers = args.workers;
    lab.require_size(MIN_SIZE)?;
    fits(workers, lab.size)?;
    lab.param("workers", workers);
    lab.param("buffer_bytes", BUF);
    lab.param("messages", experiments::MESSAGES);
    lab.param("round_trips", experiments::ROUND_TRIPS);
    let files = lab.files(vec![
        Spec::new("sample", lab.size, Content::Random { seed: 9 }),
        Spec::new("ring", RING_BYTES, Content::Sparse).scratch(),
    ])?;
    let (path, ring) = (&files[0], &files[1]);
    let file = Bytes::of(lab.size);
    // The page cache holds the file before any worker starts: one copy, whoever reads it.
    let cached = Fraction(cache::warm(path, 0..lab.size)?.fraction());

    // Five workers per way, each measured while all of them hold the file.
    let groups = measured((|| {
        let group = |mode| experiments::group(path, mode, workers);
        Ok([
            group(Mode::Idle)?,
            group(Mode::Map)?,
            group(Mode::Read)?,
            group(Mode::Stream)?,
        ])
    })())?;
    let python = groups.is_ok().then(|| {
        let n = workers.to_string();
        let what = "the notes' multiprocessing workers";
        lab.python::<PyOut>(what, PYTHON, &[path.as_ref(), n.as_ref()])
    });
    let py = python.flatten().map(|p| p.out);
    let py_copies = |g: fn(&PyOut) -> &PyGroup| {
        py.as_ref()
            .map(|p| copies(g(p).pss_sum(), p.idle.pss_sum(), file.0))
    };

    // Messages between two processes, each side on a core of its own: a shared map with
    // atomics, a pipe, round trips through each; then the map with no synchronisation.
    let (ipc, pinned) = experiments::messages(ring, lab.runs)?;
    lab.param("pinned", pinned);

    lab.record(
        "run",
        &Context {
            cached,
            same_checksums: groups.as_ref().ok().map(|[_, m, r, s]| {
                let sums: Vec<u64> = [m, r, s].iter().flat_map(|g| g.sums.clone()).collect();
                Flag(sums.windows(2).all(|p| p[0] == p[1]))
            }),
            idle: groups.as_ref().ok().map(|[idle, ..]| idle.findings()),
        },
    );

    // [9.shared] "mmap is shared memory between processes"
    let shared = need(&groups).map(|[idle, map, ..]| {
        let (idle, map) = (idle.findings(), map.findings());
        let baseline = idle.rss_sum.0 / f64::from(workers);
        Shared {
            workers: Count::of(workers),
            file,
            rss_sum: map.rss_sum,
            pss_sum: map.pss_sum,
            idle_pss_sum: idle.pss_sum,
            copies: copies(map.pss_sum.0, idle.pss_sum.0, file.0),
            least_resident: Fraction((map.rss_least.0 - baseline) / file.0),
            seen_across: ipc.exactly_once,
            python_copies: py_copies(|p| &p.mmap),
        }
    });
    lab.check_if("9.shared", verdicts::shared, shared)?;

    // [9.ipc] "mmap is ideal for IPC"
    lab.check("9.ipc", verdicts::ipc, &ipc);

    // [9.saves-ram] "5 workers, 1 big file, the same mmap → RAM is saved"
    let saves = need(&groups).map(|[idle, map, read, stream]| {
        let idle = idle.findings().pss_sum.0;
        let (map, read, stream) = (map.findings(), read.findings(), stream.findings());
        SavesRam {
            workers: Count::of(workers),
            file,
            map_copies: copies(map.pss_sum.0, idle, file.0),
            read_copies: copies(read.pss_sum.0, idle, file.0),
            stream_copies: copies(stream.pss_sum.0, idle, file.0),
            map,
            read,
            stream,
            python_map_copies: py_copies(|p| &p.mmap),
            python_read_copies: py_copies(|p| &p.read),
        }
    });
    lab.check_if("9.saves-ram", verdicts::saves_ram, saves)?;

    lab.try_next("just lesson 9 --workers 20   (twenty readers, still one copy)");
    lab.try_next("just lesson 9 --size 2G --runs 1   (ten GiB of private copies with fs::read)");
    lab.try_next("just lesson 10   (mmap under an async runtime: who waits for the disk)");
    Ok(())
}

mmap_lab::findings! {
    /// Context of the run: the file cached before the workers, the idle workers' baseline.
    struct Context {
        cached: Fraction = "the file in the page cache before the workers started",
        same_checksums: Option<Flag> = "every worker read the same bytes, whichever way",
        idle: Option<Group> = "idle workers (the baseline)",
    }
}

/// Refuses more workers than RAM can hold: the fs::read workers hold a copy each.
fn fits(workers: u32, file: u64) -> anyhow::Result<()> {
    let copies = u64::from(workers).saturating_mul(file);
    match measure::system_memory() {
        Some(m) if copies > m.available / 2 => Err(BadInput(format!(
            "--workers {workers} with --size {}: the fs::read workers' private copies ({}) \
             would take more than half of the {} of RAM available",
            size::fmt(file),
            size::fmt(copies),
            size::fmt(m.available)
        ))
        .into()),
        _ => Ok(()),
    }
}

/// An experiment's result, or the reason it could not be measured here; any other error
/// fails the run.
fn measured<T>(r: anyhow::Result<T>) -> anyhow::Result<Result<T, String>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => e.downcast::<NotMeasured>().map(|nm| Err(nm.0)),
    }
}

/// A claim's input, or NOT MEASURED with the reason it is missing.
fn need<T>(got: &Result<T, String>) -> anyhow::Result<&T> {
    got.as_ref().map_err(mmap_lab::not_measured)
}
