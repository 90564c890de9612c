//! Lesson 7's experiments: the workloads real programs map files for, each run both ways.
//! A log analyzer (our own through a map and through `read()`, beside ripgrep and grep),
//! SQLite's random lookups and updates with `mmap_size` 0 and covering the file, a binary
//! search over a sorted index through a map and through `pread`, and ripgrep's own choice
//! between the two. Plain Rust and mmap-lab's instruments; the verdict is in `verdicts.rs`.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Instant;

use memchr::memmem::Finder;
use mmap_lab::Lab;
use mmap_lab::data::read_exact_at;
use mmap_lab::findings::Spread;
use mmap_lab::peer::{self, Peer, Printed};
use mmap_lab::text::{BUF, count_lines, count_parallel, count_read};
use rusqlite::{Connection, OpenFlags, params};

/// Two ways of one workload taking turns: without a map, and with one.
#[derive(Debug)]
pub struct Duel {
    pub without: Spread,
    pub with: Spread,
    /// What each run found (a count, a checksum), both ways.
    pub found: Vec<u64>,
}

impl Duel {
    /// Whether every run of both ways found `want`.
    pub fn all(&self, want: usize) -> bool {
        self.found.iter().all(|&f| f == want as u64)
    }

    /// Whether every run of both ways found the same.
    pub fn same(&self) -> bool {
        self.found.windows(2).all(|w| w[0] == w[1])
    }
}

/// Runs `way(0)` (without a map) and `way(1)` (with one) in turns, `--runs` rounds, each
/// on a freshly evicted `path` when `cold`; `way` returns what it found and its seconds,
/// which become times per operation (`ops` in a run).
pub fn duel(
    lab: &Lab,
    path: &Path,
    (cold, ops): (bool, usize),
    way: impl FnMut(usize) -> anyhow::Result<(u64, f64)>,
) -> anyhow::Result<Duel> {
    let runs = lab.turns(path, (lab.runs, 2, cold), way)?;
    let spread = |i: usize| {
        let secs: Vec<f64> = runs[i].iter().map(|r| r.1).collect();
        Spread::of(&secs).per(ops as f64)
    };
    Ok(Duel {
        without: spread(0),
        with: spread(1),
        found: runs.iter().flatten().map(|r| r.0).collect(),
    })
}

/// One way of counting the log's matching lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Our count through a map, one thread.
    Map,
    /// Our count through a map, one thread per core.
    MapAll,
    /// Our count through `read()`, one thread.
    Read,
    /// `rg -c` as it chooses (a map, for one file).
    Rg,
    /// `rg --no-mmap -c`.
    RgNoMmap,
    /// GNU `grep -c` (reads; it has no mmap).
    Grep,
}

/// Counts the matching lines of the log once, `way`: the count and the wall time, or why a
/// peer gave none.
pub fn count_once(
    lab: &Lab,
    way: Way,
    log: &Path,
    literal: &str,
    threads: usize,
) -> anyhow::Result<Result<(u64, f64), String>> {
    let finder = Finder::new(literal.as_bytes());
    let t0 = Instant::now();
    let count = match way {
        // ANCHOR: map_count
        Way::Map => count_lines(&lab.map(log)?, &finder),
        Way::MapAll => count_parallel(&lab.map(log)?, &finder, threads)?,
        // ANCHOR_END: map_count
        Way::Read => count_read(lab.open(log)?, &finder, BUF)?,
        Way::Rg => return Ok(rg(literal, None, &[log])),
        Way::RgNoMmap => return Ok(rg(literal, Some("--no-mmap"), &[log])),
        Way::Grep => return Ok(grep(literal, log)),
    };
    Ok(Ok((count, t0.elapsed().as_secs_f64())))
}

/// The log race: each way's spread of runs (or why a peer gave none), and every count seen.
#[derive(Debug)]
pub struct Race {
    pub rows: Vec<(Way, Result<Spread, String>)>,
    pub counts: Vec<u64>,
}

impl Race {
    /// The runs of `way`, when it ran.
    pub fn row(&self, way: Way) -> Option<Spread> {
        self.rows.iter().find(|r| r.0 == way)?.1.clone().ok()
    }
}

