//! Streaming transfers: the asynchronous host-to-device transfer manager and the
//! copy-to-device stream used by recv callbacks.

use core::ffi::{c_char, c_int, c_void};

use crate::*;

pjrt_structs! {
    pub struct PJRT_AsyncHostToDeviceTransferManager_Destroy_Args / PJRT_AsyncHostToDeviceTransferManager_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_TransferData_Args / PJRT_AsyncHostToDeviceTransferManager_TransferData_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub buffer_index: c_int,
        pub data: *const c_void,
        pub offset: i64,
        pub transfer_size: i64,
        pub is_last_transfer: bool,
        pub done_with_h2d_transfer: *mut PJRT_Event,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer_Args / PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub buffer_index: c_int,
        pub buffer_out: *mut PJRT_Buffer,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_Device_Args / PJRT_AsyncHostToDeviceTransferManager_Device_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub device_out: *mut PJRT_Device,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_BufferCount_Args / PJRT_AsyncHostToDeviceTransferManager_BufferCount_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub buffer_count: usize,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_BufferSize_Args / PJRT_AsyncHostToDeviceTransferManager_BufferSize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub buffer_index: c_int,
        pub buffer_size: usize,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_SetBufferError_Args / PJRT_AsyncHostToDeviceTransferManager_SetBufferError_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub buffer_index: c_int,
        pub error_code: PJRT_Error_Code,
        pub error_message: *const c_char,
        pub error_message_size: usize,
    }

    pub struct PJRT_AsyncHostToDeviceTransferManager_AddMetadata_Args / PJRT_AsyncHostToDeviceTransferManager_AddMetadata_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub transfer_metadata: *const PJRT_NamedValue,
        pub num_metadata: usize,
    }

    /// Transfers a whole array. Give `shape_layout`: some plugins abort without one.
    pub struct PJRT_AsyncHostToDeviceTransferManager_TransferLiteral_Args / PJRT_AsyncHostToDeviceTransferManager_TransferLiteral_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub transfer_manager: *mut PJRT_AsyncHostToDeviceTransferManager,
        pub buffer_index: c_int,
        pub data: *const c_void,
        pub shape_dims: *const i64,
        pub shape_num_dims: usize,
        pub shape_element_type: PJRT_Buffer_Type,
        pub shape_layout: *mut PJRT_Buffer_MemoryLayout,
        pub done_with_h2d_transfer: *mut PJRT_Event,
    }

    pub struct PJRT_CopyToDeviceStream_Destroy_Args / PJRT_CopyToDeviceStream_Destroy_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub stream: *mut PJRT_CopyToDeviceStream,
    }

    pub struct PJRT_CopyToDeviceStream_AddChunk_Args / PJRT_CopyToDeviceStream_AddChunk_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub stream: *mut PJRT_CopyToDeviceStream,
        pub chunk: *mut PJRT_Chunk,
        pub transfer_complete: *mut PJRT_Event,
    }

    pub struct PJRT_CopyToDeviceStream_TotalBytes_Args / PJRT_CopyToDeviceStream_TotalBytes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub stream: *mut PJRT_CopyToDeviceStream,
        pub total_bytes: i64,
    }

    pub struct PJRT_CopyToDeviceStream_GranuleSize_Args / PJRT_CopyToDeviceStream_GranuleSize_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub stream: *mut PJRT_CopyToDeviceStream,
        pub granule_size_in_bytes: i64,
    }

    pub struct PJRT_CopyToDeviceStream_CurrentBytes_Args / PJRT_CopyToDeviceStream_CurrentBytes_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub stream: *mut PJRT_CopyToDeviceStream,
        pub current_bytes: i64,
    }
}

/// The C API function `PJRT_AsyncHostToDeviceTransferManager_Destroy`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_Destroy = unsafe extern "C" fn(
    args: *mut PJRT_AsyncHostToDeviceTransferManager_Destroy_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_TransferData`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_TransferData_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_TransferData =
    unsafe extern "C" fn(
        args: *mut PJRT_AsyncHostToDeviceTransferManager_TransferData_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer =
    unsafe extern "C" fn(
        args: *mut PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_Device`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_Device_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_Device = unsafe extern "C" fn(
    args: *mut PJRT_AsyncHostToDeviceTransferManager_Device_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_BufferCount`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_BufferCount_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_BufferCount =
    unsafe extern "C" fn(
        args: *mut PJRT_AsyncHostToDeviceTransferManager_BufferCount_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_BufferSize`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_BufferSize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_BufferSize = unsafe extern "C" fn(
    args: *mut PJRT_AsyncHostToDeviceTransferManager_BufferSize_Args,
)
    -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_SetBufferError`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_SetBufferError_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_SetBufferError =
    unsafe extern "C" fn(
        args: *mut PJRT_AsyncHostToDeviceTransferManager_SetBufferError_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_AddMetadata`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_AddMetadata_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_AddMetadata =
    unsafe extern "C" fn(
        args: *mut PJRT_AsyncHostToDeviceTransferManager_AddMetadata_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_AsyncHostToDeviceTransferManager_TransferLiteral`: reads and fills in a [`PJRT_AsyncHostToDeviceTransferManager_TransferLiteral_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_AsyncHostToDeviceTransferManager_TransferLiteral =
    unsafe extern "C" fn(
        args: *mut PJRT_AsyncHostToDeviceTransferManager_TransferLiteral_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_CopyToDeviceStream_Destroy`: reads and fills in a [`PJRT_CopyToDeviceStream_Destroy_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_CopyToDeviceStream_Destroy =
    unsafe extern "C" fn(args: *mut PJRT_CopyToDeviceStream_Destroy_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_CopyToDeviceStream_AddChunk`: reads and fills in a [`PJRT_CopyToDeviceStream_AddChunk_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_CopyToDeviceStream_AddChunk =
    unsafe extern "C" fn(args: *mut PJRT_CopyToDeviceStream_AddChunk_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_CopyToDeviceStream_TotalBytes`: reads and fills in a [`PJRT_CopyToDeviceStream_TotalBytes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_CopyToDeviceStream_TotalBytes =
    unsafe extern "C" fn(args: *mut PJRT_CopyToDeviceStream_TotalBytes_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_CopyToDeviceStream_GranuleSize`: reads and fills in a [`PJRT_CopyToDeviceStream_GranuleSize_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_CopyToDeviceStream_GranuleSize =
    unsafe extern "C" fn(args: *mut PJRT_CopyToDeviceStream_GranuleSize_Args) -> *mut PJRT_Error;
/// The C API function `PJRT_CopyToDeviceStream_CurrentBytes`: reads and fills in a [`PJRT_CopyToDeviceStream_CurrentBytes_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_CopyToDeviceStream_CurrentBytes =
    unsafe extern "C" fn(args: *mut PJRT_CopyToDeviceStream_CurrentBytes_Args) -> *mut PJRT_Error;
