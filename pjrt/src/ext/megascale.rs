//! The Megascale extension (multi-slice TPU): client contexts, multi-slice configs, collectives and error aggregation.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::megascale as e;

use crate::error::Result;
use crate::ext::{ext_call, extension_struct};

extension_struct!(
    /// The Megascale extension of a plugin.
    Megascale,
    sys::PJRT_Extension_Type_Megascale
);

impl Megascale {
    /// Calls `create_client_context_from_pjrt_client` with a filled `PJRT_Megascale_CreateClientContextFromPjRtClient_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn create_client_context_from_pjrt_client(
        &self,
        args: &mut e::PJRT_Megascale_CreateClientContextFromPjRtClient_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            create_client_context_from_pjrt_client,
            args
        )
    }

    /// Calls `create_default_client_context` with a filled `PJRT_Megascale_CreateDefaultClientContext_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn create_default_client_context(
        &self,
        args: &mut e::PJRT_Megascale_CreateDefaultClientContext_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            create_default_client_context,
            args
        )
    }

    /// Calls `delete_client_context` with a filled `PJRT_Megascale_DeleteClientContext_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn delete_client_context(
        &self,
        args: &mut e::PJRT_Megascale_DeleteClientContext_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            delete_client_context,
            args
        )
    }

    /// Calls `create_aot_config` with a filled `PJRT_Megascale_CreateAoTConfig_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn create_aot_config(
        &self,
        args: &mut e::PJRT_Megascale_CreateAoTConfig_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            create_aot_config,
            args
        )
    }

    /// Calls `create_multi_slice_config` with a filled `PJRT_Megascale_CreateMultiSliceConfig_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn create_multi_slice_config(
        &self,
        args: &mut e::PJRT_Megascale_CreateMultiSliceConfig_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            create_multi_slice_config,
            args
        )
    }

    /// `delete_multi_slice_config`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn delete_multi_slice_config(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "e::PJRT_Megascale_Extension.",
            "delete_multi_slice_config",
            " (deprecated)"
        )));
        self.h.note("delete_multi_slice_config", &r);
        r
    }

    /// `multi_slice_config_num_slices`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn multi_slice_config_num_slices(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "e::PJRT_Megascale_Extension.",
            "multi_slice_config_num_slices",
            " (deprecated)"
        )));
        self.h.note("multi_slice_config_num_slices", &r);
        r
    }

    /// `multi_slice_config_slice_id`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn multi_slice_config_slice_id(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "e::PJRT_Megascale_Extension.",
            "multi_slice_config_slice_id",
            " (deprecated)"
        )));
        self.h.note("multi_slice_config_slice_id", &r);
        r
    }

    /// `multi_slice_config_get_num_devices_per_slice`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn multi_slice_config_get_num_devices_per_slice(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "e::PJRT_Megascale_Extension.",
            "multi_slice_config_get_num_devices_per_slice",
            " (deprecated)"
        )));
        self.h
            .note("multi_slice_config_get_num_devices_per_slice", &r);
        r
    }

    /// `multi_slice_config_serialize`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn multi_slice_config_serialize(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "e::PJRT_Megascale_Extension.",
            "multi_slice_config_serialize",
            " (deprecated)"
        )));
        self.h.note("multi_slice_config_serialize", &r);
        r
    }

    /// Calls `client_context_initialize` with a filled `PJRT_Megascale_ClientContext_Initialize_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn client_context_initialize(
        &self,
        args: &mut e::PJRT_Megascale_ClientContext_Initialize_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            client_context_initialize,
            args
        )
    }

    /// Calls `client_context_unblock_pending_work` with a filled `PJRT_Megascale_ClientContext_UnblockPendingWork_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn client_context_unblock_pending_work(
        &self,
        args: &mut e::PJRT_Megascale_ClientContext_UnblockPendingWork_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            client_context_unblock_pending_work,
            args
        )
    }

    /// Calls `client_context_megascale_port` with a filled `PJRT_Megascale_ClientContext_MegascalePort_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn client_context_megascale_port(
        &self,
        args: &mut e::PJRT_Megascale_ClientContext_MegascalePort_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            client_context_megascale_port,
            args
        )
    }

    /// Calls `create_megascale_collectives` with a filled `PJRT_Megascale_CreateMegascaleCollectives_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn create_megascale_collectives(
        &self,
        args: &mut e::PJRT_Megascale_CreateMegascaleCollectives_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            create_megascale_collectives,
            args
        )
    }

    /// Calls `device_id_to_megascale_id` with a filled `PJRT_Megascale_DeviceId_To_MegascaleId_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn device_id_to_megascale_id(
        &self,
        args: &mut e::PJRT_Megascale_DeviceId_To_MegascaleId_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            device_id_to_megascale_id,
            args
        )
    }

    /// Calls `megascale_id_to_device_id` with a filled `PJRT_Megascale_MegascaleId_To_DeviceId_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn megascale_id_to_device_id(
        &self,
        args: &mut e::PJRT_Megascale_MegascaleId_To_DeviceId_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            megascale_id_to_device_id,
            args
        )
    }

    /// Calls `register_megascale_error_handler` with a filled `PJRT_Megascale_RegisterErrorHandler_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn register_megascale_error_handler(
        &self,
        args: &mut e::PJRT_Megascale_RegisterErrorHandler_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            register_megascale_error_handler,
            args
        )
    }

    /// Calls `unregister_megascale_error_handler` with a filled `PJRT_Megascale_UnregisterErrorHandler_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn unregister_megascale_error_handler(
        &self,
        args: &mut e::PJRT_Megascale_UnregisterErrorHandler_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            unregister_megascale_error_handler,
            args
        )
    }

    /// Calls `error_aggregator_create` with a filled `PJRT_Megascale_ErrorAggregator_Create_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_create(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_Create_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_create,
            args
        )
    }

    /// Calls `error_aggregator_delete` with a filled `PJRT_Megascale_ErrorAggregator_Delete_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_delete(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_Delete_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_delete,
            args
        )
    }

    /// Calls `error_digest_delete` with a filled `PJRT_Megascale_ErrorDigest_Delete_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_digest_delete(
        &self,
        args: &mut e::PJRT_Megascale_ErrorDigest_Delete_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_digest_delete,
            args
        )
    }

    /// Calls `error_aggregator_add_error` with a filled `PJRT_Megascale_ErrorAggregator_AddError_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_add_error(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_AddError_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_add_error,
            args
        )
    }

    /// Calls `error_aggregator_process_and_shutdown` with a filled `PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_process_and_shutdown(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_process_and_shutdown,
            args
        )
    }

    /// Calls `error_aggregator_log_error_digest` with a filled `PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_log_error_digest(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_log_error_digest,
            args
        )
    }

    /// Calls `error_aggregator_size` with a filled `PJRT_Megascale_ErrorAggregator_Size_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_size(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_Size_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_size,
            args
        )
    }

    /// Calls `error_aggregator_active` with a filled `PJRT_Megascale_ErrorAggregator_Active_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn error_aggregator_active(
        &self,
        args: &mut e::PJRT_Megascale_ErrorAggregator_Active_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            error_aggregator_active,
            args
        )
    }

    /// Calls `get_interface_addresses_helper` with a filled `PJRT_Megascale_GetInterfaceAddressesHelper_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn get_interface_addresses_helper(
        &self,
        args: &mut e::PJRT_Megascale_GetInterfaceAddressesHelper_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            get_interface_addresses_helper,
            args
        )
    }

    /// Calls `get_or_create_runtime_error` with a filled `PJRT_Megascale_GetOrCreateRuntimeError_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn get_or_create_runtime_error(
        &self,
        args: &mut e::PJRT_Megascale_GetOrCreateRuntimeError_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            e::PJRT_Megascale_Extension,
            get_or_create_runtime_error,
            args
        )
    }
}
