//! Layouts extension (`pjrt_c_api_layouts_extension.h`, version 4): device memory layouts
//! of buffers, executables' inputs/outputs and client/topology defaults.

use core::ffi::c_char;

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{
    PJRT_Buffer, PJRT_Buffer_Type, PJRT_Client, PJRT_Error, PJRT_Executable, PJRT_Extension_Base,
    PJRT_TopologyDescription,
};

/// The version of the layouts extension these declarations follow (its `extension_version` field).
pub const PJRT_API_LAYOUTS_EXTENSION_VERSION: i32 = 4;

pjrt_opaque!(
    /// A layout owned by the plugin; free it with `PJRT_Layouts_MemoryLayout_Destroy`.
    PJRT_Layouts_MemoryLayout,
    /// Storage behind a serialized layout; free it with the returned deleter.
    PJRT_Layouts_SerializedLayout,
);

/// The C API function `PJRT_Layouts_MemoryLayout_Destroy`: reads and fills in a [`PJRT_Layouts_MemoryLayout_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_MemoryLayout_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Layouts_MemoryLayout_Destroy_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_Layouts_MemoryLayout_Serialize`: reads and fills in a [`PJRT_Layouts_MemoryLayout_Serialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_MemoryLayout_Serialize =
    unsafe extern "C" fn(args: *mut PJRT_Layouts_MemoryLayout_Serialize_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_Layouts_PJRT_Buffer_MemoryLayout`: reads and fills in a [`PJRT_Layouts_PJRT_Buffer_MemoryLayout_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_PJRT_Buffer_MemoryLayout =
    unsafe extern "C" fn(args: *mut PJRT_Layouts_PJRT_Buffer_MemoryLayout_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_Layouts_PJRT_Client_GetDefaultLayout`: reads and fills in a [`PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_PJRT_Client_GetDefaultLayout = unsafe extern "C" fn(
    args: *mut PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args,
) -> *mut PJRT_Error;

/// The C API function `PJRT_Layouts_PJRT_Topology_GetDefaultLayout`: reads and fills in a [`PJRT_Layouts_PJRT_Topology_GetDefaultLayout_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_PJRT_Topology_GetDefaultLayout = unsafe extern "C" fn(
    args: *mut PJRT_Layouts_PJRT_Topology_GetDefaultLayout_Args,
) -> *mut PJRT_Error;

/// The C API function `PJRT_Layouts_PJRT_Executable_GetOutputLayouts`: reads and fills in a [`PJRT_Layouts_PJRT_Executable_GetOutputLayouts_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_PJRT_Executable_GetOutputLayouts = unsafe extern "C" fn(
    args: *mut PJRT_Layouts_PJRT_Executable_GetOutputLayouts_Args,
) -> *mut PJRT_Error;

/// The C API function `PJRT_Layouts_PJRT_Executable_GetParameterLayouts`: reads and fills in a [`PJRT_Layouts_PJRT_Executable_GetParameterLayouts_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Layouts_PJRT_Executable_GetParameterLayouts = unsafe extern "C" fn(
    args: *mut PJRT_Layouts_PJRT_Executable_GetParameterLayouts_Args,
)
    -> *mut PJRT_Error;

/// Slot names of [`PJRT_Layouts_Extension`], in order.
pub const LAYOUTS_FUNCTION_NAMES: &[&str] = &[
    "PJRT_Layouts_MemoryLayout_Destroy",
    "PJRT_Layouts_MemoryLayout_Serialize",
    "PJRT_Layouts_PJRT_Client_GetDefaultLayout",
    "PJRT_Layouts_PJRT_Buffer_MemoryLayout",
    "PJRT_Layouts_PJRT_Topology_GetDefaultLayout",
    "PJRT_Layouts_PJRT_Executable_GetOutputLayouts",
    "PJRT_Layouts_PJRT_Executable_GetParameterLayouts",
];

