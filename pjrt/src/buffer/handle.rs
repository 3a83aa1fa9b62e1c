//! The buffer handle: an array on a device, what it is (type, dims, layout, size), where it
//! lives, its deletion, copies to other devices and memories, and the host data it keeps
//! alive.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use pjrt_sys as sys;

use crate::buffer::layout::MemoryLayout;
use crate::buffer::pending::PendingSet;
use crate::client::Client;
use crate::device::{Device, Event, Memory};
use crate::error::{Error, Result};
use crate::plugin::{call, vec_from_raw};
use crate::types::ElementType;

/// Host data a zero-copy buffer aliases, kept alive until the plugin is done with it.
pub(crate) type HostOwner = Box<dyn Any + Send + Sync>;

/// An array on a device. Keeps its client alive.
pub struct Buffer {
    raw: *mut sys::PJRT_Buffer,
    client: Client,
    meta: OnceLock<(ElementType, Vec<i64>)>,
    /// The device holding it (a buffer never moves), read once.
    device: OnceLock<DeviceRaw>,
    /// Sources its data waits for that the caller must deliver (see `buffer/pending.rs`).
    pub(crate) pending: PendingSet,
    // Host data a zero-copy buffer aliases when the plugin gave no "done" event to hand it to.
    _host_owner: Option<HostOwner>,
}

/// A device pointer owned by the buffer's client.
#[derive(Clone, Copy)]
pub(crate) struct DeviceRaw(pub(crate) *mut sys::PJRT_Device);
// SAFETY: a device pointer is an immutable handle owned by the (thread-safe) client; it is
// only passed back to that client's plugin.
unsafe impl Send for DeviceRaw {}
// SAFETY: as above.
unsafe impl Sync for DeviceRaw {}

// SAFETY: PJRT buffers are thread-safe: reads, copies, transfers and use as execute
// arguments may happen from several threads; destruction happens once, in Drop.
unsafe impl Send for Buffer {}
// SAFETY: as above; `&self` methods only call thread-safe C functions.
unsafe impl Sync for Buffer {}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.meta() {
            Ok((t, d)) => write!(f, "Buffer({t}{})", crate::error::dims_str(d)),
            Err(_) => write!(f, "Buffer({:p})", self.raw),
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let mut a = sys::PJRT_Buffer_Destroy_Args::new();
        a.buffer = self.raw;
        let _ = call!(self.client.api(), PJRT_Buffer_Destroy, &mut a);
    }
}

/// Hands `owner` to the "done with host buffer" event (dropped when it fires), or keeps it in
/// the buffer when the plugin gave no event.
pub(crate) fn keep_until_done(mut buffer: Buffer, done: Option<Event>, owner: HostOwner) -> Buffer {
    match done {
        Some(done) => {
            let shared = Arc::new(std::sync::Mutex::new(Some(owner)));
            let s2 = shared.clone();
            let released = done.on_ready(move |_| {
                drop(s2.lock().map(|mut g| g.take()));
            });
            if released.is_err() {
                // Could not register the callback: the buffer keeps the data for its life.
                buffer._host_owner = Some(Box::new(shared));
            }
        }
        None => buffer._host_owner = Some(owner),
    }
    buffer
}

impl Buffer {
    pub(crate) fn wrap(
        client: &Client,
        raw: *mut sys::PJRT_Buffer,
        meta: Option<(ElementType, Vec<i64>)>,
    ) -> Buffer {
        let cell = OnceLock::new();
        if let Some(m) = meta {
            let _ = cell.set(m);
        }
        Buffer {
            raw,
            client: client.clone(),
            meta: cell,
            device: OnceLock::new(),
            pending: PendingSet::default(),
            _host_owner: None,
        }
    }

    /// The same, waiting for `pending` sources.
    pub(crate) fn with_pending(mut self, pending: PendingSet) -> Buffer {
        self.pending = pending;
        self
    }

