//! Collectives extension (`pjrt_c_api_collectives_extension.h`, version 1): communicators
//! and collective operations (all-reduce, reduce-scatter, all-gather, permute, all-to-all)
//! on raw device memory. The args structs have no `extension_start`.

use core::ffi::{c_char, c_void};

use crate::layout::{pjrt_enum, pjrt_opaque, pjrt_structs};
use crate::{PJRT_Buffer_Type, PJRT_Error, PJRT_Event, PJRT_Extension_Base};

/// The version of the collectives extension these declarations follow (its `extension_version` field).
pub const PJRT_API_COLLECTIVES_EXTENSION_VERSION: i32 = 1;

pjrt_opaque!(
    /// A collectives implementation (also produced by the megascale extension).
    PJRT_Collectives,
    /// One communicator.
    PJRT_Collectives_Communicator,
    /// Owner of an array of communicators; free with the returned deleter.
    PJRT_Collectives_Communicators,
    /// Owner of a `ToString` result; free with the returned deleter.
    PJRT_Collectives_ToString_Holder,
);

pjrt_enum! {
    /// Reduction of all-reduce and reduce-scatter (a 32-bit enum in C).
    PJRT_Collectives_ReductionKind {
        PJRT_COLLECTIVES_REDUCTION_SUM = 0,
        PJRT_COLLECTIVES_REDUCTION_PRODUCT = 1,
        PJRT_COLLECTIVES_REDUCTION_MIN = 2,
        PJRT_COLLECTIVES_REDUCTION_MAX = 3,
    }
}

pjrt_enum! {
    /// Whether a collective spans modules or replicas (a 32-bit enum in C).
    PJRT_Collectives_CollectiveOpKind {
        PJRT_COLLECTIVES_COLLECTIVE_OP_KIND_CROSS_MODULE = 0,
        PJRT_COLLECTIVES_COLLECTIVE_OP_KIND_CROSS_REPLICA = 1,
    }
}

