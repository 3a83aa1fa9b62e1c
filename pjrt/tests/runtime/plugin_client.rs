//! Plugin loading, attributes, extensions, client options, devices and memories.

use pjrt::{
    find_named, Client, ClientOptions, ElementType, Error, ErrorCode, ExtensionType, Plugin, Value,
};

use super::common::{client, minor};

#[test]
fn plugin_version_attributes_and_extensions() {
    let p = client().plugin();
    assert_eq!(p.api_version().major, 0);
    assert!(p.api_version().minor >= 81, "{}", p.api_version());
    // The table has 40 bytes of header, then 8 bytes per function.
    assert_eq!((p.api_struct_size() - 40) % 8, 0);
    let attrs = p.attributes().unwrap();
    let current = find_named(&attrs, "stablehlo_current_version")
        .expect("stablehlo_current_version attribute");
    match current {
        Value::Int64List(v) => assert_eq!(v.len(), 3, "{v:?}"),
        other => panic!("stablehlo_current_version is {other:?}"),
    }
    let kinds: Vec<ExtensionType> = p.extensions().iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&ExtensionType::Layouts), "{kinds:?}");
    assert!(kinds.contains(&ExtensionType::Ffi), "{kinds:?}");
    if minor() >= 106 {
        assert!(kinds.contains(&ExtensionType::Shardings), "{kinds:?}");
    }
}

#[test]
fn loading_the_same_file_twice_reuses_the_plugin() {
    let a = Plugin::load(client().plugin().path()).unwrap();
    let b = Plugin::load(client().plugin().path()).unwrap();
    assert_eq!(a.path(), b.path());
    assert_eq!(a.api_version(), b.api_version());
    assert!(a.has_function("PJRT_Client_Create"));
    assert!(!a.has_function("No_Such_Function"));
}

