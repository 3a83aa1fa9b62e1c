//! Devices: the client's devices and how to find them, what a device is and does
//! (description, attributes, memory counters, poisoning an execution), and tracking events.

use std::fmt;

use pjrt_sys as sys;

use crate::client::Client;
use crate::compile_options::DeviceAssignment;
use crate::device::description::DeviceDescription;
use crate::error::{Error, ErrorCode, Result};
use crate::plugin::{
    call, call_deleter, read_named_values, to_raw, vec_from_raw, NamedValue, Plugin,
};

/// A device of a client. Cheap to clone; keeps its client alive.
#[derive(Clone)]
pub struct Device {
    pub(crate) raw: *mut sys::PJRT_Device,
    client: Client,
}

// SAFETY: devices are owned by their (thread-safe) client and immutable handles in PJRT;
// their query functions may be called from any thread.
unsafe impl Send for Device {}
// SAFETY: as above.
unsafe impl Sync for Device {}

impl PartialEq for Device {
    fn eq(&self, other: &Device) -> bool {
        self.raw == other.raw
    }
}
impl Eq for Device {}

/// Memory usage counters of a device; fields the plugin does not report are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes in use now.
    pub bytes_in_use: i64,
    /// Peak bytes in use.
    pub peak_bytes_in_use: Option<i64>,
    /// Number of allocations.
    pub num_allocs: Option<i64>,
    /// Largest single allocation.
    pub largest_alloc_size: Option<i64>,
    /// Memory limit.
    pub bytes_limit: Option<i64>,
    /// Bytes reserved.
    pub bytes_reserved: Option<i64>,
    /// Peak bytes reserved.
    pub peak_bytes_reserved: Option<i64>,
    /// Largest free block.
    pub largest_free_block_bytes: Option<i64>,
}

impl Device {
    pub(crate) fn new(client: &Client, raw: *mut sys::PJRT_Device) -> Device {
        Device {
            raw,
            client: client.clone(),
        }
    }

