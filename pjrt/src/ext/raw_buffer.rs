//! The RawBuffer extension (GPU/TPU plugins): an untyped alias of a buffer's device memory
//! with raw host<->device copies.

use pjrt_sys as sys;
use sys::ext::raw_buffer as r;
use sys::ext::raw_buffer::PJRT_RawBuffer_Extension;

use crate::device::Event;
use crate::device::Memory;
use crate::error::{Error, Result};
use crate::plugin::{ext_call, extension_struct};
use crate::Buffer;

extension_struct!(
    /// The RawBuffer extension of a plugin.
    RawBuffer,
    sys::PJRT_Extension_Type_RawBuffer
);

/// An untyped alias of a buffer's memory; destroyed on drop. Keeps the buffer borrowed.
pub struct RawAlias<'a> {
    ext: RawBuffer,
    raw: *mut r::PJRT_RawBuffer,
    buffer: &'a Buffer,
}

impl RawBuffer {
    /// A raw alias of `buffer`'s device memory.
    pub fn alias<'a>(&self, buffer: &'a Buffer) -> Result<RawAlias<'a>> {
        buffer.check_live("RawBuffer::alias")?;
        let mut a = r::PJRT_RawBuffer_CreateRawAliasOfBuffer_Args::new();
        crate::plugin::check_owner(&self.h, "RawBuffer::alias", "`buffer`", buffer)?;
        a.buffer = buffer.raw();
        ext_call!(
            &self.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_CreateRawAliasOfBuffer,
            &mut a
        )?;
        Ok(RawAlias {
            ext: self.clone(),
            raw: a.raw_buffer,
            buffer,
        })
    }
}

impl Drop for RawAlias<'_> {
    fn drop(&mut self) {
        let mut a = r::PJRT_RawBuffer_Destroy_Args::new();
        a.buffer = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_Destroy,
            &mut a
        );
    }
}

impl RawAlias<'_> {
    /// Size of the memory in bytes.
    pub fn on_device_size(&self) -> Result<usize> {
        let mut a = r::PJRT_RawBuffer_GetOnDeviceSizeInBytes_Args::new();
        a.buffer = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_GetOnDeviceSizeInBytes,
            &mut a
        )?;
        Ok(a.on_device_size_in_bytes)
    }

    /// The memory space holding it.
    pub fn memory(&self) -> Result<Memory> {
        let mut a = r::PJRT_RawBuffer_GetMemorySpace_Args::new();
        a.buffer = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_GetMemorySpace,
            &mut a
        )?;
        Ok(Memory::new(self.buffer.client(), a.memory_space))
    }

    /// A host address of the memory, when the host can address it directly.
    ///
    /// # Safety
    /// Accesses through the pointer are untracked (see [`Buffer::unsafe_pointer`]).
    pub unsafe fn host_pointer(&self) -> Result<*mut std::ffi::c_void> {
        let mut a = r::PJRT_RawBuffer_GetHostPointer_Args::new();
        a.buffer = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_GetHostPointer,
            &mut a
        )?;
        Ok(a.host_pointer)
    }

    fn check(&self, offset: usize, len: usize) -> Result<()> {
        let size = self.on_device_size()?;
        if offset.checked_add(len).is_none_or(|e| e > size) {
            return Err(Error::InvalidArgument(format!(
                "RawAlias: bytes [{offset}, {offset}+{len}) exceed the buffer's {size} bytes"
            )));
        }
        Ok(())
    }

    /// Copies `src` into the device memory at `offset`; waits for the copy.
    pub fn copy_from_host(&self, offset: usize, src: &[u8]) -> Result<()> {
        self.check(offset, src.len())?;
        let mut a = r::PJRT_RawBuffer_CopyRawHostToDevice_Args::new();
        a.buffer = self.raw;
        a.src = src.as_ptr().cast();
        a.offset = offset as i64;
        a.transfer_size = src.len() as i64;
        ext_call!(
            &self.ext.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_CopyRawHostToDevice,
            &mut a
        )?;
        match Event::from_raw(self.buffer.client().plugin(), a.event) {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }

    /// Copies device bytes at `offset` into `dst`; waits for the copy.
    pub fn copy_to_host(&self, offset: usize, dst: &mut [u8]) -> Result<()> {
        self.check(offset, dst.len())?;
        let mut a = r::PJRT_RawBuffer_CopyRawDeviceToHost_Args::new();
        a.buffer = self.raw;
        a.dst = dst.as_mut_ptr().cast();
        a.offset = offset as i64;
        a.transfer_size = dst.len() as i64;
        ext_call!(
            &self.ext.h,
            PJRT_RawBuffer_Extension,
            PJRT_RawBuffer_CopyRawDeviceToHost,
            &mut a
        )?;
        match Event::from_raw(self.buffer.client().plugin(), a.event) {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }
}
