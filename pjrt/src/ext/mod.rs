//! Safe wrappers of every PJRT extension (header 0.114), one module per extension.
//!
//! Get one with [`Plugin::extension`](crate::Plugin::extension): `None` when the plugin
//! does not expose it. Every extension function goes through one checked path, `ext_call!`
//! (beside [`ExtHandle`] in the crate's `plugin` module): a slot beyond the plugin's
//! `struct_size` (an older plugin's shorter struct) or a null slot is
//! [`Error::Unimplemented`](crate::Error::Unimplemented), a returned `PJRT_Error` is
//! [`Error::Pjrt`](crate::Error::Pjrt).

pub use crate::plugin::{ExtHandle, PluginExtension};

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
