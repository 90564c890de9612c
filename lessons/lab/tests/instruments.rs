//! The instruments measure what they say they measure. Each test makes its own file on the
//! workspace's disk (not /tmp, which may be tmpfs) and checks a mechanism, not a timing.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::path::PathBuf;
use std::sync::Mutex;

use memmap2::{Advice, Mmap, MmapOptions};
use mmap_lab::cache::{self, page_size};
use mmap_lab::data::{Content, DataDir, Spec};
use mmap_lab::measure::{self, probe};

/// Page faults and peak RSS are per process; run these tests one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn sample(pages: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = DataDir::open(Some(dir.path()), false).unwrap();
    let spec = Spec::new(
        "instrument",
        (pages * page_size()) as u64,
        Content::Random { seed: 1 },
    );
    let path = data.file(&spec).unwrap();
    (dir, path)
}

fn map(path: &PathBuf) -> Mmap {
    let file = File::open(path).unwrap();
    // SAFETY: the test owns the file and nothing modifies it while it is mapped.
    unsafe { Mmap::map(&file) }.unwrap()
}

fn touch(map: &[u8], pages: impl Iterator<Item = usize>) -> u64 {
    pages.map(|p| u64::from(map[p * page_size()])).sum()
}

#[test]
fn touching_k_cold_pages_makes_about_k_resident() {
    let _g = SERIAL.lock().unwrap();
    let (_dir, path) = sample(4096);
    let left = cache::evict(&path).unwrap();
    assert!(left.resident <= 8, "eviction left {} pages", left.resident);
    let map = map(&path);
    // No readahead, so each touch reads exactly the page it touches.
    map.advise(Advice::Random).unwrap();
    let k = 40;
    touch(&map, (0..k).map(|i| i * 97));
    let r = cache::residency(&map).unwrap();
    assert_eq!(r.pages, 4096);
    assert!(
        (k..=2 * k + 16).contains(&r.resident),
        "touched {k} pages, {} resident",
        r.resident
    );
}

#[test]
fn eviction_empties_residency() {
    let _g = SERIAL.lock().unwrap();
    let (_dir, path) = sample(2048);
    std::fs::read(&path).unwrap();
    assert!(cache::file_residency(&path).unwrap().fraction() > 0.9);
    let after = cache::evict(&path).unwrap();
    assert!(after.fraction() < 0.02, "{after:?}");
}

#[test]
fn fault_counters_rise_when_pages_are_touched() {
    let _g = SERIAL.lock().unwrap();
    let (_dir, path) = sample(8192);
    cache::evict(&path).unwrap();
    let map = map(&path);
    map.advise(Advice::Random).unwrap();
    let k = 64;
    // One page in every 128: no two touches share a fault-around window or a folio.
    let (_, s) = probe(|| touch(&map, (0..k).map(|i| i * 128)));
    assert!(s.faults() >= k as u64, "{k} touches, {} faults", s.faults());
    let (_, again) = probe(|| touch(&map, (0..k).map(|i| i * 128)));
    assert!(
        again.faults() < k as u64 / 2,
        "mapped pages faulted again: {again:?}"
    );
}

#[test]
fn peak_rss_sees_a_transient_allocation() {
    let _g = SERIAL.lock().unwrap();
    let n = 64 << 20;
    let (_, s) = probe(|| {
        let v = vec![1u8; n];
        v.iter().map(|&b| u64::from(b)).sum::<u64>()
    });
    let grew = s.peak_growth().expect("Linux reports peak RSS");
    assert!(grew >= (n as u64) * 9 / 10, "peak grew by {grew}");
    assert!(
        s.rss_growth().unwrap() < (n as u64) / 2,
        "the Vec was freed"
    );
}

#[test]
fn a_big_buffer_counts_in_rss_growth_on_every_run() {
    let _g = SERIAL.lock().unwrap();
    assert!(measure::fresh_big_allocations());
    let n = 10 << 20;
    for run in 0..3 {
        let (_, s) = probe(|| {
            let mut v = vec![0u8; n];
            v.fill(1);
            v.iter().map(|&b| u64::from(b)).sum::<u64>()
        });
        let grew = s.peak_growth().expect("Linux reports peak RSS");
        assert!(
            grew >= (n as u64) * 9 / 10,
            "run {run}: peak grew by {grew}"
        );
    }
}

