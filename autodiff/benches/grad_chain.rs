//! Time to record the gradient graph of a 3000-op elementwise chain (graph building only:
//! nothing is lowered or compiled).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hlo_builder::{Builder, ElementType::F32, Value};

/// A builder holding `x: f32[64]` and a chain of `ops` ops (sin, mul, add, tanh, ...) ending in
/// a scalar loss.
fn chain(ops: usize) -> (Builder, Value, Value) {
    let mut b = Builder::new("chain");
    let x = b.parameter("x", F32, [64]).unwrap();
    let c = b.splat(F32, [64], 0.5).unwrap();
    let mut y = x;
    for i in 0..ops {
        y = match i % 4 {
            0 => b.sin(y).unwrap(),
            1 => b.mul(y, c).unwrap(),
            2 => b.add(y, x).unwrap(),
            _ => b.tanh(y).unwrap(),
        };
    }
    let loss = b.reduce_sum(y, [0]).unwrap();
    (b, x, loss)
}

fn bench(c: &mut Criterion) {
    c.bench_function("grad of a 3000-op chain (build only)", |bench| {
        bench.iter_batched(
            || chain(3000),
            |(mut b, x, loss)| {
                let g = autodiff::grad(&mut b, loss, &[x]).unwrap();
                black_box((b.graph().len(), g));
            },
            BatchSize::LargeInput,
        )
    });
}

/// Ops in the chain whose compiled gradient is timed. XLA's CPU compiler takes over ten
/// minutes on the gradient of the 3000-op chain (JAX's `jit(grad)` too), so the run-time
/// comparison uses a 300-op chain of the same pattern.
const RUN_OPS: usize = 300;

/// The compiled gradient's run time (the same function JAX's `jax.grad` runs in
/// `benches/compare/jax_reference.py grad`): x = linspace(-1, 1, 64), device-resident.
fn run(c: &mut Criterion) {
    let (mut b, x, loss) = chain(RUN_OPS);
    let g = autodiff::grad(&mut b, loss, &[x]).unwrap();
    let client = pjrt::Client::default_cpu().unwrap();
    let exe = b.build(&[g[0]]).unwrap().compile(&client).unwrap();
    let xs: Vec<f32> = (0..64).map(|i| -1.0 + 2.0 * i as f32 / 63.0).collect();
    let xb = client.buffer_from_host(&xs, &[64]).unwrap();
    let raw = exe.loaded();
    let first = raw.execute(&[&xb]).unwrap();
    assert!(first[0]
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .all(|v| v.is_finite()));
    c.bench_function("grad of a 300-op chain (compiled, run)", |bench| {
        bench.iter(|| black_box(raw.execute(&[&xb]).unwrap()))
    });
}

criterion_group!(benches, bench, run);
criterion_main!(benches);
