//! Lesson 4's experiments: the notes' snippet in Python and Rust, the edges of "length 0",
//! and a slice of a cold map in both languages. The verdicts are in `verdicts.rs`.

use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use memmap2::{Mmap, MmapOptions};
use mmap_lab::measure::{Status, disk_read_bytes, probe, status};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction};
use mmap_lab::{Lab, cache::residency, data::write_log};
use serde::Deserialize;

use crate::verdicts::Slice;

/// The notes' snippet, line for line, with the path from argv instead of "data.bin"; lines
/// marked `# +` are ours: they keep what it prints, and try the call on an empty file.
pub const PY_SNIPPET: &str = r#"import mmap
import ast, io, json, os, sys  # +

sys.stdout, shown = io.StringIO(), sys.stdout  # + keep what the snippet prints
with open(sys.argv[1], "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    print(mm[:100])   # the first 100 bytes
    print(mm.find(b"magic"))

    map_len, file_len = len(mm), os.fstat(f.fileno()).st_size  # +
    mm.close()
printed, sys.stdout = sys.stdout.getvalue().splitlines(), shown  # +
with open(sys.argv[2], "rb") as f:  # + the same call on an empty file
    try:  # +
        mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ).close()  # +
        empty_error = None  # +
    except ValueError as e:  # +
        empty_error = str(e)  # +
print(json.dumps(dict(first=list(ast.literal_eval(printed[0])),  # +
    found=int(printed[1]), map_len=map_len, file_len=file_len, empty_error=empty_error)))  # +
"#;

/// What the snippet printed (`print(mm[:100])`, `print(mm.find(b"magic"))`) and ours added.
#[derive(Debug, Deserialize)]
pub struct PySnippet {
    pub first: Vec<u8>,
    pub found: i64,
    pub map_len: u64,
    pub file_len: u64,
    pub empty_error: Option<String>,
}

// ANCHOR: python_slice
/// What `memoryview(mm)[a:b]` and the notes' `mm[a:b]` allocate (tracemalloc).
pub const PY_SLICE: &str = r#"import json, mmap, sys, tracemalloc

path, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    tracemalloc.start()
    view = memoryview(mm)[a:b]  # a view into the map
    view_alloc = tracemalloc.get_traced_memory()[0]
    data = mm[a:b]  # the notes' slice
    slice_alloc = tracemalloc.get_traced_memory()[0] - view_alloc
    kind = type(data).__name__
    print(json.dumps(dict(view_alloc=view_alloc, slice_alloc=slice_alloc, kind=kind)))
    view.release()
    mm.close()
"#;
// ANCHOR_END: python_slice

/// [`PY_SLICE`]'s result: bytes allocated, and the slice's type.
#[derive(Debug, Deserialize)]
pub struct PySlice {
    pub view_alloc: f64,
    pub slice_alloc: f64,
    pub kind: String,
}

/// Where the generator puts `magic`: 7/8 of the way into the file, at the start of a line.
pub fn magic_offset(size: u64) -> u64 {
    size - size / 8
}

/// Log lines with one line holding `magic`, at [`magic_offset`].
pub fn fill_log_with_magic(out: &mut dyn Write, size: u64) -> io::Result<()> {
    const LINE: &[u8] = b"magic: the needle the notes search for\n";
    let at = magic_offset(size);
    write_log(out, at, 4)?;
    out.write_all(LINE)?;
    write_log(out, size - at - LINE.len() as u64, 5)
}

/// The notes' snippet in Rust: the first 100 bytes, where `magic` is, the map's length.
pub fn snippet(lab: &Lab, path: &Path) -> anyhow::Result<(Vec<u8>, Option<usize>, usize)> {
    // ANCHOR: snippet
    let mm = lab.map(path)?; // no length: the whole file, like Python's 0
    let first = mm[..mm.len().min(100)].to_vec(); // the first 100 bytes
    let found = memchr::memmem::find(&mm, b"magic");
    // ANCHOR_END: snippet
    Ok((first, found, mm.len()))
}

/// memmap2 at the edges: an empty file's map and an explicit `len(0)`; `None` where it refused.
pub fn edges(lab: &Lab, sample: &Path, empty: &Path) -> anyhow::Result<[Option<Mmap>; 2]> {
    let file = lab.open(sample)?;
    // ANCHOR: zero
    let empty_map = lab.map(empty); // Python raises ValueError here
    // SAFETY: the sample is a data file mmap-lab made and never writes in place (see
    // `Lab::map`); an explicit length, which `Lab::map` cannot pass, is what is tested.
    let len_zero = unsafe { MmapOptions::new().len(0).map(&file) };
    // ANCHOR_END: zero
    Ok([empty_map.ok(), len_zero.ok()])
}

