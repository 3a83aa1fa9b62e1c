//! Execute contexts (per-execution state such as FFI user data), host send/recv callbacks,
//! and execution with them.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pjrt_sys as sys;

use crate::buffer::{Buffer, CopyToDeviceStream};
use crate::device::Event;
use crate::error::{Error, ErrorCode, Result};
use crate::executable::loaded::LoadedExecutable;
use crate::plugin::{call, call_deleter, make_callback_error, vec_from_raw, Plugin};

/// Per-execution state handed to the program (e.g. FFI user data, see
/// [`crate::ext::ffi::Ffi::add_user_data`]).
pub struct ExecuteContext {
    pub(crate) raw: *mut sys::PJRT_ExecuteContext,
    plugin: Plugin,
    // User data whose ownership passed to the context (dropped after the context).
    pub(crate) keep: Vec<Box<dyn std::any::Any + Send>>,
}

// SAFETY: the context is a plugin object without thread affinity; destroyed once.
unsafe impl Send for ExecuteContext {}

impl ExecuteContext {
    /// An empty context (`PJRT_ExecuteContext_Create`).
    pub fn new(plugin: &Plugin) -> Result<ExecuteContext> {
        let mut a = sys::PJRT_ExecuteContext_Create_Args::new();
        call!(plugin.api(), PJRT_ExecuteContext_Create, &mut a)?;
        if a.context.is_null() {
            return Err(Error::InvalidArgument(
                "PJRT_ExecuteContext_Create returned null".into(),
            ));
        }
        Ok(ExecuteContext {
            raw: a.context,
            plugin: plugin.clone(),
            keep: Vec::new(),
        })
    }

    /// The plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }
}

impl Drop for ExecuteContext {
    fn drop(&mut self) {
        let mut a = sys::PJRT_ExecuteContext_Destroy_Args::new();
        a.context = self.raw;
        let _ = call!(self.plugin.api(), PJRT_ExecuteContext_Destroy, &mut a);
    }
}

/// A host callback that receives data a program sends (`stablehlo.send` to the host):
/// `(chunk bytes, total size in bytes, done)`.
pub type SendCallback = Box<dyn FnMut(&[u8], usize, bool) -> Result<()> + Send>;
/// A host callback that feeds data a program receives (`stablehlo.recv` from the host).
pub type RecvCallback = Box<dyn FnMut(CopyToDeviceStream) + Send>;

/// Host callbacks for one execution, by channel id.
#[derive(Default)]
pub struct HostCallbacks {
    /// Send callbacks.
    pub send: Vec<(i64, SendCallback)>,
    /// Recv callbacks.
    pub recv: Vec<(i64, RecvCallback)>,
}

struct SendState {
    f: SendCallback,
    plugin: Plugin,
}

struct RecvState {
    f: RecvCallback,
    plugin: Plugin,
}

unsafe extern "C" fn send_trampoline(
    chunk: *mut sys::PJRT_Chunk,
    callback_error: *mut sys::PJRT_CallbackError,
    total_size_in_bytes: usize,
    done: bool,
    user_arg: *mut c_void,
) -> *mut sys::PJRT_Error {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_arg` is the `SendState` kept alive by `execute_with_context`.
        let st = unsafe { &mut *user_arg.cast::<SendState>() };
        // SAFETY: the plugin hands a readable chunk that we must free with its deleter.
        let (data, size, deleter, darg) = unsafe {
            (
                (*chunk).data,
                (*chunk).size,
                (*chunk).deleter,
                (*chunk).deleter_arg,
            )
        };
        // SAFETY: `size` readable bytes at `data`.
        let bytes = unsafe { vec_from_raw(data.cast::<u8>().cast_const(), size) };
        // SAFETY: the chunk's own deleter, once, after the copy.
        unsafe { call_deleter(deleter, (data, darg)) };
        let _ = &st.plugin;
        (st.f)(&bytes, total_size_in_bytes, done)
    }));
    let err = match r {
        Ok(Ok(())) => return std::ptr::null_mut(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "send callback panicked".to_string(),
    };
    // SAFETY: `callback_error` is the plugin's error factory for this call.
    unsafe { make_callback_error(callback_error, ErrorCode::Internal, &err) }
}

unsafe extern "C" fn recv_trampoline(
    stream: *mut sys::PJRT_CopyToDeviceStream,
    user_arg: *mut c_void,
) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_arg` is the `RecvState` kept alive by `execute_with_context`.
        let st = unsafe { &mut *user_arg.cast::<RecvState>() };
        let s = CopyToDeviceStream::from_raw(&st.plugin, stream);
        (st.f)(s)
    }));
    if r.is_err() {
        tracing::error!("a recv callback panicked; the panic was caught");
    }
}

