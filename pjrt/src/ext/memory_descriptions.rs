//! The MemoryDescriptions extension: the memory kinds a device description offers.

use pjrt_sys as sys;
use sys::ext::memory_descriptions as m;
use sys::ext::memory_descriptions::PJRT_MemoryDescriptions_Extension;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};
use crate::plugin::{str_from_raw, vec_from_raw};
use crate::DeviceDescription;

extension_struct!(
    /// The MemoryDescriptions extension of a plugin.
    MemoryDescriptions,
    sys::PJRT_Extension_Type_MemoryDescriptions
);

/// One memory a device offers: its kind name and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryDescription {
    /// Kind name (e.g. `device`, `pinned_host`).
    pub kind: String,
    /// Kind id.
    pub kind_id: i32,
}

impl MemoryDescriptions {
    /// The memories of a device and the index of its default one (`None` when it has none).
    pub fn memory_descriptions(
        &self,
        description: &DeviceDescription,
    ) -> Result<(Vec<MemoryDescription>, Option<usize>)> {
        let mut a = m::PJRT_DeviceDescription_MemoryDescriptions_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "MemoryDescriptions::memory_descriptions",
            "`description`",
            description,
        )?;
        a.device_description = description.raw;
        ext_call!(
            &self.h,
            PJRT_MemoryDescriptions_Extension,
            PJRT_DeviceDescription_MemoryDescriptions,
            &mut a
        )?;
        // SAFETY: `num` description pointers owned by the device description.
        let ds = unsafe { vec_from_raw(a.memory_descriptions, a.num_memory_descriptions) };
        let mut out = Vec::with_capacity(ds.len());
        for d in ds {
            out.push(self.kind(d)?);
        }
        let default = (a.default_memory_index < out.len()).then_some(a.default_memory_index);
        Ok((out, default))
    }

    fn kind(&self, d: *const m::PJRT_MemoryDescription) -> Result<MemoryDescription> {
        let mut a = m::PJRT_MemoryDescription_Kind_Args::new();
        a.memory_description = d;
        ext_call!(
            &self.h,
            PJRT_MemoryDescriptions_Extension,
            PJRT_MemoryDescription_Kind,
            &mut a
        )?;
        Ok(MemoryDescription {
            // SAFETY: a string owned by the description.
            kind: unsafe { str_from_raw(a.kind, a.kind_size) },
            kind_id: a.kind_id,
        })
    }
}
