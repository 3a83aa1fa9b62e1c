//! Runtime benchmarks (issue: the PJRT runtime core):
//! (a) executing a tiny program with a reused input, through `pjrt` and through a loop that
//!     calls the C API directly (`support/raw.rs`), in the same run;
//! (b) 64 MiB device-to-host into a caller's buffer, against memcpy of the same size;
//! (c) 64 MiB host-to-device, copying and zero-copy, against memcpy into fresh memory.
//! The plugin is $PJRT_PLUGIN or the set-up's default (0.115).

#[path = "support/raw.rs"]
mod raw;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pjrt::{AlignedVec, Client, ExecuteOptions, HostBufferSemantics, Plugin, Program};
use std::hint::black_box;

const TINY: &str = r#"
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %one = stablehlo.constant dense<1.0> : tensor<4xf32>
  %0 = stablehlo.add %x, %one : tensor<4xf32>
  return %0 : tensor<4xf32>
}
"#;

const MIB64: usize = 64 * 1024 * 1024;

fn client() -> (Plugin, Client) {
    let (plugin, client) = benches::bench_client().expect("plugin and client");
    eprintln!(
        "plugin {} (API {})",
        plugin.path().display(),
        plugin.api_version()
    );
    (plugin, client)
}

fn execute_tiny(c: &mut Criterion) {
    let (plugin, client) = client();
    let exe = client.compile(&Program::mlir_text(TINY)).expect("compile");
    let input = client
        .buffer_from_host(&[1.0f32, 2.0, 3.0, 4.0], &[4])
        .expect("upload");
    let out = exe.execute(&[&input]).expect("execute");
    assert_eq!(out[0].to_vec::<f32>().unwrap(), [2.0, 3.0, 4.0, 5.0]);
    let raw = raw::RawRunner::new(plugin.path(), TINY, &[1.0, 2.0, 3.0, 4.0], &[4]);

    let mut g = c.benchmark_group("execute_tiny");
    g.bench_function("c_api_direct", |b| b.iter(|| raw.execute_once()));
    let opts = ExecuteOptions::default();
    g.bench_function("pjrt", |b| {
        b.iter(|| {
            let outs = exe.execute_with(&[&input], &opts).expect("execute");
            black_box(outs);
        })
    });
    g.finish();
}

fn device_to_host(c: &mut Criterion) {
    let (_plugin, client) = client();
    let n = MIB64 / 4;
    let host: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let buf = client.buffer_from_host(&host, &[n as i64]).expect("upload");
    let mut dst = vec![0f32; n];
    buf.copy_to_host(&mut dst).expect("download");
    assert_eq!(dst, host);

    let mut g = c.benchmark_group("d2h_64mib");
    g.throughput(Throughput::Bytes(MIB64 as u64));
    g.sample_size(20);
    g.bench_function("memcpy", |b| {
        b.iter(|| dst.copy_from_slice(black_box(&host)))
    });
    g.bench_function("pjrt_copy_to_host", |b| {
        b.iter(|| buf.copy_to_host(&mut dst).expect("d2h"))
    });
    g.bench_function("pjrt_to_vec", |b| {
        b.iter(|| black_box(buf.to_vec::<f32>().expect("d2h")))
    });
    g.finish();
}

fn host_to_device(c: &mut Criterion) {
    let (_plugin, client) = client();
    let n = MIB64 / 4;
    let host: Vec<f32> = (0..n).map(|i| i as f32).collect();

    let mut g = c.benchmark_group("h2d_64mib");
    g.throughput(Throughput::Bytes(MIB64 as u64));
    g.sample_size(20);
    g.bench_function("memcpy_fresh", |b| {
        b.iter_batched(
            || (),
            |_| {
                // One memcpy into fresh, never-touched pages (no uninitialized slice formed).
                let mut v: Vec<f32> = Vec::with_capacity(n);
                v.extend_from_slice(&host);
                black_box(v)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("pjrt_copy", |b| {
        b.iter(|| black_box(client.buffer_from_host(&host, &[n as i64]).expect("h2d")))
    });
    // Unaligned shared data: the plugin is asked for zero-copy but copies.
    let shared: std::sync::Arc<[f32]> = host.clone().into();
    g.bench_function("pjrt_shared_unaligned", |b| {
        b.iter(|| {
            let buf = client
                .buffer_from_shared(
                    shared.clone(),
                    &[n as i64],
                    HostBufferSemantics::ImmutableZeroCopy,
                    &Default::default(),
                )
                .expect("h2d zero-copy");
            black_box(buf)
        })
    });
    // 64-byte aligned data: the CPU plugin aliases it, nothing is copied.
    let aligned = std::sync::Arc::new(AlignedVec::from_slice(&host).expect("aligned copy"));
    g.bench_function("pjrt_zero_copy_aligned", |b| {
        b.iter(|| {
            let buf = client
                .buffer_from_aligned(aligned.clone(), &[n as i64], &Default::default())
                .expect("h2d zero-copy");
            black_box(buf)
        })
    });
    g.finish();
}

criterion_group!(benches, execute_tiny, device_to_host, host_to_device);
criterion_main!(benches);
