//! The process's resource limits that decide whether a plugin can start its threads.

//! Linux only: elsewhere no limit is known and nothing is refused.

/// The soft `RLIMIT_AS` in bytes, when there is one.
pub(crate) fn address_space_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    return soft_limit(libc::RLIMIT_AS);
    #[cfg(not(target_os = "linux"))]
    return None;
}

/// The soft `RLIMIT_NPROC` (processes and threads of the user), when there is one.
pub(crate) fn thread_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    return soft_limit(libc::RLIMIT_NPROC);
    #[cfg(not(target_os = "linux"))]
    return None;
}

#[cfg(target_os = "linux")]
fn soft_limit(resource: libc::__rlimit_resource_t) -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limits of this process into the struct we pass.
    let r = unsafe { libc::getrlimit(resource, &mut lim) };
    if r != 0 || lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    #[allow(clippy::useless_conversion)] // rlim_t is u64 on Linux targets of today.
    u64::try_from(lim.rlim_cur).ok()
}

/// The address space this process maps now (Linux: `/proc/self/statm`), in bytes.
#[cfg(target_os = "linux")]
pub(crate) fn address_space_used() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().next()?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages.saturating_mul(u64::try_from(page).ok()?))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn address_space_used() -> Option<u64> {
    None
}
