//! Lesson 9's experiments: groups of worker processes holding one file three ways (mapped,
//! `fs::read`, a `read()` loop), measured while every worker holds it; and two processes
//! passing messages through a shared map (with and without atomics) and through a pipe.
//! Every process here is a child of the lesson binary (`mmap_lab::child`); the verdicts are
//! in `verdicts.rs`.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use memmap2::{Mmap, MmapOptions, MmapRaw};
use mmap_lab::Spread;
use mmap_lab::child::{self, Child, Ended, Role};
use mmap_lab::measure::{self, Smaps};
use mmap_lab::quantity::{Bytes, Count, Flag, Secs};
use mmap_lab::{not_measured, procmem};

use crate::verdicts;

/// The roles this binary plays as a child of itself.
pub const ROLES: &[Role] = &[("worker", worker), ("talk", talk_role)];

/// How a worker holds the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Holds nothing: the baseline of a worker process.
    Idle,
    /// Maps the file and reads every byte through the map.
    Map,
    /// `fs::read`: a private copy of the whole file.
    Read,
    /// Streams the file through one buffer with a `read()` loop.
    Stream,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Idle => "idle",
            Mode::Map => "map",
            Mode::Read => "read",
            Mode::Stream => "stream",
        }
    }

    fn parse(name: &str) -> Option<Mode> {
        let all = [Mode::Idle, Mode::Map, Mode::Read, Mode::Stream];
        all.into_iter().find(|m| m.name() == name)
    }
}

/// The buffer of the `read()` loop.
pub const BUF: usize = 1 << 20;

/// A checksum of bytes that does not depend on how they were split into chunks.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// What a worker keeps alive until the parent has measured it: the map, the copy or the
/// buffer — never read again, only held.
type Held = Box<dyn std::any::Any>;

// ANCHOR: hold
/// Holds the file the way `mode` says and checksums every byte of it.
fn hold(mode: Mode, path: &Path) -> io::Result<(Held, u64)> {
    let mut file = File::open(path)?;
    Ok(match mode {
        Mode::Idle => (Box::new(()), 0),
        Mode::Map => {
            // SAFETY: the file is a data file mmap-lab made, which it never writes or
            // truncates in place; the parent holds it in use until this worker has ended.
            let map = unsafe { Mmap::map(&file)? };
            let sum = checksum(&map); // every page of the file, through the map
            (Box::new(map), sum)
        }
        Mode::Read => {
            let copy = std::fs::read(path)?; // a private copy on this worker's heap
            let sum = checksum(&copy);
            (Box::new(copy), sum)
        }
        Mode::Stream => {
            let mut buf = vec![0; BUF]; // one buffer, refilled by read() until EOF
            let mut sum = 0;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break (Box::new(buf), sum);
                }
                sum += checksum(&buf[..n]);
            }
        }
    })
}
// ANCHOR_END: hold

