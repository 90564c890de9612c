//! Lesson 4's findings and pure judges, tested with the reference machine's numbers and
//! numbers moved across each boundary. Both claims are about the notes' Python.

use mmap_lab::Verdict::{Depends, Fails, Holds, NotMeasured};
use mmap_lab::judge::or_missing;
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction};
use mmap_lab::{Judgement, findings};

/// A Python slice that allocates at least this share of its length holds a copy of it.
pub const COPY_SHARE: f64 = 0.9;
/// Under this share of the slice's length, an allocation is an object, not a copy.
pub const VIEW_SHARE: f64 = 0.01;
/// Under this share of a slice's pages in RAM, none were read; over `1 -` it, all were.
pub const NONE_READ: f64 = 0.1;

findings! {
    /// [4.zero] Python's `mmap.mmap(f.fileno(), 0)`, memmap2's no length, and the edges.
    pub struct Zero {
        file: Bytes = "sample file size",
        magic_at: Count = "where the generator put `magic` (7/8 of the way in)",
        [key] py_map_len: Option<Bytes> = "Python: len(mm) of mmap.mmap(f.fileno(), 0)",
        py_file_len: Option<Bytes> = "Python: os.fstat(f).st_size",
        [key] py_found: Option<Count> = "Python: mm.find(b\"magic\") (-1: not found)",
        py_first_same: Option<Flag> = "Python's print(mm[:100]) showed Rust's first 100 bytes",
        [key] py_empty_raised: Option<Flag> = "Python: mapping an empty file raised ValueError",
        rust_map_len: Bytes = "Rust: Mmap::map (no length), map length",
        rust_found: Count = "Rust: memmem::find(&map, b\"magic\") (-1: not found)",
        rust_empty_len: Option<Bytes> = "Rust: Mmap::map of an empty file, map length",
        rust_len0: Option<Bytes> = "Rust: MmapOptions::len(0) on the sample, map length",
    }
}

/// [4.zero] In the notes' Python, `0` maps the whole file: the map is as long as the file
/// and `find` reaches `magic` near its end. An empty file raising makes it depend.
pub fn zero(f: &Zero) -> Judgement {
    let err = |b: Option<Bytes>| or_missing(b, "an error");
    let (empty, len0) = (err(f.rust_empty_len), err(f.rust_len0));
    let rust = format!(
        "memmap2: no length mapped {} and found `magic` at {}; an empty file mapped to {empty}, \
         an explicit len(0) to {len0}",
        f.rust_map_len, f.rust_found
    );
    let (Some(len), Some(found), Some(raised)) = (f.py_map_len, f.py_found, f.py_empty_raised)
    else {
        let headline = "the claim is about the notes' Python mmap.mmap(fd, 0): it did not run here";
        return Judgement::new(NotMeasured).headline(headline).detail(rust);
    };
    let (file, magic_at) = (f.file, f.magic_at);
    let whole = len == file && f.py_file_len == Some(file) && found == magic_at;
    let (verdict, but) = match (whole, raised.0) {
        (false, _) => (Fails, "not the whole file"),
        (true, true) => (Depends, "but an empty file raised ValueError"),
        (true, false) => (Holds, "an empty file mapped too"),
    };
    let py_file = or_missing(f.py_file_len, "?");
    let same = or_missing(f.py_first_same, "not compared");
    Judgement::new(verdict)
        .headline(format_args!(
            "`0` mapped {len} of a {file} file in Python and find reached {found}, {but}"
        ))
        .detail(format_args!(
            "Python: len(mm) = {len} for a file of {py_file} (os.fstat); mm.find(b\"magic\") = \
             {found}, put at {magic_at}; print(mm[:100]) showed Rust's first 100 bytes: {same}"
        ))
        .detail(rust)
}

