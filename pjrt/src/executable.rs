//! Compiled programs: metadata, execution, serialization.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use pjrt_sys as sys;

use crate::buffer::{BufferPlacement, HostBufferSemantics};
use crate::compile_options::{decode_shape, CompileOptions, DeviceAssignment};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::named_value::{read_named_values, NamedValue};
use crate::plugin::{call, str_from_raw, vec_from_raw, Plugin};
use crate::proto::Reader;
use crate::{Buffer, Client, ElementType, Literal};

/// A compiled program not bound to devices (`PJRT_Executable`); owned, destroyed once.
pub struct Executable {
    pub(crate) raw: *mut sys::PJRT_Executable,
    pub(crate) plugin: Plugin,
}

// SAFETY: a compiled executable is immutable; its query functions are thread-safe.
unsafe impl Send for Executable {}
// SAFETY: as above.
unsafe impl Sync for Executable {}

impl Drop for Executable {
    fn drop(&mut self) {
        let mut a = sys::PJRT_Executable_Destroy_Args::new();
        a.executable = self.raw;
        let _ = call!(self.plugin.api(), PJRT_Executable_Destroy, &mut a);
    }
}

/// Memory sizes the compiler planned for an executable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct CompiledMemoryStats {
    pub generated_code_size_in_bytes: i64,
    pub argument_size_in_bytes: i64,
    pub output_size_in_bytes: i64,
    pub alias_size_in_bytes: i64,
    pub temp_size_in_bytes: i64,
    pub host_generated_code_size_in_bytes: i64,
    pub host_argument_size_in_bytes: i64,
    pub host_output_size_in_bytes: i64,
    pub host_alias_size_in_bytes: i64,
    pub host_temp_size_in_bytes: i64,
}

/// An array parameter of a program: element type and dims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterShape {
    /// Element type.
    pub element_type: ElementType,
    /// Dims.
    pub dims: Vec<i64>,
}

impl Executable {
    fn api(&self) -> &crate::plugin::Api {
        self.plugin.api()
    }

