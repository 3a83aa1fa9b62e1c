//! The one folder where installed plugins live, per user: the installer (`pjrt-plugins
//! install`, run by the workspace's set-up) puts them there and plugin discovery looks there.
//!
//! Kept here, in the lowest crate, so that every crate and build script of the workspace
//! (and its tests) agrees on it without depending on the safe wrapper.

use std::ffi::OsString;
use std::path::PathBuf;

/// The folder name under the user's cache directory.
pub const CACHE_SUBDIR: &str = "pjrt-runtime";

/// The per-user cache folder of this project, by the XDG base directory rules:
/// `$XDG_CACHE_HOME/pjrt-runtime` when `XDG_CACHE_HOME` is an absolute path (a relative one
/// is ignored, as the specification says), else `$HOME/.cache/pjrt-runtime`. `None` when
/// neither variable gives a usable folder.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

/// Where installed plugins live: [`cache_dir`]`/plugins`, one sub-folder per plugin
/// (`cpu-0.115/pjrt_c_api_cpu_plugin.so`, ...).
pub fn plugin_cache_dir() -> Option<PathBuf> {
    cache_dir().map(|d| d.join("plugins"))
}

/// [`cache_dir`] from given values of `XDG_CACHE_HOME` and `HOME`.
pub fn cache_dir_from(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let xdg = xdg_cache_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(p) => p,
        None => PathBuf::from(home.filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(base.join(CACHE_SUBDIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_xdg_rules() {
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            cache_dir_from(some("/x/cache"), some("/home/u")),
            Some(PathBuf::from("/x/cache/pjrt-runtime"))
        );
        // A relative XDG_CACHE_HOME is ignored.
        assert_eq!(
            cache_dir_from(some("rel/cache"), some("/home/u")),
            Some(PathBuf::from("/home/u/.cache/pjrt-runtime"))
        );
        assert_eq!(
            cache_dir_from(None, some("/home/u")),
            Some(PathBuf::from("/home/u/.cache/pjrt-runtime"))
        );
        assert_eq!(cache_dir_from(None, None), None);
        assert_eq!(cache_dir_from(some(""), some("")), None);
    }
}
