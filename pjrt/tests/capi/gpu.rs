//! GPU-only extensions (Stream, GPU custom call, RawBuffer) on a CUDA plugin, when one is
//! installed: `$PJRT_CUDA_PLUGIN`, or `jax_plugins/xla_cuda13/xla_cuda_plugin.so` in a
//! Python site-packages folder. Without one the test says so and returns.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

/// A distributed client of one process (`num_nodes` 1, `node_id` 0) whose rendezvous goes
/// through a TCP key-value store served in this process, running a small program.
#[test]
fn distributed_cuda_client_with_a_tcp_store() {
    let Some(path) = cuda_plugin() else {
        eprintln!("skipped: no CUDA PJRT plugin (set PJRT_CUDA_PLUGIN or install jax-cuda13-pjrt)");
        return;
    };
    let plugin = Plugin::load(&path).expect("load the CUDA plugin");
    let store = Arc::new(TcpKeyValueStore::serve("127.0.0.1:0", 4).unwrap());
    let options = ClientOptions::new()
        .set("num_nodes", 1i64)
        .set("node_id", 0i64);
    let client = match Client::with_key_value_store(&plugin, &options, store.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: the CUDA plugin loads but makes no distributed client here: {e}");
            return;
        }
    };
    assert_eq!(client.process_index().unwrap(), 0);
    assert!(!client.addressable_devices().unwrap().is_empty());
    let exe = client
        .compile(&Program::mlir_text(
            "func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
               %0 = stablehlo.multiply %x, %x : tensor<4xf32>
               return %0 : tensor<4xf32>
             }",
        ))
        .unwrap();
    let out = exe.run(&[&Literal::vector(&[1f32, -2., 3., 0.5])]).unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), [1.0, 4.0, 9.0, 0.25]);
    // The store the client holds is still served to other processes.
    let peer = TcpKeyValueStore::connect(store.local_addr(), Duration::from_secs(5)).unwrap();
    peer.put(b"test/peer", b"1").unwrap();
    assert_eq!(store.try_get(b"test/peer").unwrap().unwrap(), b"1");
}
