//! Which plugin file to use when none is named: `$PJRT_PLUGIN`, the set-up's default CPU
//! plugin, or a CPU plugin wheel pip installed.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plugin::Plugin;

/// The file names the known CPU plugin wheels install, relative to a site-packages folder.
const WHEEL_PLUGINS: [&str; 3] = [
    "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so",
    "fastatomstruct_xla_cpu/libpjrt_cpu.so",
    "xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so",
];

/// Python site-packages folders where pip may have put a plugin wheel.
fn site_packages_dirs() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        roots.push(PathBuf::from(venv).join("lib"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(home).join(".local/lib"));
    }
    roots.extend(["/usr/local/lib", "/usr/lib", "/opt/conda/lib"].map(PathBuf::from));
    let mut out = Vec::new();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("python3") {
                out.push(e.path().join("site-packages"));
                out.push(e.path().join("dist-packages"));
            }
        }
    }
    out.push(PathBuf::from("/usr/lib/python3/dist-packages"));
    out
}

impl Plugin {
    /// The path the set-up installs the default CPU plugin (PJRT API 0.115) at.
    pub fn setup_default_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../.plugins/cpu-0.115/pjrt_c_api_cpu_plugin.so")
    }

    /// Finds the plugin to use: `$PJRT_PLUGIN` if set, else the set-up's default CPU plugin,
    /// else a known CPU plugin wheel in a Python site-packages folder.
    pub fn find_default() -> Result<PathBuf> {
        if let Some(p) = std::env::var_os("PJRT_PLUGIN") {
            let p = PathBuf::from(p);
            if !p.is_file() {
                return Err(Error::PluginNotFound(format!(
                    "PJRT_PLUGIN names {}, which is not a file",
                    p.display()
                )));
            }
            return Ok(p);
        }
        let mut tried = Vec::new();
        let default = Self::setup_default_path();
        if default.is_file() {
            return Ok(default);
        }
        tried.push(default);
        for dir in site_packages_dirs() {
            for rel in WHEEL_PLUGINS {
                let p = dir.join(rel);
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
        tried.push(PathBuf::from(
            "<site-packages>/{lammps_jax_pjrt_cpu,fastatomstruct_xla_cpu,xla_plugins/xla_cpu_pjrt}",
        ));
        let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        Err(Error::PluginNotFound(format!(
            "PJRT_PLUGIN is not set and none of these exist: {} (run scripts/setup.sh)",
            tried.join(", ")
        )))
    }

    /// Loads the default plugin (see [`find_default`](Self::find_default)).
    pub fn load_default() -> Result<Plugin> {
        Plugin::load(Self::find_default()?)
    }
}