/// Counts the log every way of `ways` in turns, `--runs` rounds, on the cached log.
pub fn race(lab: &Lab, log: &Path, literal: &str, ways: &[Way]) -> anyhow::Result<Race> {
    let threads = lab.machine.cores;
    let runs = lab.turns(log, (lab.runs, ways.len(), false), |i| {
        count_once(lab, ways[i], log, literal, threads)
    })?;
    let mut counts = Vec::new();
    let rows = ways
        .iter()
        .zip(runs)
        .map(|(&way, runs)| {
            let runs: Result<Vec<(u64, f64)>, String> = runs.into_iter().collect();
            let spread = runs.map(|runs| {
                counts.extend(runs.iter().map(|r| r.0));
                Spread::of(&runs.iter().map(|r| r.1).collect::<Vec<_>>())
            });
            (way, spread)
        })
        .collect();
    Ok(Race { rows, counts })
}

/// Our count of the lines with the literal in each of `files`, through maps, added up.
pub fn count_files(lab: &Lab, files: &[&Path], literal: &str) -> anyhow::Result<u64> {
    let finder = Finder::new(literal.as_bytes());
    files
        .iter()
        .try_fold(0, |sum, f| Ok(sum + count_lines(&lab.map(f)?, &finder)))
}

// ANCHOR: peers
/// `rg [MODE] --count --fixed-strings LITERAL FILES...` (no config file, no file names;
/// MODE `--mmap` or `--no-mmap`, else ripgrep chooses): the total count of matching lines
/// and the wall time of the process.
pub fn rg(literal: &str, mode: Option<&str>, files: &[&Path]) -> Result<(u64, f64), String> {
    let args = rg_args(mode.as_slice(), literal, files);
    counted("rg", peer::program("rg", &args, &[]))
}

fn rg_args<'a>(flags: &[&'a str], literal: &'a str, files: &[&'a Path]) -> Vec<&'a OsStr> {
    let fixed = [
        "--no-config",
        "--count",
        "--no-filename",
        "--fixed-strings",
        "--regexp",
    ];
    let mut args: Vec<&'a OsStr> = flags.iter().chain(&fixed).map(|&f| OsStr::new(f)).collect();
    args.push(OsStr::new(literal));
    args.extend(files.iter().map(|f| f.as_os_str()));
    args
}

/// `LC_ALL=C grep --count --fixed-strings LITERAL FILE`: bytes, not characters, like ours.
pub fn grep(literal: &str, file: &Path) -> Result<(u64, f64), String> {
    let mut args = ["--count", "--fixed-strings", "--regexp", literal]
        .map(OsStr::new)
        .to_vec();
    args.push(file.as_os_str());
    counted("grep", peer::program("grep", &args, &[("LC_ALL", "C")]))
}
// ANCHOR_END: peers

/// A counting peer's total (the sum of the counts it printed, one per line) and wall time.
/// Exit code 1 means "nothing matched" for both grep and ripgrep.
fn counted(name: &str, ran: Peer<Printed>) -> Result<(u64, f64), String> {
    let r = match ran {
        Peer::Ran(r) => r,
        Peer::Missing => return Err(format!("{name} not installed — skipped")),
        Peer::Failed(e) => return Err(format!("{name} failed — skipped ({e})")),
    };
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    let why = stderr
        .lines()
        .next()
        .unwrap_or("no message")
        .trim()
        .to_string();
    if !matches!(r.out.code, Some(0 | 1)) {
        return Err(format!(
            "{name} failed — skipped (exit {:?}: {why})",
            r.out.code
        ));
    }
    String::from_utf8_lossy(&r.out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse::<u64>())
        .sum::<Result<u64, _>>()
        .map(|n| (n, r.wall.0))
        .map_err(|e| format!("{name} printed no count — skipped ({e})"))
}

// ANCHOR: rg_rule
/// Whether ripgrep chose a map for `files`, from its own trace (`rg --trace`): "searching via
/// memory map" for a map, "generic reader" for `read()`; `None` when it said neither.
pub fn rg_maps(literal: &str, files: &[&Path]) -> Option<bool> {
    let args = rg_args(&["--trace"], literal, files);
    let Peer::Ran(r) = peer::program("rg", &args, &[]) else {
        return None;
    };
    let trace = String::from_utf8_lossy(&r.out.stderr);
    match (
        trace.contains("via memory map"),
        trace.contains("generic reader"),
    ) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}
