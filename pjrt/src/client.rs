//! The client: one plugin's view of its devices; compiles programs and makes buffers.

use std::fmt;
use std::sync::Arc;

use pjrt_sys as sys;

use crate::compile_options::{CompileOptions, DeviceAssignment};
use crate::device::{Device, Memory};
use crate::error::{Error, Result};
use crate::executable::LoadedExecutable;
use crate::named_value::{self, NamedValue, Value};
use crate::plugin::{call, str_from_raw, vec_from_raw, Plugin};
use crate::Program;

/// The kind of value a known client option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionType {
    Int64,
    Bool,
    String,
    Float,
    Int64List,
}

impl OptionType {
    fn matches(self, v: &Value) -> bool {
        matches!(
            (self, v),
            (OptionType::Int64, Value::Int64(_))
                | (OptionType::Bool, Value::Bool(_))
                | (OptionType::String, Value::String(_))
                | (OptionType::Float, Value::Float(_))
                | (OptionType::Int64List, Value::Int64List(_))
        )
    }

    fn name(self) -> &'static str {
        match self {
            OptionType::Int64 => "int64",
            OptionType::Bool => "bool",
            OptionType::String => "string",
            OptionType::Float => "float",
            OptionType::Int64List => "int64 list",
        }
    }
}

/// Client-create options the plugins are known to read: name, type, first PJRT API minor
/// version that accepts it. A wrongly typed option aborts plugins before 0.111.
const KNOWN_OPTIONS: &[(&str, OptionType, i32)] = &[
    // CPU plugins.
    ("cpu_device_count", OptionType::Int64, 0),
    ("asynchronous", OptionType::Bool, 111),
    ("process_id", OptionType::Int64, 114),
    // GPU plugins.
    ("platform_name", OptionType::String, 0),
    ("allocator", OptionType::String, 0),
    ("memory_fraction", OptionType::Float, 0),
    ("preallocate", OptionType::Bool, 0),
    ("collective_memory_size", OptionType::Int64, 0),
    ("visible_devices", OptionType::Int64List, 0),
    ("node_id", OptionType::Int64, 0),
    ("num_nodes", OptionType::Int64, 0),
    ("enable_mock_nccl", OptionType::Bool, 0),
    ("mock_gpu_topology", OptionType::String, 0),
    ("should_stage_host_to_device_transfers", OptionType::Bool, 0),
];

/// Options for creating a [`Client`], checked against the known option types before the
/// plugin sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientOptions {
    values: Vec<NamedValue>,
    pub(crate) unchecked: Vec<NamedValue>,
}

impl ClientOptions {
    /// No options (the plugin's defaults; 4 devices on the CPU plugins, whatever the number of
    /// cores; [`Client::default_cpu`] asks for one).
    pub fn new() -> ClientOptions {
        ClientOptions::default()
    }

    /// Sets an option by name; checked at client creation (unknown names and wrong types
    /// are refused there).
    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> ClientOptions {
        let name = name.into();
        self.values.retain(|v| v.name != name);
        self.values.push(NamedValue {
            name,
            value: value.into(),
        });
        self
    }

