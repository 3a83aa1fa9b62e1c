//! Host arrays aligned for zero-copy transfers.
//!
//! A CPU plugin aliases host memory (the zero-copy host-buffer semantics) only when the data
//! is aligned to its minimum alignment (Eigen's maximum alignment, at most 64 bytes);
//! otherwise it silently copies. A `Vec` from the global allocator is usually only 16-byte
//! aligned, so it is copied. [`AlignedVec`] is always 64-byte aligned.

use std::alloc::{self, Layout};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::buffer::from_host::{BufferPlacement, HostBufferSemantics};
use crate::buffer::handle::{keep_until_done, Buffer};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::NativeType;

/// The alignment of every [`AlignedVec`], in bytes.
pub const HOST_ALIGNMENT: usize = 64;

/// An owned, fixed-length, 64-byte-aligned host array that a CPU plugin can alias.
pub struct AlignedVec<T: NativeType> {
    ptr: NonNull<T>,
    len: usize,
}

// SAFETY: owns its elements like a Vec; `T: NativeType` is Send + Sync plain data.
unsafe impl<T: NativeType> Send for AlignedVec<T> {}
// SAFETY: as above; shared access only reads.
unsafe impl<T: NativeType> Sync for AlignedVec<T> {}

impl<T: NativeType> AlignedVec<T> {
    fn layout(len: usize) -> Result<Layout> {
        let size = len.checked_mul(std::mem::size_of::<T>()).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "AlignedVec: {len} elements overflow the address space"
            ))
        })?;
        Layout::from_size_align(size.max(1), HOST_ALIGNMENT.max(std::mem::align_of::<T>()))
            .map_err(|e| Error::InvalidArgument(format!("AlignedVec of {len} elements: {e}")))
    }

    /// `len` elements with every byte zero (a valid value of every [`NativeType`]).
    pub fn zeroed(len: usize) -> Result<AlignedVec<T>> {
        let layout = Self::layout(len)?;
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(raw.cast::<T>()).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "AlignedVec: cannot allocate {} bytes",
                layout.size()
            ))
        })?;
        Ok(AlignedVec { ptr, len })
    }

    /// A copy of `data`.
    pub fn from_slice(data: &[T]) -> Result<AlignedVec<T>> {
        let mut v = Self::zeroed(data.len())?;
        v.copy_from_slice(data);
        Ok(v)
    }

    /// The address of the first element (64-byte aligned).
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }
}

impl<T: NativeType> Drop for AlignedVec<T> {
    fn drop(&mut self) {
        if let Ok(layout) = Self::layout(self.len) {
            // SAFETY: allocated in `zeroed` with this same layout.
            unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), layout) }
        }
    }
}

impl<T: NativeType> Deref for AlignedVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `len` initialised elements (zeroed at allocation) owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: NativeType> DerefMut for AlignedVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: NativeType + fmt::Debug> fmt::Debug for AlignedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Client {
    /// A buffer that aliases shared, aligned host data (`ImmutableZeroCopy`): no copy on a
    /// CPU plugin. The `Arc` is released when the plugin says it is done with the memory
    /// (when the buffer is destroyed, if it aliased it).
    pub fn buffer_from_aligned<T: NativeType>(
        &self,
        data: Arc<AlignedVec<T>>,
        dims: &[i64],
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        let (ptr, len) = (data.as_ptr().cast::<u8>(), std::mem::size_of_val(&**data));
        // SAFETY: the data stays alive (the Arc is kept until the plugin is done) and cannot
        // be mutated while shared.
        let (buffer, done) = unsafe {
            self.transfer_from_host(
                "buffer_from_aligned",
                T::ELEMENT_TYPE,
                ptr,
                len,
                dims,
                HostBufferSemantics::ImmutableZeroCopy,
                placement,
            )?
        };
        Ok(keep_until_done(buffer, done, Box::new(data)))
    }

    /// A buffer that aliases owned, aligned host data and may write into it
    /// (`MutableZeroCopy`). The array is dropped when the plugin is done with it.
    pub fn buffer_from_aligned_mut<T: NativeType>(
        &self,
        mut data: AlignedVec<T>,
        dims: &[i64],
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        let len = std::mem::size_of_val(&*data);
        let ptr = data.as_mut_ptr().cast::<u8>().cast_const();
        // SAFETY: the array moves into the owner below (its heap memory does not move) and
        // nobody else can reach it until the plugin is done.
        let (buffer, done) = unsafe {
            self.transfer_from_host(
                "buffer_from_aligned_mut",
                T::ELEMENT_TYPE,
                ptr,
                len,
                dims,
                HostBufferSemantics::MutableZeroCopy,
                placement,
            )?
        };
        Ok(keep_until_done(buffer, done, Box::new(data)))
    }
}
