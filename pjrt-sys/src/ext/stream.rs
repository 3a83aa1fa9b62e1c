//! Stream extension (`pjrt_c_api_stream_extension.h`, version 0): a device stream for
//! external ready events, and waiting for a buffer on a stream.

use crate::layout::pjrt_structs;
use crate::{PJRT_Buffer, PJRT_Device, PJRT_Error, PJRT_Extension_Base};

/// The version of the stream extension these declarations follow (its `extension_version` field).
pub const PJRT_API_STREAM_EXTENSION_VERSION: i32 = 0;

/// The C API function `PJRT_Get_Stream_For_External_Ready_Events`: reads and fills in a [`PJRT_Get_Stream_For_External_Ready_Events_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Get_Stream_For_External_Ready_Events = unsafe extern "C" fn(
    args: *mut PJRT_Get_Stream_For_External_Ready_Events_Args,
) -> *mut PJRT_Error;

/// The C API function `PJRT_Wait_Until_Buffer_Ready_On_Stream`: reads and fills in a [`PJRT_Wait_Until_Buffer_Ready_On_Stream_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Wait_Until_Buffer_Ready_On_Stream =
    unsafe extern "C" fn(args: *mut PJRT_Wait_Until_Buffer_Ready_On_Stream_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Stream_Extension`], in order.
pub const STREAM_FUNCTION_NAMES: &[&str] = &["get_stream", "wait_stream"];

pjrt_structs! {
    /// Note: no `extension_start`.
    pub struct PJRT_Get_Stream_For_External_Ready_Events_Args / PJRT_Get_Stream_For_External_Ready_Events_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub device: *mut PJRT_Device,
        /// Out: a platform stream handle.
        pub stream: isize,
    }

    /// Note: no `extension_start`.
    pub struct PJRT_Wait_Until_Buffer_Ready_On_Stream_Args / PJRT_Wait_Until_Buffer_Ready_On_Stream_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub stream: isize,
        pub buffer: *mut PJRT_Buffer,
    }

    /// The extension struct (`PJRT_Extension_Type_Stream`).
    pub struct PJRT_Stream_Extension / PJRT_Stream_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub get_stream: Option<PJRT_Get_Stream_For_External_Ready_Events>,
        pub wait_stream: Option<PJRT_Wait_Until_Buffer_Ready_On_Stream>,
    }
}
