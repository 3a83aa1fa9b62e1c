//! Cross-host transfers extension
//! (`xla/pjrt/extensions/cross_host_transfers/pjrt_c_api_cross_host_transfers_extension.h`,
//! version 6): send buffers to and receive buffers from devices on other hosts.
//!
//! The header uses two C++ integer wrappers; their layouts are plain integers:
//! `xla::GlobalDeviceId` is `i32`, `xla::CrossHostTransferKey` is `i64`.

use core::ffi::c_char;
use core::ffi::c_void;

use crate::layout::pjrt_structs;
use crate::{
    PJRT_Buffer, PJRT_Buffer_MemoryLayout, PJRT_Buffer_Type, PJRT_Client, PJRT_Device, PJRT_Error,
    PJRT_Error_Code, PJRT_Event, PJRT_Extension_Base,
};

/// The version of the cross host transfers extension these declarations follow (its `extension_version` field).
pub const PJRT_API_CROSS_HOST_TRANSFERS_EXTENSION_VERSION: i32 = 6;

/// The C API function `PJRT_Transfers_PJRT_Client_CrossHostSendBuffers`: reads and fills in a [`PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Transfers_PJRT_Client_CrossHostSendBuffers = unsafe extern "C" fn(
    args: *mut PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args,
) -> *mut PJRT_Error;
/// The C API function `PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers`: reads and fills in a [`PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers =
    unsafe extern "C" fn(
        args: *mut PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args,
    ) -> *mut PJRT_Error;
/// The C API function `PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers`: reads and fills in a [`PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args`]; returns null, or a [`PJRT_Error`] on failure.
pub type PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers =
    unsafe extern "C" fn(
        args: *mut PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args,
    ) -> *mut PJRT_Error;
/// Returns nothing; completion is reported through `on_done`.
pub type PJRT_Buffer_CopyToRemoteDevice =
    unsafe extern "C" fn(args: *mut PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice_Args);

/// Told that a cancellation finished (in C already a pointer type, hence `Option`).
pub type PJRT_Transfers_CrossHostOnCanceledCallback =
    Option<unsafe extern "C" fn(error: *mut PJRT_Error, user_arg: *mut c_void)>;

/// Cancels a pending send described by a serialized descriptor.
pub type PJRT_Transfers_CrossHostSendCancelNotifier = Option<
    unsafe extern "C" fn(
        serialized_descriptor: *const c_char,
        serialized_descriptor_size: usize,
        reason: PJRT_Error_Code,
        error_message: *const c_char,
        error_message_size: usize,
        on_canceled: PJRT_Transfers_CrossHostOnCanceledCallback,
        on_canceled_user_arg: *mut c_void,
        user_arg: *mut c_void,
    ),
>;

/// Receives the descriptors of newly made receive buffers.
pub type PJRT_Transfers_CrossHostRecvNotifier = Option<
    unsafe extern "C" fn(
        error: *mut PJRT_Error,
        serialized_descriptors: *mut *const c_char,
        descriptors_sizes: *mut usize,
        num_descriptors: usize,
        user_arg: *mut c_void,
        cancel_notifier: PJRT_Transfers_CrossHostSendCancelNotifier,
        cancel_notifier_user_arg: *mut c_void,
    ),
>;

/// Told when a remote send was (or could not be) enqueued.
pub type PJRT_Transfers_CrossHostRemoteSendCallback = Option<
    unsafe extern "C" fn(error: *mut PJRT_Error, sends_were_enqueued: bool, user_arg: *mut c_void),
>;

/// Frees a descriptor handed out by `CopyToRemoteDevice`.
pub type PJRT_Transfers_DescriptorDestructor =
    Option<unsafe extern "C" fn(descriptor_data: *mut *mut c_char, descriptor_size: *mut usize)>;

/// Slot names of [`PJRT_CrossHostTransfers_Extension`], in order.
pub const CROSS_HOST_TRANSFERS_FUNCTION_NAMES: &[&str] = &[
    "PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers",
    "PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice",
    "PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers",
    "PJRT_Transfers_PJRT_Client_CrossHostSendBuffers",
];

