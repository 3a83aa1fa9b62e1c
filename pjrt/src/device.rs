//! Devices, their descriptions, and memories.

use std::fmt;

use pjrt_sys as sys;

use crate::error::Result;
use crate::named_value::{read_named_values, NamedValue};
use crate::plugin::{call, str_from_raw, vec_from_raw};
use crate::Client;

/// A device of a client. Cheap to clone; keeps its client alive.
#[derive(Clone)]
pub struct Device {
    pub(crate) raw: *mut sys::PJRT_Device,
    client: Client,
}

// SAFETY: devices are owned by their (thread-safe) client and immutable handles in PJRT;
// their query functions may be called from any thread.
unsafe impl Send for Device {}
// SAFETY: as above.
unsafe impl Sync for Device {}

impl PartialEq for Device {
    fn eq(&self, other: &Device) -> bool {
        self.raw == other.raw
    }
}
impl Eq for Device {}

/// Memory usage counters of a device; fields the plugin does not report are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes in use now.
    pub bytes_in_use: i64,
    /// Peak bytes in use.
    pub peak_bytes_in_use: Option<i64>,
    /// Number of allocations.
    pub num_allocs: Option<i64>,
    /// Largest single allocation.
    pub largest_alloc_size: Option<i64>,
    /// Memory limit.
    pub bytes_limit: Option<i64>,
    /// Bytes reserved.
    pub bytes_reserved: Option<i64>,
    /// Peak bytes reserved.
    pub peak_bytes_reserved: Option<i64>,
    /// Largest free block.
    pub largest_free_block_bytes: Option<i64>,
}

impl Device {
    pub(crate) fn new(client: &Client, raw: *mut sys::PJRT_Device) -> Device {
        Device {
            raw,
            client: client.clone(),
        }
    }

    /// The client that owns the device.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The device's description (id, kind, attributes, strings).
    pub fn description(&self) -> Result<DeviceDescription> {
        let mut a = sys::PJRT_Device_GetDescription_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_GetDescription, &mut a)?;
        Ok(DeviceDescription {
            raw: a.device_description,
            client: self.client.clone(),
        })
    }

    /// The global device id.
    pub fn id(&self) -> Result<i32> {
        self.description()?.id()
    }

    /// The device kind (e.g. `cpu`).
    pub fn kind(&self) -> Result<String> {
        self.description()?.kind()
    }

    /// Whether this process can use the device.
    pub fn is_addressable(&self) -> Result<bool> {
        let mut a = sys::PJRT_Device_IsAddressable_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_IsAddressable, &mut a)?;
        Ok(a.is_addressable)
    }

    /// The device's hardware id local to this process.
    pub fn local_hardware_id(&self) -> Result<i32> {
        let mut a = sys::PJRT_Device_LocalHardwareId_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_LocalHardwareId, &mut a)?;
        Ok(a.local_hardware_id)
    }

    /// The memories this device can address.
    pub fn addressable_memories(&self) -> Result<Vec<Memory>> {
        let mut a = sys::PJRT_Device_AddressableMemories_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_AddressableMemories, &mut a)?;
        // SAFETY: `num_memories` pointers owned by the client.
        let raw = unsafe { vec_from_raw(a.memories, a.num_memories) };
        Ok(raw
            .into_iter()
            .map(|m| Memory::new(&self.client, m))
            .collect())
    }

    /// The device's default memory.
    pub fn default_memory(&self) -> Result<Memory> {
        let mut a = sys::PJRT_Device_DefaultMemory_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_DefaultMemory, &mut a)?;
        Ok(Memory::new(&self.client, a.memory))
    }

    /// Memory usage counters (Unimplemented on the CPU plugins).
    pub fn memory_stats(&self) -> Result<MemoryStats> {
        let mut a = sys::PJRT_Device_MemoryStats_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_MemoryStats, &mut a)?;
        let opt = |set: bool, v: i64| set.then_some(v);
        Ok(MemoryStats {
            bytes_in_use: a.bytes_in_use,
            peak_bytes_in_use: opt(a.peak_bytes_in_use_is_set, a.peak_bytes_in_use),
            num_allocs: opt(a.num_allocs_is_set, a.num_allocs),
            largest_alloc_size: opt(a.largest_alloc_size_is_set, a.largest_alloc_size),
            bytes_limit: opt(a.bytes_limit_is_set, a.bytes_limit),
            bytes_reserved: opt(a.bytes_reserved_is_set, a.bytes_reserved),
            peak_bytes_reserved: opt(a.peak_bytes_reserved_is_set, a.peak_bytes_reserved),
            largest_free_block_bytes: opt(
                a.largest_free_block_bytes_is_set,
                a.largest_free_block_bytes,
            ),
        })
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description().and_then(|d| d.to_string_repr()) {
            Ok(s) => write!(f, "Device({s})"),
            Err(_) => write!(f, "Device({:p})", self.raw),
        }
    }
}

