//! GPU custom-call extension (`pjrt_c_api_gpu_extension.h`, version 2): register custom-call
//! handlers with a GPU plugin.

use core::ffi::{c_char, c_int, c_void};

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Extension_Base};

/// The version of the gpu extension these declarations follow (its `extension_version` field).
pub const PJRT_API_GPU_EXTENSION_VERSION: i32 = 2;

/// The C API function `PJRT_Gpu_Register_Custom_Call`: reads and fills in a [`PJRT_Gpu_Register_Custom_Call_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Gpu_Register_Custom_Call =
    unsafe extern "C" fn(args: *mut PJRT_Gpu_Register_Custom_Call_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Gpu_Custom_Call`], in order.
pub const GPU_FUNCTION_NAMES: &[&str] = &["custom_call"];

pjrt_structs! {
    /// Note: no `extension_start`.
    pub struct PJRT_Gpu_Register_Custom_Call_Args / PJRT_Gpu_Register_Custom_Call_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub function_name: *const c_char,
        pub function_name_size: usize,
        /// 0: untyped (legacy) custom call; 1: typed FFI handler.
        pub api_version: c_int,
        pub handler_instantiate: *mut c_void,
        pub handler_prepare: *mut c_void,
        pub handler_initialize: *mut c_void,
        pub handler_execute: *mut c_void,
    }

    /// The extension struct (`PJRT_Extension_Type_Gpu_Custom_Call`).
    pub struct PJRT_Gpu_Custom_Call / PJRT_Gpu_Custom_Call_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub custom_call: Option<PJRT_Gpu_Register_Custom_Call>,
    }
}
