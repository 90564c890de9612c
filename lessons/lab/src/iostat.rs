//! I/O beyond page faults: the bytes this process made the kernel write to storage, the
//! bytes its disk really received, and how many files the process may hold open at once.
//!
//! [`disk_write_bytes`] is the writing twin of
//! [`measure::disk_read_bytes`](crate::measure::disk_read_bytes). Linux counts a page when
//! this process first dirties it — by `write(2)` or by a store through a shared map — so
//! the difference across a step is what the kernel accounts that step as writing, in whole
//! pages (or larger folios), however few bytes it changed. [`device_written_bytes`] says
//! what the block device then received, which for `write(2)` may be only the blocks changed.

/// Bytes this process has caused to be written to storage so far (`write_bytes` of
/// `/proc/self/io`): every page (or folio) it dirtied, through `write(2)` or a shared map,
/// counted once until it is written back. `None` without procfs or task I/O accounting.
pub fn disk_write_bytes() -> Option<u64> {
    io_field("write_bytes:")
}

/// Bytes written to the block device that holds `path`, by every process, since boot
/// (sectors written in `/sys/dev/block/MAJ:MIN/stat`, 512 bytes each): what really reached
/// the device — a write-back of one dirty block, or of a whole large folio. Machine-wide,
/// so other processes' writes meanwhile count too. `None` where there is no such device
/// (tmpfs, overlay filesystems) or no sysfs.
#[cfg(target_os = "linux")]
pub fn device_written_bytes(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let text = crate::sys::read_proc(&format!("/sys/dev/block/{major}:{minor}/stat"))?;
    sectors_written(&text).map(|s| s * 512)
}

#[cfg(not(target_os = "linux"))]
pub fn device_written_bytes(_path: &std::path::Path) -> Option<u64> {
    None
}

/// The seventh field of a block device's `stat`: sectors written.
fn sectors_written(stat: &str) -> Option<u64> {
    stat.split_whitespace().nth(6)?.parse().ok()
}

fn io_field(name: &str) -> Option<u64> {
    let text = crate::sys::read_proc("/proc/self/io")?;
    parse_field(&text, name)
}

fn parse_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
}

/// Raises this process's limit of open files (`RLIMIT_NOFILE`, soft) to at least `want`
/// when the hard limit allows, and returns the limit in force afterwards: for a lesson that
/// holds thousands of data files in use at once, where a distribution's default of 1,024
/// would stop it. `None` where the platform cannot say.
pub fn raise_open_files(want: u64) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `struct rlimit` into the pointer, which points to a
        // live, properly aligned value of that type.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        if lim.rlim_cur >= want {
            return Some(lim.rlim_cur);
        }
        let raised = libc::rlimit {
            rlim_cur: want.min(lim.rlim_max),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the `struct rlimit` behind the pointer, which lives
        // across the call; a soft limit at most the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Some(lim.rlim_cur);
        }
        Some(raised.rlim_cur)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = want;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_fields_are_parsed() {
        let text = "rchar: 10\nwchar: 20\nread_bytes: 4096\nwrite_bytes: 8192\n\
                    cancelled_write_bytes: 0\n";
        assert_eq!(parse_field(text, "write_bytes:"), Some(8192));
        assert_eq!(parse_field(text, "read_bytes:"), Some(4096));
        assert_eq!(parse_field(text, "nothing:"), None);
        let stat = "  120  3  9000  40  77  5  6160  90  0  100  130\n";
        assert_eq!(sectors_written(stat), Some(6160));
        assert_eq!(sectors_written("1 2 3"), None);
    }

    #[test]
    fn a_store_through_a_shared_map_counts_a_whole_page() {
        let Some(before) = disk_write_bytes() else {
            return; // no task I/O accounting here
        };
        let dir = tempfile::tempdir_in(crate::data::target_dir()).unwrap();
        let path = dir.path().join("page");
        std::fs::write(&path, vec![0u8; 4 * crate::cache::page_size()]).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        file.sync_all().unwrap();
        let mid = disk_write_bytes().unwrap();
        assert!(mid >= before);
        // SAFETY: the test's own file in its own directory; nothing else opens it.
        let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.unwrap();
        map[1] = 1;
        map.flush().unwrap();
        let after = disk_write_bytes().unwrap();
        if crate::sys::fs_type(dir.path()).is_some_and(|t| t == "tmpfs") {
            return; // tmpfs writes to no disk
        }
        assert!(
            after - mid >= crate::cache::page_size() as u64,
            "{mid} → {after}"
        );
        if let Some(dev) = device_written_bytes(dir.path()) {
            assert!(device_written_bytes(dir.path()).is_some_and(|now| now >= dev));
        }
    }

    #[test]
    fn the_open_files_limit_is_at_least_what_was_there() {
        if let Some(now) = raise_open_files(16) {
            assert!(now >= 16);
        }
    }
}
