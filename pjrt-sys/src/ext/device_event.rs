//! Device events as seen by extensions (`pjrt_c_api_device_event.h`): reference-counted
//! events and promises behind small function tables. Not an extension itself; the raw
//! buffer extension's function table uses these types.

use core::ffi::{c_char, c_int, c_void};

use crate::layout::{pjrt_enum, pjrt_structs};
use crate::{PJRT_Error, PJRT_Error_Code, PJRT_Extension_Base};

/// Called once an event is ready.
pub type PJRT_DeviceEvent_AndThen = Option<unsafe extern "C" fn(user_arg: *mut c_void)>;

pjrt_enum! {
    /// State of a device event.
    PJRT_DeviceEvent_State {
        PJRT_DeviceEvent_State_Unavailable = 0,
        PJRT_DeviceEvent_State_Ready = 1,
        PJRT_DeviceEvent_State_Error = 2,
    }
}

pjrt_structs! {
    /// Operations on one kind of device event.
    pub struct PJRT_DeviceEvent_FunctionTable / PJRT_DeviceEvent_FunctionTable_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub inc_ref: Option<unsafe extern "C" fn(device_event: *mut c_void)>,
        pub dec_ref: Option<unsafe extern "C" fn(device_event: *mut c_void)>,
        pub and_then: Option<
            unsafe extern "C" fn(
                device_event: *mut c_void,
                callback: PJRT_DeviceEvent_AndThen,
                user_arg: *mut c_void,
            ),
        >,
        /// Non-zero with `code` and `message` filled when the event failed.
        pub get_error_if_present: Option<
            unsafe extern "C" fn(
                device_event: *mut c_void,
                code: *mut PJRT_Error_Code,
                message: *mut *const c_char,
                message_size: *mut usize,
            ) -> c_int,
        >,
        pub parent: *const PJRT_DeviceEvent_FunctionTable,
        pub get_state:
            Option<unsafe extern "C" fn(device_event: *mut c_void) -> PJRT_DeviceEvent_State>,
        pub get_definition_stream: Option<
            unsafe extern "C" fn(device_event: *mut c_void, sequence_number: *mut u64) -> isize,
        >,
    }

    /// An event: its table and the plugin's object.
    pub struct PJRT_DeviceEvent / PJRT_DeviceEvent_STRUCT_SIZE {
        pub vtable: *const PJRT_DeviceEvent_FunctionTable,
        pub device_event: *mut c_void,
    }

    /// A vector of events with its own release function.
    pub struct PJRT_DeviceEventVector / PJRT_DeviceEventVector_STRUCT_SIZE {
        pub data: *mut PJRT_DeviceEvent,
        pub size: usize,
        pub capacity: usize,
        pub destroy: Option<unsafe extern "C" fn(data: *mut PJRT_DeviceEvent)>,
    }

    /// Operations on an event promise.
    pub struct PJRT_DeviceEventPromise_FunctionTable
        / PJRT_DeviceEventPromise_FunctionTable_STRUCT_SIZE {
        pub struct_size: usize,
        /// Size of the promise object this table belongs to.
        pub instance_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub inc_ref: Option<unsafe extern "C" fn(promise: *mut PJRT_DeviceEventPromise)>,
        pub dec_ref: Option<unsafe extern "C" fn(promise: *mut PJRT_DeviceEventPromise)>,
        pub event:
            Option<unsafe extern "C" fn(promise: *mut PJRT_DeviceEventPromise) -> PJRT_DeviceEvent>,
        pub set: Option<
            unsafe extern "C" fn(promise: *mut PJRT_DeviceEventPromise, event: PJRT_DeviceEvent),
        >,
        pub set_error: Option<
            unsafe extern "C" fn(promise: *mut PJRT_DeviceEventPromise, error: *mut PJRT_Error),
        >,
        pub set_ready: Option<unsafe extern "C" fn(promise: *mut PJRT_DeviceEventPromise)>,
    }

    /// A promise object starts with its table.
    pub struct PJRT_DeviceEventPromise / PJRT_DeviceEventPromise_STRUCT_SIZE {
        pub vtable: *const PJRT_DeviceEventPromise_FunctionTable,
    }
}
