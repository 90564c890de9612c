//! `seq_scan`: read a whole file and count its newlines — the notes' [5.big] ("big file =
//! mmap") and [11.sequential] ("sequential reads: not a good fit for mmap") measured side by
//! side, from 4 KiB to 256 MiB, warm page cache.
//!
//! Each iteration goes from the path to the count, so opening (and mapping, and unmapping)
//! is part of the cost, as it is for a program that reads a file once.

use std::fs::{self, File};
use std::hint::black_box;
use std::path::Path;

use criterion::{
    AxisScale, BenchmarkId, Criterion, PlotConfiguration, Throughput, criterion_group,
    criterion_main,
};
use memmap2::{Mmap, MmapOptions};
use mmap_benches::{
    Mode, READ_BUFFER, SCAN_METHODS, SEQ_SCAN, bench, consume, data_dir, fits_in_memory,
    read_with_buffer, sample_file,
};

// ANCHOR: methods
fn scan_fs_read(path: &Path) -> u64 {
    consume(&fs::read(path).expect("read the sample"))
}

fn scan_read_256k(path: &Path, buf: &mut [u8]) -> u64 {
    read_with_buffer(path, buf).expect("read the sample")
}

fn scan_mmap(path: &Path) -> u64 {
    let file = File::open(path).expect("open the sample");
    // SAFETY: the sample belongs to mmap-lab's data directory; nothing writes or truncates
    // it while the benchmark has it mapped.
    let map = unsafe { Mmap::map(&file) }.expect("mmap the sample");
    consume(&map)
}

fn scan_mmap_populate(path: &Path) -> u64 {
    let file = File::open(path).expect("open the sample");
    // SAFETY: as in `scan_mmap`.
    let map = unsafe { MmapOptions::new().populate().map(&file) }.expect("mmap the sample");
    consume(&map)
}
// ANCHOR_END: methods

fn seq_scan(c: &mut Criterion) {
    let mode = Mode::from_env();
    let data = data_dir();
    let mut buf = vec![0u8; READ_BUFFER];
    let [fs_read, read_256k, mmap, mmap_populate] = SCAN_METHODS;
    let mut group = c.benchmark_group(SEQ_SCAN);
    // Sizes from 4 KiB to 256 MiB: only a log scale shows them all in the summary plots.
    group.plot_config(PlotConfiguration::default().summary_scale(AxisScale::Logarithmic));
    for &size in mode.scan_sizes() {
        let path = sample_file(&data, size);
        let path = path.as_path();
        group.throughput(Throughput::Bytes(size));
        if fits_in_memory(&format!("{SEQ_SCAN}/{fs_read}/{size}"), size) {
            bench(&mut group, mode, BenchmarkId::new(fs_read, size), || {
                scan_fs_read(black_box(path))
            });
        }
        bench(&mut group, mode, BenchmarkId::new(read_256k, size), || {
            scan_read_256k(black_box(path), &mut buf)
        });
        bench(&mut group, mode, BenchmarkId::new(mmap, size), || {
            scan_mmap(black_box(path))
        });
        bench(
            &mut group,
            mode,
            BenchmarkId::new(mmap_populate, size),
            || scan_mmap_populate(black_box(path)),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = mmap_benches::criterion(Mode::from_env());
    targets = seq_scan
}
criterion_main!(benches);
