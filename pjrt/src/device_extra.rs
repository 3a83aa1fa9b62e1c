//! Device attributes and memory-stat reset, poisoning executions, async tracking events,
//! events created and set by the caller, and error payloads.

use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use pjrt_sys as sys;

use crate::error::{Error, ErrorCode, Result};
use crate::event::Event;
use crate::named_value::{read_named_values, to_raw, NamedValue};
use crate::plugin::{call, Api, Plugin};
use crate::Device;

impl Device {
    /// The device's attributes (`PJRT_Device_GetAttributes`; newer plugins).
    pub fn attributes(&self) -> Result<Vec<NamedValue>> {
        let mut a = sys::PJRT_Device_GetAttributes_Args::new();
        a.device = self.raw;
        call!(self.client().api(), PJRT_Device_GetAttributes, &mut a)?;
        // SAFETY: values owned by `device_attributes` until its deleter runs.
        let v = unsafe { read_named_values(a.attributes, a.num_attributes) };
        if let Some(del) = a.attributes_deleter {
            // SAFETY: the plugin's deleter for its own object, once.
            unsafe { del(a.device_attributes) };
        }
        Ok(v)
    }

    /// Resets the device's memory counters (peaks, allocation counts).
    pub fn clear_memory_stats(&self) -> Result<()> {
        let mut a = sys::PJRT_Device_ClearMemoryStats_Args::new();
        a.device = self.raw;
        call!(self.client().api(), PJRT_Device_ClearMemoryStats, &mut a)
    }

    /// Makes the execution with `launch_id` on this device fail with `code`/`message`
    /// (payload entries are attached to the error). Returns whether an execution was found.
    pub fn poison_execution(
        &self,
        launch_id: i32,
        code: ErrorCode,
        message: &str,
        payload: &[NamedValue],
    ) -> Result<bool> {
        if code == ErrorCode::Ok {
            return Err(Error::InvalidArgument(
                "poison_execution: the code must not be OK".into(),
            ));
        }
        let raw_payload = to_raw(payload);
        let mut a = sys::PJRT_Device_PoisonExecution_Args::new();
        a.device = self.raw;
        a.launch_id = launch_id;
        a.error_code = code.to_raw();
        a.error_message = message.as_ptr().cast();
        a.error_message_size = message.len();
        a.payload = raw_payload.as_ptr();
        a.num_payload = raw_payload.len();
        call!(self.client().api(), PJRT_Device_PoisonExecution, &mut a)?;
        Ok(a.poisoned)
    }

    /// An event a profiler can use to track asynchronous work on this device; `None` when
    /// the plugin does not track (the CPU plugins return no event).
    pub fn create_async_tracking_event(
        &self,
        description: &str,
    ) -> Result<Option<AsyncTrackingEvent>> {
        let mut a = sys::PJRT_Device_CreateAsyncTrackingEvent_Args::new();
        a.device = self.raw;
        a.description = description.as_ptr().cast();
        a.description_size = description.len();
        call!(
            self.client().api(),
            PJRT_Device_CreateAsyncTrackingEvent,
            &mut a
        )?;
        if a.event.is_null() {
            return Ok(None);
        }
        Ok(Some(AsyncTrackingEvent {
            raw: a.event,
            plugin: self.client().plugin().clone(),
        }))
    }
}

/// An async tracking event; destroyed on drop (marking the tracked work done).
pub struct AsyncTrackingEvent {
    raw: *mut sys::PJRT_AsyncTrackingEvent,
    plugin: Plugin,
}

// SAFETY: a plugin-owned handle with no thread affinity, destroyed once.
unsafe impl Send for AsyncTrackingEvent {}

impl Drop for AsyncTrackingEvent {
    fn drop(&mut self) {
        let mut a = sys::PJRT_AsyncTrackingEvent_Destroy_Args::new();
        a.event = self.raw;
        let _ = call!(self.plugin.api(), PJRT_AsyncTrackingEvent_Destroy, &mut a);
    }
}

/// An event made by the caller (`PJRT_Event_Create`) and completed with [`set`](Self::set).
/// Dereferences to [`Event`] for waiting. Dropping it unset completes it with `CANCELLED`.
pub struct UserEvent {
    event: Event,
    set: AtomicBool,
}

