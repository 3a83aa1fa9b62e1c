//! The XlaTransform extension: register a Rust function that sees (and may rewrite) every
//! HLO module the plugin compiles, before or after scheduling.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use pjrt_sys as sys;
use sys::ext::xla_transform as x;
use sys::ext::xla_transform::PJRT_Xla_Transform_Extension;

use crate::error::{Error, ErrorCode, Result};
use crate::plugin::vec_from_raw;
use crate::plugin::{ext_call, extension_struct};

extension_struct!(
    /// The XlaTransform extension of a plugin.
    XlaTransform,
    sys::PJRT_Extension_Type_XlaTransform
);

/// Where in the compiler pipeline a transform runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineStage {
    /// Before instruction scheduling.
    PreScheduler,
    /// After instruction scheduling.
    PostScheduler,
}

impl PipelineStage {
    fn to_raw(self) -> x::PJRT_XlaTransform_PipelineStage {
        match self {
            PipelineStage::PreScheduler => x::PJRT_XlaTransform_PipelineStage_kPreScheduler,
            PipelineStage::PostScheduler => x::PJRT_XlaTransform_PipelineStage_kPostScheduler,
        }
    }
}

/// A transform: given a serialized `xla.HloModuleProto`, returns `Some(new module)` to
/// replace it or `None` to leave it unchanged.
pub type TransformFn = Box<dyn Fn(&[u8]) -> Result<Option<Vec<u8>>> + Send + Sync>;

/// The callbacks struct comes first so the plugin's `data` pointer leads back to the state.
#[repr(C)]
struct TransformState {
    callbacks: x::PJRT_XlaTransform_Callbacks,
    f: TransformFn,
}

/// Transforms registered and not yet dropped by their plugin (any plugin): while one is,
/// compiles bypass the compilation cache (a hit would skip the transform).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Whether any transform is registered (see `LIVE`).
pub(crate) fn any_registered() -> bool {
    LIVE.load(Ordering::SeqCst) > 0
}

unsafe extern "C" fn dtor(data: *mut x::PJRT_XlaTransform_Callbacks) {
    LIVE.fetch_sub(1, Ordering::SeqCst);
    let _ = catch_unwind(|| {
        // SAFETY: `data` is the `Box<TransformState>` leaked at registration; the plugin
        // calls the destructor once, when it drops the transform.
        drop(unsafe { Box::from_raw(data.cast::<TransformState>()) });
    });
}

unsafe extern "C" fn free_output(data: *mut c_void) {
    let _ = catch_unwind(|| {
        // SAFETY: `data` is the `Box<Vec<u8>>` leaked in `transform`, freed once.
        drop(unsafe { Box::from_raw(data.cast::<Vec<u8>>()) });
    });
}

unsafe extern "C" fn transform(
    data: *mut x::PJRT_XlaTransform_Callbacks,
    args: *mut x::PJRT_XlaTransform_Args,
) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `data` is our `TransformState` (callbacks first, repr(C)).
        let st = unsafe { &*data.cast::<TransformState>() };
        // SAFETY: the plugin passes a valid args struct.
        let a = unsafe { &mut *args };
        // SAFETY: the input module's bytes.
        let module = unsafe { vec_from_raw(a.hlo_module.data.cast::<u8>(), a.hlo_module.size) };
        (st.f)(&module)
    }));
    // SAFETY: as above.
    let a = unsafe { &mut *args };
    a.header.api_version = x::PJRT_API_XLA_TRANSFORM_EXTENSION_VERSION as i64;
    let fail = |a: &mut x::PJRT_XlaTransform_Args, msg: String| {
        let out = Box::new(msg.into_bytes());
        a.header.has_error = true;
        a.header.code = ErrorCode::Internal.to_raw();
        a.header.error_msg.data = out.as_ptr().cast();
        a.header.error_msg.size = out.len();
        a.header.data = Box::into_raw(out).cast();
        a.header.cleanup_fn = Some(free_output);
        a.changed = false;
    };
    match r {
        Ok(Ok(None)) => a.changed = false,
        Ok(Ok(Some(new))) => {
            let out = Box::new(new);
            a.transformed_hlo_module.data = out.as_ptr().cast();
            a.transformed_hlo_module.size = out.len();
            a.header.data = Box::into_raw(out).cast();
            a.header.cleanup_fn = Some(free_output);
            a.changed = true;
        }
        Ok(Err(e)) => fail(a, e.to_string()),
        Err(_) => fail(a, "the XLA transform panicked".into()),
    }
}

/// A registered transform: [`clear`](Self::clear) removes it (it stays registered if the
/// handle is dropped).
pub struct XlaTransformRegistration {
    ext: XlaTransform,
    name: String,
    stage: PipelineStage,
    callbacks: *mut x::PJRT_XlaTransform_Callbacks,
}

// SAFETY: the handle only names the registration; the plugin owns the callbacks.
unsafe impl Send for XlaTransformRegistration {}

impl XlaTransform {
    /// Registers `f` under `name` at `stage`. Every later compilation of this plugin (all
    /// clients) calls it.
    pub fn register(
        &self,
        name: &str,
        stage: PipelineStage,
        f: TransformFn,
    ) -> Result<XlaTransformRegistration> {
        let mut cb = x::PJRT_XlaTransform_Callbacks::new();
        cb.version = x::PJRT_API_XLA_TRANSFORM_EXTENSION_VERSION as i64;
        cb.dtor = Some(dtor);
        cb.transform_hlo_module = Some(transform);
        let state = Box::into_raw(Box::new(TransformState { callbacks: cb, f }));
        LIVE.fetch_add(1, Ordering::SeqCst);
        let mut a = x::PJRT_Register_Xla_Transform_Args::new();
        a.name = name.as_ptr().cast();
        a.name_size = name.len();
        a.stage = stage.to_raw();
        a.callbacks = state.cast();
        let r = ext_call!(
            &self.h,
            PJRT_Xla_Transform_Extension,
            register_xla_transform,
            &mut a
        );
        if let Err(e) = r {
            // SAFETY: registration failed; the plugin did not keep the callbacks.
            drop(unsafe { Box::from_raw(state) });
            LIVE.fetch_sub(1, Ordering::SeqCst);
            return Err(e);
        }
        Ok(XlaTransformRegistration {
            ext: self.clone(),
            name: name.to_string(),
            stage,
            callbacks: state.cast(),
        })
    }
}

impl XlaTransformRegistration {
    /// Unregisters the transform; returns whether the plugin found it.
    pub fn clear(self) -> Result<bool> {
        let mut a = x::PJRT_Clear_Xla_Transform_Args::new();
        a.stage = self.stage.to_raw();
        a.name = self.name.as_ptr().cast();
        a.name_size = self.name.len();
        a.callbacks = self.callbacks;
        ext_call!(
            &self.ext.h,
            PJRT_Xla_Transform_Extension,
            clear_xla_transform,
            &mut a
        )?;
        Ok(a.cleared)
    }
}

#[allow(dead_code)]
fn _e(_: Error) {}
