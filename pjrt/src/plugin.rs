//! Loading plugins, the one checked call path into their function tables, attributes and
//! extensions.

use std::collections::HashMap;
use std::ffi::c_char;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use pjrt_sys as sys;

use crate::error::{ApiVersion, Error, ErrorCode, Result};
use crate::named_value::{read_named_values, NamedValue};

/// Calls one slot of a plugin's `PJRT_Api` table: the only way this crate calls the C API.
///
/// `call!(api, PJRT_Slot_Name, &mut args)` checks that the slot lies inside the plugin's
/// `struct_size` and is non-null (else [`Error::Unimplemented`]), calls it, and turns a
/// returned `PJRT_Error` into [`Error::Pjrt`] (destroying the C error). The `@void` form is
/// for the two slots that return nothing (`PJRT_Error_Message`, `PJRT_Error_Destroy`).
///
/// The caller is responsible for the args struct: built at the newest layout by its `new()`,
/// every pointer in it valid for the duration of the call.
macro_rules! call {
    ($api:expr, $slot:ident, $args:expr) => {{
        let api: &$crate::plugin::Api = $api;
        let r = match api.slot_ptr(::core::mem::offset_of!(::pjrt_sys::PJRT_Api, $slot)) {
            None => Err(api.unimplemented(stringify!($slot))),
            Some(raw) => {
                // SAFETY: `slot_ptr` checked that this slot lies inside the plugin's table; we
                // read only this one field, at its own address.
                let f = unsafe { ::core::ptr::addr_of!((*raw).$slot).read() };
                match f {
                    None => Err(api.unimplemented(stringify!($slot))),
                    Some(f) => {
                        // SAFETY: the args struct has the newest layout with `struct_size` set
                        // and its pointers valid for the call (the caller's duty, see above).
                        let err = unsafe { f($args) };
                        // SAFETY: `err` was just returned by this plugin.
                        unsafe { api.take_error(stringify!($slot), err) }
                    }
                }
            }
        };
        $crate::call_log::note_result(api.version(), stringify!($slot), &r);
        r
    }};
    (@void $api:expr, $slot:ident, $args:expr) => {{
        let api: &$crate::plugin::Api = $api;
        let called = match api.slot_ptr(::core::mem::offset_of!(::pjrt_sys::PJRT_Api, $slot)) {
            None => false,
            Some(raw) => {
                // SAFETY: as above: the slot is inside the table.
                let f = unsafe { ::core::ptr::addr_of!((*raw).$slot).read() };
                match f {
                    None => false,
                    Some(f) => {
                        // SAFETY: as above.
                        unsafe { f($args) };
                        true
                    }
                }
            }
        };
        $crate::call_log::note(
            api.version(),
            stringify!($slot),
            if called {
                $crate::call_log::Outcome::Ok
            } else {
                $crate::call_log::Outcome::Absent
            },
        );
        called
    }};
}
pub(crate) use call;

/// A plugin's function table with its size and version: what `call!` needs.
pub(crate) struct Api {
    pub(crate) raw: *const sys::PJRT_Api,
    struct_size: usize,
    version: ApiVersion,
}

// SAFETY: the table is immutable plugin data that lives as long as the process (plugins are
// never unloaded); PJRT functions may be called from any thread.
unsafe impl Send for Api {}
// SAFETY: as above: shared reads of an immutable table.
unsafe impl Sync for Api {}

impl Api {
    /// The table pointer when a slot at byte offset `offset` lies inside the plugin's table.
    pub(crate) fn slot_ptr(&self, offset: usize) -> Option<*const sys::PJRT_Api> {
        if self.struct_size >= offset + std::mem::size_of::<usize>() {
            Some(self.raw)
        } else {
            None
        }
    }

    pub(crate) fn version(&self) -> ApiVersion {
        self.version
    }

    pub(crate) fn unimplemented(&self, function: &'static str) -> Error {
        Error::Unimplemented {
            function,
            plugin_version: self.version,
        }
    }