static CONTEXTS_IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many executions with an execute context are running now (process-wide).
pub(crate) fn contexts_in_flight() -> usize {
    CONTEXTS_IN_FLIGHT.load(std::sync::atomic::Ordering::Acquire)
}

struct InFlight(bool);

impl InFlight {
    fn new(with_context: bool) -> InFlight {
        if with_context {
            CONTEXTS_IN_FLIGHT.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        InFlight(with_context)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0 {
            CONTEXTS_IN_FLIGHT.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}

impl LoadedExecutable {
    /// Runs on its single addressable device with an optional execute context and host
    /// send/recv callbacks; waits until the execution finished (the callbacks must outlive
    /// it) and returns the outputs.
    pub fn execute_with_context(
        &self,
        args: &[&Buffer],
        context: Option<&ExecuteContext>,
        callbacks: HostCallbacks,
    ) -> Result<Vec<Buffer>> {
        let devices = self.addressable_devices().len();
        if devices != 1 {
            return Err(Error::InvalidDevice(format!(
                "execute_with_context runs on one device; the executable has {devices}"
            )));
        }
        for b in args {
            b.check_live("execute_with_context")?;
        }
        let plugin = self.client().plugin().clone();
        let mut sends: Vec<(i64, Box<SendState>)> = callbacks
            .send
            .into_iter()
            .map(|(id, f)| {
                (
                    id,
                    Box::new(SendState {
                        f,
                        plugin: plugin.clone(),
                    }),
                )
            })
            .collect();
        let mut recvs: Vec<(i64, Box<RecvState>)> = callbacks
            .recv
            .into_iter()
            .map(|(id, f)| {
                (
                    id,
                    Box::new(RecvState {
                        f,
                        plugin: plugin.clone(),
                    }),
                )
            })
            .collect();
        let mut send_infos: Vec<sys::PJRT_SendCallbackInfo> = sends
            .iter_mut()
            .map(|(id, st)| {
                let mut i = sys::PJRT_SendCallbackInfo::new();
                i.channel_id = *id;
                i.user_arg = (&mut **st as *mut SendState).cast();
                i.send_callback = Some(send_trampoline);
                i
            })
            .collect();
        let mut recv_infos: Vec<sys::PJRT_RecvCallbackInfo> = recvs
            .iter_mut()
            .map(|(id, st)| {
                let mut i = sys::PJRT_RecvCallbackInfo::new();
                i.channel_id = *id;
                i.user_arg = (&mut **st as *mut RecvState).cast();
                i.recv_callback = Some(recv_trampoline);
                i
            })
            .collect();
        let mut send_list = [send_infos.as_mut_ptr()];
        let mut recv_list = [recv_infos.as_mut_ptr()];
        let mut o = sys::PJRT_ExecuteOptions::new();
        if !send_infos.is_empty() {
            o.send_callbacks = send_list.as_mut_ptr();
            o.num_send_ops = send_infos.len();
        }
        if !recv_infos.is_empty() {
            o.recv_callbacks = recv_list.as_mut_ptr();
            o.num_recv_ops = recv_infos.len();
        }
        o.context = context.map_or(std::ptr::null_mut(), |c| c.raw);
        let raw_args: Vec<*mut sys::PJRT_Buffer> = args.iter().map(|b| b.raw()).collect();
        let arg_lists = [raw_args.as_ptr()];
        let num_outputs = self.num_outputs()?;
        let mut outs: Vec<*mut sys::PJRT_Buffer> = vec![std::ptr::null_mut(); num_outputs];
        let out_lists = [outs.as_mut_ptr()];
        let mut events: [*mut sys::PJRT_Event; 1] = [std::ptr::null_mut()];
        let mut a = sys::PJRT_LoadedExecutable_Execute_Args::new();
        a.executable = self.raw;
        a.options = &mut o;
        a.argument_lists = arg_lists.as_ptr();
        a.num_devices = 1;
        a.num_args = raw_args.len();
        a.output_lists = out_lists.as_ptr();
        a.device_complete_events = events.as_mut_ptr();
        let in_flight = InFlight::new(context.is_some());
        call!(self.client().api(), PJRT_LoadedExecutable_Execute, &mut a)?;
        let results: Vec<Buffer> = outs
            .iter()
            .map(|&b| Buffer::wrap(self.client(), b, None))
            .collect();
        if let Some(e) = Event::from_raw(&plugin, events[0]) {
            e.wait()?;
        }
        drop(in_flight);
        // The callbacks' state (`sends`, `recvs`) lives until here, past the execution.
        drop((send_infos, recv_infos, sends, recvs));
        Ok(results)
    }
}
