//! Megascale extension (`pjrt_c_api_megascale_extension.h`, version 1): multi-slice client
//! contexts, configs, collectives over the data-center network, and error aggregation.
//! Args structs have no `extension_start`. Five slots are deprecated and typed `void*`.

use core::ffi::{c_char, c_void};

use crate::ext::collectives::PJRT_Collectives;
use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{
    PJRT_Client, PJRT_Error, PJRT_Extension_Base, PJRT_MultiSlice_Config, PJRT_TopologyDescription,
};

/// The version of the megascale extension these declarations follow (its `extension_version` field).
pub const PJRT_API_MEGASCALE_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// A megascale runtime context.
    PJRT_Megascale_ClientContext,
    /// Declared by the header but unused by its functions.
    PJRT_Megascale_NumDevicesPerSlice,
    /// Declared by the header but unused by its functions.
    PJRT_Megascale_SerializedConfig,
    /// Collects errors reported by workers.
    PJRT_Megascale_ErrorAggregator,
    /// A summary produced by an aggregator.
    PJRT_Megascale_ErrorDigest,
    /// Owner of serialized addresses; free with the returned deleter.
    PJRT_Megascale_SerializedAddresses,
    /// Owner of a serialized error; free with the returned deleter.
    PJRT_Megascale_SerializedError,
);

/// Receives a serialized error.
pub type PJRT_Megascale_ErrorHandler = Option<
    unsafe extern "C" fn(
        serialized_error: *const c_char,
        serialized_error_size: usize,
        user_data: *mut c_void,
    ),
>;

