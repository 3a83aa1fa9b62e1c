//! Events: completion signals for asynchronous work (transfers, execution).

use core::ffi::{c_char, c_void};

use crate::error::{PJRT_Error, PJRT_Error_Code};
use crate::extension::PJRT_Extension_Base;
use crate::layout::{pjrt_opaque, pjrt_structs};

pjrt_opaque! {
    /// A completion event, owned by whoever received it; destroy with `PJRT_Event_Destroy`.
    PJRT_Event,
}

/// Called once when an event becomes ready; `error` is null on success and is owned by the
/// callback otherwise.
pub type PJRT_Event_OnReadyCallback =
    Option<unsafe extern "C" fn(error: *mut PJRT_Error, user_arg: *mut c_void)>;

pjrt_structs! {
    pub struct PJRT_Event_Destroy_Args / PJRT_Event_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Event_IsReady_Args / PJRT_Event_IsReady_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
        pub is_ready: bool,
    }

    /// Returns (as the call's result) the error the event completed with, if any.
    pub struct PJRT_Event_Error_Args / PJRT_Event_Error_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Event_Await_Args / PJRT_Event_Await_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Event_OnReady_Args / PJRT_Event_OnReady_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
        pub callback: PJRT_Event_OnReadyCallback,
        pub user_arg: *mut c_void,
    }

    pub struct PJRT_Event_Create_Args / PJRT_Event_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Event_Set_Args / PJRT_Event_Set_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub event: *mut PJRT_Event,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
    }
}

/// The C API function `PJRT_Event_Destroy`: reads and fills in a [`PJRT_Event_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Event_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Event_IsReady`: reads and fills in a [`PJRT_Event_IsReady_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_IsReady =
    unsafe extern "C" fn(args: *mut PJRT_Event_IsReady_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Event_Error`: reads and fills in a [`PJRT_Event_Error_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_Error =
    unsafe extern "C" fn(args: *mut PJRT_Event_Error_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Event_Await`: reads and fills in a [`PJRT_Event_Await_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_Await =
    unsafe extern "C" fn(args: *mut PJRT_Event_Await_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Event_OnReady`: reads and fills in a [`PJRT_Event_OnReady_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_OnReady =
    unsafe extern "C" fn(args: *mut PJRT_Event_OnReady_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Event_Create`: reads and fills in a [`PJRT_Event_Create_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_Create =
    unsafe extern "C" fn(args: *mut PJRT_Event_Create_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Event_Set`: reads and fills in a [`PJRT_Event_Set_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Event_Set = unsafe extern "C" fn(args: *mut PJRT_Event_Set_Args) -> *mut PJRT_Error;
