//! Programs loaded onto devices ([`LoadedExecutable`]): loading a compiled program's
//! handles, where it runs (devices, logical ids, device assignment), its parameters,
//! unloading.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use pjrt_sys as sys;

use crate::client::Client;
use crate::compile_options::DeviceAssignment;
use crate::device::Device;
use crate::error::Result;
use crate::executable::metadata::{Executable, ParameterShape};
use crate::plugin::{call, call_deleter, str_from_raw, vec_from_raw};

/// A (replica, partition) pair: where one addressable device sits in the computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogicalDeviceId {
    /// Replica index.
    pub replica: i32,
    /// Partition index.
    pub partition: i32,
}

/// A compiled program loaded on devices, ready to run. Thread-safe: run it from many threads.
pub struct LoadedExecutable {
    pub(crate) raw: *mut sys::PJRT_LoadedExecutable,
    // Fields drop in order: the executable before the client it came from.
    executable: Executable,
    pub(super) client: Client,
    pub(super) devices: Vec<Device>,
    pub(super) name: String,
    pub(super) num_outputs: usize,
    params: OnceLock<Option<Vec<ParameterShape>>>,
    pub(super) deleted: AtomicBool,
    /// The plugin's bytes it was loaded from, if it was: serializing a loaded executable
    /// again gives bytes without its compiled code on the CPU plugins (they load, then fail
    /// to run: "Function ... not found"), so [`serialize_raw`](Self::serialize_raw) returns
    /// these instead.
    loaded_from: OnceLock<Vec<u8>>,
}

// SAFETY: PJRT loaded executables are thread-safe: Execute may be called concurrently from
// several threads; destruction happens once, in Drop.
unsafe impl Send for LoadedExecutable {}
// SAFETY: as above.
unsafe impl Sync for LoadedExecutable {}

impl Drop for LoadedExecutable {
    fn drop(&mut self) {
        let mut a = sys::PJRT_LoadedExecutable_Destroy_Args::new();
        a.executable = self.raw;
        let _ = call!(self.client.api(), PJRT_LoadedExecutable_Destroy, &mut a);
    }
}

impl Deref for LoadedExecutable {
    type Target = Executable;
    fn deref(&self) -> &Executable {
        &self.executable
    }
}

impl fmt::Debug for LoadedExecutable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LoadedExecutable({}, {} devices)",
            self.name,
            self.devices.len()
        )
    }
}

impl LoadedExecutable {
    pub(crate) fn new(
        client: &Client,
        raw: *mut sys::PJRT_LoadedExecutable,
    ) -> Result<LoadedExecutable> {
        let api = client.api();
        let mut g = sys::PJRT_LoadedExecutable_GetExecutable_Args::new();
        g.loaded_executable = raw;
        let got = call!(api, PJRT_LoadedExecutable_GetExecutable, &mut g);
        if let Err(e) = got {
            let mut d = sys::PJRT_LoadedExecutable_Destroy_Args::new();
            d.executable = raw;
            let _ = call!(api, PJRT_LoadedExecutable_Destroy, &mut d);
            return Err(e);
        }
        // From here on `Drop` of the pieces destroys both handles exactly once.
        let executable = Executable {
            raw: g.executable,
            plugin: client.plugin().clone(),
        };
        let mut le = LoadedExecutable {
            raw,
            client: client.clone(),
            executable,
            devices: Vec::new(),
            name: String::new(),
            num_outputs: 0,
            params: OnceLock::new(),
            deleted: AtomicBool::new(false),
            loaded_from: OnceLock::new(),
        };
        let mut a = sys::PJRT_LoadedExecutable_AddressableDevices_Args::new();
        a.executable = raw;
        call!(api, PJRT_LoadedExecutable_AddressableDevices, &mut a)?;
        // SAFETY: device pointers owned by the client.
        le.devices = unsafe { vec_from_raw(a.addressable_devices, a.num_addressable_devices) }
            .into_iter()
            .map(|d| Device::new(client, d))
            .collect();
        le.name = le.executable.name()?;
        le.num_outputs = le.executable.num_outputs()?;
        Ok(le)
    }

