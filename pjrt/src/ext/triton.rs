//! The Triton extension (GPU plugins): compile a Triton MLIR module to device assembly.

use pjrt_sys as sys;
use sys::ext::triton as t;
use sys::ext::triton::PJRT_Triton_Extension;

use crate::error::Result;
use crate::plugin::{bytes_from_raw, ext_call, extension_struct};

extension_struct!(
    /// The Triton extension of a plugin.
    Triton,
    sys::PJRT_Extension_Type_Triton
);

/// Compilation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TritonOptions {
    /// Target architecture (e.g. `9.0` for sm_90).
    pub arch_name: String,
    /// Warps per CTA.
    pub num_warps: i32,
    /// CTAs per cluster.
    pub num_ctas: i32,
    /// Pipeline stages.
    pub num_stages: i32,
}

/// The result of a Triton compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TritonKernel {
    /// The assembly (e.g. PTX).
    pub asm: Vec<u8>,
    /// Shared memory the kernel needs, in bytes.
    pub smem_bytes: i64,
    /// A file path the plugin wrote the result to, if any.
    pub path: String,
}

impl Triton {
    /// Compiles a Triton module.
    pub fn compile(&self, module: &str, options: &TritonOptions) -> Result<TritonKernel> {
        let mut a = t::PJRT_Triton_Compile_Args::new();
        a.module = module.as_ptr().cast();
        a.module_size = module.len();
        a.arch_name = options.arch_name.as_ptr().cast();
        a.arch_name_size = options.arch_name.len();
        a.num_warps = options.num_warps;
        a.num_ctas = options.num_ctas;
        a.num_stages = options.num_stages;
        ext_call!(&self.h, PJRT_Triton_Extension, compile, &mut a)?;
        // SAFETY: output strings owned by the plugin (kept for its lifetime).
        let (asm, path) = unsafe {
            (
                bytes_from_raw(a.out_asm, a.out_asm_size),
                bytes_from_raw(a.out_path, a.out_path_size),
            )
        };
        Ok(TritonKernel {
            asm,
            smem_bytes: a.out_smem_bytes,
            path: String::from_utf8_lossy(&path).into_owned(),
        })
    }
}
