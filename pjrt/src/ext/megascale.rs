//! The Megascale extension (multi-slice TPU): client contexts, multi-slice configs, collectives and error aggregation.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::megascale as e;
use sys::ext::megascale::PJRT_Megascale_Extension;

use crate::error::Result;
use crate::plugin::{call_deleter, ext_call, extension_struct};

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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
        ext_call!(&self.h, PJRT_Megascale_Extension, create_aot_config, args)
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
            PJRT_Megascale_Extension,
            create_multi_slice_config,
            args
        )
    }

    /// `delete_multi_slice_config`: deprecated in the 0.114 header (no callable signature); always
    /// [`crate::Error::Unimplemented`].
    pub fn delete_multi_slice_config(&self) -> Result<()> {
        let r: Result<()> = Err(self.h.unimplemented(concat!(
            "PJRT_Megascale_Extension.",
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
            "PJRT_Megascale_Extension.",
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
            "PJRT_Megascale_Extension.",
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
            "PJRT_Megascale_Extension.",
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
            "PJRT_Megascale_Extension.",
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
        ext_call!(&self.h, PJRT_Megascale_Extension, error_digest_delete, args)
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
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
            PJRT_Megascale_Extension,
            get_or_create_runtime_error,
            args
        )
    }
}

/// A Megascale client context; deleted on drop.
pub struct ClientContext {
    ext: Megascale,
    raw: *mut e::PJRT_Megascale_ClientContext,
}

// SAFETY: a plugin object without thread affinity, deleted once.
unsafe impl Send for ClientContext {}

/// A Megascale error aggregator; deleted on drop.
pub struct ErrorAggregator {
    ext: Megascale,
    raw: *mut e::PJRT_Megascale_ErrorAggregator,
}

// SAFETY: as above.
unsafe impl Send for ErrorAggregator {}

impl Megascale {
    /// A client context for a PJRT client.
    pub fn client_context(&self, client: &crate::Client) -> Result<ClientContext> {
        let mut a = e::PJRT_Megascale_CreateClientContextFromPjRtClient_Args::new();
        a.client = client.raw();
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            create_client_context_from_pjrt_client,
            &mut a
        )?;
        Ok(ClientContext {
            ext: self.clone(),
            raw: a.client_context,
        })
    }

    /// A default client context.
    pub fn default_client_context(&self) -> Result<ClientContext> {
        let mut a = e::PJRT_Megascale_CreateDefaultClientContext_Args::new();
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            create_default_client_context,
            &mut a
        )?;
        Ok(ClientContext {
            ext: self.clone(),
            raw: a.client_context,
        })
    }

    /// The Megascale id of a device in a slice.
    pub fn megascale_id(&self, slice_id: i32, per_slice_device_id: i32) -> Result<i64> {
        let mut a = e::PJRT_Megascale_DeviceId_To_MegascaleId_Args::new();
        a.slice_id = slice_id;
        a.per_slice_device_id = per_slice_device_id;
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            device_id_to_megascale_id,
            &mut a
        )?;
        Ok(a.megascale_id)
    }

    /// (slice id, device id in the slice) of a Megascale id.
    pub fn device_of_megascale_id(&self, megascale_id: i64) -> Result<(i32, i32)> {
        let mut a = e::PJRT_Megascale_MegascaleId_To_DeviceId_Args::new();
        a.megascale_id = megascale_id;
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            megascale_id_to_device_id,
            &mut a
        )?;
        Ok((a.slice_id, a.per_slice_device_id))
    }

    /// An error aggregator for an application type.
    pub fn error_aggregator(&self, app_type: &str) -> Result<ErrorAggregator> {
        let mut a = e::PJRT_Megascale_ErrorAggregator_Create_Args::new();
        a.app_type = app_type.as_ptr().cast();
        a.app_type_size = app_type.len();
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            error_aggregator_create,
            &mut a
        )?;
        Ok(ErrorAggregator {
            ext: self.clone(),
            raw: a.aggregator,
        })
    }

    /// Unregisters an error handler by name.
    pub fn unregister_error_handler_named(&self, name: &str) -> Result<()> {
        let mut a = e::PJRT_Megascale_UnregisterErrorHandler_Args::new();
        a.handler_name = name.as_ptr().cast();
        a.handler_name_size = name.len();
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            unregister_megascale_error_handler,
            &mut a
        )
    }
}

