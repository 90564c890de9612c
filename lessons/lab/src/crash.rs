//! Crash torture: start a workload in a child process of the lesson, kill it with SIGKILL at
//! a random moment, check what it left behind, and repeat — counting what every kill did.
//!
//! The harness knows nothing of the workload's data: a lesson gives it a child role (see
//! [`crate::child`]) that does the work, and a checker that looks at the data after each
//! kill. Lesson 6 tortures records updated through a shared map; the same harness can
//! torture any writer (a database in WAL mode, say).
//!
//! The protocol between the two sides is a few lines on the child's standard output:
//!
//! - the child prints `ready` ([`ready`]) once it is set up and about to start working, so
//!   the random delay before the kill measures work, not start-up;
//! - then, as it goes, a count of what it has completed ([`Progress`]), which the parent
//!   reads after the kill: the last count is what the child itself said was done, through
//!   a channel (a pipe) that does not depend on the data it writes.
//!
//! A child that outlives its parent stops by itself ([`Progress::tick`] checks), so a
//! lesson that is itself killed leaves no workload running.
//!
//! It also has the few numbers that bound what a *power loss* (which no lesson can safely
//! cause) would lose: the dirty pages still waiting in the page cache ([`dirty_bytes`]) and
//! how long the kernel lets them wait ([`dirty_expire`]).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::child::{self, Ended};

/// The line a workload prints when it starts working.
const READY: &str = "ready";
/// The signal that kills a workload: it cannot be caught, blocked or cleaned up after.
const SIGKILL: i32 = 9;
/// Longest a workload may run on its own: a safety net for a child whose parent vanished.
const MAX_LIFE: Duration = Duration::from_secs(60);

/// How many kills, and when after `ready` each one comes (uniformly random in `delay`).
#[derive(Debug, Clone)]
pub struct Plan {
    pub kills: usize,
    pub delay: Range<Duration>,
}

/// What one kill left: how the child ended, when it was killed, what it had reported done,
/// and what the checker found.
#[derive(Debug, Clone)]
pub struct Round<C> {
    /// Time from `ready` to the kill.
    pub delay: Duration,
    pub ended: Ended,
    /// The last count the child printed before it died; `None` when it printed none.
    pub reported: Option<u64>,
    pub found: C,
}

impl<C> Round<C> {
    /// Whether SIGKILL is what ended the child (not an exit, not another signal).
    pub fn killed(&self) -> bool {
        self.ended == Ended::Signal(SIGKILL)
    }
}

/// Every round of a torture run, and its wall time.
#[derive(Debug, Clone)]
pub struct Torture<C> {
    pub rounds: Vec<Round<C>>,
    pub wall: Duration,
}

impl<C> Torture<C> {
    /// Rounds that SIGKILL ended.
    pub fn killed(&self) -> usize {
        self.rounds.iter().filter(|r| r.killed()).count()
    }

    /// How many rounds `pred` holds for, counted over what the checker found.
    pub fn count(&self, pred: impl Fn(&C) -> bool) -> usize {
        self.rounds.iter().filter(|r| pred(&r.found)).count()
    }
}

/// Runs `plan.kills` rounds: start this binary in `role` with `args`, wait for its `ready`,
/// sleep a random delay, SIGKILL it, reap it, read what it reported, then `check` the data.
/// A child that ends before it is killed with an exit code other than 0 fails the run, with
/// the last line of its stderr; one that dies of another signal is a round like the others
/// (its [`Round::ended`] says which).
pub fn torture<C>(
    role: &str,
    args: &[&OsStr],
    plan: &Plan,
    mut check: impl FnMut(&Killed) -> anyhow::Result<C>,
) -> anyhow::Result<Torture<C>> {
    let t0 = Instant::now();
    let mut rounds = Vec::with_capacity(plan.kills);
    for _ in 0..plan.kills {
        let delay = random_in(&plan.delay);
        let (ended, reported) = one_kill(role, args, delay)?;
        let killed = Killed { ended, reported };
        let found = check(&killed)?;
        rounds.push(Round {
            delay,
            ended,
            reported,
            found,
        });
    }
    Ok(Torture {
        rounds,
        wall: t0.elapsed(),
    })
}

/// What the checker is told about the round it checks.
#[derive(Debug, Clone, Copy)]
pub struct Killed {
    pub ended: Ended,
    pub reported: Option<u64>,
}