/// The worker role (`MODE PATH`): holds the file, says `done SUM` and waits for the parent's
/// go — its stdin closing — so that it holds its memory while it is measured.
fn worker(args: &[String]) -> i32 {
    let Some((mode, path)) = args.first().and_then(|m| Mode::parse(m)).zip(args.get(1)) else {
        return 64;
    };
    let (held, sum) = match hold(mode, Path::new(path)) {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    if let Err(e) = writeln!(io::stdout(), "done {sum}") {
        return fail(e);
    }
    let _ = io::stdin().read_to_end(&mut Vec::new());
    drop(std::hint::black_box(held));
    0
}

/// One group of workers, measured while all of them held the file.
#[derive(Debug)]
pub struct Group {
    /// `smaps_rollup` of each worker.
    pub smaps: Vec<Smaps>,
    /// MemAvailable before the workers started minus while they held the file (the whole
    /// machine's: other processes move it too).
    pub available_drop: f64,
    /// Each worker's checksum of the file.
    pub sums: Vec<u64>,
}

/// Starts `workers` workers in `mode` on `path`, waits until every one holds the file,
/// measures them all, then lets them go. A worker that fails fails the group; every worker
/// is reaped however the group ends (`Child` kills and waits on drop).
pub fn group(path: &Path, mode: Mode, workers: u32) -> anyhow::Result<Group> {
    let before = available()?;
    let args = [OsStr::new(mode.name()), path.as_os_str()];
    let mut kids: Vec<Child> = (0..workers)
        .map(|_| child::spawn("worker", &args))
        .collect::<io::Result<_>>()
        .context("start a worker")?;
    let mut sums = Vec::new();
    for kid in &mut kids {
        let line = read_line(kid).with_context(|| format!("a {} worker", mode.name()))?;
        sums.push(
            line.strip_prefix("done ")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        );
    }
    // ANCHOR: measure
    // Every worker now holds the file and waits: measure each one, and the machine.
    let smaps: Vec<Option<Smaps>> = kids
        .iter()
        .map(|k| measure::smaps_rollup(k.pid()))
        .collect();
    let after = available()?;
    // ANCHOR_END: measure
    for kid in &mut kids {
        drop(kid.inner().stdin.take()); // go
    }
    for kid in &mut kids {
        let ended = kid.wait()?;
        if ended != Ended::Exited(0) {
            bail!("a {} worker ended with {}", mode.name(), show(ended));
        }
    }
    let smaps = smaps.into_iter().collect::<Option<_>>().ok_or_else(|| {
        not_measured("this platform has no /proc/PID/smaps_rollup to read Rss and Pss from")
    })?;
    Ok(Group {
        smaps,
        available_drop: before - after,
        sums,
    })
}

impl Group {
    /// The group as findings: sums, extremes, and the drop in MemAvailable.
    pub fn findings(&self) -> verdicts::Group {
        let total = |f: fn(&Smaps) -> u64| Bytes::of(self.smaps.iter().map(f).sum());
        let (rss, pss) = (
            self.smaps.iter().map(|s| s.rss),
            self.smaps.iter().map(|s| s.pss),
        );
        verdicts::Group {
            rss_sum: total(|s| s.rss),
            pss_sum: total(|s| s.pss),
            rss_least: Bytes::of(rss.min().unwrap_or(0)),
            pss_most: Bytes::of(pss.max().unwrap_or(0)),
            available_drop: Bytes(self.available_drop),
        }
    }
}

/// MemAvailable, in bytes.
fn available() -> anyhow::Result<f64> {
    measure::system_memory()
        .map(|m| m.available as f64)
        .ok_or_else(|| not_measured("this platform cannot tell how much RAM is available"))
}

/// How a child ended, in words.
fn show(ended: Ended) -> String {
    match ended {
        Ended::Exited(code) => format!("exit code {code}"),
        Ended::Signal(sig) => format!("signal {sig}"),
    }
}

/// Reads the child's next line on its stdout (`ready`, `done SUM`, `got ...`); when the
/// child ended instead, says how, with the last line it wrote on stderr.
fn read_line(kid: &mut Child) -> anyhow::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    let out = kid.inner().stdout.as_mut().context("no stdout")?;
    while line.len() < 256 && out.read(&mut byte)? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    if byte[0] == b'\n' {
        return Ok(String::from_utf8_lossy(&line).into_owned());
    }
    let ended = kid.wait()?;
    let mut err = String::new();
    if let Some(e) = kid.inner().stderr.as_mut() {
        let _ = e.read_to_string(&mut err);
    }
    let why = err.lines().last().unwrap_or("").trim().to_owned();
    bail!("ended before it answered: {} {why}", show(ended))
}

/// A child's failure: one line on stderr, exit code 1.
fn fail(e: impl std::fmt::Display) -> i32 {
    let _ = writeln!(io::stderr(), "{e}");
    1
}

/// Words of the shared file: the sender's count, the receiver's count (each on its own
/// cache line), the sender's "finished" flag; the ring's slots start at the second page.
const HEAD: usize = 0;
const TAIL: usize = 8;
const DONE: usize = 16;
const SLOTS_AT: usize = 512;
/// Slots in the ring, and words (of 8 bytes) per message: 128-byte messages, two cache
/// lines each.
pub const SLOTS: u64 = 1024;
const WORDS: usize = 16;
/// Size of the shared file.
pub const RING_BYTES: u64 = (SLOTS_AT * 8) as u64 + SLOTS * (WORDS * 8) as u64;

/// Word `k` of message `seq`: the number itself, then words derived from it, so that a
/// message mixed from two writes is seen to be torn.
fn word_of(seq: u64, k: usize) -> u64 {
    match k {
        0 => seq,
        _ => seq
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(k as u32),
    }
}

/// The first word of the slot that message `seq` (from 1) goes to.
fn slot(seq: u64) -> usize {
    SLOTS_AT + ((seq - 1) % SLOTS) as usize * WORDS
}

/// The shared file, mapped read-write (`MAP_SHARED`) by every process that uses it.
pub struct Shared(MmapRaw);

