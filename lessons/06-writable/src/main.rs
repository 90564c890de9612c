//! Lesson 6 · Writable mmap: the notes' `mm[0:4] = b"DATA"`, and what it does not promise.
//!
//! - [6.in-place] the notes' Python and its Rust twin write through a shared map: the same
//!   file (inode, size) changes only in `mm[0:4]`, and another process's `read()` sees the
//!   bytes before any flush — there is one page cache;
//! - [6.no-rollback] nothing undoes such a write (unmapping without a flush keeps it); the
//!   two real ways back are a private map (`map_copy`: the file never changes) and writing
//!   a new file, fsync, rename — each measured with its cost;
//! - [6.crash] a writer moving money between accounts in a mapped ledger is killed with
//!   SIGKILL at random moments: kills cut transfers in half, yet every completed transfer
//!   survives (a process crash is not a power loss, which is not simulated: the dirty pages
//!   it would lose are measured instead);
//! - [6.no-tx] the same torture on a writer with a redo journal and a commit word: recovery
//!   keeps the invariant after every kill; durability against power loss costs msync.

mod experiments;
mod verdicts;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mmap_lab::cli::{Common, LessonArgs};
use mmap_lab::crash::{Plan, Torture, dirty_expire};
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Flag, Secs};
use mmap_lab::{Lab, Lesson, cache, child, files};

use experiments::{Found, LEDGER_BYTES, PY_SNIPPET, PySnippet};
use verdicts::{Crash, InPlace, NoRollback, NoTx};

const LESSON: Lesson = Lesson {
    number: 6,
    title: "Writable mmap",
    about: "Writes through a shared map the way the notes do (Python and Rust) and checks that \
            the file changes in place; shows that nothing rolls such a write back, and what \
            the two ways back cost; then kills a writer with SIGKILL at random moments, a \
            naive one and one with a redo journal, and counts the torn updates, the lost ones \
            and what recovery did.",
    default_size: 8 << 20,
};

/// Kills per writer in a default run: enough to see the odd outcome, within the 5 s budget.
const DEFAULT_KILLS: u64 = 200;
/// A kill comes at a uniformly random moment this long after the writer starts working.
const MAX_DELAY: Duration = Duration::from_millis(3);
/// The child roles of this binary: the two writers and a reader that uses read(2).
const ROLES: &[child::Role] = &[
    ("naive-writer", experiments::naive_writer),
    ("safe-writer", experiments::safe_writer),
    ("read4", experiments::read4),
];

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// SIGKILLs per writer in the crash torture (each about 5 ms)
    #[arg(long, default_value_t = DEFAULT_KILLS, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    kills: u64,
}

impl LessonArgs for Args {
    fn common(&self) -> &Common {
        &self.common
    }
}

