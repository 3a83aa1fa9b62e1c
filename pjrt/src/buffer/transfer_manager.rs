//! The asynchronous host-to-device transfer manager: device buffers whose contents arrive
//! later, piece by piece.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};

use pjrt_sys as sys;

use crate::buffer::handle::Buffer;
use crate::buffer::layout::{MemoryLayout, RawLayout};
use crate::buffer::pending::{Pending, PendingSet};
use crate::client::Client;
use crate::device::{Device, Event, Memory};
use crate::error::{dims_str, Error, ErrorCode, Result};
use crate::literal::{dense_byte_size, Literal};
use crate::plugin::{call, to_raw, Api, NamedValue};
use crate::types::ElementType;

/// The shape of one buffer a transfer manager makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeSpec {
    /// Element type.
    pub element_type: ElementType,
    /// Dims.
    pub dims: Vec<i64>,
}

impl ShapeSpec {
    /// A spec.
    pub fn new(element_type: ElementType, dims: &[i64]) -> ShapeSpec {
        ShapeSpec {
            element_type,
            dims: dims.to_vec(),
        }
    }
}

/// Makes device buffers whose contents arrive later, in pieces
/// (`PJRT_AsyncHostToDeviceTransferManager`). Retrieve each buffer once.
pub struct AsyncTransferManager {
    raw: *mut sys::PJRT_AsyncHostToDeviceTransferManager,
    client: Client,
    specs: Vec<ShapeSpec>,
    state: Mutex<Vec<BufferState>>,
    /// One per buffer: delivered by its last transfer, its error, or the manager's drop.
    pending: Vec<Arc<Pending>>,
}

#[derive(Clone, Copy, Default)]
struct BufferState {
    retrieved: bool,
    finished: bool,
}

// SAFETY: the transfer manager is thread-safe in PJRT; our own bookkeeping is behind a Mutex.
unsafe impl Send for AsyncTransferManager {}
// SAFETY: as above.
unsafe impl Sync for AsyncTransferManager {}

impl std::fmt::Debug for AsyncTransferManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AsyncTransferManager({:?}, {:?})",
            self.client, self.specs
        )
    }
}

impl Drop for AsyncTransferManager {
    fn drop(&mut self) {
        // A buffer that never got its last transfer would keep its readers waiting forever:
        // fail it instead.
        let unfinished: Vec<usize> = self
            .lock()
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.finished)
            .map(|(i, _)| i)
            .collect();
        for i in unfinished {
            let _ = self.set_buffer_error(
                i,
                ErrorCode::Cancelled,
                "the transfer manager was dropped before this buffer's last transfer",
            );
        }
        for p in &self.pending {
            p.deliver();
        }
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_Destroy_Args::new();
        a.transfer_manager = self.raw;
        let _ = call!(
            self.client.api(),
            PJRT_AsyncHostToDeviceTransferManager_Destroy,
            &mut a
        );
    }
}

impl Client {
    /// A transfer manager making one buffer per spec in `memory`, optionally with device
    /// layouts (one per spec).
    pub fn create_buffers_for_async_host_to_device(
        &self,
        specs: &[ShapeSpec],
        layouts: Option<&[MemoryLayout]>,
        memory: &Memory,
    ) -> Result<AsyncTransferManager> {
        if specs.is_empty() {
            return Err(Error::InvalidArgument(
                "create_buffers_for_async_host_to_device: no shape specs".into(),
            ));
        }
        self.check_owns(
            "create_buffers_for_async_host_to_device",
            "the memory",
            memory.client(),
        )?;
        for s in specs {
            dense_byte_size(
                "create_buffers_for_async_host_to_device",
                s.element_type,
                &s.dims,
            )?;
        }
        let mut raw_specs: Vec<sys::PJRT_ShapeSpec> = specs
            .iter()
            .map(|s| {
                let mut r = sys::PJRT_ShapeSpec::new();
                r.dims = s.dims.as_ptr();
                r.num_dims = s.dims.len();
                r.element_type = s.element_type.to_raw();
                r
            })
            .collect();
        let mut raw_layouts: Vec<Box<RawLayout>> = Vec::new();
        if let Some(ls) = layouts {
            if ls.len() != specs.len() {
                return Err(Error::InvalidArgument(format!(
                    "create_buffers_for_async_host_to_device: {} layouts for {} specs",
                    ls.len(),
                    specs.len()
                )));
            }
            for (l, s) in ls.iter().zip(specs) {
                raw_layouts.push(RawLayout::new(
                    "create_buffers_for_async_host_to_device",
                    l,
                    s.dims.len(),
                )?);
            }
        }
        let mut layout_ptrs: Vec<*mut sys::PJRT_Buffer_MemoryLayout> =
            raw_layouts.iter_mut().map(|l| l.ptr()).collect();
        let mut a = sys::PJRT_Client_CreateBuffersForAsyncHostToDevice_Args::new();
        a.client = self.raw();
        a.shape_specs = raw_specs.as_mut_ptr();
        a.num_shape_specs = raw_specs.len();
        if !layout_ptrs.is_empty() {
            a.device_layouts = layout_ptrs.as_mut_ptr();
            a.num_device_layouts = layout_ptrs.len();
        }
        a.memory = memory.raw;
        call!(
            self.api(),
            PJRT_Client_CreateBuffersForAsyncHostToDevice,
            &mut a
        )?;
        Ok(AsyncTransferManager {
            raw: a.transfer_manager,
            client: self.clone(),
            specs: specs.to_vec(),
            state: Mutex::new(vec![BufferState::default(); specs.len()]),
            pending: (0..specs.len())
                .map(|i| {
                    Pending::new(format!(
                        "buffer {i} of an AsyncTransferManager that has not had its last transfer"
                    ))
                })
                .collect(),
        })
    }
}