    /// The client it is loaded on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The device-independent executable.
    pub fn executable(&self) -> &Executable {
        &self.executable
    }

    /// The devices it runs on, in execution order.
    pub fn addressable_devices(&self) -> &[Device] {
        &self.devices
    }

    /// The loaded executable's fingerprint.
    pub fn loaded_fingerprint(&self) -> Result<String> {
        let mut a = sys::PJRT_LoadedExecutable_Fingerprint_Args::new();
        a.executable = self.raw;
        call!(self.client.api(), PJRT_LoadedExecutable_Fingerprint, &mut a)?;
        // SAFETY: a string owned by the executable.
        Ok(unsafe { str_from_raw(a.executable_fingerprint, a.executable_fingerprint_size) })
    }

    /// The device assignment it was compiled with.
    pub fn device_assignment(&self) -> Result<DeviceAssignment> {
        let mut a = sys::PJRT_LoadedExecutable_GetDeviceAssignment_Args::new();
        a.executable = self.raw;
        call!(
            self.client.api(),
            PJRT_LoadedExecutable_GetDeviceAssignment,
            &mut a
        )?;
        // SAFETY: bytes backed by `serialized_device_assignment` until its deleter runs.
        let bytes =
            unsafe { vec_from_raw(a.serialized_bytes.cast::<u8>(), a.serialized_bytes_size) };
        // SAFETY: the plugin's own deleter, once, after the copy.
        unsafe {
            call_deleter(
                a.serialized_device_assignment_deleter,
                a.serialized_device_assignment,
            )
        };
        DeviceAssignment::decode(&bytes)
    }

    /// Unloads the executable from its devices now; later executions are refused
    /// ([`Error::ExecutableDeleted`](crate::Error::ExecutableDeleted); some plugins would still
    /// run it).
    pub fn delete(&self) -> Result<()> {
        let mut a = sys::PJRT_LoadedExecutable_Delete_Args::new();
        a.executable = self.raw;
        call!(self.client.api(), PJRT_LoadedExecutable_Delete, &mut a)?;
        self.deleted.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether it was deleted.
    pub fn is_deleted(&self) -> Result<bool> {
        let mut a = sys::PJRT_LoadedExecutable_IsDeleted_Args::new();
        a.executable = self.raw;
        call!(self.client.api(), PJRT_LoadedExecutable_IsDeleted, &mut a)?;
        Ok(a.is_deleted)
    }

    /// The parameters' shapes (cached; see [`Executable::parameter_shapes`]).
    pub fn parameters(&self) -> Option<&[ParameterShape]> {
        self.params
            .get_or_init(|| self.executable.parameter_shapes().ok().flatten())
            .as_deref()
    }

    /// The (replica, partition) of each addressable device, in device order.
    pub fn addressable_device_logical_ids(&self) -> Result<Vec<LogicalDeviceId>> {
        let mut a = sys::PJRT_LoadedExecutable_AddressableDeviceLogicalIds_Args::new();
        a.executable = self.raw;
        call!(
            self.client.api(),
            PJRT_LoadedExecutable_AddressableDeviceLogicalIds,
            &mut a
        )?;
        // SAFETY: `num` entries owned by the executable.
        let ids = unsafe {
            vec_from_raw(
                a.addressable_device_logical_ids.cast_const(),
                a.num_addressable_device_logical_ids,
            )
        };
        Ok(ids
            .into_iter()
            .map(|i| LogicalDeviceId {
                replica: i.replica,
                partition: i.partition,
            })
            .collect())
    }

    /// The plugin's own serialized bytes (use [`serialize`](Self::serialize) to ship); for an
    /// executable loaded from serialized bytes, those bytes.
    pub fn serialize_raw(&self) -> Result<Vec<u8>> {
        match self.loaded_from.get() {
            Some(b) => Ok(b.clone()),
            None => self.executable.serialize_raw(),
        }
    }

    /// Records the plugin bytes this executable was loaded from (see `loaded_from`).
    pub(crate) fn remember_serialized(&self, blob: Vec<u8>) {
        let _ = self.loaded_from.set(blob);
    }
}