#[test]
fn missing_and_garbage_plugin_files_are_clear_errors() {
    let e = Plugin::load("/nonexistent/dir/plugin.so").unwrap_err();
    assert!(matches!(e, Error::PluginLoad { .. }), "{e}");
    assert!(e.to_string().contains("/nonexistent/dir/plugin.so"), "{e}");

    let dir = std::env::temp_dir().join(format!("pjrt-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = dir.join("x.so");
    std::fs::write(&x, "this is a text file, not a shared library\n").unwrap();
    let e = Plugin::load(&x).unwrap_err();
    assert!(matches!(e, Error::PluginLoad { .. }), "{e}");
    assert!(e.to_string().contains("x.so"), "{e}");

    // A real shared library without GetPjrtApi.
    let libc = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if let Some(libm) = libc {
        let e = Plugin::load(libm).unwrap_err();
        assert!(matches!(e, Error::PluginLoad { .. }), "{e}");
        assert!(e.to_string().contains("GetPjrtApi"), "{e}");
    }
}

#[test]
fn client_options_are_checked_before_the_plugin_sees_them() {
    let p = client().plugin();
    // A bool where an int64 is expected: plugins before 0.111 abort on this; we refuse it.
    let e = Client::new(p, &ClientOptions::new().set("cpu_device_count", true)).unwrap_err();
    match &e {
        Error::InvalidClientOption { name, reason } => {
            assert_eq!(name, "cpu_device_count");
            assert!(
                reason.contains("int64") && reason.contains("bool"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidClientOption, got {other}"),
    }
    let e = Client::new(p, &ClientOptions::new().set("no_such_option", 1i64)).unwrap_err();
    assert!(matches!(e, Error::InvalidClientOption { .. }), "{e}");
    let e = Client::new(p, &ClientOptions::new().cpu_device_count(0)).unwrap_err();
    assert!(matches!(e, Error::InvalidClientOption { .. }), "{e}");
    // `asynchronous` exists from 0.111.
    let r = Client::new(p, &ClientOptions::new().asynchronous(false));
    if minor() < 111 {
        let e = r.unwrap_err();
        assert!(e.to_string().contains("0.111"), "{e}");
    } else {
        r.unwrap();
    }
}

#[test]
fn default_cpu_client_has_one_device() {
    // The plugin's own default is 4 devices (and a thread pool at least that large);
    // `default_cpu` asks for one, as JAX does.
    let c = Client::default_cpu().unwrap();
    assert_eq!(c.plugin().path(), client().plugin().path());
    assert_eq!(c.platform_name(), "cpu");
    assert_eq!(c.addressable_devices().unwrap().len(), 1);
    assert_eq!(c.devices().unwrap().len(), 1);
    let x = c.buffer_from_host(&[1f32, 2.0, 3.0], &[3]).unwrap();
    assert_eq!(x.to_vec::<f32>().unwrap(), [1.0, 2.0, 3.0]);
}

#[test]
fn a_multi_process_cpu_client_is_refused_naming_it() {
    // 0.115 refuses the names itself; 0.81 and 0.106 would take and ignore them. Either way
    // the error says what was asked for.
    let opts = ClientOptions::new()
        .set("num_nodes", 2i64)
        .set("node_id", 0i64);
    let e = Client::new(client().plugin(), &opts).unwrap_err();
    match &e {
        Error::InvalidClientOption { name, reason } => {
            assert!(name.contains("num_nodes = 2"), "{name}");
            assert!(reason.contains("multi-process client"), "{reason}");
        }
        other => panic!("expected InvalidClientOption, got {other}"),
    }
}

#[test]
fn cpu_device_count_option() {
    let c = Client::new(client().plugin(), &ClientOptions::new().cpu_device_count(2)).unwrap();
    assert_eq!(c.addressable_devices().unwrap().len(), 2);
    assert_eq!(c.devices().unwrap().len(), 2);
}

#[test]
fn client_devices_and_memories() {
    let c = client();
    assert_eq!(c.platform_name(), "cpu");
    assert_eq!(c.process_index().unwrap(), 0);
    let devices = c.addressable_devices().unwrap();
    assert_eq!(devices.len(), 4, "the CPU plugins default to 4 devices");
    for (i, d) in devices.iter().enumerate() {
        let desc = d.description().unwrap();
        assert_eq!(desc.id().unwrap(), i as i32);
        assert_eq!(desc.process_index().unwrap(), 0);
        assert_eq!(desc.kind().unwrap(), "cpu");
        assert!(!desc.debug_string().unwrap().is_empty());
        assert!(!desc.to_string_repr().unwrap().is_empty());
        desc.attributes().unwrap();
        assert!(d.is_addressable().unwrap());
        assert_eq!(d.local_hardware_id().unwrap(), i as i32);
        assert_eq!(&c.lookup_device(i as i32).unwrap(), d);
        assert_eq!(&c.lookup_addressable_device(i as i32).unwrap(), d);
        let mem = d.default_memory().unwrap();
        assert!(d.addressable_memories().unwrap().contains(&mem));
        assert!(mem.addressable_by_devices().unwrap().contains(d));
        assert!(!mem.kind().unwrap().is_empty());
        mem.kind_id().unwrap();
        mem.id().unwrap();
        assert!(!mem.debug_string().unwrap().is_empty());
        assert!(!mem.to_string_repr().unwrap().is_empty());
        // The CPU plugins do not keep memory statistics.
        match d.memory_stats() {
            Ok(s) => assert!(s.bytes_in_use >= 0),
            Err(e) => assert!(e.is_unimplemented(), "{e}"),
        }
    }
    let e = c.lookup_device(999).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Pjrt {
                function: "PJRT_Client_LookupDevice",
                ..
            }
        ),
        "{e}"
    );
    assert!(c.addressable_memories().unwrap().len() >= 4);
    let a = c.default_device_assignment(2, 1).unwrap();
    assert_eq!((a.replica_count, a.computation_count), (2, 1));
    assert_ne!(a.device(0, 0), a.device(1, 0));
}

#[test]
fn error_buffer_is_unimplemented_on_old_plugins() {
    let c = client();
    let r = c.create_error_buffer(
        ErrorCode::Internal,
        "poisoned",
        ElementType::F32,
        &[2],
        None,
    );
    // PJRT_Client_CreateErrorBuffer is slot 118: past the end of the 0.81 table.
    if c.plugin().api_struct_size() <= 40 + 8 * 118 {
        let e = r.unwrap_err();
        match e {
            Error::Unimplemented {
                function,
                plugin_version,
            } => {
                assert_eq!(function, "PJRT_Client_CreateErrorBuffer");
                assert_eq!(plugin_version, c.plugin().api_version());
            }
            other => panic!("expected Unimplemented, got {other}"),
        }
    } else {
        let b = r.unwrap();
        let e = b.to_vec::<f32>().unwrap_err();
        assert!(e.to_string().contains("poisoned"), "{e}");
    }
}

#[test]
fn unchecked_options_of_known_names_are_still_type_checked() {
    // A wrongly typed known option aborts plugins before 0.111 (0.115 refuses it itself):
    // even through the unsafe `set_unchecked`, a known name's type is checked first, on
    // every plugin.
    // SAFETY: the value's type is wrong on purpose; the check refuses it before the plugin.
    let opts = unsafe { ClientOptions::new().set_unchecked("cpu_device_count", true) };
    let e = Client::new(client().plugin(), &opts).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidClientOption { name, .. } if name == "cpu_device_count"),
        "{e}"
    );
    // An unknown name goes through: 0.115 refuses it, older plugins ignore it.
    // SAFETY: an int64 option the plugins either ignore or refuse with an error.
    let opts = unsafe { ClientOptions::new().set_unchecked("no_such_option", 1i64) };
    match Client::new(client().plugin(), &opts) {
        Ok(_) => assert!(minor() < 115, "0.115 refuses unknown option names"),
        Err(e) => assert!(
            matches!(
                e,
                Error::Pjrt {
                    function: "PJRT_Client_Create",
                    code: ErrorCode::InvalidArgument,
                    ..
                }
            ),
            "{e}"
        ),
    }
}

#[test]
fn runtime_handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<pjrt::Plugin>();
    check::<pjrt::Client>();
    check::<pjrt::Device>();
    check::<pjrt::DeviceDescription>();
    check::<pjrt::Memory>();
    check::<pjrt::Buffer>();
    check::<pjrt::Event>();
    check::<pjrt::Executable>();
    check::<pjrt::LoadedExecutable>();
    // A buffer keeps its client alive: drop every other handle and still read it back.
    let c = Client::new(client().plugin(), &ClientOptions::new()).unwrap();
    let b = c.buffer_from_host(&[1u8, 2, 3], &[3]).unwrap();
    drop(c);
    assert_eq!(b.to_vec::<u8>().unwrap(), vec![1, 2, 3]);
}

