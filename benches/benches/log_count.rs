//! `log_count`: count the lines of a cached 128 MiB access log that contain a literal —
//! lesson 7's log analyzer ([7.users]) and its race: through a map on one thread and on all
//! cores, through a `read()` loop, and the real peers `rg -c`, `rg --no-mmap -c` and
//! `grep -c`, each run as a program (skipped where not installed). The counting code is
//! mmap-lab's `text`, the same the lesson runs. Lesson 7's goal: the all-cores count at
//! least 1.8× faster than `rg -c` on 2 cores.

use std::ffi::OsStr;
use std::fs::File;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use memchr::memmem::Finder;
use mmap_benches::{
    LOG_COUNT, LOG_FILE_SIZE, LOG_LITERAL, LOG_METHODS, Mode, bench, consume, data_dir, or_exit,
    skip,
};
use mmap_lab::data::{Content, Spec};
use mmap_lab::peer::{Peer, program};
use mmap_lab::text::{BUF, count_lines, count_parallel, count_read};

fn log_count(c: &mut Criterion) {
    let mode = Mode::from_env();
    let data = data_dir();
    let spec = Spec::new("access", LOG_FILE_SIZE, Content::Log { seed: 7 });
    let path = or_exit(data.file(&spec));
    let map = or_exit(data.map(&path));
    black_box(consume(&map)); // warm: the whole log in the page cache
    let finder = Finder::new(LOG_LITERAL);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let want = count_lines(&map, &finder);
    let [map_1, map_all, read_loop, rg, rg_no_mmap, grep] = LOG_METHODS;

    let mut group = c.benchmark_group(LOG_COUNT);
    group.throughput(Throughput::Bytes(LOG_FILE_SIZE));
    group.sample_size(10);
    let id = |m: &str| BenchmarkId::new(m, LOG_FILE_SIZE);
    bench(&mut group, mode, id(map_1), || count_lines(&map, &finder));
    bench(&mut group, mode, id(map_all), || {
        count_parallel(&map, &finder, threads).expect("count")
    });
    bench(&mut group, mode, id(read_loop), || {
        count_read(File::open(&path).expect("open the log"), &finder, BUF).expect("read")
    });
    let file = path.as_os_str();
    let literal = OsStr::new(LOG_LITERAL);
    for (name, tool, flags) in [
        (rg, "rg", &["-c", "--mmap"][..]),
        (rg_no_mmap, "rg", &["-c", "--no-mmap"][..]),
        (grep, "grep", &["-c", "-F"][..]),
    ] {
        let mut args: Vec<&OsStr> = flags.iter().map(OsStr::new).collect();
        args.extend([OsStr::new("--"), literal, file]);
        // A peer counts only if it is installed and agrees with the lesson's count.
        let counted = |p: Peer<mmap_lab::peer::Printed>| match p {
            Peer::Ran(r) => String::from_utf8_lossy(&r.out.stdout)
                .trim()
                .parse::<u64>()
                .ok(),
            _ => None,
        };
        match counted(program(tool, &args, &[])) {
            Some(n) if n == want => {
                bench(&mut group, mode, id(name), || {
                    counted(program(tool, &args, &[]))
                });
            }
            Some(n) => skip(
                &format!("{LOG_COUNT}/{name}/{LOG_FILE_SIZE}"),
                &format!("{tool} counted {n} lines, the lesson {want}"),
            ),
            None => skip(
                &format!("{LOG_COUNT}/{name}/{LOG_FILE_SIZE}"),
                &format!("{tool} not installed"),
            ),
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = mmap_benches::criterion(Mode::from_env());
    targets = log_count
}
criterion_main!(benches);
