//! The one checked path into a plugin's function table, and the plugin's errors both ways:
//! `call!` checks a slot and calls it; [`into_error`] is the one place a plugin's error
//! object becomes [`Error::Pjrt`] (message, code, payload) and is destroyed;
//! [`make_callback_error`] makes a plugin error for a Rust callback to return.

use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use pjrt_sys as sys;

use crate::error::{ApiVersion, Error, ErrorCode, Result};
use crate::plugin::c_data::{str_from_raw, vec_from_raw};

/// Calls one slot of a plugin's `PJRT_Api` table: the only way this crate calls the C API.
///
/// `call!(api, PJRT_Slot_Name, &mut args)` checks that the slot lies inside the plugin's
/// `struct_size` and is non-null (else [`Error::Unimplemented`]), calls it, and turns a
/// returned `PJRT_Error` into [`Error::Pjrt`] (destroying the C error). The `@void` form is
/// for the two slots that return nothing (`PJRT_Error_Message`, `PJRT_Error_Destroy`).
///
/// The caller is responsible for the args struct: built at the newest layout by its `new()`,
/// every pointer in it valid for the duration of the call.
macro_rules! call {
    ($api:expr, $slot:ident, $args:expr) => {{
        let api: &$crate::plugin::Api = $api;
        let r = match api.slot_ptr(::core::mem::offset_of!(::pjrt_sys::PJRT_Api, $slot)) {
            None => Err(api.unimplemented(stringify!($slot))),
            Some(raw) => {
                // SAFETY: `slot_ptr` checked that this slot lies inside the plugin's table; we
                // read only this one field, at its own address.
                let f = unsafe { ::core::ptr::addr_of!((*raw).$slot).read() };
                match f {
                    None => Err(api.unimplemented(stringify!($slot))),
                    Some(f) => {
                        // SAFETY: the args struct has the newest layout with `struct_size` set
                        // and its pointers valid for the call (the caller's duty, see above).
                        let err = unsafe { f($args) };
                        // SAFETY: `err` was just returned by this plugin.
                        unsafe { api.take_error(stringify!($slot), err) }
                    }
                }
            }
        };
        #[cfg(feature = "call-log")]
        $crate::call_log::note_result(api.version, stringify!($slot), &r);
        r
    }};
    (@void $api:expr, $slot:ident, $args:expr) => {{
        let api: &$crate::plugin::Api = $api;
        let called = match api.slot_ptr(::core::mem::offset_of!(::pjrt_sys::PJRT_Api, $slot)) {
            None => false,
            Some(raw) => {
                // SAFETY: as above: the slot is inside the table.
                let f = unsafe { ::core::ptr::addr_of!((*raw).$slot).read() };
                match f {
                    None => false,
                    Some(f) => {
                        // SAFETY: as above.
                        unsafe { f($args) };
                        true
                    }
                }
            }
        };
        #[cfg(feature = "call-log")]
        $crate::call_log::note(
            api.version,
            stringify!($slot),
            if called {
                $crate::call_log::Outcome::Ok
            } else {
                $crate::call_log::Outcome::Absent
            },
        );
        called
    }};
}
pub(crate) use call;

/// A plugin's function table with its size and version: what `call!` needs.
pub(crate) struct Api {
    pub(crate) raw: *const sys::PJRT_Api,
    pub(crate) struct_size: usize,
    pub(crate) version: ApiVersion,
}

// SAFETY: the table is immutable plugin data that lives as long as the process (plugins are
// never unloaded); PJRT functions may be called from any thread.
unsafe impl Send for Api {}
// SAFETY: as above: shared reads of an immutable table.
unsafe impl Sync for Api {}

impl Api {
    /// The table pointer when a slot at byte offset `offset` lies inside the plugin's table.
    pub(crate) fn slot_ptr(&self, offset: usize) -> Option<*const sys::PJRT_Api> {
        if self.struct_size >= offset + std::mem::size_of::<usize>() {
            Some(self.raw)
        } else {
            None
        }
    }

    pub(crate) fn unimplemented(&self, function: &'static str) -> Error {
        Error::Unimplemented {
            function,
            plugin_version: self.version,
        }
    }

