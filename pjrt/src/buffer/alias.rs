//! Buffers whose contents do not come from the host: uninitialized, holding an error,
//! alias buffers (bound to memory later), bitcast views of another buffer, and donation
//! with a control dependency.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pjrt_sys as sys;

use crate::buffer::from_host::BufferPlacement;
use crate::buffer::handle::Buffer;
use crate::buffer::layout::{MemoryLayout, RawLayout};
use crate::buffer::pending::{Pending, PendingSet};
use crate::client::Client;
use crate::device::Memory;
use crate::error::{Error, ErrorCode, Result};
use crate::literal::element_count;
use crate::plugin::call;
use crate::types::ElementType;

impl Client {
    /// A buffer of the given shape whose contents are undefined until written (e.g. as an
    /// execution output or by a raw copy). `layout` defaults to the plugin's choice.
    pub fn create_uninitialized_buffer(
        &self,
        element_type: ElementType,
        dims: &[i64],
        layout: Option<&MemoryLayout>,
        placement: &BufferPlacement,
    ) -> Result<Buffer> {
        element_count("create_uninitialized_buffer", dims)?;
        let mut raw_layout = layout
            .map(|l| RawLayout::new("create_uninitialized_buffer", l, dims.len()))
            .transpose()?;
        let (device, memory) = self.placement_raw("create_uninitialized_buffer", placement)?;
        let mut a = sys::PJRT_Client_CreateUninitializedBuffer_Args::new();
        a.client = self.raw();
        a.shape_dims = dims.as_ptr();
        a.shape_num_dims = dims.len();
        a.shape_element_type = element_type.to_raw();
        a.shape_layout = raw_layout
            .as_mut()
            .map_or(std::ptr::null_mut(), |l| l.ptr());
        a.device = device;
        a.memory = memory;
        call!(self.api(), PJRT_Client_CreateUninitializedBuffer, &mut a)?;
        Ok(Buffer::wrap(
            self,
            a.buffer,
            Some((element_type, dims.to_vec())),
        ))
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
        if let Some(m) = memory {
            self.check_owns("create_error_buffer", "the memory", m.client())?;
        }
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

    /// A buffer whose memory is supplied later: returns the alias and the [`AliasFulfiller`]
    /// that binds it to a real buffer (or fails it). Uses of the alias wait until then.
    pub fn create_alias_buffer(
        &self,
        memory: &Memory,
        element_type: ElementType,
        dims: &[i64],
        layout: Option<&MemoryLayout>,
    ) -> Result<(Buffer, AliasFulfiller)> {
        element_count("create_alias_buffer", dims)?;
        self.check_owns("create_alias_buffer", "the memory", memory.client())?;
        let mut raw_layout = match layout {
            Some(l) => RawLayout::new("create_alias_buffer", l, dims.len())?,
            None => RawLayout::row_major(dims.len()),
        };
        let mut a = sys::PJRT_Client_CreateAliasBuffer_Args::new();
        a.client = self.raw();
        a.memory = memory.raw;
        a.shape_dims = dims.as_ptr();
        a.shape_num_dims = dims.len();
        a.shape_element_type = element_type.to_raw();
        a.shape_layout = raw_layout.ptr();
        call!(self.api(), PJRT_Client_CreateAliasBuffer, &mut a)?;
        let pending =
            Pending::new("an alias buffer whose AliasFulfiller has not fulfilled it".into());
        let alias = Buffer::wrap(self, a.alias_buffer, Some((element_type, dims.to_vec())))
            .with_pending(PendingSet::one(pending.clone()));
        Ok((
            alias,
            AliasFulfiller {
                client: self.clone(),
                cb: a.fulfill_alias_buffer_cb,
                done: AtomicBool::new(false),
                pending,
            },
        ))
    }
}

/// Binds an alias buffer to its real memory, once. Dropping it unfulfilled fails the alias
/// with `CANCELLED`, so nothing waits forever.
pub struct AliasFulfiller {
    client: Client,
    cb: *mut sys::PJRT_FulfillAliasBufferCallback,
    done: AtomicBool,
    /// Delivered once the alias is bound or failed: reads of it may wait from then on.
    pending: Arc<Pending>,
}

// SAFETY: the callback object is plugin state usable from any thread; it is used once.
unsafe impl Send for AliasFulfiller {}

impl std::fmt::Debug for AliasFulfiller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AliasFulfiller({:?}, {})",
            self.client,
            if self.done.load(Ordering::Acquire) {
                "done"
            } else {
                "pending"
            }
        )
    }
}

impl AliasFulfiller {
    fn fulfill_raw(&self, buffer: *mut sys::PJRT_Buffer, code: ErrorCode, msg: &str) -> Result<()> {
        if self.done.swap(true, Ordering::AcqRel) {
            return Err(Error::InvalidArgument(
                "alias buffer already fulfilled".into(),
            ));
        }
        let mut a = sys::PJRT_Client_FulfillAliasBuffer_Args::new();
        a.client = self.client.raw();
        a.buffer = buffer;
        a.status_code = code.to_raw();
        a.error_message = msg.as_ptr().cast();
        a.error_message_size = msg.len();
        a.fulfill_alias_buffer_cb = self.cb;
        let r = call!(self.client.api(), PJRT_Client_FulfillAliasBuffer, &mut a);
        // Bound or failed (or refused, when the plugin has already settled it): either way
        // nothing is left for the caller to deliver.
        self.pending.deliver();
        r
    }

