//! The TpuExecutable extension (TPU plugins): target arguments, HLO, memory stats, cost analysis and compilation environment of TPU executables.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::tpu_executable as e;

use crate::error::Result;
use crate::ext::{ext_call, extension_struct};

extension_struct!(
    /// The TpuExecutable extension of a plugin.
    TpuExecutable,
    sys::PJRT_Extension_Type_TpuExecutable
);

impl TpuExecutable {
    /// Calls `get_target_arguments` with a filled `PJRT_TpuExecutable_GetTargetArguments_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn get_target_arguments(
        &self,
        args: &mut e::PJRT_TpuExecutable_GetTargetArguments_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            get_target_arguments,
            args
        )
    }

    /// Calls `get_hlo_module_with_config` with a filled `PJRT_TpuExecutable_GetHloModuleWithConfig_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn get_hlo_module_with_config(
        &self,
        args: &mut e::PJRT_TpuExecutable_GetHloModuleWithConfig_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            get_hlo_module_with_config,
            args
        )
    }

    /// `get_core_program_abi_version`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn get_core_program_abi_version(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "e::PJRT_TpuExecutable_Extension.",
            "get_core_program_abi_version",
            " (deprecated)"
        )));
        self.h.note("get_core_program_abi_version", &r);
        r
    }

    /// Calls `get_compiled_memory_stats` with a filled `PJRT_TpuExecutable_GetCompiledMemoryStats_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn get_compiled_memory_stats(
        &self,
        args: &mut e::PJRT_TpuExecutable_GetCompiledMemoryStats_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            get_compiled_memory_stats,
            args
        )
    }

    /// Calls `run_hlo_cost_analysis` with a filled `PJRT_TpuExecutable_RunHloCostAnalysis_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn run_hlo_cost_analysis(
        &self,
        args: &mut e::PJRT_TpuExecutable_RunHloCostAnalysis_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            run_hlo_cost_analysis,
            args
        )
    }

    /// Calls `set_tpu_compilation_env` with a filled `PJRT_TpuExecutable_SetTpuCompilationEnv_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn set_tpu_compilation_env(
        &self,
        args: &mut e::PJRT_TpuExecutable_SetTpuCompilationEnv_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            set_tpu_compilation_env,
            args
        )
    }

    /// Calls `get_tpu_compilation_env_field_as_string` with a filled `PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn get_tpu_compilation_env_field_as_string(
        &self,
        args: &mut e::PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            get_tpu_compilation_env_field_as_string,
            args
        )
    }

    /// Calls `is_tpu_predetermined_error` with a filled `PJRT_TpuExecutable_IsTpuPredeterminedError_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn is_tpu_predetermined_error(
        &self,
        args: &mut e::PJRT_TpuExecutable_IsTpuPredeterminedError_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_TpuExecutable_Extension,
            is_tpu_predetermined_error,
            args
        )
    }
}
