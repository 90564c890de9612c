//! The machine fingerprint that heads every report, so numbers are never read without the
//! hardware and kernel that produced them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{measure, sys};

/// Where a report was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Operating system, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os: String,
    /// Kernel release, e.g. `6.18.44`.
    pub kernel: String,
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs this process may use.
    pub cores: usize,
    /// Total RAM in bytes.
    pub ram_bytes: u64,
    /// Page size in bytes.
    pub page_size: usize,
    /// Filesystem type of the data directory (`ext4`, `xfs`, `tmpfs`, ...).
    pub fs: String,
    /// Transparent huge pages mode: the bracketed word of
    /// `/sys/kernel/mm/transparent_hugepage/enabled`.
    pub thp: String,
    /// The readahead window of the data directory's disk in KiB (`read_ahead_kb`), when it
    /// is a block device: it decides how many pages one cold page fault brings in.
    #[serde(default)]
    pub read_ahead_kb: Option<u64>,
    /// The compiler that built the lesson.
    pub rustc: String,
}

const UNKNOWN: &str = "unknown";

impl Machine {
    /// Fingerprints this machine, with `data_dir` naming the filesystem of interest.
    pub fn detect(data_dir: &Path) -> Machine {
        use sysinfo::{CpuRefreshKind, RefreshKind, System};
        let sys =
            System::new_with_specifics(RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()))
                .ok();
        let cpu = sys
            .as_ref()
            .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        Machine {
            os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
            kernel: System::kernel_version().unwrap_or_else(|_| UNKNOWN.into()),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ram_bytes: measure::system_memory().map_or(0, |m| m.total),
            page_size: sys::page_size(),
            fs: sys::fs_type(data_dir).unwrap_or_else(|| UNKNOWN.into()),
            thp: sys::read_proc("/sys/kernel/mm/transparent_hugepage/enabled")
                .and_then(|t| bracketed(&t))
                .unwrap_or_else(|| "not available here".into()),
            read_ahead_kb: sys::read_ahead_kb(data_dir),
            rustc: env!("MMAP_LAB_RUSTC_VERSION").into(),
        }
    }

    /// The readahead window in bytes (saturating: a report from elsewhere may hold any
    /// number).
    pub fn read_ahead_bytes(&self) -> Option<u64> {
        self.read_ahead_kb.map(|kb| kb.saturating_mul(1024))
    }

    /// One line: `Debian GNU/Linux 12 (bookworm), kernel 6.18 · 2 cores · 23.4 GiB · ext4 ·
    /// readahead 128 KiB · THP madvise`: the OS of the machine that measured, which is not
    /// the one rendering when this is a reference from elsewhere.
    pub fn summary(&self) -> String {
        let readahead = self
            .read_ahead_bytes()
            .map(|b| format!(" · readahead {}", crate::size::fmt(b)))
            .unwrap_or_default();
        format!(
            "{}, kernel {} · {} cores · {} · {}{readahead} · THP {}",
            self.os,
            self.kernel,
            self.cores,
            crate::size::fmt(self.ram_bytes),
            self.fs,
            self.thp
        )
    }
}

/// Where the program `name` (a peer such as `python3` or `sqlite3`) is on `PATH`: the first
/// directory of `PATH` holding an executable file of that name. `None` when it is not
/// installed, so a lesson can say "python3 not found — skipped" instead of failing.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

fn bracketed(text: &str) -> Option<String> {
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    Some(text[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thp_mode_is_the_bracketed_word() {
        assert_eq!(
            bracketed("always [madvise] never\n").as_deref(),
            Some("madvise")
        );
        assert_eq!(bracketed("always madvise never"), None);
    }

    #[test]
    fn programs_are_found_only_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("mmap-lab-tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // Changing PATH would race with other tests (the environment is process-wide), so
        // look up a name that is on no PATH and check the executable test directly.
        assert_eq!(find_program("mmap-lab-no-such-program-here"), None);
        assert!(is_executable(&tool));
        assert!(!is_executable(dir.path()));
    }

    #[test]
    fn an_absurd_readahead_from_another_report_does_not_overflow() {
        let mut m = Machine::detect(Path::new("."));
        m.read_ahead_kb = Some(1 << 54);
        assert_eq!(m.read_ahead_bytes(), Some(u64::MAX));
        assert!(m.summary().contains("readahead"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn detects_this_linux_machine() {
        let m = Machine::detect(Path::new("."));
        assert!(m.cores >= 1);
        assert!(m.ram_bytes > 0);
        assert!(m.page_size >= 4096 && m.page_size.is_power_of_two());
        assert_ne!(m.fs, UNKNOWN);
        assert!(m.rustc.starts_with("rustc "), "{}", m.rustc);
    }
}
