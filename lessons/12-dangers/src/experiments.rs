//! Lesson 12's experiments: what this platform does with odd mappings, a reader of a file
//! that another process truncates, and processes that race on one shared map. Everything
//! that can crash or race runs in a child of the lesson binary (the roles at the end); the
//! lesson only starts the children, gives them the signal to go and looks at how they ended.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout};
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use memmap2::{MmapOptions, MmapRaw};
use mmap_lab::child::{self, Child, Ended, Role};
use mmap_lab::data::read_exact_at;
use mmap_lab::{Lab, cache, measure, platform};

/// The children this lesson starts: `child::dispatch(ROLES)` runs them.
pub const ROLES: &[Role] = &[
    ("truncated-reader", reader_role),
    ("racer", racer_role),
    ("writer", writer_role),
];

/// Where the shared words live in the race file (each on its own cache line).
const COUNTER: usize = 0;
const STOP: usize = 64;
const SEQ: usize = 128;
const RECORD: usize = 192;
const START: usize = 256;
/// Words in the multi-word record a writer updates and a reader checks.
pub const WORDS: usize = 8;
/// The longest a writer child runs if the lesson never tells it to stop (and a racer waits
/// for the other).
const WRITER_LIMIT: Duration = Duration::from_secs(10);

/// Opens one of the lesson's own files for reading and writing.
fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open(path)
}

// ---------------------------------------------------------------------------------------
// [12.platform]

/// `mmap(2)` taken literally against memmap2 at an offset of 1 byte.
pub struct Offsets {
    /// The allocation granularity as the kernel applies it.
    pub granularity: io::Result<u64>,
    /// `mmap(2)` at offset 1 (EINVAL expected).
    pub raw: io::Result<()>,
    /// memmap2 at offset 1 mapped the right bytes.
    pub memmap2: bool,
}

/// Maps the sample at offset 1, raw and through memmap2, and finds the smallest offset
/// the kernel accepts.
pub fn offsets(lab: &Lab, path: &Path) -> anyhow::Result<Offsets> {
    let file = lab.open(path)?;
    let page = cache::page_size();
    // ANCHOR: offsets
    let raw = platform::try_map(&file, 1, page); // mmap(2) as given: EINVAL
    // SAFETY: the sample is one of the lesson's data files, never written in place (the
    // contract stated at `Lab::map`, which has no offset).
    let map = unsafe { MmapOptions::new().offset(1).len(64).map(&file) }?; // rounds down
    // ANCHOR_END: offsets
    let mut want = [0u8; 64];
    read_exact_at(&file, &mut want, 1)?;
    Ok(Offsets {
        granularity: platform::granularity(&file),
        raw,
        memmap2: map[..] == want,
    })
}

/// Maps an empty file, raw (`EINVAL` expected) and through memmap2 (length 0).
pub fn empty(lab: &Lab, path: &Path) -> anyhow::Result<(io::Result<()>, bool)> {
    let raw = platform::try_map(&lab.open(path)?, 0, 0);
    Ok((raw, lab.map(path)?.is_empty()))
}

/// What unlinking a mapped file did.
pub struct Unlinked {
    /// The OS let the file be removed while mapped.
    pub allowed: bool,
    /// The name was gone and the map still read the same bytes.
    pub valid: bool,
}

/// Maps the file, removes it, and reads it through the map again.
pub fn unlink(lab: &Lab, path: &Path) -> anyhow::Result<Unlinked> {
    // ANCHOR: unlink
    let map = lab.map(path)?;
    let before = map.iter().map(|&b| u64::from(b)).sum::<u64>();
    let allowed = std::fs::remove_file(path).is_ok(); // Windows refuses while mapped
    let after = map.iter().map(|&b| u64::from(b)).sum::<u64>(); // the inode lives on
    // ANCHOR_END: unlink
    Ok(Unlinked {
        allowed,
        valid: allowed && !path.exists() && after == before,
    })
}

