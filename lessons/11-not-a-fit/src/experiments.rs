//! Lesson 11's experiments: the four places where the notes say mmap is not the tool —
//! many small files, one sequential pass, many small writes, and updates that must be
//! transactions — each run beside the plain-I/O way it competes with. Plain Rust and
//! mmap-lab's instruments; the verdicts are in `verdicts.rs`.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memmap2::{Advice, Mmap, MmapMut};
use mmap_lab::cleanup::{self, Registered, Removal};
use mmap_lab::crash::{self, Killed, Plan, Progress, Torture};
use mmap_lab::data::write_all_at;
use mmap_lab::measure::median;
use mmap_lab::quantity::Bytes;
use mmap_lab::{Lab, Spread, files, iostat, not_measured};
use rusqlite::{Connection, Transaction};

/// What every reader does with the bytes: count the newlines, like `wc -l` (and like the
/// benchmark suite), so only the way the bytes arrive differs.
pub fn lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Maps a data file of this run read-only, without the sidecar check of `Lab::map`: for
/// thousands of small files, where that check would cost more than the map.
fn map_data(file: &File) -> io::Result<Mmap> {
    // SAFETY: the files mapped here are this run's data files, which mmap-lab writes only
    // whole, under a temporary name renamed into place, and never truncates or changes in
    // place; the map is dropped before the function that made it returns.
    unsafe { Mmap::map(file) }
}

// ANCHOR: small
/// One small file through `read()`: open, read it whole into a reused buffer, close.
pub fn read_small(path: &Path, buf: &mut Vec<u8>) -> io::Result<u64> {
    buf.clear();
    File::open(path)?.read_to_end(buf)?;
    Ok(lines(buf))
}

/// The same file through a map: open, mmap, fault its pages in, munmap, close.
pub fn map_small(path: &Path) -> io::Result<u64> {
    let file = File::open(path)?;
    let map = map_data(&file)?;
    Ok(lines(&map))
}
// ANCHOR_END: small

/// Time per file of reading and of mapping every file of `files` (warm), `rounds` passes
/// each, the two ways taking turns.
pub fn small_files(lab: &Lab, files: &[PathBuf], rounds: u32) -> anyhow::Result<(Spread, Spread)> {
    let mut buf = Vec::new();
    for path in files {
        read_small(path, &mut buf)?; // every file in the page cache before either way runs
    }
    let per_file = files.len() as f64;
    let runs = lab.turns(&files[0], (rounds, 2, false), |way| {
        let t0 = Instant::now();
        let mut n = 0;
        for path in files {
            n += match way {
                0 => read_small(path, &mut buf)?,
                _ => map_small(path)?,
            };
        }
        black_box(n);
        Ok(t0.elapsed().as_secs_f64() / per_file)
    })?;
    let [read, map] = pair(runs)?;
    Ok((Spread::of(&read), Spread::of(&map)))
}

fn pair<T, const N: usize>(runs: Vec<Vec<T>>) -> anyhow::Result<[Vec<T>; N]> {
    runs.try_into()
        .map_err(|_| anyhow::anyhow!("{N} ways asked, another number timed"))
}

/// The buffer of the `read()` loop: 128 KiB, well inside the CPU's L2 cache, so the copy
/// is still cached when the newline count reads it.
pub const READ_BUF: usize = 128 << 10;

// ANCHOR: pass
/// One sequential pass through `read()`: one buffer, refilled until the end of the file.
pub fn read_pass(path: &Path) -> io::Result<u64> {
    let (mut file, mut buf) = (File::open(path)?, vec![0u8; READ_BUF]);
    let mut n = 0;
    loop {
        let got = file.read(&mut buf)?;
        if got == 0 {
            return Ok(n);
        }
        n += lines(&buf[..got]);
    }
}

/// One sequential pass through a map, with `advice` given first (or none).
pub fn map_pass(path: &Path, advice: Option<Advice>) -> io::Result<u64> {
    let file = File::open(path)?;
    let map = map_data(&file)?;
    if let Some(advice) = advice {
        map.advise(advice)?; // madvise(MADV_SEQUENTIAL): read ahead, drop behind
    }
    Ok(lines(&map))
}
// ANCHOR_END: pass

