//! TPU executable extension (`pjrt_c_api_tpu_executable_extension.h`, version 1): inspect
//! serialized TPU executables (target arguments, HLO module, memory stats, cost analysis,
//! compilation environments). Args structs have no `extension_start`.

use core::ffi::{c_char, c_void};

use crate::layout::{pjrt_opaque, pjrt_structs};
use crate::{PJRT_Error, PJRT_Extension_Base, PJRT_NamedValue};

/// The version of the tpu executable extension these declarations follow (its `extension_version` field).
pub const PJRT_API_TPU_EXECUTABLE_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// Owner of serialized target arguments.
    PJRT_TpuExecutable_TargetArguments,
    /// Owner of serialized compiled-memory stats.
    PJRT_TpuExecutable_CompiledMemoryStats,
    /// Owner of serialized compilation environments.
    PJRT_TpuExecutable_CompilationEnvironments,
    /// Owner of cost-analysis results.
    PJRT_TpuExecutable_CostAnalysisResult,
    /// Owner of a serialized HLO module with its config.
    PJRT_TpuExecutable_HloModuleWithConfig,
    /// Owner of a field value string.
    PJRT_TpuExecutable_FieldValue,
);

/// The C API function `PJRT_TpuExecutable_GetTargetArguments`: reads and fills in a [`PJRT_TpuExecutable_GetTargetArguments_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_GetTargetArguments =
    unsafe extern "C" fn(args: *mut PJRT_TpuExecutable_GetTargetArguments_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuExecutable_GetHloModuleWithConfig`: reads and fills in a [`PJRT_TpuExecutable_GetHloModuleWithConfig_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_GetHloModuleWithConfig = unsafe extern "C" fn(
    args: *mut PJRT_TpuExecutable_GetHloModuleWithConfig_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuExecutable_RunHloCostAnalysis`: reads and fills in a [`PJRT_TpuExecutable_RunHloCostAnalysis_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_RunHloCostAnalysis =
    unsafe extern "C" fn(args: *mut PJRT_TpuExecutable_RunHloCostAnalysis_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuExecutable_GetCompiledMemoryStats`: reads and fills in a [`PJRT_TpuExecutable_GetCompiledMemoryStats_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_GetCompiledMemoryStats = unsafe extern "C" fn(
    args: *mut PJRT_TpuExecutable_GetCompiledMemoryStats_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuExecutable_SetTpuCompilationEnv`: reads and fills in a [`PJRT_TpuExecutable_SetTpuCompilationEnv_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_SetTpuCompilationEnv = unsafe extern "C" fn(
    args: *mut PJRT_TpuExecutable_SetTpuCompilationEnv_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString`: reads and fills in a [`PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString =
    unsafe extern "C" fn(
        args: *mut PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_TpuExecutable_IsTpuPredeterminedError`: reads and fills in a [`PJRT_TpuExecutable_IsTpuPredeterminedError_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_TpuExecutable_IsTpuPredeterminedError = unsafe extern "C" fn(
    args: *mut PJRT_TpuExecutable_IsTpuPredeterminedError_Args,
) -> *mut PJRT_Error;

/// Slot names of [`PJRT_TpuExecutable_Extension`], in order (the deprecated `void*` slot
/// `get_core_program_abi_version` included).
pub const TPU_EXECUTABLE_FUNCTION_NAMES: &[&str] = &[
    "get_target_arguments",
    "get_hlo_module_with_config",
    "get_core_program_abi_version",
    "get_compiled_memory_stats",
    "run_hlo_cost_analysis",
    "set_tpu_compilation_env",
    "get_tpu_compilation_env_field_as_string",
    "is_tpu_predetermined_error",
];

pjrt_structs! {
    pub struct PJRT_TpuExecutable_GetTargetArguments_Args
        / PJRT_TpuExecutable_GetTargetArguments_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_executable: *const c_char,
        pub serialized_executable_size: usize,
        /// Out: owned by `target_arguments_ptr`.
        pub target_arguments: *const c_char,
        /// Out.
        pub target_arguments_size: usize,
        /// Out.
        pub target_arguments_ptr: *mut PJRT_TpuExecutable_TargetArguments,
        /// Out: frees `target_arguments_ptr`.
        pub target_arguments_deleter:
            Option<unsafe extern "C" fn(args: *mut PJRT_TpuExecutable_TargetArguments)>,
    }

    pub struct PJRT_TpuExecutable_GetHloModuleWithConfig_Args
        / PJRT_TpuExecutable_GetHloModuleWithConfig_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_executable: *const c_char,
        pub serialized_executable_size: usize,
        /// Out: owned by `hlo_module_with_config_ptr`.
        pub hlo_module_with_config: *const c_char,
        /// Out.
        pub hlo_module_with_config_size: usize,
        /// Out.
        pub hlo_module_with_config_ptr: *mut PJRT_TpuExecutable_HloModuleWithConfig,
        /// Out: frees `hlo_module_with_config_ptr`.
        pub hlo_module_with_config_deleter:
            Option<unsafe extern "C" fn(module: *mut PJRT_TpuExecutable_HloModuleWithConfig)>,
    }

    pub struct PJRT_TpuExecutable_RunHloCostAnalysis_Args
        / PJRT_TpuExecutable_RunHloCostAnalysis_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub target_arguments: *const c_char,
        pub target_arguments_size: usize,
        pub hlo_module: *mut *const c_char,
        pub hlo_module_size: *mut usize,
        pub num_hlo_modules: usize,
        /// Out: owned by `analysis_results_ptr`.
        pub analysis_results: *const PJRT_NamedValue,
        /// Out.
        pub num_analysis_results: usize,
        /// Out.
        pub analysis_results_ptr: *mut PJRT_TpuExecutable_CostAnalysisResult,
        /// Out: frees `analysis_results_ptr`.
        pub analysis_results_deleter:
            Option<unsafe extern "C" fn(results: *mut PJRT_TpuExecutable_CostAnalysisResult)>,
    }

    pub struct PJRT_TpuExecutable_GetCompiledMemoryStats_Args
        / PJRT_TpuExecutable_GetCompiledMemoryStats_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_executable: *const c_char,
        pub serialized_executable_size: usize,
        /// Out: owned by `compiled_memory_stats_ptr`.
        pub compiled_memory_stats: *const c_char,
        /// Out.
        pub compiled_memory_stats_size: usize,
        /// Out.
        pub compiled_memory_stats_ptr: *mut PJRT_TpuExecutable_CompiledMemoryStats,
        /// Out: frees `compiled_memory_stats_ptr`.
        pub compiled_memory_stats_deleter:
            Option<unsafe extern "C" fn(stats: *mut PJRT_TpuExecutable_CompiledMemoryStats)>,
    }

    pub struct PJRT_TpuExecutable_SetTpuCompilationEnv_Args
        / PJRT_TpuExecutable_SetTpuCompilationEnv_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_compilation_environments: *const c_char,
        pub serialized_compilation_environments_size: usize,
        /// Out: owned by `result_compilation_environments_ptr`.
        pub result_compilation_environments: *const c_char,
        /// Out.
        pub result_compilation_environments_size: usize,
        /// Out.
        pub result_compilation_environments_ptr: *mut PJRT_TpuExecutable_CompilationEnvironments,
        /// Out: frees `result_compilation_environments_ptr`.
        pub result_compilation_environments_deleter:
            Option<unsafe extern "C" fn(envs: *mut PJRT_TpuExecutable_CompilationEnvironments)>,
    }

    pub struct PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args
        / PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_compilation_environments: *const c_char,
        pub serialized_compilation_environments_size: usize,
        pub field_name: *const c_char,
        pub field_name_size: usize,
        /// Out: owned by `field_value_ptr`.
        pub field_value: *const c_char,
        /// Out.
        pub field_value_size: usize,
        /// Out.
        pub field_value_ptr: *mut PJRT_TpuExecutable_FieldValue,
        /// Out: frees `field_value_ptr`.
        pub field_value_deleter:
            Option<unsafe extern "C" fn(value: *mut PJRT_TpuExecutable_FieldValue)>,
    }

    pub struct PJRT_TpuExecutable_IsTpuPredeterminedError_Args
        / PJRT_TpuExecutable_IsTpuPredeterminedError_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub serialized_status: *const c_char,
        pub serialized_status_size: usize,
        /// Out.
        pub is_predetermined: bool,
    }

    /// The extension struct (`PJRT_Extension_Type_TpuExecutable`).
    pub struct PJRT_TpuExecutable_Extension / PJRT_TpuExecutable_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub get_target_arguments: Option<PJRT_TpuExecutable_GetTargetArguments>,
        pub get_hlo_module_with_config: Option<PJRT_TpuExecutable_GetHloModuleWithConfig>,
        /// Deprecated.
        pub get_core_program_abi_version: *mut c_void,
        pub get_compiled_memory_stats: Option<PJRT_TpuExecutable_GetCompiledMemoryStats>,
        pub run_hlo_cost_analysis: Option<PJRT_TpuExecutable_RunHloCostAnalysis>,
        pub set_tpu_compilation_env: Option<PJRT_TpuExecutable_SetTpuCompilationEnv>,
        pub get_tpu_compilation_env_field_as_string:
            Option<PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString>,
        pub is_tpu_predetermined_error: Option<PJRT_TpuExecutable_IsTpuPredeterminedError>,
    }
}
