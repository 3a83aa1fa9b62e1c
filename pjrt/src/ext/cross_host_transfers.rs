//! The CrossHostTransfers extension (multi-host GPU/TPU): send buffers to and receive them from devices of other hosts.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::cross_host_transfers as e;
use sys::ext::cross_host_transfers::PJRT_CrossHostTransfers_Extension;

use crate::error::Result;
use crate::ext::{ext_call, extension_struct};

extension_struct!(
    /// The CrossHostTransfers extension of a plugin.
    CrossHostTransfers,
    sys::PJRT_Extension_Type_CrossHostTransfers
);

impl CrossHostTransfers {
    /// Calls `PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers` with a filled `PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn make_cross_host_receive_buffers(
        &self,
        args: &mut e::PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_CrossHostTransfers_Extension,
            PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers,
            args
        )
    }

    /// Calls `PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice` (it returns nothing) with a filled `PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice_Args`.
    ///
    /// # Safety
    /// As for the other calls: `args` filled as the header requires.
    pub unsafe fn copy_to_remote_device(
        &self,
        args: &mut e::PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice_Args,
    ) -> Result<()> {
        ext_call!(@ret &self.h, PJRT_CrossHostTransfers_Extension, PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice, args)
    }

    /// Calls `PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers` with a filled `PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn cross_host_receive_buffers(
        &self,
        args: &mut e::PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_CrossHostTransfers_Extension,
            PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers,
            args
        )
    }

    /// Calls `PJRT_Transfers_PJRT_Client_CrossHostSendBuffers` with a filled `PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn cross_host_send_buffers(
        &self,
        args: &mut e::PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_CrossHostTransfers_Extension,
            PJRT_Transfers_PJRT_Client_CrossHostSendBuffers,
            args
        )
    }
}