/// Time per pass over `path`: `read()`, a map, a map with `advise(Sequential)`, taking
/// turns; each pass on a freshly evicted file when `cold`.
pub fn passes(lab: &Lab, path: &Path, cold: bool) -> anyhow::Result<[Spread; 3]> {
    let runs = lab.turns(path, (lab.runs, 3, cold), |way| {
        let t0 = Instant::now();
        black_box(match way {
            0 => read_pass(path)?,
            1 => map_pass(path, None)?,
            _ => map_pass(path, Some(Advice::Sequential))?,
        });
        Ok(t0.elapsed().as_secs_f64())
    })?;
    let ways: [Vec<f64>; 3] = pair(runs)?;
    Ok(ways.map(|runs| Spread::of(&runs)))
}

/// The scratch file the small writes go to.
pub const WRITES_FILE: u64 = 16 << 20;
/// Writes per run when each is synced on its own, and when one sync ends the run.
pub const EACH: usize = 32;
pub const END: usize = 1024;

/// Where the writes go: each into a page of its own, the pages in a scattered order, one
/// byte at a pseudo-random place in the page.
pub fn offsets(len: u64, page: u64) -> Vec<u64> {
    let pages = len / page;
    (0..END as u64)
        .map(|i| {
            let h = mix(i);
            (i * 2_654_435_761 % pages) * page + h % page
        })
        .collect()
}

/// The four ways of writing, in the order they take turns.
pub const WAYS: [&str; 4] = ["pwrite each", "map each", "pwrite end", "map end"];

/// The runs of one way of writing, per write.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub time: Spread,
    /// Bytes the kernel accounted to this process as written (`/proc/self/io`
    /// `write_bytes`), median of the runs.
    pub dirtied: Bytes,
    /// Bytes the disk received (its sectors written, machine-wide), median of the runs;
    /// `None` where the disk has no counters.
    pub device: Option<Bytes>,
}

impl Written {
    fn of(runs: &[(f64, f64, f64)]) -> Written {
        let col = |f: fn(&(f64, f64, f64)) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        Written {
            time: Spread::of(&runs.iter().map(|r| r.0).collect::<Vec<_>>()),
            dirtied: Bytes(col(|r| r.1)),
            device: Some(Bytes(col(|r| r.2))).filter(|b| b.0.is_finite()),
        }
    }
}

// ANCHOR: writes
/// Writes `value` at each of `at` in way `way` (of [`WAYS`]): `pwrite` or a store through
/// the shared map `map`, synced after every write or once at the end.
fn write_way(file: &File, map: &mut MmapMut, at: &[u64], way: usize, value: u8) -> io::Result<()> {
    match way {
        0 => at.iter().try_for_each(|&o| {
            write_all_at(file, &[value], o)?; // pwrite(2) of one byte
            file.sync_data() // fdatasync(2)
        }),
        1 => at.iter().try_for_each(|&o| {
            map[o as usize] = value; // a one-byte store dirties its whole page
            map.flush_range(o as usize, 1) // msync(MS_SYNC) of that page
        }),
        2 => {
            at.iter()
                .try_for_each(|&o| write_all_at(file, &[value], o))?;
            file.sync_data()
        }
        _ => {
            at.iter().for_each(|&o| map[o as usize] = value);
            map.flush() // msync(MS_SYNC) of the whole map
        }
    }
}
// ANCHOR_END: writes

