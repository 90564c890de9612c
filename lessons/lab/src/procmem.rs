//! Where the processes of a multi-process experiment run: the CPUs this process may use,
//! and pinning it to one of them (`sched_getaffinity` / `sched_setaffinity`, Linux).
//!
//! Two processes that wait for each other by spinning on a shared map each need a core of
//! their own; if the scheduler puts both on one CPU, every wait lasts until a time slice
//! ends, and the experiment measures the scheduler instead of the memory. A lesson pins the
//! two sides to different CPUs for the measurement and restores the mask afterwards. Where
//! the platform cannot pin, the functions say so (`None`, an `Unsupported` error).

use std::io;

/// The CPUs the calling thread may run on (its affinity mask), in ascending order; `None`
/// where the platform does not say.
#[cfg(target_os = "linux")]
pub fn allowed_cpus() -> Option<Vec<usize>> {
    // SAFETY: a zeroed cpu_set_t is a valid, empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes at most `size_of::<cpu_set_t>()` bytes into `set`,
    // which is exactly that large; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return None;
    }
    let max = 8 * std::mem::size_of_val(&set);
    let allowed = |cpu: usize| {
        // SAFETY: CPU_ISSET reads bit `cpu` of the set; every `cpu` is below its size.
        unsafe { libc::CPU_ISSET(cpu, &set) }
    };
    Some((0..max).filter(|&cpu| allowed(cpu)).collect())
}

#[cfg(not(target_os = "linux"))]
pub fn allowed_cpus() -> Option<Vec<usize>> {
    None
}

/// Restricts the calling thread (the whole process, when it has one thread) to `cpus`.
/// Children started afterwards inherit the mask.
#[cfg(target_os = "linux")]
pub fn run_on(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid, empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let max = 8 * std::mem::size_of_val(&set);
    for &cpu in cpus {
        if cpu >= max {
            return Err(io::Error::other(format!("no CPU {cpu} in a CPU set")));
        }
        // SAFETY: CPU_SET writes bit `cpu` of the set, and `cpu` is below its size.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: sched_setaffinity reads `size_of::<cpu_set_t>()` bytes from `set`; pid 0 is
    // the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn run_on(_cpus: &[usize]) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "this platform cannot pin a process to a CPU",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_to_one_allowed_cpu_shows_in_the_mask_and_can_be_undone() {
        let Some(all) = allowed_cpus() else {
            eprintln!("no affinity mask on this platform — test skipped");
            return;
        };
        assert!(!all.is_empty());
        // A thread of its own, so that the test harness's other threads keep their mask.
        std::thread::spawn(move || {
            run_on(&all[..1]).unwrap();
            assert_eq!(allowed_cpus().unwrap(), all[..1]);
            run_on(&all).unwrap();
            assert_eq!(allowed_cpus().unwrap(), all);
        })
        .join()
        .unwrap();
        assert!(run_on(&[1 << 20]).is_err());
    }
}
