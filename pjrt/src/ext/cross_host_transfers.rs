//! The CrossHostTransfers extension (multi-host GPU/TPU): send buffers to and receive them from devices of other hosts.
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::cross_host_transfers as e;
use sys::ext::cross_host_transfers::PJRT_CrossHostTransfers_Extension;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};

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

impl CrossHostTransfers {
    /// Sends buffers to devices of other hosts (`dst_global_device_ids[i]`, matched on the
    /// receiving side by `transfer_keys[i]`); returns one completion event per buffer.
    pub fn send_buffers(
        &self,
        client: &crate::Client,
        buffers: &[&crate::Buffer],
        dst_global_device_ids: &[i32],
        transfer_keys: &[i64],
    ) -> Result<Vec<Option<crate::Event>>> {
        let n = buffers.len();
        if dst_global_device_ids.len() != n || transfer_keys.len() != n {
            return Err(crate::Error::InvalidArgument(format!(
                "CrossHostTransfers::send_buffers: {n} buffers, {} device ids, {} keys",
                dst_global_device_ids.len(),
                transfer_keys.len()
            )));
        }
        for b in buffers {
            client.check_owns("CrossHostTransfers::send_buffers", "a buffer", b.client())?;
            b.check_live("CrossHostTransfers::send_buffers")?;
        }
        let mut raw: Vec<*mut sys::PJRT_Buffer> = buffers.iter().map(|b| b.raw()).collect();
        let mut events: Vec<*mut sys::PJRT_Event> = vec![std::ptr::null_mut(); n];
        let mut a = e::PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "CrossHostTransfers::send_buffers",
            "`client`",
            client,
        )?;
        a.client = client.raw();
        a.num_buffers = n;
        a.buffers = raw.as_mut_ptr();
        a.dst_global_device_ids = dst_global_device_ids.as_ptr();
        a.transfer_keys = transfer_keys.as_ptr();
        a.send_events = events.as_mut_ptr();
        ext_call!(
            &self.h,
            PJRT_CrossHostTransfers_Extension,
            PJRT_Transfers_PJRT_Client_CrossHostSendBuffers,
            &mut a
        )?;
        Ok(events
            .into_iter()
            .map(|e| crate::Event::from_raw(client.plugin(), e))
            .collect())
    }

    /// Receives buffers sent from devices of other hosts into `device`: one per
    /// (element type, dims) shape, matched by `transfer_keys[i]`; dense row-major layouts.
    pub fn receive_buffers(
        &self,
        client: &crate::Client,
        shapes: &[(crate::ElementType, Vec<i64>)],
        device: &crate::Device,
        src_global_device_ids: &[i32],
        transfer_keys: &[i64],
    ) -> Result<Vec<crate::Buffer>> {
        let n = shapes.len();
        if src_global_device_ids.len() != n || transfer_keys.len() != n {
            return Err(crate::Error::InvalidArgument(format!(
                "CrossHostTransfers::receive_buffers: {n} shapes, {} device ids, {} keys",
                src_global_device_ids.len(),
                transfer_keys.len()
            )));
        }
        for (_, d) in shapes {
            crate::literal::element_count("CrossHostTransfers::receive_buffers", d)?;
        }
        let mut ndims: Vec<usize> = shapes.iter().map(|(_, d)| d.len()).collect();
        let dims: Vec<*const i64> = shapes.iter().map(|(_, d)| d.as_ptr()).collect();
        let mut types: Vec<sys::PJRT_Buffer_Type> =
            shapes.iter().map(|(t, _)| t.to_raw()).collect();
        let mut layouts: Vec<Box<crate::buffer::RawLayout>> = shapes
            .iter()
            .map(|(_, d)| crate::buffer::RawLayout::row_major(d.len()))
            .collect();
        let mut layout_ptrs: Vec<*mut sys::PJRT_Buffer_MemoryLayout> =
            layouts.iter_mut().map(|l| l.ptr()).collect();
        let mut out: Vec<*mut sys::PJRT_Buffer> = vec![std::ptr::null_mut(); n];
        let mut a = e::PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "CrossHostTransfers::receive_buffers",
            "`client`",
            client,
        )?;
        a.client = client.raw();
        a.num_shapes = n;
        a.shape_num_dims = ndims.as_mut_ptr();
        a.num_dims = dims.as_ptr().cast_mut();
        a.element_types = types.as_mut_ptr();
        a.layouts = layout_ptrs.as_mut_ptr();
        client.check_owns(
            "CrossHostTransfers::receive_buffers",
            "the device",
            device.client(),
        )?;
        a.device = device.raw;
        a.src_global_device_ids = src_global_device_ids.as_ptr();
        a.transfer_keys = transfer_keys.as_ptr();
        a.buffers = out.as_mut_ptr();
        ext_call!(
            &self.h,
            PJRT_CrossHostTransfers_Extension,
            PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers,
            &mut a
        )?;
        Ok(out
            .into_iter()
            .zip(shapes)
            .map(|(b, (t, d))| crate::Buffer::wrap(client, b, Some((*t, d.clone()))))
            .collect())
    }
}