    /// The client that owns the device.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The device's description (id, kind, attributes, strings).
    pub fn description(&self) -> Result<DeviceDescription> {
        let mut a = sys::PJRT_Device_GetDescription_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_GetDescription, &mut a)?;
        Ok(DeviceDescription {
            raw: a.device_description,
            client: self.client.clone(),
        })
    }

    /// The global device id.
    pub fn id(&self) -> Result<i32> {
        self.description()?.id()
    }

    /// The device kind (e.g. `cpu`).
    pub fn kind(&self) -> Result<String> {
        self.description()?.kind()
    }

    /// Whether this process can use the device.
    pub fn is_addressable(&self) -> Result<bool> {
        let mut a = sys::PJRT_Device_IsAddressable_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_IsAddressable, &mut a)?;
        Ok(a.is_addressable)
    }

    /// The device's hardware id local to this process.
    pub fn local_hardware_id(&self) -> Result<i32> {
        let mut a = sys::PJRT_Device_LocalHardwareId_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_LocalHardwareId, &mut a)?;
        Ok(a.local_hardware_id)
    }

    /// Memory usage counters (Unimplemented on the CPU plugins).
    pub fn memory_stats(&self) -> Result<MemoryStats> {
        let mut a = sys::PJRT_Device_MemoryStats_Args::new();
        a.device = self.raw;
        call!(self.client.api(), PJRT_Device_MemoryStats, &mut a)?;
        let opt = |set: bool, v: i64| set.then_some(v);
        Ok(MemoryStats {
            bytes_in_use: a.bytes_in_use,
            peak_bytes_in_use: opt(a.peak_bytes_in_use_is_set, a.peak_bytes_in_use),
            num_allocs: opt(a.num_allocs_is_set, a.num_allocs),
            largest_alloc_size: opt(a.largest_alloc_size_is_set, a.largest_alloc_size),
            bytes_limit: opt(a.bytes_limit_is_set, a.bytes_limit),
            bytes_reserved: opt(a.bytes_reserved_is_set, a.bytes_reserved),
            peak_bytes_reserved: opt(a.peak_bytes_reserved_is_set, a.peak_bytes_reserved),
            largest_free_block_bytes: opt(
                a.largest_free_block_bytes_is_set,
                a.largest_free_block_bytes,
            ),
        })
    }

    /// The device's attributes (`PJRT_Device_GetAttributes`; newer plugins).
    pub fn attributes(&self) -> Result<Vec<NamedValue>> {
        let mut a = sys::PJRT_Device_GetAttributes_Args::new();
        a.device = self.raw;
        call!(self.client().api(), PJRT_Device_GetAttributes, &mut a)?;
        // SAFETY: values owned by `device_attributes` until its deleter runs.
        let v = unsafe { read_named_values(a.attributes, a.num_attributes) };
        // SAFETY: the plugin's deleter for its own object, once, after the copy.
        unsafe { call_deleter(a.attributes_deleter, a.device_attributes) };
        Ok(v)
    }

    /// Resets the device's memory counters (peaks, allocation counts).
    pub fn clear_memory_stats(&self) -> Result<()> {
        let mut a = sys::PJRT_Device_ClearMemoryStats_Args::new();
        a.device = self.raw;
        call!(self.client().api(), PJRT_Device_ClearMemoryStats, &mut a)
    }

    /// Makes the execution with `launch_id` on this device fail with `code`/`message`
    /// (payload entries are attached to the error). Returns whether an execution was found.
    pub fn poison_execution(
        &self,
        launch_id: i32,
        code: ErrorCode,
        message: &str,
        payload: &[NamedValue],
    ) -> Result<bool> {
        if code == ErrorCode::Ok {
            return Err(Error::InvalidArgument(
                "poison_execution: the code must not be OK".into(),
            ));
        }
        let raw_payload = to_raw(payload);
        let mut a = sys::PJRT_Device_PoisonExecution_Args::new();
        a.device = self.raw;
        a.launch_id = launch_id;
        a.error_code = code.to_raw();
        a.error_message = message.as_ptr().cast();
        a.error_message_size = message.len();
        a.payload = raw_payload.as_ptr();
        a.num_payload = raw_payload.len();
        call!(self.client().api(), PJRT_Device_PoisonExecution, &mut a)?;
        Ok(a.poisoned)
    }

    /// An event a profiler can use to track asynchronous work on this device; `None` when
    /// the plugin does not track (the CPU plugins return no event).
    pub fn create_async_tracking_event(
        &self,
        description: &str,
    ) -> Result<Option<AsyncTrackingEvent>> {
        let mut a = sys::PJRT_Device_CreateAsyncTrackingEvent_Args::new();
        a.device = self.raw;
        a.description = description.as_ptr().cast();
        a.description_size = description.len();
        call!(
            self.client().api(),
            PJRT_Device_CreateAsyncTrackingEvent,
            &mut a
        )?;
        if a.event.is_null() {
            return Ok(None);
        }
        Ok(Some(AsyncTrackingEvent {
            raw: a.event,
            plugin: self.client().plugin().clone(),
        }))
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description().and_then(|d| d.to_string_repr()) {
            Ok(s) => write!(f, "Device({s})"),
            Err(_) => write!(f, "Device({:p})", self.raw),
        }
    }
}

/// An async tracking event; destroyed on drop (marking the tracked work done).
pub struct AsyncTrackingEvent {
    raw: *mut sys::PJRT_AsyncTrackingEvent,
    plugin: Plugin,
}

// SAFETY: a plugin-owned handle with no thread affinity, destroyed once.
unsafe impl Send for AsyncTrackingEvent {}

impl Drop for AsyncTrackingEvent {
    fn drop(&mut self) {
        let mut a = sys::PJRT_AsyncTrackingEvent_Destroy_Args::new();
        a.event = self.raw;
        let _ = call!(self.plugin.api(), PJRT_AsyncTrackingEvent_Destroy, &mut a);
    }
}

