//! Raw access to device memory: the buffer's device pointer, external references that pin
//! it, views of memory the caller owns, and DMA mapping of host memory.
//!
//! These hand out addresses the type system cannot follow: reading or writing through them
//! is `unsafe`, and the functions that can break the plugin's own bookkeeping are `unsafe fn`.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pjrt_sys as sys;

use crate::buffer::from_host::BufferPlacement;
use crate::buffer::handle::Buffer;
use crate::buffer::layout::{MemoryLayout, RawLayout};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::literal::dense_byte_size;
use crate::plugin::call;
use crate::types::ElementType;

impl Buffer {
    /// The address of the buffer's device memory, as an integer
    /// (`PJRT_Buffer_UnsafePointer`). On CPU plugins it is a host address.
    ///
    /// # Safety
    /// Getting the address is harmless, but anything done through it is not tracked: the
    /// memory may be freed (buffer dropped, deleted or donated) or still being written
    /// (wait for [`Buffer::ready_event`]). Hold an [`ExternalReference`] while using it.
    pub unsafe fn unsafe_pointer(&self) -> Result<usize> {
        self.check_live("Buffer::unsafe_pointer")?;
        let mut a = sys::PJRT_Buffer_UnsafePointer_Args::new();
        a.buffer = self.raw();
        call!(self.client().api(), PJRT_Buffer_UnsafePointer, &mut a)?;
        Ok(a.buffer_pointer)
    }

    /// The opaque device-memory pointer of the buffer
    /// (`PJRT_Buffer_OpaqueDeviceMemoryDataPointer`): on GPUs a device address, on CPUs a
    /// host address.
    ///
    /// # Safety
    /// As for [`unsafe_pointer`](Self::unsafe_pointer).
    pub unsafe fn opaque_device_memory_pointer(&self) -> Result<*mut c_void> {
        self.check_live("Buffer::opaque_device_memory_pointer")?;
        let mut a = sys::PJRT_Buffer_OpaqueDeviceMemoryDataPointer_Args::new();
        a.buffer = self.raw();
        call!(
            self.client().api(),
            PJRT_Buffer_OpaqueDeviceMemoryDataPointer,
            &mut a
        )?;
        Ok(a.device_memory_ptr)
    }

    /// Pins the buffer's memory for use outside PJRT until the guard is dropped
    /// (`IncreaseExternalReferenceCount`, then `Decrease` on drop). While pinned, deleting
    /// the buffer does not free the memory.
    pub fn external_reference(&self) -> Result<ExternalReference<'_>> {
        self.check_live("Buffer::external_reference")?;
        // Balanced by the guard's Drop.
        self.incref()?;
        Ok(ExternalReference { buffer: self })
    }

    /// Adds an external reference (`PJRT_Buffer_IncreaseExternalReferenceCount`).
    ///
    /// # Safety
    /// Must be balanced by exactly one
    /// [`decrease_external_reference_count`](Self::decrease_external_reference_count), or
    /// the memory is never freed. Prefer [`external_reference`](Self::external_reference).
    pub unsafe fn increase_external_reference_count(&self) -> Result<()> {
        self.incref()
    }

    fn incref(&self) -> Result<()> {
        let mut a = sys::PJRT_Buffer_IncreaseExternalReferenceCount_Args::new();
        a.buffer = self.raw();
        call!(
            self.client().api(),
            PJRT_Buffer_IncreaseExternalReferenceCount,
            &mut a
        )
    }

    fn decref(&self) -> Result<()> {
        let mut a = sys::PJRT_Buffer_DecreaseExternalReferenceCount_Args::new();
        a.buffer = self.raw();
        call!(
            self.client().api(),
            PJRT_Buffer_DecreaseExternalReferenceCount,
            &mut a
        )
    }

    /// Drops an external reference (`PJRT_Buffer_DecreaseExternalReferenceCount`).
    ///
    /// # Safety
    /// Only after a matching increase; once the count reaches zero, a deleted buffer's memory
    /// may be freed while pointers to it are still in use.
    pub unsafe fn decrease_external_reference_count(&self) -> Result<()> {
        self.decref()
    }
}

/// An external reference on a buffer's memory; released on drop.
pub struct ExternalReference<'a> {
    buffer: &'a Buffer,
}

impl ExternalReference<'_> {
    /// The pinned memory's address (see [`Buffer::opaque_device_memory_pointer`]).
    ///
    /// # Safety
    /// The memory stays allocated while the guard lives, but may still be written by
    /// pending work: wait for the buffer's ready event before reading it.
    pub unsafe fn device_pointer(&self) -> Result<*mut c_void> {
        // SAFETY: forwarded.
        unsafe { self.buffer.opaque_device_memory_pointer() }
    }
}

impl Drop for ExternalReference<'_> {
    fn drop(&mut self) {
        // Balances the increase made in `Buffer::external_reference`.
        let _ = self.buffer.decref();
    }
}

struct OnDelete(Box<dyn FnOnce() + Send>);

