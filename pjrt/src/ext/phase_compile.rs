//! The PhaseCompile extension: run named compiler phases on partial programs. The CPU
//! plugins expose the extension but not its compiler (`Unimplemented`).

use std::ffi::c_char;

use pjrt_sys as sys;
use sys::ext::phase_compile as p;
use sys::ext::phase_compile::PJRT_PhaseCompile_Extension;

use crate::error::{Error, Result};
use crate::plugin::vec_from_raw;
use crate::plugin::{ext_call, extension_struct};
use crate::{CompileOptions, TopologyDescription};

extension_struct!(
    /// The PhaseCompile extension of a plugin.
    PhaseCompile,
    sys::PJRT_Extension_Type_PhaseCompile
);

/// A phase compiler; destroyed on drop.
pub struct PhaseCompiler {
    raw: *const sys::PJRT_PhaseCompiler,
    ext: PhaseCompile,
}

// SAFETY: a plugin object without thread affinity, destroyed once.
unsafe impl Send for PhaseCompiler {}

impl PhaseCompile {
    /// The plugin's phase compiler.
    pub fn compiler(&self) -> Result<PhaseCompiler> {
        let mut a = p::PJRT_PhaseCompile_Get_Compiler_Args::new();
        ext_call!(
            &self.h,
            PJRT_PhaseCompile_Extension,
            phase_compile_get_compiler,
            &mut a
        )?;
        if a.phase_compiler.is_null() {
            return Err(Error::InvalidArgument(
                "phase_compile_get_compiler returned null".into(),
            ));
        }
        Ok(PhaseCompiler {
            raw: a.phase_compiler,
            ext: self.clone(),
        })
    }
}

impl Drop for PhaseCompiler {
    fn drop(&mut self) {
        let mut a = p::PJRT_PhaseCompile_Destroy_Compiler_Args::new();
        a.phase_compiler = self.raw;
        let _ = ext_call!(@ret &self.ext.h, PJRT_PhaseCompile_Extension, phase_compile_destroy_compiler, &mut a);
    }
}

impl PhaseCompiler {
    /// Copies plugin-allocated (pointer, size) buffers out, then has the plugin free them.
    fn take_buffers(
        &self,
        ptrs: *mut *const c_char,
        sizes: *const usize,
        n: usize,
    ) -> Vec<Vec<u8>> {
        // SAFETY: `n` entries allocated by the plugin.
        let ps = unsafe { vec_from_raw(ptrs.cast_const(), n) };
        // SAFETY: as above.
        let ss = unsafe { vec_from_raw(sizes, n) };
        let out = ps
            .iter()
            .zip(&ss)
            // SAFETY: each buffer is readable for its size.
            .map(|(&p, &s)| unsafe { vec_from_raw(p.cast::<u8>(), s) })
            .collect();
        let mut d = p::PJRT_PhaseCompile_C_Buffers_Destroy_Args::new();
        d.char_buffers = ptrs;
        d.char_buffer_sizes = sizes;
        d.num_char_buffers = n;
        let _ = ext_call!(@ret &self.ext.h, PJRT_PhaseCompile_Extension, phase_compile_c_buffers_destroy, &mut d);
        out
    }

    /// The registered phases, in order.
    pub fn phase_names(&self) -> Result<Vec<String>> {
        let mut a = p::PJRT_PhaseCompile_Get_PhaseNames_Args::new();
        a.phase_compiler = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_PhaseCompile_Extension,
            phase_compile_get_phase_names,
            &mut a
        )?;
        let bufs = self.take_buffers(a.phase_names, a.phase_names_sizes, a.num_phase_names);
        Ok(bufs
            .into_iter()
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim_end_matches('\0')
                    .to_string()
            })
            .collect())
    }

    /// Runs `phases` on serialized `xla.PjRtPartialProgramProto` inputs; returns the outputs.
    pub fn run_phases(
        &self,
        inputs: &[Vec<u8>],
        phases: &[&str],
        options: &CompileOptions,
        topology: &TopologyDescription,
    ) -> Result<Vec<Vec<u8>>> {
        let opts = options.encode()?;
        let mut in_ptrs: Vec<*const c_char> = inputs.iter().map(|i| i.as_ptr().cast()).collect();
        let in_sizes: Vec<usize> = inputs.iter().map(|i| i.len()).collect();
        // Phase names are passed NUL-terminated as well as with sizes.
        let names: Vec<Vec<u8>> = phases
            .iter()
            .map(|n| {
                let mut v = n.as_bytes().to_vec();
                v.push(0);
                v
            })
            .collect();
        let mut name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr().cast()).collect();
        let name_sizes: Vec<usize> = phases.iter().map(|n| n.len()).collect();
        let mut a = p::PJRT_PhaseCompile_Run_Phase_Args::new();
        a.phase_compiler = self.raw;
        a.input_programs = in_ptrs.as_mut_ptr();
        a.input_programs_sizes = in_sizes.as_ptr();
        a.num_input_programs = inputs.len();
        a.phases_to_run = name_ptrs.as_mut_ptr();
        a.phases_to_run_sizes = name_sizes.as_ptr();
        a.num_phases_to_run = phases.len();
        a.compile_options = opts.as_ptr().cast();
        a.compile_options_size = opts.len();
        crate::plugin::check_owner(
            &self.ext.h,
            "PhaseCompiler::run_phases",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        ext_call!(
            &self.ext.h,
            PJRT_PhaseCompile_Extension,
            phase_compile_run_phases,
            &mut a
        )?;
        Ok(self.take_buffers(
            a.output_programs,
            a.output_programs_sizes,
            a.num_output_programs,
        ))
    }
}
