//! The Layouts extension: on-device memory layouts of clients, topologies, buffers and
//! executables, serialized as text like `{1,0}`.

use pjrt_sys as sys;
use sys::ext::layouts as l;
use sys::ext::layouts::PJRT_Layouts_Extension;

use crate::error::Result;
use crate::plugin::vec_from_raw;
use crate::plugin::{bytes_from_raw, call_deleter, ext_call, extension_struct};
use crate::{Buffer, Client, ElementType, Executable, TopologyDescription};

extension_struct!(
    /// The Layouts extension of a plugin.
    Layouts,
    sys::PJRT_Extension_Type_Layouts
);

/// A layout the plugin made for us; destroyed on drop.
pub struct DeviceLayout {
    raw: *mut l::PJRT_Layouts_MemoryLayout,
    ext: Layouts,
}

// SAFETY: an immutable plugin object, destroyed once.
unsafe impl Send for DeviceLayout {}

impl Drop for DeviceLayout {
    fn drop(&mut self) {
        let mut a = l::PJRT_Layouts_MemoryLayout_Destroy_Args::new();
        a.layout = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_Layouts_Extension,
            PJRT_Layouts_MemoryLayout_Destroy,
            &mut a
        );
    }
}

impl std::fmt::Debug for DeviceLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.serialize() {
            Ok(s) => write!(f, "DeviceLayout({s})"),
            Err(_) => write!(f, "DeviceLayout({:p})", self.raw),
        }
    }
}

impl DeviceLayout {
    /// The layout's text form, e.g. `{1,0}`.
    pub fn serialize(&self) -> Result<String> {
        serialize_raw(&self.ext, self.raw)
    }
}

fn serialize_raw(ext: &Layouts, raw: *mut l::PJRT_Layouts_MemoryLayout) -> Result<String> {
    let mut a = l::PJRT_Layouts_MemoryLayout_Serialize_Args::new();
    a.layout = raw;
    ext_call!(
        &ext.h,
        PJRT_Layouts_Extension,
        PJRT_Layouts_MemoryLayout_Serialize,
        &mut a
    )?;
    // SAFETY: bytes backed by `serialized_layout` until its deleter runs.
    let bytes = unsafe { bytes_from_raw(a.serialized_bytes, a.serialized_bytes_size) };
    // SAFETY: the plugin's deleter, once.
    unsafe { call_deleter(a.serialized_layout_deleter, a.serialized_layout) };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Layouts {
    fn owned(&self, raw: *mut l::PJRT_Layouts_MemoryLayout) -> DeviceLayout {
        DeviceLayout {
            raw,
            ext: self.clone(),
        }
    }

    /// The client's default layout for an array.
    pub fn client_default_layout(
        &self,
        client: &Client,
        element_type: ElementType,
        dims: &[i64],
    ) -> Result<DeviceLayout> {
        crate::literal::element_count("client_default_layout", dims)?;
        let mut a = l::PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Layouts::client_default_layout",
            "`client`",
            client,
        )?;
        a.client = client.raw();
        a.type_ = element_type.to_raw();
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        ext_call!(
            &self.h,
            PJRT_Layouts_Extension,
            PJRT_Layouts_PJRT_Client_GetDefaultLayout,
            &mut a
        )?;
        Ok(self.owned(a.layout))
    }

    /// A topology's default layout for an array.
    pub fn topology_default_layout(
        &self,
        topology: &TopologyDescription,
        element_type: ElementType,
        dims: &[i64],
    ) -> Result<DeviceLayout> {
        crate::literal::element_count("topology_default_layout", dims)?;
        let mut a = l::PJRT_Layouts_PJRT_Topology_GetDefaultLayout_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Layouts::topology_default_layout",
            "`topology`",
            topology,
        )?;
        a.topology_description = topology.raw;
        a.type_ = element_type.to_raw();
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        ext_call!(
            &self.h,
            PJRT_Layouts_Extension,
            PJRT_Layouts_PJRT_Topology_GetDefaultLayout,
            &mut a
        )?;
        Ok(self.owned(a.layout))
    }

    /// A buffer's layout.
    pub fn buffer_layout(&self, buffer: &Buffer) -> Result<DeviceLayout> {
        buffer.check_live("Layouts::buffer_layout")?;
        let mut a = l::PJRT_Layouts_PJRT_Buffer_MemoryLayout_Args::new();
        crate::plugin::check_owner(&self.h, "Layouts::buffer_layout", "`buffer`", buffer)?;
        a.buffer = buffer.raw();
        ext_call!(
            &self.h,
            PJRT_Layouts_Extension,
            PJRT_Layouts_PJRT_Buffer_MemoryLayout,
            &mut a
        )?;
        Ok(self.owned(a.layout))
    }

    /// The layout of each output, serialized (the layouts belong to the executable).
    pub fn executable_output_layouts(&self, executable: &Executable) -> Result<Vec<String>> {
        let mut a = l::PJRT_Layouts_PJRT_Executable_GetOutputLayouts_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Layouts::executable_output_layouts",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_Layouts_Extension,
            PJRT_Layouts_PJRT_Executable_GetOutputLayouts,
            &mut a
        )?;
        // SAFETY: `num_outputs` layouts owned by the executable.
        let ls = unsafe { vec_from_raw(a.layouts.cast_const(), a.num_outputs) };
        ls.into_iter().map(|p| serialize_raw(self, p)).collect()
    }

    /// The layout of each parameter, serialized (absent before API 0.8x: `Unimplemented`).
    pub fn executable_parameter_layouts(&self, executable: &Executable) -> Result<Vec<String>> {
        let mut a = l::PJRT_Layouts_PJRT_Executable_GetParameterLayouts_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Layouts::executable_parameter_layouts",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_Layouts_Extension,
            PJRT_Layouts_PJRT_Executable_GetParameterLayouts,
            &mut a
        )?;
        // SAFETY: `num_parameters` layouts owned by the executable.
        let ls = unsafe { vec_from_raw(a.layouts.cast_const(), a.num_parameters) };
        ls.into_iter().map(|p| serialize_raw(self, p)).collect()
    }
}