impl AsyncTransferManager {
    fn api(&self) -> &Api {
        self.client.api()
    }

    fn check_index(&self, op: &'static str, index: usize) -> Result<std::ffi::c_int> {
        if index >= self.specs.len() {
            return Err(Error::InvalidArgument(format!(
                "{op}: buffer index {index} out of range (the manager has {} buffers)",
                self.specs.len()
            )));
        }
        Ok(index as std::ffi::c_int)
    }

    /// Buffer `index` had its last transfer (or its error): nothing is left to deliver.
    fn finish(&self, index: usize) {
        if let Some(s) = self.lock().get_mut(index) {
            s.finished = true;
        }
        if let Some(p) = self.pending.get(index) {
            p.deliver();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BufferState>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shapes the manager was made with.
    pub fn specs(&self) -> &[ShapeSpec] {
        &self.specs
    }

    /// Number of buffers (`PJRT_AsyncHostToDeviceTransferManager_BufferCount`).
    pub fn buffer_count(&self) -> Result<usize> {
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_BufferCount_Args::new();
        a.transfer_manager = self.raw;
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_BufferCount,
            &mut a
        )?;
        Ok(a.buffer_count)
    }

    /// On-device size of buffer `index` in bytes.
    pub fn buffer_size(&self, index: usize) -> Result<usize> {
        let i = self.check_index("AsyncTransferManager::buffer_size", index)?;
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_BufferSize_Args::new();
        a.transfer_manager = self.raw;
        a.buffer_index = i;
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_BufferSize,
            &mut a
        )?;
        Ok(a.buffer_size)
    }

