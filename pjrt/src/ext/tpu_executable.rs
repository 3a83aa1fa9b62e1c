//! The TpuExecutable extension (TPU plugins): inspect serialized TPU executables (target
//! arguments, HLO module with config, compiled memory stats, cost analysis) and TPU
//! compilation environments.

use pjrt_sys as sys;
use sys::ext::tpu_executable as t;
use sys::ext::tpu_executable::PJRT_TpuExecutable_Extension;

use crate::error::Result;
use crate::plugin::{bytes_from_raw, call_deleter, ext_call, extension_struct};
use crate::plugin::{read_named_values, NamedValue};

extension_struct!(
    /// The TpuExecutable extension of a plugin.
    TpuExecutable,
    sys::PJRT_Extension_Type_TpuExecutable
);

/// Declares `fn name(&self, input: &[u8]) -> Result<Vec<u8>>` for slots that take one
/// serialized blob and return another (with a holder and its deleter).
macro_rules! blob_to_blob {
    ($($(#[$m:meta])* $name:ident, $Args:ident, $slot:ident, $in:ident / $in_size:ident => $out:ident / $out_size:ident, $holder:ident, $deleter:ident;)*) => {
        $(
            $(#[$m])*
            pub fn $name(&self, input: &[u8]) -> Result<Vec<u8>> {
                let mut a = t::$Args::new();
                a.$in = input.as_ptr().cast();
                a.$in_size = input.len();
                ext_call!(&self.h, PJRT_TpuExecutable_Extension, $slot, &mut a)?;
                // SAFETY: bytes owned by the holder until its deleter runs.
                let v = unsafe { bytes_from_raw(a.$out, a.$out_size) };
                // SAFETY: the plugin's deleter, once.
                unsafe { call_deleter(a.$deleter, a.$holder) };
                Ok(v)
            }
        )*
    };
}

impl TpuExecutable {
    blob_to_blob! {
        /// The target arguments of a serialized executable.
        target_arguments, PJRT_TpuExecutable_GetTargetArguments_Args, get_target_arguments, serialized_executable / serialized_executable_size => target_arguments / target_arguments_size, target_arguments_ptr, target_arguments_deleter;
        /// The `xla.HloModuleProtoWithConfig` of a serialized executable.
        hlo_module_with_config, PJRT_TpuExecutable_GetHloModuleWithConfig_Args, get_hlo_module_with_config, serialized_executable / serialized_executable_size => hlo_module_with_config / hlo_module_with_config_size, hlo_module_with_config_ptr, hlo_module_with_config_deleter;
        /// The compiled memory stats (serialized) of a serialized executable.
        compiled_memory_stats, PJRT_TpuExecutable_GetCompiledMemoryStats_Args, get_compiled_memory_stats, serialized_executable / serialized_executable_size => compiled_memory_stats / compiled_memory_stats_size, compiled_memory_stats_ptr, compiled_memory_stats_deleter;
        /// Serialized compilation environments with the TPU environment filled in.
        set_tpu_compilation_env, PJRT_TpuExecutable_SetTpuCompilationEnv_Args, set_tpu_compilation_env, serialized_compilation_environments / serialized_compilation_environments_size => result_compilation_environments / result_compilation_environments_size, result_compilation_environments_ptr, result_compilation_environments_deleter;
    }

    /// `get_core_program_abi_version`: deprecated in the 0.114 header (no callable
    /// signature); always [`crate::Error::Unimplemented`].
    pub fn get_core_program_abi_version(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(
            "PJRT_TpuExecutable_Extension.get_core_program_abi_version (deprecated)",
        ));
        self.h.note("get_core_program_abi_version", &r);
        r
    }

    /// One field of serialized compilation environments, as text.
    pub fn tpu_compilation_env_field(&self, environments: &[u8], field: &str) -> Result<String> {
        let mut a = t::PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args::new();
        a.serialized_compilation_environments = environments.as_ptr().cast();
        a.serialized_compilation_environments_size = environments.len();
        a.field_name = field.as_ptr().cast();
        a.field_name_size = field.len();
        ext_call!(
            &self.h,
            PJRT_TpuExecutable_Extension,
            get_tpu_compilation_env_field_as_string,
            &mut a
        )?;
        // SAFETY: bytes owned by the holder until its deleter runs.
        let v = unsafe { bytes_from_raw(a.field_value, a.field_value_size) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.field_value_deleter, a.field_value_ptr) };
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    /// Whether a serialized status is a TPU "predetermined" error.
    pub fn is_tpu_predetermined_error(&self, serialized_status: &[u8]) -> Result<bool> {
        let mut a = t::PJRT_TpuExecutable_IsTpuPredeterminedError_Args::new();
        a.serialized_status = serialized_status.as_ptr().cast();
        a.serialized_status_size = serialized_status.len();
        ext_call!(
            &self.h,
            PJRT_TpuExecutable_Extension,
            is_tpu_predetermined_error,
            &mut a
        )?;
        Ok(a.is_predetermined)
    }

    /// Cost analysis of HLO modules for given target arguments.
    pub fn run_hlo_cost_analysis(
        &self,
        target_arguments: &[u8],
        hlo_modules: &[Vec<u8>],
    ) -> Result<Vec<NamedValue>> {
        let mut ptrs: Vec<*const std::ffi::c_char> =
            hlo_modules.iter().map(|m| m.as_ptr().cast()).collect();
        let mut sizes: Vec<usize> = hlo_modules.iter().map(|m| m.len()).collect();
        let mut a = t::PJRT_TpuExecutable_RunHloCostAnalysis_Args::new();
        a.target_arguments = target_arguments.as_ptr().cast();
        a.target_arguments_size = target_arguments.len();
        a.hlo_module = ptrs.as_mut_ptr();
        a.hlo_module_size = sizes.as_mut_ptr();
        a.num_hlo_modules = hlo_modules.len();
        ext_call!(
            &self.h,
            PJRT_TpuExecutable_Extension,
            run_hlo_cost_analysis,
            &mut a
        )?;
        // SAFETY: values owned by the result holder until its deleter runs.
        let v = unsafe { read_named_values(a.analysis_results, a.num_analysis_results) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.analysis_results_deleter, a.analysis_results_ptr) };
        Ok(v)
    }
}
