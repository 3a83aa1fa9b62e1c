//! One SGD training step of an MLP (forward, softmax cross-entropy, gradients, update; one
//! executable, parameters donated), the same function `benches/compare/jax_reference.py mlp`
//! times in JAX: 64-128-128-10 at batch 64 and 784-256-256-10 at batch 128.

use autodiff::optim::Sgd;
use autodiff::train::TrainStep;
use criterion::{criterion_group, criterion_main, Criterion};
use hlo_builder::nn::{self, Activation, Model};
use hlo_builder::{ElementType, TensorType};
use pjrt::{Client, ClientOptions, Plugin};

fn mlp_step(c: &mut Criterion, client: &Client, sizes: &[i64], batch: i64, name: &str) {
    let model = nn::Mlp::new("mlp", sizes, Activation::Relu);
    let specs = model.params();
    let initial = nn::init_all(&specs, 0);
    let classes = *sizes.last().expect("sizes");
    let x_ty = TensorType::new(ElementType::F32, [batch, sizes[0]]);
    let y_ty = TensorType::new(ElementType::F32, [batch, classes]);
    let mut step = TrainStep::compile(
        client,
        name,
        &specs,
        &initial,
        &[("x", x_ty), ("y", y_ty)],
        |b, params, inputs| {
            let logits = model.forward(b, params, inputs[0])?;
            nn::softmax_cross_entropy(b, logits, inputs[1])
        },
        &Sgd::new(0.01),
    )
    .expect("compile train step");

    let mut rng = nn::Rng::new(1);
    let x: Vec<f32> = (0..batch * sizes[0]).map(|_| rng.uniform01()).collect();
    let mut y = vec![0f32; (batch * classes) as usize];
    for r in 0..batch as usize {
        y[r * classes as usize + (rng.next_u64() % classes as u64) as usize] = 1.0;
    }
    let xb = client.buffer_from_host(&x, &[batch, sizes[0]]).expect("x");
    let yb = client.buffer_from_host(&y, &[batch, classes]).expect("y");
    let first = step.step_buffers(&[&xb, &yb]).expect("step");
    let second = step.step_buffers(&[&xb, &yb]).expect("step");
    assert!(second < first, "SGD on a fixed batch lowers the loss: {first} -> {second}");

    c.bench_function(name, |b| b.iter(|| step.step_buffers(&[&xb, &yb]).expect("step")));
}

fn train_steps(c: &mut Criterion) {
    let plugin = Plugin::load_default().expect("plugin");
    let client = Client::new(&plugin, &ClientOptions::new().cpu_device_count(1)).expect("client");
    eprintln!("plugin {} (API {})", plugin.path().display(), plugin.api_version());
    mlp_step(c, &client, &[64, 128, 128, 10], 64, "train_step_mlp_64_128_128_10_b64");
    mlp_step(c, &client, &[784, 256, 256, 10], 128, "train_step_mlp_784_256_256_10_b128");
}

criterion_group!(benches, train_steps);
criterion_main!(benches);
