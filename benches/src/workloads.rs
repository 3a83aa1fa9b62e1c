//! The workloads of the comparison harness (`compare/harness.py`), served in timed blocks by
//! the `workload_server` binary so that the harness can alternate them with JAX's twins.
//!
//! Each train workload is the step JAX runs in `harness.py` (same layers, loss, optimizer,
//! batch, donated state), on a fixed batch already on the device. [`How::Tuned`] builds it the way
//! a user who asks for speed would: program variant, thread budget and steps per call chosen
//! by timing (remembered in the compile cache after the first run). `compile_*` workloads
//! build a step from nothing (record, differentiate, lower, compile without the cache, upload).

use std::path::Path;

use autodiff::nn::{self, Module, ModuleExt};
use autodiff::train::checkpoint::Checkpoint;
use autodiff::train::optim::{Adam, Optimizer, Sgd};
use autodiff::train::{TrainStep, TrainStepBuilder};
use autodiff::{GradOptions, WeightGradients};
use examples::char_lm::{self, CharLm, Corpus};
use examples::models::{self, Classifier, Cnn};
use hlo_builder::{Builder, ElementType, Tensor, TensorType};
use pjrt::{Buffer, Client, CompileOptions};

use crate::BenchError;

/// A workload ready to serve: `run(n)` runs `n` steps (or calls) and waits for the last.
pub struct Served {
    /// Steps per executable call (blocks are best a multiple of it).
    pub k: usize,
    /// How it runs (chosen variant, threads, steps per call), for the harness's table.
    pub describe: String,
    run: Box<dyn FnMut(usize) -> Result<(), BenchError>>,
}

impl Served {
    /// Runs `n` steps (or calls) and waits until the last result is ready.
    pub fn run(&mut self, n: usize) -> Result<(), BenchError> {
        (self.run)(n)
    }
}

/// How a train workload's step is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The builder's defaults: one step per call, the plugin's pool, the default gradients.
    Plain,
    /// Variant, thread budget and steps per call chosen by timing (remembered in the cache).
    Tuned,
    /// One configuration, fixed: for A/B runs that must not depend on a tuner's choice.
    Fixed {
        /// The form of the weight gradients.
        weight_gradients: WeightGradients,
        /// A thread budget, or `None` for the plugin's pool.
        threads: Option<usize>,
        /// Steps per call.
        k: usize,
    },
}

impl From<bool> for How {
    fn from(tuned: bool) -> How {
        if tuned {
            How::Tuned
        } else {
            How::Plain
        }
    }
}

impl std::str::FromStr for How {
    type Err = String;
    /// `plain`, `tuned`, or `FORM,THREADS,K` with FORM `contract` or `transposed` and THREADS
    /// `pool` or a count (`transposed,pool,16`).
    fn from_str(s: &str) -> Result<How, String> {
        match s {
            "plain" => return Ok(How::Plain),
            "tuned" => return Ok(How::Tuned),
            _ => {}
        }
        let bad =
            || format!("expected plain, tuned or FORM,THREADS,K (contract,pool,16), got {s:?}");
        let parts: Vec<&str> = s.split(',').collect();
        let [form, threads, k] = parts[..] else {
            return Err(bad());
        };
        let weight_gradients = match form {
            "contract" => WeightGradients::Contract,
            "transposed" => WeightGradients::TransposeFirst,
            _ => return Err(bad()),
        };
        let threads = match threads {
            "pool" => None,
            n => Some(n.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(bad)?),
        };
        let k = k.parse::<usize>().ok().filter(|&k| k > 0).ok_or_else(bad)?;
        Ok(How::Fixed {
            weight_gradients,
            threads,
            k,
        })
    }
}

/// The names [`workload`] knows.
pub const WORKLOADS: &[&str] = &[
    "tiny",
    "matmul2048",
    "mlp_small_sgd",
    "mlp_large_sgd",
    "digits_mlp_adam",
    "digits_cnn_adam",
    "char_lm_adam",
    "compile_mlp_small_sgd",
    "compile_mlp_large_sgd",
    "compile_digits_mlp_adam",
    "compile_digits_cnn_adam",
    "compile_char_lm_adam",
];

/// A batch input on the host: f32 or s32 values and their dims.
#[derive(Clone)]
enum Host {
    F32(Vec<f32>, Vec<i64>),
    S32(Vec<i32>, Vec<i64>),
}

impl Host {
    fn upload(&self, c: &Client, k: usize) -> Result<Buffer, BenchError> {
        let stack = |dims: &[i64]| {
            let mut d = if k > 1 { vec![k as i64] } else { Vec::new() };
            d.extend_from_slice(dims);
            d
        };
        Ok(match self {
            Host::F32(v, d) => c.buffer_from_host(&v.repeat(k.max(1)), &stack(d))?,
            Host::S32(v, d) => c.buffer_from_host(&v.repeat(k.max(1)), &stack(d))?,
        })
    }

    fn ty(&self) -> TensorType {
        match self {
            Host::F32(_, d) => TensorType::new(ElementType::F32, d.clone()),
            Host::S32(_, d) => TensorType::new(ElementType::S32, d.clone()),
        }
    }
}

