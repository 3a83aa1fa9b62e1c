//! Host arrays in a caller-chosen dimension order (row-major, column-major or any other
//! dense order): into a buffer through the plugin's strided host transfer, and out of one
//! through its host-layout transfer, with no reordering copy on our side.

use std::ffi::c_void;

use pjrt_sys as sys;

use crate::buffer::from_host::BufferPlacement;
use crate::buffer::handle::Buffer;
use crate::buffer::layout::{MemoryLayout, RawLayout};
use crate::client::Client;
use crate::device::Event;
use crate::error::{Error, Result};
use crate::literal::{as_bytes, as_bytes_mut, element_count};
use crate::plugin::call;
use crate::types::NativeType;

impl MemoryLayout {
    /// The dense column-major layout of a given rank (`minor_to_major = 0, 1, ..., rank-1`:
    /// the first index varies fastest, as in Fortran and most BLAS arrays).
    pub fn column_major(rank: usize) -> MemoryLayout {
        MemoryLayout::Tiled {
            minor_to_major: (0..rank as i64).collect(),
            tiles: Vec::new(),
        }
    }
}

/// The byte strides of a dense array of `dims` whose dimensions are laid out in
/// `minor_to_major` order, checked: `minor_to_major` must be a permutation of `0..rank`.
fn dense_strides(
    op: &'static str,
    dims: &[i64],
    minor_to_major: &[i64],
    elem: usize,
) -> Result<Vec<i64>> {
    let rank = dims.len();
    if !super::layout::is_permutation(minor_to_major, rank) {
        return Err(Error::InvalidArgument(format!(
            "{op}: minor_to_major {minor_to_major:?} is not a permutation of 0..{rank} (dims {dims:?})"
        )));
    }
    let mut strides = vec![0i64; rank];
    let mut step = elem as i64;
    for &d in minor_to_major {
        strides[d as usize] = step;
        step = step.saturating_mul(dims[d as usize].max(1));
    }
    Ok(strides)
}

impl Client {
    /// Copies a dense host array whose dimensions are laid out in `minor_to_major` order
    /// (`[0, 1]` for a column-major matrix, `[1, 0]` for row-major) into a new buffer: the
    /// plugin reads it through byte strides, so no reordered copy is made here. `data` holds
    /// the product of `dims` elements; the buffer has the logical `dims`.
    pub fn buffer_from_host_in_order<T: NativeType>(
        &self,
        data: &[T],
        dims: &[i64],
        minor_to_major: &[i64],
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        const OP: &str = "buffer_from_host_in_order";
        let n = element_count(OP, dims)?;
        if n != data.len() {
            return Err(Error::HostSizeMismatch {
                op: OP,
                unit: "elements",
                element_type: T::ELEMENT_TYPE,
                dims: dims.to_vec(),
                expected: n,
                actual: data.len(),
            });
        }
        let strides = dense_strides(OP, dims, minor_to_major, std::mem::size_of::<T>())?;
        let bytes = as_bytes(data);
        let (device, memory) = self.placement_raw(OP, placement)?;
        let mut a = sys::PJRT_Client_BufferFromHostBuffer_Args::new();
        a.client = self.raw();
        a.data = bytes.as_ptr().cast::<c_void>();
        a.type_ = T::ELEMENT_TYPE.to_raw();
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.byte_strides = strides.as_ptr();
        a.num_byte_strides = strides.len();
        a.host_buffer_semantics = sys::PJRT_HostBufferSemantics_kImmutableOnlyDuringCall;
        a.device = device;
        a.memory = memory;
        // The strides describe a permutation of a dense array of exactly `data.len()`
        // elements, so every byte the plugin reads lies inside `data`, which is borrowed
        // (and copied, ImmutableOnlyDuringCall) for the call.
        call!(self.api(), PJRT_Client_BufferFromHostBuffer, &mut a)?;
        let buffer = Buffer::wrap(self, a.buffer, Some((T::ELEMENT_TYPE, dims.to_vec())));
        if let Some(done) = Event::from_raw(self.plugin(), a.done_with_host_buffer) {
            done.wait()?;
        }
        Ok(buffer)
    }
}