/// The C API function `PJRT_Megascale_CreateClientContextFromPjRtClient`: reads and fills in a [`PJRT_Megascale_CreateClientContextFromPjRtClient_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_CreateClientContextFromPjRtClient = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_CreateClientContextFromPjRtClient_Args,
)
    -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_CreateDefaultClientContext`: reads and fills in a [`PJRT_Megascale_CreateDefaultClientContext_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_CreateDefaultClientContext = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_CreateDefaultClientContext_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_DeleteClientContext`: reads and fills in a [`PJRT_Megascale_DeleteClientContext_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_DeleteClientContext =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_DeleteClientContext_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_CreateAoTConfig`: reads and fills in a [`PJRT_Megascale_CreateAoTConfig_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_CreateAoTConfig =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_CreateAoTConfig_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_CreateMultiSliceConfig`: reads and fills in a [`PJRT_Megascale_CreateMultiSliceConfig_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_CreateMultiSliceConfig =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_CreateMultiSliceConfig_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ClientContext_Initialize`: reads and fills in a [`PJRT_Megascale_ClientContext_Initialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ClientContext_Initialize = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_ClientContext_Initialize_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ClientContext_UnblockPendingWork`: reads and fills in a [`PJRT_Megascale_ClientContext_UnblockPendingWork_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ClientContext_UnblockPendingWork = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_ClientContext_UnblockPendingWork_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ClientContext_MegascalePort`: reads and fills in a [`PJRT_Megascale_ClientContext_MegascalePort_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ClientContext_MegascalePort = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_ClientContext_MegascalePort_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_CreateMegascaleCollectives`: reads and fills in a [`PJRT_Megascale_CreateMegascaleCollectives_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_CreateMegascaleCollectives = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_CreateMegascaleCollectives_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_DeviceId_To_MegascaleId`: reads and fills in a [`PJRT_Megascale_DeviceId_To_MegascaleId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_DeviceId_To_MegascaleId =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_DeviceId_To_MegascaleId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_MegascaleId_To_DeviceId`: reads and fills in a [`PJRT_Megascale_MegascaleId_To_DeviceId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_MegascaleId_To_DeviceId =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_MegascaleId_To_DeviceId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_RegisterErrorHandler`: reads and fills in a [`PJRT_Megascale_RegisterErrorHandler_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_RegisterErrorHandler =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_RegisterErrorHandler_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_UnregisterErrorHandler`: reads and fills in a [`PJRT_Megascale_UnregisterErrorHandler_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_UnregisterErrorHandler =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_UnregisterErrorHandler_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_Create`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_Create_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_Create =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_ErrorAggregator_Create_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_Delete`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_Delete_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_Delete =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_ErrorAggregator_Delete_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorDigest_Delete`: reads and fills in a [`PJRT_Megascale_ErrorDigest_Delete_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorDigest_Delete =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_ErrorDigest_Delete_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_AddError`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_AddError_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_AddError = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_ErrorAggregator_AddError_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_ProcessAndShutdown`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_ProcessAndShutdown =
    unsafe extern "C" fn(
        args: *mut PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_LogErrorDigest`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_LogErrorDigest = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_Size`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_Size_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_Size =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_ErrorAggregator_Size_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_ErrorAggregator_Active`: reads and fills in a [`PJRT_Megascale_ErrorAggregator_Active_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_ErrorAggregator_Active =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_ErrorAggregator_Active_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_GetInterfaceAddressesHelper`: reads and fills in a [`PJRT_Megascale_GetInterfaceAddressesHelper_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_GetInterfaceAddressesHelper = unsafe extern "C" fn(
    args: *mut PJRT_Megascale_GetInterfaceAddressesHelper_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Megascale_GetOrCreateRuntimeError`: reads and fills in a [`PJRT_Megascale_GetOrCreateRuntimeError_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Megascale_GetOrCreateRuntimeError =
    unsafe extern "C" fn(args: *mut PJRT_Megascale_GetOrCreateRuntimeError_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Megascale_Extension`], in order (deprecated `void*` slots included).
pub const MEGASCALE_FUNCTION_NAMES: &[&str] = &[
    "create_client_context_from_pjrt_client",
    "create_default_client_context",
    "delete_client_context",
    "create_aot_config",
    "create_multi_slice_config",
    "delete_multi_slice_config",
    "multi_slice_config_num_slices",
    "multi_slice_config_slice_id",
    "multi_slice_config_get_num_devices_per_slice",
    "multi_slice_config_serialize",
    "client_context_initialize",
    "client_context_unblock_pending_work",
    "client_context_megascale_port",
    "create_megascale_collectives",
    "device_id_to_megascale_id",
    "megascale_id_to_device_id",
    "register_megascale_error_handler",
    "unregister_megascale_error_handler",
    "error_aggregator_create",
    "error_aggregator_delete",
    "error_digest_delete",
    "error_aggregator_add_error",
    "error_aggregator_process_and_shutdown",
    "error_aggregator_log_error_digest",
    "error_aggregator_size",
    "error_aggregator_active",
    "get_interface_addresses_helper",
    "get_or_create_runtime_error",
];

/// Indices in [`MEGASCALE_FUNCTION_NAMES`] of the deprecated `void*` slots.
pub const MEGASCALE_DEPRECATED_SLOTS: core::ops::Range<usize> = 5..10;

pjrt_structs! {
    pub struct PJRT_Megascale_CreateClientContextFromPjRtClient_Args
        / PJRT_Megascale_CreateClientContextFromPjRtClient_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client: *mut PJRT_Client,
        /// Out.
        pub client_context: *mut PJRT_Megascale_ClientContext,
    }

    pub struct PJRT_Megascale_CreateDefaultClientContext_Args
        / PJRT_Megascale_CreateDefaultClientContext_Args_STRUCT_SIZE {
        pub struct_size: usize,
        /// Out.
        pub client_context: *mut PJRT_Megascale_ClientContext,
    }

    pub struct PJRT_Megascale_DeleteClientContext_Args
        / PJRT_Megascale_DeleteClientContext_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client_context: *mut PJRT_Megascale_ClientContext,
    }

    pub struct PJRT_Megascale_CreateAoTConfig_Args / PJRT_Megascale_CreateAoTConfig_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub num_slices: i32,
        /// Out.
        pub multi_slice_config: *mut PJRT_MultiSlice_Config,
    }

    pub struct PJRT_Megascale_CreateMultiSliceConfig_Args
        / PJRT_Megascale_CreateMultiSliceConfig_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub num_slices: i32,
        pub local_slice_id: i32,
        pub local_host_id: i32,
        pub endpoint_addresses: *const c_char,
        pub endpoint_addresses_size: i32,
        pub dcn_topology: *const c_char,
        pub dcn_topology_size: i32,
        pub client_context: *mut PJRT_Megascale_ClientContext,
        /// Out.
        pub multi_slice_config: *mut PJRT_MultiSlice_Config,
    }

    pub struct PJRT_Megascale_ClientContext_Initialize_Args
        / PJRT_Megascale_ClientContext_Initialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client_context: *mut PJRT_Megascale_ClientContext,
    }

    pub struct PJRT_Megascale_ClientContext_UnblockPendingWork_Args
        / PJRT_Megascale_ClientContext_UnblockPendingWork_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client_context: *mut PJRT_Megascale_ClientContext,
        pub launch_id: i32,
        pub expire_after_ms: i64,
    }

    pub struct PJRT_Megascale_ClientContext_MegascalePort_Args
        / PJRT_Megascale_ClientContext_MegascalePort_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client_context: *mut PJRT_Megascale_ClientContext,
        /// Out.
        pub port: i32,
    }

    /// Addresses and indices of the participating processes.
    pub struct PJRT_Megascale_ProcessesInfo / PJRT_Megascale_ProcessesInfo_STRUCT_SIZE {
        pub addresses: *mut *const c_char,
        pub address_sizes: *mut usize,
        pub num_addresses: usize,
        /// May be null.
        pub slice_indexes: *mut i32,
        pub num_slice_indexes: usize,
        /// May be null.
        pub per_slice_indexes: *mut i32,
        pub num_per_slice_indexes: usize,
        pub num_devices_per_process: i32,
    }

    pub struct PJRT_Megascale_CreateMegascaleCollectives_Args
        / PJRT_Megascale_CreateMegascaleCollectives_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client_context: *mut PJRT_Megascale_ClientContext,
        pub processes_info: *mut PJRT_Megascale_ProcessesInfo,
        /// Serialized DCN topology proto; may be null.
        pub dcn_topology: *const c_char,
        pub dcn_topology_size: usize,
        /// Out.
        pub collectives: *mut PJRT_Collectives,
    }

    pub struct PJRT_Megascale_DeviceId_To_MegascaleId_Args
        / PJRT_Megascale_DeviceId_To_MegascaleId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub slice_id: i32,
        pub per_slice_device_id: i32,
        /// Out.
        pub megascale_id: i64,
    }

    pub struct PJRT_Megascale_MegascaleId_To_DeviceId_Args
        / PJRT_Megascale_MegascaleId_To_DeviceId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub megascale_id: i64,
        /// Out.
        pub slice_id: i32,
        /// Out.
        pub per_slice_device_id: i32,
    }

    pub struct PJRT_Megascale_RegisterErrorHandler_Args
        / PJRT_Megascale_RegisterErrorHandler_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub handler_name: *const c_char,
        pub handler_name_size: usize,
        pub handler: PJRT_Megascale_ErrorHandler,
        pub user_data: *mut c_void,
    }

    pub struct PJRT_Megascale_UnregisterErrorHandler_Args
        / PJRT_Megascale_UnregisterErrorHandler_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub handler_name: *const c_char,
        pub handler_name_size: usize,
    }

    pub struct PJRT_Megascale_ErrorAggregator_Create_Args
        / PJRT_Megascale_ErrorAggregator_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub app_type: *const c_char,
        pub app_type_size: usize,
        /// Out.
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
    }

    pub struct PJRT_Megascale_ErrorAggregator_Delete_Args
        / PJRT_Megascale_ErrorAggregator_Delete_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
    }

    pub struct PJRT_Megascale_ErrorDigest_Delete_Args
        / PJRT_Megascale_ErrorDigest_Delete_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub digest: *mut PJRT_Megascale_ErrorDigest,
    }

    pub struct PJRT_Megascale_ErrorAggregator_AddError_Args
        / PJRT_Megascale_ErrorAggregator_AddError_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
        pub worker_id: *const c_char,
        pub worker_id_size: usize,
        pub serialized_error: *const c_char,
        pub serialized_error_size: usize,
    }

    pub struct PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args
        / PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
        /// Out.
        pub digest: *mut PJRT_Megascale_ErrorDigest,
    }

    pub struct PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args
        / PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
        pub digest: *mut PJRT_Megascale_ErrorDigest,
    }

    pub struct PJRT_Megascale_ErrorAggregator_Size_Args
        / PJRT_Megascale_ErrorAggregator_Size_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
        /// Out.
        pub size: usize,
    }

    pub struct PJRT_Megascale_ErrorAggregator_Active_Args
        / PJRT_Megascale_ErrorAggregator_Active_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub aggregator: *mut PJRT_Megascale_ErrorAggregator,
        /// Out.
        pub active: bool,
    }

    pub struct PJRT_Megascale_GetInterfaceAddressesHelper_Args
        / PJRT_Megascale_GetInterfaceAddressesHelper_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub megascale_port_name: *const c_char,
        pub megascale_port_name_size: usize,
        pub megascale_port: i32,
        pub interface_prefixes: *mut *const c_char,
        pub interface_prefixes_sizes: *const usize,
        pub num_interface_prefixes: usize,
        pub use_all_interfaces: bool,
        pub limit_to_process_numa_local_interfaces: bool,
        /// Out: owned by `addresses`.
        pub serialized_addresses: *mut *const c_char,
        /// Out.
        pub serialized_addresses_sizes: *mut usize,
        /// Out.
        pub num_addresses: usize,
        /// Out.
        pub addresses: *mut PJRT_Megascale_SerializedAddresses,
        /// Out: frees `addresses`.
        pub addresses_deleter:
            Option<unsafe extern "C" fn(ptr: *mut PJRT_Megascale_SerializedAddresses)>,
    }

    pub struct PJRT_Megascale_GetOrCreateRuntimeError_Args
        / PJRT_Megascale_GetOrCreateRuntimeError_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub error_type: i32,
        pub start_time_nanos: i64,
        pub status_code: i32,
        pub status_message: *const c_char,
        pub status_message_size: usize,
        pub launch_id: i32,
        pub has_unrecoverable_error_type: bool,
        pub unrecoverable_error_type: i32,
        /// Out: owned by `error`.
        pub serialized_error: *const c_char,
        /// Out.
        pub serialized_error_size: usize,
        /// Out.
        pub is_new_error: bool,
        /// Out.
        pub error: *mut PJRT_Megascale_SerializedError,
        /// Out: frees `error`.
        pub error_deleter: Option<unsafe extern "C" fn(ptr: *mut PJRT_Megascale_SerializedError)>,
    }

    /// The extension struct (`PJRT_Extension_Type_Megascale`).
    pub struct PJRT_Megascale_Extension / PJRT_Megascale_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub create_client_context_from_pjrt_client:
            Option<PJRT_Megascale_CreateClientContextFromPjRtClient>,
        pub create_default_client_context: Option<PJRT_Megascale_CreateDefaultClientContext>,
        pub delete_client_context: Option<PJRT_Megascale_DeleteClientContext>,
        pub create_aot_config: Option<PJRT_Megascale_CreateAoTConfig>,
        pub create_multi_slice_config: Option<PJRT_Megascale_CreateMultiSliceConfig>,
        /// Deprecated.
        pub delete_multi_slice_config: *mut c_void,
        /// Deprecated.
        pub multi_slice_config_num_slices: *mut c_void,
        /// Deprecated.
        pub multi_slice_config_slice_id: *mut c_void,
        /// Deprecated.
        pub multi_slice_config_get_num_devices_per_slice: *mut c_void,
        /// Deprecated.
        pub multi_slice_config_serialize: *mut c_void,
        pub client_context_initialize: Option<PJRT_Megascale_ClientContext_Initialize>,
        pub client_context_unblock_pending_work:
            Option<PJRT_Megascale_ClientContext_UnblockPendingWork>,
        pub client_context_megascale_port: Option<PJRT_Megascale_ClientContext_MegascalePort>,
        pub create_megascale_collectives: Option<PJRT_Megascale_CreateMegascaleCollectives>,
        pub device_id_to_megascale_id: Option<PJRT_Megascale_DeviceId_To_MegascaleId>,
        pub megascale_id_to_device_id: Option<PJRT_Megascale_MegascaleId_To_DeviceId>,
        pub register_megascale_error_handler: Option<PJRT_Megascale_RegisterErrorHandler>,
        pub unregister_megascale_error_handler: Option<PJRT_Megascale_UnregisterErrorHandler>,
        pub error_aggregator_create: Option<PJRT_Megascale_ErrorAggregator_Create>,
        pub error_aggregator_delete: Option<PJRT_Megascale_ErrorAggregator_Delete>,
        pub error_digest_delete: Option<PJRT_Megascale_ErrorDigest_Delete>,
        pub error_aggregator_add_error: Option<PJRT_Megascale_ErrorAggregator_AddError>,
        pub error_aggregator_process_and_shutdown:
            Option<PJRT_Megascale_ErrorAggregator_ProcessAndShutdown>,
        pub error_aggregator_log_error_digest:
            Option<PJRT_Megascale_ErrorAggregator_LogErrorDigest>,
        pub error_aggregator_size: Option<PJRT_Megascale_ErrorAggregator_Size>,
        pub error_aggregator_active: Option<PJRT_Megascale_ErrorAggregator_Active>,
        pub get_interface_addresses_helper: Option<PJRT_Megascale_GetInterfaceAddressesHelper>,
        pub get_or_create_runtime_error: Option<PJRT_Megascale_GetOrCreateRuntimeError>,
    }
}
