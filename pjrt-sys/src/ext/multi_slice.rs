//! Multi-slice extension (`pjrt_c_api_multi_slice_extension.h`, version 1): query and
//! serialize a multi-slice configuration. Args structs have no `extension_start`.

use core::ffi::c_char;

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{PJRT_Error, PJRT_Extension_Base, PJRT_MultiSlice_Config};

/// The version of the multi slice extension these declarations follow (its `extension_version` field).
pub const PJRT_API_MULTI_SLICE_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// Owner of a slice-id to device-count map; free with the returned deleter.
    PJRT_MultiSlice_NumDevicesPerSlice,
    /// Owner of serialized config bytes; free with the returned deleter.
    PJRT_MultiSlice_SerializedConfig,
);

/// The C API function `PJRT_MultiSlice_Config_Destroy`: reads and fills in a [`PJRT_MultiSlice_Config_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_MultiSlice_Config_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_MultiSlice_Config_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_MultiSlice_Config_NumSlices`: reads and fills in a [`PJRT_MultiSlice_Config_NumSlices_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_MultiSlice_Config_NumSlices =
    unsafe extern "C" fn(args: *mut PJRT_MultiSlice_Config_NumSlices_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_MultiSlice_Config_SliceId`: reads and fills in a [`PJRT_MultiSlice_Config_SliceId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_MultiSlice_Config_SliceId =
    unsafe extern "C" fn(args: *mut PJRT_MultiSlice_Config_SliceId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_MultiSlice_Config_NumDevicesPerSlice`: reads and fills in a [`PJRT_MultiSlice_Config_NumDevicesPerSlice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_MultiSlice_Config_NumDevicesPerSlice = unsafe extern "C" fn(
    args: *mut PJRT_MultiSlice_Config_NumDevicesPerSlice_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_MultiSlice_Config_Serialize`: reads and fills in a [`PJRT_MultiSlice_Config_Serialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_MultiSlice_Config_Serialize =
    unsafe extern "C" fn(args: *mut PJRT_MultiSlice_Config_Serialize_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_MultiSlice_Extension`], in order.
pub const MULTI_SLICE_FUNCTION_NAMES: &[&str] = &[
    "config_destroy",
    "config_num_slices",
    "config_slice_id",
    "config_num_devices_per_slice",
    "config_serialize",
];

pjrt_structs! {
    pub struct PJRT_MultiSlice_Config_Destroy_Args / PJRT_MultiSlice_Config_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub config: *mut PJRT_MultiSlice_Config,
    }

    pub struct PJRT_MultiSlice_Config_NumSlices_Args
        / PJRT_MultiSlice_Config_NumSlices_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub config: *mut PJRT_MultiSlice_Config,
        /// Out.
        pub num_slices: i32,
    }

    pub struct PJRT_MultiSlice_Config_SliceId_Args / PJRT_MultiSlice_Config_SliceId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub config: *mut PJRT_MultiSlice_Config,
        /// Out.
        pub slice_id: i32,
    }

    pub struct PJRT_MultiSlice_Config_NumDevicesPerSlice_Args
        / PJRT_MultiSlice_Config_NumDevicesPerSlice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub config: *mut PJRT_MultiSlice_Config,
        /// Out: number of map entries.
        pub num_devices_per_slice_map: usize,
        /// Out: keys.
        pub slice_ids: *const i32,
        /// Out: values.
        pub num_devices: *const i32,
        /// Out: owner of both arrays.
        pub devices_per_slice_map: *mut PJRT_MultiSlice_NumDevicesPerSlice,
        /// Out: frees `devices_per_slice_map`.
        pub devices_per_slice_map_deleter:
            Option<unsafe extern "C" fn(ptr: *mut PJRT_MultiSlice_NumDevicesPerSlice)>,
    }

    pub struct PJRT_MultiSlice_Config_Serialize_Args
        / PJRT_MultiSlice_Config_Serialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub config: *mut PJRT_MultiSlice_Config,
        /// Out: owned by `serialized_config`.
        pub serialized: *const c_char,
        /// Out.
        pub size: usize,
        /// Out.
        pub serialized_config: *mut PJRT_MultiSlice_SerializedConfig,
        /// Out: frees `serialized_config`.
        pub serialized_config_deleter:
            Option<unsafe extern "C" fn(ptr: *mut PJRT_MultiSlice_SerializedConfig)>,
    }

    /// The extension struct (`PJRT_Extension_Type_MultiSlice`).
    pub struct PJRT_MultiSlice_Extension / PJRT_MultiSlice_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub config_destroy: Option<PJRT_MultiSlice_Config_Destroy>,
        pub config_num_slices: Option<PJRT_MultiSlice_Config_NumSlices>,
        pub config_slice_id: Option<PJRT_MultiSlice_Config_SliceId>,
        pub config_num_devices_per_slice: Option<PJRT_MultiSlice_Config_NumDevicesPerSlice>,
        pub config_serialize: Option<PJRT_MultiSlice_Config_Serialize>,
    }
}
