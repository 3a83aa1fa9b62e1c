//! FFI extension (`pjrt_c_api_ffi_extension.h`, version 3): register XLA FFI handlers and
//! user-data types, attach user data to an execute context.

use core::ffi::{c_char, c_void};

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_ExecuteContext, PJRT_Extension_Base};

/// The version of the ffi extension these declarations follow (its `extension_version` field).
pub const PJRT_API_FFI_EXTENSION_VERSION: i32 = 3;

/// The C API function `PJRT_FFI_Type_Register`: reads and fills in a [`PJRT_FFI_Type_Register_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_FFI_Type_Register =
    unsafe extern "C" fn(args: *mut PJRT_FFI_Type_Register_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_FFI_UserData_Add`: reads and fills in a [`PJRT_FFI_UserData_Add_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_FFI_UserData_Add =
    unsafe extern "C" fn(args: *mut PJRT_FFI_UserData_Add_Args) -> *mut PJRT_Error;

/// Bit set of handler traits.
pub type PJRT_FFI_Handler_TraitsBits = i32;
/// The handler may be recorded into a command buffer (a CUDA graph).
pub const PJRT_FFI_HANDLER_TRAITS_COMMAND_BUFFER_COMPATIBLE: PJRT_FFI_Handler_TraitsBits = 1;

/// The C API function `PJRT_FFI_Register_Handler`: reads and fills in a [`PJRT_FFI_Register_Handler_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_FFI_Register_Handler =
    unsafe extern "C" fn(args: *mut PJRT_FFI_Register_Handler_Args) -> *mut PJRT_Error;

/// The header's second name for the extension struct.
pub type PJRT_FFI = PJRT_FFI_Extension;

/// Slot names of [`PJRT_FFI_Extension`], in order.
pub const FFI_FUNCTION_NAMES: &[&str] = &["type_register", "user_data_add", "register_handler"];

pjrt_structs! {
    /// Callbacks describing a user-data type.
    pub struct PJRT_FFI_Type_Info / PJRT_FFI_Type_Info_STRUCT_SIZE {
        pub deleter: Option<unsafe extern "C" fn(object: *mut c_void)>,
        /// Reserved; no arguments are specified yet.
        pub serialize: Option<unsafe extern "C" fn()>,
        /// Reserved; no arguments are specified yet.
        pub deserialize: Option<unsafe extern "C" fn()>,
    }

    pub struct PJRT_FFI_Type_Register_Args / PJRT_FFI_Type_Register_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub type_name: *const c_char,
        pub type_name_size: usize,
        /// In/out: 0 asks the plugin to assign an id.
        pub type_id: i64,
        pub type_info: *mut PJRT_FFI_Type_Info,
    }

    /// A typed pointer handed to FFI handlers through the execute context.
    pub struct PJRT_FFI_UserData / PJRT_FFI_UserData_STRUCT_SIZE {
        pub type_id: i64,
        pub data: *mut c_void,
    }

    pub struct PJRT_FFI_UserData_Add_Args / PJRT_FFI_UserData_Add_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub context: *mut PJRT_ExecuteContext,
        pub user_data: PJRT_FFI_UserData,
    }

    /// Note: this args struct has no `extension_start`.
    pub struct PJRT_FFI_Register_Handler_Args / PJRT_FFI_Register_Handler_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub target_name: *const c_char,
        pub target_name_size: usize,
        /// An `XLA_FFI_Handler*`.
        pub handler: *mut c_void,
        pub platform_name: *const c_char,
        pub platform_name_size: usize,
        pub traits: PJRT_FFI_Handler_TraitsBits,
    }

    /// The extension struct (`PJRT_Extension_Type_FFI`).
    pub struct PJRT_FFI_Extension / PJRT_FFI_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub type_register: Option<PJRT_FFI_Type_Register>,
        pub user_data_add: Option<PJRT_FFI_UserData_Add>,
        pub register_handler: Option<PJRT_FFI_Register_Handler>,
    }
}
