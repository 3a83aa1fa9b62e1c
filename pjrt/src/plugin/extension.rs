//! Extensions: the list a plugin exposes ([`ExtensionType`], [`Plugin::extensions`]), a
//! located extension struct ([`ExtHandle`], found with [`Plugin::extension`]), and
//! `ext_call!`, the one checked path into an extension's function slots. The safe wrappers
//! of each extension are in [`crate::ext`].

use std::ffi::c_void;

use pjrt_sys as sys;

use crate::error::{Error, Result};
use crate::plugin::call::Api;
use crate::plugin::library::Plugin;

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

impl Plugin {
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

    /// The extension `E` of this plugin, or `None` when the plugin does not expose it.
    ///
    /// ```no_run
    /// # fn main() -> pjrt::Result<()> {
    /// let plugin = pjrt::Plugin::load_default()?;
    /// if let Some(layouts) = plugin.extension::<pjrt::ext::layouts::Layouts>() {
    ///     println!("{layouts:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn extension<E: PluginExtension>(&self) -> Option<E> {
        ExtHandle::find(self, E::TYPE).map(E::from_handle)
    }
}

/// Calls one function slot of an extension struct: the only way this crate calls an
/// extension function.
///
/// `ext_call!(handle, StructType, slot, &mut args)` checks that `slot` lies inside the
/// plugin's copy of the struct (its `base.struct_size`) and is non-null (else
/// [`Error::Unimplemented`]), calls it, and turns a returned `PJRT_Error` into
/// [`Error::Pjrt`]. `ext_call!(@ret handle, StructType, slot, arg, ...)` is for slots that do
/// not return a `PJRT_Error*`: it gives the function's own return value.
macro_rules! ext_call {
    ($ext:expr, $T:ty, $slot:ident, $args:expr) => {{
        let ext: &$crate::plugin::ExtHandle = $ext;
        let name: &'static str = concat!(stringify!($T), ".", stringify!($slot));
        let r = match ext.table::<$T>(::core::mem::offset_of!($T, $slot)) {
            None => Err(ext.unimplemented(name)),
            Some(t) => {
                // SAFETY: `table` checked that the slot lies inside the plugin's struct.
                let f = unsafe { ::core::ptr::addr_of!((*t).$slot).read() };
                match f {
                    None => Err(ext.unimplemented(name)),
                    Some(f) => {
                        // SAFETY: the args struct has the newest layout with `struct_size`
                        // set and its pointers valid for the call (the caller's duty).
                        let err = unsafe { f($args) };
                        // SAFETY: `err` was just returned by this plugin.
                        unsafe { ext.api().take_error(name, err) }
                    }
                }
            }
        };
        ext.note(stringify!($slot), &r);
        r
    }};
    (@ret $ext:expr, $T:ty, $slot:ident $(, $arg:expr)* $(,)?) => {{
        let ext: &$crate::plugin::ExtHandle = $ext;
        let name: &'static str = concat!(stringify!($T), ".", stringify!($slot));
        let r = match ext.table::<$T>(::core::mem::offset_of!($T, $slot)) {
            None => Err(ext.unimplemented(name)),
            Some(t) => {
                // SAFETY: `table` checked that the slot lies inside the plugin's struct.
                let f = unsafe { ::core::ptr::addr_of!((*t).$slot).read() };
                match f {
                    None => Err(ext.unimplemented(name)),
                    // SAFETY: the arguments are valid for the call (the caller's duty).
                    Some(f) => Ok(unsafe { f($($arg),*) }),
                }
            }
        };
        ext.note(stringify!($slot), &r);
        r
    }};
}
pub(crate) use ext_call;

/// One extension struct of a loaded plugin: where it is, how big the plugin's copy is.
#[derive(Clone)]
pub struct ExtHandle {
    plugin: Plugin,
    base: *const c_void,
    struct_size: usize,
    name: &'static str,
}

// SAFETY: extension structs are immutable plugin data living as long as the process.
unsafe impl Send for ExtHandle {}
// SAFETY: as above.
unsafe impl Sync for ExtHandle {}

impl std::fmt::Debug for ExtHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} extension ({} bytes)", self.name, self.struct_size)
    }
}

