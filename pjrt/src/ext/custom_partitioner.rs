//! The CustomPartitioner extension: register custom-call partitioners (JAX `custom_partitioning`).
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::custom_partitioner as e;
use sys::ext::custom_partitioner::PJRT_Custom_Partitioner_Extension;

use crate::error::Result;
use crate::ext::{ext_call, extension_struct};

extension_struct!(
    /// The CustomPartitioner extension of a plugin.
    CustomPartitioner,
    sys::PJRT_Extension_Type_Custom_Partitioner
);

impl CustomPartitioner {
    /// Calls `register_custom_partitioner` with a filled `PJRT_Register_Custom_Partitioner_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn register_custom_partitioner(
        &self,
        args: &mut e::PJRT_Register_Custom_Partitioner_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_custom_partitioner,
            args
        )
    }

    /// Calls `register_batch_partitionable` with a filled `PJRT_Register_Batch_Partitionable_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn register_batch_partitionable(
        &self,
        args: &mut e::PJRT_Register_Batch_Partitionable_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_batch_partitionable,
            args
        )
    }
}

impl CustomPartitioner {
    /// Marks the custom call `name` as batch-partitionable (a safe form of
    /// `register_batch_partitionable`).
    pub fn register_batch_partitionable_name(&self, name: &str) -> Result<()> {
        let mut a = e::PJRT_Register_Batch_Partitionable_Args::new();
        a.name = name.as_ptr().cast();
        a.name_size = name.len();
        ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_batch_partitionable,
            &mut a
        )
    }
}