    /// The device pointer holding the buffer (read once, then cached).
    pub(crate) fn device_raw(&self) -> Result<*mut sys::PJRT_Device> {
        if let Some(d) = self.device.get() {
            return Ok(d.0);
        }
        let mut a = sys::PJRT_Buffer_Device_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_Device, &mut a)?;
        Ok(self.device.get_or_init(|| DeviceRaw(a.device)).0)
    }

    /// Refuses a blocking read (`op`) that would wait forever for data the caller has not
    /// delivered (see [`Error::WouldBlock`]).
    pub(crate) fn check_readable(&self, op: &'static str) -> Result<()> {
        self.pending.check_read(op)
    }

    pub(crate) fn raw(&self) -> *mut sys::PJRT_Buffer {
        self.raw
    }

    /// The client the buffer belongs to.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn meta(&self) -> Result<&(ElementType, Vec<i64>)> {
        if let Some(m) = self.meta.get() {
            return Ok(m);
        }
        let mut t = sys::PJRT_Buffer_ElementType_Args::new();
        t.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_ElementType, &mut t)?;
        let et = ElementType::from_raw(t.type_).ok_or(Error::UnknownElementType {
            function: "PJRT_Buffer_ElementType",
            raw: t.type_,
        })?;
        let mut d = sys::PJRT_Buffer_Dimensions_Args::new();
        d.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_Dimensions, &mut d)?;
        // SAFETY: `num_dims` dims owned by the buffer.
        let dims = unsafe { vec_from_raw(d.dims, d.num_dims) };
        Ok(self.meta.get_or_init(|| (et, dims)))
    }

    /// The element type.
    pub fn element_type(&self) -> Result<ElementType> {
        Ok(self.meta()?.0)
    }

    /// The dims.
    pub fn dims(&self) -> Result<Vec<i64>> {
        Ok(self.meta()?.1.clone())
    }

    /// The dims without padding (differs from `dims` only for dynamic shapes).
    pub fn unpadded_dims(&self) -> Result<Vec<i64>> {
        let mut a = sys::PJRT_Buffer_UnpaddedDimensions_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_UnpaddedDimensions, &mut a)?;
        // SAFETY: `num_dims` values owned by the buffer.
        Ok(unsafe { vec_from_raw(a.unpadded_dims, a.num_dims) })
    }

    /// Indices of the dynamic dimensions.
    pub fn dynamic_dims(&self) -> Result<Vec<usize>> {
        let mut a = sys::PJRT_Buffer_DynamicDimensionIndices_Args::new();
        a.buffer = self.raw;
        call!(
            self.client.api(),
            PJRT_Buffer_DynamicDimensionIndices,
            &mut a
        )?;
        // SAFETY: `num_dynamic_dims` values owned by the buffer.
        Ok(unsafe { vec_from_raw(a.dynamic_dim_indices, a.num_dynamic_dims) })
    }

    /// The on-device memory layout.
    pub fn layout(&self) -> Result<MemoryLayout> {
        let mut a = sys::PJRT_Buffer_GetMemoryLayout_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_GetMemoryLayout, &mut a)?;
        let l = a.layout;
        // SAFETY: the union member read is the one `type_` names; arrays are owned by the buffer.
        unsafe {
            if l.type_ == sys::PJRT_Buffer_MemoryLayout_Type_Strides {
                let s = l.layout.strides;
                Ok(MemoryLayout::Strides {
                    byte_strides: vec_from_raw(s.byte_strides, s.num_byte_strides),
                })
            } else {
                let t = l.layout.tiled;
                let sizes: Vec<usize> = vec_from_raw(t.tile_dim_sizes, t.num_tiles);
                let total: usize = sizes.iter().sum();
                let flat: Vec<i64> = vec_from_raw(t.tile_dims, total);
                let mut tiles = Vec::new();
                let mut at = 0;
                for s in sizes {
                    tiles.push(flat[at..at + s].to_vec());
                    at += s;
                }
                Ok(MemoryLayout::Tiled {
                    minor_to_major: vec_from_raw(t.minor_to_major, t.minor_to_major_size),
                    tiles,
                })
            }
        }
    }

    /// Bytes the buffer takes on the device.
    pub fn on_device_size(&self) -> Result<usize> {
        let mut a = sys::PJRT_Buffer_OnDeviceSizeInBytes_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_OnDeviceSizeInBytes, &mut a)?;
        Ok(a.on_device_size_in_bytes)
    }

    /// The device holding the buffer.
    pub fn device(&self) -> Result<Device> {
        Ok(Device::new(&self.client, self.device_raw()?))
    }

    /// The memory holding the buffer.
    pub fn memory(&self) -> Result<Memory> {
        let mut a = sys::PJRT_Buffer_Memory_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_Memory, &mut a)?;
        Ok(Memory::new(&self.client, a.memory))
    }

    /// The kind of the memory the buffer lives in (e.g. `device`, `pinned_host`).
    pub fn memory_kind(&self) -> Result<String> {
        self.memory()?.kind()
    }

    /// Whether the buffer lives in host memory the CPU can read directly.
    pub fn is_on_cpu(&self) -> Result<bool> {
        let mut a = sys::PJRT_Buffer_IsOnCpu_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_IsOnCpu, &mut a)?;
        Ok(a.is_on_cpu)
    }

    /// Frees the device memory now; later uses of the buffer are errors.
    pub fn delete(&self) -> Result<()> {
        let mut a = sys::PJRT_Buffer_Delete_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_Delete, &mut a)
    }

    /// Whether the buffer was deleted (or donated to an execution).
    pub fn is_deleted(&self) -> Result<bool> {
        let mut a = sys::PJRT_Buffer_IsDeleted_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_IsDeleted, &mut a)?;
        Ok(a.is_deleted)
    }

    pub(crate) fn check_live(&self, op: &'static str) -> Result<()> {
        if self.is_deleted()? {
            return Err(Error::BufferDeleted { op });
        }
        Ok(())
    }

    /// An event that fires when the buffer's data is ready.
    pub fn ready_event(&self) -> Result<Event> {
        let mut a = sys::PJRT_Buffer_ReadyEvent_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_ReadyEvent, &mut a)?;
        Event::from_raw(self.client.plugin(), a.event).ok_or_else(|| {
            Error::InvalidArgument("PJRT_Buffer_ReadyEvent returned no event".into())
        })
    }

    /// Copies the buffer to another device.
    ///
    /// A device of another client (of this plugin or another) gets a copy made through host
    /// memory, owned by that client (it keeps that client alive); the plugin never sees a
    /// device it does not own.
    pub fn copy_to_device(&self, device: &Device) -> Result<Buffer> {
        const OP: &str = "Buffer::copy_to_device";
        self.check_live(OP)?;
        if !self.client.same_as(device.client()) {
            return device
                .client()
                .copy_from_client(OP, self, Some(device), None);
        }
        let mut a = sys::PJRT_Buffer_CopyToDevice_Args::new();
        a.buffer = self.raw;
        a.dst_device = device.raw;
        call!(self.client.api(), PJRT_Buffer_CopyToDevice, &mut a)?;
        Ok(
            Buffer::wrap(&self.client, a.dst_buffer, self.meta.get().cloned())
                .with_pending(PendingSet::union([&self.pending])),
        )
    }

    /// Copies the buffer to another memory. A memory of another client gets a copy made
    /// through host memory, owned by that client (as for [`copy_to_device`](Self::copy_to_device)).
    pub fn copy_to_memory(&self, memory: &Memory) -> Result<Buffer> {
        const OP: &str = "Buffer::copy_to_memory";
        self.check_live(OP)?;
        if !self.client.same_as(memory.client()) {
            return memory
                .client()
                .copy_from_client(OP, self, None, Some(memory));
        }
        let mut a = sys::PJRT_Buffer_CopyToMemory_Args::new();
        a.buffer = self.raw;
        a.dst_memory = memory.raw;
        call!(self.client.api(), PJRT_Buffer_CopyToMemory, &mut a)?;
        Ok(
            Buffer::wrap(&self.client, a.dst_buffer, self.meta.get().cloned())
                .with_pending(PendingSet::union([&self.pending])),
        )
    }
}

impl crate::plugin::PluginOwned for Buffer {
    fn owner_plugin(&self) -> &crate::Plugin {
        self.client.plugin()
    }
}
