//! `pjrt-plugins`: find, install and verify PJRT plugins.
//!
//! ```text
//! pjrt-plugins list              every plugin found, in the order discovery considers them
//! pjrt-plugins which             the plugin Client::default_cpu() would load
//! pjrt-plugins install NAME...   install known CPU plugins (cpu-0.115, cpu-0.106, cpu-0.81, all)
//! pjrt-plugins verify [NAME...]  hash installed files again and compare with their pins
//! pjrt-plugins path NAME         print where NAME is installed (fails if it is not)
//! pjrt-plugins dir               print the per-user plugin folder
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use pjrt::discovery::{self, Origin, Search, CPU_PLUGINS};
use pjrt::install::{self, FileState, Installed};
use pjrt::{Client, ClientOptions, Plugin};

const USAGE: &str =
    "usage: pjrt-plugins list | which | install NAME... | verify [NAME...] | path NAME | dir
  NAME: cpu-0.115, cpu-0.106, cpu-0.81 or all";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("list") => list(),
        Some("which") => which(),
        Some("install") if args.len() > 1 => install_cmd(&args[1..]),
        Some("verify") => verify_cmd(&args[1..]),
        Some("path") if args.len() == 2 => path_cmd(&args[1]),
        Some("dir") => plugins_dir().map(|d| println!("{}", d.display())),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pjrt-plugins: {e}");
            ExitCode::FAILURE
        }
    }
}

fn plugins_dir() -> Result<PathBuf, String> {
    discovery::plugins_dir().ok_or_else(|| install::InstallError::NoPluginsDir.to_string())
}

/// API version and platform of a plugin file, or why it could not be read.
fn describe(path: &std::path::Path) -> String {
    let plugin = match Plugin::load(path) {
        Ok(p) => p,
        Err(e) => return format!("not loadable: {e}"),
    };
    let platform = match Client::new(&plugin, &ClientOptions::new()) {
        Ok(c) => format!("{} (version {:?})", c.platform_name(), c.platform_version()),
        Err(e) => format!("(no client: {e})"),
    };
    format!("API {}  platform {platform}", plugin.api_version())
}

fn list() -> Result<(), String> {
    let found = Search::from_env().all();
    if found.is_empty() {
        // The same message as the library's error, which lists every place searched.
        return Err(discovery::find_default()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no plugin found".into()));
    }
    for f in found {
        let origin = match &f.origin {
            Origin::EnvVar => "PJRT_PLUGIN".to_string(),
            Origin::Installed => "installed".to_string(),
            Origin::SitePackages(d) => format!("pip ({})", d.display()),
        };
        println!("{}\n    {origin}  {}", f.path.display(), describe(&f.path));
    }
    Ok(())
}

fn which() -> Result<(), String> {
    let path = discovery::find_default().map_err(|e| e.to_string())?;
    println!("{}\n    {}", path.display(), describe(&path));
    Ok(())
}

fn install_cmd(names: &[String]) -> Result<(), String> {
    let dir = plugins_dir()?;
    let wheels = dir.with_file_name("wheels");
    for name in names {
        for p in install::select(name).map_err(|e| e.to_string())? {
            if !install::is_installed(p, &dir) {
                eprintln!(
                    "pjrt-plugins: installing {} ({}) into {}",
                    p.name,
                    p.requirement(),
                    p.dir_in(&dir).display()
                );
            }
            match install::install(p, &dir, &wheels).map_err(|e| e.to_string())? {
                // Quiet when there is nothing to do (the set-up runs this every time).
                Installed::AlreadyThere(_) => {}
                Installed::Extracted(path) => {
                    eprintln!("pjrt-plugins: {} installed: {}", p.name, path.display())
                }
            }
        }
    }
    Ok(())
}

fn verify_cmd(names: &[String]) -> Result<(), String> {
    let dir = plugins_dir()?;
    let chosen: Vec<_> = if names.is_empty() {
        // Everything installed (or partly installed).
        CPU_PLUGINS
            .iter()
            .filter(|p| p.dir_in(&dir).is_dir())
            .collect()
    } else {
        let mut v = Vec::new();
        for n in names {
            v.extend(install::select(n).map_err(|e| e.to_string())?);
        }
        v
    };
    if chosen.is_empty() {
        return Err(format!("nothing installed in {}", dir.display()));
    }
    let mut bad = 0;
    for p in chosen {
        for (path, state) in install::verify(p, &dir).map_err(|e| e.to_string())? {
            match state {
                FileState::Ok => println!("ok        {}", path.display()),
                FileState::Missing => {
                    bad += 1;
                    println!("MISSING   {}", path.display())
                }
                FileState::Mismatch { found } => {
                    bad += 1;
                    println!("MISMATCH  {} (SHA-256 {found})", path.display())
                }
            }
        }
    }
    if bad > 0 {
        return Err(format!(
            "{bad} file(s) missing or changed; reinstall with `pjrt-plugins install NAME` after removing them"
        ));
    }
    Ok(())
}

fn path_cmd(name: &str) -> Result<(), String> {
    let p = install::select(name).map_err(|e| e.to_string())?;
    let [p] = p[..] else {
        return Err("path takes one plugin name".into());
    };
    let path = p.path_in(&plugins_dir()?);
    if !path.is_file() {
        return Err(format!(
            "{} is not installed ({} does not exist); run `pjrt-plugins install {}`",
            p.name,
            path.display(),
            p.name
        ));
    }
    println!("{}", path.display());
    Ok(())
}