impl ClientContext {
    /// Initializes the context.
    pub fn initialize(&self) -> Result<()> {
        let mut a = e::PJRT_Megascale_ClientContext_Initialize_Args::new();
        a.client_context = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            client_context_initialize,
            &mut a
        )
    }

    /// Unblocks work pending for `launch_id`, expiring after `expire_after_ms`.
    pub fn unblock_pending_work(&self, launch_id: i32, expire_after_ms: i64) -> Result<()> {
        let mut a = e::PJRT_Megascale_ClientContext_UnblockPendingWork_Args::new();
        a.client_context = self.raw;
        a.launch_id = launch_id;
        a.expire_after_ms = expire_after_ms;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            client_context_unblock_pending_work,
            &mut a
        )
    }

    /// The Megascale port.
    pub fn megascale_port(&self) -> Result<i32> {
        let mut a = e::PJRT_Megascale_ClientContext_MegascalePort_Args::new();
        a.client_context = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            client_context_megascale_port,
            &mut a
        )?;
        Ok(a.port)
    }
}

impl Drop for ClientContext {
    fn drop(&mut self) {
        let mut a = e::PJRT_Megascale_DeleteClientContext_Args::new();
        a.client_context = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            delete_client_context,
            &mut a
        );
    }
}

impl ErrorAggregator {
    /// Adds a worker's serialized error.
    pub fn add_error(&self, worker_id: &str, serialized_error: &[u8]) -> Result<()> {
        let mut a = e::PJRT_Megascale_ErrorAggregator_AddError_Args::new();
        a.aggregator = self.raw;
        a.worker_id = worker_id.as_ptr().cast();
        a.worker_id_size = worker_id.len();
        a.serialized_error = serialized_error.as_ptr().cast();
        a.serialized_error_size = serialized_error.len();
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_aggregator_add_error,
            &mut a
        )
    }

    /// Number of errors held.
    pub fn size(&self) -> Result<usize> {
        let mut a = e::PJRT_Megascale_ErrorAggregator_Size_Args::new();
        a.aggregator = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_aggregator_size,
            &mut a
        )?;
        Ok(a.size)
    }

    /// Whether it is active.
    pub fn active(&self) -> Result<bool> {
        let mut a = e::PJRT_Megascale_ErrorAggregator_Active_Args::new();
        a.aggregator = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_aggregator_active,
            &mut a
        )?;
        Ok(a.active)
    }
}

impl Drop for ErrorAggregator {
    fn drop(&mut self) {
        let mut a = e::PJRT_Megascale_ErrorAggregator_Delete_Args::new();
        a.aggregator = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_aggregator_delete,
            &mut a
        );
    }
}

/// Settings of a multi-slice configuration made by [`Megascale::multi_slice_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiSliceSettings {
    /// Number of slices.
    pub num_slices: i32,
    /// This process's slice.
    pub local_slice_id: i32,
    /// This process's host in the slice.
    pub local_host_id: i32,
    /// Serialized endpoint addresses.
    pub endpoint_addresses: Vec<u8>,
    /// Serialized data-center network topology.
    pub dcn_topology: Vec<u8>,
}

fn i32_len(what: &str, n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| {
        crate::Error::InvalidArgument(format!("Megascale: {what} of {n} bytes is too long"))
    })
}

impl Megascale {
    /// An ahead-of-time multi-slice configuration for `num_slices` slices of a topology,
    /// owned through the MultiSlice extension.
    pub fn aot_config(
        &self,
        topology: &crate::TopologyDescription,
        num_slices: i32,
        multi_slice: &crate::ext::multi_slice::MultiSlice,
    ) -> Result<crate::ext::multi_slice::MultiSliceConfig> {
        let mut a = e::PJRT_Megascale_CreateAoTConfig_Args::new();
        a.topology = topology.raw;
        a.num_slices = num_slices;
        ext_call!(&self.h, PJRT_Megascale_Extension, create_aot_config, &mut a)?;
        // SAFETY: a fresh config of this plugin, now owned by the returned value only.
        Ok(unsafe { multi_slice.from_raw(a.multi_slice_config) })
    }

    /// A multi-slice configuration for a running job.
    pub fn multi_slice_config(
        &self,
        topology: &crate::TopologyDescription,
        settings: &MultiSliceSettings,
        context: &ClientContext,
        multi_slice: &crate::ext::multi_slice::MultiSlice,
    ) -> Result<crate::ext::multi_slice::MultiSliceConfig> {
        let mut a = e::PJRT_Megascale_CreateMultiSliceConfig_Args::new();
        a.topology = topology.raw;
        a.num_slices = settings.num_slices;
        a.local_slice_id = settings.local_slice_id;
        a.local_host_id = settings.local_host_id;
        a.endpoint_addresses = settings.endpoint_addresses.as_ptr().cast();
        a.endpoint_addresses_size =
            i32_len("endpoint addresses", settings.endpoint_addresses.len())?;
        a.dcn_topology = settings.dcn_topology.as_ptr().cast();
        a.dcn_topology_size = i32_len("DCN topology", settings.dcn_topology.len())?;
        a.client_context = context.raw;
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            create_multi_slice_config,
            &mut a
        )?;
        // SAFETY: a fresh config of this plugin, now owned by the returned value only.
        Ok(unsafe { multi_slice.from_raw(a.multi_slice_config) })
    }
}

