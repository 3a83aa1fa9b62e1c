//! Devices and device descriptions: identity, kind, attributes, memories, statistics.

use core::ffi::{c_char, c_int};

use crate::*;

pjrt_opaque! {
    /// Device attributes returned by `PJRT_Device_GetAttributes`; free with its deleter.
    PJRT_Device_Attributes,
    /// An event that tracks asynchronous work on a device for profiling.
    PJRT_AsyncTrackingEvent,
}

pjrt_structs! {
    pub struct PJRT_DeviceDescription_Id_Args / PJRT_DeviceDescription_Id_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        pub id: c_int,
    }

    pub struct PJRT_DeviceDescription_ProcessIndex_Args / PJRT_DeviceDescription_ProcessIndex_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        pub process_index: c_int,
    }

    /// Note the field order: the count comes before the array here.
    pub struct PJRT_DeviceDescription_Attributes_Args / PJRT_DeviceDescription_Attributes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        pub num_attributes: usize,
        pub attributes: *const PJRT_NamedValue,
    }

    pub struct PJRT_DeviceDescription_Kind_Args / PJRT_DeviceDescription_Kind_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        pub device_kind: *const c_char,
        pub device_kind_size: usize,
    }

    pub struct PJRT_DeviceDescription_DebugString_Args / PJRT_DeviceDescription_DebugString_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        pub debug_string: *const c_char,
        pub debug_string_size: usize,
    }

    pub struct PJRT_DeviceDescription_ToString_Args / PJRT_DeviceDescription_ToString_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device_description: *mut PJRT_DeviceDescription,
        pub to_string: *const c_char,
        pub to_string_size: usize,
    }

    pub struct PJRT_Device_GetDescription_Args / PJRT_Device_GetDescription_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub device_description: *mut PJRT_DeviceDescription,
    }

    pub struct PJRT_Device_IsAddressable_Args / PJRT_Device_IsAddressable_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub is_addressable: bool,
    }

    pub struct PJRT_Device_LocalHardwareId_Args / PJRT_Device_LocalHardwareId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub local_hardware_id: c_int,
    }

    pub struct PJRT_Device_AddressableMemories_Args / PJRT_Device_AddressableMemories_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub memories: *const *mut PJRT_Memory,
        pub num_memories: usize,
    }

    pub struct PJRT_Device_DefaultMemory_Args / PJRT_Device_DefaultMemory_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub memory: *mut PJRT_Memory,
    }

    /// Allocator statistics; each optional value has an `_is_set` flag.
    pub struct PJRT_Device_MemoryStats_Args / PJRT_Device_MemoryStats_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub bytes_in_use: i64,
        pub peak_bytes_in_use: i64,
        pub peak_bytes_in_use_is_set: bool,
        pub num_allocs: i64,
        pub num_allocs_is_set: bool,
        pub largest_alloc_size: i64,
        pub largest_alloc_size_is_set: bool,
        pub bytes_limit: i64,
        pub bytes_limit_is_set: bool,
        pub bytes_reserved: i64,
        pub bytes_reserved_is_set: bool,
        pub peak_bytes_reserved: i64,
        pub peak_bytes_reserved_is_set: bool,
        pub bytes_reservable_limit: i64,
        pub bytes_reservable_limit_is_set: bool,
        pub largest_free_block_bytes: i64,
        pub largest_free_block_bytes_is_set: bool,
        pub pool_bytes: i64,
        pub pool_bytes_is_set: bool,
        pub peak_pool_bytes: i64,
        pub peak_pool_bytes_is_set: bool,
        pub peak_allocated_bytes: i64,
        pub peak_allocated_bytes_is_set: bool,
    }

    pub struct PJRT_Device_ClearMemoryStats_Args / PJRT_Device_ClearMemoryStats_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
    }

    pub struct PJRT_Device_PoisonExecution_Args / PJRT_Device_PoisonExecution_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub launch_id: i32,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
        pub poisoned: bool,
        pub payload: *const PJRT_NamedValue,
        pub num_payload: usize,
    }

    pub struct PJRT_Device_GetAttributes_Args / PJRT_Device_GetAttributes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub attributes: *const PJRT_NamedValue,
        pub num_attributes: usize,
        pub device_attributes: *mut PJRT_Device_Attributes,
        pub attributes_deleter:
            Option<unsafe extern "C" fn(device_attributes: *mut PJRT_Device_Attributes)>,
    }

    pub struct PJRT_Device_CreateAsyncTrackingEvent_Args / PJRT_Device_CreateAsyncTrackingEvent_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub device: *mut PJRT_Device,
        pub description: *const c_char,
        pub description_size: usize,
        pub event: *mut PJRT_AsyncTrackingEvent,
    }

    pub struct PJRT_AsyncTrackingEvent_Destroy_Args / PJRT_AsyncTrackingEvent_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_AsyncTrackingEvent,
    }
}

