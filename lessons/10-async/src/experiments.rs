//! Lesson 10's experiments: a heartbeat task on a single-threaded tokio runtime, and the
//! same file touched four ways beside it — a map touched inline, `std::fs` read inline,
//! `tokio::fs` (which runs each read on tokio's blocking pool), and a map touched inside
//! `spawn_blocking`. Plain Rust and mmap-lab's instruments; the verdicts are in `verdicts.rs`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mmap_lab::measure::{disk_read_bytes, median, percentile, thread_faults};
use mmap_lab::quantity::{Count, Secs};
use mmap_lab::{Lab, Spread};

use crate::verdicts::Lateness;
use tokio::io::AsyncReadExt;
use tokio::runtime::Runtime;
use tokio::time::MissedTickBehavior;

/// How often the heartbeat wants to run.
pub const TICK: Duration = Duration::from_millis(1);

/// The ways of reading the file beside the heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Touch one byte per page of a map, in the task itself.
    MapInline,
    /// `std::fs` read loop, in the task itself.
    ReadInline,
    /// `tokio::fs` read loop: each read runs on the blocking pool.
    TokioFs,
    /// Touch the map inside `spawn_blocking`.
    MapBlocking,
}

pub const WAYS: [Way; 4] = [
    Way::MapInline,
    Way::ReadInline,
    Way::TokioFs,
    Way::MapBlocking,
];

/// How late the heartbeat ran while one way read the file, and where the page faults were.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// The latest tick, and the 99th percentile of all ticks.
    pub worst: f64,
    pub p99: f64,
    /// Ticks that fired, and ticks the period would have had.
    pub ticks: usize,
    pub expected: usize,
    /// Major page faults of the runtime's own thread, and of the thread the work ran on when
    /// that was another (the blocking pool).
    pub loop_majflt: u64,
    pub pool_majflt: u64,
    /// Bytes the process read from disk meanwhile (`/proc/self/io`), where known.
    pub disk: Option<u64>,
    pub wall: f64,
}

// ANCHOR: heartbeat
/// The heartbeat: wakes every [`TICK`] until `stop`, and returns how late each wake-up was.
/// A missed tick is not made up in a burst (`Delay`): one stall shows as one late tick.
async fn heartbeat(stop: Arc<AtomicBool>) -> Vec<f64> {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut late = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let due = interval.tick().await;
        late.push(due.elapsed().as_secs_f64());
    }
    late
}
// ANCHOR_END: heartbeat

// ANCHOR: ways
/// One byte of every page of the map: each first touch of a cold page is a page fault that
/// waits for the disk — on the thread that touches it.
fn touch(map: &[u8]) -> u64 {
    map.iter().step_by(4096).map(|&b| u64::from(b)).sum()
}

/// Reads the file one way, beside the heartbeat; returns the page faults of the thread the
/// work itself ran on when that is not the runtime's.
async fn read(lab: &Lab, way: Way, path: &Path) -> anyhow::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    match way {
        Way::MapInline => {
            let map = lab.map(path)?;
            std::hint::black_box(touch(&map)); // blocks this thread, and the loop with it
        }
        Way::ReadInline => {
            let mut file = std::fs::File::open(path)?;
            while std::io::Read::read(&mut file, &mut buf)? > 0 {} // blocks the same way
        }
        Way::TokioFs => {
            let mut file = tokio::fs::File::open(path).await?;
            while file.read(&mut buf).await? > 0 {} // each read() on the blocking pool
        }
        Way::MapBlocking => {
            let map = lab.map(path)?;
            let on_pool = tokio::task::spawn_blocking(move || {
                let before = thread_faults().map_or(0, |f| f.1);
                std::hint::black_box(touch(&map));
                thread_faults().map_or(0, |f| f.1) - before
            });
            return Ok(on_pool.await?);
        }
    }
    Ok(0)
}
// ANCHOR_END: ways