    /// Converts a returned error into `Result` (see [`into_error`]), destroying it.
    ///
    /// # Safety
    /// `err` must be null or an error this plugin returned and nobody has destroyed.
    pub(crate) unsafe fn take_error(
        &self,
        function: &'static str,
        err: *mut sys::PJRT_Error,
    ) -> Result<()> {
        if err.is_null() {
            return Ok(());
        }
        Err(into_error(
            function,
            PjrtError {
                api: self,
                function,
                err,
            },
        ))
    }
}

/// A live error object of a plugin, of one of the kinds the C API has (`PJRT_Error`, the
/// profiler's `PLUGIN_Profiler_Error`): how [`into_error`] reads and destroys it. Made by
/// code that owns the object (it was just returned and nobody has destroyed it).
pub(crate) trait ErrorObject {
    /// The message, or a sentence saying the plugin cannot give one.
    fn message(&self) -> String;
    /// Payload entries (key, value) to append to the message; none by default.
    fn payloads(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        Vec::new()
    }
    /// The status code, when the plugin gives one.
    fn code(&self) -> Option<ErrorCode>;
    /// Destroys the object.
    fn destroy(self);
}

/// The one conversion of a plugin's error object into [`Error::Pjrt`]: reads its message,
/// payload entries (appended as `[payload key=value, ...]`) and code (`Unknown` when the
/// plugin gives none), then always destroys it.
pub(crate) fn into_error(function: &'static str, err: impl ErrorObject) -> Error {
    let mut message = err.message();
    let payloads = err.payloads();
    if !payloads.is_empty() {
        let items: Vec<String> = payloads
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )
            })
            .collect();
        message = format!("{message} [payload {}]", items.join(", "));
    }
    let code = err.code().unwrap_or(ErrorCode::Unknown);
    err.destroy();
    Error::Pjrt {
        function,
        code,
        message,
    }
}

/// A `PJRT_Error` the plugin returned from `function`, owned until [`ErrorObject::destroy`].
struct PjrtError<'a> {
    api: &'a Api,
    function: &'static str,
    err: *mut sys::PJRT_Error,
}

impl ErrorObject for PjrtError<'_> {
    fn message(&self) -> String {
        let mut m = sys::PJRT_Error_Message_Args::new();
        m.error = self.err;
        if call!(@void self.api, PJRT_Error_Message, &mut m) {
            // SAFETY: the plugin filled message/message_size, valid until the error is destroyed.
            unsafe { str_from_raw(m.message, m.message_size) }
        } else {
            String::from("(the plugin has no PJRT_Error_Message)")
        }
    }

    /// The entries of `PJRT_Error_ForEachPayload`, when the plugin has it (not for an error
    /// of that function itself, which would recurse).
    fn payloads(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        if self.function == "PJRT_Error_ForEachPayload" {
            return Vec::new();
        }
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut a = sys::PJRT_Error_ForEachPayload_Args::new();
        a.error = self.err;
        a.visitor = Some(payload_visitor);
        a.user_arg = (&mut out as *mut Vec<(Vec<u8>, Vec<u8>)>).cast();
        match call!(self.api, PJRT_Error_ForEachPayload, &mut a) {
            Ok(()) => out,
            Err(_) => Vec::new(),
        }
    }

    fn code(&self) -> Option<ErrorCode> {
        let mut c = sys::PJRT_Error_GetCode_Args::new();
        c.error = self.err;
        let r = self.call_get_code_inner(&mut c);
        #[cfg(feature = "call-log")]
        crate::call_log::note_result(self.api.version, "PJRT_Error_GetCode", &r);
        r.ok().map(|()| ErrorCode::from_raw(c.code))
    }

    fn destroy(self) {
        let mut d = sys::PJRT_Error_Destroy_Args::new();
        d.error = self.err;
        call!(@void self.api, PJRT_Error_Destroy, &mut d);
    }
}

