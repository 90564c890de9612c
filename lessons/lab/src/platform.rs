//! The mapping behaviour that differs between platforms, for the lessons that show it on
//! purpose: `mmap(2)` taken literally (no rounding of offsets, no special case for an empty
//! file, which memmap2 adds), the allocation granularity as the kernel applies it,
//! `madvise(MADV_POPULATE_READ)` — the probe that answers with an error where a touch
//! would raise SIGBUS — and truncating a file that is mapped. Each function says "not
//! available here" (`ErrorKind::Unsupported`) where the platform has no such call.

use std::fs::File;
use std::io;

use memmap2::MmapRaw;

/// Signal numbers a child may die of (they differ between platforms: SIGBUS is 7 on Linux
/// x86-64 and arm64, 10 on macOS and the BSDs).
#[cfg(unix)]
pub const SIGBUS: i32 = libc::SIGBUS;
/// See [`SIGBUS`].
#[cfg(unix)]
pub const SIGSEGV: i32 = libc::SIGSEGV;
/// Where processes are not ended by signals no child reports one; the numbers only name
/// them in messages.
#[cfg(not(unix))]
pub const SIGBUS: i32 = 7;
/// See [`SIGBUS`].
#[cfg(not(unix))]
pub const SIGSEGV: i32 = 11;

/// The name of a signal number: `SIGBUS`, `SIGSEGV`, `SIGKILL`, or `signal N`.
pub fn signal_name(signal: i32) -> String {
    match signal {
        s if s == SIGBUS => "SIGBUS".into(),
        s if s == SIGSEGV => "SIGSEGV".into(),
        9 => "SIGKILL".into(),
        s => format!("signal {s}"),
    }
}

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} is not available here"),
    )
}

/// Asks `mmap(2)` for `len` bytes of `file` from `offset`, exactly as given (read-only,
/// shared), and unmaps at once: `Ok` when the kernel accepted, its error (`EINVAL` for an
/// offset that is not a multiple of the page size, or a length of 0) otherwise.
#[cfg(unix)]
pub fn try_map(file: &File, offset: u64, len: usize) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let offset = libc::off_t::try_from(offset)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset out of range"))?;
    // SAFETY: a new read-only mapping at an address the kernel chooses cannot overlap any
    // memory Rust uses; nothing reads through it, and it is unmapped right below.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            offset,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `addr..addr+len` is exactly the mapping mmap returned above, used by no one.
    unsafe { libc::munmap(addr, len) };
    Ok(())
}

/// See the Unix version: no `mmap(2)` here.
#[cfg(not(unix))]
pub fn try_map(_file: &File, _offset: u64, _len: usize) -> io::Result<()> {
    Err(unsupported("mmap(2)"))
}

/// The allocation granularity as the kernel applies it: the smallest power-of-two offset
/// (1 byte to 1 MiB) at which [`try_map`] maps one page of `file`. On Linux that is the page
/// size; Windows documents 64 KiB.
pub fn granularity(file: &File) -> io::Result<u64> {
    let page = crate::cache::page_size();
    let mut last = unsupported("a mapping offset up to 1 MiB");
    for shift in 0..=20 {
        match try_map(file, 1 << shift, page) {
            Ok(()) => return Ok(1 << shift),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// `madvise(MADV_POPULATE_READ)` over the whole map (Linux 5.14+): faults every page in, or
/// fails — `EFAULT` where a page lies past the end of the file — where touching the pages
/// would raise SIGBUS. A kernel without it (`EINVAL`), or another platform, gives
/// `Unsupported`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn populate_read(map: &MmapRaw) -> io::Result<()> {
    // SAFETY: the range is the whole of a live mapping that `map` owns; MADV_POPULATE_READ
    // only faults pages in (or reports that it cannot) and changes no memory.
    let rc = unsafe { libc::madvise(map.as_mut_ptr().cast(), map.len(), libc::MADV_POPULATE_READ) };
    if rc == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINVAL) {
        return Err(unsupported("MADV_POPULATE_READ (Linux 5.14+)"));
    }
    Err(e)
}

/// See the Linux version.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn populate_read(_map: &MmapRaw) -> io::Result<()> {
    Err(unsupported("MADV_POPULATE_READ"))
}

/// The name of an OS error number such as `EFAULT`, for reports; `errno N` for others.
pub fn errno_name(e: &io::Error) -> String {
    #[cfg(unix)]
    let known = [
        (libc::EINVAL, "EINVAL"),
        (libc::EFAULT, "EFAULT"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EACCES, "EACCES"),
    ];
    #[cfg(not(unix))]
    let known: [(i32, &str); 0] = [];
    match e.raw_os_error() {
        Some(n) => known
            .iter()
            .find(|(k, _)| *k == n)
            .map_or_else(|| format!("errno {n}"), |(_, name)| (*name).to_string()),
        None => e.to_string(),
    }
}

/// Sets the length of a file that may be mapped (`ftruncate(2)`). Linux allows it and
/// readers of the vanished pages get SIGBUS; Windows refuses while a view is mapped
/// (`ERROR_USER_MAPPED_FILE`, 1224).
pub fn set_len_mapped(file: &File, len: u64) -> io::Result<()> {
    file.set_len(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn the_kernel_refuses_what_memmap2_rounds_and_the_probe_reports_a_truncated_page() {
        let page = crate::cache::page_size();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 4 * page]).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        assert_eq!(errno_name(&try_map(&file, 1, page).unwrap_err()), "EINVAL");
        assert_eq!(errno_name(&try_map(&file, 0, 0).unwrap_err()), "EINVAL");
        try_map(&file, page as u64, page).unwrap();
        assert_eq!(granularity(&file).unwrap(), page as u64);
        let map = memmap2::MmapOptions::new()
            .map_raw_read_only(&file)
            .unwrap();
        match populate_read(&map) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => return,
            r => r.unwrap(),
        }
        set_len_mapped(&file, page as u64).unwrap();
        assert_eq!(errno_name(&populate_read(&map).unwrap_err()), "EFAULT");
        assert_eq!(signal_name(SIGBUS), "SIGBUS");
        assert_eq!(signal_name(3), "signal 3");
    }
}