    /// Passes an option as is, without checking its name or type. A wrongly typed option
    /// makes plugins before API 0.111 abort the process: prefer [`set`](Self::set).
    pub fn set_unchecked(
        mut self,
        name: impl Into<String>,
        value: impl Into<Value>,
    ) -> ClientOptions {
        self.unchecked.push(NamedValue {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// CPU: the number of devices (`cpu_device_count`).
    pub fn cpu_device_count(self, n: i64) -> ClientOptions {
        self.set("cpu_device_count", n)
    }

    /// CPU: run computations asynchronously (`asynchronous`, API 0.111+).
    pub fn asynchronous(self, on: bool) -> ClientOptions {
        self.set("asynchronous", on)
    }

    /// CPU: this process's id (`process_id`, API 0.114+).
    pub fn process_id(self, id: i64) -> ClientOptions {
        self.set("process_id", id)
    }

    /// The options as given.
    pub fn values(&self) -> &[NamedValue] {
        &self.values
    }

    /// Checks every option against the known names and types for a plugin of this version.
    pub fn validate(&self, plugin: &Plugin) -> Result<()> {
        let v = plugin.api_version();
        for nv in &self.values {
            let Some(&(_, ty, min_minor)) = KNOWN_OPTIONS.iter().find(|(n, _, _)| *n == nv.name)
            else {
                let known: Vec<&str> = KNOWN_OPTIONS.iter().map(|k| k.0).collect();
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!(
                        "unknown option (known: {}); use set_unchecked to pass it anyway",
                        known.join(", ")
                    ),
                });
            };
            if !ty.matches(&nv.value) {
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!(
                        "must be {}, got {} {}",
                        ty.name(),
                        nv.value.type_name(),
                        nv.value
                    ),
                });
            }
            if v.minor < min_minor {
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!("needs PJRT API 0.{min_minor} or newer; this plugin is {v}"),
                });
            }
            if nv.name == "cpu_device_count" && nv.value.as_i64().is_some_and(|n| n < 1) {
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!("must be at least 1, got {}", nv.value),
                });
            }
        }
        Ok(())
    }
}

pub(crate) struct ClientInner {
    pub(crate) raw: *mut sys::PJRT_Client,
    pub(crate) plugin: Plugin,
    pub(crate) platform_name: String,
    pub(crate) platform_version: String,
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        let mut a = sys::PJRT_Client_Destroy_Args::new();
        a.client = self.raw;
        let _ = call!(self.plugin.api(), PJRT_Client_Destroy, &mut a);
    }
}

/// A PJRT client: devices, memories, compilation, buffers. Cheap to clone (reference counted);
/// it keeps its plugin loaded, and everything made from it keeps it alive.
#[derive(Clone)]
pub struct Client(pub(crate) Arc<ClientInner>);

// SAFETY: a PJRT client is thread-safe: the C API allows calling client functions (compile,
// buffer creation, device queries) concurrently from several threads; the handle is only
// destroyed once, when the last `Arc` goes.
unsafe impl Send for ClientInner {}
// SAFETY: as above, all `&self` operations are thread-safe C calls.
unsafe impl Sync for ClientInner {}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Client({} {}, API {})",
            self.0.platform_name,
            self.0.platform_version,
            self.0.plugin.api_version()
        )
    }
}

impl Client {
    /// A client of the default plugin (`$PJRT_PLUGIN`, else the set-up's CPU plugin) with one
    /// device, as JAX's CPU backend has by default.
    ///
    /// The CPU plugins' own default is 4 devices, and they size their intra-op thread pool to
    /// at least the device count: on a machine with fewer than 4 cores that oversubscribes it
    /// (the digits CNN trains about 20% slower on 2 cores). A plugin that does not take
    /// `cpu_device_count` (a GPU plugin named by `$PJRT_PLUGIN`) gets its defaults instead.
    /// For the plugin's own defaults use `Client::new(&plugin, &ClientOptions::new())`.
    pub fn default_cpu() -> Result<Client> {
        let plugin = Plugin::load_default()?;
        match Client::new(&plugin, &ClientOptions::new().cpu_device_count(1)) {
            Err(Error::Pjrt { .. }) => Client::new(&plugin, &ClientOptions::new()),
            other => other,
        }
    }

    /// A client of the plugin at `path` with default options.
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Client> {
        Client::new(&Plugin::load(path)?, &ClientOptions::new())
    }

