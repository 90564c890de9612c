//! The data directory's promises under concurrency, interruption and tampering (README,
//! "Data files"), each checked with real processes: this test binary runs itself as the
//! other run (`MMAP_LAB_CHILD=role`, see [`child`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mmap_lab::BadInput;
use mmap_lab::data::{Content, DataDir, Spec};

fn dir() -> (tempfile::TempDir, DataDir) {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = DataDir::open(Some(t.path()), false).unwrap();
    (t, d)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn held() -> Spec {
    Spec::new("held", 64 << 10, Content::Random { seed: 5 })
}

/// Writes 4 KiB every 100 ms: a generator slow enough to be caught in the act.
fn slow_fill(out: &mut dyn Write, size: u64) -> std::io::Result<()> {
    for _ in 0..size / 4096 {
        out.write_all(&[7u8; 4096])?;
        out.flush()?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn slow() -> Spec {
    Spec::new(
        "slow",
        1 << 20,
        Content::Custom {
            tag: "slow",
            fill: slow_fill,
        },
    )
}

/// Starts this test binary as another run doing `role` in `dir`.
fn spawn(role: &str, dir: &Path, env: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("MMAP_LAB_CHILD", role)
        .env("MMAP_LAB_CHILD_DIR", dir)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn has_partial(dir: &Path) -> bool {
    names(dir).iter().any(|n| n.contains(".partial-"))
}

/// The other run. Does nothing unless started by [`spawn`].
#[test]
fn child() {
    let Ok(role) = std::env::var("MMAP_LAB_CHILD") else {
        return;
    };
    let dir = PathBuf::from(std::env::var_os("MMAP_LAB_CHILD_DIR").unwrap());
    let d = DataDir::open(Some(&dir), false).unwrap();
    let ready = || fs::write(dir.join("ready"), b"").unwrap();
    let forever = || loop {
        std::thread::sleep(Duration::from_secs(1));
    };
    match role.as_str() {
        "hold" => {
            let _in_use = d.acquire(&held(), false).unwrap();
            ready();
            wait_for("release", || dir.join("release").exists());
        }
        "hold-clean" => {
            let _in_use = d.acquire(&held(), true).unwrap();
            ready();
            forever();
        }
        "scratch" => {
            let _in_use = d.acquire(&held().scratch(), false).unwrap();
            ready();
            forever();
        }
        "make-slow" => {
            d.acquire(&slow(), false).unwrap();
        }
        "wait-slow" => match d.acquire(&slow(), false) {
            Ok(_) => std::process::exit(0),
            Err(e) => {
                eprintln!("{e:#}");
                std::process::exit(3);
            }
        },
        other => panic!("unknown role {other}"),
    }
    std::process::exit(0);
}

#[test]
fn a_file_in_use_by_another_run_is_not_cleaned_away() {
    let (t, d) = dir();
    let mut other = spawn("hold", t.path(), &[]);
    wait_for("the other run", || t.path().join("ready").exists());
    let done = d.clean().unwrap();
    assert_eq!(done.files, 0);
    assert_eq!(done.in_use, [d.path_of(&held()).display().to_string()]);
    assert!(
        !d.remove(&held()).unwrap(),
        "remove must keep a file in use"
    );
    assert!(d.path_of(&held()).exists());
    fs::write(t.path().join("release"), b"").unwrap();
    assert!(other.wait().unwrap().success());
    assert!(d.remove(&held()).unwrap());
    assert!(!d.path_of(&held()).exists());
}

#[test]
fn a_stopped_maker_is_named_and_given_up_on_and_its_leftovers_swept() {
    let (t, d) = dir();
    let mut maker = spawn("make-slow", t.path(), &[]);
    wait_for("the maker's partial file", || has_partial(t.path()));
    signal(&maker, libc::SIGSTOP);
    let waiter = spawn("wait-slow", t.path(), &[("MMAP_LAB_LOCK_WAIT", "1")]);
    let out = waiter.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let who = format!("process {}", maker.id());
    assert!(stderr.contains(&format!("waiting for {who}")), "{stderr}");
    assert!(stderr.contains("gave up after 1 s"), "{stderr}");
    signal(&maker, libc::SIGKILL);
    maker.wait().unwrap();
    // The maker died mid-write: its partial file is swept and the file made afresh.
    assert!(has_partial(t.path()));
    drop(DataDir::open(Some(t.path()), false).unwrap());
    // Only the sidecar that claimed the name is left, and it still vouches for it.
    let left = names(t.path());
    assert_eq!(
        left,
        [format!("{}.mmap-lab", slow().file_name())],
        "{left:?}"
    );
    assert_eq!(d.clean().unwrap().files, 1);
    assert!(!t.path().exists(), "clean removes the emptied directory");
}

#[test]
fn an_interrupted_maker_leaves_nothing_behind() {
    let (t, _d) = dir();
    let mut maker = spawn("make-slow", t.path(), &[]);
    wait_for("the maker's partial file", || has_partial(t.path()));
    signal(&maker, libc::SIGINT);
    let status = maker.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGINT)
    );
    assert!(names(t.path()).is_empty(), "{:?}", names(t.path()));
}

#[test]
fn ctrl_c_in_a_clean_run_removes_its_files() {
    let (t, d) = dir();
    let mut run = spawn("hold-clean", t.path(), &[]);
    wait_for("the run", || t.path().join("ready").exists());
    assert!(d.path_of(&held()).exists());
    signal(&run, libc::SIGINT);
    run.wait().unwrap();
    assert_eq!(names(t.path()), ["ready"]);
}

#[test]
fn a_scratch_file_of_a_killed_run_is_swept_by_the_next() {
    let (t, _d) = dir();
    let mut run = spawn("scratch", t.path(), &[]);
    wait_for("the run", || t.path().join("ready").exists());
    signal(&run, libc::SIGKILL);
    run.wait().unwrap();
    let spec = held().scratch();
    let d = DataDir::open(Some(t.path()), false).unwrap();
    assert!(!d.path_of(&spec).exists(), "{:?}", names(t.path()));
}

#[test]
fn a_sample_damaged_in_place_is_made_again() {
    let (_t, d) = dir();
    let spec = held();
    let p = d.file(&spec).unwrap();
    let good = fs::read(&p).unwrap();
    fs::write(&p, vec![0u8; good.len()]).unwrap();
    assert!(!d.is_ready(&spec));
    d.file(&spec).unwrap();
    assert_eq!(fs::read(&p).unwrap(), good);
}

static FAIL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn failing_fill(out: &mut dyn Write, size: u64) -> std::io::Result<()> {
    if FAIL.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(std::io::Error::other("no space left (injected)"));
    }
    out.write_all(&vec![1u8; size as usize])
}

#[test]
fn a_failed_remake_leaves_the_file_owned() {
    let (_t, d) = dir();
    let spec = Spec::new(
        "fragile",
        8192,
        Content::Custom {
            tag: "fragile",
            fill: failing_fill,
        },
    );
    let p = d.file(&spec).unwrap();
    fs::write(&p, vec![0u8; 8192]).unwrap();
    FAIL.store(true, std::sync::atomic::Ordering::SeqCst);
    let err = d.file(&spec).unwrap_err();
    assert!(format!("{err:#}").contains("injected"), "{err:#}");
    FAIL.store(false, std::sync::atomic::Ordering::SeqCst);
    // Still mmap-lab's: the next run makes it again, and clean would remove it.
    d.file(&spec).unwrap();
    assert!(d.is_ready(&spec));
    assert_eq!(d.clean().unwrap().files, 1);
}

#[test]
fn only_a_sidecar_that_parses_and_names_its_file_vouches_for_it() {
    let (t, d) = dir();
    fs::write(t.path().join("important"), b"the reader's work").unwrap();
    fs::write(t.path().join("important.mmap-lab"), b"garbage").unwrap();
    // A real sidecar copied beside another file vouches for nothing.
    let ours = d.file(&held()).unwrap();
    let side = fs::read(format!("{}.mmap-lab", ours.display())).unwrap();
    fs::write(t.path().join("copy.bin"), b"theirs").unwrap();
    fs::write(t.path().join("copy.bin.mmap-lab"), &side).unwrap();
    assert_eq!(d.clean().unwrap().files, 1);
    assert_eq!(
        names(t.path()),
        [
            "copy.bin",
            "copy.bin.mmap-lab",
            "important",
            "important.mmap-lab"
        ]
    );
}

#[test]
fn a_sample_made_by_an_older_mmap_lab_is_still_ours() {
    let (t, d) = dir();
    let spec = held();
    let p = d.path_of(&spec);
    // The sidecar of mmap-lab before fingerprints: no file name, no fingerprint.
    fs::write(&p, b"old data").unwrap();
    fs::write(
        format!("{}.mmap-lab", p.display()),
        format!(
            "{{\"created_by\":\"mmap-lab\",\"size\":{},\"content\":\"random-5\"}}\n",
            spec.size
        ),
    )
    .unwrap();
    assert!(!d.is_ready(&spec));
    d.file(&spec).unwrap();
    assert!(d.is_ready(&spec), "made again, with a fingerprint");
    // The same legacy sidecar beside a file it does not name vouches for nothing.
    fs::write(t.path().join("x.bin"), b"theirs").unwrap();
    fs::write(
        t.path().join("x.bin.mmap-lab"),
        "{\"created_by\":\"mmap-lab\",\"size\":6,\"content\":\"random-5\"}",
    )
    .unwrap();
    assert_eq!(d.clean().unwrap().files, 1);
    assert!(t.path().join("x.bin").exists());
}

#[test]
fn a_fifo_or_device_sidecar_is_refused_without_hanging() {
    let (t, d) = dir();
    let spec = held();
    let side = t.path().join(format!("{}.mmap-lab", spec.file_name()));
    let c = std::ffi::CString::new(side.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path, which outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = d.file(&spec).unwrap_err();
    assert!(err.is::<BadInput>(), "{err:#}");
    fs::remove_file(&side).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &side).unwrap();
    assert!(d.file(&spec).unwrap_err().is::<BadInput>());
}

#[test]
fn probe_files_never_replace_a_file_of_that_name() {
    let (t, _d) = dir();
    let name = format!(".mmap-lab-probe-{}", std::process::id());
    fs::write(t.path().join(&name), b"mine").unwrap();
    DataDir::open(Some(t.path()), false).unwrap();
    assert_eq!(fs::read(t.path().join(&name)).unwrap(), b"mine");
}

#[test]
fn a_run_that_cannot_fit_all_its_files_writes_none() {
    let (t, d) = dir();
    let free = d.free_disk().unwrap().expect("statvfs on Linux");
    // Each alone fits; both together do not.
    let half = free / 2 + (1 << 30);
    let specs = [
        Spec::new("a", half, Content::Random { seed: 1 }),
        Spec::new("b", half, Content::Random { seed: 2 }),
    ];
    d.ensure_room(&specs[..1]).unwrap();
    let err = d.ensure_room(&specs).unwrap_err();
    assert!(err.is::<BadInput>(), "{err:#}");
    assert!(names(t.path()).is_empty());
}