/// The heartbeat alone for `idle`, or beside `way` reading `path`.
pub fn run(
    lab: &Lab,
    rt: &Runtime,
    way: Option<Way>,
    path: &Path,
    idle: Duration,
) -> anyhow::Result<Run> {
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let beat = tokio::spawn(heartbeat(Arc::clone(&stop)));
        tokio::time::sleep(5 * TICK).await; // the heartbeat is running
        let (faults0, disk0, t0) = (thread_faults(), disk_read_bytes(), Instant::now());
        let pool_majflt = match way {
            Some(w) => read(lab, w, path).await?,
            None => {
                tokio::time::sleep(idle).await;
                0
            }
        };
        let (wall, faults1, disk1) = (t0.elapsed(), thread_faults(), disk_read_bytes());
        tokio::time::sleep(2 * TICK).await; // the tick delayed by the end of the work fires
        stop.store(true, Ordering::Relaxed);
        let mut late = beat.await?;
        late.drain(..late.len().min(4)); // the ticks before the work started
        Ok(Run {
            worst: late.iter().copied().fold(0.0, f64::max),
            p99: percentile(&late, 99.0),
            ticks: late.len(),
            expected: (wall.as_secs_f64() / TICK.as_secs_f64()).ceil() as usize + 2,
            loop_majflt: faults0.zip(faults1).map_or(0, |(a, b)| b.1 - a.1),
            pool_majflt,
            disk: disk0.zip(disk1).map(|(a, b)| b.saturating_sub(a)),
            wall: wall.as_secs_f64(),
        })
    })
}

/// `runs` of one way, each on a freshly evicted file when `cold`.
pub fn runs(
    lab: &Lab,
    rt: &Runtime,
    way: Way,
    path: &Path,
    cold: bool,
) -> anyhow::Result<Vec<Run>> {
    let all = lab.turns(path, (lab.runs, 1, cold), |_| {
        run(lab, rt, Some(way), path, Duration::ZERO)
    })?;
    Ok(all.into_iter().flatten().collect())
}

/// The worst lateness of each run, as a spread.
pub fn worst(runs: &[Run]) -> Spread {
    Spread::of(&runs.iter().map(|r| r.worst).collect::<Vec<_>>())
}

/// The median of one number of the runs.
pub fn med(runs: &[Run], f: impl Fn(&Run) -> f64) -> f64 {
    median(&runs.iter().map(f).collect::<Vec<_>>())
}

/// Ticks that fired over ticks expected, summed over the runs.
pub fn ticks(runs: &[Run]) -> (Count, Count) {
    let fired: usize = runs.iter().map(|r| r.ticks).sum();
    let expected: usize = runs.iter().map(|r| r.expected).sum();
    (Count::of(fired), Count::of(expected))
}

/// The runs of one way as a row of the report.
pub fn lateness(runs: &[Run]) -> Lateness {
    let (fired, due) = ticks(runs);
    Lateness {
        worst: worst(runs),
        p99: Secs(med(runs, |r| r.p99)),
        fired,
        due,
        loop_majflt: Count(med(runs, |r| r.loop_majflt as f64)),
    }
}

/// What the notes' asyncio printed: the heartbeat's worst and 99th-percentile lateness.
#[derive(Debug, serde::Deserialize)]
pub struct PyLateness {
    pub worst: f64,
    pub p99: f64,
}

// ANCHOR: python
/// The notes' setting in Python: an asyncio loop with a heartbeat coroutine every 1 ms, and a
/// coroutine touching every page of a cold mmap — inline (`argv[2] == "inline"`) or through
/// `loop.run_in_executor` (a thread).
pub const PYTHON: &str = r#"
import asyncio, json, mmap, sys, time

def touch(mm):
    return sum(mm[i] for i in range(0, len(mm), 4096))

async def heartbeat(late, stop):
    t = time.perf_counter()
    while not stop.is_set():
        t += 0.001
        await asyncio.sleep(max(0.0, t - time.perf_counter()))
        now = time.perf_counter()
        late.append(now - t)
        t = max(t, now)

async def main(path, mode):
    late, stop = [], asyncio.Event()
    beat = asyncio.create_task(heartbeat(late, stop))
    await asyncio.sleep(0.005)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if mode == "inline":
            touch(mm)  # the notes: "mmap is synchronous"
        else:
            await asyncio.get_running_loop().run_in_executor(None, touch, mm)
        mm.close()
    await asyncio.sleep(0.002)
    stop.set()
    await beat
    late = sorted(late[4:]) or [0.0]
    print(json.dumps({"worst": late[-1], "p99": late[(len(late) - 1) * 99 // 100]}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;
// ANCHOR_END: python

/// The notes' Python on a freshly evicted file, `mode` "inline" or "executor".
pub fn python(lab: &mut Lab, path: &Path, mode: &str) -> anyhow::Result<Option<(Secs, Secs)>> {
    lab.make_cold(path)?;
    let what = format!("the notes' asyncio, mmap touched {mode}");
    let args = [path.as_os_str(), std::ffi::OsStr::new(mode)];
    Ok(lab
        .python::<PyLateness>(&what, PYTHON, &args)
        .map(|r| (Secs(r.out.worst), Secs(r.out.p99))))
}