    /// Makes the alias refer to `buffer`'s memory (shape must match). The buffer must belong
    /// to the alias's client and have its own data already delivered.
    pub fn fulfill(self, buffer: &Buffer) -> Result<()> {
        const OP: &str = "AliasFulfiller::fulfill";
        self.client.check_owns(OP, "the buffer", buffer.client())?;
        buffer.check_readable(OP)?;
        buffer.check_live(OP)?;
        self.fulfill_raw(buffer.raw(), ErrorCode::Ok, "")
    }

    /// Fails the alias: every use of it reports `code` and `message`.
    pub fn fail(self, code: ErrorCode, message: &str) -> Result<()> {
        if code == ErrorCode::Ok {
            return Err(Error::InvalidArgument(
                "AliasFulfiller::fail: the code must not be OK".into(),
            ));
        }
        match self.fulfill_raw(std::ptr::null_mut(), code, message) {
            // The plugins report the status they were given back as the call's error.
            Err(crate::Error::Pjrt {
                code: c,
                message: m,
                ..
            }) if c == code && m.contains(message) => Ok(()),
            r => r,
        }
    }
}

impl Drop for AliasFulfiller {
    fn drop(&mut self) {
        if !self.done.load(Ordering::Acquire) {
            let _ = self.fulfill_raw(
                std::ptr::null_mut(),
                ErrorCode::Cancelled,
                "alias buffer dropped unfulfilled",
            );
        }
    }
}

impl Buffer {
    /// A new buffer viewing this one's memory with another element type, dims or layout of
    /// the same byte size (`PJRT_Buffer_Bitcast`).
    pub fn bitcast(
        &self,
        element_type: ElementType,
        dims: &[i64],
        layout: Option<&MemoryLayout>,
    ) -> Result<Buffer> {
        self.check_live("Buffer::bitcast")?;
        element_count("Buffer::bitcast", dims)?;
        let mut raw_layout = layout
            .map(|l| RawLayout::new("Buffer::bitcast", l, dims.len()))
            .transpose()?;
        let mut a = sys::PJRT_Buffer_Bitcast_Args::new();
        a.buffer = self.raw();
        a.element_type = element_type.to_raw();
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.device_layout = raw_layout
            .as_mut()
            .map_or(std::ptr::null_mut(), |l| l.ptr());
        call!(self.client().api(), PJRT_Buffer_Bitcast, &mut a)?;
        Ok(Buffer::wrap(
            self.client(),
            a.out_buffer,
            Some((element_type, dims.to_vec())),
        )
        .with_pending(PendingSet::union([&self.pending])))
    }

    /// Donates this buffer's memory to a new buffer that becomes usable only once the
    /// returned [`ControlDependency`] is marked ready. This buffer is deleted by the call.
    pub fn donate_with_control_dependency(&self) -> Result<(Buffer, ControlDependency)> {
        self.check_live("Buffer::donate_with_control_dependency")?;
        let mut a = sys::PJRT_Buffer_DonateWithControlDependency_Args::new();
        a.buffer = self.raw();
        call!(
            self.client().api(),
            PJRT_Buffer_DonateWithControlDependency,
            &mut a
        )?;
        let pending =
            Pending::new("a donation whose ControlDependency has not been marked ready".into());
        let out =
            Buffer::wrap(self.client(), a.out_buffer, self.meta().ok().cloned()).with_pending(
                PendingSet::union([&self.pending, &PendingSet::one(pending.clone())]),
            );
        Ok((
            out,
            ControlDependency {
                data: a.callback_data,
                cb: a.dependency_ready_callback,
                done: false,
                pending,
            },
        ))
    }
}

/// The readiness signal of a donation with control dependency. Dropping it unset signals
/// `CANCELLED` (the new buffer then reports that error).
pub struct ControlDependency {
    data: *mut c_void,
    cb: Option<
        unsafe extern "C" fn(*mut sys::PJRT_Buffer_DonateWithControlDependency_Callback_Args),
    >,
    done: bool,
    pending: Arc<Pending>,
}

// SAFETY: the plugin's callback may be invoked from any thread, once.
unsafe impl Send for ControlDependency {}

impl ControlDependency {
    fn signal(&mut self, code: ErrorCode, message: &str) {
        if self.done {
            return;
        }
        self.done = true;
        self.pending.deliver();
        if let Some(cb) = self.cb {
            let mut a = sys::PJRT_Buffer_DonateWithControlDependency_Callback_Args::new();
            a.callback_data = self.data;
            a.error_code = code.to_raw();
            a.error_message = message.as_ptr().cast();
            a.error_message_size = message.len();
            // SAFETY: the plugin's callback with its own data, called exactly once.
            unsafe { cb(&mut a) };
        }
    }

    /// The dependency is satisfied: the donated buffer becomes usable.
    pub fn ready(mut self) {
        self.signal(ErrorCode::Ok, "");
    }

    /// The dependency failed: the donated buffer reports this error.
    pub fn fail(mut self, code: ErrorCode, message: &str) {
        let code = if code == ErrorCode::Ok {
            ErrorCode::Unknown
        } else {
            code
        };
        self.signal(code, message);
    }
}

impl Drop for ControlDependency {
    fn drop(&mut self) {
        self.signal(ErrorCode::Cancelled, "control dependency dropped");
    }
}
