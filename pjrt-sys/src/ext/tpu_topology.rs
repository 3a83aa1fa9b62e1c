//! TPU topology extension (`pjrt_c_api_tpu_topology_extension.h`, version 1): queries on a
//! TPU topology description (processes, chips, cores, logical devices, coordinates, bounds,
//! slice configurations). Args structs have no `extension_start`.

use core::ffi::c_char;

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Extension_Base, PJRT_TopologyDescription};

/// The version of the tpu topology extension these declarations follow (its `extension_version` field).
pub const PJRT_API_TPU_TOPOLOGY_EXTENSION_VERSION: i32 = 1;

/// The C API function `PJRT_TpuTopology_Subslice`: reads and fills in a [`PJRT_TpuTopology_Subslice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_Subslice =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_Subslice_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_IsSubsliceTopology`: reads and fills in a [`PJRT_TpuTopology_IsSubsliceTopology_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_IsSubsliceTopology =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_IsSubsliceTopology_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId`: reads and fills in a [`PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId =
    unsafe extern "C" fn(
        args: *mut PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ReplaceHostBounds`: reads and fills in a [`PJRT_TpuTopology_ReplaceHostBounds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ReplaceHostBounds =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ReplaceHostBounds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_IsEnhancedBarrierEnabled`: reads and fills in a [`PJRT_TpuTopology_IsEnhancedBarrierEnabled_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_IsEnhancedBarrierEnabled = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_IsEnhancedBarrierEnabled_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_HasLimitedIciConnectivity`: reads and fills in a [`PJRT_TpuTopology_HasLimitedIciConnectivity_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_HasLimitedIciConnectivity = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_HasLimitedIciConnectivity_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_IsReachableOverLimitedIci`: reads and fills in a [`PJRT_TpuTopology_IsReachableOverLimitedIci_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_IsReachableOverLimitedIci = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_IsReachableOverLimitedIci_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ProcessCount`: reads and fills in a [`PJRT_TpuTopology_ProcessCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ProcessCount =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ProcessCount_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ChipsPerProcess`: reads and fills in a [`PJRT_TpuTopology_ChipsPerProcess_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ChipsPerProcess =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ChipsPerProcess_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_CoreCountPerChip`: reads and fills in a [`PJRT_TpuTopology_CoreCountPerChip_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_CoreCountPerChip =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_CoreCountPerChip_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ChipCount`: reads and fills in a [`PJRT_TpuTopology_ChipCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ChipCount =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ChipCount_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_CoreCount`: reads and fills in a [`PJRT_TpuTopology_CoreCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_CoreCount =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_CoreCount_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_LogiDeviceCount`: reads and fills in a [`PJRT_TpuTopology_LogiDeviceCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_LogiDeviceCount =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_LogiDeviceCount_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_LogiDeviceCountPerProcess`: reads and fills in a [`PJRT_TpuTopology_LogiDeviceCountPerProcess_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_LogiDeviceCountPerProcess = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_LogiDeviceCountPerProcess_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_LogiDeviceCountPerChip`: reads and fills in a [`PJRT_TpuTopology_LogiDeviceCountPerChip_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_LogiDeviceCountPerChip = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_LogiDeviceCountPerChip_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_CoreCountPerProcess`: reads and fills in a [`PJRT_TpuTopology_CoreCountPerProcess_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_CoreCountPerProcess =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_CoreCountPerProcess_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ProcessIds`: reads and fills in a [`PJRT_TpuTopology_ProcessIds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ProcessIds =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ProcessIds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_LogiDeviceIdsOnProcess`: reads and fills in a [`PJRT_TpuTopology_LogiDeviceIdsOnProcess_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_LogiDeviceIdsOnProcess = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_LogiDeviceIdsOnProcess_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ProcIdAndIdxOnProcForChip`: reads and fills in a [`PJRT_TpuTopology_ProcIdAndIdxOnProcForChip_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ProcIdAndIdxOnProcForChip = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_ProcIdAndIdxOnProcForChip_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice`: reads and fills in a [`PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice_Args,
)
    -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ProcessCoordFromId`: reads and fills in a [`PJRT_TpuTopology_ProcessCoordFromId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ProcessCoordFromId =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ProcessCoordFromId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ChipIdFromCoord`: reads and fills in a [`PJRT_TpuTopology_ChipIdFromCoord_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ChipIdFromCoord =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ChipIdFromCoord_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx`: reads and fills in a [`PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx_Args,
)
    -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice`: reads and fills in a [`PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ChipsPerProcessBounds`: reads and fills in a [`PJRT_TpuTopology_ChipsPerProcessBounds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ChipsPerProcessBounds =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ChipsPerProcessBounds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ChipBounds`: reads and fills in a [`PJRT_TpuTopology_ChipBounds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ChipBounds =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ChipBounds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_ProcessBounds`: reads and fills in a [`PJRT_TpuTopology_ProcessBounds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_ProcessBounds =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_ProcessBounds_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_GetRoutingStrategy`: reads and fills in a [`PJRT_TpuTopology_GetRoutingStrategy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_GetRoutingStrategy =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_GetRoutingStrategy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_GetSliceConfig`: reads and fills in a [`PJRT_TpuTopology_GetSliceConfig_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_GetSliceConfig =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_GetSliceConfig_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_GetSliceConfigs`: reads and fills in a [`PJRT_TpuTopology_GetSliceConfigs_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_GetSliceConfigs =
    unsafe extern "C" fn(args: *mut PJRT_TpuTopology_GetSliceConfigs_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuTopology_GetDefaultPlatformConfig`: reads and fills in a [`PJRT_TpuTopology_GetDefaultPlatformConfig_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuTopology_GetDefaultPlatformConfig = unsafe extern "C" fn(
    args: *mut PJRT_TpuTopology_GetDefaultPlatformConfig_Args,
) -> *mut PJRT_Error;

/// Slot names of [`PJRT_TpuTopology_Extension`], in order.
pub const TPU_TOPOLOGY_FUNCTION_NAMES: &[&str] = &[
    "subslice",
    "is_subslice_topology",
    "subslice_device_id_from_full_device_id",
    "replace_host_bounds",
    "is_enhanced_barrier_enabled",
    "has_limited_ici_connectivity",
    "is_reachable_over_limited_ici",
    "process_count",
    "chips_per_process",
    "core_count_per_chip",
    "chip_count",
    "core_count",
    "logical_device_count_per_process",
    "logical_device_count",
    "logical_device_count_per_chip",
    "core_count_per_process",
    "process_ids",
    "logical_device_ids_on_process",
    "proc_id_and_idx_on_proc_for_chip",
    "proc_id_and_idx_on_proc_for_logi_device",
    "process_coord_from_id",
    "chip_id_from_coord",
    "logical_device_id_from_chip_coord_and_idx",
    "chip_coord_and_idx_for_logi_device",
    "chips_per_process_bounds",
    "chip_bounds",
    "process_bounds",
    "get_routing_strategy",
    "get_slice_config",
    "get_slice_configs",
    "get_default_platform_config",
];

pjrt_structs! {
    /// A slice shape: up to 4 dimensions with wrap-around flags.
    pub struct PJRT_TpuTopology_SliceConfig / PJRT_TpuTopology_SliceConfig_STRUCT_SIZE {
        pub dim_size: usize,
        /// The first `dim_size` entries are used.
        pub dimensions: [i32; 4],
        /// The first `dim_size` entries are used.
        pub wrap: [bool; 4],
        pub twist: bool,
    }

    pub struct PJRT_TpuTopology_Subslice_Args
        / PJRT_TpuTopology_Subslice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub chips_per_host_bounds: *const i32,
        pub chips_per_host_bounds_num_dims: usize,
        pub host_bounds: *const i32,
        pub host_bounds_num_dims: usize,
        /// Out: a new topology owned by the caller.
        pub subslice_topology: *mut PJRT_TopologyDescription,
    }

    pub struct PJRT_TpuTopology_IsSubsliceTopology_Args
        / PJRT_TpuTopology_IsSubsliceTopology_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub is_subslice_topology: bool,
    }

    pub struct PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId_Args
        / PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client_topology: *const PJRT_TopologyDescription,
        pub subslice_topology: *const PJRT_TopologyDescription,
        pub subslice_origin: *const i32,
        pub subslice_origin_dim_num: usize,
        pub full_device_id: i32,
        /// Out.
        pub subslice_device_id: i32,
    }

    pub struct PJRT_TpuTopology_ReplaceHostBounds_Args
        / PJRT_TpuTopology_ReplaceHostBounds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub host_bounds: *const i32,
        pub host_bounds_dim_num: usize,
        /// Out: a new topology owned by the caller.
        pub new_topology: *mut PJRT_TopologyDescription,
    }

    pub struct PJRT_TpuTopology_IsEnhancedBarrierEnabled_Args
        / PJRT_TpuTopology_IsEnhancedBarrierEnabled_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub is_enhanced_barrier_enabled: bool,
    }

    pub struct PJRT_TpuTopology_HasLimitedIciConnectivity_Args
        / PJRT_TpuTopology_HasLimitedIciConnectivity_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub has_limited_ici_connectivity: bool,
    }

    pub struct PJRT_TpuTopology_IsReachableOverLimitedIci_Args
        / PJRT_TpuTopology_IsReachableOverLimitedIci_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub source_chip_id: i32,
        pub dest_chip_id: i32,
        /// Out.
        pub is_reachable_over_limited_ici: bool,
    }

    pub struct PJRT_TpuTopology_ProcessCount_Args
        / PJRT_TpuTopology_ProcessCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub process_count: i32,
    }

    pub struct PJRT_TpuTopology_ChipsPerProcess_Args
        / PJRT_TpuTopology_ChipsPerProcess_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub chips_per_process: i32,
    }

    pub struct PJRT_TpuTopology_CoreCountPerChip_Args
        / PJRT_TpuTopology_CoreCountPerChip_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub core_count_of_default_type_per_chip: i32,
    }

    pub struct PJRT_TpuTopology_ChipCount_Args
        / PJRT_TpuTopology_ChipCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub chip_count: i32,
    }

    pub struct PJRT_TpuTopology_CoreCount_Args
        / PJRT_TpuTopology_CoreCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub core_count_of_default_type: i32,
    }

    pub struct PJRT_TpuTopology_LogiDeviceCount_Args
        / PJRT_TpuTopology_LogiDeviceCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub logical_device_count_of_default_type: i32,
    }

    pub struct PJRT_TpuTopology_LogiDeviceCountPerProcess_Args
        / PJRT_TpuTopology_LogiDeviceCountPerProcess_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub logical_device_count_of_default_type_per_process: i32,
    }

    pub struct PJRT_TpuTopology_LogiDeviceCountPerChip_Args
        / PJRT_TpuTopology_LogiDeviceCountPerChip_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub logical_device_count_of_default_type_per_chip: i32,
    }

    pub struct PJRT_TpuTopology_CoreCountPerProcess_Args
        / PJRT_TpuTopology_CoreCountPerProcess_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Out.
        pub core_count_of_default_type_per_process: i32,
    }

    pub struct PJRT_TpuTopology_ProcessIds_Args
        / PJRT_TpuTopology_ProcessIds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub max_process_ids: i32,
        /// Caller's array of `max_process_ids` entries.
        pub process_ids: *mut i32,
        /// Out.
        pub num_process_ids: usize,
    }

    pub struct PJRT_TpuTopology_LogiDeviceIdsOnProcess_Args
        / PJRT_TpuTopology_LogiDeviceIdsOnProcess_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub process_id: i32,
        pub max_logical_device_ids: i32,
        /// Caller's array of `max_logical_device_ids` entries.
        pub logical_device_of_default_type_ids: *mut i32,
        /// Out.
        pub num_logical_device_ids: usize,
    }

    pub struct PJRT_TpuTopology_ProcIdAndIdxOnProcForChip_Args
        / PJRT_TpuTopology_ProcIdAndIdxOnProcForChip_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub chip_id: i32,
        /// Out.
        pub process_id: i32,
        /// Out.
        pub index_on_process: i32,
    }

    pub struct PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice_Args
        / PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub device_id: i32,
        /// Out.
        pub process_id: i32,
        /// Out.
        pub index_on_process: i32,
    }

    pub struct PJRT_TpuTopology_ProcessCoordFromId_Args
        / PJRT_TpuTopology_ProcessCoordFromId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub process_id: i32,
        pub coords_max_dims: usize,
        pub coords: *mut i32,
        /// Out.
        pub coords_num_dims: usize,
    }

    pub struct PJRT_TpuTopology_ChipIdFromCoord_Args
        / PJRT_TpuTopology_ChipIdFromCoord_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub coords: *const i32,
        pub coords_num_dims: usize,
        /// Out.
        pub chip_id: i32,
    }

    pub struct PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx_Args
        / PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub chip_coords: *const i32,
        pub chip_coords_num_dims: usize,
        pub logical_device_index_on_chip: i32,
        /// Out.
        pub logical_device_of_default_type_id: i32,
    }

    pub struct PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice_Args
        / PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub device_id: i32,
        pub chip_coords_max_dims: usize,
        pub chip_coords: *mut i32,
        /// Out.
        pub chip_coords_num_dims: usize,
        /// Out.
        pub device_index_on_chip: i32,
    }

    pub struct PJRT_TpuTopology_ChipsPerProcessBounds_Args
        / PJRT_TpuTopology_ChipsPerProcessBounds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub chip_per_process_bounds_max_dims: usize,
        pub chip_per_process_bounds: *mut i32,
        /// Out.
        pub chip_per_process_bounds_num_dims: usize,
    }

    pub struct PJRT_TpuTopology_ChipBounds_Args
        / PJRT_TpuTopology_ChipBounds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub chip_bounds_max_dims: usize,
        pub chip_bounds: *mut i32,
        /// Out.
        pub chip_bounds_num_dims: usize,
    }

    pub struct PJRT_TpuTopology_ProcessBounds_Args
        / PJRT_TpuTopology_ProcessBounds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        pub process_bounds_max_dims: usize,
        pub process_bounds: *mut i32,
        /// Out.
        pub process_bounds_num_dims: usize,
    }

    pub struct PJRT_TpuTopology_GetRoutingStrategy_Args
        / PJRT_TpuTopology_GetRoutingStrategy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub topology: *const PJRT_TopologyDescription,
        /// Caller's buffer of `routing_strategy_len` bytes.
        pub routing_strategy: *mut c_char,
        pub routing_strategy_len: usize,
    }

    pub struct PJRT_TpuTopology_GetSliceConfig_Args
        / PJRT_TpuTopology_GetSliceConfig_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub platform_type_name: *const c_char,
        pub platform_type_name_len: usize,
        pub slice_name: *const c_char,
        pub slice_name_len: usize,
        /// In/out.
        pub slice_config: *mut PJRT_TpuTopology_SliceConfig,
    }

    pub struct PJRT_TpuTopology_GetSliceConfigs_Args
        / PJRT_TpuTopology_GetSliceConfigs_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub platform_type_name: *const c_char,
        pub platform_type_name_len: usize,
        /// Caller's array of `max_slice_configs` entries.
        pub slice_configs: *mut PJRT_TpuTopology_SliceConfig,
        pub max_slice_configs: usize,
        /// Out.
        pub num_slice_configs: usize,
    }

    pub struct PJRT_TpuTopology_GetDefaultPlatformConfig_Args
        / PJRT_TpuTopology_GetDefaultPlatformConfig_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub platform_type_name: *const c_char,
        pub platform_type_name_len: usize,
        /// Out.
        pub num_chips_per_tray: i64,
        /// Out.
        pub num_trays: i64,
    }

    /// The extension struct (`PJRT_Extension_Type_TpuTopology`).
    pub struct PJRT_TpuTopology_Extension / PJRT_TpuTopology_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub subslice: Option<PJRT_TpuTopology_Subslice>,
        pub is_subslice_topology: Option<PJRT_TpuTopology_IsSubsliceTopology>,
        pub subslice_device_id_from_full_device_id: Option<PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId>,
        pub replace_host_bounds: Option<PJRT_TpuTopology_ReplaceHostBounds>,
        pub is_enhanced_barrier_enabled: Option<PJRT_TpuTopology_IsEnhancedBarrierEnabled>,
        pub has_limited_ici_connectivity: Option<PJRT_TpuTopology_HasLimitedIciConnectivity>,
        pub is_reachable_over_limited_ici: Option<PJRT_TpuTopology_IsReachableOverLimitedIci>,
        pub process_count: Option<PJRT_TpuTopology_ProcessCount>,
        pub chips_per_process: Option<PJRT_TpuTopology_ChipsPerProcess>,
        pub core_count_per_chip: Option<PJRT_TpuTopology_CoreCountPerChip>,
        pub chip_count: Option<PJRT_TpuTopology_ChipCount>,
        pub core_count: Option<PJRT_TpuTopology_CoreCount>,
        pub logical_device_count_per_process: Option<PJRT_TpuTopology_LogiDeviceCountPerProcess>,
        pub logical_device_count: Option<PJRT_TpuTopology_LogiDeviceCount>,
        pub logical_device_count_per_chip: Option<PJRT_TpuTopology_LogiDeviceCountPerChip>,
        pub core_count_per_process: Option<PJRT_TpuTopology_CoreCountPerProcess>,
        pub process_ids: Option<PJRT_TpuTopology_ProcessIds>,
        pub logical_device_ids_on_process: Option<PJRT_TpuTopology_LogiDeviceIdsOnProcess>,
        pub proc_id_and_idx_on_proc_for_chip: Option<PJRT_TpuTopology_ProcIdAndIdxOnProcForChip>,
        pub proc_id_and_idx_on_proc_for_logi_device: Option<PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice>,
        pub process_coord_from_id: Option<PJRT_TpuTopology_ProcessCoordFromId>,
        pub chip_id_from_coord: Option<PJRT_TpuTopology_ChipIdFromCoord>,
        pub logical_device_id_from_chip_coord_and_idx: Option<PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx>,
        pub chip_coord_and_idx_for_logi_device: Option<PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice>,
        pub chips_per_process_bounds: Option<PJRT_TpuTopology_ChipsPerProcessBounds>,
        pub chip_bounds: Option<PJRT_TpuTopology_ChipBounds>,
        pub process_bounds: Option<PJRT_TpuTopology_ProcessBounds>,
        pub get_routing_strategy: Option<PJRT_TpuTopology_GetRoutingStrategy>,
        pub get_slice_config: Option<PJRT_TpuTopology_GetSliceConfig>,
        pub get_slice_configs: Option<PJRT_TpuTopology_GetSliceConfigs>,
        pub get_default_platform_config: Option<PJRT_TpuTopology_GetDefaultPlatformConfig>,
    }
}
