//! ABI version extension (`pjrt_c_api_abi_version_extension.h`, version 1): runtime and
//! executable ABI versions, their compatibility checks and proto round trips.
//!
//! The second header, `xla/pjrt/extensions/abi_version/{abi_version,gpu_abi_version}_extension.h`,
//! declares only C++ helpers that build this struct inside a plugin; it adds no ABI.

use core::ffi::c_char;

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{PJRT_Client, PJRT_Error, PJRT_Executable, PJRT_Extension_Base};

/// The version of the abi version extension these declarations follow (its `extension_version` field).
pub const PJRT_API_ABI_VERSION_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// The ABI version of a running client.
    PJRT_RuntimeAbiVersion,
    /// The ABI version an executable was compiled for.
    PJRT_ExecutableAbiVersion,
    /// Storage behind serialized proto bytes; free with the returned deleter.
    PJRT_SerializedProto,
);

/// The C API function `PJRT_Client_RuntimeAbiVersion`: reads and fills in a [`PJRT_Client_RuntimeAbiVersion_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Client_RuntimeAbiVersion =
    unsafe extern "C" fn(args: *mut PJRT_Client_RuntimeAbiVersion_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Executable_GetAbiVersion`: reads and fills in a [`PJRT_Executable_GetAbiVersion_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Executable_GetAbiVersion =
    unsafe extern "C" fn(args: *mut PJRT_Executable_GetAbiVersion_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RuntimeAbiVersion_Destroy`: reads and fills in a [`PJRT_RuntimeAbiVersion_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RuntimeAbiVersion_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_RuntimeAbiVersion_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime`: reads and fills in a [`PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime = unsafe extern "C" fn(
    args: *mut PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable`: reads and fills in a [`PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable =
    unsafe extern "C" fn(
        args: *mut PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_RuntimeAbiVersion_ToProto`: reads and fills in a [`PJRT_RuntimeAbiVersion_ToProto_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RuntimeAbiVersion_ToProto =
    unsafe extern "C" fn(args: *mut PJRT_RuntimeAbiVersion_ToProto_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RuntimeAbiVersion_PlatformId`: reads and fills in a [`PJRT_RuntimeAbiVersion_PlatformId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RuntimeAbiVersion_PlatformId =
    unsafe extern "C" fn(args: *mut PJRT_RuntimeAbiVersion_PlatformId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_ExecutableAbiVersion_Destroy`: reads and fills in a [`PJRT_ExecutableAbiVersion_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_ExecutableAbiVersion_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_ExecutableAbiVersion_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_ExecutableAbiVersion_ToProto`: reads and fills in a [`PJRT_ExecutableAbiVersion_ToProto_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_ExecutableAbiVersion_ToProto =
    unsafe extern "C" fn(args: *mut PJRT_ExecutableAbiVersion_ToProto_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_ExecutableAbiVersion_PlatformId`: reads and fills in a [`PJRT_ExecutableAbiVersion_PlatformId_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_ExecutableAbiVersion_PlatformId =
    unsafe extern "C" fn(args: *mut PJRT_ExecutableAbiVersion_PlatformId_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_RuntimeAbiVersion_FromProto`: reads and fills in a [`PJRT_RuntimeAbiVersion_FromProto_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_RuntimeAbiVersion_FromProto =
    unsafe extern "C" fn(args: *mut PJRT_RuntimeAbiVersion_FromProto_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_ExecutableAbiVersion_FromProto`: reads and fills in a [`PJRT_ExecutableAbiVersion_FromProto_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_ExecutableAbiVersion_FromProto =
    unsafe extern "C" fn(args: *mut PJRT_ExecutableAbiVersion_FromProto_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_AbiVersion_Extension`], in order.
pub const ABI_VERSION_FUNCTION_NAMES: &[&str] = &[
    "client_runtime_abi_version",
    "executable_get_abi_version",
    "runtime_abi_version_destroy",
    "runtime_abi_version_is_compatible_with_runtime",
    "runtime_abi_version_is_compatible_with_executable",
    "runtime_abi_version_to_proto",
    "runtime_abi_version_platform_id",
    "executable_abi_version_destroy",
    "executable_abi_version_to_proto",
    "executable_abi_version_platform_id",
    "runtime_abi_version_from_proto",
    "executable_abi_version_from_proto",
];

pjrt_structs! {
    /// Note: the args structs of this extension have no `extension_start`.
    pub struct PJRT_Client_RuntimeAbiVersion_Args / PJRT_Client_RuntimeAbiVersion_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client: *mut PJRT_Client,
        /// Out: free with `runtime_abi_version_destroy`.
        pub abi_version: *mut PJRT_RuntimeAbiVersion,
    }

    pub struct PJRT_Executable_GetAbiVersion_Args / PJRT_Executable_GetAbiVersion_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub executable: *mut PJRT_Executable,
        /// Out: free with `executable_abi_version_destroy`.
        pub abi_version: *mut PJRT_ExecutableAbiVersion,
    }

    pub struct PJRT_RuntimeAbiVersion_Destroy_Args / PJRT_RuntimeAbiVersion_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *mut PJRT_RuntimeAbiVersion,
    }

    /// Returns an error when the two are incompatible.
    pub struct PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args
        / PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *const PJRT_RuntimeAbiVersion,
        pub other_abi_version: *const PJRT_RuntimeAbiVersion,
    }

    /// Returns an error when the two are incompatible.
    pub struct PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args
        / PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *const PJRT_RuntimeAbiVersion,
        pub executable_abi_version: *const PJRT_ExecutableAbiVersion,
    }

    pub struct PJRT_RuntimeAbiVersion_ToProto_Args / PJRT_RuntimeAbiVersion_ToProto_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *const PJRT_RuntimeAbiVersion,
        /// Out: owned by `serialized_proto_holder`.
        pub serialized_proto: *const c_char,
        /// Out.
        pub serialized_proto_size: usize,
        /// Out.
        pub serialized_proto_holder: *mut PJRT_SerializedProto,
        /// Out: frees `serialized_proto_holder`.
        pub serialized_proto_deleter: Option<unsafe extern "C" fn(holder: *mut PJRT_SerializedProto)>,
    }

    pub struct PJRT_RuntimeAbiVersion_PlatformId_Args
        / PJRT_RuntimeAbiVersion_PlatformId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *const PJRT_RuntimeAbiVersion,
        /// Out.
        pub platform_id: u64,
    }

    pub struct PJRT_ExecutableAbiVersion_Destroy_Args
        / PJRT_ExecutableAbiVersion_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *mut PJRT_ExecutableAbiVersion,
    }

    pub struct PJRT_ExecutableAbiVersion_ToProto_Args
        / PJRT_ExecutableAbiVersion_ToProto_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *const PJRT_ExecutableAbiVersion,
        /// Out: owned by `serialized_proto_holder`.
        pub serialized_proto: *const c_char,
        /// Out.
        pub serialized_proto_size: usize,
        /// Out.
        pub serialized_proto_holder: *mut PJRT_SerializedProto,
        /// Out: frees `serialized_proto_holder`.
        pub serialized_proto_deleter: Option<unsafe extern "C" fn(holder: *mut PJRT_SerializedProto)>,
    }

    pub struct PJRT_ExecutableAbiVersion_PlatformId_Args
        / PJRT_ExecutableAbiVersion_PlatformId_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub abi_version: *const PJRT_ExecutableAbiVersion,
        /// Out.
        pub platform_id: u64,
    }

    pub struct PJRT_RuntimeAbiVersion_FromProto_Args
        / PJRT_RuntimeAbiVersion_FromProto_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_proto: *const c_char,
        pub serialized_proto_size: usize,
        /// Out: free with `runtime_abi_version_destroy`.
        pub abi_version: *mut PJRT_RuntimeAbiVersion,
    }

    pub struct PJRT_ExecutableAbiVersion_FromProto_Args
        / PJRT_ExecutableAbiVersion_FromProto_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_proto: *const c_char,
        pub serialized_proto_size: usize,
        /// Out: free with `executable_abi_version_destroy`.
        pub abi_version: *mut PJRT_ExecutableAbiVersion,
    }

    /// The extension struct (`PJRT_Extension_Type_AbiVersion`).
    pub struct PJRT_AbiVersion_Extension / PJRT_AbiVersion_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub client_runtime_abi_version: Option<PJRT_Client_RuntimeAbiVersion>,
        pub executable_get_abi_version: Option<PJRT_Executable_GetAbiVersion>,
        pub runtime_abi_version_destroy: Option<PJRT_RuntimeAbiVersion_Destroy>,
        pub runtime_abi_version_is_compatible_with_runtime:
            Option<PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime>,
        pub runtime_abi_version_is_compatible_with_executable:
            Option<PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable>,
        pub runtime_abi_version_to_proto: Option<PJRT_RuntimeAbiVersion_ToProto>,
        pub runtime_abi_version_platform_id: Option<PJRT_RuntimeAbiVersion_PlatformId>,
        pub executable_abi_version_destroy: Option<PJRT_ExecutableAbiVersion_Destroy>,
        pub executable_abi_version_to_proto: Option<PJRT_ExecutableAbiVersion_ToProto>,
        pub executable_abi_version_platform_id: Option<PJRT_ExecutableAbiVersion_PlatformId>,
        pub runtime_abi_version_from_proto: Option<PJRT_RuntimeAbiVersion_FromProto>,
        pub executable_abi_version_from_proto: Option<PJRT_ExecutableAbiVersion_FromProto>,
    }
}
