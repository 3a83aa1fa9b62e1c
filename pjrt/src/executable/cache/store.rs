//! The cache folder: where it is, the entry file format (checksummed), atomic writes, the
//! size bound with least-recently-used eviction, and the counters.
//!
//! An entry file, `<folder>/<key as 64 hex digits>.entry`:
//!
//! ```text
//! magic         8 bytes  "PJRTCCE\0"
//! version       u32 LE   1
//! key           32 bytes the cache key (SHA-256; also the file's name)
//! compile time  u64 LE   nanoseconds the compile took (what a hit saves)
//! parameters    shapes   (see below) of the compiled executable
//! outputs       shapes
//! executable    u64 LE length + a serialized executable (the envelope naming its plugin)
//! checksum      32 bytes SHA-256 of everything above
//! shapes:       u8 1 + u32 LE count + per shape { i32 LE element type (PJRT_Buffer_Type),
//!               u32 LE rank, i64 LE dims }, or u8 0 when the plugin did not say
//! ```
//!
//! The checksum is checked before anything else is read, so a truncated or corrupted file is
//! refused before the plugin sees a byte of it (the plugins do not check their own blobs:
//! flipped bytes load and compute wrong numbers, or crash).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::discovery::to_hex as hex;
use crate::error::{Error, Result};
use crate::types::ElementType;

/// The environment variable that switches the cache off (`off`, `0`, `false`, `no`, `none`
/// or empty) or moves it (a folder); unset means the default folder,
/// `${XDG_CACHE_HOME:-~/.cache}/pjrt-runtime/compile`.
pub const COMPILE_CACHE_VAR: &str = "PJRT_COMPILE_CACHE";

/// The environment variable bounding the default cache's size in bytes (a number, with an
/// optional `K`, `M`, `G` or `T` suffix in powers of 1024); default [`COMPILE_CACHE_DEFAULT_MAX_BYTES`].
pub const COMPILE_CACHE_MAX_BYTES_VAR: &str = "PJRT_COMPILE_CACHE_MAX_BYTES";

/// The default size bound of a cache folder: 1 GiB.
pub const COMPILE_CACHE_DEFAULT_MAX_BYTES: u64 = 1 << 30;

const MAGIC: &[u8; 8] = b"PJRTCCE\0";
const ENTRY_VERSION: u32 = 1;
const ENTRY_EXT: &str = "entry";
/// Prefix of files being written (renamed into place when complete).
const PARTIAL_PREFIX: &str = ".partial-";
/// A partial file older than this was left by a writer that died; eviction removes it.
const STALE_PARTIAL: Duration = Duration::from_secs(3600);

/// What a cache (or all caches of the process, [`compile_cache_stats`]) has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileCacheStats {
    /// Compiles answered by loading an entry.
    pub hits: u64,
    /// Compiles that looked for an entry, found none usable, and compiled.
    pub misses: u64,
    /// Entries written.
    pub stored: u64,
    /// Entries found but refused (corrupt, truncated, made by another plugin, of another
    /// key, refused by the plugin, or loading into different shapes); each was compiled
    /// again and replaced.
    pub rejected: u64,
    /// Compiles that did not use the cache because of what they ask for (dumps, custom
    /// calls; see the module documentation).
    pub bypassed: u64,
    /// Entries removed to keep the folder under its size bound.
    pub evicted: u64,
    /// Failures of the cache itself (a key that could not be computed, an entry that could
    /// not be written); the compile went ahead without the cache.
    pub errors: u64,
    /// Time spent compiling on misses.
    pub compile_time: Duration,
    /// Time spent loading hits.
    pub load_time: Duration,
    /// Compile time that hits did not spend: for each hit, the time its entry's compile took
    /// less the time loading it took.
    pub time_saved: Duration,
}

impl fmt::Display for CompileCacheStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} hits, {} misses, {} stored, {} rejected, {} bypassed, {} evicted; \
             compiling {:.3}s, loading {:.3}s, saved {:.3}s",
            self.hits,
            self.misses,
            self.stored,
            self.rejected,
            self.bypassed,
            self.evicted,
            self.compile_time.as_secs_f64(),
            self.load_time.as_secs_f64(),
            self.time_saved.as_secs_f64()
        )
    }
}

