//! The extension mechanism: every args struct and the API table start a linked list of
//! extension structs, each beginning with [`PJRT_Extension_Base`].

use crate::layout::{pjrt_enum, pjrt_structs};

pjrt_enum! {
    /// Which extension a [`PJRT_Extension_Base`] heads (its `type_` field).
    PJRT_Extension_Type {
        PJRT_Extension_Type_Gpu_Custom_Call = 0,
        PJRT_Extension_Type_Profiler = 1,
        PJRT_Extension_Type_Custom_Partitioner = 2,
        PJRT_Extension_Type_Stream = 3,
        PJRT_Extension_Type_Layouts = 4,
        PJRT_Extension_Type_FFI = 5,
        PJRT_Extension_Type_MemoryDescriptions = 6,
        PJRT_Extension_Type_Triton = 7,
        PJRT_Extension_Type_RawBuffer = 8,
        PJRT_Extension_Type_PhaseCompile = 9,
        PJRT_Extension_Type_Example = 10,
        PJRT_Extension_Type_Unknown = 11,
        PJRT_Extension_Type_CrossHostTransfers = 12,
        PJRT_Extension_Type_ExecutableMetadata = 13,
        PJRT_Extension_Type_Callback = 14,
        PJRT_Extension_Type_HostAllocator = 15,
        PJRT_Extension_Type_TpuTopology = 16,
        PJRT_Extension_Type_TpuExecutable = 17,
        PJRT_Extension_Type_Megascale = 18,
        PJRT_Extension_Type_Shardings = 19,
        PJRT_Extension_Type_AbiVersion = 20,
        PJRT_Extension_Type_Collectives = 21,
        PJRT_Extension_Type_MultiSlice = 22,
        PJRT_Extension_Type_HostMemoryAllocator = 23,
        PJRT_Extension_Type_XlaTransform = 24,
    }
}

pjrt_structs! {
    /// The common head of every extension struct: walk the list through `next`.
    pub struct PJRT_Extension_Base / PJRT_Extension_Base_STRUCT_SIZE {
        pub struct_size: usize,
        pub type_: PJRT_Extension_Type,
        pub next: *mut PJRT_Extension_Base,
    }
}
