//! Executables: compiled programs (`PJRT_Executable`), programs loaded onto devices
//! (`PJRT_LoadedExecutable`), execution with its options and callbacks, serialization.

use core::ffi::{c_char, c_int, c_void};

use crate::*;

pjrt_opaque! {
    /// Per-execution context (e.g. FFI user data).
    PJRT_ExecuteContext,
    /// A serialized device assignment, freed by its deleter.
    PJRT_DeviceAssignmentSerialized,
    /// A serialized executable, freed by its deleter.
    PJRT_SerializedExecutable,
    /// Serialized compile options, freed by their deleter.
    PJRT_SerializedCompileOptions,
    /// Multi-slice configuration handed to execution and loading.
    PJRT_MultiSlice_Config,
    /// A phase compiler (used by the PhaseCompile extension).
    PJRT_PhaseCompiler,
}

/// Sends a chunk to the host for a send op; must call `chunk.deleter` when done with it.
pub type PJRT_SendCallback = Option<
    unsafe extern "C" fn(
        chunk: *mut PJRT_Chunk,
        callback_error: *mut PJRT_CallbackError,
        total_size_in_bytes: usize,
        done: bool,
        user_arg: *mut c_void,
    ) -> *mut PJRT_Error,
>;

/// Receives data for a recv op through the given stream.
pub type PJRT_RecvCallback =
    Option<unsafe extern "C" fn(stream: *mut PJRT_CopyToDeviceStream, user_arg: *mut c_void)>;

/// Receives the value of one operand of an HLO output callback.
pub type PJRT_HloOutputCallback = Option<
    unsafe extern "C" fn(
        replica_id: i64,
        partition_id: i64,
        data: *const c_void,
        shape_dims: *const i64,
        shape_num_dims: usize,
        shape_element_type: PJRT_Buffer_Type,
        operand_index: i64,
        user_arg: *mut c_void,
    ),
>;

