//! Lesson 10 · mmap + asyncio: "mmap is synchronous, but the disk IO happens in the OS, so the
//! event loop is not blocked".
//!
//! A page fault is synchronous too: the thread that touches a page which is not in RAM stops
//! until the disk has delivered it. We run a heartbeat task (every 1 ms) on a
//! single-threaded tokio runtime and measure how late it fires while the same cold file is
//! touched through a map inline, read with `std::fs` inline, read with `tokio::fs` (each read
//! on the blocking pool) and touched through a map inside `spawn_blocking`; then the notes'
//! own setting in Python: an asyncio heartbeat beside a coroutine touching a cold mmap,
//! inline and through `run_in_executor`.

mod experiments;
mod verdicts;

use std::process::ExitCode;
use std::time::Duration;

use experiments::{Way, med, runs, ticks, worst};
use mmap_lab::cli::Args;
use mmap_lab::data::{Content, Spec};
use mmap_lab::measure::median;
use mmap_lab::quantity::{Bytes, Count, Secs};
use mmap_lab::{Lab, Lesson, Measured, Spread, attempt, cache, need};

use verdicts::{NotBlocked, Offload, OsIo, ReadBlocks, Table};

const LESSON: Lesson = Lesson {
    number: 10,
    title: "mmap + asyncio",
    about: "Measures how late a 1 ms heartbeat task fires on a single-threaded tokio runtime \
            while a cold file is touched through a map or read, on the loop and off it \
            (tokio::fs, spawn_blocking), and the same in the notes' Python asyncio.",
    default_size: 128 << 20,
};

/// How long the heartbeat runs alone, for its idle lateness.
const IDLE: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    mmap_lab::cli::main::<Args>(&LESSON, run)
}

fn run(_args: &Args, lab: &mut Lab) -> anyhow::Result<()> {
    lab.require_size(16 << 20)?;
    let path = lab.file(Spec::new("sample", lab.size, Content::Random { seed: 10 }))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let idle_runs: Vec<_> = (0..lab.runs)
        .map(|_| experiments::run(lab, &rt, None, &path, IDLE))
        .collect::<anyhow::Result<_>>()?;
    let idle = worst(&idle_runs);

    // Every way, cold (each run on a freshly evicted file) and cached.
    let cold = attempt(|| {
        experiments::WAYS
            .iter()
            .map(|&w| runs(lab, &rt, w, &path, true))
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    cache::warm(&path, 0..lab.size)?;
    let warm = experiments::WAYS
        .iter()
        .map(|&w| runs(lab, &rt, w, &path, false))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let py_inline = attempt(|| experiments::python(lab, &path, "inline"))?;
    let py_executor = attempt(|| experiments::python(lab, &path, "executor"))?;
    let of = |way: Way| {
        experiments::WAYS
            .iter()
            .position(|&w| w == way)
            .unwrap_or(0)
    };
    let cold_of = |way: Way| need(&cold).map(|c| c[of(way)].clone());

    // [10.os-io] "disk IO happens in the OS"
    let os_io = cold_of(Way::MapInline).and_then(|inline| {
        let pool = cold_of(Way::MapBlocking)?;
        let disk: Option<Vec<f64>> = inline.iter().map(|r| r.disk.map(|d| d as f64)).collect();
        Ok(OsIo {
            pages: Count::of(lab.size.div_ceil(cache::page_size() as u64)),
            inline_disk: disk.map(|d| Bytes(median(&d))),
            inline_loop_majflt: Count(med(&inline, |r| r.loop_majflt as f64)),
            pool_majflt: Count(med(&pool, |r| r.pool_majflt as f64)),
            blocking_loop_majflt: Count(med(&pool, |r| r.loop_majflt as f64)),
        })
    });
    lab.check_if("10.os-io", verdicts::os_io, os_io)?;

    // [10.not-blocked] "the asyncio event loop is not blocked"
    let inline_warm = worst(&warm[of(Way::MapInline)]);
    let not_blocked = cold_of(Way::MapInline).and_then(|inline| {
        let (fired, due) = ticks(&inline);
        Ok(NotBlocked {
            idle,
            inline_cold: worst(&inline),
            inline_warm,
            inline_ticks: fired,
            inline_expected: due,
            python_inline: need(&py_inline)?.map(|p| p.0),
            python_executor: need(&py_executor)?.map(|p| p.0),
        })
    });
    lab.check_if("10.not-blocked", verdicts::not_blocked, not_blocked)?;

    // [10.ok] "async server + mmap → OK"
    let cold_worst = |way: Way| cold_of(way).map(|r| worst(&r));
    let offload = cold_worst(Way::MapInline).and_then(|inline_cold| {
        Ok(Offload {
            idle,
            inline_cold,
            blocking_cold: cold_worst(Way::MapBlocking)?,
            blocking_warm: worst(&warm[of(Way::MapBlocking)]),
        })
    });
    lab.check_if("10.ok", verdicts::ok, offload)?;

    // [10.read-blocks] "read() → blocks on IO"
    let read_blocks = cold_worst(Way::ReadInline).and_then(|read_cold| {
        Ok(ReadBlocks {
            idle,
            read_cold,
            read_warm: worst(&warm[of(Way::ReadInline)]),
            tokio_cold: cold_worst(Way::TokioFs)?,
            map_cold: cold_worst(Way::MapInline)?,
        })
    });
    lab.check_if("10.read-blocks", verdicts::read_blocks, read_blocks)?;

    let row = |way: Way| {
        cold.as_ref()
            .ok()
            .map(|c| experiments::lateness(&c[of(way)]))
    };
    let py_p99 = |p: &Measured<Option<(Secs, Secs)>>| p.as_ref().ok().and_then(|p| p.map(|p| p.1));
    lab.record(
        "lateness",
        &Table {
            idle: experiments::lateness(&idle_runs),
            map_inline_cold: row(Way::MapInline),
            map_inline_warm: experiments::lateness(&warm[of(Way::MapInline)]),
            read_inline_cold: row(Way::ReadInline),
            read_inline_warm: experiments::lateness(&warm[of(Way::ReadInline)]),
            tokio_fs_cold: row(Way::TokioFs),
            tokio_fs_warm: experiments::lateness(&warm[of(Way::TokioFs)]),
            map_blocking_cold: row(Way::MapBlocking),
            map_blocking_warm: experiments::lateness(&warm[of(Way::MapBlocking)]),
            python_inline_p99: py_p99(&py_inline),
            python_executor_p99: py_p99(&py_executor),
        },
    );
    let wall = |way: Way| Spread::of(&warm[of(way)].iter().map(|r| r.wall).collect::<Vec<_>>());
    lab.note(format!(
        "cached, touching the map inline took {} and the std::fs read {}",
        wall(Way::MapInline),
        wall(Way::ReadInline)
    ));
    lab.try_next("just lesson 10 --size 1G   (a longer stall: the same verdicts, bigger numbers)");
    lab.try_next("just lesson 11   (when mmap is not the tool)");
    Ok(())
}
