//! Serialized executables: round trip, garbage, and executables of other plugins.

use pjrt::{Error, Literal, SerializedExecutable};

use super::common::{client, compile};

const PROGRAM: &str = r#"
func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = stablehlo.multiply %x, %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}"#;

#[test]
fn serialize_and_load_round_trip() {
    let exe = compile(PROGRAM);
    let bytes = exe.serialize().unwrap();
    let parsed = SerializedExecutable::from_bytes(&bytes).unwrap();
    assert_eq!(parsed.identity, client().identity().unwrap());
    let again = client().deserialize_executable(&bytes).unwrap();
    let x = Literal::vector(&[1.0f32, -2.0, 3.0]);
    assert_eq!(
        again.run(&[&x]).unwrap()[0].to_vec::<f32>().unwrap(),
        vec![1.0, 4.0, 9.0]
    );

    let path = std::env::temp_dir().join(format!("pjrt-test-{}-square.pjrt", std::process::id()));
    exe.save(&path).unwrap();
    let loaded = client().load_executable(&path).unwrap();
    assert_eq!(
        loaded.run(&[&x]).unwrap()[0].to_vec::<f32>().unwrap(),
        vec![1.0, 4.0, 9.0]
    );
    std::fs::remove_file(&path).unwrap();
    let e = client().load_executable(&path).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
}

#[test]
fn garbage_is_refused() {
    let e = client()
        .deserialize_executable(b"definitely not an executable")
        .unwrap_err();
    assert!(matches!(e, Error::InvalidSerializedExecutable(_)), "{e}");
    // A valid envelope from this plugin around garbage bytes: the plugin itself refuses it.
    let env = SerializedExecutable {
        identity: client().identity().unwrap(),
        blob: b"garbage".to_vec(),
    };
    let e = client()
        .deserialize_executable(&env.to_bytes())
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Pjrt {
                function: "PJRT_Executable_DeserializeAndLoad",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn executables_of_other_plugins_are_refused() {
    let exe = compile(PROGRAM);
    let mut s = SerializedExecutable::from_bytes(&exe.serialize().unwrap()).unwrap();
    // Pretend another plugin build made it.
    s.identity.sha256[0] ^= 0xff;
    s.identity.api_version.minor += 1;
    let e = client().deserialize_executable(&s.to_bytes()).unwrap_err();
    match &e {
        Error::ForeignExecutable { expected, found } => {
            assert_ne!(expected, found);
            assert!(
                found.contains(&format!("0.{}", s.identity.api_version.minor)),
                "{found}"
            );
        }
        other => panic!("expected ForeignExecutable, got {other}"),
    }
}

/// Runs in a child process started by `another_plugin_refuses_our_file` with a different
/// `PJRT_PLUGIN`: loading the file must fail with `ForeignExecutable`.
#[test]
#[ignore = "run as a child process by another_plugin_refuses_our_file"]
fn child_load_foreign_file() {
    let path = std::env::var("PJRT_TEST_EXECUTABLE").expect("PJRT_TEST_EXECUTABLE");
    let e = client().load_executable(&path).unwrap_err();
    match &e {
        Error::ForeignExecutable { expected, found } => {
            let mine = format!("PJRT API {}", client().plugin().api_version());
            assert!(expected.contains(&mine), "{expected}");
            assert!(!found.contains(&mine), "{found}");
        }
        other => panic!("expected ForeignExecutable, got {other}"),
    }
}

#[test]
fn another_plugin_refuses_our_file() {
    let exe = compile(PROGRAM);
    let path = std::env::temp_dir().join(format!("pjrt-test-{}-foreign.pjrt", std::process::id()));
    exe.save(&path).unwrap();
    let root = pjrt::Plugin::setup_default_path()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let others: Vec<std::path::PathBuf> = [
        "cpu-0.81/xla_cpu_pjrt.so",
        "cpu-0.106/libpjrt_cpu.so",
        "cpu-0.115/pjrt_c_api_cpu_plugin.so",
    ]
    .iter()
    .map(|p| root.join(p))
    .filter(|p| {
        p.is_file() && std::fs::canonicalize(p).ok().as_deref() != Some(client().plugin().path())
    })
    .collect();
    assert!(
        !others.is_empty(),
        "no other plugin installed under {}",
        root.display()
    );
    for other in others {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "runtime::serialize::child_load_foreign_file",
                "--ignored",
                "--nocapture",
            ])
            .env("PJRT_PLUGIN", &other)
            .env("PJRT_TEST_EXECUTABLE", &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{}: {stdout}\n{}",
            other.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn plugin_identity_hash_matches_sha256sum() {
    // The identity a saved executable carries is the SHA-256 of the plugin file.
    let plugin = super::common::client().plugin();
    let ours: String = plugin
        .file_sha256()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = std::process::Command::new("sha256sum")
        .arg(plugin.path())
        .output()
        .unwrap();
    let theirs = String::from_utf8(out.stdout).unwrap();
    assert_eq!(theirs.split_whitespace().next(), Some(ours.as_str()));
}
