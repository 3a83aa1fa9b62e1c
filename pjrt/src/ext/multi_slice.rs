//! The MultiSlice extension: query and serialize a multi-slice configuration (as made by
//! the Megascale extension).

use pjrt_sys as sys;
use sys::ext::multi_slice as m;
use sys::ext::multi_slice::PJRT_MultiSlice_Extension;

use crate::error::Result;
use crate::plugin::{bytes_from_raw, call_deleter, ext_call, extension_struct};

extension_struct!(
    /// The MultiSlice extension of a plugin.
    MultiSlice,
    sys::PJRT_Extension_Type_MultiSlice
);

/// A multi-slice configuration owned by Rust; destroyed on drop.
pub struct MultiSliceConfig {
    ext: MultiSlice,
    raw: *mut sys::PJRT_MultiSlice_Config,
}

// SAFETY: a plugin object without thread affinity, destroyed once.
unsafe impl Send for MultiSliceConfig {}

impl MultiSlice {
    /// Takes ownership of a configuration made by the plugin.
    ///
    /// # Safety
    /// `raw` must be a live configuration of this plugin that nobody else destroys.
    pub unsafe fn from_raw(&self, raw: *mut sys::PJRT_MultiSlice_Config) -> MultiSliceConfig {
        MultiSliceConfig {
            ext: self.clone(),
            raw,
        }
    }
}

impl Drop for MultiSliceConfig {
    fn drop(&mut self) {
        let mut a = m::PJRT_MultiSlice_Config_Destroy_Args::new();
        a.config = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_MultiSlice_Extension,
            config_destroy,
            &mut a
        );
    }
}

impl MultiSliceConfig {
    /// Number of slices.
    pub fn num_slices(&self) -> Result<i32> {
        let mut a = m::PJRT_MultiSlice_Config_NumSlices_Args::new();
        a.config = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_MultiSlice_Extension,
            config_num_slices,
            &mut a
        )?;
        Ok(a.num_slices)
    }

    /// This process's slice id.
    pub fn slice_id(&self) -> Result<i32> {
        let mut a = m::PJRT_MultiSlice_Config_SliceId_Args::new();
        a.config = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_MultiSlice_Extension,
            config_slice_id,
            &mut a
        )?;
        Ok(a.slice_id)
    }

    /// (slice id, number of devices) for every slice.
    pub fn num_devices_per_slice(&self) -> Result<Vec<(i32, i32)>> {
        let mut a = m::PJRT_MultiSlice_Config_NumDevicesPerSlice_Args::new();
        a.config = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_MultiSlice_Extension,
            config_num_devices_per_slice,
            &mut a
        )?;
        let n = a.num_devices_per_slice_map;
        // SAFETY: `n` entries owned by the map until its deleter runs.
        let (ids, counts) = unsafe {
            (
                crate::plugin::vec_from_raw(a.slice_ids, n),
                crate::plugin::vec_from_raw(a.num_devices, n),
            )
        };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.devices_per_slice_map_deleter, a.devices_per_slice_map) };
        Ok(ids.into_iter().zip(counts).collect())
    }

    /// The serialized configuration.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let mut a = m::PJRT_MultiSlice_Config_Serialize_Args::new();
        a.config = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_MultiSlice_Extension,
            config_serialize,
            &mut a
        )?;
        // SAFETY: bytes owned until the deleter runs.
        let v = unsafe { bytes_from_raw(a.serialized, a.size) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.serialized_config_deleter, a.serialized_config) };
        Ok(v)
    }
}
