//! Executables: compiling, loading, running, and shipping compiled programs.
//!
//! - `cache/`: the persistent compilation cache every compile goes through.
//! - `compile.rs`: [`Client::compile`](crate::Client::compile) and
//!   [`Client::load`](crate::Client::load).
//! - `metadata.rs`: [`Executable`], a compiled program and what the compiler made of it.
//! - `loaded.rs`: [`LoadedExecutable`], a program on devices.
//! - `execute.rs`: running it ([`ExecuteOptions`]).
//! - `context.rs`: [`ExecuteContext`] and host send/recv callbacks ([`HostCallbacks`]).
//! - `serialize.rs`: [`SerializedExecutable`]s that name the plugin that made them.
//! - `topology.rs`: [`TopologyDescription`], compiling for devices without a client.

mod cache;
mod compile;
mod context;
mod execute;
mod loaded;
mod metadata;
mod serialize;
mod topology;

pub use cache::{
    compile_cache_stats, default_compile_cache_dir, CacheEntryInfo, ChoiceKey, CompileCache,
    CompileCacheSetting, CompileCacheStats, CHOICE_MAX_BYTES, COMPILE_CACHE_DEFAULT_MAX_BYTES,
    COMPILE_CACHE_MAX_BYTES_VAR, COMPILE_CACHE_VAR,
};
pub(crate) use context::contexts_in_flight;
pub use context::{ExecuteContext, HostCallbacks, RecvCallback, SendCallback};
pub use execute::ExecuteOptions;
pub use loaded::{LoadedExecutable, LogicalDeviceId};
pub use metadata::{CompiledMemoryStats, Executable, ParameterShape};
pub use serialize::{
    ExecutableSignature, PluginIdentity, SerializedExecutable, SigningKey, VerifyingKey,
};
pub use topology::{TopologyDescription, TopologyDevice};
