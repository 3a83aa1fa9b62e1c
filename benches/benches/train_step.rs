//! One SGD training step of an MLP (`benches::mlp_step`: forward, softmax cross-entropy,
//! gradients, update; one executable, parameters donated), the same function
//! `benches/compare/jax_reference.py mlp` times in JAX: 64-128-128-10 at batch 64 and
//! 784-256-256-10 at batch 128. Then the same steps `K` per call (`steps_per_call(K)`: a
//! loop over `K` stacked batches in one executable; criterion's time is per call of `K`
//! steps, its throughput line per step), and the cost of choosing `K` by timing
//! (`steps_per_call_tuned`: compiles with the compile cache warm, plus the timed runs).
//! The `cpu_threads` group runs the single steps on a one-thread client
//! (`cpu_threads(1)`: the plugin's pool sized for one CPU), and the tuner group also times
//! choosing between the two clients (`cpu_threads_tuned`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hlo_builder::ElementType;
use pjrt::Literal;

const K: usize = 8;

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

    let mut group = c.benchmark_group("cpu_threads");
    for (sizes, batch, name) in benches::MLPS {
        let (mut step, [xb, yb]) =
            benches::mlp_step_with(&client, sizes, batch, name, |b| b.cpu_threads(1))
                .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(format!("{name}_one_thread"), |b| {
            b.iter(|| {
                step.step_buffers(&[&xb, &yb])
                    .and_then(|o| o.loss())
                    .expect("step")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("steps_per_call");
    group.throughput(Throughput::Elements(K as u64));
    for (sizes, batch, name) in benches::MLPS {
        let (mut step, [xb, yb]) =
            benches::mlp_step_with(&client, sizes, batch, name, |b| b.steps_per_call(K))
                .unwrap_or_else(|e| panic!("{e}"));
        // The fixed batch stacked K deep (the same batch every step, as the single step).
        let stack = |b: &pjrt::Buffer| {
            let l = b.to_literal().expect("batch to host");
            let mut dims = vec![K as i64];
            dims.extend_from_slice(l.dims());
            let bytes = l.as_bytes().repeat(K);
            let s = Literal::from_bytes(ElementType::F32, &dims, bytes).expect("stack");
            client.buffer_from_literal(&s).expect("stack to device")
        };
        let (xs, ys) = (stack(&xb), stack(&yb));
        group.bench_function(format!("{name}_k{K}"), |b| {
            b.iter(|| {
                step.step_many_buffers(&[&xs, &ys])
                    .and_then(|o| o.losses())
                    .expect("k steps")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("tuner");
    group.sample_size(10);
    let (sizes, batch, name) = benches::MLPS[0];
    group.bench_function(format!("{name}_tune_1_8_22"), |b| {
        b.iter(|| {
            let (step, _) = benches::mlp_step_with(&client, sizes, batch, name, |b| {
                b.steps_per_call_tuned([8, 22])
            })
            .expect("tuned step");
            step.steps_per_call()
        })
    });
    group.bench_function(format!("{name}_threads_tuned"), |b| {
        b.iter(|| {
            let (step, _) =
                benches::mlp_step_with(&client, sizes, batch, name, |b| b.cpu_threads_tuned())
                    .expect("tuned step");
            step.thread_tuning().len()
        })
    });
    group.finish();
}

criterion_group!(benches, train_steps);
criterion_main!(benches);
