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
        path: PathBuf,
        error: libloading::Error,
    },
    /// The library opened but does not export `GetPjrtApi`.
    #[error("{} is not a PJRT plugin: it exports no `GetPjrtApi` symbol ({error})", path.display())]
    NotAPlugin {
        path: PathBuf,
        error: libloading::Error,
    },
    /// `GetPjrtApi` returned a null pointer.
    #[error("PJRT plugin {}: `GetPjrtApi` returned a null function table", path.display())]
    NullApi { path: PathBuf },
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

impl PluginLibrary {
    /// Opens the shared library at `path` and calls its `GetPjrtApi`.
    ///
    /// # Safety
    /// Loading a library runs its initialisers, and the table is trusted as given: `path`
    /// must name a genuine PJRT plugin built for this architecture.
    pub unsafe fn load(path: &Path) -> Result<PluginLibrary, LoadError> {
        // SAFETY: the caller vouches for the library (see above).
        let library =
            unsafe { libloading::Library::new(path) }.map_err(|error| LoadError::Open {
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
