//! Memories: the memory spaces of a client (device memory, pinned host memory, ...) and
//! which devices reach them.

use std::fmt;

use pjrt_sys as sys;

use crate::client::Client;
use crate::device::handle::Device;
use crate::error::{Error, Result};
use crate::plugin::{call, str_from_raw, vec_from_raw};

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

    /// The client that owns the memory.
    pub fn client(&self) -> &Client {
        &self.client
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

impl Client {
    /// The distinct kinds of the memories this process can use, in the order the plugin
    /// lists them (the CPU plugins: `device`, `pinned_host`, `unpinned_host`).
    pub fn memory_kinds(&self) -> Result<Vec<String>> {
        let mut kinds: Vec<String> = Vec::new();
        for m in self.addressable_memories()? {
            let k = m.kind()?;
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        Ok(kinds)
    }

    /// Checks that this client has memories of each of `kinds`; else
    /// [`Error::MemoryKindUnavailable`](crate::Error::MemoryKindUnavailable) naming the first
    /// missing kind and the kinds there are. `op` names the caller in the error.
    pub fn check_memory_kinds<'k>(
        &self,
        op: &'static str,
        kinds: impl IntoIterator<Item = &'k str>,
    ) -> Result<()> {
        let have = self.memory_kinds()?;
        for k in kinds {
            if !have.iter().any(|h| h == k) {
                return Err(Error::MemoryKindUnavailable {
                    op,
                    kind: k.to_string(),
                    available: have,
                });
            }
        }
        Ok(())
    }

    /// The memories this process can use.
    pub fn addressable_memories(&self) -> Result<Vec<Memory>> {
        let mut a = sys::PJRT_Client_AddressableMemories_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_AddressableMemories, &mut a)?;
        // SAFETY: `n` memory pointers owned by the client.
        let raw = unsafe { vec_from_raw(a.addressable_memories, a.num_addressable_memories) };
        Ok(raw.into_iter().map(|m| Memory::new(self, m)).collect())
    }
}

impl Device {
    /// The memories this device can address.
    pub fn addressable_memories(&self) -> Result<Vec<Memory>> {
        let mut a = sys::PJRT_Device_AddressableMemories_Args::new();
        a.device = self.raw;
        call!(self.client().api(), PJRT_Device_AddressableMemories, &mut a)?;
        // SAFETY: `num_memories` pointers owned by the client.
        let raw = unsafe { vec_from_raw(a.memories, a.num_memories) };
        Ok(raw
            .into_iter()
            .map(|m| Memory::new(self.client(), m))
            .collect())
    }

    /// The device's memory of kind `kind` (e.g. `pinned_host`), for
    /// [`BufferPlacement::memory`](crate::BufferPlacement::memory) and
    /// [`Buffer::copy_to_memory`](crate::Buffer::copy_to_memory); else
    /// [`Error::MemoryKindUnavailable`](crate::Error::MemoryKindUnavailable) listing the
    /// device's memories.
    pub fn memory_of_kind(&self, kind: &str) -> Result<Memory> {
        let mut available = Vec::new();
        for m in self.addressable_memories()? {
            let k = m.kind()?;
            if k == kind {
                return Ok(m);
            }
            available.push(k);
        }
        Err(Error::MemoryKindUnavailable {
            op: "Device::memory_of_kind",
            kind: kind.to_string(),
            available,
        })
    }

    /// The device's default memory.
    pub fn default_memory(&self) -> Result<Memory> {
        let mut a = sys::PJRT_Device_DefaultMemory_Args::new();
        a.device = self.raw;
        call!(self.client().api(), PJRT_Device_DefaultMemory, &mut a)?;
        Ok(Memory::new(self.client(), a.memory))
    }
}
