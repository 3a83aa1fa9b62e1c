//! Events: completion of asynchronous work, as a blocking wait, a callback, or a `Future`;
//! and events the caller creates and completes ([`UserEvent`]).

use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

use pjrt_sys as sys;

use crate::error::{Error, ErrorCode, Result};
use crate::plugin::{call, Plugin};

/// A completion event from the plugin. Dropping it does not cancel the work.
///
/// `Event` is also a [`Future`] that resolves when the work is done.
pub struct Event {
    pub(crate) raw: *mut sys::PJRT_Event,
    pub(crate) plugin: Plugin,
    pending: Option<Arc<Mutex<Shared>>>,
}

// SAFETY: PJRT events are thread-safe handles (the C++ side is a reference-counted future);
// waiting, polling or destroying them from any thread is allowed.
unsafe impl Send for Event {}
// SAFETY: the `&self` methods only call thread-safe C functions.
unsafe impl Sync for Event {}

#[derive(Default)]
struct Shared {
    result: Option<Result<()>>,
    waker: Option<Waker>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Event({:p})", self.raw)
    }
}

type Callback = Box<dyn FnOnce(Result<()>) + Send + 'static>;

struct CallbackData {
    plugin: Plugin,
    f: Callback,
}

unsafe extern "C" fn on_ready_trampoline(error: *mut sys::PJRT_Error, user_arg: *mut c_void) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_arg` is the `Box<CallbackData>` leaked in `on_ready`; the plugin calls
        // this exactly once, so we take it back exactly once.
        let data = unsafe { Box::from_raw(user_arg.cast::<CallbackData>()) };
        // SAFETY: the callback owns `error` (null or a live error from this plugin).
        let result = unsafe {
            data.plugin
                .api()
                .take_error("PJRT_Event_OnReady callback", error)
        };
        (data.f)(result);
    }));
    // A panic must not cross into C; no caller is left to return it to, so it becomes a
    // `tracing` error event.
    if r.is_err() {
        tracing::error!("a PJRT_Event on-ready callback panicked; the panic was caught");
    }
}

impl Event {
    /// Wraps an event the plugin handed us (null gives `None`).
    pub(crate) fn from_raw(plugin: &Plugin, raw: *mut sys::PJRT_Event) -> Option<Event> {
        if raw.is_null() {
            None
        } else {
            Some(Event {
                raw,
                plugin: plugin.clone(),
                pending: None,
            })
        }
    }

    pub(crate) fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// True once the work finished (successfully or not).
    pub fn is_ready(&self) -> Result<bool> {
        let mut a = sys::PJRT_Event_IsReady_Args::new();
        a.event = self.raw;
        call!(self.plugin.api(), PJRT_Event_IsReady, &mut a)?;
        Ok(a.is_ready)
    }

    /// Blocks until the work finishes; returns its error, if any.
    pub fn wait(&self) -> Result<()> {
        let mut a = sys::PJRT_Event_Await_Args::new();
        a.event = self.raw;
        call!(self.plugin.api(), PJRT_Event_Await, &mut a)
    }

    /// Waits at most `timeout` for the work: `Ok(true)` when it finished successfully,
    /// `Ok(false)` when the time ran out first (the work goes on; wait again or drop the
    /// event), `Err` with the work's error. For data that may never come (a transfer
    /// manager's or an alias buffer's, see [`Error::WouldBlock`]), this is the wait that
    /// cannot hang.
    pub fn wait_timeout(&self, timeout: std::time::Duration) -> Result<bool> {
        if self.is_ready()? {
            return self.error().map(|()| true);
        }
        let shared = Arc::new((Mutex::new(None::<Result<()>>), Condvar::new()));
        let s2 = shared.clone();
        self.register(Box::new(move |r| {
            let (m, cv) = &*s2;
            *m.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            cv.notify_all();
        }))?;
        let (m, cv) = &*shared;
        let deadline = std::time::Instant::now() + timeout;
        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(r) = g.take() {
                return r.map(|()| true);
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            g = cv
                .wait_timeout(g, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The error of a finished event (call only when [`is_ready`](Self::is_ready)).
    fn error(&self) -> Result<()> {
        let mut a = sys::PJRT_Event_Error_Args::new();
        a.event = self.raw;
        call!(self.plugin.api(), PJRT_Event_Error, &mut a)
    }

    /// Calls `f` with the outcome once the work finishes (maybe on a plugin thread, maybe
    /// right away). A panic in `f` is caught at the C boundary.
    pub fn on_ready(&self, f: impl FnOnce(Result<()>) + Send + 'static) -> Result<()> {
        self.register(Box::new(f))
    }

    fn register(&self, f: Callback) -> Result<()> {
        let data = Box::into_raw(Box::new(CallbackData {
            plugin: self.plugin.clone(),
            f,
        }));
        let mut a = sys::PJRT_Event_OnReady_Args::new();
        a.event = self.raw;
        a.callback = Some(on_ready_trampoline);
        a.user_arg = data.cast();
        let r = call!(self.plugin.api(), PJRT_Event_OnReady, &mut a);
        if r.is_err() {
            // SAFETY: registration failed, so the plugin will never call the trampoline; the
            // box is still ours.
            drop(unsafe { Box::from_raw(data) });
        }
        r
    }
}

impl Future for Event {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.pending.is_none() {
            if self.is_ready()? {
                return Poll::Ready(self.error());
            }
            let shared = Arc::new(Mutex::new(Shared {
                result: None,
                waker: Some(cx.waker().clone()),
            }));
            let s2 = shared.clone();
            self.register(Box::new(move |r| {
                let waker = {
                    let mut g = s2.lock().unwrap_or_else(|p| p.into_inner());
                    g.result = Some(r);
                    g.waker.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            }))?;
            self.pending = Some(shared);
        }
        let Some(shared) = &self.pending else {
            return Poll::Ready(Err(Error::CallbackPanicked("event state lost".into())));
        };
        let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
        match g.result.take() {
            Some(r) => Poll::Ready(r),
            None => {
                g.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        let mut a = sys::PJRT_Event_Destroy_Args::new();
        a.event = self.raw;
        // Nothing useful can be done with a failure to destroy.
        let _ = call!(self.plugin.api(), PJRT_Event_Destroy, &mut a);
    }
}

/// An event made by the caller (`PJRT_Event_Create`) and completed with
/// [`set_ok`](Self::set_ok) or [`set_error`](Self::set_error).
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