impl Shared {
    /// Maps the ring file at `path` (a scratch file of this run).
    pub fn open(path: &Path) -> io::Result<Shared> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let map = MmapOptions::new().map_raw(&file)?;
        if (map.len() as u64) < RING_BYTES {
            return Err(io::Error::other("the ring file is shorter than the ring"));
        }
        Ok(Shared(map))
    }

    /// Word `i` of the file, as an atomic.
    fn word(&self, i: usize) -> &AtomicU64 {
        assert!(
            (i + 1) * 8 <= RING_BYTES as usize,
            "word {i} is outside the ring"
        );
        // SAFETY: the map is page-aligned and at least RING_BYTES long (checked in `open`),
        // so the pointer is 8-byte aligned and in bounds, and it stays mapped while `self`
        // lives, which bounds the reference. Every process uses the file's words only
        // through this function, as atomics, so no non-atomic access races with them. The
        // file is a scratch file of this run that nothing else writes or truncates.
        unsafe { AtomicU64::from_ptr(self.0.as_mut_ptr().cast::<u64>().add(i)) }
    }

    /// Zeroes the counters and slots before an experiment.
    pub fn clear(&self) {
        (0..RING_BYTES as usize / 8).for_each(|i| self.word(i).store(0, Relaxed));
    }
}

/// How long one side waits for the other before it gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// Spins, then yields the core, until `ready()`; gives up when `gone()` says the other
/// process ended, or after [`PATIENCE`].
fn wait_for(mut ready: impl FnMut() -> bool, gone: &mut impl FnMut() -> bool) -> io::Result<()> {
    let mut spins = 0u32;
    let mut since = None;
    while !ready() {
        spins = spins.wrapping_add(1);
        if spins < 2_000 {
            std::hint::spin_loop();
            continue;
        }
        std::thread::yield_now();
        if spins.is_multiple_of(256) {
            let start = *since.get_or_insert_with(Instant::now);
            if gone() || start.elapsed() > PATIENCE {
                return Err(io::Error::other("the other process stopped answering"));
            }
        }
    }
    Ok(())
}

/// Whether a child has ended (reaping it if so: `Child::wait` then reports how).
fn ended(kid: &mut Child) -> bool {
    !matches!(kid.inner().try_wait(), Ok(None))
}

/// What a receiver counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages read.
    pub received: u64,
    /// Of them, mixed from two writes.
    pub torn: u64,
    /// Messages sent and never read.
    pub lost: u64,
    /// Messages read where another number was due.
    pub misplaced: u64,
}

impl Tally {
    fn parse(line: &str) -> Option<Tally> {
        let n: Vec<u64> = line
            .split(' ')
            .map(|w| w.parse().ok())
            .collect::<Option<_>>()?;
        let [received, torn, lost, misplaced] = n[..] else {
            return None;
        };
        Some(Tally {
            received,
            torn,
            lost,
            misplaced,
        })
    }
}

/// Whether the message at word `at` is torn: a word that does not belong to the number in
/// its first word.
fn torn(sh: &Shared, at: usize) -> bool {
    let seq = sh.word(at).load(Relaxed);
    (1..WORDS).any(|k| sh.word(at + k).load(Relaxed) != word_of(seq, k))
}

/// How two processes talk: the parent's side runs in [`talk`], the child's in the `talk`
/// role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Talk {
    /// Messages through the ring in the shared map, with atomics.
    Ring,
    /// The same slots with no synchronisation.
    Unsync,
    /// The same messages through a pipe.
    Pipe,
    /// Round trips through a counter in the shared map.
    RingTrips,
    /// Round trips through a pipe each way.
    PipeTrips,
}

impl Talk {
    const ALL: [Talk; 5] = [
        Talk::Ring,
        Talk::Unsync,
        Talk::Pipe,
        Talk::RingTrips,
        Talk::PipeTrips,
    ];

    fn name(self) -> &'static str {
        match self {
            Talk::Ring => "ring",
            Talk::Unsync => "unsync",
            Talk::Pipe => "pipe",
            Talk::RingTrips => "ring-trips",
            Talk::PipeTrips => "pipe-trips",
        }
    }
}

/// What one conversation measured.
#[derive(Debug)]
pub struct Talked {
    /// From the child's "ready" to its answer.
    pub elapsed: Duration,
    /// What the child counted.
    pub tally: Tally,
    /// Each round trip, for the round-trip ways.
    pub trips: Vec<Duration>,
}

