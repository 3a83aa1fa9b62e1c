//! The ExecutableMetadata extension: a serialized metadata blob of a compiled executable.

use pjrt_sys as sys;
use sys::ext::executable_metadata as m;
use sys::ext::executable_metadata::PJRT_ExecutableMetadata_Extension;

use crate::error::Result;
use crate::plugin::{bytes_from_raw, ext_call, extension_struct};
use crate::Executable;

extension_struct!(
    /// The ExecutableMetadata extension of a plugin.
    ExecutableMetadata,
    sys::PJRT_Extension_Type_ExecutableMetadata
);

impl ExecutableMetadata {
    /// The executable's serialized metadata (plugin-defined proto bytes).
    pub fn metadata(&self, executable: &Executable) -> Result<Vec<u8>> {
        let mut md = m::PJRT_ExecutableMetadata::new();
        let mut a = m::PJRT_ExecutableMetadata_GetExecutableMetadata_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "ExecutableMetadata::metadata",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        a.metadata = &mut md;
        ext_call!(
            &self.h,
            PJRT_ExecutableMetadata_Extension,
            get_executable_metadata,
            &mut a
        )?;
        // SAFETY: bytes owned by the metadata until destroyed below.
        let v = unsafe { bytes_from_raw(md.serialized_metadata, md.serialized_metadata_size) };
        let mut d = m::PJRT_ExecutableMetadata_DestroySerializedMetadata_Args::new();
        d.metadata = &mut md;
        ext_call!(@ret &self.h, PJRT_ExecutableMetadata_Extension, destroy_serialized_metadata, &mut d)?;
        Ok(v)
    }
}