/// Atomic counters behind [`CompileCacheStats`].
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    stored: AtomicU64,
    rejected: AtomicU64,
    bypassed: AtomicU64,
    evicted: AtomicU64,
    errors: AtomicU64,
    compile_ns: AtomicU64,
    load_ns: AtomicU64,
    saved_ns: AtomicU64,
}

impl Counters {
    const fn new() -> Counters {
        Counters {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            bypassed: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            compile_ns: AtomicU64::new(0),
            load_ns: AtomicU64::new(0),
            saved_ns: AtomicU64::new(0),
        }
    }

    fn snapshot(&self) -> CompileCacheStats {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CompileCacheStats {
            hits: n(&self.hits),
            misses: n(&self.misses),
            stored: n(&self.stored),
            rejected: n(&self.rejected),
            bypassed: n(&self.bypassed),
            evicted: n(&self.evicted),
            errors: n(&self.errors),
            compile_time: Duration::from_nanos(n(&self.compile_ns)),
            load_time: Duration::from_nanos(n(&self.load_ns)),
            time_saved: Duration::from_nanos(n(&self.saved_ns)),
        }
    }
}

/// The totals of every cache of the process.
static TOTALS: Counters = Counters::new();

/// One event, counted in a cache and in the process totals.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Count {
    Hit { load: Duration, saved: Duration },
    Miss { compile: Duration },
    Stored,
    Rejected,
    Bypassed,
    Evicted,
    Error,
}

/// What every compile cache of this process has done, together (each cache's own counters:
/// [`CompileCache::stats`]).
pub fn compile_cache_stats() -> CompileCacheStats {
    TOTALS.snapshot()
}

/// A folder of compiled executables, keyed by what decides the compiler's output: the
/// program, the compile options, the plugin and the devices (see the module documentation
/// of the cache). Cheap to clone; clones share their counters.
///
/// Every compile uses the default cache ([`CompileCache::default_cache`]) unless its
/// [`CompileOptions`](crate::CompileOptions) say otherwise
/// ([`CompileOptions::compile_cache`](crate::CompileOptions::compile_cache),
/// [`CompileOptions::no_compile_cache`](crate::CompileOptions::no_compile_cache)).
#[derive(Clone)]
pub struct CompileCache(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    max_bytes: AtomicU64,
    counters: Counters,
    /// The folder's size as last scanned plus what this process wrote since; `None` until
    /// the first write scans it.
    size_estimate: Mutex<Option<u64>>,
}

impl fmt::Debug for CompileCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CompileCache({}, at most {} bytes)",
            self.0.dir.display(),
            self.max_bytes()
        )
    }
}

/// Two handles are equal when they name the same folder.
impl PartialEq for CompileCache {
    fn eq(&self, other: &CompileCache) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.dir == other.0.dir
    }
}
impl Eq for CompileCache {}

/// One entry of a cache folder, as [`CompileCache::entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntryInfo {
    /// The entry's file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written or loaded (its modification time, which a hit renews).
    pub last_used: SystemTime,
}

/// Which cache a compile uses: the field `compile_cache` of
/// [`CompileOptions`](crate::CompileOptions). Not part of the options the plugin sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CompileCacheSetting {
    /// The default cache ([`CompileCache::default_cache`]: `$PJRT_COMPILE_CACHE`, else the
    /// per-user folder), or none when the environment switches it off.
    #[default]
    Default,
    /// No cache: always compile, never store.
    Off,
    /// This cache.
    Use(CompileCache),
}

impl CompileCacheSetting {
    /// The cache this setting names, if any.
    pub fn resolve(&self) -> Option<CompileCache> {
        match self {
            CompileCacheSetting::Default => CompileCache::default_cache(),
            CompileCacheSetting::Off => None,
            CompileCacheSetting::Use(c) => Some(c.clone()),
        }
    }
}