/// [4.slice] on `range` of the sample, each on a freshly evicted file: a Rust slice read
/// through and copied; then, with `py`, the notes' `mm[a:b]` and a memoryview.
pub fn slice(lab: &mut Lab, path: &Path, range: Range<usize>, py: bool) -> anyhow::Result<Slice> {
    lab.make_cold(path)?;
    let map = lab.map(path)?;
    // ANCHOR: slice
    let slice = &map[range.clone()]; // a view: a pointer and a length, nothing read
    let before = residency(slice)?.fraction();
    let (mem0, disk0) = (status(), disk_read_bytes());
    let (_, cold) = probe(|| memchr::memchr_iter(b'\n', slice).count()); // faults pages in
    let (mem1, disk1) = (status(), disk_read_bytes());
    let after = residency(slice)?.fraction();
    let (_, copy) = probe(|| slice.to_vec()); // a copy: new memory of the slice's length
    // ANCHOR_END: slice
    drop(map);
    let delta = |a: Option<u64>, b: Option<u64>| Some(Bytes::of(b?.saturating_sub(a?)));
    let disk2 = disk_read_bytes(); // warm, through a fresh map
    std::hint::black_box(memchr::memchr_iter(b'\n', &lab.map(path)?[range.clone()]).count());
    let warm_disk = delta(disk2, disk_read_bytes());
    let py = if py {
        lab.make_cold(path)?;
        let map = lab.map(path)?;
        let resident = || residency(&map[range.clone()]).map(|r| r.fraction());
        let before = resident()?;
        let (a, b) = (range.start.to_string(), range.end.to_string());
        let args = [path.as_os_str(), a.as_ref(), b.as_ref()];
        let ran = lab.python::<PySlice>("the Python slices mm[a:b]", PY_SLICE, &args);
        let after = resident()?;
        ran.map(|r| (r.out, Fraction(before), Fraction(after)))
    } else {
        None
    };
    let grew = |f: fn(&Status) -> u64| Some(Bytes::of(f(&mem1?).saturating_sub(f(&mem0?))));
    Ok(Slice {
        len: Bytes::of(range.len() as u64),
        py_alloc: py.as_ref().map(|p| Bytes(p.0.slice_alloc)),
        py_is_bytes: py.as_ref().map(|p| Flag(p.0.kind == "bytes")),
        py_resident_before: py.as_ref().map(|p| p.1),
        py_resident_after: py.as_ref().map(|p| p.2),
        py_view_alloc: py.as_ref().map(|p| Bytes(p.0.view_alloc)),
        resident_before: Fraction(before),
        resident_after: Fraction(after),
        rss_file: grew(|s| s.rss_file),
        rss_anon: grew(|s| s.rss_anon),
        to_vec_rss: copy.rss_growth().map(Bytes::of),
        cold_disk: delta(disk0, disk1),
        cold_faults: Count::of(cold.faults()),
        warm_disk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the notes' snippet is in the script we run, except the file name,
    /// which comes from argv.
    #[test]
    fn the_python_snippet_is_the_notes_snippet() {
        let notes = include_str!("../../../notes/mmap-notes.en.md");
        let section = &notes[notes.find("## 4.").unwrap()..];
        let code = &section[section.find("```python\n").unwrap() + 10..];
        let code = &code[..code.find("```").unwrap()];
        let ours: Vec<&str> = PY_SNIPPET.lines().collect();
        for line in code.lines().filter(|l| !l.trim().is_empty()) {
            let line = line.replace("\"data.bin\"", "sys.argv[1]");
            assert!(
                ours.contains(&line.as_str()),
                "missing from PY_SNIPPET: {line}"
            );
        }
    }

    #[test]
    fn magic_sits_where_the_generator_says() {
        let mut out = Vec::new();
        fill_log_with_magic(&mut out, 1 << 20).unwrap();
        assert_eq!(out.len(), 1 << 20);
        let at = memchr::memmem::find(&out, b"magic");
        assert_eq!(at, Some(magic_offset(1 << 20) as usize));
    }
}