pjrt_structs! {
    pub struct PJRT_Layouts_MemoryLayout_Destroy_Args / PJRT_Layouts_MemoryLayout_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub layout: *mut PJRT_Layouts_MemoryLayout,
    }

    pub struct PJRT_Layouts_MemoryLayout_Serialize_Args / PJRT_Layouts_MemoryLayout_Serialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub layout: *mut PJRT_Layouts_MemoryLayout,
        /// Out: the serialized layout bytes (owned by `serialized_layout`).
        pub serialized_bytes: *const c_char,
        /// Out.
        pub serialized_bytes_size: usize,
        /// Out: the owner of `serialized_bytes`.
        pub serialized_layout: *mut PJRT_Layouts_SerializedLayout,
        /// Out: frees `serialized_layout`.
        pub serialized_layout_deleter:
            Option<unsafe extern "C" fn(s_layout: *mut PJRT_Layouts_SerializedLayout)>,
    }

    pub struct PJRT_Layouts_PJRT_Buffer_MemoryLayout_Args / PJRT_Layouts_PJRT_Buffer_MemoryLayout_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        /// Out: owned by the caller.
        pub layout: *mut PJRT_Layouts_MemoryLayout,
    }

    pub struct PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args / PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub type_: PJRT_Buffer_Type,
        pub dims: *const i64,
        pub num_dims: usize,
        /// Out: owned by the caller.
        pub layout: *mut PJRT_Layouts_MemoryLayout,
    }

    pub struct PJRT_Layouts_PJRT_Topology_GetDefaultLayout_Args / PJRT_Layouts_PJRT_Topology_GetDefaultLayout_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology_description: *mut PJRT_TopologyDescription,
        pub type_: PJRT_Buffer_Type,
        pub dims: *const i64,
        pub num_dims: usize,
        /// Out: owned by the caller.
        pub layout: *mut PJRT_Layouts_MemoryLayout,
    }

    pub struct PJRT_Layouts_PJRT_Executable_GetOutputLayouts_Args / PJRT_Layouts_PJRT_Executable_GetOutputLayouts_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        /// Out.
        pub num_outputs: usize,
        /// Out: `num_outputs` layouts, each owned by the caller.
        pub layouts: *mut *mut PJRT_Layouts_MemoryLayout,
    }

    pub struct PJRT_Layouts_PJRT_Executable_GetParameterLayouts_Args / PJRT_Layouts_PJRT_Executable_GetParameterLayouts_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        /// Out.
        pub num_parameters: usize,
        /// Out: `num_parameters` layouts, each owned by the caller.
        pub layouts: *mut *mut PJRT_Layouts_MemoryLayout,
    }

    /// The extension struct (`PJRT_Extension_Type_Layouts`).
    pub struct PJRT_Layouts_Extension / PJRT_Layouts_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub PJRT_Layouts_MemoryLayout_Destroy: Option<PJRT_Layouts_MemoryLayout_Destroy>,
        pub PJRT_Layouts_MemoryLayout_Serialize: Option<PJRT_Layouts_MemoryLayout_Serialize>,
        pub PJRT_Layouts_PJRT_Client_GetDefaultLayout:
            Option<PJRT_Layouts_PJRT_Client_GetDefaultLayout>,
        pub PJRT_Layouts_PJRT_Buffer_MemoryLayout: Option<PJRT_Layouts_PJRT_Buffer_MemoryLayout>,
        pub PJRT_Layouts_PJRT_Topology_GetDefaultLayout:
            Option<PJRT_Layouts_PJRT_Topology_GetDefaultLayout>,
        pub PJRT_Layouts_PJRT_Executable_GetOutputLayouts:
            Option<PJRT_Layouts_PJRT_Executable_GetOutputLayouts>,
        pub PJRT_Layouts_PJRT_Executable_GetParameterLayouts:
            Option<PJRT_Layouts_PJRT_Executable_GetParameterLayouts>,
    }
}
