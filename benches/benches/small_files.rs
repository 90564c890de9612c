//! `small_files`: read one whole small file, cycling through 1000 of them — the notes'
//! [11.small] ("small files: not a good fit for mmap"). Open + read versus open + mmap +
//! unmap, per file, warm page cache; both count the newlines with the same `consume`.

use std::fs::{self, File};
use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use memmap2::Mmap;
use mmap_benches::{
    Mode, SMALL_FILE_SIZES, SMALL_FILES, SMALL_METHODS, bench, consume, data_dir, small_files,
};

// ANCHOR: per_file
fn read_file(path: &Path) -> u64 {
    consume(&fs::read(path).expect("read a small file"))
}

fn mmap_file(path: &Path) -> u64 {
    let file = File::open(path).expect("open a small file");
    // SAFETY: the small files belong to mmap-lab's data directory; nothing writes or
    // truncates them while the benchmark has one mapped.
    let map = unsafe { Mmap::map(&file) }.expect("mmap a small file");
    consume(&map)
}
// ANCHOR_END: per_file

fn small_files_group(c: &mut Criterion) {
    let mode = Mode::from_env();
    let data = data_dir();
    let [read_name, mmap_name] = SMALL_METHODS;
    let mut group = c.benchmark_group(SMALL_FILES);
    for size in SMALL_FILE_SIZES {
        let files = small_files(&data, size);
        // Warm: every file in the page cache before either method runs.
        black_box(files.iter().map(|p| read_file(p)).sum::<u64>());
        group.throughput(Throughput::Bytes(size));
        for (name, method) in [
            (read_name, read_file as fn(&Path) -> u64),
            (mmap_name, mmap_file),
        ] {
            // One file per iteration, going round the files.
            let mut next = files.iter().cycle();
            bench(&mut group, mode, BenchmarkId::new(name, size), || {
                method(black_box(next.next().expect("a file")))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = mmap_benches::criterion(Mode::from_env());
    targets = small_files_group
}
criterion_main!(benches);