/// The C API function `PJRT_Collectives_Destroy`: reads and fills in a [`PJRT_Collectives_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Collectives_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_CreateCommunicators`: reads and fills in a [`PJRT_Collectives_CreateCommunicators_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_CreateCommunicators =
    unsafe extern "C" fn(args: *mut PJRT_Collectives_CreateCommunicators_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_Destroy`: reads and fills in a [`PJRT_Collectives_Communicator_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Collectives_Communicator_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_AllReduce`: reads and fills in a [`PJRT_Collectives_Communicator_AllReduce_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_AllReduce = unsafe extern "C" fn(
    args: *mut PJRT_Collectives_Communicator_AllReduce_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_ReduceScatter`: reads and fills in a [`PJRT_Collectives_Communicator_ReduceScatter_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_ReduceScatter = unsafe extern "C" fn(
    args: *mut PJRT_Collectives_Communicator_ReduceScatter_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_AllGather`: reads and fills in a [`PJRT_Collectives_Communicator_AllGather_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_AllGather = unsafe extern "C" fn(
    args: *mut PJRT_Collectives_Communicator_AllGather_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_CollectivePermute`: reads and fills in a [`PJRT_Collectives_Communicator_CollectivePermute_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_CollectivePermute = unsafe extern "C" fn(
    args: *mut PJRT_Collectives_Communicator_CollectivePermute_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_AllToAll`: reads and fills in a [`PJRT_Collectives_Communicator_AllToAll_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_AllToAll =
    unsafe extern "C" fn(args: *mut PJRT_Collectives_Communicator_AllToAll_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Collectives_Communicator_ToString`: reads and fills in a [`PJRT_Collectives_Communicator_ToString_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Collectives_Communicator_ToString =
    unsafe extern "C" fn(args: *mut PJRT_Collectives_Communicator_ToString_Args) -> *mut PJRT_Error;

/// Slot names of [`PJRT_Collectives_Extension`], in order.
pub const COLLECTIVES_FUNCTION_NAMES: &[&str] = &[
    "collectives_destroy",
    "collectives_create_communicators",
    "communicator_destroy",
    "communicator_all_reduce",
    "communicator_reduce_scatter",
    "communicator_all_gather",
    "communicator_collective_permute",
    "communicator_all_to_all",
    "communicator_to_string",
];

pjrt_structs! {
    pub struct PJRT_Collectives_Destroy_Args / PJRT_Collectives_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub collectives: *mut PJRT_Collectives,
    }

    pub struct PJRT_Collectives_CreateCommunicators_Args
        / PJRT_Collectives_CreateCommunicators_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub collectives: *mut PJRT_Collectives,
        pub device_ids: *const i64,
        pub num_device_ids: usize,
        /// May be null.
        pub clique_ids: *mut *const c_char,
        pub clique_id_sizes: *const usize,
        pub num_clique_ids: usize,
        pub rank_ids: *mut i64,
        pub num_device_ranks: usize,
        /// Out: array of `num_communicators` pointers, owned by `communicators_holder`.
        pub communicators: *mut *mut PJRT_Collectives_Communicator,
        /// Out.
        pub num_communicators: usize,
        /// Out.
        pub communicators_holder: *mut PJRT_Collectives_Communicators,
        /// Out: frees `communicators_holder`.
        pub communicators_holder_deleter:
            Option<unsafe extern "C" fn(ptr: *mut PJRT_Collectives_Communicators)>,
    }

    pub struct PJRT_Collectives_Communicator_Destroy_Args
        / PJRT_Collectives_Communicator_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
    }

    /// Execution parameters for CPU collectives.
    pub struct PJRT_Collectives_CpuExecutor / PJRT_Collectives_CpuExecutor_STRUCT_SIZE {
        pub run_id: i64,
        pub global_device_ids: *mut i64,
        pub num_global_device_ids: usize,
        pub num_local_participants: i32,
        pub collective_op_kind: PJRT_Collectives_CollectiveOpKind,
        pub op_id: i64,
        pub timeout_in_ns: i64,
    }

    pub struct PJRT_Collectives_Communicator_AllReduce_Args
        / PJRT_Collectives_Communicator_AllReduce_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
        pub send_buffer_ptr: *mut c_void,
        pub send_buffer_size: usize,
        pub recv_buffer_ptr: *mut c_void,
        pub recv_buffer_size: usize,
        pub primitive_type: PJRT_Buffer_Type,
        pub count: usize,
        pub reduction_kind: PJRT_Collectives_ReductionKind,
        pub cpu_executor: *mut PJRT_Collectives_CpuExecutor,
        /// Out.
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Collectives_Communicator_ReduceScatter_Args
        / PJRT_Collectives_Communicator_ReduceScatter_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
        pub send_buffer_ptr: *mut c_void,
        pub send_buffer_size: usize,
        pub recv_buffer_ptr: *mut c_void,
        pub recv_buffer_size: usize,
        pub primitive_type: PJRT_Buffer_Type,
        pub count: usize,
        pub reduction_kind: PJRT_Collectives_ReductionKind,
        pub cpu_executor: *mut PJRT_Collectives_CpuExecutor,
        /// Out.
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Collectives_Communicator_AllGather_Args
        / PJRT_Collectives_Communicator_AllGather_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
        pub send_buffer_ptr: *mut c_void,
        pub send_buffer_size: usize,
        pub recv_buffer_ptr: *mut c_void,
        pub recv_buffer_size: usize,
        pub primitive_type: PJRT_Buffer_Type,
        pub count: usize,
        pub cpu_executor: *mut PJRT_Collectives_CpuExecutor,
        /// Out.
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Collectives_Communicator_CollectivePermute_Args
        / PJRT_Collectives_Communicator_CollectivePermute_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
        pub send_buffer_ptr: *mut c_void,
        pub send_buffer_size: usize,
        pub recv_buffer_ptr: *mut c_void,
        pub recv_buffer_size: usize,
        pub primitive_type: PJRT_Buffer_Type,
        pub count: usize,
        pub has_source_rank: bool,
        pub source_rank: i64,
        pub target_ranks: *mut i64,
        pub num_target_ranks: usize,
        pub cpu_executor: *mut PJRT_Collectives_CpuExecutor,
        /// Out.
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Collectives_Communicator_AllToAll_Args
        / PJRT_Collectives_Communicator_AllToAll_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
        pub send_buffers_ptrs: *mut *mut c_void,
        pub send_buffers_sizes: *const usize,
        pub num_send_buffers: usize,
        pub recv_buffers_ptrs: *mut *mut c_void,
        pub recv_buffers_sizes: *const usize,
        pub num_recv_buffers: usize,
        pub primitive_type: PJRT_Buffer_Type,
        pub count: usize,
        pub cpu_executor: *mut PJRT_Collectives_CpuExecutor,
        /// Out.
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Collectives_Communicator_ToString_Args
        / PJRT_Collectives_Communicator_ToString_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub communicator: *mut PJRT_Collectives_Communicator,
        /// Out: owned by `str_holder`.
        pub str: *const c_char,
        /// Out.
        pub str_size: usize,
        /// Out.
        pub str_holder: *mut PJRT_Collectives_ToString_Holder,
        /// Out: frees `str_holder`.
        pub str_holder_deleter:
            Option<unsafe extern "C" fn(ptr: *mut PJRT_Collectives_ToString_Holder)>,
    }

    /// The extension struct (`PJRT_Extension_Type_Collectives`).
    pub struct PJRT_Collectives_Extension / PJRT_Collectives_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub collectives_destroy: Option<PJRT_Collectives_Destroy>,
        pub collectives_create_communicators: Option<PJRT_Collectives_CreateCommunicators>,
        pub communicator_destroy: Option<PJRT_Collectives_Communicator_Destroy>,
        pub communicator_all_reduce: Option<PJRT_Collectives_Communicator_AllReduce>,
        pub communicator_reduce_scatter: Option<PJRT_Collectives_Communicator_ReduceScatter>,
        pub communicator_all_gather: Option<PJRT_Collectives_Communicator_AllGather>,
        pub communicator_collective_permute:
            Option<PJRT_Collectives_Communicator_CollectivePermute>,
        pub communicator_all_to_all: Option<PJRT_Collectives_Communicator_AllToAll>,
        pub communicator_to_string: Option<PJRT_Collectives_Communicator_ToString>,
    }
}