pjrt_structs! {
    pub struct PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args
        / PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub num_buffers: usize,
        pub buffers: *mut *mut PJRT_Buffer,
        /// `num_buffers` global device ids (`xla::GlobalDeviceId`, 32-bit).
        pub dst_global_device_ids: *const i32,
        /// `num_buffers` keys (`xla::CrossHostTransferKey`, 64-bit).
        pub transfer_keys: *const i64,
        /// Out: `num_buffers` events, in a caller-provided array.
        pub send_events: *mut *mut PJRT_Event,
    }

    pub struct PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args
        / PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub num_shapes: usize,
        pub shape_num_dims: *mut usize,
        pub num_dims: *mut *const i64,
        pub element_types: *mut PJRT_Buffer_Type,
        pub layouts: *mut *mut PJRT_Buffer_MemoryLayout,
        pub device: *mut PJRT_Device,
        /// `num_shapes` global device ids (`xla::GlobalDeviceId`, 32-bit).
        pub src_global_device_ids: *const i32,
        /// `num_shapes` keys (`xla::CrossHostTransferKey`, 64-bit).
        pub transfer_keys: *const i64,
        /// Out: `num_shapes` buffers, in a caller-provided array.
        pub buffers: *mut *mut PJRT_Buffer,
    }

    /// A receive notifier with its user argument.
    pub struct PJRT_Transfers_CrossHostRecvNotifierInfo
        / PJRT_Transfers_CrossHostRecvNotifierInfo_STRUCT_SIZE {
        pub user_arg: *mut c_void,
        pub notifier: PJRT_Transfers_CrossHostRecvNotifier,
    }

    pub struct PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args
        / PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub client: *mut PJRT_Client,
        pub num_shapes: usize,
        pub shape_num_dims: *mut usize,
        pub num_dims: *mut *const i64,
        pub element_types: *mut PJRT_Buffer_Type,
        pub layouts: *mut *mut PJRT_Buffer_MemoryLayout,
        pub device: *mut PJRT_Device,
        pub notifier: PJRT_Transfers_CrossHostRecvNotifierInfo,
        /// Out.
        pub buffers: *mut *mut PJRT_Buffer,
        /// Out.
        pub num_buffers: usize,
    }

    /// A send-done callback with its user argument.
    pub struct PJRT_Transfers_CrossHostRemoteSendCallbackInfo
        / PJRT_Transfers_CrossHostRemoteSendCallbackInfo_STRUCT_SIZE {
        pub user_arg: *mut c_void,
        pub on_done: PJRT_Transfers_CrossHostRemoteSendCallback,
    }

    pub struct PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice_Args
        / PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice_Args_STRUCT_SIZE {
        pub struct_size: usize,
        pub extension_start: *mut PJRT_Extension_Base,
        pub buffer: *mut PJRT_Buffer,
        pub event: *mut PJRT_Event,
        pub serialized_descriptor: *mut *mut c_char,
        pub serialized_descriptor_size: *mut usize,
        pub on_done: PJRT_Transfers_CrossHostRemoteSendCallbackInfo,
        pub descriptor_destructor: PJRT_Transfers_DescriptorDestructor,
    }

    /// The extension struct (`PJRT_Extension_Type_CrossHostTransfers`).
    pub struct PJRT_CrossHostTransfers_Extension
        / PJRT_CrossHostTransfers_Extension_STRUCT_SIZE {
        pub base: PJRT_Extension_Base,
        pub PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers:
            Option<PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers>,
        pub PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice: Option<PJRT_Buffer_CopyToRemoteDevice>,
        pub PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers:
            Option<PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers>,
        pub PJRT_Transfers_PJRT_Client_CrossHostSendBuffers:
            Option<PJRT_Transfers_PJRT_Client_CrossHostSendBuffers>,
    }
}
