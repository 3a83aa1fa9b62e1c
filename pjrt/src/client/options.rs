//! Options for creating a client, checked against the options the plugins are known to
//! read before any plugin sees them.

use crate::error::{Error, Result};
use crate::plugin::{NamedValue, Plugin, Value};

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

/// The most CPU devices a client may ask for. The CPU plugins create every device, its
/// memory spaces and a thread pool sized to the count up front, and number devices with C
/// ints; a count of millions exhausts memory inside the plugin, where it cannot fail cleanly.
pub const MAX_CPU_DEVICES: i64 = 1024;

/// Options for creating a [`Client`](crate::Client), checked against the known option types before the
/// plugin sees them.
///
/// A client of a plugin that spans processes (the GPU plugins) is made in every process
/// with `set("num_nodes", n)` and `set("node_id", i)` (`i` in `0..n`) and a store the
/// processes share, given to [`Client::with_key_value_store`](crate::Client::with_key_value_store):
/// process 0 serves a [`TcpKeyValueStore`](crate::TcpKeyValueStore) and the others connect
/// to it. The CPU plugins refuse these two options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientOptions {
    values: Vec<NamedValue>,
    unchecked: Vec<NamedValue>,
}

impl ClientOptions {
    /// No options (the plugin's defaults; 4 devices on the CPU plugins, whatever the number of
    /// cores; [`Client::default_cpu`](crate::Client::default_cpu) asks for one).
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

    /// Passes an option whose name this crate does not know, as is. A known name still has
    /// its type and value checked at client creation; an unknown one reaches the plugin
    /// unchecked. Prefer [`set`](Self::set).
    ///
    /// # Safety
    /// The plugin must accept `value`'s type for `name`: a plugin that reads the option as
    /// another type aborts the process (the CPU plugins before API 0.111 do, e.g. for a bool
    /// `cpu_device_count`), and no check here can know every plugin's options.
    pub unsafe fn set_unchecked(
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

    /// Every option for `PJRT_Client_Create`: the checked ones, then the unchecked ones.
    pub(crate) fn all(&self) -> Vec<NamedValue> {
        self.values.iter().chain(&self.unchecked).cloned().collect()
    }

    /// Checks every option against the known names and types for a plugin of this version
    /// (unchecked options too, when their name is known).
    pub fn validate(&self, plugin: &Plugin) -> Result<()> {
        let v = plugin.api_version();
        for nv in &self.unchecked {
            if let Some(&(_, ty, _)) = KNOWN_OPTIONS.iter().find(|(n, _, _)| *n == nv.name) {
                if !ty.matches(&nv.value) {
                    return Err(Error::InvalidClientOption {
                        name: nv.name.clone(),
                        reason: format!(
                            "must be {}, got {} {} (plugins before API 0.111 abort on a wrongly typed option)",
                            ty.name(),
                            nv.value.type_name(),
                            nv.value
                        ),
                    });
                }
            }
            if nv.name.as_bytes().contains(&0) {
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: "the name has a NUL byte".into(),
                });
            }
        }
        for nv in &self.values {
            let Some(&(_, ty, min_minor)) = KNOWN_OPTIONS.iter().find(|(n, _, _)| *n == nv.name)
            else {
                let known: Vec<&str> = KNOWN_OPTIONS.iter().map(|k| k.0).collect();
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!(
                        "unknown option (known: {}); use the unsafe set_unchecked to pass it anyway",
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
            if nv.name == "cpu_device_count"
                && nv
                    .value
                    .as_i64()
                    .is_some_and(|n| !(1..=MAX_CPU_DEVICES).contains(&n))
            {
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!(
                        "must be between 1 and {MAX_CPU_DEVICES}, got {} (the CPU plugins make a device and its threads per count, and device ids are C ints)",
                        nv.value
                    ),
                });
            }
            if nv.name == "cpu_device_count" {
                if let Some(n) = nv.value.as_i64() {
                    check_room_for_devices(n).map_err(|reason| Error::InvalidClientOption {
                        name: nv.name.clone(),
                        reason,
                    })?;
                }
            }
            if nv.name == "process_id" && nv.value.as_i64().is_some_and(|n| n < 0) {
                return Err(Error::InvalidClientOption {
                    name: nv.name.clone(),
                    reason: format!("must not be negative, got {}", nv.value),
                });
            }
        }
        Ok(())
    }
}

/// Address space a CPU device takes: the CPU plugins start two threads per device, each with
/// a stack reservation (measured on all three plugins: about 10 MiB of virtual memory per
/// device, 11.7 GB for 1024 devices).
const ADDRESS_SPACE_PER_DEVICE: u64 = 12 << 20;

/// Checks that `n` CPU devices fit the process's limits. The plugins abort the process when
/// they cannot start a device's threads (under `RLIMIT_AS` or `RLIMIT_NPROC`), so a count
/// that cannot fit is refused here, naming the limit.
fn check_room_for_devices(n: i64) -> std::result::Result<(), String> {
    let n = u64::try_from(n).unwrap_or(0);
    if let Some(limit) = crate::client::limits::address_space_limit() {
        let used = crate::client::limits::address_space_used().unwrap_or(0);
        let need = n.saturating_mul(ADDRESS_SPACE_PER_DEVICE);
        if used.saturating_add(need) > limit {
            return Err(format!(
                "{n} devices need about {} MiB of address space (two threads each), but the \
                 process may use {} MiB (RLIMIT_AS) and uses {} MiB; the plugin would abort",
                need >> 20,
                limit >> 20,
                used >> 20
            ));
        }
    }
    if let Some(limit) = crate::client::limits::thread_limit() {
        if n.saturating_mul(2) >= limit {
            return Err(format!(
                "{n} devices need {} threads, but the user may run {limit} (RLIMIT_NPROC); the \
                 plugin would abort",
                n * 2
            ));
        }
    }
    Ok(())
}
