//! Lesson 4 · A minimal mmap example: the notes' eight lines of Python, in Rust and in Python.
//!
//! The snippet runs as written (when `python3` is installed) beside its Rust twin; both claims
//! are about the notes' Python, NOT MEASURED without it. [4.zero] `0` maps the whole file, but
//! an empty file raises (memmap2 maps it to 0 bytes). [4.slice] `mm[a:b]` is a copy read from
//! disk; `memoryview(mm)[a:b]` and a Rust `&map[a..b]` are views, and read uncached pages.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Flag};
use mmap_lab::{Lab, Lesson, cache};

use experiments::{PY_SNIPPET, PySnippet};
use verdicts::Zero;

const LESSON: Lesson = Lesson {
    number: 4,
    title: "A minimal mmap example",
    about: "Runs the notes' Python snippet beside its Rust twin: does length 0 map the whole \
            file (an empty one too), and is a slice of a map a view that reads no disk?",
    default_size: 128 << 20,
};

/// The largest slice [4.slice] takes: enough to see megabytes move, small for any RAM.
const SLICE_MAX: u64 = 32 << 20;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    if !mmap_lab::measure::fresh_big_allocations() {
        lab.note("this C library may serve to_vec() from resident heap: its RSS can read low");
    }
    let page = cache::page_size() as u64;
    lab.require_size(256 * page)?;
    let content = Content::Custom {
        tag: "log-magic-1",
        fill: experiments::fill_log_with_magic,
    };
    let path = lab.file(Spec::new("log-magic", lab.size, content))?;
    let empty = lab.file(Spec::new("empty", 0, Content::Sparse))?;

    // [4.zero] "`0` → the whole file": the notes' snippet in Rust and in Python, and the edges.
    let (first, found, map_len) = experiments::snippet(lab, &path)?;
    lab.note(format!("the first 100 bytes: b'{}'", first.escape_ascii()));
    let args = [path.as_os_str(), empty.as_os_str()];
    let py = lab.python::<PySnippet>("the notes' snippet", PY_SNIPPET, &args);
    let [empty_map, len0_map] = experiments::edges(lab, &path, &empty)?;
    let zero = Zero {
        file: Bytes::of(lab.size),
        magic_at: Count::of(experiments::magic_offset(lab.size)),
        py_map_len: py.as_ref().map(|p| Bytes::of(p.out.map_len)),
        py_file_len: py.as_ref().map(|p| Bytes::of(p.out.file_len)),
        py_found: py.as_ref().map(|p| Count(p.out.found as f64)),
        py_first_same: py.as_ref().map(|p| Flag(p.out.first == first)),
        py_empty_raised: py.as_ref().map(|p| Flag(p.out.empty_error.is_some())),
        rust_map_len: Bytes::of(map_len as u64),
        rust_found: Count(found.map_or(-1.0, |at| at as f64)),
        rust_empty_len: empty_map.map(|m| Bytes::of(m.len() as u64)),
        rust_len0: len0_map.map(|m| Bytes::of(m.len() as u64)),
    };
    lab.check("4.zero", verdicts::zero, &zero);

    // [4.slice] "slicing → not disk, a memory view": whole pages a quarter of the way in.
    let a = (lab.size / 4) / page * page;
    let len = (lab.size / 2).min(SLICE_MAX) / page * page;
    let slice = experiments::slice(lab, &path, a as usize..(a + len) as usize, py.is_some());
    lab.check_if("4.slice", verdicts::slice, slice)?;

    lab.try_next("just lesson 8   (mmap + struct: reading records without the copy)");
    Ok(())
}