/// Whether the OS lets a mapped file be shortened (it is put back at once).
pub fn truncatable(path: &Path) -> anyhow::Result<bool> {
    let file = open_rw(path)?;
    let full = file.metadata()?.len();
    let map = MmapOptions::new().map_raw_read_only(&file)?;
    let allowed = platform::set_len_mapped(&file, 0).is_ok();
    file.set_len(full)?;
    drop(map);
    Ok(allowed)
}

/// Page faults of touching every page of a plain map and of a `MAP_POPULATE` one.
pub struct Populate {
    pub pages: usize,
    pub plain_faults: u64,
    pub populate_faults: u64,
}

/// Touches every page of the (cached) sample through a plain map and a populated one.
pub fn populate(lab: &Lab, path: &Path) -> anyhow::Result<Populate> {
    cache::warm(path, 0..lab.size)?;
    let touch = |m: &[u8]| -> u64 {
        let page = cache::page_size();
        (0..m.len()).step_by(page).map(|i| u64::from(m[i])).sum()
    };
    let plain = lab.map(path)?;
    let (_, plain_touch) = measure::probe(|| touch(&plain));
    // ANCHOR: populate
    let file = lab.open(path)?;
    // SAFETY: as for `offsets`: a data file of the lesson, never written in place.
    let populated = unsafe { MmapOptions::new().populate().map(&file) }?;
    let (_, populated_touch) = measure::probe(|| touch(&populated)); // no faults left
    // ANCHOR_END: populate
    Ok(Populate {
        pages: plain.len().div_ceil(cache::page_size()),
        plain_faults: plain_touch.faults(),
        populate_faults: populated_touch.faults(),
    })
}

// ---------------------------------------------------------------------------------------
// [12.truncate]

/// How one truncation trial ended for its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trial {
    /// The reader was killed by this signal.
    Killed(i32),
    /// It read past the new end and exited normally.
    Survived,
    /// The OS refused to truncate the mapped file.
    Refused,
}

/// A child of the lesson with its pipes: the lesson writes lines to it and reads its lines.
struct Peer {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl Peer {
    fn start(role: &str, args: &[&OsStr]) -> anyhow::Result<Peer> {
        let mut child = child::spawn(role, args).with_context(|| format!("start the {role}"))?;
        let to = child.inner().stdin.take().context("the child's stdin")?;
        let from = BufReader::new(child.inner().stdout.take().context("the child's stdout")?);
        Ok(Peer { child, to, from })
    }

    /// The child's next line; an error saying how it ended if it ended first.
    fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.from.read_line(&mut line)? == 0 {
            let ended = self.child.wait()?;
            let mut why = String::new();
            if let Some(mut err) = self.child.inner().stderr.take() {
                let _ = io::Read::read_to_string(&mut err, &mut why);
            }
            bail!("a child ended early ({ended:?}): {}", why.trim());
        }
        Ok(line.trim().to_string())
    }

    fn say(&mut self, line: &str) -> anyhow::Result<()> {
        writeln!(self.to, "{line}").context("tell the child")
    }
}

/// Runs `trials` readers of a mapped file that the lesson truncates under them.
pub fn truncate_trials(path: &Path, trials: u32) -> anyhow::Result<Vec<Trial>> {
    let file = open_rw(path)?;
    let full = file.metadata()?.len();
    let page = cache::page_size() as u64;
    let len = full.to_string();
    let mut out = Vec::new();
    for _ in 0..trials {
        // ANCHOR: truncate
        let mut reader = Peer::start("truncated-reader", &[path.as_os_str(), len.as_ref()])?;
        reader.line()?; // "mapped": the child has the whole file mapped
        let refused = platform::set_len_mapped(&file, page).is_err(); // keep one page
        reader.say("go")?; // the child now reads the last page
        let ended = reader.child.wait()?;
        // ANCHOR_END: truncate
        file.set_len(full)?; // the next trial's file, and a scratch file of its own size
        out.push(match ended {
            Ended::Signal(s) => Trial::Killed(s),
            Ended::Exited(0) if refused => Trial::Refused,
            Ended::Exited(0) => Trial::Survived,
            Ended::Exited(code) => bail!("a truncated-file reader failed with exit code {code}"),
        });
    }
    Ok(out)
}

