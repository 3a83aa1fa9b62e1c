//! The benchmark package: criterion benches in `benches/` (their direct C-API baseline is
//! `benches/support/raw.rs`), the JAX comparison in `compare/`, and what both share: the MLP
//! training step they time ([`mlp_step`]), also served to `compare/jax_reference.py` by the
//! `step_server` binary so that the two can run interleaved.

pub mod workloads;

use autodiff::nn::{self, Activation, Mlp, ModuleExt};
use autodiff::train::optim::Sgd;
use autodiff::train::{TrainStep, TrainStepBuilder};
use hlo_builder::{ElementType, TensorType};
use pjrt::{Buffer, Client, ClientOptions, Plugin};

/// What can go wrong building or checking a benchmark step.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// The plugin the benchmarks run on ($PJRT_PLUGIN, else the set-up's default) and a client
/// of it with one CPU device, as `Client::default_cpu` and JAX's CPU backend have.
pub fn bench_client() -> Result<(Plugin, Client), BenchError> {
    let plugin = Plugin::load_default()?;
    let client = Client::new(&plugin, &ClientOptions::new().cpu_device_count(1))?;
    Ok((plugin, client))
}

/// The MLPs of the README's comparison: (layer sizes, batch, benchmark name).
pub const MLPS: [(&[i64], i64, &str); 2] = [
    (&[64, 128, 128, 10], 64, "train_step_mlp_64_128_128_10_b64"),
    (
        &[784, 256, 256, 10],
        128,
        "train_step_mlp_784_256_256_10_b128",
    ),
];

/// One SGD training step of an MLP (forward, softmax cross-entropy, gradients, update; one
/// executable, parameters donated), the function `compare/jax_reference.py mlp` times in
/// JAX, with a fixed random batch already on the device. Checks that two steps lower the loss.
pub fn mlp_step(
    client: &Client,
    sizes: &[i64],
    batch: i64,
    name: &str,
) -> Result<(TrainStep<Mlp>, [Buffer; 2]), BenchError> {
    mlp_step_with(client, sizes, batch, name, |b| b)
}

/// [`mlp_step`] with its builder's options set by `options` (say, steps per call).
pub fn mlp_step_with(
    client: &Client,
    sizes: &[i64],
    batch: i64,
    name: &str,
    options: impl FnOnce(TrainStepBuilder<Mlp>) -> TrainStepBuilder<Mlp>,
) -> Result<(TrainStep<Mlp>, [Buffer; 2]), BenchError> {
    let model = Mlp::new(sizes, Activation::Relu).init(&mut nn::seeded(0))?;
    let (&inputs, &classes) = match (sizes.first(), sizes.last()) {
        (Some(i), Some(c)) if sizes.len() >= 2 => (i, c),
        _ => {
            return Err(
                format!("{name}: an MLP needs at least two layer sizes, got {sizes:?}").into(),
            )
        }
    };
    let x_ty = TensorType::new(ElementType::F32, [batch, inputs]);
    let y_ty = TensorType::new(ElementType::F32, [batch, classes]);
    let builder = TrainStep::new(client, model)
        .name(name)
        .optimizer(Sgd::new(0.01))
        .inputs([x_ty, y_ty]);
    let mut step =
        options(builder).compile(|m, b| m.forward(&b[0])?.softmax_cross_entropy(&b[1]))?;

    let mut rng = nn::seeded(1);
    let x: Vec<f32> = (0..batch * inputs)
        .map(|_| nn::init::uniform01(&mut rng))
        .collect();
    let mut y = vec![0f32; (batch * classes) as usize];
    for r in 0..batch as usize {
        y[r * classes as usize + (rand::Rng::next_u64(&mut rng) % classes as u64) as usize] = 1.0;
    }
    // On the step's client (another one when the options give it a thread budget).
    let xb = step.client().buffer_from_host(&x, &[batch, inputs])?;
    let yb = step.client().buffer_from_host(&y, &[batch, classes])?;
    let first = step.step_buffers(&[&xb, &yb])?.loss()?;
    let second = step.step_buffers(&[&xb, &yb])?.loss()?;
    if second.partial_cmp(&first) != Some(std::cmp::Ordering::Less) {
        return Err(format!(
            "{name}: SGD on a fixed batch must lower the loss, got {first} -> {second}"
        )
        .into());
    }
    Ok((step, [xb, yb]))
}
