//! The client handle: creation (options checked first), the platform it runs, and the
//! plugin it keeps alive. What a client does lives with what it makes (see `client/mod.rs`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pjrt_sys as sys;

use crate::client::options::ClientOptions;
use crate::error::{Error, Result};
use crate::plugin::{call, str_from_raw, to_raw, Api, Plugin};

/// Client numbers, in creation order: what errors about foreign handles name.
static NEXT_CLIENT_NUMBER: AtomicU64 = AtomicU64::new(1);

struct ClientInner {
    raw: *mut sys::PJRT_Client,
    /// This client's number in the process (1, 2, ...), never reused.
    number: u64,
    plugin: Plugin,
    platform_name: String,
    platform_version: String,
    /// The options it was made with (for siblings: [`Client::with_cpu_threads_like`]).
    options: ClientOptions,
    /// The CPU budget it was made with ([`Client::with_cpu_threads`]), if any.
    cpu_threads: Option<usize>,
    /// What the plugin's callbacks point to (the key-value store state): freed only after
    /// the client is destroyed, when nothing can call them any more.
    _callback_state: Option<Box<dyn std::any::Any + Send + Sync>>,
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
pub struct Client(Arc<ClientInner>);

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
            "Client(#{} {} {}, API {})",
            self.0.number,
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
        Client::create(plugin, options, |_| {}, None)
    }

    /// Creates a client whose CPU plugin sizes its thread pools for `threads` CPUs: the
    /// plugin's intra-op pool gets `max(threads, cpu_device_count)` threads instead of one
    /// per CPU this process may run on.
    ///
    /// The PJRT C API takes no thread count; the XLA CPU plugins size their pools from the
    /// CPUs the creating thread may run on (`sched_getaffinity`), unless `PJRT_NPROC` or
    /// `NPROC` is set. So the client is created on a thread of its own whose CPU affinity is
    /// first narrowed to `threads` of this process's CPUs (the first ones of its mask); the
    /// plugin's threads start there and keep that affinity. Nothing process-wide changes (no
    /// environment variable is written, no other thread's affinity is touched), so this is
    /// safe in a multi-threaded process. Small programs often run faster on one thread than
    /// on a pool (no hand-off between threads); large ones slower: time both (the train step
    /// does, with `TrainStepBuilder::cpu_threads_tuned`).
    ///
    /// Errors: `threads` = 0; `PJRT_NPROC` or `NPROC` set (the plugin would obey it
    /// instead); a platform other than Linux. With `threads` at least the number of CPUs of
    /// the process, this is [`Client::new`].
    pub fn with_cpu_threads(
        plugin: &Plugin,
        options: &ClientOptions,
        threads: usize,
    ) -> Result<Client> {
        const FUNC: &str = "Client::with_cpu_threads";
        if threads == 0 {
            return Err(Error::InvalidArgument(format!(
                "{FUNC}: a client needs at least one thread (threads = 0)"
            )));
        }
        for var in ["PJRT_NPROC", "NPROC"] {
            if let Some(v) = std::env::var_os(var) {
                return Err(Error::InvalidArgument(format!(
                    "{FUNC}: {var} is set ({v:?}); the plugin sizes its thread pools from it, \
                     not from the {threads} threads asked for"
                )));
            }
        }
        let mut client = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("pjrt-client-create".into())
                .spawn_scoped(s, || {
                    narrow_affinity(FUNC, threads)?;
                    Client::new(plugin, options)
                })
                .map_err(|e| Error::InvalidArgument(format!("{FUNC}: cannot start a thread: {e}")))?
                .join()
                .unwrap_or_else(|_| {
                    Err(Error::CallbackPanicked(format!(
                        "{FUNC}: the creating thread panicked"
                    )))
                })
        })?;
        if let Some(inner) = Arc::get_mut(&mut client.0) {
            inner.cpu_threads = Some(threads);
        }
        Ok(client)
    }

    /// A new client of the same plugin with the same options as this one, made with
    /// [`Client::with_cpu_threads`]`(threads)`. Buffers and executables are not shared
    /// between the two: move data with [`Buffer::copy_to_device`](crate::Buffer::copy_to_device)
    /// or through the host.
    pub fn with_cpu_threads_like(&self, threads: usize) -> Result<Client> {
        Client::with_cpu_threads(&self.0.plugin, &self.0.options, threads)
    }

    /// The CPU budget this client was made with ([`Client::with_cpu_threads`]); `None` for a
    /// client made with the plugin's default pools.
    pub fn cpu_threads(&self) -> Option<usize> {
        self.0.cpu_threads
    }

    /// The one way a client is made: validates the options, lets `more` fill further create
    /// arguments (the key-value store callbacks) after that, creates the client and reads
    /// the platform's name and version. `callback_state` (what those callbacks point to) is
    /// kept until the client is destroyed.
    pub(crate) fn create(
        plugin: &Plugin,
        options: &ClientOptions,
        more: impl FnOnce(&mut sys::PJRT_Client_Create_Args),
        callback_state: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Result<Client> {
        options.validate(plugin)?;
        let all = options.all();
        // Options that make the client one of several processes.
        let multi: Vec<String> = all
            .iter()
            .filter(|nv| nv.name == "num_nodes" || nv.name == "node_id")
            .map(|nv| format!("{} = {}", nv.name, nv.value))
            .collect();
        let raw_opts = to_raw(&all);
        let mut a = sys::PJRT_Client_Create_Args::new();
        a.create_options = raw_opts.as_ptr();
        a.num_options = raw_opts.len();
        more(&mut a);
        let created = call!(plugin.api(), PJRT_Client_Create, &mut a);
        match created {
            // 0.115's CPU plugin refuses the names itself; say what was asked for.
            Err(Error::Pjrt { ref message, .. })
                if !multi.is_empty() && message.contains("Unexpected option name") =>
            {
                return Err(multi_process_refused(&multi, message));
            }
            other => other?,
        };
        let raw = a.client;
        let mut inner = ClientInner {
            raw,
            number: NEXT_CLIENT_NUMBER.fetch_add(1, Ordering::Relaxed),
            plugin: plugin.clone(),
            platform_name: String::new(),
            platform_version: String::new(),
            options: options.clone(),
            cpu_threads: None,
            _callback_state: callback_state,
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
        // The CPU plugins before 0.115 take the names and ignore them: a client that believes
        // it is one of several processes would run alone. Refuse it (the client is destroyed
        // with `inner`).
        if inner.platform_name == "cpu" && !multi.is_empty() {
            return Err(multi_process_refused(
                &multi,
                "the plugin accepted the options and would ignore them",
            ));
        }
        Ok(Client(Arc::new(inner)))
    }

    pub(crate) fn api(&self) -> &Api {
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

    /// This client's number in the process (1 for the first client made, then 2, ...); errors
    /// about handles of another client name clients by it.
    pub fn number(&self) -> u64 {
        self.0.number
    }

    /// Whether `other` is this same client (not merely a client of the same plugin).
    pub fn same_as(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// `client #N (platform, PJRT API x.y, plugin file name)`: how errors name a client.
    pub(crate) fn describe(&self) -> String {
        format!(
            "client #{} ({}, PJRT API {}, plugin {})",
            self.0.number,
            self.0.platform_name,
            self.0.plugin.api_version(),
            self.0.plugin.path().file_name().map_or_else(
                || self.0.plugin.path().display().to_string(),
                |f| { f.to_string_lossy().into_owned() }
            )
        )
    }

    /// Checks that a handle (`what`, e.g. "the device") passed to `function` belongs to this
    /// client: a handle of another client, of this plugin or another, would reach the plugin
    /// as a pointer it does not own (a crash, or a result owned by the wrong client).
    pub(crate) fn check_owns(
        &self,
        function: &'static str,
        what: &'static str,
        owner: &Client,
    ) -> Result<()> {
        if self.same_as(owner) {
            return Ok(());
        }
        Err(Error::ForeignHandle {
            function,
            what,
            owner: owner.describe(),
            expected: self.describe(),
        })
    }

    /// This process's index among the client's processes.
    pub fn process_index(&self) -> Result<i32> {
        let mut a = sys::PJRT_Client_ProcessIndex_Args::new();
        a.client = self.raw();
        call!(self.api(), PJRT_Client_ProcessIndex, &mut a)?;
        Ok(a.process_index)
    }
}

impl crate::plugin::PluginOwned for Client {
    fn owner_plugin(&self) -> &Plugin {
        self.plugin()
    }
}

/// A multi-process client asked of a CPU plugin: they run one process (no distributed
/// runtime, no collectives across processes).
fn multi_process_refused(options: &[String], plugin_said: &str) -> Error {
    Error::InvalidClientOption {
        name: options.join(", "),
        reason: format!(
            "a multi-process client: the XLA:CPU plugins run one process (no key-value store rendezvous, no collectives across processes; programs spanning processes fail with \"Multiprocess computations aren't implemented on the CPU backend\"); use more devices in one process with `cpu_device_count` ({plugin_said})"
        ),
    }
}

/// Narrows the calling thread's CPU affinity to the first `threads` CPUs it may run on (no
/// change when it may run on `threads` or fewer).
#[cfg(target_os = "linux")]
fn narrow_affinity(func: &str, threads: usize) -> Result<()> {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of `size` bytes; pid 0 is the calling thread.
    if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
        return Err(Error::InvalidArgument(format!(
            "{func}: cannot read the thread's CPU affinity: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: as above.
    let mut keep: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let mut kept = 0;
    for cpu in 0..libc::CPU_SETSIZE as usize {
        // SAFETY: `cpu` < CPU_SETSIZE, within both sets.
        if kept < threads && unsafe { libc::CPU_ISSET(cpu, &set) } {
            // SAFETY: as above.
            unsafe { libc::CPU_SET(cpu, &mut keep) };
            kept += 1;
        }
    }
    // SAFETY: `keep` is a valid non-empty cpu_set_t (the mask had at least one CPU); pid 0 is
    // the calling thread, so no other thread's affinity changes.
    if kept > 0 && unsafe { libc::sched_setaffinity(0, size, &keep) } != 0 {
        return Err(Error::InvalidArgument(format!(
            "{func}: cannot narrow the thread's CPU affinity to {threads} CPUs: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn narrow_affinity(func: &str, _threads: usize) -> Result<()> {
    Err(Error::InvalidArgument(format!(
        "{func}: thread budgets use Linux CPU affinity, which this platform lacks"
    )))
}