fn uniform(n: i64, seed: u64) -> Vec<f32> {
    let mut rng = nn::seeded(seed);
    (0..n).map(|_| nn::init::uniform01(&mut rng)).collect()
}

fn labels(n: i64, classes: i64, seed: u64) -> Vec<i32> {
    let mut rng = nn::seeded(seed);
    (0..n)
        .map(|_| (rand::Rng::next_u64(&mut rng) % classes as u64) as i32)
        .collect()
}

/// One-hot rows of `labels`.
fn one_hot(labels: &[i32], classes: i64) -> Vec<f32> {
    let mut y = vec![0f32; labels.len() * classes as usize];
    for (r, &l) in labels.iter().enumerate() {
        y[r * classes as usize + l as usize] = 1.0;
    }
    y
}

/// A train step of `model` on `batch`, tuned or plain (or, `compile_only`, one rebuilt from
/// nothing per call).
#[allow(clippy::too_many_arguments)]
fn train<M, F>(
    client: &Client,
    name: &str,
    model: M,
    optimizer: impl Optimizer + Clone + 'static,
    batch: Vec<Host>,
    loss: F,
    how: How,
    ks: &[usize],
    options: &CompileOptions,
) -> Result<Served, BenchError>
where
    M: Module + Clone + 'static,
    F: Fn(&M, &[Tensor]) -> hlo_builder::Result<Tensor> + Clone + 'static,
{
    let types: Vec<TensorType> = batch.iter().map(Host::ty).collect();
    let step_name = name.to_string();
    let builder = move |client: &Client, options: CompileOptions| -> TrainStepBuilder<M> {
        TrainStep::new(client, model.clone())
            .name(step_name.as_str())
            .optimizer(optimizer.clone())
            .inputs(types.clone())
            .compile_options(options)
    };
    if let Some(what) = name.strip_prefix("compile_") {
        let client = client.clone();
        let what = what.to_string();
        let describe = format!("{what}: record, differentiate, lower, compile (no cache), upload");
        let make = move || -> Result<(), BenchError> {
            let step =
                builder(&client, CompileOptions::new().no_compile_cache()).compile(loss.clone())?;
            std::hint::black_box(step.parameter_buffers().len());
            Ok(())
        };
        return Ok(Served {
            k: 1,
            describe,
            run: Box::new(move |n| {
                for _ in 0..n {
                    make()?;
                }
                Ok(())
            }),
        });
    }
    let b = builder(client, options.clone());
    drop(builder);
    let b = match how {
        How::Plain => b,
        How::Tuned => b
            .program_variants_tuned()
            .cpu_threads_tuned()
            .steps_per_call_tuned(ks.iter().copied()),
        How::Fixed {
            weight_gradients,
            threads,
            k,
        } => {
            let b = b
                .grad_options(GradOptions::DEFAULT.weight_gradients(weight_gradients))
                .steps_per_call(k);
            match threads {
                Some(n) => b.cpu_threads(n),
                None => b,
            }
        }
    };
    let mut step = b.compile(loss)?;
    let c = step.client().clone();
    let k = step.steps_per_call();
    let single: Vec<Buffer> = batch
        .iter()
        .map(|h| h.upload(&c, 1))
        .collect::<Result<_, _>>()?;
    let stacked: Vec<Buffer> = if k > 1 {
        batch
            .iter()
            .map(|h| h.upload(&c, k))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let describe = format!(
        "{:?}, {}, {k} step(s) per call{}",
        step.grad_options().weight_gradients,
        match c.cpu_threads() {
            Some(n) => format!("{n} thread(s)"),
            None => "the plugin's pool".into(),
        },
        if step.tuning_recalled() {
            " (tuning recalled from the compile cache)"
        } else {
            ""
        }
    );
    // Two warm-up steps (the first call of an executable allocates).
    for _ in 0..2 {
        let one: Vec<&Buffer> = single.iter().collect();
        step.step_buffers(&one)?.loss()?;
    }
    let run = move |n: usize| -> Result<(), BenchError> {
        let one: Vec<&Buffer> = single.iter().collect();
        let many: Vec<&Buffer> = stacked.iter().collect();
        let mut done = 0;
        let mut last_many = None;
        let mut last_one = None;
        while k > 1 && done + k <= n {
            last_many = Some(step.step_many_buffers(&many)?);
            done += k;
        }
        while done < n {
            last_one = Some(step.step_buffers(&one)?);
            done += 1;
        }
        if let Some(o) = last_one {
            o.loss_buffer().ready_event()?.wait()?;
        } else if let Some(o) = last_many {
            o.losses_buffer().ready_event()?.wait()?;
        }
        Ok(())
    };
    Ok(Served {
        k,
        describe,
        run: Box::new(run),
    })
}

/// A one-parameter program `b` returning `y`, run on `arg` (reused), each call waited for.
fn executable(
    client: &Client,
    b: Builder,
    y: hlo_builder::Value,
    arg: Buffer,
    describe: &str,
) -> Result<Served, BenchError> {
    let exe = b.build(&[y])?.compile(client)?;
    Ok(Served {
        k: 1,
        describe: describe.into(),
        run: Box::new(move |n| {
            for _ in 0..n {
                let out = exe.loaded().execute(&[&arg])?;
                out[0].ready_event()?.wait()?;
            }
            Ok(())
        }),
    })
}

/// Builds workload `name` (one of [`WORKLOADS`]) on `client`. `init_out`: where the
/// char_lm workloads write their initial weights (JAX's twin starts from them).
pub fn workload(
    client: &Client,
    name: &str,
    how: impl Into<How>,
    init_out: Option<&Path>,
) -> Result<Served, BenchError> {
    workload_with(client, name, how, init_out, &CompileOptions::new())
}

/// [`workload`] with the train step compiled with `options` (a compile cache of its own,
/// say); `compile_*` workloads always compile without a cache.
pub fn workload_with(
    client: &Client,
    name: &str,
    how: impl Into<How>,
    init_out: Option<&Path>,
    options: &CompileOptions,
) -> Result<Served, BenchError> {
    let how = how.into();
    let base = name.strip_prefix("compile_").unwrap_or(name);
    let small_ks: &[usize] = &[4, 16, 64];
    match base {
        "tiny" => {
            let mut b = Builder::new("tiny");
            let x = b.parameter("x", ElementType::F32, [4])?;
            let one = b.scalar(ElementType::F32, 1.0)?;
            let y = b.add(x, one)?;
            let arg = client.buffer_from_host(&[1f32, 2., 3., 4.], &[4])?;
            executable(
                client,
                b,
                y,
                arg,
                "a+1 on 4 floats, input reused, result waited for",
            )
        }
        "matmul2048" => {
            let n = 2048;
            let mut b = Builder::new("matmul");
            let x = b.parameter("a", ElementType::F32, [n, n])?;
            let y = b.matmul(x, x)?;
            let arg = client.buffer_from_host(&uniform(n * n, 3), &[n, n])?;
            executable(client, b, y, arg, "f32 2048x2048 @ 2048x2048")
        }
        "mlp_small_sgd" | "mlp_large_sgd" => {
            // The MLPs of the criterion benches and `step_server` (`crate::MLPS`).
            let (sizes, batch, _) = crate::MLPS[usize::from(base == "mlp_large_sgd")];
            let (i, c) = (sizes[0], sizes[sizes.len() - 1]);
            let model = nn::Mlp::new(sizes, nn::Activation::Relu).init(&mut nn::seeded(0))?;
            let y = one_hot(&labels(batch, c, 2), c);
            train(
                client,
                name,
                model,
                Sgd::new(0.01),
                vec![
                    Host::F32(uniform(batch * i, 1), vec![batch, i]),
                    Host::F32(y, vec![batch, c]),
                ],
                |m: &nn::Mlp, b: &[Tensor]| m.forward(&b[0])?.softmax_cross_entropy(&b[1]),
                how,
                small_ks,
                options,
            )
        }
        "digits_mlp_adam" | "digits_cnn_adam" => {
            let batch = vec![
                Host::F32(uniform(64 * 64, 1), vec![64, 64]),
                Host::S32(labels(64, 10, 2), vec![64]),
            ];
            if base == "digits_mlp_adam" {
                let model = models::mlp().init(&mut nn::seeded(0))?;
                train(
                    client,
                    name,
                    model,
                    Adam::new(1e-3),
                    batch,
                    |m: &nn::Mlp, b: &[Tensor]| m.logits(&b[0])?.cross_entropy(&b[1]),
                    how,
                    small_ks,
                    options,
                )
            } else {
                let model = Cnn::new().init(&mut nn::seeded(0))?;
                train(
                    client,
                    name,
                    model,
                    Adam::new(1e-3),
                    batch,
                    |m: &Cnn, b: &[Tensor]| m.logits(&b[0])?.cross_entropy(&b[1]),
                    how,
                    &[4],
                    options,
                )
            }
        }
        "char_lm_adam" => {
            let corpus = Corpus::load(char_lm::default_path())?;
            let c = char_lm::Config::new(corpus.vocab.len() as i64);
            let model = CharLm::new(&c).init(&mut nn::seeded(0))?;
            if let Some(path) = init_out {
                let mut ck = Checkpoint::new();
                ck.add_model("", &model)?;
                ck.save(path)?;
            }
            let (x, y) = char_lm::batch(&corpus.train, 0, 0, c.batch as usize, c.context as usize);
            let dims = vec![c.batch, c.context];
            train(
                client,
                name,
                model,
                Adam::new(c.lr),
                vec![Host::S32(x, dims.clone()), Host::S32(y, dims)],
                |m: &CharLm, b: &[Tensor]| m.forward(&b[0])?.cross_entropy(&b[1]),
                how,
                &[4],
                options,
            )
        }
        other => Err(format!("unknown workload {other:?}; the workloads are {WORKLOADS:?}").into()),
    }
}
