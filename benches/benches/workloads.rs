//! Every workload of the comparison harness (`benches::workloads`, `compare/harness.py`), as
//! criterion measures it alone: time per step of each train step plain and tuned (program
//! variant, thread budget and steps per call chosen by timing), the tiny dispatch, the 2048
//! matmul, the compile of each step (record, differentiate, lower, XLA compile without the
//! cache, upload), and the cost of the tuner: a tuned step built with its programs in the
//! compile cache, timing its candidates (the remembered choice removed first) or reading the
//! remembered choice.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

const TRAIN: [&str; 5] = [
    "mlp_small_sgd",
    "mlp_large_sgd",
    "digits_mlp_adam",
    "digits_cnn_adam",
    "char_lm_adam",
];

/// Criterion's time per step: each of its iterations runs one step (rounded up to whole calls
/// of `k` steps over a batch of iterations).
fn per_step(w: &mut benches::workloads::Served, iters: u64) -> Duration {
    let k = w.k as u64;
    let n = iters.div_ceil(k) * k;
    let t = Instant::now();
    w.run(n as usize).expect("workload");
    t.elapsed().mul_f64(iters as f64 / n as f64)
}

fn workloads(c: &mut Criterion) {
    let (_plugin, client) = benches::bench_client().expect("plugin and client");
    let mut g = c.benchmark_group("workload");
    for name in ["tiny", "matmul2048"] {
        let mut w = benches::workloads::workload(&client, name, false, None).expect(name);
        g.bench_function(name, |b| b.iter_custom(|iters| per_step(&mut w, iters)));
    }
    for name in TRAIN {
        for tuned in [false, true] {
            let mut w = benches::workloads::workload(&client, name, tuned, None).expect(name);
            let id = if tuned {
                format!("{name}/tuned")
            } else {
                format!("{name}/plain")
            };
            eprintln!("{id}: {}", w.describe);
            g.bench_function(id, |b| b.iter_custom(|iters| per_step(&mut w, iters)));
        }
    }
    g.finish();

    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    for name in TRAIN {
        let id = format!("compile_{name}");
        let mut w = benches::workloads::workload(&client, &id, false, None).expect(&id);
        g.bench_function(name, |b| b.iter_custom(|iters| per_step(&mut w, iters)));
    }
    g.finish();

    // The tuner on the small MLP (2 variants x 2 thread budgets x steps per call 1, 4, 16, 64),
    // its programs in a private compile cache.
    let dir = tempfile::tempdir().expect("temporary folder");
    let cache = pjrt::CompileCache::new(dir.path()).expect("compile cache");
    let options = pjrt::CompileOptions::new().compile_cache(cache);
    let build = || {
        benches::workloads::workload_with(&client, "mlp_small_sgd", true, None, &options)
            .expect("tuned step")
    };
    drop(build());
    let mut g = c.benchmark_group("tuner");
    g.sample_size(10);
    g.bench_function("mlp_small_sgd/timed", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = std::fs::remove_dir_all(dir.path().join("choices"));
                let t = Instant::now();
                drop(build());
                total += t.elapsed();
            }
            total
        })
    });
    g.bench_function("mlp_small_sgd/recalled", |b| b.iter(|| drop(build())));
    g.finish();
}

criterion_group!(benches, workloads);
criterion_main!(benches);
