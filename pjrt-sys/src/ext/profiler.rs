//! Profiler extension (`pjrt_c_api_profiler_extension.h`, version 1) and the profiler
//! plugin API it points at (`xla/backends/profiler/plugin/profiler_c_api.h`, version 1).
//!
//! Unlike the other extensions, the extension struct holds no functions itself: it points
//! at a [`PLUGIN_Profiler_Api`] table. [`PROFILER_FUNCTION_NAMES`] therefore lists that
//! table's slots.

use core::ffi::{c_char, c_int, c_void};

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::PJRT_Extension_Base;

/// The version of the profiler extension these declarations follow (its `extension_version` field).
pub const PJRT_API_PROFILER_EXTENSION_VERSION: i32 = 1;
/// The version of the plugin profiler interface (`PLUGIN_Profiler_Api`) these declarations follow.
pub const PLUGIN_PROFILER_VERSION: i32 = 1;

pjrt_opaque!(
    /// A profiler session.
    PLUGIN_Profiler,
    /// An error from the profiler API (distinct from `PJRT_Error`).
    PLUGIN_Profiler_Error,
    /// Data collected by `consume`.
    PLUGIN_Profiler_ConsumeResult,
);

/// Returns nothing.
pub type PLUGIN_Profiler_Error_Destroy =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Error_Destroy_Args);

/// Returns nothing.
pub type PLUGIN_Profiler_Error_Message =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Error_Message_Args);

/// The C API function `PLUGIN_Profiler_Error_GetCode`: reads and fills in a [`PLUGIN_Profiler_Error_GetCode_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Error_GetCode = unsafe extern "C" fn(
    args: *mut PLUGIN_Profiler_Error_GetCode_Args,
) -> *mut PLUGIN_Profiler_Error;

/// The C API function `PLUGIN_Profiler_Create`: reads and fills in a [`PLUGIN_Profiler_Create_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Create =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Create_Args) -> *mut PLUGIN_Profiler_Error;

/// The C API function `PLUGIN_Profiler_Destroy`: reads and fills in a [`PLUGIN_Profiler_Destroy_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Destroy =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Destroy_Args) -> *mut PLUGIN_Profiler_Error;

/// The C API function `PLUGIN_Profiler_Start`: reads and fills in a [`PLUGIN_Profiler_Start_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Start =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Start_Args) -> *mut PLUGIN_Profiler_Error;

/// The C API function `PLUGIN_Profiler_Stop`: reads and fills in a [`PLUGIN_Profiler_Stop_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Stop =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Stop_Args) -> *mut PLUGIN_Profiler_Error;

/// The C API function `PLUGIN_Profiler_CollectData`: reads and fills in a [`PLUGIN_Profiler_CollectData_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_CollectData =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_CollectData_Args) -> *mut PLUGIN_Profiler_Error;

/// The C API function `PLUGIN_Profiler_Consume`: reads and fills in a [`PLUGIN_Profiler_Consume_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Consume =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Consume_Args) -> *mut PLUGIN_Profiler_Error;

/// Returns nothing.
pub type PLUGIN_Profiler_ConsumeResult_Destroy =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_ConsumeResult_Destroy_Args);

/// The C API function `PLUGIN_Profiler_Serialize`: reads and fills in a [`PLUGIN_Profiler_Serialize_Args`]; returns null, or a [`PLUGIN_Profiler_Error`] on failure.
pub type PLUGIN_Profiler_Serialize =
    unsafe extern "C" fn(args: *mut PLUGIN_Profiler_Serialize_Args) -> *mut PLUGIN_Profiler_Error;

/// Slot names of [`PLUGIN_Profiler_Api`] (reached through `profiler_api`), in order.
pub const PROFILER_FUNCTION_NAMES: &[&str] = &[
    "error_destroy",
    "error_message",
    "error_get_code",
    "create",
    "destroy",
    "start",
    "stop",
    "collect_data",
    "consume",
    "consume_result_destroy",
    "serialize",
];