/// The digest an error aggregator produces when shut down; deleted on drop.
pub struct ErrorDigest {
    ext: Megascale,
    raw: *mut e::PJRT_Megascale_ErrorDigest,
}

// SAFETY: a plugin object without thread affinity, deleted once.
unsafe impl Send for ErrorDigest {}

impl ErrorAggregator {
    /// Processes the collected errors and shuts the aggregator down; returns the digest.
    pub fn process_and_shutdown(&self) -> Result<ErrorDigest> {
        let mut a = e::PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args::new();
        a.aggregator = self.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_aggregator_process_and_shutdown,
            &mut a
        )?;
        Ok(ErrorDigest {
            ext: self.ext.clone(),
            raw: a.digest,
        })
    }

    /// Logs a digest.
    pub fn log_error_digest(&self, digest: &ErrorDigest) -> Result<()> {
        let mut a = e::PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args::new();
        a.aggregator = self.raw;
        a.digest = digest.raw;
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_aggregator_log_error_digest,
            &mut a
        )
    }
}

impl Drop for ErrorDigest {
    fn drop(&mut self) {
        let mut a = e::PJRT_Megascale_ErrorDigest_Delete_Args::new();
        a.digest = self.raw;
        let _ = ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            error_digest_delete,
            &mut a
        );
    }
}

/// A Rust error handler: receives each serialized error.
pub type ErrorHandlerFn = Box<dyn Fn(&[u8]) + Send + Sync>;

unsafe extern "C" fn error_handler_trampoline(
    serialized_error: *const std::ffi::c_char,
    size: usize,
    user_data: *mut std::ffi::c_void,
) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `user_data` is the `ErrorHandlerFn` leaked at registration.
        let f = unsafe { &*user_data.cast::<ErrorHandlerFn>() };
        // SAFETY: `size` readable bytes.
        let bytes = unsafe { crate::plugin::bytes_from_raw(serialized_error, size) };
        f(&bytes)
    }));
    if r.is_err() {
        tracing::error!("a Megascale error handler panicked; the panic was caught");
    }
}

/// What [`Megascale::runtime_error`] looks up or creates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuntimeErrorQuery {
    /// Error type (plugin enum value).
    pub error_type: i32,
    /// Start time in nanoseconds.
    pub start_time_nanos: i64,
    /// Status code.
    pub status_code: i32,
    /// Status message.
    pub status_message: String,
    /// Launch id.
    pub launch_id: i32,
    /// Unrecoverable error type, if any.
    pub unrecoverable_error_type: Option<i32>,
}

