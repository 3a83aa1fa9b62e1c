//! The Shardings extension: serialized `xla.OpSharding` of an executable's parameters and
//! outputs.

use pjrt_sys as sys;
use sys::ext::shardings as s;
use sys::ext::shardings::PJRT_Shardings_Extension;

use crate::error::Result;
use crate::plugin::vec_from_raw;
use crate::plugin::{ext_call, extension_struct};
use crate::Executable;

extension_struct!(
    /// The Shardings extension of a plugin.
    Shardings,
    sys::PJRT_Extension_Type_Shardings
);

/// Reads `n` (pointer, size) byte strings.
unsafe fn blobs(p: *const *const std::ffi::c_char, sizes: *const usize, n: usize) -> Vec<Vec<u8>> {
    // SAFETY: forwarded from the caller.
    let ps = unsafe { vec_from_raw(p, n) };
    // SAFETY: as above.
    let ss = unsafe { vec_from_raw(sizes, n) };
    ps.into_iter()
        .zip(ss)
        // SAFETY: each entry is readable for its size.
        .map(|(p, n)| unsafe { vec_from_raw(p.cast::<u8>(), n) })
        .collect()
}

impl Shardings {
    /// Each parameter's sharding as serialized `xla.OpSharding` bytes.
    pub fn parameter_shardings(&self, executable: &Executable) -> Result<Vec<Vec<u8>>> {
        let mut a = s::PJRT_Shardings_PJRT_Executable_ParameterShardings_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Shardings::parameter_shardings",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_Shardings_Extension,
            PJRT_Shardings_PJRT_Executable_ParameterShardings,
            &mut a
        )?;
        // SAFETY: arrays owned by the executable.
        Ok(unsafe { blobs(a.shardings, a.sharding_sizes, a.num_parameters) })
    }

    /// Each output's sharding as serialized `xla.OpSharding` bytes.
    pub fn output_shardings(&self, executable: &Executable) -> Result<Vec<Vec<u8>>> {
        let mut a = s::PJRT_Shardings_PJRT_Executable_OutputShardings_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Shardings::output_shardings",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_Shardings_Extension,
            PJRT_Shardings_PJRT_Executable_OutputShardings,
            &mut a
        )?;
        // SAFETY: arrays owned by the executable.
        Ok(unsafe { blobs(a.shardings, a.sharding_sizes, a.num_outputs) })
    }
}
