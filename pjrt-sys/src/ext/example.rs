//! Example extension (`xla/pjrt/extensions/example/example_extension.h`, version 1): the
//! template upstream gives for writing new extensions. Its args structs have neither
//! `struct_size` nor `extension_start`.

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{PJRT_Error, PJRT_Extension_Base};

/// The version of the example extension these declarations follow (its `extension_version` field).
pub const PJRT_API_EXAMPLE_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// The plugin's C++ object behind the extension.
    PJRT_ExampleExtensionCpp,
);

/// Destroy takes the same args struct as create.
pub type PJRT_ExampleExtension_DestroyExampleExtensionCpp_Args =
    PJRT_ExampleExtension_CreateExampleExtensionCpp_Args;

/// The C API function `PJRT_CreateExampleExtensionCpp_Fn`: reads and fills in a [`PJRT_ExampleExtension_CreateExampleExtensionCpp_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_CreateExampleExtensionCpp_Fn = unsafe extern "C" fn(
    args: *mut PJRT_ExampleExtension_CreateExampleExtensionCpp_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_DestroyExampleExtensionCpp_Fn`: reads and fills in a [`PJRT_ExampleExtension_DestroyExampleExtensionCpp_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_DestroyExampleExtensionCpp_Fn = unsafe extern "C" fn(
    args: *mut PJRT_ExampleExtension_DestroyExampleExtensionCpp_Args,
) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Example_Extension`], in order.
pub const EXAMPLE_FUNCTION_NAMES: &[&str] = &["example_method", "create", "destroy"];

pjrt_structs! {
    /// The extension struct (`PJRT_Extension_Type_Example`).
    pub struct PJRT_Example_Extension / PJRT_Example_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub example_method: Option<
            unsafe extern "C" fn(args: *mut PJRT_ExampleExtension_ExampleMethod_Args) -> *mut PJRT_Error,
        >,
        pub create: Option<PJRT_CreateExampleExtensionCpp_Fn>,
        pub destroy: Option<PJRT_DestroyExampleExtensionCpp_Fn>,
    }

    pub struct PJRT_ExampleExtension_ExampleMethod_Args
        / PJRT_ExampleExtension_ExampleMethod_Args_STRUCT_SIZE {
        /// Null when the plugin has no C++ object.
        pub extension_cpp: *mut PJRT_ExampleExtensionCpp,
        pub value: i64,
    }

    pub struct PJRT_ExampleExtension_CreateExampleExtensionCpp_Args
        / PJRT_ExampleExtension_CreateExampleExtensionCpp_Args_STRUCT_SIZE {
        /// Out (create) / in (destroy).
        pub extension_cpp: *mut PJRT_ExampleExtensionCpp,
    }
}
