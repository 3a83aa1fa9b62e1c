//! Device buffers: element types, host-buffer semantics, memory layouts, and the calls that
//! query, copy and free buffers.

use core::ffi::{c_char, c_void};

use crate::*;

pjrt_enum! {
    /// Element type of an array.
    PJRT_Buffer_Type {
        PJRT_Buffer_Type_INVALID = 0,
        PJRT_Buffer_Type_PRED = 1,
        PJRT_Buffer_Type_S8 = 2,
        PJRT_Buffer_Type_S16 = 3,
        PJRT_Buffer_Type_S32 = 4,
        PJRT_Buffer_Type_S64 = 5,
        PJRT_Buffer_Type_U8 = 6,
        PJRT_Buffer_Type_U16 = 7,
        PJRT_Buffer_Type_U32 = 8,
        PJRT_Buffer_Type_U64 = 9,
        PJRT_Buffer_Type_F16 = 10,
        PJRT_Buffer_Type_F32 = 11,
        PJRT_Buffer_Type_F64 = 12,
        PJRT_Buffer_Type_BF16 = 13,
        PJRT_Buffer_Type_C64 = 14,
        PJRT_Buffer_Type_C128 = 15,
        PJRT_Buffer_Type_F8E5M2 = 16,
        PJRT_Buffer_Type_F8E4M3FN = 17,
        PJRT_Buffer_Type_F8E4M3B11FNUZ = 18,
        PJRT_Buffer_Type_F8E5M2FNUZ = 19,
        PJRT_Buffer_Type_F8E4M3FNUZ = 20,
        PJRT_Buffer_Type_S4 = 21,
        PJRT_Buffer_Type_U4 = 22,
        PJRT_Buffer_Type_TOKEN = 23,
        PJRT_Buffer_Type_S2 = 24,
        PJRT_Buffer_Type_U2 = 25,
        PJRT_Buffer_Type_F8E4M3 = 26,
        PJRT_Buffer_Type_F8E3M4 = 27,
        PJRT_Buffer_Type_F8E8M0FNU = 28,
        PJRT_Buffer_Type_F4E2M1FN = 29,
        PJRT_Buffer_Type_S1 = 30,
        PJRT_Buffer_Type_U1 = 31,
        PJRT_Buffer_Type_F6E2M3FN = 32,
        PJRT_Buffer_Type_F6E3M2FN = 33,
    }
}

pjrt_enum! {
    /// How long the runtime may read the host memory given to `BufferFromHostBuffer`.
    PJRT_HostBufferSemantics {
        /// Copied before the call returns.
        PJRT_HostBufferSemantics_kImmutableOnlyDuringCall = 0,
        /// Must stay valid and unchanged until `done_with_host_buffer` fires.
        PJRT_HostBufferSemantics_kImmutableUntilTransferCompletes = 1,
        /// May be aliased by the buffer; must stay valid until `done_with_host_buffer` fires.
        PJRT_HostBufferSemantics_kImmutableZeroCopy = 2,
        /// May be aliased and written by the runtime.
        PJRT_HostBufferSemantics_kMutableZeroCopy = 3,
    }
}

pjrt_enum! {
    /// Which member of [`PJRT_Buffer_MemoryLayout_Union`] is live.
    PJRT_Buffer_MemoryLayout_Type {
        PJRT_Buffer_MemoryLayout_Type_Tiled = 0,
        PJRT_Buffer_MemoryLayout_Type_Strides = 1,
    }
}

pjrt_unions! {
    /// The layout proper (an anonymous union in C, here the field `layout`).
    pub union PJRT_Buffer_MemoryLayout_Union {
        pub tiled: PJRT_Buffer_MemoryLayout_Tiled,
        pub strides: PJRT_Buffer_MemoryLayout_Strides,
    }
}