fn main() -> ExitCode {
    child::dispatch(ROLES);
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size(16 * cache::page_size() as u64)?;
    lab.param("kills", args.kills);
    if args.kills > DEFAULT_KILLS {
        files::warn(&format!(
            "lesson-06: {} kills per writer: about {} s of torture",
            args.kills,
            args.kills / 100
        ));
    }
    let random = Content::Random { seed: 6 };
    let ledger = Content::Custom {
        tag: "ledger-1",
        fill: experiments::fill_ledger,
    };
    let [pristine, twin, notes, naive, safe] = lab
        .files(vec![
            Spec::new("pristine", lab.size, random), // never written: what the others held
            Spec::new("twin", lab.size, random).scratch(),
            Spec::new("notes", lab.size, random).scratch(),
            Spec::new("ledger-naive", LEDGER_BYTES, ledger).scratch(),
            Spec::new("ledger-safe", LEDGER_BYTES, ledger).scratch(),
        ])?
        .try_into()
        .map_err(|_| anyhow::anyhow!("five files asked, another number given"))?;

    // [6.in-place] "modifies the file in place": the Rust twin, then the notes' Python.
    let before = lab.map(&pristine)?;
    let (rust, flush) = experiments::rust_twin(&twin, &before)?;
    let id = mmap_lab::crash::identity(&notes);
    let py = lab.python::<PySnippet>("the notes' snippet", PY_SNIPPET, &[notes.as_os_str()]);
    let seen = |ran: &mmap_lab::peer::Ran<PySnippet>| ran.out.seen == "44415441"; // hex of DATA
    let py = py
        .map(|ran| experiments::edit(&notes, &before, id, seen(&ran)))
        .transpose()?;
    drop(before);
    let edit = InPlace {
        same_file: Flag(rust.same_file),
        outside: Count::of(rust.outside),
        wrote: Flag(rust.wrote),
        seen: Flag(rust.seen),
        flush: Secs::of(flush),
        py_same_file: py.map(|e| Flag(e.same_file)),
        py_outside: py.map(|e| Count::of(e.outside)),
        py_wrote: py.map(|e| Flag(e.wrote)),
        py_seen: py.map(|e| Flag(e.seen)),
    };
    lab.check("6.in-place", verdicts::in_place, &edit);

    // [6.no-rollback] "no rollback": unmapping keeps the write; the two ways back, costed.
    let touched = experiments::touch_every_page(&notes)?;
    let kept = experiments::unmap_without_flush(&twin)?;
    let replaced = experiments::replace(&twin)?;
    let back = NoRollback {
        kept: Flag(kept),
        private_untouched: Flag(touched.private_untouched),
        private_copied: Bytes::of(touched.private_copied),
        private_touch: Secs::of(touched.private_time),
        shared_touch: Secs::of(touched.shared_time),
        replace_atomic: Flag(replaced.atomic),
        replace_new_inode: Flag(replaced.new_inode),
        replace: Secs::of(replaced.time),
        in_place: Secs::of(flush),
    };
    lab.check("6.no-rollback", verdicts::no_rollback, &back);
    if let Some((was, now)) = touched.machine_dirty {
        lab.note(format!(
            "the whole machine's dirty page cache (/proc/meminfo Dirty) went from {} to {} \
             around the writes — every process's writes count there",
            Bytes::of(was),
            Bytes::of(now)
        ));
    }

    // [6.crash] "crash → data corrupt": the naive writer, killed at random moments.
    let plan = Plan {
        kills: args.kills as usize,
        delay: Duration::ZERO..MAX_DELAY,
    };
    let naive_run = experiments::torture("naive-writer", &naive, &plan)?;
    let crashed = Crash {
        kills: Count::of(naive_run.rounds.len()),
        killed: Count::of(naive_run.killed()),
        torn: Count::of(naive_run.count(|f| f.torn)),
        broken: Count::of(naive_run.count(|f| f.broken)),
        completed: Count::of(completed(&naive_run)),
        lost: Count::of(naive_run.count(|f| f.lost)),
        reported: Count::of(reported(&naive_run)),
        dirty: Bytes::of(touched.dirty),
        dirty_after: Bytes::of(touched.dirty_after),
        flush: Secs::of(touched.flush),
        expire: dirty_expire().map(Secs::of),
        wall: Secs::of(naive_run.wall),
    };
    lab.check("6.crash", verdicts::crash, &crashed);

    // [6.no-tx] "no transactions → be careful": the journaling writer, killed the same way.
    let safe_run = experiments::torture("safe-writer", &safe, &plan)?;
    let [naive_cost, safe_cost, durable_cost] = experiments::transfer_costs(&naive, &safe)?;
    let tx = NoTx {
        naive_torn: crashed.torn,
        kills: Count::of(safe_run.rounds.len()),
        broken: Count::of(safe_run.count(|f| f.broken)),
        lost: Count::of(safe_run.count(|f| f.lost)),
        cut: Count::of(safe_run.count(|f| f.torn)),
        redone: Count::of(safe_run.count(|f| f.redone)),
        completed: Count::of(completed(&safe_run)),
        naive_cost: Secs::of(naive_cost),
        safe_cost: Secs::of(safe_cost),
        durable_cost: Secs::of(durable_cost),
    };
    lab.check("6.no-tx", verdicts::no_tx, &tx);

    lab.try_next("just lesson 6 --kills 1000   (five times the kills, about 10 s)");
    lab.try_next("just lesson 12   (SIGBUS on truncate, racing writers)");
    Ok(())
}

/// Transfers completed over every round of a torture.
fn completed(t: &Torture<Found>) -> u64 {
    t.rounds.iter().map(|r| r.found.completed).sum()
}

/// Transfers the writers had reported done, summed over the rounds.
fn reported(t: &Torture<Found>) -> u64 {
    t.rounds.iter().map(|r| r.found.reported).sum()
}