impl Megascale {
    /// Registers `f` under `name` for Megascale errors. The closure is kept for the life of
    /// the process (the plugin may call it from its own threads).
    pub fn register_error_handler(&self, name: &str, f: ErrorHandlerFn) -> Result<()> {
        let user = Box::into_raw(Box::new(f));
        let mut a = e::PJRT_Megascale_RegisterErrorHandler_Args::new();
        a.handler_name = name.as_ptr().cast();
        a.handler_name_size = name.len();
        a.handler = Some(error_handler_trampoline);
        a.user_data = user.cast();
        let r = ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            register_megascale_error_handler,
            &mut a
        );
        if r.is_err() {
            // SAFETY: registration failed; the plugin kept no pointer.
            drop(unsafe { Box::from_raw(user) });
        }
        r
    }

    /// The serialized addresses of the network interfaces Megascale would use.
    pub fn interface_addresses(
        &self,
        port_name: &str,
        port: i32,
        interface_prefixes: &[&str],
        use_all_interfaces: bool,
        limit_to_process_numa_local_interfaces: bool,
    ) -> Result<Vec<Vec<u8>>> {
        let mut ptrs: Vec<*const std::ffi::c_char> = interface_prefixes
            .iter()
            .map(|p| p.as_ptr().cast())
            .collect();
        let sizes: Vec<usize> = interface_prefixes.iter().map(|p| p.len()).collect();
        let mut a = e::PJRT_Megascale_GetInterfaceAddressesHelper_Args::new();
        a.megascale_port_name = port_name.as_ptr().cast();
        a.megascale_port_name_size = port_name.len();
        a.megascale_port = port;
        a.interface_prefixes = ptrs.as_mut_ptr();
        a.interface_prefixes_sizes = sizes.as_ptr();
        a.num_interface_prefixes = ptrs.len();
        a.use_all_interfaces = use_all_interfaces;
        a.limit_to_process_numa_local_interfaces = limit_to_process_numa_local_interfaces;
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            get_interface_addresses_helper,
            &mut a
        )?;
        let n = a.num_addresses;
        // SAFETY: `n` (pointer, size) pairs owned by the holder until its deleter runs.
        let out = unsafe {
            let ps = crate::plugin::vec_from_raw(a.serialized_addresses.cast_const(), n);
            let ss = crate::plugin::vec_from_raw(a.serialized_addresses_sizes.cast_const(), n);
            ps.into_iter()
                .zip(ss)
                .map(|(p, s)| crate::plugin::bytes_from_raw(p, s))
                .collect()
        };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.addresses_deleter, a.addresses) };
        Ok(out)
    }

    /// Looks up or creates a runtime error record; returns it serialized and whether it
    /// is new.
    pub fn runtime_error(&self, q: &RuntimeErrorQuery) -> Result<(Vec<u8>, bool)> {
        let mut a = e::PJRT_Megascale_GetOrCreateRuntimeError_Args::new();
        a.error_type = q.error_type;
        a.start_time_nanos = q.start_time_nanos;
        a.status_code = q.status_code;
        a.status_message = q.status_message.as_ptr().cast();
        a.status_message_size = q.status_message.len();
        a.launch_id = q.launch_id;
        a.has_unrecoverable_error_type = q.unrecoverable_error_type.is_some();
        a.unrecoverable_error_type = q.unrecoverable_error_type.unwrap_or(0);
        ext_call!(
            &self.h,
            PJRT_Megascale_Extension,
            get_or_create_runtime_error,
            &mut a
        )?;
        // SAFETY: the serialized error, backed by `error` until its deleter runs.
        let v =
            unsafe { crate::plugin::bytes_from_raw(a.serialized_error, a.serialized_error_size) };
        // SAFETY: the plugin's deleter, once.
        unsafe { call_deleter(a.error_deleter, a.error) };
        Ok((v, a.is_new_error))
    }
}

/// The processes of a Megascale job, for [`ClientContext::collectives`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessesInfo {
    /// Each process's address.
    pub addresses: Vec<String>,
    /// Each process's slice index.
    pub slice_indexes: Vec<i32>,
    /// Each process's index within its slice.
    pub per_slice_indexes: Vec<i32>,
    /// Devices per process.
    pub num_devices_per_process: i32,
}

impl ClientContext {
    /// A collectives object over the data-center network for these processes, owned
    /// through the Collectives extension.
    pub fn collectives(
        &self,
        processes: &ProcessesInfo,
        dcn_topology: &[u8],
        collectives: &crate::ext::collectives::Collectives,
    ) -> Result<crate::ext::collectives::CollectivesObject> {
        let mut addr_ptrs: Vec<*const std::ffi::c_char> = processes
            .addresses
            .iter()
            .map(|a| a.as_ptr().cast())
            .collect();
        let mut addr_sizes: Vec<usize> = processes.addresses.iter().map(|a| a.len()).collect();
        let mut slices = processes.slice_indexes.clone();
        let mut per_slice = processes.per_slice_indexes.clone();
        let mut info = e::PJRT_Megascale_ProcessesInfo::new();
        info.addresses = addr_ptrs.as_mut_ptr();
        info.address_sizes = addr_sizes.as_mut_ptr();
        info.num_addresses = addr_ptrs.len();
        info.slice_indexes = slices.as_mut_ptr();
        info.num_slice_indexes = slices.len();
        info.per_slice_indexes = per_slice.as_mut_ptr();
        info.num_per_slice_indexes = per_slice.len();
        info.num_devices_per_process = processes.num_devices_per_process;
        let mut a = e::PJRT_Megascale_CreateMegascaleCollectives_Args::new();
        a.client_context = self.raw;
        a.processes_info = &mut info;
        a.dcn_topology = dcn_topology.as_ptr().cast();
        a.dcn_topology_size = dcn_topology.len();
        ext_call!(
            &self.ext.h,
            PJRT_Megascale_Extension,
            create_megascale_collectives,
            &mut a
        )?;
        // SAFETY: a fresh collectives object of this plugin, now owned by the result only.
        Ok(unsafe { collectives.own(a.collectives) })
    }
}
