//! The raw ABI of the PJRT C API (header version 0.114) and of its extensions, written by
//! hand from the header's facts. Names follow the C header exactly; C's `type` fields are
//! called `type_`, and C's anonymous unions are the fields `value` (in
//! [`PJRT_NamedValue`]) and `layout` (in [`PJRT_Buffer_MemoryLayout`]).
//!
//! Conventions:
//! - C enums are `pub type X = i32` with one `pub const` per enumerator.
//! - Every struct `X` has `pub const X_STRUCT_SIZE: usize` (the end of its last field, no
//!   tail padding: what goes in `struct_size`), `X::STRUCT_SIZE`, `X::LAYOUT`, and
//!   `X::new()`, which zeroes it and sets `struct_size`.
//! - Function types `PJRT_Foo = unsafe extern "C" fn(*mut PJRT_Foo_Args) -> *mut PJRT_Error`;
//!   the table slot `PJRT_Api::PJRT_Foo` is an `Option<PJRT_Foo>`.
//! - Plugins are opened at run time with [`PluginLibrary::load`].
//!
//! ```no_run
//! use pjrt_sys::*;
//! let plugin = unsafe { PluginLibrary::load(std::path::Path::new("plugin.so")) }?;
//! let (major, minor) = plugin.api_version().unwrap_or((0, 0));
//! let n = plugin.num_slots();
//! println!("PJRT {major}.{minor}, {n} functions");
//! # Ok::<(), LoadError>(())
//! ```
#![deny(missing_docs)]
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

pub mod api;
pub mod buffer;
pub mod cache_dir;
pub mod client;
pub mod device;
pub mod error;
pub mod event;
pub mod executable;
pub mod ext;
pub mod extension;
pub mod handles;
pub mod layout;
pub mod loader;
pub mod memory;
pub mod plugin;
pub mod topology;
pub mod transfer;

pub use api::*;
pub use buffer::*;
pub use cache_dir::{cache_dir, plugin_cache_dir};
pub use client::*;
pub use device::*;
pub use error::*;
pub use event::*;
pub use executable::*;
pub use extension::*;
pub use handles::*;
pub use layout::{FieldLayout, StructLayout};
pub use loader::*;
pub use memory::*;
pub use plugin::*;
pub use topology::*;
pub use transfer::*;

pub(crate) use layout::{pjrt_enum, pjrt_opaque, pjrt_structs, pjrt_unions};

/// Layouts of every struct and union of the core header declared in this crate (the
/// extensions under [`ext`] are not included).
pub fn struct_layouts() -> impl Iterator<Item = &'static StructLayout> {
    [
        api::LAYOUTS,
        buffer::LAYOUTS,
        buffer::UNION_LAYOUTS,
        client::LAYOUTS,
        device::LAYOUTS,
        error::LAYOUTS,
        event::LAYOUTS,
        executable::LAYOUTS,
        extension::LAYOUTS,
        memory::LAYOUTS,
        plugin::LAYOUTS,
        plugin::UNION_LAYOUTS,
        topology::LAYOUTS,
        transfer::LAYOUTS,
    ]
    .into_iter()
    .flatten()
}

/// The layout of the struct or union with this C name.
pub fn struct_layout(name: &str) -> Option<&'static StructLayout> {
    struct_layouts().find(|l| l.name == name)
}
