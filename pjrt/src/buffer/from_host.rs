//! Buffers from host data: the semantics of handing host memory to the plugin, where a new
//! buffer goes, and the client's transfers from typed slices, bytes, shared or owned data
//! and literals.

use std::ffi::c_void;
use std::sync::Arc;

use pjrt_sys as sys;

use crate::buffer::handle::{keep_until_done, Buffer};
use crate::client::Client;
use crate::device::{Device, Event, Memory};
use crate::error::{Error, Result};
use crate::literal::{as_bytes, dense_byte_size, element_count, Literal};
use crate::plugin::call;
use crate::types::{ElementType, NativeType};

/// How the plugin may use host data handed to it (`PJRT_HostBufferSemantics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostBufferSemantics {
    /// The plugin copies the data during the call.
    ImmutableOnlyDuringCall,
    /// The plugin may read the data until the transfer completes.
    ImmutableUntilTransferCompletes,
    /// The buffer may alias the data, read-only, for its whole life.
    ImmutableZeroCopy,
    /// The buffer may alias the data and write to it, for its whole life.
    MutableZeroCopy,
}

impl HostBufferSemantics {
    fn to_raw(self) -> sys::PJRT_HostBufferSemantics {
        match self {
            HostBufferSemantics::ImmutableOnlyDuringCall => {
                sys::PJRT_HostBufferSemantics_kImmutableOnlyDuringCall
            }
            HostBufferSemantics::ImmutableUntilTransferCompletes => {
                sys::PJRT_HostBufferSemantics_kImmutableUntilTransferCompletes
            }
            HostBufferSemantics::ImmutableZeroCopy => {
                sys::PJRT_HostBufferSemantics_kImmutableZeroCopy
            }
            HostBufferSemantics::MutableZeroCopy => sys::PJRT_HostBufferSemantics_kMutableZeroCopy,
        }
    }
}

/// Where a new buffer goes: a device (default: the client's first addressable device) and
/// optionally a specific memory of it.
#[derive(Debug, Clone, Default)]
pub struct BufferPlacement {
    /// The device.
    pub device: Option<Device>,
    /// The memory (overrides the device's default memory).
    pub memory: Option<Memory>,
}

impl BufferPlacement {
    /// On this device.
    pub fn device(device: &Device) -> BufferPlacement {
        BufferPlacement {
            device: Some(device.clone()),
            memory: None,
        }
    }

    /// In this memory.
    pub fn memory(memory: &Memory) -> BufferPlacement {
        BufferPlacement {
            device: None,
            memory: Some(memory.clone()),
        }
    }
}

impl Client {
    /// The device and memory pointers a placement names, after checking that both belong
    /// to this client (`function` names the caller in the error): the device (none when
    /// the placement names only a memory, else the first addressable device) and the
    /// memory (null for the device's default).
    pub(crate) fn placement_raw(
        &self,
        function: &'static str,
        placement: &BufferPlacement,
    ) -> Result<(*mut sys::PJRT_Device, *mut sys::PJRT_Memory)> {
        if let Some(d) = &placement.device {
            self.check_owns(function, "the placement's device", d.client())?;
        }
        if let Some(m) = &placement.memory {
            self.check_owns(function, "the placement's memory", m.client())?;
        }
        let device = match (&placement.device, &placement.memory) {
            (Some(d), _) => d.raw,
            (None, Some(_)) => std::ptr::null_mut(),
            (None, None) => self.first_device()?.raw,
        };
        let memory = placement
            .memory
            .as_ref()
            .map_or(std::ptr::null_mut(), |m| m.raw);
        Ok((device, memory))
    }

