//! The compile path through the cache: the key, what bypasses the cache, loading and
//! checking a hit, storing a miss.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::compile_options::CompileOptions;
use crate::discovery::to_hex;
use crate::error::{Error, Result};
use crate::executable::cache::store::{
    CompileCache, CompileCacheSetting, Count, Entry, Lookup, Shape,
};
use crate::executable::loaded::LoadedExecutable;
use crate::executable::SerializedExecutable;
use crate::program::Program;

/// Environment variables that change what XLA compiles (so they are part of the key).
const COMPILER_ENV: &[&str] = &["XLA_FLAGS", "LIBTPU_INIT_ARGS"];

impl CompileOptions {
    /// Compiles through this cache instead of the default one.
    pub fn compile_cache(mut self, cache: CompileCache) -> CompileOptions {
        self.compile_cache = CompileCacheSetting::Use(cache);
        self
    }

    /// Compiles without any cache: never loads, never stores.
    pub fn no_compile_cache(mut self) -> CompileOptions {
        self.compile_cache = CompileCacheSetting::Off;
        self
    }
}

/// Compiles `program`, through the cache the options name (see the cache's module
/// documentation); `compile` is the plugin's compile of the encoded options (validated
/// here first).
pub(crate) fn compile_cached(
    client: &Client,
    program: &Program,
    options: &CompileOptions,
    compile: impl FnOnce(&[u8]) -> Result<LoadedExecutable>,
) -> Result<LoadedExecutable> {
    let opts = options.encode()?;
    let Some(cache) = options.compile_cache.resolve() else {
        return compile(&opts);
    };
    if let Some(why) = bypass_reason(program, options) {
        cache.count(Count::Bypassed);
        tracing::debug!(target: "pjrt::compile_cache", reason = %why, "compile cache bypassed");
        return compile(&opts);
    }
    let key = match cache_key(client, program, &opts) {
        Ok(k) => k,
        Err(e) => {
            cache.count(Count::Error);
            tracing::warn!(target: "pjrt::compile_cache", error = %e, "no cache key; compiling without the cache");
            return compile(&opts);
        }
    };
    let short = &to_hex(&key)[..16];
    let rejected = match cache.read(&key) {
        Lookup::Missing => None,
        Lookup::Invalid(why) => Some(why),
        Lookup::Found(entry) => {
            let t = Instant::now();
            match load(client, &entry) {
                Ok(exe) => {
                    let load = t.elapsed();
                    let saved = entry.compile_time.saturating_sub(load);
                    cache.count(Count::Hit { load, saved });
                    cache.touch(&key);
                    tracing::debug!(
                        target: "pjrt::compile_cache",
                        key = short,
                        load_ms = load.as_secs_f64() * 1e3,
                        compile_ms = entry.compile_time.as_secs_f64() * 1e3,
                        saved_ms = saved.as_secs_f64() * 1e3,
                        "compile cache hit"
                    );
                    return Ok(exe);
                }
                Err(why) => Some(why),
            }
        }
    };
    if let Some(why) = rejected {
        cache.count(Count::Rejected);
        cache.remove(&key);
        tracing::warn!(target: "pjrt::compile_cache", key = short, reason = %why, "compile cache entry refused; compiling again");
    }
    let t = Instant::now();
    let exe = compile(&opts)?;
    let compile_time = t.elapsed();
    cache.count(Count::Miss {
        compile: compile_time,
    });
    tracing::debug!(target: "pjrt::compile_cache", key = short, compile_ms = compile_time.as_secs_f64() * 1e3, "compile cache miss");
    store(&cache, key, &exe, compile_time);
    Ok(exe)
}

/// Why a compile must not use the cache, if it must not.
///
/// - Options that write files while compiling (XLA's `xla_dump_*` and the like, in the
///   options or in `XLA_FLAGS`): a hit would skip the side effect the caller asked for.
/// - Programs with custom calls: their handlers (and any pointers their operands or
///   configuration carry) belong to the process that compiled them.
/// - Any compile while an XLA transform (the XlaTransform extension: a function of this
///   process that rewrites modules as they compile) is registered.
pub(crate) fn bypass_reason(program: &Program, options: &CompileOptions) -> Option<String> {
    if crate::ext::xla_transform::any_registered() {
        return Some("an XLA transform is registered (it rewrites what compiles)".into());
    }
    if let Some(name) = options.xla_options.keys().find(|n| n.contains("dump")) {
        return Some(format!("XLA option `{name}` writes files while compiling"));
    }
    for var in COMPILER_ENV {
        if std::env::var(var).is_ok_and(|v| v.contains("dump")) {
            return Some(format!("${var} asks for dumps, written while compiling"));
        }
    }
    let code = program.code();
    let has = |needle: &[u8]| code.windows(needle.len()).any(|w| w == needle);
    if has(b"custom_call") || has(b"custom-call") {
        return Some("the program makes custom calls (handlers of this process)".into());
    }
    None
}

/// Adds one length-prefixed field to a hash (so that no two field lists hash alike).
pub(crate) fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The cache key: SHA-256 of everything that decides what the compiler makes and whether
/// the result can run here: this library's entry format, the plugin (file digest, API
/// version, platform name and version), the client's devices (id, kind, attributes), the
/// host CPU (model and feature flags; CPU plugins generate code for it), the compiler's
/// environment variables, the program (format and bytes) and the serialized options.
pub(crate) fn cache_key(client: &Client, program: &Program, options: &[u8]) -> Result<[u8; 32]> {
    let mut h = Sha256::new();
    field(&mut h, b"pjrt-runtime compile cache key 1");
    client_fields(&mut h, client)?;
    field(&mut h, program.format().as_str().as_bytes());
    field(&mut h, program.code());
    field(&mut h, options);
    Ok(h.finalize().into())
}

