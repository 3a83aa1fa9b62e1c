//! Errors: every C API function returns `*mut PJRT_Error`, null on success; the caller owns a
//! non-null one and must destroy it with `PJRT_Error_Destroy`.

use core::ffi::{c_char, c_void};

use crate::extension::PJRT_Extension_Base;
use crate::layout::{pjrt_enum, pjrt_structs};

pjrt_enum! {
    /// Status codes (the same numbering as absl / gRPC status codes).
    PJRT_Error_Code {
        PJRT_Error_Code_OK = 0,
        PJRT_Error_Code_CANCELLED = 1,
        PJRT_Error_Code_UNKNOWN = 2,
        PJRT_Error_Code_INVALID_ARGUMENT = 3,
        PJRT_Error_Code_DEADLINE_EXCEEDED = 4,
        PJRT_Error_Code_NOT_FOUND = 5,
        PJRT_Error_Code_ALREADY_EXISTS = 6,
        PJRT_Error_Code_PERMISSION_DENIED = 7,
        PJRT_Error_Code_RESOURCE_EXHAUSTED = 8,
        PJRT_Error_Code_FAILED_PRECONDITION = 9,
        PJRT_Error_Code_ABORTED = 10,
        PJRT_Error_Code_OUT_OF_RANGE = 11,
        PJRT_Error_Code_UNIMPLEMENTED = 12,
        PJRT_Error_Code_INTERNAL = 13,
        PJRT_Error_Code_UNAVAILABLE = 14,
        PJRT_Error_Code_DATA_LOSS = 15,
        PJRT_Error_Code_UNAUTHENTICATED = 16,
    }
}

/// Called once per payload entry of an error: key and value are byte strings with lengths.
pub type PJRT_Error_PayloadVisitor = Option<
    unsafe extern "C" fn(
        key: *const c_char,
        key_size: usize,
        value: *const c_char,
        value_size: usize,
        user_arg: *mut c_void,
    ),
>;

/// Given to callbacks so they can make a `PJRT_Error` of the plugin's kind to return.
pub type PJRT_CallbackError = Option<
    unsafe extern "C" fn(
        code: PJRT_Error_Code,
        message: *const c_char,
        message_size: usize,
    ) -> *mut PJRT_Error,
>;

pjrt_structs! {
    /// Virtual functions of an error object made by code outside the plugin (newer headers
    /// only; plugins built from older headers treat `PJRT_Error` as opaque).
    pub struct PJRT_Error_FunctionTable / PJRT_Error_FunctionTable_STRUCT_SIZE {
        pub struct_size: usize,
        pub instance_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub destroy: Option<unsafe extern "C" fn(error: *mut PJRT_Error)>,
        pub message: Option<
            unsafe extern "C" fn(
                error: *const PJRT_Error,
                message: *mut *const c_char,
                message_size: *mut usize,
            ),
        >,
        pub get_code: Option<unsafe extern "C" fn(error: *const PJRT_Error) -> PJRT_Error_Code>,
        pub for_each_payload: Option<
            unsafe extern "C" fn(
                error: *const PJRT_Error,
                visitor: PJRT_Error_PayloadVisitor,
                user_arg: *mut c_void,
            ),
        >,
    }

    /// An error object. The 0.114 header gives it a leading vtable pointer; what follows is
    /// the plugin's business. Only ever handle it through a pointer, and do not read `vtable`
    /// on plugins older than the header that introduced it.
    pub struct PJRT_Error / PJRT_Error_STRUCT_SIZE {
        pub vtable: *const PJRT_Error_FunctionTable,
    }

    pub struct PJRT_Error_Destroy_Args / PJRT_Error_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub error: *mut PJRT_Error,
    }

    /// Output: `message` / `message_size`, owned by the error (valid until it is destroyed).
    pub struct PJRT_Error_Message_Args / PJRT_Error_Message_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub error: *const PJRT_Error,
        pub message: *const c_char,
        pub message_size: usize,
    }

    pub struct PJRT_Error_GetCode_Args / PJRT_Error_GetCode_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub error: *const PJRT_Error,
        pub code: PJRT_Error_Code,
    }

    pub struct PJRT_Error_ForEachPayload_Args / PJRT_Error_ForEachPayload_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub error: *const PJRT_Error,
        pub visitor: PJRT_Error_PayloadVisitor,
        pub user_arg: *mut c_void,
    }
}

/// Frees an error. Returns nothing.
pub type PJRT_Error_Destroy = unsafe extern "C" fn(args: *mut PJRT_Error_Destroy_Args);
/// Reads an error's message. Returns nothing.
pub type PJRT_Error_Message = unsafe extern "C" fn(args: *mut PJRT_Error_Message_Args);
/// The C API function `PJRT_Error_GetCode`: reads and fills in a [`PJRT_Error_GetCode_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Error_GetCode =
    unsafe extern "C" fn(args: *mut PJRT_Error_GetCode_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Error_ForEachPayload`: reads and fills in a [`PJRT_Error_ForEachPayload_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Error_ForEachPayload =
    unsafe extern "C" fn(args: *mut PJRT_Error_ForEachPayload_Args) -> *mut PJRT_Error;
