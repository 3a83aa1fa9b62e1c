//! Compiled programs not bound to devices ([`Executable`]): what the compiler made of them
//! (outputs, costs, memory plan, the optimized program, the options used), parameter shapes
//! and memory kinds, and the plugin's own serialized form.

use pjrt_sys as sys;

use crate::compile_options::{decode_shape, CompileOptions};
use crate::error::{Error, Result};
use crate::plugin::{
    call, call_deleter, read_named_values, str_from_raw, strings_from_raw, vec_from_raw, Api,
    NamedValue, Plugin,
};
use crate::proto::Reader;
use crate::types::ElementType;

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
    fn api(&self) -> &Api {
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
        Ok(unsafe { strings_from_raw(a.memory_kinds, a.memory_kind_sizes, a.num_outputs) })
    }

    /// The memory kind each parameter lives in (e.g. `device`, `pinned_host`).
    pub fn parameter_memory_kinds(&self) -> Result<Vec<String>> {
        let mut a = sys::PJRT_Executable_ParameterMemoryKinds_Args::new();
        a.executable = self.raw;
        call!(self.api(), PJRT_Executable_ParameterMemoryKinds, &mut a)?;
        // SAFETY: `num_parameters` strings with sizes owned by the executable.
        Ok(unsafe { strings_from_raw(a.memory_kinds, a.memory_kind_sizes, a.num_parameters) })
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
        // SAFETY: the plugin's own deleter for the object it handed us, once, after the copy.
        unsafe {
            call_deleter(
                a.serialized_compile_options_deleter,
                a.serialized_compile_options,
            )
        };
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
        // SAFETY: the plugin's own deleter, once, after the copy.
        unsafe { call_deleter(a.serialized_executable_deleter, a.serialized_executable) };
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

impl crate::plugin::PluginOwned for Executable {
    fn owner_plugin(&self) -> &crate::Plugin {
        &self.plugin
    }
}