/// The safe probe: `MADV_POPULATE_READ` over a map of the file before and after the lesson
/// truncates it, in the lesson's own process (an error comes back; no signal is raised).
pub fn safe_probe(path: &Path) -> anyhow::Result<(io::Result<()>, io::Result<()>)> {
    let file = open_rw(path)?;
    let full = file.metadata()?.len();
    let map = MmapOptions::new().map_raw_read_only(&file)?;
    // ANCHOR: probe
    let before = platform::populate_read(&map); // Ok: every page is there
    platform::set_len_mapped(&file, cache::page_size() as u64)?;
    let after = platform::populate_read(&map); // EFAULT, where a touch would be SIGBUS
    // ANCHOR_END: probe
    file.set_len(full)?;
    Ok((before, after))
}

/// The reader child: maps the whole file, says "mapped", waits for "go" and reads the
/// last byte of the map. After a truncation that page is gone: SIGBUS ends it there.
fn reader_role(args: &[String]) -> i32 {
    role(|| {
        let [path, len] = args else {
            bail!("usage: PATH LEN")
        };
        let file = File::open(path)?;
        let map = MmapOptions::new()
            .len(len.parse()?)
            .map_raw_read_only(&file)?;
        let last = map.as_ptr().wrapping_add(map.len() - 1);
        // SAFETY: `last` is the map's last byte and the file still has its full length (the
        // lesson truncates only after "mapped"); a volatile read through a raw pointer.
        let first = unsafe { last.read_volatile() };
        line_to_parent("mapped")?;
        wait_for_parent()?;
        // ANCHOR: reader
        // SAFETY: `last` lies inside the mapping; if the file was truncated meanwhile, the
        // page behind it no longer exists and the kernel ends this process with SIGBUS —
        // the point of this child. No Rust reference into the map exists.
        let byte = unsafe { last.read_volatile() };
        // ANCHOR_END: reader
        line_to_parent(&format!("read {byte} (was {first})"))
    })
}

// ---------------------------------------------------------------------------------------
// [12.race]

/// The shared word at `offset` of a map as an atomic.
fn word(map: &MmapRaw, offset: usize) -> &AtomicU64 {
    assert!(
        offset.is_multiple_of(8) && offset + 8 <= map.len(),
        "word {offset}"
    );
    // SAFETY: in bounds and 8-aligned (the map starts on a page); every process that uses
    // these words does so only through atomics, and the reference borrows the map.
    unsafe { AtomicU64::from_ptr(map.as_mut_ptr().wrapping_add(offset).cast()) }
}

/// Maps the race file read-write (the lesson's scratch file of one page).
fn shared(path: &Path) -> anyhow::Result<MmapRaw> {
    let file = open_rw(path).with_context(|| format!("open {}", path.display()))?;
    Ok(MmapOptions::new().len(cache::page_size()).map_raw(&file)?)
}

/// Rounds of two racers: increments lost over all rounds, and the racing time.
pub struct Raced {
    pub rounds: u32,
    pub lost: u64,
    pub wall: Duration,
}

/// Up to `rounds` rounds in which two child processes each add 1 to one shared counter `n`
/// times, both at once; with `until_lost`, the rounds stop at the first that lost one.
pub fn race(
    path: &Path,
    atomic: bool,
    n: u64,
    rounds: u32,
    until_lost: bool,
) -> anyhow::Result<Raced> {
    let mut raced = Raced {
        rounds: 0,
        lost: 0,
        wall: Duration::ZERO,
    };
    while raced.rounds < rounds && !(until_lost && raced.lost > 0) {
        let (count, wall) = race_once(path, atomic, n)?;
        raced.rounds += 1;
        raced.lost += 2 * n - count;
        raced.wall += wall;
    }
    Ok(raced)
}