findings! {
    /// [4.slice] A slice of a freshly evicted map: the notes' Python `mm[a:b]`, Python's
    /// `memoryview(mm)[a:b]`, and a Rust `&map[a..b]`.
    pub struct Slice {
        len: Bytes = "the slice's length (a quarter of the way in)",
        [key] py_alloc: Option<Bytes> = "Python: allocated by mm[a:b] (tracemalloc)",
        py_is_bytes: Option<Flag> = "Python: mm[a:b] is a new bytes object",
        py_resident_before: Option<Fraction> = "Python: slice pages in RAM before the script",
        py_resident_after: Option<Fraction> = "Python: slice pages in RAM after mm[a:b]",
        [key] py_view_alloc: Option<Bytes> = "Python: allocated by memoryview(mm)[a:b]",
        resident_before: Fraction = "Rust: slice pages in RAM after &map[a..b] (cold)",
        resident_after: Fraction = "Rust: slice pages in RAM after reading through it",
        rss_file: Option<Bytes> = "Rust: file-backed RSS added by reading through the slice",
        rss_anon: Option<Bytes> = "Rust: anonymous RSS added by reading through the slice",
        to_vec_rss: Option<Bytes> = "Rust: RSS added by slice.to_vec() (a copy)",
        [key] cold_disk: Option<Bytes> = "Rust: read from disk reading the cold slice",
        cold_faults: Count = "Rust: page faults reading the cold slice",
        warm_disk: Option<Bytes> = "Rust: read from disk reading it warm (fresh map)",
    }
}