    /// Converts a returned error into `Result`, reading its message and code and destroying it.
    ///
    /// # Safety
    /// `err` must be null or an error this plugin returned and nobody has destroyed.
    pub(crate) unsafe fn take_error(
        &self,
        function: &'static str,
        err: *mut sys::PJRT_Error,
    ) -> Result<()> {
        if err.is_null() {
            return Ok(());
        }
        let mut m = sys::PJRT_Error_Message_Args::new();
        m.error = err;
        let message = if call!(@void self, PJRT_Error_Message, &mut m) {
            // SAFETY: the plugin filled message/message_size, valid until the error is destroyed.
            unsafe { str_from_raw(m.message, m.message_size) }
        } else {
            String::from("(the plugin has no PJRT_Error_Message)")
        };
        // SAFETY: `err` is live until destroyed below.
        let message = unsafe { crate::device_extra::with_payloads(self, function, err, message) };
        let mut c = sys::PJRT_Error_GetCode_Args::new();
        c.error = err;
        let code = {
            let f: Result<()> = self.call_get_code(&mut c);
            if f.is_ok() {
                ErrorCode::from_raw(c.code)
            } else {
                ErrorCode::Unknown
            }
        };
        let mut d = sys::PJRT_Error_Destroy_Args::new();
        d.error = err;
        call!(@void self, PJRT_Error_Destroy, &mut d);
        Err(Error::Pjrt {
            function,
            code,
            message,
        })
    }

    fn call_get_code(&self, args: &mut sys::PJRT_Error_GetCode_Args) -> Result<()> {
        let r = self.call_get_code_inner(args);
        crate::call_log::note_result(self.version, "PJRT_Error_GetCode", &r);
        r
    }

    fn call_get_code_inner(&self, args: &mut sys::PJRT_Error_GetCode_Args) -> Result<()> {
        // A failure of GetCode itself would recurse into take_error; read it without that.
        match self.slot_ptr(std::mem::offset_of!(sys::PJRT_Api, PJRT_Error_GetCode)) {
            None => Err(self.unimplemented("PJRT_Error_GetCode")),
            Some(raw) => {
                // SAFETY: the slot is inside the table.
                let f = unsafe { std::ptr::addr_of!((*raw).PJRT_Error_GetCode).read() };
                match f {
                    None => Err(self.unimplemented("PJRT_Error_GetCode")),
                    // SAFETY: args built by `new()` with a live error pointer.
                    Some(f) => {
                        let e = unsafe { f(args) };
                        if e.is_null() {
                            Ok(())
                        } else {
                            Err(self.unimplemented("PJRT_Error_GetCode"))
                        }
                    }
                }
            }
        }
    }
}