impl PjrtError<'_> {
    fn call_get_code_inner(&self, args: &mut sys::PJRT_Error_GetCode_Args) -> Result<()> {
        // A failure of GetCode itself would recurse into take_error; read it without that.
        let api = self.api;
        match api.slot_ptr(std::mem::offset_of!(sys::PJRT_Api, PJRT_Error_GetCode)) {
            None => Err(api.unimplemented("PJRT_Error_GetCode")),
            Some(raw) => {
                // SAFETY: the slot is inside the table.
                let f = unsafe { std::ptr::addr_of!((*raw).PJRT_Error_GetCode).read() };
                match f {
                    None => Err(api.unimplemented("PJRT_Error_GetCode")),
                    // SAFETY: args built by `new()` with a live error pointer.
                    Some(f) => {
                        let e = unsafe { f(args) };
                        if e.is_null() {
                            Ok(())
                        } else {
                            Err(api.unimplemented("PJRT_Error_GetCode"))
                        }
                    }
                }
            }
        }
    }
}

unsafe extern "C" fn payload_visitor(
    key: *const c_char,
    key_size: usize,
    value: *const c_char,
    value_size: usize,
    user_arg: *mut c_void,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_arg` is the `Vec` passed by `PjrtError::payloads`, alive for the call.
        let out = unsafe { &mut *user_arg.cast::<Vec<(Vec<u8>, Vec<u8>)>>() };
        // SAFETY: the plugin passes readable (pointer, size) byte strings.
        let k = unsafe { vec_from_raw(key.cast::<u8>(), key_size) };
        // SAFETY: as above.
        let v = unsafe { vec_from_raw(value.cast::<u8>(), value_size) };
        out.push((k, v));
    }));
}

/// Makes a plugin error through a callback-error factory (null when none was given): what a
/// Rust callback returns to the plugin to report a failure.
///
/// # Safety
/// `factory` must be null or point to the plugin's `PJRT_CallbackError` function pointer.
pub(crate) unsafe fn make_callback_error(
    factory: *mut sys::PJRT_CallbackError,
    code: ErrorCode,
    message: &str,
) -> *mut sys::PJRT_Error {
    if factory.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a valid pointer to an optional function pointer.
    match unsafe { *factory } {
        // SAFETY: the plugin's factory copies the message.
        Some(f) => unsafe { f(code.to_raw(), message.as_ptr().cast(), message.len()) },
        None => std::ptr::null_mut(),
    }
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// An error object that says what it is told and counts its destruction.
    struct Fake<'a> {
        payloads: Vec<(Vec<u8>, Vec<u8>)>,
        code: Option<ErrorCode>,
        destroyed: &'a Cell<u32>,
    }

    impl ErrorObject for Fake<'_> {
        fn message(&self) -> String {
            "it broke".into()
        }
        fn payloads(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
            self.payloads.clone()
        }
        fn code(&self) -> Option<ErrorCode> {
            self.code
        }
        fn destroy(self) {
            self.destroyed.set(self.destroyed.get() + 1);
        }
    }

    #[test]
    fn into_error_reads_message_payload_and_code_then_destroys_once() {
        let destroyed = Cell::new(0);
        let e = into_error(
            "PJRT_Foo",
            Fake {
                payloads: vec![
                    (b"k".to_vec(), b"v".to_vec()),
                    (b"a".to_vec(), b"b".to_vec()),
                ],
                code: Some(ErrorCode::NotFound),
                destroyed: &destroyed,
            },
        );
        assert_eq!(destroyed.get(), 1);
        match e {
            Error::Pjrt {
                function,
                code,
                message,
            } => {
                assert_eq!(function, "PJRT_Foo");
                assert_eq!(code, ErrorCode::NotFound);
                assert_eq!(message, "it broke [payload k=v, a=b]");
            }
            other => panic!("{other:?}"),
        }
        // No payload and no code: the message as is, UNKNOWN.
        let e = into_error(
            "PJRT_Bar",
            Fake {
                payloads: Vec::new(),
                code: None,
                destroyed: &destroyed,
            },
        );
        assert_eq!(destroyed.get(), 2);
        assert_eq!(e.code(), Some(ErrorCode::Unknown));
        assert_eq!(e.to_string(), "PJRT_Bar failed with UNKNOWN: it broke");
    }
}
