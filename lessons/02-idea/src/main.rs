//! Lesson 2 · The idea of mmap: "don't copy the file into RAM — make it look like RAM".
//!
//! The notes make three claims. We map a sample file and check each one:
//! - [2.vm] the file is bound to virtual memory: the address space grows by the file's size
//!   the moment it is mapped, while resident memory does not;
//! - [2.os-loads] the OS loads whichever page is needed: after evicting the file, touching
//!   a few pages makes those pages (and some neighbours, by readahead) resident, with page
//!   faults and without a single `read()` call of ours;
//! - [2.bytes] the map is used as an ordinary byte array: index, slice, iterate and search a
//!   `&[u8]`, and get the same bytes `fs::read` returns.

use std::fs::File;
use std::process::ExitCode;

use anyhow::Context;
use memmap2::Mmap;
use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::{probe, status};
use mmap_lab::{Lab, Lesson, Report, Unit, Verdict, cache, size};

const LESSON: Lesson = Lesson {
    number: 2,
    title: "The idea of mmap",
    about: "Maps a sample file and shows that it occupies address space at once but memory \
            only where it is touched, that the kernel (not the program) loads the pages, and \
            that the map is an ordinary &[u8].",
    default_size: 256 << 20,
};

/// Pages touched for [2.os-loads]: few enough to be a small part of any sample.
const TOUCHES: usize = 8;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<Report> {
    let page = cache::page_size();
    lab.require_size((TOUCHES * 64 * page) as u64)?;
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    let mut report = lab.report();
    let size = lab.size as f64;
    report.measure("file.size", "sample file size", size, Unit::Bytes);

    // Make the file cold, so that every resident page below was loaded during this run.
    let left = lab.make_cold(&path)?;
    report.measure(
        "evict.resident",
        "resident after eviction",
        left.fraction(),
        Unit::Fraction,
    );

    // ANCHOR: map
    let file = File::open(&path).with_context(|| format!("open {}", path.display()))?;
    let before = status();
    // SAFETY: the file is this lesson's own sample in its data directory; nothing truncates
    // or writes it while it is mapped.
    let map = unsafe { Mmap::map(&file) }.context("mmap")?;
    let after = status();
    // ANCHOR_END: map

    // [2.vm] Virtual size grows by the file size, resident size does not.
    if let (Some(b), Some(a)) = (before, after) {
        let virt = report.measure(
            "map.virt_growth",
            "address space added by mmap",
            a.virt.saturating_sub(b.virt) as f64,
            Unit::Bytes,
        );
        let rss = report.measure(
            "map.rss_growth",
            "resident memory added by mmap",
            a.rss.saturating_sub(b.rss) as f64,
            Unit::Bytes,
        );
        let resident = cache::residency(&map)?;
        let res = report.measure(
            "map.resident",
            "pages of the file in RAM right after mmap",
            resident.fraction(),
            Unit::Fraction,
        );
        let holds = virt >= size && rss < size / 100.0 && res < 0.05;
        report.claim(
            "2.vm",
            Verdict::holds_if(holds),
            format!(
                "mapping added {} of address space but {} of resident memory; {} of the \
                 file was in RAM",
                size::fmt_f64(virt),
                size::fmt_f64(rss),
                Unit::Fraction.format(res)
            ),
            &[
                "file.size",
                "map.virt_growth",
                "map.rss_growth",
                "map.resident",
            ],
        );
    } else {
        report.claim(
            "2.vm",
            Verdict::NotMeasured,
            "this platform has no /proc/self/status to read virtual and resident size from",
            &[],
        );
    }

    // [2.os-loads] Touch a few pages spread over the file; the kernel loads them.
    // ANCHOR: touch
    let stride = map.len() / TOUCHES;
    let (sum, touched) = probe(|| {
        (0..TOUCHES)
            .map(|i| u64::from(map[i * stride]))
            .sum::<u64>()
    });
    // ANCHOR_END: touch
    let resident = cache::residency(&map)?;
    let faults = report.measure(
        "touch.faults",
        &format!("page faults while reading {TOUCHES} bytes"),
        touched.faults() as f64,
        Unit::Count,
    );
    let pages = report.measure(
        "touch.resident_pages",
        "pages resident after those reads",
        resident.resident as f64,
        Unit::Pages,
    );
    report.measure(
        "touch.time",
        "time of those reads",
        touched.wall.as_secs_f64(),
        Unit::Seconds,
    );
    let readahead = lab
        .machine
        .read_ahead_kb
        .map_or("unknown".to_string(), |kb| size::fmt(kb * 1024));
    // With a file no bigger than a few readahead windows, the first faults bring in all
    // of it: then the count says "the whole file", not "pages per touch".
    let per_touch = if resident.resident >= resident.pages {
        format!(
            "readahead brought in the whole file (read_ahead_kb on this disk: {readahead}; a \
             larger --size shows how much one touch loads)"
        )
    } else {
        format!(
            "{:.0} pages per touch is readahead (read_ahead_kb on this disk: {readahead})",
            pages / TOUCHES as f64
        )
    };
    report.claim(
        "2.os-loads",
        Verdict::holds_if(faults >= 1.0 && pages >= TOUCHES as f64),
        format!(
            "{TOUCHES} reads of mapped bytes caused {faults} page faults, and the kernel \
             brought {pages} pages ({}) into RAM without one read() call of ours; {per_touch}",
            size::fmt(resident.resident_bytes()),
        ),
        &["touch.faults", "touch.resident_pages", "touch.time"],
    );

    // [2.bytes] The map is a &[u8]: everything a byte slice does works on it.
    // ANCHOR: bytes
    let bytes: &[u8] = &map;
    let zeros = bytes.iter().filter(|&&b| b == 0).count();
    let middle = bytes.len() / 2;
    let needle = &bytes[middle..middle + 8];
    let found = memchr::memmem::find(bytes, needle);
    // ANCHOR_END: bytes
    let (copy, read) = probe(|| std::fs::read(&path));
    let copy = copy.with_context(|| format!("read {}", path.display()))?;
    let equal = copy.as_slice() == bytes;
    report.measure(
        "bytes.zero_count",
        "zero bytes counted by iterating the map",
        zeros as f64,
        Unit::Count,
    );
    let found_at = report.measure(
        "bytes.found_at",
        "memmem: where the 8 bytes from the middle were found",
        found.map_or(-1.0, |at| at as f64),
        Unit::Count,
    );
    report.measure(
        "bytes.read_time",
        "fs::read of the same file, for comparison",
        read.wall.as_secs_f64(),
        Unit::Seconds,
    );
    let same = report.measure(
        "bytes.equal",
        "map == fs::read (1 = equal)",
        f64::from(u8::from(equal)),
        Unit::Count,
    );
    let searched = found_at <= middle as f64 && found_at >= 0.0;
    report.claim(
        "2.bytes",
        Verdict::holds_if(same == 1.0 && searched),
        format!(
            "the map {} the bytes fs::read returns, compared as two &[u8]; iterating it \
             counted {zeros} zero bytes, and memmem {} the 8 bytes taken from offset {middle}",
            if equal {
                "holds exactly"
            } else {
                "DIFFERS from"
            },
            match found {
                Some(at) if at == middle => "found".to_string(),
                Some(at) => format!("found an earlier copy of, at {at},"),
                None => "did NOT find".to_string(),
            }
        ),
        &[
            "bytes.equal",
            "bytes.found_at",
            "bytes.zero_count",
            "bytes.read_time",
        ],
    );
    std::hint::black_box(sum);

    report.try_next("just lesson 2 --size 4G   (address space grows by 4 GiB, RAM does not)");
    report.try_next("just lesson 3   (lazy loading, readahead and eviction in detail)");
    Ok(report)
}
