//! The Profiler extension: the plugin's profiler (create, start, stop, collect the
//! serialized trace). Its functions live in a second table the extension points at, and
//! report errors of their own kind (converted to [`Error::Pjrt`](crate::Error::Pjrt) here).

use pjrt_sys as sys;
use sys::ext::profiler as p;
use sys::ext::profiler::{PJRT_Profiler_Extension, PLUGIN_Profiler_Api};

use crate::error::{ErrorCode, Result};
use crate::plugin::{ext_call, extension_struct, into_error, vec_from_raw, ErrorObject, ExtHandle};

extension_struct!(
    /// The Profiler extension of a plugin.
    Profiler,
    sys::PJRT_Extension_Type_Profiler
);

impl Profiler {
    /// The profiler function table (`profiler_api`), bounds-checked like any extension.
    fn api(&self) -> Result<ExtHandle> {
        let t = self
            .h
            .table::<PJRT_Profiler_Extension>(std::mem::offset_of!(
                PJRT_Profiler_Extension,
                profiler_api
            ))
            .ok_or_else(|| self.h.unimplemented("PJRT_Profiler_Extension.profiler_api"))?;
        // SAFETY: the field lies inside the plugin's struct.
        let api = unsafe { std::ptr::addr_of!((*t).profiler_api).read() };
        if api.is_null() {
            return Err(self.h.unimplemented("PJRT_Profiler_Extension.profiler_api"));
        }
        // SAFETY: the plugin's profiler table starts with its struct_size.
        let size = unsafe { (*api).struct_size };
        Ok(self.h.nested(api.cast(), size))
    }

    /// The TraceMe context id the plugin reports.
    pub fn traceme_context_id(&self) -> Result<i64> {
        let t = self
            .h
            .table::<PJRT_Profiler_Extension>(std::mem::offset_of!(
                PJRT_Profiler_Extension,
                traceme_context_id
            ))
            .ok_or_else(|| {
                self.h
                    .unimplemented("PJRT_Profiler_Extension.traceme_context_id")
            })?;
        // SAFETY: the field lies inside the plugin's struct.
        Ok(unsafe { std::ptr::addr_of!((*t).traceme_context_id).read() })
    }

    /// Creates a profiler session with serialized `tensorflow.ProfileOptions` bytes.
    pub fn create(&self, options: &[u8]) -> Result<ProfilerSession> {
        let api = self.api()?;
        let mut a = p::PLUGIN_Profiler_Create_Args::new();
        a.options = options.as_ptr().cast();
        a.options_size = options.len();
        let e = ext_call!(@ret &api, PLUGIN_Profiler_Api, create, &mut a)?;
        take_error(&api, "create", e)?;
        Ok(ProfilerSession {
            api,
            raw: a.profiler,
        })
    }
}

/// Converts a profiler error into `Result` through the crate's one conversion of plugin
/// errors, destroying it.
fn take_error(api: &ExtHandle, op: &'static str, e: *mut p::PLUGIN_Profiler_Error) -> Result<()> {
    if e.is_null() {
        return Ok(());
    }
    Err(into_error(op, ProfilerError { api, raw: e }))
}

/// A live error the profiler returned, owned until destroyed.
struct ProfilerError<'a> {
    api: &'a ExtHandle,
    raw: *mut p::PLUGIN_Profiler_Error,
}

