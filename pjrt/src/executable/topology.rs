//! Topology descriptions: the devices a compilation targets, with or without a client, and
//! compilation against a topology (`PJRT_Compile`).

use pjrt_sys as sys;

use crate::buffer::{MemoryLayout, RawLayout};
use crate::client::Client;
use crate::compile_options::CompileOptions;
use crate::error::{Error, Result};
use crate::executable::metadata::Executable;
use crate::literal::element_count;
use crate::plugin::{
    call, call_deleter, read_named_values, str_from_raw, to_raw, vec_from_raw, NamedValue, Plugin,
};
use crate::program::Program;
use crate::types::ElementType;

/// A topology: the devices (by description) a program can be compiled for.
pub struct TopologyDescription {
    pub(crate) raw: *mut sys::PJRT_TopologyDescription,
    plugin: Plugin,
    // A client's topology is owned by the client: never destroyed by us; keeps it alive.
    owner: Option<Client>,
}

// SAFETY: topology descriptions are immutable plugin objects; destroyed once when owned.
unsafe impl Send for TopologyDescription {}
// SAFETY: as above.
unsafe impl Sync for TopologyDescription {}

impl Drop for TopologyDescription {
    fn drop(&mut self) {
        if self.owner.is_none() {
            let mut a = sys::PJRT_TopologyDescription_Destroy_Args::new();
            a.topology = self.raw;
            let _ = call!(self.plugin.api(), PJRT_TopologyDescription_Destroy, &mut a);
        }
    }
}

impl std::fmt::Debug for TopologyDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TopologyDescription({:p})", self.raw)
    }
}

impl Client {
    /// The client's own topology (owned by the client).
    pub fn topology(&self) -> Result<TopologyDescription> {
        let mut a = sys::PJRT_Client_TopologyDescription_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_TopologyDescription, &mut a)?;
        Ok(TopologyDescription {
            raw: a.topology,
            plugin: self.plugin().clone(),
            owner: Some(self.clone()),
        })
    }
}

/// One device of a topology, described (not usable for execution).
#[derive(Debug, Clone, PartialEq)]
pub struct TopologyDevice {
    /// Global device id.
    pub id: i32,
    /// Index of the owning process.
    pub process_index: i32,
    /// Device kind.
    pub kind: String,
    /// Attributes.
    pub attributes: Vec<NamedValue>,
    /// Short display string.
    pub to_string: String,
    /// Debug string.
    pub debug_string: String,
}

impl TopologyDescription {
    /// Wraps a topology the caller now owns.
    pub(crate) fn owned(
        plugin: &Plugin,
        raw: *mut sys::PJRT_TopologyDescription,
    ) -> TopologyDescription {
        TopologyDescription {
            raw,
            plugin: plugin.clone(),
            owner: None,
        }
    }

    /// Creates a topology by name without a client (`PJRT_TopologyDescription_Create`;
    /// UNIMPLEMENTED on the CPU plugins).
    pub fn create(
        plugin: &Plugin,
        name: &str,
        options: &[NamedValue],
    ) -> Result<TopologyDescription> {
        let raw_opts = to_raw(options);
        let mut a = sys::PJRT_TopologyDescription_Create_Args::new();
        a.topology_name = name.as_ptr().cast();
        a.topology_name_size = name.len();
        a.create_options = raw_opts.as_ptr();
        a.num_options = raw_opts.len();
        call!(plugin.api(), PJRT_TopologyDescription_Create, &mut a)?;
        Ok(TopologyDescription {
            raw: a.topology,
            plugin: plugin.clone(),
            owner: None,
        })
    }

    /// Rebuilds a topology from [`serialize`](Self::serialize)'s bytes.
    pub fn deserialize(plugin: &Plugin, bytes: &[u8]) -> Result<TopologyDescription> {
        let mut a = sys::PJRT_TopologyDescription_Deserialize_Args::new();
        a.serialized_topology = bytes.as_ptr().cast();
        a.serialized_topology_size = bytes.len();
        call!(plugin.api(), PJRT_TopologyDescription_Deserialize, &mut a)?;
        Ok(TopologyDescription {
            raw: a.topology,
            plugin: plugin.clone(),
            owner: None,
        })
    }

