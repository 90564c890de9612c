//! `random_access`: one 8-byte read at a random offset of a warm 256 MiB file — the notes'
//! [5.random] ("random access: read() slow, mmap fast"). `pread` is one system call per
//! read; the mapping is made once (populated, so its page tables are warm too) and read by
//! indexing. Offsets come from a seeded generator, the same sequence for both.

use std::fs::File;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmap_benches::{
    Mode, RANDOM_ACCESS, RANDOM_FILE_SIZE, RANDOM_METHODS, RANDOM_READ, bench, consume, data_dir,
    or_exit, sample_file,
};
use mmap_lab::data::read_exact_at;

const SEED: u64 = 42;

fn random_access(c: &mut Criterion) {
    let mode = Mode::from_env();
    let data = data_dir();
    let path = sample_file(&data, RANDOM_FILE_SIZE);
    let file = File::open(&path).expect("open the sample");
    let map = or_exit(data.map_with(&path, true)); // populated: page tables warm too
    // Warm: the whole file in the page cache before either method runs.
    black_box(consume(&map));
    let last = RANDOM_FILE_SIZE - RANDOM_READ as u64;
    let [pread_name, mmap_name] = RANDOM_METHODS;

    let mut group = c.benchmark_group(RANDOM_ACCESS);
    group.throughput(Throughput::Bytes(RANDOM_READ as u64));
    // ANCHOR: random
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut buf = [0u8; RANDOM_READ];
    bench(
        &mut group,
        mode,
        BenchmarkId::new(pread_name, RANDOM_FILE_SIZE),
        || {
            // mmap-lab's read_exact_at: one pread(2) on Unix.
            read_exact_at(&file, &mut buf, rng.u64(..=last)).expect("pread");
            u64::from_le_bytes(buf)
        },
    );
    let mut rng = fastrand::Rng::with_seed(SEED);
    bench(
        &mut group,
        mode,
        BenchmarkId::new(mmap_name, RANDOM_FILE_SIZE),
        || {
            let at = rng.u64(..=last) as usize;
            let bytes: [u8; RANDOM_READ] = map[at..at + RANDOM_READ].try_into().expect("8 bytes");
            u64::from_le_bytes(black_box(bytes))
        },
    );
    // ANCHOR_END: random
    group.finish();
}

criterion_group! {
    name = benches;
    config = mmap_benches::criterion(Mode::from_env());
    targets = random_access
}
criterion_main!(benches);