/// Where the default cache lives according to the environment: `None` when switched off.
pub fn default_compile_cache_dir() -> Option<PathBuf> {
    match std::env::var_os(COMPILE_CACHE_VAR) {
        None => pjrt_sys::cache_dir().map(|d| d.join("compile")),
        Some(v) => {
            let s = v.to_string_lossy();
            let off = ["", "0", "off", "false", "no", "none"];
            if off.contains(&s.trim().to_ascii_lowercase().as_str()) {
                return None;
            }
            let p = PathBuf::from(&v);
            if p.is_absolute() {
                Some(p)
            } else {
                std::env::current_dir().ok().map(|d| d.join(p))
            }
        }
    }
}

/// Parses a size: digits with an optional `K`/`M`/`G`/`T` suffix (powers of 1024, an
/// optional trailing `B` or `iB`).
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_uppercase();
    let s = s
        .strip_suffix("IB")
        .or_else(|| s.strip_suffix('B'))
        .unwrap_or(&s);
    let (digits, shift) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 10),
        'M' => (&s[..s.len() - 1], 20),
        'G' => (&s[..s.len() - 1], 30),
        'T' => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(1u64 << shift)
}

/// Writes `bytes` to `path` in `dir` (created if missing) atomically: into a temporary file
/// in `dir`, flushed to disk, then renamed over `path` (readers see the old file or the new
/// one, never a part).
pub(crate) fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(io_err("create compile cache folder", dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempfile_in(dir)
        .map_err(io_err("create temporary file in", dir))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io_err("write compile cache file", tmp.path()))?;
    tmp.persist(path)
        .map_err(|e| io_err("rename compile cache file to", path)(e.error))?;
    Ok(())
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl CompileCache {
    /// A cache in `dir` (created if missing), bounded by [`COMPILE_CACHE_DEFAULT_MAX_BYTES`].
    pub fn new(dir: impl Into<PathBuf>) -> Result<CompileCache> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io_err("create compile cache folder", &dir))?;
        Ok(CompileCache(Arc::new(Inner {
            dir,
            max_bytes: AtomicU64::new(COMPILE_CACHE_DEFAULT_MAX_BYTES),
            counters: Counters::new(),
            size_estimate: Mutex::new(None),
        })))
    }

    /// Sets the size bound: after each write, the least recently used entries are removed
    /// until the folder's entries take at most `bytes`.
    pub fn with_max_bytes(self, bytes: u64) -> CompileCache {
        self.0.max_bytes.store(bytes, Ordering::Relaxed);
        self
    }

    /// The process's default cache: in `$PJRT_COMPILE_CACHE` if set (none if it says `off`),
    /// else in `${XDG_CACHE_HOME:-~/.cache}/pjrt-runtime/compile`, bounded by
    /// `$PJRT_COMPILE_CACHE_MAX_BYTES` (default 1 GiB). The environment is read once, on first
    /// use. `None` also when the folder cannot be created (a `warn` event says why).
    pub fn default_cache() -> Option<CompileCache> {
        static DEFAULT: OnceLock<Option<CompileCache>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                let dir = default_compile_cache_dir()?;
                let max = match std::env::var(COMPILE_CACHE_MAX_BYTES_VAR) {
                    Err(_) => COMPILE_CACHE_DEFAULT_MAX_BYTES,
                    Ok(v) => parse_size(&v).unwrap_or_else(|| {
                        tracing::warn!(
                            target: "pjrt::compile_cache",
                            value = %v,
                            "{COMPILE_CACHE_MAX_BYTES_VAR} is not a size; using {COMPILE_CACHE_DEFAULT_MAX_BYTES} bytes"
                        );
                        COMPILE_CACHE_DEFAULT_MAX_BYTES
                    }),
                };
                match CompileCache::new(&dir) {
                    Ok(c) => {
                        tracing::debug!(target: "pjrt::compile_cache", dir = %dir.display(), max_bytes = max, "default compile cache");
                        Some(c.with_max_bytes(max))
                    }
                    Err(e) => {
                        tracing::warn!(target: "pjrt::compile_cache", error = %e, "compile cache off");
                        None
                    }
                }
            })
            .clone()
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.0.dir
    }

    /// The size bound in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.0.max_bytes.load(Ordering::Relaxed)
    }

    /// What this cache did in this process (all handles of it together).
    pub fn stats(&self) -> CompileCacheStats {
        self.0.counters.snapshot()
    }

    /// The entries in the folder, least recently used first.
    pub fn entries(&self) -> Result<Vec<CacheEntryInfo>> {
        let rd =
            std::fs::read_dir(&self.0.dir).map_err(io_err("list compile cache", &self.0.dir))?;
        let mut out = Vec::new();
        for e in rd.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != ENTRY_EXT) {
                continue;
            }
            // An entry removed by another process between listing and reading is skipped.
            let Ok(m) = e.metadata() else { continue };
            if !m.is_file() {
                continue;
            }
            out.push(CacheEntryInfo {
                path,
                size: m.len(),
                last_used: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        out.sort_by(|a, b| a.last_used.cmp(&b.last_used).then(a.path.cmp(&b.path)));
        Ok(out)
    }

    /// The bytes the entries take.
    pub fn size_bytes(&self) -> Result<u64> {
        Ok(self.entries()?.iter().map(|e| e.size).sum())
    }

    /// Removes every entry; returns how many were removed.
    pub fn clear(&self) -> Result<usize> {
        let mut n = 0;
        for e in self.entries()? {
            match std::fs::remove_file(&e.path) {
                Ok(()) => n += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Io {
                        op: "remove compile cache entry",
                        path: e.path,
                        source,
                    })
                }
            }
        }
        *self.estimate() = None;
        self.clear_choices();
        Ok(n)
    }

    fn estimate(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.0
            .size_estimate
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn count(&self, c: Count) {
        for k in [&self.0.counters, &TOTALS] {
            let add = |a: &AtomicU64, n: u64| {
                a.fetch_add(n, Ordering::Relaxed);
            };
            let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            match c {
                Count::Hit { load, saved } => {
                    add(&k.hits, 1);
                    add(&k.load_ns, ns(load));
                    add(&k.saved_ns, ns(saved));
                }
                Count::Miss { compile } => {
                    add(&k.misses, 1);
                    add(&k.compile_ns, ns(compile));
                }
                Count::Stored => add(&k.stored, 1),
                Count::Rejected => add(&k.rejected, 1),
                Count::Bypassed => add(&k.bypassed, 1),
                Count::Evicted => add(&k.evicted, 1),
                Count::Error => add(&k.errors, 1),
            }
        }
    }

    /// The file of the entry with this key.
    pub fn entry_path(&self, key: &[u8; 32]) -> PathBuf {
        self.0.dir.join(format!("{}.{ENTRY_EXT}", hex(key)))
    }

    /// Reads and checks the entry with this key.
    pub(crate) fn read(&self, key: &[u8; 32]) -> Lookup {
        let path = self.entry_path(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
            Err(e) => return Lookup::Invalid(format!("cannot read it: {e}")),
        };
        match Entry::from_bytes(&bytes) {
            Ok(entry) if &entry.key == key => Lookup::Found(entry),
            Ok(entry) => Lookup::Invalid(format!(
                "it holds the entry of key {}, not of its file name",
                &hex(&entry.key)[..16]
            )),
            Err(why) => Lookup::Invalid(why),
        }
    }

    /// Marks an entry as used now (its modification time is the least-recently-used
    /// order). Failures (a read-only folder) are ignored: the order is a hint.
    pub(crate) fn touch(&self, key: &[u8; 32]) {
        let path = self.entry_path(key);
        let r = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()));
        if let Err(e) = r {
            tracing::debug!(target: "pjrt::compile_cache", path = %path.display(), error = %e, "cannot mark entry as used");
        }
    }

    /// Removes an entry (one that was refused); a missing file is fine.
    pub(crate) fn remove(&self, key: &[u8; 32]) {
        let path = self.entry_path(key);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::debug!(target: "pjrt::compile_cache", path = %path.display(), error = %e, "cannot remove entry");
            }
        }
    }

    /// Writes an entry atomically: into a temporary file in the folder, flushed to disk, then
    /// renamed over the entry's name (readers see the old file or the new one, never a
    /// part). Then keeps the folder under its size bound. Returns the entry's size.
    pub(crate) fn write(&self, entry: &Entry) -> Result<u64> {
        let bytes = entry.to_bytes();
        write_atomically(&self.0.dir, &self.entry_path(&entry.key), &bytes)?;
        let size = bytes.len() as u64;
        self.keep_under_bound(size);
        Ok(size)
    }

    /// After writing `added` bytes: when the folder may be over its bound, scans it and
    /// removes the least recently used entries until it is not (and partial files left by
    /// writers that died). Other processes may remove the same files; that is fine.
    fn keep_under_bound(&self, added: u64) {
        let max = self.max_bytes();
        let mut est = self.estimate();
        if let Some(total) = *est {
            let total = total.saturating_add(added);
            if total <= max {
                *est = Some(total);
                return;
            }
        }
        self.remove_stale_partials();
        let entries = match self.entries() {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(target: "pjrt::compile_cache", error = %e, "cannot scan the cache folder");
                *est = None;
                return;
            }
        };
        let mut total: u64 = entries.iter().map(|e| e.size).sum();
        for e in entries {
            if total <= max {
                break;
            }
            match std::fs::remove_file(&e.path) {
                Ok(()) => {
                    self.count(Count::Evicted);
                    tracing::debug!(target: "pjrt::compile_cache", path = %e.path.display(), size = e.size, "evicted least recently used entry");
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::debug!(target: "pjrt::compile_cache", path = %e.path.display(), error = %err, "cannot evict entry");
                    continue;
                }
            }
            total = total.saturating_sub(e.size);
        }
        *est = Some(total);
    }

    fn remove_stale_partials(&self) {
        let Ok(rd) = std::fs::read_dir(&self.0.dir) else {
            return;
        };
        let now = SystemTime::now();
        for e in rd.flatten() {
            let stale = e.file_name().to_string_lossy().starts_with(PARTIAL_PREFIX)
                && e.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE_PARTIAL));
            if stale {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// What looking up a key found.
pub(crate) enum Lookup {
    /// No entry.
    Missing,
    /// A whole, checksummed entry of this key.
    Found(Entry),
    /// A file that is not a usable entry (why).
    Invalid(String),
}

/// An element type and dims.
pub(crate) type Shape = (ElementType, Vec<i64>);

/// A cache entry: what a compile made, and what it should load as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: [u8; 32],
    /// How long the compile took.
    pub(crate) compile_time: Duration,
    /// The executable's parameters, if the plugin said.
    pub(crate) params: Option<Vec<Shape>>,
    /// Its outputs, if the plugin said.
    pub(crate) outputs: Option<Vec<Shape>>,
    /// The serialized executable (the envelope that names its plugin).
    pub(crate) executable: Vec<u8>,
}

