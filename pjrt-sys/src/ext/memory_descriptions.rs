//! Memory descriptions extension (`pjrt_c_api_memory_descriptions_extension.h`, version 1):
//! the memory spaces a device description offers, without a client.

use core::ffi::{c_char, c_int};

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{PJRT_DeviceDescription, PJRT_Error, PJRT_Extension_Base};

/// The version of the memory descriptions extension these declarations follow (its `extension_version` field).
pub const PJRT_API_MEMORY_DESCRIPTIONS_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// A memory space of a device description, owned by the plugin.
    PJRT_MemoryDescription,
);

/// The C API function `PJRT_DeviceDescription_MemoryDescriptions`: reads and fills in a [`PJRT_DeviceDescription_MemoryDescriptions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_MemoryDescriptions = unsafe extern "C" fn(
    args: *mut PJRT_DeviceDescription_MemoryDescriptions_Args,
) -> *mut PJRT_Error;

/// The C API function `PJRT_MemoryDescription_Kind`: reads and fills in a [`PJRT_MemoryDescription_Kind_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_MemoryDescription_Kind =
    unsafe extern "C" fn(args: *mut PJRT_MemoryDescription_Kind_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_MemoryDescriptions_Extension`], in order.
pub const MEMORY_DESCRIPTIONS_FUNCTION_NAMES: &[&str] = &[
    "PJRT_DeviceDescription_MemoryDescriptions",
    "PJRT_MemoryDescription_Kind",
];

pjrt_structs! {
    pub struct PJRT_DeviceDescription_MemoryDescriptions_Args / PJRT_DeviceDescription_MemoryDescriptions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        /// Out: `num_memory_descriptions` pointers, owned by the plugin.
        pub memory_descriptions: *const *const PJRT_MemoryDescription,
        /// Out.
        pub num_memory_descriptions: usize,
        /// Out: index of the default memory in `memory_descriptions`.
        pub default_memory_index: usize,
    }

    pub struct PJRT_MemoryDescription_Kind_Args / PJRT_MemoryDescription_Kind_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory_description: *const PJRT_MemoryDescription,
        /// Out: kind name (not NUL-terminated), owned by the plugin.
        pub kind: *const c_char,
        /// Out.
        pub kind_size: usize,
        /// Out: platform-specific id of the kind.
        pub kind_id: c_int,
    }

    /// The extension struct (`PJRT_Extension_Type_MemoryDescriptions`).
    pub struct PJRT_MemoryDescriptions_Extension / PJRT_MemoryDescriptions_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub PJRT_DeviceDescription_MemoryDescriptions:
            Option<PJRT_DeviceDescription_MemoryDescriptions>,
        pub PJRT_MemoryDescription_Kind: Option<PJRT_MemoryDescription_Kind>,
    }
}
