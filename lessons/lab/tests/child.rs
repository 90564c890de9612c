//! Children of a lesson: a role runs instead of the lesson, its end is reported as an exit
//! code or the signal that killed it, and a dropped child is killed and reaped.

use std::ffi::OsStr;
use std::time::Duration;

use mmap_lab::child::{self, Ended, Role};

const ROLES: &[Role] = &[
    ("exit-7", |_| 7),
    ("args", |args| i32::from(args.iter().any(|a| a == "hello"))),
    ("sleep", |_| {
        std::thread::sleep(Duration::from_secs(60));
        0
    }),
];

/// The child's side: this test binary, started again with a role.
#[test]
fn entry() {
    child::dispatch(ROLES);
}

fn spawn(role: &str, extra: &[&str]) -> child::Child {
    let mut args: Vec<&OsStr> = ["--exact", "entry", "--nocapture"].map(OsStr::new).to_vec();
    args.extend(extra.iter().map(OsStr::new));
    child::spawn(role, &args).unwrap()
}

#[test]
fn a_role_runs_instead_and_its_end_is_reported() {
    assert_eq!(spawn("exit-7", &[]).wait().unwrap(), Ended::Exited(7));
    assert_eq!(spawn("args", &["hello"]).wait().unwrap(), Ended::Exited(1));
    assert_eq!(
        spawn("no-such-role", &[]).wait().unwrap(),
        Ended::Exited(70)
    );
    let mut sleeper = spawn("sleep", &[]);
    sleeper.signal(libc::SIGKILL).unwrap();
    assert_eq!(sleeper.wait().unwrap(), Ended::Signal(libc::SIGKILL));
    assert!(
        sleeper.signal(libc::SIGKILL).is_err(),
        "no signal to a reaped pid"
    );
}

#[test]
fn a_dropped_child_is_killed_and_reaped() {
    let sleeper = spawn("sleep", &[]);
    let pid = sleeper.pid() as i32;
    drop(sleeper);
    // SAFETY: waitpid on a pid that is no longer our child just fails with ECHILD.
    let rc = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
    assert_eq!(rc, -1, "the child was reaped by drop");
}