impl Entry {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.executable.len() + 256);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&ENTRY_VERSION.to_le_bytes());
        out.extend_from_slice(&self.key);
        let ns = u64::try_from(self.compile_time.as_nanos()).unwrap_or(u64::MAX);
        out.extend_from_slice(&ns.to_le_bytes());
        for shapes in [&self.params, &self.outputs] {
            match shapes {
                None => out.push(0),
                Some(list) => {
                    out.push(1);
                    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
                    for (ty, dims) in list {
                        out.extend_from_slice(&ty.to_raw().to_le_bytes());
                        out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
                        for d in dims {
                            out.extend_from_slice(&d.to_le_bytes());
                        }
                    }
                }
            }
        }
        out.extend_from_slice(&(self.executable.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.executable);
        let sum: [u8; 32] = Sha256::digest(&out).into();
        out.extend_from_slice(&sum);
        out
    }

    /// Parses an entry; every length is checked against the bytes that are there, and the
    /// checksum before anything else.
    pub(crate) fn from_bytes(bytes: &[u8]) -> std::result::Result<Entry, String> {
        if bytes.len() < MAGIC.len() + 32 {
            return Err(format!("truncated ({} bytes)", bytes.len()));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        let want: [u8; 32] = Sha256::digest(body).into();
        if want.as_slice() != sum {
            return Err(if bytes.starts_with(MAGIC) {
                "checksum mismatch (corrupt or truncated)".to_string()
            } else {
                "not a compile cache entry (bad magic)".to_string()
            });
        }
        let mut r = Reader { rest: body };
        if r.take(8, "magic")? != MAGIC {
            return Err("not a compile cache entry (bad magic)".into());
        }
        let version = r.u32("version")?;
        if version != ENTRY_VERSION {
            return Err(format!(
                "entry format {version}, this library reads {ENTRY_VERSION}"
            ));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(r.take(32, "key")?);
        let compile_time = Duration::from_nanos(r.u64("compile time")?);
        let params = r.shapes("parameters")?;
        let outputs = r.shapes("outputs")?;
        let n = usize::try_from(r.u64("executable length")?)
            .map_err(|_| "executable length too large".to_string())?;
        let executable = r.take(n, "executable")?.to_vec();
        if !r.rest.is_empty() {
            return Err(format!("{} bytes after the executable", r.rest.len()));
        }
        Ok(Entry {
            key,
            compile_time,
            params,
            outputs,
            executable,
        })
    }
}

/// Checked reads from a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> std::result::Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("truncated in {what}"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> std::result::Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> std::result::Result<u64, String> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn shapes(&mut self, what: &str) -> std::result::Result<Option<Vec<Shape>>, String> {
        match self.take(1, what)?[0] {
            0 => return Ok(None),
            1 => {}
            t => return Err(format!("{what}: bad tag {t}")),
        }
        let n = self.u32(what)? as usize;
        // Each shape takes at least 8 bytes: a count beyond that is corrupt.
        if n > self.rest.len() / 8 {
            return Err(format!("{what}: {n} shapes cannot fit"));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let raw = i32::from_le_bytes(self.array(what)?);
            let ty = ElementType::from_raw(raw)
                .ok_or_else(|| format!("{what}: unknown element type {raw}"))?;
            let rank = self.u32(what)? as usize;
            if rank > self.rest.len() / 8 {
                return Err(format!("{what}: rank {rank} cannot fit"));
            }
            let mut dims = Vec::with_capacity(rank);
            for _ in 0..rank {
                dims.push(i64::from_le_bytes(self.array(what)?));
            }
            out.push((ty, dims));
        }
        Ok(Some(out))
    }
}

