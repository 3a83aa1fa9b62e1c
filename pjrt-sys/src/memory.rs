//! Memory spaces: each device reaches one or more memories (device memory, pinned host, ...).

use core::ffi::{c_char, c_int, c_void};

use crate::*;

pjrt_structs! {
    /// Virtual functions of a memory object (newer headers only; older plugins treat
    /// `PJRT_Memory` as opaque).
    pub struct PJRT_Memory_FunctionTable / PJRT_Memory_FunctionTable_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub instance_struct_size: usize,
        pub get_user_data:
            Option<unsafe extern "C" fn(memory: *mut PJRT_Memory, key: *const c_void) -> *mut c_void>,
        pub set_user_data: Option<
            unsafe extern "C" fn(
                memory: *mut PJRT_Memory,
                key: *const c_void,
                data: *mut c_void,
                dtor: Option<unsafe extern "C" fn(data: *mut c_void)>,
            ),
        >,
    }

    /// A memory space, owned by its client. The 0.114 header gives it a leading vtable
    /// pointer; do not read it on plugins older than the header that introduced it.
    pub struct PJRT_Memory / PJRT_Memory_STRUCT_SIZE {
        pub vtable: *const PJRT_Memory_FunctionTable,
    }

    pub struct PJRT_Memory_Id_Args / PJRT_Memory_Id_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory: *mut PJRT_Memory,
        pub id: c_int,
    }

    pub struct PJRT_Memory_Kind_Args / PJRT_Memory_Kind_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory: *mut PJRT_Memory,
        pub kind: *const c_char,
        pub kind_size: usize,
    }

    pub struct PJRT_Memory_Kind_Id_Args / PJRT_Memory_Kind_Id_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory: *mut PJRT_Memory,
        pub kind_id: c_int,
    }

    pub struct PJRT_Memory_DebugString_Args / PJRT_Memory_DebugString_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory: *mut PJRT_Memory,
        pub debug_string: *const c_char,
        pub debug_string_size: usize,
    }

    pub struct PJRT_Memory_ToString_Args / PJRT_Memory_ToString_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory: *mut PJRT_Memory,
        pub to_string: *const c_char,
        pub to_string_size: usize,
    }

    pub struct PJRT_Memory_AddressableByDevices_Args / PJRT_Memory_AddressableByDevices_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub memory: *mut PJRT_Memory,
        pub devices: *const *mut PJRT_Device,
        pub num_devices: usize,
    }
}

/// The C API function `PJRT_Memory_Id`: reads and fills in a [`PJRT_Memory_Id_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Memory_Id = unsafe extern "C" fn(args: *mut PJRT_Memory_Id_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Memory_Kind`: reads and fills in a [`PJRT_Memory_Kind_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Memory_Kind =
    unsafe extern "C" fn(args: *mut PJRT_Memory_Kind_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Memory_Kind_Id`: reads and fills in a [`PJRT_Memory_Kind_Id_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Memory_Kind_Id =
    unsafe extern "C" fn(args: *mut PJRT_Memory_Kind_Id_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Memory_DebugString`: reads and fills in a [`PJRT_Memory_DebugString_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Memory_DebugString =
    unsafe extern "C" fn(args: *mut PJRT_Memory_DebugString_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Memory_ToString`: reads and fills in a [`PJRT_Memory_ToString_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Memory_ToString =
    unsafe extern "C" fn(args: *mut PJRT_Memory_ToString_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Memory_AddressableByDevices`: reads and fills in a [`PJRT_Memory_AddressableByDevices_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Memory_AddressableByDevices =
    unsafe extern "C" fn(args: *mut PJRT_Memory_AddressableByDevices_Args) -> *mut PJRT_Error;
