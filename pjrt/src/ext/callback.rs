//! The Callback extension (TPU plugins): register Rust functions the plugin calls on events
//! (slice builder failures, pre-fatal errors), and invoke registered callbacks.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pjrt_sys as sys;
use sys::ext::callback as cb;
use sys::ext::callback::PJRT_Callback_Extension;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};
use crate::Client;

extension_struct!(
    /// The Callback extension of a plugin.
    Callback,
    sys::PJRT_Extension_Type_Callback
);

/// Which event a callback is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackType {
    /// TPU slice builder events.
    TpuSliceBuilder,
    /// Before the plugin dies of a fatal error.
    Prefatal,
}

impl CallbackType {
    fn to_raw(self) -> cb::PJRT_Callback_Type {
        match self {
            CallbackType::TpuSliceBuilder => cb::PJRT_Callback_Type_Tpu_SliceBuilder,
            CallbackType::Prefatal => cb::PJRT_Callback_Type_Prefatal,
        }
    }
}

/// What a callback receives: the raw argument struct of its type
/// (`PJRT_Callback_Tpu_SliceBuilderArgs` or `PJRT_Callback_PrefatalArgs`).
pub type CallbackFn = Box<dyn Fn(*mut c_void) + Send + Sync>;

unsafe extern "C" fn trampoline(args: *mut c_void, user_arg: *mut c_void) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_arg` is the `CallbackFn` leaked at registration (kept for the
        // process: the plugin may call it until it exits).
        let f = unsafe { &*user_arg.cast::<CallbackFn>() };
        f(args)
    }));
    if r.is_err() {
        tracing::error!("a plugin callback panicked; the panic was caught");
    }
}

impl Callback {
    /// Registers `f` for events of type `ty` on `client`. The closure is kept for the life
    /// of the process.
    pub fn register(&self, client: &Client, ty: CallbackType, f: CallbackFn) -> Result<()> {
        let user = Box::into_raw(Box::new(f));
        let mut a = cb::PJRT_Callback_RegisterCallback_Args::new();
        a.client = client.raw();
        a.type_ = ty.to_raw();
        a.callback = Some(trampoline);
        a.user_arg = user.cast();
        let r = ext_call!(&self.h, PJRT_Callback_Extension, register_callback, &mut a);
        if r.is_err() {
            // SAFETY: registration failed; the plugin did not keep the pointer.
            drop(unsafe { Box::from_raw(user) });
        }
        r
    }

    /// Invokes the callbacks registered for `ty` with a pre-fatal style error payload.
    pub fn invoke_prefatal(
        &self,
        client: &Client,
        code: crate::ErrorCode,
        message: &str,
    ) -> Result<()> {
        let mut p = cb::PJRT_Callback_PrefatalArgs::new();
        p.error_code = code.to_raw();
        p.error_message = message.as_ptr().cast();
        p.error_message_size = message.len();
        let mut a = cb::PJRT_Callback_InvokeCallback_Args::new();
        a.client = client.raw();
        a.type_ = cb::PJRT_Callback_Type_Prefatal;
        a.args = (&mut p as *mut cb::PJRT_Callback_PrefatalArgs).cast();
        ext_call!(&self.h, PJRT_Callback_Extension, invoke_callback, &mut a)
    }
}
