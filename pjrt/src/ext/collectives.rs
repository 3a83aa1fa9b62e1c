//! The Collectives extension: communicators and collective operations outside compiled programs.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::collectives as e;
use sys::ext::collectives::PJRT_Collectives_Extension;

use crate::error::Result;
use crate::plugin::{call_deleter, ext_call, extension_struct};

extension_struct!(
    /// The Collectives extension of a plugin.
    Collectives,
    sys::PJRT_Extension_Type_Collectives
);

impl Collectives {
    /// Calls `collectives_destroy` with a filled `PJRT_Collectives_Destroy_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn collectives_destroy(
        &self,
        args: &mut e::PJRT_Collectives_Destroy_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            collectives_destroy,
            args
        )
    }

    /// Calls `collectives_create_communicators` with a filled `PJRT_Collectives_CreateCommunicators_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn collectives_create_communicators(
        &self,
        args: &mut e::PJRT_Collectives_CreateCommunicators_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            collectives_create_communicators,
            args
        )
    }

    /// Calls `communicator_destroy` with a filled `PJRT_Collectives_Communicator_Destroy_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_destroy(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_Destroy_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_destroy,
            args
        )
    }

    /// Calls `communicator_all_reduce` with a filled `PJRT_Collectives_Communicator_AllReduce_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_all_reduce(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_AllReduce_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_all_reduce,
            args
        )
    }

    /// Calls `communicator_reduce_scatter` with a filled `PJRT_Collectives_Communicator_ReduceScatter_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_reduce_scatter(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_ReduceScatter_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_reduce_scatter,
            args
        )
    }

    /// Calls `communicator_all_gather` with a filled `PJRT_Collectives_Communicator_AllGather_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_all_gather(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_AllGather_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_all_gather,
            args
        )
    }

    /// Calls `communicator_collective_permute` with a filled `PJRT_Collectives_Communicator_CollectivePermute_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_collective_permute(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_CollectivePermute_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_collective_permute,
            args
        )
    }

    /// Calls `communicator_all_to_all` with a filled `PJRT_Collectives_Communicator_AllToAll_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_all_to_all(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_AllToAll_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_all_to_all,
            args
        )
    }

    /// Calls `communicator_to_string` with a filled `PJRT_Collectives_Communicator_ToString_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn communicator_to_string(
        &self,
        args: &mut e::PJRT_Collectives_Communicator_ToString_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Collectives_Extension,
            communicator_to_string,
            args
        )
    }
}

/// A collectives object owned by Rust (made raw by the Megascale extension's
/// `create_megascale_collectives`); destroyed on drop.
pub struct CollectivesObject {
    ext: Collectives,
    raw: *mut e::PJRT_Collectives,
}

/// A communicator; destroyed on drop. Its collective operations work on raw device memory
/// and stay `unsafe` (see the extension's raw calls).
pub struct Communicator {
    ext: Collectives,
    raw: *mut e::PJRT_Collectives_Communicator,
}

// SAFETY: plugin objects without thread affinity, destroyed once.
unsafe impl Send for CollectivesObject {}
// SAFETY: as above.
unsafe impl Send for Communicator {}

impl Collectives {
    /// Takes ownership of a raw collectives object.
    ///
    /// # Safety
    /// `raw` must be a live collectives object of this plugin that nobody else destroys.
    pub unsafe fn own(&self, raw: *mut e::PJRT_Collectives) -> CollectivesObject {
        CollectivesObject {
            ext: self.clone(),
            raw,
        }
    }
}

impl Drop for CollectivesObject {
    fn drop(&mut self) {
        let mut a = e::PJRT_Collectives_Destroy_Args::new();
        a.collectives = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_Collectives_Extension,
            collectives_destroy,
            &mut a
        );
    }
}

impl CollectivesObject {
    /// One communicator per device of a clique (device ids, optional clique ids, and the
    /// rank of each local device).
    pub fn create_communicators(
        &self,
        device_ids: &[i64],
        clique_ids: &[Vec<u8>],
        ranks: &[i64],
    ) -> Result<Vec<Communicator>> {
        let mut cptrs: Vec<*const std::ffi::c_char> =
            clique_ids.iter().map(|c| c.as_ptr().cast()).collect();
        let csizes: Vec<usize> = clique_ids.iter().map(|c| c.len()).collect();
        let mut ranks = ranks.to_vec();
        let mut a = e::PJRT_Collectives_CreateCommunicators_Args::new();
        a.collectives = self.raw;
        a.device_ids = device_ids.as_ptr();
        a.num_device_ids = device_ids.len();
        if !clique_ids.is_empty() {
            a.clique_ids = cptrs.as_mut_ptr();
            a.clique_id_sizes = csizes.as_ptr();
            a.num_clique_ids = clique_ids.len();
        }
        a.rank_ids = ranks.as_mut_ptr();
        a.num_device_ranks = ranks.len();
        ext_call!(
            &self.ext.h,
            PJRT_Collectives_Extension,
            collectives_create_communicators,
            &mut a
        )?;
        // SAFETY: `num_communicators` pointers in the holder's array.
        let comms = unsafe {
            crate::plugin::vec_from_raw(a.communicators.cast_const(), a.num_communicators)
        };
        // SAFETY: frees only the array; the communicators stay valid (header contract).
        unsafe { call_deleter(a.communicators_holder_deleter, a.communicators_holder) };
        Ok(comms
            .into_iter()
            .map(|raw| Communicator {
                ext: self.ext.clone(),
                raw,
            })
            .collect())
    }
}

impl Communicator {
    /// A description of the communicator.
    pub fn describe(&self) -> Result<String> {
        let mut a = e::PJRT_Collectives_Communicator_ToString_Args::new();
        a.communicator = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Collectives_Extension,
            communicator_to_string,
            &mut a
        )?;
        // SAFETY: bytes owned by the holder until its deleter runs.
        let v = unsafe { crate::plugin::bytes_from_raw(a.str, a.str_size) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.str_holder_deleter, a.str_holder) };
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    /// The raw communicator, for the `unsafe` collective operations.
    pub fn as_raw(&self) -> *mut e::PJRT_Collectives_Communicator {
        self.raw
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        let mut a = e::PJRT_Collectives_Communicator_Destroy_Args::new();
        a.communicator = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_Collectives_Extension,
            communicator_destroy,
            &mut a
        );
    }
}
