//! Using the crates from a project outside this workspace, as the README's "Use it in your own
//! project" says: a fresh crate in a temporary folder depends on `hlo-builder` and
//! `pjrt-runtime` by path, builds with none of the LLVM variables in its environment (only the
//! user's Cargo config that the set-up wrote), and runs a small model on the installed CPU
//! plugin with `PJRT_PLUGIN` unset; its stderr carries none of the plugin's log lines unless
//! asked for.
//!
//! Cost: the fresh crate builds melior and the workspace crates once into
//! `target/outside-crate/` (kept between runs, so later runs only check and relink what
//! changed). The workspace's Cargo.lock is copied in so the versions are the ones tested here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The variables the workspace's `.cargo/config.toml` sets (so cargo passes them to this
/// test) and the plugin override: the fresh crate must do without all of them.
const REMOVED: [&str; 4] = [
    "MLIR_SYS_220_PREFIX",
    "TABLEGEN_220_PREFIX",
    "LIBCLANG_PATH",
    "PJRT_PLUGIN",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

const MAIN_RS: &str = r#"use hlo_builder::{Builder, ElementType::F32};
use pjrt::Literal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = pjrt::Client::default_cpu()?;
    let mut b = Builder::new("affine_relu");
    let x = b.parameter("x", F32, [2, 3])?;
    let w = b.parameter("w", F32, [3, 2])?;
    let y = b.matmul(x, w)?;
    let y = b.relu(y)?;
    let exe = b.build(&[y])?.compile(&client)?;
    let x = Literal::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    let w = Literal::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 1.0, -1.0], &[3, 2])?;
    let out = exe.run(&[&x, &w])?;
    println!("plugin {}", client.plugin().path().display());
    println!("y {:?}", out[0].to_vec::<f32>()?);
    Ok(())
}
"#;

fn cargo_toml(ws: &Path) -> String {
    format!(
        r#"[package]
name = "outside-user"
version = "0.1.0"
edition = "2021"
publish = false

# Its own workspace, whatever folder it sits in.
[workspace]

[dependencies]
hlo-builder = {{ path = "{hlo}" }}
pjrt-runtime = {{ path = "{pjrt}" }}

[profile.dev]
debug = false
"#,
        hlo = ws.join("hlo-builder").display(),
        pjrt = ws.join("pjrt").display(),
    )
}

fn without_workspace_env(c: &mut Command) -> &mut Command {
    for v in REMOVED {
        c.env_remove(v);
    }
    c
}

fn show(o: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_fresh_crate_outside_the_workspace_builds_and_runs_a_model() {
    let ws = workspace();
    let dir = std::env::temp_dir().join(format!("pjrt-outside-crate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), cargo_toml(&ws)).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN_RS).unwrap();
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // Outside the workspace, so its .cargo/config.toml does not apply.
    assert!(
        !dir.starts_with(&ws),
        "{} is inside the workspace",
        dir.display()
    );

    let target = ws.join("target/outside-crate");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = std::time::Instant::now();
    let build = without_workspace_env(&mut Command::new(&cargo))
        .args(["build", "--offline", "--quiet", "--target-dir"])
        .arg(&target)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the fresh crate did not build (is the user's Cargo config missing the LLVM 22 \
         locations? `make setup` writes them):\n{}",
        show(&build)
    );
    eprintln!(
        "outside crate built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let bin = target.join("debug/outside-user");

    // Quiet by default: nothing from the plugin's logging on stderr.
    let run = without_workspace_env(&mut Command::new(&bin))
        .env_remove("TF_CPP_MIN_LOG_LEVEL")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", show(&run));
    let out = String::from_utf8_lossy(&run.stdout);
    let installed = pjrt::discovery::installed("cpu-0.115").expect("installed by the set-up");
    assert!(
        out.contains(&format!("plugin {}", installed.display())),
        "{}",
        show(&run)
    );
    assert!(out.contains("y [4.0, 0.0, 10.0, 0.0]"), "{}", show(&run));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.trim().is_empty(),
        "expected no plugin log lines on stderr:\n{err}"
    );

    // The documented switch: the plugin's own level variable, left as the user sets it.
    let loud = without_workspace_env(&mut Command::new(&bin))
        .env("TF_CPP_MIN_LOG_LEVEL", "0")
        .output()
        .unwrap();
    assert!(loud.status.success(), "{}", show(&loud));
    let err = String::from_utf8_lossy(&loud.stderr);
    assert!(
        err.contains("cpu_device_count set via create_options"),
        "with TF_CPP_MIN_LOG_LEVEL=0 the plugin's INFO line should show:\n{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The set-up's merge into the user's Cargo config, on a scratch CARGO_HOME.
#[test]
fn cargo_config_merge_adds_missing_keys_and_keeps_the_users() {
    let home = std::env::temp_dir().join(format!("pjrt-cargo-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let config = home.join("config.toml");
    let script = workspace().join("scripts/cargo_env.py");
    let merge = || {
        let o = Command::new("python3")
            .arg(&script)
            .env("CARGO_HOME", &home)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", show(&o));
        std::fs::read_to_string(&config).unwrap_or_default()
    };

    // No file: a new [env] table with all three.
    let first = merge();
    for k in &REMOVED[..3] {
        assert!(first.contains(k), "{first}");
    }
    assert!(first.contains(r#"LIBCLANG_PATH = "/usr/lib/llvm-22/lib""#));
    // Idempotent.
    assert_eq!(merge(), first);

    // An existing config: other tables and the user's own value survive untouched.
    let mine = "[build]\njobs = 2\n\n[env]\nLIBCLANG_PATH = \"/opt/clang/lib\" # mine\nFOO = \"bar\"\n\n[net]\noffline = false\n";
    std::fs::write(&config, mine).unwrap();
    let merged = merge();
    assert!(
        merged.starts_with("[build]\njobs = 2\n\n[env]\n"),
        "{merged}"
    );
    assert!(
        merged.contains("LIBCLANG_PATH = \"/opt/clang/lib\" # mine"),
        "{merged}"
    );
    assert!(!merged.contains("/usr/lib/llvm-22/lib"), "{merged}");
    assert!(merged.contains("MLIR_SYS_220_PREFIX = \"/usr/lib/llvm-22\""));
    assert!(merged.contains("FOO = \"bar\"") && merged.ends_with("[net]\noffline = false\n"));
    assert_eq!(merge(), merged);

    // An env table written inline is not edited (the lines to add are printed instead).
    std::fs::write(&config, "env = { FOO = \"x\" }\n").unwrap();
    assert_eq!(merge(), "env = { FOO = \"x\" }\n");
    std::fs::remove_dir_all(&home).unwrap();
}