// Test code: `unwrap` and `panic!` here are the assertions.
#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry {
            key: [3; 32],
            compile_time: Duration::from_millis(250),
            params: Some(vec![
                (ElementType::F32, vec![64, 128]),
                (ElementType::S32, vec![]),
            ]),
            outputs: None,
            executable: b"some executable bytes".to_vec(),
        }
    }

    #[test]
    fn entry_round_trip() {
        let e = sample();
        assert_eq!(Entry::from_bytes(&e.to_bytes()).unwrap(), e);
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let bytes = sample().to_bytes();
        for n in 0..bytes.len() {
            assert!(Entry::from_bytes(&bytes[..n]).is_err(), "truncated at {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x20;
            let e = Entry::from_bytes(&b).unwrap_err();
            assert!(
                e.contains("checksum") || e.contains("magic"),
                "byte {i}: {e}"
            );
        }
    }

    #[test]
    fn corrupt_lengths_with_a_valid_checksum_do_not_panic() {
        // Forge bodies whose checksum is right but whose counts are absurd.
        let mut body = Vec::new();
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&ENTRY_VERSION.to_le_bytes());
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&0u64.to_le_bytes());
        body.push(1);
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        let sum: [u8; 32] = Sha256::digest(&body).into();
        body.extend_from_slice(&sum);
        let e = Entry::from_bytes(&body).unwrap_err();
        assert!(e.contains("cannot fit"), "{e}");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("3k"), Some(3 << 10));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }
}
