//! Lesson 8's experiments: a file of fixed-size records, looked up at random record ids
//! three ways in Rust (in place through a cast of the map, copied out of it, `pread` per
//! record), cached and from disk, beside the notes' own Python. Plain Rust and mmap-lab's
//! instruments; the verdicts are in `verdicts.rs`.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::mem::{offset_of, size_of};
use std::path::Path;

use bytemuck::{Pod, PodCastError, Zeroable};
use memmap2::Mmap;
use mmap_lab::cache::Advice;
use mmap_lab::data::read_exact_at;
use mmap_lab::measure::{Sample, disk_read_bytes, probe};
use mmap_lab::{Lab, cache};

// ANCHOR: record
/// One record of the notes' format `"i d"`: an `i32`, then an `f64`, laid out the way C
/// (and Python's `struct` in native mode) lays them out — with 4 bytes of padding between,
/// so that `balance` sits on an 8-byte boundary. The padding is a field of its own, so
/// that every byte of the record is accounted for and the type can be cast from bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct Record {
    pub user_id: i32,
    pub pad: [u8; 4],
    pub balance: f64,
}

/// The same two fields with no padding: Python's `"=id"`, 12 bytes. A file written in one
/// layout and read in the other is the classic bug of record files.
#[repr(C, packed)]
pub struct Packed {
    pub user_id: i32,
    pub balance: f64,
}
// ANCHOR_END: record

/// The size of one record in the file.
pub const RECORD: usize = size_of::<Record>();

/// The sizes that tell the two layouts apart: `Record`, `Packed`, and where `balance` is.
pub fn layout() -> [usize; 3] {
    [RECORD, size_of::<Packed>(), offset_of!(Record, balance)]
}

impl Record {
    /// The record the lesson writes at index `i`: a user id spread over the `i32` range and
    /// a balance derived from it (both exact, so any reader must find exactly these).
    pub fn at(i: u64) -> Record {
        let user_id = (i.wrapping_mul(2_654_435_761) % (1 << 31)) as i32;
        Record {
            user_id,
            pad: [0; 4],
            balance: f64::from(user_id % 10_000_000) / 100.0,
        }
    }

    /// The record the notes' Python writes at index `i` into its scratch file.
    pub fn from_python(i: u64) -> Record {
        Record {
            user_id: -7 * (i as i32 + 1),
            pad: [0; 4],
            balance: i as f64 * 1.5 + 0.25,
        }
    }
}

/// Writes `size / 16` records `Record::at(0..)`: the content of the lesson's data file.
pub fn write_records(out: &mut dyn Write, size: u64) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    for i in 0..size / RECORD as u64 {
        buf.extend_from_slice(bytemuck::bytes_of(&Record::at(i)));
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

/// What the lookups read, summed so that every way can be compared with every other.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sum {
    pub user_ids: i64,
    pub balance: f64,
}

impl Sum {
    fn add(self, r: &Record) -> Sum {
        Sum {
            user_ids: self.user_ids.wrapping_add(i64::from(r.user_id)),
            balance: self.balance + r.balance,
        }
    }
}

// ANCHOR: in_place
/// The whole map as a slice of records, in place: no byte is copied. `bytemuck` checks
/// what makes the cast sound and refuses a slice that is not aligned for `Record` (8 bytes)
/// or whose length is not a whole number of records.
pub fn records(bytes: &[u8]) -> Result<&[Record], PodCastError> {
    bytemuck::try_cast_slice(bytes)
}

/// Looks up `ids` in place, each a reference into the map.
pub fn sum_in_place(records: &[Record], ids: &[usize]) -> Sum {
    ids.iter()
        .fold(Sum::default(), |s, &id| s.add(&records[id]))
}
// ANCHOR_END: in_place

// ANCHOR: copy_out
/// The Rust twin of the notes' `mm[offset:offset + size]` + `struct.unpack`: copy the
/// record's 16 bytes out of the map, then decode the fields from the copy.
pub fn sum_copied(bytes: &[u8], ids: &[usize]) -> Sum {
    let (chunks, _) = bytes.as_chunks::<RECORD>();
    ids.iter().fold(Sum::default(), |s, &id| {
        let copy: [u8; RECORD] = chunks[id]; // mm[offset : offset + record_size]
        s.add(&decode(&copy)) // struct.unpack("i d", record)
    })
}

/// Decodes a record from its bytes, field by field, in native byte order: bytes 0..4 are
/// the user id, 4..8 padding, 8..16 the balance.
fn decode(record: &[u8; RECORD]) -> Record {
    let [i0, i1, i2, i3, _, _, _, _, b0, b1, b2, b3, b4, b5, b6, b7] = *record;
    Record {
        user_id: i32::from_ne_bytes([i0, i1, i2, i3]),
        pad: [0; 4],
        balance: f64::from_ne_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
    }
}
// ANCHOR_END: copy_out

