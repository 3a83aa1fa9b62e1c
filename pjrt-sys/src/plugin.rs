//! Named values (typed key/value options and attributes) and plugin-level calls.

use core::ffi::c_char;

use crate::error::PJRT_Error;
use crate::extension::PJRT_Extension_Base;
use crate::layout::{pjrt_enum, pjrt_structs, pjrt_unions};

pjrt_enum! {
    /// Which member of [`PJRT_NamedValue_Union`] a [`PJRT_NamedValue`] holds.
    PJRT_NamedValue_Type {
        PJRT_NamedValue_kString = 0,
        PJRT_NamedValue_kInt64 = 1,
        PJRT_NamedValue_kInt64List = 2,
        PJRT_NamedValue_kFloat = 3,
        PJRT_NamedValue_kBool = 4,
    }
}

pjrt_unions! {
    /// The value of a [`PJRT_NamedValue`] (an anonymous union in C, here the field `value`).
    pub union PJRT_NamedValue_Union {
        pub string_value: *const c_char,
        pub int64_value: i64,
        pub int64_array_value: *const i64,
        pub float_value: f32,
        pub bool_value: bool,
    }
}

pjrt_structs! {
    /// A typed key/value pair. `value_size` is the string length or list length, 1 for
    /// scalars.
    pub struct PJRT_NamedValue / PJRT_NamedValue_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub name: *const c_char,
        pub name_size: usize,
        pub type_: PJRT_NamedValue_Type,
        pub value: PJRT_NamedValue_Union,
        pub value_size: usize,
    }

    pub struct PJRT_Plugin_Initialize_Args / PJRT_Plugin_Initialize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
    }

    /// Output: `attributes[0..num_attributes]`, owned by the plugin.
    pub struct PJRT_Plugin_Attributes_Args / PJRT_Plugin_Attributes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub attributes: *const PJRT_NamedValue,
        pub num_attributes: usize,
    }
}

/// The C API function `PJRT_Plugin_Initialize`: reads and fills in a [`PJRT_Plugin_Initialize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Plugin_Initialize =
    unsafe extern "C" fn(args: *mut PJRT_Plugin_Initialize_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Plugin_Attributes`: reads and fills in a [`PJRT_Plugin_Attributes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Plugin_Attributes =
    unsafe extern "C" fn(args: *mut PJRT_Plugin_Attributes_Args) -> *mut PJRT_Error;
