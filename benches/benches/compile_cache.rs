//! The compilation cache: a cold compile against a cache hit, for the digits MLP train step
//! (64-128-128-10, ReLU, sparse softmax cross-entropy, Adam; batch 64; one executable with
//! donated state), as `train_digits` records it.
//!
//! - `compile`: `Client::compile_with` of the step's StableHLO, with the cache off (the
//!   plugin compiles) and with a cache holding its entry (read, checksum, load, shape check);
//! - `train_step`: `TrainStep::new(..).compile_options(..).compile(..)` end to end (record, differentiate,
//!   lower, compile or load, upload the initial state), cache off and hit.
//!
//! The plugin is $PJRT_PLUGIN or the set-up's default (0.115).

use std::time::Duration;

use autodiff::nn::{Activation, Mlp, ModuleExt};
use autodiff::train::optim::Adam;
use autodiff::train::TrainStep;
use criterion::{criterion_group, criterion_main, Criterion};
use hlo_builder::{ElementType, TensorType};
use pjrt::{Client, CompileCache, CompileOptions, Program};

/// The digits MLP train step, compiled with `options`.
fn digits_step(client: &Client, options: &CompileOptions) -> TrainStep<Mlp> {
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init_seed(42)
        .expect("initial values");
    TrainStep::new(client, model)
        .name("mlp_digits_step")
        .optimizer(Adam::new(1e-3))
        .inputs([
            TensorType::new(ElementType::F32, [64, 64]),
            TensorType::new(ElementType::S32, [64]),
        ])
        .compile_options(options.clone())
        .compile(|m, x| m.forward(&x[0])?.cross_entropy(&x[1]))
        .expect("the digits MLP train step compiles")
}

fn compile_cache(c: &mut Criterion) {
    let (plugin, client) = benches::bench_client().expect("plugin and client");
    eprintln!(
        "plugin {} (API {})",
        plugin.path().display(),
        plugin.api_version()
    );
    let off = CompileOptions::new().no_compile_cache();
    let dir = tempfile::tempdir().expect("temporary folder");
    let cache = CompileCache::new(dir.path()).expect("cache folder");
    let on = CompileOptions::new().compile_cache(cache.clone());

    let program = Program::mlir_text(digits_step(&client, &off).module_text());
    // Fill the cache once; every iteration of the hit benchmarks must then be a hit.
    client.compile_with(&program, &on).expect("compile");
    digits_step(&client, &on);

    let mut g = c.benchmark_group("compile_cache/digits_mlp_train_step");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function("compile/cache_off", |b| {
        b.iter(|| client.compile_with(&program, &off).expect("compile"))
    });
    g.bench_function("compile/cache_hit", |b| {
        b.iter(|| client.compile_with(&program, &on).expect("load"))
    });
    g.bench_function("train_step/cache_off", |b| {
        b.iter(|| digits_step(&client, &off))
    });
    g.bench_function("train_step/cache_hit", |b| {
        b.iter(|| digits_step(&client, &on))
    });
    g.finish();
    let s = cache.stats();
    assert!(
        s.misses == 2 && s.rejected == 0 && s.hits > 0,
        "the hit benchmarks must only hit: {s}"
    );
    eprintln!("compile cache: {s}");
}

criterion_group!(benches, compile_cache);
criterion_main!(benches);