// ANCHOR: pread
/// The plain-I/O way: one `pread(2)` of 16 bytes per record, then decode.
pub fn sum_pread(file: &File, ids: &[usize]) -> io::Result<Sum> {
    let mut record = [0u8; RECORD];
    ids.iter().try_fold(Sum::default(), |s, &id| {
        read_exact_at(file, &mut record, (id * RECORD) as u64)?;
        Ok(s.add(&decode(&record)))
    })
}
// ANCHOR_END: pread

/// `n` random record ids below `records`, seeded.
pub fn random_ids(records: u64, n: usize, seed: u64) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|_| rng.usize(..records as usize)).collect()
}

/// `n` random record ids, each on a page of its own (so that every lookup of a cold file is
/// a first touch), in random order.
pub fn page_ids(records: u64, n: usize, seed: u64) -> Vec<usize> {
    let per_page = cache::page_size() / RECORD;
    let pages = records as usize / per_page;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut chosen = BTreeSet::new();
    while chosen.len() < n.min(pages) {
        chosen.insert(rng.usize(..pages));
    }
    let mut ids: Vec<usize> = chosen
        .into_iter()
        .map(|p| p * per_page + rng.usize(..per_page))
        .collect();
    rng.shuffle(&mut ids);
    ids
}

/// Touches one byte of every page of the map, so that cached lookups take no page fault.
fn touch_pages(map: &Mmap) -> u64 {
    map.iter()
        .step_by(cache::page_size())
        .map(|&b| u64::from(b))
        .sum()
}

/// The cached lookups: every run of each way, their sums, and what the disk did meanwhile.
pub struct Warm {
    pub in_place: Vec<Sample>,
    pub copy_out: Vec<Sample>,
    pub pread: Vec<Sample>,
    /// Bytes read from disk during the in-place runs; `None` without `/proc/self/io`.
    pub disk: Option<u64>,
    /// Every way found the same records, and the first ids hold what was written.
    pub agree: bool,
    /// A record reference points into the map itself.
    pub in_map: bool,
    /// A cast of the map at offset 1 was refused, and the error bytemuck gave.
    pub misaligned: Result<(), PodCastError>,
}

/// Looks up `ids` in place and copied out, and the first `preads` of them with `pread`,
/// the ways taking turns for `lab.runs` rounds on the cached file.
pub fn warm(lab: &Lab, path: &Path, ids: &[usize], preads: usize) -> anyhow::Result<Warm> {
    let map = lab.map(path)?;
    let file = lab.open(path)?;
    let recs = records(&map).map_err(|e| anyhow::anyhow!("cast the map to records: {e:?}"))?;
    std::hint::black_box(touch_pages(&map));
    let (mut in_place, mut copy_out, mut pread) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sums, mut disk) = (Vec::new(), Some(0));
    for _ in 0..lab.runs {
        let before = disk_read_bytes();
        let (sum, s) = probe(|| sum_in_place(recs, ids));
        disk = disk
            .zip(before.zip(disk_read_bytes()))
            .map(|(d, (b, a))| d + a.saturating_sub(b));
        in_place.push(s);
        let (copied, s) = probe(|| sum_copied(&map, ids));
        copy_out.push(s);
        let (read, s) = probe(|| sum_pread(&file, &ids[..preads]));
        pread.push(s);
        sums.push((sum, copied, read?, sum_in_place(recs, &ids[..preads])));
    }
    let written = ids
        .iter()
        .take(64)
        .all(|&id| recs[id] == Record::at(id as u64));
    let agree = written
        && sums.windows(2).all(|w| w[0] == w[1])
        && sums.iter().all(|(a, b, c, d)| a == b && c == d);
    let first = recs
        .first()
        .map_or(std::ptr::null(), |r| std::ptr::from_ref(r).cast());
    Ok(Warm {
        in_place,
        copy_out,
        pread,
        disk,
        agree,
        in_map: map.as_ptr_range().contains(&first),
        misaligned: records(map.get(1..1 + RECORD).unwrap_or_default()).map(|_| ()),
    })
}

/// The ways of looking up records in a cold file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdWay {
    /// In place, through a map advised `Random`: each first touch reads just its page.
    InPlace,
    Pread,
}