impl Buffer {
    /// Copies the buffer's elements into `dst` laid out in `minor_to_major` order (`[0, 1]`:
    /// a column-major matrix), through the plugin's host-layout transfer (no reordered copy
    /// here). `dst` must hold exactly the buffer's element count.
    pub fn copy_to_host_in_order<T: NativeType>(
        &self,
        dst: &mut [T],
        minor_to_major: &[i64],
    ) -> Result<()> {
        const OP: &str = "Buffer::copy_to_host_in_order";
        let (et, dims) = self.meta()?;
        if *et != T::ELEMENT_TYPE {
            return Err(Error::ElementTypeMismatch {
                op: OP,
                expected: T::ELEMENT_TYPE,
                actual: *et,
            });
        }
        let n = element_count(OP, dims)?;
        if n != dst.len() {
            return Err(Error::HostSizeMismatch {
                op: OP,
                unit: "elements",
                element_type: *et,
                dims: dims.clone(),
                expected: n,
                actual: dst.len(),
            });
        }
        dense_strides(OP, dims, minor_to_major, std::mem::size_of::<T>())?;
        self.copy_bytes_in_order(OP, as_bytes_mut(dst), minor_to_major)
    }

    /// The dimension order of the buffer's device layout, when it is a dense untiled one.
    fn device_order(&self) -> Result<Option<Vec<i64>>> {
        Ok(match self.layout()? {
            MemoryLayout::Tiled {
                minor_to_major,
                tiles,
            } if tiles.is_empty() => Some(minor_to_major),
            _ => None,
        })
    }

    /// Copies the elements into `dst` (exactly the buffer's dense size, checked by the
    /// caller) in `minor_to_major` order (a checked permutation). When that is the device's
    /// own order the plugin copies as is; otherwise it is asked for a host layout, which the
    /// CPU plugins honour from PJRT API 0.106 (0.81 ignores it and copies in the device's
    /// order, so there this is [`Error::Unimplemented`] rather than wrong data).
    pub(crate) fn copy_bytes_in_order(
        &self,
        op: &'static str,
        dst: &mut [u8],
        minor_to_major: &[i64],
    ) -> Result<()> {
        self.check_live(op)?;
        let same = self.device_order()?.as_deref() == Some(minor_to_major);
        let version = self.client().plugin().api_version();
        if !same && version.major == 0 && version.minor < 106 {
            return Err(Error::Unimplemented {
                function: "PJRT_Buffer_ToHostBuffer with a host layout",
                plugin_version: version,
            });
        }
        let layout = MemoryLayout::Tiled {
            minor_to_major: minor_to_major.to_vec(),
            tiles: Vec::new(),
        };
        let mut raw = RawLayout::new(op, &layout, minor_to_major.len())?;
        let mut a = sys::PJRT_Buffer_ToHostBuffer_Args::new();
        a.src = self.raw();
        a.host_layout = if same {
            std::ptr::null_mut()
        } else {
            raw.ptr()
        };
        a.dst = dst.as_mut_ptr().cast();
        a.dst_size = dst.len();
        call!(self.client().api(), PJRT_Buffer_ToHostBuffer, &mut a)?;
        // The plugin writes into `dst` (and reads the layout) until the event fires.
        let r = match Event::from_raw(self.client().plugin(), a.event) {
            Some(e) => e.wait(),
            None => Ok(()),
        };
        drop(raw);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_of_dense_orders() {
        // f32[2,3]: row-major strides (12, 4), column-major (4, 8).
        assert_eq!(
            dense_strides("t", &[2, 3], &[1, 0], 4).unwrap(),
            vec![12, 4]
        );
        assert_eq!(dense_strides("t", &[2, 3], &[0, 1], 4).unwrap(), vec![4, 8]);
        let e = dense_strides("t", &[2, 3], &[0, 0], 4).unwrap_err();
        assert!(
            e.to_string()
                .contains("[0, 0] is not a permutation of 0..2"),
            "{e}"
        );
        assert!(dense_strides("t", &[2, 3], &[0], 4).is_err());
        assert!(dense_strides("t", &[2, 3], &[0, 2], 4).is_err());
    }
}