pjrt_structs! {
    pub struct PJRT_ExecuteContext_Create_Args / PJRT_ExecuteContext_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub context: *mut PJRT_ExecuteContext,
    }

    pub struct PJRT_ExecuteContext_Destroy_Args / PJRT_ExecuteContext_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub context: *mut PJRT_ExecuteContext,
    }

    pub struct PJRT_Executable_Destroy_Args / PJRT_Executable_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
    }

    pub struct PJRT_LoadedExecutable_Destroy_Args / PJRT_LoadedExecutable_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
    }

    /// Output: a `PJRT_Executable` the caller owns and must destroy exactly once.
    pub struct PJRT_LoadedExecutable_GetExecutable_Args / PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub loaded_executable: *mut PJRT_LoadedExecutable,
        pub executable: *mut PJRT_Executable,
    }

    pub struct PJRT_LoadedExecutable_GetDeviceAssignment_Args / PJRT_LoadedExecutable_GetDeviceAssignment_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
        pub serialized_bytes: *const c_char,
        pub serialized_bytes_size: usize,
        pub serialized_device_assignment: *mut PJRT_DeviceAssignmentSerialized,
        pub serialized_device_assignment_deleter:
            Option<unsafe extern "C" fn(da: *mut PJRT_DeviceAssignmentSerialized)>,
    }

    pub struct PJRT_Executable_Name_Args / PJRT_Executable_Name_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub executable_name: *const c_char,
        pub executable_name_size: usize,
    }

    pub struct PJRT_Executable_NumReplicas_Args / PJRT_Executable_NumReplicas_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_replicas: usize,
    }

    pub struct PJRT_Executable_NumPartitions_Args / PJRT_Executable_NumPartitions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_partitions: usize,
    }

    /// A (replica, partition) pair.
    pub struct PJRT_LogicalDeviceIds / PJRT_LogicalDeviceIds_STRUCT_SIZE {
        pub replica: c_int,
        pub partition: c_int,
    }

    pub struct PJRT_LoadedExecutable_AddressableDevices_Args / PJRT_LoadedExecutable_AddressableDevices_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
        pub addressable_devices: *const *mut PJRT_Device,
        pub num_addressable_devices: usize,
    }

    pub struct PJRT_LoadedExecutable_AddressableDeviceLogicalIds_Args / PJRT_LoadedExecutable_AddressableDeviceLogicalIds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
        pub addressable_device_logical_ids: *mut PJRT_LogicalDeviceIds,
        pub num_addressable_device_logical_ids: usize,
    }

    /// Call twice: first with `program.code` null to learn `code_size`, then with a
    /// caller-owned buffer of that size.
    pub struct PJRT_Executable_OptimizedProgram_Args / PJRT_Executable_OptimizedProgram_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub program: *mut PJRT_Program,
    }

    pub struct PJRT_LoadedExecutable_Delete_Args / PJRT_LoadedExecutable_Delete_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
    }

    pub struct PJRT_LoadedExecutable_IsDeleted_Args / PJRT_LoadedExecutable_IsDeleted_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
        pub is_deleted: bool,
    }

    /// A block of bytes with the function that frees it.
    pub struct PJRT_Chunk / PJRT_Chunk_STRUCT_SIZE {
        pub data: *mut c_void,
        pub size: usize,
        pub deleter: Option<unsafe extern "C" fn(data: *mut c_void, deleter_arg: *mut c_void)>,
        pub deleter_arg: *mut c_void,
    }

    pub struct PJRT_SendCallbackInfo / PJRT_SendCallbackInfo_STRUCT_SIZE {
        pub channel_id: i64,
        pub user_arg: *mut c_void,
        pub send_callback: PJRT_SendCallback,
    }

    pub struct PJRT_RecvCallbackInfo / PJRT_RecvCallbackInfo_STRUCT_SIZE {
        pub channel_id: i64,
        pub user_arg: *mut c_void,
        pub recv_callback: PJRT_RecvCallback,
    }

    pub struct PJRT_HloOutputCallbackInfo / PJRT_HloOutputCallbackInfo_STRUCT_SIZE {
        pub user_arg: *mut c_void,
        pub callback: PJRT_HloOutputCallback,
        pub callback_id: i64,
        pub num_operands: usize,
    }

    /// Options of one execution. `send_callbacks[d]` / `recv_callbacks[d]` are per-device
    /// arrays of `num_send_ops` / `num_recv_ops` entries.
    pub struct PJRT_ExecuteOptions / PJRT_ExecuteOptions_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub send_callbacks: *mut *mut PJRT_SendCallbackInfo,
        pub recv_callbacks: *mut *mut PJRT_RecvCallbackInfo,
        pub num_send_ops: usize,
        pub num_recv_ops: usize,
        pub launch_id: c_int,
        pub non_donatable_input_indices: *const i64,
        pub num_non_donatable_input_indices: usize,
        pub context: *mut PJRT_ExecuteContext,
        pub call_location: *const c_char,
        pub num_tasks: usize,
        pub task_ids: *mut c_int,
        pub incarnation_ids: *mut i64,
        pub multi_slice_config: *mut PJRT_MultiSlice_Config,
        pub use_major_to_minor_data_layout_for_callbacks: bool,
        pub hlo_output_callbacks: *mut PJRT_HloOutputCallbackInfo,
        pub num_hlo_output_callbacks: usize,
    }

    /// `argument_lists[d][a]`: argument `a` for device `d`. `output_lists[d]` must point at
    /// caller-owned arrays of `NumOutputs` slots that receive owned output buffers.
    /// `device_complete_events`, when non-null, receives one owned event per device.
    pub struct PJRT_LoadedExecutable_Execute_Args / PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
        pub options: *mut PJRT_ExecuteOptions,
        pub argument_lists: *const *const *mut PJRT_Buffer,
        pub num_devices: usize,
        pub num_args: usize,
        pub output_lists: *const *mut *mut PJRT_Buffer,
        pub device_complete_events: *mut *mut PJRT_Event,
        pub execute_device: *mut PJRT_Device,
    }

    pub struct PJRT_Executable_NumOutputs_Args / PJRT_Executable_NumOutputs_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_outputs: usize,
    }

    pub struct PJRT_Executable_SizeOfGeneratedCodeInBytes_Args / PJRT_Executable_SizeOfGeneratedCodeInBytes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub size_in_bytes: i64,
    }

    pub struct PJRT_Executable_Fingerprint_Args / PJRT_Executable_Fingerprint_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub executable_fingerprint: *const c_char,
        pub executable_fingerprint_size: usize,
    }

    /// Note the field order: the count comes before the array here.
    pub struct PJRT_Executable_GetCostAnalysis_Args / PJRT_Executable_GetCostAnalysis_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_properties: usize,
        pub properties: *const PJRT_NamedValue,
    }

    pub struct PJRT_Executable_GetCompiledMemoryStats_Args / PJRT_Executable_GetCompiledMemoryStats_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub generated_code_size_in_bytes: i64,
        pub argument_size_in_bytes: i64,
        pub output_size_in_bytes: i64,
        pub alias_size_in_bytes: i64,
        pub temp_size_in_bytes: i64,
        pub host_generated_code_size_in_bytes: i64,
        pub host_argument_size_in_bytes: i64,
        pub host_output_size_in_bytes: i64,
        pub host_alias_size_in_bytes: i64,
        pub host_temp_size_in_bytes: i64,
        pub peak_memory_in_bytes: i64,
        pub total_size_in_bytes: i64,
        pub total_allocation_bytes: i64,
        pub indefinite_allocations: i64,
        pub peak_unpadded_heap_bytes: i64,
    }

    pub struct PJRT_Executable_OutputElementTypes_Args / PJRT_Executable_OutputElementTypes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub output_types: *mut PJRT_Buffer_Type,
        pub num_output_types: usize,
    }

    /// Output: all outputs' dimensions back to back in `dims`; `dim_sizes[i]` is output
    /// `i`'s rank.
    pub struct PJRT_Executable_OutputDimensions_Args / PJRT_Executable_OutputDimensions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_outputs: usize,
        pub dims: *const i64,
        pub dim_sizes: *const usize,
    }

    pub struct PJRT_Executable_ParameterMemoryKinds_Args / PJRT_Executable_ParameterMemoryKinds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_parameters: usize,
        pub memory_kinds: *const *const c_char,
        pub memory_kind_sizes: *const usize,
    }

    pub struct PJRT_Executable_OutputMemoryKinds_Args / PJRT_Executable_OutputMemoryKinds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub num_outputs: usize,
        pub memory_kinds: *const *const c_char,
        pub memory_kind_sizes: *const usize,
    }

    /// Output: `serialized_bytes` (owned by `serialized_executable`, which the caller frees
    /// with `serialized_executable_deleter`).
    pub struct PJRT_Executable_Serialize_Args / PJRT_Executable_Serialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *const PJRT_Executable,
        pub serialized_bytes: *const c_char,
        pub serialized_bytes_size: usize,
        pub serialized_executable: *mut PJRT_SerializedExecutable,
        pub serialized_executable_deleter:
            Option<unsafe extern "C" fn(exec: *mut PJRT_SerializedExecutable)>,
    }

    pub struct PJRT_Executable_GetCompileOptions_Args / PJRT_Executable_GetCompileOptions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        pub serialized_bytes: *const c_char,
        pub serialized_bytes_size: usize,
        pub serialized_compile_options: *mut PJRT_SerializedCompileOptions,
        pub serialized_compile_options_deleter:
            Option<unsafe extern "C" fn(options: *mut PJRT_SerializedCompileOptions)>,
    }

    /// Options for `PJRT_Executable_DeserializeAndLoad` (no `extension_start`).
    pub struct PJRT_LoadOptions / PJRT_LoadOptions_STRUCT_SIZE {
        pub struct_size: usize,
        pub computation_origin: *const i32,
        pub computation_origin_size: usize,
        pub multi_slice_config: *mut PJRT_MultiSlice_Config,
    }

    pub struct PJRT_Executable_DeserializeAndLoad_Args / PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub serialized_executable: *const c_char,
        pub serialized_executable_size: usize,
        pub loaded_executable: *mut PJRT_LoadedExecutable,
        pub overridden_serialized_compile_options: *const c_char,
        pub overridden_serialized_compile_options_size: usize,
        pub load_options: *mut PJRT_LoadOptions,
    }

    pub struct PJRT_LoadedExecutable_Fingerprint_Args / PJRT_LoadedExecutable_Fingerprint_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_LoadedExecutable,
        pub executable_fingerprint: *const c_char,
        pub executable_fingerprint_size: usize,
    }
}