/// Runs in a child process (see `pjrt_plugin_variable_is_honoured`): checks the error that
/// `Client::default_cpu` gives for the `PJRT_PLUGIN` it was started with.
#[test]
#[ignore = "run as a child process by pjrt_plugin_variable_is_honoured"]
fn child_default_plugin_error() {
    let expect = std::env::var("PJRT_TEST_EXPECT").expect("PJRT_TEST_EXPECT");
    let named = std::env::var("PJRT_PLUGIN").unwrap();
    let e = Client::default_cpu().unwrap_err();
    assert!(e.to_string().contains(&named), "{e}");
    match expect.as_str() {
        "not-found" => assert!(matches!(e, Error::PluginNotFound(_)), "{e}"),
        "load" => assert!(matches!(e, Error::PluginLoad { .. }), "{e}"),
        other => panic!("unknown expectation {other}"),
    }
}

#[test]
fn pjrt_plugin_variable_is_honoured() {
    let dir = std::env::temp_dir().join(format!("pjrt-env-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("not-a-plugin.so");
    std::fs::write(&text, "plain text\n").unwrap();
    let missing = dir.join("missing.so");
    for (plugin, expect) in [(&missing, "not-found"), (&text, "load")] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "runtime::plugin_client::child_default_plugin_error",
                "--ignored",
                "--nocapture",
            ])
            .env("PJRT_PLUGIN", plugin)
            .env("PJRT_TEST_EXPECT", expect)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{expect}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