/// What every key of the cache holds about where the code runs: this library's version,
/// the plugin (file digest, API version, platform name and version), the client's devices,
/// the host CPU and the compiler's environment variables.
pub(crate) fn client_fields(h: &mut Sha256, client: &Client) -> Result<()> {
    field(h, env!("CARGO_PKG_VERSION").as_bytes());
    let id = client.identity()?;
    field(h, &id.sha256);
    field(h, &id.api_version.major.to_le_bytes());
    field(h, &id.api_version.minor.to_le_bytes());
    field(h, id.platform_name.as_bytes());
    field(h, id.platform_version.as_bytes());
    let devices = client.devices()?;
    field(h, &(devices.len() as u64).to_le_bytes());
    for d in &devices {
        field(h, &d.id()?.to_le_bytes());
        field(h, d.kind()?.as_bytes());
        field(h, &[u8::from(d.is_addressable()?)]);
        // Attributes (e.g. a GPU's compute capability) where the plugin gives them.
        let attrs = d.attributes().map(|a| format!("{a:?}")).unwrap_or_default();
        field(h, attrs.as_bytes());
    }
    field(h, host_fingerprint().as_bytes());
    for var in COMPILER_ENV {
        field(h, var.as_bytes());
        field(h, std::env::var(var).unwrap_or_default().as_bytes());
    }
    Ok(())
}

/// The host's architecture, OS and CPU model and features (from `/proc/cpuinfo` on Linux):
/// code generated for one CPU may not run on another (an AVX-512 instruction on a CPU
/// without it), and a cache folder may be shared between machines.
fn host_fingerprint() -> &'static str {
    static FP: OnceLock<String> = OnceLock::new();
    FP.get_or_init(|| {
        let mut s = format!("{} {}\n", std::env::consts::ARCH, std::env::consts::OS);
        // The first processor's block; the keys that describe the model and its features.
        const KEYS: &[&str] = &[
            "vendor_id",
            "cpu family",
            "model",
            "model name",
            "stepping",
            "flags",
            "isa",
            "Features",
            "CPU implementer",
            "CPU architecture",
            "CPU variant",
            "CPU part",
        ];
        if let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") {
            for line in text.lines().take_while(|l| !l.trim().is_empty()) {
                if let Some((k, v)) = line.split_once(':') {
                    if KEYS.contains(&k.trim()) {
                        s.push_str(k.trim());
                        s.push('=');
                        s.push_str(v.trim());
                        s.push('\n');
                    }
                }
            }
        }
        s
    })
}

/// The parameter and output shapes of an executable, where the plugin says.
fn shapes(exe: &LoadedExecutable) -> (Option<Vec<Shape>>, Option<Vec<Shape>>) {
    let params = exe.parameters().map(|ps| {
        ps.iter()
            .map(|p| (p.element_type, p.dims.clone()))
            .collect()
    });
    let outputs = match (exe.output_element_types(), exe.output_dims()) {
        (Ok(t), Ok(d)) if t.len() == d.len() => Some(t.into_iter().zip(d).collect()),
        _ => None,
    };
    (params, outputs)
}

/// Loads an entry's executable and checks it is what was stored: made by this plugin (the
/// envelope's identity), accepted by the plugin, and with the parameters and outputs the
/// compiled executable had.
fn load(client: &Client, entry: &Entry) -> std::result::Result<LoadedExecutable, String> {
    let envelope = SerializedExecutable::from_bytes(&entry.executable)
        .map_err(|e| format!("its executable is damaged: {e}"))?;
    let exe = client
        .deserialize_executable(&entry.executable)
        .map_err(|e| match e {
            Error::ForeignExecutable { found, .. } => {
                format!("it was made by another plugin ({found})")
            }
            Error::InvalidSerializedExecutable(why) => format!("its executable is damaged: {why}"),
            e => format!("the plugin refused it: {e}"),
        })?;
    exe.remember_serialized(envelope.blob);
    let (params, outputs) = shapes(&exe);
    for (what, stored, loaded) in [
        ("parameters", &entry.params, &params),
        ("outputs", &entry.outputs, &outputs),
    ] {
        if let (Some(s), Some(l)) = (stored, loaded) {
            if s != l {
                return Err(format!(
                    "it loads with {what} {l:?}, but was stored with {s:?}"
                ));
            }
        }
    }
    Ok(exe)
}

/// Stores a freshly compiled executable. Failures are counted and reported as events; the
/// compile itself succeeded and is returned either way.
fn store(cache: &CompileCache, key: [u8; 32], exe: &LoadedExecutable, compile_time: Duration) {
    let executable = match exe.serialize() {
        Ok(b) => b,
        Err(e) => {
            if !e.is_unimplemented() {
                cache.count(Count::Error);
            }
            tracing::debug!(target: "pjrt::compile_cache", error = %e, "executable not serializable; not stored");
            return;
        }
    };
    let (params, outputs) = shapes(exe);
    let entry = Entry {
        key,
        compile_time,
        params,
        outputs,
        executable,
    };
    match cache.write(&entry) {
        Ok(size) => {
            cache.count(Count::Stored);
            tracing::debug!(target: "pjrt::compile_cache", key = &to_hex(&key)[..16], size, "compile cache entry stored");
        }
        Err(e) => {
            cache.count(Count::Error);
            tracing::warn!(target: "pjrt::compile_cache", error = %e, "cannot store compile cache entry");
        }
    }
}
