//! A loaded plugin: the shared library, its checked function table, its attributes and
//! identity (the file's SHA-256). A file is loaded once per process and never unloaded.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use pjrt_sys as sys;

use crate::error::{ApiVersion, Error, Result};
use crate::plugin::call::{call, Api};
use crate::plugin::named_value::{read_named_values, NamedValue};

/// Refuses function tables this crate cannot call safely: too small to hold the error
/// functions, a major version other than 0, or 0.56 (which inserted a slot mid-table).
pub(crate) fn check_api(
    struct_size: usize,
    version: ApiVersion,
) -> std::result::Result<(), String> {
    let first_slot = std::mem::offset_of!(sys::PJRT_Api, PJRT_Error_Destroy);
    if struct_size < first_slot + 3 * std::mem::size_of::<usize>() {
        return Err(format!(
            "its PJRT_Api table is only {struct_size} bytes (API {version})"
        ));
    }
    if version.major != 0 {
        return Err(format!(
            "PJRT API major version {} (API {version}); only major version 0 is supported",
            version.major
        ));
    }
    if version.minor == 56 {
        return Err(
            "PJRT API 0.56 inserted a function in the middle of the table (an ABI break); \
                    use another plugin version"
                .into(),
        );
    }
    Ok(())
}

pub(crate) struct PluginInner {
    pub(crate) api: Api,
    path: PathBuf,
    // Keeps the shared library mapped; plugins are never unloaded (the registry holds them).
    _library: sys::PluginLibrary,
    sha256: OnceLock<std::result::Result<[u8; 32], String>>,
}

