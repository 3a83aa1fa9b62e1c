//! Executable metadata extension
//! (`xla/pjrt/extensions/executable_metadata/executable_metadata_extension.h`, version 1):
//! an executable's serialized metadata. The args structs have neither `struct_size` nor
//! `extension_start`.

use core::ffi::c_char;

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Executable, PJRT_Extension_Base};

/// The version of the executable metadata extension these declarations follow (its `extension_version` field).
pub const PJRT_API_EXECUTABLE_METADATA_EXTENSION_VERSION: i32 = 1;

/// In C this typedef is already a pointer type.
pub type PJRT_ExecutableMetadata_GetExecutableMetadata = Option<
    unsafe extern "C" fn(
        args: *mut PJRT_ExecutableMetadata_GetExecutableMetadata_Args,
    ) -> *mut PJRT_Error,
>;
/// In C this typedef is already a pointer type. Returns nothing.
pub type PJRT_ExecutableMetadata_DestroySerializedMetadata =
    Option<unsafe extern "C" fn(args: *mut PJRT_ExecutableMetadata_DestroySerializedMetadata_Args)>;

/// Slot names of [`PJRT_ExecutableMetadata_Extension`], in order.
pub const EXECUTABLE_METADATA_FUNCTION_NAMES: &[&str] =
    &["get_executable_metadata", "destroy_serialized_metadata"];

pjrt_structs! {
    /// Serialized metadata bytes, owned by the plugin until destroyed.
    pub struct PJRT_ExecutableMetadata / PJRT_ExecutableMetadata_STRUCT_SIZE {
        pub serialized_metadata: *const c_char,
        pub serialized_metadata_size: usize,
    }

    pub struct PJRT_ExecutableMetadata_GetExecutableMetadata_Args
        / PJRT_ExecutableMetadata_GetExecutableMetadata_Args_STRUCT_SIZE {
        pub executable: *mut PJRT_Executable,
        /// Out: free with `destroy_serialized_metadata`.
        pub metadata: *mut PJRT_ExecutableMetadata,
    }

    pub struct PJRT_ExecutableMetadata_DestroySerializedMetadata_Args
        / PJRT_ExecutableMetadata_DestroySerializedMetadata_Args_STRUCT_SIZE {
        pub metadata: *mut PJRT_ExecutableMetadata,
    }

    /// The extension struct (`PJRT_Extension_Type_ExecutableMetadata`).
    pub struct PJRT_ExecutableMetadata_Extension / PJRT_ExecutableMetadata_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub get_executable_metadata: PJRT_ExecutableMetadata_GetExecutableMetadata,
        pub destroy_serialized_metadata: PJRT_ExecutableMetadata_DestroySerializedMetadata,
    }
}