impl std::ops::Deref for UserEvent {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.event
    }
}

impl UserEvent {
    /// Creates an unset event (API 0.88+; older plugins give `Unimplemented`).
    pub fn new(plugin: &Plugin) -> Result<UserEvent> {
        let mut a = sys::PJRT_Event_Create_Args::new();
        call!(plugin.api(), PJRT_Event_Create, &mut a)?;
        let event = Event::from_raw(plugin, a.event)
            .ok_or_else(|| Error::InvalidArgument("PJRT_Event_Create returned no event".into()))?;
        Ok(UserEvent {
            event,
            set: AtomicBool::new(false),
        })
    }

    fn set_raw(&self, code: ErrorCode, message: &str) -> Result<()> {
        if self.set.swap(true, Ordering::AcqRel) {
            return Err(Error::InvalidArgument(
                "UserEvent::set: the event is already set".into(),
            ));
        }
        let mut a = sys::PJRT_Event_Set_Args::new();
        a.event = self.event.raw;
        a.error_code = code.to_raw();
        a.error_message = message.as_ptr().cast();
        a.error_message_size = message.len();
        call!(self.event_plugin().api(), PJRT_Event_Set, &mut a)
    }

    fn event_plugin(&self) -> &Plugin {
        self.event.plugin()
    }

    /// Completes the event successfully (once; a second `set` is refused).
    pub fn set_ok(&self) -> Result<()> {
        self.set_raw(ErrorCode::Ok, "")
    }

    /// Completes the event with an error (once).
    pub fn set_error(&self, code: ErrorCode, message: &str) -> Result<()> {
        let code = if code == ErrorCode::Ok {
            ErrorCode::Unknown
        } else {
            code
        };
        self.set_raw(code, message)
    }
}

impl Drop for UserEvent {
    fn drop(&mut self) {
        if !self.set.load(Ordering::Acquire) {
            let _ = self.set_raw(ErrorCode::Cancelled, "event dropped unset");
        }
    }
}

impl Event {
    pub(crate) fn plugin(&self) -> &Plugin {
        &self.plugin
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
        // SAFETY: `user_arg` is the `Vec` passed by `error_payloads`, alive for the call.
        let out = unsafe { &mut *user_arg.cast::<Vec<(Vec<u8>, Vec<u8>)>>() };
        // SAFETY: the plugin passes readable (pointer, size) byte strings.
        let k = unsafe { crate::plugin::vec_from_raw(key.cast::<u8>(), key_size) };
        // SAFETY: as above.
        let v = unsafe { crate::plugin::vec_from_raw(value.cast::<u8>(), value_size) };
        out.push((k, v));
    }));
}

/// The payload entries (key, value) of a live plugin error (`PJRT_Error_ForEachPayload`).
///
/// # Safety
/// `err` must be a live error of this plugin.
pub(crate) unsafe fn error_payloads(
    api: &Api,
    err: *mut sys::PJRT_Error,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut a = sys::PJRT_Error_ForEachPayload_Args::new();
    a.error = err;
    a.visitor = Some(payload_visitor);
    a.user_arg = (&mut out as *mut Vec<(Vec<u8>, Vec<u8>)>).cast();
    call!(api, PJRT_Error_ForEachPayload, &mut a)?;
    Ok(out)
}

/// Appends an error's payload entries to its message (`[payload key=value, ...]`), when it
/// has any and the plugin has `PJRT_Error_ForEachPayload`.
///
/// # Safety
/// `err` must be a live error of this plugin.
pub(crate) unsafe fn with_payloads(
    api: &Api,
    function: &str,
    err: *mut sys::PJRT_Error,
    message: String,
) -> String {
    if function == "PJRT_Error_ForEachPayload" {
        return message;
    }
    // SAFETY: forwarded from the caller.
    match unsafe { error_payloads(api, err) } {
        Ok(p) if !p.is_empty() => {
            let items: Vec<String> = p
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        String::from_utf8_lossy(k),
                        String::from_utf8_lossy(v)
                    )
                })
                .collect();
            format!("{message} [payload {}]", items.join(", "))
        }
        _ => message,
    }
}
