//! What the kernel does on its own for a file a lesson maps, as a lesson can watch it: a
//! file's state in the page cache from `cachestat(2)` (pages cached, dirty, under
//! writeback, and evicted by reclaim — Linux 6.5+), the kernel's writeback schedule
//! (`vm.dirty_expire_centisecs`, `vm.dirty_writeback_centisecs`) and the size of this
//! process's page tables (`VmPTE`).
//!
//! `cachestat` counts as evicted only the pages that memory reclaim pushed out (it leaves
//! a shadow entry behind, `mm/workingset.c`); pages dropped on request with
//! `posix_fadvise(POSIX_FADV_DONTNEED)` leave none. So its `evicted` count is eviction the
//! program did not ask for. A page that is read back replaces its shadow entry, and the
//! kernel prunes shadow entries under pressure: the count is a lower bound.

use std::fs::File;
use std::io;
use std::time::Duration;

/// A file's pages in the page cache (`struct cachestat`), in pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStat {
    /// Pages of the file in the page cache.
    pub cached: u64,
    /// Of those, pages written to in memory and not yet written back to the disk.
    pub dirty: u64,
    /// Pages being written back right now.
    pub writeback: u64,
    /// Pages memory reclaim evicted (and that have not been read back since).
    pub evicted: u64,
    /// Of the evicted pages, those evicted recently enough to count as a refault if read.
    pub recently_evicted: u64,
}

/// The page-cache state of the whole of `file` (`cachestat(2)`, Linux 6.5+). An older
/// kernel or another platform gives an `Unsupported` error.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "loongarch64"
    )
))]
pub fn cachestat(file: &File) -> io::Result<CacheStat> {
    use std::os::fd::AsRawFd;
    /// The number of `cachestat` in the syscall table these architectures share.
    const SYS_CACHESTAT: libc::c_long = 451;
    /// `struct cachestat_range`: offset 0 and length 0 mean the whole file.
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    let range = Range { off: 0, len: 0 };
    let mut out = [0u64; 5];
    // SAFETY: cachestat reads one `struct cachestat_range` (two u64) from `range` and writes
    // one `struct cachestat` (five u64) into `out`, both live for the call; the descriptor
    // is the open file's; flags must be 0.
    let rc = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            file.as_raw_fd(),
            &range as *const Range,
            out.as_mut_ptr(),
            0u32,
        )
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENOSYS) {
            return Err(unsupported("cachestat(2) (Linux 6.5+)"));
        }
        return Err(e);
    }
    let [cached, dirty, writeback, evicted, recently_evicted] = out;
    Ok(CacheStat {
        cached,
        dirty,
        writeback,
        evicted,
        recently_evicted,
    })
}

/// See the Linux version: no `cachestat(2)` here.
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "loongarch64"
    )
)))]
pub fn cachestat(_file: &File) -> io::Result<CacheStat> {
    Err(unsupported("cachestat(2)"))
}

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} is not available here"),
    )
}

/// The kernel's writeback schedule: a dirty file is written back once its oldest dirty
/// page is `expire` old (`vm.dirty_expire_centisecs`), checked by the flusher threads every
/// `interval` (`vm.dirty_writeback_centisecs`). Unless memory runs short of clean pages (the
/// dirty background threshold), that is how long a write through a shared map stays only
/// in memory when the program does not sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writeback {
    pub expire: Duration,
    pub interval: Duration,
}

impl Writeback {
    /// The longest the kernel should take to start writing back a page dirtied now.
    pub fn deadline(&self) -> Duration {
        self.expire + self.interval
    }
}

/// This machine's writeback schedule; `None` where `/proc/sys/vm` does not say.
pub fn writeback() -> Option<Writeback> {
    let centisecs = |name: &str| {
        let text = crate::sys::read_proc(&format!("/proc/sys/vm/{name}"))?;
        let cs: u64 = text.trim().parse().ok()?;
        Some(Duration::from_millis(cs * 10))
    };
    Some(Writeback {
        expire: centisecs("dirty_expire_centisecs")?,
        interval: centisecs("dirty_writeback_centisecs")?,
    })
}

/// The memory this process's page tables take (`VmPTE` of `/proc/self/status`), in bytes:
/// mapping a file costs page-table entries for every page touched. `None` without procfs.
pub fn page_table_bytes() -> Option<u64> {
    let text = crate::sys::read_proc("/proc/self/status")?;
    let line = text.lines().find_map(|l| l.strip_prefix("VmPTE:"))?;
    let kib: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn cachestat_counts_cached_and_dirty_pages_and_no_eviction_for_dontneed() {
        // In the target directory: /tmp may be tmpfs, where nothing can be evicted.
        let dir = tempfile::tempdir_in(crate::data::target_dir()).unwrap();
        let path = dir.path().join("f");
        let page = crate::cache::page_size();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&vec![7u8; 16 * page])
            .unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let before = match cachestat(&file) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => return,
            r => r.unwrap(),
        };
        assert_eq!(before.cached, 16, "{before:?}");
        // SAFETY: the test's own file; nothing else truncates it while it is mapped.
        let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.unwrap();
        map[0] = 1;
        map[3 * page] = 1;
        let dirty = cachestat(&file).unwrap();
        assert!(dirty.dirty + dirty.writeback >= 2, "{dirty:?}");
        map.flush().unwrap();
        drop(map);
        crate::cache::evict(&path).unwrap();
        let after = cachestat(&file).unwrap();
        assert_eq!((after.cached, after.dirty, after.evicted), (0, 0, 0));
    }

    #[test]
    fn the_writeback_schedule_and_page_tables_are_read_where_linux_has_them() {
        if std::path::Path::new("/proc/sys/vm").exists() {
            let w = writeback().unwrap();
            assert!(w.deadline() > w.expire);
            assert!(page_table_bytes().is_some());
        }
    }
}