    /// Creates a client; options are validated first (see [`ClientOptions::validate`]).
    pub fn new(plugin: &Plugin, options: &ClientOptions) -> Result<Client> {
        options.validate(plugin)?;
        let all: Vec<NamedValue> = options
            .values
            .iter()
            .chain(&options.unchecked)
            .cloned()
            .collect();
        let raw_opts = named_value::to_raw(&all);
        let mut a = sys::PJRT_Client_Create_Args::new();
        a.create_options = raw_opts.as_ptr();
        a.num_options = raw_opts.len();
        call!(plugin.api(), PJRT_Client_Create, &mut a)?;
        let raw = a.client;
        let mut inner = ClientInner {
            raw,
            plugin: plugin.clone(),
            platform_name: String::new(),
            platform_version: String::new(),
        };
        let mut n = sys::PJRT_Client_PlatformName_Args::new();
        n.client = raw;
        call!(plugin.api(), PJRT_Client_PlatformName, &mut n)?;
        // SAFETY: the plugin returned a string it owns for the client's lifetime.
        inner.platform_name = unsafe { str_from_raw(n.platform_name, n.platform_name_size) };
        let mut v = sys::PJRT_Client_PlatformVersion_Args::new();
        v.client = raw;
        call!(plugin.api(), PJRT_Client_PlatformVersion, &mut v)?;
        // SAFETY: as above.
        inner.platform_version =
            unsafe { str_from_raw(v.platform_version, v.platform_version_size) };
        Ok(Client(Arc::new(inner)))
    }

    pub(crate) fn api(&self) -> &crate::plugin::Api {
        self.0.plugin.api()
    }

    pub(crate) fn raw(&self) -> *mut sys::PJRT_Client {
        self.0.raw
    }

    /// The plugin this client runs on.
    pub fn plugin(&self) -> &Plugin {
        &self.0.plugin
    }

    /// The platform name (`cpu`, `cuda`, ...).
    pub fn platform_name(&self) -> &str {
        &self.0.platform_name
    }

    /// The platform version string.
    pub fn platform_version(&self) -> &str {
        &self.0.platform_version
    }

    /// This process's index among the client's processes.
    pub fn process_index(&self) -> Result<i32> {
        let mut a = sys::PJRT_Client_ProcessIndex_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_ProcessIndex, &mut a)?;
        Ok(a.process_index)
    }

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

    /// The memories this process can use.
    pub fn addressable_memories(&self) -> Result<Vec<Memory>> {
        let mut a = sys::PJRT_Client_AddressableMemories_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_AddressableMemories, &mut a)?;
        // SAFETY: `n` memory pointers owned by the client.
        let raw = unsafe { vec_from_raw(a.addressable_memories, a.num_addressable_memories) };
        Ok(raw.into_iter().map(|m| Memory::new(self, m)).collect())
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
        if replicas == 0 || partitions == 0 {
            return Err(Error::InvalidCompileOptions(format!(
                "default_device_assignment needs at least 1 replica and 1 partition, got {replicas} x {partitions}"
            )));
        }
        let n = replicas * partitions;
        let mut out = vec![0 as std::ffi::c_int; n];
        let mut a = sys::PJRT_Client_DefaultDeviceAssignment_Args::new();
        a.client = self.raw();
        a.num_replicas = replicas as std::ffi::c_int;
        a.num_partitions = partitions as std::ffi::c_int;
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

    /// Compiles a program with default options (one replica, one partition).
    pub fn compile(&self, program: &Program) -> Result<LoadedExecutable> {
        self.compile_with(program, &CompileOptions::default())
    }

    /// Compiles a program with options (validated and encoded first; never sends zero
    /// replicas or partitions).
    pub fn compile_with(
        &self,
        program: &Program,
        options: &CompileOptions,
    ) -> Result<LoadedExecutable> {
        let opts = options.encode()?;
        let format = program.format().as_str();
        let mut p = sys::PJRT_Program::new();
        // The plugin only reads `code` when compiling.
        p.code = program.code().as_ptr().cast_mut().cast();
        p.code_size = program.code().len();
        p.format = format.as_ptr().cast();
        p.format_size = format.len();
        let mut a = sys::PJRT_Client_Compile_Args::new();
        a.client = self.raw();
        a.program = &p;
        a.compile_options = opts.as_ptr().cast();
        a.compile_options_size = opts.len();
        call!(self.api(), PJRT_Client_Compile, &mut a)?;
        LoadedExecutable::new(self, a.executable)
    }
}
