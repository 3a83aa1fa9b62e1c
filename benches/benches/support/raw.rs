//! A minimal direct user of the C API (the "loop that calls the C API directly" of the runtime
//! benchmarks). It panics on any PJRT error: it is a benchmark baseline, not library code.

use pjrt_sys as sys;
use std::path::Path;
use std::ptr::null_mut;

/// Bytes of `xla.CompileOptionsProto { executable_build_options { num_replicas: 1,
/// num_partitions: 1 } }`.
const COMPILE_OPTIONS: [u8; 6] = [0x1a, 0x04, 0x20, 0x01, 0x28, 0x01];

/// A client, its first device, one compiled executable and one input buffer, all raw.
pub struct RawRunner {
    _lib: sys::PluginLibrary,
    api: &'static sys::PJRT_Api,
    client: *mut sys::PJRT_Client,
    exe: *mut sys::PJRT_LoadedExecutable,
    input: *mut sys::PJRT_Buffer,
    num_outputs: usize,
}

unsafe fn check(api: &sys::PJRT_Api, what: &str, err: *mut sys::PJRT_Error) {
    if err.is_null() {
        return;
    }
    let mut m = sys::PJRT_Error_Message_Args::new();
    m.error = err;
    (api.PJRT_Error_Message.expect("PJRT_Error_Message"))(&mut m);
    let msg = String::from_utf8_lossy(std::slice::from_raw_parts(
        m.message as *const u8,
        m.message_size,
    ));
    panic!("{what} failed: {msg}");
}

macro_rules! raw_call {
    ($api:expr, $f:ident, $args:expr) => {
        check(
            $api,
            stringify!($f),
            ($api.$f.expect(stringify!($f)))($args),
        )
    };
}

impl RawRunner {
    /// Loads the plugin, creates a one-device client, compiles `mlir` and uploads `input`
    /// (f32 with `dims`) as the executable's one argument.
    pub fn new(plugin: &Path, mlir: &str, input: &[f32], dims: &[i64]) -> RawRunner {
        // SAFETY: a benchmark over a trusted plugin; every pointer below comes from the plugin
        // and lives until `Drop`.
        unsafe {
            let lib = sys::PluginLibrary::load(plugin).expect("load plugin");
            let api: &'static sys::PJRT_Api = &*lib.api();
            let count_name = c"cpu_device_count";
            let mut opt = sys::PJRT_NamedValue::new();
            opt.name = count_name.as_ptr();
            opt.name_size = count_name.to_bytes().len();
            opt.type_ = sys::PJRT_NamedValue_kInt64;
            opt.value.int64_value = 1;
            opt.value_size = 1;
            let mut c = sys::PJRT_Client_Create_Args::new();
            c.create_options = &opt;
            c.num_options = 1;
            raw_call!(api, PJRT_Client_Create, &mut c);
            let client = c.client;

            let mut d = sys::PJRT_Client_AddressableDevices_Args::new();
            d.client = client;
            raw_call!(api, PJRT_Client_AddressableDevices, &mut d);
            let device = *d.addressable_devices;

            let mut code = mlir.as_bytes().to_vec();
            let format = c"mlir";
            let mut p = sys::PJRT_Program::new();
            p.code = code.as_mut_ptr() as *mut _;
            p.code_size = code.len();
            p.format = format.as_ptr();
            p.format_size = 4;
            let mut cc = sys::PJRT_Client_Compile_Args::new();
            cc.client = client;
            cc.program = &p;
            cc.compile_options = COMPILE_OPTIONS.as_ptr() as *const _;
            cc.compile_options_size = COMPILE_OPTIONS.len();
            raw_call!(api, PJRT_Client_Compile, &mut cc);
            let exe = cc.executable;

            let mut ge = sys::PJRT_LoadedExecutable_GetExecutable_Args::new();
            ge.loaded_executable = exe;
            raw_call!(api, PJRT_LoadedExecutable_GetExecutable, &mut ge);
            let mut no = sys::PJRT_Executable_NumOutputs_Args::new();
            no.executable = ge.executable;
            raw_call!(api, PJRT_Executable_NumOutputs, &mut no);
            let mut ed = sys::PJRT_Executable_Destroy_Args::new();
            ed.executable = ge.executable;
            raw_call!(api, PJRT_Executable_Destroy, &mut ed);

            let mut b = sys::PJRT_Client_BufferFromHostBuffer_Args::new();
            b.client = client;
            b.data = input.as_ptr() as *const _;
            b.type_ = sys::PJRT_Buffer_Type_F32;
            b.dims = dims.as_ptr();
            b.num_dims = dims.len();
            b.host_buffer_semantics = sys::PJRT_HostBufferSemantics_kImmutableOnlyDuringCall;
            b.device = device;
            raw_call!(api, PJRT_Client_BufferFromHostBuffer, &mut b);
            let runner = RawRunner {
                _lib: lib,
                api,
                client,
                exe,
                input: b.buffer,
                num_outputs: no.num_outputs,
            };
            runner.await_and_destroy(b.done_with_host_buffer);
            runner
        }
    }

    unsafe fn await_and_destroy(&self, event: *mut sys::PJRT_Event) {
        if event.is_null() {
            return;
        }
        let mut a = sys::PJRT_Event_Await_Args::new();
        a.event = event;
        raw_call!(self.api, PJRT_Event_Await, &mut a);
        let mut d = sys::PJRT_Event_Destroy_Args::new();
        d.event = event;
        raw_call!(self.api, PJRT_Event_Destroy, &mut d);
    }

    /// One execution with the reused input: execute, wait for completion, destroy the
    /// outputs. The minimum a correct caller does.
    pub fn execute_once(&self) {
        // SAFETY: handles owned by `self`; outputs and events are destroyed before returning.
        unsafe {
            let args = [self.input];
            let arg_lists = [args.as_ptr()];
            let mut outs = [null_mut::<sys::PJRT_Buffer>(); 8];
            let out_lists = [outs.as_mut_ptr()];
            let mut event = null_mut::<sys::PJRT_Event>();
            let mut opts = sys::PJRT_ExecuteOptions::new();
            let mut e = sys::PJRT_LoadedExecutable_Execute_Args::new();
            e.executable = self.exe;
            e.options = &mut opts;
            e.argument_lists = arg_lists.as_ptr();
            e.num_devices = 1;
            e.num_args = 1;
            e.output_lists = out_lists.as_ptr();
            e.device_complete_events = &mut event;
            raw_call!(self.api, PJRT_LoadedExecutable_Execute, &mut e);
            self.await_and_destroy(event);
            for &out in &outs[..self.num_outputs] {
                let mut d = sys::PJRT_Buffer_Destroy_Args::new();
                d.buffer = out;
                raw_call!(self.api, PJRT_Buffer_Destroy, &mut d);
            }
        }
    }
}

impl Drop for RawRunner {
    fn drop(&mut self) {
        // SAFETY: each handle is destroyed once, children before the client.
        unsafe {
            let mut b = sys::PJRT_Buffer_Destroy_Args::new();
            b.buffer = self.input;
            raw_call!(self.api, PJRT_Buffer_Destroy, &mut b);
            let mut e = sys::PJRT_LoadedExecutable_Destroy_Args::new();
            e.executable = self.exe;
            raw_call!(self.api, PJRT_LoadedExecutable_Destroy, &mut e);
            let mut c = sys::PJRT_Client_Destroy_Args::new();
            c.client = self.client;
            raw_call!(self.api, PJRT_Client_Destroy, &mut c);
        }
    }
}