    /// The device the buffers live on.
    pub fn device(&self) -> Result<Device> {
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_Device_Args::new();
        a.transfer_manager = self.raw;
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_Device,
            &mut a
        )?;
        Ok(Device::new(&self.client, a.device_out))
    }

    /// Takes buffer `index` (once). It becomes ready when its last transfer completes.
    pub fn retrieve_buffer(&self, index: usize) -> Result<Buffer> {
        let i = self.check_index("AsyncTransferManager::retrieve_buffer", index)?;
        let mut st = self.lock();
        if st[index].retrieved {
            return Err(Error::InvalidArgument(format!(
                "AsyncTransferManager::retrieve_buffer: buffer {index} was already retrieved"
            )));
        }
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer_Args::new();
        a.transfer_manager = self.raw;
        a.buffer_index = i;
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer,
            &mut a
        )?;
        st[index].retrieved = true;
        let s = &self.specs[index];
        let pending = match self.pending.get(index) {
            Some(p) => PendingSet::one(p.clone()),
            None => PendingSet::default(),
        };
        Ok(Buffer::wrap(
            &self.client,
            a.buffer_out,
            Some((s.element_type, s.dims.clone())),
        )
        .with_pending(pending))
    }

    /// Checks a data transfer against the buffer's bounds and state before the call.
    fn check_transfer(&self, index: usize, offset: usize, len: usize) -> Result<std::ffi::c_int> {
        let i = self.check_index("AsyncTransferManager::transfer_data", index)?;
        if self.lock()[index].finished {
            return Err(Error::InvalidArgument(format!(
                "AsyncTransferManager::transfer_data: buffer {index} already had its last transfer"
            )));
        }
        let size = self.buffer_size(index)?;
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::InvalidArgument(format!(
                "AsyncTransferManager::transfer_data: bytes [{offset}, {offset}+{len}) exceed buffer {index}'s {size} bytes"
            )));
        }
        Ok(i)
    }

    /// Copies `data` into buffer `index` at byte `offset` (raw device bytes; on the CPU
    /// plugins the dense row-major layout). `is_last` marks the buffer complete. Waits
    /// until the plugin is done reading `data`.
    pub fn transfer_data(
        &self,
        index: usize,
        offset: usize,
        data: &[u8],
        is_last: bool,
    ) -> Result<()> {
        // SAFETY: `data` is borrowed until we have waited for the plugin below.
        let ev =
            unsafe { self.transfer_data_raw(index, offset, data.as_ptr(), data.len(), is_last)? };
        match ev {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }

    /// Like [`transfer_data`](Self::transfer_data) but returns at once: the vector is kept
    /// until the plugin is done with it; the returned event fires then.
    pub fn transfer_data_owned(
        &self,
        index: usize,
        offset: usize,
        data: Vec<u8>,
        is_last: bool,
    ) -> Result<Option<Event>> {
        // SAFETY: the vector's heap block does not move; it is released in the event's
        // callback (or now, when there is no event: the plugin copied during the call).
        let ev =
            unsafe { self.transfer_data_raw(index, offset, data.as_ptr(), data.len(), is_last)? };
        match &ev {
            Some(e) => {
                let mut keep = Some(data);
                let registered = e.on_ready(move |_| drop(keep.take()));
                if registered.is_err() {
                    e.wait()?;
                }
            }
            None => drop(data),
        }
        Ok(ev)
    }

    /// # Safety
    /// `data` must stay readable until the returned event fires.
    unsafe fn transfer_data_raw(
        &self,
        index: usize,
        offset: usize,
        data: *const u8,
        len: usize,
        is_last: bool,
    ) -> Result<Option<Event>> {
        let i = self.check_transfer(index, offset, len)?;
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_TransferData_Args::new();
        a.transfer_manager = self.raw;
        a.buffer_index = i;
        a.data = data.cast::<c_void>();
        a.offset = offset as i64;
        a.transfer_size = len as i64;
        a.is_last_transfer = is_last;
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_TransferData,
            &mut a
        )?;
        if is_last {
            self.finish(index);
        }
        Ok(Event::from_raw(
            self.client.plugin(),
            a.done_with_h2d_transfer,
        ))
    }

    /// Copies a whole literal into buffer `index` (its element type and dims must match
    /// the spec). A dense row-major layout is always passed: without one the 0.106 and
    /// 0.115 plugins abort the process. Waits until the plugin is done with the data.
    pub fn transfer_literal(&self, index: usize, literal: &Literal) -> Result<()> {
        let i = self.check_index("AsyncTransferManager::transfer_literal", index)?;
        let s = &self.specs[index];
        if literal.element_type() != s.element_type || literal.dims() != s.dims.as_slice() {
            return Err(Error::InvalidArgument(format!(
                "AsyncTransferManager::transfer_literal: literal is {}{}, buffer {index} is {}{}",
                literal.element_type(),
                dims_str(literal.dims()),
                s.element_type,
                dims_str(&s.dims)
            )));
        }
        if self.lock()[index].finished {
            return Err(Error::InvalidArgument(format!(
                "AsyncTransferManager::transfer_literal: buffer {index} already had its last transfer"
            )));
        }
        let mut layout = RawLayout::row_major(s.dims.len());
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_TransferLiteral_Args::new();
        a.transfer_manager = self.raw;
        a.buffer_index = i;
        a.data = literal.as_bytes().as_ptr().cast();
        a.shape_dims = s.dims.as_ptr();
        a.shape_num_dims = s.dims.len();
        a.shape_element_type = s.element_type.to_raw();
        a.shape_layout = layout.ptr();
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_TransferLiteral,
            &mut a
        )?;
        self.finish(index);
        match Event::from_raw(self.client.plugin(), a.done_with_h2d_transfer) {
            Some(e) => e.wait(),
            None => Ok(()),
        }
    }

    /// Fails buffer `index`: it becomes ready with this error instead of data.
    pub fn set_buffer_error(&self, index: usize, code: ErrorCode, message: &str) -> Result<()> {
        let i = self.check_index("AsyncTransferManager::set_buffer_error", index)?;
        if code == ErrorCode::Ok {
            return Err(Error::InvalidArgument(
                "AsyncTransferManager::set_buffer_error: the code must not be OK".into(),
            ));
        }
        if self.lock()[index].finished {
            return Err(Error::InvalidArgument(format!(
                "AsyncTransferManager::set_buffer_error: buffer {index} is already complete"
            )));
        }
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_SetBufferError_Args::new();
        a.transfer_manager = self.raw;
        a.buffer_index = i;
        a.error_code = code.to_raw();
        a.error_message = message.as_ptr().cast();
        a.error_message_size = message.len();
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_SetBufferError,
            &mut a
        )?;
        self.finish(index);
        Ok(())
    }

    /// Attaches metadata to the transfers (plugin-specific keys).
    pub fn add_metadata(&self, metadata: &[NamedValue]) -> Result<()> {
        let raw = to_raw(metadata);
        let mut a = sys::PJRT_AsyncHostToDeviceTransferManager_AddMetadata_Args::new();
        a.transfer_manager = self.raw;
        a.transfer_metadata = raw.as_ptr();
        a.num_metadata = raw.len();
        call!(
            self.api(),
            PJRT_AsyncHostToDeviceTransferManager_AddMetadata,
            &mut a
        )
    }
}