// ANCHOR_END: rg_rule

/// The database page size the lesson uses (SQLite's default).
pub const PAGE: u64 = 4096;
/// The payload of each row: random bytes.
const PAYLOAD: usize = 100;
/// Bytes of database per row with a 100-byte payload (measured: 111), with room to spare.
const ROW_BYTES: u64 = 140;

/// How many rows the database of `size` bytes holds.
pub fn db_rows(size: u64) -> i64 {
    i64::try_from(size / ROW_BYTES).unwrap_or(i64::MAX)
}

// ANCHOR: make_db
/// Writes a SQLite database of exactly `size` bytes: `t(id INTEGER PRIMARY KEY, payload
/// BLOB)` with [`db_rows`] rows, built in memory and written out whole, then padded with
/// zero pages. SQLite reads the page count from the file's header when it is valid, so the
/// padding is never read (sqlite.org/fileformat.html, "in-header database size").
pub fn make_db(out: &mut dyn Write, size: u64) -> io::Result<()> {
    let image = build_db(db_rows(size)).map_err(io::Error::other)?;
    let padding = size.checked_sub(image.len() as u64).ok_or_else(|| {
        io::Error::other(format!(
            "the database took {} bytes, more than {size}",
            image.len()
        ))
    })?;
    out.write_all(&image)?;
    io::copy(&mut io::repeat(0).take(padding), out)?;
    Ok(())
}

fn build_db(rows: i64) -> rusqlite::Result<Vec<u8>> {
    let mut db = Connection::open_in_memory()?;
    db.execute_batch(
        "PRAGMA page_size = 4096;
         CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);",
    )?;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut payload = [0u8; PAYLOAD];
    let tx = db.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO t VALUES (?1, ?2)")?;
        for id in 0..rows {
            rng.fill(&mut payload);
            insert.execute(params![id, &payload[..]])?;
        }
    }
    tx.commit()?;
    Ok(db.serialize(rusqlite::MAIN_DB)?.to_vec())
}
// ANCHOR_END: make_db

/// `PRAGMA mmap_size` of a fresh connection to `db` as SQLite ships (read back), and after
/// asking for `want` (read back too: SQLite caps it at its compile-time maximum).
pub fn mmap_sizes(db: &Path, want: u64) -> rusqlite::Result<(i64, i64)> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let default = conn.query_row("PRAGMA mmap_size", [], |r| r.get(0))?;
    let set = conn.query_row(&format!("PRAGMA mmap_size = {want}"), [], |r| r.get(0))?;
    Ok((default, set))
}

// ANCHOR: lookups
/// Random lookups by primary key in one read transaction of a fresh read-only connection
/// with `mmap_size` set: a checksum of the payloads found and the time of the queries.
pub fn lookups(db: &Path, mmap_size: u64, ids: &[i64]) -> rusqlite::Result<(u64, f64)> {
    let mut conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.query_row(&format!("PRAGMA mmap_size = {mmap_size}"), [], |_| Ok(()))?;
    let t0 = Instant::now();
    let tx = conn.transaction()?;
    let mut query = tx.prepare("SELECT payload FROM t WHERE id = ?1")?;
    let mut sum = 0u64;
    for id in ids {
        sum += query.query_row([id], |r| {
            let payload = r.get_ref(0)?.as_blob()?;
            Ok(payload.first().map_or(0, |&b| u64::from(b)) + payload.len() as u64)
        })?;
    }
    drop(query);
    tx.commit()?;
    Ok((sum, t0.elapsed().as_secs_f64()))
}
// ANCHOR_END: lookups

