//! Plugins are found at run time: a built binary copied elsewhere finds the installed plugin
//! through the environment it runs in (no path compiled in), and with none anywhere the error
//! lists the places searched. Each test runs the `pjrt-plugins` binary, copied into a scratch
//! folder, with a controlled environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pjrt-discovery-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A copy of the built `pjrt-plugins` binary in `dir`.
fn copied_binary(dir: &Path) -> PathBuf {
    let to = dir.join("bin/pjrt-plugins");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_pjrt-plugins"), &to).unwrap();
    to
}

/// Runs `bin args` without any of the variables that point at plugins, plus `env`.
fn run(bin: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(bin);
    c.args(args)
        .current_dir(bin.parent().unwrap())
        .env_remove("PJRT_PLUGIN")
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX");
    for (k, v) in env {
        c.env(k, v);
    }
    // Executing a file just written races with forks in other test threads, which hold its
    // descriptor until they exec (Linux: "Text file busy"); try again briefly.
    for _ in 0..100 {
        match c.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            r => return r.unwrap(),
        }
    }
    c.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The installed plugin file called `name`; the test cannot run without the set-up.
fn installed(name: &str) -> PathBuf {
    pjrt::discovery::installed(name)
        .unwrap_or_else(|| panic!("{name} is not installed: run `make setup` (scripts/setup.sh)"))
}

#[test]
fn a_copied_binary_loads_the_installed_plugin() {
    let dir = scratch("copy");
    let bin = copied_binary(&dir);
    // The user's real plugin folder, found through $HOME / $XDG_CACHE_HOME at run time.
    let o = run(&bin, &["which"], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let first = out.lines().next().unwrap_or_default();
    assert_eq!(Path::new(first), installed("cpu-0.115"), "{out}");
    assert!(out.contains("API 0.115"), "{out}");

    // Another plugin folder given at run time: the binary looks there, not in a place fixed
    // when it was built.
    let xdg = dir.join("xdg");
    let mine = xdg.join("pjrt-runtime/plugins/cpu-0.106/libpjrt_cpu.so");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(installed("cpu-0.106"), &mine).unwrap();
    let o = run(&bin, &["which"], &[("XDG_CACHE_HOME", &xdg)]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(Path::new(out.lines().next().unwrap_or_default()), mine);
    assert!(out.contains("API 0.106"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_plugin_in_a_site_packages_jax_plugins_folder_is_found() {
    let dir = scratch("site");
    let bin = copied_binary(&dir);
    let venv = dir.join("venv");
    let site = venv.join("lib/python3.11/site-packages");
    // Where jax-cuda13-pjrt puts its plugin; here a real CPU plugin under that name.
    let so = site.join("jax_plugins/xla_cuda13/xla_cuda_plugin.so");
    std::fs::create_dir_all(so.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(installed("cpu-0.81"), &so).unwrap();
    let empty = dir.join("empty-cache");
    let o = run(
        &bin,
        &["which"],
        &[("XDG_CACHE_HOME", &empty), ("VIRTUAL_ENV", &venv)],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let found = Path::new(out.lines().next().unwrap_or_default());
    assert_eq!(
        std::fs::canonicalize(found).unwrap(),
        std::fs::canonicalize(&so).unwrap(),
        "{out}"
    );
    assert!(out.contains("API 0.81"), "{out}");
    let o = run(
        &bin,
        &["list"],
        &[("XDG_CACHE_HOME", &empty), ("VIRTUAL_ENV", &venv)],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("xla_cuda13/xla_cuda_plugin.so") && out.contains("pip ("),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn with_no_plugin_anywhere_the_error_lists_the_places_searched() {
    let dir = scratch("none");
    let bin = copied_binary(&dir);
    let empty = dir.join("empty-cache");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let o = run(
        &bin,
        &["which"],
        &[("XDG_CACHE_HOME", &empty), ("HOME", &home)],
    );
    let (out, err) = text(&o);
    assert!(
        !o.status.success(),
        "a plugin was found although none should be visible (one installed system-wide by \
         pip?): {out}"
    );
    for want in [
        "no PJRT plugin found".to_string(),
        "PJRT_PLUGIN is not set".to_string(),
        empty.join("pjrt-runtime/plugins").display().to_string(),
        "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so".to_string(),
        "jax_plugins/*/*.so".to_string(),
        "site-packages".to_string(),
    ] {
        assert!(err.contains(&want), "{want:?} missing from: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn installed_files_verify_against_their_pins() {
    let bin = env!("CARGO_BIN_EXE_pjrt-plugins");
    let o = Command::new(bin)
        .args(["verify", "cpu-0.115"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.starts_with("ok "), "{out}");
    // An unknown name is refused and the known ones are listed.
    let o = Command::new(bin)
        .args(["install", "cpu-9"])
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("unknown plugin `cpu-9`") && err.contains("cpu-0.81"),
        "{err}"
    );
}
