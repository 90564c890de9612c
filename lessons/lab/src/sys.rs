//! The only place that talks to the operating system beyond `std`: `mincore`,
//! `posix_fadvise`, `getrusage`, `statvfs`, `/proc` and `/sys`. Each function returns `None`
//! (or an "not available here" error) where the platform cannot answer.

use std::fs::File;
use std::io;
use std::path::Path;
use std::time::Duration;

/// CPU time and page faults of this process so far (`getrusage(RUSAGE_SELF)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rusage {
    pub user: Duration,
    pub sys: Duration,
    pub minflt: u64,
    pub majflt: u64,
}

#[cfg(unix)]
pub fn rusage() -> Option<Rusage> {
    rusage_of(libc::RUSAGE_SELF)
}

/// The same for the calling thread alone (`RUSAGE_THREAD`, Linux).
#[cfg(target_os = "linux")]
pub fn thread_rusage() -> Option<Rusage> {
    rusage_of(libc::RUSAGE_THREAD)
}

#[cfg(not(target_os = "linux"))]
pub fn thread_rusage() -> Option<Rusage> {
    None
}

#[cfg(unix)]
fn rusage_of(who: libc::c_int) -> Option<Rusage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `struct rusage` into the pointer we pass, which points to
    // zeroed memory of exactly that type; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    let rc = unsafe { libc::getrusage(who, ru.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: getrusage returned 0, so it filled the struct (and it was zeroed before).
    let ru = unsafe { ru.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Some(Rusage {
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        minflt: ru.ru_minflt as u64,
        majflt: ru.ru_majflt as u64,
    })
}

#[cfg(not(unix))]
pub fn rusage() -> Option<Rusage> {
    None
}

/// The page size of this machine.
#[cfg(unix)]
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 { v as usize } else { 4096 }
}

#[cfg(not(unix))]
pub fn page_size() -> usize {
    4096
}

/// For each page of `mem`, whether it is resident in memory (`mincore`).
#[cfg(unix)]
pub fn mincore(mem: &[u8]) -> io::Result<Vec<bool>> {
    let page = page_size();
    let start = mem.as_ptr() as usize;
    let aligned = start & !(page - 1);
    let len = mem.len() + (start - aligned);
    let pages = len.div_ceil(page);
    if mem.is_empty() {
        return Ok(Vec::new());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    type Cell = libc::c_uchar;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    type Cell = libc::c_char;
    let mut vec: Vec<Cell> = vec![0; pages];
    // SAFETY: `aligned..aligned+len` covers the pages of `mem`, a live mapping we borrow, so
    // the range is mapped; `vec` has one byte per page of that range, as mincore requires.
    let rc = unsafe { libc::mincore(aligned as *mut libc::c_void, len, vec.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(vec.into_iter().map(|b| b & 1 == 1).collect())
}

#[cfg(not(unix))]
pub fn mincore(_mem: &[u8]) -> io::Result<Vec<bool>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "mincore is not available here",
    ))
}

/// `posix_fadvise(POSIX_FADV_DONTNEED)` over the whole file.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub fn fadvise_dontneed(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `file`, which is open for the duration of the call;
    // offset 0 with length 0 means "to the end of the file".
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub fn fadvise_dontneed(_file: &File) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "posix_fadvise is not available here",
    ))
}

/// `posix_fadvise(POSIX_FADV_RANDOM)`: no readahead for this descriptor's reads, so a few
/// sampled pages read only those pages. A hint: where it is not available, nothing happens.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub fn fadvise_random(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: as in `fadvise_dontneed`: a descriptor of an open file, the whole file.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_RANDOM) };
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub fn fadvise_random(_file: &File) {}

/// Bytes available to an unprivileged user on the filesystem holding `path` (`statvfs`).
#[cfg(unix)]
pub fn free_disk(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` points to a zeroed `struct statvfs`.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let st = unsafe { st.assume_init() };
    // The field types differ between platforms (u32 on some 32-bit ones).
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(not(unix))]
pub fn free_disk(_path: &Path) -> io::Result<u64> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "free disk space is not available here",
    ))
}

/// Fixes glibc's mmap threshold at its default 128 KiB (`mallopt(M_MMAP_THRESHOLD)`), which
/// also stops glibc from raising it after each free. Returns false elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn fix_mmap_threshold() -> bool {
    // SAFETY: mallopt takes no pointers; it changes allocator tuning under glibc's own
    // lock, and blocks allocated before the change are freed correctly after it.
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_mmap_threshold() -> bool {
    false
}

/// Reads a `/proc` or `/sys` file; `None` where it does not exist (other platforms).
pub fn read_proc(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Resets this process's peak RSS (`VmHWM`) to its current RSS: writes `5` to
/// `/proc/self/clear_refs` (Linux 4.0+). Returns false where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The filesystem type (as `/proc/self/mountinfo` names it) of the mount holding `path`.
pub fn fs_type(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let info = read_proc("/proc/self/mountinfo")?;
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let (Some(mount), Some(fstype)) = (left.split(' ').nth(4), right.split(' ').next()) else {
            continue;
        };
        let (mount, fstype) = (unescape_mount(mount), fstype.to_string());
        if path.starts_with(&mount) {
            let depth = mount.components().count();
            if best.as_ref().is_none_or(|(d, _)| depth >= *d) {
                best = Some((depth, fstype));
            }
        }
    }
    best.map(|(_, t)| t)
}

fn unescape_mount(field: &str) -> std::path::PathBuf {
    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    let mut out = Vec::new();
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        if bytes[i] == b'\\'
            && let Some(v) = octal
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    std::path::PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}

/// The readahead window (`read_ahead_kb`, in KiB) of the block device holding `path`:
/// how much the kernel reads around a page fault or ahead of a sequential read.
#[cfg(target_os = "linux")]
pub fn read_ahead_kb(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let base = format!("/sys/dev/block/{major}:{minor}");
    // A partition has no queue of its own; its disk's is one level up.
    [
        format!("{base}/queue/read_ahead_kb"),
        format!("{base}/../queue/read_ahead_kb"),
    ]
    .iter()
    .find_map(|p| read_proc(p)?.trim().parse().ok())
}

#[cfg(not(target_os = "linux"))]
pub fn read_ahead_kb(_path: &Path) -> Option<u64> {
    None
}

/// Whether a process with this pid exists (used to tell a live writer's temporary file from
/// one left by an interrupted run).
#[cfg(unix)]
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the pid exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
pub fn process_alive(_pid: u32) -> bool {
    true
}

/// The width of the terminal on standard output, in columns; `None` when it is not a
/// terminal (or elsewhere than Unix).
#[cfg(unix)]
pub fn terminal_width() -> Option<usize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which points to a live,
    // writable `winsize` for the duration of the call.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

#[cfg(not(unix))]
pub fn terminal_width() -> Option<usize> {
    None
}

/// Sends `signal` to process `pid` (`kill(2)`).
#[cfg(unix)]
pub fn send_signal(pid: u32, signal: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    // SAFETY: kill takes two integers and touches no memory of ours.
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
pub fn send_signal(_pid: u32, _signal: i32) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "signals are not available here",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(
            unescape_mount(r"/mnt/my\040disk"),
            Path::new("/mnt/my disk")
        );
        assert_eq!(unescape_mount("/"), Path::new("/"));
    }
}