    /// The program's name.
    pub fn name(&self) -> Result<String> {
        let mut a = sys::PJRT_Executable_Name_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_Name, &mut a)?;
        // SAFETY: a string owned by the executable.
        Ok(unsafe { str_from_raw(a.executable_name, a.executable_name_size) })
    }

    /// Number of replicas it was compiled for.
    pub fn num_replicas(&self) -> Result<usize> {
        let mut a = sys::PJRT_Executable_NumReplicas_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_NumReplicas, &mut a)?;
        Ok(a.num_replicas)
    }

    /// Number of partitions it was compiled for.
    pub fn num_partitions(&self) -> Result<usize> {
        let mut a = sys::PJRT_Executable_NumPartitions_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_NumPartitions, &mut a)?;
        Ok(a.num_partitions)
    }

    /// Number of outputs per device.
    pub fn num_outputs(&self) -> Result<usize> {
        let mut a = sys::PJRT_Executable_NumOutputs_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_NumOutputs, &mut a)?;
        Ok(a.num_outputs)
    }

    /// Size of the generated code in bytes.
    pub fn code_size(&self) -> Result<i64> {
        let mut a = sys::PJRT_Executable_SizeOfGeneratedCodeInBytes_Args::new();
        a.executable = self.raw;
        call!(
            self.api(),
            PJRT_Executable_SizeOfGeneratedCodeInBytes,
            &mut a
        )?;
        Ok(a.size_in_bytes)
    }

    /// The executable's fingerprint.
    pub fn fingerprint(&self) -> Result<String> {
        let mut a = sys::PJRT_Executable_Fingerprint_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_Fingerprint, &mut a)?;
        // SAFETY: a string owned by the executable.
        Ok(unsafe { str_from_raw(a.executable_fingerprint, a.executable_fingerprint_size) })
    }

    /// The element type of each output.
    pub fn output_element_types(&self) -> Result<Vec<ElementType>> {
        let mut a = sys::PJRT_Executable_OutputElementTypes_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_OutputElementTypes, &mut a)?;
        // SAFETY: `num_output_types` values owned by the executable.
        let raw = unsafe { vec_from_raw(a.output_types, a.num_output_types) };
        raw.into_iter()
            .map(|t| {
                ElementType::from_raw(t).ok_or(Error::UnknownElementType {
                    function: "PJRT_Executable_OutputElementTypes",
                    raw: t,
                })
            })
            .collect()
    }

    /// The dims of each output.
    pub fn output_dims(&self) -> Result<Vec<Vec<i64>>> {
        let mut a = sys::PJRT_Executable_OutputDimensions_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_OutputDimensions, &mut a)?;
        // SAFETY: `num_outputs` sizes and their concatenated dims, owned by the executable.
        let sizes = unsafe { vec_from_raw(a.dim_sizes, a.num_outputs) };
        let flat = unsafe { vec_from_raw(a.dims, sizes.iter().sum()) };
        let mut out = Vec::with_capacity(sizes.len());
        let mut at = 0;
        for s in sizes {
            out.push(flat[at..at + s].to_vec());
            at += s;
        }
        Ok(out)
    }

    /// The memory kind of each output.
    pub fn output_memory_kinds(&self) -> Result<Vec<String>> {
        let mut a = sys::PJRT_Executable_OutputMemoryKinds_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_OutputMemoryKinds, &mut a)?;
        // SAFETY: `num_outputs` strings with sizes, owned by the executable.
        let ptrs = unsafe { vec_from_raw(a.memory_kinds, a.num_outputs) };
        let sizes = unsafe { vec_from_raw(a.memory_kind_sizes, a.num_outputs) };
        Ok(ptrs
            .into_iter()
            .zip(sizes)
            .map(|(p, n)| unsafe { str_from_raw(p, n) })
            .collect())
    }

    /// The compiler's cost estimates (flops, bytes accessed, ...).
    pub fn cost_analysis(&self) -> Result<Vec<NamedValue>> {
        let mut a = sys::PJRT_Executable_GetCostAnalysis_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_GetCostAnalysis, &mut a)?;
        // SAFETY: properties owned by the executable.
        Ok(unsafe { read_named_values(a.properties, a.num_properties) })
    }

    /// Memory sizes the compiler planned.
    pub fn compiled_memory_stats(&self) -> Result<CompiledMemoryStats> {
        let mut a = sys::PJRT_Executable_GetCompiledMemoryStats_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_GetCompiledMemoryStats, &mut a)?;
        Ok(CompiledMemoryStats {
            generated_code_size_in_bytes: a.generated_code_size_in_bytes,
            argument_size_in_bytes: a.argument_size_in_bytes,
            output_size_in_bytes: a.output_size_in_bytes,
            alias_size_in_bytes: a.alias_size_in_bytes,
            temp_size_in_bytes: a.temp_size_in_bytes,
            host_generated_code_size_in_bytes: a.host_generated_code_size_in_bytes,
            host_argument_size_in_bytes: a.host_argument_size_in_bytes,
            host_output_size_in_bytes: a.host_output_size_in_bytes,
            host_alias_size_in_bytes: a.host_alias_size_in_bytes,
            host_temp_size_in_bytes: a.host_temp_size_in_bytes,
        })
    }

    /// The optimized program (format name, bytes); on XLA plugins a serialized
    /// `xla.HloModuleProto` (format `hlo`) or `xla.HloModuleProtoWithConfig` (`hlo_with_config`).
    pub fn optimized_program(&self) -> Result<(String, Vec<u8>)> {
        let mut p = sys::PJRT_Program::new();
        let mut a = sys::PJRT_Executable_OptimizedProgram_Args::new();
        a.executable = self.raw;
        a.program = &mut p;
        // First call: the plugin reports the size.
        call!(self.api(), PJRT_Executable_OptimizedProgram, &mut a)?;
        let mut code = vec![0u8; p.code_size];
        p.code = code.as_mut_ptr().cast();
        a.program = &mut p;
        call!(self.api(), PJRT_Executable_OptimizedProgram, &mut a)?;
        code.truncate(p.code_size);
        // SAFETY: the format string is owned by the executable.
        let format = unsafe { str_from_raw(p.format, p.format_size) };
        Ok((format, code))
    }

    /// The options it was compiled with (the fields [`CompileOptions`] knows).
    pub fn compile_options(&self) -> Result<CompileOptions> {
        let mut a = sys::PJRT_Executable_GetCompileOptions_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_GetCompileOptions, &mut a)?;
        // SAFETY: bytes backed by `serialized_compile_options` until its deleter runs.
        let bytes =
            unsafe { vec_from_raw(a.serialized_bytes.cast::<u8>(), a.serialized_bytes_size) };
        if let Some(del) = a.serialized_compile_options_deleter {
            // SAFETY: the plugin's own deleter for the object it handed us, called once.
            unsafe { del(a.serialized_compile_options) };
        }
        CompileOptions::decode(&bytes)
    }

    /// The plugin's serialized form (not portable between plugins; see `LoadedExecutable::serialize`).
    pub fn serialize_raw(&self) -> Result<Vec<u8>> {
        let mut a = sys::PJRT_Executable_Serialize_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_Serialize, &mut a)?;
        // SAFETY: bytes backed by `serialized_executable` until its deleter runs.
        let bytes =
            unsafe { vec_from_raw(a.serialized_bytes.cast::<u8>(), a.serialized_bytes_size) };
        if let Some(del) = a.serialized_executable_deleter {
            // SAFETY: the plugin's own deleter, called once.
            unsafe { del(a.serialized_executable) };
        }
        Ok(bytes)
    }

    /// The entry parameters' shapes, read from the optimized HLO module (`None` when the
    /// plugin does not give one in a form we can read, or a parameter is a tuple).
    pub fn parameter_shapes(&self) -> Result<Option<Vec<ParameterShape>>> {
        let (format, code) = match self.optimized_program() {
            Ok(p) => p,
            Err(e) if e.is_unimplemented() => return Ok(None),
            Err(e) => return Err(e),
        };
        const M: &str = "xla.HloModuleProto";
        let module: &[u8] = match format.as_str() {
            "hlo" | "hloproto" => &code,
            // HloModuleProtoWithConfig { hlo_module = 1, config = 2 }
            "hlo_with_config" => {
                let mut r = Reader::new(&code, M);
                let mut found: &[u8] = &[];
                while let Some((f, v)) = r.next_field()? {
                    if f == 1 {
                        found = v.as_bytes().unwrap_or(&[]);
                    }
                }
                found
            }
            _ => return Ok(None),
        };
        let mut r = Reader::new(module, M);
        while let Some((f, v)) = r.next_field()? {
            if f != 4 {
                continue;
            }
            // host_program_shape: ProgramShapeProto { parameters = 1 }
            let mut pr = Reader::new(v.as_bytes().unwrap_or(&[]), M);
            let mut params = Vec::new();
            while let Some((pf, pv)) = pr.next_field()? {
                if pf == 1 {
                    match decode_shape(pv.as_bytes().unwrap_or(&[])) {
                        Ok(s) => params.push(ParameterShape {
                            element_type: s.element_type,
                            dims: s.dims,
                        }),
                        Err(_) => return Ok(None),
                    }
                }
            }
            return Ok(Some(params));
        }
        Ok(None)
    }
}

