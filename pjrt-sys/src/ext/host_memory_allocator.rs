//! Host memory allocator extension
//! (`xla/pjrt/extensions/host_memory_allocator/host_memory_allocator_extension.h`,
//! version 0): allocate host memory suited to a client (e.g. pinned, NUMA-local).
//!
//! This header defines its `_STRUCT_SIZE` values as `sizeof`, not end-of-last-field; for
//! both structs the two are equal (the last field is pointer-sized).

use core::ffi::{c_int, c_void};

use crate::layout::pjrt_structs;
use crate::{PJRT_Client, PJRT_Error, PJRT_Extension_Base};

/// The version of the host memory allocator extension these declarations follow (its `extension_version` field).
pub const PJRT_API_HOST_MEMORY_ALLOCATOR_EXTENSION_VERSION: i32 = 0;

/// In C this typedef is already a pointer type.
pub type PJRT_HostMemoryAllocator_Allocate = Option<
    unsafe extern "C" fn(args: *mut PJRT_HostMemoryAllocator_Allocate_Args) -> *mut PJRT_Error,
>;

/// Slot names of [`PJRT_HostMemoryAllocator_Extension`], in order.
pub const HOST_MEMORY_ALLOCATOR_FUNCTION_NAMES: &[&str] = &["allocate"];

pjrt_structs! {
    pub struct PJRT_HostMemoryAllocator_Allocate_Args
        / PJRT_HostMemoryAllocator_Allocate_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub size: usize,
        pub numa_node: c_int,
        /// Out.
        pub ptr: *mut u8,
        /// Out: frees `ptr` (called with `ptr` and `deleter_arg`).
        pub deleter: Option<unsafe extern "C" fn(ptr: *mut c_void, arg: *mut c_void)>,
        /// Out.
        pub deleter_arg: *mut c_void,
    }

    /// The extension struct (`PJRT_Extension_Type_HostMemoryAllocator`).
    pub struct PJRT_HostMemoryAllocator_Extension
        / PJRT_HostMemoryAllocator_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub allocate: PJRT_HostMemoryAllocator_Allocate,
    }
}