#[test]
fn warming_a_range_makes_that_range_resident() {
    let _g = SERIAL.lock().unwrap();
    let (_dir, path) = sample(8192);
    cache::evict(&path).unwrap();
    let page = page_size() as u64;
    let range = 100 * page..356 * page;
    let warmed = cache::warm(&path, range.clone()).unwrap();
    assert_eq!((warmed.resident, warmed.pages), (256, 256));
    assert_eq!(cache::file_range_residency(&path, range).unwrap(), warmed);
    // Readahead reaches past the range, but not to the second half of a 32 MiB file.
    let tail = cache::file_range_residency(&path, 4096 * page..u64::MAX).unwrap();
    assert_eq!(tail.pages, 4096);
    assert!(tail.resident < tail.pages, "{tail:?}");
}

#[test]
fn a_second_process_mapping_the_file_halves_pss() {
    let _g = SERIAL.lock().unwrap();
    let pages = 1024;
    let (_dir, path) = sample(pages);
    let map = map(&path);
    touch(&map, 0..pages);
    let me = std::process::id();
    let alone = measure::smaps_of(me, map.as_ptr()).unwrap();
    assert!(alone.rss >= (pages * page_size()) as u64 * 9 / 10);
    assert!(alone.pss * 10 >= alone.rss * 9, "alone: {alone:?}");

    let mut fds = [0; 2];
    // SAFETY: pipe writes two descriptors into the array we pass.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only reads the inherited mapping, writes one byte to the pipe and
    // waits to be killed: no allocation, no locks, only async-signal-safe calls.
    let child = unsafe { libc::fork() };
    assert!(child >= 0);
    if child == 0 {
        let mut sum = 0u8;
        for p in 0..pages {
            // SAFETY: p * page_size() is inside the mapping.
            sum = sum.wrapping_add(unsafe {
                std::ptr::read_volatile(map.as_ptr().add(p * page_size()))
            });
        }
        // SAFETY: writing one byte from a local to the pipe's write end; then wait forever.
        unsafe {
            libc::write(fds[1], (&sum as *const u8).cast(), 1);
            loop {
                libc::pause();
            }
        }
    }
    let mut byte = 0u8;
    // SAFETY: reading one byte into a local from the pipe's read end.
    let n = unsafe { libc::read(fds[0], (&mut byte as *mut u8).cast(), 1) };
    let shared = measure::smaps_of(me, map.as_ptr()).unwrap();
    // SAFETY: `child` is our child's pid; kill and reap it, then close the pipe.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), 0);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    assert_eq!(n, 1);
    assert!(
        shared.pss * 4 < shared.rss * 3,
        "two processes map the pages, Pss should be about half of Rss: {shared:?}"
    );
    assert!(shared.shared_clean >= alone.rss * 9 / 10, "{shared:?}");
}

#[test]
fn anonymous_maps_are_counted_as_anonymous() {
    let _g = SERIAL.lock().unwrap();
    let len = 256 * page_size();
    let mut anon = MmapOptions::new().len(len).map_anon().unwrap();
    anon.iter_mut().step_by(page_size()).for_each(|b| *b = 1);
    let s = measure::smaps_of(std::process::id(), anon.as_ptr()).unwrap();
    assert_eq!(s.anonymous, len as u64);
}

#[test]
fn disk_reads_are_counted_for_cold_pages_only() {
    let _g = SERIAL.lock().unwrap();
    let (_dir, path) = sample(1024);
    cache::evict(&path).unwrap();
    let read_all = || {
        let map = map(&path);
        let before = measure::disk_read_bytes().unwrap();
        touch(&map, 0..1024);
        measure::disk_read_bytes().unwrap() - before
    };
    let cold = read_all();
    let warm = read_all();
    assert!(
        cold >= (1024 * page_size()) as u64 / 2,
        "a cold read of 4 MiB read {cold} bytes from disk"
    );
    assert_eq!(warm, 0, "a warm read still read {warm} bytes from disk");
}
