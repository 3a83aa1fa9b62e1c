//! The Stream extension (GPU plugins): the device stream external work should signal on,
//! and making a stream wait for a buffer.

use pjrt_sys as sys;
use sys::ext::stream as s;
use sys::ext::stream::PJRT_Stream_Extension;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};
use crate::{Buffer, Device};

extension_struct!(
    /// The Stream extension of a plugin.
    Stream,
    sys::PJRT_Extension_Type_Stream
);

impl Stream {
    /// The native stream handle (e.g. a `cudaStream_t` as an integer) for external ready
    /// events on `device`.
    pub fn stream_for_external_ready_events(&self, device: &Device) -> Result<isize> {
        let mut a = s::PJRT_Get_Stream_For_External_Ready_Events_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Stream::stream_for_external_ready_events",
            "`device`",
            device,
        )?;
        a.device = device.raw;
        ext_call!(&self.h, PJRT_Stream_Extension, get_stream, &mut a)?;
        Ok(a.stream)
    }

    /// Makes the native stream `stream` wait until `buffer` is ready.
    ///
    /// # Safety
    /// `stream` must be a live native stream of the buffer's device.
    pub unsafe fn wait_until_buffer_ready_on_stream(
        &self,
        stream: isize,
        buffer: &Buffer,
    ) -> Result<()> {
        crate::plugin::check_owner(
            &self.h,
            "Stream::wait_until_buffer_ready_on_stream",
            "`buffer`",
            buffer,
        )?;
        buffer.check_live("Stream::wait_until_buffer_ready_on_stream")?;
        let mut a = s::PJRT_Wait_Until_Buffer_Ready_On_Stream_Args::new();
        a.stream = stream;
        a.buffer = buffer.raw();
        ext_call!(&self.h, PJRT_Stream_Extension, wait_stream, &mut a)
    }
}