impl Talked {
    /// The round trips, in seconds.
    pub fn trip_secs(&self) -> Vec<f64> {
        self.trips.iter().map(Duration::as_secs_f64).collect()
    }
}

/// `count` messages (or round trips) the `how` way with a child, through the shared file at
/// `ring` or the child's stdin and stdout; the child runs on `cpu` when given.
pub fn talk(how: Talk, count: u64, ring: &Path, cpu: Option<usize>) -> anyhow::Result<Talked> {
    let sh = Shared::open(ring)?;
    sh.clear();
    let (n, cpu) = (count.to_string(), cpu.map_or("-".into(), |c| c.to_string()));
    let args = [
        how.name().as_ref(),
        n.as_ref(),
        cpu.as_ref(),
        ring.as_os_str(),
    ];
    let mut kid = child::spawn("talk", &args)?;
    let what = || format!("the {} child", how.name());
    read_line(&mut kid).with_context(what)?;
    let mut trips = Vec::with_capacity(count as usize);
    let t0 = Instant::now();
    match how {
        Talk::Ring => send_sync(&sh, count, &mut || ended(&mut kid))?,
        Talk::Unsync => send_unsync(&sh, count),
        Talk::Pipe => send_pipe(kid.inner().stdin.as_mut().context("no stdin")?, count)?,
        Talk::RingTrips => {
            let (ping, pong) = (sh.word(HEAD), sh.word(TAIL));
            for i in (1..=count).take_while(|_| t0.elapsed() < TRIP_BUDGET) {
                let t = Instant::now();
                ping.store(i, Release);
                wait_for(|| pong.load(Acquire) >= i, &mut || ended(&mut kid))?;
                trips.push(t.elapsed());
            }
            ping.store(u64::MAX, Release); // the end
        }
        Talk::PipeTrips => {
            let (mut back, p) = ([0u8; 64], kid.inner());
            let (to, from) = (
                p.stdin.as_mut().context("no stdin")?,
                p.stdout.as_mut().context("no stdout")?,
            );
            for i in (1..=count).take_while(|_| t0.elapsed() < TRIP_BUDGET) {
                let line = format!("{i:063}\n");
                let t = Instant::now();
                to.write_all(line.as_bytes())?;
                from.read_exact(&mut back)?;
                trips.push(t.elapsed());
                anyhow::ensure!(back[..] == *line.as_bytes(), "the pipe echo answered wrong");
            }
        }
    }
    drop(kid.inner().stdin.take());
    let line = read_line(&mut kid).with_context(what)?;
    let elapsed = t0.elapsed();
    let tally = match kid.wait()? {
        Ended::Exited(0) => {
            Tally::parse(&line).with_context(|| format!("{} printed {line:?}", what()))?
        }
        other => bail!("{} ended with {}", what(), show(other)),
    };
    Ok(Talked {
        elapsed,
        tally,
        trips,
    })
}

/// The `talk HOW COUNT CPU|- RING` role: the child's side of [`talk`]; prints its tally.
fn talk_role(args: &[String]) -> i32 {
    let run = || -> io::Result<Tally> {
        let bad = || io::Error::other("usage: HOW COUNT CPU|- RING");
        let how = args
            .first()
            .and_then(|h| Talk::ALL.into_iter().find(|t| t.name() == h));
        let (how, count) = how
            .zip(args.get(1).and_then(|c| c.parse().ok()))
            .ok_or_else(bad)?;
        if let Some(cpu) = args.get(2).and_then(|c| c.parse().ok()) {
            procmem::run_on(&[cpu])?;
        }
        let sh = Shared::open(Path::new(args.get(3).ok_or_else(bad)?))?;
        writeln!(io::stdout(), "ready")?;
        match how {
            Talk::Ring => recv_sync(&sh, count),
            Talk::Unsync => recv_unsync(&sh, count),
            Talk::Pipe => recv_pipe(count),
            Talk::RingTrips => {
                let (ping, pong) = (sh.word(HEAD), sh.word(TAIL));
                let mut t = Tally::default();
                while t.received < count {
                    wait_for(|| ping.load(Acquire) > t.received, &mut || false)?;
                    if ping.load(Acquire) == u64::MAX {
                        break;
                    }
                    t.received += 1;
                    pong.store(t.received, Release);
                }
                Ok(t)
            }
            Talk::PipeTrips => {
                let (mut input, mut out, mut buf) =
                    (io::stdin().lock(), io::stdout().lock(), [0u8; 64]);
                let mut t = Tally::default();
                while t.received < count && input.read_exact(&mut buf).is_ok() {
                    out.write_all(&buf)?; // a line: the line-buffered stdout writes it at once
                    t.received += 1;
                }
                Ok(t)
            }
        }
    };
    let tally = run().and_then(|t| {
        writeln!(
            io::stdout(),
            "{} {} {} {}",
            t.received,
            t.torn,
            t.lost,
            t.misplaced
        )
    });
    tally.map_or_else(fail, |()| 0)
}