/// Options for one execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecuteOptions {
    /// Id shared by all participants of one multi-device launch (0: let the plugin pick).
    pub launch_id: i32,
    /// Argument positions that must not be donated even if the program allows it.
    pub non_donatable_input_indices: Vec<i64>,
    /// Wait until the execution has finished on every device before returning (execution
    /// errors then surface here rather than on the outputs).
    pub wait: bool,
    /// The device to run a portable executable on (see
    /// [`CompileOptions::portable`](crate::CompileOptions::portable)).
    pub device: Option<Device>,
}

/// A compiled program loaded on devices, ready to run. Thread-safe: run it from many threads.
pub struct LoadedExecutable {
    pub(crate) raw: *mut sys::PJRT_LoadedExecutable,
    // Fields drop in order: the executable before the client it came from.
    executable: Executable,
    client: Client,
    devices: Vec<Device>,
    name: String,
    num_outputs: usize,
    params: OnceLock<Option<Vec<ParameterShape>>>,
    deleted: AtomicBool,
}

// SAFETY: PJRT loaded executables are thread-safe: Execute may be called concurrently from
// several threads; destruction happens once, in Drop.
unsafe impl Send for LoadedExecutable {}
// SAFETY: as above.
unsafe impl Sync for LoadedExecutable {}