/// A description of a device: what is known about it without using it.
#[derive(Clone)]
pub struct DeviceDescription {
    pub(crate) raw: *mut sys::PJRT_DeviceDescription,
    client: Client,
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

/// A memory space of a client (device memory, pinned host memory, ...).
#[derive(Clone)]
pub struct Memory {
    pub(crate) raw: *mut sys::PJRT_Memory,
    client: Client,
}

// SAFETY: memories are immutable handles owned by the thread-safe client.
unsafe impl Send for Memory {}
// SAFETY: as above.
unsafe impl Sync for Memory {}

impl PartialEq for Memory {
    fn eq(&self, other: &Memory) -> bool {
        self.raw == other.raw
    }
}
impl Eq for Memory {}

impl Memory {
    pub(crate) fn new(client: &Client, raw: *mut sys::PJRT_Memory) -> Memory {
        Memory {
            raw,
            client: client.clone(),
        }
    }

    /// The memory's id.
    pub fn id(&self) -> Result<i32> {
        let mut a = sys::PJRT_Memory_Id_Args::new();
        a.memory = self.raw;
        call!(self.client.api(), PJRT_Memory_Id, &mut a)?;
        Ok(a.id)
    }

    /// The memory kind (e.g. `device`, `pinned_host`, `unpinned_host`).
    pub fn kind(&self) -> Result<String> {
        let mut a = sys::PJRT_Memory_Kind_Args::new();
        a.memory = self.raw;
        call!(self.client.api(), PJRT_Memory_Kind, &mut a)?;
        // SAFETY: a string owned by the memory.
        Ok(unsafe { str_from_raw(a.kind, a.kind_size) })
    }

    /// The memory kind as a number.
    pub fn kind_id(&self) -> Result<i32> {
        let mut a = sys::PJRT_Memory_Kind_Id_Args::new();
        a.memory = self.raw;
        call!(self.client.api(), PJRT_Memory_Kind_Id, &mut a)?;
        Ok(a.kind_id)
    }

    /// A detailed debug string.
    pub fn debug_string(&self) -> Result<String> {
        let mut a = sys::PJRT_Memory_DebugString_Args::new();
        a.memory = self.raw;
        call!(self.client.api(), PJRT_Memory_DebugString, &mut a)?;
        // SAFETY: a string owned by the memory.
        Ok(unsafe { str_from_raw(a.debug_string, a.debug_string_size) })
    }

    /// A short display string.
    pub fn to_string_repr(&self) -> Result<String> {
        let mut a = sys::PJRT_Memory_ToString_Args::new();
        a.memory = self.raw;
        call!(self.client.api(), PJRT_Memory_ToString, &mut a)?;
        // SAFETY: a string owned by the memory.
        Ok(unsafe { str_from_raw(a.to_string, a.to_string_size) })
    }

    /// The devices that can address this memory.
    pub fn addressable_by_devices(&self) -> Result<Vec<Device>> {
        let mut a = sys::PJRT_Memory_AddressableByDevices_Args::new();
        a.memory = self.raw;
        call!(self.client.api(), PJRT_Memory_AddressableByDevices, &mut a)?;
        // SAFETY: `num_devices` device pointers owned by the client.
        let raw = unsafe { vec_from_raw(a.devices, a.num_devices) };
        Ok(raw
            .into_iter()
            .map(|d| Device::new(&self.client, d))
            .collect())
    }
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_string_repr() {
            Ok(s) => write!(f, "Memory({s})"),
            Err(_) => write!(f, "Memory({:p})", self.raw),
        }
    }
}