fn one_kill(role: &str, args: &[&OsStr], delay: Duration) -> anyhow::Result<(Ended, Option<u64>)> {
    let mut child = child::spawn(role, args).context("start the workload")?;
    let stdout = child
        .inner()
        .stdout
        .take()
        .context("the workload's stdout")?;
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    lines
        .read_line(&mut first)
        .context("read the workload's ready line")?;
    if first.trim() != READY {
        let ended = child.wait()?;
        let why = last_stderr(&mut child);
        bail!("the workload {role} did not start ({ended:?}): {why}");
    }
    std::thread::sleep(delay);
    // The child may have ended meanwhile; wait() below says how.
    let _ = child.signal(SIGKILL);
    let ended = child.wait()?;
    let mut rest = String::new();
    lines
        .read_to_string(&mut rest)
        .context("read the workload's progress")?;
    if let Ended::Exited(code) = ended
        && code != 0
    {
        let why = last_stderr(&mut child);
        bail!("the workload {role} exited with {code}: {why}");
    }
    Ok((ended, last_count(&rest)))
}

fn last_stderr(child: &mut child::Child) -> String {
    let mut err = String::new();
    if let Some(mut e) = child.inner().stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    err.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim()
        .to_string()
}

/// The last whole count in the progress text; a line cut by the kill is ignored.
fn last_count(text: &str) -> Option<u64> {
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
}

fn random_in(range: &Range<Duration>) -> Duration {
    let (lo, hi) = (range.start.as_nanos() as u64, range.end.as_nanos() as u64);
    if hi <= lo {
        return range.start;
    }
    Duration::from_nanos(fastrand::u64(lo..hi))
}

/// In a workload child: says the work starts now.
pub fn ready() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{READY}");
    let _ = out.flush();
}

/// In a workload child: reports completed work to the parent every `every` steps, and ends
/// the child when the parent has gone (or after a minute, whatever happens).
#[derive(Debug)]
pub struct Progress {
    every: u64,
    parent: u32,
    started: Instant,
}

impl Progress {
    /// Reports every `every` steps (at least 1).
    pub fn every(every: u64) -> Progress {
        Progress {
            every: every.max(1),
            parent: parent_id(),
            started: Instant::now(),
        }
    }

    /// Step `done` is complete: print it when it is a multiple of `every`, and exit (code 0)
    /// if the parent is gone or the child has run for a minute.
    pub fn tick(&self, done: u64) {
        if !done.is_multiple_of(self.every) {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{done}");
        let _ = out.flush();
        if parent_id() != self.parent || self.started.elapsed() > MAX_LIFE {
            std::process::exit(0);
        }
    }
}

#[cfg(unix)]
fn parent_id() -> u32 {
    std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn parent_id() -> u32 {
    0
}

/// Dirty memory waiting in the page cache to be written back, machine-wide (`Dirty` of
/// `/proc/meminfo`): what a power loss right now could lose, of every process.
pub fn dirty_bytes() -> Option<u64> {
    let text = crate::sys::read_proc("/proc/meminfo")?;
    let line = text.lines().find_map(|l| l.strip_prefix("Dirty:"))?;
    let kib: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// How old a dirty page may grow before writeback must take it
/// (`vm.dirty_expire_centisecs`): the longest a write stays only in memory unless the
/// program syncs it.
pub fn dirty_expire() -> Option<Duration> {
    let text = crate::sys::read_proc("/proc/sys/vm/dirty_expire_centisecs")?;
    let cs: u64 = text.trim().parse().ok()?;
    Some(Duration::from_millis(cs * 10))
}

/// Which file a path names (device and inode): equal before and after a write in place,
/// different after the path was replaced by a rename. `None` where the platform cannot say.
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_whole_count_is_what_the_child_reported() {
        assert_eq!(last_count("4096\n8192\n"), Some(8192));
        // The kill cut the last line: the one before it counts.
        assert_eq!(last_count("4096\n8192\n122"), Some(8192));
        assert_eq!(last_count(""), None);
        assert_eq!(last_count("12"), None);
    }

    #[test]
    fn delays_stay_in_their_range() {
        let r = Duration::from_micros(10)..Duration::from_micros(20);
        for _ in 0..100 {
            assert!(r.contains(&random_in(&r)));
        }
        let empty = Duration::from_micros(5)..Duration::from_micros(5);
        assert_eq!(random_in(&empty), Duration::from_micros(5));
    }

    #[test]
    fn power_loss_numbers_are_read_where_linux_has_them() {
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(dirty_bytes().is_some());
            assert!(dirty_expire().is_some_and(|d| d > Duration::ZERO));
        }
        let here = identity(Path::new("."));
        assert!(here.is_some());
        assert_eq!(here, identity(Path::new(".")));
    }
}
