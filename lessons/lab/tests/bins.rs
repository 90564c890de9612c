//! The `lessons` binary never panics, whatever its arguments or its stdout.

use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_lessons");

#[test]
fn an_argument_that_is_not_utf8_is_bad_usage_not_a_panic() {
    let arg = std::ffi::OsStr::from_bytes(b"package\xff");
    let out = Command::new(BIN).arg(arg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["package"])
        .arg(std::ffi::OsStr::from_bytes(b"\xfe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no lesson"));
}

#[test]
fn a_full_stdout_is_an_error_and_a_closed_one_is_not() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(BIN)
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("write to stdout"));
    let mut child = Command::new(BIN).stdout(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
