//! Callback extension (`pjrt_c_api_callback_extension.h`, version 1): register and invoke
//! client callbacks for plugin events (TPU slice failures, imminent fatal errors).

use core::ffi::{c_char, c_void};

use crate::layout::{pjrt_enum, pjrt_structs};
use crate::{PJRT_Client, PJRT_Error, PJRT_Error_Code, PJRT_Extension_Base};

/// The version of the callback extension these declarations follow (its `extension_version` field).
pub const PJRT_API_CALLBACK_EXTENSION_VERSION: i32 = 1;

pjrt_enum! {
    /// Which event a callback is for.
    PJRT_Callback_Type {
        PJRT_Callback_Type_Unknown = 0,
        /// Args: [`PJRT_Callback_Tpu_SliceBuilderArgs`].
        PJRT_Callback_Type_Tpu_SliceBuilder = 1,
        /// Args: [`PJRT_Callback_PrefatalArgs`].
        PJRT_Callback_Type_Prefatal = 2,
    }
}

pjrt_enum! {
    /// Why a TPU slice failed (a 32-bit enum in C).
    PJRT_Callback_Tpu_SliceFailureType {
        SLICE_FAILURE_UNKNOWN = 0,
        SLICE_FAILURE_INIT_ERROR = 1,
        SLICE_FAILURE_WORKER_UNAVAILABLE = 2,
        SLICE_FAILURE_FLAPPING_TASK_ERROR = 3,
        SLICE_FAILURE_SW_INJECT_ERROR = 4,
        SLICE_FAILURE_CHIP_DRIVER_ERROR = 5,
    }
}

/// A registered callback: `args` points at the event's args struct.
pub type PJRT_Callback_Function = unsafe extern "C" fn(args: *mut c_void, user_arg: *mut c_void);

/// The C API function `PJRT_Register_Callback`: reads and fills in a [`PJRT_Callback_RegisterCallback_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Register_Callback =
    unsafe extern "C" fn(args: *mut PJRT_Callback_RegisterCallback_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Callback_InvokeCallback`: reads and fills in a [`PJRT_Callback_InvokeCallback_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Callback_InvokeCallback =
    unsafe extern "C" fn(args: *mut PJRT_Callback_InvokeCallback_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Callback_Extension`], in order.
pub const CALLBACK_FUNCTION_NAMES: &[&str] = &["register_callback", "invoke_callback"];

pjrt_structs! {
    pub struct PJRT_Callback_Tpu_SliceBuilderArgs / PJRT_Callback_Tpu_SliceBuilderArgs_STRUCT_SIZE {
        pub struct_size: usize,
        pub failure_type: PJRT_Callback_Tpu_SliceFailureType,
    }

    pub struct PJRT_Callback_PrefatalArgs / PJRT_Callback_PrefatalArgs_STRUCT_SIZE {
        pub struct_size: usize,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
    }

    /// Note: no `extension_start`.
    pub struct PJRT_Callback_RegisterCallback_Args / PJRT_Callback_RegisterCallback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client: *mut PJRT_Client,
        pub type_: PJRT_Callback_Type,
        pub callback: Option<PJRT_Callback_Function>,
        pub user_arg: *mut c_void,
    }

    pub struct PJRT_Callback_InvokeCallback_Args / PJRT_Callback_InvokeCallback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub client: *mut PJRT_Client,
        pub type_: PJRT_Callback_Type,
        pub args: *mut c_void,
    }

    /// The extension struct (`PJRT_Extension_Type_Callback`).
    pub struct PJRT_Callback_Extension / PJRT_Callback_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub register_callback: Option<PJRT_Register_Callback>,
        pub invoke_callback: Option<PJRT_Callback_InvokeCallback>,
    }
}