/// The C API function `PJRT_DeviceDescription_Id`: reads and fills in a [`PJRT_DeviceDescription_Id_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_Id =
    unsafe extern "C" fn(args: *mut PJRT_DeviceDescription_Id_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_DeviceDescription_ProcessIndex`: reads and fills in a [`PJRT_DeviceDescription_ProcessIndex_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_ProcessIndex =
    unsafe extern "C" fn(args: *mut PJRT_DeviceDescription_ProcessIndex_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_DeviceDescription_Attributes`: reads and fills in a [`PJRT_DeviceDescription_Attributes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_Attributes =
    unsafe extern "C" fn(args: *mut PJRT_DeviceDescription_Attributes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_DeviceDescription_Kind`: reads and fills in a [`PJRT_DeviceDescription_Kind_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_Kind =
    unsafe extern "C" fn(args: *mut PJRT_DeviceDescription_Kind_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_DeviceDescription_DebugString`: reads and fills in a [`PJRT_DeviceDescription_DebugString_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_DebugString =
    unsafe extern "C" fn(args: *mut PJRT_DeviceDescription_DebugString_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_DeviceDescription_ToString`: reads and fills in a [`PJRT_DeviceDescription_ToString_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DeviceDescription_ToString =
    unsafe extern "C" fn(args: *mut PJRT_DeviceDescription_ToString_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_GetDescription`: reads and fills in a [`PJRT_Device_GetDescription_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_GetDescription =
    unsafe extern "C" fn(args: *mut PJRT_Device_GetDescription_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_IsAddressable`: reads and fills in a [`PJRT_Device_IsAddressable_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_IsAddressable =
    unsafe extern "C" fn(args: *mut PJRT_Device_IsAddressable_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_LocalHardwareId`: reads and fills in a [`PJRT_Device_LocalHardwareId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_LocalHardwareId =
    unsafe extern "C" fn(args: *mut PJRT_Device_LocalHardwareId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_AddressableMemories`: reads and fills in a [`PJRT_Device_AddressableMemories_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_AddressableMemories =
    unsafe extern "C" fn(args: *mut PJRT_Device_AddressableMemories_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_DefaultMemory`: reads and fills in a [`PJRT_Device_DefaultMemory_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_DefaultMemory =
    unsafe extern "C" fn(args: *mut PJRT_Device_DefaultMemory_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_MemoryStats`: reads and fills in a [`PJRT_Device_MemoryStats_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_MemoryStats =
    unsafe extern "C" fn(args: *mut PJRT_Device_MemoryStats_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_ClearMemoryStats`: reads and fills in a [`PJRT_Device_ClearMemoryStats_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_ClearMemoryStats =
    unsafe extern "C" fn(args: *mut PJRT_Device_ClearMemoryStats_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_PoisonExecution`: reads and fills in a [`PJRT_Device_PoisonExecution_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_PoisonExecution =
    unsafe extern "C" fn(args: *mut PJRT_Device_PoisonExecution_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_GetAttributes`: reads and fills in a [`PJRT_Device_GetAttributes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_GetAttributes =
    unsafe extern "C" fn(args: *mut PJRT_Device_GetAttributes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Device_CreateAsyncTrackingEvent`: reads and fills in a [`PJRT_Device_CreateAsyncTrackingEvent_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Device_CreateAsyncTrackingEvent =
    unsafe extern "C" fn(args: *mut PJRT_Device_CreateAsyncTrackingEvent_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncTrackingEvent_Destroy`: reads and fills in a [`PJRT_AsyncTrackingEvent_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncTrackingEvent_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_AsyncTrackingEvent_Destroy_Args) -> *mut PJRT_Error;
