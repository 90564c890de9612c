//! Files a run must not leave behind if it is interrupted: SIGINT (Ctrl-C), SIGTERM and
//! SIGHUP remove them before the process dies of the signal.
//!
//! A file is registered with [`on_signal`] and the returned [`Registered`] guard takes it
//! off the list when dropped. The handler does only what is safe in a signal handler
//! (`flock`, `unlink`, `signal`, `raise`): it walks a fixed table of paths prepared in
//! advance, removes what it may, restores the default action and raises the signal again,
//! so the run still ends "killed by SIGINT" for its parent. Whatever a `kill -9` leaves is
//! swept by the next run ([`crate::data::DataDir::open`]).

#[cfg(unix)]
use std::ffi::CString;
use std::path::Path;

/// What the handler does with a registered path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Remove it: a temporary file of this process (a partial file being written).
    Always,
    /// Remove it and its sidecar unless another process uses it: `held` is this process's
    /// descriptor with a shared lock on it, which the handler tries to upgrade to an
    /// exclusive one; a file another run has locked too stays.
    UnlessShared { held: i32 },
}

/// A registration, undone on drop.
#[derive(Debug)]
pub struct Registered {
    #[cfg(unix)]
    slot: Option<usize>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(i) = self.slot {
            imp::release(i);
        }
    }
}

/// Registers `path` (with `sidecar`, removed alongside) for removal on a fatal signal.
/// Without room in the table (more than 64 files at once) or on other platforms, nothing
/// is registered and the next run's sweep is what cleans up.
pub fn on_signal(path: &Path, sidecar: Option<&Path>, how: Removal) -> Registered {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
        let slot = match (c(path), sidecar.map(c)) {
            (Some(p), None) => imp::claim(p, None, how),
            (Some(p), Some(Some(s))) => imp::claim(p, Some(s), how),
            _ => None,
        };
        Registered { slot }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, sidecar, how);
        Registered {}
    }
}

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::ptr;
    use std::sync::Once;
    use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};

    use super::Removal;

    const SLOTS: usize = 64;
    /// `fd` value of a slot whose file is removed unconditionally.
    const ALWAYS: i32 = -1;

    struct Slot {
        used: AtomicBool,
        path: AtomicPtr<libc::c_char>,
        sidecar: AtomicPtr<libc::c_char>,
        fd: AtomicI32,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        used: AtomicBool::new(false),
        path: AtomicPtr::new(ptr::null_mut()),
        sidecar: AtomicPtr::new(ptr::null_mut()),
        fd: AtomicI32::new(ALWAYS),
    };
    static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
    static INSTALL: Once = Once::new();

    pub(super) fn claim(path: CString, sidecar: Option<CString>, how: Removal) -> Option<usize> {
        INSTALL.call_once(install);
        let fd = match how {
            Removal::Always => ALWAYS,
            Removal::UnlessShared { held } => held,
        };
        let path = path.into_raw();
        for (i, slot) in TABLE.iter().enumerate() {
            if slot
                .used
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                slot.fd.store(fd, Ordering::Release);
                let side = sidecar.map_or(ptr::null_mut(), CString::into_raw);
                slot.sidecar.store(side, Ordering::Release);
                slot.path.store(path, Ordering::Release);
                return Some(i);
            }
        }
        // SAFETY: `path` came from `CString::into_raw` above and was stored nowhere.
        drop(unsafe { CString::from_raw(path) });
        None
    }

    pub(super) fn release(i: usize) {
        let slot = &TABLE[i];
        // The strings are leaked rather than freed: a handler running on another thread may
        // still be reading them. A run registers a handful of files.
        slot.path.store(ptr::null_mut(), Ordering::Release);
        slot.sidecar.store(ptr::null_mut(), Ordering::Release);
        slot.used.store(false, Ordering::Release);
    }

    fn install() {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: `handler` is an `extern "C" fn(c_int)` that only makes
            // async-signal-safe calls; installing it replaces the default action, which it
            // restores before re-raising.
            unsafe {
                libc::signal(sig, handler as *const () as libc::sighandler_t);
            }
        }
    }

    extern "C" fn handler(sig: libc::c_int) {
        for slot in &TABLE {
            let path = slot.path.load(Ordering::Acquire);
            if path.is_null() {
                continue;
            }
            let fd = slot.fd.load(Ordering::Acquire);
            // SAFETY: flock on a descriptor this process holds open; converting our shared
            // lock to an exclusive one fails (without blocking) while another run holds one.
            let ours =
                fd == ALWAYS || unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if ours {
                let side = slot.sidecar.load(Ordering::Acquire);
                // SAFETY: both pointers are NUL-terminated strings leaked for the life of
                // the process (see `release`); unlink only reads them.
                unsafe {
                    libc::unlink(path);
                    if !side.is_null() {
                        libc::unlink(side);
                    }
                }
            }
        }
        // SAFETY: restoring the default action and raising the signal again are
        // async-signal-safe; the process then dies of `sig` as it would have.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}
