//! Reading buffers back to the host: typed and raw copies into caller memory or new
//! vectors and literals, and raw copies whose destination is given later.

use std::ffi::c_void;

use pjrt_sys as sys;

use crate::buffer::handle::Buffer;
use crate::buffer::layout::MemoryLayout;
use crate::device::Event;
use crate::error::{Error, ErrorCode, Result};
use crate::literal::{as_bytes_mut, dense_byte_size, element_count, zeroed_vec, Literal};
use crate::plugin::call;
use crate::types::NativeType;

impl Buffer {
    /// Copies the buffer's elements (dense, row-major) into `dst`, which must hold exactly
    /// the buffer's size in bytes. The fast path: no allocation. A buffer whose device layout
    /// is not row-major (a result compiled with another layout) is read through a row-major
    /// host layout, which the CPU plugins honour from PJRT API 0.106 (on 0.81 that is an
    /// `Unimplemented` error rather than data in the wrong order).
    pub fn copy_to_host_bytes(&self, dst: &mut [u8]) -> Result<()> {
        let (et, dims) = self.meta()?;
        let expected = dense_byte_size("Buffer::copy_to_host", *et, dims)?;
        if expected != dst.len() {
            return Err(Error::HostSizeMismatch {
                op: "Buffer::copy_to_host",
                unit: "bytes",
                element_type: *et,
                dims: dims.clone(),
                expected,
                actual: dst.len(),
            });
        }
        self.check_live("Buffer::copy_to_host")?;
        self.check_readable("Buffer::copy_to_host")?;
        // A buffer in another device layout (a column-major result, ...) is copied out
        // row-major through a host layout: without one the plugins copy the device's order.
        let rank = dims.len();
        let row_major: Vec<i64> = (0..rank as i64).rev().collect();
        if rank > 1 && self.layout()? != MemoryLayout::row_major(rank) {
            return self.copy_bytes_in_order("Buffer::copy_to_host", dst, &row_major);
        }
        let mut a = sys::PJRT_Buffer_ToHostBuffer_Args::new();
        a.src = self.raw();
        a.dst = dst.as_mut_ptr().cast();
        a.dst_size = dst.len();
        call!(self.client().api(), PJRT_Buffer_ToHostBuffer, &mut a)?;
        // The plugin writes into `dst` until the event fires: wait while we hold the borrow.
        match Event::from_raw(self.client().plugin(), a.event) {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }

    /// Copies the elements into a caller's slice of the matching type and length.
    pub fn copy_to_host<T: NativeType>(&self, dst: &mut [T]) -> Result<()> {
        let et = self.element_type()?;
        if et != T::ELEMENT_TYPE {
            return Err(Error::ElementTypeMismatch {
                op: "Buffer::copy_to_host",
                expected: T::ELEMENT_TYPE,
                actual: et,
            });
        }
        self.copy_to_host_bytes(as_bytes_mut(dst))
    }

    /// The elements as a new `Vec<T>` (one copy, straight into the vector).
    pub fn to_vec<T: NativeType>(&self) -> Result<Vec<T>> {
        let (et, dims) = self.meta()?;
        if *et != T::ELEMENT_TYPE {
            return Err(Error::ElementTypeMismatch {
                op: "Buffer::to_vec",
                expected: T::ELEMENT_TYPE,
                actual: *et,
            });
        }
        let n = element_count("Buffer::to_vec", dims)?;
        self.check_readable("Buffer::to_vec")?;
        let mut v: Vec<T> = zeroed_vec("Buffer::to_vec", n)?;
        self.copy_to_host_bytes(as_bytes_mut(&mut v))?;
        Ok(v)
    }

    /// The elements as raw dense row-major bytes.
    pub fn to_host_bytes(&self) -> Result<Vec<u8>> {
        let (et, dims) = self.meta()?;
        let n = dense_byte_size("Buffer::to_host", *et, dims)?;
        self.check_readable("Buffer::to_host")?;
        let mut v: Vec<u8> = zeroed_vec("Buffer::to_host", n)?;
        self.copy_to_host_bytes(&mut v)?;
        Ok(v)
    }

    /// The buffer's contents as a [`Literal`].
    pub fn to_literal(&self) -> Result<Literal> {
        let (et, dims) = self.meta()?.clone();
        Literal::from_bytes(et, &dims, self.to_host_bytes()?)
    }

    /// Copies raw on-device bytes `[offset, offset + dst.len())` into `dst` (device layout,
    /// no conversion).
    pub fn copy_raw_to_host(&self, offset: usize, dst: &mut [u8]) -> Result<()> {
        self.check_live("Buffer::copy_raw_to_host")?;
        self.check_readable("Buffer::copy_raw_to_host")?;
        let size = self.on_device_size()?;
        if offset.checked_add(dst.len()).is_none_or(|end| end > size) {
            return Err(Error::InvalidArgument(format!(
                "Buffer::copy_raw_to_host: bytes [{offset}, {offset}+{}) exceed the buffer's {size} bytes",
                dst.len()
            )));
        }
        let mut a = sys::PJRT_Buffer_CopyRawToHost_Args::new();
        a.buffer = self.raw();
        a.dst = dst.as_mut_ptr().cast();
        a.offset = i64::try_from(offset)
            .map_err(|_| Error::InvalidArgument(format!("offset {offset} too large")))?;
        a.transfer_size = dst.len() as i64;
        call!(self.client().api(), PJRT_Buffer_CopyRawToHost, &mut a)?;
        match Event::from_raw(self.client().plugin(), a.event) {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }

    /// Starts a raw copy of device bytes `[offset, offset + len)` whose destination is given
    /// later with [`PendingRawCopy::complete`] (`PJRT_Buffer_CopyRawToHostFuture`).
    pub fn copy_raw_to_host_future(&self, offset: usize, len: usize) -> Result<PendingRawCopy> {
        self.check_live("Buffer::copy_raw_to_host_future")?;
        self.check_readable("Buffer::copy_raw_to_host_future")?;
        let size = self.on_device_size()?;
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::InvalidArgument(format!(
                "Buffer::copy_raw_to_host_future: bytes [{offset}, {offset}+{len}) exceed the buffer's {size} bytes"
            )));
        }
        let mut a = sys::PJRT_Buffer_CopyRawToHostFuture_Args::new();
        a.buffer = self.raw();
        a.offset = offset as i64;
        a.transfer_size = len as i64;
        call!(self.client().api(), PJRT_Buffer_CopyRawToHostFuture, &mut a)?;
        Ok(PendingRawCopy {
            event: Event::from_raw(self.client().plugin(), a.event),
            data: a.callback_data,
            cb: a.future_ready_callback,
            len,
            done: false,
        })
    }
}

