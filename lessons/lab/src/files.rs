//! Small file and terminal helpers every binary of the workspace shares, so that no input
//! or environment can make one hang or panic: files are read only when they are regular
//! files and small enough, paths and foreign text are printed with control characters
//! escaped, and writes to a closed or full stdout or stderr are errors, not panics.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::Path;

/// Reads `path` whole when it is a regular file of at most `cap` bytes. It never blocks
/// on open (a FIFO is refused, not waited on) and never reads more than `cap + 1` bytes (a
/// link to `/dev/zero` is refused, not read forever).
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut out = Vec::new();
    file.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {}", crate::size::fmt(cap)),
        ));
    }
    Ok(out)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_text_capped(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// `text` with control characters (newlines, terminal escapes) shown as `\u{..}` escapes,
/// so foreign text — a path, a string from another machine's report — stays on one line
/// and cannot drive the terminal.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A path for a one-line message: lossy UTF-8, control characters escaped.
pub fn show(path: &Path) -> String {
    printable(&path.to_string_lossy())
}

/// Writes `text` to standard output; a reader that went away (`| head`) is not an error,
/// any other failure (a full disk) is.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// Writes one line to standard error, ignoring failure: a message about a failure must not
/// itself fail (stderr closed or on a full device).
pub fn warn(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// `println!` that cannot panic: a line to standard output, a failure to write it ignored.
/// For progress messages; a report goes through [`write_stdout`], whose failure matters.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = $crate::files::write_stdout(&format!("{}\n", format_args!($($arg)*)));
    }};
}

/// `eprintln!` that cannot panic: see [`warn`].
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::files::warn(&format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"hello").unwrap();
        assert_eq!(read_capped(&small, 5).unwrap(), b"hello");
        assert!(read_capped(&small, 4).is_err());
        assert!(read_capped(dir.path(), 100).is_err());
        #[cfg(unix)]
        {
            assert!(read_capped(Path::new("/dev/zero"), 100).is_err());
            let fifo = dir.path().join("fifo");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            // SAFETY: mkfifo reads the NUL-terminated path, which outlives the call.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            // Opening a FIFO with no writer would block forever without O_NONBLOCK.
            assert!(read_capped(&fifo, 100).is_err());
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\u{a}b\\u{1b}[31m");
        assert_eq!(show(Path::new("/tmp/x\ny")), "/tmp/x\\u{a}y");
    }
}