/// One round: the counter afterwards and the longer racer's loop time.
fn race_once(path: &Path, atomic: bool, n: u64) -> anyhow::Result<(u64, Duration)> {
    let map = shared(path)?;
    let (counter, start) = (word(&map, COUNTER), word(&map, START));
    counter.store(0, Ordering::SeqCst);
    start.store(0, Ordering::SeqCst);
    let mode = if atomic { "fetch_add" } else { "load-store" };
    let n = n.to_string();
    let args: [&OsStr; 3] = [path.as_os_str(), mode.as_ref(), n.as_ref()];
    let mut racers = [Peer::start("racer", &args)?, Peer::start("racer", &args)?];
    let mut wall = Duration::ZERO;
    for r in &mut racers {
        let nanos: u64 = r.line()?.parse().context("a racer's time")?;
        wall = wall.max(Duration::from_nanos(nanos));
        if r.child.wait()? != Ended::Exited(0) {
            bail!("a racer did not finish cleanly");
        }
    }
    Ok((counter.load(Ordering::SeqCst), wall))
}

/// The racer child: waits until both racers are running (a spin on the start word), makes
/// `n` increments of the shared counter, load + store or fetch_add, and prints the time.
fn racer_role(args: &[String]) -> i32 {
    role(|| {
        let [path, mode, n] = args else {
            bail!("usage: PATH MODE N")
        };
        let n: u64 = n.parse()?;
        let map = shared(Path::new(path))?;
        let (counter, start) = (word(&map, COUNTER), word(&map, START));
        start.fetch_add(1, Ordering::SeqCst);
        let t0 = Instant::now();
        while start.load(Ordering::SeqCst) < 2 {
            if t0.elapsed() > WRITER_LIMIT {
                bail!("the other racer never started");
            }
            std::hint::spin_loop();
        }
        let t0 = Instant::now();
        // ANCHOR: racer
        if mode == "fetch_add" {
            for _ in 0..n {
                counter.fetch_add(1, Ordering::Relaxed); // one indivisible read-modify-write
            }
        } else {
            for _ in 0..n {
                let v = counter.load(Ordering::Relaxed); // the other process may add here…
                let v = std::hint::black_box(v) + 1; // (kept apart, as real work would)
                counter.store(v, Ordering::Relaxed); // …and this overwrites its add
            }
        }
        // ANCHOR_END: racer
        line_to_parent(&t0.elapsed().as_nanos().to_string())
    })
}

/// What a reader saw of a multi-word record while a writer child rewrote it.
#[derive(Default)]
pub struct Torn {
    pub rounds: u32,
    pub reads: u64,
    pub torn: u64,
    pub retries: u64,
    pub writes: u64,
}

/// Rounds of `reads` reads of the shared record while a writer child rewrites it, until
/// one shows the two overlapping (a torn record, or with `seqlock` a retried read), at
/// most `rounds`. With `seqlock` both sides use a sequence lock.
pub fn torn_reads(path: &Path, seqlock: bool, reads: u64, rounds: u32) -> anyhow::Result<Torn> {
    let mut t = Torn::default();
    while t.rounds < rounds && (if seqlock { t.retries } else { t.torn }) == 0 {
        let round = torn_round(path, seqlock, reads)?;
        t.rounds += 1;
        t.reads += reads;
        t.torn += round.torn;
        t.retries += round.retries;
        t.writes += round.writes;
    }
    Ok(t)
}