impl Client {
    fn wrap_devices(&self, ptr: *const *mut sys::PJRT_Device, n: usize) -> Vec<Device> {
        // SAFETY: the plugin returned `n` device pointers owned by the client.
        unsafe { vec_from_raw(ptr, n) }
            .into_iter()
            .map(|d| Device::new(self, d))
            .collect()
    }

    /// Every device of the client, addressable or not.
    pub fn devices(&self) -> Result<Vec<Device>> {
        let mut a = sys::PJRT_Client_Devices_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_Devices, &mut a)?;
        Ok(self.wrap_devices(a.devices, a.num_devices))
    }

    /// The devices this process can use.
    pub fn addressable_devices(&self) -> Result<Vec<Device>> {
        let mut a = sys::PJRT_Client_AddressableDevices_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_AddressableDevices, &mut a)?;
        Ok(self.wrap_devices(a.addressable_devices, a.num_addressable_devices))
    }

    /// The first addressable device.
    pub fn first_device(&self) -> Result<Device> {
        self.addressable_devices()?
            .into_iter()
            .next()
            .ok_or_else(|| Error::InvalidDevice("the client has no addressable devices".into()))
    }

    /// The device with this global id.
    pub fn lookup_device(&self, id: i32) -> Result<Device> {
        let mut a = sys::PJRT_Client_LookupDevice_Args::new();
        a.client = self.raw();
        a.id = id;
        call!(self.api(), PJRT_Client_LookupDevice, &mut a)?;
        Ok(Device::new(self, a.device))
    }

    /// The addressable device with this local hardware id.
    pub fn lookup_addressable_device(&self, local_hardware_id: i32) -> Result<Device> {
        let mut a = sys::PJRT_Client_LookupAddressableDevice_Args::new();
        a.client = self.raw();
        a.local_hardware_id = local_hardware_id;
        call!(self.api(), PJRT_Client_LookupAddressableDevice, &mut a)?;
        Ok(Device::new(self, a.addressable_device))
    }

    /// The plugin's default assignment of devices to `replicas` x `partitions`.
    pub fn default_device_assignment(
        &self,
        replicas: usize,
        partitions: usize,
    ) -> Result<DeviceAssignment> {
        const OP: &str = "default_device_assignment";
        if replicas == 0 || partitions == 0 {
            return Err(Error::InvalidCompileOptions(format!(
                "{OP} needs at least 1 replica and 1 partition, got {replicas} x {partitions}"
            )));
        }
        // The plugin takes C ints: larger counts would be truncated (to 0 or negative).
        let (Ok(r), Ok(p)) = (
            std::ffi::c_int::try_from(replicas),
            std::ffi::c_int::try_from(partitions),
        ) else {
            return Err(Error::InvalidCompileOptions(format!(
                "{OP}: {replicas} x {partitions} does not fit the plugin's C ints"
            )));
        };
        // More slots than the client has devices cannot be assigned; ask the plugin only for
        // assignments that can exist (and allocate only what the devices justify).
        let available = self.devices()?.len();
        let n = replicas
            .checked_mul(partitions)
            .filter(|&n| n <= available)
            .ok_or_else(|| {
                Error::InvalidCompileOptions(format!(
                    "{OP}: {replicas} replicas x {partitions} partitions need more devices than the client's {available}"
                ))
            })?;
        let mut out: Vec<std::ffi::c_int> = crate::literal::zeroed_vec(OP, n)?;
        let mut a = sys::PJRT_Client_DefaultDeviceAssignment_Args::new();
        a.client = self.raw();
        a.num_replicas = r;
        a.num_partitions = p;
        a.default_assignment_size = n;
        a.default_assignment = out.as_mut_ptr();
        call!(self.api(), PJRT_Client_DefaultDeviceAssignment, &mut a)?;
        let devices = (0..replicas)
            .map(|r| {
                (0..partitions)
                    .map(|p| i64::from(out[r * partitions + p]))
                    .collect()
            })
            .collect();
        DeviceAssignment::new(devices)
    }
}

impl crate::plugin::PluginOwned for Device {
    fn owner_plugin(&self) -> &Plugin {
        self.client.plugin()
    }
}