impl Drop for LoadedExecutable {
    fn drop(&mut self) {
        let mut a = sys::PJRT_LoadedExecutable_Destroy_Args::new();
        a.executable = self.raw;
        let _ = call!(self.client.api(), PJRT_LoadedExecutable_Destroy, &mut a);
    }
}

impl Deref for LoadedExecutable {
    type Target = Executable;
    fn deref(&self) -> &Executable {
        &self.executable
    }
}

impl fmt::Debug for LoadedExecutable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LoadedExecutable({}, {} devices)",
            self.name,
            self.devices.len()
        )
    }
}

impl LoadedExecutable {
    pub(crate) fn new(
        client: &Client,
        raw: *mut sys::PJRT_LoadedExecutable,
    ) -> Result<LoadedExecutable> {
        let api = client.api();
        let mut g = sys::PJRT_LoadedExecutable_GetExecutable_Args::new();
        g.loaded_executable = raw;
        let got = call!(api, PJRT_LoadedExecutable_GetExecutable, &mut g);
        if let Err(e) = got {
            let mut d = sys::PJRT_LoadedExecutable_Destroy_Args::new();
            d.executable = raw;
            let _ = call!(api, PJRT_LoadedExecutable_Destroy, &mut d);
            return Err(e);
        }
        // From here on `Drop` of the pieces destroys both handles exactly once.
        let executable = Executable {
            raw: g.executable,
            plugin: client.plugin().clone(),
        };
        let mut le = LoadedExecutable {
            raw,
            client: client.clone(),
            executable,
            devices: Vec::new(),
            name: String::new(),
            num_outputs: 0,
            params: OnceLock::new(),
            deleted: AtomicBool::new(false),
        };
        let mut a = sys::PJRT_LoadedExecutable_AddressableDevices_Args::new();
        a.executable = raw;
        call!(api, PJRT_LoadedExecutable_AddressableDevices, &mut a)?;
        // SAFETY: device pointers owned by the client.
        le.devices = unsafe { vec_from_raw(a.addressable_devices, a.num_addressable_devices) }
            .into_iter()
            .map(|d| Device::new(client, d))
            .collect();
        le.name = le.executable.name()?;
        le.num_outputs = le.executable.num_outputs()?;
        Ok(le)
    }

    /// The client it is loaded on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The device-independent executable.
    pub fn executable(&self) -> &Executable {
        &self.executable
    }

    /// The devices it runs on, in execution order.
    pub fn addressable_devices(&self) -> &[Device] {
        &self.devices
    }

    /// The loaded executable's fingerprint.
    pub fn loaded_fingerprint(&self) -> Result<String> {
        let mut a = sys::PJRT_LoadedExecutable_Fingerprint_Args::new();
        a.executable = self.raw;
        call!(self.client.api(), PJRT_LoadedExecutable_Fingerprint, &mut a)?;
        // SAFETY: a string owned by the executable.
        Ok(unsafe { str_from_raw(a.executable_fingerprint, a.executable_fingerprint_size) })
    }

    /// The device assignment it was compiled with.
    pub fn device_assignment(&self) -> Result<DeviceAssignment> {
        let mut a = sys::PJRT_LoadedExecutable_GetDeviceAssignment_Args::new();
        a.executable = self.raw;
        call!(
            self.client.api(),
            PJRT_LoadedExecutable_GetDeviceAssignment,
            &mut a
        )?;
        // SAFETY: bytes backed by `serialized_device_assignment` until its deleter runs.
        let bytes =
            unsafe { vec_from_raw(a.serialized_bytes.cast::<u8>(), a.serialized_bytes_size) };
        if let Some(del) = a.serialized_device_assignment_deleter {
            // SAFETY: the plugin's own deleter, called once.
            unsafe { del(a.serialized_device_assignment) };
        }
        DeviceAssignment::decode(&bytes)
    }