/// Every way of writing, `rounds` times, taking turns, on the scratch file `path`. Not
/// measured on tmpfs, which has no disk, or where the kernel does not count a process's
/// writes.
pub fn writes(lab: &Lab, path: &Path, rounds: u32) -> anyhow::Result<[Written; 4]> {
    if lab.data.is_tmpfs() {
        return Err(not_measured(
            "the data directory is on tmpfs, which writes to no disk; use --dir on a disk \
             filesystem",
        ));
    }
    if iostat::disk_write_bytes().is_none() {
        return Err(not_measured(
            "this platform does not count the bytes a process writes to disk (/proc/self/io)",
        ));
    }
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    // SAFETY: a scratch file of this run: only this process writes it, and nothing
    // truncates it while it is mapped.
    let mut map = unsafe { MmapMut::map_mut(&file) }?;
    let at = offsets(WRITES_FILE, mmap_lab::cache::page_size() as u64);
    file.sync_data()?; // start clean: nothing of the file is dirty
    let mut value = 0u8;
    let runs = lab.turns(path, (rounds, WAYS.len(), false), |way| {
        let n = if way < 2 { EACH } else { END };
        value = value.wrapping_add(1);
        let counters = || {
            (
                iostat::disk_write_bytes(),
                iostat::device_written_bytes(path),
            )
        };
        let before = counters();
        let t0 = Instant::now();
        write_way(&file, &mut map, &at[..n], way, value)?;
        let secs = t0.elapsed().as_secs_f64();
        let after = counters();
        let grew = |a: Option<u64>, b: Option<u64>| {
            a.zip(b)
                .map_or(f64::NAN, |(a, b)| b.saturating_sub(a) as f64)
                / n as f64
        };
        Ok((
            secs / n as f64,
            grew(before.0, after.0),
            grew(before.1, after.1),
        ))
    })?;
    let ways: [Vec<_>; 4] = pair(runs)?;
    Ok(ways.map(|runs| Written::of(&runs)))
}

// The bank: accounts that money moves between, so their balances always sum to TOTAL.

/// Accounts, and what each holds at the start.
pub const ACCOUNTS: u64 = 256;
const START: i64 = 1000;
/// The invariant: transfers move money, so the balances always sum to this.
pub const TOTAL: i64 = START * ACCOUNTS as i64;

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Transfer `t`: from account `a` to another account `b`, an amount of 1 to 100.
pub fn transfer(t: u64) -> (u64, u64, i64) {
    let h = mix(t);
    let a = h % ACCOUNTS;
    let b = (a + 1 + (h >> 16) % (ACCOUNTS - 1)) % ACCOUNTS;
    (a, b, 1 + ((h >> 40) % 100) as i64)
}

/// The naive ledger: word 0 counts the transfers done, words 1..=ACCOUNTS are balances.
pub const LEDGER_BYTES: u64 = (1 + ACCOUNTS) * 8;

fn word(w: &[u8], i: u64) -> i64 {
    let at = i as usize * 8;
    i64::from_le_bytes(w[at..at + 8].try_into().unwrap_or_default())
}

fn put(w: &mut [u8], i: u64, v: i64) {
    let at = i as usize * 8;
    w[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

// ANCHOR: naive
/// The naive transfer through a shared map: debit, credit, count — a kill between the
/// first two stores loses the amount.
pub fn naive_transfer(w: &mut [u8], t: u64) {
    let (a, b, x) = transfer(t);
    put(w, 1 + a, word(w, 1 + a) - x);
    put(w, 1 + b, word(w, 1 + b) + x);
    put(w, 0, t as i64 + 1);
}
// ANCHOR_END: naive

/// The ledger as it starts, the file's content generator.
pub fn fill_ledger(out: &mut dyn Write, size: u64) -> io::Result<()> {
    out.write_all(&ledger_image(0))?;
    debug_assert_eq!(size, LEDGER_BYTES);
    Ok(())
}

fn ledger_image(done: i64) -> Vec<u8> {
    let mut w = vec![0u8; LEDGER_BYTES as usize];
    (1..=ACCOUNTS).for_each(|i| put(&mut w, i, START));
    put(&mut w, 0, done);
    w
}

fn map_ledger(path: &Path) -> io::Result<MmapMut> {
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    // SAFETY: the ledger is a scratch file of this run; while a writer maps it, no other
    // process opens it (the parent reads it only once the writer is dead), and nothing
    // truncates it.
    let map = unsafe { MmapMut::map_mut(&file) }?;
    if map.len() as u64 != LEDGER_BYTES {
        return Err(io::Error::other("not a ledger"));
    }
    Ok(map)
}

/// The `map-writer` child role: naive transfers through a shared map until killed.
pub fn map_writer(args: &[String]) -> i32 {
    let run = || -> io::Result<()> {
        let mut map = map_ledger(Path::new(args.first().map_or("", String::as_str)))?;
        let progress = Progress::every(1 << 12);
        let mut t = word(&map, 0) as u64;
        crash::ready();
        loop {
            naive_transfer(&mut map, t);
            t += 1;
            progress.tick(t);
        }
    };
    child_exit(run().map_err(anyhow::Error::from))
}

fn child_exit(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            files::warn(&format!("lesson-11 writer: {e:#}"));
            1
        }
    }
}

