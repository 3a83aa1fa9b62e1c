//! The persistent compilation cache: compile a program once, load it from disk afterwards.
//!
//! Every [`Client::compile`](crate::Client::compile) and
//! [`Client::compile_with`](crate::Client::compile_with) goes through it, on by default in
//! `${XDG_CACHE_HOME:-~/.cache}/pjrt-runtime/compile/`:
//!
//! - **Key**: SHA-256 of the program's format and bytes (StableHLO text or bytecode, or an
//!   HLO proto), the serialized compile options, the plugin's identity (file digest, PJRT
//!   API version, platform name and version), the client's devices (ids, kinds, attributes),
//!   the host CPU (model and features) and the compiler's environment (`XLA_FLAGS`,
//!   `LIBTPU_INIT_ARGS`).
//! - **Entries** hold the plugin's serialized executable in the envelope that names its
//!   plugin, the compile time, the parameter and output shapes, and a SHA-256 of the whole
//!   file. A truncated, corrupt or foreign-plugin entry, one filed under another key, one the
//!   plugin refuses, or one that loads with other shapes than it was stored with, is
//!   refused before or right after the plugin sees it, compiled again and replaced; it never
//!   runs.
//! - **Writes are atomic**: a temporary file in the folder, flushed to disk, renamed into
//!   place. Processes may fill one folder at once; the last rename wins and every reader
//!   sees a whole entry.
//! - **Size-bounded**: after a write, the least recently used entries (by modification time,
//!   which each hit renews) are removed until the folder holds at most
//!   [`CompileCache::max_bytes`] (1 GiB unless `PJRT_COMPILE_CACHE_MAX_BYTES` or
//!   [`CompileCache::with_max_bytes`] say otherwise).
//! - **Settings**: `PJRT_COMPILE_CACHE=off` switches the default cache off,
//!   `PJRT_COMPILE_CACHE=/some/folder` moves it; per compile,
//!   [`CompileOptions::no_compile_cache`](crate::CompileOptions::no_compile_cache) and
//!   [`CompileOptions::compile_cache`](crate::CompileOptions::compile_cache).
//! - **Not cached** (counted as `bypassed`): compiles whose XLA options (or `XLA_FLAGS`) ask
//!   for dumps, which are written while compiling, and programs with custom calls, whose
//!   handlers and the pointers they may carry belong to the process that compiled them.
//! - **Counters**: [`CompileCache::stats`] per cache, [`compile_cache_stats`] for the whole
//!   process (hits, misses, stores, refusals, bypasses, evictions, compile time spent, load
//!   time, compile time saved); every hit, miss, refusal and write is also a `tracing`
//!   event with target `pjrt::compile_cache`.
//!
//! The key needs the plugin file's SHA-256, which is remembered per file (path, size, times)
//! in `<folder>/plugin-digests/`, so a process does not read the 200 MB plugin again.
//!
//! Choices made by timing among equivalent programs (a train step's program variant, thread
//! budget, steps per call) are remembered in `<folder>/choices/` under a key of the same
//! kind ([`CompileCache::choice_key`]), so they are paid once too.
//!
//! - `choice.rs`: remembered choices.
//! - `store.rs`: the folder, the entry format, eviction, counters, settings.
//! - `hook.rs`: the key, what bypasses the cache, loading and checking hits, storing misses.

mod choice;
mod hook;
mod store;

pub use choice::{ChoiceKey, CHOICE_MAX_BYTES};
pub(crate) use hook::compile_cached;
pub use store::{
    compile_cache_stats, default_compile_cache_dir, CacheEntryInfo, CompileCache,
    CompileCacheSetting, CompileCacheStats, COMPILE_CACHE_DEFAULT_MAX_BYTES,
    COMPILE_CACHE_MAX_BYTES_VAR, COMPILE_CACHE_VAR,
};