/// [4.slice] Slicing the notes' map gives a memory view that reads no disk. It fails when
/// Python's `mm[a:b]` copies; where it does not, "not disk" depends on the page cache.
pub fn slice(f: &Slice) -> Judgement {
    let (size, len, all) = (f.len, f.len.0, 1.0 - NONE_READ);
    // A view: slicing the cold map read none of its pages, reading it mapped them (not a copy).
    let rust_view = f.resident_before.0 < NONE_READ
        && f.resident_after.0 > all
        && f.rss_file.is_none_or(|b| b.0 >= all * len)
        && f.rss_anon.is_none_or(|b| b.0 < VIEW_SHARE * len);
    // The view read the disk: by /proc/self/io, else by its pages becoming resident.
    let grew = f.resident_after.0 - f.resident_before.0 > 0.5;
    let verdict = match f.py_alloc {
        None => NotMeasured,
        Some(a) if a.0 >= COPY_SHARE * len => Fails,
        Some(_) if f.cold_disk.map_or(grew, |d| d.0 > 0.0) => Depends,
        Some(_) => Holds,
    };
    let view = if rust_view { "a view" } else { "not a view" };
    let py_view = f.py_view_alloc.is_some_and(|v| v.0 < VIEW_SHARE * len);
    let fix = match (rust_view, py_view) {
        (true, true) => "a Rust &map[a..b] and memoryview(mm)[a:b] are views",
        (true, false) => "a Rust &map[a..b] is a view",
        (false, true) => "memoryview(mm)[a:b] is a view",
        (false, false) => "no view was found here either",
    };
    let q = |v: Option<Bytes>| or_missing(v, "?");
    let (alloc, view_alloc) = (f.py_alloc.unwrap_or_default(), q(f.py_view_alloc));
    let read = match (f.py_resident_before, f.py_resident_after) {
        (Some(b), Some(a)) if a.0 - b.0 > 0.5 => format!(", read from disk ({b} → {a})"),
        _ => String::new(),
    };
    let b = or_missing(f.py_resident_before, "?");
    let e = or_missing(f.py_resident_after, "?");
    let (file, anon, copy) = (q(f.rss_file), q(f.rss_anon), q(f.to_vec_rss));
    let (cold, warm, faults) = (q(f.cold_disk), q(f.warm_disk), f.cold_faults);
    let past = f.cold_disk.is_some_and(|d| d.0 > len);
    let more = if past { " (more: readahead)" } else { "" };
    let is_bytes = or_missing(f.py_is_bytes, "?");
    let py = format!(
        "Python, on the evicted file: mm[a:b] allocated {alloc} for a {size} slice (a new \
         bytes object: {is_bytes}), its pages in RAM {b} → {e}; memoryview(mm)[a:b] allocated \
         {view_alloc}"
    );
    Judgement::new(verdict)
        .headline(match verdict {
            NotMeasured => format!("the Python slice did not run; &map[a..b] was {view} (details)"),
            Fails => format!("the notes' mm[a:b] is a copy: {alloc} allocated{read}; {fix}"),
            Depends => format!("mm[a:b] is no copy; a view reads disk unless cached ({cold} cold)"),
            _ => format!("mm[a:b] allocated only {alloc}; a view of a cold map read no disk"),
        })
        .detail_if(f.py_alloc.is_some(), py)
        .detail(format_args!(
            "Rust: &map[a..b] of the evicted map was {view}: {} of its pages in RAM after \
             slicing, {} after reading through it, which added {file} of file-backed and \
             {anon} of anonymous RSS; slice.to_vec() added {copy}; reading it cold read {cold} \
             from disk{more} with {faults} page faults, warm (a fresh map) {warm}",
            f.resident_before, f.resident_after
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    const MIB: f64 = 1048576.0;

    /// The reference machine: a 128 MiB sample, `magic` at 117,440,512.
    fn zero_reference() -> Zero {
        Zero {
            file: Bytes(128.0 * MIB),
            magic_at: Count(117440512.0),
            py_map_len: Some(Bytes(128.0 * MIB)),
            py_file_len: Some(Bytes(128.0 * MIB)),
            py_found: Some(Count(117440512.0)),
            py_first_same: Some(Flag(true)),
            py_empty_raised: Some(Flag(true)),
            rust_map_len: Bytes(128.0 * MIB),
            rust_found: Count(117440512.0),
            rust_empty_len: Some(Bytes(0.0)),
            rust_len0: Some(Bytes(0.0)),
        }
    }

    /// The reference machine: a 32 MiB slice of the evicted 128 MiB sample.
    fn slice_reference() -> Slice {
        Slice {
            len: Bytes(32.0 * MIB),
            py_alloc: Some(Bytes(33554465.0)),
            py_is_bytes: Some(Flag(true)),
            py_resident_before: Some(Fraction(0.0)),
            py_resident_after: Some(Fraction(1.0)),
            py_view_alloc: Some(Bytes(344.0)),
            resident_before: Fraction(0.0),
            resident_after: Fraction(1.0),
            rss_file: Some(Bytes(32.0 * MIB)),
            rss_anon: Some(Bytes(0.0)),
            to_vec_rss: Some(Bytes(33558528.0)),
            cold_disk: Some(Bytes(48.0 * MIB)),
            cold_faults: Count(359.0),
            warm_disk: Some(Bytes(0.0)),
        }
    }

    #[test]
    fn zero_depends_on_the_reference_because_an_empty_file_raises() {
        let r = zero_reference();
        assert_eq!(verdict(zero, &r), Depends);
        assert!(
            zero(&r)
                .headline
                .ends_with("but an empty file raised ValueError")
        );
        let maps_empty = Zero {
            py_empty_raised: Some(Flag(false)),
            ..r.clone()
        };
        assert_eq!(verdict(zero, &maps_empty), Holds);
        let short = Zero {
            py_map_len: Some(Bytes(128.0 * MIB - 4096.0)),
            ..r
        };
        assert_eq!(verdict(zero, &short), Fails);
        let missed = Zero {
            py_found: Some(Count(-1.0)),
            ..maps_empty.clone()
        };
        assert_eq!(verdict(zero, &missed), Fails);
        let other_size = Zero {
            py_file_len: Some(Bytes(64.0 * MIB)),
            ..maps_empty
        };
        assert_eq!(verdict(zero, &other_size), Fails);
    }

    #[test]
    fn zero_is_not_measured_without_the_notes_python_even_when_rust_maps_the_whole_file() {
        let r = zero_reference();
        let no_python = Zero {
            py_map_len: None,
            py_file_len: None,
            py_found: None,
            py_first_same: None,
            py_empty_raised: None,
            ..r.clone()
        };
        assert_eq!(verdict(zero, &no_python), NotMeasured);
        let j = zero(&no_python);
        assert!(j.headline.contains("the notes' Python"), "{}", j.headline);
        // The Rust twin's numbers are still there, in the details.
        assert!(
            j.details[0].contains("no length mapped 128 MiB"),
            "{}",
            j.details[0]
        );
        // Whatever the Rust twin shows, the claim stays unmeasured.
        let rust_short = Zero {
            rust_map_len: Bytes(MIB),
            ..no_python
        };
        assert_eq!(verdict(zero, &rust_short), NotMeasured);
    }

    #[test]
    fn slice_fails_on_the_reference_because_mm_slice_copies() {
        let r = slice_reference();
        assert_eq!(verdict(slice, &r), Fails);
        let j = slice(&r);
        assert!(
            j.headline
                .contains("allocated, read from disk (0 % → 100 %)"),
            "{}",
            j.headline
        );
        assert!(
            j.headline
                .ends_with("&map[a..b] and memoryview(mm)[a:b] are views")
        );
        // At the copy boundary: 90 % of the slice is a copy, just under it is not.
        let at = Slice {
            py_alloc: Some(Bytes(0.9 * 32.0 * MIB)),
            ..r.clone()
        };
        assert_eq!(verdict(slice, &at), Fails);
        let under = Slice {
            py_alloc: Some(Bytes(0.89 * 32.0 * MIB)),
            ..r.clone()
        };
        assert_eq!(verdict(slice, &under), Depends);
        // Without a view anywhere, the headline says so.
        let anon = Some(Bytes(32.0 * MIB));
        let no_view = Slice {
            rss_anon: anon,
            py_view_alloc: Some(Bytes(MIB)),
            ..r
        };
        assert!(
            slice(&no_view)
                .headline
                .ends_with("no view was found here either")
        );
    }

    #[test]
    fn where_mm_slice_is_a_view_not_disk_depends_on_the_page_cache() {
        let view = Slice {
            py_alloc: Some(Bytes(344.0)),
            ..slice_reference()
        };
        assert_eq!(verdict(slice, &view), Depends);
        let cached = Slice {
            cold_disk: Some(Bytes(0.0)),
            ..view.clone()
        };
        assert_eq!(verdict(slice, &cached), Holds);
        // Without /proc/self/io, the pages becoming resident decide.
        let uncounted = Slice {
            cold_disk: None,
            ..view.clone()
        };
        assert_eq!(verdict(slice, &uncounted), Depends);
        let stayed = Slice {
            cold_disk: None,
            resident_after: Fraction(0.4),
            ..view
        };
        assert_eq!(verdict(slice, &stayed), Holds);
    }

    #[test]
    fn slice_is_not_measured_without_the_notes_python_whatever_rust_shows() {
        let no_python = Slice {
            py_alloc: None,
            py_is_bytes: None,
            py_resident_before: None,
            py_resident_after: None,
            py_view_alloc: None,
            ..slice_reference()
        };
        assert_eq!(verdict(slice, &no_python), NotMeasured);
        assert!(
            slice(&no_python)
                .headline
                .ends_with("&map[a..b] was a view (details)")
        );
        let cached = Slice {
            cold_disk: Some(Bytes(0.0)),
            ..no_python.clone()
        };
        assert_eq!(verdict(slice, &cached), NotMeasured);
        let copied = Slice {
            rss_anon: Some(Bytes(32.0 * MIB)),
            ..no_python
        };
        assert!(
            slice(&copied)
                .headline
                .contains("&map[a..b] was not a view")
        );
    }
}
