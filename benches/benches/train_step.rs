//! One SGD training step of an MLP (`benches::mlp_step`: forward, softmax cross-entropy,
//! gradients, update; one executable, parameters donated), the same function
//! `benches/compare/jax_reference.py mlp` times in JAX: 64-128-128-10 at batch 64 and
//! 784-256-256-10 at batch 128.

use criterion::{criterion_group, criterion_main, Criterion};

fn train_steps(c: &mut Criterion) {
    let (plugin, client) = benches::bench_client().expect("plugin and client");
    eprintln!(
        "plugin {} (API {})",
        plugin.path().display(),
        plugin.api_version()
    );
    for (sizes, batch, name) in benches::MLPS {
        let (mut step, [xb, yb]) =
            benches::mlp_step(&client, sizes, batch, name).unwrap_or_else(|e| panic!("{e}"));
        c.bench_function(name, |b| {
            b.iter(|| {
                step.step_buffers(&[&xb, &yb])
                    .and_then(|o| o.loss())
                    .expect("step")
            })
        });
    }
}

criterion_group!(benches, train_steps);
criterion_main!(benches);
