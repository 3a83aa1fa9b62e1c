//! Phase compile extension (`pjrt_c_api_phase_compile_extension.h`, version 1, experimental):
//! run named compiler phases one at a time on serialized programs.
//! On the CPU plugins the first two slots are null.

use core::ffi::c_char;

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Extension_Base, PJRT_PhaseCompiler, PJRT_TopologyDescription};

/// The version of the phase compile extension these declarations follow (its `extension_version` field).
pub const PJRT_API_PHASE_COMPILE_EXTENSION_VERSION: i32 = 1;

/// The C API function `PJRT_PhaseCompile_Get_Compiler`: reads and fills in a [`PJRT_PhaseCompile_Get_Compiler_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_PhaseCompile_Get_Compiler =
    unsafe extern "C" fn(args: *mut PJRT_PhaseCompile_Get_Compiler_Args) -> *mut PJRT_Error;

/// Returns nothing.
pub type PJRT_PhaseCompile_Destroy_Compiler =
    unsafe extern "C" fn(args: *mut PJRT_PhaseCompile_Destroy_Compiler_Args);

/// The C API function `PJRT_PhaseCompile_Run_Phase`: reads and fills in a [`PJRT_PhaseCompile_Run_Phase_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_PhaseCompile_Run_Phase =
    unsafe extern "C" fn(args: *mut PJRT_PhaseCompile_Run_Phase_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_PhaseCompile_Get_PhaseNames`: reads and fills in a [`PJRT_PhaseCompile_Get_PhaseNames_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_PhaseCompile_Get_PhaseNames =
    unsafe extern "C" fn(args: *mut PJRT_PhaseCompile_Get_PhaseNames_Args) -> *mut PJRT_Error;

/// Returns nothing.
pub type PJRT_PhaseCompile_C_Buffers_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_PhaseCompile_C_Buffers_Destroy_Args);

/// Slot names of [`PJRT_PhaseCompile_Extension`], in order.
pub const PHASE_COMPILE_FUNCTION_NAMES: &[&str] = &[
    "phase_compile_get_compiler",
    "phase_compile_destroy_compiler",
    "phase_compile_run_phases",
    "phase_compile_get_phase_names",
    "phase_compile_c_buffers_destroy",
];

pjrt_structs! {
    pub struct PJRT_PhaseCompile_Get_Compiler_Args / PJRT_PhaseCompile_Get_Compiler_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        /// Out.
        pub phase_compiler: *const PJRT_PhaseCompiler,
    }

    pub struct PJRT_PhaseCompile_Destroy_Compiler_Args / PJRT_PhaseCompile_Destroy_Compiler_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub phase_compiler: *const PJRT_PhaseCompiler,
    }

    pub struct PJRT_PhaseCompile_Run_Phase_Args / PJRT_PhaseCompile_Run_Phase_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub phase_compiler: *const PJRT_PhaseCompiler,
        /// Serialized input programs.
        pub input_programs: *mut *const c_char,
        pub input_programs_sizes: *const usize,
        pub num_input_programs: usize,
        /// Names of the phases to run, in order.
        pub phases_to_run: *mut *const c_char,
        pub phases_to_run_sizes: *const usize,
        pub num_phases_to_run: usize,
        /// Serialized `CompileOptionsProto`.
        pub compile_options: *const c_char,
        pub compile_options_size: usize,
        pub topology: *mut PJRT_TopologyDescription,
        /// Out: serialized output programs; free with `PJRT_PhaseCompile_C_Buffers_Destroy`.
        pub output_programs: *mut *const c_char,
        /// Out.
        pub output_programs_sizes: *const usize,
        /// Out.
        pub num_output_programs: usize,
    }

    pub struct PJRT_PhaseCompile_Get_PhaseNames_Args / PJRT_PhaseCompile_Get_PhaseNames_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub phase_compiler: *const PJRT_PhaseCompiler,
        /// Out: free with `PJRT_PhaseCompile_C_Buffers_Destroy`.
        pub phase_names: *mut *const c_char,
        /// Out.
        pub phase_names_sizes: *const usize,
        /// Out.
        pub num_phase_names: usize,
    }

    pub struct PJRT_PhaseCompile_C_Buffers_Destroy_Args / PJRT_PhaseCompile_C_Buffers_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub char_buffers: *mut *const c_char,
        pub char_buffer_sizes: *const usize,
        pub num_char_buffers: usize,
    }

    /// The extension struct (`PJRT_Extension_Type_PhaseCompile`).
    pub struct PJRT_PhaseCompile_Extension / PJRT_PhaseCompile_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub phase_compile_get_compiler: Option<PJRT_PhaseCompile_Get_Compiler>,
        pub phase_compile_destroy_compiler: Option<PJRT_PhaseCompile_Destroy_Compiler>,
        pub phase_compile_run_phases: Option<PJRT_PhaseCompile_Run_Phase>,
        pub phase_compile_get_phase_names: Option<PJRT_PhaseCompile_Get_PhaseNames>,
        pub phase_compile_c_buffers_destroy: Option<PJRT_PhaseCompile_C_Buffers_Destroy>,
    }
}