pjrt_structs! {
    /// A tiled layout: dimension order plus optional tiles (`tile_dims` holds all tiles'
    /// dimensions back to back, `tile_dim_sizes[i]` how many belong to tile `i`).
    pub struct PJRT_Buffer_MemoryLayout_Tiled / PJRT_Buffer_MemoryLayout_Tiled_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub minor_to_major: *const i64,
        pub minor_to_major_size: usize,
        pub tile_dims: *const i64,
        pub tile_dim_sizes: *const usize,
        pub num_tiles: usize,
    }

    /// A strided layout, one byte stride per dimension.
    pub struct PJRT_Buffer_MemoryLayout_Strides / PJRT_Buffer_MemoryLayout_Strides_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub byte_strides: *const i64,
        pub num_byte_strides: usize,
    }

    /// A memory layout: `type_` says which member of `layout` is live.
    pub struct PJRT_Buffer_MemoryLayout / PJRT_Buffer_MemoryLayout_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub layout: PJRT_Buffer_MemoryLayout_Union,
        pub type_: PJRT_Buffer_MemoryLayout_Type,
    }

    pub struct PJRT_Buffer_Destroy_Args / PJRT_Buffer_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_ElementType_Args / PJRT_Buffer_ElementType_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub type_: PJRT_Buffer_Type,
    }

    /// Output: `dims[0..num_dims]`, owned by the buffer.
    pub struct PJRT_Buffer_Dimensions_Args / PJRT_Buffer_Dimensions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub dims: *const i64,
        pub num_dims: usize,
    }

    pub struct PJRT_Buffer_UnpaddedDimensions_Args / PJRT_Buffer_UnpaddedDimensions_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub unpadded_dims: *const i64,
        pub num_dims: usize,
    }

    pub struct PJRT_Buffer_DynamicDimensionIndices_Args / PJRT_Buffer_DynamicDimensionIndices_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub dynamic_dim_indices: *const usize,
        pub num_dynamic_dims: usize,
    }

    /// Output: `layout`, whose pointers are owned by the buffer.
    pub struct PJRT_Buffer_GetMemoryLayout_Args / PJRT_Buffer_GetMemoryLayout_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub layout: PJRT_Buffer_MemoryLayout,
    }

    /// With `dst` null, only reports the needed `dst_size`. Otherwise copies into `dst` and
    /// returns `event`, which the caller must await and destroy.
    pub struct PJRT_Buffer_ToHostBuffer_Args / PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub src: *mut PJRT_Buffer,
        pub host_layout: *mut PJRT_Buffer_MemoryLayout,
        pub dst: *mut c_void,
        pub dst_size: usize,
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Buffer_OnDeviceSizeInBytes_Args / PJRT_Buffer_OnDeviceSizeInBytes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub on_device_size_in_bytes: usize,
    }

    pub struct PJRT_Buffer_Delete_Args / PJRT_Buffer_Delete_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_IsDeleted_Args / PJRT_Buffer_IsDeleted_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub is_deleted: bool,
    }

    pub struct PJRT_Buffer_CopyRawToHost_Args / PJRT_Buffer_CopyRawToHost_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub dst: *mut c_void,
        pub offset: i64,
        pub transfer_size: i64,
        pub event: *mut PJRT_Event,
    }

    /// Given to the future-ready callback of `PJRT_Buffer_CopyRawToHostFuture`.
    pub struct PJRT_Buffer_CopyRawToHostFuture_Callback_Args / PJRT_Buffer_CopyRawToHostFuture_Callback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub callback_data: *mut c_void,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
        pub dst: *mut c_void,
    }

    pub struct PJRT_Buffer_CopyRawToHostFuture_Args / PJRT_Buffer_CopyRawToHostFuture_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub offset: i64,
        pub transfer_size: i64,
        pub event: *mut PJRT_Event,
        pub callback_data: *mut c_void,
        pub future_ready_callback: Option<
            unsafe extern "C" fn(args: *mut PJRT_Buffer_CopyRawToHostFuture_Callback_Args),
        >,
    }

    pub struct PJRT_Buffer_CopyToDevice_Args / PJRT_Buffer_CopyToDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub dst_device: *mut PJRT_Device,
        pub dst_buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_CopyToMemory_Args / PJRT_Buffer_CopyToMemory_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub dst_memory: *mut PJRT_Memory,
        pub dst_buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_Bitcast_Args / PJRT_Buffer_Bitcast_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub element_type: PJRT_Buffer_Type,
        pub dims: *const i64,
        pub num_dims: usize,
        pub device_layout: *mut PJRT_Buffer_MemoryLayout,
        pub out_buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_IsOnCpu_Args / PJRT_Buffer_IsOnCpu_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub is_on_cpu: bool,
    }

    pub struct PJRT_Buffer_Device_Args / PJRT_Buffer_Device_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub device: *mut PJRT_Device,
    }

    pub struct PJRT_Buffer_Memory_Args / PJRT_Buffer_Memory_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub memory: *mut PJRT_Memory,
    }

    /// Output: an event the caller owns, ready when the buffer's data is.
    pub struct PJRT_Buffer_ReadyEvent_Args / PJRT_Buffer_ReadyEvent_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub event: *mut PJRT_Event,
    }

    pub struct PJRT_Buffer_UnsafePointer_Args / PJRT_Buffer_UnsafePointer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub buffer_pointer: usize,
    }

    pub struct PJRT_Buffer_IncreaseExternalReferenceCount_Args / PJRT_Buffer_IncreaseExternalReferenceCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_DecreaseExternalReferenceCount_Args / PJRT_Buffer_DecreaseExternalReferenceCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
    }

    pub struct PJRT_Buffer_OpaqueDeviceMemoryDataPointer_Args / PJRT_Buffer_OpaqueDeviceMemoryDataPointer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub device_memory_ptr: *mut c_void,
    }

    /// Given to the dependency-ready callback of `PJRT_Buffer_DonateWithControlDependency`.
    pub struct PJRT_Buffer_DonateWithControlDependency_Callback_Args / PJRT_Buffer_DonateWithControlDependency_Callback_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub callback_data: *mut c_void,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
    }

    pub struct PJRT_Buffer_DonateWithControlDependency_Args / PJRT_Buffer_DonateWithControlDependency_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub callback_data: *mut c_void,
        pub dependency_ready_callback: Option<
            unsafe extern "C" fn(args: *mut PJRT_Buffer_DonateWithControlDependency_Callback_Args),
        >,
        pub out_buffer: *mut PJRT_Buffer,
    }
}

