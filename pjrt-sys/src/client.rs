//! The client: a connection to one plugin's devices. Creation (with its key-value store
//! callbacks), device and memory discovery, compilation and loading, and buffer creation.

use core::ffi::{c_char, c_int, c_void};

use crate::*;

pjrt_opaque! {
    /// Handle for fulfilling an alias buffer made by `PJRT_Client_CreateAliasBuffer`.
    PJRT_FulfillAliasBufferCallback,
}

/// Frees a value returned by a key-value get callback.
pub type PJRT_KeyValueGetCallback_ValueDeleter = Option<unsafe extern "C" fn(value: *mut c_char)>;
/// Frees a value returned by a key-value try-get callback.
pub type PJRT_KeyValueTryGetCallback_ValueDeleter =
    Option<unsafe extern "C" fn(value: *mut c_char)>;

pjrt_structs! {
    /// Arguments of the blocking key-value get callback a caller may give the client.
    pub struct PJRT_KeyValueGetCallback_Args / PJRT_KeyValueGetCallback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub key: *const c_char,
        pub key_size: usize,
        pub timeout_in_ms: c_int,
        pub callback_error: *mut PJRT_CallbackError,
        pub user_arg: *mut c_void,
        pub value: *mut c_char,
        pub value_size: usize,
        pub value_deleter_callback: PJRT_KeyValueGetCallback_ValueDeleter,
    }

    /// Arguments of the non-blocking key-value get callback.
    pub struct PJRT_KeyValueTryGetCallback_Args / PJRT_KeyValueTryGetCallback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub key: *const c_char,
        pub key_size: usize,
        pub callback_error: *mut PJRT_CallbackError,
        pub user_arg: *mut c_void,
        pub value: *mut c_char,
        pub value_size: usize,
        pub value_deleter_callback: PJRT_KeyValueTryGetCallback_ValueDeleter,
    }

    /// Arguments of the key-value put callback.
    pub struct PJRT_KeyValuePutCallback_Args / PJRT_KeyValuePutCallback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub key: *const c_char,
        pub key_size: usize,
        pub value: *const c_char,
        pub value_size: usize,
        pub callback_error: *mut PJRT_CallbackError,
        pub user_arg: *mut c_void,
    }

    pub struct PJRT_Client_Create_Args / PJRT_Client_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub create_options: *const PJRT_NamedValue,
        pub num_options: usize,
        pub kv_get_callback: PJRT_KeyValueGetCallback,
        pub kv_get_user_arg: *mut c_void,
        pub kv_put_callback: PJRT_KeyValuePutCallback,
        pub kv_put_user_arg: *mut c_void,
        pub client: *mut PJRT_Client,
        pub kv_try_get_callback: PJRT_KeyValueTryGetCallback,
        pub kv_try_get_user_arg: *mut c_void,
    }

    pub struct PJRT_Client_Destroy_Args / PJRT_Client_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
    }

    pub struct PJRT_Client_PlatformName_Args / PJRT_Client_PlatformName_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub platform_name: *const c_char,
        pub platform_name_size: usize,
    }

    pub struct PJRT_Client_ProcessIndex_Args / PJRT_Client_ProcessIndex_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub process_index: c_int,
    }

    pub struct PJRT_Client_PlatformVersion_Args / PJRT_Client_PlatformVersion_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub platform_version: *const c_char,
        pub platform_version_size: usize,
    }

    /// Output: a topology owned by the client (do not destroy it).
    pub struct PJRT_Client_TopologyDescription_Args / PJRT_Client_TopologyDescription_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub topology: *mut PJRT_TopologyDescription,
    }

    pub struct PJRT_Client_Devices_Args / PJRT_Client_Devices_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub devices: *const *mut PJRT_Device,
        pub num_devices: usize,
    }

    pub struct PJRT_Client_AddressableDevices_Args / PJRT_Client_AddressableDevices_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub addressable_devices: *const *mut PJRT_Device,
        pub num_addressable_devices: usize,
    }

    pub struct PJRT_Client_LookupDevice_Args / PJRT_Client_LookupDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub id: c_int,
        pub device: *mut PJRT_Device,
    }

    pub struct PJRT_Client_LookupAddressableDevice_Args / PJRT_Client_LookupAddressableDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub local_hardware_id: c_int,
        pub addressable_device: *mut PJRT_Device,
    }

    /// The state of one process of a multi-process job.
    pub struct PJRT_ProcessInfo / PJRT_ProcessInfo_STRUCT_SIZE {
        pub struct_size: usize,
        pub task_id: c_int,
        pub incarnation_id: u64,
        pub state: PJRT_ProcessState,
        pub error_code: c_int,
        pub error_message: *const c_char,
        pub error_message_size: usize,
    }

    pub struct PJRT_Client_UpdateGlobalProcessInfo_Args / PJRT_Client_UpdateGlobalProcessInfo_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub process_infos: *mut PJRT_ProcessInfo,
        pub num_process_infos: usize,
    }

    pub struct PJRT_Client_AddressableMemories_Args / PJRT_Client_AddressableMemories_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub addressable_memories: *const *mut PJRT_Memory,
        pub num_addressable_memories: usize,
    }

    /// A program to compile: `code` in the given `format` ("mlir" for StableHLO text or
    /// bytecode, "hlo" for a serialized HloModuleProto, ...).
    pub struct PJRT_Program / PJRT_Program_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub code: *mut c_char,
        pub code_size: usize,
        pub format: *const c_char,
        pub format_size: usize,
    }

    /// `compile_options` is a serialized `xla.CompileOptionsProto`.
    pub struct PJRT_Client_Compile_Args / PJRT_Client_Compile_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub program: *const PJRT_Program,
        pub compile_options: *const c_char,
        pub compile_options_size: usize,
        pub executable: *mut PJRT_LoadedExecutable,
    }

    pub struct PJRT_Client_Load_Args / PJRT_Client_Load_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub executable: *mut PJRT_Executable,
        pub compile_options: *const c_char,
        pub compile_options_size: usize,
        pub loaded_executable: *mut PJRT_LoadedExecutable,
    }

    /// `default_assignment` is a caller-owned array of `default_assignment_size` ints.
    pub struct PJRT_Client_DefaultDeviceAssignment_Args / PJRT_Client_DefaultDeviceAssignment_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub num_replicas: c_int,
        pub num_partitions: c_int,
        pub default_assignment_size: usize,
        pub default_assignment: *mut c_int,
    }

    pub struct PJRT_Client_DmaMap_Args / PJRT_Client_DmaMap_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub data: *mut c_void,
        pub size: usize,
    }

    pub struct PJRT_Client_DmaUnmap_Args / PJRT_Client_DmaUnmap_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub data: *mut c_void,
    }

    pub struct PJRT_Client_CreateUninitializedBuffer_Args / PJRT_Client_CreateUninitializedBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub shape_dims: *const i64,
        pub shape_num_dims: usize,
        pub shape_element_type: PJRT_Buffer_Type,
        pub shape_layout: *mut PJRT_Buffer_MemoryLayout,
        pub device: *mut PJRT_Device,
        pub memory: *mut PJRT_Memory,
        pub buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Client_CreateErrorBuffer_Args / PJRT_Client_CreateErrorBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
        pub shape_dims: *const i64,
        pub shape_num_dims: usize,
        pub shape_element_type: PJRT_Buffer_Type,
        pub shape_layout: *mut PJRT_Buffer_MemoryLayout,
        pub memory: *mut PJRT_Memory,
        pub buffer: *mut PJRT_Buffer,
        pub payload: *const PJRT_NamedValue,
        pub num_payload: usize,
    }

    pub struct PJRT_Client_CreateAliasBuffer_Args / PJRT_Client_CreateAliasBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub memory: *mut PJRT_Memory,
        pub shape_dims: *const i64,
        pub shape_num_dims: usize,
        pub shape_element_type: PJRT_Buffer_Type,
        pub shape_layout: *mut PJRT_Buffer_MemoryLayout,
        pub alias_buffer: *mut PJRT_Buffer,
        pub fulfill_alias_buffer_cb: *mut PJRT_FulfillAliasBufferCallback,
    }

    pub struct PJRT_Client_FulfillAliasBuffer_Args / PJRT_Client_FulfillAliasBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub buffer: *mut PJRT_Buffer,
        pub status_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
        pub fulfill_alias_buffer_cb: *mut PJRT_FulfillAliasBufferCallback,
    }

    /// Copies (or aliases, per `host_buffer_semantics`) host data into a new device buffer.
    /// `byte_strides` may be null for a dense major-to-minor array.
    pub struct PJRT_Client_BufferFromHostBuffer_Args / PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub data: *const c_void,
        pub type_: PJRT_Buffer_Type,
        pub dims: *const i64,
        pub num_dims: usize,
        pub byte_strides: *const i64,
        pub num_byte_strides: usize,
        pub host_buffer_semantics: PJRT_HostBufferSemantics,
        pub device: *mut PJRT_Device,
        pub memory: *mut PJRT_Memory,
        pub device_layout: *mut PJRT_Buffer_MemoryLayout,
        pub done_with_host_buffer: *mut PJRT_Event,
        pub buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Client_CreateViewOfDeviceBuffer_Args / PJRT_Client_CreateViewOfDeviceBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub device_buffer_ptr: *mut c_void,
        pub dims: *const i64,
        pub num_dims: usize,
        pub element_type: PJRT_Buffer_Type,
        pub layout: *mut PJRT_Buffer_MemoryLayout,
        pub device: *mut PJRT_Device,
        pub on_delete_callback:
            Option<unsafe extern "C" fn(device_buffer_ptr: *mut c_void, user_arg: *mut c_void)>,
        pub on_delete_callback_arg: *mut c_void,
        pub stream: isize,
        pub buffer: *mut PJRT_Buffer,
        pub memory: *mut PJRT_Memory,
    }

    /// Dimensions and element type of one array.
    pub struct PJRT_ShapeSpec / PJRT_ShapeSpec_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub dims: *const i64,
        pub num_dims: usize,
        pub element_type: PJRT_Buffer_Type,
    }

    pub struct PJRT_Client_CreateBuffersForAsyncHostToDevice_Args / PJRT_Client_CreateBuffersForAsyncHostToDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub shape_specs: *mut PJRT_ShapeSpec,
        pub num_shape_specs: usize,
        pub device_layouts: *mut *mut PJRT_Buffer_MemoryLayout,
        pub num_device_layouts: usize,
        pub memory: *mut PJRT_Memory,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
    }
}

