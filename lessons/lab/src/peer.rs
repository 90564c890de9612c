//! Real peers run beside a lesson's Rust: the notes' own Python, and command-line tools.
//!
//! One protocol for every Python peer: the lesson passes a script (the notes' snippet with
//! a few lines that measure it) and arguments; the script prints **one JSON object** as the
//! last line of its standard output; [`python`] parses it into the lesson's own type. A
//! missing interpreter is not a failure: the lesson says "not installed — skipped".

use std::ffi::OsStr;
use std::process::Command;
use std::time::Instant;

use serde::de::DeserializeOwned;

use crate::machine::find_program;
use crate::quantity::Secs;

/// What running a peer gave.
#[derive(Debug)]
pub enum Peer<T> {
    /// It ran and printed its result.
    Ran(Ran<T>),
    /// The program is not installed.
    Missing,
    /// It ran and failed, or printed no result; the text says how.
    Failed(String),
}

/// A peer's result and the wall time of its whole process (start-up included).
#[derive(Debug, Clone)]
pub struct Ran<T> {
    pub out: T,
    pub wall: Secs,
}

/// Runs `python3 -I -c SCRIPT ARGS...` (isolated: no user site-packages, no `PYTHON*`
/// variables) and parses the last line of its output as JSON.
pub fn python<T: DeserializeOwned>(script: &str, args: &[&OsStr]) -> Peer<T> {
    let Some(python) = find_program("python3") else {
        return Peer::Missing;
    };
    let t0 = Instant::now();
    let out = Command::new(python)
        .args(["-I", "-c", script])
        .args(args)
        .output();
    let wall = Secs::of(t0.elapsed());
    let out = match out {
        Ok(out) => out,
        Err(e) => return Peer::Failed(format!("could not start python3: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Peer::Failed(format!(
            "python3 exited with {}: {}",
            out.status,
            last.trim()
        ));
    }
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    match serde_json::from_str(last) {
        Ok(v) => Peer::Ran(Ran { out: v, wall }),
        Err(e) => Peer::Failed(format!("python3 printed no result ({e}): {}", last.trim())),
    }
}

/// What a command-line peer printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Printed {
    /// Its exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs the program `name` found on `PATH` ([`find_program`]) with `args` and the variables
/// `env` added to the environment, capturing its output and the wall time of the whole
/// process (start-up included): a real tool raced beside the Rust. `Missing` when it is not
/// installed, `Failed` only when it could not be started; what its exit code means is the
/// caller's to judge (`grep` exits 1 when nothing matched).
pub fn program(name: &str, args: &[&OsStr], env: &[(&str, &str)]) -> Peer<Printed> {
    let Some(path) = find_program(name) else {
        return Peer::Missing;
    };
    let t0 = Instant::now();
    let out = Command::new(path)
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output();
    let wall = Secs::of(t0.elapsed());
    match out {
        Ok(out) => Peer::Ran(Ran {
            out: Printed {
                code: out.status.code(),
                stdout: out.stdout,
                stderr: out.stderr,
            },
            wall,
        }),
        Err(e) => Peer::Failed(format!("could not start {name}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_peer_returns_its_json_or_says_why_not() {
        #[derive(serde::Deserialize, Debug)]
        struct Out {
            n: u32,
        }
        match python::<Out>(
            "import sys, json\nprint('chatter')\nprint(json.dumps({'n': int(sys.argv[1])}))",
            &[OsStr::new("7")],
        ) {
            Peer::Ran(r) => assert_eq!(r.out.n, 7),
            Peer::Missing => eprintln!("python3 not installed — test skipped"),
            Peer::Failed(e) => panic!("{e}"),
        }
        if let Peer::Failed(e) = python::<Out>("raise SystemExit(3)", &[]) {
            assert!(e.contains("exit"), "{e}");
        }
        if let Peer::Failed(e) = python::<Out>("print('no json')", &[]) {
            assert!(e.contains("no result"), "{e}");
        }
    }

    #[test]
    fn a_program_peer_prints_or_is_missing() {
        match program(
            "sh",
            &[OsStr::new("-c"), OsStr::new("echo $X; exit 3")],
            &[("X", "hi")],
        ) {
            Peer::Ran(r) => {
                assert_eq!(r.out.code, Some(3));
                assert_eq!(r.out.stdout, b"hi\n");
            }
            Peer::Missing => eprintln!("sh not installed — test skipped"),
            Peer::Failed(e) => panic!("{e}"),
        }
        assert!(matches!(
            program("mmap-lab-no-such-program-here", &[], &[]),
            Peer::Missing
        ));
    }
}
