//! Compiling programs on a client, and loading programs compiled without one.

use pjrt_sys as sys;

use crate::client::Client;
use crate::compile_options::CompileOptions;
use crate::error::Result;
use crate::executable::cache::compile_cached;
use crate::executable::loaded::LoadedExecutable;
use crate::executable::metadata::Executable;
use crate::plugin::call;
use crate::program::Program;

impl Client {
    /// Compiles a program with default options (one replica, one partition).
    pub fn compile(&self, program: &Program) -> Result<LoadedExecutable> {
        self.compile_with(program, &CompileOptions::default())
    }

    /// Compiles a program with options (validated and encoded first; never sends zero
    /// replicas or partitions), through the compilation cache the options name (by default
    /// the per-user one; see [`CompileCache`](crate::CompileCache)).
    pub fn compile_with(
        &self,
        program: &Program,
        options: &CompileOptions,
    ) -> Result<LoadedExecutable> {
        program.validate()?;
        // The plugin's compile, of the encoded options; the cache calls it on a miss.
        compile_cached(self, program, options, |opts| {
            let format = program.format().as_str();
            let mut p = sys::PJRT_Program::new();
            // The plugin only reads `code` when compiling.
            p.code = program.code().as_ptr().cast_mut().cast();
            p.code_size = program.code().len();
            p.format = format.as_ptr().cast();
            p.format_size = format.len();
            let mut a = sys::PJRT_Client_Compile_Args::new();
            a.client = self.raw();
            a.program = &p;
            a.compile_options = opts.as_ptr().cast();
            a.compile_options_size = opts.len();
            call!(self.api(), PJRT_Client_Compile, &mut a)?;
            LoadedExecutable::new(self, a.executable)
        })
    }

    /// Loads a compiled (not yet loaded) executable onto this client's devices
    /// (`PJRT_Client_Load`), e.g. one made by [`crate::TopologyDescription::compile`].
    pub fn load(
        &self,
        executable: &Executable,
        options: &CompileOptions,
    ) -> Result<LoadedExecutable> {
        self.plugin()
            .check_same("Client::load", "the executable", &executable.plugin)?;
        let opts = options.encode()?;
        let mut a = sys::PJRT_Client_Load_Args::new();
        a.client = self.raw();
        a.executable = executable.raw;
        a.compile_options = opts.as_ptr().cast();
        a.compile_options_size = opts.len();
        call!(self.api(), PJRT_Client_Load, &mut a)?;
        LoadedExecutable::new(self, a.loaded_executable)
    }
}
