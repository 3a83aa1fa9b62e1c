//! GPU-only extensions (Stream, GPU custom call, RawBuffer) on a CUDA plugin, when one is
//! installed: `$PJRT_CUDA_PLUGIN`, or `jax_plugins/xla_cuda13/xla_cuda_plugin.so` in a
//! Python site-packages folder. Without one the test says so and returns.

use std::path::PathBuf;
use std::sync::Arc;

use pjrt::ext::{gpu::GpuCustomCall, raw_buffer::RawBuffer, stream::Stream};
use pjrt::*;

fn cuda_plugin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PJRT_CUDA_PLUGIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let mut roots = vec![
        PathBuf::from("/usr/local/lib"),
        PathBuf::from("/usr/lib"),
        PathBuf::from("/opt/conda/lib"),
    ];
    if let Some(h) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(h).join(".local/lib"));
    }
    for r in roots {
        let Ok(entries) = std::fs::read_dir(&r) else {
            continue;
        };
        for e in entries.flatten() {
            for sp in ["site-packages", "dist-packages"] {
                let p = e
                    .path()
                    .join(sp)
                    .join("jax_plugins/xla_cuda13/xla_cuda_plugin.so");
                if p.is_file() {
                    return Some(p);
                }
            }
        }
    }
    None
}

#[test]
fn gpu_extensions_on_a_cuda_plugin() {
    let Some(path) = cuda_plugin() else {
        eprintln!("skipped: no CUDA PJRT plugin (set PJRT_CUDA_PLUGIN or install jax-cuda13-pjrt)");
        return;
    };
    let plugin = Plugin::load(&path).expect("load the CUDA plugin");
    let client = match Client::new(&plugin, &ClientOptions::new()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: the CUDA plugin loads but makes no client here: {e}");
            return;
        }
    };
    let d = client.first_device().unwrap();
    let b = client.buffer_from_host(&[1f32, 2., 3., 4.], &[4]).unwrap();
    if let Some(s) = plugin.extension::<Stream>() {
        let stream = s.stream_for_external_ready_events(&d).unwrap();
        assert_ne!(stream, 0);
        // SAFETY: the plugin's own stream for this device.
        unsafe { s.wait_until_buffer_ready_on_stream(stream, &b).unwrap() };
    }
    if let Some(r) = plugin.extension::<RawBuffer>() {
        let alias = r.alias(&b).unwrap();
        assert_eq!(alias.on_device_size().unwrap(), 16);
        let mut out = [0u8; 8];
        alias.copy_to_host(4, &mut out).unwrap();
        assert_eq!(out, [2f32.to_ne_bytes(), 3f32.to_ne_bytes()].concat()[..]);
        alias.copy_from_host(0, &5f32.to_ne_bytes()).unwrap();
        assert_eq!(b.to_vec::<f32>().unwrap()[0], 5.0);
    }
    if let Some(g) = plugin.extension::<GpuCustomCall>() {
        // Registration only: a device-side handler would need a CUDA kernel.
        g.register_ffi_handler("capi_gpu_noop", Arc::new(|_f| Ok(())))
            .unwrap();
    }
}