/// One cold run of `way`: its sample (major faults included), the bytes it read from disk,
/// and the user ids it summed.
pub fn cold(lab: &Lab, path: &Path, way: ColdWay, ids: &[usize]) -> anyhow::Result<Cold> {
    let before = disk_read_bytes();
    let (sum, sample) = match way {
        ColdWay::InPlace => {
            let map = lab.map(path)?;
            cache::advise(&map, Advice::Random)?; // no read-around: fetch only the page that faulted
            let recs = records(&map).map_err(|e| anyhow::anyhow!("cast: {e:?}"))?;
            probe(|| sum_in_place(recs, ids))
        }
        ColdWay::Pread => {
            let file = lab.open(path)?;
            let (sum, sample) = probe(|| sum_pread(&file, ids));
            (sum?, sample)
        }
    };
    let disk = before
        .zip(disk_read_bytes())
        .map(|(b, a)| a.saturating_sub(b));
    Ok(Cold {
        sample,
        disk,
        user_ids: sum.user_ids,
    })
}

/// What one cold run did.
pub struct Cold {
    pub sample: Sample,
    pub disk: Option<u64>,
    pub user_ids: i64,
}

/// Every cold run of each way: Rust in place, Rust `pread`, and the notes' Python.
#[derive(Default)]
pub struct ColdRows {
    pub in_place: Vec<Cold>,
    pub pread: Vec<Cold>,
    pub python: Vec<PyCold>,
}

/// For `lab.runs` rounds, each way looks up `ids` in a freshly evicted file, the ways
/// taking turns; the notes' Python too when `python` (it ran on the cached file).
pub fn cold_rounds(
    lab: &mut Lab,
    path: &Path,
    ids: &[usize],
    mut python: bool,
) -> anyhow::Result<ColdRows> {
    let mut args: Vec<OsString> = vec!["cold".into(), path.into()];
    args.extend(ids.iter().map(|id| OsString::from(id.to_string())));
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    let mut rows = ColdRows::default();
    for _ in 0..lab.runs {
        lab.make_cold(path)?;
        rows.in_place.push(cold(lab, path, ColdWay::InPlace, ids)?);
        lab.make_cold(path)?;
        rows.pread.push(cold(lab, path, ColdWay::Pread, ids)?);
        if python {
            lab.make_cold(path)?;
            match lab.python::<PyCold>("the notes' snippet on a cold file", PYTHON, &args) {
                Some(ran) => rows.python.push(ran.out),
                None => python = false,
            }
        }
    }
    Ok(rows)
}

/// Reads the records the notes' Python wrote into `path` in place, and says whether all
/// `count` of them are `Record::from_python`.
pub fn read_python_records(lab: &Lab, path: &Path, count: u64) -> anyhow::Result<bool> {
    let map = lab.map(path)?;
    let recs = records(&map).map_err(|e| anyhow::anyhow!("cast: {e:?}"))?;
    Ok(recs.len() as u64 == count
        && recs
            .iter()
            .zip(0..)
            .all(|(r, i)| *r == Record::from_python(i)))
}

/// What the notes' Python reported from the cached file and its scratch file.
#[derive(Debug, serde::Deserialize)]
pub struct PyWarm {
    /// `struct.calcsize("i d")` and `struct.calcsize("=id")`.
    pub calcsize: [u64; 2],
    /// The check ids read with the notes' code: user id and the bits of the balance.
    pub checked: Vec<(i32, u64)>,
    /// Of 64 records read with `"=id"` (12-byte stride), how many came out right.
    pub packed_right: u64,
    /// Seconds of each run: the notes' slice, `unpack_from`, `os.pread`.
    pub slice: Vec<f64>,
    pub unpack_from: Vec<f64>,
    pub pread: Vec<f64>,
    pub lookups: u64,
    pub pread_lookups: u64,
    /// The three ways summed the same records.
    pub agree: bool,
    /// `mm[a:b]` kept its bytes after the map changed; `memoryview(mm)[a:b]` saw it.
    pub slice_kept: bool,
    pub view_saw: bool,
    /// Records written into the scratch file.
    pub wrote: u64,
}

/// What the notes' Python reported from one cold run.
#[derive(Debug, serde::Deserialize)]
pub struct PyCold {
    pub secs: f64,
    pub major: u64,
    pub user_ids: i64,
}

/// The notes' own Python (section 8) with a harness around it. `warm PATH LOOKUPS RUNS
/// SCRATCH ID...`: the notes' snippet, `struct.unpack_from` and `os.pread` on the cached
/// file, the padding, the check ids read for Rust, records written into SCRATCH and a
/// slice and a memoryview watched while the map changes. `cold PATH ID...`: the notes'
/// snippet once per id on a freshly evicted file, with its major faults.
pub const PYTHON: &str = r#"
import json, mmap, os, random, resource, struct, sys, time

def notes(mm, ids):
    record_size = struct.calcsize("i d")
    total = 0
    for record_id in ids:
        offset = record_id * record_size

        record = mm[offset : offset + record_size]
        user_id, balance = struct.unpack("i d", record)
        total += user_id
    return total

