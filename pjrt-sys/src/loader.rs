//! Opening a plugin shared library and fetching its function table.

use std::path::{Path, PathBuf};

use crate::api::{PJRT_Api, PJRT_API_FIRST_SLOT_OFFSET};

/// The symbol every PJRT plugin exports.
pub const GET_PJRT_API_SYMBOL: &str = "GetPjrtApi";

/// Signature of a plugin's `GetPjrtApi`.
pub type GetPjrtApiFn = unsafe extern "C" fn() -> *const PJRT_Api;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The dynamic loader refused the file (missing, unreadable, wrong architecture,
    /// unresolved dependencies, ...).
    #[error("cannot open PJRT plugin {}: {error}", path.display())]
    Open {
        /// The plugin file.
        path: PathBuf,
        /// The dynamic loader's error.
        error: libloading::Error,
    },
    /// The library opened but does not export `GetPjrtApi`.
    #[error("{} is not a PJRT plugin: it exports no `GetPjrtApi` symbol ({error})", path.display())]
    NotAPlugin {
        /// The library file.
        path: PathBuf,
        /// The symbol lookup's error.
        error: libloading::Error,
    },
    /// `GetPjrtApi` returned a null pointer.
    #[error("PJRT plugin {}: `GetPjrtApi` returned a null function table", path.display())]
    NullApi {
        /// The plugin file.
        path: PathBuf,
    },
}

/// A loaded plugin library and the function table it returned. The library stays loaded for
/// as long as this value lives, so `api()` is valid until it is dropped.
///
/// No version policy lives here: the caller decides which `struct_size` and
/// `pjrt_api_version` it accepts.
pub struct PluginLibrary {
    api: *const PJRT_Api,
    path: PathBuf,
    // Dropped last: everything above points into it.
    _library: libloading::Library,
}

// SAFETY: the table is written once by the plugin before `GetPjrtApi` returns and only read
// afterwards; PJRT plugins are required to be callable from any thread. The library handle
// itself is thread-safe (dlopen/dlclose are).
unsafe impl Send for PluginLibrary {}
// SAFETY: as above; `&PluginLibrary` only hands out the read-only table pointer.
unsafe impl Sync for PluginLibrary {}

impl std::fmt::Debug for PluginLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLibrary")
            .field("path", &self.path)
            .field("api", &self.api)
            .field("struct_size", &self.struct_size())
            .field("api_version", &self.api_version())
            .finish()
    }
}

/// Opens a shared library so that it is never unmapped: XLA plugins start threads and
/// register process-exit handlers that would run unmapped code after a real `dlclose`
/// (observed: SIGSEGV at process exit after dropping a loaded plugin).
///
/// # Safety
/// As [`libloading::Library::new`]: runs the library's initialisers.
#[cfg(unix)]
unsafe fn open_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // Not exported by libloading: the values of <dlfcn.h>.
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    const RTLD_NODELETE: core::ffi::c_int = 0x80;
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    const RTLD_NODELETE: core::ffi::c_int = 0x1000;
    // SAFETY: forwarded from the caller.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) }.map(Into::into)
}

/// # Safety
/// As [`libloading::Library::new`].
#[cfg(not(unix))]
unsafe fn open_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: forwarded from the caller.
    unsafe { libloading::Library::new(path) }
}