unsafe extern "C" fn on_delete_trampoline(_ptr: *mut c_void, user_arg: *mut c_void) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the `Box<OnDelete>` leaked by `create_view_of_device_buffer`; called once.
        let f = unsafe { Box::from_raw(user_arg.cast::<OnDelete>()) };
        (f.0)();
    }));
    if r.is_err() {
        tracing::error!("a view's on-delete callback panicked; the panic was caught");
    }
}

impl Client {
    /// A buffer that views memory the caller owns (`PJRT_Client_CreateViewOfDeviceBuffer`);
    /// `on_delete` runs when the plugin no longer uses it.
    ///
    /// # Safety
    /// `ptr` must be device memory of the target device (host memory on CPU plugins) of at
    /// least the shape's dense size, suitably aligned, valid and not mutated elsewhere
    /// until `on_delete` runs.
    pub unsafe fn create_view_of_device_buffer(
        &self,
        ptr: *mut c_void,
        element_type: ElementType,
        dims: &[i64],
        layout: Option<&MemoryLayout>,
        placement: &BufferPlacement,
        on_delete: Option<Box<dyn FnOnce() + Send>>,
    ) -> Result<Buffer> {
        dense_byte_size("create_view_of_device_buffer", element_type, dims)?;
        if ptr.is_null() {
            return Err(Error::InvalidArgument(
                "create_view_of_device_buffer: null pointer".into(),
            ));
        }
        let mut raw_layout = layout
            .map(|l| RawLayout::new("create_view_of_device_buffer", l, dims.len()))
            .transpose()?;
        let device = self.target_device(placement)?;
        let mut a = sys::PJRT_Client_CreateViewOfDeviceBuffer_Args::new();
        a.client = self.raw();
        a.device_buffer_ptr = ptr;
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.element_type = element_type.to_raw();
        a.layout = raw_layout
            .as_mut()
            .map_or(std::ptr::null_mut(), |l| l.ptr());
        a.device = device;
        a.memory = placement
            .memory
            .as_ref()
            .map_or(std::ptr::null_mut(), |m| m.raw);
        let cb = on_delete.map(|f| Box::into_raw(Box::new(OnDelete(f))));
        if let Some(cb) = cb {
            a.on_delete_callback = Some(on_delete_trampoline);
            a.on_delete_callback_arg = cb.cast();
        }
        let r = call!(self.api(), PJRT_Client_CreateViewOfDeviceBuffer, &mut a);
        if r.is_err() {
            if let Some(cb) = cb {
                // SAFETY: the call failed, so the plugin will not run the callback.
                drop(unsafe { Box::from_raw(cb) });
            }
        }
        r?;
        Ok(Buffer::wrap(
            self,
            a.buffer,
            Some((element_type, dims.to_vec())),
        ))
    }

    /// Registers host memory for direct device access (`PJRT_Client_DmaMap`).
    ///
    /// # Safety
    /// `data..data+size` must stay allocated until [`dma_unmap`](Self::dma_unmap). Prefer
    /// [`dma_map_slice`](Self::dma_map_slice).
    pub unsafe fn dma_map(&self, data: *mut c_void, size: usize) -> Result<()> {
        self.dma_map_raw(data, size)
    }

    fn dma_map_raw(&self, data: *mut c_void, size: usize) -> Result<()> {
        let mut a = sys::PJRT_Client_DmaMap_Args::new();
        a.client = self.raw();
        a.data = data;
        a.size = size;
        call!(self.api(), PJRT_Client_DmaMap, &mut a)
    }

    fn dma_unmap_raw(&self, data: *mut c_void) -> Result<()> {
        let mut a = sys::PJRT_Client_DmaUnmap_Args::new();
        a.client = self.raw();
        a.data = data;
        call!(self.api(), PJRT_Client_DmaUnmap, &mut a)
    }

    /// Unregisters memory mapped by [`dma_map`](Self::dma_map) (`PJRT_Client_DmaUnmap`).
    ///
    /// # Safety
    /// `data` must have been mapped, and no transfer may still use it.
    pub unsafe fn dma_unmap(&self, data: *mut c_void) -> Result<()> {
        self.dma_unmap_raw(data)
    }

    /// Maps a slice for DMA for as long as the guard lives (unmapped on drop).
    pub fn dma_map_slice<'a>(&'a self, data: &'a mut [u8]) -> Result<DmaMapping<'a>> {
        let p = data.as_mut_ptr().cast::<c_void>();
        // The slice is borrowed mutably for the guard's life and unmapped in Drop.
        self.dma_map_raw(p, data.len())?;
        Ok(DmaMapping { client: self, data })
    }
}

/// A DMA-mapped host slice; unmapped on drop.
pub struct DmaMapping<'a> {
    client: &'a Client,
    data: &'a mut [u8],
}

impl DmaMapping<'_> {
    /// The mapped bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        self.data
    }
}

impl Drop for DmaMapping<'_> {
    fn drop(&mut self) {
        // Mapped in `dma_map_slice`; no transfer outlives the guard's borrow.
        let _ = self.client.dma_unmap_raw(self.data.as_mut_ptr().cast());
    }
}