/// What one kill left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Transfers completed in this round.
    pub completed: u64,
    /// The balances no longer summed to [`TOTAL`] (or SQLite's `quick_check` failed).
    pub torn: bool,
    /// A transfer the writer had reported done, or one done before, was missing.
    pub lost: bool,
}

fn found(done: u64, last: &mut u64, killed: &Killed, torn: bool) -> Found {
    let lost = done < *last || killed.reported.is_some_and(|r| r > done);
    let f = Found {
        completed: done.saturating_sub(*last),
        torn,
        lost,
    };
    *last = done.max(*last);
    f
}

/// Checks the naive ledger after a kill, and puts the balances back where the invariant
/// holds (keeping the count), so that every kill is judged on its own.
fn check_ledger(path: &Path, last: &mut u64, killed: &Killed) -> anyhow::Result<Found> {
    let w = std::fs::read(path)?;
    let sum: i64 = (1..=ACCOUNTS).map(|i| word(&w, i)).sum();
    let done = word(&w, 0);
    if sum != TOTAL {
        let mut f = OpenOptions::new().write(true).open(path)?;
        f.write_all(&ledger_image(done))?; // in place, same length: a scratch file
    }
    Ok(found(done as u64, last, killed, sum != TOTAL))
}

/// Tortures the naive mapped writer on the ledger `path`.
pub fn torture_map(path: &Path, plan: &Plan) -> anyhow::Result<Torture<Found>> {
    let mut last = 0;
    crash::torture("map-writer", &[path.as_os_str()], plan, |killed| {
        check_ledger(path, &mut last, killed)
    })
}

/// The SQLite bank as it starts: two tables, every account holding [`START`], serialized.
fn bank_image() -> rusqlite::Result<Vec<u8>> {
    let mut db = Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
         CREATE TABLE meta (done INTEGER NOT NULL);
         INSERT INTO meta VALUES (0);",
    )?;
    let mut add = db.prepare("INSERT INTO accounts VALUES (?1, ?2)")?;
    for id in 0..ACCOUNTS {
        add.execute((id as i64, START))?;
    }
    drop(add);
    Ok(db.serialize(rusqlite::MAIN_DB)?.to_vec())
}

/// The size of the bank's file, for its spec.
pub fn bank_bytes() -> anyhow::Result<u64> {
    Ok(bank_image()?.len() as u64)
}

/// The bank's content generator.
pub fn fill_bank(out: &mut dyn Write, _size: u64) -> io::Result<()> {
    out.write_all(&bank_image().map_err(io::Error::other)?)
}

/// Opens the bank in WAL mode with `synchronous` = `NORMAL` (a commit survives the
/// process's death) or `FULL` (an fsync per commit: a power loss too).
pub fn open_bank(path: &Path, synchronous: &str) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    db.pragma_update(None, "synchronous", synchronous)?;
    Ok(db)
}

// ANCHOR: sqlite
/// The same transfer as one SQLite transaction: a kill before `commit` rolls all of it back.
pub fn sqlite_transfer(db: &mut Connection, t: u64) -> rusqlite::Result<()> {
    let (a, b, x) = transfer(t);
    let tx: Transaction = db.transaction()?;
    tx.prepare_cached("UPDATE accounts SET balance = balance - ?1 WHERE id = ?2")?
        .execute((x, a as i64))?;
    tx.prepare_cached("UPDATE accounts SET balance = balance + ?1 WHERE id = ?2")?
        .execute((x, b as i64))?;
    tx.prepare_cached("UPDATE meta SET done = done + 1")?
        .execute([])?;
    tx.commit()
}
// ANCHOR_END: sqlite