/// Copies a (pointer, length) string from the plugin into an owned `String` (lossy UTF-8).
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes.
pub(crate) unsafe fn str_from_raw(ptr: *const c_char, len: usize) -> String {
    if ptr.is_null() || len == 0 {
        return String::new();
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies a (pointer, length) array from the plugin into a `Vec`.
///
/// # Safety
/// `ptr` must be null or point to `len` readable, initialised `T`s.
pub(crate) unsafe fn vec_from_raw<T: Copy>(ptr: *const T, len: usize) -> Vec<T> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: the caller guarantees `len` readable elements.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

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
    /// Where the installer puts the default CPU plugin (PJRT API 0.115): in the per-user
    /// plugin folder ([`crate::discovery::plugins_dir`]), found at run time.
    pub fn setup_default_path() -> PathBuf {
        let p = &crate::discovery::CPU_PLUGINS[0];
        p.path_in(&crate::discovery::plugins_dir().unwrap_or_default())
    }

    /// Finds the plugin to use: `$PJRT_PLUGIN` if set, else an installed plugin, else one
    /// installed by pip (see [`crate::discovery`] for the order and the places).
    pub fn find_default() -> Result<PathBuf> {
        crate::discovery::find_default()
    }

    /// Loads the default plugin (see [`find_default`](Self::find_default)).
    pub fn load_default() -> Result<Plugin> {
        Plugin::load(Self::find_default()?)
    }

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

    /// The extensions the plugin exposes, in list order.
    pub fn extensions(&self) -> Vec<Extension> {
        let mut out = Vec::new();
        // SAFETY: reading the table's `extension_start` field, present in every version.
        let mut p = unsafe { std::ptr::addr_of!((*self.0.api.raw).extension_start).read() };
        while !p.is_null() && out.len() < 256 {
            // SAFETY: each list node starts with a `PJRT_Extension_Base` owned by the plugin.
            let base = unsafe { p.read() };
            out.push(Extension {
                kind: ExtensionType::from_raw(base.type_),
                struct_size: base.struct_size,
            });
            p = base.next;
        }
        out
    }

    /// The SHA-256 of the plugin file, computed once per process on first use.
    pub fn file_sha256(&self) -> Result<[u8; 32]> {
        let r = self
            .0
            .sha256
            .get_or_init(|| crate::discovery::sha256_file(&self.0.path).map_err(|e| e.to_string()));
        r.clone().map_err(|reason| Error::PluginLoad {
            path: self.0.path.clone(),
            reason: format!("cannot hash: {reason}"),
        })
    }
}

/// Declares [`ExtensionType`] and its table of known values from one list, in the order of
/// their raw `PJRT_Extension_Type` values (variant k is raw value k).
macro_rules! extension_types {
    ($($kind:ident),* $(,)?) => {
        /// The kinds of extension a plugin can expose (`PJRT_Extension_Type`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum ExtensionType {
            $($kind,)*
            /// A type value newer than this crate.
            Other(i32),
        }

        impl ExtensionType {
            const KNOWN: &'static [ExtensionType] = &[$(ExtensionType::$kind),*];
        }
    };
}

extension_types!(
    GpuCustomCall,
    Profiler,
    CustomPartitioner,
    Stream,
    Layouts,
    Ffi,
    MemoryDescriptions,
    Triton,
    RawBuffer,
    PhaseCompile,
    Example,
    Unknown,
    CrossHostTransfers,
    ExecutableMetadata,
    Callback,
    HostAllocator,
    TpuTopology,
    TpuExecutable,
    Megascale,
    Shardings,
    AbiVersion,
    Collectives,
    MultiSlice,
    HostMemoryAllocator,
    XlaTransform,
);

impl ExtensionType {
    /// The type for a raw `PJRT_Extension_Type` value.
    pub fn from_raw(raw: i32) -> ExtensionType {
        usize::try_from(raw)
            .ok()
            .and_then(|i| Self::KNOWN.get(i).copied())
            .unwrap_or(ExtensionType::Other(raw))
    }
}

/// One entry of a plugin's extension list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension {
    /// Its type.
    pub kind: ExtensionType,
    /// Its struct size in bytes.
    pub struct_size: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_types_follow_the_header_numbering() {
        use sys::*;
        let raw = ExtensionType::from_raw;
        assert_eq!(
            raw(PJRT_Extension_Type_Gpu_Custom_Call),
            ExtensionType::GpuCustomCall
        );
        assert_eq!(raw(PJRT_Extension_Type_FFI), ExtensionType::Ffi);
        assert_eq!(raw(PJRT_Extension_Type_Unknown), ExtensionType::Unknown);
        assert_eq!(
            raw(PJRT_Extension_Type_XlaTransform),
            ExtensionType::XlaTransform
        );
        assert_eq!(
            ExtensionType::KNOWN.len(),
            PJRT_Extension_Type_XlaTransform as usize + 1
        );
        assert_eq!(ExtensionType::from_raw(25), ExtensionType::Other(25));
        assert_eq!(ExtensionType::from_raw(-1), ExtensionType::Other(-1));
    }

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