/// One round of [`torn_reads`].
fn torn_round(path: &Path, seqlock: bool, reads: u64) -> anyhow::Result<Torn> {
    let map = shared(path)?;
    let (seq, stop) = (word(&map, SEQ), word(&map, STOP));
    let record: Vec<&AtomicU64> = (0..WORDS).map(|i| word(&map, RECORD + 8 * i)).collect();
    for w in [seq, stop].into_iter().chain(record.iter().copied()) {
        w.store(0, Ordering::SeqCst);
    }
    let mode: &OsStr = if seqlock { "seqlock" } else { "plain" }.as_ref();
    let mut writer = Peer::start("writer", &[path.as_os_str(), mode])?;
    writer.line()?; // "writing"
    let t0 = Instant::now();
    while record[0].load(Ordering::SeqCst) == 0 {
        if t0.elapsed() > WRITER_LIMIT {
            bail!("the writer never wrote");
        }
        std::thread::yield_now();
    }
    let (mut torn, mut retries) = (0, 0);
    for _ in 0..reads {
        let words = if seqlock {
            let (words, tries) = read_locked(seq, &record);
            retries += tries;
            words
        } else {
            read_plain(&record)
        };
        torn += u64::from(words.iter().any(|&w| w != words[0]));
    }
    stop.store(1, Ordering::SeqCst);
    let writes = writer.line()?.parse().context("the writer's count")?;
    if writer.child.wait()? != Ended::Exited(0) {
        bail!("the writer did not finish cleanly");
    }
    Ok(Torn {
        torn,
        retries,
        writes,
        ..Torn::default()
    })
}

// ANCHOR: seqlock
/// Writes `value` into every word of the record, one word after another.
fn write_plain(record: &[&AtomicU64], value: u64) {
    for w in record {
        w.store(value, Ordering::Relaxed);
    }
}

/// Reads the record, one word after another: a write may be half done.
fn read_plain(record: &[&AtomicU64]) -> Vec<u64> {
    record.iter().map(|w| w.load(Ordering::Relaxed)).collect()
}

/// A sequence-lock write: the count is odd while the words change.
fn write_locked(seq: &AtomicU64, record: &[&AtomicU64], value: u64) {
    let s = seq.load(Ordering::Relaxed);
    seq.store(s + 1, Ordering::Relaxed);
    fence(Ordering::Release);
    write_plain(record, value);
    seq.store(s + 2, Ordering::Release);
}

/// A sequence-lock read: retried until the count was even and unchanged around it.
fn read_locked(seq: &AtomicU64, record: &[&AtomicU64]) -> (Vec<u64>, u64) {
    let mut retries = 0;
    loop {
        let before = seq.load(Ordering::Acquire);
        if before.is_multiple_of(2) {
            let words = read_plain(record);
            fence(Ordering::Acquire);
            if seq.load(Ordering::Relaxed) == before {
                return (words, retries);
            }
        }
        retries += 1;
        std::hint::spin_loop();
    }
}
// ANCHOR_END: seqlock

/// The writer child: rewrites the record with 1, 2, 3, … until the lesson sets the stop
/// word (or [`WRITER_LIMIT`] passes), then prints how many writes it made.
fn writer_role(args: &[String]) -> i32 {
    role(|| {
        let [path, mode] = args else {
            bail!("usage: PATH MODE")
        };
        let map = shared(Path::new(path))?;
        let (seq, stop) = (word(&map, SEQ), word(&map, STOP));
        let record: Vec<&AtomicU64> = (0..WORDS).map(|i| word(&map, RECORD + 8 * i)).collect();
        let t0 = Instant::now();
        let mut value = 0u64;
        line_to_parent("writing")?;
        while stop.load(Ordering::Relaxed) == 0
            && (!value.is_multiple_of(4096) || t0.elapsed() < WRITER_LIMIT)
        {
            value += 1;
            if mode == "seqlock" {
                write_locked(seq, &record, value);
            } else {
                write_plain(&record, value);
            }
        }
        line_to_parent(&value.to_string())
    })
}

// ---------------------------------------------------------------------------------------
// The children's plumbing.

/// Runs a child's body: exit 0, or 3 with the error on stderr.
fn role(body: impl FnOnce() -> anyhow::Result<()>) -> i32 {
    match body() {
        Ok(()) => 0,
        Err(e) => {
            mmap_lab::files::warn(&format!("child: {e:#}"));
            3
        }
    }
}

fn line_to_parent(line: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    Ok(out.flush()?)
}

fn wait_for_parent() -> anyhow::Result<()> {
    io::stdin().lock().read_line(&mut String::new())?;
    Ok(())
}
