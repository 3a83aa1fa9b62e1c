//! Raw buffer extension (`pjrt_c_api_raw_buffer_extension.h`, version 2, experimental):
//! untyped views of a buffer's device memory with raw host/device copies.

use core::ffi::c_void;

use crate::ext::device_event::{PJRT_DeviceEvent, PJRT_DeviceEventPromise, PJRT_DeviceEventVector};
use crate::layout::pjrt_structs;
use crate::{PJRT_Buffer, PJRT_Error, PJRT_Event, PJRT_Extension_Base, PJRT_Memory};

/// The version of the raw buffer extension these declarations follow (its `extension_version` field).
pub const PJRT_API_RAW_BUFFER_EXTENSION_VERSION: i32 = 2;

/// The C API function `PJRT_RawBuffer_CreateRawAliasOfBuffer`: reads and fills in a [`PJRT_RawBuffer_CreateRawAliasOfBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_CreateRawAliasOfBuffer =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_CreateRawAliasOfBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RawBuffer_Destroy`: reads and fills in a [`PJRT_RawBuffer_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RawBuffer_GetHostPointer`: reads and fills in a [`PJRT_RawBuffer_GetHostPointer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_GetHostPointer =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_GetHostPointer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RawBuffer_GetOnDeviceSizeInBytes`: reads and fills in a [`PJRT_RawBuffer_GetOnDeviceSizeInBytes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_GetOnDeviceSizeInBytes =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_GetOnDeviceSizeInBytes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RawBuffer_GetMemorySpace`: reads and fills in a [`PJRT_RawBuffer_GetMemorySpace_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_GetMemorySpace =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_GetMemorySpace_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RawBuffer_CopyRawDeviceToHost`: reads and fills in a [`PJRT_RawBuffer_CopyRawDeviceToHost_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_CopyRawDeviceToHost =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_CopyRawDeviceToHost_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RawBuffer_CopyRawHostToDevice`: reads and fills in a [`PJRT_RawBuffer_CopyRawHostToDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RawBuffer_CopyRawHostToDevice =
    unsafe extern "C" fn(args: *mut PJRT_RawBuffer_CopyRawHostToDevice_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_RawBuffer_Extension`], in order.
pub const RAW_BUFFER_FUNCTION_NAMES: &[&str] = &[
    "PJRT_RawBuffer_CreateRawAliasOfBuffer",
    "PJRT_RawBuffer_Destroy",
    "PJRT_RawBuffer_GetOnDeviceSizeInBytes",
    "PJRT_RawBuffer_GetMemorySpace",
    "PJRT_RawBuffer_CopyRawHostToDevice",
    "PJRT_RawBuffer_CopyRawDeviceToHost",
    "PJRT_RawBuffer_GetHostPointer",
];

pjrt_structs! {
    /// Operations on a raw buffer object (the object starts with a pointer to this table).
    pub struct PJRT_RawBuffer_FunctionTable / PJRT_RawBuffer_FunctionTable_STRUCT_SIZE {
        pub struct_size: usize,
        /// Size of the raw buffer object this table belongs to.
        pub instance_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub inc_ref: Option<unsafe extern "C" fn(raw_buffer: *mut PJRT_RawBuffer)>,
        pub dec_ref: Option<unsafe extern "C" fn(raw_buffer: *mut PJRT_RawBuffer)>,
        pub get_on_device_size_in_bytes:
            Option<unsafe extern "C" fn(raw_buffer: *const PJRT_RawBuffer) -> usize>,
        pub get_memory_space:
            Option<unsafe extern "C" fn(raw_buffer: *const PJRT_RawBuffer) -> *mut PJRT_Memory>,
        pub get_host_pointer:
            Option<unsafe extern "C" fn(raw_buffer: *const PJRT_RawBuffer) -> *mut c_void>,
        pub copy_raw_host_to_device_and_return_event: Option<
            unsafe extern "C" fn(
                raw_buffer: *mut PJRT_RawBuffer,
                src: *const c_void,
                offset: i64,
                transfer_size: i64,
                dependencies: *mut PJRT_DeviceEventVector,
                event: *mut PJRT_DeviceEvent,
            ) -> *mut PJRT_Error,
        >,
        pub copy_raw_device_to_host_and_return_event: Option<
            unsafe extern "C" fn(
                raw_buffer: *mut PJRT_RawBuffer,
                dst: *mut c_void,
                offset: i64,
                transfer_size: i64,
                dependencies: *mut PJRT_DeviceEventVector,
                event: *mut PJRT_DeviceEvent,
            ) -> *mut PJRT_Error,
        >,
        pub opaque_device_memory_data_pointer:
            Option<unsafe extern "C" fn(raw_buffer: *const PJRT_RawBuffer) -> *mut c_void>,
        pub make_allocation_ready_event: Option<
            unsafe extern "C" fn(
                raw_buffer: *mut PJRT_RawBuffer,
                event: *mut PJRT_DeviceEvent,
            ) -> *mut PJRT_Error,
        >,
        pub get_raw_buffer_async_value: Option<
            unsafe extern "C" fn(
                raw_buffer: *mut PJRT_RawBuffer,
                event: *mut PJRT_DeviceEvent,
            ) -> *mut PJRT_Error,
        >,
        pub is_mutable: Option<unsafe extern "C" fn(raw_buffer: *const PJRT_RawBuffer) -> bool>,
        pub slice: Option<
            unsafe extern "C" fn(
                raw_buffer: *mut PJRT_RawBuffer,
                offset: i64,
                slice_size: i64,
                sliced_buffer: *mut *mut PJRT_RawBuffer,
            ) -> *mut PJRT_Error,
        >,
        pub schedule_copy_to: Option<
            unsafe extern "C" fn(
                src_buffer: *mut PJRT_RawBuffer,
                transfer_dependency_events: *mut PJRT_DeviceEventVector,
                dst_buffer: *mut PJRT_RawBuffer,
                definition_event_promise: *mut PJRT_DeviceEventPromise,
                src_usage_event_promise: *mut PJRT_DeviceEventPromise,
                allocation_event_callback: Option<
                    unsafe extern "C" fn(status: *mut PJRT_Error, user_data: *mut c_void),
                >,
                allocation_event_user_data: *mut c_void,
            ),
        >,
    }

    /// A raw buffer object starts with its function table.
    pub struct PJRT_RawBuffer / PJRT_RawBuffer_STRUCT_SIZE {
        pub vtable: *const PJRT_RawBuffer_FunctionTable,
    }

    pub struct PJRT_RawBuffer_CreateRawAliasOfBuffer_Args
        / PJRT_RawBuffer_CreateRawAliasOfBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        /// Out: free with `PJRT_RawBuffer_Destroy`.
        pub raw_buffer: *mut PJRT_RawBuffer,
    }

    pub struct PJRT_RawBuffer_Destroy_Args / PJRT_RawBuffer_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_RawBuffer,
    }

    pub struct PJRT_RawBuffer_GetHostPointer_Args / PJRT_RawBuffer_GetHostPointer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_RawBuffer,
        /// Out: null when the memory is not host-addressable.
        pub host_pointer: *mut c_void,
    }

    pub struct PJRT_RawBuffer_GetOnDeviceSizeInBytes_Args
        / PJRT_RawBuffer_GetOnDeviceSizeInBytes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_RawBuffer,
        /// Out.
        pub on_device_size_in_bytes: usize,
    }

    pub struct PJRT_RawBuffer_GetMemorySpace_Args / PJRT_RawBuffer_GetMemorySpace_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_RawBuffer,
        /// Out.
        pub memory_space: *mut PJRT_Memory,
    }

    pub struct PJRT_RawBuffer_CopyRawDeviceToHost_Args
        / PJRT_RawBuffer_CopyRawDeviceToHost_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_RawBuffer,
        pub dst: *mut c_void,
        pub offset: i64,
        pub transfer_size: i64,
        /// Out: completes when the copy is done.
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_RawBuffer_CopyRawHostToDevice_Args
        / PJRT_RawBuffer_CopyRawHostToDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_RawBuffer,
        pub src: *const c_void,
        pub offset: i64,
        pub transfer_size: i64,
        /// Out: completes when the copy is done.
        pub event: *mut PJRT_Event,
    }

    /// The extension struct (`PJRT_Extension_Type_RawBuffer`).
    pub struct PJRT_RawBuffer_Extension / PJRT_RawBuffer_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub PJRT_RawBuffer_CreateRawAliasOfBuffer: Option<PJRT_RawBuffer_CreateRawAliasOfBuffer>,
        pub PJRT_RawBuffer_Destroy: Option<PJRT_RawBuffer_Destroy>,
        pub PJRT_RawBuffer_GetOnDeviceSizeInBytes: Option<PJRT_RawBuffer_GetOnDeviceSizeInBytes>,
        pub PJRT_RawBuffer_GetMemorySpace: Option<PJRT_RawBuffer_GetMemorySpace>,
        pub PJRT_RawBuffer_CopyRawHostToDevice: Option<PJRT_RawBuffer_CopyRawHostToDevice>,
        pub PJRT_RawBuffer_CopyRawDeviceToHost: Option<PJRT_RawBuffer_CopyRawDeviceToHost>,
        pub PJRT_RawBuffer_GetHostPointer: Option<PJRT_RawBuffer_GetHostPointer>,
    }
}
