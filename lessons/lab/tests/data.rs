//! Sample files: made atomically, reused when valid, regenerated when not, never written over
//! a file mmap-lab did not make.

use std::fs;

use mmap_lab::BadInput;
use mmap_lab::data::{self, Content, DataDir, Spec};

fn dir() -> (tempfile::TempDir, DataDir) {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = DataDir::open(Some(t.path()), false).unwrap();
    (t, d)
}

fn names(d: &DataDir) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn files_have_the_size_asked_for_and_are_deterministic() {
    let (_t, d) = dir();
    for content in [
        Content::Random { seed: 3 },
        Content::Log { seed: 3 },
        Content::Sparse,
    ] {
        let spec = Spec::new("s", 100_003, content);
        let p = d.file(&spec).unwrap();
        let first = fs::read(&p).unwrap();
        assert_eq!(first.len(), 100_003);
        d.remove(&spec).unwrap();
        assert!(!p.exists());
        assert_eq!(fs::read(d.file(&spec).unwrap()).unwrap(), first);
    }
    let log = fs::read(d.path_of(&Spec::new("s", 100_003, Content::Log { seed: 3 }))).unwrap();
    assert!(log.ends_with(b"\n"));
    assert!(log.starts_with(b"2026-11-26T"));
}

#[test]
fn a_valid_file_is_reused_and_an_invalid_one_regenerated() {
    let (_t, d) = dir();
    let spec = Spec::new("r", 1 << 20, Content::Random { seed: 9 });
    let p = d.file(&spec).unwrap();
    let made = fs::metadata(&p).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    d.file(&spec).unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().modified().unwrap(),
        made,
        "reused"
    );
    // An interrupted writer of an older version could leave a short file behind.
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(1000)
        .unwrap();
    assert!(!d.is_ready(&spec));
    d.file(&spec).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().len(), 1 << 20);
    assert_eq!(
        names(&d),
        [spec.file_name(), format!("{}.mmap-lab", spec.file_name())]
    );
}

#[test]
fn a_file_mmap_lab_did_not_make_is_never_overwritten() {
    let (_t, d) = dir();
    let spec = Spec::new("theirs", 4096, Content::Random { seed: 1 });
    fs::write(d.path_of(&spec), b"precious").unwrap();
    let err = d.file(&spec).unwrap_err();
    assert!(err.is::<BadInput>(), "{err:#}");
    assert!(err.to_string().contains("refusing to overwrite"));
    assert_eq!(fs::read(d.path_of(&spec)).unwrap(), b"precious");
    d.remove(&spec).unwrap();
    assert_eq!(fs::read(d.path_of(&spec)).unwrap(), b"precious");
}

#[test]
fn a_leftover_partial_of_a_dead_run_is_cleaned_up() {
    let (_t, d) = dir();
    let spec = Spec::new("p", 8192, Content::Random { seed: 1 });
    // pid 4194304 is above the kernel's pid_max limit, so no such process can exist.
    let stale = d
        .path()
        .join(format!("{}.partial-4194304", spec.file_name()));
    fs::write(&stale, b"half").unwrap();
    d.file(&spec).unwrap();
    assert!(!stale.exists());
}

#[test]
fn a_file_larger_than_the_free_disk_is_refused_before_writing() {
    let (_t, d) = dir();
    let spec = Spec::new("huge", 1 << 60, Content::Random { seed: 1 });
    let err = d.file(&spec).unwrap_err();
    assert!(err.is::<BadInput>());
    assert!(err.to_string().contains("choose a smaller --size"), "{err}");
    assert!(names(&d).is_empty(), "{:?}", names(&d));
}

#[test]
fn a_bad_dir_is_bad_input() {
    let (t, _d) = dir();
    let missing = t.path().join("nope");
    assert!(
        DataDir::open(Some(&missing), false)
            .unwrap_err()
            .is::<BadInput>()
    );
    let file = t.path().join("plain");
    fs::write(&file, b"").unwrap();
    let err = DataDir::open(Some(&file), false).unwrap_err();
    assert!(err.to_string().contains("not a directory"));
}

#[test]
fn a_size_the_filesystem_refuses_is_bad_input_and_leaves_nothing() {
    let (_t, d) = dir();
    d.ensure_accepts(1 << 30).unwrap();
    let err = d.ensure_accepts(u64::MAX).unwrap_err();
    assert!(err.is::<BadInput>(), "{err:#}");
    assert!(err.to_string().contains("does not accept"), "{err}");
    // A sparse file needs no disk, so only the size probe stops it — before the sidecar.
    let err = d
        .file(&Spec::new("vast", u64::MAX, Content::Sparse))
        .unwrap_err();
    assert!(err.is::<BadInput>(), "{err:#}");
    assert!(names(&d).is_empty(), "{:?}", names(&d));
}

#[test]
fn read_exact_at_reads_at_an_offset_without_moving_the_cursor() {
    let (_t, d) = dir();
    let p = d
        .file(&Spec::new("at", 10_000, Content::Random { seed: 4 }))
        .unwrap();
    let all = fs::read(&p).unwrap();
    let file = fs::File::open(&p).unwrap();
    let mut word = [0u8; 8];
    data::read_exact_at(&file, &mut word, 1234).unwrap();
    assert_eq!(word, all[1234..1242]);
    let mut first = [0u8; 8];
    std::io::Read::read_exact(&mut &file, &mut first).unwrap();
    assert_eq!(first, all[..8]);
    let eof = data::read_exact_at(&file, &mut word, 9_996).unwrap_err();
    assert_eq!(eof.kind(), std::io::ErrorKind::UnexpectedEof);
}

static GENERATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn counted_zeros(out: &mut dyn std::io::Write, size: u64) -> std::io::Result<()> {
    GENERATED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(200));
    out.write_all(&vec![0u8; size as usize])
}

#[test]
fn two_writers_of_one_file_take_turns() {
    let (_t, d) = dir();
    let content = Content::Custom {
        tag: "counted",
        fill: counted_zeros,
    };
    let spec = Spec::new("both", 1 << 20, content);
    let paths: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| d.file(&spec).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(paths[0], paths[1]);
    assert_eq!(
        GENERATED.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "generated twice"
    );
    assert_eq!(
        names(&d),
        [spec.file_name(), format!("{}.mmap-lab", spec.file_name())]
    );
}

#[test]
fn a_leftover_sidecar_partial_is_cleaned_up_too() {
    let (_t, d) = dir();
    let spec = Spec::new("q", 8192, Content::Random { seed: 1 });
    let stale = d
        .path()
        .join(format!("{}.mmap-lab.partial-4194304-0", spec.file_name()));
    fs::write(&stale, b"{").unwrap();
    d.file(&spec).unwrap();
    assert!(!stale.exists());
}

#[test]
fn clean_deletes_what_mmap_lab_made_and_nothing_else() {
    let (_t, d) = dir();
    let ours = Spec::new("ours", 64 << 10, Content::Random { seed: 2 });
    d.file(&ours).unwrap();
    fs::write(d.path().join("notes.txt"), b"the reader's own file").unwrap();
    let done = d.clean().unwrap();
    assert_eq!(done.files, 1, "the sample (with its sidecar)");
    assert!(done.bytes >= 64 << 10);
    assert!(done.in_use.is_empty());
    assert_eq!(names(&d), ["notes.txt"]);
}
