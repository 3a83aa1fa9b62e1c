//! XLA transform extension (`pjrt_c_api_xla_transform_extension.h`, version 1): register
//! callbacks that rewrite the HLO module before or after scheduling.

use core::ffi::{c_char, c_void};

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Error_Code, PJRT_Extension_Base};

/// The version of the xla transform extension these declarations follow (its `extension_version` field).
pub const PJRT_API_XLA_TRANSFORM_EXTENSION_VERSION: i32 = 1;

/// Where in the pipeline a transform runs.
pub type PJRT_XlaTransform_PipelineStage = i32;
/// Before the scheduler runs.
pub const PJRT_XlaTransform_PipelineStage_kPreScheduler: PJRT_XlaTransform_PipelineStage = 0;
/// After the scheduler has run.
pub const PJRT_XlaTransform_PipelineStage_kPostScheduler: PJRT_XlaTransform_PipelineStage = 1;

/// The C API function `PJRT_Register_Xla_Transform_Fn`: reads and fills in a [`PJRT_Register_Xla_Transform_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Register_Xla_Transform_Fn =
    unsafe extern "C" fn(args: *mut PJRT_Register_Xla_Transform_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_Clear_Xla_Transform_Fn`: reads and fills in a [`PJRT_Clear_Xla_Transform_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Clear_Xla_Transform_Fn =
    unsafe extern "C" fn(args: *mut PJRT_Clear_Xla_Transform_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Xla_Transform_Extension`], in order.
pub const XLA_TRANSFORM_FUNCTION_NAMES: &[&str] =
    &["register_xla_transform", "clear_xla_transform"];

pjrt_structs! {
    /// A borrowed byte string.
    pub struct PJRT_XlaTransform_string / PJRT_XlaTransform_string_STRUCT_SIZE {
        pub data: *const c_char,
        pub size: usize,
    }

    /// Version in, result data and error out, shared by transform calls.
    pub struct PJRT_XlaTransform_version_and_error / PJRT_XlaTransform_version_and_error_STRUCT_SIZE {
        pub api_version: i64,
        /// Out: data owned by the callee, released with `cleanup_fn`.
        pub data: *mut c_void,
        /// Out.
        pub cleanup_fn: Option<unsafe extern "C" fn(data: *mut c_void)>,
        /// Out.
        pub has_error: bool,
        /// Out.
        pub code: PJRT_Error_Code,
        /// Out.
        pub error_msg: PJRT_XlaTransform_string,
    }

    /// Passed to `transform_hlo_module`. Note: no `extension_start`.
    pub struct PJRT_XlaTransform_Args / PJRT_XlaTransform_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub header: PJRT_XlaTransform_version_and_error,
        /// Serialized `HloModuleProto` in.
        pub hlo_module: PJRT_XlaTransform_string,
        /// Out: serialized transformed module.
        pub transformed_hlo_module: PJRT_XlaTransform_string,
        /// Out: whether the module changed.
        pub changed: bool,
    }

    /// A transform, implemented by the caller.
    pub struct PJRT_XlaTransform_Callbacks / PJRT_XlaTransform_Callbacks_STRUCT_SIZE {
        pub version: i64,
        pub dtor: Option<unsafe extern "C" fn(data: *mut PJRT_XlaTransform_Callbacks)>,
        pub transform_hlo_module: Option<
            unsafe extern "C" fn(data: *mut PJRT_XlaTransform_Callbacks, args: *mut PJRT_XlaTransform_Args),
        >,
    }

    pub struct PJRT_Register_Xla_Transform_Args / PJRT_Register_Xla_Transform_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub name: *const c_char,
        pub name_size: usize,
        pub stage: PJRT_XlaTransform_PipelineStage,
        pub callbacks: *mut PJRT_XlaTransform_Callbacks,
    }

    pub struct PJRT_Clear_Xla_Transform_Args / PJRT_Clear_Xla_Transform_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub stage: PJRT_XlaTransform_PipelineStage,
        pub name: *const c_char,
        pub name_size: usize,
        pub callbacks: *mut PJRT_XlaTransform_Callbacks,
        /// Out: whether a transform was removed.
        pub cleared: bool,
    }

    /// The extension struct (`PJRT_Extension_Type_XlaTransform`).
    pub struct PJRT_Xla_Transform_Extension / PJRT_Xla_Transform_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub register_xla_transform: Option<PJRT_Register_Xla_Transform_Fn>,
        pub clear_xla_transform: Option<PJRT_Clear_Xla_Transform_Fn>,
    }
}
