//! Triton extension (`pjrt_c_api_triton_extension.h`, version 2): compile a Triton kernel
//! with the plugin's compiler.

use core::ffi::{c_char, c_int};

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Extension_Base};

/// The version of the triton extension these declarations follow (its `extension_version` field).
pub const PJRT_API_TRITON_EXTENSION_VERSION: i32 = 2;

/// The C API function `PJRT_Triton_Compile`: reads and fills in a [`PJRT_Triton_Compile_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Triton_Compile =
    unsafe extern "C" fn(args: *mut PJRT_Triton_Compile_Args) -> *mut PJRT_Error;

/// The header's second name for the extension struct.
pub type PJRT_Triton = PJRT_Triton_Extension;

/// Slot names of [`PJRT_Triton_Extension`], in order.
pub const TRITON_FUNCTION_NAMES: &[&str] = &["compile"];

pjrt_structs! {
    /// Note: no `extension_start`.
    pub struct PJRT_Triton_Compile_Args / PJRT_Triton_Compile_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub module: *const c_char,
        pub module_size: usize,
        pub arch_name: *const c_char,
        pub arch_name_size: usize,
        pub num_warps: c_int,
        pub num_ctas: c_int,
        pub num_stages: c_int,
        /// Out: owned by the caller.
        pub out_asm: *const c_char,
        pub out_asm_size: usize,
        pub out_smem_bytes: i64,
        /// Out: owned by the caller.
        pub out_path: *const c_char,
        pub out_path_size: usize,
    }

    /// The extension struct (`PJRT_Extension_Type_Triton`).
    pub struct PJRT_Triton_Extension / PJRT_Triton_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub compile: Option<PJRT_Triton_Compile>,
    }
}