impl ErrorObject for ProfilerError<'_> {
    fn message(&self) -> String {
        let mut m = p::PLUGIN_Profiler_Error_Message_Args::new();
        m.error = self.raw;
        match ext_call!(@ret self.api, PLUGIN_Profiler_Api, error_message, &mut m) {
            // SAFETY: a string owned by the error.
            Ok(()) => String::from_utf8_lossy(&unsafe {
                vec_from_raw(m.message.cast::<u8>(), m.message_size)
            })
            .into_owned(),
            Err(_) => "(no message)".into(),
        }
    }

    fn code(&self) -> Option<ErrorCode> {
        let mut c = p::PLUGIN_Profiler_Error_GetCode_Args::new();
        c.error = self.raw;
        match ext_call!(@ret self.api, PLUGIN_Profiler_Api, error_get_code, &mut c) {
            Ok(inner) if inner.is_null() => Some(ErrorCode::from_raw(c.code)),
            _ => None,
        }
    }

    fn destroy(self) {
        let mut d = p::PLUGIN_Profiler_Error_Destroy_Args::new();
        d.error = self.raw;
        let _ = ext_call!(@ret self.api, PLUGIN_Profiler_Api, error_destroy, &mut d);
    }
}

/// A profiler session; destroyed on drop.
pub struct ProfilerSession {
    api: ExtHandle,
    raw: *mut p::PLUGIN_Profiler,
}

// SAFETY: a plugin object without thread affinity, destroyed once.
unsafe impl Send for ProfilerSession {}

impl Drop for ProfilerSession {
    fn drop(&mut self) {
        let mut a = p::PLUGIN_Profiler_Destroy_Args::new();
        a.profiler = self.raw;
        if let Ok(e) = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, destroy, &mut a) {
            let _ = take_error(&self.api, "PLUGIN_Profiler_Destroy", e);
        }
    }
}

impl ProfilerSession {
    /// Starts collecting.
    pub fn start(&self) -> Result<()> {
        let mut a = p::PLUGIN_Profiler_Start_Args::new();
        a.profiler = self.raw;
        let e = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, start, &mut a)?;
        take_error(&self.api, "PLUGIN_Profiler_Start", e)
    }

    /// Stops collecting.
    pub fn stop(&self) -> Result<()> {
        let mut a = p::PLUGIN_Profiler_Stop_Args::new();
        a.profiler = self.raw;
        let e = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, stop, &mut a)?;
        take_error(&self.api, "PLUGIN_Profiler_Stop", e)
    }

    /// The collected trace as serialized `tensorflow.profiler.XSpace` bytes (two calls: size,
    /// then data).
    pub fn collect_data(&self) -> Result<Vec<u8>> {
        let mut a = p::PLUGIN_Profiler_CollectData_Args::new();
        a.profiler = self.raw;
        let e = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, collect_data, &mut a)?;
        take_error(&self.api, "PLUGIN_Profiler_CollectData", e)?;
        let mut buf = vec![0u8; a.buffer_size_in_bytes];
        a.buffer = buf.as_mut_ptr();
        let e = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, collect_data, &mut a)?;
        take_error(&self.api, "PLUGIN_Profiler_CollectData", e)?;
        buf.truncate(a.buffer_size_in_bytes);
        Ok(buf)
    }

    /// Consumes the collected data and serializes it (`consume`, `serialize`,
    /// `consume_result_destroy`).
    pub fn consume_serialized(&self) -> Result<Vec<u8>> {
        let mut c = p::PLUGIN_Profiler_Consume_Args::new();
        c.profiler = self.raw;
        let e = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, consume, &mut c)?;
        take_error(&self.api, "PLUGIN_Profiler_Consume", e)?;
        let mut s = p::PLUGIN_Profiler_Serialize_Args::new();
        s.profiler = self.raw;
        s.consume_result = c.result;
        let r = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, serialize, &mut s)
            .and_then(|e| take_error(&self.api, "PLUGIN_Profiler_Serialize", e))
            // SAFETY: bytes owned by the consume result until it is destroyed below.
            .map(|()| unsafe { vec_from_raw(s.serialized_bytes, s.serialized_size) });
        let mut d = p::PLUGIN_Profiler_ConsumeResult_Destroy_Args::new();
        d.consume_result = c.result;
        let _ = ext_call!(@ret &self.api, PLUGIN_Profiler_Api, consume_result_destroy, &mut d);
        r
    }
}
