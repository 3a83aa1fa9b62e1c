//! Custom partitioner extension (`pjrt_c_api_custom_partitioner_extension.h`, version 1):
//! register SPMD partitioning callbacks for custom calls.

use core::ffi::{c_char, c_void};

use crate::layout::pjrt_structs;
use crate::{PJRT_Error, PJRT_Error_Code, PJRT_Extension_Base};

/// The version of the custom partitioner extension these declarations follow (its `extension_version` field).
pub const PJRT_API_CUSTOM_PARTITIONER_EXTENSION_VERSION: i32 = 1;

/// The C API function `PJRT_Register_Custom_Partitioner`: reads and fills in a [`PJRT_Register_Custom_Partitioner_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Register_Custom_Partitioner =
    unsafe extern "C" fn(args: *mut PJRT_Register_Custom_Partitioner_Args) -> *mut PJRT_Error;

/// The C API function `PJRT_Register_Batch_Partitionable`: reads and fills in a [`PJRT_Register_Batch_Partitionable_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Register_Batch_Partitionable =
    unsafe extern "C" fn(args: *mut PJRT_Register_Batch_Partitionable_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Custom_Partitioner_Extension`], in order.
pub const CUSTOM_PARTITIONER_FUNCTION_NAMES: &[&str] = &[
    "register_custom_partitioner",
    "register_batch_partitionable",
];

pjrt_structs! {
    /// A borrowed byte string.
    pub struct JAX_CustomCallPartitioner_string / JAX_CustomCallPartitioner_string_STRUCT_SIZE {
        pub data: *const c_char,
        pub size: usize,
    }

    /// An abstract value: serialized shape and optional serialized sharding.
    pub struct JAX_CustomCallPartitioner_aval / JAX_CustomCallPartitioner_aval_STRUCT_SIZE {
        pub shape: JAX_CustomCallPartitioner_string,
        pub has_sharding: bool,
        pub sharding: JAX_CustomCallPartitioner_string,
    }

    /// Version in, result data and error out, shared by the callbacks.
    pub struct JAX_CustomCallPartitioner_version_and_error
        / JAX_CustomCallPartitioner_version_and_error_STRUCT_SIZE {
        pub api_version: i64,
        /// Out: released with `cleanup_fn`.
        pub data: *mut c_void,
        /// Out.
        pub cleanup_fn: Option<unsafe extern "C" fn(data: *mut c_void)>,
        pub has_error: bool,
        /// Out.
        pub code: PJRT_Error_Code,
        /// Out.
        pub error_msg: JAX_CustomCallPartitioner_string,
    }

    pub struct JAX_CustomCallPartitioner_Partition_Args
        / JAX_CustomCallPartitioner_Partition_Args_STRUCT_SIZE {
        pub header: JAX_CustomCallPartitioner_version_and_error,
        pub num_args: usize,
        pub op_args: *mut JAX_CustomCallPartitioner_aval,
        pub op_result: JAX_CustomCallPartitioner_aval,
        pub backend_config: JAX_CustomCallPartitioner_string,
        /// Out: the partitioned module.
        pub mlir_module: JAX_CustomCallPartitioner_string,
        /// Out: `num_args` shardings.
        pub args_sharding: *mut JAX_CustomCallPartitioner_string,
        /// Out.
        pub result_sharding: JAX_CustomCallPartitioner_string,
    }

    pub struct JAX_CustomCallPartitioner_InferShardingFromOperands_Args
        / JAX_CustomCallPartitioner_InferShardingFromOperands_Args_STRUCT_SIZE {
        pub header: JAX_CustomCallPartitioner_version_and_error,
        pub num_args: usize,
        pub op_args: *mut JAX_CustomCallPartitioner_aval,
        pub result_shape: JAX_CustomCallPartitioner_string,
        pub backend_config: JAX_CustomCallPartitioner_string,
        /// Out.
        pub has_result_sharding: bool,
        /// Out.
        pub result_sharding: JAX_CustomCallPartitioner_string,
    }

    pub struct JAX_CustomCallPartitioner_PropagateUserSharding_Args
        / JAX_CustomCallPartitioner_PropagateUserSharding_Args_STRUCT_SIZE {
        pub header: JAX_CustomCallPartitioner_version_and_error,
        pub backend_config: JAX_CustomCallPartitioner_string,
        pub result_shape: JAX_CustomCallPartitioner_string,
        /// In/out.
        pub result_sharding: JAX_CustomCallPartitioner_string,
    }

    /// The callbacks a partitioner implements.
    pub struct JAX_CustomCallPartitioner_Callbacks / JAX_CustomCallPartitioner_Callbacks_STRUCT_SIZE {
        pub version: i64,
        pub private_data: *mut c_void,
        pub dtor: Option<unsafe extern "C" fn(data: *mut JAX_CustomCallPartitioner_Callbacks)>,
        pub partition: Option<
            unsafe extern "C" fn(
                data: *mut JAX_CustomCallPartitioner_Callbacks,
                args: *mut JAX_CustomCallPartitioner_Partition_Args,
            ),
        >,
        pub infer_sharding: Option<
            unsafe extern "C" fn(
                data: *mut JAX_CustomCallPartitioner_Callbacks,
                args: *mut JAX_CustomCallPartitioner_InferShardingFromOperands_Args,
            ),
        >,
        pub propagate_user_sharding: Option<
            unsafe extern "C" fn(
                data: *mut JAX_CustomCallPartitioner_Callbacks,
                args: *mut JAX_CustomCallPartitioner_PropagateUserSharding_Args,
            ),
        >,
        pub can_side_effecting_have_replicated_sharding: bool,
    }

    /// Note: no `extension_start`.
    pub struct PJRT_Register_Custom_Partitioner_Args / PJRT_Register_Custom_Partitioner_Args_STRUCT_SIZE {
        pub struct_size: usize,
        /// Borrowed for the call only.
        pub name: *const c_char,
        pub name_size: usize,
        /// Ownership passes to the plugin.
        pub callbacks: *mut JAX_CustomCallPartitioner_Callbacks,
    }

    pub struct PJRT_Register_Batch_Partitionable_Args / PJRT_Register_Batch_Partitionable_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub name: *const c_char,
        pub name_size: usize,
    }

    /// The extension struct (`PJRT_Extension_Type_Custom_Partitioner`).
    pub struct PJRT_Custom_Partitioner_Extension / PJRT_Custom_Partitioner_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub register_custom_partitioner: Option<PJRT_Register_Custom_Partitioner>,
        pub register_batch_partitionable: Option<PJRT_Register_Batch_Partitionable>,
    }
}