    /// The shared path of every host-to-device transfer.
    ///
    /// # Safety
    /// `data` must point to `len` readable bytes that stay valid (and unchanged, or changed
    /// only by the plugin for `MutableZeroCopy`) as long as `semantics` requires.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn transfer_from_host(
        &self,
        op: &'static str,
        element_type: ElementType,
        data: *const u8,
        len: usize,
        dims: &[i64],
        semantics: HostBufferSemantics,
        placement: &BufferPlacement,
    ) -> Result<(Buffer, Option<Event>)> {
        let expected = dense_byte_size(op, element_type, dims)?;
        if expected != len {
            let size = element_type.byte_size().unwrap_or(1).max(1);
            // Count elements when the data is whole elements, else bytes (and say so).
            let (unit, expected, actual) = if len % size == 0 {
                ("elements", expected / size, len / size)
            } else {
                ("bytes", expected, len)
            };
            return Err(Error::HostSizeMismatch {
                op,
                unit,
                element_type,
                dims: dims.to_vec(),
                expected,
                actual,
            });
        }
        let (device, memory) = self.placement_raw(op, placement)?;
        let mut a = sys::PJRT_Client_BufferFromHostBuffer_Args::new();
        a.client = self.raw();
        a.data = data.cast::<c_void>();
        a.type_ = element_type.to_raw();
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.host_buffer_semantics = semantics.to_raw();
        a.device = device;
        a.memory = memory;
        call!(self.api(), PJRT_Client_BufferFromHostBuffer, &mut a)?;
        let buffer = Buffer::wrap(self, a.buffer, Some((element_type, dims.to_vec())));
        let done = Event::from_raw(self.plugin(), a.done_with_host_buffer);
        Ok((buffer, done))
    }

    /// Copies typed host data into a new buffer on the first addressable device.
    /// `data.len()` must equal the product of `dims`.
    pub fn buffer_from_host<T: NativeType>(&self, data: &[T], dims: &[i64]) -> Result<Buffer> {
        self.buffer_from_host_with(
            data,
            dims,
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::default(),
        )
    }

    /// Copies borrowed typed host data into a new buffer, with a placement and one of the
    /// two copying semantics. For `ImmutableUntilTransferCompletes` this waits for the
    /// transfer before returning, so the borrow ends with the call. The zero-copy semantics
    /// need data the buffer can keep: use [`buffer_from_shared`](Self::buffer_from_shared)
    /// or [`buffer_from_vec`](Self::buffer_from_vec).
    pub fn buffer_from_host_with<T: NativeType>(
        &self,
        data: &[T],
        dims: &[i64],
        semantics: HostBufferSemantics,
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        let n = element_count("buffer_from_host", dims)?;
        if n != data.len() {
            return Err(Error::HostSizeMismatch {
                op: "buffer_from_host",
                unit: "elements",
                element_type: T::ELEMENT_TYPE,
                dims: dims.to_vec(),
                expected: n,
                actual: data.len(),
            });
        }
        self.buffer_from_bytes_with(T::ELEMENT_TYPE, as_bytes(data), dims, semantics, placement)
    }

    /// Copies raw row-major bytes of any element type with a dense host form into a buffer.
    pub fn buffer_from_bytes(
        &self,
        element_type: ElementType,
        data: &[u8],
        dims: &[i64],
    ) -> Result<Buffer> {
        self.buffer_from_bytes_with(
            element_type,
            data,
            dims,
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::default(),
        )
    }

    /// Raw bytes, with semantics and placement (see [`buffer_from_host_with`](Self::buffer_from_host_with)).
    pub fn buffer_from_bytes_with(
        &self,
        element_type: ElementType,
        data: &[u8],
        dims: &[i64],
        semantics: HostBufferSemantics,
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        match semantics {
            HostBufferSemantics::ImmutableOnlyDuringCall | HostBufferSemantics::ImmutableUntilTransferCompletes => {}
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "buffer_from_host: {semantics:?} would let the buffer alias borrowed data; use buffer_from_shared or buffer_from_vec"
                )))
            }
        }
        // SAFETY: `data` is borrowed for this call; with UntilTransferCompletes we wait for the
        // plugin's "done with host buffer" event below before the borrow ends.
        let (buffer, done) = unsafe {
            self.transfer_from_host(
                "buffer_from_host",
                element_type,
                data.as_ptr(),
                data.len(),
                dims,
                semantics,
                placement,
            )?
        };
        if let Some(done) = done {
            if semantics == HostBufferSemantics::ImmutableUntilTransferCompletes {
                done.wait()?;
            }
        }
        Ok(buffer)
    }

    /// A buffer from shared, immutable host data, with any immutable semantics. With
    /// `ImmutableZeroCopy` the buffer may alias `data`; the `Arc` is released when the plugin
    /// says it is done with it.
    pub fn buffer_from_shared<T: NativeType>(
        &self,
        data: Arc<[T]>,
        dims: &[i64],
        semantics: HostBufferSemantics,
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        if semantics == HostBufferSemantics::MutableZeroCopy {
            return Err(Error::InvalidArgument(
                "buffer_from_shared: MutableZeroCopy needs exclusively owned data; use buffer_from_vec".into(),
            ));
        }
        let (ptr, len) = (data.as_ptr().cast::<u8>(), std::mem::size_of_val(&*data));
        self.check_count::<T>(data.len(), dims)?;
        // SAFETY: the data stays alive (the Arc is kept) and is never mutated (shared).
        let (buffer, done) = unsafe {
            self.transfer_from_host(
                "buffer_from_shared",
                T::ELEMENT_TYPE,
                ptr,
                len,
                dims,
                semantics,
                placement,
            )?
        };
        Ok(keep_until_done(buffer, done, Box::new(data)))
    }

    /// A buffer that may alias (and, on CPU, write into) owned host data: `MutableZeroCopy`.
    /// The vector is dropped when the plugin is done with it.
    pub fn buffer_from_vec<T: NativeType>(
        &self,
        mut data: Vec<T>,
        dims: &[i64],
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        self.check_count::<T>(data.len(), dims)?;
        let len = std::mem::size_of_val(data.as_slice());
        let ptr = data.as_mut_ptr().cast::<u8>().cast_const();
        // SAFETY: the Vec is moved into the owner below and kept until the plugin is done;
        // moving a Vec does not move its heap data, and nobody else can reach it.
        let (buffer, done) = unsafe {
            self.transfer_from_host(
                "buffer_from_vec",
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

    /// A buffer holding a literal's data, on the first addressable device.
    pub fn buffer_from_literal(&self, literal: &Literal) -> Result<Buffer> {
        self.buffer_from_bytes(literal.element_type(), literal.as_bytes(), literal.dims())
    }

    /// A copy of `src`, a buffer of another client, made through host memory: read there,
    /// written here (on `device` or in `memory`), owned by this client.
    pub(crate) fn copy_from_client(
        &self,
        op: &'static str,
        src: &Buffer,
        device: Option<&Device>,
        memory: Option<&Memory>,
    ) -> Result<Buffer> {
        src.check_readable(op)?;
        let (et, dims) = src.meta()?.clone();
        let bytes = src.to_host_bytes()?;
        let placement = BufferPlacement {
            device: device.cloned(),
            memory: memory.cloned(),
        };
        self.buffer_from_bytes_with(
            et,
            &bytes,
            &dims,
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &placement,
        )
    }

    fn check_count<T: NativeType>(&self, len: usize, dims: &[i64]) -> Result<()> {
        let n = element_count("buffer_from_host", dims)?;
        if n != len {
            return Err(Error::HostSizeMismatch {
                op: "buffer_from_host",
                unit: "elements",
                element_type: T::ELEMENT_TYPE,
                dims: dims.to_vec(),
                expected: n,
                actual: len,
            });
        }
        Ok(())
    }
}
