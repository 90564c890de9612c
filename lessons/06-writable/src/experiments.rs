//! Lesson 6's experiments: the notes' write through a map in Python and Rust, the two ways
//! back (a private map, a replacing rename), and the crash torture — accounts updated
//! through a shared map by a writer that is killed at random moments. The verdicts are in
//! `verdicts.rs`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use memmap2::{MmapMut, MmapOptions, MmapRaw};
use mmap_lab::crash::{self, Killed, Plan, Progress, Torture};
use mmap_lab::measure::smaps_of;
use mmap_lab::{cache, child, cleanup};
use serde::Deserialize;

/// What the notes write, where they write it.
pub const DATA: &[u8; 4] = b"DATA";

// ANCHOR: python
/// The notes' snippet, line for line, with the path from argv instead of "data.bin"; lines
/// marked `# +` are ours: another process reads the file with read(2) before the flush.
pub const PY_SNIPPET: &str = r#"import mmap
import json, subprocess, sys  # +
READ = "import os, sys; print(os.read(os.open(sys.argv[1], os.O_RDONLY), 4).hex())"  # +

with open(sys.argv[1], "r+b") as f:
    mm = mmap.mmap(f.fileno(), 0)
    mm[0:4] = b"DATA"
    seen = subprocess.run([sys.executable, "-I", "-c", READ, sys.argv[1]],  # + before flush
                          capture_output=True, text=True, check=True).stdout.strip()  # +
    mm.flush()
    mm.close()
print(json.dumps(dict(seen=seen)))  # +
"#;
// ANCHOR_END: python

/// What the snippet's second process read before the flush, as hex.
#[derive(Debug, Deserialize)]
pub struct PySnippet {
    pub seen: String,
}

/// What one write of `DATA` at offset 0 did to a file.
#[derive(Debug, Clone, Copy)]
pub struct Edit {
    /// Same device, inode and size before and after.
    pub same_file: bool,
    /// The first four bytes now read `DATA`.
    pub wrote: bool,
    /// Bytes that differ from before outside `0..4`.
    pub outside: usize,
    /// A second process's `read(2)` returned `DATA` before the flush.
    pub seen: bool,
}

/// Compares `path` with what it held `before`, and says whether it is still the same file.
pub fn edit(path: &Path, before: &[u8], id: Option<(u64, u64)>, seen: bool) -> io::Result<Edit> {
    let after = std::fs::read(path)?;
    let outside = before
        .iter()
        .zip(&after)
        .skip(4)
        .filter(|(a, b)| a != b)
        .count();
    Ok(Edit {
        same_file: id.is_some() && crash::identity(path) == id && after.len() == before.len(),
        wrote: after.starts_with(DATA),
        outside: outside + before.len().abs_diff(after.len()),
        seen,
    })
}

/// Opens a scratch file of this run for reading and writing.
fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open(path)
}

/// Maps a scratch file of this run shared and writable.
fn map_mut(file: &File) -> io::Result<MmapMut> {
    // SAFETY: the file is a scratch file of this run; nothing truncates it while it is
    // mapped, and the other processes that open it meanwhile (a reader, Python before us)
    // only read it or have finished writing.
    unsafe { MmapMut::map_mut(file) }
}

/// The notes' snippet in Rust: map, write `DATA`, let another process `read()` the file,
/// flush. Returns what it did (against the file's content `before`) and how long the flush
/// took.
pub fn rust_twin(path: &Path, before: &[u8]) -> anyhow::Result<(Edit, Duration)> {
    let id = crash::identity(path);
    // ANCHOR: twin
    let file = open_rw(path)?;
    let mut mm = map_mut(&file)?; // MAP_SHARED, like Python's default
    mm[0..4].copy_from_slice(b"DATA");
    let seen = read_in_child(path)?; // another process, read(2), before the flush
    let t0 = Instant::now();
    mm.flush()?; // msync(MS_SYNC)
    let flush = t0.elapsed();
    // ANCHOR_END: twin
    drop(mm);
    Ok((edit(path, before, id, seen == *DATA)?, flush))
}