/// Messages per traffic run, and round trips per latency run — or as many as fit in
/// [`TRIP_BUDGET`], on a machine too busy to give each side a core.
pub const MESSAGES: u64 = 50_000;
pub const ROUND_TRIPS: u64 = 2_000;
const TRIP_BUDGET: Duration = Duration::from_millis(100);

/// [9.ipc]'s experiment: `runs` rounds of every way of talking, the two sides on CPUs of
/// their own where possible, then the map without synchronisation once. Also says whether
/// the two sides were pinned.
pub fn messages(ring: &Path, runs: u32) -> anyhow::Result<(verdicts::Ipc, bool)> {
    let (runs, unsync, pinned) = on_two_cpus(|cpu| {
        let talk = |how, n| talk(how, n, ring, cpu);
        let mut all = Vec::new();
        for _ in 0..runs {
            let (r, p) = (talk(Talk::Ring, MESSAGES)?, talk(Talk::Pipe, MESSAGES)?);
            let rt = talk(Talk::RingTrips, ROUND_TRIPS)?;
            all.push([r, p, rt, talk(Talk::PipeTrips, ROUND_TRIPS)?]);
        }
        anyhow::Ok((all, talk(Talk::Unsync, MESSAGES)?.tally, cpu.is_some()))
    })?;
    let whole = Tally {
        received: MESSAGES,
        ..Tally::default()
    };
    anyhow::ensure!(
        runs.iter().all(|[_, p, ..]| p.tally == whole),
        "the pipe mangled messages"
    );
    let per_message = |i: usize| {
        let t: Vec<f64> = runs
            .iter()
            .map(|run| run[i].elapsed.as_secs_f64())
            .collect();
        Spread::of(&t).per(MESSAGES as f64)
    };
    let trips = |i: usize| {
        let medians: Vec<f64> = runs
            .iter()
            .map(|run| measure::median(&run[i].trip_secs()))
            .collect();
        let all: Vec<f64> = runs.iter().flat_map(|run| run[i].trip_secs()).collect();
        (Spread::of(&medians), Secs(measure::percentile(&all, 99.0)))
    };
    let ((ring_rtt, ring_rtt_p99), (pipe_rtt, pipe_rtt_p99)) = (trips(2), trips(3));
    let ipc = verdicts::Ipc {
        messages: Count::of(MESSAGES),
        ring: per_message(0),
        pipe: per_message(1),
        ring_rtt,
        pipe_rtt,
        ring_rtt_p99,
        pipe_rtt_p99,
        exactly_once: Flag(runs.iter().all(|[r, ..]| r.tally == whole)),
        unsync_broken: Count::of(unsync.lost + unsync.torn),
        unsync_lost: Count::of(unsync.lost),
        unsync_torn: Count::of(unsync.torn),
    };
    Ok((ipc, pinned))
}

/// Runs `f` with this process on the first CPU it may use, handing it a second CPU for the
/// child, so that each side of a spinning wait has a core; restores the mask afterwards.
/// With fewer than two CPUs (or no pinning here) `f` gets `None` and the scheduler decides.
pub fn on_two_cpus<T>(f: impl FnOnce(Option<usize>) -> T) -> T {
    let cpus = procmem::allowed_cpus().unwrap_or_default();
    let pinned = cpus.len() >= 2 && procmem::run_on(&cpus[..1]).is_ok();
    let out = f(pinned.then(|| cpus[1]));
    if pinned {
        let _ = procmem::run_on(&cpus);
    }
    out
}

// ANCHOR: ring
/// The sender of a single-producer, single-consumer ring: wait for a free slot, write the
/// message, then publish it by storing the new count with Release.
fn send_sync(sh: &Shared, count: u64, gone: &mut impl FnMut() -> bool) -> io::Result<()> {
    let (head, tail) = (sh.word(HEAD), sh.word(TAIL));
    let mut free_until = SLOTS;
    for seq in 1..=count {
        if seq > free_until {
            // Acquire: the receiver has finished reading the slots it released.
            let free = || {
                free_until = tail.load(Acquire) + SLOTS;
                seq <= free_until
            };
            wait_for(free, gone)?;
        }
        let at = slot(seq);
        (0..WORDS).for_each(|k| sh.word(at + k).store(word_of(seq, k), Relaxed));
        head.store(seq, Release); // the words above are visible before the new count
    }
    Ok(())
}