    /// The plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Platform name.
    pub fn platform_name(&self) -> Result<String> {
        let mut a = sys::PJRT_TopologyDescription_PlatformName_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_PlatformName,
            &mut a
        )?;
        // SAFETY: a string owned by the topology.
        Ok(unsafe { str_from_raw(a.platform_name, a.platform_name_size) })
    }

    /// Platform version.
    pub fn platform_version(&self) -> Result<String> {
        let mut a = sys::PJRT_TopologyDescription_PlatformVersion_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_PlatformVersion,
            &mut a
        )?;
        // SAFETY: a string owned by the topology.
        Ok(unsafe { str_from_raw(a.platform_version, a.platform_version_size) })
    }

    /// The devices' descriptions, read out.
    pub fn device_descriptions(&self) -> Result<Vec<TopologyDevice>> {
        let mut a = sys::PJRT_TopologyDescription_GetDeviceDescriptions_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_GetDeviceDescriptions,
            &mut a
        )?;
        // SAFETY: `num_descriptions` pointers owned by the topology.
        let descs = unsafe { vec_from_raw(a.descriptions, a.num_descriptions) };
        descs
            .into_iter()
            .map(|d| self.read_description(d))
            .collect()
    }

    fn read_description(&self, d: *mut sys::PJRT_DeviceDescription) -> Result<TopologyDevice> {
        let api = self.plugin.api();
        let mut id = sys::PJRT_DeviceDescription_Id_Args::new();
        id.device_description = d;
        call!(api, PJRT_DeviceDescription_Id, &mut id)?;
        let mut pi = sys::PJRT_DeviceDescription_ProcessIndex_Args::new();
        pi.device_description = d;
        call!(api, PJRT_DeviceDescription_ProcessIndex, &mut pi)?;
        let mut k = sys::PJRT_DeviceDescription_Kind_Args::new();
        k.device_description = d;
        call!(api, PJRT_DeviceDescription_Kind, &mut k)?;
        let mut at = sys::PJRT_DeviceDescription_Attributes_Args::new();
        at.device_description = d;
        call!(api, PJRT_DeviceDescription_Attributes, &mut at)?;
        let mut ts = sys::PJRT_DeviceDescription_ToString_Args::new();
        ts.device_description = d;
        call!(api, PJRT_DeviceDescription_ToString, &mut ts)?;
        let mut ds = sys::PJRT_DeviceDescription_DebugString_Args::new();
        ds.device_description = d;
        call!(api, PJRT_DeviceDescription_DebugString, &mut ds)?;
        // SAFETY: strings and values owned by the description.
        unsafe {
            Ok(TopologyDevice {
                id: id.id,
                process_index: pi.process_index,
                kind: str_from_raw(k.device_kind, k.device_kind_size),
                attributes: read_named_values(at.attributes, at.num_attributes),
                to_string: str_from_raw(ts.to_string, ts.to_string_size),
                debug_string: str_from_raw(ds.debug_string, ds.debug_string_size),
            })
        }
    }

    /// The topology's serialized form (for [`deserialize`](Self::deserialize)).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let mut a = sys::PJRT_TopologyDescription_Serialize_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_Serialize,
            &mut a
        )?;
        // SAFETY: bytes backed by `serialized_topology` until its deleter runs.
        let v = unsafe { vec_from_raw(a.serialized_bytes.cast::<u8>(), a.serialized_bytes_size) };
        // SAFETY: the plugin's deleter, once, after the copy.
        unsafe { call_deleter(a.serialized_topology_deleter, a.serialized_topology) };
        Ok(v)
    }

    /// Attributes of the topology.
    pub fn attributes(&self) -> Result<Vec<NamedValue>> {
        let mut a = sys::PJRT_TopologyDescription_Attributes_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_Attributes,
            &mut a
        )?;
        // SAFETY: values owned by the topology.
        Ok(unsafe { read_named_values(a.attributes, a.num_attributes) })
    }

    /// A fingerprint identifying the topology.
    pub fn fingerprint(&self) -> Result<u64> {
        let mut a = sys::PJRT_TopologyDescription_Fingerprint_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_Fingerprint,
            &mut a
        )?;
        Ok(a.fingerprint)
    }

    /// The memory-space kind ids the topology has.
    pub fn memory_space_kind_ids(&self) -> Result<Vec<i32>> {
        let mut a = sys::PJRT_TopologyDescription_GetMemorySpaceKindIds_Args::new();
        a.topology = self.raw;
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_GetMemorySpaceKindIds,
            &mut a
        )?;
        // SAFETY: ids owned by the topology.
        Ok(unsafe { vec_from_raw(a.memory_space_kind_ids, a.num_memory_space_kind_ids) })
    }

    /// The canonical on-device shape for an array in a memory space, as a serialized
    /// `xla.ShapeProto`.
    pub fn canonical_shape_for_memory_space(
        &self,
        memory_space_kind_id: i32,
        element_type: ElementType,
        dims: &[i64],
        layout: Option<&MemoryLayout>,
    ) -> Result<Vec<u8>> {
        element_count("canonical_shape_for_memory_space", dims)?;
        let raw_layout = match layout {
            Some(l) => Some(RawLayout::new(
                "canonical_shape_for_memory_space",
                l,
                dims.len(),
            )?),
            None => None,
        };
        let mut a = sys::PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace_Args::new();
        a.topology = self.raw;
        a.memory_space_kind_id = memory_space_kind_id;
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.element_type = element_type.to_raw();
        a.layout = raw_layout.as_ref().map_or(std::ptr::null(), |l| &l.c);
        call!(
            self.plugin.api(),
            PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace,
            &mut a
        )?;
        // SAFETY: bytes owned until the deleter runs.
        let v = unsafe { vec_from_raw(a.serialized_shape.cast::<u8>(), a.serialized_shape_size) };
        // SAFETY: the plugin's deleter, once, after the copy.
        unsafe { call_deleter(a.serialized_shape_deleter, a.serialized_shape) };
        Ok(v)
    }

    /// Compiles for this topology without loading (`PJRT_Compile`); load the result with
    /// [`Client::load`]. `client` is optional help for the compiler.
    pub fn compile(
        &self,
        program: &Program,
        options: &CompileOptions,
        client: Option<&Client>,
    ) -> Result<Executable> {
        let opts = options.encode()?;
        let format = program.format().as_str();
        let mut p = sys::PJRT_Program::new();
        p.code = program.code().as_ptr().cast_mut().cast();
        p.code_size = program.code().len();
        p.format = format.as_ptr().cast();
        p.format_size = format.len();
        let mut a = sys::PJRT_Compile_Args::new();
        a.topology = self.raw;
        a.program = &p;
        a.compile_options = opts.as_ptr().cast();
        a.compile_options_size = opts.len();
        a.client = client.map_or(std::ptr::null_mut(), |c| c.raw());
        call!(self.plugin.api(), PJRT_Compile, &mut a)?;
        if a.executable.is_null() {
            return Err(Error::InvalidArgument(
                "PJRT_Compile returned no executable".into(),
            ));
        }
        Ok(Executable {
            raw: a.executable,
            plugin: self.plugin.clone(),
        })
    }
}

impl crate::plugin::PluginOwned for TopologyDescription {
    fn owner_plugin(&self) -> &Plugin {
        &self.plugin
    }
}