impl PluginLibrary {
    /// Opens the shared library at `path` and calls its `GetPjrtApi`.
    ///
    /// # Safety
    /// Loading a library runs its initialisers, and the table is trusted as given: `path`
    /// must name a genuine PJRT plugin built for this architecture.
    pub unsafe fn load(path: &Path) -> Result<PluginLibrary, LoadError> {
        // SAFETY: the caller vouches for the library (see above).
        let library = unsafe { open_library(path) }.map_err(|error| LoadError::Open {
            path: path.to_path_buf(),
            error,
        })?;
        // SAFETY: the symbol is declared with the signature every PJRT plugin uses.
        let get_api: libloading::Symbol<'_, GetPjrtApiFn> = unsafe {
            library.get(GET_PJRT_API_SYMBOL.as_bytes())
        }
        .map_err(|error| LoadError::NotAPlugin {
            path: path.to_path_buf(),
            error,
        })?;
        // SAFETY: `GetPjrtApi` takes no arguments and returns a pointer to a static table.
        let api = unsafe { get_api() };
        if api.is_null() {
            return Err(LoadError::NullApi {
                path: path.to_path_buf(),
            });
        }
        Ok(PluginLibrary {
            api,
            path: path.to_path_buf(),
            _library: library,
        })
    }

    /// The plugin's function table, valid while `self` lives. It may be shorter than
    /// [`PJRT_Api`]: read [`struct_size`](Self::struct_size) before reading any slot.
    pub fn api(&self) -> *const PJRT_Api {
        self.api
    }

    /// The path the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The table's `struct_size`: `40 + 8 * number of slots` for a well-formed table.
    pub fn struct_size(&self) -> usize {
        // SAFETY: `api` is non-null and points at a table that starts with `struct_size`.
        unsafe { (*self.api).struct_size }
    }

    /// Number of whole function slots the table holds.
    pub fn num_slots(&self) -> usize {
        PJRT_Api::num_slots_for_struct_size(self.struct_size())
    }

    /// `(major, minor)` from `pjrt_api_version`, or `None` if the table is too short to hold
    /// it.
    pub fn api_version(&self) -> Option<(i32, i32)> {
        if self.struct_size() < PJRT_API_FIRST_SLOT_OFFSET {
            return None;
        }
        // SAFETY: the table is at least 40 bytes long, so `pjrt_api_version` is inside it.
        let v = unsafe { core::ptr::addr_of!((*self.api).pjrt_api_version).read() };
        Some((v.major_version, v.minor_version))
    }

    /// The raw value of slot `index` (null when the plugin leaves it empty), or `None` when
    /// the table is too short to contain it.
    pub fn slot(&self, index: usize) -> Option<*const core::ffi::c_void> {
        if !PJRT_Api::has_slot(self.struct_size(), index) {
            return None;
        }
        // SAFETY: `has_slot` checked that the 8 bytes of slot `index` lie inside the table.
        let p = unsafe {
            (self.api as *const u8)
                .add(PJRT_Api::slot_offset(index))
                .cast::<*const core::ffi::c_void>()
                .read_unaligned()
        };
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    /// Every `*.so` under `<plugin cache>/cpu-<version>/` (where the set-up installs them),
    /// with that version's minor number.
    fn installed_plugins() -> Vec<(u32, PathBuf)> {
        let root = crate::plugin_cache_dir().unwrap_or_default();
        let mut found = Vec::new();
        let Ok(dirs) = std::fs::read_dir(&root) else {
            return found;
        };
        for dir in dirs.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let Some(minor) = name
                .strip_prefix("cpu-0.")
                .and_then(|m| m.parse::<u32>().ok())
            else {
                continue;
            };
            let mut stack = vec![dir.path()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "so") {
                        found.push((minor, p));
                    }
                }
            }
        }
        found.sort();
        found
    }

    /// Calls `PJRT_Plugin_Attributes` and returns the `stablehlo_current_version` triple:
    /// a real call that goes through `PJRT_NamedValue`'s union layout.
    fn stablehlo_version(plugin: &PluginLibrary) -> Vec<i64> {
        let index = PJRT_Api::slot_index("PJRT_Plugin_Attributes").unwrap();
        let f = plugin.slot(index).expect("table has the slot");
        assert!(!f.is_null(), "PJRT_Plugin_Attributes is null");
        // SAFETY: slot `index` holds a `PJRT_Plugin_Attributes` function pointer.
        let f: PJRT_Plugin_Attributes = unsafe { core::mem::transmute(f) };
        let mut args = PJRT_Plugin_Attributes_Args::new();
        // SAFETY: `args` is a zeroed args struct of the right size.
        let err = unsafe { f(&mut args) };
        assert!(err.is_null(), "PJRT_Plugin_Attributes failed");
        // SAFETY: the plugin owns `num_attributes` entries at `attributes`.
        let attrs = unsafe { std::slice::from_raw_parts(args.attributes, args.num_attributes) };
        for a in attrs {
            // SAFETY: `name` holds `name_size` bytes.
            let name = unsafe { std::slice::from_raw_parts(a.name.cast::<u8>(), a.name_size) };
            if name == b"stablehlo_current_version" {
                assert_eq!(a.type_, PJRT_NamedValue_kInt64List);
                // SAFETY: a kInt64List value holds `value_size` int64s.
                return unsafe {
                    std::slice::from_raw_parts(a.value.int64_array_value, a.value_size).to_vec()
                };
            }
        }
        panic!("no stablehlo_current_version attribute");
    }

    #[test]
    fn loads_every_installed_plugin_and_reads_its_table() {
        let plugins = installed_plugins();
        assert!(
            plugins.len() >= 3,
            "expected the three CPU plugins under {:?} (run `bash scripts/setup.sh`), found {plugins:?}", crate::plugin_cache_dir()
        );
        for (minor, path) in &plugins {
            // SAFETY: these are the PJRT plugins the set-up installed.
            let plugin = unsafe { PluginLibrary::load(path) }.expect("plugin loads");
            let expected_slots = match minor {
                81 => 118,
                106 => 136,
                115 => 138,
                other => panic!("no expectation for plugin 0.{other}"),
            };
            assert_eq!(
                plugin.api_version(),
                Some((0, *minor as i32)),
                "{}",
                path.display()
            );
            assert_eq!(
                plugin.struct_size(),
                40 + 8 * expected_slots,
                "{}",
                path.display()
            );
            assert_eq!(plugin.num_slots(), expected_slots);
            // The version struct itself is 0.114's layout on every plugin.
            // SAFETY: the table is at least 40 bytes long (checked through api_version).
            let version_size = unsafe { (*plugin.api()).pjrt_api_version.struct_size };
            assert_eq!(version_size, PJRT_Api_Version_STRUCT_SIZE);
            // Slot bounds follow struct_size.
            assert!(plugin.slot(0).is_some_and(|p| !p.is_null()));
            assert!(plugin.slot(expected_slots - 1).is_some());
            assert!(plugin.slot(expected_slots).is_none());
            let v = stablehlo_version(&plugin);
            let expected = match minor {
                81 => vec![1, 13, 3],
                106 => vec![1, 16, 1],
                _ => vec![1, 20, 0],
            };
            assert_eq!(
                v,
                expected,
                "stablehlo_current_version of {}",
                path.display()
            );
            println!(
                "{}: PJRT 0.{minor}, {} slots, StableHLO {v:?}",
                path.display(),
                plugin.num_slots()
            );
        }
    }

    #[test]
    fn a_dropped_plugin_stays_mapped() {
        let Some((_, path)) = installed_plugins().into_iter().next_back() else {
            panic!("no plugin installed: run `bash scripts/setup.sh`");
        };
        // SAFETY: a PJRT plugin installed by the set-up.
        let first = unsafe { PluginLibrary::load(&path) }.expect("plugin loads");
        let table = first.api();
        drop(first);
        // SAFETY: as above.
        let again = unsafe { PluginLibrary::load(&path) }.expect("plugin loads again");
        // Never unmapped, so the same static table comes back at the same address.
        assert_eq!(again.api(), table);
        assert!(again.struct_size() >= 40 + 8 * 118);
    }

    #[test]
    fn reports_why_a_library_is_not_a_plugin() {
        let missing = Path::new("/nonexistent/plugin.so");
        // SAFETY: the file does not exist, so nothing is loaded.
        let err = unsafe { PluginLibrary::load(missing) }.unwrap_err();
        assert!(matches!(err, LoadError::Open { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/plugin.so") && msg.contains("No such file"),
            "{msg}"
        );

        // A real shared library without `GetPjrtApi`.
        // SAFETY: the C math library has no harmful initialisers.
        let err = unsafe { PluginLibrary::load(Path::new("libm.so.6")) }.unwrap_err();
        assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err}");
        assert!(err.to_string().contains("not a PJRT plugin"), "{err}");
    }
}
