//! Device buffers: made from host data, read back to the host, copied between devices.

use std::any::Any;
use std::ffi::c_void;
use std::fmt;
use std::sync::{Arc, OnceLock};

use pjrt_sys as sys;

use crate::device::{Device, Memory};
use crate::error::{Error, ErrorCode, Result};
use crate::event::Event;
use crate::literal::{as_bytes, as_bytes_mut, dense_byte_size, element_count};
use crate::plugin::{call, vec_from_raw};
use crate::{Client, ElementType, Literal, NativeType};

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

/// The memory layout of a buffer on its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryLayout {
    /// Tiled: dimension order minor-to-major, and tiles (each a list of tile dims).
    Tiled {
        /// Dimension order, minor to major.
        minor_to_major: Vec<i64>,
        /// Tiles, outermost first.
        tiles: Vec<Vec<i64>>,
    },
    /// Explicit byte strides per dimension.
    Strides {
        /// Byte strides.
        byte_strides: Vec<i64>,
    },
}

/// Host data a zero-copy buffer aliases, kept alive until the plugin is done with it.
type HostOwner = Box<dyn Any + Send + Sync>;

/// An array on a device. Keeps its client alive.
pub struct Buffer {
    raw: *mut sys::PJRT_Buffer,
    client: Client,
    meta: OnceLock<(ElementType, Vec<i64>)>,
    // Host data a zero-copy buffer aliases when the plugin gave no "done" event to hand it to.
    _host_owner: Option<HostOwner>,
}

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

