//! A safe, complete wrapper of the PJRT C API: load any plugin, compile and run programs.
//!
//! ```
//! use pjrt::{Client, Literal, Program};
//!
//! # fn main() -> pjrt::Result<()> {
//! // The plugin named by $PJRT_PLUGIN, or the CPU plugin the set-up installed.
//! let client = Client::default_cpu()?;
//! let program = Program::mlir_text(r#"
//!     func.func @main(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
//!       %0 = stablehlo.multiply %x, %y : tensor<3xf32>
//!       %1 = stablehlo.add %0, %x : tensor<3xf32>
//!       return %1 : tensor<3xf32>
//!     }"#);
//! let exe = client.compile(&program)?;
//! let x = Literal::vector(&[1.0f32, 2.0, 3.0]);
//! let y = Literal::vector(&[10.0f32, 20.0, 30.0]);
//! let out = exe.run(&[&x, &y])?;
//! assert_eq!(out[0].to_vec::<f32>()?, vec![11.0, 42.0, 93.0]); // x * y + x
//! # Ok(())
//! # }
//! ```
//!
//! Every C function is called through one checked path: a function beyond the plugin's
//! table, or a null slot, is [`Error::Unimplemented`]; a returned `PJRT_Error` becomes
//! [`Error::Pjrt`] with the function's name, the status code and the message.
//!
//! # How the pieces fit
//! - [`Plugin`]: a loaded plugin file (`$PJRT_PLUGIN`, an explicit path, the set-up's default
//!   or a pip-installed CPU wheel). Loading a file twice gives the same plugin; plugins are
//!   never unloaded. Old plugins work: functions they lack report `Unimplemented`.
//! - [`Client`] (made with checked [`ClientOptions`]) owns [`Device`]s and [`Memory`]s,
//!   compiles a [`Program`] with [`CompileOptions`] into a [`LoadedExecutable`], and makes
//!   [`Buffer`]s from host data ([`HostBufferSemantics`] says how long the plugin may use it).
//! - [`LoadedExecutable::execute`] runs on device buffers; [`LoadedExecutable::run`] goes from
//!   [`Literal`]s to `Literal`s. Arguments are checked against the compiled parameters first,
//!   so a wrong count, type or shape is an [`Error`], not a plugin abort.
//! - [`LoadedExecutable::save`] / [`Client::load_executable`] ship executables in an envelope
//!   naming the plugin that made them, with a digest checked before the plugin sees a byte;
//!   another plugin refuses them. **A serialized executable is native code**: load only files
//!   you trust, and have a deployment require a signature
//!   ([`LoadedExecutable::save_signed`], [`Client::load_executable_verified`]).
//! - Every handle knows its client: a device, memory, buffer or executable of another client
//!   (or plugin) passed to a function is refused with [`Error::ForeignHandle`], never handed
//!   to the plugin.
//! - Compiles go through a persistent [`CompileCache`] (on by default in
//!   `~/.cache/pjrt-runtime/compile`; `PJRT_COMPILE_CACHE=off` switches it off): a program
//!   compiled once loads from disk afterwards.
//! - Handles are reference counted: a buffer or executable keeps its client (and so its
//!   plugin) alive. Clients, devices, buffers, events and executables are `Send + Sync`.
//! - Asynchronous work completes through [`Event`]s: `wait()`, `on_ready(callback)`, or
//!   `.await` (an `Event` is a `Future`).
//!
//! Inputs the plugins are known to abort on (zero replicas, wrongly typed client options,
//! host slices that do not match their dims, ...) are refused before the call.
#![deny(missing_docs)]

// Modules by concept (each folder's mod.rs lists its files); nothing imports in a loop
// (tests/integration/module_cycles.rs checks).
mod buffer;
#[cfg(feature = "call-log")]
pub mod call_log;
mod client;
mod compile_options;
mod device;
pub mod discovery;
mod error;
mod executable;
pub mod ext;
mod hlo_scan;
#[cfg(feature = "installer")]
pub mod install;
mod literal;
mod mlir_scan;
#[cfg(feature = "ndarray")]
pub mod ndarray;
mod plugin;
mod program;
mod proto;
mod reserved;
mod types;

pub use buffer::{
    AliasFulfiller, AlignedVec, AsyncTransferManager, Buffer, BufferPlacement, ControlDependency,
    CopyToDeviceStream, DmaMapping, ExternalReference, HostBufferSemantics, MemoryLayout,
    PendingRawCopy, ShapeSpec, HOST_ALIGNMENT,
};
pub use client::{
    Client, ClientOptions, KeyValueStore, MemoryKeyValueStore, ProcessInfo, ProcessState,
    TcpKeyValueStore, TCP_KV_MAX_BYTES, TCP_KV_MAX_TOTAL_BYTES,
};
pub use compile_options::{
    ArgumentLayout, CompileOptions, DeviceAssignment, XlaOption, NAN_PROPAGATING_MIN_MAX,
};
pub use device::{
    AsyncTrackingEvent, Device, DeviceDescription, Event, Memory, MemoryStats, UserEvent,
};
pub use error::{ApiVersion, Error, ErrorCode, Result};
pub use executable::{
    CompiledMemoryStats, Executable, ExecutableSignature, ExecuteContext, ExecuteOptions,
    HostCallbacks, LoadedExecutable, LogicalDeviceId, ParameterShape, PluginIdentity, RecvCallback,
    SendCallback, SerializedExecutable, SigningKey, TopologyDescription, TopologyDevice,
    VerifyingKey,
};
// The persistent compilation cache every compile goes through.
pub use executable::{
    compile_cache_stats, default_compile_cache_dir, CacheEntryInfo, ChoiceKey, CompileCache,
    CompileCacheSetting, CompileCacheStats, CHOICE_MAX_BYTES, COMPILE_CACHE_DEFAULT_MAX_BYTES,
    COMPILE_CACHE_MAX_BYTES_VAR, COMPILE_CACHE_VAR,
};
pub use literal::Literal;
pub use plugin::{find as find_named, Extension, ExtensionType, NamedValue, Plugin, Value};
pub use program::{Program, ProgramFormat};
pub use reserved::{reserved_target, RESERVED_CUSTOM_CALL_PREFIXES, RESERVED_CUSTOM_CALL_TARGETS};
pub use types::{ElementType, NativeType};
