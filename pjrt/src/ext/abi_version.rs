//! The AbiVersion extension: runtime and executable ABI versions and their compatibility.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::abi_version as e;

use crate::error::Result;
use crate::ext::{ext_call, extension_struct};

extension_struct!(
    /// The AbiVersion extension of a plugin.
    AbiVersion,
    sys::PJRT_Extension_Type_AbiVersion
);

impl AbiVersion {
    /// Calls `client_runtime_abi_version` with a filled `PJRT_Client_RuntimeAbiVersion_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn client_runtime_abi_version(
        &self,
        args: &mut e::PJRT_Client_RuntimeAbiVersion_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            client_runtime_abi_version,
            args
        )
    }

    /// Calls `executable_get_abi_version` with a filled `PJRT_Executable_GetAbiVersion_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn executable_get_abi_version(
        &self,
        args: &mut e::PJRT_Executable_GetAbiVersion_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            executable_get_abi_version,
            args
        )
    }

    /// Calls `runtime_abi_version_destroy` with a filled `PJRT_RuntimeAbiVersion_Destroy_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn runtime_abi_version_destroy(
        &self,
        args: &mut e::PJRT_RuntimeAbiVersion_Destroy_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            runtime_abi_version_destroy,
            args
        )
    }

    /// Calls `runtime_abi_version_is_compatible_with_runtime` with a filled `PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn runtime_abi_version_is_compatible_with_runtime(
        &self,
        args: &mut e::PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            runtime_abi_version_is_compatible_with_runtime,
            args
        )
    }

    /// Calls `runtime_abi_version_is_compatible_with_executable` with a filled `PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn runtime_abi_version_is_compatible_with_executable(
        &self,
        args: &mut e::PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            runtime_abi_version_is_compatible_with_executable,
            args
        )
    }

    /// Calls `runtime_abi_version_to_proto` with a filled `PJRT_RuntimeAbiVersion_ToProto_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn runtime_abi_version_to_proto(
        &self,
        args: &mut e::PJRT_RuntimeAbiVersion_ToProto_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            runtime_abi_version_to_proto,
            args
        )
    }

    /// Calls `runtime_abi_version_platform_id` with a filled `PJRT_RuntimeAbiVersion_PlatformId_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn runtime_abi_version_platform_id(
        &self,
        args: &mut e::PJRT_RuntimeAbiVersion_PlatformId_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            runtime_abi_version_platform_id,
            args
        )
    }

    /// Calls `executable_abi_version_destroy` with a filled `PJRT_ExecutableAbiVersion_Destroy_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn executable_abi_version_destroy(
        &self,
        args: &mut e::PJRT_ExecutableAbiVersion_Destroy_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            executable_abi_version_destroy,
            args
        )
    }

    /// Calls `executable_abi_version_to_proto` with a filled `PJRT_ExecutableAbiVersion_ToProto_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn executable_abi_version_to_proto(
        &self,
        args: &mut e::PJRT_ExecutableAbiVersion_ToProto_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            executable_abi_version_to_proto,
            args
        )
    }

    /// Calls `executable_abi_version_platform_id` with a filled `PJRT_ExecutableAbiVersion_PlatformId_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn executable_abi_version_platform_id(
        &self,
        args: &mut e::PJRT_ExecutableAbiVersion_PlatformId_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            executable_abi_version_platform_id,
            args
        )
    }

    /// Calls `runtime_abi_version_from_proto` with a filled `PJRT_RuntimeAbiVersion_FromProto_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn runtime_abi_version_from_proto(
        &self,
        args: &mut e::PJRT_RuntimeAbiVersion_FromProto_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            runtime_abi_version_from_proto,
            args
        )
    }

    /// Calls `executable_abi_version_from_proto` with a filled `PJRT_ExecutableAbiVersion_FromProto_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn executable_abi_version_from_proto(
        &self,
        args: &mut e::PJRT_ExecutableAbiVersion_FromProto_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_AbiVersion_Extension,
            executable_abi_version_from_proto,
            args
        )
    }
}
