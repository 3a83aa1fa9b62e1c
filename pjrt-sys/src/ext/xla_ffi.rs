//! The XLA FFI C ABI (`xla/ffi/api/c_api.h`, FFI API 0.3 at the 0.114 header's commit),
//! written by hand: what a custom-call handler registered through the FFI extension receives
//! (`XLA_FFI_CallFrame`) and the function table it may call back (`XLA_FFI_Api`).
//!
//! Like the PJRT structs, every struct is append-only and carries `struct_size`; a handler
//! must check `XLA_FFI_Api::struct_size` before using a function slot.

use core::ffi::{c_char, c_int, c_void};

use crate::layout::pjrt_structs;

/// `XLA_FFI_Extension_Type`.
pub type XLA_FFI_Extension_Type = i32;
/// The metadata query extension (XLA asks a handler for its API version and traits).
pub const XLA_FFI_Extension_Metadata: XLA_FFI_Extension_Type = 1;

/// FFI API major version these bindings follow.
pub const XLA_FFI_API_MAJOR: c_int = 0;
/// FFI API minor version these bindings follow.
pub const XLA_FFI_API_MINOR: c_int = 3;

/// Opaque error object.
#[repr(C)]
pub struct XLA_FFI_Error {
    _p: [u8; 0],
}
/// Opaque execution context.
#[repr(C)]
pub struct XLA_FFI_ExecutionContext {
    _p: [u8; 0],
}
/// Opaque future.
#[repr(C)]
pub struct XLA_FFI_Future {
    _p: [u8; 0],
}
/// Opaque internal API.
#[repr(C)]
pub struct XLA_FFI_InternalApi {
    _p: [u8; 0],
}

/// `XLA_FFI_Error_Code` (same values as `PJRT_Error_Code`).
pub type XLA_FFI_Error_Code = i32;
/// `XLA_FFI_DataType`.
pub type XLA_FFI_DataType = i32;
/// `XLA_FFI_ArgType`.
pub type XLA_FFI_ArgType = i32;
/// An argument that is a buffer.
pub const XLA_FFI_ArgType_BUFFER: XLA_FFI_ArgType = 1;
/// `XLA_FFI_RetType`.
pub type XLA_FFI_RetType = i32;
/// A result that is a buffer.
pub const XLA_FFI_RetType_BUFFER: XLA_FFI_RetType = 1;
/// `XLA_FFI_AttrType`.
pub type XLA_FFI_AttrType = i32;
/// An array attribute (`XLA_FFI_Array*`).
pub const XLA_FFI_AttrType_ARRAY: XLA_FFI_AttrType = 1;
/// A dictionary attribute (`XLA_FFI_Attrs*`).
pub const XLA_FFI_AttrType_DICTIONARY: XLA_FFI_AttrType = 2;
/// A scalar attribute (`XLA_FFI_Scalar*`).
pub const XLA_FFI_AttrType_SCALAR: XLA_FFI_AttrType = 3;
/// A string attribute (`XLA_FFI_ByteSpan*`).
pub const XLA_FFI_AttrType_STRING: XLA_FFI_AttrType = 4;
/// `XLA_FFI_ExecutionStage`.
pub type XLA_FFI_ExecutionStage = i32;
/// The execute stage (the only one a plain handler implements).
pub const XLA_FFI_ExecutionStage_EXECUTE: XLA_FFI_ExecutionStage = 3;
/// `XLA_FFI_Handler_Traits` bits.
pub type XLA_FFI_Handler_Traits = u32;

/// `XLA_FFI_DataType` values (they differ from `PJRT_Buffer_Type` past F64).
pub mod data_type {
    #![allow(missing_docs)]
    use super::XLA_FFI_DataType as T;
    pub const INVALID: T = 0;
    pub const PRED: T = 1;
    pub const S8: T = 2;
    pub const S16: T = 3;
    pub const S32: T = 4;
    pub const S64: T = 5;
    pub const U8: T = 6;
    pub const U16: T = 7;
    pub const U32: T = 8;
    pub const U64: T = 9;
    pub const F16: T = 10;
    pub const F32: T = 11;
    pub const F64: T = 12;
    pub const C64: T = 15;
    pub const BF16: T = 16;
    pub const TOKEN: T = 17;
    pub const C128: T = 18;
    pub const F8E5M2: T = 19;
    pub const F8E4M3FN: T = 20;
    pub const S4: T = 21;
    pub const U4: T = 22;
    pub const F8E4M3B11FNUZ: T = 23;
    pub const F8E5M2FNUZ: T = 24;
    pub const F8E4M3FNUZ: T = 25;
    pub const S2: T = 26;
    pub const U2: T = 27;
    pub const F8E4M3: T = 28;
    pub const F8E3M4: T = 29;
    pub const S1: T = 30;
    pub const U1: T = 31;
    pub const F4E2M1FN: T = 32;
    pub const F8E8M0FNU: T = 33;
}