/// The receiver: wait until the count says message `seq` is published (Acquire), read it,
/// then release its slot to the sender.
fn recv_sync(sh: &Shared, count: u64) -> io::Result<Tally> {
    let (head, tail) = (sh.word(HEAD), sh.word(TAIL));
    let (mut t, mut published) = (Tally::default(), 0);
    for seq in 1..=count {
        if seq > published {
            let arrived = || {
                published = head.load(Acquire);
                seq <= published
            };
            wait_for(arrived, &mut || false)?;
        }
        let at = slot(seq);
        t.received += 1;
        t.torn += u64::from(torn(sh, at));
        t.misplaced += u64::from(sh.word(at).load(Relaxed) != seq);
        tail.store(seq, Release);
    }
    Ok(t)
}
// ANCHOR_END: ring

// ANCHOR: unsync
/// The same slots without synchronisation: write each message, number first, and move on —
/// no waiting for a free slot, no count that publishes it.
fn send_unsync(sh: &Shared, count: u64) {
    for seq in 1..=count {
        let at = slot(seq);
        (0..WORDS).for_each(|k| sh.word(at + k).store(word_of(seq, k), Relaxed));
    }
    sh.word(DONE).store(1, Release);
}

/// Its receiver polls the slot where the next message should appear and reads it as soon as
/// the number there is new enough; whatever was overwritten meanwhile is lost.
fn recv_unsync(sh: &Shared, count: u64) -> io::Result<Tally> {
    let (mut t, mut next, start) = (Tally::default(), 1, Instant::now());
    while next <= count {
        let at = slot(next);
        let seq = sh.word(at).load(Relaxed);
        if seq >= next {
            t.received += 1;
            t.torn += u64::from(torn(sh, at));
            t.lost += seq - next;
            next = seq + 1;
        } else if sh.word(DONE).load(Acquire) == 1 || start.elapsed() > PATIENCE {
            t.lost += count + 1 - next; // the sender finished: these never came
            break;
        } else {
            std::hint::spin_loop();
        }
    }
    Ok(t)
}
// ANCHOR_END: unsync

/// The pipe's sender: one `write()` of 128 bytes per message, the ring's messages.
fn send_pipe(pipe: &mut impl Write, count: u64) -> io::Result<()> {
    // ANCHOR: pipe
    for seq in 1..=count {
        pipe.write_all(&message(seq))?; // one write(2): the kernel copies 128 bytes
    }
    // ANCHOR_END: pipe
    Ok(())
}

/// Reads `count` messages from stdin and checks each.
fn recv_pipe(count: u64) -> io::Result<Tally> {
    let (mut t, mut buf, mut input) = (Tally::default(), [0u8; WORDS * 8], io::stdin().lock());
    for seq in 1..=count {
        input.read_exact(&mut buf)?;
        t.received += 1;
        t.misplaced += u64::from(buf != message(seq));
    }
    Ok(t)
}

/// Message `seq` as the 128 bytes a pipe carries.
fn message(seq: u64) -> [u8; WORDS * 8] {
    let mut m = [0u8; WORDS * 8];
    for (k, chunk) in m.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&word_of(seq, k).to_le_bytes());
    }
    m
}

/// The notes' setting in their own language (`workers.py`): `multiprocessing` workers
/// that each `mmap` the file (and touch every page) or `f.read()` it, measured from
/// `smaps_rollup` the same way while they wait for the parent's go. Prints each worker's
/// Pss, per mode.
pub const PYTHON: &str = include_str!("workers.py");

/// One group of the Python peer.
#[derive(Debug, serde::Deserialize)]
pub struct PyGroup {
    pub pss: Vec<u64>,
}

impl PyGroup {
    /// The workers' Pss, summed.
    pub fn pss_sum(&self) -> f64 {
        self.pss.iter().sum::<u64>() as f64
    }
}

/// The Python peer's output.
#[derive(Debug, serde::Deserialize)]
pub struct PyOut {
    pub idle: PyGroup,
    pub mmap: PyGroup,
    pub read: PyGroup,
}
