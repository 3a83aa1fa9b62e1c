//! Time to record the gradient graph of a 3000-op elementwise chain (graph building only:
//! nothing is lowered or compiled).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hlo_builder::{Builder, ElementType::F32, Tensor};

/// A builder holding `x: f32[64]` and a chain of `ops` ops (sin, mul, add, tanh, ...) ending in
/// a scalar loss.
fn chain(ops: usize) -> (Builder, Tensor, Tensor) {
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

criterion_group!(benches, bench);
criterion_main!(benches);