/// A blocking key-value get, supplied by the caller for multi-process set-ups.
pub type PJRT_KeyValueGetCallback =
    Option<unsafe extern "C" fn(args: *mut PJRT_KeyValueGetCallback_Args) -> *mut PJRT_Error>;
/// A non-blocking key-value get.
pub type PJRT_KeyValueTryGetCallback =
    Option<unsafe extern "C" fn(args: *mut PJRT_KeyValueTryGetCallback_Args) -> *mut PJRT_Error>;
/// A key-value put.
pub type PJRT_KeyValuePutCallback =
    Option<unsafe extern "C" fn(args: *mut PJRT_KeyValuePutCallback_Args) -> *mut PJRT_Error>;

pjrt_enum! {
    /// State of a process in [`PJRT_ProcessInfo`].
    PJRT_ProcessState {
        PJRT_ProcessState_kUnspecified = 0,
        PJRT_ProcessState_kUninitialized = 1,
        PJRT_ProcessState_kDisconnected = 2,
        PJRT_ProcessState_kConnected = 3,
        PJRT_ProcessState_kError = 4,
    }
}

/// The C API function `PJRT_Client_Create`: reads and fills in a [`PJRT_Client_Create_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_Create =
    unsafe extern "C" fn(args: *mut PJRT_Client_Create_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_Destroy`: reads and fills in a [`PJRT_Client_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Client_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_PlatformName`: reads and fills in a [`PJRT_Client_PlatformName_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_PlatformName =
    unsafe extern "C" fn(args: *mut PJRT_Client_PlatformName_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_ProcessIndex`: reads and fills in a [`PJRT_Client_ProcessIndex_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_ProcessIndex =
    unsafe extern "C" fn(args: *mut PJRT_Client_ProcessIndex_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_PlatformVersion`: reads and fills in a [`PJRT_Client_PlatformVersion_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_PlatformVersion =
    unsafe extern "C" fn(args: *mut PJRT_Client_PlatformVersion_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_TopologyDescription`: reads and fills in a [`PJRT_Client_TopologyDescription_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_TopologyDescription =
    unsafe extern "C" fn(args: *mut PJRT_Client_TopologyDescription_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_Devices`: reads and fills in a [`PJRT_Client_Devices_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_Devices =
    unsafe extern "C" fn(args: *mut PJRT_Client_Devices_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_AddressableDevices`: reads and fills in a [`PJRT_Client_AddressableDevices_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_AddressableDevices =
    unsafe extern "C" fn(args: *mut PJRT_Client_AddressableDevices_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_LookupDevice`: reads and fills in a [`PJRT_Client_LookupDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_LookupDevice =
    unsafe extern "C" fn(args: *mut PJRT_Client_LookupDevice_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_LookupAddressableDevice`: reads and fills in a [`PJRT_Client_LookupAddressableDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_LookupAddressableDevice =
    unsafe extern "C" fn(args: *mut PJRT_Client_LookupAddressableDevice_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_UpdateGlobalProcessInfo`: reads and fills in a [`PJRT_Client_UpdateGlobalProcessInfo_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_UpdateGlobalProcessInfo =
    unsafe extern "C" fn(args: *mut PJRT_Client_UpdateGlobalProcessInfo_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_AddressableMemories`: reads and fills in a [`PJRT_Client_AddressableMemories_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_AddressableMemories =
    unsafe extern "C" fn(args: *mut PJRT_Client_AddressableMemories_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_Compile`: reads and fills in a [`PJRT_Client_Compile_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_Compile =
    unsafe extern "C" fn(args: *mut PJRT_Client_Compile_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_Load`: reads and fills in a [`PJRT_Client_Load_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_Load =
    unsafe extern "C" fn(args: *mut PJRT_Client_Load_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_DefaultDeviceAssignment`: reads and fills in a [`PJRT_Client_DefaultDeviceAssignment_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_DefaultDeviceAssignment =
    unsafe extern "C" fn(args: *mut PJRT_Client_DefaultDeviceAssignment_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_DmaMap`: reads and fills in a [`PJRT_Client_DmaMap_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_DmaMap =
    unsafe extern "C" fn(args: *mut PJRT_Client_DmaMap_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_DmaUnmap`: reads and fills in a [`PJRT_Client_DmaUnmap_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_DmaUnmap =
    unsafe extern "C" fn(args: *mut PJRT_Client_DmaUnmap_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_CreateUninitializedBuffer`: reads and fills in a [`PJRT_Client_CreateUninitializedBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_CreateUninitializedBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Client_CreateUninitializedBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_CreateErrorBuffer`: reads and fills in a [`PJRT_Client_CreateErrorBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_CreateErrorBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Client_CreateErrorBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_CreateAliasBuffer`: reads and fills in a [`PJRT_Client_CreateAliasBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_CreateAliasBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Client_CreateAliasBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_FulfillAliasBuffer`: reads and fills in a [`PJRT_Client_FulfillAliasBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_FulfillAliasBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Client_FulfillAliasBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_BufferFromHostBuffer`: reads and fills in a [`PJRT_Client_BufferFromHostBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_BufferFromHostBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Client_BufferFromHostBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_CreateViewOfDeviceBuffer`: reads and fills in a [`PJRT_Client_CreateViewOfDeviceBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_CreateViewOfDeviceBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Client_CreateViewOfDeviceBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Client_CreateBuffersForAsyncHostToDevice`: reads and fills in a [`PJRT_Client_CreateBuffersForAsyncHostToDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_CreateBuffersForAsyncHostToDevice = unsafe extern "C" fn(
    args: *mut PJRT_Client_CreateBuffersForAsyncHostToDevice_Args,
) -> *mut PJRT_Error;
