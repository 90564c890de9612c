//! `record_lookup`: one 16-byte record (`i32` id, 4 bytes of padding, `f64` balance — the
//! notes' `struct "i d"`) at a random index of a warm 64 MiB file — the notes' [8.fast]
//! ("extremely fast random access"). In place: the map cast to `&[Record]` once, then
//! indexed; copied out: the record's 16 bytes decoded with `from_ne_bytes`; pread: one system
//! call per record. Indexes come from a seeded generator, the same sequence for all three.
//! The notes' own Python is measured against them in lesson 8.

use std::fs::File;
use std::hint::black_box;

use bytemuck::{Pod, Zeroable};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmap_benches::{
    Mode, RECORD_FILE_SIZE, RECORD_LOOKUP, RECORD_METHODS, bench, consume, data_dir, or_exit,
    sample_file,
};
use mmap_lab::data::read_exact_at;

const SEED: u64 = 8;

/// The notes' `struct.calcsize("i d")` layout: 16 bytes, the `f64` aligned to 8.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Record {
    user_id: i32,
    pad: u32,
    balance: f64,
}

const RECORD: usize = size_of::<Record>();

fn record_lookup(c: &mut Criterion) {
    let mode = Mode::from_env();
    let data = data_dir();
    let path = sample_file(&data, RECORD_FILE_SIZE);
    let file = File::open(&path).expect("open the sample");
    let map = or_exit(data.map_with(&path, true));
    black_box(consume(&map)); // warm: the whole file cached and mapped
    let records: &[Record] = bytemuck::try_cast_slice(&map).expect("a map is page-aligned");
    let count = records.len();
    let [in_place, copy_out, pread] = RECORD_METHODS;

    let mut group = c.benchmark_group(RECORD_LOOKUP);
    group.throughput(Throughput::Elements(1));
    let mut rng = fastrand::Rng::with_seed(SEED);
    bench(
        &mut group,
        mode,
        BenchmarkId::new(in_place, RECORD_FILE_SIZE),
        || {
            let r = records[rng.usize(..count)];
            (r.user_id, r.balance.to_bits())
        },
    );
    let (chunks, _) = map.as_chunks::<RECORD>();
    let mut rng = fastrand::Rng::with_seed(SEED);
    bench(
        &mut group,
        mode,
        BenchmarkId::new(copy_out, RECORD_FILE_SIZE),
        || {
            let c = chunks[rng.usize(..count)];
            let id = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            let balance = f64::from_ne_bytes(c[8..].try_into().expect("8 bytes"));
            (id, balance.to_bits())
        },
    );
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut buf = [0u8; RECORD];
    bench(
        &mut group,
        mode,
        BenchmarkId::new(pread, RECORD_FILE_SIZE),
        || {
            let at = rng.u64(..count as u64) * RECORD as u64;
            read_exact_at(&file, &mut buf, at).expect("pread");
            let r: Record = bytemuck::pod_read_unaligned(&buf);
            (r.user_id, r.balance.to_bits())
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = mmap_benches::criterion(Mode::from_env());
    targets = record_lookup
}
criterion_main!(benches);