fn done(db: &Connection) -> rusqlite::Result<u64> {
    db.query_row("SELECT done FROM meta", [], |r| {
        r.get::<_, i64>(0).map(|n| n as u64)
    })
}

/// The `sqlite-writer` child role: transfers as transactions until killed.
pub fn sqlite_writer(args: &[String]) -> i32 {
    let run = || -> anyhow::Result<()> {
        let mut db = open_bank(Path::new(args.first().map_or("", String::as_str)), "NORMAL")?;
        let progress = Progress::every(1);
        let mut t = done(&db)?;
        crash::ready();
        loop {
            sqlite_transfer(&mut db, t)?;
            t += 1;
            progress.tick(t);
        }
    };
    child_exit(run())
}

/// Checks the bank after a kill: the next open recovers from the WAL; then the sum, the
/// count and SQLite's own `quick_check`. Closing checkpoints and removes the WAL.
fn check_bank(path: &Path, last: &mut u64, killed: &Killed) -> anyhow::Result<Found> {
    let db = Connection::open(path)?;
    let sum: i64 = db.query_row("SELECT sum(balance) FROM accounts", [], |r| r.get(0))?;
    let check: String = db.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    let n = done(&db)?;
    db.close().map_err(|(_, e)| e)?;
    Ok(found(n, last, killed, sum != TOTAL || check != "ok"))
}

/// SQLite's own files beside the bank (`-wal`, `-shm`): removed on a fatal signal, and when
/// dropped if SQLite has not removed them itself.
#[derive(Debug)]
pub struct WalFiles {
    paths: [PathBuf; 2],
    _on_signal: Registered,
}

impl WalFiles {
    pub fn of(bank: &Path) -> WalFiles {
        let with = |tail: &str| {
            let mut p = bank.as_os_str().to_owned();
            p.push(tail);
            PathBuf::from(p)
        };
        let paths = [with("-wal"), with("-shm")];
        let on_signal = cleanup::on_signal(&paths[0], Some(&paths[1]), Removal::Always);
        WalFiles {
            paths,
            _on_signal: on_signal,
        }
    }
}

impl Drop for WalFiles {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Tortures the SQLite writer on the bank `path`.
pub fn torture_sqlite(path: &Path, plan: &Plan) -> anyhow::Result<Torture<Found>> {
    let mut last = 0;
    crash::torture("sqlite-writer", &[path.as_os_str()], plan, |killed| {
        check_bank(path, &mut last, killed)
    })
}

/// Time per transfer: the naive mapped one, SQLite with `synchronous=NORMAL`, and SQLite
/// with `FULL` — what a transaction costs, and what durability against power loss adds.
pub fn transfer_costs(ledger: &Path, bank: &Path) -> anyhow::Result<[Duration; 3]> {
    const MAPPED: u64 = 100_000;
    const NORMAL: u64 = 200;
    const FULL: u64 = 20;
    let mut map = map_ledger(ledger)?;
    let from = word(&map, 0) as u64;
    let t0 = Instant::now();
    (from..from + MAPPED).for_each(|t| naive_transfer(black_box(&mut map), t));
    let mapped = t0.elapsed() / MAPPED as u32;
    let sqlite = |synchronous: &str, n: u64| -> anyhow::Result<Duration> {
        let mut db = open_bank(bank, synchronous)?;
        let from = done(&db)?;
        let t0 = Instant::now();
        (from..from + n).try_for_each(|t| sqlite_transfer(&mut db, t))?;
        let per = t0.elapsed() / n as u32;
        db.close().map_err(|(_, e)| e)?;
        Ok(per)
    };
    Ok([mapped, sqlite("NORMAL", NORMAL)?, sqlite("FULL", FULL)?])
}
