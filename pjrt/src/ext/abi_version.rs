//! The AbiVersion extension: ABI versions of the runtime (client) and of compiled
//! executables, their compatibility, and their proto form.

use pjrt_sys as sys;
use sys::ext::abi_version as a;
use sys::ext::abi_version::PJRT_AbiVersion_Extension;

use crate::error::Result;
use crate::plugin::{bytes_from_raw, call_deleter, ext_call, extension_struct};
use crate::{Client, Executable};

extension_struct!(
    /// The AbiVersion extension of a plugin.
    AbiVersion,
    sys::PJRT_Extension_Type_AbiVersion
);

/// A runtime ABI version; destroyed on drop.
pub struct RuntimeAbiVersion {
    ext: AbiVersion,
    raw: *mut a::PJRT_RuntimeAbiVersion,
}

/// An executable ABI version; destroyed on drop.
pub struct ExecutableAbiVersion {
    ext: AbiVersion,
    raw: *mut a::PJRT_ExecutableAbiVersion,
}

// SAFETY: immutable plugin objects, destroyed once.
unsafe impl Send for RuntimeAbiVersion {}
// SAFETY: as above.
unsafe impl Send for ExecutableAbiVersion {}

impl AbiVersion {
    /// The ABI version of a client's runtime.
    pub fn runtime_abi_version(&self, client: &Client) -> Result<RuntimeAbiVersion> {
        let mut x = a::PJRT_Client_RuntimeAbiVersion_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "AbiVersion::runtime_abi_version",
            "`client`",
            client,
        )?;
        x.client = client.raw();
        ext_call!(
            &self.h,
            PJRT_AbiVersion_Extension,
            client_runtime_abi_version,
            &mut x
        )?;
        Ok(RuntimeAbiVersion {
            ext: self.clone(),
            raw: x.abi_version,
        })
    }

    /// The ABI version an executable needs.
    pub fn executable_abi_version(&self, executable: &Executable) -> Result<ExecutableAbiVersion> {
        let mut x = a::PJRT_Executable_GetAbiVersion_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "AbiVersion::executable_abi_version",
            "`executable`",
            executable,
        )?;
        x.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_AbiVersion_Extension,
            executable_get_abi_version,
            &mut x
        )?;
        Ok(ExecutableAbiVersion {
            ext: self.clone(),
            raw: x.abi_version,
        })
    }

    /// A runtime ABI version from its serialized proto.
    pub fn runtime_abi_version_from_proto(&self, proto: &[u8]) -> Result<RuntimeAbiVersion> {
        let mut x = a::PJRT_RuntimeAbiVersion_FromProto_Args::new();
        x.serialized_proto = proto.as_ptr().cast();
        x.serialized_proto_size = proto.len();
        ext_call!(
            &self.h,
            PJRT_AbiVersion_Extension,
            runtime_abi_version_from_proto,
            &mut x
        )?;
        Ok(RuntimeAbiVersion {
            ext: self.clone(),
            raw: x.abi_version,
        })
    }

    /// An executable ABI version from its serialized proto.
    pub fn executable_abi_version_from_proto(&self, proto: &[u8]) -> Result<ExecutableAbiVersion> {
        let mut x = a::PJRT_ExecutableAbiVersion_FromProto_Args::new();
        x.serialized_proto = proto.as_ptr().cast();
        x.serialized_proto_size = proto.len();
        ext_call!(
            &self.h,
            PJRT_AbiVersion_Extension,
            executable_abi_version_from_proto,
            &mut x
        )?;
        Ok(ExecutableAbiVersion {
            ext: self.clone(),
            raw: x.abi_version,
        })
    }
}

impl RuntimeAbiVersion {
    /// `Ok` when a runtime of `other`'s version can work with this one (an error says why not).
    pub fn check_compatible_with_runtime(&self, other: &RuntimeAbiVersion) -> Result<()> {
        let mut x = a::PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args::new();
        x.abi_version = self.raw;
        crate::plugin::check_owner(
            &self.ext.h,
            "RuntimeAbiVersion::check_compatible_with_runtime",
            "`other`",
            other,
        )?;
        x.other_abi_version = other.raw;
        ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            runtime_abi_version_is_compatible_with_runtime,
            &mut x
        )
    }

    /// `Ok` when this runtime can run an executable of that ABI version.
    pub fn check_compatible_with_executable(
        &self,
        executable: &ExecutableAbiVersion,
    ) -> Result<()> {
        let mut x = a::PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args::new();
        x.abi_version = self.raw;
        crate::plugin::check_owner(
            &self.ext.h,
            "RuntimeAbiVersion::check_compatible_with_executable",
            "`executable`",
            executable,
        )?;
        x.executable_abi_version = executable.raw;
        ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            runtime_abi_version_is_compatible_with_executable,
            &mut x
        )
    }

    /// The serialized proto.
    pub fn to_proto(&self) -> Result<Vec<u8>> {
        let mut x = a::PJRT_RuntimeAbiVersion_ToProto_Args::new();
        x.abi_version = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            runtime_abi_version_to_proto,
            &mut x
        )?;
        // SAFETY: bytes owned by the holder until its deleter runs.
        let v = unsafe { bytes_from_raw(x.serialized_proto, x.serialized_proto_size) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(x.serialized_proto_deleter, x.serialized_proto_holder) };
        Ok(v)
    }

    /// The platform id.
    pub fn platform_id(&self) -> Result<u64> {
        let mut x = a::PJRT_RuntimeAbiVersion_PlatformId_Args::new();
        x.abi_version = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            runtime_abi_version_platform_id,
            &mut x
        )?;
        Ok(x.platform_id)
    }
}

impl Drop for RuntimeAbiVersion {
    fn drop(&mut self) {
        let mut x = a::PJRT_RuntimeAbiVersion_Destroy_Args::new();
        x.abi_version = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            runtime_abi_version_destroy,
            &mut x
        );
    }
}

impl ExecutableAbiVersion {
    /// The serialized proto.
    pub fn to_proto(&self) -> Result<Vec<u8>> {
        let mut x = a::PJRT_ExecutableAbiVersion_ToProto_Args::new();
        x.abi_version = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            executable_abi_version_to_proto,
            &mut x
        )?;
        // SAFETY: bytes owned by the holder until its deleter runs.
        let v = unsafe { bytes_from_raw(x.serialized_proto, x.serialized_proto_size) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(x.serialized_proto_deleter, x.serialized_proto_holder) };
        Ok(v)
    }

    /// The platform id.
    pub fn platform_id(&self) -> Result<u64> {
        let mut x = a::PJRT_ExecutableAbiVersion_PlatformId_Args::new();
        x.abi_version = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            executable_abi_version_platform_id,
            &mut x
        )?;
        Ok(x.platform_id)
    }
}

impl Drop for ExecutableAbiVersion {
    fn drop(&mut self) {
        let mut x = a::PJRT_ExecutableAbiVersion_Destroy_Args::new();
        x.abi_version = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_AbiVersion_Extension,
            executable_abi_version_destroy,
            &mut x
        );
    }
}

impl crate::plugin::PluginOwned for RuntimeAbiVersion {
    fn owner_plugin(&self) -> &crate::Plugin {
        self.ext.h.plugin()
    }
}

impl crate::plugin::PluginOwned for ExecutableAbiVersion {
    fn owner_plugin(&self) -> &crate::Plugin {
        self.ext.h.plugin()
    }
}
