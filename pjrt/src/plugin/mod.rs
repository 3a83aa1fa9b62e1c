//! Plugins: finding and loading the shared library, the one checked path into its function
//! tables (`call!` for the core table, `ext_call!` for extensions), the plugin's errors, the
//! data it lends, and typed named values.
//!
//! - `library.rs`: [`Plugin`]: loading, the checked table, attributes, identity.
//! - `elf.rs`: the check of a plugin file's ELF headers before `dlopen` maps it.
//! - `discovery.rs`: which file [`Plugin::load_default`] loads.
//! - `call.rs`: `call!`, `Api`, and plugin errors both ways (the one conversion into
//!   [`Error::Pjrt`](crate::Error::Pjrt)).
//! - `extension.rs`: the extension list, [`ExtHandle`] and `ext_call!`.
//! - `c_data.rs`: copying strings and arrays out of the plugin, giving lent data back
//!   through its deleter.
//! - `digest.rs`: the plugin file's SHA-256, remembered across processes.
//! - `named_value.rs`: [`NamedValue`]s (attributes, options).

mod c_data;
mod call;
mod digest;
mod discovery;
mod elf;
mod extension;
mod library;
mod named_value;

pub(crate) use c_data::{
    bytes_from_raw, call_deleter, str_from_raw, strings_from_raw, vec_from_raw,
};
pub(crate) use call::{call, into_error, make_callback_error, Api, ErrorObject};
pub(crate) use extension::{check_owner, ext_call, extension_struct, PluginOwned};
pub use extension::{ExtHandle, Extension, ExtensionType, PluginExtension};
pub use library::Plugin;
pub use named_value::{find, NamedValue, Value};
pub(crate) use named_value::{read_named_values, to_raw};