/// A handler: called with a call frame, returns null or an error made by `XLA_FFI_Error_Create`.
pub type XLA_FFI_Handler =
    unsafe extern "C" fn(call_frame: *mut XLA_FFI_CallFrame) -> *mut XLA_FFI_Error;

pjrt_structs! {
    /// Header of an FFI extension node.
    pub struct XLA_FFI_Extension_Base / XLA_FFI_Extension_Base_STRUCT_SIZE {
        pub struct_size: usize,
        pub type_: XLA_FFI_Extension_Type,
        pub next: *mut XLA_FFI_Extension_Base,
    }

    /// An FFI API version.
    pub struct XLA_FFI_Api_Version / XLA_FFI_Api_Version_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub major_version: c_int,
        pub minor_version: c_int,
    }

    /// Arguments of `XLA_FFI_Error_Create` (`message` is a NUL-terminated string, copied).
    pub struct XLA_FFI_Error_Create_Args / XLA_FFI_Error_Create_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub message: *const c_char,
        pub errc: XLA_FFI_Error_Code,
    }

    /// Arguments of `XLA_FFI_Error_GetMessage`.
    pub struct XLA_FFI_Error_GetMessage_Args / XLA_FFI_Error_GetMessage_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub error: *mut XLA_FFI_Error,
        pub message: *const c_char,
    }

    /// Arguments of `XLA_FFI_Error_Destroy`.
    pub struct XLA_FFI_Error_Destroy_Args / XLA_FFI_Error_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub error: *mut XLA_FFI_Error,
    }

    /// A buffer argument or result.
    pub struct XLA_FFI_Buffer / XLA_FFI_Buffer_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub dtype: XLA_FFI_DataType,
        pub data: *mut c_void,
        pub rank: i64,
        pub dims: *mut i64,
    }

    /// A byte string (not NUL-terminated).
    pub struct XLA_FFI_ByteSpan / XLA_FFI_ByteSpan_STRUCT_SIZE {
        pub ptr: *const c_char,
        pub len: usize,
    }

    /// A scalar attribute.
    pub struct XLA_FFI_Scalar / XLA_FFI_Scalar_STRUCT_SIZE {
        pub dtype: XLA_FFI_DataType,
        pub value: *mut c_void,
    }

    /// An array attribute.
    pub struct XLA_FFI_Array / XLA_FFI_Array_STRUCT_SIZE {
        pub dtype: XLA_FFI_DataType,
        pub size: usize,
        pub data: *mut c_void,
    }

    /// A type id (0: not registered yet).
    pub struct XLA_FFI_TypeId / XLA_FFI_TypeId_STRUCT_SIZE {
        pub type_id: i64,
    }

    /// The arguments of a call.
    pub struct XLA_FFI_Args / XLA_FFI_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub size: i64,
        pub types: *mut XLA_FFI_ArgType,
        pub args: *mut *mut c_void,
    }

    /// The results of a call.
    pub struct XLA_FFI_Rets / XLA_FFI_Rets_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub size: i64,
        pub types: *mut XLA_FFI_RetType,
        pub rets: *mut *mut c_void,
    }

    /// The attributes of a call (sorted by name).
    pub struct XLA_FFI_Attrs / XLA_FFI_Attrs_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub size: i64,
        pub types: *mut XLA_FFI_AttrType,
        pub names: *mut *mut XLA_FFI_ByteSpan,
        pub attrs: *mut *mut c_void,
    }

    /// What a handler is called with.
    pub struct XLA_FFI_CallFrame / XLA_FFI_CallFrame_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub api: *const XLA_FFI_Api,
        pub ctx: *mut XLA_FFI_ExecutionContext,
        pub stage: XLA_FFI_ExecutionStage,
        pub args: XLA_FFI_Args,
        pub rets: XLA_FFI_Rets,
        pub attrs: XLA_FFI_Attrs,
        pub future: *mut XLA_FFI_Future,
    }

    /// Arguments of `XLA_FFI_ExecutionContext_Get` (user data by type id).
    pub struct XLA_FFI_ExecutionContext_Get_Args / XLA_FFI_ExecutionContext_Get_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub ctx: *mut XLA_FFI_ExecutionContext,
        pub type_id: *mut XLA_FFI_TypeId,
        pub data: *mut c_void,
    }

    /// Arguments of `XLA_FFI_DeviceOrdinal_Get`.
    pub struct XLA_FFI_DeviceOrdinal_Get_Args / XLA_FFI_DeviceOrdinal_Get_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub ctx: *mut XLA_FFI_ExecutionContext,
        pub device_ordinal: i32,
    }

    /// Arguments of `XLA_FFI_RunId_Get`.
    pub struct XLA_FFI_RunId_Get_Args / XLA_FFI_RunId_Get_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub ctx: *mut XLA_FFI_ExecutionContext,
        pub run_id: i64,
    }

    /// A handler's answer to the metadata query.
    pub struct XLA_FFI_Metadata / XLA_FFI_Metadata_STRUCT_SIZE {
        pub struct_size: usize,
        pub api_version: XLA_FFI_Api_Version,
        pub traits: XLA_FFI_Handler_Traits,
        pub state_type_id: XLA_FFI_TypeId,
    }

    /// The metadata query extension node in a call frame.
    pub struct XLA_FFI_Metadata_Extension / XLA_FFI_Metadata_Extension_STRUCT_SIZE {
        pub extension_base: XLA_FFI_Extension_Base,
        pub metadata: *mut XLA_FFI_Metadata,
    }

    /// The FFI function table a handler can call (only the prefix up to `struct_size`
    /// exists in an older runtime).
    pub struct XLA_FFI_Api / XLA_FFI_Api_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut XLA_FFI_Extension_Base,
        pub api_version: XLA_FFI_Api_Version,
        pub internal_api: *const XLA_FFI_InternalApi,
        pub XLA_FFI_Error_Create: Option<unsafe extern "C" fn(args: *mut XLA_FFI_Error_Create_Args) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_Error_GetMessage: Option<unsafe extern "C" fn(args: *mut XLA_FFI_Error_GetMessage_Args)>,
        pub XLA_FFI_Error_Destroy: Option<unsafe extern "C" fn(args: *mut XLA_FFI_Error_Destroy_Args)>,
        pub XLA_FFI_Handler_Register: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_Stream_Get: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_Type_Register: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_ExecutionContext_Get: Option<unsafe extern "C" fn(args: *mut XLA_FFI_ExecutionContext_Get_Args) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_State_Set: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_State_Get: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_DeviceMemory_Allocate: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_DeviceMemory_Free: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_ThreadPool_Schedule: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_ThreadPool_NumThreads: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_Future_Create: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_Future_SetAvailable: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_Future_SetError: Option<unsafe extern "C" fn(args: *mut c_void) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_RunId_Get: Option<unsafe extern "C" fn(args: *mut XLA_FFI_RunId_Get_Args) -> *mut XLA_FFI_Error>,
        pub XLA_FFI_DeviceOrdinal_Get: Option<unsafe extern "C" fn(args: *mut XLA_FFI_DeviceOrdinal_Get_Args) -> *mut XLA_FFI_Error>,
    }
}

