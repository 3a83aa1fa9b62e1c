//! Copy-to-device streams: the chunks a recv callback feeds into a device buffer.

use std::ffi::c_void;

use pjrt_sys as sys;

use crate::device::Event;
use crate::error::{Error, Result};
use crate::plugin::{call, Plugin};

/// A stream of chunks copied to a device buffer, handed to a recv callback. Destroyed on
/// drop.
pub struct CopyToDeviceStream {
    raw: *mut sys::PJRT_CopyToDeviceStream,
    plugin: Plugin,
}

// SAFETY: a plugin object without thread affinity, destroyed once.
unsafe impl Send for CopyToDeviceStream {}

impl Drop for CopyToDeviceStream {
    fn drop(&mut self) {
        let mut a = sys::PJRT_CopyToDeviceStream_Destroy_Args::new();
        a.stream = self.raw;
        let _ = call!(self.plugin.api(), PJRT_CopyToDeviceStream_Destroy, &mut a);
    }
}

unsafe extern "C" fn free_vec_chunk(data: *mut c_void, arg: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        let _ = data;
        // SAFETY: `arg` is the `Box<Vec<u8>>` leaked by `add_chunk`, freed once here.
        drop(unsafe { Box::from_raw(arg.cast::<Vec<u8>>()) });
    });
}

impl CopyToDeviceStream {
    pub(crate) fn from_raw(
        plugin: &Plugin,
        raw: *mut sys::PJRT_CopyToDeviceStream,
    ) -> CopyToDeviceStream {
        CopyToDeviceStream {
            raw,
            plugin: plugin.clone(),
        }
    }

    /// Total bytes the stream expects.
    pub fn total_bytes(&self) -> Result<i64> {
        let mut a = sys::PJRT_CopyToDeviceStream_TotalBytes_Args::new();
        a.stream = self.raw;
        call!(
            self.plugin.api(),
            PJRT_CopyToDeviceStream_TotalBytes,
            &mut a
        )?;
        Ok(a.total_bytes)
    }

    /// Chunks must be a multiple of this many bytes.
    pub fn granule_size(&self) -> Result<i64> {
        let mut a = sys::PJRT_CopyToDeviceStream_GranuleSize_Args::new();
        a.stream = self.raw;
        call!(
            self.plugin.api(),
            PJRT_CopyToDeviceStream_GranuleSize,
            &mut a
        )?;
        Ok(a.granule_size_in_bytes)
    }

    /// Bytes transferred so far.
    pub fn current_bytes(&self) -> Result<i64> {
        let mut a = sys::PJRT_CopyToDeviceStream_CurrentBytes_Args::new();
        a.stream = self.raw;
        call!(
            self.plugin.api(),
            PJRT_CopyToDeviceStream_CurrentBytes,
            &mut a
        )?;
        Ok(a.current_bytes)
    }

    /// Adds a chunk (ownership passes to the plugin). Checked first against the granule
    /// size and the bytes left. Returns the event that fires when the chunk is copied.
    pub fn add_chunk(&self, data: Vec<u8>) -> Result<Option<Event>> {
        let granule = self.granule_size()?;
        let left = self.total_bytes()? - self.current_bytes()?;
        let n = data.len() as i64;
        if granule > 0 && n % granule != 0 {
            return Err(Error::InvalidArgument(format!(
                "CopyToDeviceStream::add_chunk: {n} bytes is not a multiple of the granule size {granule}"
            )));
        }
        if n > left {
            return Err(Error::InvalidArgument(format!(
                "CopyToDeviceStream::add_chunk: {n} bytes but only {left} are left"
            )));
        }
        let mut boxed = Box::new(data);
        let mut chunk = sys::PJRT_Chunk::new();
        chunk.data = boxed.as_mut_ptr().cast();
        chunk.size = boxed.len();
        chunk.deleter = Some(free_vec_chunk);
        chunk.deleter_arg = Box::into_raw(boxed).cast();
        let mut a = sys::PJRT_CopyToDeviceStream_AddChunk_Args::new();
        a.stream = self.raw;
        a.chunk = &mut chunk;
        call!(self.plugin.api(), PJRT_CopyToDeviceStream_AddChunk, &mut a)?;
        Ok(Event::from_raw(&self.plugin, a.transfer_complete))
    }
}