/// A raw device-to-host copy waiting for its destination.
pub struct PendingRawCopy {
    event: Option<Event>,
    data: *mut c_void,
    cb: Option<unsafe extern "C" fn(*mut sys::PJRT_Buffer_CopyRawToHostFuture_Callback_Args)>,
    len: usize,
    done: bool,
}

// SAFETY: the plugin's callback may be invoked from any thread, once.
unsafe impl Send for PendingRawCopy {}

impl PendingRawCopy {
    /// The number of bytes the copy writes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the copy is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives the destination, waits for the copy, returns the filled bytes.
    pub fn complete(mut self) -> Result<Vec<u8>> {
        // On failure `self` drops here, which cancels the copy.
        let mut dst: Vec<u8> = zeroed_vec("PendingRawCopy::complete", self.len)?;
        self.done = true;
        let Some(cb) = self.cb else {
            return Err(Error::InvalidArgument(
                "PJRT_Buffer_CopyRawToHostFuture returned no callback".into(),
            ));
        };
        let mut a = sys::PJRT_Buffer_CopyRawToHostFuture_Callback_Args::new();
        a.callback_data = self.data;
        a.error_code = ErrorCode::Ok.to_raw();
        a.dst = dst.as_mut_ptr().cast();
        // SAFETY: the plugin's callback with its data, once; `dst` stays alive and unmoved
        // until the event below fires.
        unsafe { cb(&mut a) };
        if let Some(e) = self.event.take() {
            e.wait()?;
        }
        Ok(dst)
    }
}

impl Drop for PendingRawCopy {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(cb) = self.cb {
            let msg = "raw copy dropped before a destination was given";
            let mut a = sys::PJRT_Buffer_CopyRawToHostFuture_Callback_Args::new();
            a.callback_data = self.data;
            a.error_code = ErrorCode::Cancelled.to_raw();
            a.error_message = msg.as_ptr().cast();
            a.error_message_size = msg.len();
            // SAFETY: once, with an error and no destination.
            unsafe { cb(&mut a) };
        }
        if let Some(e) = self.event.take() {
            let _ = e.wait();
        }
    }
}