/// A loaded PJRT plugin: a shared library and its function table. Cheap to clone.
///
/// Loading the same file twice returns the same plugin; plugins stay loaded until the process
/// ends (unloading a PJRT plugin is not supported by the plugins themselves).
#[derive(Clone)]
pub struct Plugin(pub(crate) Arc<PluginInner>);

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Plugin({}, API {})",
            self.0.path.display(),
            self.0.api.version
        )
    }
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Plugin>> {
    static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, Plugin>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Plugin {
    /// Loads a plugin from a file, or returns the already loaded one for the same file.
    ///
    /// Refuses files that are not PJRT plugins, plugins with major version other than 0 and
    /// the ABI-broken 0.56, with [`Error::PluginLoad`].
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin> {
        let path = path.as_ref();
        let load_err = |reason: String| Error::PluginLoad {
            path: path.to_path_buf(),
            reason,
        };
        let canonical = std::fs::canonicalize(path).map_err(|e| load_err(format!("{e}")))?;
        let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = reg.get(&canonical) {
            return Ok(p.clone());
        }
        if !canonical.is_file() {
            return Err(load_err("not a regular file".into()));
        }
        // `dlopen` maps whatever ranges the file's headers name: a truncated file faults
        // (SIGBUS) inside it. Check the headers against the file first.
        crate::plugin::elf::check_shared_library(&canonical).map_err(load_err)?;
        // Before the first plugin of the process exists: quiet its log lines unless asked.
        crate::discovery::quiet_plugin_logs();
        // SAFETY: loading a shared library runs its initialisers; we only load files the caller
        // names as PJRT plugins, and `PluginLibrary` checks for the `GetPjrtApi` symbol.
        let library =
            unsafe { sys::PluginLibrary::load(&canonical) }.map_err(|e| load_err(e.to_string()))?;
        let raw: *const sys::PJRT_Api = library.api();
        if raw.is_null() {
            return Err(load_err("GetPjrtApi returned null".into()));
        }
        // SAFETY: `GetPjrtApi` returned a non-null table pointer; the table starts with
        // `struct_size`, `extension_start` and `pjrt_api_version`, present in every version.
        let (struct_size, major, minor) = unsafe {
            let v = std::ptr::addr_of!((*raw).pjrt_api_version).read();
            (
                std::ptr::addr_of!((*raw).struct_size).read(),
                v.major_version,
                v.minor_version,
            )
        };
        let version = ApiVersion { major, minor };
        check_api(struct_size, version).map_err(load_err)?;
        let plugin = Plugin(Arc::new(PluginInner {
            api: Api {
                raw,
                struct_size,
                version,
            },
            path: canonical.clone(),
            _library: library,
            sha256: OnceLock::new(),
        }));
        let mut args = sys::PJRT_Plugin_Initialize_Args::new();
        match call!(&plugin.0.api, PJRT_Plugin_Initialize, &mut args) {
            Ok(()) => {}
            Err(e) if e.is_unimplemented() => {}
            Err(e) => return Err(load_err(format!("PJRT_Plugin_Initialize failed: {e}"))),
        }
        reg.insert(canonical, plugin.clone());
        Ok(plugin)
    }

    pub(crate) fn api(&self) -> &Api {
        &self.0.api
    }

    /// Whether `other` is this same loaded plugin (the same file).
    pub fn same_as(&self, other: &Plugin) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Checks that a handle (`what`) passed to `function` comes from this plugin: a handle
    /// of another plugin would reach this one as a pointer into foreign memory.
    pub(crate) fn check_same(
        &self,
        function: &'static str,
        what: &'static str,
        owner: &Plugin,
    ) -> Result<()> {
        if self.same_as(owner) {
            return Ok(());
        }
        let name = |p: &Plugin| {
            format!(
                "plugin {} (PJRT API {})",
                p.path().display(),
                p.api_version()
            )
        };
        Err(Error::ForeignHandle {
            function,
            what,
            owner: name(owner),
            expected: name(self),
        })
    }

    /// The plugin file (canonical path).
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The plugin's PJRT C API version.
    pub fn api_version(&self) -> ApiVersion {
        self.0.api.version
    }

    /// The size in bytes of the plugin's function table (how many functions it has).
    pub fn api_struct_size(&self) -> usize {
        self.0.api.struct_size
    }

    /// Whether the plugin's table has a non-null function called `name` (a `PJRT_Api` slot name).
    pub fn has_function(&self, name: &str) -> bool {
        let Some(i) = sys::API_SLOT_NAMES.iter().position(|n| *n == name) else {
            return false;
        };
        let offset = std::mem::offset_of!(sys::PJRT_Api, PJRT_Error_Destroy)
            + i * std::mem::size_of::<usize>();
        match self.0.api.slot_ptr(offset) {
            None => false,
            Some(raw) => {
                // SAFETY: the slot at `offset` is inside the table; slots are pointer-sized.
                let p = unsafe {
                    raw.cast::<u8>()
                        .add(offset)
                        .cast::<*const ()>()
                        .read_unaligned()
                };
                !p.is_null()
            }
        }
    }

    /// The plugin's attributes (versions, supported features, ...).
    pub fn attributes(&self) -> Result<Vec<NamedValue>> {
        let mut args = sys::PJRT_Plugin_Attributes_Args::new();
        call!(self.api(), PJRT_Plugin_Attributes, &mut args)?;
        // SAFETY: the plugin returned `num_attributes` values it owns for its lifetime.
        Ok(unsafe { read_named_values(args.attributes, args.num_attributes) })
    }

    /// The SHA-256 of the plugin file, computed once per process on first use (and
    /// remembered across processes while the file is unchanged; see `plugin/digest.rs`).
    pub fn file_sha256(&self) -> Result<[u8; 32]> {
        let r = self.0.sha256.get_or_init(|| {
            super::digest::sha256_remembered(&self.0.path).map_err(|e| e.to_string())
        });
        r.clone().map_err(|reason| Error::PluginLoad {
            path: self.0.path.clone(),
            reason: format!("cannot hash: {reason}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_tables_are_refused() {
        let v = |major, minor| ApiVersion { major, minor };
        assert!(check_api(984, v(0, 81)).is_ok());
        assert!(check_api(1144, v(0, 115)).is_ok());
        assert!(check_api(1144, v(1, 0))
            .unwrap_err()
            .contains("major version 1"));
        assert!(check_api(840, v(0, 56)).unwrap_err().contains("0.56"));
        assert!(check_api(48, v(0, 81))
            .unwrap_err()
            .contains("only 48 bytes"));
    }
}