impl ExtHandle {
    /// Finds the extension of this type in the plugin's list.
    pub(crate) fn find(plugin: &Plugin, ty: sys::PJRT_Extension_Type) -> Option<ExtHandle> {
        let name = sys::ext::extension_info(ty).map_or("Unknown", |i| i.name);
        // SAFETY: the plugin's table is live for the process; its extension list is the
        // plugin's own well-formed list.
        let p = unsafe { sys::ext::find_extension(plugin.api().raw, ty) };
        if p.is_null() {
            // Record the absence of every function of the extension (coverage evidence).
            #[cfg(feature = "call-log")]
            if let Some(info) = sys::ext::extension_info(ty) {
                for f in info.function_names {
                    crate::call_log::note(
                        plugin.api_version(),
                        &format!("{name}.{f}"),
                        crate::call_log::Outcome::Absent,
                    );
                }
            }
            return None;
        }
        // SAFETY: a non-null node starts with a `PJRT_Extension_Base`.
        let struct_size = unsafe { (*p).struct_size };
        Some(ExtHandle {
            plugin: plugin.clone(),
            base: p.cast(),
            struct_size,
            name,
        })
    }

    /// A handle on a table reached through another (the profiler's function table).
    pub(crate) fn nested(&self, table: *const c_void, struct_size: usize) -> ExtHandle {
        ExtHandle {
            plugin: self.plugin.clone(),
            base: table,
            struct_size,
            name: self.name,
        }
    }

    /// The struct as `T` when a field at `offset` (pointer-sized) lies inside the plugin's copy.
    pub(crate) fn table<T>(&self, offset: usize) -> Option<*const T> {
        if !self.base.is_null() && self.struct_size >= offset + std::mem::size_of::<usize>() {
            Some(self.base.cast())
        } else {
            None
        }
    }

    pub(crate) fn api(&self) -> &Api {
        self.plugin.api()
    }

    pub(crate) fn unimplemented(&self, function: &'static str) -> Error {
        self.api().unimplemented(function)
    }

    /// Records the outcome of a call of `slot` in the call log (nothing without the
    /// `call-log` feature).
    #[inline(always)]
    pub(crate) fn note<T>(&self, slot: &str, r: &Result<T>) {
        #[cfg(feature = "call-log")]
        crate::call_log::note_result(
            self.plugin.api_version(),
            &format!("{}.{slot}", self.name),
            r,
        );
        #[cfg(not(feature = "call-log"))]
        let _ = (slot, r);
    }

    /// The plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The size of the plugin's copy of the struct, in bytes.
    pub fn struct_size(&self) -> usize {
        self.struct_size
    }

    /// The extension's name (as in `pjrt_sys::ext::EXTENSIONS`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the plugin's struct has a non-null function at slot `index` (0-based, after
    /// the base). For a wrapper's "is this supported" check before doing work.
    pub fn has_slot(&self, index: usize) -> bool {
        let off = sys::ext::slot_offset(index);
        match self.table::<u8>(off) {
            // SAFETY: the slot lies inside the plugin's struct; slots are pointer-sized.
            Some(t) => !unsafe { t.add(off).cast::<*const c_void>().read_unaligned() }.is_null(),
            None => false,
        }
    }
}

/// An extension type that can be looked up in a plugin.
pub trait PluginExtension: Sized {
    /// Its `PJRT_Extension_Type` value.
    const TYPE: sys::PJRT_Extension_Type;
    /// Wraps the located struct.
    fn from_handle(handle: ExtHandle) -> Self;
}

/// Declares the extension wrapper struct `$name` for extension type `$ty`.
macro_rules! extension_struct {
    ($(#[$m:meta])* $name:ident, $ty:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub(crate) h: $crate::plugin::ExtHandle,
        }

        impl $crate::plugin::PluginExtension for $name {
            const TYPE: ::pjrt_sys::PJRT_Extension_Type = $ty;
            fn from_handle(h: $crate::plugin::ExtHandle) -> Self {
                $name { h }
            }
        }

        impl $name {
            /// The located extension struct.
            pub fn handle(&self) -> &$crate::plugin::ExtHandle {
                &self.h
            }
        }
    };
}
pub(crate) use extension_struct;

/// A handle that belongs to one plugin (clients, devices, buffers, executables, topologies,
/// objects an extension made): what an extension function checks before passing it on.
pub(crate) trait PluginOwned {
    /// The plugin that made the handle.
    fn owner_plugin(&self) -> &Plugin;
}

/// Refuses a handle of another plugin passed to an extension function (`function`, the
/// handle's parameter `what`): the extension would dereference foreign memory.
pub(crate) fn check_owner(
    ext: &ExtHandle,
    function: &'static str,
    what: &'static str,
    handle: &impl PluginOwned,
) -> Result<()> {
    ext.plugin()
        .check_same(function, what, handle.owner_plugin())
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
}
