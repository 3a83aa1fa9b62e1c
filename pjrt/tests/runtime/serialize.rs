//! Serialized executables: round trip, garbage, damage at every offset, signatures, and
//! executables of other plugins.

use pjrt::{Error, Literal, SerializedExecutable, SigningKey};

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

/// An executable loaded from a file saves back to a file that loads and computes the same
/// (what a deployment that re-ships executables does): nothing of the loaded one is lost.
#[test]
fn a_loaded_executable_saves_back_whole() {
    let exe = compile(PROGRAM);
    let dir = std::env::temp_dir();
    let first = dir.join(format!("pjrt-test-{}-resave-1.pjrt", std::process::id()));
    let second = dir.join(format!("pjrt-test-{}-resave-2.pjrt", std::process::id()));
    exe.save(&first).unwrap();
    let loaded = client().load_executable(&first).unwrap();
    loaded.save(&second).unwrap();
    let again = client().load_executable(&second).unwrap();
    let x = Literal::vector(&[1.0f32, -2.0, 3.0]);
    assert_eq!(
        again.run(&[&x]).unwrap()[0].to_vec::<f32>().unwrap(),
        vec![1.0, 4.0, 9.0]
    );
    std::fs::remove_file(&first).unwrap();
    std::fs::remove_file(&second).unwrap();
}

#[test]
fn garbage_is_refused() {
    let e = client()
        .deserialize_executable(b"definitely not an executable")
        .unwrap_err();
    assert!(matches!(e, Error::InvalidSerializedExecutable(_)), "{e}");
    // A valid envelope from this plugin around garbage bytes: the plugin itself refuses it.
    let env = SerializedExecutable::new(client().identity().unwrap(), b"garbage".to_vec());
    let e = client()
        .deserialize_executable(&env.to_bytes().unwrap())
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
    let e = client()
        .deserialize_executable(&s.to_bytes().unwrap())
        .unwrap_err();
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
fn a_damaged_file_is_refused_before_the_plugin_at_every_offset() {
    // The plugins load flipped bytes of their own blobs and run them (wrong numbers, or
    // SIGILL/SIGSEGV in the code section): every single damaged byte of a saved file, in the
    // header, the blob or the digest, must be refused by the envelope's digest instead.
    let exe = compile(PROGRAM);
    let bytes = exe.serialize().unwrap();
    let mut refused = 0;
    for at in 0..bytes.len() {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        match client().deserialize_executable(&b) {
            Err(Error::InvalidSerializedExecutable(_)) => refused += 1,
            Err(other) => panic!("flip at {at}: refused by something else: {other}"),
            Ok(_) => panic!("flip at {at} of {} was loaded", bytes.len()),
        }
    }
    assert_eq!(refused, bytes.len());
    assert!(
        bytes.len() > 1000,
        "a real executable ({} bytes)",
        bytes.len()
    );
    // And the file errors name the file.
    let path = std::env::temp_dir().join(format!("pjrt-test-{}-damaged.pjrt", std::process::id()));
    let mut b = bytes.clone();
    let mid = b.len() / 2;
    b[mid] ^= 1;
    std::fs::write(&path, &b).unwrap();
    let e = client().load_executable(&path).unwrap_err();
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(e.to_string().contains("damaged"), "{e}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_signed_deployment_refuses_unsigned_and_resigned_files() {
    let ours = SigningKey::generate().unwrap();
    let theirs = SigningKey::generate().unwrap();
    let trusted = ours.verifying_key();
    let exe = compile(PROGRAM);
    let x = Literal::vector(&[2.0f32, 3.0, -1.0]);

    // Signed by our key: loads and runs.
    let signed = exe.serialize_signed(&ours).unwrap();
    let loaded = client()
        .deserialize_executable_verified(&signed, &trusted)
        .unwrap();
    assert_eq!(
        loaded.run(&[&x]).unwrap()[0].to_vec::<f32>().unwrap(),
        vec![4.0, 9.0, 1.0]
    );
    // A signed file still loads where no signature is required.
    client().deserialize_executable(&signed).unwrap();

    // Unsigned: refused.
    let e = client()
        .deserialize_executable_verified(&exe.serialize().unwrap(), &trusted)
        .unwrap_err();
    assert!(matches!(e, Error::UntrustedExecutable(_)), "{e}");
    assert!(e.to_string().contains("not signed"), "{e}");

    // Re-signed by another key (e.g. after swapping in another program): refused.
    let other = compile(
        r#"func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
             %0 = stablehlo.add %x, %x : tensor<3xf32>
             return %0 : tensor<3xf32>
           }"#,
    );
    let mut s = SerializedExecutable::from_bytes(&signed).unwrap();
    s.blob = other.serialize_raw().unwrap();
    s.sign(&theirs).unwrap();
    let e = client()
        .deserialize_executable_verified(&s.to_bytes().unwrap(), &trusted)
        .unwrap_err();
    assert!(matches!(e, Error::UntrustedExecutable(_)), "{e}");
    assert!(e.to_string().contains("not by the trusted key"), "{e}");

    // The other blob under our signature (digest recomputed, signature kept): refused.
    let mut s = SerializedExecutable::from_bytes(&signed).unwrap();
    s.blob = other.serialize_raw().unwrap();
    let e = client()
        .deserialize_executable_verified(&s.to_bytes().unwrap(), &trusted)
        .unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");

    // Files: save_signed / load_executable_verified.
    let path = std::env::temp_dir().join(format!("pjrt-test-{}-signed.pjrt", std::process::id()));
    exe.save_signed(&path, &ours).unwrap();
    client().load_executable_verified(&path, &trusted).unwrap();
    let e = client()
        .load_executable_verified(&path, &theirs.verifying_key())
        .unwrap_err();
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
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