/// Starts this binary as the `read4` role and returns the four bytes its `read(2)` got.
fn read_in_child(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut reader = child::spawn("read4", &[path.as_os_str()])?;
    let mut out = Vec::new();
    if let Some(mut o) = reader.inner().stdout.take() {
        o.read_to_end(&mut out)?;
    }
    anyhow::ensure!(
        reader.wait()? == child::Ended::Exited(0),
        "the reader failed"
    );
    Ok(out)
}

/// The `read4` child role: prints the first four bytes of the file, read with `read(2)`.
pub fn read4(args: &[String]) -> i32 {
    let mut buf = [0u8; 4];
    let read = File::open(&args[0]).and_then(|mut f| f.read_exact(&mut buf));
    match read.and_then(|()| io::stdout().write_all(&buf)) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// What a private map and a shared map cost when one byte of every page is written, and
/// what each left in the file.
#[derive(Debug, Clone, Copy)]
pub struct Touched {
    pub private_time: Duration,
    /// Private memory the copies took (`Private_Dirty` of the mapping).
    pub private_copied: u64,
    pub private_untouched: bool,
    pub shared_time: Duration,
    /// Dirty pages of the shared mapping right after the writes, and after the flush.
    pub dirty: u64,
    pub dirty_after: u64,
    pub flush: Duration,
    /// Dirty memory of the whole machine before and after the writes (`/proc/meminfo`).
    pub machine_dirty: Option<(u64, u64)>,
}

/// Writes one byte in every page through `map_copy` (MAP_PRIVATE), then through a shared
/// map, and watches the file and the dirty pages.
pub fn touch_every_page(path: &Path) -> anyhow::Result<Touched> {
    let before = std::fs::read(path)?;
    let file = open_rw(path)?;
    // ANCHOR: private
    // SAFETY: as in `map_mut`; a private map never writes the file at all.
    let mut private = unsafe { MmapOptions::new().map_copy(&file)? };
    let private_time = each_page(&mut private); // every write copies its page first
    let private_copied = smaps_of(std::process::id(), private.as_ptr()).map(|s| s.private_dirty);
    drop(private); // the copies are gone: that is the whole "rollback"
    let private_untouched = std::fs::read(path)? == before;
    // ANCHOR_END: private
    let machine_before = crash::dirty_bytes();
    let mut shared = map_mut(&file)?;
    let shared_time = each_page(&mut shared);
    let dirty = dirty_of(&shared);
    let machine_after = crash::dirty_bytes();
    let t0 = Instant::now();
    shared.flush()?;
    let flush = t0.elapsed();
    Ok(Touched {
        private_time,
        private_copied: private_copied.unwrap_or(0),
        private_untouched,
        shared_time,
        dirty,
        dirty_after: dirty_of(&shared),
        flush,
        machine_dirty: machine_before.zip(machine_after),
    })
}

fn each_page(map: &mut MmapMut) -> Duration {
    let t0 = Instant::now();
    for i in (0..map.len()).step_by(cache::page_size()) {
        map[i] = map[i].wrapping_add(1);
    }
    t0.elapsed()
}

/// Dirty bytes of the mapping holding `map` (shared and private dirty pages of `smaps`).
fn dirty_of(map: &MmapMut) -> u64 {
    smaps_of(std::process::id(), map.as_ptr()).map_or(0, |s| s.shared_dirty + s.private_dirty)
}

/// Writes four bytes at offset 8 through a shared map and unmaps it without a flush:
/// whether `read(2)` then sees them (there was nothing to undo them).
pub fn unmap_without_flush(path: &Path) -> anyhow::Result<bool> {
    let file = open_rw(path)?;
    // ANCHOR: no_undo
    let mut mm = map_mut(&file)?;
    mm[8..12].copy_from_slice(b"KEEP");
    drop(mm); // munmap, no flush, no undo: the page cache has the bytes
    // ANCHOR_END: no_undo
    let mut head = [0u8; 12];
    File::open(path)?.read_exact(&mut head)?;
    Ok(&head[8..] == b"KEEP")
}

/// What replacing a file by write-new + fsync + rename showed.
#[derive(Debug, Clone, Copy)]
pub struct Replaced {
    pub time: Duration,
    /// The path read the old bytes until the rename and the new ones after it, and a reader
    /// that had opened it before kept reading the old file.
    pub atomic: bool,
    /// The path names another inode afterwards.
    pub new_inode: bool,
}

/// Replaces `path` with a copy whose first four bytes are `NEW!`, the atomic way.
pub fn replace(path: &Path) -> anyhow::Result<Replaced> {
    let mut new = std::fs::read(path)?;
    new[..4].copy_from_slice(b"NEW!");
    let (id, mut old_reader) = (crash::identity(path), File::open(path)?);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".partial-{}-replace", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _on_signal = cleanup::on_signal(&tmp, None, cleanup::Removal::Always);
    let t0 = Instant::now();
    // ANCHOR: replace
    let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    f.write_all(&new)?;
    f.sync_all()?; // the new version is on disk before it gets the name
    let before_rename = head(path)?;
    std::fs::rename(&tmp, path)?; // atomic: readers see the old file or the new one
    File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()?; // the rename, too
    // ANCHOR_END: replace
    let time = t0.elapsed();
    let mut old = [0u8; 4];
    old_reader.read_exact(&mut old)?;
    Ok(Replaced {
        time,
        atomic: before_rename != *b"NEW!" && head(path)? == *b"NEW!" && old != *b"NEW!",
        new_inode: crash::identity(path) != id,
    })
}

fn head(path: &Path) -> io::Result<[u8; 4]> {
    let mut b = [0u8; 4];
    File::open(path)?.read_exact(&mut b)?;
    Ok(b)
}

// The ledger: a header page (counter and journal), then one 64-byte record per account.

/// Accounts in the ledger, and what each holds at the start.
pub const ACCOUNTS: usize = 256;
const START: i64 = 1000;
/// The invariant: transfers move money, so the balances always sum to this.
pub const TOTAL: i64 = START * ACCOUNTS as i64;
/// Word indices: transfers completed, then the journal (commit word, transfer, accounts and
/// their new balances).
const NEXT: usize = 1;
const J_COMMIT: usize = 2;
const J: usize = 3;
/// The first record's word, and words per record (balance, last transfer, checksum, pad).
const RECORDS: usize = 512;
const REC: usize = 8;
/// The ledger file's size.
pub const LEDGER_BYTES: u64 = ((RECORDS + REC * ACCOUNTS) * 8) as u64;
const MAGIC: u64 = 0x6d6d_6170_6c65_6467;
/// A record's "last transfer" before any transfer touched it.
const NONE: u64 = u64::MAX;

/// The ledger's words: atomics over the shared map in a writer, a plain copy in the checker.
pub trait Words {
    fn at(&self, i: usize) -> u64;
    fn put(&self, i: usize, v: u64);
}

impl Words for [AtomicU64] {
    fn at(&self, i: usize) -> u64 {
        self[i].load(Ordering::Acquire)
    }
    fn put(&self, i: usize, v: u64) {
        self[i].store(v, Ordering::Release) // stores land in program order
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn checksum(i: usize, balance: u64, seq: u64) -> u64 {
    mix(mix(balance ^ i as u64) ^ seq)
}

/// Transfer `t`: from account `a` to another account `b`, an amount of 1 to 100.
pub fn transfer(t: u64) -> (usize, usize, i64) {
    let h = mix(t.wrapping_add(0x9e37_79b9_7f4a_7c15));
    let a = (h % ACCOUNTS as u64) as usize;
    let b = (a + 1 + ((h >> 16) % (ACCOUNTS as u64 - 1)) as usize) % ACCOUNTS;
    (a, b, 1 + ((h >> 40) % 100) as i64)
}

fn balance(w: &(impl Words + ?Sized), i: usize) -> i64 {
    w.at(RECORDS + REC * i) as i64
}

fn write_record(w: &(impl Words + ?Sized), i: usize, balance: i64, seq: u64) {
    let at = RECORDS + REC * i;
    w.put(at, balance as u64);
    w.put(at + 1, seq);
    w.put(at + 2, checksum(i, balance as u64, seq));
}

// ANCHOR: naive
/// The naive transfer: debit, credit, count — three steps a kill can cut apart.
pub fn naive_transfer(w: &(impl Words + ?Sized), t: u64) {
    let (a, b, x) = transfer(t);
    write_record(w, a, balance(w, a) - x, t);
    write_record(w, b, balance(w, b) + x, t);
    w.put(NEXT, t + 1);
}
// ANCHOR_END: naive

// ANCHOR: safe
/// The safe transfer: a redo journal with a commit word. `sync(words)` is where a writer that
/// must survive a power loss flushes (msync); a process crash needs no flush at all.
pub fn safe_transfer(w: &(impl Words + ?Sized), t: u64, sync: &mut dyn FnMut(usize, usize)) {
    let (a, b, x) = transfer(t);
    let (new_a, new_b) = (balance(w, a) - x, balance(w, b) + x);
    for (k, v) in [t, a as u64, b as u64, new_a as u64, new_b as u64]
        .into_iter()
        .enumerate()
    {
        w.put(J + k, v);
    }
    w.put(J_COMMIT, t + 1); // the commit point: from here on, recovery redoes t
    sync(0, RECORDS); // the journal is durable before any record changes
    write_record(w, a, new_a, t);
    write_record(w, b, new_b, t);
    sync(RECORDS, REC * ACCOUNTS); // the records are durable before the journal is reused
    w.put(NEXT, t + 1);
}

/// Recovery, run by the safe writer when it starts: a committed transfer that was not
/// finished is redone from the journal (setting balances, so redoing twice is harmless).
pub fn recover(w: &(impl Words + ?Sized)) -> bool {
    let (next, j) = (w.at(NEXT), |k| w.at(J + k));
    if w.at(J_COMMIT) != next + 1 || j(1).max(j(2)) >= ACCOUNTS as u64 {
        return false; // nothing committed, or it was finished: a cut journal is ignored
    }
    write_record(w, j(1) as usize, j(3) as i64, j(0));
    write_record(w, j(2) as usize, j(4) as i64, j(0));
    w.put(NEXT, next + 1);
    true
}
// ANCHOR_END: safe

/// The ledger as it starts: every account holds [`START`]; the file's content generator.
pub fn fill_ledger(out: &mut dyn Write, size: u64) -> io::Result<()> {
    debug_assert_eq!(size, LEDGER_BYTES);
    out.write_all(&to_bytes(&Model::default().image()))
}

fn to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The shared map of a ledger file as atomics.
fn ledger_map(path: &Path) -> io::Result<MmapRaw> {
    let map = MmapRaw::map_raw(&open_rw(path)?)?;
    if map.len() as u64 != LEDGER_BYTES {
        return Err(io::Error::other("not a ledger"));
    }
    Ok(map)
}

fn words(map: &MmapRaw) -> &[AtomicU64] {
    // SAFETY: the map is page-aligned and LEDGER_BYTES long (checked in `ledger_map`), a
    // multiple of 8, and AtomicU64 has the size and alignment of u64; this process touches
    // the memory only through these atomics, and the parent reads the file only once this
    // writer is dead. The slice borrows `map`, so it cannot outlive the mapping.
    unsafe { std::slice::from_raw_parts(map.as_mut_ptr().cast::<AtomicU64>(), map.len() / 8) }
}

/// The `naive-writer` child role: transfers forever, reporting progress, until killed.
pub fn naive_writer(args: &[String]) -> i32 {
    writer(args, false)
}

/// The `safe-writer` child role: recovers, then transfers forever until killed.
pub fn safe_writer(args: &[String]) -> i32 {
    writer(args, true)
}

fn writer(args: &[String], safe: bool) -> i32 {
    let map = match ledger_map(Path::new(&args[0])) {
        Ok(map) => map,
        Err(e) => {
            let _ = writeln!(io::stderr(), "cannot map the ledger {}: {e}", args[0]);
            return 1;
        }
    };
    let w = words(&map);
    if safe {
        recover(w);
    }
    let progress = Progress::every(4096);
    crash::ready();
    for t in w.at(NEXT).. {
        if safe {
            safe_transfer(w, t, &mut |_, _| {});
        } else {
            naive_transfer(w, t);
        }
        progress.tick(t + 1);
    }
    0
}

/// What the checker knows: the ledger after every transfer before `next`.
#[derive(Debug, Clone)]
pub struct Model {
    balances: Vec<i64>,
    seqs: Vec<u64>,
    next: u64,
}

impl Default for Model {
    fn default() -> Model {
        Model {
            balances: vec![START; ACCOUNTS],
            seqs: vec![NONE; ACCOUNTS],
            next: 0,
        }
    }
}

impl Model {
    fn advance_to(&mut self, n: u64) {
        for t in self.next..n {
            let (a, b, x) = transfer(t);
            self.balances[a] -= x;
            self.balances[b] += x;
            (self.seqs[a], self.seqs[b]) = (t, t);
        }
        self.next = self.next.max(n);
    }

    fn image(&self) -> Vec<u64> {
        let mut w = vec![0u64; LEDGER_BYTES as usize / 8];
        (w[0], w[NEXT], w[J_COMMIT]) = (MAGIC, self.next, self.next);
        for i in 0..ACCOUNTS {
            let (bal, seq) = (self.balances[i] as u64, self.seqs[i]);
            w[RECORDS + REC * i..][..3].copy_from_slice(&[bal, seq, checksum(i, bal, seq)]);
        }
        w
    }
}

/// What one kill left in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Transfers completed in this round (the counter's advance).
    pub completed: u64,
    /// Of them, those the writer had reported done through its pipe before it died.
    pub reported: u64,
    /// Records differed from the model only in the transfer that was running: it was cut.
    pub torn: bool,
    /// A completed transfer was missing, or the count went back below what was reported.
    pub lost: bool,
    /// The sum of balances was not [`TOTAL`], or a record's checksum did not match.
    pub broken: bool,
    /// The safe writer's recovery redid a committed transfer.
    pub redone: bool,
}

fn read_words(path: &Path) -> io::Result<Vec<u64>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

/// Compares a ledger image with the model after `model.next` transfers: (torn, lost).
fn compare(w: &[u64], model: &Model) -> (bool, bool) {
    let (a, b, _) = transfer(model.next);
    let want = model.image();
    let differ: Vec<usize> = (0..ACCOUNTS)
        .filter(|&i| w[RECORDS + REC * i..][..3] != want[RECORDS + REC * i..][..3])
        .collect();
    let torn = !differ.is_empty() && differ.iter().all(|&i| i == a || i == b);
    (torn, !differ.is_empty() && !torn)
}

fn broken(w: &[u64]) -> bool {
    let sum: i64 = (0..ACCOUNTS).map(|i| w[RECORDS + REC * i] as i64).sum();
    let bad = (0..ACCOUNTS).any(|i| {
        let r = &w[RECORDS + REC * i..];
        r[2] != checksum(i, r[0], r[1])
    });
    sum != TOTAL || bad
}

/// Checks the ledger after a kill of the naive writer, then puts it back in the state the
/// model expects, so that every kill is judged on its own.
pub fn check_naive(path: &Path, model: &mut Model, killed: &Killed) -> anyhow::Result<Found> {
    let w = read_words(path)?;
    let (start, n) = (model.next, w[NEXT]);
    let behind = n < start || killed.reported.is_some_and(|r| r > n);
    model.advance_to(n);
    let (torn, lost) = compare(&w, model);
    let mut f = open_rw(path)?;
    f.write_all(&to_bytes(&model.image()))?;
    Ok(Found {
        completed: model.next - start,
        reported: killed.reported.map_or(0, |r| r.saturating_sub(start)),
        torn,
        lost: lost || behind,
        broken: broken(&w),
        redone: false,
    })
}

/// Checks the ledger after a kill of the safe writer: runs its recovery on a copy and
/// compares the result with the model. The file itself is left to the next writer's recovery.
pub fn check_safe(path: &Path, model: &mut Model, killed: &Killed) -> anyhow::Result<Found> {
    let raw = read_words(path)?;
    let start = model.next;
    model.advance_to(raw[NEXT]);
    let (torn, _) = compare(&raw, model);
    let copy: Vec<AtomicU64> = raw.iter().map(|&v| AtomicU64::new(v)).collect();
    let redone = recover(copy.as_slice());
    let w: Vec<u64> = copy.into_iter().map(AtomicU64::into_inner).collect();
    let n = w[NEXT];
    let behind = n < start || killed.reported.is_some_and(|r| r > n);
    model.advance_to(n);
    let (torn_after, lost) = compare(&w, model);
    Ok(Found {
        completed: model.next - start,
        reported: killed.reported.map_or(0, |r| r.saturating_sub(start)),
        torn,
        lost: lost || torn_after || behind,
        broken: broken(&w),
        redone,
    })
}

/// Tortures one writer (`naive-writer` or `safe-writer`) on its ledger file.
pub fn torture(role: &str, ledger: &Path, plan: &Plan) -> anyhow::Result<Torture<Found>> {
    let mut model = Model::default();
    let check = if role == "safe-writer" {
        check_safe
    } else {
        check_naive
    };
    crash::torture(role, &[ledger.as_os_str()], plan, |killed| {
        check(ledger, &mut model, killed)
    })
}

/// Time per transfer of the naive writer, the safe one, and the safe one with its two
/// flushes (msync) — what durability against a power loss costs. In this process, on the
/// ledger files after their torture.
pub fn transfer_costs(naive: &Path, safe: &Path) -> anyhow::Result<[Duration; 3]> {
    const FAST: u64 = 200_000;
    const DURABLE: u64 = 8;
    let (naive_map, safe_map) = (ledger_map(naive)?, ledger_map(safe)?);
    let (nw, sw) = (words(&naive_map), words(&safe_map));
    // Each loop runs twice and the second run is timed: the first warms caches and clocks.
    let time = |run: &dyn Fn()| {
        run();
        let t0 = Instant::now();
        run();
        t0.elapsed() / FAST as u32
    };
    let naive_cost = time(&|| {
        let from = nw.at(NEXT);
        (from..from + FAST).for_each(|t| naive_transfer(nw, t));
    });
    let safe_cost = time(&|| {
        let from = sw.at(NEXT);
        (from..from + FAST).for_each(|t| safe_transfer(sw, t, &mut |_, _| {}));
    });
    let per = |n: u64, t0: Instant| t0.elapsed() / n as u32;
    let mut failed = None;
    let mut msync = |at: usize, len: usize| {
        if let Err(e) = safe_map.flush_range(at * 8, len * 8) {
            failed = Some(e);
        }
    };
    let (t0, from) = (Instant::now(), sw.at(NEXT));
    (from..from + DURABLE).for_each(|t| safe_transfer(sw, t, &mut msync));
    let durable_cost = per(DURABLE, t0);
    failed.map_or(Ok([naive_cost, safe_cost, durable_cost]), |e| Err(e.into()))
}
