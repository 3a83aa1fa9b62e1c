//! The GPU custom-call extension: register native custom-call handlers with a GPU plugin.

use std::ffi::c_void;

use pjrt_sys as sys;
use sys::ext::gpu as g;
use sys::ext::gpu::PJRT_Gpu_Custom_Call;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};

extension_struct!(
    /// The GPU custom-call extension of a plugin.
    GpuCustomCall,
    sys::PJRT_Extension_Type_Gpu_Custom_Call
);

/// Native handlers of one custom call (`api_version` 0/1: a legacy function; 4: XLA FFI
/// handlers per stage, only `execute` required).
#[derive(Debug, Clone, Copy)]
pub struct GpuHandlers {
    /// The custom call API version.
    pub api_version: i32,
    /// Instantiate-stage handler (optional).
    pub instantiate: *mut c_void,
    /// Prepare-stage handler (optional).
    pub prepare: *mut c_void,
    /// Initialize-stage handler (optional).
    pub initialize: *mut c_void,
    /// Execute-stage handler.
    pub execute: *mut c_void,
}

impl GpuCustomCall {
    /// Registers native handlers under `name`.
    ///
    /// # Safety
    /// The handlers must be functions of the signature the API version requires, valid for
    /// the life of the process.
    pub unsafe fn register_custom_call(&self, name: &str, handlers: GpuHandlers) -> Result<()> {
        self.register_raw(name, handlers)
    }

    /// The call itself; sound only with handlers of the right signature (see above).
    fn register_raw(&self, name: &str, handlers: GpuHandlers) -> Result<()> {
        let mut a = g::PJRT_Gpu_Register_Custom_Call_Args::new();
        a.function_name = name.as_ptr().cast();
        a.function_name_size = name.len();
        a.api_version = handlers.api_version;
        a.handler_instantiate = handlers.instantiate;
        a.handler_prepare = handlers.prepare;
        a.handler_initialize = handlers.initialize;
        a.handler_execute = handlers.execute;
        ext_call!(&self.h, PJRT_Gpu_Custom_Call, custom_call, &mut a)
    }

    /// Registers a Rust XLA FFI handler (see [`crate::ext::ffi`]) for GPU custom calls.
    pub fn register_ffi_handler(
        &self,
        name: &str,
        handler: crate::ext::ffi::FfiHandler,
    ) -> Result<()> {
        let h = crate::ext::ffi::allocate_trampoline(name, handler)?;
        // The trampoline is an XLA FFI handler (API version 4) living for the process.
        {
            self.register_raw(
                name,
                GpuHandlers {
                    api_version: 4,
                    instantiate: std::ptr::null_mut(),
                    prepare: std::ptr::null_mut(),
                    initialize: std::ptr::null_mut(),
                    execute: h,
                },
            )
        }
    }
}
