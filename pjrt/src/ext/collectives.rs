//! The Collectives extension: communicators and collective operations outside compiled programs.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::collectives as e;
use sys::ext::collectives::PJRT_Collectives_Extension;

use crate::error::Result;
use crate::ext::{ext_call, extension_struct};

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