/// Layouts of the XLA FFI structs (for tests against a C compiler).
pub fn xla_ffi_layouts() -> &'static [crate::StructLayout] {
    LAYOUTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_header_on_lp64() {
        // Numbers printed by a C compiler over the header at the 0.114 commit (x86-64).
        // Note: C's own `_STRUCT_SIZE` of XLA_FFI_CallFrame stops at `attrs` (168) and of
        // XLA_FFI_Metadata at `traits` (36); these structs are only ever read by us.
        assert_eq!(XLA_FFI_Buffer_STRUCT_SIZE, 48);
        assert_eq!(XLA_FFI_Args_STRUCT_SIZE, 40);
        assert_eq!(XLA_FFI_Attrs_STRUCT_SIZE, 48);
        assert_eq!(core::mem::offset_of!(XLA_FFI_CallFrame, args), 40);
        assert_eq!(core::mem::offset_of!(XLA_FFI_CallFrame, rets), 80);
        assert_eq!(core::mem::offset_of!(XLA_FFI_CallFrame, attrs), 120);
        assert_eq!(core::mem::offset_of!(XLA_FFI_CallFrame, future), 168);
        assert_eq!(core::mem::size_of::<XLA_FFI_CallFrame>(), 176);
        assert_eq!(core::mem::offset_of!(XLA_FFI_Api, XLA_FFI_Error_Create), 48);
        assert_eq!(
            core::mem::offset_of!(XLA_FFI_Api, XLA_FFI_DeviceOrdinal_Get),
            184
        );
        assert_eq!(core::mem::size_of::<XLA_FFI_Api>(), 192);
        assert_eq!(core::mem::offset_of!(XLA_FFI_Metadata, traits), 32);
        assert_eq!(core::mem::offset_of!(XLA_FFI_Metadata, state_type_id), 40);
        assert_eq!(core::mem::size_of::<XLA_FFI_Metadata>(), 48);
        assert_eq!(core::mem::size_of::<XLA_FFI_Metadata_Extension>(), 32);
        assert_eq!(core::mem::size_of::<XLA_FFI_Scalar>(), 16);
        assert_eq!(core::mem::offset_of!(XLA_FFI_Array, data), 16);
        assert_eq!(
            core::mem::offset_of!(XLA_FFI_ExecutionContext_Get_Args, data),
            32
        );
        assert_eq!(core::mem::offset_of!(XLA_FFI_Error_Create_Args, errc), 24);
        assert!(!xla_ffi_layouts().is_empty());
    }
}
