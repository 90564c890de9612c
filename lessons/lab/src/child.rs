//! Dangerous demos in child processes of the lesson itself: a writer killed with SIGKILL, a
//! reader that dies of SIGBUS, racing writers. The lesson binary starts itself again with
//! [`spawn`] and a role name; [`dispatch`], the first call of the lesson's `main`, runs that
//! role instead of the lesson. The parent survives whatever the child does, and every child
//! is reaped: a [`Child`] that is dropped is killed and waited for.

use std::ffi::OsStr;
use std::io;
use std::process::{Command, Stdio};

/// The variable that tells a lesson binary it was started as a child, and in which role.
const ROLE: &str = "MMAP_LAB_CHILD_ROLE";

/// A role: its name and the function that runs it, given the child's arguments; its return
/// value is the child's exit code.
pub type Role = (&'static str, fn(&[String]) -> i32);

/// Runs the role this process was started in, if any, and exits with its code; returns at
/// once in a lesson started by a person. An unknown role exits with 70.
pub fn dispatch(roles: &[Role]) {
    let Some(name) = std::env::var_os(ROLE) else {
        return;
    };
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = roles
        .iter()
        .find(|(n, _)| OsStr::new(n) == name)
        .map_or(70, |(_, run)| run(&args));
    std::process::exit(code);
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it (7 is SIGBUS, 9 SIGKILL, 11 SIGSEGV on Linux x86-64).
    Signal(i32),
}

/// A running child; killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub struct Child {
    inner: std::process::Child,
    reaped: bool,
}

/// Starts this binary as a child in `role`, with `args`; its stdin, stdout and stderr are
/// pipes the parent may use ([`Child::inner`]).
pub fn spawn(role: &str, args: &[&OsStr]) -> io::Result<Child> {
    let inner = Command::new(std::env::current_exe()?)
        .args(args)
        .env(ROLE, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    Ok(Child {
        inner,
        reaped: false,
    })
}

impl Child {
    pub fn pid(&self) -> u32 {
        self.inner.id()
    }

    /// The underlying process, for its pipes.
    pub fn inner(&mut self) -> &mut std::process::Child {
        &mut self.inner
    }

    /// Sends `signal` (SIGKILL, SIGSTOP, ...); an error once the child has been reaped.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        if self.reaped {
            return Err(io::Error::other("the child was already reaped"));
        }
        crate::sys::send_signal(self.inner.id(), signal)
    }

    /// Waits for the child to end and says how.
    pub fn wait(&mut self) -> io::Result<Ended> {
        let status = self.inner.wait()?;
        self.reaped = true;
        Ok(ended(status))
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.inner.kill();
            let _ = self.inner.wait();
        }
    }
}

#[cfg(unix)]
fn ended(status: std::process::ExitStatus) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ended::Exited(code),
        (None, Some(sig)) => Ended::Signal(sig),
        (None, None) => Ended::Exited(-1),
    }
}

#[cfg(not(unix))]
fn ended(status: std::process::ExitStatus) -> Ended {
    Ended::Exited(status.code().unwrap_or(-1))
}