/// The C API function `PJRT_Buffer_Destroy`: reads and fills in a [`PJRT_Buffer_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_ElementType`: reads and fills in a [`PJRT_Buffer_ElementType_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_ElementType =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_ElementType_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_Dimensions`: reads and fills in a [`PJRT_Buffer_Dimensions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_Dimensions =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_Dimensions_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_UnpaddedDimensions`: reads and fills in a [`PJRT_Buffer_UnpaddedDimensions_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_UnpaddedDimensions =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_UnpaddedDimensions_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_DynamicDimensionIndices`: reads and fills in a [`PJRT_Buffer_DynamicDimensionIndices_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_DynamicDimensionIndices =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_DynamicDimensionIndices_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_GetMemoryLayout`: reads and fills in a [`PJRT_Buffer_GetMemoryLayout_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_GetMemoryLayout =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_GetMemoryLayout_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_ToHostBuffer`: reads and fills in a [`PJRT_Buffer_ToHostBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_ToHostBuffer =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_ToHostBuffer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_OnDeviceSizeInBytes`: reads and fills in a [`PJRT_Buffer_OnDeviceSizeInBytes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_OnDeviceSizeInBytes =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_OnDeviceSizeInBytes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_Delete`: reads and fills in a [`PJRT_Buffer_Delete_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_Delete =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_Delete_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_IsDeleted`: reads and fills in a [`PJRT_Buffer_IsDeleted_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_IsDeleted =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_IsDeleted_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_CopyRawToHost`: reads and fills in a [`PJRT_Buffer_CopyRawToHost_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_CopyRawToHost =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_CopyRawToHost_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_CopyRawToHostFuture`: reads and fills in a [`PJRT_Buffer_CopyRawToHostFuture_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_CopyRawToHostFuture =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_CopyRawToHostFuture_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_CopyToDevice`: reads and fills in a [`PJRT_Buffer_CopyToDevice_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_CopyToDevice =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_CopyToDevice_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_CopyToMemory`: reads and fills in a [`PJRT_Buffer_CopyToMemory_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_CopyToMemory =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_CopyToMemory_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_Bitcast`: reads and fills in a [`PJRT_Buffer_Bitcast_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_Bitcast =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_Bitcast_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_IsOnCpu`: reads and fills in a [`PJRT_Buffer_IsOnCpu_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_IsOnCpu =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_IsOnCpu_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_Device`: reads and fills in a [`PJRT_Buffer_Device_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_Device =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_Device_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_Memory`: reads and fills in a [`PJRT_Buffer_Memory_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_Memory =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_Memory_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_ReadyEvent`: reads and fills in a [`PJRT_Buffer_ReadyEvent_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_ReadyEvent =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_ReadyEvent_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_UnsafePointer`: reads and fills in a [`PJRT_Buffer_UnsafePointer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_UnsafePointer =
    unsafe extern "C" fn(args: *mut PJRT_Buffer_UnsafePointer_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_IncreaseExternalReferenceCount`: reads and fills in a [`PJRT_Buffer_IncreaseExternalReferenceCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_IncreaseExternalReferenceCount = unsafe extern "C" fn(
    args: *mut PJRT_Buffer_IncreaseExternalReferenceCount_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_DecreaseExternalReferenceCount`: reads and fills in a [`PJRT_Buffer_DecreaseExternalReferenceCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_DecreaseExternalReferenceCount = unsafe extern "C" fn(
    args: *mut PJRT_Buffer_DecreaseExternalReferenceCount_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_OpaqueDeviceMemoryDataPointer`: reads and fills in a [`PJRT_Buffer_OpaqueDeviceMemoryDataPointer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_OpaqueDeviceMemoryDataPointer = unsafe extern "C" fn(
    args: *mut PJRT_Buffer_OpaqueDeviceMemoryDataPointer_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Buffer_DonateWithControlDependency`: reads and fills in a [`PJRT_Buffer_DonateWithControlDependency_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Buffer_DonateWithControlDependency = unsafe extern "C" fn(
    args: *mut PJRT_Buffer_DonateWithControlDependency_Args,
) -> *mut PJRT_Error;