impl Client {
    /// The device a placement names: its device, none when it names only a memory, else the
    /// first addressable device.
    pub(crate) fn target_device(
        &self,
        placement: &BufferPlacement,
    ) -> Result<*mut sys::PJRT_Device> {
        match (&placement.device, &placement.memory) {
            (Some(d), _) => Ok(d.raw),
            (None, Some(_)) => Ok(std::ptr::null_mut()),
            (None, None) => Ok(self.first_device()?.raw),
        }
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
        let device = self.target_device(placement)?;
        let mut a = sys::PJRT_Client_BufferFromHostBuffer_Args::new();
        a.client = self.raw();
        a.data = data.cast::<c_void>();
        a.type_ = element_type.to_raw();
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.host_buffer_semantics = semantics.to_raw();
        a.device = device;
        a.memory = placement
            .memory
            .as_ref()
            .map_or(std::ptr::null_mut(), |m| m.raw);
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

    /// A buffer that holds an error instead of data: every use of it reports `code` and
    /// `message`. Lands in `memory`, or the first device's default memory.
    /// (`PJRT_Client_CreateErrorBuffer`, API 0.85+: older plugins give `Unimplemented`.)
    pub fn create_error_buffer(
        &self,
        code: ErrorCode,
        message: &str,
        element_type: ElementType,
        dims: &[i64],
        memory: Option<&Memory>,
    ) -> Result<Buffer> {
        if code == ErrorCode::Ok {
            return Err(Error::InvalidArgument(
                "create_error_buffer: the code must not be OK".into(),
            ));
        }
        element_count("create_error_buffer", dims)?;
        let mut a = sys::PJRT_Client_CreateErrorBuffer_Args::new();
        a.client = self.raw();
        a.error_code = code.to_raw();
        a.error_message = message.as_ptr().cast();
        a.error_message_size = message.len();
        a.shape_dims = dims.as_ptr();
        a.shape_num_dims = dims.len();
        a.shape_element_type = element_type.to_raw();
        // A dense row-major layout: without one, reading the buffer back aborts the 0.106
        // plugin (`Check failed: LayoutUtil::HasLayout`).
        let minor_to_major: Vec<i64> = (0..dims.len() as i64).rev().collect();
        let mut layout = sys::PJRT_Buffer_MemoryLayout::new();
        layout.type_ = sys::PJRT_Buffer_MemoryLayout_Type_Tiled;
        let mut tiled = sys::PJRT_Buffer_MemoryLayout_Tiled::new();
        tiled.minor_to_major = minor_to_major.as_ptr();
        tiled.minor_to_major_size = minor_to_major.len();
        layout.layout.tiled = tiled;
        a.shape_layout = &mut layout;
        // Check the slot before looking up a memory, so a missing function reports itself.
        if !self.plugin().has_function("PJRT_Client_CreateErrorBuffer") {
            return Err(self.api().unimplemented("PJRT_Client_CreateErrorBuffer"));
        }
        let memory = match memory {
            Some(m) => m.clone(),
            None => self.first_device()?.default_memory()?,
        };
        a.memory = memory.raw;
        call!(self.api(), PJRT_Client_CreateErrorBuffer, &mut a)?;
        Ok(Buffer::wrap(
            self,
            a.buffer,
            Some((element_type, dims.to_vec())),
        ))
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
            _host_owner: None,
        }
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
        let mut a = sys::PJRT_Buffer_Device_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_Device, &mut a)?;
        Ok(Device::new(&self.client, a.device))
    }

    /// The memory holding the buffer.
    pub fn memory(&self) -> Result<Memory> {
        let mut a = sys::PJRT_Buffer_Memory_Args::new();
        a.buffer = self.raw;
        call!(self.client.api(), PJRT_Buffer_Memory, &mut a)?;
        Ok(Memory::new(&self.client, a.memory))
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
    pub fn copy_to_device(&self, device: &Device) -> Result<Buffer> {
        self.check_live("Buffer::copy_to_device")?;
        let mut a = sys::PJRT_Buffer_CopyToDevice_Args::new();
        a.buffer = self.raw;
        a.dst_device = device.raw;
        call!(self.client.api(), PJRT_Buffer_CopyToDevice, &mut a)?;
        Ok(Buffer::wrap(
            &self.client,
            a.dst_buffer,
            self.meta.get().cloned(),
        ))
    }

    /// Copies the buffer to another memory.
    pub fn copy_to_memory(&self, memory: &Memory) -> Result<Buffer> {
        self.check_live("Buffer::copy_to_memory")?;
        let mut a = sys::PJRT_Buffer_CopyToMemory_Args::new();
        a.buffer = self.raw;
        a.dst_memory = memory.raw;
        call!(self.client.api(), PJRT_Buffer_CopyToMemory, &mut a)?;
        Ok(Buffer::wrap(
            &self.client,
            a.dst_buffer,
            self.meta.get().cloned(),
        ))
    }

    /// Copies the buffer's elements (dense, row-major) into `dst`, which must hold exactly
    /// the buffer's size in bytes. The fast path: no allocation.
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
        let mut a = sys::PJRT_Buffer_ToHostBuffer_Args::new();
        a.src = self.raw;
        a.dst = dst.as_mut_ptr().cast();
        a.dst_size = dst.len();
        call!(self.client.api(), PJRT_Buffer_ToHostBuffer, &mut a)?;
        // The plugin writes into `dst` until the event fires: wait while we hold the borrow.
        match Event::from_raw(self.client.plugin(), a.event) {
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
        // SAFETY: every bit pattern (zero included) is a valid `T` (NativeType's contract).
        let zero: T = unsafe { std::mem::zeroed() };
        let mut v = vec![zero; n];
        self.copy_to_host_bytes(as_bytes_mut(&mut v))?;
        Ok(v)
    }

    /// The elements as raw dense row-major bytes.
    pub fn to_host_bytes(&self) -> Result<Vec<u8>> {
        let (et, dims) = self.meta()?;
        let n = dense_byte_size("Buffer::to_host", *et, dims)?;
        let mut v = vec![0u8; n];
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
        let mut a = sys::PJRT_Buffer_CopyRawToHost_Args::new();
        a.buffer = self.raw;
        a.dst = dst.as_mut_ptr().cast();
        a.offset = i64::try_from(offset)
            .map_err(|_| Error::InvalidArgument(format!("offset {offset} too large")))?;
        a.transfer_size = dst.len() as i64;
        call!(self.client.api(), PJRT_Buffer_CopyRawToHost, &mut a)?;
        match Event::from_raw(self.client.plugin(), a.event) {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }
}