// ANCHOR: writes
/// Updates of random rows of the scratch database `db`, `per_tx` to a transaction, with
/// `mmap_size` set: the rows changed and the time. The journal is kept in memory and
/// nothing is synced, so the time is SQLite's write path alone.
pub fn writes(
    db: &Path,
    mmap_size: u64,
    ids: &[i64],
    per_tx: usize,
) -> rusqlite::Result<(u64, f64)> {
    let mut conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.query_row("PRAGMA journal_mode = MEMORY", [], |_| Ok(()))?;
    conn.execute_batch("PRAGMA synchronous = OFF")?;
    conn.query_row(&format!("PRAGMA mmap_size = {mmap_size}"), [], |_| Ok(()))?;
    let payload = [0x5au8; PAYLOAD];
    let t0 = Instant::now();
    let mut changed = 0;
    for batch in ids.chunks(per_tx.max(1)) {
        let tx = conn.transaction()?;
        {
            let mut update = tx.prepare_cached("UPDATE t SET payload = ?2 WHERE id = ?1")?;
            for id in batch {
                changed += update.execute(params![id, &payload[..]])? as u64;
            }
        }
        tx.commit()?;
    }
    Ok((changed, t0.elapsed().as_secs_f64()))
}
// ANCHOR_END: writes

/// The key at position `i` of the index: strictly increasing with gaps, so a search can
/// miss (`key(i) + 1` is never a key).
pub fn key(i: u64) -> u64 {
    i * 16 + (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 61)
}

/// Writes the index: `size / 8` keys, sorted, 8 bytes each (little-endian).
pub fn make_index(out: &mut dyn Write, size: u64) -> io::Result<()> {
    for i in 0..size / 8 {
        out.write_all(&key(i).to_le_bytes())?;
    }
    Ok(())
}

// ANCHOR: search
/// Binary search for `want` among `n` sorted keys, reading the key at position `i` with
/// `key_at`: its position, or `None`.
pub fn search(
    n: u64,
    want: u64,
    mut key_at: impl FnMut(u64) -> io::Result<u64>,
) -> io::Result<Option<u64>> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match key_at(mid)?.cmp(&want) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(Some(mid)),
        }
    }
    Ok(None)
}

/// Looks up the keys at `positions`, through a map (`map`) or one `pread` per probe: how
/// many were found where they are, and the time.
pub fn index_lookups(
    lab: &Lab,
    index: &Path,
    map: bool,
    positions: &[u64],
) -> anyhow::Result<(u64, f64)> {
    let t0 = Instant::now();
    let found = if map {
        let keys = lab.map(index)?;
        let at = |i: u64| {
            let i = i as usize * 8;
            Ok(u64::from_le_bytes(
                keys[i..i + 8].try_into().unwrap_or_default(),
            ))
        };
        count_found(keys.len() as u64 / 8, positions, at)?
    } else {
        let file = lab.open(index)?;
        let at = |i: u64| {
            let mut key = [0u8; 8];
            read_exact_at(&file, &mut key, i * 8).map(|()| u64::from_le_bytes(key))
        };
        count_found(file.metadata()?.len() / 8, positions, at)?
    };
    Ok((found, t0.elapsed().as_secs_f64()))
}
// ANCHOR_END: search

/// How many of `positions` the search finds exactly there.
fn count_found(
    n: u64,
    positions: &[u64],
    mut at: impl FnMut(u64) -> io::Result<u64>,
) -> io::Result<u64> {
    let mut found = 0;
    for &i in positions {
        found += u64::from(search(n, key(i), &mut at)? == Some(i));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_search_finds_every_key_and_misses_the_gaps() {
        let mut bytes = Vec::new();
        make_index(&mut bytes, 8 * 1000).unwrap();
        let at = |i: u64| {
            let i = i as usize * 8;
            Ok(u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()))
        };
        for i in 0..1000 {
            assert_eq!(search(1000, key(i), at).unwrap(), Some(i));
            assert_eq!(search(1000, key(i) + 1, at).unwrap(), None);
        }
        assert_eq!(search(0, 5, at).unwrap(), None);
    }

    #[test]
    fn the_database_fills_its_size_exactly_and_opens_with_every_row() {
        let size = 256 * PAGE;
        let mut image = Vec::new();
        make_db(&mut image, size).unwrap();
        assert_eq!(image.len() as u64, size);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        std::fs::write(&path, &image).unwrap();
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, db_rows(size));
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let (sum, _) = lookups(&path, size, &[0, rows - 1]).unwrap();
        assert_eq!(sum, lookups(&path, 0, &[0, rows - 1]).unwrap().0);
        drop(conn);
        assert_eq!(writes(&path, size, &[0, 1, 2], 2).unwrap().0, 3);
        assert!(
            make_db(&mut Vec::new(), PAGE).is_err(),
            "one page holds no table of rows"
        );
    }
}