    /// Unloads the executable from its devices now; later executions are refused
    /// ([`Error::ExecutableDeleted`]; some plugins would still run it).
    pub fn delete(&self) -> Result<()> {
        let mut a = sys::PJRT_LoadedExecutable_Delete_Args::new();
        a.executable = self.raw;
        call!(self.client.api(), PJRT_LoadedExecutable_Delete, &mut a)?;
        self.deleted.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether it was deleted.
    pub fn is_deleted(&self) -> Result<bool> {
        let mut a = sys::PJRT_LoadedExecutable_IsDeleted_Args::new();
        a.executable = self.raw;
        call!(self.client.api(), PJRT_LoadedExecutable_IsDeleted, &mut a)?;
        Ok(a.is_deleted)
    }

    /// The parameters' shapes (cached; see [`Executable::parameter_shapes`]).
    pub fn parameters(&self) -> Option<&[ParameterShape]> {
        self.params
            .get_or_init(|| self.executable.parameter_shapes().ok().flatten())
            .as_deref()
    }

    fn check_args<'a>(
        &self,
        args: impl ExactSizeIterator<Item = (ElementType, &'a [i64])>,
    ) -> Result<()> {
        let Some(params) = self.parameters() else {
            return Ok(());
        };
        if args.len() != params.len() {
            return Err(Error::ArgumentCount {
                executable: self.name.clone(),
                expected: params.len(),
                actual: args.len(),
            });
        }
        for (index, ((et, dims), p)) in args.zip(params).enumerate() {
            if et != p.element_type || dims != p.dims.as_slice() {
                return Err(Error::ArgumentShape {
                    executable: self.name.clone(),
                    index,
                    expected_type: p.element_type,
                    expected_dims: p.dims.clone(),
                    actual_type: et,
                    actual_dims: dims.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Runs on the first device with device-resident arguments; returns the outputs.
    pub fn execute(&self, args: &[&Buffer]) -> Result<Vec<Buffer>> {
        self.execute_with(args, &ExecuteOptions::default())
    }

    /// [`execute`](Self::execute) with options (donation control, launch id, waiting).
    pub fn execute_with(&self, args: &[&Buffer], options: &ExecuteOptions) -> Result<Vec<Buffer>> {
        let mut out = self.execute_devices(&[args], options)?;
        out.pop()
            .ok_or_else(|| Error::InvalidDevice("execute returned no outputs".into()))
    }

    /// Runs on `args.len()` devices at once (one argument list per addressable device, in
    /// [`addressable_devices`](Self::addressable_devices) order); returns outputs per device.
    pub fn execute_sharded(
        &self,
        args: &[Vec<&Buffer>],
        options: &ExecuteOptions,
    ) -> Result<Vec<Vec<Buffer>>> {
        let lists: Vec<&[&Buffer]> = args.iter().map(|v| v.as_slice()).collect();
        self.execute_devices(&lists, options)
    }

    /// Launches on `args.len()` devices and returns at once: the outputs per device and one
    /// completion [`Event`] per device (wait on it, register a callback, or `.await` it).
    /// Execution errors surface on the events and on the outputs.
    pub fn execute_async(
        &self,
        args: &[Vec<&Buffer>],
        options: &ExecuteOptions,
    ) -> Result<(Vec<Vec<Buffer>>, Vec<Event>)> {
        let lists: Vec<&[&Buffer]> = args.iter().map(|v| v.as_slice()).collect();
        self.launch(&lists, options, true)
    }

    fn execute_devices(
        &self,
        args: &[&[&Buffer]],
        options: &ExecuteOptions,
    ) -> Result<Vec<Vec<Buffer>>> {
        let (results, events) = self.launch(args, options, options.wait)?;
        for e in &events {
            e.wait()?;
        }
        Ok(results)
    }

    fn launch(
        &self,
        args: &[&[&Buffer]],
        options: &ExecuteOptions,
        want_events: bool,
    ) -> Result<(Vec<Vec<Buffer>>, Vec<Event>)> {
        if self.deleted.load(Ordering::Acquire) {
            return Err(Error::ExecutableDeleted {
                executable: self.name.clone(),
            });
        }
        let num_devices = args.len();
        let expected = if options.device.is_some() {
            1
        } else {
            self.devices.len().max(1)
        };
        if num_devices != expected {
            return Err(Error::InvalidDevice(format!(
                "execute `{}`: got argument lists for {num_devices} devices, the executable runs on {expected}",
                self.name
            )));
        }
        let num_args = args[0].len();
        for list in args {
            if list.len() != num_args {
                return Err(Error::InvalidDevice(format!(
                    "execute `{}`: argument lists of different lengths ({} and {num_args})",
                    self.name,
                    list.len()
                )));
            }
            let mut metas = Vec::with_capacity(list.len());
            for b in list.iter() {
                b.check_live("execute")?;
                metas.push(b.meta()?);
            }
            self.check_args(metas.iter().map(|(t, d)| (*t, d.as_slice())))?;
        }
        let raw_args: Vec<Vec<*mut sys::PJRT_Buffer>> = args
            .iter()
            .map(|l| l.iter().map(|b| b.raw()).collect())
            .collect();
        let arg_ptrs: Vec<*const *mut sys::PJRT_Buffer> =
            raw_args.iter().map(|l| l.as_ptr()).collect();
        let mut outs: Vec<Vec<*mut sys::PJRT_Buffer>> =
            vec![vec![std::ptr::null_mut(); self.num_outputs]; num_devices];
        let out_ptrs: Vec<*mut *mut sys::PJRT_Buffer> =
            outs.iter_mut().map(|l| l.as_mut_ptr()).collect();
        let mut events: Vec<*mut sys::PJRT_Event> = vec![std::ptr::null_mut(); num_devices];

        let mut o = sys::PJRT_ExecuteOptions::new();
        o.launch_id = options.launch_id;
        o.non_donatable_input_indices = options.non_donatable_input_indices.as_ptr();
        o.num_non_donatable_input_indices = options.non_donatable_input_indices.len();
        let mut a = sys::PJRT_LoadedExecutable_Execute_Args::new();
        a.executable = self.raw;
        a.options = &mut o;
        a.argument_lists = arg_ptrs.as_ptr();
        a.num_devices = num_devices;
        a.num_args = num_args;
        a.output_lists = out_ptrs.as_ptr();
        a.execute_device = options
            .device
            .as_ref()
            .map_or(std::ptr::null_mut(), |d| d.raw);
        a.device_complete_events = if want_events {
            events.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        call!(self.client.api(), PJRT_LoadedExecutable_Execute, &mut a)?;

        // Take ownership of every output and event before reporting any error.
        let results: Vec<Vec<Buffer>> = outs
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&b| Buffer::wrap(&self.client, b, None))
                    .collect()
            })
            .collect();
        let events: Vec<Event> = events
            .into_iter()
            .filter_map(|e| Event::from_raw(self.client.plugin(), e))
            .collect();
        Ok((results, events))
    }

    /// Host data in, host data out: copies the literals to the first device, runs, and
    /// copies every output back. Arguments are checked against the parameters first.
    pub fn run(&self, args: &[&Literal]) -> Result<Vec<Literal>> {
        if self.deleted.load(Ordering::Acquire) {
            return Err(Error::ExecutableDeleted {
                executable: self.name.clone(),
            });
        }
        self.check_args(args.iter().map(|l| (l.element_type(), l.dims())))?;
        let placement = match self.devices.first() {
            Some(d) => BufferPlacement::device(d),
            None => BufferPlacement::default(),
        };
        let buffers: Vec<Buffer> = args
            .iter()
            .map(|l| {
                self.client.buffer_from_bytes_with(
                    l.element_type(),
                    l.as_bytes(),
                    l.dims(),
                    HostBufferSemantics::ImmutableOnlyDuringCall,
                    &placement,
                )
            })
            .collect::<Result<_>>()?;
        let refs: Vec<&Buffer> = buffers.iter().collect();
        let outs = self.execute(&refs)?;
        outs.iter().map(Buffer::to_literal).collect()
    }

    /// The plugin's own serialized bytes (use [`serialize`](Self::serialize) to ship).
    pub fn serialize_raw(&self) -> Result<Vec<u8>> {
        self.executable.serialize_raw()
    }
}