def unpack_from(mm, ids):
    record_size, total = struct.calcsize("i d"), 0
    for record_id in ids:
        user_id, balance = struct.unpack_from("i d", mm, record_id * record_size)
        total += user_id
    return total

def pread(fd, ids):
    record_size, total = struct.calcsize("i d"), 0
    for record_id in ids:
        user_id, balance = struct.unpack("i d", os.pread(fd, record_size, record_id * record_size))
        total += user_id
    return total

majflt = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_majflt
mode, path = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    size = struct.calcsize("i d")
    if mode == "cold":
        ids = [int(a) for a in sys.argv[3:]]
        m, t = majflt(), time.perf_counter()
        total = notes(mm, ids)
        out = {"secs": time.perf_counter() - t, "major": majflt() - m, "user_ids": total}
    else:
        lookups, runs, scratch = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        check = [int(a) for a in sys.argv[6:]]
        bits = lambda x: struct.unpack("Q", struct.pack("d", x))[0]
        checked = [struct.unpack("i d", mm[i * size : (i + 1) * size]) for i in check]
        packed = struct.calcsize("=id")
        right = sum(struct.unpack_from("=id", mm, k * packed) == struct.unpack_from("i d", mm, k * size)
                    for k in range(1, 65))
        sum(mm[o] for o in range(0, len(mm), mmap.PAGESIZE))
        ids = random.Random(8).choices(range(len(mm) // size), k=lookups)
        few = ids[: max(1, lookups // 4)]
        ways = {"slice": lambda: notes(mm, ids), "unpack_from": lambda: unpack_from(mm, ids),
                "pread": lambda: pread(f.fileno(), few)}
        times, sums = {way: [] for way in ways}, {way: set() for way in ways}
        for _ in range(runs):
            for way, run in ways.items():
                t = time.perf_counter()
                sums[way].add(run())
                times[way].append(time.perf_counter() - t)
        agree = len(sums["slice"]) == 1 and sums["slice"] == sums["unpack_from"] \
            and sums["pread"] == {notes(mm, few)}
        with open(scratch, "r+b") as g:
            out_mm = mmap.mmap(g.fileno(), 0, access=mmap.ACCESS_WRITE)
            n = len(out_mm) // size
            for i in range(n):
                struct.pack_into("i d", out_mm, i * size, -7 * (i + 1), i * 1.5 + 0.25)
            record, view = out_mm[0:size], memoryview(out_mm)[0:size]
            before = bytes(view)
            out_mm[0:4] = struct.pack("i", 12345)
            slice_kept, view_saw = record == before, bytes(view) != before
            out_mm[0:size] = before
            view.release()
            out_mm.flush()
            out_mm.close()
        out = {"calcsize": [size, packed], "packed_right": right,
               "checked": [[u, bits(b)] for u, b in checked],
               "lookups": lookups, "pread_lookups": len(few), "agree": agree,
               "slice_kept": slice_kept, "view_saw": view_saw, "wrote": n, **times}
    mm.close()
print(json.dumps(out))
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misaligned_or_ragged_map_slice_is_refused() {
        let map = memmap2::MmapMut::map_anon(4 * RECORD).expect("an anonymous map");
        assert_eq!(
            records(&map[1..1 + RECORD]),
            Err(PodCastError::TargetAlignmentGreaterAndInputNotAligned)
        );
        assert_eq!(
            records(&map[..RECORD + 4]),
            Err(PodCastError::OutputSliceWouldHaveSlop)
        );
        assert_eq!(records(&map[RECORD..]).map(<[Record]>::len), Ok(3));
    }

    #[test]
    fn the_three_rust_ways_read_the_same_records() {
        let mut bytes = Vec::new();
        write_records(&mut bytes, 64 * RECORD as u64).unwrap();
        let map = {
            let mut m = memmap2::MmapMut::map_anon(bytes.len()).unwrap();
            m.copy_from_slice(&bytes);
            m.make_read_only().unwrap()
        };
        let ids = [0, 63, 7, 7, 31];
        let in_place = sum_in_place(records(&map).unwrap(), &ids);
        assert_eq!(in_place, sum_copied(&map, &ids));
        assert_eq!(records(&map).unwrap()[5], Record::at(5));
        assert_eq!(
            decode(&bytemuck::cast(Record::from_python(3))),
            Record::from_python(3)
        );
        assert_eq!(layout(), [16, 12, 8]);
    }

    #[test]
    fn cold_ids_fall_on_distinct_pages() {
        let per_page = cache::page_size() / RECORD;
        let ids = page_ids(4096 * per_page as u64, 256, 1);
        let pages: BTreeSet<usize> = ids.iter().map(|id| id / per_page).collect();
        assert_eq!((ids.len(), pages.len()), (256, 256));
        assert_eq!(page_ids(10 * per_page as u64, 256, 1).len(), 10);
    }
}
