//! Topologies (the devices a compilation targets, possibly without a client) and
//! compilation against a topology.

use core::ffi::{c_char, c_int};

use crate::*;

pjrt_opaque! {
    /// A serialized topology, freed by its deleter.
    PJRT_SerializedTopology,
}

pjrt_structs! {
    pub struct PJRT_TopologyDescription_Create_Args / PJRT_TopologyDescription_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology_name: *const c_char,
        pub topology_name_size: usize,
        pub create_options: *const PJRT_NamedValue,
        pub num_options: usize,
        pub topology: *mut PJRT_TopologyDescription,
    }

    pub struct PJRT_TopologyDescription_Destroy_Args / PJRT_TopologyDescription_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *mut PJRT_TopologyDescription,
    }

    pub struct PJRT_TopologyDescription_PlatformVersion_Args / PJRT_TopologyDescription_PlatformVersion_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *mut PJRT_TopologyDescription,
        pub platform_version: *const c_char,
        pub platform_version_size: usize,
    }

    pub struct PJRT_TopologyDescription_PlatformName_Args / PJRT_TopologyDescription_PlatformName_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *const PJRT_TopologyDescription,
        pub platform_name: *const c_char,
        pub platform_name_size: usize,
    }

    pub struct PJRT_TopologyDescription_GetDeviceDescriptions_Args / PJRT_TopologyDescription_GetDeviceDescriptions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *const PJRT_TopologyDescription,
        pub descriptions: *const *mut PJRT_DeviceDescription,
        pub num_descriptions: usize,
    }

    pub struct PJRT_TopologyDescription_Serialize_Args / PJRT_TopologyDescription_Serialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *mut PJRT_TopologyDescription,
        pub serialized_bytes: *const c_char,
        pub serialized_bytes_size: usize,
        pub serialized_topology: *mut PJRT_SerializedTopology,
        pub serialized_topology_deleter:
            Option<unsafe extern "C" fn(serialized_topology: *mut PJRT_SerializedTopology)>,
    }

    pub struct PJRT_TopologyDescription_Deserialize_Args / PJRT_TopologyDescription_Deserialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub serialized_topology: *const c_char,
        pub serialized_topology_size: usize,
        pub topology: *mut PJRT_TopologyDescription,
    }

    pub struct PJRT_TopologyDescription_Attributes_Args / PJRT_TopologyDescription_Attributes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *mut PJRT_TopologyDescription,
        pub attributes: *const PJRT_NamedValue,
        pub num_attributes: usize,
    }

    pub struct PJRT_TopologyDescription_Fingerprint_Args / PJRT_TopologyDescription_Fingerprint_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *const PJRT_TopologyDescription,
        pub fingerprint: u64,
    }

    pub struct PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace_Args / PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *const PJRT_TopologyDescription,
        pub memory_space_kind_id: c_int,
        pub dims: *const i64,
        pub num_dims: usize,
        pub element_type: PJRT_Buffer_Type,
        pub layout: *const PJRT_Buffer_MemoryLayout,
        pub serialized_shape: *const c_char,
        pub serialized_shape_size: usize,
        pub serialized_shape_deleter: Option<unsafe extern "C" fn(serialized_shape: *const c_char)>,
    }

    pub struct PJRT_TopologyDescription_GetMemorySpaceKindIds_Args / PJRT_TopologyDescription_GetMemorySpaceKindIds_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *const PJRT_TopologyDescription,
        pub memory_space_kind_ids: *const c_int,
        pub num_memory_space_kind_ids: usize,
    }

    /// Compiles against a topology; `client` may be null (compile without loading).
    pub struct PJRT_Compile_Args / PJRT_Compile_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub topology: *const PJRT_TopologyDescription,
        pub program: *const PJRT_Program,
        pub compile_options: *const c_char,
        pub compile_options_size: usize,
        pub client: *mut PJRT_Client,
        pub executable: *mut PJRT_Executable,
    }
}

/// The C API function `PJRT_TopologyDescription_Create`: reads and fills in a [`PJRT_TopologyDescription_Create_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_Create =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_Create_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_Destroy`: reads and fills in a [`PJRT_TopologyDescription_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_PlatformVersion`: reads and fills in a [`PJRT_TopologyDescription_PlatformVersion_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_PlatformVersion = unsafe extern "C" fn(
    args: *mut PJRT_TopologyDescription_PlatformVersion_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_PlatformName`: reads and fills in a [`PJRT_TopologyDescription_PlatformName_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_PlatformName =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_PlatformName_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_GetDeviceDescriptions`: reads and fills in a [`PJRT_TopologyDescription_GetDeviceDescriptions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_GetDeviceDescriptions = unsafe extern "C" fn(
    args: *mut PJRT_TopologyDescription_GetDeviceDescriptions_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_Serialize`: reads and fills in a [`PJRT_TopologyDescription_Serialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_Serialize =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_Serialize_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_Deserialize`: reads and fills in a [`PJRT_TopologyDescription_Deserialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_Deserialize =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_Deserialize_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_Attributes`: reads and fills in a [`PJRT_TopologyDescription_Attributes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_Attributes =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_Attributes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_Fingerprint`: reads and fills in a [`PJRT_TopologyDescription_Fingerprint_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_Fingerprint =
    unsafe extern "C" fn(args: *mut PJRT_TopologyDescription_Fingerprint_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace`: reads and fills in a [`PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace =
    unsafe extern "C" fn(
        args: *mut PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_TopologyDescription_GetMemorySpaceKindIds`: reads and fills in a [`PJRT_TopologyDescription_GetMemorySpaceKindIds_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TopologyDescription_GetMemorySpaceKindIds = unsafe extern "C" fn(
    args: *mut PJRT_TopologyDescription_GetMemorySpaceKindIds_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Compile`: reads and fills in a [`PJRT_Compile_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Compile = unsafe extern "C" fn(args: *mut PJRT_Compile_Args) -> *mut PJRT_Error;
