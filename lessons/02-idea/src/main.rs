//! Lesson 2 · The idea of mmap: "don't copy the file into RAM — make it look like RAM".
//!
//! The notes make three claims. We map a sample file and check each one:
//! - [2.vm] the file is bound to virtual memory: the address space grows by the file's size
//!   the moment it is mapped, while resident memory does not;
//! - [2.os-loads] the OS loads whichever page is needed: after evicting the file, touching
//!   a few bytes makes their pages (and, by readahead, neighbours) resident, with page
//!   faults and without a single `read()` call of ours;
//! - [2.bytes] the map is used as an ordinary byte array: index, slice, iterate and search a
//!   `&[u8]`, and get the same bytes `fs::read` returns.

mod experiments;
mod verdicts;

use std::process::ExitCode;

use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::quantity::{Bytes, Count, Flag, Pages, Secs};
use mmap_lab::{Lab, Lesson, cache, not_measured};

use verdicts::{AsSlice, OsLoads, Vm};

const LESSON: Lesson = Lesson {
    number: 2,
    title: "The idea of mmap",
    about: "Maps a sample file and shows that it occupies address space at once but memory \
            only where it is touched, that the kernel (not the program) loads the pages, and \
            that the map is an ordinary &[u8].",
    default_size: 256 << 20,
};

/// Bytes read for [2.os-loads], one per stretch of the file: a small part of any sample.
const TOUCHES: usize = 8;

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size((TOUCHES * 64 * cache::page_size()) as u64)?;
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 1 }))?;
    // Cold first, so that every page resident below was loaded during this run. Where the
    // file cannot be made cold, [2.os-loads] is not measured; the other claims still are.
    let cold = lab.make_cold(&path);

    // [2.vm] "mmap binds the file to virtual memory"
    let mapped = experiments::map_and_watch(lab, &path)?;
    let vm = mapped
        .status
        .map(|(before, after)| Vm {
            file: Bytes::of(lab.size),
            virt_growth: Bytes::of(after.virt.saturating_sub(before.virt)),
            rss_growth: Bytes::of(after.rss.saturating_sub(before.rss)),
        })
        .ok_or_else(|| not_measured("this platform has no /proc/self/status to read sizes from"));
    lab.check_if("2.vm", verdicts::vm, vm)?;

    // [2.os-loads] "the OS loads whichever page is needed"
    let loads = cold.and_then(|_| {
        let t = experiments::touch(&mapped.map, TOUCHES)?;
        Ok(OsLoads {
            touches: Count::of(TOUCHES),
            touched_resident: Count::of(t.touched_resident),
            faults: Count::of(t.sample.faults()),
            resident: Pages::of(t.resident.resident),
            read_ahead: lab.machine.read_ahead_kb.map(|kb| Bytes::of(kb * 1024)),
            time: Secs::of(t.sample.wall),
        })
    });
    lab.check_if("2.os-loads", verdicts::os_loads, loads)?;

    // [2.bytes] "the map is used as an ordinary byte array"
    let ops = experiments::byte_ops(&mapped.map, &path)?;
    let slice = AsSlice {
        equal: Flag(ops.equal),
        in_place: Flag(ops.in_place),
        found: Flag(ops.found.is_some_and(|at| at <= ops.middle)),
        zeros: Count::of(ops.zeros),
        read_time: Secs::of(ops.read.wall),
    };
    lab.check("2.bytes", verdicts::bytes, &slice);

    lab.try_next("just lesson 2 --size 4G   (address space grows by 4 GiB, RAM does not)");
    lab.try_next("just lesson 3   (lazy loading, readahead and eviction in detail)");
    Ok(())
}