pjrt_structs! {
    pub struct PLUGIN_Profiler_Error_Destroy_Args / PLUGIN_Profiler_Error_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub priv_: *mut c_void,
        pub error: *mut PLUGIN_Profiler_Error,
    }

    pub struct PLUGIN_Profiler_Error_Message_Args / PLUGIN_Profiler_Error_Message_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub priv_: *mut c_void,
        pub error: *const PLUGIN_Profiler_Error,
        /// Out: owned by the error.
        pub message: *const c_char,
        /// Out.
        pub message_size: usize,
    }

    pub struct PLUGIN_Profiler_Error_GetCode_Args / PLUGIN_Profiler_Error_GetCode_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub priv_: *mut c_void,
        pub error: *const PLUGIN_Profiler_Error,
        /// Out: a status code.
        pub code: c_int,
    }

    pub struct PLUGIN_Profiler_Create_Args / PLUGIN_Profiler_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        /// Serialized profiler options.
        pub options: *const c_char,
        pub options_size: usize,
        /// Out.
        pub profiler: *mut PLUGIN_Profiler,
    }

    pub struct PLUGIN_Profiler_Destroy_Args / PLUGIN_Profiler_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub profiler: *mut PLUGIN_Profiler,
    }

    pub struct PLUGIN_Profiler_Start_Args / PLUGIN_Profiler_Start_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub profiler: *mut PLUGIN_Profiler,
    }

    pub struct PLUGIN_Profiler_Stop_Args / PLUGIN_Profiler_Stop_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub profiler: *mut PLUGIN_Profiler,
    }

    pub struct PLUGIN_Profiler_CollectData_Args / PLUGIN_Profiler_CollectData_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub profiler: *mut PLUGIN_Profiler,
        /// In/out: null asks for the size only.
        pub buffer: *mut u8,
        /// Out.
        pub buffer_size_in_bytes: usize,
    }

    pub struct PLUGIN_Profiler_Consume_Args / PLUGIN_Profiler_Consume_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub profiler: *mut PLUGIN_Profiler,
        /// Out.
        pub result: *mut PLUGIN_Profiler_ConsumeResult,
    }

    pub struct PLUGIN_Profiler_ConsumeResult_Destroy_Args / PLUGIN_Profiler_ConsumeResult_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub consume_result: *mut PLUGIN_Profiler_ConsumeResult,
    }

    pub struct PLUGIN_Profiler_Serialize_Args / PLUGIN_Profiler_Serialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub profiler: *mut PLUGIN_Profiler,
        pub consume_result: *mut PLUGIN_Profiler_ConsumeResult,
        /// Out: owned by `consume_result`.
        pub serialized_bytes: *const u8,
        /// Out.
        pub serialized_size: usize,
    }

    /// The profiler function table. The C field `priv` is `priv_` here (`priv` is reserved).
    pub struct PLUGIN_Profiler_Api / PLUGIN_Profiler_Api_STRUCT_SIZE {
        pub struct_size: usize,
        pub priv_: *mut c_void,
        pub error_destroy: Option<PLUGIN_Profiler_Error_Destroy>,
        pub error_message: Option<PLUGIN_Profiler_Error_Message>,
        pub error_get_code: Option<PLUGIN_Profiler_Error_GetCode>,
        pub create: Option<PLUGIN_Profiler_Create>,
        pub destroy: Option<PLUGIN_Profiler_Destroy>,
        pub start: Option<PLUGIN_Profiler_Start>,
        pub stop: Option<PLUGIN_Profiler_Stop>,
        pub collect_data: Option<PLUGIN_Profiler_CollectData>,
        pub consume: Option<PLUGIN_Profiler_Consume>,
        pub consume_result_destroy: Option<PLUGIN_Profiler_ConsumeResult_Destroy>,
        pub serialize: Option<PLUGIN_Profiler_Serialize>,
    }

    /// The extension struct (`PJRT_Extension_Type_Profiler`).
    pub struct PJRT_Profiler_Extension / PJRT_Profiler_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub profiler_api: *mut PLUGIN_Profiler_Api,
        pub traceme_context_id: i64,
    }
}
