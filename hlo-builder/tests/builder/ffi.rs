//! `ffi_call`: a call to a Rust handler registered through the plugin's FFI extension, run on
//! every installed CPU plugin, kept through the export codec, and checked like custom calls.
use crate::common::*;
use std::sync::Arc;

use pjrt::ext::ffi::{CallFrame, Ffi};

const TARGET: &str = "hlo_builder_test_triple";

/// out = 3 * x (f32), registered once per plugin.
fn register(c: &pjrt::Client) {
    let ffi: Ffi = c.plugin().extension().expect("every CPU plugin has FFI");
    // Registering the same name twice is the plugin's business: ignore a refusal.
    let _ = ffi.register_handler(
        TARGET,
        c.platform_name(),
        Arc::new(|f: &CallFrame| {
            let (x, y) = (f.arg(0)?, f.ret(0)?);
            // SAFETY: CPU buffers are host memory, valid for the call.
            let (x, y) = unsafe { (x.as_slice::<f32>()?, y.as_mut_slice::<f32>()?) };
            for (o, v) in y.iter_mut().zip(x) {
                *o = 3.0 * v;
            }
            Ok(())
        }),
    );
}

fn triple_plus_one(b: &mut Builder, x: Value) -> Result<Value> {
    let t = b.ffi_call(TARGET, &[x], &[TensorType::new(F32, [4])], true)?[0];
    let one = b.scalar(F32, 1.0)?;
    b.add(t, one)
}

#[test]
fn ffi_calls_run_on_every_plugin() {
    let root = std::path::PathBuf::from(std::env::var("HOME").unwrap())
        .join(".cache/pjrt-runtime/plugins");
    let mut ran = 0;
    for rel in [
        "cpu-0.81/xla_cpu_pjrt.so",
        "cpu-0.106/libpjrt_cpu.so",
        "cpu-0.115/pjrt_c_api_cpu_plugin.so",
    ] {
        let path = root.join(rel);
        if !path.exists() {
            continue;
        }
        let c = pjrt::Client::from_path(&path).unwrap();
        register(&c);
        let mut b = Builder::new("ffi");
        let x = b.parameter("x", F32, [4]).unwrap();
        let y = triple_plus_one(&mut b, x).unwrap();
        let m = b.build(&[y]).unwrap();
        assert!(m.to_text().contains("api_version = 4"), "{}", m.to_text());
        let exe = m.compile(&c).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let out = exe.run(&[&lit(&[1f32, 2., 3., 4.], &[4])]).unwrap();
        assert_eq!(f32s(&out[0]), [4., 7., 10., 13.], "{rel}");
        ran += 1;
    }
    assert!(ran >= 1);
}

#[test]
fn ffi_calls_survive_the_export_codec_and_refuse_reserved_targets() {
    let e = Exported::record("ffi", 4, vec![], |b, n, _| {
        let x = b.parameter("x", F32, [n])?;
        let t = b.ffi_call(TARGET, &[x], &[TensorType::new(F32, [n])], true)?;
        Ok(t)
    })
    .unwrap();
    let loaded = Exported::from_bytes(&e.to_bytes()).unwrap();
    assert_eq!(loaded, e);
    assert!(loaded.specialize(4).unwrap().to_text().contains(TARGET));
    let mut b = Builder::new("reserved");
    let x = b.parameter("x", F32, [4]).unwrap();
    let err = b
        .ffi_call("TopK", &[x], &[TensorType::new(F32, [4])], true)
        .unwrap_err();
    assert!(err.to_string().contains("reserve"), "{err}");
}