/// The C API function `PJRT_ExecuteContext_Create`: reads and fills in a [`PJRT_ExecuteContext_Create_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_ExecuteContext_Create =
    unsafe extern "C" fn(args: *mut PJRT_ExecuteContext_Create_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_ExecuteContext_Destroy`: reads and fills in a [`PJRT_ExecuteContext_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_ExecuteContext_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_ExecuteContext_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_Destroy`: reads and fills in a [`PJRT_Executable_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Executable_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_Destroy`: reads and fills in a [`PJRT_LoadedExecutable_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_LoadedExecutable_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_GetExecutable`: reads and fills in a [`PJRT_LoadedExecutable_GetExecutable_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_GetExecutable =
    unsafe extern "C" fn(args: *mut PJRT_LoadedExecutable_GetExecutable_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_GetDeviceAssignment`: reads and fills in a [`PJRT_LoadedExecutable_GetDeviceAssignment_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_GetDeviceAssignment = unsafe extern "C" fn(
    args: *mut PJRT_LoadedExecutable_GetDeviceAssignment_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_Name`: reads and fills in a [`PJRT_Executable_Name_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_Name =
    unsafe extern "C" fn(args: *mut PJRT_Executable_Name_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_NumReplicas`: reads and fills in a [`PJRT_Executable_NumReplicas_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_NumReplicas =
    unsafe extern "C" fn(args: *mut PJRT_Executable_NumReplicas_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_NumPartitions`: reads and fills in a [`PJRT_Executable_NumPartitions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_NumPartitions =
    unsafe extern "C" fn(args: *mut PJRT_Executable_NumPartitions_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_AddressableDevices`: reads and fills in a [`PJRT_LoadedExecutable_AddressableDevices_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_AddressableDevices = unsafe extern "C" fn(
    args: *mut PJRT_LoadedExecutable_AddressableDevices_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_AddressableDeviceLogicalIds`: reads and fills in a [`PJRT_LoadedExecutable_AddressableDeviceLogicalIds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_AddressableDeviceLogicalIds =
    unsafe extern "C" fn(
        args: *mut PJRT_LoadedExecutable_AddressableDeviceLogicalIds_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_OptimizedProgram`: reads and fills in a [`PJRT_Executable_OptimizedProgram_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_OptimizedProgram =
    unsafe extern "C" fn(args: *mut PJRT_Executable_OptimizedProgram_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_Delete`: reads and fills in a [`PJRT_LoadedExecutable_Delete_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_Delete =
    unsafe extern "C" fn(args: *mut PJRT_LoadedExecutable_Delete_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_IsDeleted`: reads and fills in a [`PJRT_LoadedExecutable_IsDeleted_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_IsDeleted =
    unsafe extern "C" fn(args: *mut PJRT_LoadedExecutable_IsDeleted_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_Execute`: reads and fills in a [`PJRT_LoadedExecutable_Execute_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_Execute =
    unsafe extern "C" fn(args: *mut PJRT_LoadedExecutable_Execute_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_NumOutputs`: reads and fills in a [`PJRT_Executable_NumOutputs_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_NumOutputs =
    unsafe extern "C" fn(args: *mut PJRT_Executable_NumOutputs_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_SizeOfGeneratedCodeInBytes`: reads and fills in a [`PJRT_Executable_SizeOfGeneratedCodeInBytes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_SizeOfGeneratedCodeInBytes = unsafe extern "C" fn(
    args: *mut PJRT_Executable_SizeOfGeneratedCodeInBytes_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_Fingerprint`: reads and fills in a [`PJRT_Executable_Fingerprint_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_Fingerprint =
    unsafe extern "C" fn(args: *mut PJRT_Executable_Fingerprint_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_GetCostAnalysis`: reads and fills in a [`PJRT_Executable_GetCostAnalysis_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_GetCostAnalysis =
    unsafe extern "C" fn(args: *mut PJRT_Executable_GetCostAnalysis_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_GetCompiledMemoryStats`: reads and fills in a [`PJRT_Executable_GetCompiledMemoryStats_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_GetCompiledMemoryStats =
    unsafe extern "C" fn(args: *mut PJRT_Executable_GetCompiledMemoryStats_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_OutputElementTypes`: reads and fills in a [`PJRT_Executable_OutputElementTypes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_OutputElementTypes =
    unsafe extern "C" fn(args: *mut PJRT_Executable_OutputElementTypes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_OutputDimensions`: reads and fills in a [`PJRT_Executable_OutputDimensions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_OutputDimensions =
    unsafe extern "C" fn(args: *mut PJRT_Executable_OutputDimensions_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_ParameterMemoryKinds`: reads and fills in a [`PJRT_Executable_ParameterMemoryKinds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_ParameterMemoryKinds =
    unsafe extern "C" fn(args: *mut PJRT_Executable_ParameterMemoryKinds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_OutputMemoryKinds`: reads and fills in a [`PJRT_Executable_OutputMemoryKinds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_OutputMemoryKinds =
    unsafe extern "C" fn(args: *mut PJRT_Executable_OutputMemoryKinds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_Serialize`: reads and fills in a [`PJRT_Executable_Serialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_Serialize =
    unsafe extern "C" fn(args: *mut PJRT_Executable_Serialize_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_GetCompileOptions`: reads and fills in a [`PJRT_Executable_GetCompileOptions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_GetCompileOptions =
    unsafe extern "C" fn(args: *mut PJRT_Executable_GetCompileOptions_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_DeserializeAndLoad`: reads and fills in a [`PJRT_Executable_DeserializeAndLoad_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_DeserializeAndLoad =
    unsafe extern "C" fn(args: *mut PJRT_Executable_DeserializeAndLoad_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_LoadedExecutable_Fingerprint`: reads and fills in a [`PJRT_LoadedExecutable_Fingerprint_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_LoadedExecutable_Fingerprint =
    unsafe extern "C" fn(args: *mut PJRT_LoadedExecutable_Fingerprint_Args) -> *mut PJRT_Error;
