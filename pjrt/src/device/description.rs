//! Device descriptions: what is known about a device without using it.

use pjrt_sys as sys;

use crate::client::Client;
use crate::error::Result;
use crate::plugin::{call, read_named_values, str_from_raw, NamedValue};

/// A description of a device: what is known about it without using it.
#[derive(Clone)]
pub struct DeviceDescription {
    pub(crate) raw: *mut sys::PJRT_DeviceDescription,
    pub(crate) client: Client,
}

// SAFETY: descriptions are immutable data owned by the client's devices.
unsafe impl Send for DeviceDescription {}
// SAFETY: as above.
unsafe impl Sync for DeviceDescription {}

impl DeviceDescription {
    /// The global device id.
    pub fn id(&self) -> Result<i32> {
        let mut a = sys::PJRT_DeviceDescription_Id_Args::new();
        a.device_description = self.raw;
        call!(self.client.api(), PJRT_DeviceDescription_Id, &mut a)?;
        Ok(a.id)
    }

    /// The index of the process that owns the device.
    pub fn process_index(&self) -> Result<i32> {
        let mut a = sys::PJRT_DeviceDescription_ProcessIndex_Args::new();
        a.device_description = self.raw;
        call!(
            self.client.api(),
            PJRT_DeviceDescription_ProcessIndex,
            &mut a
        )?;
        Ok(a.process_index)
    }

    /// The device kind.
    pub fn kind(&self) -> Result<String> {
        let mut a = sys::PJRT_DeviceDescription_Kind_Args::new();
        a.device_description = self.raw;
        call!(self.client.api(), PJRT_DeviceDescription_Kind, &mut a)?;
        // SAFETY: a string owned by the description.
        Ok(unsafe { str_from_raw(a.device_kind, a.device_kind_size) })
    }

    /// The device's attributes.
    pub fn attributes(&self) -> Result<Vec<NamedValue>> {
        let mut a = sys::PJRT_DeviceDescription_Attributes_Args::new();
        a.device_description = self.raw;
        call!(self.client.api(), PJRT_DeviceDescription_Attributes, &mut a)?;
        // SAFETY: values owned by the description.
        Ok(unsafe { read_named_values(a.attributes, a.num_attributes) })
    }

    /// A detailed debug string.
    pub fn debug_string(&self) -> Result<String> {
        let mut a = sys::PJRT_DeviceDescription_DebugString_Args::new();
        a.device_description = self.raw;
        call!(
            self.client.api(),
            PJRT_DeviceDescription_DebugString,
            &mut a
        )?;
        // SAFETY: a string owned by the description.
        Ok(unsafe { str_from_raw(a.debug_string, a.debug_string_size) })
    }

    /// A short display string.
    pub fn to_string_repr(&self) -> Result<String> {
        let mut a = sys::PJRT_DeviceDescription_ToString_Args::new();
        a.device_description = self.raw;
        call!(self.client.api(), PJRT_DeviceDescription_ToString, &mut a)?;
        // SAFETY: a string owned by the description.
        Ok(unsafe { str_from_raw(a.to_string, a.to_string_size) })
    }
}

impl crate::plugin::PluginOwned for DeviceDescription {
    fn owner_plugin(&self) -> &crate::Plugin {
        self.client.plugin()
    }
}
