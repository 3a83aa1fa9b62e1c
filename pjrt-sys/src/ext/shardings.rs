//! Shardings extension (`pjrt_c_api_shardings_extension.h`, version 1): an executable's
//! parameter and output shardings, as serialized `OpSharding` protos.

use core::ffi::c_char;

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Executable, PJRT_Extension_Base};

/// The version of the shardings extension these declarations follow (its `extension_version` field).
pub const PJRT_API_SHARDINGS_EXTENSION_VERSION: i32 = 1;

/// The C API function `PJRT_Shardings_PJRT_Executable_ParameterShardings`: reads and fills in a [`PJRT_Shardings_PJRT_Executable_ParameterShardings_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Shardings_PJRT_Executable_ParameterShardings =
    unsafe extern "C" fn(
        args: *mut PJRT_Shardings_PJRT_Executable_ParameterShardings_Args,
    ) -> *mut PJRT_Error;

/// The C API function `PJRT_Shardings_PJRT_Executable_OutputShardings`: reads and fills in a [`PJRT_Shardings_PJRT_Executable_OutputShardings_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Shardings_PJRT_Executable_OutputShardings = unsafe extern "C" fn(
    args: *mut PJRT_Shardings_PJRT_Executable_OutputShardings_Args,
) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Shardings_Extension`], in order.
pub const SHARDINGS_FUNCTION_NAMES: &[&str] = &[
    "PJRT_Shardings_PJRT_Executable_ParameterShardings",
    "PJRT_Shardings_PJRT_Executable_OutputShardings",
];

pjrt_structs! {
    pub struct PJRT_Shardings_PJRT_Executable_ParameterShardings_Args / PJRT_Shardings_PJRT_Executable_ParameterShardings_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        /// Out.
        pub num_parameters: usize,
        /// Out: owned by the executable.
        pub shardings: *const *const c_char,
        /// Out.
        pub sharding_sizes: *const usize,
    }

    pub struct PJRT_Shardings_PJRT_Executable_OutputShardings_Args / PJRT_Shardings_PJRT_Executable_OutputShardings_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub executable: *mut PJRT_Executable,
        /// Out.
        pub num_outputs: usize,
        /// Out: owned by the executable.
        pub shardings: *const *const c_char,
        /// Out.
        pub sharding_sizes: *const usize,
    }

    /// The extension struct (`PJRT_Extension_Type_Shardings`).
    pub struct PJRT_Shardings_Extension / PJRT_Shardings_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub PJRT_Shardings_PJRT_Executable_ParameterShardings:
            Option<PJRT_Shardings_PJRT_Executable_ParameterShardings>,
        pub PJRT_Shardings_PJRT_Executable_OutputShardings:
            Option<PJRT_Shardings_PJRT_Executable_OutputShardings>,
    }
}
