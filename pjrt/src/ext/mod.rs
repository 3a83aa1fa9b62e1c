//! Safe wrappers of every PJRT extension (header 0.114), one module per extension.
//!
//! Get one with [`Plugin::extension`]: `None` when the plugin does not expose it. Every
//! extension function goes through one checked path, [`ext_call!`]: a slot beyond the
//! plugin's `struct_size` (an older plugin's shorter struct) or a null slot is
//! [`Error::Unimplemented`], a returned `PJRT_Error` is [`Error::Pjrt`].

use std::ffi::c_void;

use pjrt_sys as sys;

use crate::error::{Error, Result};
use crate::plugin::{Api, Plugin};

pub mod abi_version;
pub mod callback;
pub mod collectives;
pub mod cross_host_transfers;
pub mod custom_partitioner;
pub mod example;
pub mod executable_metadata;
pub mod ffi;
pub mod gpu;
pub mod host_memory_allocator;
pub mod layouts;
pub mod megascale;
pub mod memory_descriptions;
pub mod multi_slice;
pub mod phase_compile;
pub mod profiler;
pub mod raw_buffer;
pub mod shardings;
pub mod stream;
pub mod tpu_executable;
pub mod tpu_topology;
pub mod triton;
pub mod xla_transform;

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
        let ext: &$crate::ext::ExtHandle = $ext;
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
        let ext: &$crate::ext::ExtHandle = $ext;
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

    pub(crate) fn note<T>(&self, slot: &str, r: &Result<T>) {
        crate::call_log::note_result(
            self.plugin.api_version(),
            &format!("{}.{slot}", self.name),
            r,
        );
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

impl Plugin {
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

/// Declares the extension wrapper struct `$name` for extension type `$ty`.
macro_rules! extension_struct {
    ($(#[$m:meta])* $name:ident, $ty:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub(crate) h: $crate::ext::ExtHandle,
        }

        impl $crate::ext::PluginExtension for $name {
            const TYPE: ::pjrt_sys::PJRT_Extension_Type = $ty;
            fn from_handle(h: $crate::ext::ExtHandle) -> Self {
                $name { h }
            }
        }

        impl $name {
            /// The located extension struct.
            pub fn handle(&self) -> &$crate::ext::ExtHandle {
                &self.h
            }
        }
    };
}
pub(crate) use extension_struct;

/// Copies a (pointer, length) byte array out of the plugin.
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes.
pub(crate) unsafe fn bytes_from_raw(ptr: *const std::ffi::c_char, len: usize) -> Vec<u8> {
    // SAFETY: forwarded from the caller.
    unsafe { crate::plugin::vec_from_raw(ptr.cast::<u8>(), len) }
}

/// Reads `n` (pointer, size) strings.
///
/// # Safety
/// `ptrs` and `sizes` must be null or point to `n` entries each, every string readable.
pub(crate) unsafe fn strings_from_raw(
    ptrs: *const *const std::ffi::c_char,
    sizes: *const usize,
    n: usize,
) -> Vec<String> {
    // SAFETY: forwarded from the caller.
    let p = unsafe { crate::plugin::vec_from_raw(ptrs, n) };
    // SAFETY: forwarded from the caller.
    let s = unsafe { crate::plugin::vec_from_raw(sizes, n) };
    p.into_iter()
        .zip(s)
        // SAFETY: each entry is a readable string of its size.
        .map(|(p, n)| unsafe { crate::plugin::str_from_raw(p, n) })
        .collect()
}
